"""Plate reads: confidence, manual entry, misreads, unknown plates and repeated reads."""

from __future__ import annotations

from gate.commands import AssignTask, KeepClosed, ManualReview, OpenBarrier, RouteTo
from gate.enums import ClearanceKind, Location
from gate.events import ManualPlateEntered, ReviewResolved, WeightMeasured
from tests.unit.core.support import GateRun, gate_config, of_type, only

K = ClearanceKind


def test_a_low_confidence_read_at_barrier_1_keeps_it_closed_and_asks_for_a_manual_entry() -> None:
    run = GateRun()
    visit = run.declare()
    answer = run.read("cam-in-1", "12C-000.01", confidence=0.6)
    review = only(answer, ManualReview)
    assert review.reason == "low confidence 0.60 for 12C-000.01 at cam-in-1: enter the plate by hand"
    assert (review.visit_id, review.device_id, review.plate) == (visit, "cam-in-1", "12C-000.01")
    assert only(answer, KeepClosed) == KeepClosed("barrier-in-1", visit, "12C-000.01", ("plate not identified",))
    assert run.location(visit) is Location.OUTSIDE  # not identified, so not moved


def test_no_read_at_barrier_1_asks_for_a_manual_entry_and_the_officer_s_entry_resolves_it() -> None:
    run = GateRun()
    visit = run.declare()
    answer = run.read("cam-in-1", None, confidence=0.0)
    review = only(answer, ManualReview)
    assert review.reason.startswith("no plate read at cam-in-1")
    assert only(answer, KeepClosed).visit_id is None
    entered = run.send(ManualPlateEntered("guard-1", review.review_id, " 12c-000.01"))
    assert run.location(visit) is Location.ENTRY_LANE
    assert K.BORDER_GUARD_ENTRY in [c.clearance for c in of_type(entered, AssignTask)]
    assert run.core.open_reviews() == []
    assert run.core.audit.records[-1].reason.startswith(f"manual entry of 12C-000.01 resolved {review.review_id}")


def test_a_manual_entry_of_a_plate_with_no_declaration_keeps_the_review_open() -> None:
    run = GateRun()
    run.declare()
    review = only(run.read("cam-in-1", None, 0.0), ManualReview)
    answer = run.send(ManualPlateEntered("guard-1", review.review_id, "12C-999.99"))
    assert "no open declaration for plate 12C-999.99; the review stays open" == run.refused(answer).reason
    assert [r.review_id for r in run.core.open_reviews()] == [review.review_id]


def test_a_manual_entry_of_a_malformed_plate_is_refused() -> None:
    run = GateRun()
    run.declare()
    review = only(run.read("cam-in-1", None, 0.0), ManualReview)
    answer = run.send(ManualPlateEntered("guard-1", review.review_id, "HELLO"))
    assert "not a Vietnamese" in run.refused(answer).reason
    assert len(run.core.open_reviews()) == 1


def test_a_manual_entry_by_an_account_that_is_no_officer_is_refused() -> None:
    run = GateRun()
    visit = run.declare()
    review = only(run.read("cam-in-1", None, 0.0), ManualReview)
    answer = run.send(ManualPlateEntered("trader-1", review.review_id, "12C-000.01"))
    assert run.refused(answer).reason == "account trader-1 is not an officer"
    assert run.location(visit) is Location.OUTSIDE and len(run.core.open_reviews()) == 1


def test_a_manual_entry_for_an_unknown_review_is_refused() -> None:
    run = GateRun()
    run.declare()
    assert run.refused(run.send(ManualPlateEntered("guard-1", "R99", "12C-000.01"))).reason == "no open review R99"


def test_a_manual_entry_the_vehicle_cannot_have_made_keeps_the_review_open() -> None:
    run = GateRun()
    visit = run.declare()
    review = only(run.read("cam-yard-in", None, 0.0), ManualReview)
    # the only declared vehicle is still outside: it cannot be the one at the yard gate
    answer = run.send(ManualPlateEntered("yard-1", review.review_id, "12C-000.01"))
    assert "cannot enter the yard while outside" in run.refused(answer).reason
    assert [r.review_id for r in run.core.open_reviews()] == [review.review_id]
    assert run.location(visit) is Location.OUTSIDE


def test_a_manual_entry_is_only_for_reviews_raised_by_a_plate_camera() -> None:
    run = GateRun()
    visit = run.declare()
    run.enter(visit)
    review = only(run.send(WeightMeasured("scale-1", run.plate_of(visit), 90_000.0, overload=True)), ManualReview)
    answer = run.send(ManualPlateEntered("guard-1", review.review_id, run.plate_of(visit)))
    assert "not about a plate read at a checkpoint camera" in run.refused(answer).reason
    assert [r.review_id for r in run.core.open_reviews()] == [review.review_id]


def test_an_officer_can_close_a_review_without_a_plate() -> None:
    run = GateRun()
    run.declare()
    review = only(run.read("cam-staging", None, 0.0), ManualReview)
    refused = run.send(ReviewResolved("trader-1", review.review_id))
    assert run.refused(refused).reason == "account trader-1 is not an officer"
    assert run.send(ReviewResolved("police-1", review.review_id, "truck turned away")) == []
    assert run.core.open_reviews() == []
    assert run.refused(run.send(ReviewResolved("police-1", review.review_id))).reason == f"no open review {review.review_id}"


def test_a_misread_close_to_a_declared_plate_suggests_it_but_does_not_accept_it() -> None:
    run = GateRun()
    visit = run.declare(vehicle_plate="12C-080.01")
    answer = run.read("cam-in-1", "12C-O8O.O1")  # letters O read for zeros, with full confidence
    review = only(answer, ManualReview)
    assert review.reason == "unknown plate 12C-O8O.O1 at cam-in-1; did the device mean 12C-080.01?"
    assert review.visit_id == visit
    assert "did the device mean 12C-080.01?" in run.refused(answer).reason
    assert only(answer, KeepClosed).device_id == "barrier-in-1"
    assert run.location(visit) is Location.OUTSIDE
    run.send(ManualPlateEntered("guard-1", review.review_id, "12C-080.01"))
    assert run.location(visit) is Location.ENTRY_LANE


def test_an_unknown_plate_is_refused_and_kept_out_for_an_officer() -> None:
    run = GateRun()
    run.declare()
    answer = run.read("cam-in-1", "29LD-123.45")
    assert run.refused(answer).reason == "no open declaration for plate 29LD-123.45"
    review = only(answer, ManualReview)
    assert review.reason == "unknown plate 29LD-123.45 at cam-in-1" and review.visit_id is None
    assert only(answer, KeepClosed).reasons == ("no open declaration for plate 29LD-123.45",)
    assert run.core.open_visits() == 1


def test_a_repeated_plate_read_makes_no_second_visit_and_no_duplicate_commands() -> None:
    run = GateRun()
    visit = run.declare()
    first = run.arrive_at_staging(visit)
    assert of_type(first, RouteTo)
    assert run.arrive_at_staging(visit) == []
    at_barrier = run.arrive_at_barrier_1(visit)
    assert of_type(at_barrier, AssignTask)
    for _ in range(3):
        assert run.arrive_at_barrier_1(visit) == []
    assert run.core.open_visits() == 1
    assert [loc for _, loc in run.view(visit).history] == [Location.OUTSIDE, Location.STAGING, Location.ENTRY_LANE]
    assert run.core.audit.records[-1].reason == "repeat read at barrier_1"


def test_a_repeated_doubtful_read_raises_one_review() -> None:
    run = GateRun()
    run.declare()
    run.read("cam-in-1", "12C-000.01", confidence=0.5)
    run.read("cam-in-1", "12C-000.01", confidence=0.4)
    assert len(run.core.open_reviews()) == 1
    run.read("cam-in-1", "12C-999.99")
    run.read("cam-in-1", "12C-999.99")
    assert len(run.core.open_reviews()) == 2


def test_two_vehicles_missed_by_the_yard_camera_each_get_a_review() -> None:
    run = GateRun()
    first, second = run.declare(), run.declare("DEC-0002", "12C-000.02")
    for visit in (first, second):
        run.enter(visit)
        run.weigh(visit)
    reviews = [only(run.read("cam-yard-in", None, 0.0), ManualReview) for _ in (first, second)]
    assert reviews[0].review_id != reviews[1].review_id
    for review, visit in zip(reviews, (first, second)):
        run.send(ManualPlateEntered("yard-1", review.review_id, run.plate_of(visit)))
    assert run.location(first) is Location.YARD and run.location(second) is Location.YARD
    assert run.core.yard_occupancy()["truck"] == 2


def test_a_read_at_a_confidence_on_the_threshold_is_trusted() -> None:
    run = GateRun()
    visit = run.declare()
    run.read("cam-staging", "12C-000.01", confidence=run.core.config.plate_confidence_threshold)
    assert run.location(visit) is Location.STAGING


def test_a_plate_is_matched_whatever_its_spacing_and_case() -> None:
    run = GateRun()
    visit = run.declare()
    run.read("cam-staging", " 12c-000.01 ")
    assert run.location(visit) is Location.STAGING


def test_a_late_repeat_about_a_vehicle_that_just_departed_is_refused_without_troubling_an_officer() -> None:
    run = GateRun()
    visit = run.declare()
    run.through(visit)
    reviews = len(run.core.open_reviews())
    for answer in (run.pass_barrier("barrier-out-1", visit), run.read("cam-out-1", "12C-000.01")):
        assert run.refused(answer).reason == f"vehicle 12C-000.01 has already departed (visit {visit})"
        assert not of_type(answer, ManualReview)
    assert len(run.core.open_reviews()) == reviews


def test_a_departed_vehicle_back_at_barrier_1_without_a_declaration_is_reviewed() -> None:
    run = GateRun()
    visit = run.declare()
    run.through(visit)
    answer = run.read("cam-in-1", "12C-000.01")
    assert only(answer, ManualReview).reason == "unknown plate 12C-000.01 at cam-in-1"
    assert only(answer, KeepClosed).device_id == "barrier-in-1"


def test_only_the_officers_who_stand_at_a_checkpoint_may_type_its_plates() -> None:
    # A typed plate counts as the camera's read: at barrier 2, with the automated border check,
    # it passes the exit check and opens the barrier, so traffic police may not type it there.
    run = GateRun(gate_config(automated_border_check=True))
    visit = run.declare()
    run.to_yard(visit)
    run.clear_goods(visit)
    run.read("cam-yard-out", "12C-000.01")
    review = only(run.read("cam-out-1", None, 0.0), ManualReview)
    answer = run.send(ManualPlateEntered("police-1", review.review_id, "12C-000.01"))
    assert run.refused(answer).reason == ("account police-1 may not type plates at barrier_2 "
                                          "(roles: admin, border_guard, operation_centre)")
    assert not of_type(answer, OpenBarrier) and review.review_id in run.core.reviews
    typed = run.send(ManualPlateEntered("guard-1", review.review_id, "12C-000.01"))
    assert only(typed, OpenBarrier).device_id == "barrier-out-1"


def test_traffic_police_type_plates_at_staging() -> None:
    run = GateRun()
    visit = run.declare()
    review = only(run.read("cam-staging", None, 0.0), ManualReview)
    run.send(ManualPlateEntered("police-1", review.review_id, "12C-000.01"))
    assert run.location(visit) is Location.STAGING
