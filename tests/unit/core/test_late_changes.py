"""Changes that come late or from an odd place: an amendment after the people or containers it
names were checked or moved, a device that reports a vehicle twice with another result, money
paid or confirmed when the visit can no longer use it, AGV reports the gate did not ask for, a
vehicle at another lane's barrier than its own, or in the yard without the weighing, containers
cleared while the AGV fleet is down, a container declared on two trucks, customs raising a
channel on information of its own."""

from __future__ import annotations

import pytest

from gate.commands import (
    AcceptDeclaration,
    AssignTask,
    DispatchAgv,
    KeepClosed,
    ManualReview,
    OpenBarrier,
    RejectDeclaration,
    RequestFee,
    RouteTo,
)
from gate.config import DeviceSpec, GateConfig
from gate.enums import (
    AgvMissionState,
    Channel,
    ClearanceKind,
    ClearanceStatus,
    DeviceKind,
    Location,
    Outcome,
    PaymentMethod,
    ScanResult,
    Site,
    Station,
)
from gate.events import (
    AgvArrived,
    AgvFaulted,
    ChannelRaised,
    ContainerHandedOver,
    DeclarationAmended,
    DeclarationCancelled,
    DeclarationSubmitted,
    DeviceFaulted,
    DeviceRecovered,
    FeePaid,
    ManifestAcknowledged,
    PaymentConfirmed,
)
from tests.unit.core.support import (
    DECLARANT,
    GateRun,
    container_declaration,
    container_no,
    declaration,
    gate_config,
    of_type,
    only,
)

K = ClearanceKind
S = ClearanceStatus
OTHER_DRIVER = {"name": "Tran Van Binh", "id_number": "001090054321", "nationality": "VN"}
FEVER = {"name": "Nguyen Van An", "id_number": "001085012345", "nationality": "VN",
         "health": {"fever": True, "symptoms": ["cough"]}}


def amend(run: GateRun, visit: str, **changes: object) -> list:
    return run.send(DeclarationAmended(DECLARANT, visit, declaration(visit, run.plate_of(visit), **changes)))


def errors(answer: list) -> list[tuple[str, str]]:
    return [(err.path, err.message) for err in only(answer, RejectDeclaration).errors]


# --- the people at the wheel ------------------------------------------------------------------


def test_another_driver_before_barrier_1_is_checked_again_by_medical_and_the_border_guard() -> None:
    run = GateRun(gate_config())
    visit = run.declare()
    run.arrive_at_staging(visit)
    run.arrive_at_barrier_1(visit)
    assert run.status(visit, K.MEDICAL) is S.PASSED and run.status(visit, K.BORDER_GUARD_ENTRY) is S.ASSIGNED
    answer = amend(run, visit, driver=OTHER_DRIVER)
    assigned = {(c.clearance, c.visit_id) for c in of_type(answer, AssignTask)}
    assert assigned == {(K.MEDICAL, visit), (K.BORDER_GUARD_ENTRY, visit)}  # both made again, at the lane
    assert not run.core.active[visit].entry_granted
    run.decide(visit, K.BORDER_GUARD_ENTRY)
    assert not run.core.active[visit].entry_granted  # not without the new driver's medical check
    run.decide(visit, K.MEDICAL)
    assert run.core.active[visit].entry_granted


def test_a_changed_health_declaration_is_checked_again_by_medical_only() -> None:
    run = GateRun(gate_config())
    visit = run.declare()
    run.arrive_at_staging(visit)
    run.arrive_at_barrier_1(visit)
    run.decide(visit, K.BORDER_GUARD_ENTRY)
    assert run.core.active[visit].entry_granted  # let in: the driver's papers can no longer change
    assert of_type(amend(run, visit, driver=FEVER), RejectDeclaration)
    run = GateRun(gate_config())
    visit = run.declare()
    run.arrive_at_staging(visit)
    assert run.status(visit, K.MEDICAL) is S.PASSED
    answer = amend(run, visit, driver=FEVER)
    assert [(c.clearance, c.visit_id) for c in of_type(answer, AssignTask)] == [(K.MEDICAL, visit)]
    assert run.status(visit, K.BORDER_GUARD_ENTRY) is S.REQUIRED


def test_another_trailer_is_checked_again_by_the_border_guard_only() -> None:
    run = GateRun(gate_config(call_when_checked=False))
    visit = run.declare()
    run.arrive_at_staging(visit, checked=False)
    run.arrive_at_barrier_1(visit)
    run.decide(visit, K.BORDER_GUARD_ENTRY)  # the guard passes it; medical has not decided yet
    assert run.status(visit, K.BORDER_GUARD_ENTRY) is S.PASSED and not run.core.active[visit].entry_granted
    answer = amend(run, visit, trailer_plate="12R-001.23")
    assert [(c.clearance, c.visit_id) for c in of_type(answer, AssignTask)] == [(K.BORDER_GUARD_ENTRY, visit)]
    assert run.status(visit, K.MEDICAL) is S.ASSIGNED
    run.decide(visit, K.MEDICAL)
    assert not run.core.active[visit].entry_granted  # the new trailer's papers first
    run.decide(visit, K.BORDER_GUARD_ENTRY)
    assert run.core.active[visit].entry_granted


def test_the_driver_and_trailer_cannot_change_once_barrier_1_has_let_the_vehicle_in() -> None:
    run = GateRun(gate_config())
    visit = run.declare()
    run.to_yard(visit)
    answer = amend(run, visit, driver=OTHER_DRIVER, trailer_plate="12R-001.23")
    assert errors(answer) == [
        ("driver", "cannot change once barrier 1 has let the vehicle in (it is yard)"),
        ("trailer_plate", "cannot change once barrier 1 has let the vehicle in (it is yard)"),
    ]
    assert run.core.active[visit].declaration.version == 1
    assert run.status(visit, K.MEDICAL) is S.PASSED
    assert amend(run, visit, declared_gross_kg=20_100)  # other changes are still taken
    assert run.core.active[visit].declaration.version == 2


# --- containers already on the AGV stack -----------------------------------------------------

BOX, OTHER_BOX = container_no(100), container_no(555)


def agv_visit(channel: Channel = Channel.YELLOW) -> tuple[GateRun, str]:
    run = GateRun(gate_config(channel, agv=True))
    visit = run.declare(data=container_declaration("DEC-0001", "12C-000.01", crossing_mode="agv_lane"))
    run.to_yard(visit)
    run.send(ContainerHandedOver("yard-1", visit, BOX))
    return run, visit


def test_a_container_on_the_agv_stack_cannot_be_taken_off_the_declaration() -> None:
    run, visit = agv_visit()
    swapped = declaration(visit, "12C-000.01", vehicle_class="container", declared_gross_kg=30_000,
                          crossing_mode="agv_lane", containers=[{"number": OTHER_BOX, "size_ft": 40}])
    answer = run.send(DeclarationAmended(DECLARANT, visit, swapped))
    assert errors(answer) == [
        ("containers", f"container {BOX} is already handed over to the AGV lane and cannot be taken off the declaration")]
    run.send(ManifestAcknowledged("partner-link", f"{visit}:{BOX}"))
    dispatched = run.decide(visit, K.CUSTOMS_DOCUMENTS)
    assert [d.container_no for d in of_type(dispatched, DispatchAgv)] == [BOX]  # only what is declared


def test_the_crossing_mode_cannot_leave_the_agv_lane_once_a_container_is_on_its_stack() -> None:
    run, visit = agv_visit()
    by_road = container_declaration(visit, "12C-000.01", crossing_mode="road_handover")
    answer = run.send(DeclarationAmended(DECLARANT, visit, by_road))
    assert errors(answer) == [("crossing_mode", f"containers {BOX} are already handed over to the AGV lane")]


def test_refused_with_its_container_on_the_agv_stack_people_are_told_to_bring_it_back() -> None:
    run, visit = agv_visit()
    run.send(ManifestAcknowledged("partner-link", f"{visit}:{BOX}"))
    answer = run.decide(visit, K.CUSTOMS_DOCUMENTS, Outcome.REFUSED, reasons=("forged invoice",))
    review = only([r for r in of_type(answer, ManualReview) if r.device_id == "partner-link"], ManualReview)
    assert review.reason == (f"visit {visit} refused with container {BOX} on the AGV stack: put it back on vehicle "
                             f"12C-000.01 and withdraw manifest {visit}:{BOX} from the partner side")
    assert run.core.mission(f"{visit}:{BOX}").state is AgvMissionState.FAILED  # type: ignore[union-attr]


def test_a_container_reported_across_without_dispatch_is_handed_to_people() -> None:
    run, visit = agv_visit()
    answer = run.send(AgvArrived("agv-fleet", f"{visit}:{BOX}"))
    assert "was not dispatched (manifest_sent)" in run.refused(answer).reason
    review = only(answer, ManualReview)
    assert review.reason == (f"container {BOX} reported across the line, but mission {visit}:{BOX} was never "
                             "dispatched (manifest_sent): find out how it crossed")


# --- devices that report a vehicle twice ------------------------------------------------------


def scanned(result: ScanResult) -> tuple[GateRun, str]:
    """A red-channel vehicle, weighed and scanned, still at the scanner."""
    run = GateRun(gate_config(Channel.RED))
    visit = run.declare()
    run.enter(visit)
    run.weigh(visit, 20_000)
    run.scan(visit, result)
    return run, visit


def test_a_second_scan_that_finds_what_the_first_did_not_sends_the_vehicle_to_inspection() -> None:
    run, visit = scanned(ScanResult.CLEAR)
    assert run.status(visit, K.CUSTOMS_INSPECTION) is S.PASSED
    answer = run.scan(visit, ScanResult.SUSPECT)
    assert "assessed 12C-000.01 clear, then suspect" in only(answer, ManualReview).reason
    assert run.status(visit, K.CUSTOMS_INSPECTION) is S.REQUIRED
    assert run.core.audit.records[-1].reason == "scan suspect after clear: physical inspection"
    run.read("cam-yard-in", "12C-000.01")
    assert run.status(visit, K.CUSTOMS_INSPECTION) is S.ASSIGNED
    late = run.scan(visit, ScanResult.SUSPECT)  # the vehicle is in the yard now: out of order
    assert "cannot" in run.refused(late).reason and only(late, ManualReview)


def test_a_clear_scan_after_a_suspect_one_leaves_the_suspect_result_standing() -> None:
    run, visit = scanned(ScanResult.SUSPECT)
    answer = run.scan(visit, ScanResult.CLEAR)
    assert only(answer, ManualReview).device_id == "scanner-1"
    assert run.core.audit.records[-1].reason == "scan clear after suspect: the suspect result stands"
    assert run.status(visit, K.CUSTOMS_INSPECTION) is not S.PASSED
    assert run.scan(visit, ScanResult.CLEAR) == []  # the same conflict again is one review


def test_the_same_scan_or_weight_reported_twice_is_a_repeat() -> None:
    run = GateRun(gate_config(Channel.RED))
    visit = run.declare()
    run.enter(visit)
    run.weigh(visit, 20_000)
    assert run.weigh(visit, 20_150) == []  # within the tolerance
    assert run.core.audit.records[-1].reason == "repeat weighing ignored"
    run, visit = scanned(ScanResult.CLEAR)
    assert run.scan(visit, ScanResult.CLEAR) == []
    assert run.core.audit.records[-1].reason == "repeat scan ignored"


def test_a_second_weighing_far_from_the_first_is_checked_and_handed_to_people() -> None:
    run = GateRun(gate_config(Channel.GREEN, rules=True))
    visit = run.declare()
    run.enter(visit)
    run.weigh(visit, 20_000)
    answer = run.weigh(visit, 28_000)
    assert only(answer, ManualReview).reason == ("scale scale-1 weighed 12C-000.01 at 20000 kg, then at 28000 kg: "
                                                 "check the scale and the load")
    view = run.view(visit)
    assert view.weight_kg == 28_000 and view.channel is not Channel.GREEN  # the discrepancy raises the channel
    assert run.core.audit.records[-1].reason.startswith("weighed again at 28000 kg, 20000 kg before: weight 28000 kg")
    lighter = run.weigh(visit, 20_000 - 7_000)
    assert run.core.audit.records[-1].reason == "weighed again at 13000 kg, 28000 kg before: the first weight stands"
    assert not of_type(lighter, ManualReview)  # the review about this scale and vehicle is open already


# --- money ------------------------------------------------------------------------------------


def test_an_online_payment_of_more_than_is_due_is_refused() -> None:
    run = GateRun(gate_config())
    visit = run.declare()
    due = run.view(visit).fee_vnd
    answer = run.send(FeePaid(DECLARANT, visit, due * 100, PaymentMethod.ONLINE, "BANK-1"))
    assert run.refused(answer).reason == (f"{due * 100:,} VND is more than the {due:,} VND due: pay the amount due")
    assert run.core.stats["fees_collected_vnd"] == 0
    assert run.status(visit, K.FEE) is S.REQUIRED


def test_an_online_payment_confirmed_after_its_visit_was_cancelled_is_refunded() -> None:
    run = GateRun(gate_config())
    visit = run.declare()
    run.pay(visit, method=PaymentMethod.ONLINE, account=DECLARANT, reference="BANK-7")
    run.send(DeclarationCancelled(DECLARANT, visit, "trip called off"))
    answer = run.send(PaymentConfirmed("fees-1", visit, "BANK-7"))
    assert only(answer, ManualReview).reason == (
        f"online payment BANK-7 for 12C-000.01 confirmed after visit {visit} was closed (cancelled): refund it")
    assert run.core.audit.records[-1].accepted
    assert run.core.stats["fees_collected_vnd"] == 0
    again = run.send(PaymentConfirmed("fees-1", visit, "BANK-7"))
    assert run.refused(again).reason == f"visit {visit} is closed (cancelled)"  # one refund asked for
    seen = run.read("cam-staging", "12C-000.01")  # the truck turns up all the same
    assert only(seen, ManualReview).reason == f"cancelled vehicle 12C-000.01 (visit {visit}) seen at cam-staging"


def test_an_online_payment_confirmed_after_its_visit_was_refused_is_refunded() -> None:
    run = GateRun(gate_config(Channel.YELLOW))
    visit = run.declare()
    run.pay(visit, method=PaymentMethod.ONLINE, account=DECLARANT, reference="BANK-8")
    run.decide(visit, K.CUSTOMS_DOCUMENTS, Outcome.REFUSED, reasons=("forged invoice",))
    answer = run.send(PaymentConfirmed("fees-1", visit, "BANK-8"))
    assert "refund it" in only(answer, ManualReview).reason
    assert not of_type(answer, RequestFee)


# --- a vehicle that moves to another lane at a barrier ---------------------------------------


def two_lanes_each_way() -> GateRun:
    lanes = tuple(DeviceSpec(device_id=f"{kind}-{way}-2", kind=dk, site=site, lane=f"{way}-2")
                  for way, site in (("in", Site.BARRIER_1), ("out", Site.BARRIER_2))
                  for kind, dk in (("cam", DeviceKind.PLATE_CAMERA), ("barrier", DeviceKind.BARRIER)))
    return GateRun(gate_config(devices=GateConfig().devices + lanes))


def test_a_vehicle_that_moves_to_another_entry_lane_is_let_in_where_it_now_waits() -> None:
    run = two_lanes_each_way()
    visit = run.declare()
    run.arrive_at_staging(visit)
    run.read("cam-in-1", "12C-000.01")
    moved = run.read("cam-in-2", "12C-000.01")
    assert moved == [] and run.core.audit.records[-1].reason == "moved from barrier-in-1 to barrier-in-2"
    assert run.core.lane_load == {"barrier-in-1": 0, "barrier-in-2": 1}
    opened = run.pass_entry_checks(visit)
    assert only(opened, OpenBarrier).device_id == "barrier-in-2"
    back = run.read("cam-in-1", "12C-000.01")  # opened for it at lane 2, it shows up at lane 1
    assert only(back, KeepClosed).device_id == "barrier-in-2" and only(back, OpenBarrier).device_id == "barrier-in-1"
    assert run.core.check_invariants() == []


def test_a_vehicle_that_moves_to_another_exit_lane_is_let_out_where_it_now_waits() -> None:
    run = two_lanes_each_way()
    visit = run.declare()
    run.to_yard(visit)
    run.clear_goods(visit)
    run.to_barrier_2(visit)
    run.read("cam-out-2", "12C-000.01")
    assert run.core.audit.records[-1].reason == "moved from barrier-out-1 to barrier-out-2"
    opened = run.decide(visit, K.BORDER_GUARD_EXIT)
    assert only(opened, OpenBarrier).device_id == "barrier-out-2"
    run.pass_barrier("barrier-out-2", visit)
    assert run.location(visit) is Location.DEPARTED


def test_a_vehicle_that_drives_past_the_scale_it_was_sent_to_is_handed_to_people() -> None:
    run = GateRun(gate_config())
    visit = run.declare()
    run.enter(visit)
    answer = run.read("cam-yard-in", "12C-000.01")  # never weighed
    assert only(answer, ManualReview).reason == ("12C-000.01 reached the yard without being weighed at scale-1: "
                                                 "weigh it by other means")
    assert run.location(visit) is Location.YARD and run.core.check_invariants() == []


def test_a_vehicle_routed_past_a_scale_that_went_down_is_not_reported() -> None:
    run = GateRun(gate_config())
    visit = run.declare()
    run.enter(visit)
    run.send(DeviceFaulted("scale-1", "load cell"))
    answer = run.read("cam-yard-in", "12C-000.01")
    assert not [r for r in of_type(answer, ManualReview) if "without being weighed" in r.reason]


# --- the AGV fleet down -----------------------------------------------------------------------


def test_containers_cleared_while_the_agv_fleet_is_down_are_dispatched_when_it_recovers() -> None:
    run, visit = agv_visit()
    run.send(ManifestAcknowledged("partner-link", f"{visit}:{BOX}"))
    run.send(DeviceFaulted("agv-fleet", "lane power cut"))
    cleared = run.decide(visit, K.CUSTOMS_DOCUMENTS)
    assert not of_type(cleared, DispatchAgv)  # no AGV is sent into a lane that is down
    assert run.core.mission(f"{visit}:{BOX}").state is AgvMissionState.ACKNOWLEDGED  # type: ignore[union-attr]
    back = run.send(DeviceRecovered("agv-fleet"))
    assert [d.container_no for d in of_type(back, DispatchAgv)] == [BOX]
    assert run.core.audit.records[-1].reason == "recovered; 1 AGV mission(s) dispatched"


def test_an_agv_breaking_down_while_the_fleet_is_down_is_sent_again_once_it_is_back() -> None:
    run, visit = agv_visit()
    run.send(ManifestAcknowledged("partner-link", f"{visit}:{BOX}"))
    run.decide(visit, K.CUSTOMS_DOCUMENTS)
    run.send(DeviceFaulted("agv-fleet", "lane power cut"))
    stopped = run.send(AgvFaulted("agv-fleet", f"{visit}:{BOX}", "stopped on the lane"))
    assert not of_type(stopped, DispatchAgv)
    again = run.send(DeviceRecovered("agv-fleet"))
    assert only(again, DispatchAgv).attempt == 2


def test_a_vehicle_returned_at_barrier_2_waits_for_its_amendment_in_the_yard_not_in_the_exit_lane() -> None:
    run = GateRun(gate_config())
    visit = run.declare()
    run.to_yard(visit)
    run.clear_goods(visit)
    run.to_barrier_2(visit)
    answer = run.decide(visit, K.BORDER_GUARD_EXIT, Outcome.RETURNED, reasons=("seal number differs",))
    assert only(answer, KeepClosed).device_id == "barrier-out-1"
    assert RouteTo(visit, "12C-000.01", Station.YARD) in answer
    run.read("cam-yard-in", "12C-000.01")
    assert run.location(visit) is Location.YARD and run.core.check_invariants() == []
    amended = amend(run, visit, declared_gross_kg=20_000)
    assert RouteTo(visit, "12C-000.01", Station.EXIT_LANE) in amended
    run.read("cam-yard-out", "12C-000.01")
    run.read("cam-out-1", "12C-000.01")
    assert only(run.decide(visit, K.BORDER_GUARD_EXIT), OpenBarrier).device_id == "barrier-out-1"


# --- one container, one truck -----------------------------------------------------------------


def test_a_container_already_on_an_open_declaration_is_refused_on_another() -> None:
    run = GateRun(gate_config())
    first = run.declare(data=container_declaration("DEC-0001", "12C-000.01"))
    twin = declaration("DEC-0002", "12C-000.02", vehicle_class="container", declared_gross_kg=30_000,
                       containers=[{"number": container_no(555), "size_ft": 20}, {"number": BOX, "size_ft": 40}])
    answer = run.send(DeclarationSubmitted(DECLARANT, twin))
    assert errors(answer) == [("containers[1].number", f"is on open declaration {first}")]
    second = run.declare(data=container_declaration("DEC-0002", "12C-000.02"))
    moved = run.send(DeclarationAmended(DECLARANT, second, twin))  # nor can an amendment take it over
    assert errors(moved) == [("containers[1].number", f"is on open declaration {first}")]
    run.through(first)  # once its truck has left, the container may travel again
    assert only(run.send(DeclarationSubmitted(DECLARANT, {**twin, "declaration_id": "DEC-0003",
                                                            "vehicle_plate": "12C-000.03"})), AcceptDeclaration)
    assert run.core.check_invariants() == []


def test_an_amendment_that_drops_a_container_frees_it_for_another_declaration() -> None:
    run = GateRun(gate_config())
    first = run.declare(data=container_declaration("DEC-0001", "12C-000.01", containers=2))
    amend_to_one = container_declaration("DEC-0001", "12C-000.01", containers=1)
    assert only(run.send(DeclarationAmended(DECLARANT, first, amend_to_one)), AcceptDeclaration).version == 2
    other = declaration("DEC-0002", "12C-000.02", vehicle_class="container", declared_gross_kg=30_000,
                        containers=[{"number": container_no(101), "size_ft": 40}])
    assert only(run.send(DeclarationSubmitted(DECLARANT, other)), AcceptDeclaration)
    assert run.core.by_container == {BOX: first, container_no(101): "DEC-0002"}
    assert run.core.check_invariants() == []


# --- customs acting on information of its own ---------------------------------------------------


def test_customs_can_raise_a_green_visit_to_red_and_it_is_inspected_in_the_yard() -> None:
    run = GateRun(gate_config(Channel.GREEN))
    visit = run.declare()
    run.to_yard(visit)
    answer = run.send(ChannelRaised("customs-1", visit, Channel.RED, "tip-off from the provincial post"))
    assert run.view(visit).channel is Channel.RED
    assert only(answer, AssignTask).clearance is K.CUSTOMS_INSPECTION
    assert RouteTo(visit, "12C-000.01", Station.INSPECTION) in answer
    assert run.core.audit.records[-1].reason == "channel raised to red: tip-off from the provincial post"
    run.clear_goods(visit)
    run.read("cam-yard-out", "12C-000.01")
    run.read("cam-out-1", "12C-000.01")
    assert only(run.decide(visit, K.BORDER_GUARD_EXIT), OpenBarrier).device_id == "barrier-out-1"


def test_a_channel_raised_while_the_vehicle_waits_at_barrier_2_sends_it_back_into_the_yard() -> None:
    run = GateRun(gate_config(Channel.GREEN))
    visit = run.declare()
    run.to_yard(visit)
    run.clear_goods(visit)
    run.to_barrier_2(visit)
    answer = run.send(ChannelRaised("customs-1", visit, Channel.YELLOW, "invoice flagged by the bank"))
    assert only(answer, KeepClosed).device_id == "barrier-out-1"
    assert RouteTo(visit, "12C-000.01", Station.YARD) in answer
    assert run.status(visit, K.CUSTOMS_DOCUMENTS) is S.ASSIGNED
    assert not of_type(run.decide(visit, K.BORDER_GUARD_EXIT), OpenBarrier)  # not before the documents


@pytest.mark.parametrize(("account", "channel", "reason", "said"), [
    ("guard-1", Channel.RED, "tip-off", "account guard-1 is not customs"),
    ("customs-1", Channel.YELLOW, "tip-off", "the visit is already in the yellow channel"),
    ("customs-1", Channel.GREEN, "tip-off", "the visit is already in the yellow channel"),
    ("customs-1", Channel.RED, "  ", "say why the channel is raised"),
])
def test_a_channel_is_raised_only_by_customs_only_upwards_and_with_a_reason(account: str, channel: Channel,
                                                                            reason: str, said: str) -> None:
    run = GateRun(gate_config(Channel.YELLOW))
    visit = run.declare()
    answer = run.send(ChannelRaised(account, visit, channel, reason))
    assert run.refused(answer).reason == said
    assert run.view(visit).channel is Channel.YELLOW


def test_no_channel_is_raised_once_barrier_2_is_open_for_the_vehicle() -> None:
    run = GateRun(gate_config(Channel.GREEN))
    visit = run.declare()
    run.exit_opened(visit)
    answer = run.send(ChannelRaised("customs-1", visit, Channel.RED, "late alert"))
    assert run.refused(answer).reason == "barrier 2 is already open for vehicle 12C-000.01: stop it there by hand"
