"""The whole twin against the bare SimPy model of the same layout, measured in the same run.

5,000 trucks a day through the harvest-peak layout: the twin (clearance core in the loop,
device emulators, people, probes) and ``twin.bare`` (the same arrivals and service times as
plain SimPy resources). ``extra_info`` reports trucks simulated per wall second for each and
their ratio (goal: the twin at >= 0.2 x the bare model's rate).
"""

from __future__ import annotations

import time

from pytest_benchmark.fixture import BenchmarkFixture

from scenarios import load_scenario, with_overrides
from twin.bare import run_bare
from twin.run import run_replication

HOURS = 8.0


def _scenario():  # type: ignore[no-untyped-def]
    return with_overrides(load_scenario("harvest_peak"), horizon_h=HOURS, **{"demand.trucks_per_day": 5000})


def test_twin_against_the_bare_simpy_model(benchmark: BenchmarkFixture) -> None:
    scenario = _scenario()
    bare_best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        bare = run_bare(scenario, 0, 1)
        bare_best = min(bare_best, time.perf_counter() - started)
    results = []

    def twin() -> None:
        results.append(run_replication(scenario, 0, 1)[0])

    benchmark.pedantic(twin, rounds=2, iterations=1)
    twin_best = benchmark.stats.stats.min
    trucks = int(results[0].kpis["trucks_arrived"])
    assert all(check.holds for check in results[0].invariants)
    benchmark.extra_info.update({
        "trucks": trucks,
        "simulated_hours": HOURS,
        "twin_trucks_per_s": round(trucks / twin_best, 1),
        "bare_trucks_per_s": round(trucks / bare_best, 1),
        "bare_departed": bare.departed,
        "twin_departed": int(results[0].kpis["trucks_departed"]),
        "ratio_twin_to_bare": round(bare_best / twin_best, 4),
        "core_events": results[0].extra["events_handled"],
    })
