"""Weighbridge: noise, drift, one vehicle at a time, faults, and the serial frame format."""

from __future__ import annotations

import numpy as np
import pytest
import simpy
from hypothesis import given
from hypothesis import strategies as st

from gate.events import DeviceFaulted, DeviceRecovered, WeightMeasured
from hardware_emulators import Scale, VehicleTruth, constant, frame, parse_frame
from tests.unit.emulators.support import EventLog


def _scale(env: simpy.Environment, rng: np.random.Generator, log: EventLog, **kwargs: object) -> Scale:
    scale = Scale(env, "scale-1", rng, constant(30.0), **kwargs)  # type: ignore[arg-type]
    scale.connect(log)
    return scale


def test_measurement_noise_has_mean_zero_and_the_configured_spread(
    env: simpy.Environment, rng: np.random.Generator, log: EventLog
) -> None:
    scale = _scale(env, rng, log)  # e = 20 kg, noise sd = e
    n = 5_000
    for i in range(n):
        scale.weigh(VehicleTruth(f"14C-{i:05d}", 25_000.0))
    env.run()
    errors = np.array([e.gross_kg for _, e in log.of(WeightMeasured)]) - 25_000.0  # type: ignore[union-attr]
    # The display rounds to whole intervals, adding e^2/12 to the variance.
    expected_sd = np.sqrt(20.0**2 + 20.0**2 / 12)
    assert abs(errors.mean()) < 4 * expected_sd / np.sqrt(n)
    assert errors.std() == pytest.approx(expected_sd, rel=0.05)
    assert np.all(errors % 20.0 == 0)


def test_calibration_drift_grows_with_the_days_since_calibration(
    env: simpy.Environment, rng: np.random.Generator, log: EventLog
) -> None:
    scale = _scale(env, rng, log, interval_kg=5.0, noise_sd_kg=0.0, drift_kg_per_day=15.0)

    def truck() -> simpy.events.ProcessGenerator:
        yield env.timeout(2 * 86_400 - 30)
        yield scale.weigh(VehicleTruth("14C-123.45", 18_000.0))

    env.process(truck())
    env.run()
    assert log.entries == [(2 * 86_400, WeightMeasured("scale-1", "14C-123.45", 18_030.0, stable=True, overload=False))]


def test_the_platform_takes_one_vehicle_at_a_time(env: simpy.Environment, rng: np.random.Generator, log: EventLog) -> None:
    scale = _scale(env, rng, log)
    for plate in ("14C-111.11", "14C-222.22", "14C-333.33"):
        scale.weigh(VehicleTruth(plate, 20_000.0))
    env.run(until=1)
    assert scale.queue_length == 2
    env.run()
    assert log.times(WeightMeasured) == [30.0, 60.0, 90.0]
    assert scale.busy_s == 90.0 and scale.weighed == 3
    env.run(until=180)
    assert scale.utilisation() == 0.5


def test_a_vehicle_above_the_maximum_is_reported_as_overload(
    env: simpy.Environment, rng: np.random.Generator, log: EventLog
) -> None:
    scale = _scale(env, rng, log, max_kg=50_000.0, noise_sd_kg=0.0)
    scale.weigh(VehicleTruth("14C-123.45", 50_200.0))  # over Max + 9e = 50,180 kg
    scale.weigh(VehicleTruth("14C-678.90", 50_180.0))  # at the limit: still a reading
    env.run()
    readings = [(e.gross_kg, e.stable, e.overload) for _, e in log.of(WeightMeasured)]  # type: ignore[union-attr]
    assert readings == [(50_200.0, False, True), (50_180.0, True, False)]
    assert scale.overloads == 1


def test_a_fault_while_settling_weighs_the_vehicle_again_after_the_repair(
    env: simpy.Environment, rng: np.random.Generator, log: EventLog
) -> None:
    scale = _scale(env, rng, log, outages=[(20, 100)])
    scale.weigh(VehicleTruth("14C-123.45", 20_000.0))
    scale.weigh(VehicleTruth("14C-678.90", 20_000.0))
    env.run()
    assert log.times(DeviceFaulted) == [20]
    assert log.times(DeviceRecovered) == [120]
    assert log.times(WeightMeasured) == [150.0, 180.0]
    assert scale.aborted == 1


def test_the_documented_frame_reads_as_a_stable_gross_weight() -> None:
    assert frame(5120, stable=True, overload=False) == "ST,GS+  5120kg"
    assert parse_frame("ST,GS+  5120kg") == (5120.0, True, False)
    assert parse_frame("US,GS-    40kg\r\n") == (-40.0, False, False)
    assert parse_frame("OL,GS+ 61020kg") == (61_020.0, False, True)


@given(st.integers(-999_999, 999_999), st.sampled_from([(True, False), (False, False), (False, True)]))
def test_frames_round_trip(kg: int, flags: tuple[bool, bool]) -> None:
    stable, overload = flags
    text = frame(kg, stable, overload)
    assert len(text) == 14
    assert parse_frame(text) == (float(kg), stable, overload)


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "ST,GS+5120kg",  # weight not padded to six characters
        "XX,GS+  5120kg",  # unknown status
        "ST,NT+  5120kg",  # net, not gross
        "ST,GS+  51a0kg",
        "ST,GS+  5120lb",
        "ST,GS   5120kg",  # no sign
        "ST,GS+ 5 120kg",
        "ST,GS+  5120kg trailing",
    ],
)
def test_a_bad_frame_raises_naming_the_frame(bad: str) -> None:
    with pytest.raises(ValueError, match="bad weighbridge frame") as caught:
        parse_frame(bad)
    assert repr(bad) in str(caught.value)


def test_a_reading_that_cannot_be_framed_is_refused() -> None:
    with pytest.raises(ValueError, match="overload reading cannot be stable"):
        frame(70_000, stable=True, overload=True)
    with pytest.raises(ValueError, match="does not fit"):
        frame(1_000_000, stable=True, overload=False)
    with pytest.raises(ValueError, match="nan"):
        frame(float("nan"), stable=True, overload=False)


def test_impossible_scale_settings_are_refused(env: simpy.Environment, rng: np.random.Generator) -> None:
    with pytest.raises(ValueError, match="scale-1: interval_kg must be a finite number > 0"):
        Scale(env, "scale-1", rng, constant(30.0), interval_kg=0)
