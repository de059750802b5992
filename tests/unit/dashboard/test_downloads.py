"""The Overview's downloads: the scenario as it ran, which runs again with the same results, and the report."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
from streamlit.testing.v1 import AppTest

from dashboard.downloads import report_download, scenario_download
from dashboard.state import LoadedRun
from scenarios import load_scenario
from twin.results import REPORT_FILE, SCENARIO_FILE, load_results
from twin.run import run_scenario

OpenApp = Callable[..., AppTest]


def _loaded(folder: Path) -> LoadedRun:
    run = load_results(folder)
    return LoadedRun(label="run", run=run, source=str(folder), scenario=run.scenario, folder=folder)


def test_the_scenario_as_run_runs_again_with_the_same_results(library_run_folder: Path, tmp_path: Path) -> None:
    loaded = _loaded(library_run_folder)
    name, data = scenario_download(loaded)
    assert name == "huu_nghi_smart_gate.yaml"
    path = tmp_path / name
    path.write_bytes(data)
    scenario = load_scenario(path)
    assert (scenario.run.replications, scenario.run.seed, scenario.run.horizon_h) == (2, 5, 1.0)  # the run's own
    again = run_scenario(scenario)  # no options: the file says everything
    for ours, theirs in zip(again.replications, loaded.run.replications, strict=True):
        pd.testing.assert_frame_equal(ours.trucks, theirs.trucks, check_dtype=False)


def test_the_report_is_the_folder_s_or_made_from_the_run(library_run_folder: Path) -> None:
    loaded = _loaded(library_run_folder)
    name, data = report_download(loaded)
    assert name == "huu_nghi_smart_gate-report.md"
    assert data == (library_run_folder / REPORT_FILE).read_bytes()
    in_memory = LoadedRun(label="run", run=loaded.run, source="memory", scenario=loaded.scenario)
    _, made = report_download(in_memory)
    assert made.decode("utf-8").startswith("# Run report: huu_nghi_smart_gate\n\nFinished: 2 of 2 replications.")


def test_the_overview_offers_both_downloads_and_names_a_scenario_it_cannot_know(
        open_app: OpenApp, library_run_folder: Path, tmp_path: Path) -> None:
    app = open_app(library_run_folder)
    labels = [button.label for button in app.get("download_button")]
    assert labels == ["Download the scenario as run (YAML)", "Download the run's report (Markdown)"]
    older = tmp_path / "older"
    older.mkdir()
    for path in library_run_folder.iterdir():
        if path.name != SCENARIO_FILE:
            (older / path.name).write_bytes(path.read_bytes())
    # A folder of an older version, of a scenario no library file has: nothing to download but the report.
    summary = (older / "summary.json").read_text(encoding="utf-8")
    (older / "summary.json").write_text(summary.replace(load_results(library_run_folder).scenario_hash, "f" * 64),
                                        encoding="utf-8")
    app = open_app(older)
    assert [button.label for button in app.get("download_button")] == ["Download the run's report (Markdown)"]
    assert any(f"its folder has no {SCENARIO_FILE}" in caption.value for caption in app.caption)
