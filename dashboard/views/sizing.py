"""Size the gate: try layouts over a grid of values and find the smallest that meets the service
targets, as ``gatetwin sweep --vary ... --meet ...`` does (``dashboard.sizing`` holds the logic).

The cells run in the background, one after another, each cached by its settings: sizing again
with one more value runs only the new cells. When every cell has finished, the page shows the
verdict, each cell against each target, each cell's KPIs, the chart, and where the sweep's
folder was written; any cell opens on the other pages for a closer look.
"""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from dashboard.sizing import (
    SIZING_GROUP,
    SIZING_RUN_FIELDS,
    SWEEPS_FOLDER,
    TARGETS_EXAMPLE,
    VARY_EXAMPLE,
    CellState,
    SizingOutcome,
    SizingPlan,
    SizingProblems,
    cell_states,
    count_cells,
    finish_sizing,
    grid_frame,
    plan_sizing,
    report_text,
    sizing_fields,
    to_run_again,
)
from dashboard.state import add_run, current_run, job_board, post_message, remember, request_runs, restore_widget, runs_dir
from dashboard.ui import page_setup, show_figure, table
from scenarios import ScenarioError, library_names, load_scenario
from scenarios.schema import Scenario
from twin.results import KPI_UNITS, kpi_order
from twin.sweep import (
    DEFAULT_KPIS,
    SWEEP_CSV,
    SWEEP_PLOT,
    SWEEP_REPORT,
    sweep_grid,
    sweep_plot,
    TARGETS_MAP_CAPTION,
    TARGETS_PLOT,
    targets_grid,
    targets_map,
    targets_verdict,
    unreported_kpis,
    with_targets,
)
from twin.targets import Verdict

#: The plan of the sizing this session started last.
PLAN_KEY = "gatetwin.sizing_plan"
#: Its outcome, once every cell finished: (the plan it is of, the outcome).
OUTCOME_KEY = "gatetwin.sizing_outcome"
#: The scenario whose hours and seed the form was last given.
DEFAULTS_FROM_KEY = "gatetwin.sizing_defaults_from"
#: Widgets of the form, with their values before the user gives any.
FORM_DEFAULTS: dict[str, object] = {"sizing.scenario": "huu_nghi_2025", "sizing.vary": "", "sizing.targets": "",
                                    "sizing.changes": "", "sizing.kpis": list(DEFAULT_KPIS), "sizing.hours": 24.0,
                                    "sizing.reps": 3, "sizing.seed": 1}
MIN_HOURS, MAX_HOURS = 0.5, 24.0 * 60
#: The choice of the scenario of the run the pages show, before its label.
SHOWN_RUN = "The run shown: "


def sizing_form() -> None:
    """The form: the scenario, the fields to vary, the targets, the run settings, and Run."""
    with st.expander("Sweep a layout", expanded=PLAN_KEY not in st.session_state):
        for key, default in FORM_DEFAULTS.items():
            restore_widget(key, default)
        names = library_names()
        shown = current_run()
        shown_scenario = shown.scenario_as_run() if shown is not None else None
        options = [*names, *([f"{SHOWN_RUN}{shown.label}"] if shown is not None and shown_scenario is not None else [])]
        if st.session_state["sizing.scenario"] not in options:
            st.session_state["sizing.scenario"] = names[0]
        chosen = st.selectbox("Scenario", options, key="sizing.scenario",
                              help="The scenario whose layout is sized, from the library or the run shown (an "
                                   "uploaded scenario's too); every cell is it with the values tried.")
        if chosen.startswith(SHOWN_RUN) and shown_scenario is not None:
            scenario: Scenario = shown_scenario
            sized: str | Scenario = shown_scenario
        else:
            try:
                scenario = load_scenario(chosen)
            except ScenarioError as err:  # a library file broken on the server
                st.error(str(err))
                return
            sized = chosen
        if chosen != st.session_state.get(DEFAULTS_FROM_KEY):
            st.session_state[DEFAULTS_FROM_KEY] = chosen
            st.session_state["sizing.hours"] = min(max(float(scenario.run.horizon_h), MIN_HOURS), MAX_HOURS)
            st.session_state["sizing.seed"] = int(scenario.run.seed)
        left, right = st.columns(2)
        vary = left.text_area(
            "Fields to vary, with the values to try", key="sizing.vary", height=110, placeholder=VARY_EXAMPLE,
            help="One field a line: its dotted key and the values to try as a YAML list, as 'gatetwin sweep --vary' "
                 "takes them. Every combination is a cell, the first field varying slowest; list each field's "
                 "values from the smallest, so the smallest layouts meeting the targets can be named.")
        left.caption(count_cells(vary))
        targets = right.text_area(
            "Service targets (optional)", key="sizing.targets", height=110, placeholder=TARGETS_EXAMPLE,
            help="One a line, KPI<=NUMBER or KPI>=NUMBER, as 'gatetwin sweep --meet' takes them. Each cell is judged "
                 "from its 95 % interval: it meets a target when the whole interval holds it.")
        kpis = st.multiselect("KPIs to show", kpi_order(KPI_UNITS), key="sizing.kpis",
                              help="The table and chart show these and those the targets name; the sweep's CSV "
                                   "holds every KPI.")
        with st.expander(f"Fields a gate is sized by, and their values in {scenario.name}"):
            table(sizing_fields(scenario), key="sizing.fields")
        changes = st.text_area(
            "Changes to every cell (optional)", key="sizing.changes", height=68,
            placeholder="demand.trucks_per_day=1200",
            help="One KEY=VALUE a line, applied to the scenario before the values tried, as 'gatetwin sweep --set'.")
        columns = st.columns(3)
        hours = columns[0].number_input(SIZING_RUN_FIELDS["horizon_h"], min_value=MIN_HOURS, max_value=MAX_HOURS,
                                        step=1.0, key="sizing.hours", help="The scenario's own hours until you change them.")
        reps = columns[1].number_input(SIZING_RUN_FIELDS["replications"], min_value=2, max_value=100, step=1,
                                       key="sizing.reps",
                                       help="At least two, for the 95 % intervals the targets are judged by.")
        seed = columns[2].number_input(SIZING_RUN_FIELDS["seed"], min_value=0, step=1, key="sizing.seed",
                                       help="Every cell runs with it: replication r of every cell sees the same trucks.")
        for key, value in (("sizing.scenario", chosen), ("sizing.vary", vary), ("sizing.targets", targets),
                           ("sizing.changes", changes), ("sizing.kpis", kpis), ("sizing.hours", hours),
                           ("sizing.reps", reps), ("sizing.seed", seed)):
            remember(key, value)
        if st.button("Run the sweep", key="sizing.start", type="primary", icon=":material/play_arrow:"):
            try:
                plan = plan_sizing(sized, vary, targets, float(hours), int(reps), int(seed), changes, kpis)
            except SizingProblems as problems:
                for line in problems.lines:
                    st.error(line)
                return
            start(plan)


def start(plan: SizingPlan) -> None:
    """Ask for every cell's run (those already run come from the board's cache) and follow them."""
    st.session_state[PLAN_KEY] = plan
    st.session_state.pop(OUTCOME_KEY, None)
    request_runs(list(plan.requests), group=SIZING_GROUP)
    post_message("info", f"Sizing {plan.scenario_name}: {plan.describe()}. The cells run one after another; the "
                         "verdict shows here when the last one has finished.")
    st.rerun()


def show_cells(plan: SizingPlan, states: list[CellState]) -> None:
    """How far the cells are, and what failed."""
    done = sum(state.status == "done" for state in states)
    st.progress(done / len(states), text=f"{done} of {len(states)} cells finished")
    for state in states:
        if state.status in ("failed", "cancelled", "missing"):
            st.error(f"Cell {state.cell.index + 1} ({state.cell.label}): {state.status}: {state.error}")
    again = to_run_again(plan, states)
    if again and st.button(f"Run the {len(again)} cell(s) again", key="sizing.again", icon=":material/replay:"):
        request_runs(again, group=SIZING_GROUP)
        st.rerun()


def outcome_of(plan: SizingPlan, states: list[CellState]) -> SizingOutcome:
    """The sizing's outcome, computed and written once per plan."""
    kept = st.session_state.get(OUTCOME_KEY)
    if kept is not None and kept[0] == plan:
        outcome: SizingOutcome = kept[1]
        return outcome
    folder = runs_dir() / SWEEPS_FOLDER / plan.folder_name
    try:
        outcome = finish_sizing(plan, states, folder)
    except OSError as exc:  # a full disk, a folder not writable: the figures still show
        outcome = replace(finish_sizing(plan, states, None), unsaved=f"The sweep could not be saved to {folder}: {exc}")
    st.session_state[OUTCOME_KEY] = (plan, outcome)
    return outcome


def show_outcome(plan: SizingPlan, states: list[CellState], outcome: SizingOutcome) -> None:
    """The verdict, the cells against the targets, their KPIs, the chart, the files, and a cell to open."""
    cells = list(plan.cells)
    if outcome.unsaved:
        st.warning(outcome.unsaved)
    if outcome.targets is not None:
        verdict = targets_verdict(outcome.targets, cells)
        (st.success if outcome.targets.smallest_meeting else st.warning)(verdict)
        show_figure(targets_map(outcome.targets, plan.varies, cells), TARGETS_MAP_CAPTION + ".")
        grid = targets_grid(outcome.targets, cells)
        st.subheader("Each cell against the targets")
        table(grid_frame(grid), key="sizing.targets_table")
        st.caption(grid.caption)
        meeting = sum(v is Verdict.MEETS for v in outcome.targets.overall)
        st.caption(f"{meeting} of {len(cells)} cells meet every target with 95 % confidence.")
    for warning in outcome.table.attrs.get("warnings", []):
        st.warning(warning)
    st.subheader("Each cell's KPIs")
    grid = sweep_grid(outcome.table, plan.kpis)
    table(grid_frame(grid), key="sizing.kpis_table")
    st.caption(grid.caption)
    missing = unreported_kpis(outcome.table, plan.kpis)
    if missing:
        st.info(missing)
    show_figure(sweep_plot(outcome.table, plan.kpis), "Each KPI's mean and 95 % interval in each cell against the first "
                "varied field, a line for each combination of the others.")
    if outcome.folder is not None:
        mapped = f", {TARGETS_PLOT}" if outcome.targets is not None else ""
        st.caption(f"Written to {outcome.folder}: {SWEEP_REPORT} (the report), {SWEEP_CSV} (every KPI of every cell), "
                   f"{SWEEP_PLOT}{mapped} and each cell's results, as 'gatetwin sweep --out' writes them.")
    columns = st.columns(2)
    csv = (with_targets(outcome.table, outcome.targets) if outcome.targets is not None else outcome.table)
    columns[0].download_button("Download the sweep (CSV)", csv.to_csv(index=False).encode("utf-8"),
                               file_name=SWEEP_CSV, mime="text/csv", key="sizing.download_csv")
    report = report_text(outcome)
    if report is not None:
        columns[1].download_button("Download its report (Markdown)", report.encode("utf-8"), file_name=SWEEP_REPORT,
                                   mime="text/markdown", key="sizing.download_report")
    open_cell(plan, states)


def open_cell(plan: SizingPlan, states: list[CellState]) -> None:
    """Open one cell's run on the other pages."""
    labels = [f"cell {state.cell.index + 1} ({state.cell.label})" for state in states]
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    chosen = left.selectbox("Look closer at a cell", labels, key="sizing.cell")
    if right.button("Open it", key="sizing.open", icon=":material/open_in_new:"):
        state = states[labels.index(chosen)]
        if state.result is not None:
            source = f"{chosen} of a sizing of {plan.scenario_name}" + (f", saved to {state.folder}" if state.folder
                                                                          else "")
            loaded = add_run(state.result, source, plan.requests[state.cell.index].scenario, folder=state.folder)
            post_message("success", f"Opened {loaded.label}: the pages show it.")
            st.switch_page("views/overview.py")


def show_sizing(plan: SizingPlan) -> None:
    st.subheader(f"Sizing {plan.scenario_name}")
    st.caption(plan.describe() + (f"; changed in every cell: {', '.join(plan.settings)}" if plan.settings else "")
               + (f"; targets: {' and '.join(str(t) for t in plan.targets)}" if plan.targets else "; no targets"))
    states = cell_states(plan, job_board())
    if any(state.status != "done" for state in states):
        show_cells(plan, states)
        return
    show_outcome(plan, states, outcome_of(plan, states))


page_setup("Size the gate")
st.caption("How many lanes, scales, scanners, yard slots, AGVs and officers does a gate need? Try a grid of values "
           "with the same trucks in every cell, and find the smallest layouts that meet the service targets. "
           "Each cell runs in the background, and a cell already run with the same settings is not run again.")
sizing_form()
if PLAN_KEY in st.session_state:
    show_sizing(st.session_state[PLAN_KEY])
