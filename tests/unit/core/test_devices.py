"""Scales, scanners and barriers: weight tolerance, scan results, faults and how the flow routes around them."""

from __future__ import annotations

import pytest

from gate.commands import AssignTask, KeepClosed, ManualReview, OpenBarrier, RefuseEvent, RequestScan, RouteTo
from gate.config import DeviceSpec, GateConfig, WeightConfig
from gate.enums import (
    Channel, ClearanceKind, ClearanceStatus, DeviceKind, Location, Outcome, ReviewKind, ScanResult, Site, Station,
)
from gate.events import (
    BarrierClosed, BarrierOpened, DeclarationCancelled, DeviceFaulted, DeviceRecovered, WeightMeasured,
)
from tests.unit.core.support import GateRun, gate_config, of_type, only, risk_for

K = ClearanceKind
S = ClearanceStatus


def two_scanners(channel: Channel = Channel.RED) -> GateConfig:
    devices = GateConfig().devices + (DeviceSpec(device_id="scanner-2", kind=DeviceKind.SCANNER, site=Site.SCANNER),)
    return gate_config(channel, devices=devices)


# ---------------------------------------------------------------------------- weight


@pytest.mark.parametrize("measured", [19_000.0, 20_000.0, 21_000.0])
def test_a_weight_within_tolerance_changes_nothing(measured: float) -> None:
    run = GateRun()
    visit = run.declare()  # 20 t declared; tolerance max(5 %, 200 kg) = 1,000 kg
    run.enter(visit)
    weighed = run.weigh(visit, measured)
    view = run.view(visit)
    assert view.weight_kg == measured and not view.weight_flagged
    assert view.channel is Channel.GREEN
    assert only(weighed, RouteTo).station is Station.YARD
    assert run.core.stats["weight_discrepancies"] == 0


@pytest.mark.parametrize("measured", [18_999.0, 21_001.0, 35_000.0])
def test_a_weight_outside_tolerance_flags_the_visit_and_upgrades_green_to_yellow(measured: float) -> None:
    run = GateRun()
    visit = run.declare()
    run.enter(visit)
    weighed = run.weigh(visit, measured)
    view = run.view(visit)
    assert view.weight_flagged
    assert view.channel is Channel.YELLOW
    assert "differs from declared 20000 kg" in view.channel_reasons[-1]
    assert view.clearance(K.CUSTOMS_DOCUMENTS) is not None
    # the document check can be done while the truck is on the scale
    assert only(weighed, AssignTask).clearance is K.CUSTOMS_DOCUMENTS
    assert run.core.ledger.violations("0101234567") == {"weight_discrepancy": 1}


def test_the_minimum_tolerance_protects_light_vehicles_from_scale_resolution() -> None:
    run = GateRun(gate_config(weight=WeightConfig(tolerance_pct=5.0, tolerance_min_kg=200.0)))
    visit = run.declare(declared_gross_kg=2_000, goods=[{"hs_code": "8471", "description": "parts", "quantity": 1,
                                                          "gross_kg": 1_000, "value_usd": 10, "origin": "CN",
                                                          "category": "general"}], vehicle_class="small")
    run.enter(visit)
    run.weigh(visit, 2_200.0)  # 10 % over, but within the 200 kg floor
    assert not run.view(visit).weight_flagged
    other = run.declare("DEC-0002", "12C-000.02")
    run.enter(other)
    run.weigh(other, 21_001.0)
    assert run.view(other).weight_flagged


def test_a_yellow_vehicle_over_weight_goes_red_and_is_sent_to_the_scanner() -> None:
    run = GateRun(gate_config(Channel.YELLOW))
    visit = run.declare()
    run.enter(visit)
    weighed = run.weigh(visit, 26_000.0)
    assert run.view(visit).channel is Channel.RED
    assert only(weighed, RouteTo).station is Station.SCANNER
    assert only(weighed, RequestScan).device_id == "scanner-1"


def test_a_weight_discrepancy_only_flags_when_upgrades_are_switched_off() -> None:
    risk = risk_for(Channel.GREEN).model_copy(update={"upgrade_on_weight_discrepancy": False})
    run = GateRun(gate_config(risk=risk))
    visit = run.declare()
    run.enter(visit)
    run.weigh(visit, 30_000.0)
    view = run.view(visit)
    assert view.weight_flagged and view.channel is Channel.GREEN


def test_an_unstable_reading_is_ignored_until_the_scale_settles() -> None:
    run = GateRun()
    visit = run.declare()
    run.enter(visit)
    unstable = run.send(WeightMeasured("scale-1", run.plate_of(visit), 5_000.0, stable=False))
    assert unstable == [] and run.location(visit) is Location.ENTRY_LANE
    run.weigh(visit)
    assert run.location(visit) is Location.SCALE and run.view(visit).weight_kg == 20_000.0


def test_an_overload_asks_for_a_person_and_lets_the_vehicle_go_on_unweighed() -> None:
    run = GateRun()
    visit = run.declare()
    run.enter(visit)
    answer = run.send(WeightMeasured("scale-1", run.plate_of(visit), 80_000.0, overload=True))
    review = only(answer, ManualReview)
    assert "overloads scale scale-1" in review.reason and review.visit_id == visit
    assert run.view(visit).weight_kg is None
    assert only(answer, RouteTo).station is Station.YARD


def test_a_repeated_weight_report_changes_nothing() -> None:
    run = GateRun()
    visit = run.declare()
    run.enter(visit)
    run.weigh(visit)
    assert run.weigh(visit, 20_050.0) == []  # the same weight, within the scale's tolerance
    assert run.view(visit).weight_kg == 20_000.0 and not run.view(visit).weight_flagged


def test_a_weight_from_a_device_that_is_no_scale_is_refused() -> None:
    run = GateRun()
    visit = run.declare()
    run.enter(visit)
    answer = run.send(WeightMeasured("scanner-1", run.plate_of(visit), 20_000.0))
    assert run.refused(answer).reason == "device scanner-1 is of kind scanner, not scale"
    assert run.location(visit) is Location.ENTRY_LANE


# ---------------------------------------------------------------------------- scanners


def test_a_faulted_scanner_re_routes_its_waiting_vehicle_to_the_other_scanner() -> None:
    run = GateRun(two_scanners())
    visit = run.declare()
    run.enter(visit)
    run.weigh(visit)
    assert run.core.active[visit].scanner == "scanner-1"
    rerouted = run.send(DeviceFaulted("scanner-1", "x-ray source"))
    assert only(rerouted, RouteTo) == RouteTo(visit, run.plate_of(visit), Station.SCANNER, "scanner-2")
    assert only(rerouted, RequestScan).device_id == "scanner-2"
    run.scan(visit, ScanResult.CLEAR, scanner="scanner-2")
    assert run.status(visit, K.CUSTOMS_INSPECTION) is S.PASSED


def test_a_faulted_only_scanner_sends_red_vehicles_to_a_manual_inspection() -> None:
    run = GateRun(gate_config(Channel.RED))  # the default gate has one scanner
    visit = run.declare()
    run.enter(visit)
    run.weigh(visit)
    rerouted = run.send(DeviceFaulted("scanner-1"))
    assert only(rerouted, RouteTo).station is Station.YARD
    in_yard = run.read("cam-yard-in", run.plate_of(visit))
    assert only(in_yard, AssignTask).clearance is K.CUSTOMS_INSPECTION
    assert only(in_yard, RouteTo).station is Station.INSPECTION


def test_while_the_scanner_is_down_new_red_vehicles_skip_it_and_after_recovery_they_use_it_again() -> None:
    run = GateRun(gate_config(Channel.RED))
    run.send(DeviceFaulted("scanner-1"))
    first = run.declare()
    run.enter(first)
    assert only(run.weigh(first), RouteTo).station is Station.YARD
    run.send(DeviceRecovered("scanner-1"))
    second = run.declare("DEC-0002", "12C-000.02")
    run.enter(second)
    assert only(run.weigh(second), RouteTo).station is Station.SCANNER


def test_the_less_busy_scanner_is_chosen() -> None:
    run = GateRun(two_scanners())
    first, second = run.declare(), run.declare("DEC-0002", "12C-000.02")
    for visit in (first, second):
        run.enter(visit)
    assert only(run.weigh(first), RequestScan).device_id == "scanner-1"
    assert only(run.weigh(second), RequestScan).device_id == "scanner-2"


def test_a_scan_of_a_vehicle_not_at_the_scale_or_entry_lane_is_refused_for_review() -> None:
    run = GateRun(gate_config(Channel.RED))
    visit = run.declare()
    answer = run.scan(visit)
    assert "cannot be scanned while outside" in run.refused(answer).reason
    assert only(answer, ManualReview).visit_id == visit
    assert run.location(visit) is Location.OUTSIDE


# ---------------------------------------------------------------------------- scales


def test_a_faulted_scale_is_skipped_by_vehicles_entering_afterwards() -> None:
    run = GateRun()
    run.send(DeviceFaulted("scale-1", "load cell"))
    visit = run.declare()
    run.arrive_at_barrier_1(visit)
    opened = run.pass_entry_checks(visit)
    assert only(opened, RouteTo).station is Station.YARD
    run.read("cam-yard-in", run.plate_of(visit))
    assert run.location(visit) is Location.YARD and run.view(visit).weight_kg is None


def test_a_faulted_scale_re_routes_the_vehicle_sent_to_it_to_the_scanner_or_the_yard() -> None:
    run = GateRun(gate_config(Channel.RED))
    red = run.declare()
    run.enter(red)
    assert run.core.active[red].scale == "scale-1"
    rerouted = run.send(DeviceFaulted("scale-1"))
    assert only(rerouted, RouteTo).station is Station.SCANNER
    assert run.core.active[red].scale is None


def test_a_truck_that_backs_out_to_staging_is_sent_to_the_scale_again_when_it_comes_back() -> None:
    run = GateRun()
    visit = run.declare()
    run.arrive_at_barrier_1(visit)
    assert only(run.pass_entry_checks(visit), RouteTo) == RouteTo(visit, run.plate_of(visit), Station.SCALE, "scale-1")
    run.arrive_at_staging(visit)  # it backs out instead of driving on
    assert run.core.active[visit].scale is None and run.core.scale_queue["scale-1"] == {}
    back = run.arrive_at_barrier_1(visit)
    assert only(back, OpenBarrier).device_id == "barrier-in-1"
    assert only(back, RouteTo) == RouteTo(visit, run.plate_of(visit), Station.SCALE, "scale-1")
    assert run.core.check_invariants() == []


def test_a_scanner_fault_leaves_alone_a_truck_that_backed_out_to_staging_from_its_way_to_the_scanner() -> None:
    run = GateRun(gate_config(Channel.RED))
    run.send(DeviceFaulted("scale-1", "load cell"))  # red trucks go straight from barrier 1 to the scanner
    visit = run.declare()
    run.arrive_at_barrier_1(visit)
    assert of_type(run.pass_entry_checks(visit), RequestScan)
    run.arrive_at_staging(visit)
    assert run.core.scanner_queue["scanner-1"] == {}
    rerouted = run.send(DeviceFaulted("scanner-1", "x-ray tube"))
    assert of_type(rerouted, RouteTo) == [] and run.location(visit) is Location.STAGING
    assert run.core.check_invariants() == []


def test_a_faulted_barrier_is_opened_by_hand() -> None:
    run = GateRun()
    faulted = run.send(DeviceFaulted("barrier-in-1", "arm jammed"))
    assert "barrier barrier-in-1 faulted (arm jammed): manual procedure" == only(faulted, ManualReview).reason
    visit = run.declare()
    run.arrive_at_barrier_1(visit)
    opened = run.pass_entry_checks(visit)
    assert only(opened, OpenBarrier).device_id == "barrier-in-1"
    assert "open it by hand" in only(opened, ManualReview).reason


def test_a_repeated_fault_report_raises_no_second_review_and_recovery_closes_it() -> None:
    run = GateRun()
    first = run.send(DeviceFaulted("cam-in-1"))
    assert len(of_type(first, ManualReview)) == 1
    assert run.send(DeviceFaulted("cam-in-1")) == []
    assert len(run.core.open_reviews()) == 1
    run.send(DeviceRecovered("cam-in-1"))
    assert run.core.open_reviews() == [] and "cam-in-1" not in run.core.faulted
    assert run.send(DeviceRecovered("cam-in-1")) == []  # a repeat


@pytest.mark.parametrize("event", [DeviceFaulted("scanner-9"), DeviceRecovered("scanner-9"), BarrierOpened("nope")])
def test_a_report_from_an_unknown_device_is_refused(event: object) -> None:
    run = GateRun()
    assert "unknown device" in run.refused(run.send(event)).reason


def test_barrier_movements_are_recorded_and_change_nothing() -> None:
    run = GateRun()
    assert run.send(BarrierOpened("barrier-in-1")) == []
    assert run.send(BarrierClosed("barrier-in-1")) == []
    assert [r.reason for r in run.core.audit.records] == ["opened", "closed"]
    assert isinstance(run.send(BarrierOpened("scale-1"))[0], RefuseEvent)


def test_a_vehicle_passing_barrier_1_without_permission_raises_a_review() -> None:
    run = GateRun()
    visit = run.declare()
    run.arrive_at_barrier_1(visit)
    answer = run.pass_barrier("barrier-in-1", visit)
    assert "passed barrier 1 without entry permission" in run.refused(answer).reason
    assert only(answer, ManualReview).visit_id == visit


def test_a_vehicle_passing_barrier_2_without_permission_raises_a_review() -> None:
    run = GateRun()
    visit = run.declare()
    run.to_yard(visit)
    answer = run.pass_barrier("barrier-out-1", visit)
    assert "cannot pass barrier 2 while yard" in run.refused(answer).reason
    assert only(answer, ManualReview).visit_id == visit
    assert run.location(visit) is Location.YARD


def test_scanner_choice_ignores_scanner_first_when_the_site_switches_it_off() -> None:
    run = GateRun(gate_config(Channel.RED, scanner_first=False))
    visit = run.declare()
    run.enter(visit)
    assert only(run.weigh(visit), RouteTo).station is Station.YARD
    in_yard = run.read("cam-yard-in", run.plate_of(visit))
    assert only(in_yard, RouteTo).station is Station.INSPECTION



def test_entry_lanes_share_the_load_and_a_repeated_passage_report_is_counted_once() -> None:
    devices = GateConfig().devices + (
        DeviceSpec(device_id="cam-in-2", kind=DeviceKind.PLATE_CAMERA, site=Site.BARRIER_1, lane="in-2"),
        DeviceSpec(device_id="barrier-in-2", kind=DeviceKind.BARRIER, site=Site.BARRIER_1, lane="in-2"),
    )
    run = GateRun(gate_config(devices=devices))
    first, second, third = (run.declare(f"DEC-000{n}", f"12C-000.0{n}") for n in (1, 2, 3))
    lanes = [only(run.arrive_at_staging(v), RouteTo).device_id for v in (first, second, third)]
    assert lanes == ["barrier-in-1", "barrier-in-2", "barrier-in-1"]
    assert run.core.lane_load == {"barrier-in-1": 2, "barrier-in-2": 1}
    run.enter(first)
    assert run.pass_barrier("barrier-in-1", first) == []
    assert run.core.lane_load == {"barrier-in-1": 1, "barrier-in-2": 1}
    # the second truck ignores its lane and queues at lane 1: the load follows it
    run.read("cam-in-1", "12C-000.02")
    assert run.core.lane_load == {"barrier-in-1": 2, "barrier-in-2": 0}
    assert only(run.pass_entry_checks(second), OpenBarrier).device_id == "barrier-in-1"
    run.weigh(second)  # through, though the loop behind the barrier never reported it
    assert run.core.lane_load == {"barrier-in-1": 1, "barrier-in-2": 0}


def test_an_exit_barrier_faulted_when_it_is_to_open_asks_people_to_lift_it_as_barrier_1_does() -> None:
    run = GateRun()
    visit = run.declare()
    run.to_yard(visit)
    run.clear_goods(visit)
    run.to_barrier_2(visit)  # its exit check assigned, not yet passed
    run.send(DeviceFaulted("barrier-out-1", "arm jammed"))
    answer = run.decide(visit, ClearanceKind.BORDER_GUARD_EXIT)
    review = only(answer, ManualReview)
    assert review.reason == "barrier barrier-out-1 is faulted: open it by hand for 12C-000.01"
    assert only(answer, OpenBarrier).device_id == "barrier-out-1"


def _let_in_at_a_jammed_barrier_1(run: GateRun) -> str:
    """A visit whose entry checks passed while barrier 1 was jammed: people are asked to lift it."""
    visit = run.declare()
    run.arrive_at_staging(visit)
    run.send(DeviceFaulted("barrier-in-1", "arm jammed"))
    run.arrive_at_barrier_1(visit)
    granted = run.pass_entry_checks(visit)
    assert only(granted, ManualReview).reason.startswith("barrier barrier-in-1 is faulted: open it by hand")
    return visit


def test_a_barrier_repaired_while_a_truck_waits_for_it_is_told_to_open_for_the_truck_again() -> None:
    run = GateRun()
    visit = _let_in_at_a_jammed_barrier_1(run)
    repaired = run.send(DeviceRecovered("barrier-in-1"))
    assert only(repaired, OpenBarrier) == OpenBarrier("barrier-in-1", visit, run.plate_of(visit))
    assert run.core.audit.records[-1].reason == f"recovered; opened again for {run.plate_of(visit)}"
    assert not run.core.open_reviews()


def test_a_barrier_repaired_after_an_officer_let_the_truck_through_by_hand_opens_for_nobody() -> None:
    run = GateRun()
    visit = _let_in_at_a_jammed_barrier_1(run)
    run.pass_barrier("barrier-in-1", visit)  # lifted by hand
    assert not of_type(run.send(DeviceRecovered("barrier-in-1")), OpenBarrier)


def test_the_review_to_lift_barrier_1_by_hand_closes_once_the_vehicle_has_gone_through_it() -> None:
    run = GateRun()
    visit = _let_in_at_a_jammed_barrier_1(run)
    lift = next(r for r in run.core.open_reviews() if r.kind is ReviewKind.BARRIER_FAULTED)
    run.pass_barrier("barrier-in-1", visit)  # lifted by hand
    assert lift.review_id not in run.core.reviews
    assert run.core.audit.records[-1].reason == (
        f"passed barrier 1; barrier-faulted review {lift.review_id} closed: the vehicle went through")
    # The barrier is still jammed: the review of its manual procedure stays until it is repaired.
    assert [r.kind for r in run.core.open_reviews()] == [ReviewKind.DEVICE_FAULTED]
    assert run.core.check_invariants() == []


def test_the_review_to_lift_barrier_2_by_hand_closes_once_the_vehicle_has_departed_through_it() -> None:
    run = GateRun()
    visit = run.declare()
    run.to_yard(visit)
    run.clear_goods(visit)
    run.to_barrier_2(visit)
    run.send(DeviceFaulted("barrier-out-1", "arm jammed"))
    lift = only(run.decide(visit, ClearanceKind.BORDER_GUARD_EXIT), ManualReview)
    run.pass_barrier("barrier-out-1", visit)
    assert run.location(visit) is Location.DEPARTED and lift.review_id not in run.core.reviews
    assert run.core.audit.records[-1].reason == (
        f"departed; barrier-faulted review {lift.review_id} closed: the visit ended (departed)")
    # The barrier is still jammed: the review of its manual procedure stays until it is repaired.
    assert [r.kind for r in run.core.open_reviews()] == [ReviewKind.DEVICE_FAULTED]
    assert run.core.check_invariants() == []


def test_the_review_to_lift_barrier_1_by_hand_closes_when_the_vehicle_is_refused_at_it() -> None:
    run = GateRun()
    visit = _let_in_at_a_jammed_barrier_1(run)
    lift = next(r for r in run.core.open_reviews() if r.kind is ReviewKind.BARRIER_FAULTED)
    answer = run.decide(visit, ClearanceKind.BORDER_GUARD_ENTRY, Outcome.REFUSED, reasons=("forged papers",))
    assert only(answer, KeepClosed).device_id == "barrier-in-1"
    assert lift.review_id not in run.core.reviews  # nobody is to lift the arm for a refused vehicle
    assert run.core.audit.records[-1].reason.endswith(
        f"; barrier-faulted review {lift.review_id} closed: the visit ended (refused)")
    assert run.core.check_invariants() == []


def test_a_passage_without_permission_stays_for_people_to_look_into_after_the_visit_ends() -> None:
    run = GateRun()
    visit = run.declare()
    run.arrive_at_barrier_1(visit)
    incident = only(run.pass_barrier("barrier-in-1", visit), ManualReview)
    run.send(DeclarationCancelled("trader-1", visit, "trip called off"))
    assert run.location(visit) is Location.REFUSED
    assert [r.review_id for r in run.core.open_reviews()] == [incident.review_id]
    assert run.core.audit.records[-1].reason == "cancelled by the declarant: trip called off"
