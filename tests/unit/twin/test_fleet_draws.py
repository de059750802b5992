"""The fleet's and the emulators' own draws give the very numbers numpy's ``choice`` and ``uniform`` give, from the same stream."""

from __future__ import annotations

import numpy as np
import pytest

from hardware_emulators.base import draw_uniform
from twin.fleet import WeightedDraw


@pytest.mark.parametrize("weights", [
    [0.5, 0.3, 0.2],
    [0.0, 1.0],
    [1.0, 0.0, 3.0, 0.5],  # unnormalised shares are normalised as choice(p=w / w.sum()) would be
    list(1.0 / np.arange(1, 2001) ** 0.8),
])
def test_a_weighted_draw_matches_numpy_choice_draw_for_draw(weights: list[float]) -> None:
    p = np.asarray(weights, dtype=float)
    ours, numpys = np.random.default_rng(7), np.random.default_rng(7)
    draw = WeightedDraw(p, "test weights")
    got = [draw.draw(ours) for _ in range(5_000)]
    expected = [int(numpys.choice(len(p), p=p / p.sum())) for _ in range(5_000)]
    assert got == expected
    assert ours.random() == numpys.random()  # and both streams are left in the same place


@pytest.mark.parametrize("weights", [[], [0.0, 0.0], [0.5, -0.1], [float("nan"), 1.0]])
def test_bad_weights_are_refused_by_name_when_drawn_from(weights: list[float]) -> None:
    draw = WeightedDraw(weights, "demand.cargo_mix")
    with pytest.raises(ValueError, match="demand.cargo_mix: weights must be"):
        draw.draw(np.random.default_rng(1))


@pytest.mark.parametrize("low, high", [(1.0, 12.0), (0.08, 0.2), (800.0, 3_500.0), (0.5, 4.0), (-3.0, 3.0)])
def test_the_uniform_draw_of_the_fleet_and_the_cameras_matches_numpy_uniform_draw_for_draw(low: float, high: float) -> None:
    ours, numpys = np.random.default_rng(11), np.random.default_rng(11)
    got = [draw_uniform(ours, low, high) for _ in range(20_000)]
    expected = [float(numpys.uniform(low, high)) for _ in range(20_000)]
    assert got == expected
    assert ours.random() == numpys.random()
