"""The whole twin against the bare SimPy model of the same layout, measured in the same run.

5,000 trucks a day through the harvest-peak layout for 8 hours: the twin (clearance core in the
loop, device emulators, people, probes) and ``twin.bare`` (the same arrivals, stations, shifts
and service times as plain SimPy resources). Each round runs the bare model (untimed by the
fixture, timed here) and then the twin, so both see the same load on the machine.
``extra_info`` reports trucks simulated per wall second for each, medians over the rounds, and
their ratio (goal: the twin at >= 0.2 x the bare model's rate, on the way to 0.5 x).
"""

from __future__ import annotations

import gc
import statistics
import time

from pytest_benchmark.fixture import BenchmarkFixture

from scenarios import load_scenario, with_overrides
from scenarios.schema import Scenario
from twin.bare import BareGate, run_bare
from twin.results import ReplicationResult
from twin.run import run_replication

HOURS = 8.0
ROUNDS = 5
#: Well below the ratio this benchmark measures: a run under it is a regression, not noise.
RATIO_FLOOR = 0.03


def _scenario() -> Scenario:
    return with_overrides(load_scenario("harvest_peak"), horizon_h=HOURS, **{"demand.trucks_per_day": 5000})


def test_twin_against_the_bare_simpy_model(benchmark: BenchmarkFixture) -> None:
    scenario = _scenario()
    run_bare(scenario, 0, 1)  # warm both up: imports, caches
    run_replication(scenario, 0, 1)
    bare_times: list[float] = []
    bare: list[BareGate] = []
    results: list[ReplicationResult] = []

    def bare_round() -> None:
        gc.collect()
        started = time.perf_counter()
        bare.append(run_bare(scenario, 0, 1))
        bare_times.append(time.perf_counter() - started)
        gc.collect()

    def twin() -> None:
        results.append(run_replication(scenario, 0, 1)[0])

    benchmark.pedantic(twin, setup=bare_round, rounds=ROUNDS, iterations=1)  # type: ignore[no-untyped-call]
    twin_times = list(benchmark.stats.stats.data)  # type: ignore[union-attr]
    twin_median, bare_median = statistics.median(twin_times), statistics.median(bare_times)
    trucks = int(results[0].kpis["trucks_arrived"])
    ratio = bare_median / twin_median
    assert all(check.holds for check in results[0].invariants)
    assert len({int(r.kpis["trucks_departed"]) for r in results}) == 1  # every round the same day
    benchmark.extra_info.update({
        "trucks": trucks,
        "simulated_hours": HOURS,
        "twin_trucks_per_s": round(trucks / twin_median, 1),
        "bare_trucks_per_s": round(trucks / bare_median, 1),
        "ratio_twin_to_bare": round(ratio, 4),
        "ratio_best_rounds": round(min(bare_times) / min(twin_times), 4),
        "twin_departed": int(results[0].kpis["trucks_departed"]),
        "bare_departed": bare[0].departed,
        "core_events": results[0].extra["events_handled"],
        "core_events_per_truck": round(results[0].extra["events_handled"] / trucks, 1),
    })
    assert ratio >= RATIO_FLOOR, f"the twin runs at {ratio:.3f} x the bare model's rate"
