"""The numbers the pages show: KPIs with intervals, hourly tables, queues, outages, agencies."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dashboard.analysis import (
    caught_up_line,
    read_recovery,
    recovery_figures,
    queues_that_grew,
    HEADLINES,
    agent_activity,
    corridor_at,
    uses_agents,
    winners,
    DownPeriod,
    known_outages,
    total_waiting,
    agency_table,
    agv_summary,
    busiest_hours,
    device_table,
    STAGING_QUEUE,
    bottleneck_table,
    faults_text,
    format_number,
    side_by_side,
    format_quantity,
    headlines,
    hourly_flow,
    hourly_integral,
    hourly_utilisation,
    kpi_table,
    outage_effects,
    planned_outages,
    queue_onsets,
    stage_minutes_by_hour,
    station_hour_table,
)
from dashboard.charts import device_downtime_figure, hour_heatmap_figure
from tests.unit.dashboard.support import busy_smart_gate, with_scanner_outage
from twin.plots import LEVEL_LABELS, levels_figure
from twin.probes import ROAD_QUEUE_TRUCKS, StationSummary, TruckLog
from twin.recovery import LABELS as RECOVERY_LABELS
from twin.results import ReplicationResult, RunResult, officer_kpis, summarize_run

HOUR = 3600.0


def station(times: list[float], queue: list[float], busy: list[float] | None = None,
            servers: list[float] | None = None) -> dict[str, np.ndarray]:
    n = len(times)
    return {"time": np.array(times, dtype=float), "queue": np.array(queue, dtype=float),
            "busy": np.array(busy if busy is not None else [0.0] * n, dtype=float),
            "servers": np.array(servers if servers is not None else [1.0] * n, dtype=float)}


def run_with(extras: list[dict[str, object]], summary: dict[str, object] | None = None) -> RunResult:
    reps = [ReplicationResult(seed=i, trucks=pd.DataFrame(), stations={}, series={}, kpis={}, extra=extra)
            for i, extra in enumerate(extras)]
    return RunResult("test", "0" * 64, reps, manifest={"seed": 0}, summary=summary or {"kpis": {}, "replications": len(reps)})


def test_the_headlines_carry_mean_interval_and_unit_from_the_summary() -> None:
    summary = {"replications": 5, "kpis": {
        "throughput_per_day": {"mean": 812.6, "half_width": 31.2},
        "time_at_gate_p95": {"mean": 75.0, "half_width": None},
        "fee_revenue_vnd": {"mean": 745_300_000.0, "half_width": 12_000_000.0},
    }}
    items = {item.kpi: item for item in headlines(summary)}
    assert [item.label for item in headlines(summary)] == [label for _, label in HEADLINES]
    assert items["throughput_per_day"].value_text == "813 trucks/day"
    assert items["throughput_per_day"].interval_text == "95 % CI ± 31.2 trucks/day (5 replications)"
    assert items["fee_revenue_vnd"].value_text == "745.3 M VND"
    assert items["time_at_gate_p95"].interval_text == "one replication: no confidence interval"
    assert items["road_queue_km_max"].value_text == "-"
    assert items["road_queue_km_max"].interval_text == "not measured in this run"


@pytest.mark.parametrize(("value", "unit", "text"), [
    (1234.4, "trucks", "1,234 trucks"), (0.456, "share", "46%"), (3.0, "count", "3"), (12.345, "min", "12.3 min"),
    (math.nan, "min", "-"), (0.0, "km", "0 km"),
])
def test_quantities_read_with_their_units(value: float, unit: str, text: str) -> None:
    assert format_quantity(value, unit) == text


def test_the_kpi_table_lists_every_kpi_in_report_order() -> None:
    summary = {"kpis": {"scanner-1_utilisation": {"mean": 0.5, "half_width": 0.1, "n": 3, "unit": "share"},
                        "trucks_arrived": {"mean": 10.0, "half_width": 1.0, "n": 3, "unit": "trucks"}}}
    table = kpi_table(summary)
    assert table["KPI"].tolist() == ["trucks_arrived", "scanner-1_utilisation"]
    assert table.loc[1, "95 % CI"] == "± 0.1"


def test_an_hourly_integral_splits_a_step_at_the_hour() -> None:
    # 2 from 0:30 to 1:30, then 4 to the end (2 h).
    integral = hourly_integral(np.array([0.0, 0.5 * HOUR, 1.5 * HOUR]), np.array([0.0, 2.0, 4.0]), hours=2)
    np.testing.assert_allclose(integral, [2.0 * 0.5 * HOUR, (2.0 * 0.5 + 4.0 * 0.5) * HOUR])


def test_hourly_utilisation_is_busy_time_over_available_server_time() -> None:
    series = station([0.0, 0.5 * HOUR, HOUR], [0, 0, 0], busy=[1, 2, 0], servers=[2, 2, 0])
    utilisation = hourly_utilisation(series, hours=2)
    assert utilisation[0] == pytest.approx((0.5 + 1.0) / 2.0)
    assert math.isnan(utilisation[1])  # no server at all in hour 1


def test_stations_with_unlimited_room_have_no_utilisation_row() -> None:
    series = {"yard": station([0.0], [0], servers=[math.nan]), "scanner-1": station([0.0], [0], busy=[1])}
    assert station_hour_table(series, 2 * HOUR, "utilisation").index.tolist() == ["scanner-1"]
    assert station_hour_table(series, 2 * HOUR, "queue").index.tolist() == ["yard", "scanner-1"]
    with pytest.raises(ValueError, match="'utilisation' or 'queue'"):
        station_hour_table(series, HOUR, "waits")


def test_the_queue_forms_first_where_it_first_reaches_the_threshold() -> None:
    series = {
        "scale-1": station([0.0, 100.0, 900.0], [0, 2, 6]),
        "scanner-1": station([0.0, 500.0], [0, 5]),
        ROAD_QUEUE_TRUCKS: {"time": np.array([0.0, 2000.0]), "value": np.array([0.0, 9.0])},
    }
    onsets = queue_onsets(series, threshold=5)
    assert onsets["queue"].tolist() == ["scanner-1", "scale-1", "approach road"]
    assert onsets.loc[0, "first_time_s"] == 500.0
    assert queue_onsets(series, threshold=7)["queue"].tolist()[0] == "approach road"
    never = queue_onsets(series, threshold=10)
    assert never["first reached"].tolist() == ["never"] * 3
    with pytest.raises(ValueError, match="threshold"):
        queue_onsets(series, threshold=0)


def test_the_busiest_hours_have_the_most_arrivals() -> None:
    trucks = pd.DataFrame({"arrival": [100.0, 3700.0, 3800.0, 7300.0, 7400.0, 7500.0, math.nan],
                           "departed": [900.0, 4000.0, math.nan, 8000.0, math.nan, math.nan, math.nan]})
    flow = hourly_flow(trucks, {}, 3 * HOUR)
    assert flow["arrivals"].tolist() == [1, 2, 3]
    assert flow["departures"].tolist() == [1, 1, 1]
    assert busiest_hours(flow, top=2)["hour"].tolist() == [2, 1]


def test_time_at_each_station_is_averaged_by_the_hour_trucks_got_there() -> None:
    trucks = pd.DataFrame({name: [math.nan] * 3 for name in
                           ("staging_in", "staging_out", "entry_in", "entry_out", "scale_in", "scale_out", "scanner_in",
                            "scanner_out", "yard_in", "yard_out", "inspection_in", "inspection_out", "exit_in", "departed")})
    trucks["yard_in"] = [600.0, 1200.0, HOUR + 60.0]
    trucks["yard_out"] = [1200.0, 3000.0, math.nan]  # the third is still parked
    table = stage_minutes_by_hour(trucks, 2 * HOUR)
    assert table.index.tolist() == ["yard"]
    assert table.loc["yard", 0] == pytest.approx((10.0 + 30.0) / 2)
    assert math.isnan(table.loc["yard", 1])


def test_an_outage_reports_the_backlog_and_how_long_it_took_to_clear() -> None:
    series = {"scanner-1": station([0.0, HOUR, 1.5 * HOUR, 2 * HOUR, 2.5 * HOUR, 3 * HOUR], [1, 1, 6, 4, 2, 1],
                                   servers=[1, 0, 0, 1, 1, 1])}
    trucks = pd.DataFrame({"outcome": ["departed", "departed"], "staging_in": [0.5 * HOUR, 1.2 * HOUR],
                           "entry_in": [math.nan, math.nan], "time_at_gate": [600.0, 3000.0]})
    effects = outage_effects([DownPeriod("scanner-1", HOUR, 2 * HOUR, "planned outage")], series, trucks)
    row = effects.iloc[0]
    assert row["hours down"] == 1.0
    assert row["trucks waiting at start"] == 1
    assert row["most trucks waiting"] == 6
    assert row["backlog cleared after (h)"] == pytest.approx(1.0)
    assert row["time at gate, trucks arriving then (min)"] == 50.0
    assert row["time at gate, all trucks (min)"] == 30.0


def test_the_queues_that_grew_during_an_outage_are_found_where_the_trucks_waited() -> None:
    # The scanner is down 1-2 h: trucks go round it to the inspection bays, whose queue grows
    # (0 -> 5); the scale's grows less (1 -> 2); the scanner's own queue stays empty.
    series = {"scanner-1": station([0.0, HOUR, 2 * HOUR], [0, 0, 0], servers=[1, 0, 1]),
              "inspection": station([0.0, 1.2 * HOUR, 1.8 * HOUR, 2.5 * HOUR], [0, 3, 5, 1]),
              "scale-1": station([0.0, 0.5 * HOUR, 1.5 * HOUR], [0, 1, 2]),
              "exit_lane": station([0.0, 0.5 * HOUR, 1.5 * HOUR], [4, 4, 2])}
    outage = [DownPeriod("scanner-1", HOUR, 2 * HOUR, "planned outage")]
    assert queues_that_grew(outage, series) == ["inspection", "scale-1"]
    assert queues_that_grew(outage, series, most=1) == ["inspection"]
    assert queues_that_grew([DownPeriod("scanner-1", 3 * HOUR, 4 * HOUR, "later")], series) == []


def test_a_backlog_not_cleared_by_the_end_is_reported_as_unknown() -> None:
    series = {"scale-1": station([0.0, HOUR, 2 * HOUR], [0, 3, 2])}
    trucks = pd.DataFrame({"outcome": ["inside"], "staging_in": [math.nan], "entry_in": [math.nan], "time_at_gate": [math.nan]})
    effects = outage_effects([DownPeriod("scale-1", HOUR, 1.5 * HOUR, "planned outage")], series, trucks)
    assert math.isnan(effects.loc[0, "backlog cleared after (h)"])


def test_planned_outages_come_from_the_scenario_and_are_cut_at_the_end_of_the_run() -> None:
    scenario = with_scanner_outage(busy_smart_gate(hours=3.0), start="02:00", hours=4.0)
    [period] = planned_outages(scenario, end=3 * HOUR)
    assert (period.device, period.start, period.end) == ("scanner-1", 2 * HOUR, 3 * HOUR)
    assert planned_outages(scenario, end=HOUR) == []


def test_agency_workload_is_averaged_over_replications() -> None:
    desk = {"officers": 2, "tasks_done": 10, "utilisation": 0.5, "mean_wait_min": 1.0, "tasks_assigned": 10, "sla_misses": 2}
    run = run_with([{"agencies": {"customs": desk}},
                    {"agencies": {"customs": {**desk, "tasks_assigned": 30, "sla_misses": 4, "utilisation": 0.7}}}])
    row = agency_table(run).iloc[0]
    assert row["agency"] == "customs"
    assert row["tasks assigned"] == 20.0
    assert row["SLA misses"] == 3.0
    assert row["SLA missed share"] == pytest.approx(0.15)
    assert row["utilisation"] == pytest.approx(0.6)
    assert math.isnan(row["wait off shift"])  # results that do not record it


def test_the_share_of_an_agency_s_wait_off_shift_is_averaged_over_replications() -> None:
    desk = {"officers": 2, "tasks_done": 10, "utilisation": 0.5, "mean_wait_min": 1.0, "tasks_assigned": 10,
            "sla_misses": 0, "wait_off_shift_share": 0.2}
    run = run_with([{"agencies": {"medical": desk}}, {"agencies": {"medical": {**desk, "wait_off_shift_share": 0.6}}}])
    assert agency_table(run).iloc[0]["wait off shift"] == pytest.approx(0.4)


def test_devices_with_the_most_downtime_come_first() -> None:
    run = run_with([{"devices": {"cam-in-1": {"faults": 0, "downtime_h": 0.0}, "scanner-1": {"faults": 1, "downtime_h": 4.0}}}])
    assert device_table(run)["device"].tolist() == ["scanner-1", "cam-in-1"]


@pytest.mark.parametrize(("faults", "replications", "text"), [
    (1.0, 1, "1 fault"), (3.0, 1, "3 faults"), (0.0, 1, "0 faults"), (1 / 3, 3, "0.33 faults per replication"),
    (1.0, 3, "1 fault per replication"), (2.5, 2, "2.5 faults per replication"),
])
def test_device_faults_read_as_counts_or_means_per_replication(faults: float, replications: int, text: str) -> None:
    assert faults_text(faults, replications) == text


def test_the_downtime_chart_labels_each_device_with_its_faults_in_words() -> None:
    run = run_with([{"devices": {"scanner-1": {"faults": 1, "downtime_h": 4.0}, "barrier-out-1": {"faults": 1, "downtime_h": 0.1}}},
                    {"devices": {"scanner-1": {"faults": 1, "downtime_h": 4.0}, "barrier-out-1": {"faults": 0, "downtime_h": 0.0}}},
                    {"devices": {"scanner-1": {"faults": 1, "downtime_h": 4.0}, "barrier-out-1": {"faults": 0, "downtime_h": 0.0}}}])
    figure = device_downtime_figure(device_table(run), len(run.replications))
    labels = [tick.get_text() for tick in figure.axes[0].get_yticklabels()]
    assert labels == ["scanner-1 (1 fault per replication)", "barrier-out-1 (0.33 faults per replication)"]


def test_the_approach_road_panels_have_titles_of_their_own(baseline_run: RunResult) -> None:
    series = baseline_run.replications[0].series
    names = [name for name in LEVEL_LABELS if name in series]
    assert len(names) == 4  # the yard, the road queue in trucks and in km, the staging areas
    figure = levels_figure(series, names, 5 * HOUR)
    titles = [ax.get_title(loc="left") for ax in figure.axes]
    assert len(set(titles)) == len(titles) == 4, titles
    assert [ax.get_ylabel() for ax in figure.axes].count("level") == 0  # every panel says what it counts


def test_a_gate_without_an_agv_lane_has_no_agv_summary() -> None:
    assert agv_summary(run_with([{"agv": {}}])) is None
    summary = agv_summary(run_with([{"agv": {"delivered": 4, "utilisation": 0.2, "breakdowns": 0, "backlog": 3}},
                                    {"agv": {"delivered": 6, "utilisation": 0.4, "breakdowns": 1, "backlog": 5}}]))
    assert summary is not None
    assert summary["waiting to cross at the end"].mean == 4.0
    assert summary["fleet utilisation"].mean == pytest.approx(0.3)


def _comparison(kpi: str, direction: str, means: list[float], verdicts: list[str]) -> pd.DataFrame:
    """The rows ``twin.compare.compare_runs`` gives for one KPI of runs "A" (baseline), "B", ..."""
    runs = [chr(ord("A") + i) for i in range(len(means))]
    sign = 1.0 if direction == "lower" else -1.0
    best = "" if direction == "neutral" else runs[min(range(len(means)), key=lambda i: (sign * means[i], i))]
    return pd.DataFrame({"kpi": kpi, "unit": "min", "direction": direction, "run": runs, "mean": means,
                         "verdict": ["baseline", *verdicts], "best": best})


@pytest.mark.parametrize(("direction", "means", "verdicts", "expected"), [
    ("lower", [30.0, 20.0], ["better"], ("B", True)),
    ("lower", [30.0, 29.0], ["no clear difference"], ("B", False)),
    ("higher", [900.0, 700.0, 650.0], ["worse", "worse"], ("A", True)),
    ("higher", [900.0, 700.0, 899.0], ["worse", "no clear difference"], ("A", False)),
    ("lower", [0.0, 0.0], ["equal"], ("tie", False)),
    ("lower", [30.0, 20.0, 10.0], ["better", "better"], ("C", True)),
])
def test_a_layout_wins_a_kpi_clearly_only_when_its_interval_against_the_baseline_excludes_zero(
        direction: str, means: list[float], verdicts: list[str], expected: tuple[str, bool]) -> None:
    [row] = winners(_comparison("time_at_gate_p95", direction, means, verdicts)).to_dict("records")
    assert (row["best"], row["clear"]) == expected


def test_neutral_kpis_have_no_winner() -> None:
    assert winners(_comparison("trucks_arrived", "neutral", [100.0, 120.0], ["n/a"])).empty


def test_the_agents_activity_is_the_mean_over_replications_with_its_interval(agents_run: RunResult) -> None:
    assert uses_agents(agents_run)
    activity = agent_activity(agents_run).set_index("what")
    directed = [rep.extra["agents"]["police_directed"] for rep in agents_run.replications]
    row = activity.loc["trucks the traffic police directed to a staging area"]
    assert row["per replication"] == pytest.approx(np.mean(directed))
    half_width = 12.706 * np.std(directed, ddof=1) / math.sqrt(2)
    low = max(0.0, np.mean(directed) - half_width)  # a count: the interval stops at 0
    assert row["95 % CI"] == (f"{format_number(low)} to {format_number(np.mean(directed) + half_width)}"
                              if low > np.mean(directed) - half_width else f"± {format_number(half_width)}")


def test_a_run_without_agents_says_so(baseline_run: RunResult) -> None:
    assert not uses_agents(baseline_run)
    assert agent_activity(baseline_run).empty


def test_the_corridor_shown_at_a_moment_is_the_agents_last_count_at_or_before_it() -> None:
    corridor = pd.DataFrame({"time_h": [0.0, 0.25, 0.5], "trucks_km_0_5": [0, 3, 7], "trucks_km_5_10": [1, 2, 4],
                             "waiting_on_road": [0, 0, 5], "waiting_in_areas": [0, 1, 2]})
    shown, counted = corridor_at(corridor, 0.49)
    assert counted == 0.25
    assert shown.set_index("where")["trucks"].to_dict() == {
        "driving, 0-5 km from the checkpoint": 3, "driving, 5-10 km from the checkpoint": 2,
        "waiting on the road at the checkpoint": 0, "waiting in staging areas": 1}
    assert corridor_at(corridor, 0.5)[1] == 0.5
    assert corridor_at(corridor, 9.0)[0]["trucks"].tolist() == [7, 4, 5, 2]


def test_an_outage_both_planned_and_recorded_is_listed_once_by_its_cause_and_an_unrecorded_plan_is_kept() -> None:
    recorded = [DownPeriod("scanner-1", 9 * HOUR, 13 * HOUR, "fewer servers recorded")]
    planned = [DownPeriod("scanner-1", 9 * HOUR, 13 * HOUR, "planned outage"),
               DownPeriod("partner-link", 2 * HOUR, 3 * HOUR, "planned outage")]
    assert known_outages(planned, recorded) == [
        planned[1], DownPeriod("scanner-1", 9 * HOUR, 13 * HOUR, "planned outage")]


def test_trucks_held_at_staging_are_counted_once_in_all_trucks_waiting() -> None:
    t = np.array([0.0, 10.0])
    station = {"time": t, "queue": np.array([3.0, 1.0]), "busy": np.zeros(2), "servers": np.ones(2)}
    counters = {"staging_occupancy": {"time": t, "value": np.array([2.0, 1.0])},
                ROAD_QUEUE_TRUCKS: {"time": t, "value": np.array([1.0, 0.0])}}
    _, with_staging_station = total_waiting({"staging": station, "scale-1": station, **counters})
    assert with_staging_station.tolist() == [6.0, 2.0]  # the two station queues only
    _, without = total_waiting({"scale-1": station, **counters})
    assert without.tolist() == [6.0, 2.0]  # scale queue + staging area + road


def staging_with_parts() -> dict[str, dict[str, np.ndarray]]:
    """A staging queue of 3 trucks for the first hour (1 on the road, 2 in staging areas), then
    1 on the road; and a scale with 1 truck waiting throughout."""
    t = np.array([0.0, HOUR])
    return {
        "staging": station([0.0, HOUR], [3, 1], servers=[math.nan, math.nan]),
        "scale-1": station([0.0], [1]),
        ROAD_QUEUE_TRUCKS: {"time": t, "value": np.array([1.0, 1.0])},
        "staging_occupancy": {"time": t, "value": np.array([2.0, 0.0])},
    }


def test_trucks_waiting_by_the_hour_count_each_truck_at_staging_once() -> None:
    trucks = pd.DataFrame({"arrival": [10.0], "departed": [math.nan]})
    flow = hourly_flow(trucks, staging_with_parts(), 2 * HOUR)
    assert flow["waiting (mean trucks)"].tolist() == [4.0, 2.0]  # staging + scale, not the parts again


def test_the_road_and_the_staging_areas_show_as_parts_of_the_staging_queue() -> None:
    table = station_hour_table(staging_with_parts(), 2 * HOUR, "queue")
    assert table.index.tolist() == [STAGING_QUEUE, "staging: on the approach road", "staging: in staging areas", "scale-1"]
    assert table.loc[STAGING_QUEUE].tolist() == [3.0, 1.0]
    onsets = queue_onsets(staging_with_parts(), threshold=1)
    assert onsets["queue"].tolist() == [STAGING_QUEUE, "scale-1"]


def inspection_and_customs(with_officer_kpis: bool) -> RunResult:
    """Two replications of a gate whose inspection bays keep trucks 11-12 minutes and whose
    customs officers keep tasks about 70 minutes; ``with_officer_kpis`` False makes results
    written before the officers' KPIs existed (their figures only in the agency sections)."""
    agencies = [{"customs": {"officers": 10, "utilisation": 0.57, "mean_wait_min": 69.0},
                 "fee_collector": {"officers": "unlimited", "utilisation": 0.1, "mean_wait_min": 0.0}},
                {"customs": {"officers": 10, "utilisation": 0.59, "mean_wait_min": 71.0},
                 "fee_collector": {"officers": "unlimited", "utilisation": 0.2, "mean_wait_min": 0.0}}]
    reps = []
    for index, (wait, section) in enumerate(zip((11.0, 12.0), agencies, strict=True)):
        bays = StationSummary("inspection", 0.0, HOUR, 1.0, 2.0, 0.4, 5.0, 10, 10, 0, wait * 60.0, wait * 60.0 + 600.0, 10.0)
        kpis = {"inspection_utilisation": 0.4, "inspection_mean_wait": wait}
        if with_officer_kpis:
            kpis.update(officer_kpis(section))
        reps.append(ReplicationResult(seed=index, trucks=TruckLog().to_frame(), stations={"inspection": bays}, series={},
                                      kpis=kpis, extra={"agencies": section}))
    return RunResult("test", "0" * 64, reps, manifest={"seed": 0}, summary=summarize_run(reps))


@pytest.mark.parametrize("with_officer_kpis", [True, False], ids=["officer KPIs", "older results"])
def test_the_longest_wait_is_found_among_officers_as_well_as_stations(with_officer_kpis: bool) -> None:
    waits = bottleneck_table(inspection_and_customs(with_officer_kpis))
    assert waits[["where", "kind"]].values.tolist() == [
        ["customs officers", "officers"], ["inspection", "station"], ["fee collector officers", "officers"]]
    customs = waits.iloc[0]
    assert customs["mean wait (min)"] == pytest.approx(70.0)
    assert customs["utilisation"] == pytest.approx(0.58)
    assert customs["mean wait 95 % CI"].half_width > 0
    assert math.isnan(customs["longest queue"])
    assert waits.iloc[1]["mean wait (min)"] == pytest.approx(11.5)
    assert math.isnan(waits.iloc[2]["utilisation"])  # unlimited officers


def test_money_compared_side_by_side_reads_in_millions_of_vnd_as_on_the_overview() -> None:
    comparison = pd.DataFrame({
        "kpi": "fee_revenue_vnd", "unit": "VND", "direction": "higher", "run": ["base", "new"],
        "mean": [745_300_000.0, 800_000_000.0], "half_width": [12_000_000.0, 10_000_000.0],
        "low": [733_300_000.0, 790_000_000.0], "high": [757_300_000.0, 810_000_000.0], "replications": 5,
        "difference": [math.nan, 54_700_000.0], "difference_half_width": [math.nan, 5_000_000.0],
        "verdict": ["baseline", "better"], "best": "new"})
    [row] = side_by_side(comparison, {"base": "A", "new": "B"}).to_dict("records")
    assert row["unit"] == "M VND"
    assert row["base"] == "745 ± 12" and row["new"] == "800 ± 10"
    assert row["new − baseline"] == "54.7 ± 5 better"
    assert row["best"] == "B (clear)"


def test_a_heat_map_a_few_cells_dwarf_is_coloured_on_a_square_root_scale() -> None:
    hours = list(range(4))
    skewed = pd.DataFrame([[2.0, 3.0, 2.5, 3.0], [500.0, 400.0, 2.0, 3.0]], index=["scale", "inspection"], columns=hours)
    even = pd.DataFrame([[2.0, 3.0, 2.5, 3.0], [5.0, 4.0, 2.0, 3.0]], index=["scale", "inspection"], columns=hours)
    for table, square_root in ((skewed, True), (even, False)):
        figure = hour_heatmap_figure(table, "Time spent at each station", "minutes")
        image = figure.axes[0].images[0]
        assert (type(image.norm).__name__ == "PowerNorm") is square_root
        assert figure.axes[1].get_ylabel() == "minutes" + (" (square-root scale)" if square_root else "")
    shares = hour_heatmap_figure(skewed / 1000.0, "Utilisation by hour", "share", share=True)
    assert shares.axes[0].images[0].norm.vmax == 1.0


def _recovery_table(caught_up: list[float]) -> pd.DataFrame:
    """A recovery table of one replication per value of ``caught_up_h`` (NaN: not caught up)."""
    rows = [{"seed": 1, "replication": index, **{name: 10.0 + index for name in RECOVERY_LABELS}, "caught_up_h": hours}
            for index, hours in enumerate(caught_up)]
    return pd.DataFrame(rows, columns=["seed", "replication", *RECOVERY_LABELS])


@pytest.mark.parametrize(("caught_up", "line"), [
    ([1.0, 2.0, 3.0], "All 3 replications caught up by the end of the run (hour 24)."),
    ([1.0, math.nan, 3.0], "2 of 3 replications caught up by the end of the run (hour 24); the time to catch up is "
                           "the mean over those 2; the other 1 had not caught up."),
    ([math.nan, math.nan], "None of the 2 replications caught up by the end of the run (hour 24); a longer run "
                           "shows how long it takes."),
])
def test_the_recovery_says_how_many_replications_caught_up(caught_up: list[float], line: str) -> None:
    assert caught_up_line(_recovery_table(caught_up), 24.0) == line


def test_a_recovery_where_no_replication_caught_up_says_so_in_its_table() -> None:
    figures = recovery_figures(_recovery_table([math.nan, math.nan]))
    assert figures.loc[figures["figure"] == RECOVERY_LABELS["caught_up_h"][0], "mean and 95 % CI"].tolist() == [
        "not caught up in any replication"]
    assert figures["mean and 95 % CI"].str.startswith("10.5 ±").sum() == len(RECOVERY_LABELS) - 1


@pytest.mark.parametrize(("value", "column", "problem"), [
    (math.inf, "behind_max", "column 'behind_max', replication row 1: inf is not a finite number"),
    (math.nan, "seed", "column 'seed', replication row 1: no value"),
])
def test_a_recovery_table_with_an_infinite_figure_or_no_seed_is_refused(
        tmp_path: Path, value: float, column: str, problem: str) -> None:
    table = _recovery_table([1.0])
    table[column] = value
    table.to_csv(tmp_path / "recovery.csv", index=False)
    with pytest.raises(ValueError, match=re.escape(f"{tmp_path / 'recovery.csv'}: {problem}")):
        read_recovery(tmp_path / "recovery.csv")
