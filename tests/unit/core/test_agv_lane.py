"""The smart-gate AGV lane: handover, manifest exchange with resend, dispatch, faults and delivery."""

from __future__ import annotations

import pytest

from gate.commands import Command, DispatchAgv, FieldError, ManualReview, RejectDeclaration, RouteTo, SendManifest
from gate.config import TimeoutConfig
from gate.enums import AgvMissionState, Channel, ClearanceKind, Location, Outcome, Station
from gate.events import (
    AgvArrived,
    AgvFaulted,
    ContainerHandedOver,
    DeclarationAmended,
    DeclarationSubmitted,
    ManifestAcknowledged,
)
from tests.unit.core.support import GateRun, container_declaration, container_no, gate_config, of_type, only

K = ClearanceKind
BOX = container_no(100)
SECOND_BOX = container_no(101)
ACK_S = 120.0


def agv_run(channel: Channel = Channel.GREEN, containers: int = 1) -> tuple[GateRun, str]:
    """An AGV-lane gate with one container truck of the lane in the yard."""
    run = GateRun(gate_config(channel, agv=True))
    visit = run.declare(data=container_declaration("DEC-0001", "12C-000.01", containers=containers,
                                                   crossing_mode="agv_lane"))
    run.to_yard(visit)
    return run, visit


def hand_over(run: GateRun, visit: str, box: str = BOX, account: str = "yard-1") -> list[Command]:
    return run.send(ContainerHandedOver(account, visit, box))


def test_a_container_handed_over_sends_its_manifest_to_the_partner_side() -> None:
    run, visit = agv_run()
    answer = hand_over(run, visit)
    mission_id = f"{visit}:{BOX}"
    assert only(answer, SendManifest) == SendManifest("partner-link", mission_id, visit, BOX, 1)
    mission = run.core.mission(mission_id)
    assert mission is not None and mission.state is AgvMissionState.MANIFEST_SENT
    assert run.core.next_deadline() == run.now + ACK_S


def test_without_an_acknowledgement_the_manifest_is_resent_then_given_up_for_manual_handling() -> None:
    run, visit = agv_run()
    hand_over(run, visit)
    mission_id = f"{visit}:{BOX}"
    attempts = []
    for _ in range(2):
        due = run.core.next_deadline()
        assert due is not None
        assert run.wake(due - 0.5) == []
        attempts.append(only(run.wake(due), SendManifest).attempt)
    assert attempts == [2, 3]
    last_due = run.core.next_deadline()
    assert last_due is not None
    given_up = run.wake(last_due)
    review = only(given_up, ManualReview)
    assert review.reason == f"partner side never acknowledged manifest {mission_id}"
    assert not of_type(given_up, SendManifest)
    assert run.core.mission(mission_id).state is AgvMissionState.FAILED  # type: ignore[union-attr]
    assert run.core.next_deadline() is None
    assert run.core.stats["manifest_resends"] == 2 and run.core.stats["agv_failed"] == 1
    actions = [r.action for r in run.core.audit.records[-3:]]
    assert actions == ["ManifestResent", "ManifestResent", "ManifestFailed"]


def test_an_acknowledged_manifest_dispatches_an_agv_once_the_goods_clearances_passed() -> None:
    run, visit = agv_run(Channel.YELLOW)
    hand_over(run, visit)
    mission_id = f"{visit}:{BOX}"
    acked = run.send(ManifestAcknowledged("partner-link", mission_id))
    assert not of_type(acked, DispatchAgv)  # customs has not checked the documents yet
    assert run.core.mission(mission_id).state is AgvMissionState.ACKNOWLEDGED  # type: ignore[union-attr]
    assert [kind for _, kind, _ in run.core.deadlines.pending() if kind == "manifest"] == []  # no resend
    passed = run.decide(visit, K.CUSTOMS_DOCUMENTS)
    assert only(passed, DispatchAgv) == DispatchAgv("agv-fleet", mission_id, visit, BOX)
    assert run.core.stats["agv_dispatched"] == 1


def test_an_acknowledgement_after_clearance_dispatches_at_once_and_a_repeat_does_not() -> None:
    run, visit = agv_run()
    hand_over(run, visit)
    first = run.send(ManifestAcknowledged("partner-link", f"{visit}:{BOX}"))
    assert only(first, DispatchAgv).container_no == BOX
    assert run.send(ManifestAcknowledged("partner-link", f"{visit}:{BOX}")) == []


def test_a_faulted_agv_is_dispatched_again_and_after_three_faults_the_mission_is_moved_by_hand() -> None:
    run, visit = agv_run()
    hand_over(run, visit)
    mission_id = f"{visit}:{BOX}"
    run.send(ManifestAcknowledged("partner-link", mission_id))
    for _ in range(2):
        again = run.send(AgvFaulted("agv-fleet", mission_id, "obstacle on the lane"))
        assert only(again, DispatchAgv).mission_id == mission_id
    failed = run.send(AgvFaulted("agv-fleet", mission_id, "battery"))
    assert "failed 3 times: move it by hand" in only(failed, ManualReview).reason
    assert run.core.mission(mission_id).state is AgvMissionState.FAILED  # type: ignore[union-attr]
    refused = run.send(AgvFaulted("agv-fleet", mission_id))
    assert "is not under way (failed)" in run.refused(refused).reason


def test_an_agv_arrival_delivers_the_container_and_a_repeat_is_harmless() -> None:
    run, visit = agv_run()
    hand_over(run, visit)
    mission_id = f"{visit}:{BOX}"
    early = run.send(AgvArrived("agv-fleet", mission_id))
    assert "was not dispatched (manifest_sent)" in run.refused(early).reason
    run.send(ManifestAcknowledged("partner-link", mission_id))
    assert run.send(AgvArrived("agv-fleet", mission_id)) == []
    assert run.core.mission(mission_id).state is AgvMissionState.DELIVERED  # type: ignore[union-attr]
    assert run.send(AgvArrived("agv-fleet", mission_id)) == []
    assert run.core.stats["agv_delivered"] == 1


def test_the_truck_leaves_empty_once_every_container_is_on_the_lane() -> None:
    run, visit = agv_run(containers=2)
    run.pay(visit)
    first = hand_over(run, visit, BOX)
    assert not [c for c in of_type(first, RouteTo) if c.station is Station.EXIT_LANE]
    second = hand_over(run, visit, SECOND_BOX)
    assert only(second, RouteTo).station is Station.EXIT_LANE
    run.leave(visit)
    assert run.location(visit) is Location.DEPARTED
    # the partner side acknowledges after the truck has gone: the container still crosses
    answer = run.send(ManifestAcknowledged("partner-link", f"{visit}:{BOX}"))
    assert only(answer, DispatchAgv).visit_id == visit


@pytest.mark.parametrize(
    ("account", "box", "reason"),
    [
        ("guard-1", BOX, "account guard-1 is not a yard operator or the operation centre"),
        ("yard-1", container_no(555), f"container {container_no(555)} is not on the declaration"),
    ],
)
def test_a_handover_by_the_wrong_account_or_of_an_undeclared_container_is_refused(
        account: str, box: str, reason: str) -> None:
    run, visit = agv_run()
    assert run.refused(hand_over(run, visit, box, account)).reason == reason


def test_a_handover_before_the_truck_is_in_the_yard_is_refused() -> None:
    run = GateRun(gate_config(agv=True))
    visit = run.declare(data=container_declaration("DEC-0001", "12C-000.01", crossing_mode="agv_lane"))
    answer = hand_over(run, visit)
    assert run.refused(answer).reason == "vehicle 12C-000.01 is outside, not in the yard"


def test_a_repeated_handover_sends_no_second_manifest() -> None:
    run, visit = agv_run()
    hand_over(run, visit)
    assert hand_over(run, visit, BOX.lower()) == []


def test_a_road_declaration_or_a_gate_without_the_lane_takes_no_handover() -> None:
    run = GateRun(gate_config(agv=True))
    road = run.declare(data=container_declaration("DEC-0001", "12C-000.01"))
    run.to_yard(road)
    assert run.refused(hand_over(run, road)).reason == "the declaration does not use the AGV lane"
    plain = GateRun()
    answer = plain.send(DeclarationSubmitted("trader-1", container_declaration("DEC-0001", "12C-000.01",
                                                                              crossing_mode="agv_lane")))
    assert only(answer, RejectDeclaration).errors == (FieldError("crossing_mode", "this gate has no AGV lane",
                                                                 "agv_lane"),)
    road = plain.declare(data=container_declaration("DEC-0002", "12C-000.02"))
    to_agv = plain.send(DeclarationAmended("trader-1", road, container_declaration("DEC-0002", "12C-000.02",
                                                                                  crossing_mode="agv_lane")))
    assert only(to_agv, RejectDeclaration).errors[0].path == "crossing_mode"


def test_a_container_dropped_from_the_declaration_after_its_handover_does_not_hold_the_truck() -> None:
    run, visit = agv_run(containers=2)
    run.pay(visit)
    hand_over(run, visit, BOX)
    hand_over(run, visit, SECOND_BOX)
    run.send(DeclarationAmended("trader-1", visit, container_declaration(visit, "12C-000.01", containers=1,
                                                                         crossing_mode="agv_lane")))
    run.leave(visit)
    assert run.location(visit) is Location.DEPARTED


def test_reports_about_unknown_missions_or_from_the_wrong_device_are_refused() -> None:
    run, visit = agv_run()
    hand_over(run, visit)
    mission_id = f"{visit}:{BOX}"
    assert run.refused(run.send(ManifestAcknowledged("partner-link", "M-404"))).reason == "unknown AGV mission M-404"
    wrong = run.send(ManifestAcknowledged("agv-fleet", mission_id))
    assert run.refused(wrong).reason == "device agv-fleet is of kind agv_fleet, not partner_link"


def test_refusing_the_truck_abandons_its_missions_not_yet_under_way() -> None:
    run, visit = agv_run(Channel.YELLOW)
    hand_over(run, visit)
    run.decide(visit, K.CUSTOMS_DOCUMENTS, Outcome.REFUSED, reasons=("undeclared goods",))
    assert run.core.mission(f"{visit}:{BOX}").state is AgvMissionState.FAILED  # type: ignore[union-attr]
    assert run.core.next_deadline() is None  # no resend, and no agency deadline of a closed visit
    late = run.send(ManifestAcknowledged("partner-link", f"{visit}:{BOX}"))
    assert not of_type(late, DispatchAgv)


def test_a_manifest_acknowledged_after_the_mission_failed_is_refused_as_late_and_people_are_told() -> None:
    run = GateRun(gate_config(agv=True, timeouts=TimeoutConfig(manifest_max_attempts=1)))
    visit = run.declare(data=container_declaration("DEC-0001", "12C-000.01", crossing_mode="agv_lane"))
    run.to_yard(visit)
    hand_over(run, visit)
    mission_id = f"{visit}:{BOX}"
    run.wake(run.core.next_deadline() or 0.0)  # never acknowledged in time: failed, handed to people
    late = run.send(ManifestAcknowledged("partner-link", mission_id))
    assert run.refused(late).reason == f"manifest {mission_id} acknowledged too late: the mission failed"
    assert only(late, ManualReview).reason == (f"partner side acknowledged manifest {mission_id} after the mission "
                                               "failed: check how it is handled by hand")
    assert not of_type(late, DispatchAgv)
    assert run.core.mission(mission_id).state is AgvMissionState.FAILED  # type: ignore[union-attr]
    again = run.send(ManifestAcknowledged("partner-link", mission_id), after=0.0)
    assert not of_type(again, ManualReview)  # the same review stays open


def test_refusing_a_truck_while_its_agv_is_under_way_asks_people_to_stop_it() -> None:
    run, visit = agv_run(Channel.YELLOW)
    run.decide(visit, K.CUSTOMS_DOCUMENTS)
    hand_over(run, visit)
    mission_id = f"{visit}:{BOX}"
    assert of_type(run.send(ManifestAcknowledged("partner-link", mission_id)), DispatchAgv)
    answer = run.decide(visit, K.CUSTOMS_DOCUMENTS, Outcome.REFUSED, reasons=("undeclared goods",))
    review = only([c for c in of_type(answer, ManualReview) if c.device_id == "agv-fleet"], ManualReview)
    assert review.reason == (f"visit {visit} refused while AGV mission {mission_id} is under way: "
                             f"stop it or bring container {BOX} back")
    assert review.visit_id == visit


def test_an_agv_fault_at_the_instant_of_its_first_dispatch_is_answered_with_another_agv() -> None:
    run, visit = agv_run()
    hand_over(run, visit)
    mission_id = f"{visit}:{BOX}"
    assert of_type(run.send(ManifestAcknowledged("partner-link", mission_id)), DispatchAgv)
    again = run.send(AgvFaulted("agv-fleet", mission_id, "blocked at the start"), after=0.0)
    assert only(again, DispatchAgv).mission_id == mission_id
    assert run.core.mission(mission_id).dispatch_attempts == 2  # type: ignore[union-attr]


def test_a_fault_report_repeated_at_the_same_instant_dispatches_no_second_agv() -> None:
    run, visit = agv_run()
    hand_over(run, visit)
    mission_id = f"{visit}:{BOX}"
    run.send(ManifestAcknowledged("partner-link", mission_id))
    fault = AgvFaulted("agv-fleet", mission_id, "obstacle")
    assert only(run.send(fault), DispatchAgv).mission_id == mission_id
    assert run.send(fault, after=0.0) == []
    assert run.core.mission(mission_id).dispatch_attempts == 2  # type: ignore[union-attr]


def test_missions_of_visits_dropped_from_the_archive_are_forgotten() -> None:
    run = GateRun(gate_config(agv=True, archive_limit=1))
    visit = run.declare(data=container_declaration("DEC-0001", "12C-000.01", crossing_mode="agv_lane"))
    run.to_yard(visit)
    run.pay(visit)
    hand_over(run, visit)
    run.send(ManifestAcknowledged("partner-link", f"{visit}:{BOX}"))
    run.leave(visit)
    assert run.core.mission(f"{visit}:{BOX}") is not None
    other = run.declare("DEC-0002", "12C-000.02")
    run.through(other)
    assert visit not in run.core.archive and run.core.visit(visit) is None
    assert run.core.mission(f"{visit}:{BOX}") is None
    assert run.core.closed_by_plate == {"12C-000.02": other}


def test_each_dispatch_is_numbered_and_a_fault_of_one_already_answered_is_a_repeat() -> None:
    run, visit = agv_run()
    hand_over(run, visit)
    mission_id = f"{visit}:{BOX}"
    first = only(run.send(ManifestAcknowledged("partner-link", mission_id)), DispatchAgv)
    assert first.attempt == 1
    second = only(run.send(AgvFaulted("agv-fleet", mission_id, "obstacle", attempt=1)), DispatchAgv)
    assert second.attempt == 2
    # The fleet reports the first fault again a second later: no third AGV, no step towards failing.
    again = run.send(AgvFaulted("agv-fleet", mission_id, "obstacle", attempt=1), after=1.0)
    assert again == [] and run.core.audit.records[-1].reason == "repeat: fault of dispatch 1, already answered"
    assert run.core.mission(mission_id).dispatch_attempts == 2  # type: ignore[union-attr]
    future = run.send(AgvFaulted("agv-fleet", mission_id, "?", attempt=5))
    assert run.refused(future).reason == f"mission {mission_id} has been dispatched 2 time(s), not 5"
    assert run.send(AgvArrived("agv-fleet", mission_id, attempt=2)) == []
    assert run.core.mission(mission_id).state is AgvMissionState.DELIVERED  # type: ignore[union-attr]
