"""Decisions revisited: what a return, a late refusal, a doubtful re-read or an amendment undoes.

Each case is a sequence a gate meets in practice: a driver changed with the papers after a
return, a barrier closed on a doubtful read of the truck it had opened for, a refusal after
barrier 2 opened, an AGV stopped on a refused container, a fee paid at barrier 2 itself, a
weight amended after the scale weighed the truck.
"""

from __future__ import annotations

from gate.commands import Command, DispatchAgv, KeepClosed, ManualReview, OpenBarrier, RouteTo
from gate.enums import Channel, ClearanceKind as K, ClearanceStatus as S, Location, Outcome, Role, Station, VehicleClass
from gate.events import (
    AgvFaulted, ContainerHandedOver, DeclarationAmended, ManifestAcknowledged, ManualPlateEntered, PlateRead,
    VehiclePassed,
)
from tests.unit.core.support import (
    GateRun, container_declaration, declaration, gate_config, goods, of_type, only, plate,
)


def _amend(run: GateRun, visit: str, **fields: object) -> list[Command]:
    return run.send(DeclarationAmended("trader-1", visit, declaration(visit, run.plate_of(visit), **fields)))


# ---------------------------------------------------------------------------- returns

def test_a_vehicle_turned_back_is_checked_again_at_the_gate_when_it_comes_back_with_another_driver() -> None:
    run = GateRun(gate_config(Channel.YELLOW, yard={VehicleClass.TRUCK: 1}))
    first = run.declare("DEC-0009", plate(9))
    run.to_yard(first)  # fills the yard: the next truck passes its entry checks but waits at barrier 1
    visit = run.declare()
    run.arrive_at_staging(visit)
    run.arrive_at_barrier_1(visit)
    run.pass_entry_checks(visit)
    assert run.status(visit, K.MEDICAL) is S.PASSED and run.status(visit, K.BORDER_GUARD_ENTRY) is S.PASSED
    run.decide(visit, K.CUSTOMS_DOCUMENTS, Outcome.RETURNED, reasons=("invoice missing",))
    assert run.location(visit) is Location.RETURNED
    assert run.status(visit, K.MEDICAL) is S.REQUIRED and run.status(visit, K.BORDER_GUARD_ENTRY) is S.REQUIRED

    feverish = {"name": "Tran Van Binh", "id_number": "079099000111", "nationality": "VN",
                "health": {"fever": True, "symptoms": ["cough"]}}
    _amend(run, visit, driver=feverish)
    run.clear_goods(first)
    run.leave(first)  # a slot frees
    back = run.read("cam-staging", run.plate_of(visit))
    assert not of_type(back, OpenBarrier)
    assert run.status(visit, K.MEDICAL) is S.ASSIGNED  # the new driver sees the medical officer
    run.decide(visit, K.CUSTOMS_DOCUMENTS)
    at_barrier = run.arrive_at_barrier_1(visit)
    assert not of_type(at_barrier, OpenBarrier), "barrier 1 must not open on the first driver's checks"


def test_a_return_takes_every_task_of_the_visit_off_the_work_lists_until_the_amendment() -> None:
    run = GateRun(gate_config(Channel.YELLOW))
    visit = run.declare()
    assert run.status(visit, K.CUSTOMS_DOCUMENTS) is S.ASSIGNED
    run.arrive_at_staging(visit, checked=False)
    run.decide(visit, K.MEDICAL, Outcome.RETURNED, reasons=("health declaration incomplete",))
    assert run.status(visit, K.CUSTOMS_DOCUMENTS) is S.REQUIRED
    assert all(item.visit_id != visit for item in run.core.work_list(Role.CUSTOMS))
    assert run.core.next_deadline() is None, "no service level runs for a task nobody may work"
    again = run.decide(visit, K.CUSTOMS_DOCUMENTS, Outcome.RETURNED, reasons=("and the invoice",))
    assert "waits for its amended version" in run.refused(again).reason
    assert run.view(visit).returns == 1 and run.core.stats["returns"] == 1
    _amend(run, visit)
    assert run.status(visit, K.CUSTOMS_DOCUMENTS) is S.ASSIGNED


# ---------------------------------------------------------------------------- barriers

def test_a_barrier_closed_on_a_doubtful_read_of_its_truck_opens_again_once_the_plate_is_typed() -> None:
    for camera, barrier in (("cam-in-1", "barrier-in-1"), ("cam-out-1", "barrier-out-1")):
        run = GateRun()
        visit = run.declare()
        if camera == "cam-in-1":
            run.arrive_at_staging(visit)
            run.arrive_at_barrier_1(visit)
            granted = run.pass_entry_checks(visit)
        else:
            granted = run.exit_opened(visit)
        assert only(granted, OpenBarrier).device_id == barrier
        doubtful = run.read(camera, run.plate_of(visit), confidence=0.6)  # the same truck, read again in the rain
        assert only(doubtful, KeepClosed).visit_id == visit
        review = only(doubtful, ManualReview)
        typed = run.send(ManualPlateEntered("guard-1", review.review_id, run.plate_of(visit)))
        assert only(typed, OpenBarrier) == OpenBarrier(barrier, visit, run.plate_of(visit)), camera
        assert run.read(camera, run.plate_of(visit)) == [], "a further read is a repeat again"


def test_a_truck_sent_back_from_barrier_2_to_pay_is_let_out_where_it_stands_once_it_has_paid() -> None:
    run = GateRun()
    visit = run.declare()
    run.to_yard(visit)
    kept = run.read("cam-out-1", run.plate_of(visit))  # straight to barrier 2, fee unpaid
    assert only(kept, KeepClosed) and only(kept, RouteTo).station is Station.YARD
    assert run.read("cam-out-1", run.plate_of(visit)) == [], "still unpaid: a repeat"
    run.pay(visit)
    again = run.read("cam-out-1", run.plate_of(visit))
    assert run.status(visit, K.BORDER_GUARD_EXIT) is S.ASSIGNED, again
    opened = run.decide(visit, K.BORDER_GUARD_EXIT)
    assert only(opened, OpenBarrier).device_id == "barrier-out-1"
    run.pass_barrier("barrier-out-1", visit)
    assert run.location(visit) is Location.DEPARTED and run.core.check_invariants() == []


def test_a_refusal_after_barrier_2_opened_tells_it_to_stay_closed_and_a_later_sighting_names_the_refusal() -> None:
    run = GateRun(gate_config(Channel.YELLOW))
    visit = run.declare()
    run.exit_opened(visit)
    refused = run.decide(visit, K.CUSTOMS_DOCUMENTS, Outcome.REFUSED, reasons=("forged invoice",))
    assert only(refused, KeepClosed) == KeepClosed("barrier-out-1", visit, run.plate_of(visit), ("forged invoice",))
    through = run.send(VehiclePassed("barrier-out-1", run.plate_of(visit)))
    assert f"vehicle {run.plate_of(visit)} was refused (visit {visit})" in run.refused(through).reason
    assert "refused vehicle" in only(through, ManualReview).reason


# ---------------------------------------------------------------------------- the AGV lane

def _agv_visit(run: GateRun) -> tuple[str, str]:
    visit = run.declare(data=container_declaration("DEC-0001", plate(1), crossing_mode="agv_lane"))
    run.to_yard(visit)
    run.clear_goods(visit)
    number = run.core.active[visit].declaration.containers[0].number
    run.send(ContainerHandedOver("yard-1", visit, number))
    return visit, f"{visit}:{number}"


def test_an_agv_stopped_on_a_refused_visits_container_is_not_sent_again() -> None:
    run = GateRun(gate_config(agv=True))
    visit, mission = _agv_visit(run)
    assert only(run.send(ManifestAcknowledged("partner-link", mission)), DispatchAgv)
    run.decide(visit, K.BORDER_GUARD_ENTRY, Outcome.REFUSED, reasons=("smuggling found",))
    stopped = run.send(AgvFaulted("agv-fleet", mission, "stopped by operator"))
    assert not of_type(stopped, DispatchAgv)
    assert run.core.mission(mission).state.value == "failed"


def test_an_acknowledged_manifest_waits_for_the_amendment_of_a_returned_declaration() -> None:
    run = GateRun(gate_config(agv=True))
    visit, mission = _agv_visit(run)
    run.read("cam-yard-out", run.plate_of(visit))
    run.read("cam-out-1", run.plate_of(visit))
    run.decide(visit, K.BORDER_GUARD_EXIT, Outcome.RETURNED, reasons=("container data wrong",))
    assert not of_type(run.send(ManifestAcknowledged("partner-link", mission)), DispatchAgv)
    amended = run.send(DeclarationAmended("trader-1", visit, container_declaration(visit, plate(1),
                                                                                  crossing_mode="agv_lane")))
    assert only(amended, DispatchAgv).mission_id == mission


# ---------------------------------------------------------------------------- amendments

def test_an_amended_weight_is_held_against_what_the_scale_measured() -> None:
    run = GateRun()  # green: nothing else would look at the new figure
    visit = run.declare()
    run.to_yard(visit)  # weighed at the declared 20 t
    _amend(run, visit, declared_gross_kg=60_000, goods=[goods(gross_kg=45_000)])
    view = run.view(visit)
    assert view.weight_flagged and view.channel is Channel.YELLOW
    assert run.status(visit, K.CUSTOMS_DOCUMENTS) is S.ASSIGNED


def test_quarantine_passed_on_goods_an_amendment_changes_is_made_again_but_not_for_a_corrected_value() -> None:
    run = GateRun()
    visit = run.declare(goods=[goods("plants_fruit")])
    run.to_yard(visit)
    run.decide(visit, K.PLANT_QUARANTINE)
    _amend(run, visit, goods=[goods("plants_fruit", value_usd=12_000)])  # a corrected invoice
    assert run.status(visit, K.PLANT_QUARANTINE) is S.PASSED
    _amend(run, visit, goods=[goods("plants_fruit", description="durian, fresh", quantity=300)])
    assert run.status(visit, K.PLANT_QUARANTINE) is S.ASSIGNED


def test_plate_reads_of_a_refused_vehicle_are_not_unknown_plates() -> None:
    run = GateRun(gate_config(Channel.YELLOW))
    visit = run.declare()
    run.arrive_at_staging(visit)
    run.decide(visit, K.CUSTOMS_DOCUMENTS, Outcome.REFUSED, reasons=("banned goods",))
    seen = run.send(PlateRead("cam-in-1", run.plate_of(visit), 0.99))
    assert "unknown plate" not in only(seen, ManualReview).reason
    assert only(seen, KeepClosed).device_id == "barrier-in-1"
