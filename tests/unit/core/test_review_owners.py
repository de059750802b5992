"""Every manual review belongs to someone: the roles that must act on it are named when it is
raised, and only an account with one of them (or an administrator) may close it."""

from __future__ import annotations

import dataclasses

import pytest

from gate.commands import ManualReview
from gate.enums import REVIEW_ROLES, PaymentMethod, ReviewKind, Role
from gate.events import DeviceFaulted, ReviewResolved, WeightMeasured
from tests.unit.core.support import GateRun, gate_config, only


def no_read_at_barrier_1() -> tuple[GateRun, ManualReview]:
    run = GateRun()
    run.declare()
    return run, only(run.read("cam-in-1", None, 0.0), ManualReview)


def test_a_review_names_the_kind_and_the_roles_that_must_act_on_it() -> None:
    run, review = no_read_at_barrier_1()
    assert review.kind is ReviewKind.PLATE_READ
    assert review.roles == (Role.BORDER_GUARD, Role.OPERATION_CENTRE)


def test_an_officer_of_another_agency_may_not_close_a_review_and_is_told_whose_it_is() -> None:
    run, review = no_read_at_barrier_1()
    answer = run.send(ReviewResolved("customs-1", review.review_id, "looked at it"))
    assert run.refused(answer).reason == (
        f"account customs-1 may not close plate-read review {review.review_id} at cam-in-1: it belongs to "
        "border_guard, operation_centre (or an administrator)")
    assert [r.review_id for r in run.core.open_reviews()] == [review.review_id]
    assert run.core.check_invariants() == [] and run.core.audit.verify() is None


def test_an_officer_with_a_role_of_the_review_closes_it() -> None:
    run, review = no_read_at_barrier_1()
    assert run.send(ReviewResolved("guard-1", review.review_id, "truck turned away")) == []
    assert run.core.open_reviews() == []


def test_an_administrator_may_close_any_review() -> None:
    run, review = no_read_at_barrier_1()
    assert run.send(ReviewResolved("admin", review.review_id, "seen to")) == []
    assert run.core.open_reviews() == []


def test_a_review_at_a_camera_belongs_to_the_officers_standing_at_its_site() -> None:
    run = GateRun()
    run.declare()
    review = only(run.read("cam-staging", None, 0.0), ManualReview)
    assert review.roles[0] is Role.TRAFFIC_POLICE and Role.BORDER_GUARD in review.roles
    refused = run.send(ReviewResolved("fees-1", review.review_id))
    assert "it belongs to traffic_police, medical, border_guard, operation_centre" in run.refused(refused).reason
    assert run.send(ReviewResolved("police-1", review.review_id)) == []


def test_a_doubtful_weighing_belongs_to_customs_not_to_the_border_guard() -> None:
    run = GateRun()
    visit = run.declare()
    run.enter(visit)
    review = only(run.send(WeightMeasured("scale-1", run.plate_of(visit), 90_000.0, overload=True)), ManualReview)
    assert (review.kind, review.roles) == (ReviewKind.OVERLOAD, (Role.CUSTOMS,))
    assert "belongs to customs" in run.refused(run.send(ReviewResolved("guard-1", review.review_id))).reason
    assert run.send(ReviewResolved("customs-1", review.review_id)) == []


def test_an_unconfirmed_online_payment_is_the_fee_collector_s_review() -> None:
    run = GateRun()
    visit = run.declare()
    run.to_yard(visit)
    run.pay(visit, method=PaymentMethod.ONLINE, account="trader-1", reference="VCB-1")
    review = only(run.wake(run.now + run.core.config.timeouts.payment_confirmation_s), ManualReview)
    assert review.roles == (Role.FEE_COLLECTOR,)
    assert "belongs to fee_collector" in run.refused(run.send(ReviewResolved("guard-1", review.review_id))).reason
    assert run.send(ReviewResolved("fees-1", review.review_id)) == []


def test_a_faulted_agv_fleet_is_the_operation_centre_s_review() -> None:
    run = GateRun(gate_config(agv=True))
    review = only(run.send(DeviceFaulted("partner-link", "link down")), ManualReview)
    assert (review.kind, review.roles) == (ReviewKind.DEVICE_FAULTED, (Role.OPERATION_CENTRE,))
    barrier = only(GateRun().send(DeviceFaulted("barrier-in-1", "arm stuck")), ManualReview)
    assert barrier.roles == (Role.BORDER_GUARD,)


def test_the_open_reviews_show_whose_they_are_and_cannot_be_changed() -> None:
    run, raised = no_read_at_barrier_1()
    review = only(run.core.open_reviews(), type(run.core.open_reviews()[0]))
    assert (review.review_id, review.kind, review.roles) == (raised.review_id, raised.kind, raised.roles)
    with pytest.raises(dataclasses.FrozenInstanceError):
        review.roles = (Role.CUSTOMS,)  # type: ignore[misc]


def test_every_kind_of_review_belongs_to_at_least_one_role() -> None:
    assert set(REVIEW_ROLES) == set(ReviewKind)
    assert all(REVIEW_ROLES[kind] for kind in ReviewKind)
