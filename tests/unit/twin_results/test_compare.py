"""Comparing runs: paired differences, KPI directions, the table and the chart."""

from __future__ import annotations

import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from twin.compare import COLUMNS, compare_runs, comparison_plot, comparison_warnings, format_table, kpi_direction
from twin.probes import TruckLog
from twin.results import ReplicationResult, RunResult, summarize_run
from twin.stats import mean_ci


def _run(name: str, seeds: list[int], kpis: dict[str, list[float]], hours: float | None = None,
         asked: int | None = None, failed: str | None = None) -> RunResult:
    """A run whose replications carry only the given KPI values; ``hours`` and ``asked``
    (replications asked for) go into its manifest, ``failed`` is why it stopped."""
    reps = [
        ReplicationResult(seed=seed, trucks=TruckLog().to_frame(), stations={}, series={},
                          kpis={kpi: values[i] for kpi, values in kpis.items()})
        for i, seed in enumerate(seeds)
    ]
    manifest: dict[str, object] = {}
    if hours is not None:
        manifest["extra"] = {"horizon_h": hours}
    if asked is not None:
        manifest["replications"] = asked
    return RunResult(name, f"hash-{name}", reps, manifest, summarize_run(reps) if reps else {}, failed=failed)


def _row(table: pd.DataFrame, kpi: str, run: str) -> pd.Series:
    rows = table[(table["kpi"] == kpi) & (table["run"] == run)]
    assert len(rows) == 1, f"expected one row for {kpi} / {run}"
    return rows.iloc[0]


def test_a_second_scanner_is_judged_better_for_waiting_with_paired_replications(
    one_scanner_run: RunResult, two_scanner_run: RunResult
) -> None:
    table = compare_runs([one_scanner_run, two_scanner_run])
    assert list(table.columns) == list(COLUMNS)
    gate = _row(table, "time_at_gate_mean", "two-scanners")
    assert gate["pairing"] == "paired"
    assert gate["difference"] < 0
    assert gate["significant"]
    assert gate["verdict"] == "better"
    assert gate["best"] == "two-scanners"
    assert _row(table, "scanner_mean_wait", "two-scanners")["verdict"] == "better"
    assert _row(table, "time_at_gate_mean", "one-scanner")["verdict"] == "baseline"
    # Common random numbers: the same trucks arrive in both runs, so demand does not differ at all.
    arrived = _row(table, "trucks_arrived", "two-scanners")
    assert (arrived["difference"], arrived["difference_half_width"], arrived["verdict"]) == (0.0, 0.0, "n/a")
    # The entry lane is upstream of the scanner: its waiting is identical, not "better".
    assert _row(table, "entry_lane_mean_wait", "two-scanners")["verdict"] == "equal"


def test_each_kpi_is_judged_by_its_own_direction() -> None:
    seeds = [1, 2, 3, 4]
    baseline = _run("baseline", seeds, {
        "time_at_gate_p95": [100.0, 120.0, 90.0, 110.0],
        "throughput_per_day": [800.0, 850.0, 780.0, 820.0],
        "road_queue_km_max": [2.0, 2.5, 1.8, 2.2],
    })
    variant = _run("third-lane", seeds, {
        "time_at_gate_p95": [80.0, 101.0, 69.0, 91.0],
        "throughput_per_day": [840.0, 889.0, 822.0, 861.0],
        "road_queue_km_max": [3.0, 3.6, 2.7, 3.1],
    })
    table = compare_runs([baseline, variant])
    assert _row(table, "time_at_gate_p95", "third-lane")["verdict"] == "better"  # lower time is better
    assert _row(table, "throughput_per_day", "third-lane")["verdict"] == "better"  # higher throughput is better
    assert _row(table, "road_queue_km_max", "third-lane")["verdict"] == "worse"  # a longer road queue is worse
    assert _row(table, "road_queue_km_max", "baseline")["best"] == "baseline"
    assert _row(table, "throughput_per_day", "baseline")["best"] == "third-lane"
    assert _row(table, "time_at_gate_p95", "third-lane")["difference"] == pytest.approx(-19.75)


def test_a_difference_within_the_noise_is_not_called_better() -> None:
    baseline = _run("a", [1, 2, 3], {"time_at_gate_mean": [30.0, 40.0, 35.0]})
    variant = _run("b", [1, 2, 3], {"time_at_gate_mean": [31.0, 38.0, 35.5]})
    row = _row(compare_runs([baseline, variant]), "time_at_gate_mean", "b")
    assert not row["significant"]
    assert row["verdict"] == "no clear difference"
    assert row["best"] == "b"  # by the mean, for the record


def test_runs_with_different_seeds_are_compared_as_independent_samples() -> None:
    baseline = _run("a", [1, 2, 3], {"time_at_gate_mean": [30.0, 31.0, 29.0]})
    variant = _run("b", [7, 8, 9], {"time_at_gate_mean": [20.0, 21.0, 19.0]})
    row = _row(compare_runs([baseline, variant]), "time_at_gate_mean", "b")
    assert row["pairing"] == "unpaired"
    assert row["difference"] == pytest.approx(-10.0)
    assert row["verdict"] == "better"


def test_runs_sharing_some_replications_are_paired_on_those_only() -> None:
    baseline = _run("a", [1, 1, 1], {"time_at_gate_mean": [30.0, 50.0, 40.0]})
    variant = _run("b", [1, 1, 1, 1], {"time_at_gate_mean": [25.0, 45.0, 35.0, 99.0]})
    row = _row(compare_runs([baseline, variant]), "time_at_gate_mean", "b")
    assert row["pairing"] == "paired"
    assert row["difference"] == pytest.approx(-5.0)  # replications 0-2 of seed 1 only, not the fourth
    assert row["difference_half_width"] == 0.0


def test_the_same_seeds_in_another_order_are_other_replications() -> None:
    baseline = _run("a", [1, 2, 3], {"time_at_gate_mean": [30.0, 50.0, 40.0]})
    variant = _run("b", [2, 3, 4], {"time_at_gate_mean": [45.0, 35.0, 99.0]})
    assert _row(compare_runs([baseline, variant]), "time_at_gate_mean", "b")["pairing"] == "unpaired"


def test_utilisation_is_reported_but_not_judged() -> None:
    assert kpi_direction("scanner_utilisation") == "neutral"
    assert kpi_direction("scanner_mean_wait") == "lower"
    assert kpi_direction("something_new") == "neutral"


def test_runs_of_the_same_scenario_get_distinct_labels_and_bad_labels_are_refused() -> None:
    first = _run("peak", [1, 2], {"throughput_per_day": [1.0, 2.0]})
    second = _run("peak", [1, 2], {"throughput_per_day": [2.0, 3.0]})
    assert set(compare_runs([first, second])["run"]) == {"peak", "peak #2"}
    with pytest.raises(ValueError, match="distinct"):
        compare_runs([first, second], labels=["x", "x"])
    with pytest.raises(ValueError, match="no runs"):
        compare_runs([])


def test_the_text_table_shows_every_kpi_and_each_difference(one_scanner_run: RunResult, two_scanner_run: RunResult) -> None:
    text = format_table(compare_runs([one_scanner_run, two_scanner_run]))
    for kpi in one_scanner_run.summary["kpis"]:
        assert kpi in text
    assert "two-scanners - one-scanner" in text
    assert "better" in text
    assert "±" in text


def test_the_comparison_chart_has_a_bar_for_each_judged_kpi() -> None:
    seeds = [1, 2, 3]
    baseline = _run("a", seeds, {"time_at_gate_mean": [30.0, 31.0, 29.0], "scanner_utilisation": [0.5, 0.6, 0.55],
                                  "throughput_per_day": [800.0, 810.0, 790.0]})
    variant = _run("b", seeds, {"time_at_gate_mean": [20.0, 22.0, 19.0], "scanner_utilisation": [0.3, 0.4, 0.35],
                                 "throughput_per_day": [800.0, 812.0, 791.0]})
    figure = comparison_plot(compare_runs([baseline, variant]))
    assert isinstance(figure, Figure)
    ax = figure.axes[0]
    labels = [tick.get_text() for tick in ax.get_yticklabels()]
    assert labels == ["throughput_per_day (higher is better)", "time_at_gate_mean (lower is better)"]
    assert ax.get_xlabel() == "change vs A, the baseline (% of its mean)"
    assert figure.get_supxlabel() == "A (baseline): a\nB: b"
    bar_widths = sorted(round(patch.get_width(), 6) for patch in ax.patches)
    # Time: (61/3 - 30) / 30 of the baseline; throughput: 1 more truck a day on 800.
    assert bar_widths == [pytest.approx(100 * (61 / 3 - 30) / 30, abs=1e-5), pytest.approx(100 / 800)]


def test_a_run_with_no_finished_replication_is_refused_naming_the_run_and_why() -> None:
    finished = _run("a", [1, 2], {"time_at_gate_mean": [30.0, 31.0]})
    crashed = _run("b", [], {}, asked=2, failed="replication 0 failed: ZeroDivisionError: boom\ntraceback ...")
    with pytest.raises(ValueError, match=r"^b: no finished replication, so nothing to compare "
                                         r"\(replication 0 failed: ZeroDivisionError: boom\)$"):
        compare_runs([finished, crashed])
    with pytest.raises(ValueError, match="^first: no finished replication"):
        compare_runs([crashed, finished], labels=["first", "second"])


def test_a_difference_from_a_single_replication_has_no_interval_rather_than_no_clear_difference() -> None:
    baseline = _run("a", [1, 2, 3], {"time_at_gate_mean": [30.0, 40.0, 35.0], "scanner_utilisation": [0.5, 0.6, 0.7]})
    single = _run("b", [7], {"time_at_gate_mean": [20.0], "scanner_utilisation": [0.4]})
    table = compare_runs([baseline, single])
    row = _row(table, "time_at_gate_mean", "b")
    assert row["difference"] == pytest.approx(-15.0)
    assert row["verdict"] == "no interval"
    assert not row["significant"]
    assert _row(table, "scanner_utilisation", "b")["verdict"] == "n/a"  # neutral: never judged
    assert "-15 no interval" in format_table(table)


def test_runs_of_different_hours_or_with_failed_replications_are_compared_with_a_warning() -> None:
    day = _run("day", [1, 2], {"throughput_per_day": [800.0, 810.0]}, hours=24.0, asked=2)
    short = _run("short", [1, 2], {"throughput_per_day": [700.0, 720.0]}, hours=10.0, asked=2)
    partial = _run("partial", [1], {"throughput_per_day": [790.0]}, hours=24.0, asked=2,
                   failed="replication 1 failed: ZeroDivisionError: boom\ntraceback ...")
    assert [w for w in comparison_warnings([day, day]) if not w.startswith("The 95 % intervals")] == []
    table = compare_runs([day, short, partial])
    assert table.attrs["warnings"] == [
        "The runs simulate different hours (day: 24 h, short: 10 h, partial: 24 h): counts, totals and peaks are "
        "not like for like.",
        "partial: only 1 of its 2 replications finished (replication 1 failed: ZeroDivisionError: boom); its means "
        "rest on the replications that did.",
        "Not every run has the same replications (day: 2, short: 2, partial: 1): the differences are paired over the "
        "1 replication they share (same seed and index), and each run's mean and the best run are taken over that "
        "one too; the other replications are left out.",
    ]
    text = format_table(table)
    assert "Warning: The runs simulate different hours" in text
    assert "Warning: partial: only 1 of its 2 replications finished" in " ".join(text.split())


def test_runs_with_different_numbers_of_replications_are_compared_on_those_they_share_row_by_row() -> None:
    # The reviewer's case: the same trucks in the two replications both ran, a third only in the baseline.
    baseline = _run("a", [1, 1, 1], {"trucks_inside": [21.0, 27.0, 35.0], "time_at_gate_mean": [30.0, 50.0, 40.0]})
    shorter = _run("b", [1, 1], {"trucks_inside": [21.0, 27.0], "time_at_gate_mean": [20.0, 44.0]})
    table = compare_runs([baseline, shorter])
    inside_a, inside_b = _row(table, "trucks_inside", "a"), _row(table, "trucks_inside", "b")
    assert (inside_b["difference"], inside_b["verdict"]) == (0.0, "equal")
    assert inside_a["mean"] == inside_b["mean"] == pytest.approx(24.0)  # not 27.7 for a, over its third as well
    assert inside_a["best"] == "a"  # a tie goes to the baseline, not to b for a mean over other replications
    assert _row(table, "time_at_gate_mean", "a")["half_width"] == pytest.approx(mean_ci([30.0, 50.0])[1])
    assert _row(table, "time_at_gate_mean", "b")["half_width"] == pytest.approx(mean_ci([20.0, 44.0])[1])
    gate_b = _row(table, "time_at_gate_mean", "b")
    assert gate_b["difference"] == pytest.approx(gate_b["mean"] - _row(table, "time_at_gate_mean", "a")["mean"])
    assert table.attrs["warnings"] == [
        "Not every run has the same replications (a: 3, b: 2): the differences are paired over the 2 replications "
        "they share (same seed and index), and each run's mean and the best run are taken over those too; the other "
        "replications are left out.",
        # a's means rest on the 2 it shares with b, too.
        "The 95 % intervals of a, b rest on 2 replications, too few to plan on (3 or more are needed): so few say "
        "little about the spread, and an interval may be far too wide or far too narrow."]
    assert "paired over the 2 replications they share" in " ".join(format_table(table).split())


def test_a_run_sharing_no_replication_is_compared_with_the_baseline_row_it_is_shown_beside() -> None:
    baseline = _run("a", [1, 1, 1], {"time_at_gate_mean": [30.0, 50.0, 40.0]})
    paired = _run("b", [1, 1], {"time_at_gate_mean": [25.0, 45.0]})
    other_seed = _run("c", [9, 9, 9], {"time_at_gate_mean": [20.0, 21.0, 22.0]})
    table = compare_runs([baseline, paired, other_seed])
    base, third = _row(table, "time_at_gate_mean", "a"), _row(table, "time_at_gate_mean", "c")
    assert base["mean"] == pytest.approx(40.0)  # replications 0 and 1, those b shares
    assert third["mean"] == pytest.approx(21.0)  # all of c's: it is an independent sample
    assert (third["pairing"], third["difference"]) == ("unpaired", pytest.approx(21.0 - 40.0))
    assert [w for w in table.attrs["warnings"] if w.startswith("Not every run")] == [
        "Not every run has the same replications (a: 3, b: 2): the differences are paired over the 2 replications "
        "they share (same seed and index), and each run's mean and the best run are taken over those too; the other "
        "replications are left out."]


def test_runs_with_the_same_replications_keep_their_summary_means_and_get_no_warning(
        one_scanner_run: RunResult, two_scanner_run: RunResult) -> None:
    table = compare_runs([one_scanner_run, two_scanner_run])
    row = _row(table, "time_at_gate_mean", "one-scanner")
    entry = one_scanner_run.summary["kpis"]["time_at_gate_mean"]
    assert (row["mean"], row["half_width"]) == (entry["mean"], entry["half_width"])
    assert table.attrs["warnings"] == []


def test_the_comparison_chart_of_three_runs_with_long_labels_names_them_by_letter_and_keeps_every_label_in_view() -> None:
    seeds = [1, 2, 3]
    labels = ["huu_nghi_2025-entry_lanes-4-c16bb3 · seed 870 · 1 rep · 24 h",
              "huu_nghi_2025-entry_lanes-3-exit_lanes-3-abcdef · seed 870 · 1 rep · 24 h",
              "huu_nghi_2025-scanners-2-123456 · seed 870 · 1 rep · 24 h"]
    runs = [_run(name, seeds, {"time_at_gate_mean": [base, base + 1.0, base - 1.0],
                               "throughput_per_day": [800.0 + base, 810.0, 790.0]})
            for name, base in (("a", 30.0), ("b", 20.0), ("c", 25.0))]
    figure = comparison_plot(compare_runs(runs, labels))
    ax = figure.axes[0]
    ticks = [tick.get_text() for tick in ax.get_yticklabels()]
    assert ticks == ["throughput_per_day (higher is better)  B", "throughput_per_day (higher is better)  C",
                     "time_at_gate_mean (lower is better)  B", "time_at_gate_mean (lower is better)  C"]
    assert ax.get_xlabel() == "change vs A, the baseline (% of its mean)"
    assert figure.get_supxlabel().splitlines() == [f"A (baseline): {labels[0]}", f"B: {labels[1]}", f"C: {labels[2]}"]
    FigureCanvasAgg(figure).draw()  # lays the figure out as the saved PNG is
    inside = figure.bbox
    for text in [ax.xaxis.label, figure._supxlabel, *ax.get_yticklabels()]:  # nothing cut off at an edge
        extent = text.get_window_extent()
        assert inside.x0 <= extent.x0 and extent.x1 <= inside.x1 and inside.y0 <= extent.y0, text.get_text()
    assert ax.get_position().width > 0.5  # the bars get most of the width, not the labels


def test_an_interval_hundreds_of_percent_wide_is_cut_at_the_axis_and_named_not_allowed_to_flatten_the_rest() -> None:
    seeds = [1, 2, 3]
    # A baseline near zero (a truck or so in a hundred returned) gives an interval of hundreds of percent.
    baseline = _run("a", seeds, {"redeclarations_per_100_trucks": [0.0, 1.0, 0.0], "time_at_gate_mean": [30.0, 31.0, 29.0]})
    variant = _run("b", seeds, {"redeclarations_per_100_trucks": [1.0, 0.0, 0.0], "time_at_gate_mean": [33.0, 34.0, 32.0]})
    figure = comparison_plot(compare_runs([baseline, variant]))
    ax = figure.axes[0]
    low, high = ax.get_xlim()
    assert (low, high) == (pytest.approx(-13.0), pytest.approx(13.0))  # 1.3 x the largest change (10 %)
    labels = [tick.get_text() for tick in ax.get_yticklabels()]
    assert labels[0] == "time_at_gate_mean (lower is better)"
    assert labels[1].startswith("redeclarations_per_100_trucks (lower is better) [±") and labels[1].endswith(" %]")


def test_the_time_at_the_gate_of_departed_trucks_alone_is_reported_but_not_judged() -> None:
    # The variant strands trucks: those that leave leave sooner, but every truck spends longer.
    baseline = _run("a", [1, 2, 3], {"time_at_gate_p95": [300.0, 310.0, 305.0],
                                     "time_at_gate_departed_p95": [300.0, 310.0, 305.0]})
    strands = _run("b", [1, 2, 3], {"time_at_gate_p95": [400.0, 415.0, 405.0],
                                    "time_at_gate_departed_p95": [250.0, 262.0, 251.0]})
    table = compare_runs([baseline, strands])
    assert _row(table, "time_at_gate_p95", "b")["verdict"] == "worse"
    assert _row(table, "time_at_gate_departed_p95", "b")["verdict"] == "different"
    assert kpi_direction("time_at_gate_departed_mean") == "neutral"
    text = format_table(table)
    assert "time_at_gate_p95: every truck that arrived after the warm-up and reached the gate" in " ".join(text.split())
    assert "time_at_gate_departed_p95: only the trucks that departed" in " ".join(text.split())


def test_a_change_from_a_baseline_near_zero_is_left_out_of_the_chart_and_named_with_its_values() -> None:
    seeds = [1, 2, 3]
    # A wait of a fraction of a second going to a few tenths: thousands of percent, and nothing to see.
    baseline = _run("a", seeds, {"officers_fee_collector_mean_wait": [0.0003, 0.0002, 0.0004],
                                 "time_at_gate_mean": [30.0, 31.0, 29.0]})
    variant = _run("b", seeds, {"officers_fee_collector_mean_wait": [0.005, 0.006, 0.004],
                                "time_at_gate_mean": [24.0, 25.0, 23.0]})
    figure = comparison_plot(compare_runs([baseline, variant]))
    ax = figure.axes[0]
    assert [tick.get_text() for tick in ax.get_yticklabels()] == ["time_at_gate_mean (lower is better)"]
    assert ax.get_xlim() == (pytest.approx(-26.0), pytest.approx(26.0))  # 1.3 x the 20 % change
    key = " ".join(figure.get_supxlabel().split())
    assert ("Not drawn, the baseline too near zero for a change in percent to mean anything: "
            "officers_fee_collector_mean_wait (A 0.0003, B 0.005 min).") in key
    third = _run("c", seeds, {"officers_fee_collector_mean_wait": [0.004, 0.003, 0.005],
                              "time_at_gate_mean": [29.0, 30.0, 28.0]})
    key = " ".join(comparison_plot(compare_runs([baseline, variant, third])).get_supxlabel().split())
    assert "officers_fee_collector_mean_wait (A 0.0003, B 0.005, C 0.004 min)." in key


def test_a_layout_that_clears_more_trucks_is_not_judged_worse_for_meeting_more_reviews() -> None:
    seeds = [1, 2, 3, 4]
    baseline = _run("two-lanes", seeds, {
        "manual_reviews": [10.0, 12.0, 9.0, 11.0], "manual_reviews_per_100_trucks": [2.0, 2.4, 1.8, 2.2],
        "trucks_returned": [5.0, 6.0, 4.0, 5.0],
    })
    variant = _run("three-lanes", seeds, {  # twice the trucks through, the same share reviewed
        "manual_reviews": [20.0, 24.0, 18.0, 22.0], "manual_reviews_per_100_trucks": [2.0, 2.4, 1.8, 2.2],
        "trucks_returned": [10.0, 12.0, 8.0, 10.0],
    })
    table = compare_runs([baseline, variant])
    assert kpi_direction("manual_reviews") == kpi_direction("trucks_returned") == "neutral"
    assert _row(table, "manual_reviews", "three-lanes")["verdict"] not in ("better", "worse")
    assert _row(table, "trucks_returned", "three-lanes")["verdict"] not in ("better", "worse")
    assert _row(table, "manual_reviews_per_100_trucks", "three-lanes")["verdict"] == "equal"
    fewer = _run("fewer-reviews", seeds, {"manual_reviews_per_100_trucks": [1.0, 1.3, 0.9, 1.1]})
    judged = compare_runs([baseline, fewer])
    assert _row(judged, "manual_reviews_per_100_trucks", "fewer-reviews")["verdict"] == "better"
