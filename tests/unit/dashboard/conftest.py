"""Fixtures: saved results written once per session, and a clean environment per test."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.state import RESULTS_ENV, RUNS_DIR_ENV
from tests.unit.dashboard.support import (
    APP,
    write_agents_run,
    write_failed_run,
    write_library_run,
    write_other_seed_run,
    write_outage_run,
    write_recovery_folder,
    write_saved_runs,
    write_warmup_run,
)
from tests.unit.twin_results.older_results import write_older_folder
from twin.results import RunResult, load_results


@pytest.fixture(scope="session")
def saved_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_saved_runs(tmp_path_factory.mktemp("saved-runs"))


@pytest.fixture(scope="session")
def recovery_folder(saved_runs: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The saved runs as ``gatetwin recovery --out`` writes them: without and with the scanner
    outage, and their ``recovery.csv`` and ``recovery.png``."""
    return write_recovery_folder(saved_runs["baseline"], saved_runs["outage"], tmp_path_factory.mktemp("recovery"))


@pytest.fixture(scope="session")
def other_seed_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_other_seed_run(tmp_path_factory.mktemp("other-seed") / "other_seed")


@pytest.fixture(scope="session")
def library_run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The library's smart gate for one hour, with 2 replications and seed 5 (its file says 1 and 870)."""
    return write_library_run(tmp_path_factory.mktemp("library-run") / "smart_gate")


@pytest.fixture(scope="session")
def single_replication_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The busy smart gate for one hour, one replication (no confidence intervals)."""
    return write_other_seed_run(tmp_path_factory.mktemp("single") / "single", hours=1.0, replications=1)


@pytest.fixture(scope="session")
def warmup_run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The busy smart gate for 2 h, the first 1.5 h a warm-up, one replication."""
    return write_warmup_run(tmp_path_factory.mktemp("warmup") / "warmup")


@pytest.fixture(scope="session")
def older_folder(library_run_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``library_run_folder`` as gatetwin wrote it before the time at the gate counted every truck
    that reached the gate: no ``time_at_gate_so_far``, no format version."""
    return write_older_folder(library_run_folder, tmp_path_factory.mktemp("older") / "smart_gate_older")


@pytest.fixture(scope="session")
def failed_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Saved runs that did not finish: "none" crashed in its first replication (nothing finished),
    "partial" in its second (one of two finished), "cancelled" was cancelled in its second."""
    root = tmp_path_factory.mktemp("failed-runs")
    return {"none": write_failed_run(root / "none", failing_replication=0),
            "partial": write_failed_run(root / "partial", failing_replication=1),
            "cancelled": write_failed_run(root / "cancelled", failing_replication=1, cancelled=True)}


@pytest.fixture(scope="session")
def outage_run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The library's scanner outage for 14 hours, 2 replications: a run whose scenario has a
    disruption and is known (the library scenario with these hours has its hash)."""
    return write_outage_run(tmp_path_factory.mktemp("outage-run") / "scanner_outage")


@pytest.fixture(scope="session")
def agents_run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_agents_run(tmp_path_factory.mktemp("agents-run") / "channelling_on")


@pytest.fixture(scope="session")
def agents_run(agents_run_folder: Path) -> RunResult:
    return load_results(agents_run_folder)


@pytest.fixture(scope="session")
def baseline_run(saved_runs: dict[str, Path]) -> RunResult:
    return load_results(saved_runs["baseline"])


@pytest.fixture(autouse=True)
def dashboard_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Every test: no results opened at start, and its own folder for dashboard runs.

    ``AppTest`` leaves the page it ran as ``sys.modules["__main__"]``; it is put back after each
    test, for a process started later by "spawn" (parallel replications) imports ``__main__``
    again, and the dashboard's page cannot run outside Streamlit.
    """
    monkeypatch.setitem(sys.modules, "__main__", sys.modules["__main__"])
    monkeypatch.delenv(RESULTS_ENV, raising=False)
    runs = tmp_path / "dashboard-runs"
    monkeypatch.setenv(RUNS_DIR_ENV, str(runs))
    return runs


@pytest.fixture
def open_app(monkeypatch: pytest.MonkeyPatch) -> Callable[..., AppTest]:
    """The dashboard with the given results folders open, after its first run."""

    def start(*folders: Path) -> AppTest:
        monkeypatch.setenv(RESULTS_ENV, os.pathsep.join(str(folder) for folder in folders))
        app = AppTest.from_file(str(APP), default_timeout=60)
        app.run()
        assert not app.exception, [e.value for e in app.exception]
        return app

    return start
