"""Named random streams and samplers, all from one seed.

Every source of randomness in a run gets its own ``numpy.random.Generator``, derived from
``SeedSequence(entropy=seed, spawn_key=(replication, crc32(name)))``. A stream depends only on
the seed, the replication and its *name* — never on how many other streams exist — so adding a
second scanner to a layout leaves the arrivals, the trucks and every other device's draws as
they were (common random numbers when comparing layouts).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

import numpy as np

from scenarios.distributions import Constant, Empirical, Exponential, Lognormal, Triangular

Sampler = Callable[[], float]


class Streams:
    """The random streams of one replication."""

    def __init__(self, seed: int, replication: int) -> None:
        self.seed = seed
        self.replication = replication
        self._made: dict[str, np.random.Generator] = {}

    def get(self, name: str) -> np.random.Generator:
        """The stream called ``name`` (the same object on every call)."""
        rng = self._made.get(name)
        if rng is None:
            key = zlib.crc32(name.encode("utf-8"))
            seq = np.random.SeedSequence(entropy=self.seed, spawn_key=(self.replication, key))
            rng = np.random.Generator(np.random.PCG64(seq))
            self._made[name] = rng
        return rng


def sampler(dist: object, rng: np.random.Generator, scale: float = 1.0) -> Sampler:
    """A zero-argument function drawing from a scenario distribution (times ``scale``)."""
    if isinstance(dist, (int, float)):
        value = float(dist) * scale
        return lambda: value
    if isinstance(dist, Constant):
        value = float(dist.value) * scale
        return lambda: value
    if isinstance(dist, Exponential):
        mean = float(dist.mean) * scale
        if mean == 0:
            return lambda: 0.0
        return lambda: float(rng.exponential(mean))
    if isinstance(dist, Lognormal):
        if dist.mean == 0:
            return lambda: 0.0
        if dist.cv == 0:
            value = float(dist.mean) * scale
            return lambda: value
        mu, sigma = float(dist.mu), float(dist.sigma)
        return lambda: float(rng.lognormal(mu, sigma)) * scale
    if isinstance(dist, Triangular):
        low, mode, high = float(dist.low) * scale, float(dist.mode) * scale, float(dist.high) * scale
        if low == high:
            return lambda: low
        return lambda: float(rng.triangular(low, mode, high))
    if isinstance(dist, Empirical):
        values = np.asarray(dist.values, dtype=float) * scale
        probabilities = np.asarray(dist.probabilities, dtype=float)
        return lambda: float(values[rng.choice(len(values), p=probabilities)])
    raise TypeError(f"not a scenario distribution: {dist!r}")
