"""Background runs: one at a time, progress, cache by key, cancellation, failures."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from dashboard.jobs import JobBoard, JobStatus, RunRequest
from scenarios.schema import Scenario
from tests.unit.dashboard.support import busy_smart_gate
from twin.results import SUMMARY_FILE, RunResult, load_results
from twin.run import RunOptions, run_scenario


@pytest.fixture(autouse=True)
def no_plots(monkeypatch: pytest.MonkeyPatch) -> None:
    """Results folders without PNG plots: the dashboard never reads them, and they are slow."""
    monkeypatch.setattr("twin.results.write_plots", lambda run, out_dir: [])


def short_request(hours: float = 1.0, seed: int = 3) -> RunRequest:
    return RunRequest(busy_smart_gate(hours=hours, replications=1), replications=1, seed=seed)


def test_a_run_in_the_background_gives_the_same_results_as_running_it_directly(tmp_path: Path) -> None:
    board = JobBoard(tmp_path)
    request = short_request()
    job = board.wait(board.submit(request).key, timeout=60)
    assert job.status is JobStatus.DONE, job.error
    assert job.progress == 1.0
    direct = run_scenario(request.scenario, RunOptions(replications=1, seed=3))
    assert job.result is not None
    assert pd.Series(job.result.replications[0].kpis).equals(pd.Series(direct.replications[0].kpis))
    pd.testing.assert_frame_equal(job.result.replications[0].trucks, direct.replications[0].trucks)
    assert job.out_dir is not None and (job.out_dir / SUMMARY_FILE).is_file()
    assert load_results(job.out_dir).summary["seeds"] == [3]


def test_asking_for_the_same_run_again_returns_the_finished_job() -> None:
    board = JobBoard(None)
    first = board.wait(board.submit(short_request()).key, timeout=60)
    again = board.submit(short_request())
    assert again is first
    assert board.submit(short_request(seed=4)) is not first


def test_runs_wait_their_turn_and_a_queued_run_can_be_cancelled() -> None:
    board = JobBoard(None)
    running = board.submit(short_request(hours=2.0))
    queued = board.submit(short_request(seed=8))
    assert queued.status is JobStatus.QUEUED
    assert board.cancel(queued.key)
    board.wait(running.key, timeout=60)
    board.wait(queued.key, timeout=60)
    assert running.status is JobStatus.DONE
    assert queued.status is JobStatus.CANCELLED
    assert queued.result is None
    assert not board.cancel(running.key)  # already finished


def test_a_running_run_stops_at_its_next_progress_step_when_cancelled() -> None:
    board = JobBoard(None)
    job = board.submit(short_request(hours=24.0))
    while job.progress == 0.0 and not job.status.finished:
        job.finished.wait(0.02)
    board.cancel(job.key)
    board.wait(job.key, timeout=60)
    assert job.status is JobStatus.CANCELLED
    assert job.progress < 1.0


def test_a_cancelled_run_asked_for_again_runs_afresh(monkeypatch: pytest.MonkeyPatch) -> None:
    # The first run waits at a gate until the cancel has been asked for, so it cannot finish
    # first however busy the machine is; the gate stays open for the run asked for again.
    cancel_asked = threading.Event()

    def after_the_cancel(scenario: Scenario, options: RunOptions, progress: Callable[[int, float], None]) -> RunResult:
        cancel_asked.wait(60)
        return run_scenario(scenario, options, progress=progress)

    monkeypatch.setattr("dashboard.jobs.run_scenario", after_the_cancel)
    board = JobBoard(None)
    job = board.submit(short_request())
    board.cancel(job.key)
    cancel_asked.set()
    board.wait(job.key, timeout=60)
    assert job.status is JobStatus.CANCELLED
    again = board.wait(board.submit(short_request()).key, timeout=60)
    assert again is not job
    assert again.status is JobStatus.DONE


def test_a_run_that_fails_reports_why_and_the_board_keeps_working(monkeypatch: pytest.MonkeyPatch) -> None:
    board = JobBoard(None)

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("replication 0 failed: the scanner emulator broke\ntraceback ...")

    monkeypatch.setattr("dashboard.jobs.run_scenario", broken)
    job = board.wait(board.submit(short_request()).key, timeout=60)
    assert job.status is JobStatus.FAILED
    assert job.error == "replication 0 failed: the scanner emulator broke"
    monkeypatch.undo()
    monkeypatch.setattr("twin.results.write_plots", lambda run, out_dir: [])
    assert board.wait(board.submit(short_request(seed=5)).key, timeout=60).status is JobStatus.DONE


def test_the_board_forgets_the_oldest_finished_runs_first() -> None:
    board = JobBoard(None, max_finished=2)
    keys = [board.wait(board.submit(short_request(hours=0.5, seed=s)).key, timeout=60).key for s in (1, 2, 3)]
    assert board.get(keys[0]) is None
    assert [job.key for job in board.jobs()] == keys[1:]


@pytest.mark.parametrize(("replications", "seed", "message"), [(0, 1, "replications"), (1, -1, "seed")])
def test_a_request_with_a_bad_count_or_seed_is_refused(replications: int, seed: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RunRequest(busy_smart_gate(hours=1.0), replications=replications, seed=seed)


def test_the_results_folder_name_says_what_was_run() -> None:
    request = short_request()
    name = request.key.folder_name(request.scenario.name)
    assert name.startswith("huu_nghi_smart_gate-") and name.endswith("-seed3-reps1-1h")


def test_once_every_replication_is_simulated_the_run_is_writing_results_and_too_late_to_cancel(
        monkeypatch: pytest.MonkeyPatch) -> None:
    writing_may_end = threading.Event()
    simulated = threading.Event()

    def slow_to_write(scenario: Scenario, options: RunOptions, progress: Callable[[int, float], None]) -> RunResult:
        def hold_after_the_last_step(replication: int, fraction: float) -> None:
            progress(replication, fraction)
            if replication == options.replications - 1 and fraction >= 1.0:
                simulated.set()
                writing_may_end.wait(60)  # as collecting and writing a long run's results takes seconds

        return run_scenario(scenario, options, progress=hold_after_the_last_step)

    monkeypatch.setattr("dashboard.jobs.run_scenario", slow_to_write)
    board = JobBoard(None)
    request = RunRequest(busy_smart_gate(hours=0.5, replications=2), replications=2, seed=3)
    job = board.submit(request)
    assert simulated.wait(60)
    assert job.writing and job.status is JobStatus.RUNNING and job.progress == 1.0
    assert not board.cancel(job.key)  # too late: the Cancel would be ignored
    assert not job.cancel_requested.is_set()
    writing_may_end.set()
    board.wait(job.key, timeout=60)
    assert job.status is JobStatus.DONE and job.result is not None
