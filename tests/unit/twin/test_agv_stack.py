"""The stack at the AGV lane's handover point: when the partner side stops accepting, containers
fill it, and then the trucks bringing more wait in the yard."""

from __future__ import annotations

import numpy as np
import pandas as pd

from scenarios import load_scenario, with_overrides
from scenarios.schema import Scenario
from twin.probes import AGV_STACK
from twin.run import run_replication
from twin.world import GateWorld

HOUR = 3600.0
CLOSED = [{"start": "08:00", "duration_h": 8}]  # 08:00 to 16:00


def _smart_gate(**changes: object) -> Scenario:
    return with_overrides(load_scenario("huu_nghi_smart_gate"), horizon_h=20, **changes)


def _agv_yard_hours(trucks: pd.DataFrame) -> float:
    """Mean hours an AGV truck spent in the yard, over those that left it."""
    agv = trucks[(trucks["crossing_mode"] == "agv_lane") & trucks["yard_out"].notna()]
    return float(((agv["yard_out"] - agv["yard_in"]) / HOUR).mean())


def _stack_most(world: GateWorld) -> float:
    return float(np.max(world.probes.stations[AGV_STACK].series()["busy"]))


def test_with_the_partner_side_closed_a_full_stack_holds_the_trucks_bringing_more_in_the_yard() -> None:
    open_result, open_world = run_replication(_smart_gate(**{"layout.agv_lane.stack_slots": 4}), 0, seed=3)
    closed_result, closed_world = run_replication(
        _smart_gate(**{"layout.agv_lane.stack_slots": 4, "layout.agv_lane.partner_closures": CLOSED}), 0, seed=3)
    for result in (open_result, closed_result):
        assert all(check.holds for check in result.invariants), [c for c in result.invariants if not c.holds]
    # Never more containers on the stack than it has places.
    assert _stack_most(closed_world) == 4 and _stack_most(open_world) <= 4
    stack = closed_result.stations[AGV_STACK]
    assert stack.utilisation > open_result.stations[AGV_STACK].utilisation
    # The trucks wait for a place (the 12 AGVs wait at the line, and the 4 places are soon taken) ...
    assert closed_result.kpis["agv_stack_mean_wait"] > 30 > 5 * open_result.kpis["agv_stack_mean_wait"]
    assert _agv_yard_hours(closed_result.trucks) > 3 * _agv_yard_hours(open_result.trucks)
    # ... and the road-handover trucks do not: only the AGV trucks are held.
    road = [r.trucks[(r.trucks["crossing_mode"] == "road_handover")]["departed"].notna().sum()
            for r in (open_result, closed_result)]
    assert road[0] == road[1]
    # Held, not lost: every container crossed in the end or still waits, by the core's books.
    assert closed_world.core.stats["agv_delivered"] + closed_result.kpis["agv_backlog_containers"] == \
        closed_result.trucks["agv_containers"].sum()
    # Held back while the partner side was closed, all the AGV trucks have left by the end.
    by_close = [((r.trucks["crossing_mode"] == "agv_lane") & (r.trucks["departed"] <= 16 * HOUR)).sum()
                for r in (open_result, closed_result)]
    assert by_close[1] < by_close[0] - 5
    assert closed_result.kpis["agv_trucks_per_day"] == open_result.kpis["agv_trucks_per_day"] > 0


def test_a_stack_without_a_limit_never_holds_a_truck_whatever_the_partner_side_does() -> None:
    unlimited = {"layout.agv_lane.stack_slots": "unlimited"}
    open_result, _ = run_replication(_smart_gate(**unlimited), 0, seed=3)
    closed_result, closed_world = run_replication(
        _smart_gate(**unlimited, **{"layout.agv_lane.partner_closures": CLOSED}), 0, seed=3)
    assert closed_result.kpis["agv_stack_mean_wait"] == 0.0
    assert np.isnan(closed_result.stations[AGV_STACK].utilisation)
    assert closed_world.equipment.fleet is not None and closed_world.equipment.fleet.line_wait_s > 0
    pd.testing.assert_series_equal(open_result.trucks["departed"], closed_result.trucks["departed"])
    assert all(check.holds for check in closed_result.invariants)


def test_containers_whose_manifests_are_never_acknowledged_are_taken_off_the_stack_by_hand() -> None:
    lost = _smart_gate(**{"layout.agv_lane.stack_slots": 2, "devices.partner_link.p_loss": 1.0})
    result, world = run_replication(lost, 0, seed=3)
    assert all(check.holds for check in result.invariants), [c for c in result.invariants if not c.holds]
    core, fleet = world.core, world.equipment.fleet
    assert fleet is not None and core.stats["agv_delivered"] == 0 and core.stats["agv_failed"] > 2
    # People took the given-up containers off, so trucks went on handing theirs over past the
    # stack's two places and left.
    stack = result.stations[AGV_STACK]
    assert stack.abandoned > 2 and stack.completions == 0
    assert (result.trucks["crossing_mode"] == "agv_lane").mul(result.trucks["departed"].notna()).sum() > 2
    assert fleet.stacked <= 2
