"""The core's configuration: one typed, validated, immutable object.

Everything a site changes between gates, or a planner between layouts, is here: the device
inventory, accounts and roles, risk selectivity, tolerances, yard capacity, fees, service
levels. Defaults describe a small phase-2 gate (one lane each way, a scale, a scanner) with
figures from ``docs/DOMAIN.md``.
"""

from __future__ import annotations

import math
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from gate.enums import Channel, DeviceKind, GoodsCategory, Role, Site, VehicleClass

_FROZEN = ConfigDict(frozen=True, extra="forbid")

Rate = Annotated[float, Field(ge=0.0, le=1.0)]
#: Longest time limit the core takes: a year. A longer one is a slip, not a service level.
MAX_SECONDS = 366 * 86_400.0
Seconds = Annotated[float, Field(gt=0, le=MAX_SECONDS)]
#: Highest fee of one item the schedule takes, in VND (far above any tariff, and every total of
#: a run's fees stays a 64-bit integer).
MAX_FEE_VND = 10**12
FeeVnd = Annotated[int, Field(ge=0, le=MAX_FEE_VND)]


class DeviceSpec(BaseModel):
    """One device the core may command or hear from."""

    model_config = _FROZEN
    device_id: Annotated[str, Field(min_length=1, max_length=64)]
    kind: DeviceKind
    site: Site
    lane: str | None = None  # lane or area the device serves, e.g. "in-1"


class RiskRule(BaseModel):
    """A selectivity rule: a declaration matching every ``when_*`` set goes at least to ``channel``."""

    model_config = _FROZEN
    name: Annotated[str, Field(min_length=1)]
    channel: Channel
    when_category: GoodsCategory | None = None
    when_origin: str | None = None
    when_declarant: str | None = None
    when_compliance_below: Rate | None = None


class RiskConfig(BaseModel):
    """Customs selectivity (VNACCS / ASYCUDA): expected rates, minimum random rates, rules."""

    model_config = _FROZEN
    #: Shares for declarants without a trusted record (national figures, DOMAIN.md).
    expected_yellow: Rate = 0.40
    expected_red: Rate = 0.05
    #: Shares for trusted declarants: the minimum random selection nobody escapes.
    min_random_yellow: Rate = 0.05
    min_random_red: Rate = 0.01
    #: A declarant at or above this compliance score is trusted.
    trusted_compliance: Rate = 0.9
    #: Compliance score of a declarant the gate has no record of.
    default_compliance: Rate = 0.8
    #: Known scores, e.g. from the customs compliance programme (declarant id -> score).
    compliance: dict[str, Rate] = Field(default_factory=dict)
    #: Key of the selection hash; a site keeps it secret so declarants cannot predict the draw.
    selection_key: Annotated[str, Field(min_length=1)] = "gatetwin-selectivity"
    rules: tuple[RiskRule, ...] = (
        RiskRule(name="live animals", channel=Channel.YELLOW, when_category=GoodsCategory.LIVE_ANIMALS),
        RiskRule(name="poor compliance", channel=Channel.RED, when_compliance_below=0.5),
    )
    #: A weight outside tolerance upgrades the channel by one step (green->yellow->red).
    upgrade_on_weight_discrepancy: bool = True

    @model_validator(mode="after")
    def _shares(self) -> RiskConfig:
        if self.expected_yellow + self.expected_red > 1:
            raise ValueError("expected_yellow + expected_red must be at most 1")
        if self.min_random_yellow + self.min_random_red > 1:
            raise ValueError("min_random_yellow + min_random_red must be at most 1")
        return self


class WeightConfig(BaseModel):
    """How far a measured weight may differ from the declared gross before it is flagged."""

    model_config = _FROZEN
    #: Relative tolerance between measured and declared gross weight.
    tolerance_pct: Annotated[float, Field(ge=0, le=100)] = 5.0
    #: Never flag a difference smaller than this (OIML R76 class III scale interval x a margin).
    tolerance_min_kg: Annotated[float, Field(ge=0)] = 200.0


class FeeSchedule(BaseModel):
    """Infrastructure fee, shaped like the Lang Son resolution in force from 8 May 2025.

    Vehicles without containers pay per trip by class; container vehicles pay per container by
    size, at a higher rate under temporary import for re-export. A goods category may carry a
    multiplier (ore x5); a mixed load pays the highest multiplier of its lines.
    """

    model_config = _FROZEN
    per_trip_vnd: dict[VehicleClass, FeeVnd] = Field(
        default_factory=lambda: {VehicleClass.SMALL: 100_000, VehicleClass.TRUCK: 500_000, VehicleClass.CONTAINER: 1_000_000}
    )
    per_container_vnd: dict[int, FeeVnd] = Field(
        default_factory=lambda: {20: 1_000_000, 40: 2_000_000, 45: 2_200_000}
    )
    reexport_container_vnd: dict[int, FeeVnd] = Field(
        default_factory=lambda: {20: 2_000_000, 40: 4_000_000, 45: 4_400_000}
    )
    category_multiplier: dict[GoodsCategory, Annotated[float, Field(gt=0)]] = Field(
        default_factory=lambda: {GoodsCategory.ORE: 5.0}
    )
    #: The fee is collected for these directions (imports and exports both, by default).
    exempt_transit: bool = False


class YardConfig(BaseModel):
    """Yard slots by vehicle class, the staging areas before the gate, and call-forward priority."""

    model_config = _FROZEN
    #: Parking slots by vehicle class; a class absent here is unlimited.
    capacity: dict[VehicleClass, Annotated[int, Field(ge=0)]] = Field(
        default_factory=lambda: {VehicleClass.SMALL: 40, VehicleClass.TRUCK: 150, VehicleClass.CONTAINER: 150}
    )
    #: Call perishable goods forward ahead of others waiting at staging.
    perishable_priority: bool = True
    #: Call a vehicle forward from staging only once its medical check (made at the staging
    #: area) has passed, so that none stands in an entry lane waiting for it and blocks the
    #: vehicles behind. Off, a vehicle is called as soon as a yard slot is free for it.
    call_when_checked: bool = True
    #: Staging areas on the approach road, nearest first, with their capacity in vehicles.
    staging_areas: dict[str, Annotated[int, Field(ge=0)]] = Field(default_factory=lambda: {"staging-1": 200})


class TrafficConfig(BaseModel):
    """Congestion risk and channelling advice computed from GPS pings and the gate's state."""

    model_config = _FROZEN
    #: Trucks the gate clears per hour at full pace; the release rate never exceeds it.
    gate_capacity_per_h: Annotated[float, Field(gt=0)] = 60.0
    #: Trucks the gate clears in each hour of the day, from midnight (24 values, the hour of
    #: ``now`` modulo a day): 0 while nobody checks trucks, e.g. the border guards' night.
    #: None: ``gate_capacity_per_h`` at every hour.
    hourly_capacity_per_h: tuple[Annotated[float, Field(ge=0, allow_inf_nan=False)], ...] | None = None
    #: Trucks within this distance of the gate count as about to arrive.
    horizon_km: Annotated[float, Field(gt=0)] = 20.0
    #: Risk above which the core advises holding at staging, and below which it releases.
    hold_above: Rate = 0.8
    release_below: Rate = 0.6

    @model_validator(mode="after")
    def _hysteresis(self) -> TrafficConfig:
        if self.release_below > self.hold_above:
            raise ValueError("release_below must not exceed hold_above")
        hourly = self.hourly_capacity_per_h
        if hourly is not None and (len(hourly) != 24 or not any(hourly)):
            raise ValueError(f"hourly_capacity_per_h must give 24 values, one for each hour from midnight, "
                             f"not all 0 (got {len(hourly)} value(s))")
        return self


class TimeoutConfig(BaseModel):
    """Service levels per agency role, and the time limits on payments, called vehicles, manifests and AGVs."""

    model_config = _FROZEN
    #: Service level per agency role: a task assigned longer than this is escalated.
    sla_s: dict[Role, Seconds] = Field(
        default_factory=lambda: {
            Role.MEDICAL: 600.0,
            Role.BORDER_GUARD: 600.0,
            Role.HEALTH_QUARANTINE: 7200.0,
            Role.ANIMAL_QUARANTINE: 7200.0,
            Role.PLANT_QUARANTINE: 7200.0,
            Role.CUSTOMS: 8 * 3600.0,  # partial physical inspection: at most 8 working hours
            Role.FEE_COLLECTOR: 1800.0,
        }
    )
    #: The hours of the day an agency works, as (start, end) hours from midnight, 0 <= start <
    #: end <= 24 (a night shift is two spells: (22, 24) and (0, 6)). Its service level counts
    #: only those hours: a task assigned at night is due ``sla_s`` into the morning's work. A
    #: role left out works around the clock.
    working_hours: dict[Role, tuple[tuple[float, float], ...]] = Field(default_factory=dict)
    #: Spells when the gate is closed, as (start, end) seconds on the core's clock (a holiday
    #: such as Tet): no agency works then, so no service level runs. A task assigned before one is
    #: due that much later; one assigned during one counts from its end.
    closed: tuple[tuple[float, float], ...] = ()
    #: An agency that works through some of those spells (customs processing declarations over a
    #: holiday, as Lang Son's did over Tet 2025) is given the spells it does not work, in place of
    #: ``closed``: its service levels run through the others.
    closed_for: dict[Role, tuple[tuple[float, float], ...]] = Field(default_factory=dict)
    #: An online payment not confirmed within this time (the fee collectors' working time: none
    #: of ``closed``, or of their ``closed_for``, counts) raises a review.
    payment_confirmation_s: Seconds = 3600.0
    #: A vehicle called forward from staging (holding a yard slot) that is not read at barrier 1
    #: within this time is taken for a no-show: a review is raised, its slot goes to the next
    #: vehicle waiting and it queues again at staging, at the back. The staging areas lie on the
    #: approach road a few kilometres before the gate, minutes of driving (the twin takes 90 s);
    #: half an hour covers a slow drive in heavy traffic and a driver away from the cab when
    #: called, without leaving a free slot idle for long. A vehicle queueing behind others (in a
    #: full forecourt, at a lane whose checks are off duty at night) is not a no-show: the limit
    #: runs again until as many vehicles have gone through barrier 1 (and its own lane) since the
    #: call as were sent there before it, and then once more in full. None of ``closed`` counts:
    #: nobody drives through a closed gate.
    call_forward_s: Seconds = 1800.0
    #: A vehicle that misses this many calls forward in a row (each a no-show, above) is no longer
    #: called: it keeps its place among the vehicles waiting at staging, "not answering", while
    #: those behind it are called, and one review asks people to find it. It is called again, in
    #: turn, as soon as it is heard from: its plate read at staging (read at barrier 1, it is a
    #: late arrival), a position from its driver's app, or anything a person does about its visit
    #: (an officer's decision, a payment, an amendment; closing its review releases it by hand).
    #: Three calls give a driver away from the cab an hour and a half to come back.
    no_show_max_calls: Annotated[int, Field(ge=1, strict=True)] = 3
    manifest_ack_s: Seconds = 120.0
    #: A dispatched AGV mission not heard of again (arrived, or faulted) within this time raises a
    #: review, once per mission; the mission is not failed, for the AGV may still be on its way.
    #: A trip on the lane takes minutes (3.6 km, DOMAIN.md), but an AGV also queues for the cranes
    #: and waits whenever the partner side stops accepting, which the core does not see: twelve
    #: hours outlasts a night's closure of the partner side and the queue of a busy lane. A site
    #: that knows its partner's closures sets it above the longest of them.
    agv_report_s: Seconds = 12 * 3600.0
    manifest_max_attempts: Annotated[int, Field(ge=1, strict=True)] = 3

    @model_validator(mode="after")
    def _closed_spells(self) -> TimeoutConfig:
        named = [("closed", self.closed)] + [(f"closed_for of {role.value}", spells)
                                             for role, spells in self.closed_for.items()]
        for name, spells in named:
            for start, end in spells:
                if not (math.isfinite(start) and math.isfinite(end) and 0 <= start < end):
                    raise ValueError(f"{name}: a spell runs from a time to a later one, both finite and at "
                                     f"least 0 (got ({start:g}, {end:g}))")
        return self

    @model_validator(mode="after")
    def _spells_within_the_day(self) -> TimeoutConfig:
        for role, spells in self.working_hours.items():
            if not spells:
                raise ValueError(f"working_hours of {role.value}: give at least one (start, end) spell, or leave "
                                 "the role out for one that works around the clock")
            for start, end in spells:
                if not (math.isfinite(start) and math.isfinite(end) and 0 <= start < end <= 24):
                    raise ValueError(f"working_hours of {role.value}: a spell runs from an hour to a later one "
                                     f"within the day, 0 <= start < end <= 24 (got ({start:g}, {end:g}))")
        return self


def _default_devices() -> tuple[DeviceSpec, ...]:
    return (
        DeviceSpec(device_id="cam-staging", kind=DeviceKind.PLATE_CAMERA, site=Site.STAGING, lane="staging-1"),
        DeviceSpec(device_id="cam-in-1", kind=DeviceKind.PLATE_CAMERA, site=Site.BARRIER_1, lane="in-1"),
        DeviceSpec(device_id="barrier-in-1", kind=DeviceKind.BARRIER, site=Site.BARRIER_1, lane="in-1"),
        DeviceSpec(device_id="scale-1", kind=DeviceKind.SCALE, site=Site.SCALE),
        DeviceSpec(device_id="scanner-1", kind=DeviceKind.SCANNER, site=Site.SCANNER),
        DeviceSpec(device_id="cam-yard-in", kind=DeviceKind.PLATE_CAMERA, site=Site.YARD_GATE_IN),
        DeviceSpec(device_id="cam-yard-out", kind=DeviceKind.PLATE_CAMERA, site=Site.YARD_GATE_OUT),
        DeviceSpec(device_id="cam-bay", kind=DeviceKind.PLATE_CAMERA, site=Site.INSPECTION_BAY),
        DeviceSpec(device_id="cam-out-1", kind=DeviceKind.PLATE_CAMERA, site=Site.BARRIER_2, lane="out-1"),
        DeviceSpec(device_id="barrier-out-1", kind=DeviceKind.BARRIER, site=Site.BARRIER_2, lane="out-1"),
    )


def _default_accounts() -> dict[str, tuple[Role, ...]]:
    return {
        "admin": (Role.ADMIN,),
        "medical-1": (Role.MEDICAL,),
        "guard-1": (Role.BORDER_GUARD,),
        "health-q-1": (Role.HEALTH_QUARANTINE,),
        "animal-q-1": (Role.ANIMAL_QUARANTINE,),
        "plant-q-1": (Role.PLANT_QUARANTINE,),
        "customs-1": (Role.CUSTOMS,),
        "yard-1": (Role.YARD_OPERATOR,),
        "fees-1": (Role.FEE_COLLECTOR,),
        "ops-1": (Role.OPERATION_CENTRE,),
        "police-1": (Role.TRAFFIC_POLICE,),
    }


class GateConfig(BaseModel):
    """Everything the clearance core needs to know about one gate."""

    model_config = _FROZEN
    gate_id: Annotated[str, Field(min_length=1)] = "gate"
    devices: tuple[DeviceSpec, ...] = Field(default_factory=_default_devices)
    #: Accounts and their roles. Any account may act as a declarant for its own declarations
    #: if it has the declarant role; ``open_declarant_registration`` lets unknown accounts declare.
    accounts: dict[str, tuple[Role, ...]] = Field(default_factory=_default_accounts)
    open_declarant_registration: bool = True
    risk: RiskConfig = RiskConfig()
    weight: WeightConfig = WeightConfig()
    fees: FeeSchedule = FeeSchedule()
    yard: YardConfig = YardConfig()
    traffic: TrafficConfig = TrafficConfig()
    timeouts: TimeoutConfig = TimeoutConfig()
    #: Below this confidence a plate read needs an officer's manual entry.
    plate_confidence_threshold: Rate = 0.85
    #: The driver's health declaration is checked by the medical unit before barrier 1.
    medical_check: bool = True
    #: Border checks pass automatically on a confident plate match (smart gate); otherwise an
    #: officer confirms at each barrier.
    automated_border_check: bool = False
    #: Route red-channel vehicles to a scanner first (where one is installed and working).
    scanner_first: bool = True
    #: Completed visits kept for queries; older ones are dropped (counters keep the totals).
    archive_limit: Annotated[int, Field(ge=0)] = 10_000

    @model_validator(mode="after")
    def _devices_unique(self) -> GateConfig:
        ids = [d.device_id for d in self.devices]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"device ids must be unique: {', '.join(dupes)}")
        return self
