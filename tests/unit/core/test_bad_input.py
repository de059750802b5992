"""Garbage in: whatever a device or a person sends, the core refuses it explicitly and never raises."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

import pytest

from gate.commands import RefuseEvent, RejectDeclaration
from gate.enums import Channel, ClearanceKind, Outcome, PaymentMethod, Role, ScanResult
from gate.events import (
    AgvFaulted,
    ClearanceDecided,
    ContainerHandedOver,
    DeclarationAmended,
    DeclarationSubmitted,
    DeviceFaulted,
    FeePaid,
    GpsPing,
    ManualPlateEntered,
    PlateRead,
    PositionsReported,
    RoleGranted,
    ScanCompleted,
    StagingReleaseOrdered,
    WeightMeasured,
)
from gate.validation import _CHECKS
from tests.unit.core.support import GateRun, container_declaration, declaration, only

PLATE = "12C-000.01"
HUGE = "x" * 1_000_000
NAN = float("nan")
INF = float("inf")


@dataclass(frozen=True)
class Rumour:
    """An event class the core has never heard of."""

    device_id: str = "cam-in-1"


GARBAGE: list[tuple[Any, str]] = [
    (PlateRead("cam-in-1", 12345, 0.9), "plate: must be a plate string"),  # type: ignore[arg-type]
    (PlateRead("cam-in-1", PLATE, NAN), "confidence: must be a finite number"),
    (PlateRead("cam-in-1", PLATE, 1.5), "confidence: must be between 0 and 1"),
    (PlateRead("cam-in-1", PLATE, True), "confidence: must be a finite number"),
    (PlateRead("cam-in-1", HUGE, 0.9), "plate: must be a plate string of 1-20 characters"),
    (PlateRead(None, PLATE, 0.9), "device_id: must be a non-empty string"),  # type: ignore[arg-type]
    (PlateRead("", PLATE, 0.9), "device_id: must be a non-empty string"),
    (PlateRead(HUGE, PLATE, 0.9), "device_id: must be a non-empty string of at most 128 characters"),
    (WeightMeasured("scale-1", PLATE, INF), "gross_kg: must be a finite number"),
    (WeightMeasured("scale-1", PLATE, "20000"), "gross_kg: must be a finite number"),  # type: ignore[arg-type]
    (WeightMeasured("scale-1", None, 20_000.0), "plate: must be a plate string"),  # type: ignore[arg-type]
    (WeightMeasured("scale-1", PLATE, 20_000.0, stable="yes"), "stable: must be true or false"),  # type: ignore[arg-type]
    (WeightMeasured("scale-1", PLATE, -1.0), "gross_kg: must be between 0 and 1e+06"),
    (ScanCompleted("scanner-1", PLATE, "clear"), "result: must be a ScanResult"),  # type: ignore[arg-type]
    (ScanCompleted("scanner-1", PLATE, ScanResult.CLEAR, image_ref=HUGE), "image_ref: must be a string"),
    (ClearanceDecided("guard-1", "DEC-0001", "medical", Outcome.PASSED),  # type: ignore[arg-type]
     "clearance: must be a ClearanceKind"),
    (ClearanceDecided("guard-1", "DEC-0001", ClearanceKind.MEDICAL, None), "outcome: must be a Outcome"),  # type: ignore[arg-type]
    (ClearanceDecided("medical-1", "DEC-0001", ClearanceKind.MEDICAL, Outcome.PASSED, ["ok"]),  # type: ignore[arg-type]
     "reasons: must be a tuple of plain strings"),
    (ClearanceDecided("medical-1", "DEC-0001", ClearanceKind.MEDICAL, Outcome.PASSED, (HUGE,)),
     "reasons: must be a tuple of plain strings"),
    (ClearanceDecided("medical-1", None, ClearanceKind.MEDICAL, Outcome.PASSED), "visit_id"),  # type: ignore[arg-type]
    (FeePaid("fees-1", "DEC-0001", 0, PaymentMethod.DIRECT, "P"), "amount_vnd: must be between 1 and"),
    (FeePaid("fees-1", "DEC-0001", -500, PaymentMethod.DIRECT, "P"), "amount_vnd: must be between 1 and"),
    (FeePaid("fees-1", "DEC-0001", 1.5, PaymentMethod.DIRECT, "P"), "amount_vnd: must be a whole number"),  # type: ignore[arg-type]
    (FeePaid("fees-1", "DEC-0001", True, PaymentMethod.DIRECT, "P"), "amount_vnd: must be a whole number"),
    (FeePaid("fees-1", "DEC-0001", 10**40, PaymentMethod.DIRECT, "P"), "amount_vnd: must be between 1 and"),
    (FeePaid("fees-1", "DEC-0001", 500_000, "online", "P"), "method: must be a PaymentMethod"),  # type: ignore[arg-type]
    (GpsPing("app-1", PLATE, NAN, 40.0), "km_to_gate: must be a finite number"),
    # whole numbers beyond a float's range: as unusable as inf
    (PlateRead("cam-in-1", PLATE, 10**400), "confidence: must be a finite number"),
    (WeightMeasured("scale-1", PLATE, -10**400), "gross_kg: must be a finite number"),
    (GpsPing("app-1", PLATE, 10**400, 40.0), "km_to_gate: must be a finite number"),
    (GpsPing("app-1", PLATE, 10.0, 10**5000), "speed_kmh: must be a finite number"),
    (GpsPing("app-1", PLATE, 10.0, -3.0), "speed_kmh: must be between 0 and 200"),
    (DeviceFaulted("scanner-1", reason=HUGE), "reason: must be a string of at most 2000 characters"),
    (StagingReleaseOrdered("police-1", "staging-1", 0), "count: must be between 1 and 10000"),
    (RoleGranted("admin", "guard-2", "admin"), "role: must be a Role"),  # type: ignore[arg-type]
    (ManualPlateEntered("guard-1", "R1", "1" * 21), "plate: must be a plate string of 1-20 characters"),
    (ContainerHandedOver("yard-1", "DEC-0001", ""), "container_no: must be a non-empty string"),
    (AgvFaulted("agv-fleet", 7, "x"), "mission_id: must be a non-empty string"),  # type: ignore[arg-type]
    (DeclarationSubmitted(None, declaration()), "account_id: must be a non-empty string"),  # type: ignore[arg-type]
    (DeclarationSubmitted("trader-1", None), "declaration: must be a declaration or a mapping"),  # type: ignore[arg-type]
    (DeclarationAmended("trader-1", "DEC-0001", 42), "declaration: must be a declaration or a mapping"),  # type: ignore[arg-type]
    (Rumour(), "unknown event type Rumour"),
    (None, "unknown event type NoneType"),
    ({"device_id": "cam-in-1", "plate": PLATE, "confidence": 0.9}, "unknown event type dict"),
    ("PlateRead(cam-in-1)", "unknown event type str"),
]


@pytest.fixture
def run() -> GateRun:
    gate = GateRun()
    visit = gate.declare()
    gate.arrive_at_barrier_1(visit)
    return gate


@pytest.mark.parametrize(("event", "why"), GARBAGE, ids=[f"{i}-{type(e).__name__}" for i, (e, _) in enumerate(GARBAGE)])
def test_a_garbage_event_is_refused_with_its_reason_and_changes_nothing(run: GateRun, event: Any, why: str) -> None:
    before = run.view("DEC-0001")
    reviews, records = len(run.core.open_reviews()), run.core.audit.count
    answer = run.send(event)
    refusal = only(answer, RefuseEvent)
    assert answer == [refusal]
    assert why in refusal.reason
    assert len(refusal.reason) < 300  # a huge value is never echoed back
    assert run.core.audit.count == records + 1 and not run.core.audit.records[-1].accepted
    assert run.view("DEC-0001") == before
    assert len(run.core.open_reviews()) == reviews
    assert run.core.check_invariants() == [] and run.core.audit.verify() is None


def test_the_sender_of_a_garbled_event_is_named_as_well_as_it_can_be(run: GateRun) -> None:
    assert run.refused(run.send(PlateRead(None, PLATE, 0.9))).sender == "<unidentified PlateRead>"  # type: ignore[arg-type]
    assert run.refused(run.send(PlateRead(HUGE, PLATE, 0.9))).sender == HUGE[:128]
    assert run.refused(run.send(None)).sender == "<unidentified NoneType>"


@pytest.mark.parametrize("payload", [
    {},
    {"declaration_id": HUGE},
    {"declaration_id": "DEC-0002", "goods": [{"hs_code": None}] * 3, "driver": "me"},
    {"declaration_id": ["DEC"], "vehicle_plate": 12, "declared_gross_kg": NAN, "arrival_to": -INF},
    {"declaration_id": "DEC-0002", "unknown_field": 1},
    pytest.param({"declaration_id": "DEC-0002", "declared_gross_kg": 10**5000}, id="int-of-5000-digits"),
])
def test_a_garbage_declaration_is_rejected_with_field_errors(run: GateRun, payload: dict[str, Any]) -> None:
    answer = run.send(DeclarationSubmitted("trader-1", payload))
    rejection = only(answer, RejectDeclaration)
    assert rejection.errors and all(e.path and e.message for e in rejection.errors)
    assert rejection.declaration_id in (None, "DEC-0002")
    assert run.core.audit.records[-1].visit_id in (None, "DEC-0002")
    assert all(len(str(e)) < 300 for e in rejection.errors)
    assert run.core.open_visits() == 1


def test_a_deeply_nested_declaration_is_rejected_not_crashed_on(run: GateRun) -> None:
    nested: Any = "x"
    for _ in range(5_000):
        nested = [nested]
    answer = run.send(DeclarationSubmitted("trader-1", declaration("DEC-0002", "12C-000.02", goods=nested)))
    assert only(answer, RejectDeclaration).errors


@pytest.mark.parametrize("now", [
    float("nan"), float("inf"), -float("inf"), "20", None, True, 10**400,
    pytest.param(10**5000, id="int-of-5000-digits"), [1.0], -100.0, -1, -5e-324,
])
def test_a_time_that_is_no_finite_non_negative_number_is_refused(now: Any) -> None:
    run = GateRun()
    answer = run.core.handle(PlateRead("cam-in-1", PLATE, 0.9), now)
    refusal = only(answer, RefuseEvent)
    assert refusal.reason.startswith("time must be a finite, non-negative number of seconds (got ")
    assert run.core.audit.records[-1].time == 0.0


def test_after_a_refusal_stamped_before_any_valid_time_the_audit_clock_still_never_runs_backwards() -> None:
    run = GateRun()
    run.core.handle(PlateRead("cam-in-1", PLATE, 0.9), float("nan"))  # audited at 0
    run.core.handle(PlateRead("cam-in-1", PLATE, 0.9), -100.0)  # a negative time is no valid time either
    run.core.handle(DeclarationSubmitted("trader-1", declaration()), 0.0)
    times = [record.time for record in run.core.audit.records]
    assert times == [0.0, 0.0, 0.0] and run.core.audit.verify() is None


def test_time_going_backwards_is_refused_and_the_audit_clock_never_runs_backwards() -> None:
    run = GateRun()
    run.declare()
    assert run.core.handle(PlateRead("cam-staging", PLATE, 0.99), 100.0)
    answer = run.core.handle(PlateRead("cam-in-1", PLATE, 0.99), 99.5)
    assert only(answer, RefuseEvent).reason == "time went backwards: 99.5 after 100"
    assert run.location("DEC-0001").value == "staging"
    assert run.core.audit.records[-1].time == 100.0
    # the same instant again is fine: several events can happen at once
    run.core.handle(PlateRead("cam-in-1", PLATE, 0.99), 100.0)
    assert run.location("DEC-0001").value == "entry_lane"


def test_integer_and_numpy_like_times_are_accepted() -> None:
    run = GateRun()

    class Seconds(float):
        """A float subclass, as some clocks return."""

    run.core.handle(DeclarationSubmitted("trader-1", declaration()), 5)
    run.core.handle(PlateRead("cam-staging", PLATE, 0.99), Seconds(6.5))
    assert [r.time for r in run.core.audit.records] == [5.0, 6.5]
    assert all(type(r.time) is float for r in run.core.audit.records)


def test_an_event_naming_a_role_it_has_not_got_is_refused_not_raised(run: GateRun) -> None:
    for role in Role:
        answer = run.send(ClearanceDecided("nobody", "DEC-0001", ClearanceKind.MEDICAL, Outcome.PASSED))
        assert isinstance(answer[0], RefuseEvent), role


class Named(str, Enum):
    """Ids as a driver adapter might name its devices and accounts: equal to their values, printed otherwise."""

    TELEMATICS = "telematics"
    ACCOUNT = "acct-1"


#: Values that pass each kind of rule, to build an otherwise well-formed event of any type.
_WELL_FORMED_VALUES: tuple[Any, ...] = ("acct-1", 0.5, 5, True, (), {}, ClearanceKind.MEDICAL, Outcome.PASSED,
                                        PaymentMethod.DIRECT, Role.CUSTOMS, ScanResult.CLEAR, Channel.RED)
#: Every field of every event that takes text.
TEXT_FIELDS = [(cls, name) for cls, checks in _CHECKS.items() for name, check in checks if check("acct-1") is None]


@pytest.mark.parametrize(("cls", "field"), TEXT_FIELDS, ids=[f"{cls.__name__}.{name}" for cls, name in TEXT_FIELDS])
def test_a_str_subclass_in_any_text_field_is_refused_as_no_plain_string(cls: type, field: str) -> None:
    run = GateRun()
    fields = {name: next(v for v in _WELL_FORMED_VALUES if check(v) is None) for name, check in _CHECKS[cls]}
    answer = run.send(cls(**{**fields, field: Named.ACCOUNT}))
    refusal = only(answer, RefuseEvent)
    assert answer == [refusal]
    assert refusal.reason == f"malformed {cls.__name__}: {field}: must be a plain string, not Named"
    assert type(refusal.sender) is str and type(run.core.audit.records[-1].actor) is str
    assert run.core.audit.verify() is None


def test_a_str_subclass_among_the_reasons_of_a_decision_is_refused() -> None:
    run = GateRun()
    visit = run.declare()
    refusal = run.refused(run.send(ClearanceDecided("customs-1", visit, ClearanceKind.CUSTOMS_DOCUMENTS,
                                                    Outcome.RETURNED, ("wrong HS", Named.ACCOUNT))))
    assert refusal.reason == "malformed ClearanceDecided: reasons: must be a tuple of plain strings " \
                             "(at most 50, each at most 2000 characters)"


def test_a_sender_named_by_a_str_enum_is_refused_and_every_core_s_audit_still_verifies() -> None:
    first = GateRun()
    refusal = first.refused(first.send(PositionsReported(Named.TELEMATICS, (("99C-999.99", 5.0, 40.0),))))  # type: ignore[arg-type]
    assert refusal.sender == "telematics" and type(refusal.sender) is str
    second = GateRun()  # another core in the same process, sending the plain id
    second.send(PositionsReported("telematics", ()))
    assert first.core.audit.verify() is None and second.core.audit.verify() is None


def test_a_rejected_declaration_whose_id_is_a_str_subclass_is_answered_under_the_plain_id() -> None:
    run = GateRun()
    answer = run.send(DeclarationSubmitted("trader-1", declaration(Named.ACCOUNT, declared_gross_kg=-1)))
    rejection = only(answer, RejectDeclaration)
    assert type(rejection.declaration_id) is str and rejection.declaration_id == "acct-1"
    assert run.core.audit.verify() is None


@pytest.mark.parametrize(("field", "value", "path"), [
    ("health", {"symptoms": ["x" * 10_000_000]}, "driver.health.symptoms.0"),
    ("health", {"symptoms": ["cough"] * 21}, "driver.health.symptoms"),
])
def test_free_text_in_a_health_declaration_is_bounded(field: str, value: Any, path: str) -> None:
    run = GateRun()
    driver = {"name": "Nguyen Van An", "id_number": "001085012345", "nationality": "VN", field: value}
    answer = run.send(DeclarationSubmitted("trader-1", declaration(driver=driver)))
    assert only(answer, RejectDeclaration).errors[0].path == path


def test_a_container_seal_is_bounded() -> None:
    data = container_declaration("DEC-0001", "12C-000.01")
    data["containers"][0]["seal"] = "S" * 41
    answer = GateRun().send(DeclarationSubmitted("trader-1", data))
    assert only(answer, RejectDeclaration).errors[0].path == "containers.0.seal"
