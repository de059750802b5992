"""Plate camera: read shares, night and rain, the shape of misreads, confidences."""

from __future__ import annotations

import numpy as np
import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from gate.events import PlateRead
from gate.identifiers import confusable_key
from hardware_emulators import CONFUSIONS, PlateCamera, VehicleTruth, constant, misread
from tests.unit.emulators.support import EventLog, within

PLATE = "14C-123.45"  # has confusable characters: 1, 2, 5
HOUR = 3600.0


def _camera(env: simpy.Environment, rng: np.random.Generator, log: EventLog, **kwargs: object) -> PlateCamera:
    camera = PlateCamera(env, "cam-in-1", rng, constant(0.5), **kwargs)  # type: ignore[arg-type]
    camera.connect(log)
    return camera


def _read_at(env: simpy.Environment, camera: PlateCamera, start: float, n: int, plate: str = PLATE) -> None:
    def reads() -> simpy.events.ProcessGenerator:
        yield env.timeout(start)
        for _ in range(n):
            camera.observe(VehicleTruth(plate, 20_000))

    env.process(reads())


def _shares(log: EventLog, plate: str = PLATE) -> tuple[float, float, float]:
    reads = [e for _, e in log.of(PlateRead)]
    n = len(reads)
    correct = sum(1 for r in reads if r.plate == plate) / n  # type: ignore[union-attr]
    none = sum(1 for r in reads if r.plate is None) / n  # type: ignore[union-attr]
    return correct, 1 - correct - none, none


def test_read_shares_over_many_reads_match_the_configured_probabilities(
    env: simpy.Environment, rng: np.random.Generator, log: EventLog
) -> None:
    camera = _camera(env, rng, log, p_correct=0.92, p_misread=0.05, p_noread=0.03)
    _read_at(env, camera, 12 * HOUR, 20_000)
    env.run()
    correct, wrong, none = _shares(log)
    assert within(correct, 0.92, 20_000) and within(wrong, 0.05, 20_000) and within(none, 0.03, 20_000)
    assert (camera.reads, camera.correct_reads + camera.misreads + camera.no_reads) == (20_000, 20_000)


def test_night_windows_worsen_reads_every_day(env: simpy.Environment, rng: np.random.Generator, log: EventLog) -> None:
    # Night from 22:00 to 06:00 (wrapping past midnight); reads at 02:00 on day 3.
    camera = _camera(env, rng, log, p_correct=0.92, p_misread=0.05, p_noread=0.03, night=[(22 * HOUR, 6 * HOUR, 3.0)])
    assert camera.shares(12 * HOUR) == pytest.approx((0.92, 0.05, 0.03))
    assert camera.shares(3 * 86_400 + 2 * HOUR) == pytest.approx((0.76, 0.15, 0.09))
    assert camera.shares(23 * HOUR) == pytest.approx((0.76, 0.15, 0.09))
    _read_at(env, camera, 3 * 86_400 + 2 * HOUR, 20_000)
    env.run()
    correct, wrong, none = _shares(log)
    assert within(correct, 0.76, 20_000) and within(wrong, 0.15, 20_000) and within(none, 0.09, 20_000)


def test_rain_windows_are_absolute_and_stack_with_night(env: simpy.Environment, rng: np.random.Generator, log: EventLog) -> None:
    camera = _camera(
        env, rng, log, p_correct=0.94, p_misread=0.03, p_noread=0.03,
        night=[(0, 6 * HOUR, 2.0)], rain=[(86_400 + 4 * HOUR, 86_400 + 5 * HOUR, 1.5)],
    )  # fmt: skip
    assert camera.worsening_factor(4.5 * HOUR) == 2.0  # night, no rain on day 0
    assert camera.worsening_factor(86_400 + 4.5 * HOUR) == 3.0  # night and rain on day 1
    assert camera.worsening_factor(86_400 + 12 * HOUR) == 1.0


def test_error_shares_never_exceed_certainty(env: simpy.Environment, rng: np.random.Generator, log: EventLog) -> None:
    camera = _camera(env, rng, log, p_correct=0.5, p_misread=0.3, p_noread=0.2, night=[(0, 86_400, 10.0)])
    assert camera.shares(100.0) == pytest.approx((0.0, 0.6, 0.4))


def test_misreads_differ_from_the_truth_by_exactly_one_confusable_character(
    env: simpy.Environment, rng: np.random.Generator, log: EventLog
) -> None:
    camera = _camera(env, rng, log, p_correct=0.0, p_misread=1.0, p_noread=0.0)
    _read_at(env, camera, 0, 2_000)
    env.run()
    reads = {e.plate for _, e in log.of(PlateRead)}  # type: ignore[union-attr]
    assert reads == {"I4C-123.45", "14C-I23.45", "14C-1Z3.45", "14C-123.4S"}
    assert all(confusable_key(r) == confusable_key(PLATE) for r in reads if r is not None)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-.桂", min_size=1, max_size=12), st.integers(0, 2**32 - 1))
def test_a_misread_swaps_one_character_for_its_confusable_partner(plate: str, seed: int) -> None:
    wrong = misread(plate, np.random.default_rng(seed))
    if wrong is None:
        assert not any(ch in CONFUSIONS for ch in plate)
        return
    diffs = [(a, b) for a, b in zip(plate, wrong, strict=True) if a != b]
    assert len(diffs) == 1
    assert CONFUSIONS[diffs[0][0]] == diffs[0][1]
    assert confusable_key(wrong) == confusable_key(plate)


def test_a_plate_without_confusable_characters_gives_a_no_read_instead_of_a_misread(
    env: simpy.Environment, rng: np.random.Generator, log: EventLog
) -> None:
    camera = _camera(env, rng, log, p_correct=0.0, p_misread=1.0, p_noread=0.0)
    _read_at(env, camera, 0, 50, plate="34C-373.47")
    env.run()
    assert {(e.plate, e.confidence) for _, e in log.of(PlateRead)} == {(None, 0.0)}  # type: ignore[union-attr]


def test_correct_reads_are_confident_and_some_misreads_fall_under_the_threshold(
    env: simpy.Environment, rng: np.random.Generator, log: EventLog
) -> None:
    camera = _camera(env, rng, log, p_correct=0.5, p_misread=0.5, p_noread=0.0)
    _read_at(env, camera, 0, 4_000)
    env.run()
    correct = [e.confidence for _, e in log.of(PlateRead) if e.plate == PLATE]  # type: ignore[union-attr]
    wrong = [e.confidence for _, e in log.of(PlateRead) if e.plate != PLATE]  # type: ignore[union-attr]
    assert min(correct) >= 0.90
    assert 0.2 < np.mean(np.array(wrong) < 0.85) < 0.9


def test_reads_are_reported_after_the_latency(env: simpy.Environment, rng: np.random.Generator, log: EventLog) -> None:
    camera = _camera(env, rng, log)
    read = camera.observe(VehicleTruth(PLATE, 20_000))
    env.run()
    assert log.times(PlateRead) == [0.5]
    assert read.value == log.entries[0][1]


def test_a_down_camera_reports_a_no_read(env: simpy.Environment, rng: np.random.Generator, log: EventLog) -> None:
    camera = _camera(env, rng, log, p_correct=1.0, p_misread=0.0, p_noread=0.0, outages=[(100, 50)])
    _read_at(env, camera, 120, 3)
    _read_at(env, camera, 200, 1)
    env.run()
    assert [(t, e.plate) for t, e in log.of(PlateRead)] == [(120.5, None)] * 3 + [(200.5, PLATE)]  # type: ignore[union-attr]
    assert camera.reads_while_down == 3


@pytest.mark.parametrize(
    ("shares", "message"),
    [((0.9, 0.05, 0.04), "must be 1"), ((1.2, -0.1, -0.1), r"p_correct must be in \[0, 1\]")],
)
def test_shares_that_are_not_probabilities_are_refused(
    env: simpy.Environment, rng: np.random.Generator, shares: tuple[float, float, float], message: str
) -> None:
    with pytest.raises(ValueError, match=f"cam-in-1: .*{message}"):
        PlateCamera(env, "cam-in-1", rng, constant(0.5), p_correct=shares[0], p_misread=shares[1], p_noread=shares[2])


def test_a_night_window_outside_the_day_is_refused(env: simpy.Environment, rng: np.random.Generator) -> None:
    with pytest.raises(ValueError, match="cam-in-1: night windows are times of day"):
        PlateCamera(env, "cam-in-1", rng, constant(0.5), night=[(80_000, 90_000, 2.0)])
