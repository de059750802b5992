"""The twin's results say what happened: devices down, trucks not scanned, bays full, trucks held."""

from __future__ import annotations

from collections.abc import Generator

import numpy as np
import pandas as pd
import pytest
import simpy

from gate.enums import Role
from scenarios import load_scenario, with_overrides
from twin.agents_people import agents_people
from twin.build import build
from twin.results import ReplicationResult
from twin.run import run_replication
from twin.trucks import DRIVE_S, STAGING_OCCUPANCY
from twin.world import GateWorld

HOUR = 3600.0
SEED = 870  # the scanner_outage scenario's own seed
OUTAGE = (9 * HOUR, 13 * HOUR)  # scanner_outage: scanner-1 down 09:00-13:00
DAY_H = 20  # long enough for the bays to work off the outage's backlog


def _value_at(series: dict[str, np.ndarray], metric: str, time: float) -> float:
    index = int(np.searchsorted(series["time"], time, side="right")) - 1
    return float(series[metric][index])


@pytest.fixture(scope="module")
def outage() -> tuple[ReplicationResult, GateWorld]:
    return run_replication(with_overrides(load_scenario("scanner_outage"), horizon_h=DAY_H), 0, SEED)


@pytest.fixture(scope="module")
def no_outage() -> tuple[ReplicationResult, GateWorld]:
    return run_replication(with_overrides(load_scenario("huu_nghi_2025"), horizon_h=DAY_H), 0, SEED)


# ---------------------------------------------------------------------- A: devices down, trucks not scanned


def test_a_scanner_in_a_planned_outage_has_no_server_in_its_station_series(
        outage: tuple[ReplicationResult, GateWorld]) -> None:
    result, _ = outage
    series = result.series["scanner-1"]
    assert _value_at(series, "servers", OUTAGE[0] - 60) == 1.0
    for t in np.linspace(OUTAGE[0], OUTAGE[1] - 1, 9):
        assert _value_at(series, "servers", t) == 0.0, f"scanner-1 shows a server at t={t} while it is down"
    assert _value_at(series, "servers", OUTAGE[1]) == 1.0


def test_a_random_fault_takes_the_scale_station_to_no_server_until_the_repair() -> None:
    scenario = with_overrides(load_scenario("huu_nghi_2025"), horizon_h=10)
    world = build(scenario, 0, SEED)
    scale = world.equipment.scales["scale-1"]

    def fault() -> Generator[simpy.Event, None, None]:
        yield world.env.timeout(8 * HOUR)
        scale.fault_model.inject(1800.0, reason="failure")

    world.env.process(fault())
    world.env.run(until=10 * HOUR)
    series = world.probes.stations["scale-1"].series()
    assert _value_at(series, "servers", 8 * HOUR - 1) == 1.0
    assert _value_at(series, "servers", 8 * HOUR) == 0.0
    assert _value_at(series, "servers", 8 * HOUR + 1799) == 0.0
    assert _value_at(series, "servers", 8.5 * HOUR) == 1.0


def test_only_trucks_the_scanner_really_scanned_get_a_scanner_out_stamp(
        outage: tuple[ReplicationResult, GateWorld]) -> None:
    result, world = outage
    trucks = result.trucks
    scanner = world.equipment.scanners["scanner-1"]
    stamped_out = trucks["scanner_out"].notna()
    assert stamped_out.sum() == scanner.scanned == result.stations["scanner-1"].completions
    assert (trucks.loc[stamped_out, "scanner_out"] > trucks.loc[stamped_out, "scanner_in"]).all(), \
        "a scan takes time: no zero-length scans"
    scanned_during = trucks["scanner_out"].between(*OUTAGE) | trucks["scanner_in"].between(*OUTAGE)
    assert not scanned_during.any(), "nothing reaches or leaves the scanner as scanned while it is down"


def test_a_truck_re_routed_on_its_way_to_a_scanner_that_faults_gets_no_scanner_stamps() -> None:
    # Replication 0 (seed 0): a red truck leaves the scale just before 09:00 for the scanner, which goes down while it drives there.
    result, world = run_replication(with_overrides(load_scenario("scanner_outage"), horizon_h=10), 0, 0)
    trucks = result.trucks
    left_scale = trucks["scale_out"].between(OUTAGE[0] - DRIVE_S["to_scanner"], OUTAGE[0])
    on_the_way = (trucks["channel"] == "red") & left_scale
    assert on_the_way.any(), "the case this test is about happens on this seed"
    assert trucks.loc[on_the_way, ["scanner_in", "scanner_out"]].isna().all().all()
    assert trucks.loc[on_the_way, "yard_in"].notna().all(), "it drives on to the yard (and the bays)"
    assert not (trucks["scanner_in"] == trucks["scanner_out"]).any(), "no zero-length scans"
    assert trucks["scanner_out"].notna().sum() == world.equipment.scanners["scanner-1"].scanned


def test_a_truck_still_queued_at_a_scanner_that_faults_keeps_its_arrival_but_no_scanner_out() -> None:
    # A slow scanner builds a queue before it faults: the trucks queued there are re-routed unscanned.
    scenario = with_overrides(load_scenario("scanner_outage"), horizon_h=14,
                              **{"devices.scanners.drive_through.scan_s": {"kind": "constant", "value": 900}})
    result, world = run_replication(scenario, 0, SEED)
    trucks = result.trucks
    withdrawn = trucks["scanner_in"].notna() & trucks["scanner_out"].isna() & (trucks["scanner_in"] < OUTAGE[0])
    assert withdrawn.any(), "the queue at the scanner when it went down is re-routed"
    assert result.stations["scanner-1"].abandoned >= withdrawn.sum() - 1  # at most one was in the tunnel
    assert trucks.loc[withdrawn, "inspection_in"].notna().all() or trucks.loc[withdrawn, "yard_in"].notna().all()
    assert trucks["scanner_out"].notna().sum() == world.equipment.scanners["scanner-1"].scanned


# ---------------------------------------------------------------------- B: the bays take the outage's work


def test_inspection_bays_hold_one_truck_each_and_the_rest_queue_for_them(
        outage: tuple[ReplicationResult, GateWorld]) -> None:
    result, world = outage
    bays = world.scenario.layout.inspection_bays
    series = result.series["inspection"]
    assert np.all(series["servers"] == bays)
    assert series["busy"].max() <= bays
    assert series["queue"].max() > 0, "the red trucks the scanner could not take wait for a bay"
    assert result.stations["inspection"].mean_wait_s > 0


def test_the_scanner_outage_leaves_a_backlog_at_the_bays_that_clears_after_the_repair(
        outage: tuple[ReplicationResult, GateWorld], no_outage: tuple[ReplicationResult, GateWorld]) -> None:
    series = outage[0].series["inspection"]
    assert _value_at(series, "queue", OUTAGE[1]) > 0, "red trucks still wait for a bay when the scanner is back"
    after = series["time"] >= OUTAGE[1]
    cleared = series["time"][after][series["queue"][after] == 0]
    assert cleared.size and cleared[0] < DAY_H * HOUR, "the bays work the backlog off once scans resume"
    assert no_outage[0].series["inspection"]["queue"].max() <= 1, "without the outage the bays keep up"

    def red_then(trucks: pd.DataFrame) -> float:
        hit = (trucks["channel"] == "red") & trucks["staging_in"].between(*OUTAGE) & (trucks["outcome"] == "departed")
        return float(trucks.loc[hit, "time_at_gate"].mean())

    assert red_then(outage[0].trucks) > 2.0 * red_then(no_outage[0].trucks)


# ---------------------------------------------------------------------- C: the fee counter's tasks


def test_every_task_given_to_an_agency_desk_counts_as_assigned_the_fee_counter_too(
        no_outage: tuple[ReplicationResult, GateWorld]) -> None:
    result, world = no_outage
    agencies = result.extra["agencies"]
    fee = agencies[Role.FEE_COLLECTOR.value]
    assert fee["tasks_done"] > 0
    assert fee["tasks_assigned"] >= fee["tasks_done"], "the counter's payments are tasks given to the desk"
    for role, desk in agencies.items():
        live = world.desks[Role(role)]
        in_hand_or_waiting = live.tasks_assigned - live.tasks_done
        assert desk["tasks_assigned"] >= desk["tasks_done"], role
        assert in_hand_or_waiting == live.queue_length + (live.tasks_started - live.tasks_done), role


# ---------------------------------------------------------------------- D: trucks held at staging


def test_trucks_the_agents_hold_at_staging_are_the_staging_stations_queue() -> None:
    scenario = with_overrides(load_scenario("channelling_on"), horizon_h=12)
    result, world = run_replication(scenario, 0, 1420, agents_people)
    staging = result.stations["staging"]
    held = world.probes.counters[STAGING_OCCUPANCY].series()
    assert held["value"].max() > 0
    assert staging.max_queue >= held["value"].max(), "every truck held in a staging area waits at staging"
    assert staging.mean_wait_s > 60.0
    series = result.series["staging"]
    # At every change of the staging-area level, the staging queue counts at least those trucks.
    for t, level in zip(held["time"], held["value"], strict=True):
        assert _value_at(series, "queue", t) >= level, t
    assert staging.mean_wait_s == pytest.approx(staging.mean_sojourn_s, rel=0.05)


def test_trucks_held_at_staging_without_the_agents_are_the_staging_stations_queue(
        no_outage: tuple[ReplicationResult, GateWorld]) -> None:
    result, world = no_outage
    staging = result.stations["staging"]
    log = world.probes.log.to_frame()
    left = log["staging_out"].notna() & (log["staging_out"] <= DAY_H * HOUR)
    held_s = (log.loc[left, "staging_out"] - log.loc[left, "staging_in"]).mean()
    assert staging.mean_wait_s > 0
    assert staging.mean_wait_s == pytest.approx(held_s, rel=0.05)


def test_a_customer_withdrawn_from_service_frees_the_server_and_counts_as_abandoned_not_completed() -> None:
    from twin.probes import StationProbe

    probe = StationProbe("scanner-x", 1)
    first = probe.arrive(0.0)
    probe.start_service(0.0, first)
    probe.withdraw(30.0, first)
    second = probe.arrive(40.0)
    probe.start_service(40.0, second)
    probe.end_service(100.0, second)
    summary = probe.summary(0.0, 200.0)
    assert (summary.completions, summary.abandoned, probe.busy) == (1, 1, 0)
    assert summary.utilisation == pytest.approx(90.0 / 200.0)
    with pytest.raises(ValueError, match="no server is busy"):
        probe.withdraw(150.0)
