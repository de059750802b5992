"""Returns for re-declaration, amendments (new versions), cancellations and refusals."""

from __future__ import annotations

from gate.commands import (
    AcceptDeclaration,
    AssignTask,
    Command,
    KeepClosed,
    RejectDeclaration,
    RequestFee,
    ReturnForRedeclaration,
    RouteTo,
)
from gate.config import RiskConfig, RiskRule
from gate.enums import (
    Channel, ClearanceKind, ClearanceStatus, GoodsCategory, Location, Outcome, Role, Station, VehicleClass,
)
from gate.events import DeclarationAmended, DeclarationCancelled
from tests.unit.core.support import GateRun, container_declaration, declaration, gate_config, goods, of_type, only

K = ClearanceKind
S = ClearanceStatus

ORE_IS_RED = RiskConfig(expected_yellow=0, expected_red=0, min_random_yellow=0, min_random_red=0,
                        rules=(RiskRule(name="ore", channel=Channel.RED, when_category=GoodsCategory.ORE),))


def amend(run: GateRun, visit: str, account: str = "trader-1", **fields: object) -> list[Command]:
    """Send version n+1 of the visit's declaration with ``fields`` changed."""
    vehicle_plate = str(fields.pop("vehicle_plate", run.plate_of(visit)))
    data = declaration(visit, vehicle_plate, **fields)
    return run.send(DeclarationAmended(account, visit, data))


def test_a_return_at_barrier_1_turns_the_vehicle_back_and_frees_its_yard_slot() -> None:
    run = GateRun(gate_config(yard={VehicleClass.TRUCK: 1}))
    visit = run.declare()
    run.arrive_at_staging(visit)
    assert run.core.yard.reserved[VehicleClass.TRUCK] == 1
    run.arrive_at_barrier_1(visit)
    run.decide(visit, K.MEDICAL)
    answer = run.decide(visit, K.BORDER_GUARD_ENTRY, Outcome.RETURNED, reasons=("driver licence expired",))
    assert only(answer, ReturnForRedeclaration) == ReturnForRedeclaration(visit, visit, ("driver licence expired",))
    assert only(answer, KeepClosed).device_id == "barrier-in-1"
    assert only(answer, RouteTo).station is Station.AWAY
    view = run.view(visit)
    assert view.location is Location.RETURNED and view.awaiting_amendment and view.returns == 1
    assert run.core.yard.reserved[VehicleClass.TRUCK] == 0
    assert run.core.ledger.violations("0101234567") == {"returned": 1}


def test_a_return_once_barrier_1_let_the_vehicle_in_keeps_it_in_the_flow_with_its_slot_until_it_leaves() -> None:
    run = GateRun(gate_config(Channel.YELLOW, yard={VehicleClass.TRUCK: 1}))
    visit = run.declare()
    run.enter(visit)  # through barrier 1, on its way to the scale
    answer = run.decide(visit, K.CUSTOMS_DOCUMENTS, Outcome.RETURNED, reasons=("wrong HS code",))
    assert [type(c) for c in answer] == [ReturnForRedeclaration]  # no turning back: it is inside
    view = run.view(visit)
    assert view.location is Location.ENTRY_LANE and view.awaiting_amendment
    assert run.core.yard.reserved[VehicleClass.TRUCK] == 1 and run.core.inside() == 1
    assert only(run.weigh(visit), RouteTo).station is Station.YARD  # it drives on and parks in the yard
    run.read("cam-yard-in", run.plate_of(visit))
    assert run.core.yard.occupied[VehicleClass.TRUCK] == 1 and run.location(visit) is Location.YARD
    amend(run, visit, goods=[goods(hs_code="8473")])
    run.clear_goods(visit)
    run.leave(visit)
    assert run.location(visit) is Location.DEPARTED and run.core.yard.occupied[VehicleClass.TRUCK] == 0


def test_a_vehicle_let_in_through_barrier_1_cannot_be_cancelled_as_it_cannot_be_turned_back() -> None:
    run = GateRun()
    visit = run.declare()
    run.enter(visit)
    refused = run.send(DeclarationCancelled("trader-1", visit))
    assert run.refused(refused).reason == "cannot cancel: vehicle 12C-000.01 is entry_lane, let in through barrier 1"
    assert run.location(visit) is Location.ENTRY_LANE


def test_a_vehicle_waiting_at_barrier_1_for_its_checks_is_cancelled_and_sent_away() -> None:
    run = GateRun(gate_config(yard={VehicleClass.TRUCK: 1}))
    visit = run.declare()
    run.arrive_at_barrier_1(visit)
    answer = run.send(DeclarationCancelled("trader-1", visit))
    assert only(answer, KeepClosed).device_id == "barrier-in-1"
    assert only(answer, RouteTo).station is Station.AWAY
    assert run.location(visit) is Location.REFUSED
    assert run.core.yard.reserved[VehicleClass.TRUCK] == 0 and run.core.lane_load["barrier-in-1"] == 0
    assert run.core.work_list(Role.MEDICAL) == [] and run.core.check_invariants() == []


def test_the_amendment_re_enters_a_returned_vehicle_as_version_2_and_it_can_then_cross() -> None:
    run = GateRun()
    visit = run.declare()
    run.arrive_at_barrier_1(visit)
    run.decide(visit, K.BORDER_GUARD_ENTRY, Outcome.RETURNED, reasons=("wrong driver",))
    answer = amend(run, visit, driver={"name": "Tran Van Binh", "id_number": "001085099999", "nationality": "VN"})
    accepted = only(answer, AcceptDeclaration)
    assert (accepted.version, accepted.visit_id) == (2, visit)
    view = run.view(visit)
    assert view.location is Location.OUTSIDE and view.declaration_version == 2 and not view.awaiting_amendment
    assert [loc for _, loc in view.history] == [Location.OUTSIDE, Location.ENTRY_LANE, Location.RETURNED,
                                                Location.OUTSIDE]
    assert run.status(visit, K.BORDER_GUARD_ENTRY) is S.REQUIRED
    run.through(visit)
    assert run.location(visit) is Location.DEPARTED


def test_a_returned_vehicle_seen_at_the_gate_again_before_amending_is_kept_out() -> None:
    run = GateRun()
    visit = run.declare()
    run.arrive_at_barrier_1(visit)
    run.decide(visit, K.BORDER_GUARD_ENTRY, Outcome.RETURNED)
    answer = run.arrive_at_barrier_1(visit)
    assert "cannot arrive at barrier 1 while returned" in run.refused(answer).reason
    assert only(answer, KeepClosed).device_id == "barrier-in-1"


def test_a_return_inside_the_yard_blocks_the_exit_until_the_declaration_is_amended() -> None:
    run = GateRun(gate_config(Channel.YELLOW))
    visit = run.declare()
    run.to_yard(visit)
    run.pay(visit)
    answer = run.decide(visit, K.CUSTOMS_DOCUMENTS, Outcome.RETURNED, reasons=("invoice value missing",))
    assert only(answer, ReturnForRedeclaration).reasons == ("invoice value missing",)
    assert not of_type(answer, RouteTo)  # it waits inside
    assert run.location(visit) is Location.YARD
    at_barrier = run.to_barrier_2(visit)
    assert only(at_barrier, KeepClosed).reasons == ("awaiting amended declaration",)
    assert only(at_barrier, RouteTo).station is Station.YARD
    run.read("cam-yard-in", run.plate_of(visit))
    amended = amend(run, visit, goods=[goods(value_usd=12_000)])
    assert only(amended, AcceptDeclaration).version == 2
    assert only(amended, AssignTask).clearance is K.CUSTOMS_DOCUMENTS  # customs checks the new version
    assert only(run.decide(visit, K.CUSTOMS_DOCUMENTS), RouteTo).station is Station.EXIT_LANE
    run.leave(visit)
    assert run.location(visit) is Location.DEPARTED


def test_an_amendment_re_opens_a_document_check_that_had_passed() -> None:
    run = GateRun(gate_config(Channel.YELLOW))
    visit = run.declare()
    run.decide(visit, K.CUSTOMS_DOCUMENTS)
    answer = amend(run, visit, goods=[goods(quantity=200)])
    assert run.status(visit, K.CUSTOMS_DOCUMENTS) is S.ASSIGNED
    assert only(answer, AssignTask).clearance is K.CUSTOMS_DOCUMENTS


def test_an_amendment_never_lowers_the_channel() -> None:
    run = GateRun(gate_config(risk=ORE_IS_RED))
    visit = run.declare(goods=[goods("ore")])
    assert run.view(visit).channel is Channel.RED
    amend(run, visit, goods=[goods("general")])
    view = run.view(visit)
    assert view.channel is Channel.RED and view.declaration_version == 2
    assert view.clearance(K.CUSTOMS_INSPECTION) is not None


def test_an_amendment_that_matches_a_rule_raises_the_channel() -> None:
    run = GateRun(gate_config(risk=ORE_IS_RED))
    visit = run.declare()
    assert run.view(visit).channel is Channel.GREEN
    amend(run, visit, goods=[goods("ore")])
    view = run.view(visit)
    assert view.channel is Channel.RED
    assert view.channel_reasons[-1] == "amended declaration: expected-rate selection; rule: ore"
    assert view.clearances[-1].kind is K.BORDER_GUARD_EXIT
    assert view.clearance(K.CUSTOMS_INSPECTION) is not None


def test_an_amendment_that_adds_goods_adds_their_quarantine() -> None:
    run = GateRun()
    visit = run.declare()
    amend(run, visit, goods=[goods("general"), goods("plants_fruit")])
    assert run.status(visit, K.PLANT_QUARANTINE) is S.REQUIRED


def test_only_the_declarant_or_an_administrator_may_amend() -> None:
    run = GateRun()
    visit = run.declare()
    refused = amend(run, visit, account="trader-2")
    assert run.refused(refused).reason == f"account trader-2 did not make declaration {visit}"
    assert run.view(visit).declaration_version == 1
    assert only(amend(run, visit, account="admin"), AcceptDeclaration).version == 2


def test_an_amendment_must_keep_the_declaration_id_and_is_validated_in_full() -> None:
    run = GateRun()
    visit = run.declare()
    other_id = run.send(DeclarationAmended("trader-1", visit, declaration("DEC-0009", run.plate_of(visit))))
    assert only(other_id, RejectDeclaration).errors[0].path == "declaration_id"
    broken = run.send(DeclarationAmended("trader-1", visit, declaration(visit, run.plate_of(visit),
                                                                        declared_gross_kg=0, direction="sideways")))
    assert {e.path for e in only(broken, RejectDeclaration).errors} == {"declared_gross_kg", "direction"}
    assert run.view(visit).declaration_version == 1


def test_an_amendment_of_an_unknown_or_closed_declaration_is_refused() -> None:
    run = GateRun()
    unknown = run.send(DeclarationAmended("trader-1", "DEC-0404", declaration("DEC-0404")))
    assert run.refused(unknown).reason == "unknown visit DEC-0404"
    visit = run.declare()
    run.through(visit)
    closed = amend(run, visit)
    assert run.refused(closed).reason == f"visit {visit} is closed (departed)"


def test_the_plate_may_change_before_the_vehicle_travels_but_not_once_it_is_at_the_gate() -> None:
    run = GateRun()
    visit = run.declare()
    amend(run, visit, vehicle_plate="12C-777.77")
    assert run.plate_of(visit) == "12C-777.77"
    assert run.core.visit_by_plate("12C-000.01") is None
    assert run.core.visit_by_plate("12C-777.77") is not None
    run.read("cam-staging", "12C-777.77")
    answer = run.send(DeclarationAmended("trader-1", visit, declaration(visit, "12C-888.88")))
    assert only(answer, RejectDeclaration).errors[0].message == "cannot change once the vehicle is staging"
    assert run.core.check_invariants() == []


def test_the_plate_cannot_change_to_one_with_another_open_declaration() -> None:
    run = GateRun()
    visit = run.declare()
    run.declare("DEC-0002", "12C-000.02")
    answer = run.send(DeclarationAmended("trader-1", visit, declaration(visit, "12C-000.02")))
    assert only(answer, RejectDeclaration).errors[0].message == "the vehicle already has open declaration DEC-0002"


def test_the_vehicle_class_cannot_change_once_the_vehicle_waits_at_staging() -> None:
    run = GateRun(gate_config(yard={VehicleClass.TRUCK: 0}))
    visit = run.declare()
    run.arrive_at_staging(visit)  # the yard has no truck slot: it waits
    answer = amend(run, visit, vehicle_class="small")
    assert only(answer, RejectDeclaration).errors[0].path == "vehicle_class"


def test_an_amendment_that_raises_the_fee_asks_for_the_difference() -> None:
    run = GateRun()
    visit = run.declare(data=container_declaration("DEC-0001", "12C-000.01", containers=1))
    assert run.view(visit).fee_vnd == 2_000_000
    run.pay(visit)
    assert run.status(visit, K.FEE) is S.PASSED
    answer = run.send(DeclarationAmended("trader-1", visit, container_declaration(visit, "12C-000.01", containers=2)))
    assert only(answer, RequestFee).amount_vnd == 2_000_000
    view = run.view(visit)
    assert (view.fee_vnd, view.fee_paid_vnd) == (4_000_000, 2_000_000)
    assert run.status(visit, K.FEE) is S.REQUIRED


def test_a_declaration_is_cancelled_before_the_vehicle_enters_and_its_plate_is_free_again() -> None:
    run = GateRun()
    visit = run.declare()
    answer = run.send(DeclarationCancelled("trader-1", visit, "trip postponed"))
    assert answer == []
    view = run.view(visit)
    assert view.location is Location.REFUSED
    assert run.core.open_visits() == 0 and visit in run.core.archive
    assert run.core.audit.records[-1].reason == "cancelled by the declarant: trip postponed"
    assert run.declare("DEC-0002") == "DEC-0002"


def test_a_vehicle_cancelled_at_staging_is_sent_away_and_gives_up_its_place() -> None:
    run = GateRun(gate_config(yard={VehicleClass.TRUCK: 0}))
    visit = run.declare()
    run.arrive_at_staging(visit)
    assert visit in run.core.staging
    answer = run.send(DeclarationCancelled("trader-1", visit))
    assert only(answer, RouteTo).station is Station.AWAY
    assert visit not in run.core.staging and len(run.core.staging) == 0


def test_a_returned_declaration_can_be_cancelled() -> None:
    run = GateRun()
    visit = run.declare()
    run.arrive_at_barrier_1(visit)
    run.decide(visit, K.BORDER_GUARD_ENTRY, Outcome.RETURNED)
    run.send(DeclarationCancelled("trader-1", visit))
    assert run.location(visit) is Location.REFUSED


def test_a_vehicle_inside_the_gate_cannot_be_cancelled_and_nobody_else_may_cancel() -> None:
    run = GateRun()
    visit = run.declare()
    stranger = run.send(DeclarationCancelled("trader-2", visit))
    assert run.refused(stranger).reason == f"account trader-2 did not make declaration {visit}"
    run.to_yard(visit)
    inside = run.send(DeclarationCancelled("trader-1", visit))
    assert run.refused(inside).reason == "cannot cancel: vehicle 12C-000.01 is yard"
    assert run.location(visit) is Location.YARD


def test_an_officer_s_refusal_removes_the_vehicle_and_frees_its_place_in_the_flow() -> None:
    run = GateRun(gate_config(Channel.YELLOW))
    visit = run.declare()
    run.arrive_at_staging(visit)
    answer = run.decide(visit, K.CUSTOMS_DOCUMENTS, Outcome.REFUSED, reasons=("forged invoice",))
    assert RouteTo(visit, run.plate_of(visit), Station.AWAY) in answer
    assert run.location(visit) is Location.REFUSED
    assert visit not in run.core.staging
    assert run.core.ledger.violations("0101234567") == {"refused": 1}


def test_an_officer_can_refuse_a_vehicle_that_was_returned_and_never_amended() -> None:
    run = GateRun(gate_config(Channel.YELLOW))
    visit = run.declare()
    run.decide(visit, K.CUSTOMS_DOCUMENTS, Outcome.RETURNED, reasons=("invoice missing",))
    assert run.location(visit) is Location.RETURNED
    again = run.decide(visit, K.CUSTOMS_DOCUMENTS, Outcome.RETURNED)
    assert again == []  # the same decision twice is a repeat
    run.decide(visit, K.CUSTOMS_DOCUMENTS, Outcome.REFUSED, reasons=("no answer in 30 days",))
    assert run.location(visit) is Location.REFUSED
    passed = run.decide(visit, K.CUSTOMS_DOCUMENTS)
    assert run.refused(passed).reason == f"visit {visit} is closed (refused)"


def test_no_amendment_once_barrier_2_is_open_for_the_vehicle() -> None:
    run = GateRun(gate_config(Channel.YELLOW))
    visit = run.declare()
    run.exit_opened(visit)
    answer = amend(run, visit, goods=[goods(quantity=999)])
    assert run.refused(answer).reason == "cannot amend: barrier 2 is already open for vehicle 12C-000.01"
    assert run.status(visit, K.CUSTOMS_DOCUMENTS) is S.PASSED and run.view(visit).declaration_version == 1


def test_an_amendment_that_lowers_the_fee_below_what_was_paid_settles_it() -> None:
    run = GateRun()
    visit = run.declare(data=container_declaration("DEC-0001", "12C-000.01", containers=2))
    run.pay(visit, amount=2_000_000)  # half of 4,000,000
    assert run.status(visit, K.FEE) is S.REQUIRED
    run.send(DeclarationAmended("trader-1", visit, container_declaration(visit, "12C-000.01", containers=1)))
    assert run.status(visit, K.FEE) is S.PASSED
    assert run.view(visit).fee_vnd == 2_000_000
