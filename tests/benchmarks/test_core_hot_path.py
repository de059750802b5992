"""The core's hot path: a recorded stream of complete visits replayed through ``handle``.

Absolute timings depend on the machine; each benchmark also reports a reference measured in
the same run (a trivial dict dispatch over the same events), so the ratio travels between
machines. ``extra_info`` carries events/s and visits/s.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
from pytest_benchmark.fixture import BenchmarkFixture

from gate.core import GateCore
from tests.benchmarks.conftest import CompleteVisits, fresh_core
from twin.loadtest import replay
from twin.visitgen import RecordedStream


def _dispatch_reference(stream: RecordedStream) -> float:
    """Seconds for the least a dispatcher can do per event: look up a handler by type and call it."""
    handlers: dict[type, Callable[[Any, float, list[Any]], None]] = {
        kind: (lambda event, now, out: None) for kind in {type(e) for e in stream.events}}
    events, times = stream.events, stream.times
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        for i in range(len(events)):
            out: list[Any] = []
            handlers[type(events[i])](events[i], times[i], out)
        best = min(best, time.perf_counter() - started)
    return best


def test_handle_replays_complete_visits(benchmark: BenchmarkFixture, complete_visits: CompleteVisits) -> None:
    stream = complete_visits.stream
    durations = np.zeros(len(stream), dtype=np.int64)
    cores: list[GateCore] = []

    def setup() -> tuple[tuple[GateCore, RecordedStream, np.ndarray], dict[str, Any]]:
        core = fresh_core(complete_visits.config)
        cores.append(core)
        return (core, stream, durations), {}

    benchmark.pedantic(replay, setup=setup, rounds=5, iterations=1)
    for core in cores:  # every round ran every visit to its end
        assert core.stats["departed"] + core.stats["refused_visits"] == complete_visits.visits
        assert core.open_visits() == 0 and core.check_invariants() == []
    best = benchmark.stats.stats.min
    reference = _dispatch_reference(stream)
    benchmark.extra_info.update({
        "events": len(stream), "visits": complete_visits.visits,
        "events_per_s": round(len(stream) / best), "visits_per_s": round(complete_visits.visits / best, 1),
        "us_per_event": round(best / len(stream) * 1e6, 2),
        "dispatch_reference_us_per_event": round(reference / len(stream) * 1e6, 3),
        "ratio_to_dispatch_reference": round(best / reference, 1),
    })


def test_dict_dispatch_reference_over_the_same_events(benchmark: BenchmarkFixture,
                                                      complete_visits: CompleteVisits) -> None:
    """The floor under the hot path, benchmarked on its own so ``--benchmark-compare`` shows drift."""
    stream = complete_visits.stream
    handlers = {kind: (lambda event, now, out: None) for kind in {type(e) for e in stream.events}}

    def dispatch() -> int:
        events, times = stream.events, stream.times
        for i in range(len(events)):
            out: list[Any] = []
            handlers[type(events[i])](events[i], times[i], out)
        return len(events)

    assert benchmark.pedantic(dispatch, rounds=5, iterations=1) == len(stream)
    benchmark.extra_info["events_per_s"] = round(len(stream) / benchmark.stats.stats.min)
