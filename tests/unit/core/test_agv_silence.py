"""A dispatched AGV mission must be heard of again (arrived, or faulted). One silent for longer
than ``timeouts.agv_report_s`` raises a review, once per mission, and is not failed: the AGV may
still be waiting for the partner side to accept it."""

from __future__ import annotations

from gate.commands import DispatchAgv, ManualReview
from gate.config import TimeoutConfig
from gate.enums import AgvMissionState, ReviewKind, Role
from gate.events import AgvArrived, AgvFaulted, ManifestAcknowledged, ReviewResolved
from tests.unit.core.support import GateRun, container_declaration, gate_config, of_type, only
from tests.unit.core.test_agv_lane import BOX, agv_run, hand_over

LIMIT = TimeoutConfig().agv_report_s


def dispatched(run: GateRun, visit: str) -> tuple[str, float]:
    """Hand the container over and have its manifest acknowledged: the AGV is sent. Returns the
    mission and when it was dispatched."""
    hand_over(run, visit)
    mission_id = f"{visit}:{BOX}"
    assert only(run.send(ManifestAcknowledged("partner-link", mission_id)), DispatchAgv).mission_id == mission_id
    return mission_id, run.now


def test_the_default_limit_is_generous() -> None:
    assert LIMIT == 12 * 3600.0


def test_a_silent_mission_raises_one_review_naming_the_mission_the_container_and_the_visit() -> None:
    run, visit = agv_run()
    mission_id, at = dispatched(run, visit)
    assert not of_type(run.wake(at + LIMIT - 1), ManualReview)
    review = only(run.wake(at + LIMIT), ManualReview)
    assert (review.kind, review.roles, review.visit_id, review.device_id) == (
        ReviewKind.AGV_SILENT, (Role.OPERATION_CENTRE,), visit, "agv-fleet")
    assert mission_id in review.reason and BOX in review.reason and f"visit {visit}" in review.reason
    assert run.core.mission(mission_id).state is AgvMissionState.DISPATCHED  # type: ignore[union-attr]
    record = run.core.audit.records[-1]
    assert (record.actor, record.action, record.visit_id) == ("core", "AgvSilent", visit)
    assert run.core.next_deadline() is None or run.core.next_deadline() > run.now  # type: ignore[operator]
    assert not of_type(run.wake(at + 10 * LIMIT), ManualReview)


def test_an_arrival_in_time_cancels_the_limit() -> None:
    run, visit = agv_run()
    mission_id, at = dispatched(run, visit)
    run.send(AgvArrived("agv-fleet", mission_id))
    assert all(kind != "agv" for _, kind, _ in run.core.deadlines.pending())
    assert not of_type(run.wake(at + 2 * LIMIT), ManualReview)


def test_a_late_arrival_is_delivered_as_usual_and_closes_the_review() -> None:
    run, visit = agv_run()
    mission_id, at = dispatched(run, visit)
    review = only(run.wake(at + LIMIT), ManualReview)
    assert run.send(AgvArrived("agv-fleet", mission_id)) == []
    assert run.core.mission(mission_id).state is AgvMissionState.DELIVERED  # type: ignore[union-attr]
    assert review.review_id not in run.core.reviews
    assert run.core.audit.records[-1].reason.endswith(f"delivered across the line; review {review.review_id} closed")


def test_a_fault_stops_the_limit_and_the_agv_sent_again_has_a_limit_of_its_own() -> None:
    run, visit = agv_run()
    mission_id, _ = dispatched(run, visit)
    run.send(AgvFaulted("agv-fleet", mission_id, "obstacle"), after=LIMIT - 10)
    again = run.now
    assert not of_type(run.wake(again + LIMIT - 1), ManualReview)
    assert only(run.wake(again + LIMIT), ManualReview).kind is ReviewKind.AGV_SILENT


def test_only_the_operation_centre_or_an_administrator_closes_it() -> None:
    run, visit = agv_run()
    _, at = dispatched(run, visit)
    review = only(run.wake(at + LIMIT), ManualReview)
    assert "belongs to operation_centre" in run.refused(run.send(ReviewResolved("guard-1", review.review_id))).reason
    assert run.send(ReviewResolved("ops-1", review.review_id, "AGV found waiting at the partner gate")) == []


def test_the_limit_is_set_by_the_site() -> None:
    run = GateRun(gate_config(agv=True, timeouts=TimeoutConfig(agv_report_s=3600.0)))
    visit = run.declare(data=container_declaration("DEC-0001", "12C-000.01", crossing_mode="agv_lane"))
    run.to_yard(visit)
    _, at = dispatched(run, visit)
    assert only(run.wake(at + 3600.0), ManualReview).kind is ReviewKind.AGV_SILENT
