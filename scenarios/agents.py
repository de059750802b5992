"""The people around the gate as Mesa agents: enterprises, drivers on the corridor, traffic police.

Off by default (``enabled: false``): the twin then uses its statistical people, whose only
knobs are the rates elsewhere in the scenario. With ``enabled: true`` the twin builds

* a population of **enterprises** (declarants): each trades one kind of cargo, sends a share
  of the trucks (a few large firms send many), declares some hours before its trucks set off,
  gets a declaration wrong at its own rate (around ``demand.declaration_error_rate``) and takes
  its own time to fix a returned one;
* **drivers** on the approach road (``demand.approach_road_km``): each has a speed of its own,
  keeps a minimum time gap to the truck ahead (nobody overtakes, so trucks bunch behind slow
  ones), slows down when closing in on a standing queue, reports GPS positions, and either
  obeys the traffic police or not (``traffic.driver_compliance``, a habit per driver);
* **traffic police** at the staging checkpoint who apply the platform's advice: while it says
  HOLD (or the core holds a truck for a full yard) they direct waiting trucks into the staging
  areas instead of leaving them on the road, and they release trucks by hand when an area is
  full, trucks spill onto the road and the gate could take the trucks the core is holding.

Between the checkpoint and barrier 1 lies the gate's **forecourt**, which holds
``layout.forecourt_per_lane`` trucks per entry lane; a truck called forward drives on only
when there is room there. Without channelling, the trucks waiting for that room stand on the
road; with channelling, most of them wait in the staging areas.

A run with the agents adds to its results four KPIs (truck-hours queued on the road and in the
staging areas, and the mean minutes a truck waited at the checkpoint on the road and in an
area), the agents' ``DataCollector`` series every ``collect_every_s`` (trucks driving per road
segment of ``corridor.segment_km``, trucks waiting on the road / in areas / for the forecourt,
the HOLD advice, declarations awaiting amendment), one row per passage and one per enterprise
(``extra_agents_*.parquet``), and the plot ``agents.png``.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from scenarios.distributions import Distribution, Lognormal, Triangular
from scenarios.values import FROZEN, AtLeastOne, NonNegative, Number, Positive, Whole


class EnterpriseSettings(BaseModel):
    """The declarants: how many, how their volumes spread, and their habits."""

    model_config = FROZEN
    #: Enterprises in the population (assumption: ~1,000 regular declarants at Mong Cai). Each
    #: cargo category of ``demand.cargo_mix`` gets at least one, whatever this number.
    count: Annotated[Whole, Field(ge=1, le=1_000_000)] = 1000
    #: Zipf exponent of enterprise volumes: the k-th largest sends trucks in proportion to k^-skew.
    volume_skew: NonNegative = 0.8
    #: How evenly wrong declarations spread: each enterprise's error rate is Beta-distributed
    #: with mean ``demand.declaration_error_rate`` and this concentration (a + b); smaller is
    #: more uneven (a few careless firms make most of the errors).
    error_concentration: Positive = 20.0
    #: An enterprise's habitual time between declaring and its truck setting off, in hours.
    lead_h: Distribution = Triangular(kind="triangular", low=0.5, mode=3.0, high=12.0)
    #: Trip-to-trip spread of that lead time (coefficient of variation).
    lead_cv: NonNegative = 0.3
    #: An enterprise's habitual time to fix a returned declaration, in hours.
    amend_h: Distribution = Lognormal(kind="lognormal", mean=2.0, cv=0.8)
    #: Return-to-return spread of that time (coefficient of variation).
    amend_cv: NonNegative = 0.5
    #: Mean time to pay the fee online after it is requested, and to register loading once
    #: the truck is parked, for an enterprise of average responsiveness (minutes).
    pay_online_min: Positive = 15.0
    loading_registration_min: Positive = 10.0
    #: Days of past record seeded into the core's compliance scores (``core.risk.compliance``)
    #: with the core's own formula; 0 seeds nothing and every declarant starts at
    #: ``core.risk.default_compliance``. A long record makes most regular declarants trusted.
    #: At most ten years.
    history_days: Annotated[NonNegative, Field(le=3_653)] = 0.0


class CorridorSettings(BaseModel):
    """The approach road as the drivers drive it, and the forecourt in front of barrier 1."""

    model_config = FROZEN
    #: How often the corridor is stepped (and each driver's app reports its position), in
    #: seconds; unset: ``traffic.gps_ping_s``.
    step_s: Annotated[Number, Field(ge=1.0)] | None = None
    #: Spread of the drivers' own speeds around ``demand.approach_speed_kmh`` (coefficient of variation).
    speed_cv: Annotated[Number, Field(ge=0.0, le=1.0)] = 0.1
    #: Time gap a driver keeps to the truck ahead, on top of ``demand.queue_spacing_m``.
    min_gap_s: NonNegative = 2.0
    #: Distance over which a driver slows down when closing in on a standing queue (km), and
    #: the share of its own speed it keeps at the back of the queue.
    slow_zone_km: Positive = 0.5
    creep_share: Annotated[Number, Field(gt=0.0, le=1.0)] = 0.2
    #: How often the police at the checkpoint look for room in the forecourt (s).
    release_check_s: Annotated[Number, Field(ge=1.0)] = 10.0
    #: Length of the road segments in which the results count trucks (km).
    segment_km: Positive = 5.0


class PoliceSettings(BaseModel):
    """The traffic police at the staging areas."""

    model_config = FROZEN
    #: How often they patrol: move trucks waiting on the road into staging areas with room,
    #: and check the areas for overflow (s).
    patrol_s: Annotated[Number, Field(ge=1.0)] = 60.0
    #: Obeying drivers left on the road because every area was full, at which an area counts as overflowing.
    overflow_spill: AtLeastOne = 5
    #: Most trucks released by hand at once, and the least time between two such releases (s).
    release_batch: AtLeastOne = 5
    release_cooldown_s: NonNegative = 900.0


class AgentsSettings(BaseModel):
    """Mesa agents instead of the statistical people; see the module docstring."""

    model_config = FROZEN
    enabled: bool = False
    enterprises: EnterpriseSettings = EnterpriseSettings()
    corridor: CorridorSettings = CorridorSettings()
    police: PoliceSettings = PoliceSettings()
    #: How often the agents' series (trucks by road segment, declarations awaiting amendment)
    #: are sampled for the results (s).
    collect_every_s: Annotated[Number, Field(ge=1.0)] = 900.0


__all__ = ["AgentsSettings", "CorridorSettings", "EnterpriseSettings", "PoliceSettings"]
