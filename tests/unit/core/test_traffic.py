"""Congestion risk from GPS pings, and the hold / release advice to traffic police (with hysteresis)."""

from __future__ import annotations

import pytest

from gate.commands import Command, TrafficAdvice
from gate.config import TrafficConfig
from gate.enums import Location, TrafficAction, VehicleClass
from gate.events import GpsPing
from tests.unit.core.support import SLOW_GATE, GateRun, gate_config, general_advice, of_type, plate, ten_on_the_way


def ping(run: GateRun, n: int, km: float) -> list[Command]:
    return run.send(GpsPing(f"app-{n}", plate(n), km, 60.0))


@pytest.fixture
def run() -> GateRun:
    return ten_on_the_way()


def test_pings_near_the_gate_raise_the_congestion_risk(run: GateRun) -> None:
    assert run.core.congestion_risk == 0.0
    for n in range(1, 4):
        ping(run, n, 12.0)
    assert run.core.congestion_risk == pytest.approx(0.3)


def test_pings_beyond_the_horizon_do_not_count(run: GateRun) -> None:
    for n in range(1, 11):
        ping(run, n, 150.0)
    assert run.core.congestion_risk == 0.0


def test_a_vehicle_that_moves_closer_is_counted_once(run: GateRun) -> None:
    for km in (19.0, 15.0, 3.0):
        ping(run, 1, km)
    assert run.core.congestion_risk == pytest.approx(0.1)


def test_a_hold_is_advised_once_when_the_risk_crosses_the_threshold_and_released_once_below_the_lower_one(
        run: GateRun) -> None:
    advice: list[TrafficAdvice] = []
    for n in range(1, 8):
        advice += general_advice(ping(run, n, 10.0))
    assert advice == []  # 0.7: below the hold threshold
    hold = general_advice(ping(run, 8, 10.0))
    assert [(a.action, a.area, a.congestion_risk) for a in hold] == [(TrafficAction.HOLD, "approach", 0.8)]
    assert hold[0].reason == "congestion risk high: hold arrivals at staging"
    # more trucks, and the same trucks again: the advice stands, nothing is repeated
    for n in (9, 10, 1, 2):
        assert general_advice(ping(run, n, 9.0)) == []
    # falling back to 0.7 is inside the hysteresis band: still holding
    for n in (10, 9, 8):
        assert general_advice(ping(run, n, 40.0)) == []
    assert run.core.congestion_risk == pytest.approx(0.7)
    release = general_advice(ping(run, 7, 40.0))
    assert [(a.action, a.congestion_risk) for a in release] == [(TrafficAction.RELEASE, 0.6)]
    assert release[0].release_rate_per_h == 10.0
    assert general_advice(ping(run, 6, 40.0)) == []


def test_while_holding_the_release_rate_is_the_share_of_the_gate_the_yard_can_still_absorb() -> None:
    run = GateRun(gate_config(traffic=SLOW_GATE, yard={VehicleClass.TRUCK: 4}))
    for n in range(1, 11):
        run.declare(f"DEC-{n:04d}", plate(n))
    run.to_yard("DEC-0010")  # a quarter of the truck yard is taken
    advice: list[TrafficAdvice] = []
    for n in range(1, 9):
        advice += general_advice(ping(run, n, 5.0))
    assert [a.release_rate_per_h for a in advice] == [pytest.approx(7.5)]


def test_vehicles_waiting_at_staging_add_to_the_risk() -> None:
    run = GateRun(gate_config(traffic=SLOW_GATE, yard={VehicleClass.TRUCK: 0}))
    for n in range(1, 4):
        run.arrive_at_staging(run.declare(f"DEC-{n:04d}", plate(n)))
    assert run.core.congestion_risk == 1.0  # the truck yard has no room at all


def test_a_vehicle_reaching_staging_no_longer_counts_as_approaching(run: GateRun) -> None:
    for n in range(1, 9):
        ping(run, n, 10.0)
    assert run.core.corridor.action is TrafficAction.HOLD
    answer = run.arrive_at_staging("DEC-0001")
    assert run.core.corridor.within_horizon == 7
    assert not general_advice(answer)  # 7 approaching + 1 at staging: still 0.8


def test_a_ping_for_an_unknown_plate_is_refused_and_one_from_inside_the_gate_is_ignored(run: GateRun) -> None:
    refused = run.send(GpsPing("app-x", "29LD-123.45", 3.0, 40.0))
    assert run.refused(refused).reason == "no open declaration for plate 29LD-123.45"
    run.enter("DEC-0001")
    assert run.location("DEC-0001") is Location.ENTRY_LANE
    assert ping(run, 1, 0.1) == []
    assert run.core.audit.records[-1].reason == "ignored: vehicle is entry_lane"
    assert run.core.corridor.within_horizon == 0


def test_pings_with_impossible_positions_are_refused(run: GateRun) -> None:
    for km, speed in ((-1.0, 50.0), (float("nan"), 50.0), (10.0, 900.0)):
        answer = run.send(GpsPing("app-1", plate(1), km, speed))
        assert "malformed GpsPing" in run.refused(answer).reason
    assert of_type(run.all_commands(), TrafficAdvice) == []


#: Ten trucks an hour from 06:00 to 22:00, none at night (the border guards' shifts).
DAY_SHIFTS = tuple(10.0 if 6 <= hour < 22 else 0.0 for hour in range(24))


def test_the_risk_is_measured_against_the_gate_s_pace_in_the_hour_of_the_day() -> None:
    run = GateRun(gate_config(traffic=SLOW_GATE.model_copy(update={"hourly_capacity_per_h": DAY_SHIFTS})))
    for n in range(1, 11):
        run.declare(f"DEC-{n:04d}", plate(n))
    run.now = 2 * 3600.0  # 02:00: nobody checks trucks, so one truck on its way is too many
    hold = general_advice(ping(run, 1, 15.0))
    assert [(a.action, a.congestion_risk, a.release_rate_per_h) for a in hold] == [(TrafficAction.HOLD, 1.0, 0.0)]
    run.now = 24 * 3600.0 + 6 * 3600.0  # 06:00 the next day: the gate clears ten an hour again
    release = general_advice(ping(run, 2, 15.0))
    assert [(a.action, a.release_rate_per_h) for a in release] == [(TrafficAction.RELEASE, 10.0)]
    assert run.core.congestion_risk == pytest.approx(0.2)
    run.now = 24 * 3600.0 + 22 * 3600.0  # 22:00: closed again, and two trucks are on their way
    assert [a.action for a in general_advice(ping(run, 3, 15.0))] == [TrafficAction.HOLD]


def test_an_empty_approach_at_night_is_no_risk() -> None:
    run = GateRun(gate_config(traffic=SLOW_GATE.model_copy(update={"hourly_capacity_per_h": DAY_SHIFTS})))
    run.declare("DEC-0001", plate(1))
    run.now = 3600.0
    assert general_advice(ping(run, 1, 150.0)) == [] and run.core.congestion_risk == 0.0


@pytest.mark.parametrize(("hourly", "reason"), [
    ((10.0,) * 23, "hourly_capacity_per_h must give 24 values"),
    ((0.0,) * 24, "not all 0"),
    ((10.0,) * 23 + (-1.0,), "greater than or equal to 0"),
    ((10.0,) * 23 + (float("inf"),), "finite number"),
])
def test_a_pace_by_hour_is_refused_unless_it_gives_every_hour_a_pace_and_some_hour_more_than_none(
        hourly: tuple[float, ...], reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        TrafficConfig(hourly_capacity_per_h=hourly)
