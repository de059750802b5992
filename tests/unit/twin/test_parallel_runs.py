"""Replications in parallel processes: the same results, bit for bit, as one after another."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scenarios import load_scenario, with_overrides
from scenarios.schema import Scenario
from twin.build import People, statistical_people
from twin.cli import app
from twin.fleet import TruckPlan
from twin.run import RunOptions, run_scenario
from twin.streams import Streams


def _small(replications: int, hours: float = 3.0) -> Scenario:
    return with_overrides(load_scenario("mong_cai_phase2"), horizon_h=hours, replications=replications)


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def fails_in_replication_one(scenario: Scenario, streams: Streams, plans: list[TruckPlan]) -> People:
    """A people model that breaks in replication 1 only (module level: worker processes import it)."""
    if streams.replication == 1:
        raise RuntimeError("the people model broke in replication 1")
    return statistical_people(scenario, streams, plans)


def test_replications_run_in_parallel_write_the_very_files_a_serial_run_writes(tmp_path: Path) -> None:
    scenario = _small(3, hours=9.0)
    serial = run_scenario(scenario, RunOptions(out=tmp_path / "serial", jobs=1))
    parallel = run_scenario(scenario, RunOptions(out=tmp_path / "parallel", jobs=2))
    # repr: a KPI with no data is NaN, which equals nothing, not even itself
    assert repr([r.kpis for r in parallel.replications]) == repr([r.kpis for r in serial.replications])
    assert all(r.kpis["trucks_departed"] > 0 for r in serial.replications)
    written = _files(tmp_path / "serial")
    assert "summary.json" in written and "trucks.parquet" in written
    assert _files(tmp_path / "parallel") == written


def test_progress_reaches_every_replication_from_the_worker_processes() -> None:
    seen: dict[int, float] = {}
    run_scenario(_small(2), RunOptions(jobs=2), progress=lambda r, f: seen.__setitem__(r, max(f, seen.get(r, 0.0))))
    assert seen == {0: 1.0, 1: 1.0}


def test_a_replication_failing_in_a_worker_keeps_those_before_it_and_says_which_failed(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError) as caught:
        run_scenario(_small(3), RunOptions(out=tmp_path, jobs=2), people_factory=fails_in_replication_one)
    message = str(caught.value)
    assert message.startswith("replication 1 failed: RuntimeError: the people model broke in replication 1")
    assert "fails_in_replication_one" in message  # the worker's traceback comes back with it
    summary = (tmp_path / "summary.json").read_text()
    assert "replication 1 failed" in summary
    # Kept: replication 0 only, as a serial run would have kept (replication 2 may have finished).
    serial_dir = tmp_path.parent / "serial-failure"
    with pytest.raises(RuntimeError):
        run_scenario(_small(3), RunOptions(out=serial_dir, jobs=1), people_factory=fails_in_replication_one)
    parallel_files, serial_files = _files(tmp_path), _files(serial_dir)
    assert parallel_files.keys() == serial_files.keys()
    for name, content in serial_files.items():
        if name != "summary.json":  # its "failed" holds the traceback, which ran in a worker or here
            assert parallel_files[name] == content, name
    parallel_summary, serial_summary = json.loads(parallel_files["summary.json"]), json.loads(serial_files["summary.json"])
    assert parallel_summary.pop("failed").splitlines()[0] == serial_summary.pop("failed").splitlines()[0]
    assert parallel_summary == serial_summary
    assert parallel_summary["manifest"]["replications"] == 3 and len(parallel_summary["replications"]) == 1


def test_a_people_model_worker_processes_cannot_import_is_refused_before_anything_runs(tmp_path: Path) -> None:
    def local_people(scenario: Scenario, streams: Streams, plans: list[TruckPlan]) -> People:
        return statistical_people(scenario, streams, plans)

    with pytest.raises(ValueError, match="jobs above 1 send the people model to worker processes"):
        run_scenario(_small(2), RunOptions(out=tmp_path / "out", jobs=2), people_factory=local_people)
    assert not (tmp_path / "out").exists()
    assert len(run_scenario(_small(2), RunOptions(jobs=1), people_factory=local_people).replications) == 2


def test_jobs_must_be_at_least_one() -> None:
    with pytest.raises(ValueError, match="jobs must be at least 1"):
        run_scenario(_small(1), RunOptions(jobs=0))


def test_the_cli_takes_jobs_and_refuses_zero(tmp_path: Path) -> None:
    runner = CliRunner()
    bad = runner.invoke(app, ["run", "mong_cai_phase2", "--hours", "2", "--jobs", "0", "--quiet"])
    assert bad.exit_code == 2 and "--jobs" in bad.output
    out = tmp_path / "run"
    good = runner.invoke(app, ["run", "mong_cai_phase2", "--hours", "3", "--reps", "2", "--jobs", "2",
                               "--out", str(out), "--quiet"])
    assert good.exit_code == 0, good.output
    assert (out / "summary.json").exists()
