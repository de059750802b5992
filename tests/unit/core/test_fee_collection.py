"""Collecting the infrastructure fee: at the counter or online, partial payments, and the exit it guards."""

from __future__ import annotations

import pytest

from gate.commands import KeepClosed, ManualReview, OpenBarrier, RequestFee, RouteTo
from gate.config import FeeSchedule, TimeoutConfig
from gate.enums import ClearanceKind, ClearanceStatus, Location, PaymentMethod, Role, Station
from gate.events import PaymentConfirmed
from tests.unit.core.support import EXIT, GateRun, gate_config, of_type, only

K = ClearanceKind
S = ClearanceStatus
ONLINE = PaymentMethod.ONLINE


def in_yard_unpaid(run: GateRun) -> str:
    visit = run.declare()
    run.to_yard(visit)
    return visit


def test_a_fee_collector_takes_the_fee_at_the_counter() -> None:
    run = GateRun()
    visit = in_yard_unpaid(run)
    answer = run.pay(visit)
    assert run.status(visit, K.FEE) is S.PASSED
    assert only(answer, RouteTo).station is Station.EXIT_LANE
    assert run.view(visit).fee_paid_vnd == 500_000
    assert run.core.stats["fees_collected_vnd"] == 500_000
    assert run.core.audit.records[-1].reason == "paid 500,000 VND at the counter"


def test_only_a_fee_collector_takes_payment_at_the_counter() -> None:
    run = GateRun()
    visit = in_yard_unpaid(run)
    answer = run.pay(visit, account="trader-1")
    assert run.refused(answer).reason == "account trader-1 cannot take payment at the counter"
    assert run.status(visit, K.FEE) is S.REQUIRED and run.view(visit).fee_paid_vnd == 0


def test_an_online_payment_waits_for_confirmation_and_then_passes() -> None:
    run = GateRun()
    visit = in_yard_unpaid(run)
    pending = run.pay(visit, method=ONLINE, account="trader-1", reference="VCB-778")
    assert pending == []
    assert run.status(visit, K.FEE) is S.PENDING_CONFIRMATION
    assert run.view(visit).fee_paid_vnd == 0
    confirmed = run.send(PaymentConfirmed("fees-1", visit, "VCB-778"))
    assert run.status(visit, K.FEE) is S.PASSED and run.view(visit).fee_paid_vnd == 500_000
    assert only(confirmed, RouteTo).station is Station.EXIT_LANE


def test_a_confirmation_must_name_the_pending_payment_and_come_from_a_fee_collector() -> None:
    run = GateRun()
    visit = in_yard_unpaid(run)
    nothing_pending = run.send(PaymentConfirmed("fees-1", visit, "VCB-778"))
    assert run.refused(nothing_pending).reason == "no online payment is awaiting confirmation"
    run.pay(visit, method=ONLINE, account="trader-1", reference="VCB-778")
    wrong = run.send(PaymentConfirmed("fees-1", visit, "VCB-999"))
    assert run.refused(wrong).reason == "reference VCB-999 does not match the pending payment VCB-778"
    stranger = run.send(PaymentConfirmed("customs-1", visit, "VCB-778"))
    assert run.refused(stranger).reason == "account customs-1 cannot confirm payments"
    assert run.status(visit, K.FEE) is S.PENDING_CONFIRMATION


def test_only_the_declarant_or_a_fee_collector_pays_online() -> None:
    run = GateRun()
    visit = in_yard_unpaid(run)
    answer = run.pay(visit, method=ONLINE, account="trader-2", reference="X-1")
    assert run.refused(answer).reason == f"account trader-2 may not pay for {visit}"


@pytest.mark.parametrize(("staffed", "due_after"), [(False, "the reopening"), (True, "an hour")])
def test_the_time_to_confirm_an_online_payment_counts_none_of_a_closure_the_fee_collectors_do_not_work(
        staffed: bool, due_after: str) -> None:
    closed = ((0.0, 86_400.0),)
    timeouts = TimeoutConfig(closed=closed, closed_for={Role.FEE_COLLECTOR: ()} if staffed else {})
    run = GateRun(gate_config(timeouts=timeouts))
    visit = in_yard_unpaid(run)
    run.pay(visit, method=ONLINE, account="trader-1", reference="VCB-778")
    limit = run.core.config.timeouts.payment_confirmation_s
    due = (run.now if staffed else 86_400.0) + limit
    assert (due, "payment", visit) in run.core.deadlines.pending(), due_after


def test_an_unconfirmed_online_payment_raises_a_review_when_its_time_runs_out() -> None:
    run = GateRun()
    visit = in_yard_unpaid(run)
    run.pay(visit, method=ONLINE, account="trader-1", reference="VCB-778")
    paid_at = run.now
    due = paid_at + run.core.config.timeouts.payment_confirmation_s
    assert (due, "payment", visit) in run.core.deadlines.pending()
    assert not of_type(run.wake(due - 1), ManualReview)
    answer = run.wake(due)
    review = only(answer, ManualReview)
    assert review.reason == "online payment VCB-778 for 12C-000.01 not confirmed in time"
    assert review.visit_id == visit
    assert run.core.audit.records[-1].action == "PaymentUnconfirmed"
    # a late confirmation still counts
    run.send(PaymentConfirmed("fees-1", visit, "VCB-778"))
    assert run.status(visit, K.FEE) is S.PASSED


def test_a_confirmation_after_the_time_ran_out_closes_the_review_it_raised() -> None:
    run = GateRun()
    visit = in_yard_unpaid(run)
    run.pay(visit, method=ONLINE, account="trader-1", reference="VCB-778")
    review = only(run.wake(run.now + run.core.config.timeouts.payment_confirmation_s), ManualReview)
    run.send(PaymentConfirmed("fees-1", visit, "VCB-778"))
    assert run.status(visit, K.FEE) is S.PASSED
    assert run.core.open_reviews() == []
    assert run.core.audit.records[-1].reason == f"online payment VCB-778 confirmed; review {review.review_id} closed"


def test_a_counter_payment_in_place_of_an_online_one_never_confirmed_closes_the_review_it_raised() -> None:
    run = GateRun()
    visit = in_yard_unpaid(run)
    run.pay(visit, method=ONLINE, account="trader-1", reference="VCB-778")
    review = only(run.wake(run.now + run.core.config.timeouts.payment_confirmation_s), ManualReview)
    run.pay(visit, reference="CASH-1")
    assert run.status(visit, K.FEE) is S.PASSED
    assert run.core.open_reviews() == []
    assert run.core.audit.records[-1].reason.endswith(f"at the counter; review {review.review_id} closed")


def test_a_confirmation_in_time_cancels_the_payment_deadline() -> None:
    run = GateRun()
    visit = in_yard_unpaid(run)
    run.pay(visit, method=ONLINE, account="trader-1", reference="VCB-778")
    due = run.now + run.core.config.timeouts.payment_confirmation_s
    run.send(PaymentConfirmed("fees-1", visit, "VCB-778"))
    assert (due, "payment", visit) not in run.core.deadlines.pending()
    assert not of_type(run.wake(due), ManualReview)


def test_a_partial_payment_asks_for_the_rest_and_the_rest_completes_it() -> None:
    run = GateRun()
    visit = in_yard_unpaid(run)
    answer = run.pay(visit, amount=200_000)
    request = only(answer, RequestFee)
    assert (request.amount_vnd, request.reason) == (300_000, "part of the fee is still due")
    assert run.status(visit, K.FEE) is S.REQUIRED
    run.pay(visit, amount=300_000, reference="PAY-2")
    assert run.status(visit, K.FEE) is S.PASSED and run.view(visit).fee_paid_vnd == 500_000


def test_the_exit_is_refused_until_the_fee_is_paid() -> None:
    run = GateRun()
    visit = in_yard_unpaid(run)
    answer = run.to_barrier_2(visit)
    assert only(answer, KeepClosed).reasons == ("fee not passed",)
    assert only(answer, RequestFee) == RequestFee(visit, 500_000, "exit refused until the fee is paid")
    assert not of_type(answer, OpenBarrier)
    run.read("cam-yard-in", run.plate_of(visit))
    run.pay(visit)
    run.leave(visit)
    assert run.location(visit) is Location.DEPARTED


def test_a_fee_is_paid_once() -> None:
    run = GateRun()
    visit = in_yard_unpaid(run)
    run.pay(visit)
    again = run.pay(visit, amount=500_000, reference="PAY-2")
    assert run.refused(again).reason == "the fee is already paid (500,000 VND)"
    assert run.view(visit).fee_paid_vnd == 500_000


def test_a_counter_payment_while_an_online_one_is_pending_is_refused() -> None:
    run = GateRun()
    visit = in_yard_unpaid(run)
    run.pay(visit, method=ONLINE, account="trader-1", reference="VCB-778")
    counter = run.pay(visit, amount=500_000, reference="PAY-2")
    assert run.refused(counter).reason == "an online payment VCB-778 is awaiting confirmation"
    second_online = run.pay(visit, amount=500_000, method=ONLINE, account="trader-1", reference="VCB-779")
    assert run.refused(second_online).reason == "payment VCB-778 is already awaiting confirmation"


def test_a_visit_without_a_fee_has_nothing_to_pay_and_leaves_without_paying() -> None:
    run = GateRun(gate_config(fees=FeeSchedule(exempt_transit=True)))
    visit = run.declare(direction="transit")
    assert run.view(visit).fee_vnd == 0
    assert K.FEE not in [c.kind for c in run.view(visit).clearances]
    answer = run.pay(visit, amount=100_000)
    assert run.refused(answer).reason == "no fee is due for this visit"
    run.to_yard(visit)
    run.leave(visit)
    assert run.location(visit) is Location.DEPARTED


def test_the_fee_can_be_paid_before_the_vehicle_arrives() -> None:
    run = GateRun()
    visit = run.declare()
    run.pay(visit, method=ONLINE, account="trader-1", reference="VCB-1")
    run.send(PaymentConfirmed("fees-1", visit, "VCB-1"))
    assert run.status(visit, K.FEE) is S.PASSED
    run.to_yard(visit)
    run.read("cam-yard-out", run.plate_of(visit))
    assert run.status(visit, EXIT) is S.REQUIRED
    run.read("cam-out-1", run.plate_of(visit))
    assert run.status(visit, EXIT) is S.ASSIGNED


def test_each_visit_s_unconfirmed_payment_gets_its_own_review_even_for_the_same_truck() -> None:
    run = GateRun()
    reviews = []
    for n in (1, 2):
        visit = run.declare(f"DEC-000{n}")
        run.pay(visit, method=ONLINE, account="trader-1", reference=f"VCB-{n}")
        reviews.append(only(run.wake(run.now + 3_600.0), ManualReview))
        run.send(PaymentConfirmed("fees-1", visit, f"VCB-{n}"))
        run.through(visit)
    assert [r.visit_id for r in reviews] == ["DEC-0001", "DEC-0002"]


def test_after_an_online_payment_times_out_the_driver_may_pay_at_the_counter_instead() -> None:
    run = GateRun()
    visit = in_yard_unpaid(run)
    run.pay(visit, method=ONLINE, account="trader-1", reference="VCB-778")
    run.wake(run.now + 3_600.0)
    answer = run.pay(visit, amount=500_000, reference="CASH-1")
    assert only(answer, RouteTo).station is Station.EXIT_LANE
    assert run.status(visit, K.FEE) is S.PASSED and run.view(visit).fee_paid_vnd == 500_000
    late = run.send(PaymentConfirmed("fees-1", visit, "VCB-778"))  # the bank went through after all
    assert "confirmed after the fee was paid at the counter: refund one of the two" in only(late, ManualReview).reason
    assert run.view(visit).fee_paid_vnd == 500_000 and run.core.audit.records[-1].accepted
    again = run.send(PaymentConfirmed("fees-1", visit, "VCB-778"))
    assert run.refused(again).reason == "no online payment is awaiting confirmation"


def test_the_late_confirmation_of_a_payment_given_up_asks_for_a_refund_after_the_vehicle_left() -> None:
    run = GateRun()
    visit = in_yard_unpaid(run)
    run.pay(visit, method=ONLINE, account="trader-1", reference="VCB-779")
    run.wake(run.now + 3_600.0)
    run.pay(visit, amount=500_000, reference="CASH-2")
    run.leave(visit)
    assert run.location(visit) is Location.DEPARTED
    late = run.send(PaymentConfirmed("fees-1", visit, "VCB-779"))
    assert only(late, ManualReview).visit_id == visit


def test_the_counter_takes_no_more_than_is_due() -> None:
    run = GateRun()
    visit = in_yard_unpaid(run)
    answer = run.pay(visit, amount=10**12)
    assert run.refused(answer).reason == "1,000,000,000,000 VND is more than the 500,000 VND due: take the amount due"
    assert run.view(visit).fee_paid_vnd == 0 and run.status(visit, K.FEE) is S.REQUIRED
