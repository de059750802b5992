"""Timers of the core: when it next needs waking, and what is due.

A binary heap with lazy cancellation: cancelling only forgets the token, and a dead entry is
dropped when it reaches the top. So that long service-level timers cancelled early cannot pile
up, the heap is rebuilt from the live entries whenever dead ones outnumber live ones (amortised
O(1) per operation).
"""

from __future__ import annotations

import heapq
from collections.abc import Hashable


class Deadlines:
    """Scheduled (time, kind, key) entries, each cancellable by the token ``schedule`` returns."""

    __slots__ = ("_heap", "_live", "_next_token")

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, str, Hashable]] = []
        self._live: set[int] = set()
        self._next_token = 0

    def __len__(self) -> int:
        return len(self._live)

    def schedule(self, when: float, kind: str, key: Hashable) -> int:
        """Schedule ``(kind, key)`` at ``when``; returns the token that cancels it."""
        self._next_token += 1
        token = self._next_token
        heapq.heappush(self._heap, (when, token, kind, key))
        self._live.add(token)
        if len(self._heap) > 2 * len(self._live) + 1024:
            self._compact()
        return token

    def cancel(self, token: int) -> None:
        """Cancel a scheduled entry (a token already fired or cancelled is ignored)."""
        self._live.discard(token)

    def next_time(self) -> float | None:
        """The time of the earliest live entry, or None."""
        heap = self._heap
        while heap and heap[0][1] not in self._live:
            heapq.heappop(heap)
        return heap[0][0] if heap else None

    def pending(self) -> list[tuple[float, str, Hashable]]:
        """Every live entry as (time, kind, key), earliest first. O(n log n): for probes and tests."""
        live = self._live
        return [(when, kind, key) for when, token, kind, key in sorted(self._heap) if token in live]

    def pop_due(self, now: float) -> list[tuple[str, Hashable]]:
        """Every live entry due at or before ``now``, earliest first (ties in scheduling order)."""
        due: list[tuple[str, Hashable]] = []
        heap = self._heap
        live = self._live
        while heap and heap[0][0] <= now:
            _, token, kind, key = heapq.heappop(heap)
            if token in live:
                live.discard(token)
                due.append((kind, key))
        return due

    def _compact(self) -> None:
        self._heap = [entry for entry in self._heap if entry[1] in self._live]
        heapq.heapify(self._heap)
