"""The dashboard on results its users really have: written by an older version, damaged,
written by ``gatetwin compare``, or from runs with little in them. Each page opens without a
traceback and says what it cannot show, and why."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.analysis import HEADLINES
from tests.unit.dashboard.support import APP
from twin.compare import COMPARISON_CSV, compare_runs, run_folder_names
from twin.results import load_results

OpenApp = Callable[..., AppTest]
#: The pages that show the run open (the "Run or open" page opens runs and shows none).
RUN_PAGES = ["views/overview.py", "views/replay.py", "views/bottlenecks.py", "views/agencies.py"]


def go(app: AppTest, page: str) -> AppTest:
    app.switch_page(page).run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def warnings(app: AppTest) -> list[str]:
    return [warning.value for warning in app.warning]


@pytest.mark.parametrize("page", [*RUN_PAGES, "views/compare.py"])
def test_results_from_an_older_version_open_on_every_page_with_a_note_of_what_is_missing_and_how_to_get_it(
        open_app: OpenApp, older_folder: Path, library_run_folder: Path, page: str) -> None:
    app = go(open_app(older_folder, library_run_folder), page)
    [note] = [text for text in warnings(app) if "older version of gatetwin" in text]
    assert "trucks.parquet has no column refused_at, time_at_gate_so_far" in note
    assert "counts only the trucks that departed" in note
    assert f"`gatetwin run huu_nghi_smart_gate --reps 2 --seed 5 --hours 1 --out {older_folder}`" in note


def test_results_of_this_version_show_no_note_of_an_older_version(open_app: OpenApp, library_run_folder: Path) -> None:
    app = open_app(library_run_folder)
    for page in RUN_PAGES:
        assert not any("version of gatetwin" in text for text in warnings(go(app, page)))


def test_the_overview_of_older_results_shows_their_kpis_and_says_why_the_histograms_are_left_out(
        open_app: OpenApp, older_folder: Path) -> None:
    app = open_app(older_folder)
    assert [metric.label for metric in app.metric] == [label for _, label in HEADLINES]
    assert any(info.value.startswith("The histograms of the truck times are left out: these results have no column "
                                     "'time_at_gate_so_far'") for info in app.info)


def test_opening_older_results_on_the_run_page_says_what_they_lack(older_folder: Path) -> None:
    app = AppTest.from_file(str(APP), default_timeout=60)
    app.run()
    go(app, "views/run.py")
    app.text_input(key="run.folder").set_value(str(older_folder)).run()
    app.button(key="run.open_folder").click().run()
    assert not app.exception
    assert [s.value for s in app.success][0].startswith("Opened huu_nghi_smart_gate")
    assert any("older version of gatetwin" in text for text in warnings(app))


def comparison_folder(saved_runs: dict[str, Path], root: Path) -> Path:
    """A folder laid out as ``gatetwin compare --out`` writes one: a folder per run, named by its
    place and name, baseline first, and the comparison's table beside them."""
    names = run_folder_names(["huu_nghi_smart_gate", "huu_nghi_smart_gate_scanner_down"])
    for name, run in zip(names, ("baseline", "outage"), strict=True):
        shutil.copytree(saved_runs[run], root / name)
    compare_runs([load_results(saved_runs["baseline"]), load_results(saved_runs["outage"])]).to_csv(
        root / COMPARISON_CSV, index=False)
    return root


def test_a_folder_written_by_compare_opens_each_of_its_runs_and_compares_them(
        open_app: OpenApp, saved_runs: dict[str, Path], tmp_path: Path) -> None:
    app = go(open_app(comparison_folder(saved_runs, tmp_path / "cmp")), "views/compare.py")
    assert not app.error
    assert [label.split(" · ")[0] for label in app.multiselect(key="compare.runs").value] == [
        "huu_nghi_smart_gate", "huu_nghi_smart_gate_scanner_down"]
    assert app.dataframe, "the comparison table is drawn"


def test_opening_a_folder_that_holds_results_folders_names_them(tmp_path: Path, saved_runs: dict[str, Path]) -> None:
    shutil.copytree(saved_runs["baseline"], tmp_path / "out" / "baseline")
    app = AppTest.from_file(str(APP), default_timeout=60)
    app.run()
    go(app, "views/run.py")
    app.text_input(key="run.folder").set_value(str(tmp_path / "out")).run()
    app.button(key="run.open_folder").click().run()
    assert [error.value for error in app.error] == [
        f"{tmp_path / 'out'}: not a gatetwin results folder itself (no summary.json), but it holds 1: baseline; "
        "open one of them"]


@pytest.mark.parametrize("name", ["summary.json", "trucks.parquet", "series.parquet"])
def test_a_truncated_file_is_named_and_every_page_goes_on_showing_the_other_runs(
        open_app: OpenApp, saved_runs: dict[str, Path], tmp_path: Path, name: str) -> None:
    damaged = tmp_path / "damaged"
    shutil.copytree(saved_runs["outage"], damaged)
    (damaged / name).write_bytes((damaged / name).read_bytes()[:400])
    app = open_app(damaged, saved_runs["baseline"])
    [error] = [error.value for error in app.error]
    assert error.startswith(f"Not opened at start: cannot open the results in {damaged}: {damaged / name}: ")
    assert "the file is truncated or corrupt" in error and "Traceback" not in error
    assert len(app.metric) == len(HEADLINES)
    for page in RUN_PAGES:
        go(app, page)
        assert [error.value for error in app.sidebar.error] == [error], page
