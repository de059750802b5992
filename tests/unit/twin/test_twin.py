"""The twin end to end: the real core in a SimPy gate, run as planners run it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gate.enums import ClearanceKind, Outcome, Role
from scenarios import library_names, load_scenario, with_overrides
from scenarios.schema import Scenario
from twin.build import People, build, statistical_people
from twin.fleet import TruckPlan, make_trucks
from twin.people import Officers
from twin.run import InvariantViolation, RunOptions, run_replication, run_scenario
from twin.stats import erlang_c_wait
from twin.streams import Streams

DATA = Path(__file__).parent / "data"


def _short(name: str) -> Scenario:
    """A library scenario cut to a test-sized run that still exercises what it is about."""
    scenario = load_scenario(name)
    if name == "tet_reopening":
        # The same shape at a test's scale: closed on day 1, the surge after it.
        return with_overrides(scenario, horizon_h=60, replications=1,
                              closures=[{"start_day": 1, "days": 1, "surge_days": 0.5}],
                              **{"demand.trucks_per_day": 300})
    return with_overrides(scenario, horizon_h=14, replications=1)


@pytest.mark.parametrize("name", library_names())
def test_every_library_scenario_runs_and_keeps_its_invariants(name: str, tmp_path: Path) -> None:
    run = run_scenario(_short(name), RunOptions(out=tmp_path))  # raises InvariantViolation if one breaks
    (rep,) = run.replications
    assert rep.invariants and all(check.holds for check in rep.invariants)
    names = {check.name for check in rep.invariants}
    assert {"conservation", "core books", "audit chain", "core and twin agree on departures"} <= names
    assert any(n.startswith("little:") for n in names)
    assert rep.kpis["trucks_departed"] > 0, "a day at the gate must clear some trucks"
    assert (tmp_path / "summary.json").exists() and (tmp_path / "trucks.parquet").exists()


def test_a_station_with_poisson_arrivals_and_exponential_service_matches_erlang_c() -> None:
    scenario = load_scenario(DATA / "mm1_scale.yaml")
    run = run_scenario(scenario)
    wait = run.summary["kpis"]["scale-1_mean_wait"]
    arrival_rate, service_rate = 40 / 3600, 1 / 60
    expected_min = erlang_c_wait(arrival_rate, service_rate, 1) / 60
    assert expected_min == pytest.approx(2.0)
    assert abs(wait["mean"] - expected_min) <= wait["half_width"], wait
    utilisation = run.summary["kpis"]["scale-1_utilisation"]
    assert abs(utilisation["mean"] - 2 / 3) <= max(utilisation["half_width"], 0.02)


def test_the_same_scenario_and_seed_give_identical_results_bit_for_bit(tmp_path: Path) -> None:
    scenario = with_overrides(load_scenario("mong_cai_phase2"), horizon_h=12)
    first = run_scenario(scenario, RunOptions(out=tmp_path / "a"))
    second = run_scenario(scenario, RunOptions(out=tmp_path / "b"))
    pd.testing.assert_frame_equal(first.replications[0].trucks, second.replications[0].trucks)
    for name in ("summary.json", "trucks.csv", "stations.csv", "scenario.yaml", "report.md"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_another_seed_gives_another_day() -> None:
    scenario = with_overrides(load_scenario("mong_cai_phase2"), horizon_h=10)
    a, _ = run_replication(scenario, 0, seed=1)
    b, _ = run_replication(scenario, 0, seed=2)
    assert not a.trucks["arrival"].equals(b.trucks["arrival"])


def test_two_layouts_with_one_seed_see_the_same_trucks() -> None:
    base = with_overrides(load_scenario("huu_nghi_2025"), horizon_h=12)
    bigger = with_overrides(base, **{"layout.entry_lanes": 4, "layout.scales": 3,
                                     "layout.scanners": [{"type": "drive_through", "count": 2}]})
    assert [d.device_id for d in bigger.device_inventory()] != [d.device_id for d in base.device_inventory()]
    trucks_a = make_trucks(base, Streams(7, 0))
    trucks_b = make_trucks(bigger, Streams(7, 0))
    assert [(t.arrival_s, t.declaration, t.truth, t.error) for t in trucks_a] == \
        [(t.arrival_s, t.declaration, t.truth, t.error) for t in trucks_b]
    a, _ = run_replication(base, 0, seed=7)
    b, _ = run_replication(bigger, 0, seed=7)
    np.testing.assert_array_equal(a.trucks["arrival"].to_numpy(), b.trucks["arrival"].to_numpy())
    assert a.trucks["plate"].tolist() == b.trucks["plate"].tolist()


def test_a_closed_gate_holds_arrivals_and_they_surge_after_it_reopens() -> None:
    scenario = _short("tet_reopening")
    result, world = run_replication(scenario, 0, seed=3)
    trucks = result.trucks
    closed_from, reopens = 24 * 3600.0, 48 * 3600.0
    entered_while_closed = trucks["entry_in"].between(closed_from, reopens, inclusive="neither")
    assert not entered_while_closed.any()
    assert trucks["arrival"].between(reopens, reopens + 12 * 3600).sum() > trucks["arrival"].between(
        closed_from - 24 * 3600, closed_from - 12 * 3600).sum()


def test_a_scanner_outage_sends_red_trucks_to_manual_inspection() -> None:
    scenario = with_overrides(load_scenario("scanner_outage"), horizon_h=14)
    result, world = run_replication(scenario, 0, seed=5)
    scanner = world.equipment.scanners["scanner-1"]
    assert scanner.fault_count >= 1 and scanner.downtime_s >= 4 * 3600 - 1
    trucks = result.trucks
    during = trucks["scanner_in"].between(9 * 3600, 13 * 3600)
    assert not during.any(), "nothing is scanned while the scanner is down"
    red_in_outage = (trucks["channel"] == "red") & trucks["yard_in"].between(9.5 * 3600, 13 * 3600)
    assert trucks.loc[red_in_outage, "inspection_in"].notna().any()


def test_the_agv_lane_carries_containers_across() -> None:
    result, world = run_replication(with_overrides(load_scenario("huu_nghi_smart_gate"), horizon_h=16), 0, seed=1)
    assert world.core.stats["agv_delivered"] > 0
    assert result.kpis["agv_containers_handed_over_per_day"] > 0
    assert result.extra["agv"]["delivered"] == world.core.stats["agv_delivered"]
    delivered = world.core.stats["agv_delivered"] * 24 / 16
    assert result.kpis["agv_containers_delivered_per_day"] == pytest.approx(delivered)
    assert result.kpis["agv_backlog_containers"] == sum(
        1 for m in world.core.missions.values() if m.state.value not in ("delivered", "failed"))
    assert 0 < result.kpis["agv_fleet_utilisation"] <= 1


def test_fewer_agvs_deliver_fewer_containers_and_leave_a_longer_backlog() -> None:
    smart = with_overrides(load_scenario("huu_nghi_smart_gate"), horizon_h=16)
    one = run_replication(with_overrides(smart, **{"layout.agv_lane.n_agvs": 1}), 0, seed=1)[0]
    three = run_replication(with_overrides(smart, **{"layout.agv_lane.n_agvs": 3}), 0, seed=1)[0]
    assert one.kpis["agv_containers_handed_over_per_day"] == three.kpis["agv_containers_handed_over_per_day"]
    assert one.kpis["agv_containers_delivered_per_day"] < three.kpis["agv_containers_delivered_per_day"]
    assert one.kpis["agv_backlog_containers"] > three.kpis["agv_backlog_containers"]
    assert one.kpis["agv_fleet_utilisation"] > three.kpis["agv_fleet_utilisation"]
    assert "agv_fleet_utilisation" not in run_replication(
        with_overrides(load_scenario("huu_nghi_2025"), horizon_h=2), 0, seed=1)[0].kpis


class _RefusingPlantQuarantine:
    """Officers who refuse every third fruit truck's plant quarantine (goods not admissible) and
    otherwise decide as the statistical officers do."""

    def __init__(self, officers: Officers) -> None:
        self._officers = officers

    def decide(self, role: Role, clearance: ClearanceKind, plan: TruckPlan, error: str, amended: bool,
               now: float) -> tuple[Outcome, tuple[str, ...]]:
        if clearance is ClearanceKind.PLANT_QUARANTINE and plan.index % 3 == 0:
            return Outcome.REFUSED, ("pests found: not admissible",)
        return self._officers.decide(role, clearance, plan, error, amended, now)


def test_a_truck_refused_in_the_yard_holds_its_slot_until_it_is_seen_driving_out() -> None:
    def refusing(scenario: Scenario, streams: Streams, plans: list[TruckPlan]) -> People:
        people = statistical_people(scenario, streams, plans)
        people.officers = _RefusingPlantQuarantine(people.officers)
        return people

    scenario = with_overrides(load_scenario("harvest_peak"), horizon_h=10)
    result, world = run_replication(scenario, 0, seed=3, people_factory=refusing)
    assert all(check.holds for check in result.invariants), result.invariants
    trucks = result.trucks
    refused = trucks[trucks["outcome"] == "refused"]
    assert len(refused) >= 10 and refused["yard_in"].notna().all() and refused["yard_out"].notna().all()
    core = world.core
    freed = [r for r in core.audit.records if "is out of the yard" in r.reason]
    # Each refused truck drove out past the yard-gate camera (or was typed there by hand), and
    # only that freed its slot: none is still held, and no slot was freed on a review's timeout.
    assert len(freed) == len(refused) and all("(seen at yard_gate_out)" in r.reason for r in freed)
    assert not core.yard.refused_inside
    inside = int((trucks["yard_in"].notna() & trucks["yard_out"].isna()).sum())
    assert sum(core.yard.occupied.values()) == inside


def test_returned_declarations_come_back_amended_and_leave() -> None:
    scenario = with_overrides(load_scenario("huu_nghi_2025"), horizon_h=20, **{"demand.declaration_error_rate": 0.3})
    result, world = run_replication(scenario, 0, seed=2)
    assert world.core.stats["returns"] > 0 and world.core.stats["amendments"] > 0
    came_back = result.trucks[(result.trucks["redeclarations"] > 0) & (result.trucks["outcome"] == "departed")]
    assert len(came_back) > 0


def test_a_truck_whose_declaration_is_amended_while_it_reaches_the_checkpoint_is_read_again_and_called_forward() -> None:
    # Replication 1 of the default day has trucks whose declaration was returned while they drove
    # in and came back amended by the time their checkpoint read was refused.
    scenario = load_scenario("huu_nghi_2025")
    result, world = run_replication(scenario, 1, scenario.run.seed)
    trucks = result.trucks
    redeclared_early = trucks[(trucks["redeclarations"] > 0) & (trucks["staging_in"] < 20 * 3600.0)]
    assert len(redeclared_early) > 0
    never_called = redeclared_early[redeclared_early["staging_out"].isna() & (redeclared_early["outcome"] == "inside")]
    assert never_called.empty, never_called
    check = next(c for c in result.invariants if c.name == "the core knows every truck waiting at staging")
    assert check.holds, check.detail


def test_staging_areas_may_have_any_name_and_trucks_still_check_in_there() -> None:
    scenario = with_overrides(load_scenario("huu_nghi_2025"), horizon_h=8,
                              **{"layout.staging_areas": {"north": 100, "south": 200}})
    result, world = run_replication(scenario, 0, seed=1)
    assert world.staging_cameras == ["cam-north", "cam-south"]
    assert result.kpis["trucks_departed"] > 50
    assert all(check.holds for check in result.invariants)


def test_fee_revenue_is_what_the_core_collected_not_what_was_assessed() -> None:
    result, world = run_replication(with_overrides(load_scenario("huu_nghi_2025"), horizon_h=10), 0, seed=4)
    trucks = result.trucks
    assert result.kpis["fee_revenue_vnd"] == world.core.stats["fees_collected_vnd"] > 0
    unpaid_inside = trucks[(trucks["outcome"] == "inside") & (trucks["fee_paid_vnd"] < trucks["fee_vnd"])]
    assert len(unpaid_inside) > 0  # fees assessed on trucks still inside are not revenue yet
    assert trucks["fee_vnd"].sum() > result.kpis["fee_revenue_vnd"]


def test_camera_no_reads_count_as_manual_reviews_of_the_truck_and_its_plate_typed_by_hand() -> None:
    result, world = run_replication(with_overrides(load_scenario("mong_cai_phase2"), horizon_h=12), 0, seed=3)
    raised = world.commands["ManualReview"]
    no_reads = result.trucks["manual_reviews"].sum()
    # Every review raised reaches a truck's count but those still waiting for their truck at the end
    # (this layout raises none about a device alone).
    waiting = sum(1 for queue in world.plate_reviews.values() for _, counted in queue if not counted)
    assert raised > 0 and result.kpis["manual_reviews"] == no_reads == raised - waiting
    assert 0 < result.kpis["plates_typed"] <= result.kpis["manual_reviews"]


def test_without_cameras_every_plate_is_typed_at_every_checkpoint() -> None:
    result, _ = run_replication(with_overrides(load_scenario("mong_cai_phase1"), horizon_h=12), 0, seed=3)
    trucks = result.trucks
    departed = trucks[trucks["outcome"] == "departed"]
    assert len(departed) > 0
    # staging, barrier 1, the yard gate in and out, barrier 2: typed at each
    assert (departed["plates_typed"] >= 4).all()
    assert result.kpis["plates_typed"] == trucks["plates_typed"].sum()


def test_a_truck_left_at_staging_unseen_by_the_core_breaks_an_invariant() -> None:
    from twin.run import core_invariants

    scenario = with_overrides(load_scenario("huu_nghi_2025"), horizon_h=3)
    _, world = run_replication(scenario, 0, seed=5)
    outside = next(t for t in world.trucks.values() if world.core.visit(t.visit_id) is not None
                   and world.core.visit(t.visit_id).location.value == "outside")
    outside.checked_in, outside.places = True, {"staging"}  # past the camera, yet the core never saw it
    check = next(c for c in core_invariants(world) if c.name == "the core knows every truck waiting at staging")
    assert not check.holds and outside.visit_id in check.detail


def test_a_broken_invariant_fails_the_run_loudly_and_still_writes_the_results(tmp_path: Path,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    import twin.run as run_module

    def lose_a_departure(world):  # type: ignore[no-untyped-def]
        world.core.stats["departed"] += 1  # the core now claims one more departure than the twin saw
        return original(world)

    original = run_module.core_invariants
    monkeypatch.setattr(run_module, "core_invariants", lose_a_departure)
    scenario = with_overrides(load_scenario("mong_cai_phase2"), horizon_h=10)
    with pytest.raises(InvariantViolation, match="agree on departures"):
        run_scenario(scenario, RunOptions(out=tmp_path))
    summary = (tmp_path / "summary.json").read_text()
    assert "invariants violated" in summary


def test_build_wires_every_device_of_the_layout_to_the_core() -> None:
    scenario = with_overrides(load_scenario("huu_nghi_2025"), horizon_h=2)
    world = build(scenario)
    emulated = {d.device_id for d in world.equipment.all()}
    assert emulated == set(world.core.devices)
