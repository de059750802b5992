"""The barrier rises only for commanded plates; a jam holds it shut until repair or override."""

from __future__ import annotations

import numpy as np
import pytest
import simpy

from gate.commands import KeepClosed, OpenBarrier
from gate.events import BarrierClosed, BarrierOpened, DeviceFaulted, DeviceRecovered, VehiclePassed
from hardware_emulators import Barrier, VehicleTruth, constant
from tests.unit.emulators.support import EventLog

A = VehicleTruth("14C-123.45", 20_000)
B = VehicleTruth("29LD-678.90", 15_000)


def _barrier(env: simpy.Environment, rng: np.random.Generator, log: EventLog, **faults: object) -> Barrier:
    barrier = Barrier(env, "barrier-in-1", rng, constant(3.0), **faults)  # type: ignore[arg-type]
    barrier.connect(log)
    return barrier


def _open(plate: str, visit: str = "v1") -> OpenBarrier:
    return OpenBarrier(device_id="barrier-in-1", visit_id=visit, plate=plate)


def test_the_arm_rises_only_for_the_commanded_plate(env: simpy.Environment, rng: np.random.Generator, log: EventLog) -> None:
    barrier = _barrier(env, rng, log)
    b_passes = barrier.pass_vehicle(B)
    a_passes = barrier.pass_vehicle(A)
    barrier.open(_open(A.plate))
    env.run(until=100)
    assert log.entries == [
        (3.0, BarrierOpened("barrier-in-1")),
        (3.0, VehiclePassed("barrier-in-1", A.plate)),
        (6.0, BarrierClosed("barrier-in-1")),
    ]
    assert a_passes.value is True
    assert not b_passes.triggered
    assert barrier.queue_length == 1
    assert (barrier.opens, barrier.passes) == (1, 1)


def test_commands_are_served_in_order_one_vehicle_at_a_time(env: simpy.Environment, rng: np.random.Generator, log: EventLog) -> None:
    barrier = _barrier(env, rng, log)
    barrier.open(_open(A.plate, "v1"))
    barrier.open(_open(B.plate, "v2"))
    barrier.pass_vehicle(B)
    barrier.pass_vehicle(A)
    env.run(until=100)
    assert [(t, type(e).__name__) for t, e in log.entries] == [
        (3.0, "BarrierOpened"), (3.0, "VehiclePassed"), (6.0, "BarrierClosed"),
        (9.0, "BarrierOpened"), (9.0, "VehiclePassed"), (12.0, "BarrierClosed"),
    ]  # fmt: skip
    assert [e.plate for _, e in log.of(VehiclePassed)] == [A.plate, B.plate]  # type: ignore[union-attr]


def test_a_vehicle_arriving_after_the_command_passes_on_arrival_and_clears_in_its_pass_time(
    env: simpy.Environment, rng: np.random.Generator, log: EventLog
) -> None:
    barrier = Barrier(env, "barrier-in-1", rng, constant(3.0), pass_s=constant(4.0))
    barrier.connect(log)
    barrier.open(_open(A.plate))

    def arrive() -> simpy.events.ProcessGenerator:
        yield env.timeout(50)
        yield barrier.pass_vehicle(A)

    env.process(arrive())
    env.run(until=100)
    assert barrier.open_for is None and barrier.arm == "down"
    assert log.times(BarrierOpened) == [3.0]
    assert log.times(VehiclePassed) == [54.0]
    assert log.times(BarrierClosed) == [57.0]


def test_keep_closed_withdraws_a_leave_not_yet_used(env: simpy.Environment, rng: np.random.Generator, log: EventLog) -> None:
    barrier = _barrier(env, rng, log)
    barrier.open(_open(B.plate, "v2"))  # arm rises for B first; A's leave waits behind it
    barrier.open(_open(A.plate, "v1"))
    barrier.keep_closed(KeepClosed("barrier-in-1", visit_id="v1", plate=None, reasons=("fee unpaid",)))
    waiting = barrier.pass_vehicle(A)
    env.run(until=100)
    assert not waiting.triggered
    assert barrier.pending_plates == ()
    assert (barrier.revoked, barrier.keep_closed_received) == (1, 1)
    assert barrier.open_for == B.plate  # B's leave stands until B comes


def test_keep_closed_lowers_an_arm_raised_for_the_vehicle(env: simpy.Environment, rng: np.random.Generator, log: EventLog) -> None:
    barrier = _barrier(env, rng, log)
    barrier.open(_open(A.plate))

    def refuse() -> simpy.events.ProcessGenerator:
        yield env.timeout(10)
        barrier.keep_closed(KeepClosed("barrier-in-1", visit_id=None, plate=A.plate, reasons=("papers",)))

    env.process(refuse())
    env.run(until=100)
    assert log.times(BarrierOpened) == [3.0]
    assert log.times(BarrierClosed) == [13.0]
    assert barrier.passes == 0


def test_a_jam_holds_the_arm_shut_until_the_repair(env: simpy.Environment, rng: np.random.Generator, log: EventLog) -> None:
    barrier = _barrier(env, rng, log, outages=[(10, 100)])

    def truck() -> simpy.events.ProcessGenerator:
        yield env.timeout(20)
        barrier.open(_open(A.plate))
        yield barrier.pass_vehicle(A)

    env.process(truck())
    env.run(until=105)
    assert barrier.passes == 0 and barrier.arm == "down"
    env.run(until=200)
    assert log.times(DeviceFaulted) == [10]
    assert log.times(DeviceRecovered) == [110]
    assert log.times(BarrierOpened) == [113.0]
    assert log.times(VehiclePassed) == [113.0]
    assert barrier.fault_count == 1


def test_a_jam_drops_a_raised_arm_and_the_vehicle_waits_for_the_repair(
    env: simpy.Environment, rng: np.random.Generator, log: EventLog
) -> None:
    barrier = _barrier(env, rng, log, outages=[(20, 100)])
    barrier.open(_open(A.plate))

    def truck() -> simpy.events.ProcessGenerator:
        yield env.timeout(50)
        yield barrier.pass_vehicle(A)

    env.process(truck())
    env.run(until=200)
    assert log.times(BarrierOpened) == [3.0, 123.0]
    assert log.times(BarrierClosed) == [20.0, 126.0]
    assert log.times(VehiclePassed) == [123.0]


def test_an_officer_lifts_a_jammed_arm_by_hand_and_the_repair_does_not_reopen_it(
    env: simpy.Environment, rng: np.random.Generator, log: EventLog
) -> None:
    barrier = _barrier(env, rng, log, outages=[(10, 1000)])

    def truck() -> simpy.events.ProcessGenerator:
        yield env.timeout(20)
        barrier.open(_open(A.plate))
        passing = barrier.pass_vehicle(A)
        yield env.timeout(30)
        barrier.manual_override(A.plate)
        yield passing

    env.process(truck())
    env.run(until=2000)
    assert log.times(BarrierOpened) == [53.0]
    assert log.times(VehiclePassed) == [53.0]
    assert log.times(BarrierClosed) == [56.0]
    assert (barrier.overrides, barrier.opens) == (1, 0)


def test_random_jams_are_repaired_and_counted(env: simpy.Environment, rng: np.random.Generator, log: EventLog) -> None:
    barrier = _barrier(env, rng, log, mtbf_s=500.0, mttr_s=constant(60.0))
    plates = [f"14C-{i:03d}.45" for i in range(200)]

    def traffic() -> simpy.events.ProcessGenerator:
        for plate in plates:
            barrier.open(_open(plate))
            yield barrier.pass_vehicle(VehicleTruth(plate, 20_000))
            yield env.timeout(30)

    done = env.process(traffic())
    env.run(until=done)
    assert barrier.passes == 200
    assert barrier.fault_count > 0
    assert barrier.downtime_s == pytest.approx(60.0 * barrier.fault_count, abs=60.0)
    assert len(log.of(BarrierOpened)) == len(log.of(BarrierClosed))


def test_a_waiting_vehicle_can_be_withdrawn(env: simpy.Environment, rng: np.random.Generator, log: EventLog) -> None:
    barrier = _barrier(env, rng, log)
    waiting = barrier.pass_vehicle(A)

    def withdraw() -> simpy.events.ProcessGenerator:
        yield env.timeout(5)
        waiting.interrupt("returned for re-declaration")

    env.process(withdraw())
    env.run(until=10)
    assert waiting.value is False
    assert barrier.queue_length == 0


def test_a_command_for_another_barrier_is_refused(env: simpy.Environment, rng: np.random.Generator, log: EventLog) -> None:
    barrier = _barrier(env, rng, log)
    with pytest.raises(ValueError, match="barrier-in-1.*'barrier-out-1'"):
        barrier.open(OpenBarrier(device_id="barrier-out-1", visit_id="v1", plate=A.plate))


def test_a_jam_the_instant_a_vehicle_has_passed_does_not_raise_the_arm_for_it_again(
    env: simpy.Environment, rng: np.random.Generator, log: EventLog
) -> None:
    barrier = _barrier(env, rng, log)
    barrier.open(_open(A.plate))

    def truck_then_jam() -> simpy.events.ProcessGenerator:
        yield barrier.pass_vehicle(A)
        barrier.fault_model.inject(100.0)  # same instant the vehicle cleared the arm

    env.process(truck_then_jam())
    env.run(until=300)
    assert log.times(VehiclePassed) == [3.0]
    assert log.times(BarrierOpened) == [3.0]
    assert log.times(BarrierClosed) == [6.0]
    assert log.times(DeviceRecovered) == [103.0]
    assert barrier.pending_plates == () and barrier.arm == "down"


def test_a_jam_and_a_refusal_in_the_same_instant_leave_the_arm_shut(
    env: simpy.Environment, rng: np.random.Generator, log: EventLog
) -> None:
    barrier = _barrier(env, rng, log, outages=[(1.0, 50)])
    barrier.open(_open(A.plate))

    def refuse() -> simpy.events.ProcessGenerator:
        yield env.timeout(1.0)
        barrier.keep_closed(KeepClosed("barrier-in-1", visit_id="v1", plate=A.plate, reasons=("papers",)))

    env.process(refuse())
    env.run(until=300)
    assert log.of(BarrierOpened) == []
    assert barrier.pending_plates == () and barrier.arm == "down"


def test_an_override_for_the_plate_the_arm_is_up_for_does_not_raise_it_twice(
    env: simpy.Environment, rng: np.random.Generator, log: EventLog
) -> None:
    barrier = _barrier(env, rng, log)
    barrier.open(_open(A.plate))

    def officer_then_truck() -> simpy.events.ProcessGenerator:
        yield env.timeout(5)
        barrier.manual_override(A.plate)
        yield barrier.pass_vehicle(A)

    env.process(officer_then_truck())
    env.run(until=300)
    assert log.times(BarrierOpened) == [3.0]
    assert log.times(BarrierClosed) == [8.0]
    assert barrier.pending_plates == ()


def test_leave_given_again_before_it_is_used_is_given_once(env: simpy.Environment, rng: np.random.Generator,
                                                           log: EventLog) -> None:
    barrier = _barrier(env, rng, log)
    barrier.open(_open(A.plate))
    barrier.open(_open(A.plate))  # sent again (after a doubtful read, or a repair)
    barrier.pass_vehicle(A)
    env.run(until=100)
    assert [type(e).__name__ for _, e in log.entries] == ["BarrierOpened", "VehiclePassed", "BarrierClosed"]
    assert barrier.repeated_opens == 1 and barrier.arm == "down"
    barrier.open(_open(A.plate))  # once used, leave for the plate is new leave
    assert barrier.pending_plates == (A.plate,)


def test_the_arm_rises_for_no_one_while_the_crossing_is_closed(
    env: simpy.Environment, rng: np.random.Generator, log: EventLog
) -> None:
    barrier = _barrier(env, rng, log, closures=[(100, 500)])
    barrier.pass_vehicle(A)
    barrier.pass_vehicle(B)

    def core() -> simpy.events.ProcessGenerator:
        yield env.timeout(200)
        barrier.open(_open(A.plate))
        barrier.manual_override(B.plate)  # not even an officer lifts it: the crossing is closed

    env.process(core())
    env.run(until=600)
    assert barrier.is_closed(300) and not barrier.is_closed(500)
    assert log.times(BarrierOpened) == [503.0, 509.0]  # both leaves, after the reopening
    assert [(t, e.plate) for t, e in log.of(VehiclePassed)] == [(503.0, B.plate), (509.0, A.plate)]  # type: ignore[union-attr]


def test_a_closure_drops_an_arm_raised_for_a_vehicle_not_yet_under_it(
    env: simpy.Environment, rng: np.random.Generator, log: EventLog
) -> None:
    barrier = _barrier(env, rng, log, closures=[(20, 100)])
    barrier.open(_open(A.plate))  # up at 3 s; the truck comes at 50 s, inside the closure

    def truck() -> simpy.events.ProcessGenerator:
        yield env.timeout(50)
        yield barrier.pass_vehicle(A)

    env.process(truck())
    env.run(until=200)
    assert log.times(BarrierOpened) == [3.0, 103.0]
    assert log.times(BarrierClosed) == [20.0, 106.0]
    assert log.times(VehiclePassed) == [103.0]
    assert barrier.fault_count == 0 and not log.of(DeviceFaulted)  # a closure is no fault


def test_an_arm_that_would_be_up_as_the_crossing_closes_falls_back(
    env: simpy.Environment, rng: np.random.Generator, log: EventLog
) -> None:
    barrier = _barrier(env, rng, log, closures=[(2, 100)])
    barrier.open(_open(A.plate))  # rising from 0 s, would be up at 3 s
    passes = barrier.pass_vehicle(A)
    env.run(until=200)
    assert log.times(BarrierOpened) == [103.0]
    assert log.times(VehiclePassed) == [103.0] and passes.value is True
