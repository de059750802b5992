"""A visit from declaration to departure: channels, required clearances, and barrier 2."""

from __future__ import annotations

import pytest

from gate.commands import AcceptDeclaration, Command, AssignTask, KeepClosed, OpenBarrier, RequestFee, RequestScan, RouteTo
from gate.declaration import Declaration
from gate.enums import (
    Channel,
    ClearanceKind,
    ClearanceStatus,
    GoodsCategory,
    Location,
    Role,
    ScanResult,
    Station,
)
from gate.events import DeclarationSubmitted, LoadingRegistered
from tests.unit.core.support import EXIT, GateRun, declaration, gate_config, goods, of_type, only

K = ClearanceKind
S = ClearanceStatus


def barrier_2_opened(commands: list[Command]) -> bool:
    return any(isinstance(c, OpenBarrier) and c.device_id == "barrier-out-1" for c in commands)


@pytest.mark.parametrize("channel", list(Channel))
def test_a_visit_in_any_channel_departs_once_every_check_passes(channel: Channel) -> None:
    run = GateRun(gate_config(channel))
    visit = run.declare()
    run.through(visit, scan=ScanResult.CLEAR if channel is Channel.RED else None)
    view = run.view(visit)
    assert view.location is Location.DEPARTED
    assert view.channel is channel
    assert all(c.status is S.PASSED for c in view.clearances)
    assert [loc for _, loc in view.history][-1] is Location.DEPARTED
    assert run.core.open_visits() == 0 and visit in run.core.archive
    assert run.core.check_invariants() == []


def test_the_declaration_is_accepted_with_its_channel_and_fee_and_the_fee_is_requested() -> None:
    run = GateRun(gate_config(Channel.YELLOW))
    answer = run.send(DeclarationSubmitted("trader-1", declaration()))
    accepted = only(answer, AcceptDeclaration)
    assert (accepted.declaration_id, accepted.version, accepted.channel, accepted.fee_vnd) == (
        "DEC-0001", 1, "yellow", 500_000)
    assert only(answer, RequestFee).amount_vnd == 500_000
    # customs can check documents before the truck arrives: it is on their work list at once
    assert only(answer, AssignTask).clearance is K.CUSTOMS_DOCUMENTS
    assert [w.visit_id for w in run.core.work_list(Role.CUSTOMS)] == [accepted.visit_id]


@pytest.mark.parametrize(
    ("channel", "customs"),
    [(Channel.GREEN, None), (Channel.YELLOW, K.CUSTOMS_DOCUMENTS), (Channel.RED, K.CUSTOMS_INSPECTION)],
)
def test_the_channel_decides_the_customs_clearance(channel: Channel, customs: ClearanceKind | None) -> None:
    run = GateRun(gate_config(channel))
    visit = run.declare()
    kinds = [c.kind for c in run.view(visit).clearances]
    expected = [K.MEDICAL, K.BORDER_GUARD_ENTRY] + ([customs] if customs else []) + [K.FEE, EXIT]
    assert kinds == expected


def test_barrier_2_opens_only_after_the_last_required_clearance_passed() -> None:
    run = GateRun(gate_config(Channel.YELLOW))
    visit = run.declare()
    seen = run.to_yard(visit)
    run.pay(visit)
    # customs has not decided: the truck drives to barrier 2 anyway and is kept in
    seen += run.read("cam-yard-out", run.plate_of(visit))
    at_barrier = run.read("cam-out-1", run.plate_of(visit))
    closed = only(at_barrier, KeepClosed)
    assert closed.device_id == "barrier-out-1" and closed.reasons == ("customs_documents not passed",)
    assert only(at_barrier, RouteTo).station is Station.YARD
    assert not barrier_2_opened(seen + at_barrier)
    run.read("cam-yard-in", run.plate_of(visit))
    ready = run.decide(visit, K.CUSTOMS_DOCUMENTS)
    assert only(ready, RouteTo).station is Station.EXIT_LANE
    at_barrier = run.to_barrier_2(visit)
    # every clearance but the exit check passed: the border guard is asked, the barrier still shut
    assert only(at_barrier, AssignTask).clearance is EXIT
    assert not barrier_2_opened(at_barrier)
    opened = run.decide(visit, EXIT)
    assert only(opened, OpenBarrier) == OpenBarrier("barrier-out-1", visit, run.plate_of(visit))


def test_a_truck_that_turns_back_into_the_yard_from_an_open_barrier_2_has_it_opened_again_on_return() -> None:
    run = GateRun()
    visit = run.declare()
    run.to_yard(visit)
    run.clear_goods(visit)
    run.to_barrier_2(visit)
    assert barrier_2_opened(run.decide(visit, EXIT))
    run.read("cam-yard-in", run.plate_of(visit))  # the driver turns back into the yard instead
    assert not run.view(visit).exit_granted
    back = run.to_barrier_2(visit)
    assert only(back, OpenBarrier) == OpenBarrier("barrier-out-1", visit, run.plate_of(visit))
    run.pass_barrier("barrier-out-1", visit)
    assert run.location(visit) is Location.DEPARTED


def test_barrier_1_opens_only_after_the_medical_and_border_checks() -> None:
    run = GateRun()
    visit = run.declare()
    run.arrive_at_staging(visit)
    at_barrier = run.arrive_at_barrier_1(visit)
    assert not of_type(at_barrier, OpenBarrier)
    after_medical = run.decide(visit, K.MEDICAL)
    assert not of_type(after_medical, OpenBarrier)
    after_guard = run.decide(visit, K.BORDER_GUARD_ENTRY)
    assert only(after_guard, OpenBarrier).device_id == "barrier-in-1"
    assert only(after_guard, RouteTo) == RouteTo(visit, run.plate_of(visit), Station.SCALE, "scale-1")


def test_without_a_medical_unit_barrier_1_waits_for_the_border_guard_alone() -> None:
    run = GateRun(gate_config(medical_check=False))
    visit = run.declare()
    assert K.MEDICAL not in [c.kind for c in run.view(visit).clearances]
    run.arrive_at_barrier_1(visit)
    assert only(run.decide(visit, K.BORDER_GUARD_ENTRY), OpenBarrier).device_id == "barrier-in-1"


def test_an_automated_border_check_passes_both_barriers_without_an_officer() -> None:
    run = GateRun(gate_config(medical_check=False, automated_border_check=True))
    visit = run.declare()
    at_barrier_1 = run.arrive_at_barrier_1(visit)
    assert only(at_barrier_1, OpenBarrier).device_id == "barrier-in-1"
    run.pass_barrier("barrier-in-1", visit)
    run.weigh(visit)
    run.read("cam-yard-in", run.plate_of(visit))
    run.pay(visit)
    at_barrier_2 = run.to_barrier_2(visit)
    assert barrier_2_opened(at_barrier_2)
    assert run.view(visit).clearance(EXIT).decided_by == "core:automated-check"  # type: ignore[union-attr]


def test_a_red_vehicle_goes_from_the_scale_to_the_scanner_and_a_clear_scan_passes_the_inspection() -> None:
    run = GateRun(gate_config(Channel.RED))
    visit = run.declare()
    run.enter(visit)
    weighed = run.weigh(visit)
    assert only(weighed, RouteTo) == RouteTo(visit, run.plate_of(visit), Station.SCANNER, "scanner-1")
    assert only(weighed, RequestScan) == RequestScan("scanner-1", visit, run.plate_of(visit))
    scanned = run.scan(visit, ScanResult.CLEAR)
    assert only(scanned, RouteTo).station is Station.YARD
    inspection = run.view(visit).clearance(K.CUSTOMS_INSPECTION)
    assert inspection is not None and inspection.status is S.PASSED and inspection.reasons == ("scan clear",)
    # nobody is asked to inspect by hand
    in_yard = run.read("cam-yard-in", run.plate_of(visit))
    assert not [c for c in of_type(in_yard, AssignTask) if c.clearance is K.CUSTOMS_INSPECTION]
    assert run.core.work_list(Role.CUSTOMS) == []


def test_a_suspect_scan_sends_the_vehicle_to_the_inspection_bay_for_customs() -> None:
    run = GateRun(gate_config(Channel.RED))
    visit = run.declare()
    run.enter(visit)
    run.weigh(visit)
    run.scan(visit, ScanResult.SUSPECT)
    assert run.status(visit, K.CUSTOMS_INSPECTION) is S.REQUIRED
    in_yard = run.read("cam-yard-in", run.plate_of(visit))
    assert only(in_yard, AssignTask).clearance is K.CUSTOMS_INSPECTION
    assert only(in_yard, RouteTo).station is Station.INSPECTION
    run.read("cam-bay", run.plate_of(visit))
    assert run.location(visit) is Location.INSPECTION
    run.pay(visit)
    done = run.decide(visit, K.CUSTOMS_INSPECTION)
    assert only(done, RouteTo).station is Station.EXIT_LANE
    run.leave(visit)
    assert run.location(visit) is Location.DEPARTED


def test_a_suspect_scan_of_a_green_vehicle_raises_it_to_red() -> None:
    run = GateRun(gate_config(Channel.GREEN))
    visit = run.declare()
    run.enter(visit)
    run.weigh(visit)
    run.scan(visit, ScanResult.SUSPECT)
    view = run.view(visit)
    assert view.channel is Channel.RED and view.channel_reasons[-1] == "scan suspect"
    assert view.clearance(K.CUSTOMS_INSPECTION) is not None
    # the exit check stays last, so the list reads in the order of the flow
    assert view.clearances[-1].kind is EXIT


@pytest.mark.parametrize(
    ("category", "quarantine"),
    [
        (GoodsCategory.LIVE_ANIMALS, K.ANIMAL_QUARANTINE),
        (GoodsCategory.ANIMAL_PRODUCTS, K.ANIMAL_QUARANTINE),
        (GoodsCategory.PLANTS_FRUIT, K.PLANT_QUARANTINE),
        (GoodsCategory.FOODSTUFF, K.HEALTH_QUARANTINE),
        (GoodsCategory.ORE, None),
        (GoodsCategory.GENERAL, None),
    ],
)
def test_each_goods_category_adds_its_quarantine(category: GoodsCategory, quarantine: ClearanceKind | None) -> None:
    run = GateRun()
    visit = run.declare(goods=[goods(category.value)])
    kinds = {c.kind for c in run.view(visit).clearances}
    quarantines = kinds & {K.ANIMAL_QUARANTINE, K.PLANT_QUARANTINE, K.HEALTH_QUARANTINE}
    assert quarantines == ({quarantine} if quarantine else set())


def test_a_mixed_load_needs_the_quarantine_of_every_line_and_each_is_worked_in_the_yard() -> None:
    run = GateRun()
    visit = run.declare(goods=[goods("plants_fruit"), goods("foodstuff"), goods("animal_products")])
    wanted = {K.PLANT_QUARANTINE, K.HEALTH_QUARANTINE, K.ANIMAL_QUARANTINE}
    assert wanted <= {c.kind for c in run.view(visit).clearances}
    # quarantine inspects the goods in the yard, not on the road
    run.enter(visit)
    assert run.core.work_list(Role.PLANT_QUARANTINE) == []
    run.weigh(visit)
    in_yard = run.read("cam-yard-in", run.plate_of(visit))
    assert {c.clearance for c in of_type(in_yard, AssignTask)} == wanted
    assert [w.clearance for w in run.core.work_list(Role.PLANT_QUARANTINE)] == [K.PLANT_QUARANTINE]
    run.pay(visit)
    for kind in sorted(wanted, key=lambda k: k.value)[:-1]:
        assert not of_type(run.decide(visit, kind), RouteTo)
    last = sorted(wanted, key=lambda k: k.value)[-1]
    assert only(run.decide(visit, last), RouteTo).station is Station.EXIT_LANE


def test_transshipment_needs_the_loading_registered_then_customs_approval() -> None:
    run = GateRun()
    visit = run.declare(transshipment=True)
    assert run.status(visit, K.LOADING) is S.REQUIRED
    run.to_yard(visit)
    run.pay(visit)
    # in the yard and paid, but nobody registered the loading: customs has nothing to approve
    assert run.status(visit, K.LOADING) is S.REQUIRED
    assert run.core.work_list(Role.CUSTOMS) == []
    refused = run.decide(visit, K.LOADING)
    assert "cannot be decided yet" in run.refused(refused).reason
    registered = run.send(LoadingRegistered("trader-1", visit))
    assert only(registered, AssignTask).clearance is K.LOADING
    approved = run.decide(visit, K.LOADING)
    assert only(approved, RouteTo).station is Station.EXIT_LANE
    run.leave(visit)
    assert run.location(visit) is Location.DEPARTED


def test_loading_registered_before_arrival_is_approved_once_the_goods_are_in_the_yard() -> None:
    run = GateRun()
    visit = run.declare(transshipment=True)
    assert not of_type(run.send(LoadingRegistered("trader-1", visit)), AssignTask)
    in_yard = run.to_yard(visit)
    assert K.LOADING in [c.clearance for c in of_type(in_yard, AssignTask)]


def test_loading_is_registered_by_the_declarant_or_the_yard_operator_only() -> None:
    run = GateRun()
    visit = run.declare(transshipment=True)
    refused = run.send(LoadingRegistered("guard-1", visit))
    assert "may not register loading" in run.refused(refused).reason
    run.send(LoadingRegistered("yard-1", visit))
    assert run.core.active[visit].loading_registered
    assert run.send(LoadingRegistered("yard-1", visit)) == []  # a repeat changes nothing
    other = run.declare("DEC-0002", "12C-000.02")
    not_declared = run.send(LoadingRegistered("trader-1", other))
    assert "does not declare transshipment" in run.refused(not_declared).reason


def test_a_validated_declaration_object_is_taken_as_it_is() -> None:
    run = GateRun()
    given = Declaration.model_validate(declaration())
    accepted = only(run.send(DeclarationSubmitted("trader-1", given)), AcceptDeclaration)
    assert accepted.visit_id == "DEC-0001"
    assert run.core.active["DEC-0001"].declaration == given
