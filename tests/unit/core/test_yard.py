"""Yard capacity by class, holding at staging, and calling vehicles forward when a slot frees."""

from __future__ import annotations

from gate.commands import Command, KeepClosed, ManualReview, OpenBarrier, RouteTo, TrafficAdvice
from gate.enums import Channel, ClearanceKind, Location, Station, TrafficAction, VehicleClass
from gate.events import DeclarationAmended, DeclarationCancelled, StagingReleaseOrdered
from tests.unit.core.support import GateRun, container_declaration, declaration, gate_config, goods, of_type, only, plate

ONE_TRUCK = {VehicleClass.TRUCK: 1, VehicleClass.SMALL: 5, VehicleClass.CONTAINER: 5}
SMALL = {"vehicle_class": "small", "declared_gross_kg": 3_000,
         "goods": [{"hs_code": "8471", "description": "parts", "quantity": 1, "gross_kg": 1_000, "value_usd": 10,
                    "origin": "CN", "category": "general"}]}


def called_forward(commands: list[Command]) -> list[str]:
    """Visits told to drive from staging to the entry lane, in order."""
    return [c.visit_id for c in commands if isinstance(c, RouteTo) and c.station is Station.ENTRY_LANE]


def fill_the_yard(run: GateRun) -> str:
    """One truck through staging into the yard; it holds the only truck slot."""
    occupant = run.declare("DEC-0100", plate(100))
    run.arrive_at_staging(occupant)
    run.to_yard(occupant)
    return occupant


def test_a_vehicle_is_called_forward_from_staging_while_the_yard_has_room() -> None:
    run = GateRun(gate_config(yard=ONE_TRUCK))
    visit = run.declare()
    answer = run.arrive_at_staging(visit)
    assert only(answer, RouteTo) == RouteTo(visit, run.plate_of(visit), Station.ENTRY_LANE, "barrier-in-1")
    assert run.core.yard.reserved[VehicleClass.TRUCK] == 1  # the slot is held while it drives in


def test_a_full_yard_holds_the_vehicle_at_staging_with_traffic_advice() -> None:
    run = GateRun(gate_config(yard=ONE_TRUCK))
    fill_the_yard(run)
    visit = run.declare()
    answer = run.arrive_at_staging(visit, checked=False)
    advice = only(answer, TrafficAdvice)
    assert (advice.area, advice.action, advice.visit_id, advice.plate) == (
        "staging-1", TrafficAction.HOLD, visit, run.plate_of(visit))
    assert advice.reason == "medical check first: wait to be called forward"
    checked = run.decide(visit, ClearanceKind.MEDICAL)
    assert not of_type(answer + checked, RouteTo)  # checked, but no slot is free
    assert visit in run.core.staging and run.core.staging.waiting_in("staging-1") == 1
    assert run.core.staging.is_ready(visit)


def test_a_vehicle_waits_at_staging_for_its_medical_check_before_it_is_called_forward() -> None:
    run = GateRun(gate_config(yard=ONE_TRUCK))
    visit = run.declare()
    held = run.arrive_at_staging(visit, checked=False)
    assert not of_type(held, RouteTo), "called forward before the medical check: it would block an entry lane"
    assert [a.action for a in of_type(held, TrafficAdvice) if a.visit_id == visit] == [TrafficAction.HOLD]
    assert run.core.yard.reserved[VehicleClass.TRUCK] == 0  # no slot is kept for a vehicle not yet checked
    assert not run.core.staging.is_ready(visit) and run.core.staging.class_count[VehicleClass.TRUCK] == 0
    called = run.decide(visit, ClearanceKind.MEDICAL)
    assert only(called, RouteTo) == RouteTo(visit, run.plate_of(visit), Station.ENTRY_LANE, "barrier-in-1")
    (release,) = [a for a in of_type(called, TrafficAdvice) if a.visit_id == visit]
    assert (release.action, release.area, release.visit_id) == (TrafficAction.RELEASE, "staging-1", visit)
    assert run.core.yard.reserved[VehicleClass.TRUCK] == 1 and visit not in run.core.staging
    assert run.core.check_invariants() == []


def test_vehicles_are_called_in_the_order_their_checks_passed_and_an_unchecked_one_blocks_nobody() -> None:
    run = GateRun(gate_config(yard={VehicleClass.TRUCK: 2, VehicleClass.SMALL: 5, VehicleClass.CONTAINER: 5}))
    occupant = fill_the_yard(run)
    first, second, third = (run.declare(f"DEC-{n:04d}", plate(n)) for n in (1, 2, 3))
    for visit in (first, second, third):
        run.arrive_at_staging(visit, checked=False)
    # The second's check passes while the first still waits for its own: the free slot goes to the second.
    assert called_forward(run.decide(second, ClearanceKind.MEDICAL)) == [second]
    assert called_forward(run.decide(third, ClearanceKind.MEDICAL)) == []  # the yard is full now
    assert called_forward(run.decide(first, ClearanceKind.MEDICAL)) == []
    run.clear_goods(occupant)
    assert called_forward(run.leave(occupant)) == [third]  # checked before the first
    assert run.core.check_invariants() == []


def test_without_call_when_checked_a_vehicle_is_called_before_its_medical_check() -> None:
    run = GateRun(gate_config(yard=ONE_TRUCK, call_when_checked=False))
    visit = run.declare()
    answer = run.arrive_at_staging(visit, checked=False)
    assert called_forward(answer) == [visit]
    assert run.view(visit).clearance(ClearanceKind.MEDICAL).status.value == "assigned"  # done at barrier 1 then


def test_a_release_by_hand_takes_the_checked_vehicles_and_leaves_those_waiting_for_their_check() -> None:
    run = GateRun(gate_config(yard=ONE_TRUCK))
    occupant = fill_the_yard(run)
    unchecked, checked = (run.declare(f"DEC-{n:04d}", plate(n)) for n in (1, 2))
    run.arrive_at_staging(unchecked, checked=False)
    run.arrive_at_staging(checked)
    assert run.core.staging.in_area("staging-1") == [checked, unchecked]
    run.clear_goods(occupant)
    answer = run.send(StagingReleaseOrdered("police-1", "staging-1", 2))
    assert called_forward(answer) == [checked]
    assert unchecked in run.core.staging and not run.core.staging.is_ready(unchecked)
    assert run.core.audit.records[-1].reason == "released 1 of 2 from staging-1"


def test_waiting_vehicles_are_called_forward_in_arrival_order_as_slots_free() -> None:
    run = GateRun(gate_config(yard=ONE_TRUCK))
    occupant = fill_the_yard(run)
    waiting = [run.declare(f"DEC-{n:04d}", plate(n)) for n in (1, 2, 3)]
    for visit in waiting:
        run.arrive_at_staging(visit)
    run.clear_goods(occupant)
    freed = run.leave(occupant)
    assert called_forward(freed) == [waiting[0]]
    release = [a for a in of_type(freed, TrafficAdvice) if a.visit_id == waiting[0]]
    assert release and release[0].action is TrafficAction.RELEASE and release[0].area == "staging-1"
    run.to_yard(waiting[0])
    run.clear_goods(waiting[0])
    assert called_forward(run.leave(waiting[0])) == [waiting[1]]


def test_perishable_goods_are_called_forward_first_when_the_site_says_so() -> None:
    run = GateRun(gate_config(yard=ONE_TRUCK))
    occupant = fill_the_yard(run)
    general = run.declare("DEC-0001", plate(1))
    fruit = run.declare("DEC-0002", plate(2), goods=[goods("plants_fruit")])
    run.arrive_at_staging(general)
    run.arrive_at_staging(fruit)
    run.clear_goods(occupant)
    assert called_forward(run.leave(occupant)) == [fruit]


def test_without_perishable_priority_arrival_order_rules() -> None:
    run = GateRun(gate_config(yard=ONE_TRUCK, perishable_priority=False))
    occupant = fill_the_yard(run)
    general = run.declare("DEC-0001", plate(1))
    fruit = run.declare("DEC-0002", plate(2), goods=[goods("plants_fruit")])
    run.arrive_at_staging(general)
    run.arrive_at_staging(fruit)
    run.clear_goods(occupant)
    assert called_forward(run.leave(occupant)) == [general]


def test_a_full_truck_yard_does_not_hold_small_vehicles() -> None:
    run = GateRun(gate_config(yard=ONE_TRUCK))
    fill_the_yard(run)
    van = run.declare(data=declaration("DEC-0001", plate(1), **SMALL))
    assert called_forward(run.arrive_at_staging(van)) == [van]


def test_yard_occupancy_follows_the_yard_gate_cameras() -> None:
    run = GateRun()
    visits = [run.declare(f"DEC-{n:04d}", plate(n)) for n in (1, 2)]
    for visit in visits:
        run.to_yard(visit)
    assert run.core.yard_occupancy()["truck"] == 2
    run.clear_goods(visits[0])
    run.read("cam-yard-out", run.plate_of(visits[0]))
    assert run.core.yard_occupancy()["truck"] == 1
    assert run.core.yard.reserved[VehicleClass.TRUCK] == 0


def test_a_vehicle_arriving_at_barrier_1_when_the_yard_is_full_is_sent_to_staging() -> None:
    run = GateRun(gate_config(yard=ONE_TRUCK))
    fill_the_yard(run)
    visit = run.declare()
    run.arrive_at_barrier_1(visit)
    answer = run.pass_entry_checks(visit)
    assert not of_type(answer, OpenBarrier)
    assert only(answer, KeepClosed).reasons == ("yard full: wait at staging",)
    assert only(answer, RouteTo).station is Station.STAGING
    assert only(answer, TrafficAdvice).action is TrafficAction.HOLD
    run.arrive_at_staging(visit)
    assert run.location(visit) is Location.STAGING and visit in run.core.staging


def test_a_vehicle_leaving_the_yard_before_it_is_cleared_keeps_its_slot() -> None:
    run = GateRun(gate_config(Channel.YELLOW, yard=ONE_TRUCK))
    occupant = fill_the_yard(run)
    waiting = run.declare()
    run.arrive_at_staging(waiting)
    # the occupant drives out with customs still open: it is sent back, and nobody takes its slot
    out = run.read("cam-yard-out", run.plate_of(occupant))
    assert only(out, RouteTo).station is Station.YARD
    assert called_forward(out) == []
    out += run.read("cam-out-1", run.plate_of(occupant))
    assert called_forward(out) == []
    run.read("cam-yard-in", run.plate_of(occupant))
    assert run.core.yard.occupied[VehicleClass.TRUCK] + run.core.yard.reserved[VehicleClass.TRUCK] == 1
    run.clear_goods(occupant)
    assert called_forward(run.leave(occupant)) == [waiting]
    assert run.core.yard.occupied[VehicleClass.TRUCK] + run.core.yard.reserved[VehicleClass.TRUCK] == 1


def test_when_every_staging_area_is_full_the_vehicle_is_held_on_the_approach() -> None:
    run = GateRun(gate_config(yard=ONE_TRUCK, staging={"staging-1": 1}))
    fill_the_yard(run)
    first, second = run.declare("DEC-0001", plate(1)), run.declare("DEC-0002", plate(2))
    run.arrive_at_staging(first)
    advice = only(run.arrive_at_staging(second), TrafficAdvice)
    assert advice.area == "approach" and advice.reason.endswith("; staging areas full")


def test_traffic_police_can_release_vehicles_from_staging_by_hand() -> None:
    run = GateRun(gate_config(yard=ONE_TRUCK))
    fill_the_yard(run)
    waiting = [run.declare(f"DEC-{n:04d}", plate(n)) for n in (1, 2, 3)]
    for visit in waiting:
        run.arrive_at_staging(visit)
    answer = run.send(StagingReleaseOrdered("police-1", "staging-1", 2))
    assert called_forward(answer) == waiting[:2]
    assert run.core.audit.records[-1].reason == "released 2 of 2 from staging-1"
    # released into a full yard: they wait at barrier 1 without a slot, and the yard never overfills
    run.arrive_at_barrier_1(waiting[0])
    kept = run.pass_entry_checks(waiting[0])
    assert only(kept, KeepClosed).reasons == ("yard full: wait at staging",)
    assert run.core.yard.occupied[VehicleClass.TRUCK] + run.core.yard.reserved[VehicleClass.TRUCK] == 1


def test_only_traffic_police_release_staging_and_only_areas_that_exist() -> None:
    run = GateRun()
    assert run.refused(run.send(StagingReleaseOrdered("guard-1", "staging-1", 1))).reason == \
        "account guard-1 is not traffic police"
    assert run.refused(run.send(StagingReleaseOrdered("police-1", "staging-9", 1))).reason == \
        "unknown staging area staging-9"


def test_a_vehicle_held_at_barrier_2_after_giving_up_its_slot_waits_there_rather_than_overfill_the_yard() -> None:
    run = GateRun(gate_config(yard={VehicleClass.CONTAINER: 1}))
    occupant = run.declare(data=container_declaration("DEC-0100", plate(100), containers=1))
    run.arrive_at_staging(occupant)
    run.to_yard(occupant)
    run.clear_goods(occupant)
    waiting = run.declare(data=container_declaration("DEC-0001", plate(1), containers=1))
    run.arrive_at_staging(waiting)
    # cleared, it leaves the yard and its slot goes to the waiting vehicle ...
    assert called_forward(run.read("cam-yard-out", plate(100))) == [waiting]
    # ... then a second container is declared, and more fee is due
    run.send(DeclarationAmended("trader-1", occupant, container_declaration("DEC-0100", plate(100), containers=2)))
    held = run.read("cam-out-1", plate(100))
    assert only(held, KeepClosed).reasons == ("fee not passed",)
    assert not [c for c in of_type(held, RouteTo) if c.station is Station.YARD]
    yard = run.core.yard
    assert yard.occupied[VehicleClass.CONTAINER] + yard.reserved[VehicleClass.CONTAINER] == 1
    run.pay(occupant)
    run.decide(occupant, ClearanceKind.BORDER_GUARD_EXIT)
    assert OpenBarrier("barrier-out-1", occupant, plate(100)) in run.answers[-1]


def test_a_vehicle_driving_back_into_a_full_yard_on_its_own_is_counted_and_reported() -> None:
    run = GateRun(gate_config(yard=ONE_TRUCK))
    occupant = fill_the_yard(run)
    run.clear_goods(occupant)
    waiting = run.declare()
    run.arrive_at_staging(waiting)
    run.read("cam-yard-out", plate(100))  # cleared: its slot goes to the waiting truck
    answer = run.read("cam-yard-in", plate(100))  # ... but it drives back in
    assert only(answer, ManualReview).reason == f"{plate(100)} re-entered a full yard without a slot"
    assert run.core.stats["yard_overflows"] == 1
    assert run.core.yard.occupied[VehicleClass.TRUCK] == 1 and run.core.yard.reserved[VehicleClass.TRUCK] == 1


def test_a_vehicle_called_forward_is_released_from_the_staging_area_it_waited_in() -> None:
    run = GateRun(gate_config(yard=ONE_TRUCK, staging={"staging-1": 1, "staging-2": 1}))
    occupant = fill_the_yard(run)
    first, second, third = (run.declare(f"DEC-{n:04d}", plate(n)) for n in (1, 2, 3))
    held = [only(run.arrive_at_staging(v), TrafficAdvice) for v in (first, second, third)]
    assert [a.area for a in held] == ["staging-1", "staging-2", "approach"]
    run.send(StagingReleaseOrdered("police-1", "staging-1", 1))  # first goes by hand, without a slot
    run.clear_goods(occupant)
    released = [a for a in of_type(run.leave(occupant), TrafficAdvice) if a.action is TrafficAction.RELEASE]
    assert [(a.visit_id, a.area) for a in released] == [(second, "staging-2")]
    assert run.core.staging.waiting_in("staging-2") == 0 and third in run.core.staging


def test_a_release_by_hand_takes_the_vehicles_waiting_in_the_area_it_names() -> None:
    run = GateRun(gate_config(yard=ONE_TRUCK, staging={"north": 1, "south": 5}))
    fill_the_yard(run)
    north, south = run.declare("DEC-0001", plate(1)), run.declare("DEC-0002", plate(2))
    run.arrive_at_staging(north)
    run.arrive_at_staging(south)
    assert run.core.staging.area_of(north) == "north" and run.core.staging.area_of(south) == "south"
    answer = run.send(StagingReleaseOrdered("police-1", "south", 1))
    assert called_forward(answer) == [south]
    assert run.core.audit.records[-1].reason == "released 1 of 1 from south"
    assert run.core.staging.waiting_in("north") == 1 and run.core.staging.waiting_in("south") == 0


def test_a_release_by_hand_takes_perishables_first_then_the_area_in_arrival_order_whatever_the_class() -> None:
    run = GateRun(gate_config(yard={VehicleClass.TRUCK: 0, VehicleClass.SMALL: 0, VehicleClass.CONTAINER: 0}))
    small = run.declare("DEC-0001", plate(1), **SMALL)
    truck = run.declare("DEC-0002", plate(2))
    fruit = run.declare("DEC-0003", plate(3), goods=[goods("plants_fruit")])
    for visit in (small, truck, fruit):
        run.arrive_at_staging(visit)
    assert called_forward(run.send(StagingReleaseOrdered("police-1", "staging-1", 3))) == [fruit, small, truck]


def test_a_release_by_hand_keeps_the_place_of_a_vehicle_waiting_at_barrier_1_for_a_slot() -> None:
    run = GateRun(gate_config(yard=ONE_TRUCK))
    occupant = run.declare("DEC-0100", plate(100))
    run.arrive_at_staging(occupant)  # takes the only truck slot
    waiting = run.declare()
    run.arrive_at_barrier_1(waiting)  # drives straight to barrier 1
    kept = run.pass_entry_checks(waiting)
    assert only(kept, KeepClosed).reasons == ("yard full: wait at staging",)
    answer = run.send(StagingReleaseOrdered("police-1", "staging-1", 1))
    assert run.core.audit.records[-1].reason == "released 0 of 1 from staging-1"
    assert called_forward(answer) == [] and waiting in run.core.staging
    freed = run.send(DeclarationCancelled("trader-1", occupant))  # the slot frees: the barrier opens for it
    assert only(freed, OpenBarrier) == OpenBarrier("barrier-in-1", waiting, run.plate_of(waiting))



def test_a_vehicle_that_left_the_staging_queue_and_was_sent_back_waits_behind_those_who_queued_meanwhile() -> None:
    run = GateRun(gate_config(yard=ONE_TRUCK))
    occupant = fill_the_yard(run)
    early, patient = run.declare("DEC-0001", plate(1)), run.declare("DEC-0002", plate(2))
    run.arrive_at_staging(early)
    run.arrive_at_barrier_1(early)  # drives on to barrier 1 without being called, leaving the queue
    run.arrive_at_staging(patient)
    kept = run.pass_entry_checks(early)  # the yard is still full: sent back to wait, at the back
    assert only(kept, KeepClosed).reasons == ("yard full: wait at staging",)
    run.clear_goods(occupant)
    assert called_forward(run.leave(occupant)) == [patient]
