"""Sizing the gate from the dashboard: a sweep over layout fields judged against service targets.

The "Size the gate" page asks what ``gatetwin sweep --vary ... --meet ...`` asks: a library
scenario, the fields to vary with the values to try, the service targets, the hours,
replications and seed. ``plan_sizing`` reads the form into a ``SizingPlan`` (every problem of
every line and every cell at once, nothing started), whose cells run as ordinary runs on the
dashboard's job board, so each is cached by its key, shows its progress in the sidebar, can be
cancelled, and is saved in its own results folder. ``cell_states`` follows them;
``finish_sizing`` compares them once all have finished and writes the sweep's folder as
``gatetwin sweep --out`` writes it (``sweep.csv``, ``sweep.png``, ``sweep.md`` and a copy of each
cell's results), so the same sweep gives the same files from the dashboard and the command line.

This module holds no Streamlit calls: the page (``dashboard/views/sizing.py``) draws it.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pandas as pd

from dashboard.forms import change_lines, field_clashes
from dashboard.jobs import JobBoard, JobKey, JobStatus, RunRequest
from scenarios import ALIASES, ScenarioError, format_errors, library_names, load_scenario, with_settings
from scenarios.schema import Scenario
from twin.command_reports import RunEntry, run_entry, write_sweep
from twin.compare import Grid, compare_runs, run_folder_names
from twin.results import SUMMARY_FILE, RunResult, load_results
from twin.sweep import (
    DEFAULT_KPIS,
    MAX_CELLS,
    Cell,
    TargetOutcome,
    Vary,
    cell_scenarios,
    judge_targets,
    parse_targets,
    parse_vary,
    sweep_cells,
    sweep_table,
    yaml_text,
)
from twin.targets import Target

#: The group of the board's runs a sizing starts (``dashboard.state.request_runs``): they are
#: followed by the sizing page, not opened one by one among the session's runs.
SIZING_GROUP = "sizing"
#: Where, in the dashboard's results folder, each sizing's folder is written.
SWEEPS_FOLDER = "sweeps"
#: The fields planners size a gate by, with what each is, in the order the page lists them.
#: A scenario's agencies add their officers (``agencies.NAME.officers``), its AGV lane its AGVs
#: and stack.
SIZING_FIELDS: dict[str, str] = {
    "layout.entry_lanes": "entry lanes (barrier 1), each way",
    "layout.exit_lanes": "exit lanes (barrier 2), each way",
    "layout.barrier_places": "vehicles standing at a lane's barrier at once",
    "layout.forecourt_per_lane": "trucks the forecourt holds per entry lane",
    "layout.scales": "electronic scales",
    "layout.scanners": "container scanners by type (a list: vary it with a list of lists)",
    "layout.inspection_bays": "bays for physical inspection",
    "layout.yard.small": "yard slots for small vehicles",
    "layout.yard.truck": "yard slots for trucks",
    "layout.yard.container": "yard slots for container trucks",
    "layout.agv_lane.n_agvs": "AGVs on the cross-border lane",
    "layout.agv_lane.stack_slots": "container places on the AGV handover stack",
}
#: The run settings the page gives in fields of their own, by the label of each field.
SIZING_RUN_FIELDS = {"horizon_h": "Simulated hours", "replications": "Replications per cell", "seed": "Seed (every cell)"}
#: Placeholders of the page's fields: what a sizing looks like.
VARY_EXAMPLE = "layout.entry_lanes=[1, 2, 3]\nagencies.customs.officers=[4, 8, 12]"
TARGETS_EXAMPLE = "time_at_gate_p95<=180\nthroughput_per_day>=800"


class SizingProblems(Exception):
    """A sizing that cannot start: every problem, a line each, naming the field and the line."""

    def __init__(self, lines: Sequence[str]) -> None:
        self.lines = list(lines)
        super().__init__("\n".join(self.lines))


@dataclass(frozen=True)
class SizingPlan:
    """A sizing ready to run: the scenario, what varies, the targets, and each cell's run."""

    scenario_name: str
    #: Changes made to every cell (``KEY=VALUE``), as ``gatetwin sweep --set`` makes them.
    settings: tuple[str, ...]
    varies: tuple[Vary, ...]
    cells: tuple[Cell, ...]
    targets: tuple[Target, ...]
    #: The KPIs its table and chart show.
    kpis: tuple[str, ...]
    #: Each cell's run, in cell order.
    requests: tuple[RunRequest, ...]

    @cached_property
    def keys(self) -> tuple[JobKey, ...]:
        """Each cell's key on the board, hashed once per plan (the page asks on every rerun)."""
        return tuple(request.key for request in self.requests)

    @property
    def replications(self) -> int:
        return self.requests[0].replications

    @property
    def seed(self) -> int:
        return self.requests[0].seed

    @property
    def hours(self) -> float:
        return float(self.requests[0].scenario.run.horizon_h)

    @property
    def folder_name(self) -> str:
        """The sizing's folder: the scenario and a digest of everything that makes its files."""
        what = {"cells": [key.folder_name(request.scenario.name) for key, request in zip(self.keys, self.requests,
                                                                                          strict=True)],
                "targets": [str(t) for t in self.targets], "kpis": list(self.kpis), "settings": list(self.settings),
                "vary": [[v.key, *v.texts] for v in self.varies]}
        digest = hashlib.sha256(json.dumps(what, sort_keys=True).encode("utf-8")).hexdigest()[:10]
        return f"{self.scenario_name}-{digest}"

    def describe(self) -> str:
        """What runs, in words: cells, replications, hours and seed."""
        n = len(self.cells)
        return (f"{n} cell{'s' if n != 1 else ''} × {self.replications} replications, {self.hours:g} h each, "
                f"seed {self.seed}")


def plan_sizing(scenario: str | Scenario, vary_text: str, targets_text: str, hours: float, replications: int,
                seed: int, changes_text: str = "", kpis: Sequence[str] = ()) -> SizingPlan:
    """The form read into a plan of sizing ``scenario`` (a library name, or a scenario itself,
    such as an uploaded one's); ``SizingProblems`` with every problem at once when it cannot
    run: a scenario not in the library, a malformed line (named by its field and number), no
    field varied, too many cells, a cell the schema refuses (each one named)."""
    problems: list[str] = []
    known = not isinstance(scenario, str) or scenario in library_names() or scenario in ALIASES
    if not known:
        problems.append(f"scenario {scenario!r} is not a library scenario; available: {', '.join(library_names())}")
    changes = change_lines(changes_text)
    try:
        clashes = field_clashes(changes, SIZING_RUN_FIELDS, "changes to every cell")
    except ScenarioError as err:
        problems += format_errors(err)
        clashes = None
    problems += clashes or []
    vary_lines = change_lines(vary_text)
    varies: list[Vary] = []
    if not vary_lines:
        problems.append(f"fields to vary: give at least one, a line each, e.g. {VARY_EXAMPLE.splitlines()[0]}")
    else:
        try:
            varies = parse_vary(vary_lines, "fields to vary")
        except ScenarioError as err:
            problems += format_errors(err)
    targets: list[Target] = []
    try:
        targets = parse_targets(change_lines(targets_text), "service target")
    except ValueError as exc:
        problems += str(exc).splitlines()
    if replications < 2:
        problems.append(f"replications: at least 2, for the 95 % intervals the targets are judged by (got {replications})")
    cells = sweep_cells(varies) if varies else []
    if len(cells) > MAX_CELLS:
        problems.append(f"fields to vary: {len(cells)} cells, at most {MAX_CELLS}; try fewer values, or size in parts")
    made: list[Scenario] = []
    # The cells are made as soon as the scenario, its changes and the fields read, whatever else
    # is wrong, so that a cell the schema refuses is named beside the other problems.
    if known and clashes is not None and cells and len(cells) <= MAX_CELLS:
        try:
            base = with_settings(load_scenario(scenario) if isinstance(scenario, str) else scenario, changes)
        except ScenarioError as err:
            problems += [f"changes to every cell: {line}" for line in format_errors(err)]
        else:
            made, cell_problems = cell_scenarios(base, cells, hours)
            problems += cell_problems
    if problems:
        raise SizingProblems(problems)
    shown = tuple(dict.fromkeys([*(kpis or DEFAULT_KPIS), *(t.kpi for t in targets)]))
    requests = tuple(RunRequest(cell, replications, seed) for cell in made)
    return SizingPlan(base.name, tuple(changes), tuple(varies), tuple(cells), tuple(targets), shown, requests)


def count_cells(vary_text: str) -> str:
    """What the fields to vary make, said as the form is filled in: "3 × 3 = 9 cells", or the
    first problem of its lines."""
    lines = change_lines(vary_text)
    if not lines:
        return "No field to vary yet."
    try:
        varies = parse_vary(lines, "fields to vary")
    except ScenarioError as err:
        return format_errors(err)[0]
    sizes = [len(v.texts) for v in varies]
    total = 1
    for size in sizes:
        total *= size
    product = " × ".join(str(size) for size in sizes)
    said = f"{product} = {total} cells" if len(sizes) > 1 else f"{total} cell{'s' if total != 1 else ''}"
    return said + (f": more than {MAX_CELLS}, too many to run" if total > MAX_CELLS else "")


def sizing_fields(scenario: Scenario) -> pd.DataFrame:
    """The fields a gate is sized by, each with its value in ``scenario`` as a YAML value to copy
    into a list: the layout's (``SIZING_FIELDS``, those the scenario has) and each agency's
    officers."""
    data = scenario.model_dump(mode="json")
    rows: list[tuple[str, str, str]] = []
    for key, what in SIZING_FIELDS.items():
        value: object = data
        for part in key.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if value is not None or key.startswith("layout.yard."):
            rows.append((key, what, yaml_text(value) if value is not None else "0 (no slots)"))
    for agency, settings in data["agencies"].items():
        rows.append((f"agencies.{agency}.officers", f"{agency.replace('_', ' ')} officers on duty per shift",
                     yaml_text(settings["officers"])))
    return pd.DataFrame(rows, columns=["field", "what it is", f"in {scenario.name}"])


# --- following the cells' runs -----------------------------------------------------------------

@dataclass(frozen=True)
class CellState:
    """Where one cell's run is: ``status`` one of queued, running, done, failed, cancelled or
    missing (no longer on the board and no results saved: to run again)."""

    cell: Cell
    status: str
    progress: float = 0.0
    result: RunResult | None = None
    error: str = ""
    folder: Path | None = None


def _saved(folder: Path, replications: int) -> RunResult | None:
    """A cell's results saved in ``folder`` when they are whole: every replication, none failed."""
    if not (folder / SUMMARY_FILE).is_file():
        return None
    try:
        run = load_results(folder)
    except (OSError, ValueError, KeyError):
        return None
    return run if not run.failed and len(run.replications) == replications else None


def cell_state(plan: SizingPlan, index: int, board: JobBoard) -> CellState:
    """Where cell ``index`` of ``plan`` is, from the board, or from its saved results once the
    board has let the finished job go."""
    cell, request = plan.cells[index], plan.requests[index]
    key = plan.keys[index]
    job = board.get(key)
    folder = board.runs_dir / key.folder_name(request.scenario.name) if board.runs_dir is not None else None
    if job is None:
        saved = _saved(folder, request.replications) if folder is not None else None
        if saved is not None:
            return CellState(cell, "done", 1.0, saved, folder=folder)
        return CellState(cell, "missing", error="its run is no longer on the board and its results were not saved")
    if job.status is JobStatus.QUEUED or job.status is JobStatus.RUNNING:
        return CellState(cell, job.status.value, job.progress, folder=job.out_dir)
    if job.status is JobStatus.CANCELLED:
        return CellState(cell, "cancelled", job.progress, error="cancelled", folder=job.out_dir)
    if job.status is JobStatus.DONE and job.result is not None and not job.problem and not job.result.failed:
        return CellState(cell, "done", 1.0, job.result, folder=job.out_dir)
    reason = job.problem or job.error or (job.result.failed if job.result is not None else "") or "no reason recorded"
    return CellState(cell, "failed", job.progress, job.result, reason.strip().splitlines()[0], job.out_dir)


def cell_states(plan: SizingPlan, board: JobBoard) -> list[CellState]:
    """Every cell's state, in cell order."""
    return [cell_state(plan, index, board) for index in range(len(plan.cells))]


def to_run_again(plan: SizingPlan, states: Sequence[CellState]) -> list[RunRequest]:
    """The runs of the cells that failed, were cancelled or went missing, to ask for again."""
    return [plan.requests[s.cell.index] for s in states if s.status in ("failed", "cancelled", "missing")]


# --- the sweep's outcome -----------------------------------------------------------------------

@dataclass(frozen=True)
class SizingOutcome:
    """A sizing whose every cell finished: the sweep's table, the targets' verdicts and where
    its files were written."""

    table: pd.DataFrame
    targets: TargetOutcome | None
    folder: Path | None
    report: Path | None
    #: Why the sweep's folder could not be written, when it could not ("" when it was, or not asked for).
    unsaved: str = ""


def finish_sizing(plan: SizingPlan, states: Sequence[CellState], out_dir: Path | None) -> SizingOutcome:
    """Compare the finished cells (every one must be done) and judge them against the targets;
    with ``out_dir``, write the sweep's folder there as ``gatetwin sweep --out`` writes it."""
    if any(state.status != "done" or state.result is None for state in states):
        raise ValueError("finish_sizing: every cell must have finished")
    runs = [state.result for state in states if state.result is not None]
    cells = list(plan.cells)
    table = sweep_table(compare_runs(runs, [cell.label for cell in cells]), cells)
    outcome = judge_targets(table, plan.varies, cells, plan.targets) if plan.targets else None
    if out_dir is None:
        return SizingOutcome(table, outcome, None, None)
    folders = run_folder_names([request.scenario.name for request in plan.requests])
    entries: list[RunEntry] = []
    out_dir.mkdir(parents=True, exist_ok=True)
    for state, folder, run in zip(states, folders, runs, strict=True):
        if state.folder is not None and state.folder.is_dir():
            shutil.copytree(state.folder, out_dir / folder, dirs_exist_ok=True)
        entries.append(run_entry(state.cell.label, run, folder))
    report = write_sweep(plan.scenario_name, plan.varies, cells, entries, table, plan.kpis, plan.settings, out_dir,
                         outcome)
    return SizingOutcome(table, outcome, out_dir, report)


def grid_frame(grid: Grid) -> pd.DataFrame:
    """A ``Grid`` (the console's table) as a frame for the page, headings on one line."""
    return pd.DataFrame(list(grid.rows), columns=[name.replace("\n", " ") for name in grid.header])


def report_text(outcome: SizingOutcome) -> str | None:
    """The sweep's report, ``sweep.md``, as written; None when nothing was written."""
    if outcome.report is None or not outcome.report.is_file():
        return None
    return outcome.report.read_text(encoding="utf-8")

