"""Streams shared by the benchmarks, recorded once per session (recording is never measured).

The benchmarks run only with ``./dev bench`` (the default options skip them): see README.md.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass

import numpy as np
import pytest

from gate.config import GateConfig
from gate.core import GateCore
from twin.loadtest import replay
from twin.visitgen import EVENT_KINDS, GateWorld, RecordedStream

SEED = 20250508


@dataclass(frozen=True)
class CompleteVisits:
    """A stream that runs every visit from declaration to departure."""

    config: GateConfig
    stream: RecordedStream
    visits: int


@dataclass(frozen=True)
class Loaded:
    """A stream that first opens ``open_visits`` visits (``fill``), then keeps them open (``window``)."""

    config: GateConfig
    open_visits: int
    fill: RecordedStream
    window: RecordedStream


def fresh_core(config: GateConfig, fill: RecordedStream | None = None) -> GateCore:
    """A new core, brought up to the end of ``fill`` (untimed) when given."""
    core = GateCore(config)
    if fill is not None:
        replay(core, fill, np.zeros(len(fill), dtype=np.int64))
    return core


def kind_weighted_ns(durations: np.ndarray, kinds: np.ndarray, weights: np.ndarray, statistic: str = "mean") -> float:
    """Cost per event with each event kind weighted as in ``weights`` (counts per kind).

    Comparing two streams this way removes the difference in their mix of event kinds, so what
    is left is the cost of the same work on a core holding more visits. ``statistic`` is the
    per-kind ``"mean"`` or ``"median"``; the median ignores the few events that happened to be
    preempted by another process or caught by a garbage collection, so it is the steadier
    measure of how the work itself scales.
    """
    total = weight = 0.0
    for k in np.flatnonzero(weights):
        mine = durations[kinds == k]
        if mine.size:
            cost = float(np.median(mine)) if statistic == "median" else float(mine.mean())
            total += float(weights[k]) * cost
            weight += float(weights[k])
    return total / weight


@pytest.fixture(scope="session")
def complete_visits() -> CompleteVisits:
    world = GateWorld(seed=SEED, open_visits=100, total_visits=2_000, bad_share=0.02)
    return CompleteVisits(world.config, world.record_all(), 2_000)


_LOADED: dict[int, Loaded] = {}

#: Events replayed (and timed) on a core holding the open visits.
WINDOW_EVENTS = 30_000
#: Events replayed untimed after the declarations, so that the window starts with visits in the gate.
WARM_EVENTS = 5_000


def loaded(open_visits: int) -> Loaded:
    """The stream for ``open_visits`` open visits, recorded at most once per session."""
    if open_visits not in _LOADED:
        world = GateWorld(seed=SEED, open_visits=open_visits, total_visits=None, bad_share=0.02)
        fill = world.record(open_visits + WARM_EVENTS)
        _LOADED[open_visits] = Loaded(world.config, open_visits, fill, world.record(WINDOW_EVENTS))
    return _LOADED[open_visits]


def release(open_visits: int) -> None:
    """Forget a recorded stream: its millions of objects would otherwise lengthen every full
    garbage collection in the benchmarks that run after it."""
    _LOADED.pop(open_visits, None)
    gc.collect()
