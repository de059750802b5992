"""Results: KPIs, invariants, the run summary, and the files a run leaves behind."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tests.unit.twin_results.older_results import LATER_KPIS, write_older_folder
from tests.unit.twin_results.synthetic_gate import make_run
from twin.probes import ROAD_QUEUE_KM, YARD_OCCUPANCY, StationSummary, TruckLog, time_at_gate_minutes
from twin.compare import kpi_direction
from twin.results import (
    RESULTS_FORMAT,
    ReplicationResult,
    ResultsFileError,
    agv_kpis,
    RunResult,
    conservation_check,
    format_gaps,
    kpi_unit,
    load_results,
    make_manifest,
    officer_kpis,
    replication_kpis,
    summarize_run,
    write_results,
)
from twin.stats import mean_ci


def _same(a: Any, b: Any) -> bool:
    """Deep equality in which NaN equals NaN."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return bool(a == b) and type(a) is type(b)


def _hand_made_trucks() -> pd.DataFrame:
    log = TruckLog()
    fast = log.new_truck(arrival=0.0, fee_vnd=500_000, fee_paid_vnd=500_000)
    log.stamp(fast, "entry_in", 600.0)
    log.stamp(fast, "departed", 600.0 + 20 * 60)
    log.set(fast, "outcome", "departed")
    log.set(fast, "agv_containers", 2)
    slow = log.new_truck(arrival=0.0, fee_vnd=1_000_000, fee_paid_vnd=1_000_000)
    log.stamp(slow, "staging_in", 0.0)
    log.stamp(slow, "departed", 60 * 60)
    log.set(slow, "outcome", "departed")
    log.incr(slow, "manual_reviews")
    returned = log.new_truck(arrival=100.0)
    log.stamp(returned, "returned_at", 700.0)
    log.set(returned, "outcome", "returned")
    log.incr(returned, "redeclarations", 2)
    log.new_truck(arrival=200.0, fee_vnd=2_000_000)  # still inside, its fee not yet paid
    return log.to_frame()


def test_replication_kpis_from_a_hand_made_day() -> None:
    trucks = _hand_made_trucks()
    series = {
        YARD_OCCUPANCY: {"time": np.array([0.0, 600.0, 3600.0]), "value": np.array([0.0, 7.0, 2.0])},
        ROAD_QUEUE_KM: {"time": np.array([0.0, 100.0]), "value": np.array([0.0, 1.5])},
    }
    scanner = StationSummary("scanner", 0.0, 43_200.0, 1.0, 0.5, 0.5, 3.0, 10, 9, 0, 120.0, 300.0, 0.75)
    kpis = replication_kpis(trucks, {"scanner": scanner}, series, 0.0, 43_200.0)  # half a day
    assert kpis["trucks_arrived"] == 4
    assert (kpis["trucks_departed"], kpis["trucks_returned"], kpis["trucks_refused"], kpis["trucks_inside"]) == (2, 1, 0, 1)
    assert kpis["throughput_per_day"] == 4.0
    assert kpis["time_at_gate_mean"] == pytest.approx(40.0)  # 20 and 60 minutes
    assert kpis["time_at_gate_p50"] == pytest.approx(40.0)
    assert kpis["time_at_gate_p95"] == pytest.approx(58.0)
    assert kpis["time_in_system_mean"] == pytest.approx((30 + 60 + 10) / 3)
    assert kpis["yard_occupancy_max"] == 7.0
    assert kpis["road_queue_km_max"] == 1.5
    assert math.isnan(kpis["road_queue_trucks_max"])  # the run had no such counter
    assert (kpis["redeclarations"], kpis["manual_reviews"]) == (2, 1)
    assert kpis["fee_revenue_vnd"] == 1_500_000  # collected: the 2 M assessed on the truck inside is not revenue yet
    assert not any(name.startswith("agv_") for name in kpis)  # the AGV lane's KPIs come from its fleet
    assert kpis["scanner_utilisation"] == 0.5
    assert kpis["scanner_mean_wait"] == 2.0


def test_reviews_plates_typed_and_redeclarations_are_also_counted_per_100_trucks_that_reached_the_gate() -> None:
    trucks = _hand_made_trucks()  # two reached the gate: the time_at_gate KPIs count them
    kpis = replication_kpis(trucks, {}, {}, 0.0, 43_200.0)
    reached = len(time_at_gate_minutes(trucks))
    assert reached == 2
    assert kpis["manual_reviews_per_100_trucks"] == pytest.approx(100.0 * 1 / reached)
    assert kpis["redeclarations_per_100_trucks"] == pytest.approx(100.0 * 2 / reached)
    assert kpis["plates_typed_per_100_trucks"] == 0.0
    nobody = replication_kpis(_hand_made_trucks().iloc[3:], {}, {}, 0.0, 43_200.0)  # none reached the gate
    assert math.isnan(nobody["manual_reviews_per_100_trucks"])


def _day_at_the_gate(departed_after_min: list[float], stranded_since_min: list[float]) -> pd.DataFrame:
    """Trucks that reached staging at minute 0 and departed after so many minutes, and trucks
    at staging since so many minutes and still there at the end of a two-hour run."""
    log = TruckLog()
    for minutes in departed_after_min:
        row = log.new_truck(arrival=0.0)
        log.stamp(row, "staging_in", 0.0)
        log.stamp(row, "departed", minutes * 60.0)
        log.set(row, "outcome", "departed")
    for minutes in stranded_since_min:
        row = log.new_truck(arrival=0.0)
        log.stamp(row, "staging_in", minutes * 60.0)
    return log.to_frame(end=7_200.0)


def test_a_layout_that_strands_trucks_inside_cannot_lower_the_time_at_the_gate() -> None:
    clears_all = replication_kpis(_day_at_the_gate([60.0, 60.0, 60.0], []), {}, {}, 0.0, 7_200.0)
    strands_two = replication_kpis(_day_at_the_gate([30.0], [0.0, 0.0]), {}, {}, 0.0, 7_200.0)
    assert clears_all["time_at_gate_mean"] == pytest.approx(60.0)
    # The two stranded trucks count with their two hours so far, censored at the end of the run.
    assert strands_two["time_at_gate_mean"] == pytest.approx((30.0 + 120.0 + 120.0) / 3)
    assert strands_two["time_at_gate_p95"] > clears_all["time_at_gate_p95"]
    # Over the departed trucks alone, the layout that strands them looks faster.
    assert strands_two["time_at_gate_departed_mean"] == pytest.approx(30.0)
    assert clears_all["time_at_gate_departed_p95"] == pytest.approx(60.0)


def test_the_per_truck_kpis_leave_out_the_trucks_that_arrived_during_the_warm_up() -> None:
    log = TruckLog()
    for arrival, departs in ((0.0, 600.0), (3_600.0, 3_600.0 + 1_800.0)):
        row = log.new_truck(arrival=arrival, fee_vnd=500_000)
        log.stamp(row, "staging_in", arrival)
        log.stamp(row, "departed", departs)
        log.set(row, "outcome", "departed")
        log.set(row, "fee_paid_vnd", 500_000)
        log.incr(row, "manual_reviews", 1)
    trucks = log.to_frame(end=7_200.0)
    kpis = replication_kpis(trucks, {}, {}, 3_600.0, 7_200.0)
    assert (kpis["trucks_arrived"], kpis["trucks_departed"]) == (1, 1)  # the one that came after the warm-up
    assert kpis["time_at_gate_mean"] == kpis["time_at_gate_departed_mean"] == pytest.approx(30.0)
    assert kpis["time_in_system_mean"] == pytest.approx(30.0)
    assert (kpis["manual_reviews"], kpis["fee_revenue_vnd"]) == (1, 500_000)
    assert kpis["throughput_per_day"] == pytest.approx(24.0)  # one departure in the hour measured
    assert conservation_check(trucks).holds  # the table itself keeps every truck


def test_a_gate_with_an_agv_lane_counts_containers_delivered_across_not_only_handed_over() -> None:
    trucks = _hand_made_trucks()  # 2 containers handed over
    agv = {"delivered": 1, "utilisation": 0.25, "breakdowns": 0, "backlog": 1}
    kpis = agv_kpis(trucks, agv, 0.0, 43_200.0)  # half a day
    assert kpis == {"agv_containers_delivered_per_day": 2.0, "agv_fleet_utilisation": 0.25,
                    "agv_backlog_containers": 1.0, "agv_containers_handed_over_per_day": 4.0,
                    "agv_trucks_per_day": 0.0}  # nobody declared the AGV lane
    trucks["crossing_mode"] = ["agv_lane", "road_handover", "agv_lane", "agv_lane"]  # two of them never left
    assert agv_kpis(trucks, agv, 0.0, 43_200.0)["agv_trucks_per_day"] == 2.0  # one trip off the road in half a day
    assert agv_kpis(trucks, {}, 0.0, 43_200.0) == {}  # no AGV lane, no AGV KPIs
    assert (kpi_unit("agv_containers_delivered_per_day"), kpi_unit("agv_backlog_containers")) == ("containers/day", "containers")
    assert (kpi_direction("agv_containers_delivered_per_day"), kpi_direction("agv_backlog_containers"),
            kpi_direction("agv_fleet_utilisation")) == ("higher", "lower", "neutral")


def test_conservation_holds_for_a_consistent_table() -> None:
    check = conservation_check(_hand_made_trucks(), generated=4)
    assert check.holds
    assert check.detail == "4 arrived = 2 departed + 1 returned + 0 refused + 1 inside"


def test_conservation_fails_for_a_departed_truck_without_a_departure_time() -> None:
    trucks = _hand_made_trucks()
    trucks.loc[3, "outcome"] = "departed"
    check = conservation_check(trucks)
    assert not check.holds
    assert "1 truck(s) departed without a departure time (e.g. truck_id [3])" in check.detail


def test_conservation_fails_when_a_generated_truck_never_reached_the_table() -> None:
    check = conservation_check(_hand_made_trucks(), generated=5)
    assert not check.holds
    assert "5 trucks were generated but 4 are in the table" in check.detail


def test_every_invariant_holds_on_the_synthetic_gate(one_scanner_run: RunResult) -> None:
    for rep in one_scanner_run.replications:
        names = [check.name for check in rep.invariants]
        assert names == ["conservation", "little:entry_lane", "little:scanner"]
        assert all(check.holds for check in rep.invariants), [c.detail for c in rep.invariants]
    assert one_scanner_run.summary["invariants_failed"] == 0


def test_the_summary_gives_each_kpi_over_replications_with_its_interval(one_scanner_run: RunResult) -> None:
    summary = one_scanner_run.summary
    reps = one_scanner_run.replications
    assert summary["replications"] == 5
    assert summary["seeds"] == [11, 12, 13, 14, 15]
    entry = summary["kpis"]["time_at_gate_p95"]
    values = [rep.kpis["time_at_gate_p95"] for rep in reps]
    assert entry["per_replication"] == values
    assert (entry["mean"], entry["half_width"]) == mean_ci(values)
    assert entry["unit"] == "min"
    assert summary["kpis"]["scanner_utilisation"]["unit"] == "share"
    assert "censored at the end of the run" in entry["note"]
    assert "only the trucks that departed" in summary["kpis"]["time_at_gate_departed_p95"]["note"]
    assert "note" not in summary["kpis"]["scanner_utilisation"]
    pooled = np.concatenate([rep.trucks["time_at_gate_so_far"].dropna() for rep in reps]) / 60
    assert summary["pooled"]["time_at_gate_min"]["p95"] == pytest.approx(np.percentile(pooled, 95))
    assert summary["pooled"]["time_at_gate_min"]["n"] == pooled.size
    departed = np.concatenate([rep.trucks.loc[rep.trucks["outcome"] == "departed", "time_at_gate"] for rep in reps]) / 60
    assert summary["pooled"]["time_at_gate_departed_min"]["p95"] == pytest.approx(np.percentile(departed, 95))


def test_a_kpi_missing_from_one_replication_is_left_out_of_its_mean(one_scanner_run: RunResult) -> None:
    first, second = one_scanner_run.replications[:2]
    partial = replace(second, kpis={k: v for k, v in second.kpis.items() if k != "yard_occupancy_max"})
    entry = summarize_run([first, partial])["kpis"]["yard_occupancy_max"]
    assert entry["n"] == 1
    assert entry["mean"] == first.kpis["yard_occupancy_max"]
    assert math.isnan(entry["per_replication"][1])


def test_the_manifest_names_the_scenario_seed_and_versions() -> None:
    manifest = make_manifest("huu-nghi-peak", "abc123", 42, 10, {"horizon_h": 24})
    assert (manifest["scenario_name"], manifest["scenario_hash"], manifest["seed"], manifest["replications"]) == (
        "huu-nghi-peak", "abc123", 42, 10,
    )
    assert manifest["versions"]["numpy"] == np.__version__
    assert manifest["versions"]["pandas"] == pd.__version__
    assert set(manifest["versions"]) >= {"python", "numpy", "simpy", "mesa", "pandas", "pydantic", "gatetwin"}
    assert manifest["extra"] == {"horizon_h": 24}
    assert isinstance(manifest["platform"], str) and manifest["platform"]


def test_results_survive_a_round_trip_through_their_files(one_scanner_run: RunResult, tmp_path: Path) -> None:
    run = one_scanner_run
    paths = write_results(run, tmp_path)
    names = {path.name for path in paths}
    assert {"trucks.parquet", "trucks.csv", "stations.csv", "series.parquet", "summary.json"} <= names
    assert all(path.is_file() for path in paths)
    loaded = load_results(tmp_path)
    assert (loaded.scenario_name, loaded.scenario_hash, loaded.failed) == (run.scenario_name, run.scenario_hash, None)
    assert loaded.manifest == run.manifest
    assert _same(loaded.summary, run.summary)
    assert _same(summarize_run(loaded.replications), run.summary)
    assert len(loaded.replications) == len(run.replications)
    for back, original in zip(loaded.replications, run.replications, strict=True):
        assert back.seed == original.seed
        pd.testing.assert_frame_equal(back.trucks, original.trucks)
        assert back.stations == original.stations
        assert list(back.series) == list(original.series)
        for name, arrays in original.series.items():
            assert list(back.series[name]) == list(arrays)
            for metric, values in arrays.items():
                np.testing.assert_array_equal(back.series[name][metric], values)
        assert _same(back.kpis, original.kpis)
        assert back.invariants == original.invariants
    warmed = replace(run, replications=[replace(rep, measured_from=1_800.0) for rep in run.replications])
    write_results(warmed, tmp_path)
    assert [rep.measured_from for rep in load_results(tmp_path).replications] == [1_800.0] * len(run.replications)


def test_the_trucks_csv_holds_every_replication_for_spreadsheet_users(one_scanner_run: RunResult, tmp_path: Path) -> None:
    write_results(one_scanner_run, tmp_path)
    table = pd.read_csv(tmp_path / "trucks.csv")
    assert len(table) == sum(len(rep.trucks) for rep in one_scanner_run.replications)
    assert sorted(table["replication"].unique()) == [0, 1, 2, 3, 4]
    assert list(table.columns[:3]) == ["replication", "seed", "truck_id"]
    series = pd.read_parquet(tmp_path / "series.parquet")
    assert list(series.columns) == ["replication", "name", "time", "metric", "value"]
    assert set(series["metric"].astype(str)) == {"queue", "busy", "servers", "value"}


def test_the_same_run_writes_the_same_bytes(tmp_path: Path) -> None:
    first = write_results(make_run("repeat", [5, 6]), tmp_path / "a")
    second = write_results(make_run("repeat", [5, 6]), tmp_path / "b")
    assert [p.name for p in first] == [p.name for p in second]
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes(), f"{a.name} differs between two writes of the same run"


def test_a_failed_run_still_writes_its_error_and_what_it_measured(one_scanner_run: RunResult, tmp_path: Path) -> None:
    finished = one_scanner_run.replications[:2]
    run = RunResult(
        scenario_name="tet-surge",
        scenario_hash="f00d",
        replications=finished,
        manifest=make_manifest("tet-surge", "f00d", 11, 5),
        summary=summarize_run(finished),
        failed="replication 2 (seed 13): RuntimeError: scanner process crashed at t=3600.0",
    )
    write_results(run, tmp_path)
    document = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    assert document["failed"] == run.failed
    assert document["summary"]["replications"] == 2
    loaded = load_results(tmp_path)
    assert loaded.failed == run.failed
    assert [rep.seed for rep in loaded.replications] == [11, 12]


def test_a_run_that_failed_before_any_replication_still_leaves_a_readable_folder(tmp_path: Path) -> None:
    run = RunResult("broken", "0", [], make_manifest("broken", "0", 1, 3), summarize_run([]), failed="ValueError: bad layout")
    paths = write_results(run, tmp_path)
    assert not [p for p in paths if p.suffix == ".png"]
    loaded = load_results(tmp_path)
    assert loaded.failed == "ValueError: bad layout"
    assert loaded.replications == []
    assert list(pd.read_parquet(tmp_path / "trucks.parquet").columns)[:3] == ["replication", "seed", "truck_id"]


def test_agent_tables_and_other_extras_are_kept(one_scanner_run: RunResult, tmp_path: Path) -> None:
    rep = one_scanner_run.replications[0]
    collected = pd.DataFrame({"trucks_on_road": [3, 5, 2]}, index=pd.Index([0, 1, 2], name="step"))
    with_extra = replace(rep, extra={"model_vars": collected, "police_holds": 4, "release_times": np.array([1.5, 2.5])})
    run = RunResult("agents", "1", [with_extra], {}, summarize_run([with_extra]))
    paths = write_results(run, tmp_path)
    assert any(p.name.startswith("extra_model_vars") for p in paths)
    loaded = load_results(tmp_path).replications[0].extra
    pd.testing.assert_frame_equal(loaded["model_vars"], collected)
    assert loaded["police_holds"] == 4
    assert loaded["release_times"] == [1.5, 2.5]


def test_a_series_whose_arrays_disagree_in_length_is_refused(one_scanner_run: RunResult, tmp_path: Path) -> None:
    rep = one_scanner_run.replications[0]
    bad = replace(rep, series={"yard_occupancy": {"time": np.array([0.0, 1.0]), "value": np.array([1.0])}})
    with pytest.raises(ValueError, match="series 'yard_occupancy' metric 'value' has 1 values for 2 times"):
        write_results(RunResult("bad", "2", [bad], {}, {}), tmp_path)


def test_loading_a_folder_without_results_says_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no summary.json"):
        load_results(tmp_path)


def test_replication_result_keeps_its_fields_for_the_dashboard(one_scanner_run: RunResult) -> None:
    rep: ReplicationResult = one_scanner_run.replications[0]
    assert set(rep.stations) == {"entry_lane", "scanner"}
    assert set(rep.series) == {"entry_lane", "scanner", "road_queue_trucks", "road_queue_km", "yard_occupancy"}
    assert rep.kpis["trucks_arrived"] == len(rep.trucks)


def test_each_agencys_officers_become_kpis_beside_the_stations() -> None:
    agencies = {
        "customs": {"officers": 3, "utilisation": 0.8, "mean_wait_min": 12.5},
        "medical": {"officers": "unlimited", "utilisation": 0.01, "mean_wait_min": 0.0},
    }
    kpis = officer_kpis(agencies)
    assert kpis["officers_customs_utilisation"] == 0.8
    assert kpis["officers_customs_mean_wait"] == 12.5
    assert math.isnan(kpis["officers_medical_utilisation"])  # unlimited officers: no share to speak of
    assert kpis["officers_medical_mean_wait"] == 0.0
    assert kpi_unit("officers_customs_mean_wait") == "min" and kpi_unit("officers_customs_utilisation") == "share"


def test_a_results_folder_records_its_format_version_and_reads_it_back(one_scanner_run: RunResult, tmp_path: Path) -> None:
    write_results(one_scanner_run, tmp_path)
    assert json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))["format_version"] == RESULTS_FORMAT
    loaded = load_results(tmp_path)
    assert loaded.format_version == RESULTS_FORMAT
    assert not format_gaps(loaded)
    assert format_gaps(loaded).lines() == []


def test_a_folder_written_before_the_time_so_far_reads_as_format_0_and_says_what_it_lacks(
        one_scanner_run: RunResult, tmp_path: Path) -> None:
    write_results(one_scanner_run, tmp_path / "current")
    older = load_results(write_older_folder(tmp_path / "current", tmp_path / "older"))
    gaps = format_gaps(older)
    assert older.format_version == 0 and gaps and not gaps.newer
    assert gaps.truck_columns == ("refused_at", "time_at_gate_so_far")
    assert gaps.kpis == LATER_KPIS
    assert gaps.lines() == ["trucks.parquet has no column refused_at, time_at_gate_so_far",
                            "summary.json has no KPI " + ", ".join(LATER_KPIS)]
    assert older.replications[0].kpis["time_at_gate_p50"] == one_scanner_run.replications[0].kpis["time_at_gate_p50"]


def test_a_folder_from_a_newer_version_says_so(one_scanner_run: RunResult, tmp_path: Path) -> None:
    write_results(one_scanner_run, tmp_path)
    document = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    (tmp_path / "summary.json").write_text(json.dumps({**document, "format_version": RESULTS_FORMAT + 1}), encoding="utf-8")
    gaps = format_gaps(load_results(tmp_path))
    assert gaps.newer and gaps and gaps.lines() == []


@pytest.mark.parametrize(("name", "damage", "problem"), [
    ("summary.json", "truncate", r"summary\.json: not valid JSON at line \d+, column \d+ .*truncated or corrupt"),
    ("trucks.parquet", "truncate", r"trucks\.parquet: cannot be read \(.*\); the file is truncated or corrupt"),
    ("series.parquet", "truncate", r"series\.parquet: cannot be read \(.*\); the file is truncated or corrupt"),
    ("trucks.parquet", "delete", r"trucks\.parquet: missing; the folder is incomplete"),
    ("series.parquet", "other table", r"series\.parquet: has no column 'replication'"),
    ("summary.json", "other json", r"summary\.json: not a gatetwin summary"),
])
def test_a_missing_truncated_or_foreign_file_is_named_with_what_is_wrong(
        one_scanner_run: RunResult, tmp_path: Path, name: str, damage: str, problem: str) -> None:
    write_results(one_scanner_run, tmp_path)
    path = tmp_path / name
    if damage == "truncate":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    elif damage == "delete":
        path.unlink()
    elif damage == "other table":
        pd.DataFrame({"time": [0.0]}).to_parquet(path)
    else:
        path.write_text('{"scenario_name": "x"}', encoding="utf-8")
    with pytest.raises(ResultsFileError, match=problem) as raised:
        load_results(tmp_path)
    assert str(raised.value).startswith(str(path))
