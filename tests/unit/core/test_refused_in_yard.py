"""A vehicle refused while parked in the yard is still there: its slot stays taken until it is
seen out of the yard (or an officer says it has gone), and only then is the next vehicle called."""

from __future__ import annotations

from gate.commands import KeepClosed, ManualReview, RouteTo
from gate.enums import Channel, ClearanceKind as K, Location, Outcome, Station, VehicleClass
from gate.events import ManualPlateEntered, ReviewResolved
from tests.unit.core.support import GateRun, gate_config, of_type, only

TRUCK = VehicleClass.TRUCK


def refused_in_a_full_yard() -> tuple[GateRun, str, str, str]:
    """A one-slot yard: the first truck is parked and refused, the second waits at staging.
    Returns the run, both visits and the review raised about the refused truck."""
    run = GateRun(gate_config(Channel.YELLOW, yard={TRUCK: 1}))
    refused = run.declare()
    run.to_yard(refused)
    waiting = run.declare("DEC-0002", "12C-000.02")
    run.arrive_at_staging(waiting)
    answer = run.decide(refused, K.CUSTOMS_DOCUMENTS, Outcome.REFUSED, reasons=("forged invoice",))
    assert RouteTo(refused, run.plate_of(refused), Station.AWAY) in answer
    review = only(answer, ManualReview)
    assert review.reason == ("vehicle 12C-000.01 was refused inside the yard (visit DEC-0001): see it out; its slot "
                             "stays taken until it is seen leaving the yard, or this review is closed")
    assert (review.visit_id, review.plate) == (refused, "12C-000.01")
    return run, refused, waiting, review.review_id


def called(answer: list, run: GateRun, visit: str) -> bool:
    return RouteTo(visit, run.plate_of(visit), Station.ENTRY_LANE, "barrier-in-1") in answer


def test_the_slot_stays_taken_while_the_refused_vehicle_is_still_in_the_yard() -> None:
    run, refused, waiting, _ = refused_in_a_full_yard()
    assert run.location(refused) is Location.REFUSED
    assert run.core.yard.occupied[TRUCK] == 1 and run.core.yard.reserved[TRUCK] == 0
    assert run.location(waiting) is Location.STAGING and waiting in run.core.staging
    assert not any(called(a, run, waiting) for a in run.answers)
    assert run.core.check_invariants() == []


def test_seen_leaving_the_yard_it_frees_the_slot_and_the_next_vehicle_is_called() -> None:
    run, refused, waiting, review = refused_in_a_full_yard()
    answer = run.read("cam-yard-out", "12C-000.01")
    assert called(answer, run, waiting)
    assert not of_type(answer, ManualReview)
    assert review not in run.core.reviews  # the camera answered it
    read = run.core.audit.records[-1]
    assert (read.action, read.actor, read.visit_id, read.accepted) == ("PlateRead", "cam-yard-out", refused, True)
    assert read.reason == (f"refused vehicle 12C-000.01 is out of the yard (seen at yard_gate_out): its slot is "
                           f"free, review {review} closed")
    assert run.core.yard.occupied[TRUCK] == 0 and run.core.yard.reserved[TRUCK] == 1
    assert run.core.check_invariants() == [] and run.core.audit.verify() is None
    again = run.read("cam-yard-out", "12C-000.01")  # seen once more: an officer must see to it, as before
    assert "refused vehicle 12C-000.01" in only(again, ManualReview).reason and not called(again, run, waiting)


def test_closing_the_review_says_it_has_gone_and_frees_the_slot() -> None:
    run, refused, waiting, review = refused_in_a_full_yard()
    answer = run.send(ReviewResolved("yard-1", review, "escorted out by the back gate"))
    assert called(answer, run, waiting)
    assert run.core.audit.records[-1].reason == (
        f"review {review} closed: escorted out by the back gate; refused vehicle 12C-000.01 is out of the yard "
        f"(gone, says yard-1): its slot is free, review {review} closed")
    assert run.core.yard.occupied[TRUCK] == 0
    assert run.core.check_invariants() == []


def test_seen_inside_the_yard_it_still_fills_its_slot() -> None:
    run, refused, waiting, _ = refused_in_a_full_yard()
    answer = run.read("cam-yard-in", "12C-000.01")
    assert "refused vehicle 12C-000.01" in only(answer, ManualReview).reason
    assert run.core.yard.occupied[TRUCK] == 1 and not called(answer, run, waiting)


def test_seen_at_barrier_2_it_is_out_of_the_yard_but_the_barrier_stays_closed() -> None:
    run, refused, waiting, _ = refused_in_a_full_yard()
    answer = run.read("cam-out-1", "12C-000.01")
    assert called(answer, run, waiting)
    assert only(answer, KeepClosed).device_id == "barrier-out-1"
    assert "refused vehicle 12C-000.01" in only(answer, ManualReview).reason
    assert run.core.yard.occupied[TRUCK] == 0
    record = run.core.audit.records[-1]  # one record for the read, saying both
    assert not record.accepted and record.reason.startswith(
        "refused vehicle 12C-000.01 is out of the yard (seen at barrier_2): its slot is free")
    assert record.reason.endswith("; vehicle 12C-000.01 was refused (visit DEC-0001): no open declaration")


def test_typed_by_hand_where_the_camera_missed_it_leaving_it_frees_the_slot() -> None:
    run, refused, waiting, review = refused_in_a_full_yard()
    unread = run.read("cam-yard-out", None)
    no_read = only(unread, ManualReview).review_id
    answer = run.send(ManualPlateEntered("guard-1", no_read, "12C-000.01"))
    assert called(answer, run, waiting)
    assert run.core.audit.records[-1].reason == (
        f"manual entry of 12C-000.01 resolved {no_read}; refused vehicle 12C-000.01 is out of the yard "
        f"(seen at yard_gate_out): its slot is free, review {review} closed")
    assert not run.core.reviews and run.core.check_invariants() == []


def test_a_new_declaration_for_the_vehicle_seen_at_staging_means_it_has_left() -> None:
    run, refused, waiting, review = refused_in_a_full_yard()
    again = run.declare("DEC-0003", "12C-000.01")
    answer = run.read("cam-staging", "12C-000.01")
    assert called(answer, run, waiting)  # the slot went to the vehicle waiting first
    assert run.location(again) is Location.STAGING and review not in run.core.reviews
    assert run.core.audit.records[-1].reason.startswith(
        "refused vehicle 12C-000.01 is out of the yard (seen at staging): its slot is free")
    assert run.core.check_invariants() == []
