"""Random sequences of sensible, doubtful and garbage events thrown at the core, its books checked after every step.

Hypothesis plays every actor at once: declarants (good and bad declarations, as raw data or as
``Declaration`` objects, validated or built without validation; amendments, cancellations),
officers of every agency and accounts without roles (decisions with random outcomes, fees, manual
plate entries), cameras at every site reading known, misread, unknown and missing plates at any
confidence, plates and tax codes written in other scripts' digits, scales, scanners, barriers,
AGVs and the partner link (faults and recoveries included), the driver app, senders named by a
``(str, Enum)``, whole numbers beyond a float's range, and plain garbage. Time moves forward, now
and then by hours so that timers fire; now and then a sender's clock, or the host's, goes wrong.

After every step: nothing raised; ``check_invariants`` is clean; every declared visit is open or
archived, exactly once; location counts add up to the open visits; yard slots are never negative
and never handed out beyond capacity; lane loads, the corridor count, work lists and deadlines
agree with the visits; the audit chain verifies and holds one record per event handled plus one
per timer action; a device report repeated at once changes nothing.
"""

from __future__ import annotations

import dataclasses
from enum import Enum
from typing import Any, cast

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from gate.commands import (
    AcceptDeclaration,
    AssignTask,
    Command,
    DispatchAgv,
    Escalate,
    ManualReview,
    OpenBarrier,
    RefuseEvent,
    RequestFee,
    RequestScan,
    ReturnForRedeclaration,
    RouteTo,
    SendManifest,
    TrafficAdvice,
)
from gate.config import DeviceSpec, GateConfig, TimeoutConfig, TrafficConfig, YardConfig
from gate.core import GateCore
from gate.declaration import Declaration, parse_declaration
from gate.identifiers import normalize_plate, plate_problem
from gate.visit import Visit
from gate.enums import (
    CLEARANCE_ROLE,
    AgvMissionState,
    ClearanceKind,
    ClearanceStatus,
    CrossingMode,
    DeviceKind,
    Location,
    Outcome,
    PaymentMethod,
    Role,
    ScanResult,
    Site,
    VehicleClass,
)
from gate.events import (
    ALL_EVENTS,
    DEVICE_EVENTS,
    AgvArrived,
    AgvFaulted,
    BarrierClosed,
    BarrierOpened,
    ClearanceDecided,
    ContainerHandedOver,
    DeclarationAmended,
    DeclarationCancelled,
    DeclarationSubmitted,
    DeviceFaulted,
    DeviceRecovered,
    Event,
    FeePaid,
    GpsPing,
    Position,
    PositionsReported,
    LoadingRegistered,
    ManifestAcknowledged,
    ManualPlateEntered,
    PaymentConfirmed,
    PlateRead,
    ReviewResolved,
    RoleGranted,
    RoleRevoked,
    ScanCompleted,
    StagingReleaseOrdered,
    VehiclePassed,
    WeightMeasured,
)
from tests.unit.core.support import AGV_DEVICES, OFFICER, container_no, declaration, goods, plate

DEVICES = GateConfig().devices + AGV_DEVICES + (
    DeviceSpec(device_id="scanner-2", kind=DeviceKind.SCANNER, site=Site.SCANNER),
)
CONFIG = GateConfig(
    devices=DEVICES,
    yard=YardConfig(capacity={VehicleClass.SMALL: 1, VehicleClass.TRUCK: 2, VehicleClass.CONTAINER: 2},
                    staging_areas={"staging-1": 2, "staging-2": 1}),
    # Nothing cleared in the small hours, and agencies that keep office hours: timers and advice
    # that depend on the hour of the day.
    traffic=TrafficConfig(gate_capacity_per_h=3.0,
                          hourly_capacity_per_h=tuple(0.0 if hour < 2 else 3.0 for hour in range(24))),
    # A vehicle that misses two calls forward in a row is no longer called until it is heard from.
    timeouts=TimeoutConfig(manifest_ack_s=60.0, payment_confirmation_s=900.0, no_show_max_calls=2,
                           working_hours={Role.MEDICAL: ((0.5, 12.0),), Role.CUSTOMS: ((1.0, 2.0), (3.0, 23.0))}),
)

IDS = [f"DEC-{n:04d}" for n in range(1, 13)]
PLATES = [plate(n) for n in range(1, 7)]
CONTAINERS = [container_no(100 + i) for i in range(2)]
ACCOUNTS = sorted(CONFIG.accounts) + ["trader-1", "trader-2", "stranger"]
DEVICE_IDS = [d.device_id for d in DEVICES] + ["ghost-7"]
CAMERAS = [d.device_id for d in DEVICES if d.kind is DeviceKind.PLATE_CAMERA]
CATEGORIES = ["general", "ore", "plants_fruit", "live_animals", "animal_products", "foodstuff"]

#: Commands that make something happen; a device report repeated at once must yield none of them.
ACTING = (OpenBarrier, AssignTask, RouteTo, RequestScan, DispatchAgv, SendManifest, AcceptDeclaration, RequestFee,
          ReturnForRedeclaration, Escalate, TrafficAdvice)
#: Commands a timer action answers with, one audit record each.
TIMER_ACTIONS = (Escalate, SendManifest, ManualReview)



class Named(str, Enum):
    """Senders and plates as an adapter might name them: equal to the plain ids, formatted otherwise."""

    TELEMATICS = "telematics"
    APP = "app"
    CAMERA = "cam-in-1"
    SCALE = "scale-1"
    PARTNER = "partner-link"
    GUARD = "guard-1"
    TRADER = "trader-1"
    POLICE = "police-1"
    PLATE = plate(1)
    VISIT = "DEC-0001"


FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
#: Whole numbers beyond a float's range (those too long to print at all are left to the unit tests:
#: hypothesis could not print them when reporting a failure).
huge_ints = st.integers(min_value=2**1024, max_value=10**400).flatmap(lambda n: st.sampled_from([n, -n]))
junk = st.one_of(
    st.none(), st.booleans(), st.integers(-10**30, 10**30), huge_ints, st.floats(), st.text(max_size=30),
    st.binary(max_size=4), st.lists(st.integers(), max_size=2), st.sampled_from(list(Role) + list(Outcome)),
    st.sampled_from(list(Named)),
)
plates = st.one_of(
    st.sampled_from(PLATES),
    st.sampled_from(PLATES).map(lambda p: p.replace("0", "O", 1)),  # a misread, close to a declared plate
    st.sampled_from(["29LD-123.45", "桂A12345", " 12c-000.01 "]),
    st.sampled_from(PLATES).flatmap(lambda p: st.sampled_from([p.translate(FULLWIDTH), p.translate(ARABIC_INDIC)])),
    st.text(min_size=1, max_size=12),
)
confidences = st.one_of(st.sampled_from([0.0, 0.5, 0.84, 0.85, 0.99, 1.0]), st.floats(0.0, 1.0))
visit_ids = st.one_of(st.sampled_from(IDS), st.just("DEC-9999"))
references = st.sampled_from(["VCB-1", "VCB-2"])


@st.composite
def declarations(draw: st.DrawFn, declaration_id: str | None = None) -> dict[str, Any]:
    """Mostly valid declarations of any shape the gate handles; sometimes with a broken field."""
    did = declaration_id or draw(st.sampled_from(IDS))
    vehicle_class = draw(st.sampled_from(["truck", "small", "container", "container"]))
    categories = draw(st.lists(st.sampled_from(CATEGORIES), min_size=1, max_size=2))
    fields: dict[str, Any] = {
        "vehicle_class": vehicle_class,
        "goods": [goods(c, gross_kg=1_000) for c in categories],
        "declared_gross_kg": draw(st.sampled_from([3_000, 20_000, 30_000])),
        "transshipment": draw(st.booleans()),
        "direction": draw(st.sampled_from(["import", "export", "transit", "temporary_import_reexport"])),
    }
    if vehicle_class == "container":
        count = draw(st.integers(1, len(CONTAINERS)))
        fields["containers"] = [{"number": number, "size_ft": 40} for number in CONTAINERS[:count]]
        fields["crossing_mode"] = draw(st.sampled_from(["road_handover", "agv_lane"]))
    if draw(st.integers(0, 9)) == 0:
        fields[draw(st.sampled_from(["declared_gross_kg", "driver", "goods", "direction", "version"]))] = draw(junk)
    vehicle_plate = draw(st.sampled_from(PLATES))
    if draw(st.integers(0, 14)) == 0:  # the same plate or tax code in fullwidth or Arabic-Indic digits
        digits = draw(st.sampled_from([FULLWIDTH, ARABIC_INDIC]))
        if draw(st.booleans()):
            vehicle_plate = vehicle_plate.translate(digits)
        else:
            fields["declarant_id"] = "0101234567".translate(digits)
    return declaration(did, vehicle_plate, **fields)


@st.composite
def payloads(draw: st.DrawFn, declaration_id: str | None = None) -> Any:
    """A declaration as the platform may pass it on: raw data mostly; else a ``Declaration`` object,
    validated, or built without validation (a copy with a field changed to anything, or constructed)."""
    data = draw(declarations(declaration_id))
    form = draw(st.sampled_from(["raw"] * 6 + ["validated", "copied", "constructed"]))
    if form == "raw":
        return data
    parsed = parse_declaration(data)
    if not isinstance(parsed, Declaration):
        return data
    if form == "validated":
        return parsed
    if form == "copied":
        field = draw(st.sampled_from(["vehicle_plate", "declaration_id", "declared_gross_kg", "driver", "goods",
                                      "vehicle_class", "containers", "version"]))
        return parsed.model_copy(update={field: draw(st.one_of(junk, st.just(getattr(parsed, field))))})
    kept = draw(st.lists(st.sampled_from(sorted(Declaration.model_fields)), unique=True, max_size=6))
    return Declaration.model_construct(**{name: getattr(parsed, name) for name in kept})


@st.composite
def garbage_events(draw: st.DrawFn) -> Any:
    """An event of a real type with junk in its fields, or something that is no event at all."""
    if draw(st.booleans()):
        return draw(st.one_of(junk, st.just(object())))
    kind = draw(st.sampled_from(ALL_EVENTS))
    return kind(**{f.name: draw(junk) for f in dataclasses.fields(kind)})


def next_steps(core: GateCore, visit: Visit) -> list[Event]:
    """What the driver, the devices and the officers would sensibly do next for this visit."""
    p, vid, loc = visit.plate, visit.visit_id, visit.location
    steps: list[Event] = []
    for kind, clearance in visit.clearances.items():
        if clearance.status is ClearanceStatus.ASSIGNED:
            officer = OFFICER[CLEARANCE_ROLE[kind]]
            steps += [ClearanceDecided(officer, vid, kind, Outcome.PASSED)] * 8  # mostly, things are in order
            steps += [ClearanceDecided(officer, vid, kind, Outcome.RETURNED, ("wrong data",)),
                      ClearanceDecided(officer, vid, kind, Outcome.REFUSED, ("smuggling",))]
    fee = visit.clearances.get(ClearanceKind.FEE)
    if fee is not None and fee.status is ClearanceStatus.REQUIRED:
        steps.append(FeePaid("fees-1", vid, max(1, visit.fee_vnd - visit.fee_paid_vnd), PaymentMethod.DIRECT, "CASH"))
    if fee is not None and fee.status is ClearanceStatus.PENDING_CONFIRMATION and visit.payment_reference:
        steps.append(PaymentConfirmed("fees-1", vid, visit.payment_reference))
    if ClearanceKind.LOADING in visit.clearances and not visit.loading_registered:
        steps.append(LoadingRegistered("yard-1", vid))
    if loc is Location.OUTSIDE:
        steps += [PlateRead("cam-staging", p, 0.99), PlateRead("cam-in-1", p, 0.99)]
    elif loc is Location.STAGING:
        steps.append(PlateRead("cam-in-1", p, 0.99))
    elif loc is Location.ENTRY_LANE and visit.entry_granted:
        declared = visit.declaration.declared_gross_kg
        steps += [VehiclePassed("barrier-in-1", p), WeightMeasured(visit.scale or "scale-1", p, declared),
                  WeightMeasured(visit.scale or "scale-1", p, declared * 1.3)]
    elif loc is Location.SCALE and visit.scanner is not None:
        steps += [ScanCompleted(visit.scanner, p, ScanResult.CLEAR)] * 2 + [ScanCompleted(visit.scanner, p,
                                                                                          ScanResult.SUSPECT)]
    elif loc in (Location.SCALE, Location.SCANNER):
        steps.append(PlateRead("cam-yard-in", p, 0.99))
    elif loc in (Location.YARD, Location.INSPECTION):
        inspection = visit.clearances.get(ClearanceKind.CUSTOMS_INSPECTION)
        if loc is Location.YARD and inspection is not None and inspection.status is ClearanceStatus.ASSIGNED:
            steps.append(PlateRead("cam-bay", p, 0.99))
        if not steps:
            steps.append(PlateRead("cam-yard-out", p, 0.99))
        steps += [ContainerHandedOver("yard-1", vid, c.number) for c in visit.declaration.containers
                  if c.number not in visit.handed_over]
    elif loc is Location.EXIT_LANE:
        steps.append(VehiclePassed("barrier-out-1", p) if visit.exit_granted else PlateRead("cam-out-1", p, 0.99))
    elif loc is Location.RETURNED:
        steps += [DeclarationAmended(visit.owner, vid, visit.declaration.model_dump(mode="json")),
                  DeclarationAmended(visit.owner, vid, visit.declaration)]  # an object the core made, not validation
    for number in visit.handed_over:
        mission = core.mission(f"{vid}:{number}")
        if mission is not None and mission.state is AgvMissionState.MANIFEST_SENT:
            steps += [ManifestAcknowledged("partner-link", mission.mission_id)] * 3
        elif mission is not None and mission.state is AgvMissionState.DISPATCHED:
            steps += [AgvArrived("agv-fleet", mission.mission_id)] * 2 + [AgvFaulted("agv-fleet", mission.mission_id)]
    return steps or [PlateRead("cam-staging", p, 0.99)]


def obedient_step(core: GateCore, visit: Visit) -> Event | None:
    """What people and devices do next for this visit when everyone does the right thing and
    every officer passes: each visit's way to its end, or None while it must wait."""
    p, vid, loc = visit.plate, visit.visit_id, visit.location
    for kind, clearance in visit.clearances.items():
        if clearance.status is ClearanceStatus.ASSIGNED:
            return ClearanceDecided(OFFICER[CLEARANCE_ROLE[kind]], vid, kind, Outcome.PASSED)
    if loc is Location.RETURNED or visit.awaiting_amendment:
        return DeclarationAmended(visit.owner, vid, visit.declaration.model_dump(mode="json"))
    fee = visit.clearances.get(ClearanceKind.FEE)
    if fee is not None and fee.status is ClearanceStatus.PENDING_CONFIRMATION and visit.payment_reference:
        return PaymentConfirmed("fees-1", vid, visit.payment_reference)
    if fee is not None and fee.status is ClearanceStatus.REQUIRED and loc is not Location.OUTSIDE:
        return FeePaid("fees-1", vid, max(1, visit.fee_vnd - visit.fee_paid_vnd), PaymentMethod.DIRECT, "CASH")
    if ClearanceKind.LOADING in visit.clearances and not visit.loading_registered:
        return LoadingRegistered("yard-1", vid)
    for number in visit.handed_over:
        mission = core.mission(f"{vid}:{number}")
        if mission is not None and mission.state is AgvMissionState.MANIFEST_SENT:
            return ManifestAcknowledged("partner-link", mission.mission_id)
        if mission is not None and mission.state is AgvMissionState.DISPATCHED:
            return AgvArrived("agv-fleet", mission.mission_id)
    if loc is Location.OUTSIDE:
        return PlateRead("cam-staging", p, 0.99)
    if loc is Location.STAGING:
        if visit.not_answering:  # no longer called, for it missed its calls: the driver is back in the cab
            return PlateRead("cam-staging", p, 0.99)
        # Called forward (or released by hand, off the queue): it drives to barrier 1; else it waits.
        return PlateRead("cam-in-1", p, 0.99) if visit.reserved_slot or vid not in core.staging else None
    if loc is Location.ENTRY_LANE:
        if not visit.entry_granted:
            return None if visit.reserved_slot else PlateRead("cam-staging", p, 0.99)  # sent back to wait
        if visit.lane_held:
            return VehiclePassed(visit.entry_device or "barrier-in-1", p)
        if visit.scale is not None:
            return WeightMeasured(visit.scale, p, visit.declaration.declared_gross_kg)
        if visit.scanner is not None:
            return ScanCompleted(visit.scanner, p, ScanResult.CLEAR)
        return PlateRead("cam-yard-in", p, 0.99)
    if loc is Location.SCALE:
        return ScanCompleted(visit.scanner, p, ScanResult.CLEAR) if visit.scanner else PlateRead("cam-yard-in", p, 0.99)
    if loc is Location.SCANNER:
        return PlateRead("cam-yard-in", p, 0.99)
    if loc in (Location.YARD, Location.INSPECTION):
        if visit.crossing_mode is CrossingMode.AGV_LANE:
            for container in visit.declaration.containers:
                if container.number not in visit.handed_over:
                    return ContainerHandedOver("yard-1", vid, container.number)
        if not core.ready_to_exit(visit):
            return None
        return PlateRead("cam-yard-out" if loc is Location.YARD else "cam-yard-in", p, 0.99)
    if loc is Location.EXIT_LANE:
        if visit.exit_granted:
            return VehiclePassed(visit.exit_device or "barrier-out-1", p)
        if visit.exit_device is not None:
            return None  # at barrier 2, waiting for it to open
        # Sent back from barrier 2: it drives back into the yard, or presents again once nothing blocks it.
        return PlateRead("cam-out-1" if core.ready_to_exit(visit) else "cam-yard-in", p, 0.99)
    return None


class GateUnderFire(RuleBasedStateMachine):
    """One core, every actor at random."""

    @initialize(first=st.lists(declarations(), min_size=3, max_size=6))
    def open_the_gate(self, first: list[dict[str, Any]]) -> None:
        self.core = GateCore(CONFIG)
        self.now = 0.0
        self.handled = 0
        self.timer_records = 0
        self.position_refusals = 0  # positions of telematics batches refused one by one (one record each)
        self.declared: set[str] = set()
        self.reviews: list[str] = []
        self.missions: list[str] = []
        self.last_device_event: Event | None = None
        self.last_time: float | None = None
        self.reserved_before = dict(self.core.yard.reserved)
        self.accounts_at_start = {account: set(roles) for account, roles in self.core.accounts.items()}
        for n, payload in enumerate(first):  # the morning's first declarations, one truck each
            self.send(DeclarationSubmitted("trader-1", {**payload, "declaration_id": IDS[n], "vehicle_plate": PLATES[n]}))

    # ------------------------------------------------------------------ sending

    def send(self, event: Any, after: float = 1.0) -> list[Command]:
        self.now += after
        self.last_time = self.now
        before = self.core.audit.count
        answer = self.core.handle(event, self.now)
        self.handled += 1
        written = self.core.audit.count - before
        for command in answer:
            if isinstance(command, AcceptDeclaration) and command.version == 1:
                self.declared.add(command.visit_id)
            elif isinstance(command, ManualReview):
                self.reviews.append(command.review_id)
            elif isinstance(command, SendManifest):
                self.missions.append(command.mission_id)
        refusals = [c for c in answer if isinstance(c, RefuseEvent)]
        accepted = self.core.audit.records[-1].accepted
        if type(event) is PositionsReported and accepted:
            # a batch: one refusal (audited and answered) per bad position, then the batch itself
            assert written == 1 + len(refusals), "a batch leaves its refusals and one record of its own"
            assert [r.reason for r in self.core.audit.records[-written:-1]] == [r.reason for r in refusals]
            self.position_refusals += len(refusals)
        else:
            assert written == 1, "every event leaves exactly one audit record"
            assert len(refusals) == (0 if accepted else 1)
        self.last_device_event = event if type(event) in DEVICE_EVENTS else None
        return answer

    # ------------------------------------------------------------------ people

    @rule(payload=payloads(), account=st.sampled_from(["trader-1", "trader-2", "guard-1", "admin"]))
    def submit(self, payload: Any, account: str) -> None:
        self.send(DeclarationSubmitted(account, payload))

    @rule(visit_id=visit_ids, data=st.data(), account=st.sampled_from(["trader-1", "trader-2", "admin"]))
    def amend(self, visit_id: str, data: st.DataObject, account: str) -> None:
        payload = data.draw(payloads(visit_id))
        self.send(DeclarationAmended(account, visit_id, payload))

    @rule(visit_id=visit_ids, account=st.sampled_from(["trader-1", "trader-2", "admin", "customs-1"]))
    def cancel(self, visit_id: str, account: str) -> None:
        self.send(DeclarationCancelled(account, visit_id, "changed plans"))

    @rule(account=st.sampled_from(ACCOUNTS), visit_id=visit_ids, clearance=st.sampled_from(list(ClearanceKind)),
          outcome=st.sampled_from([Outcome.PASSED] * 4 + [Outcome.RETURNED, Outcome.REFUSED]))
    def decide(self, account: str, visit_id: str, clearance: ClearanceKind, outcome: Outcome) -> None:
        self.send(ClearanceDecided(account, visit_id, clearance, outcome, ("checked",)))

    @rule(visit_id=visit_ids, clearance=st.sampled_from(list(ClearanceKind)))
    def the_right_officer_passes(self, visit_id: str, clearance: ClearanceKind) -> None:
        self.send(ClearanceDecided(OFFICER[CLEARANCE_ROLE[clearance]], visit_id, clearance, Outcome.PASSED))

    @rule(account=st.sampled_from(["trader-1", "yard-1", "guard-1"]), visit_id=visit_ids)
    def register_loading(self, account: str, visit_id: str) -> None:
        self.send(LoadingRegistered(account, visit_id))

    @rule(account=st.sampled_from(["fees-1", "trader-1", "stranger"]), visit_id=visit_ids,
          amount=st.sampled_from([100_000, 500_000, 2_000_000, 10_000_000]),
          method=st.sampled_from(list(PaymentMethod)), reference=references)
    def pay(self, account: str, visit_id: str, amount: int, method: PaymentMethod, reference: str) -> None:
        self.send(FeePaid(account, visit_id, amount, method, reference))

    @rule(account=st.sampled_from(["fees-1", "trader-1"]), visit_id=visit_ids, reference=references)
    def confirm_payment(self, account: str, visit_id: str, reference: str) -> None:
        self.send(PaymentConfirmed(account, visit_id, reference))

    @rule(account=st.sampled_from(["guard-1", "yard-1", "trader-1"]), data=st.data(), typed=plates)
    def enter_plate_by_hand(self, account: str, data: st.DataObject, typed: str) -> None:
        review_id = data.draw(st.sampled_from(self.reviews + ["R999"]))
        self.send(ManualPlateEntered(account, review_id, typed))

    @rule(account=st.sampled_from(["police-1", "trader-1", "guard-1", "customs-1", "fees-1", "yard-1", "ops-1",
                                   "admin"]), data=st.data())
    def close_review(self, account: str, data: st.DataObject) -> None:
        review_id = data.draw(st.sampled_from(self.reviews + ["R999"]))
        review = self.core.reviews.get(review_id)
        roles = set(self.core.accounts.get(account, ()))
        self.send(ReviewResolved(account, review_id))
        if review is not None and review_id not in self.core.reviews:
            assert Role.ADMIN in roles or roles & set(review.roles), \
                f"{account} closed review {review_id}, which belongs to {review.roles}"

    @rule(account=st.sampled_from(["police-1", "guard-1"]), area=st.sampled_from(["staging-1", "staging-2", "x"]),
          count=st.integers(1, 3))
    def release_staging(self, account: str, area: str, count: int) -> None:
        self.send(StagingReleaseOrdered(account, area, count))

    @rule(grant=st.booleans(), admin=st.sampled_from(["admin", "guard-1"]),
          holder=st.sampled_from(["guard-1", "customs-1", "trader-1", "admin"]), role=st.sampled_from(list(Role)))
    def change_roles(self, grant: bool, admin: str, holder: str, role: Role) -> None:
        self.send((RoleGranted if grant else RoleRevoked)(admin, holder, role))

    @rule(account=st.sampled_from(["yard-1", "ops-1", "trader-1"]), visit_id=visit_ids,
          container=st.sampled_from(CONTAINERS + [container_no(999)]))
    def hand_over_container(self, account: str, visit_id: str, container: str) -> None:
        self.send(ContainerHandedOver(account, visit_id, container))

    # ------------------------------------------------------------------ devices and the corridor

    @rule(camera=st.sampled_from(CAMERAS), seen=st.one_of(st.none(), plates), confidence=confidences)
    def read_plate(self, camera: str, seen: str | None, confidence: float) -> None:
        self.send(PlateRead(camera, seen, confidence))

    @rule(camera=st.sampled_from(CAMERAS), seen=st.sampled_from(PLATES))
    def read_plate_clearly(self, camera: str, seen: str) -> None:
        self.send(PlateRead(camera, seen, 0.99))

    @rule(device=st.sampled_from(["scale-1", "scanner-1"]), seen=plates,
          kg=st.one_of(st.sampled_from([3_000.0, 20_000.0, 30_000.0]), st.floats(0.0, 100_000.0)),
          stable=st.booleans(), overload=st.booleans())
    def weigh(self, device: str, seen: str, kg: float, stable: bool, overload: bool) -> None:
        self.send(WeightMeasured(device, seen, kg, stable, overload))

    @rule(device=st.sampled_from(["scanner-1", "scanner-2", "scale-1"]), seen=plates,
          result=st.sampled_from(list(ScanResult)))
    def scan(self, device: str, seen: str, result: ScanResult) -> None:
        self.send(ScanCompleted(device, seen, result))

    @rule(barrier=st.sampled_from(["barrier-in-1", "barrier-out-1", "cam-in-1"]), seen=plates)
    def vehicle_passes(self, barrier: str, seen: str) -> None:
        self.send(VehiclePassed(barrier, seen))

    @rule(barrier=st.sampled_from(["barrier-in-1", "barrier-out-1", "ghost-7"]), opened=st.booleans())
    def barrier_moves(self, barrier: str, opened: bool) -> None:
        self.send(BarrierOpened(barrier) if opened else BarrierClosed(barrier))

    @rule(device=st.sampled_from(DEVICE_IDS), broken=st.booleans())
    def fault_or_recover(self, device: str, broken: bool) -> None:
        self.send(DeviceFaulted(device, "random fault") if broken else DeviceRecovered(device))

    @rule(data=st.data(), kind=st.sampled_from(["ack", "arrived", "faulted"]),
          device=st.sampled_from(["partner-link", "agv-fleet"]))
    def agv_lane_reports(self, data: st.DataObject, kind: str, device: str) -> None:
        mission = data.draw(st.sampled_from(self.missions + ["M-404"]))
        event = {"ack": ManifestAcknowledged, "arrived": AgvArrived, "faulted": AgvFaulted}[kind](device, mission)
        self.send(event)

    @rule(seen=st.sampled_from(PLATES), km=st.one_of(st.floats(0.0, 60.0), huge_ints), speed=st.floats(0.0, 90.0))
    def gps_ping(self, seen: str, km: float, speed: float) -> None:
        self.send(GpsPing("app", seen, km, speed))

    @rule(positions=st.lists(st.one_of(
        st.builds(Position, st.sampled_from(PLATES), st.floats(0.0, 60.0), st.floats(0.0, 90.0)),
        st.tuples(st.sampled_from(PLATES), st.floats(allow_nan=True), st.floats(-5.0, 300.0)),
        st.tuples(st.sampled_from(PLATES), st.one_of(st.floats(0.0, 60.0), huge_ints), huge_ints),
        st.tuples(st.sampled_from(list(Named) + PLATES), st.floats(0.0, 60.0), st.floats(0.0, 90.0)),
        st.just(("garbage",))), max_size=6), sender=st.sampled_from(["telematics", Named.TELEMATICS]))
    def telematics_batch(self, positions: list[object], sender: str) -> None:
        self.send(PositionsReported(sender, tuple(positions)))  # type: ignore[arg-type]

    @rule(event=st.sampled_from([
        PlateRead(Named.CAMERA, PLATES[0], 0.99), PlateRead("cam-in-1", Named.PLATE, 0.99),
        WeightMeasured(Named.SCALE, PLATES[0], 20_000.0), GpsPing(Named.APP, PLATES[0], 5.0, 40.0),
        ClearanceDecided(Named.GUARD, IDS[0], ClearanceKind.BORDER_GUARD_ENTRY, Outcome.PASSED),
        ClearanceDecided("guard-1", Named.VISIT, ClearanceKind.BORDER_GUARD_ENTRY, Outcome.PASSED),
        ClearanceDecided("guard-1", IDS[0], ClearanceKind.BORDER_GUARD_ENTRY, Outcome.RETURNED, (Named.GUARD,)),
        DeclarationCancelled(Named.TRADER, IDS[0]), StagingReleaseOrdered(Named.POLICE, "staging-1", 1),
        ManifestAcknowledged(Named.PARTNER, "M-404"),
    ]))
    def a_sender_names_its_ids_with_a_str_enum(self, event: Event) -> None:
        self.send(event)

    @rule(confidence=huge_ints, kg=huge_ints)
    def a_device_sends_a_number_beyond_a_float_s_range(self, confidence: int, kg: int) -> None:
        self.send(PlateRead("cam-in-1", PLATES[0], confidence))
        self.send(WeightMeasured("scale-1", PLATES[0], kg))

    @precondition(lambda self: self.last_device_event is not None)
    @rule()
    def the_device_repeats_itself(self) -> None:
        answer = self.send(self.last_device_event, after=0.0)
        acting = [c for c in answer if isinstance(c, ACTING)]
        assert acting == [], f"repeating {self.last_device_event} did something again: {acting}"

    @precondition(lambda self: bool(self.core.active))
    @rule(data=st.data(), steps=st.integers(1, 30))
    def the_flow_moves_on(self, data: st.DataObject, steps: int) -> None:
        """People and devices do the next sensible things for open visits, so runs reach deep into the flow."""
        for _ in range(steps):
            if not self.core.active:
                return
            visit = self.core.active[data.draw(st.sampled_from(sorted(self.core.active)))]
            self.send(data.draw(st.sampled_from(next_steps(self.core, visit))))
            self.check_the_books()

    # ------------------------------------------------------------------ garbage and time

    @rule(event=garbage_events())
    def garbage(self, event: Any) -> None:
        self.send(event)

    @precondition(lambda self: self.last_time is not None)
    @rule(when=st.one_of(st.floats(allow_nan=True), st.none(), st.text(max_size=3), st.integers(-5, -1)))
    def clock_goes_wrong(self, when: Any) -> None:
        """A sender's clock gives garbage or runs backwards: refused, and nothing else changes."""
        assert self.last_time is not None
        if isinstance(when, int):
            when = self.last_time + when  # backwards by a few seconds
        elif isinstance(when, float) and when == when and abs(when) != float("inf") and when >= self.last_time:
            when = self.last_time - 1.0
        views = {vid: self.core.visit(vid) for vid in self.core.active}
        before = self.core.audit.count
        answer = self.core.handle(PlateRead("cam-in-1", PLATES[0], 0.99), when)
        self.handled += 1
        assert [type(c) for c in answer] == [RefuseEvent]
        assert self.core.audit.count == before + 1
        assert {vid: self.core.visit(vid) for vid in self.core.active} == views
        self.last_device_event = None

    @precondition(lambda self: self.last_time is not None)
    @rule(when=st.one_of(st.sampled_from([float("nan"), float("inf"), -float("inf"), None, "10", True]), huge_ints))
    def the_host_s_clock_goes_wrong(self, when: Any) -> None:
        """The host wakes the core with garbage for a time: refused as handle refuses it, nothing fires."""
        deadline = self.core.next_deadline()
        before = self.core.audit.count
        answer = self.core.on_timer(when)
        assert [type(c) for c in answer] == [RefuseEvent]
        assert self.core.audit.count == before + 1 and not self.core.audit.records[-1].accepted
        assert self.core.next_deadline() == deadline
        self.timer_records += 1
        self.last_device_event = None

    @rule(seconds=st.sampled_from([5.0, 60.0, 600.0, 3_600.0, 9 * 3_600.0]))
    def time_passes(self, seconds: float) -> None:
        self.now += seconds
        self.last_device_event = None

    @rule()
    def timers_fire(self) -> None:
        due = self.core.next_deadline()
        if due is not None:
            self.now = max(self.now, due)
        before = self.core.audit.count
        answer = self.core.on_timer(self.now)
        self.last_time = self.now
        actions = [c for c in answer if isinstance(c, TIMER_ACTIONS)]
        assert self.core.audit.count - before == len(actions)
        assert all(r.actor == "core" for r in self.core.audit.records[before:])
        self.timer_records += len(actions)
        for command in answer:
            if isinstance(command, ManualReview):
                self.reviews.append(command.review_id)
        if due is not None:
            assert self.core.next_deadline() is None or self.core.next_deadline() > self.now  # type: ignore[operator]
        self.last_device_event = None

    @rule()
    def called_vehicles_stay_away(self) -> None:
        """The vehicles called forward do not come: the clock runs past their limit twice (the
        first run only learns that those sent before them have gone) and the timers fire."""
        for _ in range(2):
            self.now += CONFIG.timeouts.call_forward_s
            self.timers_fire()

    # ------------------------------------------------------------------ the end of the day

    def teardown(self) -> None:
        """Whatever came before, once everyone does the right thing every open visit ends: no
        sequence leaves a vehicle stuck for good (at a barrier that will never open, on a list
        nobody will work, behind a slot never freed, even one a refused vehicle filled until it
        was seen out of the yard). Devices are repaired first; a run whose roles were changed is
        left out, as a gate without its officers cannot clear anyone."""
        core = getattr(self, "core", None)
        if core is None or core.accounts != self.accounts_at_start:
            return
        for device in sorted(core.faulted):
            self.send(DeviceRecovered(device))
        idle = 0
        for _ in range(400):
            if not core.active:
                break
            moved = False
            for plate in sorted(core.yard.refused_inside):  # refused vehicles are seen out of the yard
                self.send(PlateRead("cam-yard-out", plate, 0.99))
                moved = True
            for visit_id in sorted(core.active):
                visit = core.active.get(visit_id)
                step = obedient_step(core, visit) if visit is not None else None
                if step is not None:
                    self.send(step)
                    moved = moved or core.audit.records[-1].accepted
            self.check_the_books()
            if not moved:
                idle += 1
                if idle > 3:
                    break
                self.now += 3_600.0  # an hour on: offices open, timers fire, the yard moves
                self.timer_records += sum(isinstance(c, TIMER_ACTIONS) for c in core.on_timer(self.now))
        stuck = {vid: (v.location.value, [k.value for k in v.pending()],
                       {k.value: c.status.value for k, c in v.clearances.items()},
                       dict(exit_device=v.exit_device, exit_granted=v.exit_granted, last_site=v.last_site,
                            in_yard=v.in_yard, reserved=v.reserved_slot, awaiting=v.awaiting_amendment,
                            handed=v.handed_over, mode=v.crossing_mode.value))
                 for vid, v in core.active.items()}
        assert not stuck, f"visits left stuck with everyone doing the right thing: {stuck}"

    # ------------------------------------------------------------------ the books

    @invariant()
    def the_books_balance(self) -> None:
        self.check_the_books()

    def check_the_books(self) -> None:
        """Every check below, after every step (the multi-event flow rule calls it after each event)."""
        self.the_core_s_own_books_balance()
        self.barriers_open_only_for_cleared_vehicles()
        self.no_visit_is_lost_or_doubled()
        self.yard_slots_stay_within_bounds()
        self.lanes_staging_and_corridor_agree_with_the_visits()
        self.work_lists_and_deadlines_refer_to_open_work()
        self.the_audit_chain_is_whole()
        self.open_visits_carry_identifiers_of_one_spelling()

    def barriers_open_only_for_cleared_vehicles(self) -> None:
        passed = ClearanceStatus.PASSED
        for visit in self.core.active.values():
            if visit.entry_granted:
                assert all(visit.passed(k) for k in (ClearanceKind.MEDICAL, ClearanceKind.BORDER_GUARD_ENTRY))
                assert visit.reserved_slot or visit.in_yard or visit.location not in (Location.ENTRY_LANE,)
            if visit.exit_granted:
                assert all(c.status is passed for c in visit.clearances.values()), visit.visit_id
                assert not visit.awaiting_amendment
        for visit in self.core.archive.values():
            if visit.location is Location.DEPARTED:
                assert all(c.status is passed for c in visit.clearances.values()), visit.visit_id

    def the_core_s_own_books_balance(self) -> None:
        assert self.core.check_invariants() == []

    def no_visit_is_lost_or_doubled(self) -> None:
        core = self.core
        for visit_id in self.declared:
            assert (visit_id in core.active) != (visit_id in core.archive), visit_id
        assert set(core.active) | set(core.archive) == self.declared
        assert sum(core.location_counts.values()) == len(core.active) == core.open_visits()
        for visit in core.active.values():
            assert visit.location not in (Location.DEPARTED, Location.REFUSED)

    def yard_slots_stay_within_bounds(self) -> None:
        yard = self.core.yard
        for vehicle_class, capacity in yard.capacity.items():
            occupied, reserved = yard.occupied[vehicle_class], yard.reserved[vehicle_class]
            assert occupied >= 0 and reserved >= 0
            if capacity is None:
                continue
            if reserved > self.reserved_before[vehicle_class]:
                assert occupied + reserved <= capacity, f"{vehicle_class.value}: a slot was handed out beyond capacity"
            assert occupied + reserved <= capacity + self.core.stats["yard_overflows"]
        in_yard = sum(1 for v in self.core.active.values() if v.in_yard) + len(yard.refused_inside)
        held = sum(1 for v in self.core.active.values() if v.reserved_slot)
        assert sum(yard.occupied.values()) == in_yard and sum(yard.reserved.values()) == held
        self.reserved_before = dict(yard.reserved)

    def lanes_staging_and_corridor_agree_with_the_visits(self) -> None:
        core = self.core
        assert all(load >= 0 for load in core.lane_load.values())
        assert sum(core.lane_load.values()) == sum(1 for v in core.active.values() if v.lane_held)
        staging = core.staging
        assert all(0 <= staging.area_count[a] <= cap for a, cap in staging.area_capacity.items())
        assert sum(staging.class_count.values()) == sum(1 for v in staging if staging.is_ready(v)) >= 0
        corridor = core.corridor
        assert all(v.km_to_gate is None for v in core.archive.values())
        near = sum(1 for v in core.active.values()
                   if v.km_to_gate is not None and v.km_to_gate <= corridor.config.horizon_km)
        assert corridor.within_horizon == near
        assert 0.0 <= core.congestion_risk <= 1.0

    def work_lists_and_deadlines_refer_to_open_work(self) -> None:
        core = self.core
        for role in Role:
            for item in core.work_list(role):
                visit = core.active[item.visit_id]
                assert visit.clearances[item.clearance].status is ClearanceStatus.ASSIGNED
        for _, kind, key in core.deadlines.pending():
            if kind == "sla":
                visit_id, clearance = cast("tuple[str, ClearanceKind]", key)
                assert core.active[visit_id].clearances[clearance].status is ClearanceStatus.ASSIGNED
            elif kind == "payment":
                assert core.active[str(key)].clearances[ClearanceKind.FEE].status is ClearanceStatus.PENDING_CONFIRMATION

    def open_visits_carry_identifiers_of_one_spelling(self) -> None:
        """Plates and tax codes in ASCII digits and the plate normal form: one truck, one company, one key."""
        for visit in self.core.active.values():
            declarant = visit.declaration.declarant_id
            assert normalize_plate(visit.plate) == visit.plate and plate_problem(visit.plate) is None, visit.plate
            assert all(c in "0123456789" for c in visit.plate + declarant if c.isdigit()), (visit.plate, declarant)

    def the_audit_chain_is_whole(self) -> None:
        audit = self.core.audit
        assert audit.verify() is None
        assert audit.count == self.handled + self.timer_records + self.position_refusals
        assert self.core.stats["events"] == self.handled


GateUnderFire.TestCase.settings = settings(
    max_examples=200,
    stateful_step_count=100,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
test_the_core_keeps_its_books_whatever_it_is_sent = GateUnderFire.TestCase
