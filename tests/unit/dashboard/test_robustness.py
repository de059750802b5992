"""The dashboard on results its users really have: written by an older version, damaged,
written by ``gatetwin compare``, or from runs with little in them. Each page opens without a
traceback and says what it cannot show, and why."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.analysis import HEADLINES
from tests.unit.dashboard.support import APP

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
