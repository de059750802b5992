"""Entry and exit lanes as places: a truck is read and checked at its lane's barrier while the
trucks behind it wait in single file, so the number of lanes sets the gate's pace; the forecourt
in front of the entry lanes holds so many trucks, and the others wait at staging."""

from __future__ import annotations

import numpy as np
import pytest

from gate.enums import Role
from scenarios import load_scenario, with_overrides
from scenarios.schema import Scenario
from twin.bare import run_bare
from twin.results import ReplicationResult
from twin.run import run_replication

HOUR = 3600.0
SEED = 11
#: The harvest peak from midnight to noon: the lanes open at 06:00 with the night's trucks waiting.
HOURS = 12.0


def _harvest(lanes: int, **changes: object) -> Scenario:
    return with_overrides(load_scenario("harvest_peak"), horizon_h=HOURS,
                          **{"layout.entry_lanes": lanes, "layout.exit_lanes": lanes, **changes})


@pytest.fixture(scope="module")
def two_lanes() -> ReplicationResult:
    return run_replication(_harvest(2), 0, SEED)[0]


@pytest.fixture(scope="module")
def three_lanes() -> ReplicationResult:
    return run_replication(_harvest(3), 0, SEED)[0]


def test_each_lane_checks_one_truck_at_its_barrier_and_the_others_wait_behind(two_lanes: ReplicationResult) -> None:
    for station in ("entry_lane", "exit_lane"):
        series = two_lanes.series[station]
        assert np.all(series["servers"] == 2), "one place at the barrier of each of the two lanes"
        assert series["busy"].max() == 2 and series["queue"].max() > 0, station
    entry = two_lanes.stations["entry_lane"]
    assert entry.mean_wait_s > 60, "at the harvest peak trucks queue in the entry lanes"
    forecourt = two_lanes.series["entry_lane"]["queue"] + two_lanes.series["entry_lane"]["busy"]
    assert forecourt.max() <= 2 * 10, "no more trucks in the lanes than the forecourt holds (ten a lane)"
    assert all(check.holds for check in two_lanes.invariants)  # Little's law holds for the lanes too
    # Each truck's row shows its wait in the lane (entry_in to entry_at_barrier) and its check there.
    trucks = two_lanes.trucks
    through = trucks["entry_out"].notna() & (trucks["entry_in"] <= trucks["entry_out"])
    lane = trucks.loc[through]
    assert (lane["entry_in"] <= lane["entry_at_barrier"]).all() and (lane["entry_at_barrier"] <= lane["entry_out"]).all()
    assert (lane["entry_at_barrier"] - lane["entry_in"]).max() > 600, "some trucks queued in their lane"
    left = trucks["departed"].notna()
    assert (trucks.loc[left, "exit_in"] <= trucks.loc[left, "exit_at_barrier"]).all()


def test_a_third_lane_each_way_shortens_the_wait_at_the_barriers_and_clears_more_trucks(
        two_lanes: ReplicationResult, three_lanes: ReplicationResult) -> None:
    assert three_lanes.kpis["trucks_arrived"] == two_lanes.kpis["trucks_arrived"]  # the same trucks
    # The forecourt holds ten trucks a lane: the rest of the queue waits at staging and on the road.
    assert three_lanes.stations["staging"].mean_wait_s < 0.7 * two_lanes.stations["staging"].mean_wait_s
    assert three_lanes.kpis["road_queue_km_max"] < 0.7 * two_lanes.kpis["road_queue_km_max"]
    assert three_lanes.kpis["trucks_departed"] > 1.3 * two_lanes.kpis["trucks_departed"]
    assert three_lanes.kpis["time_at_gate_p95"] < two_lanes.kpis["time_at_gate_p95"]
    assert np.all(three_lanes.series["entry_lane"]["servers"] == 3)


def test_with_unlimited_places_every_truck_sent_to_a_lane_is_checked_at_once() -> None:
    result = run_replication(_harvest(2, **{"layout.barrier_places": "unlimited"}), 0, SEED)[0]
    entry = result.stations["entry_lane"]
    assert entry.mean_wait_s == 0.0, "nobody queues for a place at the barrier"
    assert result.series["entry_lane"]["busy"].max() > 2, "more trucks than lanes are checked side by side"
    assert np.isnan(result.series["entry_lane"]["servers"]).all()


def test_a_lane_holds_as_many_trucks_at_its_barrier_as_it_has_places() -> None:
    result = run_replication(_harvest(2, **{"layout.barrier_places": 2}), 0, SEED)[0]
    series = result.series["entry_lane"]
    assert np.all(series["servers"] == 4) and series["busy"].max() == 4


def test_with_an_unlimited_forecourt_the_called_trucks_queue_in_the_lanes_instead_of_at_staging(
        two_lanes: ReplicationResult) -> None:
    result = run_replication(_harvest(2, **{"layout.forecourt_per_lane": "unlimited"}), 0, SEED)[0]
    assert result.stations["entry_lane"].mean_wait_s > 3 * two_lanes.stations["entry_lane"].mean_wait_s
    assert result.stations["staging"].mean_wait_s < two_lanes.stations["staging"].mean_wait_s
    assert result.kpis["trucks_departed"] == pytest.approx(two_lanes.kpis["trucks_departed"], rel=0.05)


def test_the_bare_model_gives_the_lanes_the_same_meaning() -> None:
    two, three = run_bare(_harvest(2), 0, SEED), run_bare(_harvest(3), 0, SEED)
    unlimited = run_bare(_harvest(2, **{"layout.barrier_places": "unlimited"}), 0, SEED)
    assert two.departed < three.departed <= unlimited.departed


def test_an_arm_repaired_before_the_officer_comes_to_lift_it_is_not_lifted_for_a_truck_long_gone() -> None:
    # Barriers jam every two hours or so. When one is repaired before the officer the core called
    # to lift it by hand gets there, the truck drives through on the core's command; lifting the
    # arm for it afterwards would keep the arm waiting for it for good, and block its lane.
    scenario = _harvest(2, **{"devices.barrier.mtbf_h": 2})
    result, world = run_replication(with_overrides(scenario, horizon_h=14), 0, 3)
    barriers = world.equipment.barriers
    assert sum(b.overrides for b in barriers.values()) > 0, "the case this test is about happens on this seed"
    gone = set(result.trucks.loc[result.trucks["outcome"] == "departed", "plate"])
    for barrier in barriers.values():
        left_waiting = {barrier.open_for, *barrier.pending_plates} & gone
        assert not left_waiting, f"{barrier.device_id} keeps leave for trucks that have left: {left_waiting}"
    departed_by = result.trucks["departed"].dropna()
    assert (departed_by > 12 * HOUR).sum() > 20, "trucks still leave in the last two hours: no lane is blocked"


def test_the_bare_model_keeps_the_forecourt_as_the_twin_does() -> None:
    scenario = _harvest(2, **{"layout.forecourt_per_lane": 1})
    twin = run_replication(scenario, 0, SEED)[0].kpis["trucks_departed"]
    bare = run_bare(scenario, 0, SEED).departed
    roomy = run_bare(_harvest(2), 0, SEED).departed
    assert bare < 0.8 * roomy, "one truck a lane in the forecourt slows the bare model too"
    assert abs(twin - bare) <= 0.1 * bare


def test_the_core_counts_service_levels_in_the_hours_the_agencies_are_on_duty() -> None:
    from twin.build import gate_config

    day = gate_config(load_scenario("huu_nghi_2025")).timeouts.working_hours
    assert day[Role.MEDICAL] == ((6.0, 14.0), (14.0, 22.0))  # its two shifts
    smart = gate_config(load_scenario("huu_nghi_smart_gate")).timeouts.working_hours
    assert Role.BORDER_GUARD not in smart  # on duty around the clock: every hour counts
    given = with_overrides(load_scenario("huu_nghi_2025"),
                           **{"core.timeouts.working_hours": {"medical": [[8, 12]]}})
    assert gate_config(given).timeouts.working_hours == {Role.MEDICAL: ((8.0, 12.0),)}  # the scenario's own
    # A night's trucks wait for the morning shift: no missed service levels while nobody is on duty.
    result, world = run_replication(with_overrides(load_scenario("huu_nghi_2025"), horizon_h=5.5), 0, SEED)
    assert result.kpis["trucks_arrived"] > 20 and world.escalations["medical"] == 0
