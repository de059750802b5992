"""The reports of ``gatetwin compare``, ``sweep`` and ``recovery`` in their ``--out`` folders.

``comparison.md``, ``sweep.md`` and ``recovery.md`` each say what the command ran (the runs,
linked to their own ``report.md``), the console's table and warnings (built once, as ``Grid``
rows or lines, for the console and the report alike), the chart and the files. A command stopped
by a failed run still writes its report, saying which run failed and why. Like ``report.md``
(``twin.report``, whose Markdown helpers these use), a report holds no wall-clock time: the same
runs give the same report, byte for byte.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pandas as pd

from twin.compare import (
    COMPARISON_CAPTION,
    COMPARISON_CSV,
    COMPARISON_PLOT,
    COMPARISON_REPORT,
    Grid,
    chart_left_out,
    comparison_grid,
    describe_pairing,
    few_replications_warning,
    interval_text,
    run_letters,
)
from twin.plots import save_figure
from twin.recovery import (
    HOUR,
    LABELS,
    NORMAL_NOTE,
    NOT_YET,
    RECOVERY_CSV,
    RECOVERY_PLOT,
    RECOVERY_REPORT,
    Disruption,
    RecoveryReport,
)
from twin.report import NO_FIGURE, KpiLine, figure, hours_text, markdown_table
from twin.results import REPORT_FILE, RunResult, kpi_notes
from twin.sweep import (
    SWEEP_CSV,
    SWEEP_PLOT,
    SWEEP_REPORT,
    TARGETS_MAP_CAPTION,
    TARGETS_PLOT,
    Cell,
    TargetOutcome,
    Vary,
    field_labels,
    sweep_grid,
    sweep_plot,
    targets_grid,
    targets_map,
    targets_verdict,
    unreported_kpis,
    with_targets,
)


# --- comparison.md, sweep.md, recovery.md ---------------------------------------------------
# The reports of ``gatetwin compare --out``, ``sweep --out`` and ``recovery --out``: the same
# tables and warnings as the console (built once, in twin.compare, twin.sweep and below), what
# was run, the chart, a link to each run's own report, and the files. Written even when a run
# failed, saying which and why, with what the command measured before it stopped.


@dataclass(frozen=True, slots=True)
class RunEntry:
    """A run of a comparison, a sweep or a recovery, as its report lists it."""

    #: What the command calls the run: a comparison's label, a sweep cell's values, ...
    label: str
    scenario_name: str
    scenario_hash: str
    seed: int
    hours: float
    finished: int
    asked: int
    #: Its results folder, in the folder of the report.
    folder: str
    #: How it failed, as the console said it ("" when it finished every replication).
    failed: str = ""


def run_entry(label: str, run: RunResult, folder: str) -> RunEntry:
    """The entry of a run that finished."""
    extra = run.manifest.get("extra", {}) if isinstance(run.manifest.get("extra"), Mapping) else {}
    hours = extra.get("horizon_h")
    return RunEntry(label, run.scenario_name, run.scenario_hash, int(run.manifest.get("seed", 0)),
                    float(hours) if isinstance(hours, (int, float)) else math.nan, len(run.replications),
                    int(run.manifest.get("replications", len(run.replications))), folder, run.failed or "")


def failure_text(failed: str) -> str:
    """How a run failed, on one line: the error's first line; every broken invariant, for a run that broke any."""
    lines = [line.strip() for line in failed.strip().splitlines() if line.strip()]
    if not lines:
        return "no reason recorded"
    if lines[0] == "invariants violated:":
        return "invariants violated: " + "; ".join(lines[1:])
    return lines[0]


def _link(text: str, target: str) -> str:
    """A Markdown link to a relative path, its text escaped and its target quoted."""
    shown = text.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")
    return f"[{shown}]({quote(target)})"


def _report_link(entry: RunEntry, out_dir: Path) -> str:
    target = f"{entry.folder}/{REPORT_FILE}"
    return _link(target, target) if (out_dir / target).is_file() else "(not written)"


def _replications(entry: RunEntry) -> str:
    return f"{entry.finished} of {entry.asked}" + (", failed" if entry.failed else "")


def _failures(what: str, entries: Sequence[RunEntry], names: Sequence[str], stopped: str) -> list[str]:
    """The opening lines of a report whose command stopped because runs failed: which and why."""
    failed = [(name, entry) for name, entry in zip(names, entries, strict=True) if entry.failed]
    lines = [f"**The {what} did not finish:** {len(failed)} of {len(entries)} runs failed, so {stopped}. What each "
             "run finished is in its folder, and its report says how it went:", ""]
    lines += [f"- {name} failed ({entry.finished} of {entry.asked} replications finished): "
              f"{failure_text(entry.failed)}" for name, entry in failed]
    return lines


def _how_it_went(what: str, entries: Sequence[RunEntry], names: Sequence[str], stopped: str,
                 finished: Callable[[str], str]) -> list[str]:
    """A report's opening: which runs failed and why, or ``finished`` of the replications each run
    was asked for ("3", or "2 or 3")."""
    if any(entry.failed for entry in entries):
        return [*_failures(what, entries, names, stopped), ""]
    return [finished(" or ".join(map(str, sorted({entry.asked for entry in entries})))), ""]


def _few(name: str, n: int) -> list[str]:
    few = few_replications_warning({name: n})
    if few:
        return [f"**Warning:** {few}"]
    if n == 1:
        return ["One replication: no 95 % intervals. Three or more give intervals to plan on."]
    return []


def _grid_markdown(grid: Grid, first_is_kpi: bool = False) -> list[str]:
    """A table of the console (``Grid``) in Markdown; KPI names in the first column as code."""
    rows = [(f"`{row[0]}`", *row[1:]) if first_is_kpi else row for row in grid.rows]
    return markdown_table(grid.header, rows, grid.right)


def _chart(name: str, caption: str, out_dir: Path) -> list[str]:
    if not (out_dir / name).is_file():
        return []
    return ["## Chart", "", f"![{caption}]({quote(name)})", "", f"*{caption}.*", ""]


def _files_of(out_dir: Path, notes: Mapping[str, str], entries: Sequence[RunEntry], names: Sequence[str]) -> list[str]:
    """The command's files in ``out_dir`` that exist, each with what it holds, then its runs' folders."""
    lines = ["## Files in this folder", ""]
    lines += [f"- `{name}`: {note}" for name, note in notes.items() if (out_dir / name).is_file()]
    lines += [f"- `{entry.folder}/`: the results folder of {name}, with its own `{REPORT_FILE}`"
              for name, entry in zip(names, entries, strict=True) if (out_dir / entry.folder).is_dir()]
    return lines


def _write(out_dir: Path, name: str, text: str) -> Path:
    path = Path(out_dir) / name
    path.write_text(text.rstrip() + "\n", encoding="utf-8")
    return path


# --- comparison.md --------------------------------------------------------------------------

COMPARISON_FILES: dict[str, str] = {
    COMPARISON_CSV: "a row per KPI and run: its mean, 95 % interval (half width and bounds) and replications, the "
                    "difference from the baseline with its half width, the pairing, the verdict and the best run",
    COMPARISON_PLOT: "the chart above",
}
COMPARISON_CHART_CAPTION = ("The difference of each run from the baseline on each KPI where more or less is better, in "
                            "percent of the baseline's mean, with its 95 % interval: green better, red worse, grey no "
                            "clear difference")


def comparison_report(entries: Sequence[RunEntry], table: pd.DataFrame | None, out_dir: Path) -> str:
    """``comparison.md`` of the runs ``entries`` (the baseline first), compared in ``table``
    (``compare_runs``; None when a run failed and nothing was compared), for the folder ``out_dir``."""
    out_dir = Path(out_dir)
    letters = run_letters([entry.label for entry in entries])
    names = [f"{letters[entry.label]} ({entry.label})" for entry in entries]
    baseline = entries[0].label if entries else "-"
    lines = [f"# Comparison with {baseline}", ""]
    lines += _how_it_went("comparison", entries, names, "the runs were not compared",
                          lambda asked: f"Finished: {len(entries)} runs of {asked} replications each, compared KPI by "
                                        f"KPI with {letters.get(baseline, 'A')}, the baseline.")
    lines += ["## The runs", ""]
    rows = [(letters[e.label] + (" (baseline)" if i == 0 else ""), e.label, e.scenario_name, f"`{e.scenario_hash}`",
             str(e.seed), hours_text(e.hours), _replications(e), _report_link(e, out_dir)) for i, e in enumerate(entries)]
    lines += markdown_table(("run", "label", "scenario", "scenario hash", "seed", "hours", "replications", "report"),
                            rows, (False, False, False, False, True, True, True, False))
    lines.append("")
    if table is not None:
        lines += [describe_pairing(table), ""]
        warnings = list(table.attrs.get("warnings", []))
        if warnings:
            lines += ["## Warnings", "", *(f"- {warning}" for warning in warnings), ""]
        grid = comparison_grid(table, letters)
        lines += [f"## Every KPI: each run's mean and 95 % interval, and its difference from {letters[baseline]}", ""]
        lines += [*_grid_markdown(grid, first_is_kpi=True), "", COMPARISON_CAPTION, ""]
        notes = kpi_notes(table["kpi"])
        if notes:
            lines += [*(f"- {note}" for note in notes), ""]
        chart = _chart(COMPARISON_PLOT, COMPARISON_CHART_CAPTION, out_dir)
        if chart:
            lines += chart
            left_out = chart_left_out(table, letters)
            if left_out:
                lines += [left_out, ""]
    lines += _files_of(out_dir, COMPARISON_FILES, entries, names)
    return "\n".join(lines)


def write_comparison_report(entries: Sequence[RunEntry], table: pd.DataFrame | None, out_dir: Path) -> Path:
    """Write ``comparison.md`` into ``out_dir`` (after the table and chart: it shows the chart and
    lists the files); return its path."""
    return _write(out_dir, COMPARISON_REPORT, comparison_report(entries, table, out_dir))


# --- sweep.md -------------------------------------------------------------------------------

SWEEP_FILES: dict[str, str] = {
    SWEEP_CSV: "a row per cell and KPI, every KPI: the value of each varied field, the mean, its 95 % interval "
               "(half width and bounds) and replications, the difference from cell 1 with its half width, the "
               "verdict and the best cell",
    SWEEP_PLOT: "the chart above",
    TARGETS_PLOT: "the map of the cells' verdicts on the service targets, above",
}


def sweep_report(scenario_name: str, varies: Sequence[Vary], cells: Sequence[Cell], entries: Sequence[RunEntry],
                 table: pd.DataFrame | None, kpis: Sequence[str], settings: Sequence[str], out_dir: Path,
                 targets: TargetOutcome | None = None) -> str:
    """``sweep.md`` of the sweep of ``scenario_name`` over ``varies`` (its ``cells``, run as
    ``entries``), with the KPIs ``kpis`` shown from ``table`` (``sweep_table``; None when a cell
    failed and nothing was compared), ``settings`` the changes made to every cell."""
    out_dir = Path(out_dir)
    names = [f"cell {cell.index + 1} ({cell.label})" for cell in cells]
    lines = [f"# Sweep of {scenario_name}", ""]
    lines += _how_it_went("sweep", entries, names, "the cells were not compared",
                          lambda asked: f"Finished: {len(cells)} cell(s) of {asked} replications each, compared with "
                                        "cell 1.")
    lines += ["## What was varied", ""]
    lines += markdown_table(("field", "key", "values"),
                            ((name, f"`{vary.key}`", ", ".join(vary.texts))
                             for name, vary in zip(field_labels(varies), varies, strict=True)), (False, False, False))
    first = entries[0] if entries else None
    run = (f", each for {hours_text(first.hours)} simulated hours with seed {first.seed}: replication r of every cell "
           "sees the same trucks (common random numbers)") if first is not None else ""
    lines += ["", f"Every combination of the values is a cell, the first field varying slowest: {len(cells)} cell(s)"
                  f"{run}. Cell 1, the first value of each field, is the one every other is compared with.", ""]
    if settings:
        lines += ["Changed in every cell: " + ", ".join(f"`{setting}`" for setting in settings) + ".", ""]
    lines += ["## The cells", ""]
    fields = field_labels(varies)
    rows = [(str(cell.index + 1), *(text for _, text in cell.values), e.scenario_name, f"`{e.scenario_hash}`",
             _replications(e), _report_link(e, out_dir)) for cell, e in zip(cells, entries, strict=True)]
    lines += markdown_table(("cell", *fields, "scenario", "scenario hash", "replications", "report"), rows,
                            (True, *(False for _ in fields), False, False, True, False))
    lines.append("")
    if table is not None:
        warnings = list(table.attrs.get("warnings", []))
        if warnings:
            lines += ["## Warnings", "", *(f"- {warning}" for warning in warnings), ""]
        grid = sweep_grid(table, kpis)
        lines += ["## The KPIs: each cell's mean and 95 % interval", "", *_grid_markdown(grid), "", grid.caption, ""]
        missing = unreported_kpis(table, kpis)
        if missing:
            lines += [missing, ""]
        lines += [f"`{SWEEP_CSV}` holds every KPI of every cell.", ""]
        if targets is not None:
            grid = targets_grid(targets, cells)
            lines += ["## Service targets", "", targets_verdict(targets, cells), "", *_grid_markdown(grid), "",
                      grid.caption, ""]
            if (out_dir / TARGETS_PLOT).is_file():
                lines += [f"![{TARGETS_MAP_CAPTION}]({quote(TARGETS_PLOT)})", "", f"*{TARGETS_MAP_CAPTION}.*", ""]
        lines += _chart(SWEEP_PLOT, SWEEP_CHART_CAPTION, out_dir)
    lines += _files_of(out_dir, SWEEP_FILES, entries, names)
    return "\n".join(lines)


SWEEP_CHART_CAPTION = ("Each KPI's mean and 95 % interval in each cell against the first varied field, a line for "
                       "each combination of the others")


def write_sweep_report(scenario_name: str, varies: Sequence[Vary], cells: Sequence[Cell], entries: Sequence[RunEntry],
                       table: pd.DataFrame | None, kpis: Sequence[str], settings: Sequence[str], out_dir: Path,
                       targets: TargetOutcome | None = None) -> Path:
    """Write ``sweep.md`` into ``out_dir`` (after the table and chart); return its path."""
    return _write(out_dir, SWEEP_REPORT, sweep_report(scenario_name, varies, cells, entries, table, kpis, settings,
                                                      out_dir, targets))


def write_sweep(scenario_name: str, varies: Sequence[Vary], cells: Sequence[Cell], entries: Sequence[RunEntry],
                table: pd.DataFrame, kpis: Sequence[str], settings: Sequence[str], out_dir: Path,
                targets: TargetOutcome | None = None) -> Path:
    """Write a sweep's files into ``out_dir`` (beside its cells' folders): ``sweep.csv`` (with
    the targets' verdicts, when there are targets), ``sweep.png`` and ``sweep.md``; return the
    report's path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (with_targets(table, targets) if targets is not None else table).to_csv(out_dir / SWEEP_CSV, index=False)
    save_figure(sweep_plot(table, kpis), out_dir / SWEEP_PLOT)
    if targets is not None:
        save_figure(targets_map(targets, varies, cells), out_dir / TARGETS_PLOT)
    else:
        (out_dir / TARGETS_PLOT).unlink(missing_ok=True)
    return write_sweep_report(scenario_name, varies, cells, entries, table, kpis, settings, out_dir, targets)


# --- recovery.md ----------------------------------------------------------------------------


def recovery_lines(report: RecoveryReport) -> list[KpiLine]:
    """Each figure of the recovery (``LABELS``) as the console and ``recovery.md`` show it, named
    by its label: its mean and 95 % interval over the replications; where a figure has no mean,
    what that says ("not caught up": no replication had; "—": nothing to say, the run ending
    before the disruptions do)."""
    over = report.end_s > report.horizon_s
    lines = []
    for name, (label, unit, _) in LABELS.items():
        interval = report.interval(name)
        if not math.isnan(interval.mean):
            mean = figure(interval.mean)
        else:
            mean = NOT_YET[name] if name in NOT_YET and not over else NO_FIGURE
        lines.append(KpiLine(label, mean, interval_text(interval, figure), unit))
    return lines


def recovery_notes(report: RecoveryReport) -> list[str]:
    """What the recovery's figures rest on, a sentence each: a run that ends before the
    disruptions do, replications that had not caught up or were not back to normal by its end,
    and what "back to normal" means (``NORMAL_NOTE``)."""
    n = len(report.recoveries)
    end = f"by the end of the run (hour {report.horizon_s / HOUR:g})"
    if report.end_s > report.horizon_s:
        return [f"The run ends (hour {report.horizon_s / HOUR:g}) before the disruptions do (hour "
                f"{report.end_s / HOUR:g}): nothing to say of the time after them; give --hours."]
    notes = []
    caught = report.caught_up
    if caught < n:
        said = (f"None of the {n} replication(s) had caught up {end}" if caught == 0 else
                f"{n - caught} of {n} replications had not caught up {end}: the caught-up time is the mean over "
                f"the {caught} that had")
        notes.append(f"{said}; give --hours to see further.")
    normal = report.waits_normal
    if normal < n:
        said = (f"In none of the {n} replication(s) was the time at the gate back to normal {end}" if normal == 0 else
                f"In {n - normal} of {n} replications the time at the gate was not back to normal {end}: the time "
                f"until it was is the mean over the {normal} where it was")
        notes.append(f"{said}.")
    notes.append(NORMAL_NOTE)
    return notes


RECOVERY_FILES: dict[str, str] = {
    RECOVERY_CSV: "a row per replication: its seed and index, and every figure above",
    RECOVERY_PLOT: "the chart above",
}
RECOVERY_CHART_CAPTION = ("Trucks behind the same gate without its disruptions over time, a line per replication, the "
                          "disruptions shaded; below, the mean time at the gate by window of arrival, with and without "
                          "them")


def recovery_markdown(scenario_name: str, found: Sequence[Disruption], entries: Sequence[RunEntry],
                      report: RecoveryReport | None, out_dir: Path) -> str:
    """``recovery.md`` of the recovery of ``scenario_name`` from its disruptions ``found``: its two
    runs ``entries`` (without the disruptions, then as given) and the figures of ``report``
    (None when a run failed and nothing was measured)."""
    out_dir = Path(out_dir)
    names = ["the run without the disruptions", "the run as given"][: len(entries)]
    lines = [f"# Recovery: {scenario_name}", ""]
    if any(entry.failed for entry in entries):
        lines += [*_failures("recovery", entries, names, "no recovery was measured"), ""]
    elif report is not None:
        lines += [f"Finished: both runs, {len(report.recoveries)} replication(s) each.", ""]
    lines += ["## The disruptions", ""]
    lines += markdown_table(("disruption", "from (hour)", "to (hour)"),
                            ((d.what, f"{d.start_s / HOUR:g}", f"{d.end_s / HOUR:g}") for d in found),
                            (False, True, True))
    lines += ["", "The scenario ran twice with the same seeds (common random numbers: the same trucks, the same "
                  "draws): as given, and without its disruptions. *Trucks behind* at a time is the trucks the gate "
                  "without them had cleared by then less those the gate with them had.", ""]
    lines += ["## The two runs", ""]
    rows = [(name, e.scenario_name, f"`{e.scenario_hash}`", str(e.seed), hours_text(e.hours), _replications(e),
             _report_link(e, out_dir)) for name, e in zip(names, entries, strict=True)]
    lines += markdown_table(("run", "scenario", "scenario hash", "seed", "hours", "replications", "report"), rows,
                            (False, False, False, True, True, True, False))
    lines.append("")
    if report is not None:
        n = len(report.recoveries)
        lines += [f"## The recovery: mean and 95 % interval over {n} replication(s)", ""]
        lines += markdown_table(("figure", "mean", "95 % CI", "unit"),
                                ((k.name, k.mean, k.interval, k.unit) for k in recovery_lines(report)),
                                (False, True, True, False))
        lines += ["", *(f"- {note}" for note in recovery_notes(report)), ""]
        few = _few(report.scenario_name, n)
        if few:
            lines += [*few, ""]
        lines += _chart(RECOVERY_PLOT, RECOVERY_CHART_CAPTION, out_dir)
    lines += _files_of(out_dir, RECOVERY_FILES, entries, names)
    return "\n".join(lines)


def write_recovery_report(scenario_name: str, found: Sequence[Disruption], entries: Sequence[RunEntry],
                          report: RecoveryReport | None, out_dir: Path) -> Path:
    """Write ``recovery.md`` into ``out_dir`` (after the table and chart); return its path."""
    return _write(out_dir, RECOVERY_REPORT, recovery_markdown(scenario_name, found, entries, report, out_dir))
