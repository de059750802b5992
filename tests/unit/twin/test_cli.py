"""The gatetwin command line, as a planner uses it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scenarios import library_names
from twin.cli import app

runner = CliRunner()


def test_scenarios_list_names_every_library_scenario() -> None:
    result = runner.invoke(app, ["scenarios", "list"])
    assert result.exit_code == 0, result.output
    for name in library_names():
        assert name in result.output


def test_scenarios_show_describes_the_scenario_and_json_gives_its_content() -> None:
    result = runner.invoke(app, ["scenarios", "show", "harvest_peak"])
    assert result.exit_code == 0, result.output
    assert "2,500" in result.output or "2500" in result.output
    as_json = runner.invoke(app, ["scenarios", "show", "harvest_peak", "--json"])
    assert json.loads(as_json.output)["demand"]["trucks_per_day"] == 2500


def test_a_broken_scenario_file_gets_one_line_per_error_and_exit_code_2(tmp_path: Path) -> None:
    broken = tmp_path / "peak.yaml"
    broken.write_text(
        "name: peak\ndescription: broken\nsite: x\n"
        "layout: {entry_lanes: 1, exit_lanes: 1, scanners: [{type: portal, count: -1}]}\n"
        "demand: {trucks_per_day: 100, direction_mix: {export: 1}, vehicle_class_mix: {truck: 1},"
        " cargo_mix: {general: 1}, colour: red}\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["scenarios", "validate", str(broken)])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert any(f"{broken}: layout.scanners.0.count:" in line and "-1" in line for line in lines), lines
    assert any("demand.colour" in line for line in lines), lines
    assert all(line.startswith(str(broken)) for line in lines), lines


def test_a_good_file_validates() -> None:
    from scenarios import library_path

    result = runner.invoke(app, ["scenarios", "validate", str(library_path("mong_cai_phase2"))])
    assert result.exit_code == 0 and result.output.strip().endswith("ok")


def test_an_unknown_scenario_name_lists_the_library_and_exits_2() -> None:
    result = runner.invoke(app, ["run", "no_such_gate"])
    assert result.exit_code == 2
    assert "no_such_gate" in result.output and "harvest_peak" in result.output


def test_run_writes_the_report(tmp_path: Path) -> None:
    out = tmp_path / "report"
    result = runner.invoke(app, ["run", "mong_cai_phase2", "--hours", "10", "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    assert "trucks_departed" in result.output
    for name in ("summary.json", "trucks.parquet", "trucks.csv", "stations.csv", "series.parquet",
                 "queue_length.png", "truck_times.png", "utilisation.png"):
        assert (out / name).exists(), name
    summary = json.loads((out / "summary.json").read_text())
    assert summary["manifest"]["scenario_name"] == "mong_cai_phase2"
    assert summary["failed"] is None


def test_compare_runs_the_layouts_with_the_same_seeds_and_writes_the_table(tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    result = runner.invoke(app, ["compare", "mong_cai_phase1", "mong_cai_phase2", "--reps", "2", "--hours", "10",
                                 "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    assert (out / "comparison.csv").exists() and (out / "comparison.png").exists()
    table = (out / "comparison.csv").read_text()
    assert "time_at_gate_p95" in table and "2:mong_cai_phase2" in table


def test_with_no_command_it_runs_the_default_scenario_end_to_end(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, [])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "default" / "summary.json").exists()
    assert "report written to out/default" in result.output
