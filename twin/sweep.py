"""Sweeping a layout: one scenario over a grid of values, every cell with the same seeds.

A planner asks "how many lanes, scales, scanners, yard slots, AGVs?". ``gatetwin sweep``
varies one or more fields of a scenario (``--vary KEY=[V1, V2, ...]``: a YAML list of the values
to try, each read as ``--set`` reads one), and runs every combination of them, the *cells*: in
the order the values are given, the first field varying slowest. Every cell runs with the same
seed, so replication r of each cell sees the same trucks (common random numbers), and every cell
is compared with the first, replication by replication (``twin.compare.compare_runs``).

It writes ``sweep.csv``, one row per cell and KPI (the value of each varied field, the mean and
its 95 % interval, as half width and as bounds cut to the KPI's range, the replications, the
difference from the first cell with its interval and verdict), and
``sweep.png``, the chosen KPIs against the first varied field with a line for each combination
of the others, beside a results folder per cell (``1-<name>``, ``2-<name>``, ... as ``compare``
writes them, each one a run the dashboard opens). ``sweep.md``, its report for people
(``twin.command_reports.sweep_report``), shows the console's table, built once here (``sweep_grid``).
"""

from __future__ import annotations

import io
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import yaml
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle
from rich.console import Console

from scenarios.errors import ScenarioError, ScenarioIssue, format_errors
from scenarios.loader import RUN_SETTINGS, read_setting, split_setting, with_overrides, with_settings
from scenarios.schema import Scenario
from twin.compare import (
    HIGHER,
    LOWER,
    NEUTRAL,
    Grid,
    all_equal,
    kpi_direction,
    rich_table,
    row_interval,
    with_ci,
)
from twin.plots import error_bars
from twin.results import KPI_UNITS, STATION_KPI_UNITS, kpi_order, kpi_unit
from twin.targets import Target, Verdict, meets_all, parse_target, smallest

#: What ``gatetwin sweep --out`` writes beside its cells' folders: the table, the chart, and the
#: report for people (``twin.command_reports.sweep_report``).
SWEEP_CSV, SWEEP_PLOT, SWEEP_REPORT = "sweep.csv", "sweep.png", "sweep.md"
#: The map of the cells' verdicts on the service targets, written beside them when there are targets.
TARGETS_PLOT = "targets.png"
#: A sweep of more cells is refused: it is most likely a typing slip (a grid of 5 x 5 x 5 is
#: 125 runs), and one can always sweep in parts.
MAX_CELLS = 100
#: The KPIs the console table and the chart show unless ``--kpi`` names others.
DEFAULT_KPIS: tuple[str, ...] = ("throughput_per_day", "time_at_gate_p95", "road_queue_km_max", "yard_occupancy_max")
#: The first columns of ``sweep.csv``, after one column per varied field.
COLUMNS: tuple[str, ...] = ("cell", "kpi", "unit", "direction", "mean", "half_width", "low", "high", "replications",
                            "difference", "difference_half_width", "pairing", "verdict", "best")


@dataclass(frozen=True)
class Vary:
    """One field the sweep varies: its dotted key, and each value as YAML text for ``--set``."""

    key: str
    texts: tuple[str, ...]
    values: tuple[Any, ...]


@dataclass(frozen=True)
class Cell:
    """One combination of the varied fields' values."""

    index: int
    #: (field label, value text) for each varied field, in the order of the ``--vary`` options.
    values: tuple[tuple[str, str], ...]
    #: The ``KEY=VALUE`` changes that make it from the scenario.
    settings: tuple[str, ...]

    @property
    def label(self) -> str:
        return ", ".join(f"{name}={text}" for name, text in self.values)


def yaml_text(value: Any) -> str:
    """``value`` as one line of YAML that reads back as the same value."""
    text = yaml.safe_dump(value, default_flow_style=True, width=10**9, allow_unicode=True, sort_keys=False).strip()
    return text.removesuffix("...").strip()


def parse_vary(pairs: Sequence[str], where: str = "--vary") -> list[Vary]:
    """``KEY=[V1, V2, ...]`` options as the fields to vary; ``ScenarioError`` (file ``where``)
    naming every malformed option at once: no ``=``, a value that is not a non-empty YAML list,
    a value given twice, a field varied twice, or a run setting (hours, replications, seed:
    cells must cover the same hours with the same seeds to be compared)."""
    varies: list[Vary] = []
    issues: list[ScenarioIssue] = []
    seen: set[str] = set()
    for pair in pairs:
        split = split_setting(pair)
        if split is None:
            issues.append(ScenarioIssue(pair.strip(), "give KEY=[V1, V2, ...], e.g. layout.entry_lanes=[2, 3, 4]"))
            continue
        key, text = split
        if key in seen:
            issues.append(ScenarioIssue(key, "is varied twice: give all its values in one list"))
            continue
        seen.add(key)
        if key == "run" or key in RUN_SETTINGS or (key.startswith("run.") and key[4:] in RUN_SETTINGS):
            issues.append(ScenarioIssue(key, "cannot be varied: every cell runs for the same hours and replications "
                                             "with the same seed (give --hours, --reps or --seed)"))
            continue
        values, problems = read_setting(key, text, where)
        if problems:
            issues += problems
            continue
        if not isinstance(values, list) or not values:
            issues.append(ScenarioIssue(key, f"give the values to try as a YAML list, e.g. {key}=[2, 3] (got {text!r})"))
            continue
        texts = tuple(yaml_text(v) for v in values)
        repeated = sorted({t for t in texts if texts.count(t) > 1})
        if repeated:
            issues.append(ScenarioIssue(key, f"value given twice: {', '.join(repeated)}"))
            continue
        varies.append(Vary(key, texts, tuple(values)))
    if issues:
        raise ScenarioError(where, issues)
    return varies


def field_labels(varies: Sequence[Vary]) -> list[str]:
    """A short name for each varied field: its last key (``entry_lanes``), or its whole dotted
    key where two fields share a last key (``layout.yard.truck``) or the last key is the name of
    a column of the table (``agencies.customs.service_s.mean``)."""
    last = [v.key.split(".")[-1] for v in varies]
    return [name if last.count(name) == 1 and name not in COLUMNS else v.key
            for name, v in zip(last, varies, strict=True)]


def sweep_cells(varies: Sequence[Vary]) -> list[Cell]:
    """Every combination of the varied fields' values, the first field varying slowest."""
    labels = field_labels(varies)
    cells = []
    for index, texts in enumerate(itertools.product(*(v.texts for v in varies))):
        cells.append(Cell(index, tuple(zip(labels, texts, strict=True)),
                          tuple(f"{v.key}={t}" for v, t in zip(varies, texts, strict=True))))
    return cells


def known_kpi(name: str) -> bool:
    """Whether ``name`` is a KPI a run can report: a run-level one, a station's or an agency's."""
    return name in KPI_UNITS or any(name.endswith(suffix) for suffix in STATION_KPI_UNITS)


#: The KPIs a sweep shows or a target names, in words, for the messages that refuse another.
KPI_CHOICES = f"one of {', '.join(kpi_order(KPI_UNITS))}, or a station's or agency's NAME_utilisation / NAME_mean_wait"
#: Said beside the errors of a cell when one of them is a list field given a plain value.
LIST_FIELD_HINT = ("a field that holds a list is varied with a list of lists, e.g. "
                   "'layout.scanners=[[{type: portal, count: 1}], [{type: portal, count: 2}]]'")


def parse_targets(texts: Sequence[str], where: str = "--meet") -> list[Target]:
    """Service targets from ``KPI<=N`` / ``KPI>=N`` texts; ``ValueError`` naming every bad one at
    once, a line each."""
    targets: list[Target] = []
    problems: list[str] = []
    for text in texts:
        try:
            targets.append(parse_target(text, known_kpi, KPI_CHOICES, where))
        except ValueError as exc:
            problems.append(str(exc))
    if problems:
        raise ValueError("\n".join(problems))
    return targets


def cell_scenarios(base: Scenario, cells: Sequence[Cell], hours: float | None = None) -> tuple[list[Scenario], list[str]]:
    """Each cell's scenario: ``base`` with the cell's changes (named as a variant, as
    ``with_settings`` names one), run for ``hours`` when given; and every error of every cell,
    a line each starting with the cell, so that all are made and checked before any runs."""
    made: list[Scenario] = []
    problems: list[str] = []
    for cell in cells:
        try:
            changed = with_settings(base, list(cell.settings))
            made.append(with_overrides(changed, horizon_h=hours) if hours is not None else changed)
        except ScenarioError as err:
            problems += [f"cell {cell.index + 1} ({cell.label}): {line}" for line in format_errors(err)]
    if any("must be a list" in line for line in problems):
        problems.append(LIST_FIELD_HINT)
    return made, problems


def sweep_table(comparison: pd.DataFrame, cells: Sequence[Cell]) -> pd.DataFrame:
    """``compare_runs``'s table of the cells (labelled ``Cell.label``) with a column per varied
    field holding its value text, and the cell's number (1 is the first, the baseline)."""
    by_label = {cell.label: cell for cell in cells}
    fields = [name for name, _ in cells[0].values] if cells else []
    rows = []
    for record in comparison.to_dict("records"):
        cell = by_label[str(record["run"])]
        row: dict[str, Any] = dict(cell.values)
        row["cell"] = cell.index + 1
        row.update({k: record[k] for k in COLUMNS if k != "cell"})
        if record["best"]:
            row["best"] = by_label[str(record["best"])].index + 1
        else:
            row["best"] = math.nan
        rows.append(row)
    table = pd.DataFrame(rows, columns=[*fields, *COLUMNS])
    table.attrs["fields"] = fields
    table.attrs["warnings"] = list(comparison.attrs.get("warnings", []))
    return table


#: What the sweep table's figures and marks mean.
SWEEP_CAPTION = ("mean ± 95 % CI, or the mean (the interval's bounds) where the KPI's range cuts it. ↑ higher is "
                 "better, ↓ lower is better, * the best cell on such a KPI (when the cells' means differ); better / "
                 "worse: the 95 % interval of the difference from cell 1 excludes zero.")


def sweep_grid(table: pd.DataFrame, kpis: Sequence[str]) -> Grid:
    """The sweep as the console and ``sweep.md`` show it: the cells as rows, the value of each
    varied field, and the chosen KPIs among those the runs report as columns (mean ± 95 % CI);
    ``*`` marks each KPI's best cell where more or less of it is better, "better" / "worse" a
    significant difference from cell 1."""
    fields = list(table.attrs.get("fields", []))
    shown = shown_kpis(table, kpis)
    header = ["cell", *fields]
    for kpi in shown:
        arrow = {LOWER: " ↓", HIGHER: " ↑"}.get(kpi_direction(kpi), "")
        header.append(f"{kpi}{arrow}\n({kpi_unit(kpi) or '-'})")
    records = table.to_dict("records")
    by_key = {(int(r["cell"]), str(r["kpi"])): r for r in records}
    cells = sorted({int(c) for c in table["cell"]})
    tied = {kpi for kpi in shown if all_equal(table.loc[table["kpi"] == kpi, "mean"])}
    rows = []
    for number in cells:
        first = next(r for r in records if int(r["cell"]) == number)
        row = [str(number), *(str(first[name]) for name in fields)]
        for kpi in shown:
            record = by_key.get((number, kpi))
            if record is None:
                row.append("-")
                continue
            text = with_ci(row_interval(record))
            if record["verdict"] in ("better", "worse"):
                text += f" {record['verdict']}"
            if (len(cells) > 1 and kpi not in tied and record["direction"] != NEUTRAL
                    and not pd.isna(record["best"]) and int(record["best"]) == number):
                text += " *"
            row.append(text)
        rows.append(tuple(row))
    return Grid(title="Sweep: each cell against the first, with the same seeds", header=tuple(header),
                right=(True, *(False for _ in fields), *(True for _ in shown)), rows=tuple(rows), caption=SWEEP_CAPTION)


def shown_kpis(table: pd.DataFrame, kpis: Sequence[str]) -> list[str]:
    """The KPIs among ``kpis`` that the sweep's runs report, in the order given."""
    reported = set(table["kpi"])
    return [k for k in kpis if k in reported]


def unreported_kpis(table: pd.DataFrame, kpis: Sequence[str]) -> str:
    """The sentence naming the KPIs among ``kpis`` that the sweep's runs do not report; "" when they report all."""
    missing = [k for k in kpis if k not in set(table["kpi"])]
    return f"Not reported by these runs: {', '.join(missing)}." if missing else ""


def format_sweep(table: pd.DataFrame, kpis: Sequence[str]) -> str:
    """The cells as rows and the chosen KPIs as columns (``sweep_grid``), after the table's
    warnings, then the chosen KPIs the runs do not report."""
    fields = list(table.attrs.get("fields", []))
    shown = shown_kpis(table, kpis)
    buffer = io.StringIO()
    console = Console(file=buffer, width=max(100, 16 * len(fields) + 28 * len(shown) + 10), color_system=None,
                      force_terminal=False)
    for warning in table.attrs.get("warnings", []):
        console.print(f"Warning: {warning}", highlight=False, markup=False)
    console.print(rich_table(sweep_grid(table, kpis)))
    missing = unreported_kpis(table, kpis)
    if missing:
        console.print(missing, highlight=False, markup=False)
    return buffer.getvalue()


# --- service targets (``--meet``) -----------------------------------------------------------


@dataclass(frozen=True)
class TargetOutcome:
    """The cells of a sweep against its service targets (``twin.targets``)."""

    targets: tuple[Target, ...]
    #: Per cell (in cell order): its verdict on each target, then on all of them at once.
    verdicts: tuple[tuple[Verdict, ...], ...]
    overall: tuple[Verdict, ...]
    #: The smallest cells (0-based) that meet every target, and those that may (when none meets).
    smallest_meeting: tuple[int, ...]
    smallest_maybe: tuple[int, ...]


def judge_targets(table: pd.DataFrame, varies: Sequence[Vary], cells: Sequence[Cell],
                  targets: Sequence[Target]) -> TargetOutcome:
    """Each cell of ``table`` (``sweep_table``) against each target, from its KPI's mean and 95 %
    interval; and the smallest cells meeting them all (each field's values as ``varies`` lists
    them, the first the smallest)."""
    by_key = {(int(r["cell"]), str(r["kpi"])): r for r in table.to_dict("records")}
    verdicts, overall = [], []
    for cell in cells:
        row = []
        for target in targets:
            record = by_key.get((cell.index + 1, target.kpi))
            if record is None:
                row.append(Verdict.NOT_MEASURED)
                continue
            row.append(target.judge(float(record["mean"]), float(record["low"]), float(record["high"]),
                                    int(record["replications"])))
        verdicts.append(tuple(row))
        overall.append(meets_all(row))
    positions = [tuple(vary.texts.index(text) for vary, (_, text) in zip(varies, cell.values, strict=True))
                 for cell in cells]
    meeting = smallest(positions, [v is Verdict.MEETS for v in overall])
    maybe = [] if meeting else smallest(positions, [v is not Verdict.FAILS for v in overall])
    return TargetOutcome(tuple(targets), tuple(verdicts), tuple(overall), tuple(meeting), tuple(maybe))


TARGETS_CAPTION = ("meets: the cell's whole 95 % interval holds the target; may meet: its mean does, its interval "
                   "reaches past it (more replications would tell); fails: its mean does not.")


def targets_grid(outcome: TargetOutcome, cells: Sequence[Cell]) -> Grid:
    """The cells against the targets as the console and ``sweep.md`` show them: a row per cell,
    the varied fields' values, the verdict on each target and on all of them at once."""
    fields = [name for name, _ in cells[0].values] if cells else []
    smallest_cells = set(outcome.smallest_meeting)
    rows = []
    for cell, verdicts, overall in zip(cells, outcome.verdicts, outcome.overall, strict=True):
        mark = " (smallest)" if cell.index in smallest_cells else ""
        rows.append((str(cell.index + 1), *(text for _, text in cell.values), *(v.value for v in verdicts),
                     overall.value + mark))
    return Grid(title="Service targets", header=("cell", *fields, *(str(t) for t in outcome.targets), "every target"),
                right=(True, *(False for _ in fields), *(False for _ in outcome.targets), False),
                rows=tuple(rows), caption=TARGETS_CAPTION)


def targets_verdict(outcome: TargetOutcome, cells: Sequence[Cell]) -> str:
    """The smallest cells meeting every target, in a sentence (or that none does, and which may)."""
    def named(indices: Sequence[int]) -> str:
        return "; ".join(f"cell {i + 1} ({cells[i].label})" for i in indices)

    every = " and ".join(str(t) for t in outcome.targets)
    if outcome.smallest_meeting:
        return f"Smallest cells meeting {every} with 95 % confidence: {named(outcome.smallest_meeting)}."
    if outcome.smallest_maybe:
        return (f"No cell meets {every} with 95 % confidence. The smallest whose means do: "
                f"{named(outcome.smallest_maybe)}; more replications would tell.")
    return f"No cell meets {every}: sweep larger values."


#: Each verdict's colour on the map of the targets (green, amber, red, grey).
VERDICT_COLOURS: dict[Verdict, str] = {Verdict.MEETS: "#a5d6a7", Verdict.MAY_MEET: "#ffe082", Verdict.FAILS: "#ef9a9a",
                                       Verdict.NOT_MEASURED: "#e0e0e0"}
TARGETS_MAP_CAPTION = ("Each cell's verdict on every target at once, the last varied field across and the others "
                       "down; a thick frame marks the smallest cells meeting every target")


def targets_map(outcome: TargetOutcome, varies: Sequence[Vary], cells: Sequence[Cell]) -> Figure:
    """The cells as a map of their verdicts on every target at once: the last varied field's
    values across, a row for each combination of the others (in the order the cells run), each
    square coloured by its verdict and the smallest cells meeting every target framed."""
    labels = field_labels(varies)
    across, down = labels[-1], labels[:-1]
    columns = list(varies[-1].texts)
    row_keys = list(dict.fromkeys(tuple(text for _, text in cell.values[:-1]) for cell in cells))
    width = max(4.8, 1.3 * len(columns) + 2.6)
    figure = Figure(figsize=(width, max(2.2, 0.55 * len(row_keys) + 1.6)), layout="constrained")
    ax = figure.add_subplot()
    smallest_cells = set(outcome.smallest_meeting)
    for cell, overall in zip(cells, outcome.overall, strict=True):
        x = columns.index(cell.values[-1][1])
        y = row_keys.index(tuple(text for _, text in cell.values[:-1]))
        framed = cell.index in smallest_cells
        ax.add_patch(Rectangle((x - 0.46, y - 0.42), 0.92, 0.84, facecolor=VERDICT_COLOURS[overall],
                               edgecolor="#1b5e20" if framed else "white", linewidth=3 if framed else 1))
        said = f"{overall.value} (smallest)" if framed else overall.value
        ax.text(x, y, f"{said}\ncell {cell.index + 1}", ha="center", va="center", fontsize=8,
                fontweight="bold" if framed else "normal")
    ax.set_xlim(-0.5, len(columns) - 0.5)
    ax.set_ylim(len(row_keys) - 0.5, -0.5)
    ax.set_xticks(range(len(columns)), columns, fontsize=8)
    ax.set_xlabel(across)
    ax.set_yticks(range(len(row_keys)),
                  [", ".join(f"{name}={text}" for name, text in zip(down, key, strict=True)) or " " for key in row_keys],
                  fontsize=8)
    for side in ("top", "right", "bottom", "left"):
        ax.spines[side].set_visible(False)
    ax.tick_params(length=0)
    every = " and ".join(str(t) for t in outcome.targets)
    ax.set_title(f"Every target: {every}", fontsize=10)
    ax.legend(handles=[Patch(facecolor=colour, label=verdict.value) for verdict, colour in VERDICT_COLOURS.items()],
              loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    return figure


def with_targets(table: pd.DataFrame, outcome: TargetOutcome) -> pd.DataFrame:
    """``table`` with the targets beside the KPIs they hold: ``target`` (e.g. "<= 120") and
    ``meets`` (the cell's verdict) on those rows, empty on the others."""
    table = table.copy()
    targets, meets = [""] * len(table), [""] * len(table)
    where = {(int(c), str(k)): i for i, (c, k) in enumerate(zip(table["cell"], table["kpi"], strict=True))}
    for t, target in enumerate(outcome.targets):  # a KPI held to two bounds lists both, "; " between
        for c, verdicts in enumerate(outcome.verdicts):
            i = where.get((c + 1, target.kpi))
            if i is not None:
                targets[i] = "; ".join(filter(None, (targets[i], f"{target.op} {target.bound:g}")))
                meets[i] = "; ".join(filter(None, (meets[i], verdicts[t].value)))
    table["target"], table["meets"] = targets, meets
    return table


def _numbers(texts: Sequence[str]) -> list[float] | None:
    """The value texts as numbers when every one is a plain number, else None."""
    values: list[float] = []
    for text in texts:
        value = yaml.safe_load(text)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None
        values.append(float(value))
    return values


def sweep_plot(table: pd.DataFrame, kpis: Sequence[str]) -> Figure:
    """One panel per chosen KPI: its mean and 95 % interval in each cell against the first varied
    field's values (on a number line when they are all numbers), a line for each combination of
    the other varied fields."""
    fields = list(table.attrs.get("fields", []))
    shown = shown_kpis(table, kpis)
    columns = min(2, max(1, len(shown)))
    rows = max(1, math.ceil(len(shown) / columns))
    figure = Figure(figsize=(6.4 * columns, 4.2 * rows), layout="constrained")
    if not shown or not fields:
        figure.text(0.5, 0.5, "nothing to plot", ha="center", va="center")
        return figure
    x_field, others = fields[0], fields[1:]
    x_texts = list(dict.fromkeys(str(v) for v in table[x_field]))
    numeric = _numbers(x_texts)
    positions = numeric if numeric is not None else list(range(len(x_texts)))
    where = dict(zip(x_texts, positions, strict=True))
    for index, kpi in enumerate(shown):
        ax = figure.add_subplot(rows, columns, index + 1)
        rows_of_kpi = table[table["kpi"] == kpi]
        groups = list(rows_of_kpi.groupby(others, sort=False)) if others else [((), rows_of_kpi)]
        # Lines side by side, a little apart, so that equal means keep their intervals apart.
        spacing = float(np.min(np.diff(sorted(positions)))) if len(positions) > 1 else 1.0
        for number, (key, group) in enumerate(groups):
            dodge = (number - (len(groups) - 1) / 2) * 0.04 * spacing
            xs = np.array([where[str(v)] + dodge for v in group[x_field]], dtype=float)
            means = group["mean"].to_numpy(dtype=float)
            # The interval's bounds, cut to the KPI's range, so a bar may be shorter on one side.
            errors = error_bars(means, group["low"].to_numpy(dtype=float), group["high"].to_numpy(dtype=float))
            order = np.argsort(xs, kind="stable")
            key_values = key if isinstance(key, tuple) else (key,)
            label = ", ".join(f"{name}={value}" for name, value in zip(others, key_values, strict=True)) or None
            ax.errorbar(xs[order], means[order], yerr=errors[:, order], marker="o", capsize=3, label=label)
        direction = kpi_direction(kpi)
        judged = {LOWER: " (lower is better)", HIGHER: " (higher is better)"}.get(direction, "")
        ax.set_title(f"{kpi}{judged}", fontsize=10)
        ax.set_xlabel(x_field)
        ax.set_ylabel(kpi_unit(kpi) or kpi)
        if numeric is None:
            ax.set_xticks(positions, x_texts, rotation=15, ha="right", fontsize=8)
        else:
            ax.set_xticks(positions)
        ax.grid(alpha=0.3)
        if others:
            ax.legend(fontsize=8)
    figure.suptitle("Sweep: mean and 95 % interval in each cell, the same seeds in every cell", fontsize=11)
    return figure


def describe_cells(cells: Sequence[Cell], reps: int) -> str:
    """What the sweep will run, in one line."""
    return f"{len(cells)} cell(s) x {reps} replication(s), every cell with the same seeds"
