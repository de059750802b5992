"""Test support for the emulator tests: an event log usable as a device's ``report``."""

from __future__ import annotations

import simpy

from gate.events import Event


class EventLog:
    """A ``report`` callback that records each event with the simulation time it was reported."""

    def __init__(self, env: simpy.Environment) -> None:
        self.env = env
        self.entries: list[tuple[float, Event]] = []

    def __call__(self, event: Event) -> None:
        self.entries.append((self.env.now, event))

    def of(self, kind: type) -> list[tuple[float, Event]]:
        """Entries whose event is of type ``kind``."""
        return [(t, e) for t, e in self.entries if isinstance(e, kind)]

    def times(self, kind: type) -> list[float]:
        """Times at which events of type ``kind`` were reported."""
        return [t for t, _ in self.of(kind)]


def within(observed: float, expected: float, n: int, sds: float = 4.0) -> bool:
    """Whether a share observed over ``n`` Bernoulli trials is within ``sds`` standard errors."""
    se = (expected * (1 - expected) / n) ** 0.5
    return abs(observed - expected) <= sds * se + 1e-12
