"""AGV fleet: delivery times for a constant-time lane, partner closures, breakdowns, batteries."""

from __future__ import annotations

import numpy as np
import pytest
import simpy

from gate.commands import DispatchAgv
from gate.events import AgvArrived, AgvFaulted
from hardware_emulators import AgvFleet, constant
from tests.unit.emulators.support import EventLog

HANDOVER_S = 60.0
LANE_KM, SPEED_KMH = 3.6, 18.0
LEG_S = LANE_KM / SPEED_KMH * 3600.0  # 720 s each way


def _fleet(env: simpy.Environment, rng: np.random.Generator, log: EventLog, **kwargs: object) -> AgvFleet:
    settings: dict[str, object] = {"n_agvs": 2, "lane_km": LANE_KM, "speed_kmh": SPEED_KMH, "handover_s": constant(HANDOVER_S)}
    settings.update(kwargs)
    fleet = AgvFleet(env, "agv-lane", rng, **settings)  # type: ignore[arg-type]
    fleet.connect(log)
    return fleet


def _dispatch(fleet: AgvFleet, n: int) -> None:
    for i in range(n):
        fleet.dispatch(DispatchAgv(device_id="agv-lane", mission_id=f"m{i}", visit_id=f"v{i}", container_no="MSKU1234565"))


def _expected_arrivals(n_missions: int, n_agvs: int) -> list[float]:
    """Constant times, one crane, everything dispatched at t=0: walk the missions by hand."""
    agv_free = [0.0] * n_agvs
    crane_free = 0.0
    arrivals = []
    for _ in range(n_missions):
        agv = min(range(n_agvs), key=lambda i: agv_free[i])
        start = max(agv_free[agv], crane_free)
        crane_free = start + HANDOVER_S
        arrivals.append(crane_free + LEG_S)
        agv_free[agv] = crane_free + 2 * LEG_S
    return arrivals


def test_the_fleet_delivers_containers_in_the_expected_time_for_constant_times(
    env: simpy.Environment, rng: np.random.Generator, log: EventLog
) -> None:
    fleet = _fleet(env, rng, log)
    _dispatch(fleet, 6)
    env.run()
    expected = _expected_arrivals(6, 2)
    assert expected[:4] == [780.0, 840.0, 2280.0, 2340.0]
    assert log.times(AgvArrived) == expected
    assert [e.mission_id for _, e in log.of(AgvArrived)] == [f"m{i}" for i in range(6)]  # type: ignore[union-attr]
    assert fleet.delivered == 6 and env.now == expected[-1] + LEG_S


def test_utilisation_is_mission_time_over_fleet_time(env: simpy.Environment, rng: np.random.Generator, log: EventLog) -> None:
    fleet = _fleet(env, rng, log)
    _dispatch(fleet, 1)
    env.run(until=3000)
    # One AGV busy for handover + two legs = 1,500 s out of 2 AGVs x 3,000 s.
    assert fleet.busy_s == HANDOVER_S + 2 * LEG_S
    assert fleet.utilisation() == pytest.approx(1500 / 6000)


def test_loaded_agvs_wait_at_the_line_through_a_partner_closure(
    env: simpy.Environment, rng: np.random.Generator, log: EventLog
) -> None:
    # The border line is 0.5 km out (100 s at 18 km/h); the partner is closed from 100 s to 2,000 s.
    fleet = _fleet(env, rng, log, border_km=0.5, closures=[(100.0, 2000.0)])
    _dispatch(fleet, 2)
    env.run(until=1000)
    assert fleet.waiting_at_line == 2 and fleet.delivered == 0
    env.run()
    rest_s = (LANE_KM - 0.5) / SPEED_KMH * 3600.0
    assert log.times(AgvArrived) == pytest.approx([2000.0 + rest_s] * 2)
    assert fleet.line_wait_s == pytest.approx((2000.0 - 160.0) + (2000.0 - 220.0))
    assert not fleet.partner_accepting(1500.0) and fleet.partner_accepting(2000.0)


def test_a_breakdown_abandons_the_mission_and_reports_agv_faulted(
    env: simpy.Environment, rng: np.random.Generator, log: EventLog
) -> None:
    # A mean of 1 s between breakdowns: every AGV breaks down on its first leg.
    fleet = _fleet(env, rng, log, n_agvs=1, mtbf_s=1.0, mttr_s=constant(900.0))
    _dispatch(fleet, 2)
    env.run()
    assert log.of(AgvArrived) == []
    faults = log.of(AgvFaulted)
    assert [e.mission_id for _, e in faults] == ["m0", "m1"]  # type: ignore[union-attr]
    # The second mission waits for the repaired AGV: handover, < 1 leg, 900 s repair, handover.
    assert faults[1][0] - faults[0][0] > 900.0 + HANDOVER_S
    assert (fleet.abandoned, fleet.breakdowns, fleet.repair_s) == (2, 2, 1800.0)


def test_breakdowns_occur_at_the_rate_of_driving_time(env: simpy.Environment, rng: np.random.Generator, log: EventLog) -> None:
    fleet = _fleet(env, rng, log, n_agvs=4, mtbf_s=20 * LEG_S, mttr_s=constant(600.0))
    _dispatch(fleet, 1_000)
    env.run()
    # Each mission drives at most two legs; P(no breakdown in a leg) = exp(-1/20).
    p_leg = 1 - np.exp(-1 / 20)
    expected_abandoned = 1_000 * p_leg
    assert abs(fleet.abandoned - expected_abandoned) < 4 * np.sqrt(expected_abandoned)
    assert fleet.delivered + fleet.abandoned == 1_000
    assert fleet.breakdowns > fleet.abandoned  # some broke down on the empty return leg


def test_an_agv_charges_after_its_missions_per_charge(env: simpy.Environment, rng: np.random.Generator, log: EventLog) -> None:
    fleet = _fleet(env, rng, log, n_agvs=1, missions_per_charge=2, charge_s=constant(3600.0))
    _dispatch(fleet, 3)
    env.run()
    cycle = HANDOVER_S + 2 * LEG_S
    assert log.times(AgvArrived) == [HANDOVER_S + LEG_S, cycle + HANDOVER_S + LEG_S, 2 * cycle + 3600.0 + HANDOVER_S + LEG_S]
    assert (fleet.charges, fleet.charging_s) == (1, 3600.0)


def test_a_lane_outage_keeps_loaded_agvs_at_the_handover_point(
    env: simpy.Environment, rng: np.random.Generator, log: EventLog
) -> None:
    fleet = _fleet(env, rng, log, outages=[(0.0, 1000.0)])
    _dispatch(fleet, 1)
    env.run()
    assert log.times(AgvArrived) == [1000.0 + LEG_S]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_agvs": 0}, "n_agvs must be >= 1"),
        ({"border_km": 5.0}, "border_km must not exceed lane_km"),
        ({"missions_per_charge": 3}, "give both missions_per_charge and charge_s"),
        ({"closures": [(500.0, 100.0)]}, "a partner closure needs 0 <= start_s < end_s"),
        ({"speed_kmh": 0}, "speed_kmh must be a finite number > 0"),
    ],
)
def test_impossible_fleet_settings_are_refused(
    env: simpy.Environment, rng: np.random.Generator, log: EventLog, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=f"agv-lane: {message}"):
        _fleet(env, rng, log, **kwargs)


def test_the_fleet_echoes_the_dispatch_it_answers(env: simpy.Environment, rng: np.random.Generator, log: EventLog) -> None:
    broken = _fleet(env, rng, log, n_agvs=1, mtbf_s=1.0, mttr_s=constant(900.0))
    broken.dispatch(DispatchAgv(device_id="agv-lane", mission_id="m0", visit_id="v0", container_no="MSKU1234565",
                                attempt=2))
    env.run()
    assert [e.attempt for _, e in log.of(AgvFaulted)] == [2]  # type: ignore[union-attr]


def test_an_arrival_names_its_dispatch(env: simpy.Environment, rng: np.random.Generator, log: EventLog) -> None:
    fleet = _fleet(env, rng, log, n_agvs=1)
    fleet.dispatch(DispatchAgv(device_id="agv-lane", mission_id="m0", visit_id="v0", container_no="MSKU1234565",
                               attempt=3))
    env.run()
    assert [e.attempt for _, e in log.of(AgvArrived)] == [3]  # type: ignore[union-attr]


# --- the stack at the handover point ----------------------------------------------------------


def _stack_containers(env: simpy.Environment, fleet: AgvFleet, numbers: list[str], stacked_at: dict[str, float]):  # type: ignore[no-untyped-def]
    """A yard crane putting each container on the stack as soon as it has a place."""
    for number in numbers:
        place = fleet.place()
        if place is not None:
            yield place
        assert fleet.stack(number, place)
        stacked_at[number] = env.now


def test_a_full_stack_makes_the_next_container_wait_until_an_agv_takes_one(
    env: simpy.Environment, rng: np.random.Generator, log: EventLog
) -> None:
    fleet = _fleet(env, rng, log, n_agvs=1, stack_slots=2)
    left: list[tuple[str, bool, float]] = []
    fleet.on_unstacked = lambda number, by_agv: left.append((number, by_agv, env.now))
    stacked_at: dict[str, float] = {}
    numbers = ["A", "B", "C"]
    env.process(_stack_containers(env, fleet, numbers, stacked_at))
    env.run(until=1.0)
    assert stacked_at == {"A": 0.0, "B": 0.0} and fleet.stacked == 2  # C waits for a place
    fleet.dispatch(DispatchAgv(device_id="agv-lane", mission_id="mA", visit_id="v", container_no="A"))
    env.run(until=2 * HANDOVER_S)
    # Sent at t=1, the crane loads A onto the AGV: its place frees and C takes it at that instant.
    assert left == [("A", True, 1.0 + HANDOVER_S)] and stacked_at["C"] == 1.0 + HANDOVER_S
    assert fleet.stacked == 2 and fleet.on_stack("C") and not fleet.on_stack("A")


def test_containers_leave_the_stack_by_hand_and_a_waiting_request_can_be_given_back(
    env: simpy.Environment, rng: np.random.Generator, log: EventLog
) -> None:
    fleet = _fleet(env, rng, log, stack_slots=1)
    first = fleet.place()
    assert first is not None and first.triggered
    assert fleet.stack("A", first) and not fleet.stack("A", fleet.place())  # one container of a number
    waiting = fleet.place()
    assert waiting is not None and not waiting.triggered
    fleet.give_back(waiting)  # the truck left before a place freed: it no longer waits for one
    behind = fleet.place()
    assert fleet.unstack("A") and not fleet.unstack("A")  # by hand; only once
    env.run(until=1.0)
    assert behind is not None and behind.triggered and not waiting.triggered
    assert fleet.stacked == 0


def test_a_stack_without_a_limit_asks_for_no_place_and_a_stack_needs_one(
    env: simpy.Environment, rng: np.random.Generator, log: EventLog
) -> None:
    unlimited = _fleet(env, rng, log)
    assert unlimited.place() is None and unlimited.stack("A", None) and unlimited.stacked == 1
    for bad in (0, -3):
        with pytest.raises(ValueError, match="stack_slots must be >= 1"):
            _fleet(env, rng, log, stack_slots=bad)
