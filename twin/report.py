"""The report of a run: what ``gatetwin run`` prints, and ``report.md`` in its results folder.

The console and the report show the same figures, built once here: the headline KPIs with
their 95 % intervals, where trucks waited longest, and the warnings the figures come with.
``report.md`` adds what a reader of the folder needs without the console: how the run went
(finished, failed, invariants broken), what was run (scenario, hash, seed, replications,
hours, versions) and how to run it again, the invariants replication by replication, the
plots, every KPI, and the files beside it. It is plain Markdown, readable as text and rendered
by any Markdown viewer, and like every other file of the folder the same run gives the same
report, bit for bit (it holds no wall-clock time). ``twin.command_reports`` writes the reports
of ``compare``, ``sweep`` and ``recovery`` with the Markdown helpers here.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scenarios import describe, with_overrides
from twin.compare import few_replications_warning, interval_text
from twin.plots import AGENTS_PLOT, LEVELS_PLOT, QUEUE_PLOT, TIMES_PLOT, UTILISATION_PLOT
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


def hours_text(value: Any) -> str:
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
    rows.append(("simulated hours", f"{hours_text(extra.get('horizon_h'))}, of which warm-up {hours_text(extra.get('warmup_h'))}"))
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
