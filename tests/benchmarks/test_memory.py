"""Memory per open visit (goal: at most 8 KB), measured with tracemalloc on a fresh core.

The core replays a stream that leaves the visits open; each declaration is rebuilt inside the
traced window the way one arrives from the platform (its fields as fresh data, validated into a
``Declaration``), so it counts as the core's (``twin.loadtest.measure_memory``).
"""

from __future__ import annotations

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from tests.benchmarks.conftest import loaded
from twin.loadtest import MemoryMeasure, measure_memory

GOAL_BYTES = 8 * 1024


@pytest.mark.parametrize("open_visits", [10_000])
def test_memory_per_open_visit(benchmark: BenchmarkFixture, open_visits: int) -> None:
    data = loaded(open_visits)
    stream = data.fill
    measure: MemoryMeasure = benchmark.pedantic(measure_memory, args=(stream, data.config), rounds=1, iterations=1)
    per_visit = measure.bytes_per_open_visit
    benchmark.extra_info.update({
        "open_visits": measure.open_visits, "bytes_per_open_visit": round(per_visit),
        "goal_bytes": GOAL_BYTES, "within_goal": per_visit <= GOAL_BYTES,
    })
    assert measure.open_visits >= 0.95 * open_visits
    # Far above the goal means a leak or a per-visit copy, not a detail of layout.
    assert per_visit < 2 * GOAL_BYTES, f"{per_visit:,.0f} bytes per open visit"
