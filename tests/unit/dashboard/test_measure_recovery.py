"""The Overview's "Measure the recovery from its disruptions": for a run whose scenario has
disruptions, the same scenario without them runs in the background with the same seed,
replications and hours, and the recovery shows on the Overview and on Compare layouts, saved in
a folder that shows it again when the run is opened later; runs that cannot be measured say why."""

from __future__ import annotations

import json
import math
import re
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote

import pandas as pd
import pytest
import yaml
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Button

from dashboard.analysis import format_number
from dashboard.recovery import plan_recovery
from dashboard.recovery_panel import MEASURE_LABEL, SECTION
from dashboard.state import _board, job_board
from scenarios import with_overrides
from scenarios.schema import Scenario
from tests.unit.dashboard.support import (
    APP,
    OUTAGE_SCENARIO,
    busy_smart_gate,
    outage_scenario,
    with_scanner_outage,
    write_failed_run,
)
from twin.compare import replication_ids, run_folder_names, with_ci
from twin.recovery import (
    LABELS,
    NOT_YET,
    RECOVERY_CSV,
    RECOVERY_PLOT,
    RECOVERY_REPORT,
    figure_interval,
    recovery_report,
    undisrupted,
)
from twin.results import SCENARIO_FILE, SUMMARY_FILE, RunResult, load_results
from twin.run import RunOptions, run_scenario

OpenApp = Callable[..., AppTest]
FIGURES = "mean and 95 % CI"
#: The outage run's seed (the scenario's own) and replications (``write_outage_run``).
SEED, REPS = 870, 2
UNDISRUPTED = f"{OUTAGE_SCENARIO}-undisrupted"
#: The folder the dashboard saves the outage run's recovery in, under its runs folder.
RECOVERY_FOLDER = f"recovery-{OUTAGE_SCENARIO}-"
RunScenario = Callable[..., RunResult]


@pytest.fixture(autouse=True)
def no_plots(monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs started from the dashboard skip the PNG plots of their results folder (unused here, slow)."""
    monkeypatch.setattr("twin.results.write_plots", lambda run, out_dir: [])


@pytest.fixture(scope="module")
def undisrupted_run() -> RunResult:
    """The outage scenario without its outage, run here with the outage run's seed and replications."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("twin.results.write_plots", lambda run, out_dir: [])
        return run_scenario(undisrupted(outage_scenario()), RunOptions(replications=REPS, seed=SEED))


@pytest.fixture(scope="module")
def expected_recovery(outage_run_folder: Path, undisrupted_run: RunResult) -> pd.DataFrame:
    """The recovery ``twin.recovery`` computes from the outage run and the run without the outage."""
    disrupted = load_results(outage_run_folder)
    report = recovery_report(outage_scenario(), [rep.trucks for rep in disrupted.replications],
                             [rep.trucks for rep in undisrupted_run.replications], replication_ids(disrupted))
    return report.table()


def rerun_until(app: AppTest, done: Callable[[], bool], timeout: float = 60.0) -> None:
    """Rerun the page, as the browser's polling does, until ``done()``."""
    deadline = time.monotonic() + timeout
    while not done() and time.monotonic() < deadline:
        time.sleep(0.2)
        app.run()
    assert done(), "still waiting"
    assert not app.exception, [e.value for e in app.exception]


def wait_for_runs(app: AppTest) -> None:
    rerun_until(app, lambda: not app.session_state["gatetwin.pending"])


def go(app: AppTest, page: str) -> AppTest:
    app.switch_page(page).run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def measure_buttons(app: AppTest) -> list[Button]:
    return [button for button in app.button if button.label == MEASURE_LABEL]


def press_measure(app: AppTest) -> AppTest:
    [button] = measure_buttons(app)
    button.click().run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def headings(app: AppTest) -> list[str]:
    return [markdown.value for markdown in app.markdown if markdown.value.startswith("####")]


def shown_figures(app: AppTest) -> pd.DataFrame:
    [table] = [table.value for table in app.dataframe if FIGURES in table.value.columns]
    return table


def assert_shows(app: AppTest, expected: pd.DataFrame) -> None:
    """The recovery on the page is ``expected``'s: each figure with its interval, what caught up, the figure."""
    shown = shown_figures(app)
    assert shown["figure"].tolist() == [label for label, _, _ in LABELS.values()]
    for name, text in zip(LABELS, shown[FIGURES], strict=True):
        interval = figure_interval(expected, name)
        if math.isnan(interval.mean):
            assert text == f"{NOT_YET[name]} in any replication", name
        else:
            assert text == with_ci(interval, format_number), name
    caught, n = int(expected["caught_up_h"].notna().sum()), len(expected)
    said = "None of the" if caught == 0 else "All" if caught == n else f"{caught} of"
    assert any(markdown.value.startswith(f"{said} {n} replications caught up by the end of the run (hour 14)")
               for markdown in app.markdown)
    assert any("back to normal" in markdown.value and "2-hour windows" in markdown.value for markdown in app.markdown)
    assert any(caption.value.startswith("Trucks behind at a time") for caption in app.caption)


def recovery_folders(runs_dir: Path) -> list[Path]:
    return sorted(path for path in runs_dir.glob(f"{RECOVERY_FOLDER}*") if path.is_dir())


def held_runs(monkeypatch: pytest.MonkeyPatch) -> tuple[threading.Event, list[Scenario]]:
    """Background runs without disruptions wait for the event returned before they run; the
    scenarios run without them, in order."""
    release, calls = threading.Event(), []
    real: RunScenario = run_scenario

    def held(scenario: Scenario, options: RunOptions, progress: Callable[[int, float], None]) -> RunResult:
        if scenario.name.endswith("-undisrupted"):
            calls.append(scenario)
            release.wait(60)
        return real(scenario, options, progress=progress)

    monkeypatch.setattr("dashboard.jobs.run_scenario", held)
    return release, calls


def test_measuring_runs_the_scenario_without_its_disruptions_once_with_the_same_seed_replications_and_hours(
        open_app: OpenApp, outage_run_folder: Path, dashboard_environment: Path, expected_recovery: pd.DataFrame,
        undisrupted_run: RunResult, monkeypatch: pytest.MonkeyPatch) -> None:
    release, calls = held_runs(monkeypatch)
    app, other = open_app(outage_run_folder), open_app(outage_run_folder)  # two browser sessions
    assert f"#### {SECTION}" in headings(app)
    assert any(caption.value == "Its disruptions: scanner-1 down for 4 h from hour 9." for caption in app.caption)
    press_measure(app)
    press_measure(other)  # pressed in the other session before it saw the first press: still one run
    [job] = job_board().jobs()
    assert job.request.scenario == undisrupted(outage_scenario())
    assert (job.request.seed, job.request.replications, job.key.horizon_h) == (SEED, REPS, 14.0)
    for session in (app, other):
        assert [pending.key for pending in session.session_state["gatetwin.pending"]] == [job.key]
        assert not measure_buttons(session)
        assert any(info.value.startswith(f"Measuring: {UNDISRUPTED} (seed 870, 2 replication(s), 14 h)")
                   for info in session.info)
        assert session.sidebar.get("progress")
    release.set()
    wait_for_runs(app)
    assert calls == [undisrupted(outage_scenario())]
    [success] = [message.value for message in app.success]
    assert success.startswith(f"Measured the recovery of {OUTAGE_SCENARIO} · seed 870 · 2 rep · 14 h from its "
                              "disruptions")
    assert app.sidebar.selectbox(key="gatetwin.shown_widget").value == f"{OUTAGE_SCENARIO} · seed 870 · 2 rep · 14 h"
    assert_shows(app, expected_recovery)
    assert not measure_buttons(app)
    assert len(app.image) == 3  # the histograms, the levels and the trucks behind

    # Saved as 'gatetwin recovery --out' writes it: the run without the outage is the one run here.
    [folder] = recovery_folders(dashboard_environment)
    without, with_outage = (folder / name for name in run_folder_names([UNDISRUPTED, OUTAGE_SCENARIO]))
    pd.testing.assert_frame_equal(pd.read_csv(folder / RECOVERY_CSV), expected_recovery, check_dtype=False)
    assert (folder / RECOVERY_PLOT).read_bytes().startswith(b"\x89PNG")
    report = (folder / RECOVERY_REPORT).read_text(encoding="utf-8")
    assert report.startswith(f"# Recovery: {OUTAGE_SCENARIO}\n\nFinished: both runs, 2 replication(s) each.")
    for link in re.findall(r"\]\(([^)]+)\)", report):
        assert (folder / unquote(link)).is_file(), link
    for saved, run in ((without, undisrupted_run), (with_outage, load_results(outage_run_folder))):
        for mine, theirs in zip(load_results(saved).replications, run.replications, strict=True):
            pd.testing.assert_frame_equal(mine.trucks, theirs.trucks)

    # The other session follows the same run to the same recovery, running nothing more.
    wait_for_runs(other)
    assert_shows(other, expected_recovery)
    assert len(calls) == 1

    # Compare layouts: the run without the disruptions beside the run, and the recovery first.
    go(app, "views/compare.py")
    assert app.multiselect(key="compare.runs").value == [f"{UNDISRUPTED} · seed 870 · 2 rep · 14 h",
                                                         f"{OUTAGE_SCENARIO} · seed 870 · 2 rep · 14 h"]
    assert [heading.value for heading in app.subheader] == [SECTION, "Every KPI, side by side"]
    assert_shows(app, expected_recovery)
    assert any("KPI" in table.value.columns for table in app.dataframe)


def test_a_measured_recovery_shows_again_when_the_run_is_opened_later_without_running_anything(
        open_app: OpenApp, outage_run_folder: Path, dashboard_environment: Path, expected_recovery: pd.DataFrame,
        monkeypatch: pytest.MonkeyPatch) -> None:
    release, calls = held_runs(monkeypatch)
    release.set()
    wait_for_runs(press_measure(open_app(outage_run_folder)))
    [folder] = recovery_folders(dashboard_environment)
    _board.clear()  # as after the dashboard was started again: no run on the board
    later = open_app(outage_run_folder)
    assert f"#### {SECTION}" in headings(later)
    assert_shows(later, expected_recovery)
    assert not measure_buttons(later)
    assert not job_board().jobs() and len(calls) == 1
    # "Compare the two runs" opens the run without the disruptions beside it, on Compare layouts.
    later.button(key=f"overview.recovery.compare[{OUTAGE_SCENARIO} · seed 870 · 2 rep · 14 h]").click().run()
    assert not later.exception, [e.value for e in later.exception]
    assert [heading.value for heading in later.subheader][:1] == [SECTION]
    assert len(later.multiselect(key="compare.runs").value) == 2
    # The folder itself opens as its two runs with their recovery, as a 'gatetwin recovery --out' folder.
    reopened = go(open_app(folder), "views/compare.py")
    assert SECTION in [heading.value for heading in reopened.subheader]
    assert_shows(reopened, expected_recovery)


def run_with_outage(app: AppTest, start: str) -> None:
    """Run the smart gate for 2 hours, 2 replications, seed 7, with scanner-1 down from ``start``
    for half an hour, from the Run page, and wait until it opens."""
    go(app, "views/run.py")
    prefix = "run.library.huu_nghi_smart_gate"
    app.selectbox(key="run.library").set_value("huu_nghi_smart_gate").run()
    app.number_input(key=f"{prefix}.hours").set_value(2.0).run()
    app.number_input(key=f"{prefix}.reps").set_value(2).run()
    app.number_input(key=f"{prefix}.seed").set_value(7).run()
    app.text_area(key=f"{prefix}.changes").input(
        f'devices.outages=[{{device: scanner-1, start: "{start}", duration_h: 0.5}}]').run()
    app.button(key=f"{prefix}.run").click().run()
    wait_for_runs(app)


def test_a_run_from_the_run_page_with_an_outage_added_is_measured_from_its_own_results(
        dashboard_environment: Path) -> None:
    app = AppTest.from_file(str(APP), default_timeout=60)
    app.run()
    run_with_outage(app, "00:30")
    go(app, "views/overview.py")
    [disrupted] = app.session_state["gatetwin.runs"].values()
    assert any(caption.value == "Its disruptions: scanner-1 down for 0.5 h from hour 0.5." for caption in app.caption)
    wait_for_runs(press_measure(app))
    [board_run, measured] = [job for job in job_board().jobs()]
    assert measured.request.scenario == undisrupted(disrupted.scenario)
    assert (measured.request.seed, measured.request.replications, measured.key.horizon_h) == (7, 2, 2.0)
    [folder] = sorted(dashboard_environment.glob("recovery-*"))
    copied = folder / run_folder_names([measured.request.scenario.name, disrupted.run.scenario_name])[1]
    assert board_run.out_dir is not None
    assert (copied / SUMMARY_FILE).read_bytes() == (board_run.out_dir / SUMMARY_FILE).read_bytes()
    assert board_run.result is not None and measured.result is not None
    report = recovery_report(disrupted.scenario, [rep.trucks for rep in board_run.result.replications],
                             [rep.trucks for rep in measured.result.replications], replication_ids(board_run.result))
    pd.testing.assert_frame_equal(pd.read_csv(folder / RECOVERY_CSV), report.table(), check_dtype=False)
    assert shown_figures(app)["figure"].tolist() == [label for label, _, _ in LABELS.values()]


def test_two_runs_whose_disruptions_differ_share_the_run_without_them_and_each_gets_its_recovery(
        dashboard_environment: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # One scenario file, named alike, saved with the scanner down at two times: without the outage, it is one.
    release, calls = held_runs(monkeypatch)
    app = AppTest.from_file(str(APP), default_timeout=60)
    app.run()
    for start in ("00:30", "01:00"):
        scenario = with_scanner_outage(busy_smart_gate(hours=2.0), start=start, hours=0.5)
        text = yaml.safe_dump(scenario.model_dump(mode="json"), sort_keys=False).encode("utf-8")
        go(app, "views/run.py")
        app.file_uploader(key="run.upload").set_value(("gate.yaml", text, "application/x-yaml")).run()
        app.button(key=f"run.upload.{scenario.name}.run").click().run()
        wait_for_runs(app)
    go(app, "views/overview.py")
    runs = list(app.session_state["gatetwin.runs"].values())
    assert len(runs) == 2 and runs[0].scenario != runs[1].scenario
    press_measure(app)  # for the run shown, the last opened
    # The other's run without the outage is the same, and already on its way: it waits for it too.
    app.selectbox(key="gatetwin.shown_widget").set_value(runs[0].label).run()
    assert not measure_buttons(app)
    assert any(info.value.startswith("Measuring: ") for info in app.info)
    [job] = [job for job in job_board().jobs() if job.request.scenario.name.endswith("-undisrupted")]
    assert job.request.scenario == undisrupted(runs[0].scenario) == undisrupted(runs[1].scenario)
    release.set()
    wait_for_runs(app)
    assert len(calls) == 1
    assert len([message for message in app.success if message.value.startswith("Measured the recovery")]) == 2
    assert job.result is not None
    for loaded in runs:
        app.selectbox(key="gatetwin.shown_widget").set_value(loaded.label).run()
        [folder] = [path for path in dashboard_environment.glob("recovery-*") if loaded.run.scenario_hash[:10] in path.name]
        report = recovery_report(loaded.scenario, [rep.trucks for rep in loaded.run.replications],
                                 [rep.trucks for rep in job.result.replications], replication_ids(loaded.run))
        pd.testing.assert_frame_equal(pd.read_csv(folder / RECOVERY_CSV), report.table(), check_dtype=False)
        assert any(caption.value.startswith(f"From {folder}") or folder.name in caption.value for caption in app.caption)
        assert not measure_buttons(app)


def test_a_scenario_without_disruptions_offers_nothing_to_measure(open_app: OpenApp, library_run_folder: Path) -> None:
    app = open_app(library_run_folder)
    assert f"#### {SECTION}" not in headings(app)
    assert not measure_buttons(app)
    assert not any("recovery" in text.value for text in (*app.caption, *app.info))


def test_the_run_without_the_disruptions_and_the_runs_of_a_recovery_folder_have_no_button(
        open_app: OpenApp, recovery_folder: Path) -> None:
    app = open_app(recovery_folder)
    for label in app.selectbox(key="gatetwin.shown_widget").options:
        app.selectbox(key="gatetwin.shown_widget").set_value(label).run()
        assert not measure_buttons(app), label
        assert f"#### {SECTION}" not in headings(app), label


def test_a_run_whose_scenario_cannot_be_rebuilt_says_so_and_how_to_measure_it(
        open_app: OpenApp, outage_run_folder: Path, tmp_path: Path) -> None:
    # As a folder written before the library's file changed: its hash is no library scenario's.
    old = shutil.copytree(outage_run_folder, tmp_path / "old")
    summary = json.loads((old / SUMMARY_FILE).read_text(encoding="utf-8"))
    summary["scenario_hash"] = summary["manifest"]["scenario_hash"] = "0123456789ab" + "0" * 52
    (old / SUMMARY_FILE).write_text(json.dumps(summary), encoding="utf-8")
    app = open_app(old)
    assert not measure_buttons(app)
    [said] = [caption.value for caption in app.caption if "cannot be rebuilt" in caption.value]
    assert said.startswith(f"This run's recovery from any disruptions cannot be measured here: the scenario of "
                           f"{OUTAGE_SCENARIO} cannot be rebuilt")
    assert "(0123456789ab)" in said
    assert "'gatetwin recovery FILE --seed 870 --reps 2 --hours 14'" in said


def test_a_run_of_a_scenario_of_its_own_opened_from_its_folder_is_measured_from_its_scenario_yaml(
        open_app: OpenApp, outage_run_folder: Path, tmp_path: Path) -> None:
    # As a run of a file of the planner's own: no library scenario has its hash, its folder's
    # scenario.yaml gives it back.
    own = with_overrides(load_results(outage_run_folder).scenario, name="my_outage")  # type: ignore[arg-type]
    folder = tmp_path / "own"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("twin.results.write_plots", lambda run, out_dir: [])
        run_scenario(own, RunOptions(replications=2, out=folder))
    app = open_app(folder)
    assert not [c.value for c in app.caption if "cannot be rebuilt" in c.value]
    assert len(measure_buttons(app)) == 1
    plan = plan_recovery(load_results(folder), load_results(folder).scenario, 14.0)
    assert plan.problem == "" and plan.request is not None and plan.request.scenario.name == "my_outage-undisrupted"
    older = shutil.copytree(folder, tmp_path / "older")
    (older / SCENARIO_FILE).unlink()  # as a folder of an older version
    app = open_app(older)
    assert not measure_buttons(app)
    assert [c.value for c in app.caption if "cannot be rebuilt" in c.value]


@pytest.fixture(scope="module")
def unfinished_outage_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("unfinished-outage")
    scenario = outage_scenario()
    return {"failed": write_failed_run(root / "failed", 1, hours=14.0, scenario=scenario),
            "cancelled": write_failed_run(root / "cancelled", 1, hours=14.0, scenario=scenario, cancelled=True)}


@pytest.mark.parametrize(("which", "reason"), [("failed", "ZeroDivisionError"), ("cancelled", "RunCancelled")])
def test_a_run_that_did_not_finish_every_replication_cannot_be_measured_and_says_why(
        open_app: OpenApp, unfinished_outage_runs: dict[str, Path], which: str, reason: str) -> None:
    app = open_app(unfinished_outage_runs[which])
    assert f"#### {SECTION}" in headings(app)
    assert not measure_buttons(app)
    [said] = [info.value for info in app.info if "cannot be measured" in info.value]
    assert said.startswith("This run's recovery from its disruptions cannot be measured: only 1 of its 2 "
                           "replications finished (")
    assert reason in said and "every replication must have finished" in said


def test_a_run_that_ends_before_its_disruptions_do_cannot_be_measured() -> None:
    scenario = with_overrides(outage_scenario(), horizon_h=11.0)
    plan = plan_recovery(run_scenario(scenario, RunOptions(replications=1)), scenario, 11.0)
    assert plan.request is None and plan.disruptions
    assert plan.problem == ("This run's recovery from its disruptions cannot be measured: the run ends (hour 11) before "
                            "they do (hour 13), so it says nothing of the time after them. Run it for longer.")


def test_when_the_run_without_the_disruptions_fails_its_error_shows_the_run_stays_and_it_can_be_measured_again(
        open_app: OpenApp, outage_run_folder: Path, dashboard_environment: Path, expected_recovery: pd.DataFrame,
        monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("replication 1 failed: the scanner emulator broke\nTraceback ...")

    monkeypatch.setattr("dashboard.jobs.run_scenario", broken)
    app = press_measure(open_app(outage_run_folder))
    wait_for_runs(app)
    label = f"{OUTAGE_SCENARIO} · seed 870 · 2 rep · 14 h"
    failed = f"{UNDISRUPTED} (seed 870, 2 replication(s), 14 h)"
    assert [error.value for error in app.error] == [
        f"The recovery of {label} from its disruptions was not measured: the run without them, {failed}, failed: "
        f"replication 1 failed: the scanner emulator broke. {label} is still open.",
        f"The run without the disruptions, {failed}, failed: replication 1 failed: the scanner emulator broke. Nothing "
        "was measured, and this run is as it was; measure again to run it anew.",
    ]
    assert app.sidebar.selectbox(key="gatetwin.shown_widget").value == label
    assert list(app.session_state["gatetwin.runs"]) == [label]
    assert not recovery_folders(dashboard_environment)
    monkeypatch.setattr("dashboard.jobs.run_scenario", run_scenario)  # working again
    wait_for_runs(press_measure(app))
    assert len(recovery_folders(dashboard_environment)) == 1
    assert_shows(app, expected_recovery)


def test_a_recovery_that_cannot_be_saved_shows_from_memory_and_says_so(
        open_app: OpenApp, outage_run_folder: Path, dashboard_environment: Path, expected_recovery: pd.DataFrame,
        monkeypatch: pytest.MonkeyPatch) -> None:
    def full(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("dashboard.state.write_recovery", full)
    app = press_measure(open_app(outage_run_folder))
    wait_for_runs(app)
    assert any(warning.value.startswith(f"Measured the recovery of {OUTAGE_SCENARIO} · seed 870 · 2 rep · 14 h from "
                                        "its disruptions, but it could not be saved to ") and
               "No space left on device" in warning.value for warning in app.warning)
    assert any(warning.value.endswith("it shows here in this session only.") for warning in app.warning)
    assert_shows(app, expected_recovery)
    assert len(app.image) == 3
    assert not recovery_folders(dashboard_environment)
