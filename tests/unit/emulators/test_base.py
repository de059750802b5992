"""Samplers, the vehicle truth, reporting and the fault model shared by every emulator."""

from __future__ import annotations

from collections.abc import Generator

import numpy as np
import pytest
import simpy

from gate.events import DeviceFaulted, DeviceRecovered
from hardware_emulators import FaultModel, Outage, PartnerLink, Scale, VehicleTruth, constant, exponential, uniform
from hardware_emulators.base import Signal
from tests.unit.emulators.support import EventLog


def test_samplers_draw_within_their_definition(rng: np.random.Generator) -> None:
    assert constant(7.5)() == 7.5
    draws = [uniform(rng, 10, 20)() for _ in range(1000)]
    assert all(10 <= d < 20 for d in draws)
    mean = np.mean([exponential(rng, 30.0)() for _ in range(20_000)])
    assert abs(mean - 30.0) < 4 * 30.0 / np.sqrt(20_000)


@pytest.mark.parametrize(
    "make",
    [lambda r: constant(-1), lambda r: uniform(r, 5, 1), lambda r: uniform(r, -1, 1), lambda r: exponential(r, 0)],
)
def test_a_sampler_with_impossible_parameters_is_refused(make, rng: np.random.Generator) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="sampler"):
        make(rng)


def test_a_vehicle_truth_needs_a_plate_and_a_real_weight() -> None:
    with pytest.raises(ValueError, match="plate"):
        VehicleTruth(plate=" ", gross_kg=1000)
    with pytest.raises(ValueError, match="14C-123.45.*gross_kg"):
        VehicleTruth(plate="14C-123.45", gross_kg=-5)


def test_a_device_that_reports_before_it_is_connected_fails_naming_itself(env: simpy.Environment, rng: np.random.Generator) -> None:
    scale = Scale(env, "scale-1", rng, constant(10))
    scale.weigh(VehicleTruth("14C-123.45", 20_000))
    with pytest.raises(RuntimeError, match="scale-1.*WeightMeasured.*connect"):
        env.run()


def test_a_negative_duration_from_a_sampler_is_refused_naming_device_and_sampler(
    env: simpy.Environment, rng: np.random.Generator, log: EventLog
) -> None:
    scale = Scale(env, "scale-1", rng, lambda: -3.0)
    scale.connect(log)
    scale.weigh(VehicleTruth("14C-123.45", 20_000))
    with pytest.raises(ValueError, match="scale-1: settle_s sampler returned -3.0"):
        env.run()


def test_a_scheduled_outage_reports_the_fault_and_the_recovery_at_its_times(
    env: simpy.Environment, rng: np.random.Generator, log: EventLog
) -> None:
    link = PartnerLink(env, "partner", rng, constant(1), outages=[Outage(100, 300, reason="maintenance")])
    link.connect(log)
    env.run(until=1000)
    assert log.entries == [(100, DeviceFaulted("partner", "maintenance")), (400, DeviceRecovered("partner"))]
    assert link.fault_count == 1
    assert link.downtime_s == 300


def test_overlapping_outages_make_one_down_period(env: simpy.Environment, rng: np.random.Generator, log: EventLog) -> None:
    link = PartnerLink(env, "partner", rng, constant(1), outages=[(100, 300), (250, 300)])
    link.connect(log)
    env.run(until=120)
    assert link.is_down and link.downtime_s == 20
    env.run(until=1000)
    assert log.times(DeviceFaulted) == [100]
    assert log.times(DeviceRecovered) == [550]
    assert link.downtime_s == 450


def test_random_failures_follow_the_mtbf_and_the_repair_time(env: simpy.Environment, rng: np.random.Generator, log: EventLog) -> None:
    model = FaultModel(env, "scanner-1", rng, log, mtbf_s=1000.0, mttr_s=constant(100.0))
    horizon = 2_000_000.0
    env.run(until=horizon)
    cycles = horizon / 1100.0
    assert abs(model.faults - cycles) < 4 * np.sqrt(cycles)
    assert model.downtime_s == pytest.approx(100.0 * model.faults, abs=100.0)
    # Every fault is followed by its recovery one repair time later.
    faulted, recovered = log.times(DeviceFaulted), log.times(DeviceRecovered)
    assert [r - f for f, r in zip(faulted, recovered, strict=False)] == pytest.approx([100.0] * len(recovered))


def test_a_random_failure_never_lands_inside_a_scheduled_outage(
    env: simpy.Environment, rng: np.random.Generator, log: EventLog
) -> None:
    model = FaultModel(env, "scale-1", rng, log, mtbf_s=50.0, mttr_s=constant(5.0), outages=[(1000, 4000)])
    env.run(until=10_000)
    downs = log.times(DeviceFaulted)
    assert 1000 in downs
    assert not [t for t in downs if 1000 < t < 5000]
    assert model.failures == model.faults - 1


def test_failures_need_both_mtbf_and_repair_time(env: simpy.Environment, rng: np.random.Generator, log: EventLog) -> None:
    with pytest.raises(ValueError, match="scale-1: give both mtbf_s and mttr_s"):
        FaultModel(env, "scale-1", rng, log, mtbf_s=100.0)


def test_an_outage_must_have_a_positive_duration() -> None:
    with pytest.raises(ValueError, match="duration_s"):
        Outage(10, 0)


def test_an_injected_fault_takes_the_device_down_at_once_for_its_duration(
    env: simpy.Environment, rng: np.random.Generator, log: EventLog
) -> None:
    link = PartnerLink(env, "partner", rng, constant(1))
    link.connect(log)

    def operator() -> simpy.events.ProcessGenerator:
        yield env.timeout(500)
        link.fault_model.inject(120.0, reason="cable cut")

    env.process(operator())
    env.run(until=1000)
    assert log.entries == [(500, DeviceFaulted("partner", "cable cut")), (620, DeviceRecovered("partner"))]


def test_a_signal_wakes_every_waiter_at_each_fire_and_a_fire_with_nobody_waiting_wakes_nobody_later(
        env: simpy.Environment) -> None:
    signal = Signal(env)
    woken: list[tuple[str, float]] = []

    def waiter(name: str, start: float) -> Generator[simpy.Event, object, None]:
        yield env.timeout(start)
        yield signal.wait()
        woken.append((name, env.now))

    def firer() -> Generator[simpy.Event, object, None]:
        for at in (1.0, 5.0, 9.0):
            yield env.timeout(at - env.now)
            signal.fire()

    env.process(waiter("early", 0.0))
    env.process(waiter("also early", 0.5))
    env.process(waiter("after the first fire", 2.0))
    env.process(waiter("after the second fire", 6.0))
    env.process(firer())
    env.run()
    assert woken == [("early", 1.0), ("also early", 1.0), ("after the first fire", 5.0), ("after the second fire", 9.0)]
    quiet = Signal(env)
    quiet.fire()  # nobody waits: nothing is scheduled, and a later waiter waits for the next fire
    late: list[float] = []

    def late_waiter() -> Generator[simpy.Event, object, None]:
        yield quiet.wait()
        late.append(env.now)

    env.process(late_waiter())
    env.run(until=env.now + 10)
    assert late == []
    quiet.fire()
    env.run(until=env.now + 1)
    assert len(late) == 1
