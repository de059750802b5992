"""The ``gatetwin loadtest`` scenarios, small, in max mode: the whole harness, report included."""

from __future__ import annotations

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from twin.loadtest import LoadConfig, LoadReport, run
from twin.visitgen import NAMED_MIXES

SCENARIOS = {
    "national-100-open": LoadConfig(visits=2_000, open_visits=100, mix=NAMED_MIXES["national"]),
    "lang-son-1000-open": LoadConfig(visits=3_000, open_visits=1_000, mix=NAMED_MIXES["lang-son"], bad_share=0.05),
    "smart-gate-1000-open": LoadConfig(visits=3_000, open_visits=1_000, mix=NAMED_MIXES["smart-gate"]),
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_loadtest_scenario(benchmark: BenchmarkFixture, name: str) -> None:
    report: LoadReport = benchmark.pedantic(run, args=(SCENARIOS[name],), rounds=1, iterations=1)
    assert report.ok, (report.lost_visits, report.invariant_problems, report.audit_ok)
    assert report.unexpected_refusals == 0 and report.unexpected_reviews == 0, report.surprises
    benchmark.extra_info.update({
        "events": report.events, "visits": report.visits_completed, "events_per_s": report.events_per_s,
        "cpu_events_per_s": report.cpu_events_per_s, "visits_per_s": report.visits_per_s,
        "p50_us": report.p50_us, "p99_us": report.p99_us, "max_us": report.max_us,
        "bytes_per_open_visit": report.bytes_per_open_visit, "peak_rss_mb": report.peak_rss_mb,
        "gc_full_collections": report.gc_full_collections, "gc_ms_by_generation": report.gc_ms_by_generation,
    })
