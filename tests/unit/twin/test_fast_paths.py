"""The twin's fast paths keep the model: barriers, desks, withdrawn vehicles, the collector, the bare model."""

from __future__ import annotations

import gc
import math
from collections.abc import Generator

import numpy as np
import pytest
import simpy

from gate.commands import OpenBarrier, RequestScan
from gate.events import PositionsReported, ScanCompleted, VehiclePassed, WeightMeasured
from hardware_emulators import WITHDRAWN, Barrier, Scale, Scanner, VehicleTruth, constant
from hardware_emulators.base import SortedPriorityResource
from scenarios import load_scenario, with_overrides
from scenarios.schema import Scenario
from twin.bare import off_duty, run_bare
from twin.build import build
from twin.fleet import arrival_times
from twin.run import RUN_GC_THRESHOLD, run_gc, run_replication
from twin.streams import Streams
from twin.trucks import ping_plan
from twin.world import GateWorld, PingPlan, TruckRun

HOUR = 3600.0


class _Log:
    def __init__(self, env: simpy.Environment) -> None:
        self.env = env
        self.entries: list[tuple[float, object]] = []

    def __call__(self, event: object) -> None:
        self.entries.append((self.env.now, event))

    def of(self, kind: type) -> list[tuple[float, object]]:
        return [(t, e) for t, e in self.entries if isinstance(e, kind)]


def _truck(i: int) -> VehicleTruth:
    return VehicleTruth(f"14C-{i:03d}.45", 20_000)


# --------------------------------------------------------------------------- GPS pings


def _ping_times(arrival: float, plan: tuple[tuple[float, float], ...]) -> list[tuple[float, float]]:
    """(time, km to go) of each ping of a truck that set off at ``arrival``, as SimPy would add them up."""
    pings, at = [], arrival
    for step, remaining in plan[:-1]:
        at += step
        pings.append((at, remaining))
    return pings


def _one_by_one(hours: float) -> Scenario:
    """A scenario without a telematics feed: each ping reaches the core on its own."""
    return with_overrides(load_scenario("huu_nghi_2025"), horizon_h=hours, **{"traffic.gps_feed_s": None})


def test_the_core_gets_every_gps_ping_at_its_own_time_in_time_order() -> None:
    scenario = _one_by_one(3)
    world = build(scenario, 0, 1)
    world.env.run(until=3 * HOUR)
    records = world.core.audit.records
    assert [r.time for r in records] == sorted(r.time for r in records)
    plan = ping_plan(scenario.demand.approach_road_km, scenario.demand.approach_speed_kmh,
                     scenario.traffic.gps_ping_s)
    assert len(plan) > 2
    pinged = 0
    for truck in world.trucks.values():
        expected = [at for at, _ in _ping_times(truck.plan.arrival_s, plan) if at < 3 * HOUR]
        got = [r.time for r in records if r.action == "GpsPing" and r.visit_id == truck.visit_id]
        assert got == expected
        pinged += bool(got)
    assert pinged > 20
    assert world.events_handled == world.core.stats["events"]


def test_the_core_read_in_the_middle_of_a_run_has_the_pings_sent_before_then() -> None:
    scenario = _one_by_one(3)
    world = build(scenario, 0, 1)
    plan = ping_plan(scenario.demand.approach_road_km, scenario.demand.approach_speed_kmh,
                     scenario.traffic.gps_ping_s)
    for until in (1.5 * HOUR, 2.25 * HOUR):
        world.env.run(until=until)
        sent = sum(1 for truck in world.trucks.values()
                   for at, _ in _ping_times(truck.plan.arrival_s, plan) if at < until)
        assert sum(1 for r in world.core.audit.records if r.action == "GpsPing") == sent > 0


def _roads_to(sink: object, feed_s: float | None) -> tuple[GateWorld, simpy.Environment, list[TruckRun],
                                                           list[tuple[PingPlan, float]]]:
    """A world whose core is ``sink``, on a fresh clock, with 12 trucks and four roads to send them down.

    A slow truck on a long road is overtaken by faster ones that set off later, and pings of
    differently spaced plans interleave: the later ones cannot just queue behind the earlier.
    """
    world = build(with_overrides(load_scenario("huu_nghi_2025"), horizon_h=1, **{"traffic.gps_feed_s": feed_s}), 0, 1)
    world._core = sink  # type: ignore[assignment]
    world._next_deadline = sink.next_deadline  # type: ignore[attr-defined]
    env = world.env = simpy.Environment()
    plans = [(ping_plan(km, speed, ping_s), speed) for km, speed, ping_s in
             ((12.0, 20.0, 60.0), (3.0, 60.0, 45.0), (8.0, 40.0, 60.0), (5.0, 30.0, 37.0))]
    return world, env, list(world.trucks.values())[:12], plans


class _PingSink:
    """Stands in for the core: keeps every ping it is handed, with the time it was handled at."""

    def __init__(self) -> None:
        self.pings: list[tuple[float, str, float]] = []

    def handle(self, event: object, now: float) -> list[object]:
        self.pings.append((now, event.device_id, event.km_to_gate))  # type: ignore[attr-defined]
        return []

    def next_deadline(self) -> None:
        return None


def test_pings_of_trucks_on_roads_of_different_lengths_and_speeds_reach_the_core_in_time_order() -> None:
    sink = _PingSink()
    world, env, trucks, plans = _roads_to(sink, feed_s=None)
    expected: list[tuple[float, str, float]] = []

    def set_off() -> Generator[simpy.Event, object, None]:
        for i, truck in enumerate(trucks):
            yield env.timeout(17.0 * (i % 5) + 3.0)
            plan, speed = plans[i % len(plans)]
            end = world.drive_approach(truck, plan, speed)
            times = _ping_times(env.now, plan)
            assert end == (times[-1][0] + plan[-1][0] if times else env.now + plan[0][0])
            expected.extend((at, f"app-{truck.visit_id}", km) for at, km in times if km > 0)
            if i == 5:
                world.send_due_pings()  # a read in the middle hands over what is due, no more
                assert sorted(sink.pings) == sorted(p for p in expected if p[0] < env.now) != []

    env.process(set_off())
    env.run(until=2 * HOUR)
    world.send_due_pings()
    assert len(sink.pings) == len(expected) > 12 * 5
    assert sorted(sink.pings) == sorted(expected)
    assert [at for at, _, _ in sink.pings] == sorted(at for at, _, _ in expected)
    for app in {a for _, a, _ in expected}:  # each truck's pings in its own order, km counting down
        assert [p for p in sink.pings if p[1] == app] == [p for p in expected if p[1] == app]
    assert world.events_handled == len(sink.pings)


class _FeedSink:
    """Stands in for the core behind a telematics feed: keeps each batch with its delivery time."""

    def __init__(self) -> None:
        self.batches: list[tuple[float, PositionsReported]] = []

    def handle(self, event: object, now: float) -> list[object]:
        assert isinstance(event, PositionsReported)
        self.batches.append((now, event))
        return []

    def next_deadline(self) -> None:
        return None


def test_the_feed_hands_the_core_every_ping_in_the_batch_of_the_next_minute_in_the_order_sent() -> None:
    sink = _FeedSink()
    world, env, trucks, plans = _roads_to(sink, feed_s=60.0)
    sent: list[tuple[float, str, float]] = []  # (time sent, plate, km)

    def delivered(before: float) -> list[tuple[float, str, float]]:
        return [(t, plate, km) for t, batch in sink.batches for plate, km, _ in batch.positions if t < before]

    def set_off() -> Generator[simpy.Event, object, None]:
        for i, truck in enumerate(trucks):
            yield env.timeout(17.0 * (i % 5) + 3.0)
            plan, speed = plans[i % len(plans)]
            world.drive_approach(truck, plan, speed)
            sent.extend((at, truck.plan.truth.plate, km) for at, km in _ping_times(env.now, plan) if km > 0)
            if i == 5:
                world.send_due_pings()  # a read in the middle hands over the batches due, no more
                due = [(math.ceil(at / 60.0) * 60.0, plate, km) for at, plate, km in sorted(sent)]
                assert sorted(delivered(math.inf)) == sorted(d for d in due if d[0] < env.now) != []

    env.process(set_off())
    env.run(until=2 * HOUR)
    world.send_due_pings()
    times = [t for t, _ in sink.batches]
    assert times == sorted(set(times)) and all(t % 60.0 == 0.0 for t in times)  # one batch a minute at most
    assert all(batch.device_id == "telematics" and batch.positions for _, batch in sink.batches)
    # every ping sent, in the first batch at or after it, after every ping sent before it
    expected = [(math.ceil(at / 60.0) * 60.0, plate, km) for at, plate, km in sorted(sent, key=lambda s: s[0])]
    assert len(sent) > 12 * 5
    assert sorted(delivered(math.inf)) == sorted(expected)
    for plate in {p for _, p, _ in sent}:  # each truck's positions in its own order, km counting down
        assert [d for d in delivered(math.inf) if d[1] == plate] == [e for e in expected if e[1] == plate]
    assert world.events_handled == len(sink.batches)


def test_with_the_feed_the_core_hears_of_as_many_positions_as_pings_were_sent_in_far_fewer_events() -> None:
    batched = run_replication(with_overrides(load_scenario("huu_nghi_2025"), horizon_h=3), 0, 1)[1]
    alone = run_replication(_one_by_one(3), 0, 1)[1]
    records = batched.core.audit.records
    batches = [r for r in records if r.action == "PositionsReported"]
    pings = [r for r in alone.core.audit.records if r.action == "GpsPing"]
    assert batches and all(r.time % 60.0 == 0.0 and r.accepted for r in batches)
    # the same trucks drive the same road: every ping is in a batch, save those sent in the last minute
    positions = sum(int(r.reason.split(" ")[0]) for r in batches)
    assert len(pings) - len(batched.trucks) <= positions <= len(pings)
    assert len(batches) <= 3 * 60 and batched.core.stats["events"] < alone.core.stats["events"] - len(pings) / 2
    assert batched.core.stats["refused"] == alone.core.stats["refused"] == 0


# --------------------------------------------------------------------------- barriers


def test_vehicles_queued_at_a_barrier_pass_in_the_order_the_arm_is_opened_for_them() -> None:
    env = simpy.Environment()
    log = _Log(env)
    barrier = Barrier(env, "barrier-in-1", np.random.default_rng(1), constant(3.0))
    barrier.connect(log)
    trucks = [_truck(i) for i in range(60)]
    passing = [barrier.pass_vehicle(t) for t in trucks]
    order = list(reversed(range(60)))  # the core lets them through last-come first
    for i in order:
        barrier.open(OpenBarrier("barrier-in-1", f"v{i}", trucks[i].plate))
    env.run(until=10_000)
    passed = log.of(VehiclePassed)
    assert [e.plate for _, e in passed] == [trucks[i].plate for i in order]  # type: ignore[attr-defined]
    # Each passage takes a cycle up and a cycle down: the k-th vehicle passes at 3 + 6 k.
    assert [t for t, _ in passed] == [3.0 + 6.0 * k for k in range(60)]
    assert all(p.value is True for p in passing)
    assert barrier.queue_length == 0


def test_a_vehicle_withdrawn_from_a_barrier_does_not_stop_the_next_vehicle_with_its_plate() -> None:
    env = simpy.Environment()
    log = _Log(env)
    barrier = Barrier(env, "barrier-out-1", np.random.default_rng(1), constant(3.0))
    barrier.connect(log)
    first = barrier.pass_vehicle(_truck(7))
    env.run(until=5)
    first.interrupt("sent back into the yard")
    env.run(until=10)
    assert first.value is False and barrier.queue_length == 0
    again = barrier.pass_vehicle(_truck(7))
    barrier.open(OpenBarrier("barrier-out-1", "v7", _truck(7).plate))
    env.run(until=100)
    assert again.value is True
    assert [(t, e.plate) for t, e in log.of(VehiclePassed)] == [(13.0, _truck(7).plate)]  # type: ignore[attr-defined]


def test_a_vehicle_reaching_a_barrier_already_raised_for_it_passes_at_once() -> None:
    env = simpy.Environment()
    log = _Log(env)
    barrier = Barrier(env, "barrier-in-1", np.random.default_rng(1), constant(3.0))
    barrier.connect(log)
    barrier.open(OpenBarrier("barrier-in-1", "v1", _truck(1).plate))
    env.run(until=20)
    assert barrier.open_for == _truck(1).plate
    passing = barrier.pass_vehicle(_truck(1))
    env.run(until=21)
    assert passing.value is True and log.of(VehiclePassed)[0][0] == 20.0


# --------------------------------------------------------------------------- desks


def _service_order(resource_type: type[simpy.PriorityResource], seed: int) -> list[int]:
    env = simpy.Environment()
    desk = resource_type(env, capacity=2)
    rng = np.random.default_rng(seed)
    served: list[int] = []

    def task(k: int, priority: int, service: float) -> Generator[simpy.Event, None, None]:
        with desk.request(priority=priority) as officer:
            yield officer
            served.append(k)
            yield env.timeout(service)

    def arrivals() -> Generator[simpy.Event, None, None]:
        for k in range(300):
            env.process(task(k, int(rng.integers(-1, 3)), float(rng.exponential(50.0))))
            gap = float(rng.exponential(20.0)) if rng.random() < 0.7 else 0.0  # ties in time too
            yield env.timeout(gap)

    env.process(arrivals())
    env.run()
    return served


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_desks_sorted_queue_serves_in_the_order_simpy_s_priority_resource_does(seed: int) -> None:
    reference = _service_order(simpy.PriorityResource, seed)
    assert len(reference) == 300
    assert _service_order(SortedPriorityResource, seed) == reference


# --------------------------------------------------------------------------- vehicles withdrawn from devices


def test_a_vehicle_withdrawn_while_the_scanner_is_down_leaves_without_a_scan() -> None:
    env = simpy.Environment()
    log = _Log(env)
    scanner = Scanner(env, "scanner-1", np.random.default_rng(1), "drive_through", constant(40.0),
                      p_detect=0.9, p_false_alarm=0.0, outages=[(0.0, 100.0)])
    scanner.connect(log)
    scanner.scan(RequestScan("scanner-1", "v1", _truck(1).plate))
    waiting = scanner.scan_vehicle(_truck(1))
    env.run(until=50)
    waiting.interrupt(WITHDRAWN)  # the core sent it to the inspection bay
    env.run(until=60)
    assert waiting.triggered and waiting.value is None
    after = scanner.scan_vehicle(_truck(2))
    env.run(until=500)
    assert [(t, e.plate) for t, e in log.of(ScanCompleted)] == [(140.0, _truck(2).plate)]  # type: ignore[attr-defined]
    assert after.value is not None and scanner.aborted == 0


def test_a_vehicle_withdrawn_in_the_middle_of_a_scan_frees_the_tunnel_at_once() -> None:
    env = simpy.Environment()
    log = _Log(env)
    scanner = Scanner(env, "scanner-1", np.random.default_rng(1), "drive_through", constant(40.0),
                      p_detect=0.9, p_false_alarm=0.0)
    scanner.connect(log)
    first = scanner.scan_vehicle(_truck(1))
    second = scanner.scan_vehicle(_truck(2))
    env.run(until=10)
    first.interrupt(WITHDRAWN)
    env.run(until=200)
    assert first.value is None and scanner.aborted == 0
    assert [(t, e.plate) for t, e in log.of(ScanCompleted)] == [(50.0, _truck(2).plate)]  # type: ignore[attr-defined]
    assert second.value is not None and scanner.busy_s == pytest.approx(50.0)


def test_a_fault_in_the_middle_of_a_weighing_still_weighs_the_vehicle_after_the_repair() -> None:
    env = simpy.Environment()
    log = _Log(env)
    scale = Scale(env, "scale-1", np.random.default_rng(1), constant(30.0), outages=[(10.0, 50.0)])
    scale.connect(log)
    weighing = scale.weigh(_truck(1))
    env.run(until=200)
    assert scale.aborted == 1
    assert weighing.value is not None and log.of(WeightMeasured)[0][0] == 90.0


def test_a_vehicle_withdrawn_from_the_scale_is_not_weighed() -> None:
    env = simpy.Environment()
    log = _Log(env)
    scale = Scale(env, "scale-1", np.random.default_rng(1), constant(30.0))
    scale.connect(log)
    weighing = scale.weigh(_truck(1))
    env.run(until=10)
    weighing.interrupt(WITHDRAWN)
    env.run(until=200)
    assert weighing.value is None and not log.of(WeightMeasured) and scale.weighed == 0


def test_a_red_truck_re_routed_while_the_only_scanner_is_down_does_not_stop_the_run() -> None:
    # This seed sends a red truck to the scanner just before the outage and re-routes it while
    # it waits for the repair; the run used to stop with an uncaught Interrupt.
    scenario = with_overrides(load_scenario("scanner_outage"), horizon_h=12)
    result, world = run_replication(scenario, 0, seed=1)
    assert all(check.holds for check in result.invariants)
    assert world.equipment.scanners["scanner-1"].fault_count == 1


# --------------------------------------------------------------------------- the collector during a run


def test_a_run_leaves_the_garbage_collector_as_it_found_it() -> None:
    before = gc.get_threshold()
    with run_gc():
        assert gc.get_threshold()[0] == RUN_GC_THRESHOLD
        assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
    with pytest.raises(RuntimeError), run_gc():
        raise RuntimeError("the run failed")
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


def test_what_a_run_keeps_joins_the_oldest_generation_without_a_collection_at_its_end() -> None:
    collections: list[int] = []

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collections.append(info["generation"])

    with run_gc():
        kept = [[i] for i in range(50_000)]  # young objects, still alive when the run ends
        gc.callbacks.append(count)
    try:
        assert collections == [] and gc.get_count()[0] < 100
        assert len(kept) == 50_000 and gc.get_freeze_count() == 0
    finally:
        gc.callbacks.remove(count)


# --------------------------------------------------------------------------- the bare reference model


def test_off_duty_spells_are_the_gaps_between_daily_shifts() -> None:
    day_shifts = (("06:00", "14:00"), ("14:00", "22:00"))
    assert off_duty(day_shifts, 8 * HOUR) == [(0.0, 6 * HOUR)]
    assert off_duty(day_shifts, 48 * HOUR) == [(0.0, 6 * HOUR), (22 * HOUR, 30 * HOUR), (46 * HOUR, 48 * HOUR)]
    assert off_duty((("00:00", "24:00"),), 72 * HOUR) == []
    assert off_duty((("19:00", "07:00"),), 30 * HOUR) == [(7 * HOUR, 19 * HOUR)]


def test_the_bare_model_clears_trucks_only_while_the_border_guards_are_on_shift() -> None:
    scenario = with_overrides(load_scenario("harvest_peak"), horizon_h=6)  # desks open at 06:00
    assert run_bare(scenario, 0, 1).departed == 0
    round_the_clock = with_overrides(scenario, **{f"agencies.{role}.shifts": [["00:00", "24:00"]] for role in
                                                  ("medical", "border_guard", "health_quarantine", "animal_quarantine",
                                                   "plant_quarantine", "customs", "fee_collector")})
    assert run_bare(round_the_clock, 0, 1).departed > 0


def test_the_bare_model_sees_the_twin_s_arrivals_and_is_deterministic() -> None:
    scenario = with_overrides(load_scenario("huu_nghi_2025"), horizon_h=12)
    first, second = run_bare(scenario, 0, 5), run_bare(scenario, 0, 5)
    arrivals = arrival_times(scenario, Streams(5, 0).get("arrivals"))
    assert first.uniforms.shape == (len(arrivals), 5)
    assert 0 < first.departed <= len(arrivals)
    assert first.departed == second.departed and np.array_equal(first.uniforms, second.uniforms)
