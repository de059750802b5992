"""``report.md`` and ``scenario.yaml``: the run's report for people, and the scenario as run."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import pytest

from scenarios import ScenarioError, load_scenario, scenario_hash, scenario_yaml, with_overrides
from tests.unit.twin_results.synthetic_gate import make_run
from twin.compare import interval_text
from twin.report import HEADLINE_KPIS, NO_FIGURE, figure, run_report, wait_lines, write_report
from twin.results import (
    REPORT_FILE,
    SCENARIO_FILE,
    InvariantCheck,
    RunResult,
    kpi_interval,
    load_results,
    make_manifest,
    read_run_scenario,
    summarize_run,
    write_results,
)
from twin.run import InvariantViolation, RunOptions, finish_run, run_scenario

HOURS = 8.0  # into the morning, when trucks wait


@pytest.fixture(scope="module")
def short_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunResult, Path]:
    out = tmp_path_factory.mktemp("run") / "out"
    scenario = with_overrides(load_scenario("mong_cai_phase2"), horizon_h=HOURS)
    return run_scenario(scenario, RunOptions(replications=3, seed=5, out=out)), out


def _table_row(report: str, first_cell: str) -> list[str]:
    """The cells of the first table row of ``report`` whose first cell is ``first_cell``."""
    for line in report.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("|") and cells[0] == first_cell:
            return cells
    raise AssertionError(f"no table row for {first_cell!r}")


def test_a_run_writes_its_report_with_the_figures_of_its_summary(short_run: tuple[RunResult, Path]) -> None:
    run, out = short_run
    report = (out / REPORT_FILE).read_text(encoding="utf-8")
    assert report.startswith("# Run report: mong_cai_phase2\n")
    assert "Finished: 3 of 3 replications." in report
    kpis = json.loads((out / "summary.json").read_text(encoding="utf-8"))["summary"]["kpis"]
    shown = [name for name in HEADLINE_KPIS if name in kpis]
    assert len(shown) >= 10
    for name in shown:
        interval = kpi_interval(name, kpis[name])
        cells = _table_row(report, f"`{name}`")
        assert cells[1:3] == [figure(interval.mean) or NO_FIGURE, interval_text(interval, figure)], name
    # every KPI, not only the headline ones, is in the report
    for name in kpis:
        _table_row(report, f"`{name}`")
    # the longest wait is the first row of its table
    longest = wait_lines(run)[0]
    assert _table_row(report, longest.who)[1] == longest.mean_wait


def test_the_report_shows_the_plots_and_lists_the_files_beside_it(short_run: tuple[RunResult, Path]) -> None:
    _, out = short_run
    report = (out / REPORT_FILE).read_text(encoding="utf-8")
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", report)
    assert images and all((out / image).is_file() for image in images)
    assert {path.name for path in out.glob("*.png")} == set(images)
    listed = re.findall(r"^- `([^`]+)`: ", report.split("## Files in this folder", 1)[1], re.MULTILINE)
    assert set(listed) == {path.name for path in out.iterdir()} - {REPORT_FILE}


def test_the_report_says_how_to_run_it_again_and_that_command_gives_the_same_results(
        short_run: tuple[RunResult, Path], tmp_path: Path) -> None:
    run, out = short_run
    report = (out / REPORT_FILE).read_text(encoding="utf-8")
    command = re.search(r"^gatetwin run (\S+) --reps (\d+) --seed (\d+) --out <folder>$", report, re.MULTILINE)
    assert command is not None and command.group(1) == SCENARIO_FILE
    again = run_scenario(load_scenario(out / command.group(1)),
                         RunOptions(replications=int(command.group(2)), seed=int(command.group(3)), out=tmp_path))
    assert again.scenario_hash == run.scenario_hash
    for name in ("summary.json", "trucks.csv", "stations.csv", SCENARIO_FILE, REPORT_FILE):
        assert (tmp_path / name).read_bytes() == (out / name).read_bytes(), name


def test_the_scenario_as_run_reads_back_with_the_run_s_hash(short_run: tuple[RunResult, Path]) -> None:
    run, out = short_run
    text = (out / SCENARIO_FILE).read_text(encoding="utf-8")
    assert text.startswith(f"# The scenario mong_cai_phase2 as gatetwin ran it (scenario_hash {run.scenario_hash}):")
    assert scenario_hash(load_scenario(out / SCENARIO_FILE)) == run.scenario_hash
    loaded = load_results(out)
    assert loaded.scenario == run.scenario
    assert loaded.scenario is not None and loaded.scenario.run.horizon_h == HOURS


@pytest.mark.parametrize("name", ["huu_nghi_smart_gate", "tet_reopening", "scanner_outage", "mong_cai_phase1"])
def test_every_field_of_a_library_scenario_survives_the_yaml_it_is_written_as(name: str, tmp_path: Path) -> None:
    scenario = load_scenario(name)
    path = tmp_path / "s.yaml"
    path.write_text(scenario_yaml(scenario, "a comment\nover two lines"), encoding="utf-8")
    back = load_scenario(path)
    assert back == scenario
    assert scenario_hash(back) == scenario_hash(scenario)
    assert path.read_text(encoding="utf-8").startswith("# a comment\n# over two lines\nname: ")


def test_text_that_yaml_would_read_as_something_else_is_written_quoted(tmp_path: Path) -> None:
    scenario = with_overrides(load_scenario("huu_nghi_2025"), site="NO", description="12:30")
    path = tmp_path / "s.yaml"
    path.write_text(scenario_yaml(scenario), encoding="utf-8")
    back = load_scenario(path)
    assert (back.site, back.description) == ("NO", "12:30")


def test_a_changed_or_missing_scenario_file_is_named_and_the_run_still_opens(
        short_run: tuple[RunResult, Path], tmp_path: Path) -> None:
    run, out = short_run
    folder = tmp_path / "copy"
    folder.mkdir()
    for path in out.iterdir():
        (folder / path.name).write_bytes(path.read_bytes())
    scenario_file = folder / SCENARIO_FILE
    scenario_file.write_text(scenario_file.read_text(encoding="utf-8").replace("entry_lanes: ", "entry_lanes: 1"),
                             encoding="utf-8")
    with pytest.raises(ValueError, match=r"scenario.yaml: not the scenario the run ran: its hash is"):
        read_run_scenario(folder, run.scenario_hash)
    assert load_results(folder).scenario is None
    scenario_file.write_text("name: [", encoding="utf-8")
    with pytest.raises(ScenarioError):
        read_run_scenario(folder, run.scenario_hash)
    assert load_results(folder).scenario is None
    scenario_file.unlink()
    with pytest.raises(FileNotFoundError, match="written by an older version"):
        read_run_scenario(folder, run.scenario_hash)
    opened = load_results(folder)
    assert opened.scenario is None and len(opened.replications) == 3


def test_a_failed_run_s_report_says_so_with_what_finished(tmp_path: Path) -> None:
    run = make_run("tet-surge", [11, 12, 13])
    finished = run.replications[:2]
    failed = RunResult("tet-surge", "f00d", finished, make_manifest("tet-surge", "f00d", 11, 3), summarize_run(finished),
                       failed="replication 2 failed: RuntimeError: scanner process crashed\nTraceback ...")
    write_results(failed, tmp_path)
    report = write_report(failed, tmp_path).read_text(encoding="utf-8")
    assert ("**The run failed** (2 of 3 replications finished): replication 2 failed: RuntimeError: scanner process "
            "crashed") in report
    assert "those of the 2 replication(s) that finished before it" in report
    assert "Traceback" not in report  # the whole error is in summary.json
    assert "To run it again" not in report  # no scenario to run again with


def test_a_run_that_failed_before_any_replication_has_a_report_without_figures(tmp_path: Path) -> None:
    run = RunResult("broken", "0", [], make_manifest("broken", "0", 1, 3), summarize_run([]), failed="ValueError: bad layout")
    write_results(run, tmp_path)
    report = write_report(run, tmp_path).read_text(encoding="utf-8")
    assert "**The run failed** (0 of 3 replications finished): ValueError: bad layout" in report
    assert "No replication finished: there are no figures." in report
    assert "## Headline KPIs" not in report and "## Plots" not in report


def test_a_run_that_broke_an_invariant_has_a_report_naming_it(tmp_path: Path) -> None:
    scenario = with_overrides(load_scenario("mong_cai_phase2"), horizon_h=1.0)
    run = run_scenario(scenario, RunOptions(replications=1, seed=2))
    checks = [InvariantCheck(c.name, False, "40 arrived = 30 departed | 9 inside") if c.name == "conservation" else c
              for c in run.replications[0].invariants]
    broken = replace(run.replications[0], invariants=checks)
    with pytest.raises(InvariantViolation):
        finish_run(scenario, [broken], None, 2, 1, RunOptions(out=tmp_path))
    report = (tmp_path / REPORT_FILE).read_text(encoding="utf-8")
    assert "**The run broke its invariants** in 1 of 1 replication(s)" in report
    assert "- replication 0: `conservation`: 40 arrived = 30 departed | 9 inside" in report
    assert _table_row(report, "conservation of trucks: arrived = departed + returned + refused + inside")[1] == "0 of 1"


def test_a_pipe_in_a_name_does_not_break_the_report_s_tables() -> None:
    run = make_run("a|b", [11, 12, 13])
    report = run_report(run)
    assert "| scenario | a\\|b |" in report
