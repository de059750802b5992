"""The compare page on a folder written by ``gatetwin recovery --out``: the recovery from the
disruptions beside the two runs, and only there; a table that cannot be read is named, not raised."""

from __future__ import annotations

import math
import shutil
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboard.analysis import format_number
from twin.compare import run_folder_names, with_ci
from twin.recovery import LABELS, NOT_YET, RECOVERY_CSV, RECOVERY_PLOT, figure_interval

OpenApp = Callable[..., AppTest]
SECTION = "Recovery from the disruptions"
FIGURES = "mean and 95 % CI"


def go(app: AppTest, page: str) -> AppTest:
    app.switch_page(page).run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def subheaders(app: AppTest) -> list[str]:
    return [heading.value for heading in app.subheader]


def tables_with(app: AppTest, column: str) -> list[pd.DataFrame]:
    return [table.value for table in app.dataframe if column in table.value.columns]


def copy_of(folder: Path, to: Path) -> Path:
    shutil.copytree(folder, to)
    return to


def expected_caught_up(table: pd.DataFrame) -> str:
    """The start of the line that says how many replications caught up, from the table itself."""
    n, caught = len(table), int(table["caught_up_h"].notna().sum())
    if caught == n:
        return f"All {n} replications caught up by the end of the run"
    if caught == 0:
        return f"None of the {n} replications caught up by the end of the run"
    return f"{caught} of {n} replications caught up by the end of the run"


def test_a_recovery_folder_shows_each_figure_with_its_interval_what_caught_up_and_the_trucks_behind(
        open_app: OpenApp, recovery_folder: Path) -> None:
    app = go(open_app(recovery_folder), "views/compare.py")
    assert subheaders(app) == [SECTION, "Every KPI, side by side"]
    written = pd.read_csv(recovery_folder / RECOVERY_CSV)
    [shown] = tables_with(app, FIGURES)
    assert shown["figure"].tolist() == [label for label, _, _ in LABELS.values()]
    assert shown["unit"].tolist() == [unit for _, unit, _ in LABELS.values()]
    for name, text in zip(LABELS, shown[FIGURES], strict=True):
        interval = figure_interval(written, name)
        if math.isnan(interval.mean):
            assert name in NOT_YET and text == f"{NOT_YET[name]} in any replication"
        else:
            assert text == with_ci(interval, format_number)
    assert any(markdown.value.startswith(expected_caught_up(written)) for markdown in app.markdown)
    [normal] = [markdown.value for markdown in app.markdown if "back to normal" in markdown.value]
    assert normal.startswith("The time at the gate was") and "2-hour windows" in normal
    assert any(caption.value.startswith("Trucks behind at a time: the trucks the gate without the disruptions")
               for caption in app.caption)
    assert len(app.image) == 2  # the trucks behind, and the change of each KPI
    assert tables_with(app, "KPI"), "the two runs are compared below"
    assert not app.warning or all("replications" in warning.value for warning in app.warning)


def test_the_recovery_shows_for_its_two_runs_opened_one_by_one_and_with_the_baseline_swapped(
        open_app: OpenApp, recovery_folder: Path) -> None:
    undisrupted, disrupted = sorted(folder for folder in recovery_folder.iterdir() if folder.is_dir())
    app = go(open_app(undisrupted, disrupted), "views/compare.py")
    assert SECTION in subheaders(app)
    first, second = app.multiselect(key="compare.runs").value
    app.multiselect(key="compare.runs").set_value([second, first]).run()
    assert not app.exception
    assert SECTION in subheaders(app)


def test_a_plain_comparison_shows_no_recovery(open_app: OpenApp, saved_runs: dict[str, Path], tmp_path: Path) -> None:
    for name, run in zip(run_folder_names(["huu_nghi_smart_gate", "huu_nghi_smart_gate_scanner_down"]),
                         ("baseline", "outage"), strict=True):
        copy_of(saved_runs[run], tmp_path / "cmp" / name)
    app = go(open_app(tmp_path / "cmp"), "views/compare.py")
    assert SECTION not in subheaders(app)
    assert not tables_with(app, FIGURES)
    assert tables_with(app, "KPI")


def test_one_run_of_a_recovery_folder_compared_with_another_shows_no_recovery(
        open_app: OpenApp, recovery_folder: Path, other_seed_folder: Path) -> None:
    app = go(open_app(recovery_folder, other_seed_folder), "views/compare.py")
    undisrupted, disrupted, other = app.multiselect(key="compare.runs").options
    assert SECTION in subheaders(app)  # both runs of the folder are among those compared
    app.multiselect(key="compare.runs").set_value([disrupted, other]).run()
    assert not app.exception
    assert SECTION not in subheaders(app)
    assert not tables_with(app, FIGURES)


def _drop_column(path: Path) -> None:
    pd.read_csv(path).drop(columns=["caught_up_h"]).to_csv(path, index=False)


def _not_a_number(path: Path) -> None:
    table = pd.read_csv(path).astype({"behind_max": object})
    table.loc[1, "behind_max"] = "lots"
    table.to_csv(path, index=False)


@pytest.mark.parametrize(("damage", "problem"), [
    (_drop_column, "no column 'caught_up_h'"),
    (_not_a_number, "column 'behind_max', replication row 2: 'lots' is not a number"),
    (lambda path: path.write_bytes(b"\x89PNG\x00\xff\xfe garbage \x00\n\x01,\x02\n"), "cannot be read as a table"),
    (lambda path: path.write_text(""), "the file is empty"),
    (lambda path: path.write_text(",".join(("seed", "replication", *LABELS)) + "\n"), "no replication in it"),
], ids=["missing-column", "not-a-number", "garbage", "empty", "no-rows"])
def test_a_recovery_table_that_cannot_be_read_is_named_with_its_problem_and_the_page_goes_on(
        open_app: OpenApp, recovery_folder: Path, tmp_path: Path, damage: Callable[[Path], None],
        problem: str) -> None:
    folder = copy_of(recovery_folder, tmp_path / "recovery")
    damage(folder / RECOVERY_CSV)
    app = go(open_app(folder), "views/compare.py")
    assert SECTION in subheaders(app)
    [warning] = [w.value for w in app.warning if "recovery" in w.value]
    assert warning.startswith(f"The recovery from the disruptions is not shown: {folder / RECOVERY_CSV}: ")
    assert problem in warning and "Traceback" not in warning
    assert not tables_with(app, FIGURES)
    assert tables_with(app, "KPI"), "the comparison of the two runs is still drawn"
    assert len(app.image) == 1


def test_a_recovery_table_written_before_the_time_to_normal_waits_reads_it_as_not_measured(
        open_app: OpenApp, recovery_folder: Path, tmp_path: Path) -> None:
    folder = copy_of(recovery_folder, tmp_path / "recovery")
    path = folder / RECOVERY_CSV
    pd.read_csv(path).drop(columns=["waits_normal_h"]).to_csv(path, index=False)
    app = go(open_app(folder), "views/compare.py")
    [shown] = tables_with(app, FIGURES)
    figures = dict(zip(shown["figure"], shown[FIGURES], strict=True))
    assert figures[LABELS["waits_normal_h"][0]] == "not measured"
    assert not [markdown.value for markdown in app.markdown if "back to normal" in markdown.value]
    assert any(markdown.value.startswith(expected_caught_up(pd.read_csv(path))) for markdown in app.markdown)


def test_a_recovery_without_its_figure_says_so_and_shows_the_table(open_app: OpenApp, recovery_folder: Path,
                                                                     tmp_path: Path) -> None:
    folder = copy_of(recovery_folder, tmp_path / "recovery")
    (folder / RECOVERY_PLOT).write_text("not a picture")
    app = go(open_app(folder), "views/compare.py")
    assert tables_with(app, FIGURES)
    assert any(f"{folder / RECOVERY_PLOT}: no figure of the trucks behind" in info.value for info in app.info)


def test_the_overview_of_either_run_of_a_recovery_folder_points_to_the_recovery(
        open_app: OpenApp, recovery_folder: Path, saved_runs: dict[str, Path]) -> None:
    app = open_app(recovery_folder)
    for label in app.selectbox(key="gatetwin.shown_widget").options:
        app.selectbox(key="gatetwin.shown_widget").set_value(label).run()
        assert not app.exception
        assert any(f"one of the two runs of {recovery_folder}" in info.value for info in app.info), label
    plain = open_app(saved_runs["outage"])
    assert not any("gatetwin recovery" in info.value for info in plain.info)


def test_a_recovery_folder_opened_beside_other_runs_becomes_the_comparison_shown(
        open_app: OpenApp, recovery_folder: Path, saved_runs: dict[str, Path], other_seed_folder: Path) -> None:
    app = go(open_app(saved_runs["baseline"], other_seed_folder), "views/compare.py")
    assert SECTION not in subheaders(app)
    go(app, "views/run.py")
    app.text_input(key="run.folder").set_value(str(recovery_folder)).run()
    app.button(key="run.open_folder").click().run()
    assert not app.exception
    assert any(f"{recovery_folder} holds the recovery" in info.value for info in app.info)
    go(app, "views/compare.py")
    sources = {str(folder.resolve()) for folder in recovery_folder.iterdir() if folder.is_dir()}
    runs = app.session_state["gatetwin.runs"]
    assert {runs[label].source for label in app.multiselect(key="compare.runs").value} == sources
    assert SECTION in subheaders(app)
    assert tables_with(app, FIGURES)
