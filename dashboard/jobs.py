"""Scenario runs in the background, so a long run survives the dashboard's widget reruns.

Streamlit re-executes a page script on every click; a simulation started inside the script
would be cut short by the next click. Runs therefore go to a ``JobBoard``: one worker thread
takes ``RunRequest``s from a queue, one at a time (two simulations at once on a two-core
machine would only slow both down), and records each one's progress, result or error in a
``RunJob`` that any rerun of any page can poll.

The board is also the cache of finished runs: a request is identified by its ``JobKey``
(scenario hash, seed, replications, simulated hours) and, since the same key always gives
the same results (every random number comes from the seed), asking again returns the job
that already ran instead of running it twice.
"""

from __future__ import annotations

import queue
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from scenarios import scenario_hash
from scenarios.schema import Scenario
from twin.results import RunResult, load_results
from twin.run import InvariantViolation, RunOptions, run_scenario

#: Finished jobs kept (the oldest finished one is dropped first); queued and running jobs are
#: never dropped.
MAX_FINISHED_JOBS = 16


class JobStatus(str, Enum):
    """Where a job is in its life."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        """Whether the job will not change any more."""
        return self in (JobStatus.DONE, JobStatus.FAILED, JobStatus.CANCELLED)


@dataclass(frozen=True, slots=True)
class JobKey:
    """What identifies a run's results: the same key always gives the same results."""

    scenario_hash: str
    seed: int
    replications: int
    horizon_h: float

    def folder_name(self, scenario_name: str) -> str:
        """A folder name for these results, readable and unique per key."""
        return f"{scenario_name}-{self.scenario_hash[:10]}-seed{self.seed}-reps{self.replications}-{self.horizon_h:g}h"


@dataclass(frozen=True)
class RunRequest:
    """One scenario to run: the scenario (overrides already applied), replications and seed."""

    scenario: Scenario
    replications: int
    seed: int

    def __post_init__(self) -> None:
        if self.replications < 1:
            raise ValueError(f"RunRequest: replications must be at least 1 (got {self.replications})")
        if self.seed < 0:
            raise ValueError(f"RunRequest: seed must be 0 or more (got {self.seed})")

    @property
    def key(self) -> JobKey:
        """The cache key of this request."""
        return JobKey(scenario_hash(self.scenario), self.seed, self.replications, float(self.scenario.run.horizon_h))


class RunCancelled(Exception):
    """Raised inside a run's progress callback to stop the run at the next progress step."""


@dataclass
class RunJob:
    """One request on the board: its status, progress (0 to 1), result or error.

    ``problem`` holds a warning about a run that finished but broke an invariant (its results
    are shown, with the warning); ``error`` the reason a run failed. ``writing`` is set once
    every replication has been simulated: the results are being collected and written, which
    can take seconds for a long run, and a cancel comes too late (``JobBoard.cancel`` says so).
    """

    request: RunRequest
    key: JobKey
    out_dir: Path | None
    status: JobStatus = JobStatus.QUEUED
    progress: float = 0.0
    result: RunResult | None = None
    error: str | None = None
    problem: str | None = None
    writing: bool = False
    cancel_requested: threading.Event = field(default_factory=threading.Event)
    #: Held while a cancel is asked for and while the run decides it is past cancelling.
    cancel_lock: threading.Lock = field(default_factory=threading.Lock)
    #: Set once the job has finished (done, failed or cancelled).
    finished: threading.Event = field(default_factory=threading.Event)

    @property
    def label(self) -> str:
        """Scenario, seed, replications and hours, for progress lines."""
        k = self.key
        return f"{self.request.scenario.name} (seed {k.seed}, {k.replications} replication(s), {k.horizon_h:g} h)"


class JobBoard:
    """The queue of scenario runs and the cache of their results; safe to share between sessions.

    ``runs_dir``: each run's results are also written there (one folder per key, as
    ``gatetwin run --out`` writes them), so they can be reopened later; None keeps them in
    memory only.
    """

    def __init__(self, runs_dir: Path | None = None, max_finished: int = MAX_FINISHED_JOBS) -> None:
        if max_finished < 1:
            raise ValueError(f"JobBoard: max_finished must be at least 1 (got {max_finished})")
        self.runs_dir = runs_dir
        self.max_finished = max_finished
        self._jobs: OrderedDict[JobKey, RunJob] = OrderedDict()
        self._lock = threading.Lock()
        self._queue: queue.Queue[RunJob] = queue.Queue()
        self._worker: threading.Thread | None = None

    def submit(self, request: RunRequest) -> RunJob:
        """Queue a run, or return the job already queued, running or done for the same key.

        A failed or cancelled job is replaced by a fresh one.
        """
        key = request.key
        with self._lock:
            existing = self._jobs.get(key)
            if existing is not None and existing.status not in (JobStatus.FAILED, JobStatus.CANCELLED):
                self._jobs.move_to_end(key)
                return existing
            out_dir = self.runs_dir / key.folder_name(request.scenario.name) if self.runs_dir is not None else None
            job = RunJob(request=request, key=key, out_dir=out_dir)
            self._jobs[key] = job
            self._forget_old_jobs()
            self._queue.put(job)
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._work, name="gatetwin-dashboard-runs", daemon=True)
                self._worker.start()
        return job

    def get(self, key: JobKey) -> RunJob | None:
        """The job of ``key``, if the board still has it."""
        with self._lock:
            return self._jobs.get(key)

    def jobs(self) -> list[RunJob]:
        """Every job on the board, oldest first."""
        with self._lock:
            return list(self._jobs.values())

    def cancel(self, key: JobKey) -> bool:
        """Ask a queued or running job to stop; False when there is no such unfinished job, or
        when it is too late: its simulation is over and its results are being written."""
        job = self.get(key)
        if job is None:
            return False
        with job.cancel_lock:
            if job.status.finished or job.writing:
                return False
            job.cancel_requested.set()
        return True

    def wait(self, key: JobKey, timeout: float) -> RunJob:
        """Block until the job of ``key`` has finished or ``timeout`` seconds passed; return it."""
        job = self.get(key)
        if job is None:
            raise KeyError(f"JobBoard: no job for {key}")
        job.finished.wait(timeout)
        return job

    def _forget_old_jobs(self) -> None:
        finished = [key for key, job in self._jobs.items() if job.status.finished]
        for key in finished[: max(0, len(finished) - self.max_finished)]:
            del self._jobs[key]

    def _work(self) -> None:
        while True:
            try:
                job = self._queue.get(timeout=1.0)
            except queue.Empty:
                with self._lock:
                    if self._queue.empty():
                        self._worker = None
                        return
                continue
            run_job(job)
            with self._lock:
                self._forget_old_jobs()


def run_job(job: RunJob) -> None:
    """Run one job to its end, recording progress, result, warning or error on the job."""
    try:
        _run(job)
    finally:
        job.finished.set()


def _run(job: RunJob) -> None:
    if job.cancel_requested.is_set():
        job.status = JobStatus.CANCELLED
        return
    job.status = JobStatus.RUNNING
    request = job.request
    total = request.replications
    simulated: set[int] = set()

    def progress(replication: int, fraction: float) -> None:
        with job.cancel_lock:
            if job.cancel_requested.is_set():
                raise RunCancelled("cancelled from the dashboard")
            if fraction >= 1.0:
                simulated.add(replication)
            # After the last replication's last step nothing asks for a cancel any more.
            job.writing = len(simulated) >= total
        job.progress = min(1.0, (replication + fraction) / total)

    options = RunOptions(replications=request.replications, seed=request.seed, out=job.out_dir)
    try:
        job.result = run_scenario(request.scenario, options, progress=progress)
    except InvariantViolation as exc:
        # The run finished and its results were written; show them, with the broken invariant.
        job.problem = str(exc)
        if job.out_dir is not None:
            job.result = load_results(job.out_dir)
        else:
            job.error = f"the run broke an invariant: {str(exc).splitlines()[0]}"
    except RuntimeError as exc:
        if job.cancel_requested.is_set():
            job.status = JobStatus.CANCELLED
            return
        job.error = str(exc).splitlines()[0]
    except Exception as exc:  # a broken scenario or a bug: fail this job, keep the board working
        job.error = f"{type(exc).__name__}: {exc}"
    job.progress = 1.0 if job.result is not None else job.progress
    job.status = JobStatus.DONE if job.result is not None else JobStatus.FAILED
