"""Replications named by seed and index, and comparisons paired on them (common random numbers)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from scenarios import load_scenario, with_overrides
from scenarios.schema import Scenario
from twin.compare import compare_runs, describe_pairing, format_table, pairing, replication_ids
from twin.results import SUMMARY_FILE, RunResult, load_results, write_results
from twin.run import RunOptions, run_scenario

SEED = 870


def _busy_gate() -> Scenario:
    """The smart gate at 2,000 trucks a day for 3 hours, 3 replications."""
    return with_overrides(load_scenario("huu_nghi_smart_gate"), horizon_h=3.0, replications=3,
                          **{"demand.trucks_per_day": 2000})


def _with_outage(scenario: Scenario) -> Scenario:
    """The same gate with scanner-1 down for an hour: the same trucks arrive, later ones wait."""
    return with_overrides(scenario, name="scanner_down",
                          **{"devices.outages": [{"device": "scanner-1", "start": "01:00", "duration_h": 1.0}]})


@pytest.fixture(scope="module")
def two_layouts() -> tuple[RunResult, RunResult]:
    base = _busy_gate()
    return run_scenario(base, RunOptions(seed=SEED)), run_scenario(_with_outage(base), RunOptions(seed=SEED))


def _row(table: pd.DataFrame, kpi: str, run: str) -> dict[str, object]:
    [row] = table[(table["kpi"] == kpi) & (table["run"] == run)].to_dict("records")
    return row


def test_each_replication_is_recorded_by_its_seed_and_its_index(two_layouts: tuple[RunResult, RunResult]) -> None:
    run, _ = two_layouts
    assert run.summary["seeds"] == [SEED, SEED, SEED]
    assert run.summary["replication_ids"] == [[SEED, 0], [SEED, 1], [SEED, 2]]
    assert replication_ids(run) == [(SEED, 0), (SEED, 1), (SEED, 2)]


def test_two_layouts_run_with_one_seed_see_the_same_trucks_and_differ_in_arrivals_by_exactly_nothing(
        two_layouts: tuple[RunResult, RunResult]) -> None:
    baseline, outage = two_layouts
    arrivals = baseline.summary["kpis"]["trucks_arrived"]["per_replication"]
    assert arrivals == outage.summary["kpis"]["trucks_arrived"]["per_replication"]
    assert len(set(arrivals)) > 1  # the replications differ from one another
    assert pairing(outage, baseline).pairs == ((0, 0), (1, 1), (2, 2))
    row = _row(compare_runs([baseline, outage]), "trucks_arrived", "scanner_down")
    assert (row["pairing"], row["difference"], row["difference_half_width"]) == ("paired", 0.0, 0.0)


def test_runs_with_different_seeds_are_compared_as_independent_samples(
        two_layouts: tuple[RunResult, RunResult]) -> None:
    baseline, _ = two_layouts
    other = run_scenario(_with_outage(_busy_gate()), RunOptions(seed=SEED + 1))
    assert not pairing(other, baseline).paired
    table = compare_runs([baseline, other])
    assert set(table.loc[table["verdict"] != "baseline", "pairing"]) == {"unpaired"}
    assert "share no replication" in describe_pairing(table)


def test_a_run_with_more_replications_is_paired_on_those_both_ran(two_layouts: tuple[RunResult, RunResult]) -> None:
    baseline, _ = two_layouts
    longer = run_scenario(with_overrides(_busy_gate(), replications=4), RunOptions(seed=SEED))
    assert pairing(longer, baseline).pairs == ((0, 0), (1, 1), (2, 2))
    row = _row(compare_runs([baseline, longer]), "trucks_arrived", "huu_nghi_smart_gate #2")
    assert (row["pairing"], row["difference"], row["difference_half_width"]) == ("paired", 0.0, 0.0)


def test_a_summary_written_without_replication_ids_is_paired_by_seed_and_position(
        two_layouts: tuple[RunResult, RunResult], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("twin.results.write_plots", lambda run, out_dir: [])
    baseline, outage = two_layouts
    folders = []
    for name, run in (("baseline", baseline), ("outage", outage)):
        folder = tmp_path / name
        run_copy = RunResult(run.scenario_name, run.scenario_hash, run.replications, run.manifest,
                             {k: v for k, v in run.summary.items() if k != "replication_ids"}, run.failed)
        write_results(run_copy, folder)
        document = json.loads((folder / SUMMARY_FILE).read_text())
        assert "replication_ids" not in document["summary"]
        folders.append(folder)
    old_baseline, old_outage = (load_results(folder) for folder in folders)
    assert replication_ids(old_outage) == [(SEED, 0), (SEED, 1), (SEED, 2)]
    row = _row(compare_runs([old_baseline, old_outage]), "trucks_arrived", "scanner_down")
    assert (row["pairing"], row["difference"], row["difference_half_width"]) == ("paired", 0.0, 0.0)


def test_replication_ids_survive_writing_and_reading_the_results(
        two_layouts: tuple[RunResult, RunResult], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("twin.results.write_plots", lambda run, out_dir: [])
    _, outage = two_layouts
    write_results(outage, tmp_path / "outage")
    assert load_results(tmp_path / "outage").summary["replication_ids"] == [[SEED, 0], [SEED, 1], [SEED, 2]]


def test_the_text_table_says_how_the_replications_were_matched(two_layouts: tuple[RunResult, RunResult]) -> None:
    baseline, outage = two_layouts
    table = compare_runs([baseline, outage])
    assert describe_pairing(table).startswith("Differences are paired by replication")
    text = " ".join(format_table(table).split())
    assert "Differences are paired by replication" in text


def test_a_comparison_of_paired_and_independent_runs_names_each() -> None:
    table = pd.DataFrame({"run": ["a", "b", "c"], "verdict": ["baseline", "better", "n/a"],
                          "pairing": ["", "paired", "unpaired"]})
    text = describe_pairing(table)
    assert "Paired by replication with the baseline (common random numbers): b." in text
    assert "independent samples (Welch's interval): c." in text
