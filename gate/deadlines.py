"""Timers of the core: when it next needs waking, and what is due.

A binary heap with lazy cancellation. Each entry is its own token: a short list
``[when, seq, kind, key]`` that ``schedule`` returns and ``cancel`` marks dead (``kind`` becomes
None), so neither touches any table that grows with the number of timers. A dead entry is dropped
when it reaches the top; so that long service-level timers cancelled early cannot pile up, the
heap is rebuilt from the live entries whenever dead ones outnumber live ones (amortised O(1) per
operation). Entries order by time, then by scheduling order (``seq`` is unique), so ties fire in
the order they were scheduled and the comparison never reaches ``kind`` or ``key``.
"""

from __future__ import annotations

import heapq
from collections.abc import Hashable
from typing import Any, TypeAlias

#: A scheduled entry, and the token that cancels it: ``[when, seq, kind, key]``, ``kind`` None
#: once it fired or was cancelled. Read it only through ``Deadlines``.
Timer: TypeAlias = list[Any]


class Deadlines:
    """Scheduled (time, kind, key) entries, each cancellable by the token ``schedule`` returns."""

    __slots__ = ("_heap", "_live", "_seq")

    def __init__(self) -> None:
        self._heap: list[Timer] = []
        self._live = 0
        self._seq = 0

    def __len__(self) -> int:
        return self._live

    def schedule(self, when: float, kind: str, key: Hashable) -> Timer:
        """Schedule ``(kind, key)`` at ``when``; returns the token that cancels it."""
        self._seq += 1
        timer: Timer = [when, self._seq, kind, key]
        heapq.heappush(self._heap, timer)
        self._live += 1
        if len(self._heap) > 2 * self._live + 1024:
            self._compact()
        return timer

    def cancel(self, token: Timer | None) -> None:
        """Cancel a scheduled entry (None, or a token already fired or cancelled, is ignored)."""
        if token is not None and token[2] is not None:
            token[2] = None
            self._live -= 1

    def next_time(self) -> float | None:
        """The time of the earliest live entry, or None."""
        heap = self._heap
        while heap and heap[0][2] is None:
            heapq.heappop(heap)
        return heap[0][0] if heap else None

    def pending(self) -> list[tuple[float, str, Hashable]]:
        """Every live entry as (time, kind, key), earliest first. O(n log n): for probes and tests."""
        return [(when, kind, key) for when, _, kind, key in sorted(self._heap) if kind is not None]

    def pop_due(self, now: float) -> list[tuple[str, Hashable]]:
        """Every live entry due at or before ``now``, earliest first (ties in scheduling order)."""
        due: list[tuple[str, Hashable]] = []
        heap = self._heap
        while heap and heap[0][0] <= now:
            timer = heapq.heappop(heap)
            kind = timer[2]
            if kind is not None:
                timer[2] = None
                self._live -= 1
                due.append((kind, timer[3]))
        return due

    def _compact(self) -> None:
        self._heap = [timer for timer in self._heap if timer[2] is not None]
        heapq.heapify(self._heap)


_DAY_S = 86_400.0
_FAR_S = 1e12
#: Beyond this many whole working days, ``working_due`` skips them in one step.
_LONG_DAYS = 64


def working_spells(hours: tuple[tuple[float, float], ...]) -> tuple[tuple[float, float], ...]:
    """(start, end) hours of a working day as merged, sorted (start, end) seconds from midnight."""
    merged: list[list[float]] = []
    for start, end in sorted(hours):
        if merged and start * 3600.0 <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end * 3600.0)
        else:
            merged.append([start * 3600.0, end * 3600.0])
    return tuple((start, end) for start, end in merged)


def working_due(now: float, seconds: float, spells: tuple[tuple[float, float], ...]) -> float:
    """When ``seconds`` of working time have passed from ``now``, counting only the daily
    ``spells`` (``working_spells``; at least one, of non-zero length). Beyond ``_FAR_S`` (about
    30,000 years, where a host clock is surely wrong) simply ``now + seconds``."""
    if not -_FAR_S < now < _FAR_S:
        return now + seconds
    day = now // _DAY_S
    per_day = sum(end - start for start, end in spells)
    at = now
    left = seconds
    whole = int(seconds // per_day)
    if whole > _LONG_DAYS:
        # Months of working time: skip the whole days but the last two in one step, rather than
        # day by day (a time limit the config allows may span years of short working days).
        skip = whole - 2  # whole days after today's rest
        left -= working_seconds(now, (day + 1) * _DAY_S, spells) + skip * per_day
        day += 1 + skip
        at = day * _DAY_S
        whole = 2
    for _ in range(whole + 2):
        base = day * _DAY_S
        for start, end in spells:
            if base + end <= at:
                continue
            begin = max(base + start, at)
            span = base + end - begin
            if span >= left:
                return begin + left
            left -= span
            at = base + end
        day += 1
    return at + left  # not reached: each full day takes ``per_day`` off what is left


def merge_spells(spells: tuple[tuple[float, float], ...]) -> tuple[tuple[float, float], ...]:
    """(start, end) spells sorted, those that overlap or touch merged into one."""
    merged: list[list[float]] = []
    for start, end in sorted(spells):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return tuple((start, end) for start, end in merged)


def working_seconds(start: float, end: float, spells: tuple[tuple[float, float], ...] | None) -> float:
    """Working time from ``start`` to ``end`` counting only the daily ``spells`` (None: the
    whole day)."""
    if end <= start:
        return 0.0
    if spells is None:
        return end - start
    total = 0.0
    day = start // _DAY_S
    while day * _DAY_S < end:
        base = day * _DAY_S
        for s, e in spells:
            total += max(0.0, min(base + e, end) - max(base + s, start))
        day += 1
    return total


def due_around_closures(now: float, seconds: float, spells: tuple[tuple[float, float], ...] | None,
                        closed: tuple[tuple[float, float], ...]) -> float:
    """When ``seconds`` of working time have passed from ``now``, counting only the daily
    ``spells`` (None: the whole day) and none of the ``closed`` spells ((start, end) times,
    sorted, not overlapping)."""
    at, left = now, seconds
    for start, end in closed:
        if end <= at:
            continue
        if start <= at:  # closed now: the time runs from the reopening
            at = end
            continue
        due = at + left if spells is None else working_due(at, left, spells)
        if due <= start:
            return due
        left -= working_seconds(at, start, spells)
        at = end
    return at + left if spells is None else working_due(at, left, spells)

