"""Comparing runs: which layout or policy does better on each KPI, and by how much.

The first run is the baseline. A replication is named by its seed and its index in the run
(together they fix its random streams), so replication i of two runs with the same seed saw
the same random numbers: such runs are compared replication by replication (common random
numbers: the same trucks arrive in both, so the difference is mostly the layout's). Runs that
share no replication fall back to Welch's interval for independent samples; ``pairing`` says
which of the two a comparison used. Runs paired with the baseline are compared on the
replications they all share (``comparison_basis``): means, differences and the best run of a
row rest on the same replications, and a warning says how many when any are left out.
Whether more is better depends on the KPI: ``KPI_DIRECTION`` says so.

A run with no finished replication has nothing to compare and is refused by name. Runs that
cover different hours, or that did not finish every replication they were asked for, are
still compared, with a warning each (``comparison_warnings``), which the text table prints;
so are runs whose intervals rest on too few replications (``few_replications_warning``).

Each run's mean has its interval as a half width and as bounds cut to the KPI's natural range
(``low``, ``high``: a share stays in [0, 1], a count or a time at 0 or above); a difference
between runs may have either sign, so its interval stays mean ± half width.
"""

from __future__ import annotations

import io
import math
import re
import string
import textwrap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from rich.console import Console
from rich.table import Table

from twin.results import RunResult, clear_results, is_results_folder, kpi_interval, kpi_notes, kpi_order, kpi_range
from twin.stats import TRUSTED_REPLICATIONS, Interval, paired_difference, too_few_replications, welch_difference

LOWER, HIGHER, NEUTRAL = "lower", "higher", "neutral"

#: What ``gatetwin compare --out`` writes beside its runs' folders (``1-<name>``, ``2-<name>``, ...):
#: the table, the chart, and the report for people (``twin.command_reports.comparison_report``).
COMPARISON_CSV, COMPARISON_PLOT, COMPARISON_REPORT = "comparison.csv", "comparison.png", "comparison.md"
_RUN_FOLDER = re.compile(r"[0-9]+-.+")


def run_folder_names(names: Sequence[str]) -> list[str]:
    """The folder of each compared run under ``--out``: its place in the list, then its name."""
    return [f"{index + 1}-{name}" for index, name in enumerate(names)]


def comparison_run_folders(folder: Path) -> list[Path]:
    """The results folders of the runs a ``gatetwin compare --out`` folder holds (``1-<name>``,
    ``2-<name>``, ...), the baseline first; [] for a folder that holds none."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    found = [(int(path.name.split("-", 1)[0]), path.name, path) for path in folder.iterdir()
             if _RUN_FOLDER.fullmatch(path.name) and path.is_dir() and is_results_folder(path)]
    return [path for _, _, path in sorted(found)]


def clear_comparison(out: Path, names: Sequence[str]) -> list[Path]:
    """Remove what an earlier comparison left in ``out`` that this one, of the runs ``names``,
    will not write again: its table, chart and report, and the folders of runs no longer compared.

    Only files ``write_results`` makes are removed (``clear_results``), and a run's folder only
    once nothing else is left in it: whatever else a user keeps there stays. Re-running a
    comparison with other variants so leaves no earlier variant's results beside the new ones.
    """
    out = Path(out)
    removed = [path for path in (out / COMPARISON_CSV, out / COMPARISON_PLOT, out / COMPARISON_REPORT) if path.is_file()]
    for path in removed:
        path.unlink()
    keep = set(run_folder_names(names))
    for folder in sorted(out.iterdir()) if out.is_dir() else []:
        if folder.name in keep or not _RUN_FOLDER.fullmatch(folder.name) or not folder.is_dir():
            continue
        if is_results_folder(folder):
            removed += clear_results(folder)
            if not any(folder.iterdir()):
                folder.rmdir()
                removed.append(folder)
    return removed

#: Which way each KPI is better. Demand (trucks arrived) and utilisation are neither: a busier
#: scanner is cheaper per truck but queues longer, so the table reports them without judging.
KPI_DIRECTION: dict[str, str] = {
    "trucks_arrived": NEUTRAL,
    "trucks_departed": HIGHER,
    # Counts that grow with the trucks a layout clears: reported, and judged per 100 trucks.
    "trucks_returned": NEUTRAL,
    "trucks_refused": NEUTRAL,
    "trucks_inside": LOWER,
    "throughput_per_day": HIGHER,
    "time_at_gate_mean": LOWER,
    "time_at_gate_p50": LOWER,
    "time_at_gate_p90": LOWER,
    "time_at_gate_p95": LOWER,
    # Over the departed trucks only: a layout that strands more trucks inside lowers them, so
    # they are reported without judging (the time_at_gate_* KPIs count every truck).
    "time_at_gate_departed_mean": NEUTRAL,
    "time_at_gate_departed_p50": NEUTRAL,
    "time_at_gate_departed_p90": NEUTRAL,
    "time_at_gate_departed_p95": NEUTRAL,
    "time_in_system_mean": LOWER,
    "road_queue_trucks_max": LOWER,
    "road_queue_km_max": LOWER,
    "yard_occupancy_max": LOWER,
    "redeclarations": NEUTRAL,
    "manual_reviews": NEUTRAL,
    "plates_typed": NEUTRAL,
    "redeclarations_per_100_trucks": LOWER,
    "manual_reviews_per_100_trucks": LOWER,
    "plates_typed_per_100_trucks": LOWER,
    "fee_revenue_vnd": HIGHER,
    "agv_containers_delivered_per_day": HIGHER,
    # Like a station's: a busier fleet is cheaper per container but makes them wait longer.
    "agv_fleet_utilisation": NEUTRAL,
    "agv_backlog_containers": LOWER,
    "agv_containers_handed_over_per_day": HIGHER,
    "agv_trucks_per_day": HIGHER,
    # With the Mesa agents: waiting on the road is worse; waiting in a staging area is where
    # channelling means trucks to wait, so it is reported without judging.
    "road_queue_truck_h": LOWER,
    "road_wait_mean_min": LOWER,
    "staging_area_truck_h": NEUTRAL,
    "area_wait_mean_min": NEUTRAL,
}
#: Per-station KPIs, by name suffix.
STATION_KPI_DIRECTION: dict[str, str] = {"_utilisation": NEUTRAL, "_mean_wait": LOWER}

#: ``low`` and ``high`` bound the run's mean's interval, cut to the KPI's range; ``replications``
#: counts those its mean rests on.
COLUMNS: tuple[str, ...] = (
    "kpi", "unit", "direction", "run", "mean", "half_width", "low", "high", "replications", "difference",
    "difference_half_width", "pairing", "verdict", "significant", "best",
)


def kpi_direction(name: str) -> str:
    """"lower", "higher" or "neutral": which way the KPI ``name`` is better."""
    if name in KPI_DIRECTION:
        return KPI_DIRECTION[name]
    for suffix, direction in STATION_KPI_DIRECTION.items():
        if name.endswith(suffix):
            return direction
    return NEUTRAL


def _labels(runs: Sequence[RunResult], labels: Sequence[str] | None) -> list[str]:
    if labels is not None:
        if len(labels) != len(runs):
            raise ValueError(f"compare_runs: {len(labels)} labels for {len(runs)} runs")
        if len(set(labels)) != len(labels):
            raise ValueError(f"compare_runs: labels must be distinct (got {list(labels)})")
        return list(labels)
    result: list[str] = []
    for run in runs:
        label, n = run.scenario_name, 1
        while label in result:
            n += 1
            label = f"{run.scenario_name} #{n}"
        result.append(label)
    return result


def _first_line(text: str | None) -> str:
    return text.strip().splitlines()[0] if text and text.strip() else ""


def has_results(run: RunResult) -> bool:
    """Whether ``run`` finished at least one replication, so it has KPIs to compare."""
    return bool(run.replications) and "kpis" in run.summary


def horizon_h(run: RunResult) -> float | None:
    """Simulated hours of ``run``, from its manifest; None when the manifest does not say."""
    extra = run.manifest.get("extra", {}) if isinstance(run.manifest, dict) else {}
    value = extra.get("horizon_h") if isinstance(extra, dict) else None
    return float(value) if isinstance(value, (int, float)) else None


def unfinished(run: RunResult) -> str:
    """What ``run`` left unfinished, in words ("" when every replication asked for finished)."""
    manifest = run.manifest if isinstance(run.manifest, dict) else {}
    wanted = manifest.get("replications")
    done = len(run.replications)
    reason = _first_line(run.failed)
    if isinstance(wanted, int) and done < wanted:
        return f"only {done} of its {wanted} replications finished" + (f" ({reason})" if reason else "")
    return f"it did not finish cleanly ({reason})" if reason else ""


def comparison_warnings(runs: Sequence[RunResult], labels: Sequence[str] | None = None) -> list[str]:
    """Why the comparison of ``runs`` may not be like for like, one sentence each: runs of
    different lengths (totals and peaks grow with the hours simulated), runs that did not
    finish every replication (their means rest on fewer, and earlier, replications), and runs
    paired with the baseline that do not all have the same replications (the comparison uses
    only those they share, ``comparison_basis``: how many it says)."""
    names = _labels(runs, labels)
    warnings: list[str] = []
    hours = [horizon_h(run) for run in runs]
    if len({h for h in hours if h is not None}) > 1:
        listed = ", ".join(f"{name}: {h:g} h" for name, h in zip(names, hours, strict=True) if h is not None)
        warnings.append(f"The runs simulate different hours ({listed}): counts, totals and peaks are not like for like.")
    for name, run in zip(names, runs, strict=True):
        problem = unfinished(run)
        if problem:
            warnings.append(f"{name}: {problem}; its means rest on the replications that did.")
    basis = comparison_basis(runs)
    if basis.left_out():
        group = [0] + [index for index, matched in enumerate(basis.pairings) if matched.paired]
        listed = ", ".join(f"{names[index]}: {basis.counts[index]}" for index in group)
        n = basis.shared
        warnings.append(f"Not every run has the same replications ({listed}): the differences are paired over the "
                        f"{n} replication{'s' if n != 1 else ''} they share (same seed and index), and each run's "
                        f"mean and the best run are taken over {'those' if n != 1 else 'that one'} too; the other "
                        "replications are left out.")
    few = few_replications_warning(dict(zip(names, (len(used) for used in basis.used), strict=True)))
    if few:
        warnings.append(few)
    return warnings


def few_replications_warning(replications: Mapping[str, int]) -> str:
    """A warning that the intervals of the runs named rest on too few replications
    (``too_few_replications``), given how many each run's figures rest on; "" when none does."""
    few = {name: n for name, n in replications.items() if too_few_replications(n)}
    if not few:
        return ""
    runs = "" if len(replications) == 1 else f" of {', '.join(few)}"
    counts = " or ".join(str(n) for n in sorted(set(few.values())))
    return (f"The 95 % intervals{runs} rest on {counts} replications, too few to plan on ({TRUSTED_REPLICATIONS} or "
            "more are needed): so few say little about the spread, and an interval may be far too wide or far too "
            "narrow.")


def replication_ids(run: RunResult) -> list[tuple[int, int]]:
    """Each replication of ``run`` as (seed, replication index), in the run's order.

    Summaries written before ``replication_ids`` was recorded give the seed of each
    replication in order; their index is its place in that list.
    """
    summary = run.summary
    if "replication_ids" in summary:
        return [(int(seed), int(index)) for seed, index in summary["replication_ids"]]
    return [(int(seed), index) for index, seed in enumerate(summary.get("seeds", []))]


@dataclass(frozen=True)
class Pairing:
    """How a run's replications are matched with the baseline's.

    ``pairs`` holds (index in the run, index in the baseline) of each replication both ran,
    with the same seed and index; empty when the runs share none, or when a run names a
    replication twice, so the differences are taken as independent samples.
    """

    pairs: tuple[tuple[int, int], ...]

    @property
    def paired(self) -> bool:
        """Whether the difference is taken replication by replication."""
        return bool(self.pairs)

    @property
    def kind(self) -> str:
        """"paired" or "unpaired", as the comparison table's ``pairing`` column says."""
        return "paired" if self.paired else "unpaired"


def pairing(run: RunResult, baseline: RunResult) -> Pairing:
    """The replications ``run`` and ``baseline`` share, by seed and replication index."""
    ours, theirs = replication_ids(run), replication_ids(baseline)
    if len(set(ours)) != len(ours) or len(set(theirs)) != len(theirs):
        return Pairing(())
    position = {rep: index for index, rep in enumerate(ours)}
    return Pairing(tuple((position[rep], index) for index, rep in enumerate(theirs) if rep in position))


@dataclass(frozen=True)
class Basis:
    """The replications a comparison of several runs rests on (the first run is the baseline).

    ``used[i]`` holds the indices of run i's replications that its rows use, ``pairings[i]``
    how they are matched with the baseline's (``pairings[0]`` is empty), ``counts[i]`` how many
    replications run i has. A run is paired with the baseline on the replications it shares
    with it and with every run paired before it, so the baseline and the runs paired with it
    are all compared on one set of replications: a row's mean, its difference from the
    baseline and the best run rest on the same ones. A run sharing none is an independent
    sample, compared on all of its replications.
    """

    used: tuple[tuple[int, ...], ...]
    pairings: tuple[Pairing, ...]
    counts: tuple[int, ...]

    @property
    def shared(self) -> int:
        """How many replications the baseline (and every run paired with it) is compared on."""
        return len(self.used[0]) if self.used else 0

    def left_out(self) -> dict[int, int]:
        """By run index: how many of its replications the comparison leaves out (none left
        out: not listed)."""
        return {index: count - len(used) for index, (used, count) in enumerate(zip(self.used, self.counts, strict=True))
                if len(used) < count}


def comparison_basis(runs: Sequence[RunResult]) -> Basis:
    """The replications each of ``runs`` is compared on (``Basis``); the first is the baseline."""
    ids = [replication_ids(run) for run in runs]
    shared = list(ids[0]) if ids else []
    paired: set[int] = set()
    for index, run in enumerate(runs[1:], start=1):
        common = {ids[0][j] for _, j in pairing(run, runs[0]).pairs} & set(shared)
        if common:
            shared = [rep for rep in shared if rep in common]
            paired.add(index)
    used: list[tuple[int, ...]] = []
    for index, run_ids in enumerate(ids):
        if index == 0 or index in paired:
            position = {rep: i for i, rep in enumerate(run_ids)}
            used.append(tuple(position[rep] for rep in shared))
        else:
            used.append(tuple(range(len(run_ids))))
    pairings = tuple(Pairing(tuple(zip(used[i], used[0], strict=True))) if i in paired else Pairing(())
                     for i in range(len(runs)))
    return Basis(tuple(used), pairings, tuple(len(run_ids) for run_ids in ids))


def _per_replication(run: RunResult, kpi: str) -> list[float]:
    entry = run.summary["kpis"].get(kpi)
    if entry is None:
        return [math.nan] * len(replication_ids(run))
    return [float(v) for v in entry["per_replication"]]


def _mean(run: RunResult, kpi: str, used: Sequence[int]) -> Interval:
    """Mean and confidence interval of ``kpi`` over the replications ``used`` of ``run`` (the
    summary's own when those are all of them)."""
    values = _per_replication(run, kpi)
    if len(used) == len(values):
        return kpi_interval(kpi, run.summary["kpis"].get(kpi, {}))
    return Interval.of([values[i] for i in used], kpi_range(kpi))


def _difference(run: RunResult, baseline: RunResult, kpi: str, matched: Pairing, used: Sequence[int],
                baseline_used: Sequence[int]) -> tuple[float, float, str]:
    """Mean difference run - baseline, its half width, and how replications were matched.

    A paired run is compared replication by replication (``matched.pairs``); any other as an
    independent sample, its replications ``used`` against the baseline's ``baseline_used``.
    """
    ours, theirs = _per_replication(run, kpi), _per_replication(baseline, kpi)
    if matched.paired:
        diff, half = paired_difference([ours[i] for i, _ in matched.pairs], [theirs[j] for _, j in matched.pairs])
    else:
        diff, half = welch_difference([ours[i] for i in used], [theirs[j] for j in baseline_used])
    return diff, half, matched.kind


def _verdict(direction: str, difference: float, half_width: float) -> str:
    """Better or worse only when the interval excludes zero; a layout is not "better" by noise."""
    if math.isnan(difference):
        return "n/a"
    if direction == NEUTRAL:
        # Neither way is better, but a planner still wants to know the runs clearly differ.
        return "different" if math.isfinite(half_width) and abs(difference) > half_width else "n/a"
    if difference == 0:
        return "equal"
    if math.isnan(half_width):
        # Too few replications (one run has a single one, or they share a single pair): no
        # interval to judge the difference by, which is not the same as finding none.
        return "no interval"
    if not (math.isfinite(half_width) and abs(difference) > half_width):
        return "no clear difference"
    return "better" if (difference < 0) == (direction == LOWER) else "worse"


def compare_runs(runs: Sequence[RunResult], labels: Sequence[str] | None = None) -> pd.DataFrame:
    """One row per (KPI, run): mean +- CI, difference from the first run with its CI, verdict.

    ``significant`` says whether the difference's confidence interval excludes zero.
    ``verdict`` is "baseline", "better" or "worse" (significant, judged by the KPI's
    direction), "no clear difference", "no interval" (one of the two runs has a single
    replication, so the difference has no confidence interval), "equal", "different" (a neutral
    KPI whose interval excludes zero), or "n/a" (a neutral KPI without a clear difference, or
    nothing to compare). ``best`` names the run with the best mean on that KPI ("" for a
    neutral KPI). The table's ``attrs["warnings"]`` holds ``comparison_warnings``.

    Raises ``ValueError`` naming the first run that has no finished replication.
    """
    if not runs:
        raise ValueError("compare_runs: no runs to compare")
    names = _labels(runs, labels)
    for name, run in zip(names, runs, strict=True):
        if not has_results(run):
            reason = _first_line(run.failed)
            raise ValueError(f"{name}: no finished replication, so nothing to compare" + (f" ({reason})" if reason else ""))
    baseline = runs[0]
    basis = comparison_basis(runs)
    rows: list[dict[str, Any]] = []
    for kpi in kpi_order({k for run in runs for k in run.summary["kpis"]}):
        direction = kpi_direction(kpi)
        entries = [run.summary["kpis"].get(kpi, {}) for run in runs]
        intervals = [_mean(run, kpi, used) for run, used in zip(runs, basis.used, strict=True)]
        unit = next((e["unit"] for e in entries if e.get("unit")), "")
        best = ""
        finite = [(interval.mean, i) for i, interval in enumerate(intervals) if not math.isnan(interval.mean)]
        if direction != NEUTRAL and finite:
            sign = 1.0 if direction == LOWER else -1.0
            # Ties go to the earliest run, so the baseline stays best unless beaten.
            best = names[min(finite, key=lambda pair: (sign * pair[0], pair[1]))[1]]
        for index, run in enumerate(runs):
            if index == 0:
                difference, half, pairing, verdict = math.nan, math.nan, "", "baseline"
            else:
                difference, half, pairing = _difference(run, baseline, kpi, basis.pairings[index], basis.used[index],
                                                        basis.used[0])
                verdict = _verdict(direction, difference, half)
            rows.append(
                {
                    "kpi": kpi,
                    "unit": unit,
                    "direction": direction,
                    "run": names[index],
                    "mean": intervals[index].mean,
                    "half_width": intervals[index].half_width,
                    "low": intervals[index].low,
                    "high": intervals[index].high,
                    "replications": intervals[index].n,
                    "difference": difference,
                    "difference_half_width": half,
                    "pairing": pairing,
                    "verdict": verdict,
                    "significant": bool(math.isfinite(half) and abs(difference) > half),
                    "best": best,
                }
            )
    table = pd.DataFrame(rows, columns=list(COLUMNS))
    table.attrs["warnings"] = comparison_warnings(runs, names)
    return table


def number_text(value: float) -> str:
    """A KPI's figure as tables show it: "-" for none, thousands grouped, else 3 significant digits."""
    if math.isnan(value):
        return "-"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def interval_text(interval: Interval, number: Callable[[float], str] = number_text) -> str:
    """A 95 % interval in words, each figure written by ``number``: "± 0.4"; "0 to 0.061" when
    the quantity's range cut it (a share cannot fall below 0); "same in all 2 replications"
    when every replication gave the same value (not "± 0", which reads as certainty); "" when
    there is none (one replication)."""
    if math.isnan(interval.mean) or math.isnan(interval.half_width):
        return ""
    if interval.agreed:
        return f"same in all {interval.n} replications" if interval.n > 1 else "same in every replication"
    if interval.cut:
        return f"{number(interval.low)} to {number(interval.high)}"
    return f"± {number(interval.half_width)}"


def with_ci(interval: Interval, number: Callable[[float], str] = number_text) -> str:
    """A mean with its 95 % interval (``interval_text``): "12.3 ± 0.4", "0.02 (0 to 0.061)",
    "3 (same in all 2 replications)"; the mean alone when there is none."""
    text = number(interval.mean)
    words = interval_text(interval, number)
    if not words:
        return text
    return f"{text} ({words})" if interval.cut or interval.agreed else f"{text} {words}"


def row_interval(row: Mapping[str, Any]) -> Interval:
    """The interval of a run's mean in a row of ``compare_runs``'s table."""
    return Interval(float(row["mean"]), float(row["half_width"]), float(row["low"]), float(row["high"]),
                    int(row["replications"]))


def difference_interval(row: Mapping[str, Any]) -> Interval:
    """The interval of the difference from the baseline in a row of ``compare_runs``'s table."""
    return Interval.symmetric(float(row["difference"]), float(row["difference_half_width"]))


def describe_pairing(table: pd.DataFrame) -> str:
    """How the comparison ``table`` matched each run's replications with the baseline's, in words."""
    rows = table[table["verdict"] != "baseline"].drop_duplicates("run")
    paired = [str(run) for run, kind in zip(rows["run"], rows["pairing"], strict=True) if kind == "paired"]
    unpaired = [str(run) for run, kind in zip(rows["run"], rows["pairing"], strict=True) if kind != "paired"]
    if rows.empty:
        return "Nothing to compare with the baseline."
    if paired and not unpaired:
        return ("Differences are paired by replication: each replication has the same seed and index, so the same "
                "random numbers, as the baseline's (common random numbers).")
    if unpaired and not paired:
        return ("The runs share no replication (seed and replication index), so differences use Welch's interval "
                "for independent samples.")
    return (f"Paired by replication with the baseline (common random numbers): {', '.join(paired)}. Sharing no "
            f"replication with it, so compared as independent samples (Welch's interval): {', '.join(unpaired)}.")


@dataclass(frozen=True)
class Grid:
    """A table as the console prints it and a report writes it: one list of rows of text, shown
    by ``rich_table`` on the console and as Markdown by ``twin.command_reports``."""

    title: str
    header: tuple[str, ...]
    #: Which columns hold figures (aligned right).
    right: tuple[bool, ...]
    rows: tuple[tuple[str, ...], ...]
    caption: str


def rich_table(grid: Grid) -> Table:
    """``grid`` as a Rich table, for the console."""
    table = Table(title=grid.title, caption=grid.caption or None)
    for name, right in zip(grid.header, grid.right, strict=True):
        table.add_column(name, justify="right" if right else "left")
    for row in grid.rows:
        table.add_row(*row)
    return table


def all_equal(means: pd.Series) -> bool:
    """Whether the runs' means of a KPI are all the same (or none is known): no run is best then."""
    known = {float(mean) for mean in means if not pd.isna(mean)}
    return len(known) <= 1


#: What the comparison table's figures mean, after how the replications were matched.
COMPARISON_CAPTION = ("* the best mean on a KPI where more or less is better (when the means differ); better / worse: the 95 % interval of "
                      "the difference excludes zero.")


def comparison_grid(table: pd.DataFrame, names: Mapping[str, str] | None = None) -> Grid:
    """The comparison as the console and ``comparison.md`` show it: a row per KPI with each run's
    mean and 95 % interval (``*`` on the best run's, where more or less of the KPI is better and
    the runs' means differ),
    then each run's difference from the baseline with its interval and, when the interval says
    so, "better", "worse" or "no interval". The columns name each run by its label, or as
    ``names`` maps the labels (a report names them by letter)."""
    runs = [str(run) for run in dict.fromkeys(table["run"])]
    named = {run: (names or {}).get(run, run) for run in runs}
    header = ["KPI", "unit", *(named[run] for run in runs), *(f"{named[run]} - {named[runs[0]]}" for run in runs[1:])]
    rows = []
    for kpi, group in table.groupby("kpi", sort=False):
        by_run = {str(row["run"]): row for row in group.to_dict("records")}
        cells = [str(kpi), str(group["unit"].iloc[0])]
        judged = len(runs) > 1 and not all_equal(group["mean"])
        for run in runs:
            row = by_run.get(run)
            if row is None:
                cells.append("-")
                continue
            best = judged and row["direction"] != NEUTRAL and row["best"] == run
            cells.append(with_ci(row_interval(row)) + (" *" if best else ""))
        for run in runs[1:]:
            row = by_run.get(run)
            if row is None:
                cells.append("-")
                continue
            verdict = f" {row['verdict']}" if row["verdict"] in ("better", "worse", "no interval") else ""
            cells.append(f"{with_ci(difference_interval(row))}{verdict}")
        rows.append(tuple(cells))
    return Grid(title="Comparison with " + (named[runs[0]] if runs else "-"), header=tuple(header),
                right=(False, False, *(True for _ in header[2:])), rows=tuple(rows),
                caption=describe_pairing(table) + " " + COMPARISON_CAPTION)


def format_table(table: pd.DataFrame) -> str:
    """The comparison as a plain-text table (``comparison_grid``): each run's mean ± CI, then
    each difference.

    A difference is called better or worse only when its confidence interval excludes zero,
    and "no interval" when one run has a single replication; the caption says how the
    replications were matched (``describe_pairing``). The table's warnings
    (``comparison_warnings``), if any, come first, one line each.
    """
    runs = list(dict.fromkeys(table["run"]))
    buffer = io.StringIO()
    console = Console(file=buffer, width=60 + 28 * max(1, len(runs) * 2 - 1), color_system=None, force_terminal=False)
    for warning in table.attrs.get("warnings", []):
        console.print(f"Warning: {warning}", highlight=False, markup=False)
    console.print(rich_table(comparison_grid(table)))
    for line in kpi_notes(table["kpi"]):
        console.print(line, highlight=False, markup=False)
    return buffer.getvalue()


def run_letters(labels: Sequence[str]) -> dict[str, str]:
    """A letter for each run compared, in order (A is the baseline; R27, R28, ... after Z), for
    headings and charts too narrow for a run's label."""
    letters = string.ascii_uppercase
    return {label: letters[i] if i < len(letters) else f"R{i + 1}" for i, label in enumerate(labels)}


#: Characters a line of the chart's key to the run letters holds before it wraps.
_KEY_WIDTH = 120
#: By unit, the baseline mean below which a change in percent of it means nothing (a wait of
#: a fraction of a second going to a few seconds is "+1,500 %"): a tenth of a minute, half a
#: percent, one truck's length of road queue, a tenth of a truck-hour, one in a thousand trucks.
CHART_FLOORS: dict[str, float] = {"min": 0.1, "share": 0.005, "km": 0.02, "truck-h": 0.1, "per 100 trucks": 0.1}


def below_chart_floor(unit: str, baseline_mean: float) -> bool:
    """Whether a baseline mean is too near zero, for its unit (``CHART_FLOORS``), for a change
    in percent of it to mean anything."""
    return abs(baseline_mean) < CHART_FLOORS.get(unit, 0.0)


def _judged_changes(table: pd.DataFrame) -> list[tuple[dict[str, Any], float, bool]]:
    """The rows of the comparison chart's candidates: each judged KPI of each run but the
    baseline whose baseline mean is known and not 0, with that mean and whether it is too near
    zero for its unit to be drawn (``below_chart_floor``)."""
    base_rows = table[table["verdict"] == "baseline"]
    baseline_mean = dict(zip(base_rows["kpi"], base_rows["mean"], strict=True))
    found = []
    for row in table.to_dict("records"):
        reference = float(baseline_mean.get(row["kpi"], math.nan))
        if row["direction"] == NEUTRAL or row["verdict"] == "baseline" or not np.isfinite(reference) or reference == 0:
            continue
        found.append((row, reference, below_chart_floor(str(row["unit"]), reference)))
    return found


def chart_left_out(table: pd.DataFrame, letters: Mapping[str, str] | None = None) -> str:
    """The sentence under the comparison chart naming the judged KPIs it leaves out because the
    baseline's mean is too near zero for their unit (``below_chart_floor``), each with every run's
    mean, the runs named by ``letters`` (by default ``run_letters``); "" when it leaves none out."""
    runs = [str(run) for run in dict.fromkeys(table["run"])]
    letters = {**run_letters(runs), **(letters or {})}
    base_rows = table[table["verdict"] == "baseline"]
    baseline_letter = letters.get(str(base_rows["run"].iloc[0]), "the baseline") if len(base_rows) else "the baseline"
    near_zero: dict[tuple[str, str], list[str]] = {}  # (KPI, unit) -> each run's mean
    for row, reference, near in _judged_changes(table):
        if near:
            means = near_zero.setdefault((str(row["kpi"]), str(row["unit"])), [f"{baseline_letter} {number_text(reference)}"])
            means.append(f"{letters[str(row['run'])]} {number_text(row['mean'])}")
    if not near_zero:
        return ""
    listed = "; ".join(f"{kpi} ({', '.join(means)} {unit})" for (kpi, unit), means in near_zero.items())
    return f"Not drawn, the baseline too near zero for a change in percent to mean anything: {listed}."


def comparison_plot(table: pd.DataFrame, letters: Mapping[str, str] | None = None) -> Figure:
    """Change of each judged KPI against the baseline, in percent of the baseline's mean.

    One bar per KPI and run. Green: significantly better; red: significantly worse; grey: no
    clear difference. KPIs without a direction, or whose baseline mean is 0 or missing, are
    left out (a percentage of them means nothing), as are those whose baseline mean is below the
    floor for their unit (``below_chart_floor``): the key under the chart names these with each
    run's mean, so no change from a near-zero baseline sets the scale. The axis spans the
    changes (at least ±10 %); an interval wider than that is cut at the axis and its half width given in its label. Runs are named by letter (``letters``, by
    default ``run_letters`` of the runs in the table's order: A is the baseline), in the bars'
    labels when there are more than two runs and in a key under the chart, which gives each
    letter's run in full: a run's label can be longer than the chart is wide.
    """
    runs = [str(run) for run in dict.fromkeys(table["run"])]
    letters = {**run_letters(runs), **(letters or {})}
    base_rows = table[table["verdict"] == "baseline"]
    baseline_name = str(base_rows["run"].iloc[0]) if len(base_rows) else None
    baseline_letter = letters.get(baseline_name, "the baseline") if baseline_name is not None else "the baseline"
    several = len(runs) > 2
    bars = []
    for row, reference, near in _judged_changes(table):
        if near:
            continue
        scale = 100.0 / abs(reference)
        colour = "tab:grey"
        if row["significant"]:
            colour = "tab:green" if row["verdict"] == "better" else "tab:red"
        label = f"{row['kpi']} ({row['direction']} is better)" + (f"  {letters[str(row['run'])]}" if several else "")
        bars.append((label, row["difference"] * scale, row["difference_half_width"] * scale, colour, row["kpi"]))
    figure = Figure(figsize=(10, 2.0 + 0.35 * max(1, len(bars))), layout="constrained")
    ax = figure.subplots()
    # The axis spans the changes themselves, not the widest interval: a KPI with a baseline near 0
    # (a few trucks returned) has an interval of hundreds of percent that would flatten every
    # other bar. An interval running off the axis is cut there and marked in its label.
    changes = [abs(change) for _, change, _, _, _ in bars if not math.isnan(change)]
    reach = max(10.0, 1.3 * max(changes, default=0.0))
    labels = []
    for position, (label, change, error, colour, _) in enumerate(bars):
        ax.barh(position, 0.0 if math.isnan(change) else change, color=colour,
                xerr=None if math.isnan(error) else error, capsize=3)
        cut = not math.isnan(error) and not math.isnan(change) and abs(change) + error > reach
        labels.append(label + (f" [±{error:,.0f} %]" if cut else ""))
    ax.set_xlim(-reach, reach)
    ax.set_yticks(range(len(bars)), labels)
    if several:  # a faint line between the bars of one KPI and the next
        for position in range(1, len(bars)):
            if bars[position][4] != bars[position - 1][4]:
                ax.axhline(position - 0.5, color="grey", linewidth=0.5, alpha=0.5)
    ax.invert_yaxis()
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlabel(f"change vs {baseline_letter}, the baseline (% of its mean)")
    ax.grid(axis="x", alpha=0.3)
    if not bars:
        ax.text(0.5, 0.5, "nothing to compare", ha="center", va="center", transform=ax.transAxes)
    key = "\n".join(textwrap.fill(f"{letters[run]}{' (baseline)' if run == baseline_name else ''}: {run}", _KEY_WIDTH,
                                   subsequent_indent="    ") for run in runs)
    left_out = chart_left_out(table, letters)
    if left_out:
        key += "\n" + textwrap.fill(left_out, _KEY_WIDTH, subsequent_indent="    ")
    figure.supxlabel(key, fontsize=9, ha="left", x=0.01)
    figure.suptitle("Difference from the baseline, with 95 % confidence intervals")
    return figure
