"""Confidence intervals as a planner reads them: cut to what the quantity can be, and honest about
replications that all agree or are too few."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pandas as pd
import pytest

from twin import cli
from twin.compare import compare_runs, format_table, interval_text, with_ci
from twin.probes import TruckLog
from twin.results import ReplicationResult, RunResult, kpi_interval, kpi_range, load_results, summarize_run, write_results
from twin.stats import Interval, clip_interval, mean_ci, too_few_replications
from twin.sweep import Cell, format_sweep, sweep_plot, sweep_table


def _run(name: str, seeds: list[int], kpis: dict[str, list[float]]) -> RunResult:
    """A run whose replications carry only the given KPI values."""
    reps = [ReplicationResult(seed=seed, trucks=TruckLog().to_frame(), stations={}, series={},
                              kpis={kpi: values[i] for kpi, values in kpis.items()})
            for i, seed in enumerate(seeds)]
    return RunResult(name, f"hash-{name}", reps, {"seed": seeds[0], "replications": len(seeds)}, summarize_run(reps))


#: A share near 0, a count near 0 and a time, over 3 replications: t·s/√n reaches below 0 for
#: the first two.
RARE = {"scanner_utilisation": [0.0, 0.01, 0.08], "trucks_refused": [0.0, 0.0, 3.0], "time_at_gate_mean": [40.0, 42.0, 44.0]}


def test_an_interval_cut_at_its_natural_range_keeps_its_mean_and_its_other_bound() -> None:
    assert clip_interval(0.02, 0.05, (0.0, 1.0)) == pytest.approx((0.0, 0.07))
    assert clip_interval(0.97, 0.05, (0.0, 1.0)) == pytest.approx((0.92, 1.0))
    assert clip_interval(10.0, 2.0, (0.0, math.inf)) == (8.0, 12.0)  # nothing to cut
    assert all(math.isnan(bound) for bound in clip_interval(5.0, math.nan, (0.0, math.inf)))


def test_a_share_ranges_over_zero_to_one_and_every_other_kpi_of_a_run_is_never_negative() -> None:
    assert kpi_range("scanner_utilisation") == kpi_range("agv_fleet_utilisation") == (0.0, 1.0)
    assert kpi_range("officers_customs_utilisation") == (0.0, 1.0)
    for name in ("trucks_refused", "time_at_gate_p95", "road_queue_km_max", "fee_revenue_vnd", "scanner_mean_wait"):
        assert kpi_range(name) == (0.0, math.inf), name


def test_replications_that_all_agree_give_that_value_and_no_spread_exactly() -> None:
    # 0.1 + 0.1 + 0.1 is not 3 * 0.1 in floating point: a spread of 1e-17 would read as an interval.
    assert mean_ci([0.1, 0.1, 0.1]) == (0.1, 0.0)
    interval = Interval.of([4.0, 4.0], (0.0, math.inf))
    assert (interval.mean, interval.low, interval.high, interval.n, interval.agreed) == (4.0, 4.0, 4.0, 2, True)


def test_two_replications_are_too_few_to_plan_on_and_three_are_enough() -> None:
    assert too_few_replications(2)
    assert not too_few_replications(1)  # no interval at all, nothing to warn of
    assert not too_few_replications(3)


def test_the_summary_cuts_each_kpi_s_interval_to_its_range_and_leaves_the_mean_and_half_width() -> None:
    kpis = _run("rare", [1, 2, 3], RARE).summary["kpis"]
    share, count, time = kpis["scanner_utilisation"], kpis["trucks_refused"], kpis["time_at_gate_mean"]
    assert (share["mean"], share["half_width"]) == mean_ci(RARE["scanner_utilisation"])
    assert share["mean"] - share["half_width"] < 0  # what the interval was before
    assert (share["low"], share["high"]) == (0.0, share["mean"] + share["half_width"])
    assert (count["low"], count["high"]) == (0.0, count["mean"] + count["half_width"])
    assert (time["low"], time["high"]) == (time["mean"] - time["half_width"], time["mean"] + time["half_width"])


def test_summary_json_keeps_the_cut_bounds_as_numbers_and_reads_them_back(tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("twin.results.write_plots", lambda run, out_dir: [])
    run = _run("rare", [1, 2, 3], RARE)
    write_results(run, tmp_path)
    entry = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))["summary"]["kpis"]["trucks_refused"]
    assert entry["low"] == 0.0 and entry["high"] == pytest.approx(1.0 + mean_ci(RARE["trucks_refused"])[1])
    assert entry["half_width"] == pytest.approx(mean_ci(RARE["trucks_refused"])[1])  # t·s/√n, as before
    loaded = load_results(tmp_path).summary["kpis"]["trucks_refused"]
    assert kpi_interval("trucks_refused", loaded) == kpi_interval("trucks_refused", run.summary["kpis"]["trucks_refused"])


def test_results_without_bounds_read_with_the_bounds_they_would_have_had() -> None:
    entry = {"mean": 0.02, "half_width": 0.05, "n": 3}  # summary.json of an older version
    assert kpi_interval("scanner_utilisation", entry) == Interval(0.02, 0.05, 0.0, pytest.approx(0.07), 3)


def test_a_comparison_gives_each_run_s_interval_cut_to_the_kpi_s_range_in_its_table_and_csv(tmp_path: Path) -> None:
    baseline = _run("a", [1, 2, 3], RARE)
    variant = _run("b", [1, 2, 3], {**RARE, "scanner_utilisation": [0.02, 0.0, 0.05]})
    table = compare_runs([baseline, variant])
    table.to_csv(tmp_path / "comparison.csv", index=False)  # as 'gatetwin compare --out' writes it
    written = pd.read_csv(tmp_path / "comparison.csv")
    for frame in (table, written):
        share = frame[(frame["kpi"] == "scanner_utilisation") & (frame["run"] == "b")].iloc[0]
        assert share["low"] == 0.0 and share["high"] == pytest.approx(share["mean"] + share["half_width"])
        assert share["replications"] == 3
    text = " ".join(format_table(table).split())
    assert f"0.0233 (0 to {Interval.of([0.02, 0.0, 0.05]).high:.3g})" in text


def test_a_mean_whose_interval_was_cut_reads_as_its_bounds_and_one_whose_replications_agree_says_so() -> None:
    cut = Interval.of([0.0, 0.01, 0.08], (0.0, 1.0))
    assert with_ci(cut) == f"0.03 (0 to {cut.high:.3g})"
    assert with_ci(Interval.of([40.0, 44.0], (0.0, math.inf))) == "42 ± 25.4"
    assert with_ci(Interval.of([3.0, 3.0], (0.0, math.inf))) == "3 (same in all 2 replications)"
    assert interval_text(Interval.of([3.0, 3.0], (0.0, math.inf))) == "same in all 2 replications"
    assert with_ci(Interval.of([3.0], (0.0, math.inf))) == "3"  # one replication: no interval
    assert "± 0" not in with_ci(Interval.symmetric(0.0, 0.0))


def test_a_comparison_of_two_replications_warns_that_its_intervals_rest_on_too_few() -> None:
    seeds = [1, 2]
    table = compare_runs([_run("a", seeds, {"trucks_refused": [0.0, 0.0]}), _run("b", seeds, {"trucks_refused": [2.0, 2.0]})])
    text = " ".join(format_table(table).split())
    assert ("Warning: The 95 % intervals of a, b rest on 2 replications, too few to plan on (3 or more are needed)"
            in text)
    assert "0 (same in all 2 replications)" in text and "2 (same in all 2 replications)" in text
    assert "± 0" not in text
    row = table[(table["kpi"] == "trucks_refused") & (table["run"] == "b")].iloc[0]
    assert (row["half_width"], row["low"], row["high"]) == (0.0, 2.0, 2.0)  # numbers in the file, not words


def test_a_sweep_shows_cut_intervals_warns_of_too_few_replications_and_draws_asymmetric_bars() -> None:
    seeds = [1, 2]
    cells = [Cell(0, (("lanes", "2"),), ("layout.entry_lanes=2",)), Cell(1, (("lanes", "3"),), ("layout.entry_lanes=3",))]
    runs = [_run(cell.label, seeds, {"road_queue_km_max": values, "trucks_refused": [1.0, 1.0]})
            for cell, values in zip(cells, ([0.5, 3.5], [0.2, 0.4]), strict=True)]
    table = sweep_table(compare_runs(runs, [cell.label for cell in cells]), cells)
    first = table[(table["cell"] == 1) & (table["kpi"] == "road_queue_km_max")].iloc[0]
    assert (first["mean"], first["low"]) == (2.0, 0.0)  # 2 ± 19: a queue is never shorter than none
    text = " ".join(format_sweep(table, ["road_queue_km_max", "trucks_refused"]).split())
    assert f"2 (0 to {first['high']:.3g})" in text
    assert "1 (same in all 2 replications)" in text
    assert "Warning: The 95 % intervals of lanes=2, lanes=3 rest on 2 replications, too few to plan on" in text
    [line] = sweep_plot(table, ["road_queue_km_max"]).axes[0].collections[:1]
    segments = line.get_segments()  # the error bars: from the lower bound to the upper
    assert min(float(segment[:, 1].min()) for segment in segments) == 0.0


def test_the_console_report_of_a_run_says_when_replications_agree_and_warns_when_they_are_too_few(
        capsys: pytest.CaptureFixture[str]) -> None:
    run = _run("tiny", [1, 2], {"trucks_returned": [0.0, 0.0], "road_queue_km_max": [0.1, 0.9],
                                "throughput_per_day": [800.0, 820.0]})
    cli._print_report(run)
    text = capsys.readouterr().out
    lines = text.splitlines()
    assert "same in all 2 replications" in next(line for line in lines if "trucks_returned" in line)
    queue = next(line for line in lines if "road_queue_km_max" in line)
    assert f"0 to {run.summary['kpis']['road_queue_km_max']['high']:.3g}" in queue
    assert not re.search(r"-[0-9]", queue)  # 0.5 ± 5.08 would reach -4.58 km
    assert "± 0 " not in text
    assert "Warning: The 95 % intervals rest on 2 replications, too few to plan on" in " ".join(text.split())
    enough = _run("tiny", [1, 2, 3], {"throughput_per_day": [800.0, 820.0, 810.0]})
    cli._print_report(enough)
    text = capsys.readouterr().out
    assert "too few" not in text and "One replication" not in text
    # One replication has no interval at all: the empty column is explained, with what gives one.
    single = _run("tiny", [1], {"throughput_per_day": [800.0]})
    cli._print_report(single)
    text = " ".join(capsys.readouterr().out.split())
    assert "One replication: no 95 % intervals. Give --reps 5 (or any number from 3) for intervals to plan on." in text
    assert "too few" not in text
