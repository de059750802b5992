"""A vehicle called forward from staging holds a yard slot. One that never reaches barrier 1 must
not hold it for ever: after ``timeouts.call_forward_s`` the slot goes to the next vehicle, the
vehicle queues again at staging (its visit kept), and people are asked to find it."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from gate.commands import KeepClosed, ManualReview, OpenBarrier, RouteTo
from gate.config import TimeoutConfig
from gate.enums import Channel, ClearanceKind, Location, Outcome, ReviewKind, Role, Station, VehicleClass
from gate.events import DeclarationCancelled
from tests.unit.core.support import GateRun, gate_config, of_type, only

TRUCK = VehicleClass.TRUCK
LIMIT = TimeoutConfig().call_forward_s


def called(answer: list, run: GateRun, visit: str) -> bool:
    return any(isinstance(c, RouteTo) and c.visit_id == visit and c.station is Station.ENTRY_LANE for c in answer)


def one_called_one_waiting(**config: object) -> tuple[GateRun, str, str, float]:
    """A one-slot yard: the first truck is called forward from staging, the second waits there.
    Returns the run, both visits and when the first was called."""
    run = GateRun(gate_config(yard={TRUCK: 1}, **config))
    first, second = run.declare(), run.declare("DEC-0002", "12C-000.02")
    assert called(run.arrive_at_staging(first), run, first)
    called_at = run.now
    assert not called(run.arrive_at_staging(second), run, second)
    return run, first, second, called_at


def test_the_default_limit_is_half_an_hour() -> None:
    assert LIMIT == 1800.0


def test_a_called_vehicle_is_not_chased_before_its_limit() -> None:
    run, first, second, called_at = one_called_one_waiting()
    answer = run.wake(called_at + LIMIT - 1)
    assert not of_type(answer, ManualReview) and not called(answer, run, second)
    assert run.core.active[first].reserved_slot


def test_a_called_vehicle_that_never_reaches_barrier_1_gives_its_slot_to_the_next_and_queues_again() -> None:
    run, first, second, called_at = one_called_one_waiting()
    answer = run.wake(called_at + LIMIT)
    review = only(answer, ManualReview)
    assert (review.kind, review.roles, review.visit_id, review.plate) == (
        ReviewKind.NO_SHOW, (Role.TRAFFIC_POLICE, Role.BORDER_GUARD), first, "12C-000.01")
    assert "has not reached barrier 1 within 1800 s" in review.reason
    assert called(answer, run, second)
    visit = run.core.active[first]
    assert run.location(first) is Location.STAGING and not visit.reserved_slot and first in run.core.staging
    assert run.core.yard.reserved[TRUCK] == 1 and run.core.active[second].reserved_slot
    record = run.core.audit.records[-1]
    assert (record.actor, record.action, record.visit_id, record.accepted) == ("core", "NoShow", first, True)
    assert run.core.check_invariants() == [] and run.core.audit.verify() is None


def test_reaching_barrier_1_in_time_cancels_the_limit() -> None:
    run, first, _, called_at = one_called_one_waiting()
    run.arrive_at_barrier_1(first)
    assert all(kind != "no-show" for _, kind, _ in run.core.deadlines.pending())
    assert not of_type(run.wake(called_at + 10 * LIMIT), ManualReview)
    assert run.core.active[first].reserved_slot


def test_a_vehicle_leaving_the_flow_cancels_its_limit() -> None:
    run, first, second, called_at = one_called_one_waiting()
    answer = run.send(DeclarationCancelled("trader-1", first, "trip called off"))
    assert called(answer, run, second)
    assert [key for _, kind, key in run.core.deadlines.pending() if kind == "no-show"] == [second]


def test_a_no_show_that_turns_up_when_the_yard_is_full_is_sent_back_to_staging_and_its_review_closes() -> None:
    run, first, second, called_at = one_called_one_waiting()
    review = only(run.wake(called_at + LIMIT), ManualReview)
    answer = run.arrive_at_barrier_1(first) + run.pass_entry_checks(first)
    assert review.review_id not in run.core.reviews
    assert only(answer, KeepClosed).reasons == ("yard full: wait at staging",)
    assert RouteTo(first, "12C-000.01", Station.STAGING, None) in answer and not of_type(answer, OpenBarrier)
    assert run.core.active[second].reserved_slot and not run.core.active[first].reserved_slot
    assert run.core.check_invariants() == []


def test_a_no_show_alone_at_staging_is_called_again_and_let_in_when_it_turns_up() -> None:
    run = GateRun(gate_config(yard={TRUCK: 1}))
    visit = run.declare()
    run.arrive_at_staging(visit)
    answer = run.wake(run.now + LIMIT)
    assert only(answer, ManualReview).kind is ReviewKind.NO_SHOW
    assert called(answer, run, visit) and run.core.active[visit].reserved_slot  # nobody else waits
    run.enter(visit)
    assert run.core.open_reviews() == [] and run.location(visit) is Location.ENTRY_LANE
    assert run.core.check_invariants() == []


def test_a_vehicle_queueing_behind_others_in_its_lane_is_not_taken_for_a_no_show() -> None:
    run = GateRun(gate_config(yard={TRUCK: 3}))
    ahead, behind = run.declare(), run.declare("DEC-0002", "12C-000.02")
    run.arrive_at_staging(ahead)
    run.arrive_at_barrier_1(ahead)  # at the arm, waiting for the border guard
    run.arrive_at_staging(behind)
    called_at = run.now
    assert not of_type(run.wake(called_at + LIMIT), ManualReview)  # the lane has not moved: it queues
    assert run.core.active[behind].reserved_slot
    run.pass_entry_checks(ahead)
    run.pass_barrier("barrier-in-1", ahead)
    assert not of_type(run.wake(called_at + 2 * LIMIT), ManualReview)  # the lane moved: a whole limit more
    review = only(run.wake(called_at + 3 * LIMIT), ManualReview)  # and still no sign of it
    assert (review.kind, review.visit_id) == (ReviewKind.NO_SHOW, behind)


def test_a_second_no_show_replaces_the_first_review() -> None:
    run = GateRun(gate_config(yard={TRUCK: 1}))
    visit = run.declare()
    run.arrive_at_staging(visit)
    first = only(run.wake(run.now + LIMIT), ManualReview)
    second = only(run.wake(run.now + LIMIT), ManualReview)
    assert first.review_id != second.review_id
    assert [r.review_id for r in run.core.open_reviews()] == [second.review_id]


def test_the_limit_is_set_by_the_site() -> None:
    run, first, second, called_at = one_called_one_waiting(timeouts=TimeoutConfig(call_forward_s=600.0))
    assert only(run.wake(called_at + 600.0), ManualReview).kind is ReviewKind.NO_SHOW


#: Ways a vehicle taken for a no-show leaves the flow from staging, and what the audit then says.
ENDINGS: dict[str, tuple[Callable[[GateRun, str], object], str]] = {
    "cancelled": (lambda run, visit: run.send(DeclarationCancelled("trader-1", visit, "trip called off")),
                  "the visit ended (cancelled)"),
    "refused": (lambda run, visit: run.decide(visit, ClearanceKind.MEDICAL, Outcome.REFUSED, reasons=("fever",)),
                "the visit ended (refused)"),
    "fee refused": (lambda run, visit: run.decide(visit, ClearanceKind.FEE, Outcome.REFUSED, reasons=("unpaid",)),
                    "the visit ended (refused)"),
    "returned": (lambda run, visit: run.decide(visit, ClearanceKind.CUSTOMS_DOCUMENTS, Outcome.RETURNED,
                                               reasons=("wrong HS code",)),
                 "the vehicle was turned back (returned)"),
}


@pytest.mark.parametrize("ending", sorted(ENDINGS))
def test_a_no_show_review_closes_when_the_vehicle_leaves_the_flow_and_the_audit_says_why(ending: str) -> None:
    run, first, second, called_at = one_called_one_waiting(channel=Channel.YELLOW)  # customs checks papers at staging
    review = only(run.wake(called_at + LIMIT), ManualReview)
    assert run.location(first) is Location.STAGING
    leave, because = ENDINGS[ending]
    leave(run, first)
    assert review.review_id not in run.core.reviews and run.core.open_reviews() == []
    record = run.core.audit.records[-1]  # the event's own record: one per event
    assert record.accepted and record.visit_id == first
    assert record.reason.endswith(f"; no-show review {review.review_id} closed: {because}")
    assert run.core.active.get(first) is None or run.core.active[first].no_show_review is None
    assert run.core.check_invariants() == [] and run.core.audit.verify() is None

