"""A vehicle called forward from staging holds a yard slot. One that never reaches barrier 1 must
not hold it for ever: after ``timeouts.call_forward_s`` the slot goes to the next vehicle, the
vehicle queues again at staging (its visit kept), and people are asked to find it. One that misses
``timeouts.no_show_max_calls`` calls in a row is no longer called until it is heard from."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from pydantic import ValidationError

from gate.commands import KeepClosed, ManualReview, OpenBarrier, RefuseEvent, RouteTo
from gate.config import TimeoutConfig
from gate.enums import Channel, ClearanceKind, Location, Outcome, PaymentMethod, ReviewKind, Role, Station, VehicleClass
from gate.events import (
    ClearanceDecided, DeclarationAmended, DeclarationCancelled, FeePaid, GpsPing, Position, PositionsReported,
    ReviewResolved, StagingReleaseOrdered,
)
from tests.unit.core.support import GateRun, declaration, gate_config, of_type, only

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



def test_a_vehicle_turned_back_after_a_no_show_comes_again_with_no_missed_call_behind_it() -> None:
    run, first, _, called_at = one_called_one_waiting(channel=Channel.YELLOW)
    run.wake(called_at + LIMIT)
    assert run.view(first).missed_calls == 1
    run.decide(first, ClearanceKind.CUSTOMS_DOCUMENTS, Outcome.RETURNED, reasons=("wrong HS code",))
    assert run.location(first) is Location.RETURNED and run.core.open_reviews() == []
    assert run.view(first).missed_calls == 0


# ---------------------------------------------------------------------------- missing every call


def test_by_default_a_vehicle_is_called_three_times_before_it_is_no_longer_called() -> None:
    assert TimeoutConfig().no_show_max_calls == 3


@pytest.mark.parametrize("calls", [0, -1])
def test_a_limit_of_missed_calls_below_one_is_refused(calls: int) -> None:
    with pytest.raises(ValidationError, match="no_show_max_calls"):
        TimeoutConfig(no_show_max_calls=calls)


def test_a_vehicle_alone_at_staging_that_misses_three_calls_in_a_row_is_no_longer_called() -> None:
    run = GateRun(gate_config(yard={TRUCK: 1}))
    visit = run.declare()
    run.arrive_at_staging(visit)
    reviews = []
    for missed in (1, 2):
        answer = run.wake(run.now + LIMIT)
        reviews.append(only(answer, ManualReview))
        assert called(answer, run, visit) and run.view(visit).missed_calls == missed
        assert run.core.audit.records[-1].action == "NoShow"
    answer = run.wake(run.now + LIMIT)
    review = only(answer, ManualReview)
    assert not called(answer, run, visit)
    assert (review.kind, review.roles, review.visit_id) == (
        ReviewKind.NO_SHOW, (Role.TRAFFIC_POLICE, Role.BORDER_GUARD), visit)
    assert "has missed 3 calls forward in a row and is no longer called" in review.reason
    assert [r.review_id for r in run.core.open_reviews()] == [review.review_id]  # it replaced the others
    record = run.core.audit.records[-1]
    assert (record.actor, record.action, record.visit_id) == ("core", "NotAnswering", visit)
    assert record.reason.endswith("3 calls missed in a row, no longer called forward until heard from")
    view = run.view(visit)
    assert view.not_answering and view.missed_calls == 3 and view.location is Location.STAGING
    assert not run.core.active[visit].reserved_slot and run.core.yard.reserved[TRUCK] == 0
    assert visit in run.core.staging and not run.core.staging.is_ready(visit)
    assert run.core.next_deadline() is None  # nothing left to time: no call every half hour for ever
    assert run.wake(run.now + 100 * LIMIT) == []
    assert run.core.check_invariants() == [] and run.core.audit.verify() is None


def not_answering(channel: Channel = Channel.GREEN, **config: Any) -> tuple[GateRun, str, ManualReview]:
    """A one-slot yard, and a vehicle alone at staging that missed the one call it is allowed:
    it is no longer called. Returns the run, the visit and the review saying so."""
    run = GateRun(gate_config(channel, yard={TRUCK: 1}, timeouts=TimeoutConfig(no_show_max_calls=1), **config))
    visit = run.declare()
    assert called(run.arrive_at_staging(visit), run, visit)
    answer = run.wake(run.now + LIMIT)
    assert run.view(visit).not_answering and not called(answer, run, visit)
    return run, visit, only(answer, ManualReview)


def test_a_vehicle_not_answering_is_still_an_open_visit_waiting_at_staging() -> None:
    run, visit, _ = not_answering()
    assert run.core.open_visits() == 1 and run.core.staging.waiting_in("staging-1") == 1
    view = run.core.visit_by_plate("12C-000.01")
    assert view is not None and view.visit_id == visit and view.location is Location.STAGING and view.not_answering


def test_the_vehicles_behind_one_not_answering_are_called_and_newcomers_do_not_wait_for_it() -> None:
    run, first, second, called_at = one_called_one_waiting(timeouts=TimeoutConfig(no_show_max_calls=1))
    answer = run.wake(called_at + LIMIT)
    assert run.view(first).not_answering and called(answer, run, second)
    third = run.declare("DEC-0003", "12C-000.03")
    run.arrive_at_staging(third)  # the yard's one slot is the second's: it waits
    answer = run.send(DeclarationCancelled("trader-1", second, "trip called off"))
    assert called(answer, run, third) and not called(answer, run, first)
    run.core.yard.capacity[TRUCK] = 3  # two slots more: only a newcomer takes one
    fourth = run.declare("DEC-0004", "12C-000.04")
    assert called(run.arrive_at_staging(fourth), run, fourth)
    assert run.view(first).not_answering and not run.core.active[first].reserved_slot
    assert run.core.check_invariants() == []


def _alive(kind: str, run: GateRun, visit: str, review: ManualReview) -> object:
    plate_ = run.plate_of(visit)
    fee = run.view(visit).fee_vnd
    return {
        "its plate read at staging": lambda: run.read("cam-staging", plate_),
        "a position from its driver's app": lambda: run.send(GpsPing("app", plate_, 1.5, 0.0)),
        "a position in a telematics batch": lambda: run.send(
            PositionsReported("telematics", (Position(plate_, 1.5, 0.0),))),
        "an officer's decision on it": lambda: run.send(
            ClearanceDecided("customs-1", visit, ClearanceKind.CUSTOMS_DOCUMENTS, Outcome.PASSED)),
        "its fee paid at the counter": lambda: run.send(FeePaid("fees-1", visit, fee, PaymentMethod.DIRECT, "CASH")),
        "an amendment of its declaration": lambda: run.send(
            DeclarationAmended("trader-1", visit, declaration(declared_gross_kg=20_400))),
        "its review closed by traffic police": lambda: run.send(
            ReviewResolved("police-1", review.review_id, "driver found asleep in the cab")),
    }[kind]()


@pytest.mark.parametrize("news", [
    "its plate read at staging", "a position from its driver's app", "a position in a telematics batch",
    "an officer's decision on it", "its fee paid at the counter", "an amendment of its declaration",
    "its review closed by traffic police",
])
def test_a_vehicle_not_answering_is_called_again_once_it_is_heard_from(news: str) -> None:
    run, visit, review = not_answering(Channel.YELLOW)  # customs checks the papers at staging
    answer = _alive(news, run, visit, review)
    assert isinstance(answer, list) and not of_type(answer, RefuseEvent)
    assert called(answer, run, visit) and run.core.active[visit].reserved_slot
    view = run.view(visit)
    assert not view.not_answering and view.missed_calls == 0
    assert review.review_id not in run.core.reviews
    record = run.core.audit.records[-1]  # the record of the news itself says what came of it
    assert record.accepted and "; vehicle 12C-000.01 heard from (" in record.reason
    assert "): it may be called forward again" in record.reason and f"review {review.review_id} closed" in record.reason
    assert run.core.check_invariants() == [] and run.core.audit.verify() is None


def test_heard_from_while_the_yard_is_full_it_queues_again_at_the_back() -> None:
    run, first, second, called_at = one_called_one_waiting(timeouts=TimeoutConfig(no_show_max_calls=1))
    run.wake(called_at + LIMIT)  # the first is given up, the second called
    third = run.declare("DEC-0003", "12C-000.03")
    run.arrive_at_staging(third)
    answer = run.read("cam-staging", "12C-000.01")
    assert not called(answer, run, first) and run.core.staging.is_ready(first)
    answer = run.send(DeclarationCancelled("trader-1", second, "trip called off"))
    assert called(answer, run, third) and not called(answer, run, first)  # the third was waiting before it


def test_only_the_people_the_review_belongs_to_may_release_a_vehicle_not_answering() -> None:
    run, visit, review = not_answering()
    refusal = run.refused(run.send(ReviewResolved("customs-1", review.review_id)))
    assert "may not close no-show review" in refusal.reason
    assert run.view(visit).not_answering and review.review_id in run.core.reviews
    answer = run.send(ReviewResolved("guard-1", review.review_id))
    assert called(answer, run, visit) and not run.view(visit).not_answering


def test_a_doubtful_read_or_a_read_where_it_cannot_be_is_no_news_of_a_vehicle_not_answering() -> None:
    run, visit, review = not_answering()
    doubtful = run.read("cam-staging", "12C-000.01", confidence=0.5)
    assert only(doubtful, ManualReview).kind is ReviewKind.PLATE_READ
    impossible = run.read("cam-yard-in", "12C-000.01")
    assert of_type(impossible, RefuseEvent) and only(impossible, ManualReview).kind is ReviewKind.OUT_OF_ORDER
    assert run.view(visit).not_answering and review.review_id in run.core.reviews
    assert not called(doubtful + impossible, run, visit)


def test_a_vehicle_not_answering_that_turns_up_at_barrier_1_is_let_in_as_a_late_arrival() -> None:
    run, visit, review = not_answering()
    answer = run.arrive_at_barrier_1(visit) + run.pass_entry_checks(visit)
    assert only(answer, OpenBarrier).device_id == "barrier-in-1"
    assert run.location(visit) is Location.ENTRY_LANE and review.review_id not in run.core.reviews
    view = run.view(visit)
    assert not view.not_answering and view.missed_calls == 0 and visit not in run.core.staging
    assert run.core.check_invariants() == []


def test_a_vehicle_not_answering_that_turns_up_when_the_yard_is_full_is_sent_back_to_staging() -> None:
    run, first, second, called_at = one_called_one_waiting(timeouts=TimeoutConfig(no_show_max_calls=1))
    review = only(run.wake(called_at + LIMIT), ManualReview)
    answer = run.arrive_at_barrier_1(first) + run.pass_entry_checks(first)
    assert only(answer, KeepClosed).reasons == ("yard full: wait at staging",)
    assert RouteTo(first, "12C-000.01", Station.STAGING, None) in answer and not of_type(answer, OpenBarrier)
    assert review.review_id not in run.core.reviews and not run.view(first).not_answering
    assert run.core.staging.is_ready(first) and run.core.active[second].reserved_slot
    assert run.core.check_invariants() == []


def test_an_amendment_naming_another_driver_calls_the_vehicle_again_once_the_new_driver_is_checked() -> None:
    run, visit, review = not_answering()
    driver = {"name": "Tran Van Binh", "id_number": "001085099999", "nationality": "VN"}
    answer = run.send(DeclarationAmended("trader-1", visit, declaration(driver=driver)))
    assert not run.view(visit).not_answering and review.review_id not in run.core.reviews
    assert not called(answer, run, visit)  # the new driver's medical check comes first
    assert called(run.decide(visit, ClearanceKind.MEDICAL), run, visit)


def test_a_vehicle_answering_a_call_starts_its_count_of_missed_calls_afresh() -> None:
    run = GateRun(gate_config(yard={TRUCK: 1}))
    visit = run.declare()
    run.arrive_at_staging(visit)
    run.wake(run.now + LIMIT)
    run.wake(run.now + LIMIT)
    assert run.view(visit).missed_calls == 2
    run.enter(visit)
    assert run.view(visit).missed_calls == 0 and run.core.open_reviews() == []


def test_a_release_by_hand_from_staging_leaves_a_vehicle_not_answering_where_it_is() -> None:
    run, visit, review = not_answering(call_when_checked=False)
    answer = run.send(StagingReleaseOrdered("police-1", "staging-1", 5))
    assert not called(answer, run, visit) and run.view(visit).not_answering
    assert run.core.audit.records[-1].reason == "released 0 of 5 from staging-1"


def test_a_vehicle_not_answering_whose_trip_is_called_off_leaves_nothing_open() -> None:
    run, visit, review = not_answering()
    run.send(DeclarationCancelled("trader-1", visit, "trip called off"))
    assert run.core.open_reviews() == [] and run.core.not_answering == {} and visit not in run.core.staging
    view = run.view(visit)
    assert view.location is Location.REFUSED and not view.not_answering
    assert run.core.audit.records[-1].reason.endswith(
        f"; no-show review {review.review_id} closed: the visit ended (cancelled)")
    assert run.core.check_invariants() == []


def test_the_limit_counts_none_of_the_time_the_gate_is_closed() -> None:
    # Called ten minutes before the gate closes for a day: twenty minutes of the limit are left
    # for after the reopening, and nobody is chased while it is closed.
    closes, reopens = 8 * 3600.0 + 600.0, 32 * 3600.0 + 600.0
    run = GateRun(gate_config(yard={TRUCK: 1}, timeouts=TimeoutConfig(closed=((closes, reopens),))))
    first = run.declare()
    run.now = 8 * 3600.0
    assert called(run.arrive_at_staging(first), run, first)
    due = {kind: when for when, kind, _ in run.core.deadlines.pending()}
    assert due["no-show"] == reopens + LIMIT - (closes - run.now)
    assert not of_type(run.wake(reopens - 1), ManualReview)
    assert only(run.wake(due["no-show"]), ManualReview).kind is ReviewKind.NO_SHOW
