"""comparison.md and recovery.md on runs made by hand: each warning of the table appears as the
console prints it, the chart's left-out KPIs are named, names with pipes keep the tables whole,
and the recovery's notes follow what the replications did."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from tests.unit.twin_results.markdown import assert_links_exist, section, tables
from twin.compare import (
    COMPARISON_PLOT,
    chart_left_out,
    compare_runs,
    comparison_plot,
    format_table,
)
from twin.plots import save_figure
from twin.probes import TruckLog
from twin.recovery import NORMAL_NOTE, Disruption, Recovery, RecoveryReport
from twin.command_reports import comparison_report, recovery_markdown, run_entry, write_comparison_report
from twin.results import REPORT_FILE, ReplicationResult, RunResult, make_manifest, summarize_run

HOUR = 3600.0


def _run(name: str, seeds: list[int], kpis: dict[str, list[float]]) -> RunResult:
    """A run whose replications carry only the given KPI values (replication i of the seeds given)."""
    reps = [ReplicationResult(seed=seed, trucks=TruckLog().to_frame(), stations={}, series={},
                              kpis={kpi: values[i] for kpi, values in kpis.items()})
            for i, seed in enumerate(seeds)]
    manifest = make_manifest(name, f"hash-{name}", seeds[0], len(seeds), {"horizon_h": 24.0})
    return RunResult(name, f"hash-{name}", reps, manifest, summarize_run(reps))


def _folders(out: Path, names: list[str]) -> list[str]:
    """A results folder with a report for each run, as the command writes them."""
    for name in names:
        (out / name).mkdir(parents=True)
        (out / name / REPORT_FILE).write_text("# Run report\n", encoding="utf-8")
    return names


def test_every_warning_of_the_comparison_is_in_its_report_as_the_console_prints_it(tmp_path: Path) -> None:
    # b has one replication fewer than a: compared on the two they share (a's means too), which are too few.
    baseline = _run("a", [1, 1, 1], {"officers_fee_collector_mean_wait": [0.0003, 0.0002, 0.0004],
                                     "time_at_gate_mean": [30.0, 31.0, 29.0]})
    variant = _run("b", [1, 1], {"officers_fee_collector_mean_wait": [0.005, 0.006],
                                 "time_at_gate_mean": [24.0, 25.0]})
    labels = ["a", "b"]
    table = compare_runs([baseline, variant], labels)
    warnings = table.attrs["warnings"]
    assert [w.split(" ")[:3] for w in warnings] == [["Not", "every", "run"], ["The", "95", "%"]]
    console = " ".join(format_table(table).split())
    entries = [run_entry(label, run, folder) for label, run, folder in
               zip(labels, [baseline, variant], _folders(tmp_path, ["1-a", "2-b"]), strict=True)]
    report = comparison_report(entries, table, tmp_path)
    listed = [line.removeprefix("- ") for line in section(report, "Warnings").splitlines() if line.startswith("- ")]
    assert listed == warnings
    for warning in listed:
        assert f"Warning: {' '.join(warning.split())}" in console
    # The chart is not there yet: nothing is said of it.
    assert "## Chart" not in report and "Not drawn" not in report
    save_figure(comparison_plot(table), tmp_path / COMPARISON_PLOT)
    report = write_comparison_report(entries, table, tmp_path).read_text(encoding="utf-8")
    left_out = chart_left_out(table)
    assert left_out == ("Not drawn, the baseline too near zero for a change in percent to mean anything: "
                        "officers_fee_collector_mean_wait (A 0.00025, B 0.0055 min).")
    assert f"\n{left_out}\n" in section(report, "Chart")
    assert " ".join(left_out.split()) in " ".join(comparison_plot(table).get_supxlabel().split())
    assert set(assert_links_exist(report, tmp_path)) == {COMPARISON_PLOT, f"1-a/{REPORT_FILE}", f"2-b/{REPORT_FILE}"}
    runs = tables(report)["The runs"]
    assert [row["replications"] for row in runs] == ["3 of 3", "2 of 2"]


def test_runs_named_with_pipes_and_brackets_keep_the_report_s_tables_whole(tmp_path: Path) -> None:
    seeds = [1, 2, 3]
    runs = [_run("x|y", seeds, {"time_at_gate_mean": [30.0, 31.0, 29.0]}),
            _run("z", seeds, {"time_at_gate_mean": [20.0, 21.0, 19.0]})]
    labels = ["1:x|y", "2:z [b|c]"]
    table = compare_runs(runs, labels)
    folders = _folders(tmp_path, ["1-x y", "2-z"])
    report = comparison_report([run_entry(label, run, folder) for label, run, folder in
                                zip(labels, runs, folders, strict=True)], table, tmp_path)
    assert report.startswith("# Comparison with 1:x|y\n")
    found = tables(report)  # every row has as many cells as its header
    assert [(row["label"], row["scenario"]) for row in found["The runs"]] == [("1:x|y", "x|y"), ("2:z [b|c]", "z")]
    assert "| 1:x\\|y | x\\|y |" in report
    assert found["The runs"][0]["report"] == f"[1-x y/{REPORT_FILE}](1-x%20y/{REPORT_FILE})"
    assert assert_links_exist(report, tmp_path) == [f"1-x y/{REPORT_FILE}", f"2-z/{REPORT_FILE}"]
    row = next(rows for title, rows in found.items() if title.startswith("Every KPI"))[0]
    assert (row["A"], row["B"], row["B - A"]) == ("30 ± 2.48", "20 ± 2.48 *", "-10 (same in every replication) better")
    assert not (tmp_path / "comparison.md").exists()  # comparison_report writes nothing


def _recovery(caught: list[float], normal: list[float], horizon_h: float, end_h: float = 13.0) -> RecoveryReport:
    recoveries = tuple(Recovery(20.0 + i, 30.0 + i, 11.0, c, 100.0, 5.0, 40.0, w)
                       for i, (c, w) in enumerate(zip(caught, normal, strict=True)))
    curves = tuple((np.array([0.0]), np.array([0.0])) for _ in caught)
    return RecoveryReport("outage", (Disruption("scanner-1 down for 4 h from hour 9", 9 * HOUR, end_h * HOUR),),
                          horizon_h * HOUR, tuple((7, i) for i in range(len(caught))), recoveries, curves)


def test_the_recovery_report_says_how_many_replications_caught_up_and_were_back_to_normal(tmp_path: Path) -> None:
    report = recovery_markdown("outage", _recovery([2.0, math.nan, 3.0], [1.0, 2.0, 0.0], 24.0).disruptions, [],
                               _recovery([2.0, math.nan, 3.0], [1.0, 2.0, 0.0], 24.0), tmp_path)
    notes = [line.removeprefix("- ") for line in section(report, "The recovery").splitlines() if line.startswith("- ")]
    assert notes == ["1 of 3 replications had not caught up by the end of the run (hour 24): the caught-up time is "
                     "the mean over the 2 that had; give --hours to see further.", NORMAL_NOTE]
    figures = {row["figure"]: row for row in next(rows for title, rows in tables(report).items()
                                                  if title.startswith("The recovery"))}
    assert figures["caught up, after the end of the disruptions"]["mean"] == "2.5"
    assert "**Warning:**" not in report and "One replication" not in report  # three replications
    assert "## Chart" not in report  # none in the folder


def test_the_recovery_report_of_one_replication_ending_before_the_disruptions_do_says_so(tmp_path: Path) -> None:
    short = _recovery([math.nan], [math.nan], 12.0)
    report = recovery_markdown("outage", short.disruptions, [], short, tmp_path)
    notes = [line.removeprefix("- ") for line in section(report, "The recovery").splitlines() if line.startswith("- ")]
    assert notes == ["The run ends (hour 12) before the disruptions do (hour 13): nothing to say of the time after "
                     "them; give --hours."]
    assert NORMAL_NOTE not in report
    assert "One replication: no 95 % intervals. Three or more give intervals to plan on." in report
    figures = {row["figure"]: row["mean"] for row in next(rows for title, rows in tables(report).items()
                                                          if title.startswith("The recovery"))}
    assert figures["caught up, after the end of the disruptions"] == "—"  # not "not caught up": nothing to say


@pytest.mark.parametrize("caught", [[math.nan, math.nan], [1.0, 2.0]])
def test_a_recovery_where_none_or_all_caught_up_says_so_only_when_none_did(caught: list[float], tmp_path: Path) -> None:
    both = _recovery(caught, [0.0, 0.0], 24.0)
    report = recovery_markdown("outage", both.disruptions, [], both, tmp_path)
    said = "None of the 2 replication(s) had caught up by the end of the run (hour 24)"
    assert (said in report) == math.isnan(caught[0])
    assert "**Warning:** The 95 % intervals rest on 2 replications, too few to plan on" in report
