"""The reports of ``gatetwin compare --out``, ``sweep --out`` and ``recovery --out``: comparison.md,
sweep.md and recovery.md hold the figures of the CSV beside them, link to files that exist, warn
when the console warns, come out the same for the same runs, and are written when a run failed."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from tests.unit.twin_results.markdown import assert_links_exist, section, tables
from twin import cli
from twin.cli import app
from twin.compare import (
    COMPARISON_CSV,
    COMPARISON_PLOT,
    COMPARISON_REPORT,
    all_equal,
    difference_interval,
    interval_text,
    row_interval,
    with_ci,
)
from twin.recovery import LABELS, NORMAL_NOTE, NOT_YET, RECOVERY_CSV, RECOVERY_PLOT, RECOVERY_REPORT, figure_interval
from twin.report import figure
from twin.results import REPORT_FILE
from twin.sweep import SWEEP_CSV, SWEEP_PLOT, SWEEP_REPORT

runner = CliRunner()

COMPARE = ["compare", "mong_cai_phase1", "mong_cai_phase2", "mong_cai_phase2+layout.entry_lanes=3", "--reps", "2",
           "--hours", "10", "--quiet", "--jobs", "1"]
SWEEP = ["sweep", "mong_cai_phase2", "--vary", "layout.entry_lanes=[1, 2]", "--vary", "layout.exit_lanes=[1, 2]",
         "--kpi", "trucks_departed", "--kpi", "time_at_gate_p95", "--kpi", "agv_trucks_per_day", "--reps", "2",
         "--hours", "10", "--quiet", "--jobs", "1"]
RECOVERY = ["recovery", "scanner_outage", "--reps", "2", "--hours", "16", "--quiet", "--jobs", "1"]


def _invoke(args: Sequence[str], out: Path, code: int = 0) -> str:
    """What the command printed, on one line (its tables as Rich draws them)."""
    result = runner.invoke(app, [*args, "--out", str(out)], env={"COLUMNS": "200"})
    assert result.exit_code == code, result.output
    return " ".join(result.output.split())


@pytest.fixture(scope="module")
def compared(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("compare") / "out"
    return out, _invoke(COMPARE, out)


@pytest.fixture(scope="module")
def swept(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("sweep") / "out"
    return out, _invoke(SWEEP, out)


@pytest.fixture(scope="module")
def recovered(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("recovery") / "out"
    return out, _invoke(RECOVERY, out)


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# --- comparison.md ---------------------------------------------------------------------------


def _kpi_table(report: str) -> list[dict[str, str]]:
    return next(rows for title, rows in tables(report).items() if title.startswith("Every KPI"))


def test_comparison_md_holds_the_figures_of_comparison_csv(compared: tuple[Path, str]) -> None:
    out, _ = compared
    report = (out / COMPARISON_REPORT).read_text(encoding="utf-8")
    csv = pd.read_csv(out / COMPARISON_CSV)
    letters = {"1:mong_cai_phase1": "A", "2:mong_cai_phase2": "B", "3:mong_cai_phase2+layout.entry_lanes=3": "C"}
    rows = {row["KPI"].strip("`"): row for row in _kpi_table(report)}
    assert list(rows) == list(dict.fromkeys(csv["kpi"]))  # every KPI, in the CSV's order
    stars = verdicts = 0
    for kpi, group in csv.groupby("kpi", sort=False):
        row = rows[str(kpi)]
        assert row["unit"] == ("" if pd.isna(group["unit"].iloc[0]) else group["unit"].iloc[0])
        differ = not all_equal(group["mean"])
        for record in group.to_dict("records"):
            letter = letters[record["run"]]
            best = differ and record["direction"] != "neutral" and record["best"] == record["run"]
            assert row[letter] == with_ci(row_interval(record)) + (" *" if best else ""), (kpi, letter)
            stars += best
            if record["verdict"] == "baseline":
                continue
            verdict = f" {record['verdict']}" if record["verdict"] in ("better", "worse", "no interval") else ""
            assert row[f"{letter} - A"] == with_ci(difference_interval(record)) + verdict, (kpi, letter)
            verdicts += bool(verdict)
    assert stars > 5 and verdicts > 0  # the figures differ enough for the marks to be tried


def test_comparison_md_names_the_runs_with_their_hashes_seeds_and_reports(compared: tuple[Path, str]) -> None:
    out, _ = compared
    report = (out / COMPARISON_REPORT).read_text(encoding="utf-8")
    assert report.startswith("# Comparison with 1:mong_cai_phase1\n")
    assert "Finished: 3 runs of 2 replications each" in report
    runs = tables(report)["The runs"]
    assert [row["run"] for row in runs] == ["A (baseline)", "B", "C"]
    assert [row["label"] for row in runs] == ["1:mong_cai_phase1", "2:mong_cai_phase2",
                                             "3:mong_cai_phase2+layout.entry_lanes=3"]
    folders = sorted(path.name for path in out.iterdir() if path.is_dir())
    for row, folder in zip(runs, folders, strict=True):
        summary = json.loads((out / folder / "summary.json").read_text(encoding="utf-8"))
        assert row["scenario"] == summary["scenario_name"]
        assert row["scenario hash"] == f"`{summary['scenario_hash']}`"
        assert (row["seed"], row["hours"], row["replications"]) == (str(summary["manifest"]["seed"]), "10", "2 of 2")
        assert row["report"] == f"[{folder}/{REPORT_FILE}]({folder}/{REPORT_FILE})"
    assert "Differences are paired by replication" in report
    targets = assert_links_exist(report, out)
    assert set(targets) == {COMPARISON_PLOT, *(f"{folder}/{REPORT_FILE}" for folder in folders)}
    files = re.findall(r"^- `([^`]+)`: ", section(report, "Files in this folder"), re.MULTILINE)
    assert files == [COMPARISON_CSV, COMPARISON_PLOT, *(f"{folder}/" for folder in folders)]


def test_comparison_md_warns_as_the_console_does(compared: tuple[Path, str], tmp_path: Path) -> None:
    out, console = compared
    report = (out / COMPARISON_REPORT).read_text(encoding="utf-8")
    few = "rest on 2 replications, too few to plan on"
    assert f"Warning: The 95 % intervals of 1:mong_cai_phase1, 2:mong_cai_phase2," in console and few in console
    warnings = re.findall(r"^- (.*)$", section(report, "Warnings"), re.MULTILINE)
    assert len(warnings) == 1 and few in warnings[0]
    three = tmp_path / "three"
    console = _invoke([*COMPARE[:3], "--reps", "3", "--hours", "2", "--quiet", "--jobs", "1"], three)
    assert "Warning" not in console
    report = (three / COMPARISON_REPORT).read_text(encoding="utf-8")
    assert "## Warnings" not in report and "Warning" not in report and "too few" not in report


def test_the_same_comparison_gives_the_same_report_and_a_rerun_replaces_it(compared: tuple[Path, str],
                                                                           tmp_path: Path) -> None:
    out, _ = compared
    again = tmp_path / "again"
    _invoke(COMPARE, again)
    assert (again / COMPARISON_REPORT).read_bytes() == (out / COMPARISON_REPORT).read_bytes()
    assert str(tmp_path) not in (again / COMPARISON_REPORT).read_text(encoding="utf-8")
    _invoke(["compare", "mong_cai_phase2", "mong_cai_phase1", "--reps", "2", "--hours", "1", "--quiet", "--jobs", "1"],
            again)
    report = (again / COMPARISON_REPORT).read_text(encoding="utf-8")
    assert report.startswith("# Comparison with 1:mong_cai_phase2\n")
    assert [row["label"] for row in tables(report)["The runs"]] == ["1:mong_cai_phase2", "2:mong_cai_phase1"]
    assert "entry_lanes" not in report
    assert_links_exist(report, again)


def _failing_run_cells(monkeypatch: pytest.MonkeyPatch, which: int, keep: int) -> None:
    """Make run ``which`` of the command fail in replication ``keep`` (those before it finish)."""
    original = cli.run_cells

    def run_cells(*args: Any, **kwargs: Any) -> list[tuple[list[Any], str | None]]:
        outcomes = original(*args, **kwargs)
        finished, _ = outcomes[which]
        outcomes[which] = (finished[:keep], f"replication {keep} failed: RuntimeError: scanner | crashed\n"
                                            "Traceback (most recent call last): ...")
        return outcomes

    monkeypatch.setattr(cli, "run_cells", run_cells)


def test_a_comparison_whose_run_failed_says_which_and_why_and_replaces_the_last_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "cmp"
    args = ["compare", "mong_cai_phase1", "mong_cai_phase2", "--reps", "2", "--hours", "2", "--quiet", "--jobs", "1"]
    _invoke(args, out)
    assert (out / COMPARISON_CSV).is_file() and "## Every KPI" in (out / COMPARISON_REPORT).read_text(encoding="utf-8")
    _failing_run_cells(monkeypatch, which=1, keep=1)
    console = _invoke(args, out, code=1)
    assert "gatetwin: mong_cai_phase2: replication 1 failed: RuntimeError: scanner | crashed" in console
    assert f"report written to {out / COMPARISON_REPORT}" in console
    report = (out / COMPARISON_REPORT).read_text(encoding="utf-8")
    assert "**The comparison did not finish:** 1 of 2 runs failed, so the runs were not compared." in report
    assert ("- B (2:mong_cai_phase2) failed (1 of 2 replications finished): replication 1 failed: RuntimeError: "
            "scanner | crashed") in report
    assert "Traceback" not in report
    runs = tables(report)["The runs"]
    assert [row["replications"] for row in runs] == ["2 of 2", "1 of 2, failed"]
    assert "## Every KPI" not in report and "## Chart" not in report and "## Warnings" not in report
    assert not (out / COMPARISON_CSV).exists() and not (out / COMPARISON_PLOT).exists()  # the earlier ones are gone
    targets = assert_links_exist(report, out)
    assert targets == [f"1-mong_cai_phase1/{REPORT_FILE}", f"2-mong_cai_phase2/{REPORT_FILE}"]
    assert "**The run failed** (1 of 2 replications finished)" in (out / targets[1]).read_text(encoding="utf-8")


# --- sweep.md --------------------------------------------------------------------------------


def test_sweep_md_holds_the_figures_of_sweep_csv_and_its_grid(swept: tuple[Path, str]) -> None:
    out, _ = swept
    report = (out / SWEEP_REPORT).read_text(encoding="utf-8")
    assert report.startswith("# Sweep of mong_cai_phase2\n")
    found = tables(report)
    assert found["What was varied"] == [
        {"field": "entry_lanes", "key": "`layout.entry_lanes`", "values": "1, 2"},
        {"field": "exit_lanes", "key": "`layout.exit_lanes`", "values": "1, 2"}]
    csv = pd.read_csv(out / SWEEP_CSV, dtype={"entry_lanes": str, "exit_lanes": str})
    rows = next(rows for title, rows in found.items() if title.startswith("The KPIs"))
    assert [row["cell"] for row in rows] == ["1", "2", "3", "4"]
    columns = {"trucks_departed": "trucks_departed ↑ (trucks)", "time_at_gate_p95": "time_at_gate_p95 ↓ (min)"}
    assert list(rows[0]) == ["cell", "entry_lanes", "exit_lanes", *columns.values()]  # not the KPI runs lack
    marks = 0
    for kpi, column in columns.items():
        of_kpi = csv[csv["kpi"] == kpi]
        differ = not all_equal(of_kpi["mean"])
        for record, row in zip(of_kpi.sort_values("cell").to_dict("records"), rows, strict=True):
            assert (row["entry_lanes"], row["exit_lanes"]) == (record["entry_lanes"], record["exit_lanes"])
            text = with_ci(row_interval(record))
            if record["verdict"] in ("better", "worse"):
                text += f" {record['verdict']}"
            if differ and int(record["best"]) == int(record["cell"]):
                text += " *"
            assert row[column] == text, (kpi, record["cell"])
            marks += text.endswith(("*", "better", "worse"))
    assert marks >= 2
    cells = found["The cells"]
    folders = sorted(path.name for path in out.iterdir() if path.is_dir())
    assert [row["report"] for row in cells] == [f"[{f}/{REPORT_FILE}]({f}/{REPORT_FILE})" for f in folders]
    assert set(assert_links_exist(report, out)) == {SWEEP_PLOT, *(f"{f}/{REPORT_FILE}" for f in folders)}
    assert "each for 10 simulated hours with seed" in report


def test_sweep_md_warns_as_the_console_does(swept: tuple[Path, str]) -> None:
    out, console = swept
    report = (out / SWEEP_REPORT).read_text(encoding="utf-8")
    assert "Not reported by these runs: agv_trucks_per_day." in console
    assert "\nNot reported by these runs: agv_trucks_per_day.\n" in report
    assert "too few to plan on" in console
    warnings = re.findall(r"^- (.*)$", section(report, "Warnings"), re.MULTILINE)
    assert len(warnings) == 1 and "rest on 2 replications, too few to plan on" in warnings[0]


def test_a_sweep_whose_cell_failed_says_which_and_why(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "sweep"
    _failing_run_cells(monkeypatch, which=2, keep=0)
    args = ["sweep", "mong_cai_phase2", "--vary", "layout.entry_lanes=[1, 2, 3]", "--reps", "2", "--hours", "1",
            "--quiet", "--jobs", "1", "--set", "layout.exit_lanes=2"]
    console = _invoke(args, out, code=1)
    assert "gatetwin sweep: cell 3 (entry_lanes=3): replication 0 failed" in console
    report = (out / SWEEP_REPORT).read_text(encoding="utf-8")
    assert "**The sweep did not finish:** 1 of 3 runs failed, so the cells were not compared." in report
    assert ("- cell 3 (entry_lanes=3) failed (0 of 2 replications finished): replication 0 failed: RuntimeError: "
            "scanner | crashed") in report
    assert [row["replications"] for row in tables(report)["The cells"]] == ["2 of 2", "2 of 2", "0 of 2, failed"]
    assert "Changed in every cell: `layout.exit_lanes=2`." in report
    assert "## The KPIs" not in report and not (out / SWEEP_CSV).exists()
    assert len(assert_links_exist(report, out)) == 3


# --- recovery.md -----------------------------------------------------------------------------


def test_recovery_md_holds_the_figures_of_recovery_csv(recovered: tuple[Path, str]) -> None:
    out, console = recovered
    report = (out / RECOVERY_REPORT).read_text(encoding="utf-8")
    assert report.startswith("# Recovery: scanner_outage\n")
    found = tables(report)
    assert found["The disruptions"] == [{"disruption": "scanner-1 down for 4 h from hour 9", "from (hour)": "9",
                                         "to (hour)": "13"}]
    csv = pd.read_csv(out / RECOVERY_CSV)
    rows = next(rows for title, rows in found.items() if title.startswith("The recovery"))
    assert [row["figure"] for row in rows] == [label for label, _, _ in LABELS.values()]
    for name, row in zip(LABELS, rows, strict=True):
        interval = figure_interval(csv, name)
        mean = NOT_YET.get(name, "—") if math.isnan(interval.mean) else figure(interval.mean)
        assert (row["mean"], row["95 % CI"], row["unit"]) == (mean, interval_text(interval, figure), LABELS[name][1])
        shown = " ".join(f"│ {' │ '.join(row.values())} │".split())
        assert shown in console  # the console's row, as Rich draws it
    assert rows[3]["mean"] == "not caught up"
    runs = found["The two runs"]
    assert [(row["run"], row["scenario"]) for row in runs] == [
        ("the run without the disruptions", "scanner_outage-undisrupted"), ("the run as given", "scanner_outage")]
    assert set(assert_links_exist(report, out)) == {
        RECOVERY_PLOT, f"1-scanner_outage-undisrupted/{REPORT_FILE}", f"2-scanner_outage/{REPORT_FILE}"}


def test_recovery_md_says_what_the_console_says_of_catching_up_and_normal_waits(recovered: tuple[Path, str]) -> None:
    out, console = recovered
    report = (out / RECOVERY_REPORT).read_text(encoding="utf-8")
    notes = re.findall(r"^- (.*)$", section(report, "The recovery"), re.MULTILINE)
    assert notes == ["None of the 2 replication(s) had caught up by the end of the run (hour 16); give --hours to see "
                     "further.", NORMAL_NOTE]
    for note in notes:
        assert " ".join(note.split()) in console
    assert "**Warning:** The 95 % intervals rest on 2 replications, too few to plan on" in report
    assert "Warning: The 95 % intervals rest on 2 replications, too few to plan on" in console


def test_the_same_recovery_gives_the_same_report(recovered: tuple[Path, str], tmp_path: Path) -> None:
    out, _ = recovered
    _invoke(RECOVERY, tmp_path / "again")
    assert (tmp_path / "again" / RECOVERY_REPORT).read_bytes() == (out / RECOVERY_REPORT).read_bytes()


def test_a_recovery_whose_runs_broke_an_invariant_says_so_and_leaves_no_earlier_figures(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import twin.run as run_module

    out = tmp_path / "recovery"
    out.mkdir()
    for stale in (RECOVERY_CSV, RECOVERY_PLOT, RECOVERY_REPORT):  # what an earlier recovery left
        (out / stale).write_text("earlier")
    original = run_module.core_invariants

    def lose_a_departure(world):  # type: ignore[no-untyped-def]
        world.core.stats["departed"] += 1
        return original(world)

    monkeypatch.setattr(run_module, "core_invariants", lose_a_departure)
    _invoke(["recovery", "scanner_outage", "--reps", "1", "--hours", "10", "--quiet", "--jobs", "1"], out, code=1)
    assert not (out / RECOVERY_CSV).exists() and not (out / RECOVERY_PLOT).exists()
    report = (out / RECOVERY_REPORT).read_text(encoding="utf-8")
    assert "**The recovery did not finish:** 2 of 2 runs failed, so no recovery was measured." in report
    assert ("- the run as given failed (1 of 1 replications finished): invariants violated: replication 0: core and "
            "twin agree on departures") in report
    assert tables(report)["The disruptions"][0]["disruption"] == "scanner-1 down for 4 h from hour 9"
    assert "## The recovery" not in report and "## Chart" not in report
    assert len(assert_links_exist(report, out)) == 2
