"""The load test: replays match recordings, runs lose nothing, the report says what it measured."""

from __future__ import annotations

import dataclasses
import gc
import json
import pickle
import time
from typing import Any

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from gate import events as ev
from gate.audit import AuditLog, AuditRecord
from gate.commands import Command
from gate.core import GateCore
from gate.declaration import Declaration
from twin import loadtest
from twin.cli_loadtest import loadtest_command
from twin.loadtest import (
    AuditTrail,
    LatencyHistogram,
    LoadConfig,
    LoadMode,
    check_memory,
    measure_memory,
    refusal_class,
    replay,
    replay_paced,
    run,
)
from twin.visitgen import GateWorld, RecordedStream

JSON_KEYS = {"events", "visits_completed", "events_per_s", "visits_per_s", "p50_us", "p99_us", "max_us",
             "peak_rss_mb", "bytes_per_open_visit", "commands_by_kind", "refusals_by_class", "lost_visits",
             "invariant_problems", "audit_ok", "ok"}


def _cli() -> typer.Typer:
    app = typer.Typer()
    app.command("loadtest")(loadtest_command)
    app.command("version")(lambda: None)  # a second command keeps "loadtest" a named subcommand
    return app


def test_a_recorded_stream_replayed_on_a_fresh_core_gives_the_same_commands() -> None:
    world = GateWorld(seed=5, open_visits=50, total_visits=150, bad_share=0.3)
    stream = world.record_all(keep_commands=True)
    core = GateCore(world.config)
    replayed = replay(core, stream, np.zeros(len(stream), dtype=np.int64))
    assert stream.commands is not None
    assert replayed == stream.commands
    assert core.stats == world.core.stats


def test_a_stream_recorded_in_chunks_replays_like_one_recorded_whole() -> None:
    whole = GateWorld(seed=6, open_visits=20, total_visits=60).record_all()
    world = GateWorld(seed=6, open_visits=20, total_visits=60)
    chunks = []
    while not world.finished:
        chunks.append(world.record(137))
    assert [e for c in chunks for e in c.events] == whole.events
    assert [c.start_index for c in chunks] == [137 * k for k in range(len(chunks))]


def test_a_small_max_mode_run_completes_every_visit_and_the_audit_verifies() -> None:
    report = run(LoadConfig(visits=300, open_visits=100, bad_share=0.0, seed=3, chunk_events=2_000))
    assert report.visits_completed == report.visits_declared == 300
    assert report.visits_open == 0 and report.lost_visits == 0
    assert report.invariant_problems == []
    assert report.audit_ok and report.audit_records == report.events and report.audit_segments > 1
    assert report.events_per_s > 0 and 0 < report.p50_us <= report.p99_us <= report.max_us
    # one acceptance per declaration, and one more per amendment after a return
    assert report.commands_by_kind["AcceptDeclaration"] == 300 + report.commands_by_kind.get("ReturnForRedeclaration", 0)
    assert report.refusals_by_class == {} and report.ok
    assert report.memory_open_visits is not None and report.memory_open_visits > 90
    assert report.bytes_per_open_visit is not None and report.bytes_per_open_visit > 1_000


def test_bad_input_produces_refusals_and_reviews_but_no_lost_visit() -> None:
    report = run(LoadConfig(visits=400, open_visits=100, bad_share=0.4, seed=8, measure_memory=False))
    assert report.ok and report.lost_visits == 0
    assert report.manual_reviews > 40 and sum(report.refusals_by_class.values()) > 40
    assert {"unknown plate", "invalid declaration", "not authorised", "out of order"} <= set(report.refusals_by_class)
    assert report.unexpected_refusals == 0 and report.unexpected_reviews == 0, report.surprises


def test_the_json_report_has_the_documented_keys() -> None:
    result = CliRunner().invoke(_cli(), ["loadtest", "--visits", "150", "--open", "50", "--json", "--seed", "2"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert JSON_KEYS <= set(data)
    assert data["ok"] is True and data["visits_completed"] == 150


def test_the_console_report_says_which_rates_are_wall_clock_and_which_cpu() -> None:
    result = CliRunner().invoke(_cli(), ["loadtest", "--visits", "150", "--open", "50", "--seed", "2", "--no-memory"],
                                env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    for label in ("events per second (wall clock)", "events per CPU second", "visits completed per second (wall clock)"):
        assert label in text, label


def test_the_cli_names_a_bad_option_and_exits_with_2() -> None:
    result = CliRunner().invoke(_cli(), ["loadtest", "--visits", "10", "--open", "50"])
    assert result.exit_code == 2
    assert "--visits (10) must be at least --open (50)" in result.output


def test_a_bad_mix_is_refused_by_the_cli_naming_the_option_with_exit_code_2() -> None:
    result = CliRunner().invoke(_cli(), ["loadtest", "--mix", "national,agv=2"])
    assert result.exit_code == 2, result.output
    assert "--mix 'national,agv=2': mix.agv: must be a share between 0 and 1 (got 2.0)" in result.output


def test_a_negative_seed_is_refused_naming_the_option_with_exit_code_2() -> None:
    result = CliRunner().invoke(_cli(), ["loadtest", "--seed", "-1", "--visits", "100", "--no-memory"])
    assert result.exit_code == 2, result.output
    assert "--seed: must be a whole number of at least 0 (got -1)" in result.output


def test_a_rate_run_shorter_than_one_event_is_refused_rather_than_reporting_an_empty_run() -> None:
    result = CliRunner().invoke(_cli(), ["loadtest", "--mode", "rate", "--rate", "100", "--duration", "0.001"])
    assert result.exit_code == 2, result.output
    assert "--duration: 0.001 s at --rate 100 events/s is less than one event" in result.output


def test_a_rate_run_of_a_few_events_handles_exactly_rate_times_duration() -> None:
    report = run(LoadConfig(mode=LoadMode.RATE, rate=1_000.0, duration_s=0.003, open_visits=5, measure_memory=False))
    assert report.events == 3 and report.ok


def test_a_rate_run_that_keeps_up_reports_the_target_rate_not_more() -> None:
    # Five events at 100/s take 50 ms of schedule: the last one's slot counts, not just its start.
    report = run(LoadConfig(mode=LoadMode.RATE, rate=100.0, duration_s=0.05, open_visits=5, measure_memory=False))
    assert report.events == 5
    assert report.elapsed_s >= 0.05
    assert report.achieved_rate is not None and report.achieved_rate <= 100.0
    assert report.kept_up


def test_a_rate_run_that_keeps_up_reports_no_more_than_the_target_rate_however_long_the_tally_takes(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # The harness counting commands by kind pauses the schedule as recording does; its time left
    # out of the replay's, the schedule must not be left to run on, or the run would seem faster
    # than the rate it was held to (2,000 events at 5,000/s take 0.4 s, two tallies 40 ms).
    count = loadtest._Tally.count

    def slow_count(self: loadtest._Tally, outs: list[list[Command]]) -> None:
        time.sleep(0.02)
        count(self, outs)

    monkeypatch.setattr(loadtest._Tally, "count", slow_count)
    report = run(LoadConfig(mode=LoadMode.RATE, rate=5_000.0, duration_s=0.4, open_visits=50, measure_memory=False))
    assert report.events == 2_000
    assert report.achieved_rate is not None and report.achieved_rate <= 5_000.0
    assert report.elapsed_s >= 0.4


def test_rate_mode_paces_the_replay_near_the_target() -> None:
    report = run(LoadConfig(mode=LoadMode.RATE, rate=1_000.0, duration_s=0.6, open_visits=50, measure_memory=False))
    assert report.events == 600
    assert 0.4 <= report.elapsed_s <= 1.2  # loosely: the replay waited for its schedule
    assert report.achieved_rate is not None and 500.0 <= report.achieved_rate <= 1_500.0
    assert report.lag_p99_ms is not None and report.kept_up is not None and report.ok


class _Segment:
    """Stands in for an audit log whose next drained segment was tampered with on the way."""

    def __init__(self, start_hash: str, records: list[AuditRecord]) -> None:
        self.segment = (start_hash, records)

    def drain(self) -> tuple[str, list[AuditRecord]]:
        return self.segment


def _log(times: range) -> AuditLog:
    log = AuditLog()
    for k in times:
        log.append(float(k), "cam-in-1", "PlateRead", None, True, "ok")
    return log


def test_drained_audit_segments_that_verify_and_chain_pass() -> None:
    log, trail = _log(range(5)), AuditTrail()
    trail.drain(log)
    log.append(5.0, "guard-1", "ClearanceDecided", "LT00000001", True, "passed")
    trail.drain(log)
    assert trail.ok and trail.records == 6 and trail.segments == 2


def test_a_forged_audit_record_is_detected() -> None:
    log, trail = _log(range(8)), AuditTrail()
    start, records = log.drain()
    records[6] = dataclasses.replace(records[6], reason="forged")
    trail.drain(_Segment(start, records))  # type: ignore[arg-type]
    assert not trail.ok and trail.first_bad == 6


def test_a_missing_audit_segment_is_detected() -> None:
    log, trail = _log(range(4)), AuditTrail()
    trail.drain(log)
    log.append(4.0, "cam-in-1", "PlateRead", None, True, "ok")
    log.drain()  # this segment never reaches the trail
    log.append(5.0, "cam-in-1", "PlateRead", None, True, "ok")
    trail.drain(log)
    assert not trail.ok and trail.first_bad == 4


def test_memory_per_open_visit_counts_the_visits_left_open() -> None:
    world = GateWorld(seed=1, open_visits=200, total_visits=400)
    stream = world.record(200)  # just the declarations: every visit open
    measure = measure_memory(stream, world.config)
    assert measure.open_visits == 200
    assert 1_000 < measure.bytes_per_open_visit < 100_000


@pytest.mark.parametrize(("reason", "expected"), [
    ("no open declaration for plate 14C-123.45; did the device mean 14C-I23.45?", "unknown plate"),
    ("account yard-1 lacks the medical role to decide medical", "not authorised"),
    ("vehicle 14C-123.45 cannot pass barrier 2: exit granted is not given", "out of order"),
    ("declaration rejected: containers.0.number: ISO 6346 check digit is wrong", "invalid declaration"),
    ("medical cannot be decided yet: vehicle 14C-123.45 is outside", "not yet workable"),
    ("something new", "other"),
])
def test_refusal_reasons_fall_into_classes(reason: str, expected: str) -> None:
    assert refusal_class(reason) == expected


def test_latency_quantiles_are_read_to_within_a_bin() -> None:
    histogram = LatencyHistogram()
    values = np.random.default_rng(0).lognormal(mean=10.0, sigma=0.7, size=50_000).astype(np.int64)
    histogram.add(values[:20_000])
    histogram.add(values[20_000:])
    for q in (0.5, 0.99):
        assert histogram.quantile_ns(q) == pytest.approx(float(np.quantile(values, q)), rel=0.02)
    assert histogram.max_ns == values.max() and histogram.n == values.size


@pytest.mark.parametrize(("fields", "named"), [
    ({"visits": 50, "open_visits": 100}, r"--visits \(50\) must be at least --open \(100\)"),
    ({"open_visits": 0}, "--open: must be at least 1"),
    ({"mode": LoadMode.RATE, "rate": 0.0}, "--rate: must be a positive"),
    ({"mode": LoadMode.RATE, "duration_s": -1.0}, "--duration: must be a positive"),
    ({"bad_share": 1.5}, "--bad-share: must be a share"),
    ({"gps_feed_s": 0.0}, "--gps-feed-s: must be a positive number of seconds"),
    ({"gps_feed_s": float("nan")}, "--gps-feed-s: must be a positive number of seconds"),
    ({"seed": -1}, r"--seed: must be a whole number of at least 0 \(got -1\)"),
    ({"mode": LoadMode.RATE, "rate": 100.0, "duration_s": 0.001},
     r"--duration: 0.001 s at --rate 100 events/s is less than one event; hold the rate for at least 0.01 s"),
    ({"mode": LoadMode.RATE, "rate": 1.0, "duration_s": 0.5}, "--duration: 0.5 s at --rate 1 events/s is less than one"),
])
def test_a_bad_load_config_is_refused_naming_the_option(fields: dict[str, object], named: str) -> None:
    with pytest.raises(ValueError, match=named):
        LoadConfig(**fields)  # type: ignore[arg-type]


def test_a_replay_timed_per_event_or_not_at_all_gives_the_same_commands() -> None:
    stream = GateWorld(seed=9, open_visits=30, total_visits=90, bad_share=0.2).record_all()
    world_config = GateWorld(seed=9, open_visits=30, total_visits=90).config
    timed_core, untimed_core = GateCore(world_config), GateCore(world_config)
    durations = np.zeros(len(stream), dtype=np.int64)
    timed = replay(timed_core, stream, durations)
    untimed = replay(untimed_core, stream, None)
    assert timed == untimed and timed_core.stats == untimed_core.stats
    assert timed_core.audit.head_hash == untimed_core.audit.head_hash
    assert (durations > 0).all()


def test_the_report_gives_cpu_time_and_garbage_collection_and_leaves_nothing_frozen() -> None:
    for freeze in (True, False):
        report = run(LoadConfig(visits=200, open_visits=50, seed=4, measure_memory=False, gc_freeze=freeze,
                                chunk_events=1_000))
        assert report.ok and report.gc_freeze is freeze
        assert 0 < report.cpu_s and report.cpu_events_per_s == pytest.approx(report.events / report.cpu_s, rel=0.01)
        assert len(report.gc_ms_by_generation) == 3 and report.gc_max_pause_ms >= 0.0
        assert gc.get_freeze_count() == 0


def test_memory_is_measured_on_declarations_validated_afresh_equal_to_the_recorded_ones() -> None:
    world = GateWorld(seed=3, open_visits=40, total_visits=80)
    stream = world.record(40)
    declarations = [e.declaration for e in stream.events if isinstance(e, ev.DeclarationSubmitted)]
    assert declarations
    for d in declarations:
        again = Declaration.model_validate(pickle.loads(pickle.dumps(d.model_dump())))
        assert again == d and again is not d


def test_with_a_telematics_feed_the_positions_come_in_batches_and_nothing_is_lost() -> None:
    alone = run(LoadConfig(visits=600, open_visits=200, seed=4, measure_memory=False))
    fed = run(LoadConfig(visits=600, open_visits=200, seed=4, measure_memory=False, gps_feed_s=60.0))
    assert fed.ok and fed.lost_visits == 0 and fed.visits_completed == 600
    assert fed.unexpected_refusals == 0 and fed.unexpected_reviews == 0, fed.surprises
    batches = fed.latency_by_kind["PositionsReported"]["count"]
    pings = alone.latency_by_kind["GpsPing"]["count"]
    assert "GpsPing" not in fed.latency_by_kind and alone.gps_positions == 0 and alone.gps_feed_s is None
    # the same pings, fewer events: those of a vehicle turned back before the delivery are void
    assert 0.95 * pings <= fed.gps_positions <= pings and batches < fed.gps_positions
    assert fed.events - batches == alone.events - pings
    result = CliRunner().invoke(_cli(), ["loadtest", "--visits", "150", "--open", "50", "--gps-feed-s", "0"])
    assert result.exit_code == 2 and "--gps-feed-s: must be a positive number of seconds" in result.output


def test_at_the_end_of_a_rate_run_every_declared_visit_is_completed_open_or_awaiting_acceptance() -> None:
    # Replacement visits are declared a little after the one they replace, and a rejected
    # declaration is resubmitted later: at the end of a rate run some are not yet accepted.
    # The events are recorded ahead, so the seed fixes them: on seed 11 one visit is still to be accepted.
    report = run(LoadConfig(mode=LoadMode.RATE, rate=20_000.0, duration_s=0.2, open_visits=50, bad_share=0.5,
                            seed=11, measure_memory=False))
    assert report.visits_awaiting_acceptance > 0
    assert (report.visits_completed + report.visits_open + report.visits_awaiting_acceptance
            == report.visits_declared)
    assert report.lost_visits == 0 and report.ok


def test_a_max_mode_run_that_strands_a_visit_open_is_not_ok(monkeypatch: pytest.MonkeyPatch) -> None:
    # The exit barrier never reports back: the visits reach the exit lane and stay there.
    from twin.visitgen import world as world_module

    original = world_module.GateWorld._barrier_opened

    def exit_barrier_silent(self: GateWorld, c: object, *args: object) -> None:
        if getattr(c, "device_id", "") != "barrier-out-1":
            original(self, c, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(world_module.GateWorld, "_barrier_opened", exit_barrier_silent)
    report = run(LoadConfig(visits=40, open_visits=20, seed=2, bad_share=0.0, measure_memory=False))
    assert report.visits_open > 0 and report.lost_visits == 0
    assert report.stranded_visits == report.visits_open + report.visits_awaiting_acceptance
    assert not report.ok


def _refusing_some_good_gps_pings(monkeypatch: pytest.MonkeyPatch) -> None:
    """A core regression: every tenth GPS ping, however good, is refused."""
    from gate import core as core_module
    from gate.handlers import HANDLERS

    original = HANDLERS[ev.GpsPing]
    count = [0]

    def flaky(core: GateCore, e: ev.GpsPing, now: float, out: list[Command]) -> object:
        count[0] += 1
        if count[0] % 10 == 0:
            return None, core_module.Refusal("position lost")
        return original(core, e, now, out)

    monkeypatch.setitem(HANDLERS, ev.GpsPing, flaky)
    monkeypatch.setattr(core_module, "_ROUTES", {})  # filled again from HANDLERS on first use


def test_a_core_that_refuses_good_input_fails_the_run_and_the_cli_exits_with_1(monkeypatch: pytest.MonkeyPatch) -> None:
    _refusing_some_good_gps_pings(monkeypatch)
    report = run(LoadConfig(visits=60, open_visits=20, seed=2, bad_share=0.0, measure_memory=False))
    assert report.unexpected_refusals > 0 and report.lost_visits == 0
    assert not report.ok
    result = CliRunner().invoke(_cli(), ["loadtest", "--visits", "60", "--open", "20", "--seed", "2",
                                         "--bad-share", "0", "--no-memory"])
    assert result.exit_code == 1, result.output


def test_a_run_asked_to_stop_ends_at_the_end_of_a_chunk_with_everything_run_checked() -> None:
    asked: list[int] = []
    report = run(LoadConfig(visits=3_000, open_visits=100, seed=4, chunk_events=2_000, measure_memory=False),
                 on_chunk=lambda done, total: asked.append(done), stop=lambda: len(asked) >= 2)
    assert report.interrupted and len(asked) == 2
    assert report.events == 4_000 and report.visits_completed < 3_000
    assert report.stranded_visits == 0 and report.lost_visits == 0 and report.ok
    assert any(note.startswith("interrupted") for note in report.notes)


def test_a_rate_run_that_does_not_keep_up_exits_with_3() -> None:
    result = CliRunner().invoke(_cli(), ["loadtest", "--mode", "rate", "--rate", "10000000", "--duration", "0.001",
                                         "--no-memory"])
    assert result.exit_code == 3, result.output
    assert "kept up" in result.output and "NO" in result.output


def test_bad_input_is_counted_when_it_reaches_the_core_not_when_it_is_planned() -> None:
    # Fifty events with fifty visits open are the fifty declarations: no truck has reached a camera,
    # a scale or an officer yet, so the only bad input there can have been is an invalid declaration.
    report = run(LoadConfig(mode=LoadMode.RATE, rate=1_000.0, duration_s=0.05, open_visits=50, bad_share=1.0,
                            seed=3, measure_memory=False))
    assert report.events == 50
    assert report.incidents == {"invalid_declaration": report.refusals_by_class["invalid declaration"]}


def test_a_core_that_falls_behind_is_not_waited_for_beyond_the_duration() -> None:
    # A rate no core can hold: 4,000 events offered in 0.4 ms. The first chunk of 1,000 alone takes
    # longer than that, so the run stops after it and says how many of the events offered it handled.
    config = LoadConfig(mode=LoadMode.RATE, rate=10_000_000.0, duration_s=0.0004, open_visits=100,
                        chunk_events=1_000, measure_memory=False)
    report = run(config)
    assert (report.events, report.events_offered) == (1_000, 4_000)
    assert report.stopped_at_duration and report.kept_up is False
    assert any("1,000 of the 4,000 events offered were handled" in note for note in report.notes)
    assert report.lag_max_ms is not None
    assert report.lag_max_ms >= 0.8 * report.elapsed_s * 1e3, "the last event is late by nearly the whole replay"
    assert report.ok and report.lost_visits == 0  # stopped at a chunk's end: every check still holds


def test_a_core_a_few_milliseconds_late_is_given_the_last_events_of_its_schedule(monkeypatch: pytest.MonkeyPatch) -> None:
    # 2,001 events at 2,500/s in chunks of 1,000: after two chunks one event is left, due 0.4 ms
    # before --duration is up. Each chunk here ends 5 ms late, well within what "kept up" allows
    # (100 ms); such a core is not a core that fell behind, and its last event is replayed. (The
    # rate is low enough that a core slowed by a busy machine still keeps up on its own.)
    paced = loadtest.replay_paced

    def five_ms_late(*args: Any, **kwargs: Any) -> loadtest.Paced:
        result = paced(*args, **kwargs)
        time.sleep(0.005)
        return dataclasses.replace(result, behind_ns=result.behind_ns + 5_000_000)

    monkeypatch.setattr(loadtest, "replay_paced", five_ms_late)
    report = run(LoadConfig(mode=LoadMode.RATE, rate=2_500.0, duration_s=0.8004, open_visits=20, chunk_events=1_000,
                            measure_memory=False))
    assert (report.events, report.events_offered) == (2_001, 2_001)
    assert not report.stopped_at_duration
    assert not any("fell behind" in note for note in report.notes)


def test_a_backlog_carries_from_one_paced_chunk_to_the_next() -> None:
    world = GateWorld(seed=1, open_visits=50, total_visits=None)
    first, second = world.record(1_000), world.record(1_000)
    core = GateCore(world.config)
    lags = np.zeros(1_000, dtype=np.int64)
    behind = replay_paced(core, first, 10_000_000.0, np.zeros(1_000, dtype=np.int64), lags).behind_ns
    assert behind > 0, "no core handles 10 million events a second"
    replay_paced(core, second, 10_000_000.0, np.zeros(1_000, dtype=np.int64), lags, behind)
    assert lags[0] >= behind, "the second chunk starts as late as the first one ended"


def test_a_paced_replay_does_not_count_waiting_for_the_schedule_as_the_cores_cpu_time() -> None:
    config = LoadConfig(mode=LoadMode.RATE, rate=2_000.0, duration_s=0.5, open_visits=50, measure_memory=False)
    report = run(config)
    assert report.kept_up
    # Waiting spins most of each slot: counted, the core would seem to cost about 1/2000 s an event
    # (these first events are mostly declarations, the dearest kind, 20-50 us each).
    assert report.cpu_events_per_s > 4 * config.rate


def test_more_open_visits_than_the_memory_available_can_hold_are_refused_before_anything_is_built() -> None:
    with pytest.raises(ValueError, match=r"--open: 1,000,000 visits open need about 26.\d GB of memory "
                                         r"\(about 28 KB each\); 0.5 GB is available \(--no-memory, which skips "
                                         r"the memory pass, needs about 11.\d GB\)"):
        check_memory(1_000_000, available_mb=512.0)
    with pytest.raises(ValueError, match=r"need about 11.\d GB of memory \(about 12 KB each\); 0.5 GB is available$"):
        check_memory(1_000_000, available_mb=512.0, measure_memory=False)
    check_memory(10_000, available_mb=512.0)  # about 430 MB with the memory pass: fine
    check_memory(10**9, available_mb=None)  # where the memory available cannot be read, nothing is refused


def test_the_cli_refuses_a_billion_open_visits_with_exit_code_2() -> None:
    result = CliRunner().invoke(_cli(), ["loadtest", "--open", "1000000000", "--visits", "1000000000"])
    assert result.exit_code == 2, result.output
    assert "--open: 1,000,000,000 visits open need about" in result.output


def _stream_with_a_late_timer() -> tuple[GateWorld, RecordedStream, float]:
    """Three declarations, then a timer call long after the customs check fell due."""
    world = GateWorld(seed=1, open_visits=3, total_visits=3)
    stream = world.record(3)
    probe = GateCore(world.config)
    replay(probe, stream, None)
    deadline = probe.next_deadline()
    assert deadline is not None
    late = deadline + 1e6
    return world, RecordedStream(stream.events, stream.times, stream.kinds, [(3, late)], 0), late


def test_commands_the_core_gives_on_its_timers_reach_the_sink_with_the_events_ones() -> None:
    world, stream, _ = _stream_with_a_late_timer()
    seen: list[str] = []
    replay(GateCore(world.config), stream, np.zeros(len(stream), dtype=np.int64),
           sink=lambda outs: seen.extend(type(c).__name__ for out in outs for c in out))
    assert "Escalate" in seen


def test_commands_the_core_gives_on_its_timers_reach_the_sink_of_a_paced_replay() -> None:
    world, stream, _ = _stream_with_a_late_timer()
    seen: list[str] = []
    paced = replay_paced(GateCore(world.config), stream, 10_000.0, np.zeros(len(stream), dtype=np.int64),
                         np.zeros(len(stream), dtype=np.int64),
                         sink=lambda outs: seen.extend(type(c).__name__ for out in outs for c in out))
    assert "Escalate" in seen and paced.outs == []


@pytest.mark.parametrize(("args", "said"), [
    (["--rate", "50000", "--duration", "1"], "--rate, --duration: apply to --mode rate only (got --mode max)"),
    (["--mode", "rate", "--duration", "0.01", "--visits", "500"], "--visits: applies to --mode max only (got --mode rate)"),
])
def test_an_option_of_the_other_mode_is_refused_rather_than_ignored(args: list[str], said: str) -> None:
    result = CliRunner().invoke(_cli(), ["loadtest", *args, "--no-memory"])
    assert result.exit_code == 2, result.output
    assert said in result.output


def test_without_visits_a_max_run_declares_twice_as_many_as_it_keeps_open_when_that_is_more_than_2000() -> None:
    # As in the README: "gatetwin loadtest --open 10000 --json", here smaller.
    result = CliRunner().invoke(_cli(), ["loadtest", "--open", "1500", "--json", "--no-memory"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["visits_declared"] == data["visits_completed"] == 3_000


def test_ctrl_c_stops_the_command_at_the_end_of_a_chunk_and_prints_the_report_of_what_ran() -> None:
    import signal
    import subprocess
    import sys
    import time

    command = [sys.executable, "-c", "from twin.cli import app; app()", "loadtest", "--visits", "400000",
               "--open", "100", "--no-memory", "--json"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(4.0)  # past start-up, into the first chunks
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    report = json.loads(out)
    assert report["interrupted"] and report["ok"] and report["lost_visits"] == 0
    assert 0 < report["visits_completed"] < 400_000
    assert "stopping at the end of this chunk" in err
