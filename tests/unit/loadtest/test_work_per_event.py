"""The core does the same work per event whether 100 or 5,000 visits are open: no scans.

Time per event also grows with the number of open visits through the CPU caches (see the
flatness benchmark), which makes it a noisy witness of the algorithm. This test counts instead:
every line of ``gate/`` the interpreter runs while the core handles a window of events
(``sys.settrace``), per event, kind by kind. A loop over the open visits, the work lists or the
timers on the hot path would multiply that count with the number of open visits; the count does
not depend on the machine, so the bound can be tight. (Loops inside C built-ins, such as copying
a dict, run no line of ``gate/``: the flatness benchmark's timings are the witness for those.)
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import numpy as np

from gate.core import GateCore
from twin.loadtest import replay
from twin.visitgen import EVENT_KINDS, GateWorld, RecordedStream

GATE = str(Path(__file__).resolve().parents[3] / "gate")
WINDOW = 2_000
WARM = 2_000


def _lines_per_event(open_visits: int) -> tuple[np.ndarray, np.ndarray, GateCore]:
    """Lines of ``gate/`` run for each event of a window, on a core holding ``open_visits``."""
    world = GateWorld(seed=7, open_visits=open_visits, total_visits=None, bad_share=0.02)
    fill = world.record(open_visits + WARM)
    window = world.record(WINDOW)
    core = GateCore(world.config)
    replay(core, fill, None)
    counts = np.zeros(len(window), dtype=np.int64)
    _traced(core, window, counts)
    return counts, window.kinds, core


def _traced(core: GateCore, window: RecordedStream, counts: np.ndarray) -> None:
    current = [0]

    def local(frame: FrameType, event: str, arg: Any) -> Callable[..., Any] | None:
        if event == "line":
            current[0] += 1
        return local

    def calls(frame: FrameType, event: str, arg: Any) -> Callable[..., Any] | None:
        return local if frame.f_code.co_filename.startswith(GATE) else None

    for lo, hi, ticks in window.segments():
        for t in ticks:
            core.on_timer(t)
        for i in range(lo, hi):
            current[0] = 0
            sys.settrace(calls)
            try:
                core.handle(window.events[i], window.times[i])
            finally:
                sys.settrace(None)
            counts[i] = current[0]


def _kind_weighted(counts: np.ndarray, kinds: np.ndarray, weights: np.ndarray) -> float:
    total = weight = 0.0
    for k in np.flatnonzero(weights):
        mine = counts[kinds == k]
        if mine.size:
            total += float(weights[k]) * float(mine.mean())
            weight += float(weights[k])
    return total / weight


def test_the_core_runs_as_many_lines_per_event_with_5000_visits_open_as_with_100() -> None:
    small, small_kinds, _ = _lines_per_event(100)
    large, large_kinds, core = _lines_per_event(5_000)
    assert core.open_visits() >= 4_900 and core.check_invariants() == []
    weights = np.bincount(small_kinds, minlength=len(EVENT_KINDS))
    ratio = _kind_weighted(large, large_kinds, weights) / _kind_weighted(small, small_kinds, weights)
    # The mix of situations differs a little between the two windows (who is where in the gate);
    # a scan over the open visits would multiply the count fiftyfold.
    assert 0.8 < ratio < 1.2, f"the core runs {ratio:.2f}x the lines per event with 5,000 visits open"
    # and no single event does a visit-sized piece of work
    assert int(large.max()) < 10 * int(np.percentile(small, 99.9)), int(large.max())
