"""A recorded day through the twin: trucks come when the record says, carrying what it says."""

from __future__ import annotations

import numpy as np
import pytest

from scenarios import load_scenario, with_overrides
from scenarios.recorded import RecordedDemand, RecordedTruck
from scenarios.schema import Scenario
from twin.bare import run_bare
from twin.fleet import arrival_times, make_trucks, planned_arrivals
from twin.run import RunOptions, run_replication, run_scenario
from twin.streams import Streams

HOUR = 3600.0


def _with_record(trucks: list[dict[str, object]], hours: float = 12.0, **changes: object) -> Scenario:
    base = with_overrides(load_scenario("huu_nghi_2025"), horizon_h=hours)
    return with_overrides(base, **{"demand.recorded": {"source": "test", "trucks": trucks, **changes}})


def test_trucks_arrive_when_the_record_says_with_what_it_says() -> None:
    record = [
        {"arrival_h": 7.25, "direction": "export", "vehicle_class": "container", "cargo": "plants_fruit", "containers": 2},
        {"arrival_h": 6.0, "direction": "import", "vehicle_class": "truck", "cargo": "ore"},
        {"arrival_h": 8.5, "direction": "import", "vehicle_class": "small", "cargo": "foodstuff"},
    ]
    rep, _ = run_replication(_with_record(record), 0, seed=3)
    trucks = rep.trucks.sort_values("arrival").reset_index(drop=True)
    np.testing.assert_array_equal(trucks["arrival"].to_numpy(), [6.0 * HOUR, 7.25 * HOUR, 8.5 * HOUR])
    assert trucks["direction"].tolist() == ["import", "export", "import"]
    assert trucks["vehicle_class"].tolist() == ["truck", "container", "small"]
    assert trucks["cargo"].tolist() == ["ore", "plants_fruit", "foodstuff"]
    assert trucks["outcome"].tolist() == ["departed"] * 3
    assert all(check.holds for check in rep.invariants)


def test_two_containers_on_a_recorded_truck_are_two_20_ft_containers() -> None:
    scenario = _with_record([{"arrival_h": 6.0, "vehicle_class": "container", "containers": 2}])
    (plan,) = make_trucks(scenario, Streams(1, 0))
    assert [c.size_ft for c in plan.declaration.containers] == [20, 20]


def test_what_the_record_leaves_out_is_drawn_from_the_mixes() -> None:
    scenario = _with_record([{"arrival_h": 6.0 + i / 100} for i in range(600)])
    plans = make_trucks(scenario, Streams(5, 0))
    exports = sum(plan.declaration.direction.value == "export" for plan in plans) / len(plans)
    containers = sum(plan.declaration.vehicle_class.value == "container" for plan in plans) / len(plans)
    assert exports == pytest.approx(scenario.demand.direction_mix["export"], abs=0.06)  # type: ignore[index]
    assert containers == pytest.approx(scenario.demand.vehicle_class_mix["container"], abs=0.06)  # type: ignore[index]


def test_a_record_repeated_daily_comes_again_every_day_of_the_run() -> None:
    scenario = _with_record([{"arrival_h": 9.0}, {"arrival_h": 23.5}], hours=60.0, repeat_daily=True)
    times, records = planned_arrivals(scenario, Streams(2, 0).get("arrivals"))
    np.testing.assert_array_equal(times / HOUR, [9.0, 23.5, 33.0, 47.5, 57.0])  # the third day ends at hour 60
    assert [r.arrival_h for r in records if r is not None] == [9.0, 23.5, 9.0, 23.5, 9.0]


def test_a_closure_holds_recorded_trucks_until_the_gate_reopens() -> None:
    scenario = with_overrides(_with_record([{"arrival_h": 6.0 + i} for i in range(40)], hours=96.0),
                              closures=[{"start_day": 0, "days": 1, "surge_days": 1}])
    times, records = planned_arrivals(scenario, Streams(2, 0).get("arrivals"))
    assert len(times) == 40 and np.all(np.diff(times) >= 0)
    held = [r.arrival_h for t, r in zip(times, records, strict=True) if r is not None and r.arrival_h < 24]
    assert len(held) == 18
    assert all(24 * HOUR <= t < 48 * HOUR for t, r in zip(times, records, strict=True)
               if r is not None and r.arrival_h < 24)


def test_the_bare_model_and_the_twin_see_the_same_recorded_trucks() -> None:
    record = [{"arrival_h": 6.0 + i / 20} for i in range(80)]
    scenario = _with_record(record)
    rep, _ = run_replication(scenario, 0, seed=4)
    bare_arrivals = arrival_times(scenario, Streams(4, 0).get("arrivals"))  # what run_bare sends in
    np.testing.assert_array_equal(np.sort(rep.trucks["arrival"].to_numpy()), bare_arrivals)
    assert len(bare_arrivals) == 80 and run_bare(scenario, 0, 4).departed > 0


def test_a_recorded_day_runs_the_same_bit_for_bit_and_at_every_layout_with_the_same_trucks() -> None:
    scenario = _with_record([{"arrival_h": 6.0 + i / 10} for i in range(40)], hours=10.0)
    first = run_scenario(scenario, RunOptions(replications=2, seed=9))
    second = run_scenario(scenario, RunOptions(replications=2, seed=9))
    for a, b in zip(first.replications, second.replications, strict=True):
        assert a.trucks.equals(b.trucks)
    bigger = with_overrides(scenario, **{"layout.entry_lanes": 4})
    plans_a, plans_b = make_trucks(scenario, Streams(9, 0)), make_trucks(bigger, Streams(9, 0))
    assert [(p.arrival_s, p.declaration) for p in plans_a] == [(p.arrival_s, p.declaration) for p in plans_b]


def test_people_as_mesa_agents_take_a_recorded_day_too() -> None:
    scenario = with_overrides(_with_record([{"arrival_h": 6.0 + i / 10} for i in range(30)], hours=10.0),
                              **{"agents.enabled": True})
    result = run_scenario(scenario, RunOptions(replications=1, seed=1))
    assert int(result.replications[0].kpis["trucks_arrived"]) == 30


def test_a_record_as_python_objects_needs_no_trucks_per_day() -> None:
    demand = load_scenario("huu_nghi_2025").demand.model_dump(mode="json")
    del demand["trucks_per_day"]
    recorded = RecordedDemand(trucks=(RecordedTruck(arrival_h=6.0), RecordedTruck(arrival_h=30.0)))
    scenario = with_overrides(load_scenario("huu_nghi_2025"), demand={**demand, "recorded": recorded.model_dump()})
    assert scenario.demand.trucks_per_day == 1.0  # 2 trucks over 2 days
