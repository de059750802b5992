"""Demand: how many trucks come, when, carrying what; closures, peaks and the approach road.

Arrivals and truck attributes depend only on this section and the seed, never on the layout,
so two layouts compared with the same seed see the same trucks.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field, field_validator, model_validator

from gate.declaration import PERISHABLE_CATEGORIES
from gate.enums import Direction, GoodsCategory, Role, VehicleClass
from scenarios.distributions import Distribution, Triangular
from scenarios.recorded import RecordedDemand, record_days
from scenarios.staff import AGENCY_ROLES
from scenarios.values import FROZEN, NonNegative, NonNegativeWhole, Positive, Share, check_shares

HOURS_PER_DAY = 24
#: The most trucks a day a scenario takes: forty times the busiest Vietnam-China crossing's peak
#: (DOMAIN.md: 2,500 at the harvest peak); more is a typing slip, and would not fit in memory.
MAX_TRUCKS_PER_DAY = 100_000
#: The longest approach road, in km, from the point trucks are tracked to the gate.
MAX_ROAD_KM = 1_000
CONTAINER_SIZES_FT = (20, 40, 45)


def _flat_profile() -> tuple[float, ...]:
    return (1 / HOURS_PER_DAY,) * HOURS_PER_DAY


class PerishableHandling(BaseModel):
    """How the gate treats perishable loads (fruit, food, animals)."""

    model_config = FROZEN
    #: Call perishable loads forward ahead of others waiting at staging.
    priority: bool = True
    #: A perishable load waiting longer than this at the gate counts as spoiled in the results.
    spoil_after_h: Positive = 48.0


class Demand(BaseModel):
    """Trucks per day, their time-of-day profile and what they carry."""

    model_config = FROZEN
    #: Trucks a day; with ``recorded``, the record's own (its trucks over the days it spans),
    #: whatever the file gives.
    trucks_per_day: Annotated[Positive, Field(le=MAX_TRUCKS_PER_DAY)]
    #: Trucks as a record logged them (``scenarios.recorded``), arriving when it says instead of
    #: at random; what the record leaves out of a truck is drawn from the mixes below.
    recorded: RecordedDemand | None = None
    #: 24 non-negative weights, one per hour from 00:00; normalised to sum to 1. Flat by default.
    hourly_profile: tuple[NonNegative, ...] = Field(default_factory=_flat_profile)
    direction_mix: dict[Direction, Share]
    vehicle_class_mix: dict[VehicleClass, Share]
    cargo_mix: dict[GoodsCategory, Share]
    #: Sizes of the containers on container vehicles, by length in feet.
    container_sizes: dict[int, Share] = Field(default_factory=lambda: {20: 0.3, 40: 0.7})
    #: Share of container exports sent across by the AGV lane instead of the road.
    agv_share: Share = 0.0
    #: Share of trucks whose goods are transshipped to a partner-side truck in the yard.
    transshipment_share: Share = 0.0
    #: Share of declarations with wrong data (caught, they are returned for re-declaration).
    declaration_error_rate: Share = 0.0
    #: Share of trucks whose declared gross weight is outside tolerance.
    weight_misdeclaration_rate: Share = 0.0
    #: Share of loads a perfect scanner would flag as suspect.
    suspect_load_rate: Share = 0.0
    perishable: PerishableHandling = PerishableHandling()
    #: Time a declarant spends on one declaration online (DOMAIN.md: 2-5 min).
    declaration_s: Distribution = Triangular(kind="triangular", low=120, mode=180, high=300)
    #: The approach road from the point trucks are tracked to the gate.
    approach_road_km: Annotated[Positive, Field(le=MAX_ROAD_KM)] = 20.0
    approach_speed_kmh: Positive = 30.0
    #: Road length one queued truck occupies, to express the queue in km.
    queue_spacing_m: Positive = 20.0

    @model_validator(mode="before")
    @classmethod
    def _rate_of_the_record(cls, data: Any) -> Any:
        """With recorded trucks, ``trucks_per_day`` is the record's: its trucks over the days it
        spans (a value given is replaced, so that any scenario can take a record with --set)."""
        if not isinstance(data, dict) or data.get("recorded") is None:
            return data
        recorded = data["recorded"]
        if isinstance(recorded, RecordedDemand):
            return {**data, "trucks_per_day": recorded.trucks_per_day}
        trucks = recorded.get("trucks") if isinstance(recorded, dict) else None
        hours = [t.get("arrival_h") if isinstance(t, dict) else None for t in trucks] \
            if isinstance(trucks, (list, tuple)) else []
        numbers = [float(h) for h in hours if isinstance(h, (int, float)) and not isinstance(h, bool) and h >= 0]
        if numbers and len(numbers) == len(hours):
            days = record_days(numbers, recorded.get("repeat_daily") is True)
            return {**data, "trucks_per_day": len(numbers) / days}
        return {**data, "trucks_per_day": 1.0}  # the trucks' own errors are what to report

    @field_validator("hourly_profile")
    @classmethod
    def _profile(cls, weights: tuple[float, ...]) -> tuple[float, ...]:
        if len(weights) != HOURS_PER_DAY:
            raise ValueError(f"needs exactly 24 hourly weights, one per hour from 00:00 (got {len(weights)})")
        total = sum(weights)
        if total <= 0:
            raise ValueError("needs at least one positive weight")
        # Normalise only when needed, so a validated profile re-validates bit for bit.
        if abs(total - 1.0) > 1e-12:
            return tuple(w / total for w in weights)
        return weights

    @field_validator("direction_mix")
    @classmethod
    def _directions(cls, shares: dict[Direction, float]) -> dict[Direction, float]:
        return check_shares(shares, "direction")

    @field_validator("vehicle_class_mix")
    @classmethod
    def _classes(cls, shares: dict[VehicleClass, float]) -> dict[VehicleClass, float]:
        return check_shares(shares, "vehicle class")

    @field_validator("cargo_mix")
    @classmethod
    def _cargo(cls, shares: dict[GoodsCategory, float]) -> dict[GoodsCategory, float]:
        return check_shares(shares, "cargo")

    @field_validator("container_sizes")
    @classmethod
    def _sizes(cls, shares: dict[int, float]) -> dict[int, float]:
        unknown = sorted(size for size in shares if size not in CONTAINER_SIZES_FT)
        if unknown:
            raise ValueError(f"container sizes must be 20, 40 or 45 ft (got {unknown})")
        return check_shares(shares, "container size")

    def share(self, mix: str, key: Any) -> float:
        """The share of ``key`` in mix ``mix`` (e.g. ``share("direction_mix", "export")``); 0 if absent."""
        table: dict[Any, float] = getattr(self, mix)
        return float(table.get(key, 0.0))  # str enums hash and compare as their value

    @property
    def container_share(self) -> float:
        """Share of trucks carrying containers (the container vehicle class)."""
        return self.vehicle_class_mix.get(VehicleClass.CONTAINER, 0.0)

    @property
    def perishable_share(self) -> float:
        """Share of trucks whose cargo category is perishable."""
        return sum(v for k, v in self.cargo_mix.items() if k in PERISHABLE_CATEGORIES)

    @property
    def peak_hour(self) -> int:
        """The hour of day (0-23) with the most arrivals (the first, on ties)."""
        return max(range(HOURS_PER_DAY), key=lambda h: (self.hourly_profile[h], -h))

    def trucks_in_hour(self, hour_of_day: int) -> float:
        """Expected arrivals in one hour of a normal day."""
        return self.trucks_per_day * self.hourly_profile[hour_of_day % HOURS_PER_DAY]


class Closure(BaseModel):
    """Days the gate is closed (e.g. Tet). Declarations continue; trucks accumulate.

    The crossing is closed: no truck passes barrier 1 or barrier 2 and every agency is off duty
    (a task in hand at the start is finished); trucks inside wait where they are until it reopens.
    The agencies in ``staffed`` work on through it, on their usual shifts, at what needs no truck:
    customs checking the documents of declarations sent ahead, as Lang Son's customs handled
    3,500 declarations over Tet 2025.

    The trucks held back arrive over ``surge_days`` after reopening, on top of normal demand
    (``0``: all of them are queued at the moment the gate reopens).
    """

    model_config = FROZEN
    start_day: NonNegativeWhole
    days: Positive
    surge_days: NonNegative = 2.0
    staffed: tuple[Role, ...] = ()

    @field_validator("staffed", mode="before")
    @classmethod
    def _agencies_only(cls, roles: Any) -> Any:
        if isinstance(roles, (list, tuple)):
            agencies = {role.value for role in AGENCY_ROLES}
            others = [str(role) for role in roles if getattr(role, "value", role) not in agencies]
            if others:
                raise ValueError(f"{', '.join(others)}: not an agency; the agencies are "
                                 f"{', '.join(role.value for role in AGENCY_ROLES)}")
            return tuple(dict.fromkeys(roles))
        return roles

    @property
    def start_h(self) -> float:
        """Closing time in hours since the start of the run."""
        return 24.0 * self.start_day

    @property
    def end_h(self) -> float:
        """Reopening time in hours since the start of the run."""
        return 24.0 * (self.start_day + self.days)


class DemandWindow(BaseModel):
    """Days on which demand is scaled, e.g. a harvest peak (multiplier 2) or a lull (0.5)."""

    model_config = FROZEN
    start_day: NonNegativeWhole
    days: Positive
    multiplier: Positive

    @property
    def start_h(self) -> float:
        """Start in hours since the start of the run."""
        return 24.0 * self.start_day

    @property
    def end_h(self) -> float:
        """End in hours since the start of the run."""
        return 24.0 * (self.start_day + self.days)


class TrafficSettings(BaseModel):
    """Channelling of freight traffic on the approach road by the traffic police.

    With ``channelling`` the platform's hold/release advice (``core.traffic``) is applied at
    the staging areas; a driver follows an order with probability ``driver_compliance``.
    """

    model_config = FROZEN
    channelling: bool = True
    driver_compliance: Share = 0.9
    #: How often the driver's app reports a GPS position.
    gps_ping_s: Positive = 60.0
    #: How often the telematics server hands the core, as one batch (``PositionsReported``), the
    #: positions the apps sent since its last delivery; null: each position reaches the core on
    #: its own (``GpsPing``) the moment the app sends it.
    gps_feed_s: Positive | None = 60.0
