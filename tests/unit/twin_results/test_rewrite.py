"""Writing results where results were written before: nothing of the earlier run is left beside
the new one, and nothing a user keeps in the folder is touched."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd

from tests.unit.twin_results.synthetic_gate import make_run
from twin.compare import clear_comparison, run_folder_names
from twin.results import RunResult, clear_results, load_results, write_results


def _with_agent_tables(run: RunResult) -> RunResult:
    """The run with a DataFrame in every replication's ``extra``, as the Mesa agents leave one."""
    reps = [dataclasses.replace(rep, extra={**rep.extra, "agents": pd.DataFrame({"step": [0, 1], "queue_km": [0.0, 1.5]})})
            for rep in run.replications]
    return dataclasses.replace(run, replications=reps)


def test_a_second_run_in_the_same_folder_leaves_none_of_the_first_runs_files(tmp_path: Path) -> None:
    write_results(_with_agent_tables(make_run("five", [1, 2, 3, 4, 5])), tmp_path)
    assert (tmp_path / "extra_agents_rep4.parquet").is_file()
    (tmp_path / "notes.txt").write_text("the planner's own notes")
    (tmp_path / "mine").mkdir()
    second = write_results(make_run("two", [8, 9]), tmp_path)  # fewer replications, no agent tables
    on_disk = {path.name for path in tmp_path.iterdir()}
    assert on_disk == {path.name for path in second} | {"notes.txt", "mine"}
    assert not any(name.startswith("extra_") for name in on_disk)
    assert (tmp_path / "notes.txt").read_text() == "the planner's own notes"
    assert [rep.seed for rep in load_results(tmp_path).replications] == [8, 9]


def test_a_folder_that_holds_no_results_is_left_alone(tmp_path: Path) -> None:
    (tmp_path / "trucks.csv").write_text("a spreadsheet of the user's\n")
    assert clear_results(tmp_path) == []
    assert (tmp_path / "trucks.csv").read_text() == "a spreadsheet of the user's\n"


def test_a_new_comparison_takes_away_the_runs_it_no_longer_compares(tmp_path: Path) -> None:
    old = make_run("old", [3])
    for folder in run_folder_names(["baseline", "three_lanes", "two_scanners"]):
        write_results(old, tmp_path / folder)
    (tmp_path / "comparison.csv").write_text("kpi,difference\n")
    (tmp_path / "3-two_scanners" / "notes.txt").write_text("kept")
    (tmp_path / "4-someone_elses").mkdir()  # not a results folder
    (tmp_path / "4-someone_elses" / "trucks.csv").write_text("theirs\n")

    removed = clear_comparison(tmp_path, ["baseline", "extra_scale"])

    left = sorted(path.name for path in tmp_path.iterdir())
    assert left == ["1-baseline", "3-two_scanners", "4-someone_elses"]
    assert tmp_path / "2-three_lanes" in removed and tmp_path / "comparison.csv" in removed
    assert [path.name for path in (tmp_path / "3-two_scanners").iterdir()] == ["notes.txt"]
    assert (tmp_path / "4-someone_elses" / "trucks.csv").read_text() == "theirs\n"
    assert load_results(tmp_path / "1-baseline").scenario_name == "old"  # rewritten by the run itself, not here
