"""Probability distributions of durations (service, scan, travel, repair times).

A scenario writes a duration either as a plain number (a constant; ``0`` for a stage that
takes no time) or as a mapping with a ``kind``::

    service_s: 45                                   # constant 45 s
    service_s: {kind: exponential, mean: 60}
    service_s: {kind: lognormal, mean: 300, cv: 0.5}
    service_s: {kind: triangular, low: 120, mode: 180, high: 300}
    service_s: {kind: empirical, values: [30, 60, 120], weights: [5, 3, 1]}

Only parameters are described here; the twin samples them with its own seeded numpy
generators. Every distribution exposes ``mean`` and ``cv`` (coefficient of variation) so that
queueing checks (Erlang, Little, Kingman) can be made without sampling.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, BeforeValidator, Field, model_validator

from scenarios.values import FROZEN, NonNegative, Positive

KINDS = ("constant", "exponential", "lognormal", "triangular", "empirical")


class Constant(BaseModel):
    """Always the same value; ``0`` means the stage takes no time."""

    model_config = FROZEN
    kind: Literal["constant"] = "constant"
    value: NonNegative

    @property
    def mean(self) -> float:
        """The value itself."""
        return self.value

    @property
    def cv(self) -> float:
        """Zero: no variation."""
        return 0.0


class Exponential(BaseModel):
    """Memoryless times (Poisson processes): coefficient of variation 1."""

    model_config = FROZEN
    kind: Literal["exponential"]
    mean: Positive

    @property
    def cv(self) -> float:
        """Always 1 for an exponential."""
        return 1.0


class Lognormal(BaseModel):
    """Skewed human task times, given by their mean and coefficient of variation."""

    model_config = FROZEN
    kind: Literal["lognormal"]
    mean: Positive
    cv: NonNegative

    @property
    def sigma(self) -> float:
        """Standard deviation of the underlying normal (numpy's ``sigma``)."""
        return math.sqrt(math.log1p(self.cv**2))

    @property
    def mu(self) -> float:
        """Mean of the underlying normal (numpy's ``mean``), so that E[X] equals ``mean``."""
        return math.log(self.mean) - self.sigma**2 / 2


class Triangular(BaseModel):
    """Bounded times from three-point estimates (fastest, most likely, slowest)."""

    model_config = FROZEN
    kind: Literal["triangular"]
    low: NonNegative
    mode: NonNegative
    high: NonNegative

    @model_validator(mode="after")
    def _ordered(self) -> Triangular:
        if not self.low <= self.mode <= self.high:
            raise ValueError(f"needs low <= mode <= high (got {self.low:g}, {self.mode:g}, {self.high:g})")
        if self.low == self.high:
            raise ValueError(f"needs low < high; for a fixed time write the plain number {self.low:g}")
        return self

    @property
    def mean(self) -> float:
        """(low + mode + high) / 3."""
        return (self.low + self.mode + self.high) / 3

    @property
    def cv(self) -> float:
        """Standard deviation over mean."""
        a, c, b = self.low, self.mode, self.high
        variance = (a * a + b * b + c * c - a * b - a * c - b * c) / 18
        return math.sqrt(variance) / self.mean if self.mean else 0.0


class Empirical(BaseModel):
    """Observed values, drawn with the given weights (equal weights if none)."""

    model_config = FROZEN
    kind: Literal["empirical"]
    values: Annotated[tuple[NonNegative, ...], Field(min_length=1)]
    weights: tuple[NonNegative, ...] | None = None

    @model_validator(mode="after")
    def _weights_match(self) -> Empirical:
        if self.weights is not None:
            if len(self.weights) != len(self.values):
                raise ValueError(f"needs one weight per value: as many weights ({len(self.weights)}) as values ({len(self.values)})")
            if sum(self.weights) <= 0:
                raise ValueError("needs at least one positive weight in weights")
        return self

    @property
    def probabilities(self) -> tuple[float, ...]:
        """The weights normalised to sum to 1."""
        weights = self.weights if self.weights is not None else (1.0,) * len(self.values)
        total = sum(weights)
        return tuple(w / total for w in weights)

    @property
    def mean(self) -> float:
        """The weighted mean of the values."""
        return sum(v * p for v, p in zip(self.values, self.probabilities))

    @property
    def cv(self) -> float:
        """Standard deviation over mean (0 if the mean is 0)."""
        mean = self.mean
        variance = sum(p * (v - mean) ** 2 for v, p in zip(self.values, self.probabilities))
        return math.sqrt(variance) / mean if mean else 0.0


def _plain_number_is_constant(value: Any) -> Any:
    """A plain number is a constant; anything else must be a mapping with a ``kind``."""
    if isinstance(value, bool):
        raise ValueError("must be a number or a distribution mapping, not true/false")
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            raise ValueError("must be a finite number")
        return {"kind": "constant", "value": value}
    if isinstance(value, BaseModel):
        return value
    if not isinstance(value, dict):
        raise ValueError(
            "must be a number (a constant) or a mapping with a kind: " + ", ".join(KINDS)
        )
    if "kind" not in value:
        raise ValueError("needs a 'kind' (" + ", ".join(KINDS) + "), or write a plain number for a constant")
    return value


#: A duration distribution in a scenario field; see the module docstring.
Distribution = Annotated[
    Union[Constant, Exponential, Lognormal, Triangular, Empirical],
    Field(discriminator="kind"),
    BeforeValidator(_plain_number_is_constant),
]

#: The union's members, for ``isinstance`` checks.
DistributionModel = Constant | Exponential | Lognormal | Triangular | Empirical


def describe_distribution(dist: DistributionModel, unit: str = "s") -> str:
    """A short human rendering, e.g. ``lognormal mean 300 s, cv 0.5``."""
    if isinstance(dist, Constant):
        return f"{dist.value:g} {unit}"
    if isinstance(dist, Exponential):
        return f"exponential mean {dist.mean:g} {unit}"
    if isinstance(dist, Lognormal):
        return f"lognormal mean {dist.mean:g} {unit}, cv {dist.cv:g}"
    if isinstance(dist, Triangular):
        return f"triangular {dist.low:g}/{dist.mode:g}/{dist.high:g} {unit}"
    return f"empirical over {len(dist.values)} values, mean {dist.mean:.3g} {unit}"
