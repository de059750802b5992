"""The ``gatetwin loadtest`` scenarios, small, in max mode.

Each scenario runs the whole harness once, untimed, for its checks and report (nothing lost,
no surprise, the audit chain intact; its figures go into ``extra_info``). What is timed is the
core alone: the scenario's stream, recorded ahead, replayed through ``GateCore.handle`` on a
fresh core each round, its commands let go in batches as a shell would. So a regression of the
core moves the timing by all of its size, not diluted by recording or the memory pass.
"""

from __future__ import annotations

import gc

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from gate.commands import Command
from gate.core import GateCore
from twin.loadtest import LoadConfig, LoadReport, replay, run
from twin.visitgen import NAMED_MIXES, GateWorld, RecordedStream

SCENARIOS = {
    "national-100-open": LoadConfig(visits=2_000, open_visits=100, mix=NAMED_MIXES["national"]),
    "lang-son-1000-open": LoadConfig(visits=3_000, open_visits=1_000, mix=NAMED_MIXES["lang-son"], bad_share=0.05),
    "smart-gate-1000-open": LoadConfig(visits=3_000, open_visits=1_000, mix=NAMED_MIXES["smart-gate"]),
}


def _stream(config: LoadConfig) -> tuple[GateWorld, RecordedStream]:
    """The scenario's whole stream, as the load test records it (same world, same seed)."""
    world = GateWorld(seed=config.seed, open_visits=config.open_visits, total_visits=config.visits, mix=config.mix,
                      bad_share=config.bad_share, lead_time_s=config.lead_time_s, archive_limit=config.archive_limit)
    return world, world.record_all()


def _let_go(outs: list[list[Command]]) -> None:
    """A shell hands the commands on and keeps none."""


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_loadtest_scenario(benchmark: BenchmarkFixture, name: str) -> None:
    config = SCENARIOS[name]
    report: LoadReport = run(config)
    assert report.ok, (report.lost_visits, report.invariant_problems, report.audit_ok, report.surprises)
    world, stream = _stream(config)
    assert len(stream) == report.events, "the stream timed is the one the load test ran"
    cores: list[GateCore] = []

    def setup() -> tuple[tuple[GateCore, RecordedStream, None], dict[str, object]]:
        cores.clear()
        cores.append(GateCore(world.config))
        gc.collect()
        return (cores[0], stream, None), {"sink": _let_go}

    gc.freeze()  # the recorded stream is the harness's: full collections need not rescan it
    try:
        benchmark.pedantic(replay, setup=setup, rounds=3, iterations=1)
    finally:
        gc.unfreeze()
    assert cores[0].stats["events"] == report.events and cores[0].check_invariants() == []
    fastest = benchmark.stats.stats.min
    benchmark.extra_info.update({
        "events": report.events, "visits": report.visits_completed,
        "replay_events_per_s": round(report.events / fastest, 1),
        "harness_events_per_s": report.events_per_s, "cpu_events_per_s": report.cpu_events_per_s,
        "visits_per_s": report.visits_per_s,
        "p50_us": report.p50_us, "p99_us": report.p99_us, "max_us": report.max_us,
        "bytes_per_open_visit": report.bytes_per_open_visit, "peak_rss_mb": report.peak_rss_mb,
        "gc_full_collections": report.gc_full_collections, "gc_ms_by_generation": report.gc_ms_by_generation,
    })
