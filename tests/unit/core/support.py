"""Test support for the clearance core: declarations, gate layouts, and a driver for GateCore.

``GateRun`` drives a real ``GateCore`` with real events on a clock of its own, the way a shell
would, and keeps every command the core answered. Its helpers walk a vehicle through the Lang Son
flow step by step (staging, barrier 1, scale, scanner, yard, barrier 2), each step one event, so a
test can stop anywhere and look.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from gate.commands import AcceptDeclaration, Command, ManualReview, RefuseEvent, TrafficAdvice
from gate.config import DeviceSpec, GateConfig, RiskConfig, TrafficConfig, YardConfig
from gate.core import GateCore
from gate.enums import (
    CLEARANCE_ROLE,
    Channel,
    ClearanceKind,
    ClearanceStatus,
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
    ClearanceDecided,
    DeclarationSubmitted,
    Event,
    FeePaid,
    PlateRead,
    ScanCompleted,
    VehiclePassed,
    WeightMeasured,
)
from gate.identifiers import iso6346_check_digit
from gate.visit import VisitView

C = TypeVar("C")

DECLARANT = "trader-1"

#: The account each role decides with, from the default accounts of ``GateConfig``.
OFFICER: dict[Role, str] = {
    Role.MEDICAL: "medical-1",
    Role.BORDER_GUARD: "guard-1",
    Role.HEALTH_QUARANTINE: "health-q-1",
    Role.ANIMAL_QUARANTINE: "animal-q-1",
    Role.PLANT_QUARANTINE: "plant-q-1",
    Role.CUSTOMS: "customs-1",
    Role.FEE_COLLECTOR: "fees-1",
    Role.YARD_OPERATOR: "yard-1",
    Role.OPERATION_CENTRE: "ops-1",
    Role.TRAFFIC_POLICE: "police-1",
    Role.ADMIN: "admin",
}

#: Clearances a vehicle settles before barrier 1, and the one at barrier 2.
ENTRY = (ClearanceKind.MEDICAL, ClearanceKind.BORDER_GUARD_ENTRY)
EXIT = ClearanceKind.BORDER_GUARD_EXIT

AGV_DEVICES = (
    DeviceSpec(device_id="agv-fleet", kind=DeviceKind.AGV_FLEET, site=Site.AGV_LANE),
    DeviceSpec(device_id="partner-link", kind=DeviceKind.PARTNER_LINK, site=Site.PARTNER),
)


def plate(n: int) -> str:
    """The n-th distinct Vietnamese truck plate (Lang Son series 12C)."""
    return f"12C-{n // 100 % 1000:03d}.{n % 100:02d}"


def container_no(serial: int, owner: str = "MSK") -> str:
    """A valid ISO 6346 container number with the given 6-digit serial."""
    first_ten = f"{owner}U{serial:06d}"
    return first_ten + str(iso6346_check_digit(first_ten))


def goods(category: str = "general", **overrides: Any) -> dict[str, Any]:
    """One goods line as raw data; the HS code fits the category."""
    hs = {"general": "8471", "ore": "2601", "plants_fruit": "0810.90", "live_animals": "0102",
          "animal_products": "0202", "foodstuff": "1905"}[category]
    line: dict[str, Any] = {
        "hs_code": hs, "description": f"{category} goods", "quantity": 100, "gross_kg": 5_000,
        "value_usd": 9_000, "origin": "CN", "category": category,
    }
    line.update(overrides)
    return line


def declaration(declaration_id: str = "DEC-0001", vehicle_plate: str = "12C-000.01", **overrides: Any) -> dict[str, Any]:
    """A valid declaration as raw data: a rigid truck of general goods, 20 t gross, imported from China."""
    data: dict[str, Any] = {
        "declaration_id": declaration_id,
        "declarant_id": "0101234567",
        "declarant_name": "Lang Son Trading JSC",
        "direction": "import",
        "vehicle_plate": vehicle_plate,
        "vehicle_class": "truck",
        "driver": {"name": "Nguyen Van An", "id_number": "001085012345", "nationality": "VN"},
        "goods": [goods()],
        "declared_gross_kg": 20_000,
    }
    data.update(overrides)
    return data


def container_declaration(declaration_id: str, vehicle_plate: str, containers: int = 1, **overrides: Any) -> dict[str, Any]:
    """A container vehicle with ``containers`` 40 ft containers of general goods. Their serials
    follow the vehicle (a container is on one truck at a time): 100, 101, ... for 12C-000.01,
    1100, ... for 12C-000.02, and so on."""
    vehicle = int("".join(ch for ch in vehicle_plate.split("-")[-1] if ch.isdigit()) or "1")
    boxes = [{"number": container_no((100 + 1000 * (vehicle - 1) + i) % 1_000_000), "size_ft": 40}
             for i in range(containers)]
    fields: dict[str, Any] = {"vehicle_class": "container", "containers": boxes, "declared_gross_kg": 30_000}
    fields.update(overrides)
    return declaration(declaration_id, vehicle_plate, **fields)


def risk_for(channel: Channel, rules: bool = False) -> RiskConfig:
    """Selectivity that sends every declaration to ``channel`` (trusted or not), with or without rules."""
    yellow = 1.0 if channel is Channel.YELLOW else 0.0
    red = 1.0 if channel is Channel.RED else 0.0
    extra: dict[str, Any] = {} if rules else {"rules": ()}
    return RiskConfig(expected_yellow=yellow, expected_red=red, min_random_yellow=yellow, min_random_red=red, **extra)


def gate_config(channel: Channel = Channel.GREEN, *, agv: bool = False, yard: dict[VehicleClass, int] | None = None,
                staging: dict[str, int] | None = None, perishable_priority: bool = True,
                call_when_checked: bool = True, rules: bool = False, devices: Iterable[DeviceSpec] | None = None, **overrides: Any) -> GateConfig:
    """The default phase-2 gate with every declaration in ``channel``; options change one thing each."""
    fields: dict[str, Any] = {"risk": risk_for(channel, rules)}
    device_list = tuple(devices) if devices is not None else GateConfig().devices
    if agv:
        device_list += AGV_DEVICES
    fields["devices"] = device_list
    if yard is not None or staging is not None or not perishable_priority or not call_when_checked:
        yard_fields: dict[str, Any] = {"perishable_priority": perishable_priority,
                                       "call_when_checked": call_when_checked}
        if yard is not None:
            yard_fields["capacity"] = yard
        if staging is not None:
            yard_fields["staging_areas"] = staging
        fields["yard"] = YardConfig(**yard_fields)
    fields.update(overrides)
    return GateConfig(**fields)


def of_type(commands: Iterable[Command], kind: type[C]) -> list[C]:
    """The commands of one type, in order."""
    return [c for c in commands if isinstance(c, kind)]


def only(commands: Iterable[Command], kind: type[C]) -> C:
    """The one command of a type; fails the test if there is not exactly one."""
    found = of_type(commands, kind)
    assert len(found) == 1, f"expected one {kind.__name__}, got {found}"
    return found[0]


class GateRun:
    """A GateCore driven by real events on a clock that moves one second per event unless told."""

    def __init__(self, config: GateConfig | None = None) -> None:
        self.core = GateCore(config if config is not None else gate_config())
        self.now = 0.0
        self.sent: list[tuple[float, Event]] = []
        self.answers: list[list[Command]] = []

    # ------------------------------------------------------------------ raw events and time

    def send(self, event: Any, after: float = 1.0) -> list[Command]:
        """Hand ``event`` to the core ``after`` seconds from the last one; return its commands."""
        self.now += after
        self.sent.append((self.now, event))
        commands = self.core.handle(event, self.now)
        self.answers.append(list(commands))  # a copy: the step helpers extend what they return
        return commands

    def wake(self, at: float) -> list[Command]:
        """Move the clock to ``at`` and call ``on_timer``."""
        self.now = max(self.now, at)
        return self.core.on_timer(self.now)

    def refused(self, commands: list[Command]) -> RefuseEvent:
        """The refusal among ``commands``; also checks the audit recorded it."""
        refusal = only(commands, RefuseEvent)
        last = self.core.audit.records[-1]
        assert not last.accepted and last.reason == refusal.reason
        return refusal

    # ------------------------------------------------------------------ people

    def declare(self, declaration_id: str = "DEC-0001", vehicle_plate: str = "12C-000.01", account: str = DECLARANT,
                data: dict[str, Any] | None = None, **overrides: Any) -> str:
        """Submit a declaration (``data`` as given, else ``declaration(...)``); return its visit id."""
        payload = data if data is not None else declaration(declaration_id, vehicle_plate, **overrides)
        commands = self.send(DeclarationSubmitted(account, payload))
        accepted = only(commands, AcceptDeclaration)
        return accepted.visit_id

    def decide(self, visit_id: str, kind: ClearanceKind, outcome: Outcome = Outcome.PASSED,
               account: str | None = None, reasons: tuple[str, ...] = ()) -> list[Command]:
        """An officer of the clearance's role decides it."""
        who = account if account is not None else OFFICER[CLEARANCE_ROLE[kind]]
        return self.send(ClearanceDecided(who, visit_id, kind, outcome, reasons))

    def pay(self, visit_id: str, amount: int | None = None, method: PaymentMethod = PaymentMethod.DIRECT,
            account: str = "fees-1", reference: str = "PAY-1") -> list[Command]:
        """Pay what is still due (or ``amount``) at the counter, or online."""
        view = self.view(visit_id)
        due = amount if amount is not None else view.fee_vnd - view.fee_paid_vnd
        return self.send(FeePaid(account, visit_id, due, method, reference))

    # ------------------------------------------------------------------ devices

    def read(self, camera: str, vehicle_plate: str | None, confidence: float = 0.99) -> list[Command]:
        return self.send(PlateRead(camera, vehicle_plate, confidence))

    def weigh(self, visit_id: str, gross_kg: float | None = None, scale: str = "scale-1") -> list[Command]:
        """The scale reports the vehicle's weight: the declared gross unless told otherwise."""
        visit = self.core.active[visit_id]
        kg = gross_kg if gross_kg is not None else visit.declaration.declared_gross_kg
        return self.send(WeightMeasured(scale, visit.plate, kg))

    def scan(self, visit_id: str, result: ScanResult = ScanResult.CLEAR, scanner: str = "scanner-1") -> list[Command]:
        return self.send(ScanCompleted(scanner, self.plate_of(visit_id), result))

    def pass_barrier(self, barrier: str, visit_id: str) -> list[Command]:
        return self.send(VehiclePassed(barrier, self.plate_of(visit_id)))

    # ------------------------------------------------------------------ the flow, step by step

    def arrive_at_staging(self, visit_id: str, checked: bool = True) -> list[Command]:
        """Read at the staging camera, then (``checked``) the medical check made there passes, so
        the vehicle may be called forward; returns all their commands."""
        out = self.read("cam-staging", self.plate_of(visit_id))
        if checked:
            medical = self.view(visit_id).clearance(ClearanceKind.MEDICAL)
            if medical is not None and medical.status is ClearanceStatus.ASSIGNED:
                out += self.decide(visit_id, ClearanceKind.MEDICAL)
        return out

    def arrive_at_barrier_1(self, visit_id: str) -> list[Command]:
        return self.read("cam-in-1", self.plate_of(visit_id))

    def pass_entry_checks(self, visit_id: str) -> list[Command]:
        """Medical and border guard pass whatever of them is still open; returns all their commands."""
        out: list[Command] = []
        for kind in ENTRY:
            c = self.view(visit_id).clearance(kind)
            if c is not None and c.status is ClearanceStatus.ASSIGNED:
                out += self.decide(visit_id, kind)
        return out

    def enter(self, visit_id: str) -> list[Command]:
        """From outside or staging: barrier 1, the entry checks, and through the barrier."""
        out = self.arrive_at_barrier_1(visit_id)
        out += self.pass_entry_checks(visit_id)
        assert self.core.active[visit_id].entry_granted, f"{visit_id} was not let in: {out}"
        out += self.pass_barrier("barrier-in-1", visit_id)
        return out

    def to_yard(self, visit_id: str, scan: ScanResult | None = None) -> list[Command]:
        """From outside to the yard: enter, be weighed, be scanned if told, read at the yard gate."""
        out = self.enter(visit_id)
        out += self.weigh(visit_id)
        if scan is not None:
            out += self.scan(visit_id, scan)
        out += self.read("cam-yard-in", self.plate_of(visit_id))
        return out

    def to_barrier_2(self, visit_id: str) -> list[Command]:
        """Out of the yard gate and up to barrier 2: what the core answers the read there."""
        self.read("cam-yard-out", self.plate_of(visit_id))
        return self.read("cam-out-1", self.plate_of(visit_id))

    def clear_goods(self, visit_id: str) -> list[Command]:
        """Every assigned clearance but the exit check passes, and the fee is paid at the counter."""
        out: list[Command] = []
        for c in self.view(visit_id).clearances:
            if c.kind is not EXIT and c.status is ClearanceStatus.ASSIGNED:
                out += self.decide(visit_id, c.kind)
        fee = self.view(visit_id).clearance(ClearanceKind.FEE)
        if fee is not None and fee.status is ClearanceStatus.REQUIRED:
            out += self.pay(visit_id)
        return out

    def leave(self, visit_id: str) -> list[Command]:
        """From the yard, cleared: yard gate out, barrier 2, the exit check, through the barrier."""
        out = self.read("cam-yard-out", self.plate_of(visit_id))
        out += self.read("cam-out-1", self.plate_of(visit_id))
        out += self.decide(visit_id, EXIT)
        out += self.pass_barrier("barrier-out-1", visit_id)
        return out

    def exit_opened(self, visit_id: str) -> list[Command]:
        """From outside: into the yard, cleared, up to barrier 2, and its exit check passed, so
        that barrier 2 is open for the vehicle; returns the exit check's commands."""
        self.to_yard(visit_id)
        self.clear_goods(visit_id)
        self.to_barrier_2(visit_id)
        return self.decide(visit_id, EXIT)

    def through(self, visit_id: str, scan: ScanResult | None = None) -> list[Command]:
        """The whole visit of a vehicle whose every check passes."""
        out = self.to_yard(visit_id, scan)
        out += self.clear_goods(visit_id)
        out += self.leave(visit_id)
        return out

    # ------------------------------------------------------------------ looking

    def view(self, visit_id: str) -> VisitView:
        view = self.core.visit(visit_id)
        assert view is not None, f"no visit {visit_id}"
        return view

    def location(self, visit_id: str) -> Location:
        return self.view(visit_id).location

    def status(self, visit_id: str, kind: ClearanceKind) -> ClearanceStatus | None:
        c = self.view(visit_id).clearance(kind)
        return None if c is None else c.status

    def plate_of(self, visit_id: str) -> str:
        return self.view(visit_id).plate

    def reviews(self) -> list[ManualReview]:
        """Every manual review the core raised so far."""
        return [c for answer in self.answers for c in answer if isinstance(c, ManualReview)]

    def all_commands(self) -> list[Command]:
        return [c for answer in self.answers for c in answer]



#: The gate clears 10 trucks an hour: 8 trucks near the gate are a risk of 0.8.
SLOW_GATE = TrafficConfig(gate_capacity_per_h=10.0, horizon_km=20.0, hold_above=0.8, release_below=0.6)


def ten_on_the_way() -> GateRun:
    """The slow gate with ten vehicles declared (``DEC-0001`` .. ``DEC-0010``), none arrived yet."""
    gate = GateRun(gate_config(traffic=SLOW_GATE))
    for n in range(1, 11):
        gate.declare(f"DEC-{n:04d}", plate(n))
    return gate


def general_advice(commands: list[Command]) -> list[TrafficAdvice]:
    """Advice to traffic police about the approach as a whole (not about one vehicle)."""
    return [c for c in commands if isinstance(c, TrafficAdvice) and c.visit_id is None]
