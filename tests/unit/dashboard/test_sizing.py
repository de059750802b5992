"""Size the gate: a sweep with service targets, from the dashboard's form to the sweep's folder."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from dashboard.jobs import JobBoard
from dashboard.sizing import (
    SWEEPS_FOLDER,
    SizingProblems,
    cell_states,
    count_cells,
    finish_sizing,
    plan_sizing,
    sizing_fields,
    to_run_again,
)
from scenarios import load_scenario
from scenarios.schema import Scenario
from tests.unit.dashboard.support import APP
from twin.cli import app as cli
from twin.results import RunResult
from twin.run import RunOptions
from twin.sweep import SWEEP_CSV, SWEEP_REPORT, TARGETS_PLOT

#: A sizing small enough for the suite: the smart gate (every agency round the clock) made busy,
#: two hours from midnight, one or two entry lanes, two replications.
SCENARIO = "huu_nghi_smart_gate"
CHANGES = "demand.trucks_per_day=2000"
VARY = "layout.entry_lanes=[1, 2]"
TARGETS = "trucks_departed>=1\ntime_at_gate_p95<=100000"
HOURS, REPS, SEED = 2.0, 2, 870


@pytest.fixture(autouse=True)
def no_plots(monkeypatch: pytest.MonkeyPatch) -> None:
    """The cells' results folders skip their PNG plots (unused here, slow); the sweep's chart is drawn."""
    monkeypatch.setattr("twin.results.write_plots", lambda run, out_dir: [])


def sizing_page() -> AppTest:
    app = AppTest.from_file(str(APP), default_timeout=60)
    app.run()
    app.switch_page("views/sizing.py").run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def fill(app: AppTest, scenario: str = SCENARIO, vary: str = VARY, targets: str = TARGETS,
         changes: str = CHANGES) -> AppTest:
    app.selectbox(key="sizing.scenario").set_value(scenario).run()
    app.text_area(key="sizing.vary").set_value(vary).run()
    app.text_area(key="sizing.targets").set_value(targets).run()
    app.text_area(key="sizing.changes").set_value(changes).run()
    app.number_input(key="sizing.hours").set_value(HOURS).run()
    app.number_input(key="sizing.reps").set_value(REPS).run()
    app.number_input(key="sizing.seed").set_value(SEED).run()
    return app


def run_sizing(app: AppTest, timeout: float = 120.0) -> AppTest:
    """Press Run and rerun the page, as the browser's polling does, until every cell has finished."""
    app.button(key="sizing.start").click().run()
    assert not app.exception, [e.value for e in app.exception]
    assert not app.error, [e.value for e in app.error]
    deadline = time.monotonic() + timeout
    while app.session_state["gatetwin.pending"] and time.monotonic() < deadline:
        time.sleep(0.2)
        app.run()
    assert not app.session_state["gatetwin.pending"], "cells still running"
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def table_with(app: AppTest, column: str) -> pd.DataFrame:
    [frame] = [table.value for table in app.dataframe if column in table.value.columns]
    return frame


# --- the form read into a plan -----------------------------------------------------------------

def test_a_plan_names_every_problem_of_the_form_at_once() -> None:
    with pytest.raises(SizingProblems) as caught:
        plan_sizing("no_such_gate", "layout.entry_lanes=[1, 2]\nlanes 3", "x<=3\ntime_at_gate_p95<3", 8, 1, 1,
                    "seed=3")
    lines = caught.value.lines
    assert any("'no_such_gate' is not a library scenario" in line for line in lines)
    assert any(line.startswith("fields to vary: lanes 3: give KEY=[V1, V2, ...]") for line in lines)
    assert any("service target 'x<=3': no such KPI 'x'" in line for line in lines)
    assert any("service target 'time_at_gate_p95<3': a target is a bound, <=" in line for line in lines)
    assert any("replications: at least 2" in line for line in lines)
    assert any("changes to every cell: seed: the 'Seed (every cell)' field gives the seed" in line for line in lines)
    assert len(lines) == 6


def test_a_plan_without_a_field_to_vary_or_with_a_cell_the_schema_refuses_says_so() -> None:
    with pytest.raises(SizingProblems) as caught:
        plan_sizing("huu_nghi_2025", "\n  \n", "", 8, 2, 1)
    assert caught.value.lines == ["fields to vary: give at least one, a line each, e.g. layout.entry_lanes=[1, 2, 3]"]
    with pytest.raises(SizingProblems) as caught:
        plan_sizing("huu_nghi_2025", "layout.entry_lanes=[0, 2, -1]", "", 8, 2, 1)
    assert [line.split(":")[0] for line in caught.value.lines] == ["cell 1 (entry_lanes=0)", "cell 3 (entry_lanes=-1)"]
    with pytest.raises(SizingProblems) as caught:
        plan_sizing("huu_nghi_2025", "layout.entry_lanes=[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]\nlayout.scales="
                                     "[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]", "", 8, 2, 1)
    assert caught.value.lines == ["fields to vary: 110 cells, at most 100; try fewer values, or size in parts"]


def test_a_plan_runs_each_cell_as_the_sweep_command_does_with_the_targets_kpis_shown() -> None:
    plan = plan_sizing(SCENARIO, VARY + "\nagencies.customs.officers=[4, 8]", TARGETS, HOURS, REPS, SEED, CHANGES,
                       ["throughput_per_day", "trucks_departed"])
    assert [cell.label for cell in plan.cells] == ["entry_lanes=1, officers=4", "entry_lanes=1, officers=8",
                                                   "entry_lanes=2, officers=4", "entry_lanes=2, officers=8"]
    lanes = [request.scenario.layout.entry_lanes for request in plan.requests]
    officers = [request.scenario.agencies.customs.officers for request in plan.requests]
    assert (lanes, officers) == ([1, 1, 2, 2], [4, 8, 4, 8])
    assert {request.scenario.demand.trucks_per_day for request in plan.requests} == {2000}
    assert {(r.replications, r.seed, r.scenario.run.horizon_h) for r in plan.requests} == {(REPS, SEED, HOURS)}
    assert len({request.scenario.name for request in plan.requests}) == 4  # each named after its changes
    assert plan.kpis == ("throughput_per_day", "trucks_departed", "time_at_gate_p95")
    assert plan.describe() == "4 cells × 2 replications, 2 h each, seed 870"
    again = plan_sizing(SCENARIO, VARY + "\nagencies.customs.officers=[4, 8]", TARGETS, HOURS, REPS, SEED, CHANGES,
                        ["throughput_per_day", "trucks_departed"])
    assert again.folder_name == plan.folder_name
    other = plan_sizing(SCENARIO, VARY + "\nagencies.customs.officers=[4, 8]", "trucks_departed>=2", HOURS, REPS,
                        SEED, CHANGES, ["throughput_per_day", "trucks_departed"])
    assert other.folder_name != plan.folder_name


def test_the_count_of_cells_follows_the_fields_as_they_are_typed() -> None:
    assert count_cells("") == "No field to vary yet."
    assert count_cells("layout.entry_lanes=[1, 2, 3]") == "3 cells"
    assert count_cells("layout.entry_lanes=[1, 2, 3]\nlayout.scales=[1, 2]") == "3 × 2 = 6 cells"
    assert count_cells("layout.entry_lanes=3").startswith("fields to vary: layout.entry_lanes: give the values")
    assert count_cells("layout.entry_lanes=[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]\nlayout.scales=[1, 2, 3, 4, 5, 6, 7, 8, 9, "
                       "10]").endswith("110 cells: more than 100, too many to run")


def test_the_fields_a_gate_is_sized_by_come_with_their_values_in_the_scenario() -> None:
    scenario = load_scenario("huu_nghi_smart_gate")
    fields = sizing_fields(scenario).set_index("field")[f"in {scenario.name}"]
    assert fields["layout.entry_lanes"] == str(scenario.layout.entry_lanes)
    assert fields["layout.scanners"] == "[{type: drive_through, count: 1}]"
    assert scenario.layout.agv_lane is not None
    assert fields["layout.agv_lane.n_agvs"] == str(scenario.layout.agv_lane.n_agvs)
    for agency in ("medical", "border_guard", "customs", "fee_collector"):
        assert fields[f"agencies.{agency}.officers"] == str(getattr(scenario.agencies, agency).officers)
    without_agv = sizing_fields(load_scenario("huu_nghi_2025")).set_index("field")
    assert "layout.agv_lane.n_agvs" not in without_agv.index


# --- the cells' runs and the sweep's folder ----------------------------------------------------

def test_a_cell_the_board_let_go_is_read_from_its_saved_results_and_one_never_saved_is_to_run_again(
        tmp_path: Path) -> None:
    plan = plan_sizing(SCENARIO, VARY, TARGETS, 1.0, REPS, SEED, CHANGES)
    board = JobBoard(tmp_path / "runs", max_finished=1)
    board.submit(plan.requests[0])
    board.wait(plan.keys[0], 120)
    board.submit(plan.requests[1])
    board.wait(plan.keys[1], 120)
    assert board.get(plan.keys[0]) is None  # let go: the board keeps one finished job
    states = cell_states(plan, board)
    assert [state.status for state in states] == ["done", "done"]
    assert isinstance(states[0].result, RunResult) and states[0].result.scenario_hash == plan.keys[0].scenario_hash
    assert to_run_again(plan, states) == []
    empty = cell_states(plan, JobBoard(tmp_path / "elsewhere"))
    assert [state.status for state in empty] == ["missing", "missing"]
    assert to_run_again(plan, empty) == list(plan.requests)
    with pytest.raises(ValueError, match="every cell must have finished"):
        finish_sizing(plan, empty, None)


def test_a_sizing_from_the_page_gives_the_verdict_and_the_same_files_as_gatetwin_sweep(
        tmp_path: Path, dashboard_environment: Path) -> None:
    app = run_sizing(fill(sizing_page()))
    # Two replications leave the trucks departed in two hours too wide an interval to be sure of.
    assert app.warning[0].value == ("No cell meets trucks_departed >= 1 and time_at_gate_p95 <= 100000 with 95 % "
                                    "confidence. The smallest whose means do: cell 1 (entry_lanes=1); more "
                                    "replications would tell.")
    verdicts = table_with(app, "every target")
    assert list(verdicts["entry_lanes"]) == ["1", "2"]
    assert list(verdicts["time_at_gate_p95 <= 100000"]) == ["meets", "meets"]
    assert list(verdicts["every target"]) == ["may meet", "may meet"]
    kpis = table_with(app, "throughput_per_day ↑ (trucks/day)")
    assert list(kpis["cell"]) == ["1", "2"]
    assert "trucks_departed ↑ (trucks)" in kpis.columns  # a target's KPI is shown beside the chosen ones
    [folder] = (dashboard_environment / SWEEPS_FOLDER).iterdir()
    assert any(str(folder) in caption.value for caption in app.caption)
    # The command line's sweep of the same scenario, fields, targets, KPIs and seed writes the same files.
    out = tmp_path / "cli-sweep"
    args = ["sweep", SCENARIO, "--set", CHANGES, "--vary", VARY, "--reps", str(REPS), "--hours", str(HOURS),
            "--seed", str(SEED), "--jobs", "1", "--quiet", "--out", str(out)]
    args += [arg for target in TARGETS.splitlines() for arg in ("--meet", target)]
    args += [arg for kpi in ("throughput_per_day", "time_at_gate_p95", "road_queue_km_max", "yard_occupancy_max",
                             "trucks_departed") for arg in ("--kpi", kpi)]
    result = CliRunner().invoke(cli, args, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for name in (SWEEP_CSV, SWEEP_REPORT, TARGETS_PLOT):
        assert (folder / name).read_bytes() == (out / name).read_bytes(), name
    cells = sorted(path.name for path in folder.iterdir() if path.is_dir())
    assert cells == sorted(path.name for path in out.iterdir() if path.is_dir()) and len(cells) == 2
    assert [getattr(button, "label", None) for button in app.get("download_button")] == ["Download the sweep (CSV)",
                                                                        "Download its report (Markdown)"]


def test_sizing_again_with_one_more_value_runs_only_the_new_cell(monkeypatch: pytest.MonkeyPatch) -> None:
    from twin.run import run_scenario

    ran: list[int] = []

    def counted(scenario: Scenario, options: RunOptions, progress: Callable[[int, float], None]) -> RunResult:
        ran.append(scenario.layout.entry_lanes)
        return run_scenario(scenario, options, progress=progress)

    monkeypatch.setattr("dashboard.jobs.run_scenario", counted)
    app = run_sizing(fill(sizing_page(), vary="layout.entry_lanes=[1, 2]", targets=""))
    assert ran == [1, 2] and not app.success and not app.warning[:-1]  # no targets: no verdict
    app.text_area(key="sizing.vary").set_value("layout.entry_lanes=[1, 2, 3]").run()
    run_sizing(app)
    assert ran == [1, 2, 3]
    assert list(table_with(app, "throughput_per_day ↑ (trucks/day)")["cell"]) == ["1", "2", "3"]


def test_a_form_with_mistakes_shows_each_and_runs_nothing() -> None:
    app = fill(sizing_page(), vary="layout.entry_lanes=[1, 2]\nlayout.no_such_field=[1, 2]", targets="speed>=3")
    app.button(key="sizing.start").click().run()
    errors = [e.value for e in app.error]
    assert any(e.startswith("service target 'speed>=3': no such KPI 'speed'") for e in errors)
    assert any("layout.no_such_field" in e for e in errors)
    assert not app.session_state["gatetwin.pending"]
    assert "gatetwin.sizing_plan" not in app.session_state


def test_a_cell_opens_on_the_other_pages() -> None:
    app = run_sizing(fill(sizing_page(), targets=""))
    app.selectbox(key="sizing.cell").set_value("cell 2 (entry_lanes=2)").run()
    app.button(key="sizing.open").click().run()
    assert not app.exception, [e.value for e in app.exception]
    assert app.title[0].value == "Overview"
    shown = app.session_state["gatetwin.shown"]
    opened = app.session_state["gatetwin.runs"][shown]
    assert opened.source.startswith("cell 2 (entry_lanes=2) of a sizing of huu_nghi_smart_gate")
    assert opened.scenario is not None and opened.scenario.layout.entry_lanes == 2
    assert [s.value for s in app.success] == [f"Opened {shown}: the pages show it."]


def test_the_scenario_of_the_run_shown_can_be_sized_with_its_own_seed(open_app: Callable[..., AppTest],
                                                                       saved_runs: dict[str, Path]) -> None:
    app = open_app(saved_runs["baseline"])  # the busy smart gate, 2,000 trucks a day: no library file has it
    app.switch_page("views/sizing.py").run()
    [shown] = [option for option in app.selectbox(key="sizing.scenario").options if option.startswith("The run shown")]
    assert shown == "The run shown: huu_nghi_smart_gate · seed 870 · 2 rep · 5 h"
    app.selectbox(key="sizing.scenario").set_value(shown).run()
    assert app.number_input(key="sizing.hours").value == 5.0 and app.number_input(key="sizing.seed").value == 870
    app.text_area(key="sizing.vary").set_value("layout.scales=[1, 2]").run()
    app.number_input(key="sizing.hours").set_value(1.0).run()
    run_sizing(app)
    plan = app.session_state["gatetwin.sizing_plan"]
    assert [r.scenario.demand.trucks_per_day for r in plan.requests] == [2000, 2000]
    assert [r.scenario.layout.scales for r in plan.requests] == [1, 2]
    assert {(r.seed, r.replications) for r in plan.requests} == {(870, 3)}
    assert list(table_with(app, "throughput_per_day ↑ (trucks/day)")["scales"]) == ["1", "2"]


def test_a_sweep_that_cannot_be_saved_says_so_and_still_shows_its_figures(dashboard_environment: Path) -> None:
    dashboard_environment.mkdir(parents=True, exist_ok=True)
    (dashboard_environment / SWEEPS_FOLDER).write_text("not a folder", encoding="utf-8")
    app = run_sizing(fill(sizing_page(), targets="time_at_gate_p95<=100000"))
    assert any(w.value.startswith(f"The sweep could not be saved to {dashboard_environment / SWEEPS_FOLDER}")
               for w in app.warning)
    assert list(table_with(app, "every target")["every target"]) == ["meets (smallest)", "meets"]
    assert [getattr(button, "label", None) for button in app.get("download_button")] == ["Download the sweep (CSV)"]


def test_a_cell_that_failed_is_named_with_its_reason_and_runs_again_on_request(monkeypatch: pytest.MonkeyPatch) -> None:
    from twin.run import run_scenario

    broken = {"lanes": 2}

    def failing(scenario: Scenario, options: RunOptions, progress: Callable[[int, float], None]) -> RunResult:
        if scenario.layout.entry_lanes == broken["lanes"]:
            raise RuntimeError("replication 1 failed: the scanner's driver stopped answering")
        return run_scenario(scenario, options, progress=progress)

    monkeypatch.setattr("dashboard.jobs.run_scenario", failing)
    app = run_sizing(fill(sizing_page()))
    assert [e.value for e in app.error] == ["Cell 2 (entry_lanes=2): failed: replication 1 failed: the scanner's "
                                            "driver stopped answering"]
    assert app.get("progress")[-1].proto.text == "1 of 2 cells finished"
    assert not app.dataframe or "every target" not in app.dataframe[-1].value.columns  # no verdict on half a sweep
    broken["lanes"] = 0  # the driver answers again
    app.button(key="sizing.again").click().run()
    deadline = time.monotonic() + 120
    while app.session_state["gatetwin.pending"] and time.monotonic() < deadline:
        time.sleep(0.2)
        app.run()
    app.run()
    assert not app.error, [e.value for e in app.error]
    assert list(table_with(app, "every target")["cell"]) == ["1", "2"]
