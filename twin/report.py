"""The report of a run: what ``gatetwin run`` prints, and ``report.md`` in its results folder.

The console and the report show the same figures, built once here: the headline KPIs with
their 95 % intervals, where trucks waited longest, and the warnings the figures come with.
``report.md`` adds what a reader of the folder needs without the console: how the run went
(finished, failed, invariants broken), what was run (scenario, hash, seed, replications,
hours, versions) and how to run it again, the invariants replication by replication, the
plots, every KPI, and the files beside it. It is plain Markdown, readable as text and rendered
by any Markdown viewer, and like every other file of the folder the same run gives the same
report, bit for bit (it holds no wall-clock time).

The folders of ``gatetwin compare --out``, ``sweep --out`` and ``recovery --out`` get a report of
their own the same way (``comparison.md``, ``sweep.md``, ``recovery.md``): the runs, linked to
their reports, the console's table and warnings (built once, as ``Grid`` rows or lines), the
chart and the files; a command stopped by a failed run still writes one, saying which and why.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pandas as pd

from scenarios import describe, with_overrides
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
from twin.plots import AGENTS_PLOT, LEVELS_PLOT, QUEUE_PLOT, TIMES_PLOT, UTILISATION_PLOT
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
from twin.results import (
    REPORT_FILE,
    SCENARIO_FILE,
    SERIES_FILE,
    STATIONS_FILE,
    SUMMARY_FILE,
    TRUCKS_CSV,
    TRUCKS_FILE,
    RunResult,
    is_extra_table,
    kpi_interval,
    kpi_notes,
    kpi_order,
    kpi_unit,
)
from twin.sweep import (
    SWEEP_CSV,
    SWEEP_PLOT,
    SWEEP_REPORT,
    Cell,
    TargetOutcome,
    Vary,
    field_labels,
    sweep_grid,
    targets_grid,
    targets_verdict,
    unreported_kpis,
)

#: The KPIs the console and the report put first, in ``kpi_order``; the report lists every KPI after.
HEADLINE_KPIS = ("trucks_arrived", "trucks_departed", "trucks_returned", "trucks_inside", "throughput_per_day",
                 "time_at_gate_p50", "time_at_gate_p95", "road_queue_km_max", "yard_occupancy_max", "redeclarations",
                 "manual_reviews", "plates_typed", "manual_reviews_per_100_trucks", "fee_revenue_vnd",
                 "agv_containers_delivered_per_day", "agv_trucks_per_day", "agv_fleet_utilisation",
                 "agv_backlog_containers")

#: How many of the longest waits the console and the report show.
WAITS_SHOWN = 6
WAITS_TITLE = "where trucks wait longest (mean wait of a truck or a task, 95 % CI)"
WAITS_CAPTION = ("Off shift: the share of an agency's wait that fell outside its shifts (tasks that came off shift "
                 "wait for the next one). High, the shifts set the wait; low, the officers on duty are too few for "
                 "the work.")

#: A KPI with no value (no truck to measure it on), in the report's tables.
NO_FIGURE = "—"

#: What each plot shows, in the order the report shows them.
PLOT_CAPTIONS: dict[str, str] = {
    QUEUE_PLOT: "Queue length at each station over the run (the first replication)",
    UTILISATION_PLOT: "Utilisation of each station, mean over the replications with its 95 % interval",
    TIMES_PLOT: "Time at the gate and at each stage, every replication's trucks pooled",
    LEVELS_PLOT: "Yard occupancy and the approach-road queue over the run (the first replication)",
    AGENTS_PLOT: "The Mesa agents' series (the first replication)",
}

#: What each file of a results folder holds, for the report's list of files.
FILE_NOTES: dict[str, str] = {
    SUMMARY_FILE: "every KPI with its mean, 95 % interval and value in each replication; the invariants; the "
                  "manifest; the failure, if any",
    SCENARIO_FILE: "the scenario as run (its hash is the manifest's `scenario_hash`)",
    TRUCKS_FILE: "one row per truck: arrival, every stage's start and end, channel, outcome (times in seconds)",
    TRUCKS_CSV: "the same table as CSV",
    STATIONS_FILE: "per replication and station: arrivals, waits, time-weighted queue length, utilisation",
    SERIES_FILE: "per-station and per-level time series (long format)",
}


def figure(value: float) -> str:
    """A KPI for people: three significant digits below 100 (0.0412, 3.14, 12.3), whole numbers
    with thousands grouped from 100 up (870, 2,513); "" for NaN."""
    if math.isnan(value):
        return ""
    if value == 0:
        return "0"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    text = f"{value:.3g}"
    if "e" in text:  # below 0.0001: write the zeros out rather than an exponent
        decimals = 2 - math.floor(math.log10(abs(value)))
        text = f"{value:.{decimals}f}"
    return text


@dataclass(frozen=True, slots=True)
class KpiLine:
    """A KPI as the console and the report show it."""

    name: str
    mean: str
    interval: str
    unit: str


@dataclass(frozen=True, slots=True)
class WaitLine:
    """A station or an agency's officers, by how long trucks (or tasks) waited there."""

    who: str
    mean_wait: str
    interval: str
    utilisation: str
    off_shift: str


def kpi_lines(run: RunResult, names: Iterable[str] | None = None) -> list[KpiLine]:
    """The run's KPIs among ``names`` (every KPI when None), in ``kpi_order``."""
    kpis: Mapping[str, Any] = run.summary.get("kpis", {})
    wanted = list(kpis) if names is None else [name for name in names if name in kpis]
    lines = []
    for name in kpi_order(wanted):
        interval = kpi_interval(name, kpis[name])
        lines.append(KpiLine(name, figure(interval.mean), interval_text(interval, figure), kpi_unit(name)))
    return lines


def headline_lines(run: RunResult) -> list[KpiLine]:
    """The headline KPIs (``HEADLINE_KPIS``) the run has."""
    return kpi_lines(run, HEADLINE_KPIS)


def headline_notes(run: RunResult) -> list[str]:
    """What the headline KPIs that need it count, a line per note."""
    return kpi_notes(line.name for line in headline_lines(run))


def wait_lines(run: RunResult, limit: int = WAITS_SHOWN) -> list[WaitLine]:
    """Where trucks waited longest: stations and agencies' officers by mean wait (longest
    first), with utilisation and, for officers, the share of the wait outside their shifts."""
    kpis: Mapping[str, Any] = run.summary.get("kpis", {})
    rows = []
    for name, row in kpis.items():
        if not name.endswith("_mean_wait") or math.isnan(row["mean"]) or row["mean"] <= 0:
            continue
        place = name.removesuffix("_mean_wait")
        officers = place.startswith("officers_")
        who = f"{place.removeprefix('officers_')} officers" if officers else place
        use = kpis.get(f"{place}_utilisation", {}).get("mean", math.nan)
        off_shift = off_shift_share(run, place.removeprefix("officers_")) if officers else None
        rows.append((row["mean"], who, kpi_interval(name, row), use, off_shift))
    rows.sort(key=lambda r: (-r[0], r[1]))
    return [WaitLine(who, figure(mean), interval_text(interval, figure),
                     "unlimited" if math.isnan(use) else f"{use:.0%}",
                     "" if off_shift is None else f"{off_shift:.0%}")
            for mean, who, interval, use, off_shift in rows[:limit]]


def off_shift_share(run: RunResult, role: str) -> float | None:
    """The share of the agency's task wait spent outside its shifts, over the replications (None
    for results that do not record it)."""
    shares = [rep.extra.get("agencies", {}).get(role, {}).get("wait_off_shift_share") for rep in run.replications]
    known = [float(s) for s in shares if s is not None]
    return sum(known) / len(known) if known else None


# --- report.md ------------------------------------------------------------------------------


def markdown_cell(text: object) -> str:
    """Text for a Markdown table cell: on one line, pipes escaped."""
    return " ".join(str(text).split()).replace("|", "\\|")


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[object]], right: Sequence[bool]) -> list[str]:
    """A Markdown table, as lines; ``right`` says which columns hold figures (aligned right)."""
    lines = ["| " + " | ".join(markdown_cell(h) for h in header) + " |",
             "|" + "|".join("---:" if r else ":---" for r in right) + "|"]
    lines += ["| " + " | ".join(markdown_cell(c) for c in row) + " |" for row in rows]
    return lines


def _hours(value: Any) -> str:
    return f"{float(value):g}" if isinstance(value, (int, float)) else "?"


def _status(run: RunResult) -> list[str]:
    """How the run went, in a few lines: finished, failed, or with invariants broken."""
    done, wanted = len(run.replications), int(run.manifest.get("replications", len(run.replications)))
    broken = [(i, check) for i, rep in enumerate(run.replications) for check in rep.invariants if not check.holds]
    if run.failed is not None and not broken:
        first = run.failed.splitlines()[0] if run.failed.strip() else "no reason recorded"
        kept = (f"The figures below are those of the {done} replication(s) that finished before it."
                if done else "No replication finished: there are no figures.")
        return [f"**The run failed** ({done} of {wanted} replications finished): {first}", "", kept,
                f"`{SUMMARY_FILE}` holds the whole error."]
    if broken:
        lines = [f"**The run broke its invariants** in {len({i for i, _ in broken})} of {done} replication(s); its "
                 "figures are not to be trusted until the cause is found:", ""]
        lines += [f"- replication {i}: `{check.name}`: {check.detail}" for i, check in broken]
        return lines
    checks = {check.name for rep in run.replications for check in rep.invariants}
    held = f" The {len(checks)} invariants checked (listed below) held in every replication." if checks else ""
    return [f"Finished: {done} of {wanted} replications.{held}"]


def _run_table(run: RunResult) -> list[str]:
    manifest = run.manifest
    extra = manifest.get("extra", {}) if isinstance(manifest.get("extra"), Mapping) else {}
    rows: list[tuple[str, str]] = [("scenario", run.scenario_name)]
    if run.scenario is not None:
        rows.append(("site", run.scenario.site))
    rows.append(("scenario hash", f"`{run.scenario_hash}`"))
    rows.append(("seed", str(manifest.get("seed", "?"))))
    rows.append(("replications", f"{len(run.replications)} of {manifest.get('replications', '?')}"))
    rows.append(("simulated hours", f"{_hours(extra.get('horizon_h'))}, of which warm-up {_hours(extra.get('warmup_h'))}"))
    versions = manifest.get("versions", {})
    if isinstance(versions, Mapping) and versions:
        rows.append(("versions", ", ".join(f"{name} {version}" for name, version in sorted(versions.items()))))
    if manifest.get("platform"):
        rows.append(("platform", str(manifest["platform"])))
    return markdown_table(("", ""), rows, (False, False))


def _again(run: RunResult) -> list[str]:
    seed, reps = run.manifest.get("seed"), run.manifest.get("replications")
    if run.scenario is None or not isinstance(seed, int) or not isinstance(reps, int):
        return []
    return ["To run it again, with the same results bit for bit, from this folder:", "", "```sh",
            f"gatetwin run {SCENARIO_FILE} --reps {reps} --seed {seed} --out <folder>", "```"]


def _invariants(run: RunResult) -> list[str]:
    names = list(dict.fromkeys(check.name for rep in run.replications for check in rep.invariants))
    if not names:
        return []
    rows = []
    for name in names:
        held = [check.holds for rep in run.replications for check in rep.invariants if check.name == name]
        if name == "conservation":
            what = "conservation of trucks: arrived = departed + returned + refused + inside"
        elif name.startswith("little:"):
            what = f"Little's law at {name.removeprefix('little:')}"
        else:
            what = name
        rows.append((what, f"{sum(held)} of {len(held)}"))
    return ["## Invariants", "", "Checked at the end of every replication; the details are in "
            f"`{SUMMARY_FILE}`.", "", *markdown_table(("invariant", "held in"), rows, (False, True))]


def _described(run: RunResult) -> str:
    """``describe`` of the run's scenario, with the replications and seed the run used, without its
    opening lines (name, site, description), which the report gives already."""
    assert run.scenario is not None
    settings = {key: run.manifest[key] for key in ("replications", "seed") if isinstance(run.manifest.get(key), int)}
    text = describe(with_overrides(run.scenario, **settings) if settings else run.scenario)
    return text.split("\n\n", 1)[1] if "\n\n" in text else text


def run_report(run: RunResult, plots: Sequence[str] = ()) -> str:
    """``report.md`` of ``run``, showing the plots named (files beside it), in ``PLOT_CAPTIONS`` order."""
    n = len(run.replications)
    lines = [f"# Run report: {run.scenario_name}", "", *_status(run), ""]
    lines += ["## What was run", "", *_run_table(run), ""]
    again = _again(run)
    if again:
        lines += [*again, ""]
    if run.scenario is not None:
        lines += ["### The gate and its demand", "", run.scenario.description.strip(), "", "```text",
                  _described(run).rstrip(), "```", ""]
    headline = headline_lines(run)
    if headline:
        lines += [f"## Headline KPIs: mean and 95 % interval over {n} replication(s)", ""]
        lines += markdown_table(("KPI", "mean", "95 % CI", "unit"),
                        ((f"`{k.name}`", k.mean, k.interval, k.unit) for k in headline), (False, True, True, False))
        lines += ["", *(f"- {note}" for note in headline_notes(run)), ""]
        few = few_replications_warning({run.scenario_name: n})
        if few:
            lines += [f"**Warning:** {few}", ""]
        elif n == 1:
            lines += ["One replication: no 95 % intervals. Three or more give intervals to plan on.", ""]
    waits = wait_lines(run)
    if waits:
        lines += [f"## {WAITS_TITLE[0].upper()}{WAITS_TITLE[1:]}", ""]
        lines += markdown_table(("station or agency", "mean wait (min)", "95 % CI", "utilisation", "off shift"),
                        ((w.who, w.mean_wait, w.interval, w.utilisation, w.off_shift) for w in waits),
                        (False, True, True, True, True))
        lines += ["", WAITS_CAPTION, ""]
    invariants = _invariants(run)
    if invariants:
        lines += [*invariants, ""]
    shown = [name for name in PLOT_CAPTIONS if name in plots]
    if shown:
        lines += ["## Plots", ""]
        for name in shown:
            lines += [f"![{PLOT_CAPTIONS[name]}]({name})", "", f"*{PLOT_CAPTIONS[name]}.*", ""]
    every = kpi_lines(run)
    if every:
        lines += ["## Every KPI", ""]
        lines += markdown_table(("KPI", "mean", "95 % CI", "unit"),
                        ((f"`{k.name}`", k.mean or NO_FIGURE, k.interval, k.unit) for k in every),
                        (False, True, True, False))
        lines += ["", f"{NO_FIGURE}: nothing to measure (e.g. no truck was served there, or none departed).", ""]
    return "\n".join(lines).rstrip() + "\n"


def _files(out_dir: Path) -> list[str]:
    """The files the run wrote beside the report, each with what it holds (other files are not its own)."""
    lines = ["## Files in this folder", ""]
    for name in sorted(path.name for path in out_dir.iterdir() if path.is_file()):
        note = FILE_NOTES.get(name) or PLOT_CAPTIONS.get(name)
        if note is None and is_extra_table(name):
            note = "a table one replication recorded (its name says which table and which replication)"
        if note is not None:
            lines.append(f"- `{name}`: {note}")
    return lines


def write_report(run: RunResult, out_dir: Path) -> Path:
    """Write ``report.md`` into ``out_dir`` (after ``write_results``: it shows the plots there and
    lists the folder's files); return its path."""
    out_dir = Path(out_dir)
    plots = [name for name in PLOT_CAPTIONS if (out_dir / name).is_file()]
    text = run_report(run, plots).rstrip() + "\n\n" + "\n".join(_files(out_dir)) + "\n"
    path = out_dir / REPORT_FILE
    path.write_text(text, encoding="utf-8")
    return path


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
    if any(entry.failed for entry in entries):
        lines += [*_failures("comparison", entries, names, "the runs were not compared"), ""]
    else:
        asked = sorted({entry.asked for entry in entries})
        lines += [f"Finished: {len(entries)} runs of {' or '.join(map(str, asked))} replications each, compared KPI "
                  f"by KPI with {letters.get(baseline, 'A')}, the baseline.", ""]
    lines += ["## The runs", ""]
    rows = [(letters[e.label] + (" (baseline)" if i == 0 else ""), e.label, e.scenario_name, f"`{e.scenario_hash}`",
             str(e.seed), _hours(e.hours), _replications(e), _report_link(e, out_dir)) for i, e in enumerate(entries)]
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
    if any(entry.failed for entry in entries):
        lines += [*_failures("sweep", entries, names, "the cells were not compared"), ""]
    else:
        asked = sorted({entry.asked for entry in entries})
        lines += [f"Finished: {len(cells)} cell(s) of {' or '.join(map(str, asked))} replications each, compared with "
                  "cell 1.", ""]
    lines += ["## What was varied", ""]
    lines += markdown_table(("field", "key", "values"),
                            ((name, f"`{vary.key}`", ", ".join(vary.texts))
                             for name, vary in zip(field_labels(varies), varies, strict=True)), (False, False, False))
    first = entries[0] if entries else None
    run = (f", each for {_hours(first.hours)} simulated hours with seed {first.seed}: replication r of every cell "
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
    rows = [(name, e.scenario_name, f"`{e.scenario_hash}`", str(e.seed), _hours(e.hours), _replications(e),
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
