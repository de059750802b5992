"""Statistics for the twin's results: summaries, confidence intervals, queueing references.

Everything here is a pure function over numbers. Confidence intervals over replications use
Student's t; its quantile is computed here from the closed-form distribution function for
integer degrees of freedom (Abramowitz & Stegun 26.7.3-4), inverted by bisection, so the
results layer needs numpy only. NaN values mean "not measured in that replication" (e.g. no
truck departed, so no time at the gate) and are left out rather than poisoning a mean.

An interval of a quantity with a natural range (a share lies in [0, 1], a count or a time is
never negative) is mean ± t·s/√n cut to that range (``Interval``): the mean is left as it is,
so a cut interval is no longer symmetric about it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: Percentiles reported for distributions over trucks.
PERCENTILES: tuple[int, ...] = (50, 90, 95)
#: The range of a quantity with no natural bounds.
UNBOUNDED: tuple[float, float] = (-math.inf, math.inf)
#: Fewest replications whose intervals are shown without a warning. With 2, Student's t has a
#: single degree of freedom (t = 12.7 at 95 %) and the spread is read from one difference, so
#: an interval may be far too wide or, when the two happen to agree, far too narrow.
TRUSTED_REPLICATIONS = 3


def summarize(values: np.ndarray | Sequence[float]) -> dict[str, float]:
    """Count, mean, median, 90th and 95th percentile, min and max of ``values``.

    NaN entries are ignored; ``n`` counts the rest. With nothing left, every statistic but
    ``n`` is NaN. ``n`` is returned as a float-compatible int so the dict is all numbers.
    """
    data = np.asarray(values, dtype=float).ravel()
    data = data[~np.isnan(data)]
    result: dict[str, float] = {"n": int(data.size)}
    if data.size == 0:
        result.update({"mean": math.nan, "min": math.nan, "max": math.nan})
        result.update({f"p{p}": math.nan for p in PERCENTILES})
        return result
    result["mean"] = float(data.mean())
    for p, value in zip(PERCENTILES, np.percentile(data, PERCENTILES), strict=True):
        result[f"p{p}"] = float(value)
    result["min"] = float(data.min())
    result["max"] = float(data.max())
    return result


def _t_two_sided_probability(theta: float, df: int) -> float:
    """P(|T| <= sqrt(df) * tan(theta)) for Student's t with integer ``df`` (A&S 26.7.3-4)."""
    c2 = math.cos(theta) ** 2
    if df % 2 == 1:
        total = 0.0
        if df > 1:
            # 1 + (2/3) c^2 + (2*4)/(3*5) c^4 + ... up to the c^(df-3) term.
            term = 1.0
            total = 1.0
            for k in range(1, (df - 3) // 2 + 1):
                term *= (2 * k) / (2 * k + 1) * c2
                total += term
        return 2.0 / math.pi * (theta + math.sin(theta) * math.cos(theta) * total)
    # Even df: sin(theta) * (1 + (1/2) c^2 + (1*3)/(2*4) c^4 + ... up to the c^(df-2) term).
    term = 1.0
    total = 1.0
    for k in range(1, (df - 2) // 2 + 1):
        term *= (2 * k - 1) / (2 * k) * c2
        total += term
    return math.sin(theta) * total


def t_quantile(confidence: float, df: int) -> float:
    """The two-sided critical value of Student's t: P(|T| <= t) = ``confidence``.

    For ``confidence=0.95`` this is the familiar t_0.975 (12.706 with 1 degree of freedom,
    2.262 with 9, 1.960 in the limit).
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"t_quantile: confidence must be strictly between 0 and 1 (got {confidence})")
    if isinstance(df, bool) or not isinstance(df, (int, np.integer)) or df < 1:
        raise ValueError(f"t_quantile: degrees of freedom must be a positive integer (got {df!r})")
    df = int(df)
    # The probability is increasing in theta on [0, pi/2); bisect to machine precision.
    low, high = 0.0, math.pi / 2
    for _ in range(200):
        middle = 0.5 * (low + high)
        if middle in (low, high):
            break
        if _t_two_sided_probability(middle, df) < confidence:
            low = middle
        else:
            high = middle
    return math.sqrt(df) * math.tan(0.5 * (low + high))


def _finite(values: Sequence[float] | np.ndarray, name: str) -> np.ndarray:
    data = np.asarray(values, dtype=float).ravel()
    if np.isinf(data).any():
        raise ValueError(f"{name}: values must be finite or NaN (got an infinite value)")
    return data


def mean_ci(per_replication: Sequence[float] | np.ndarray, confidence: float = 0.95) -> tuple[float, float]:
    """Mean over replications and the half width of its Student-t confidence interval.

    NaN replications are left out. With no value the result is (NaN, NaN); with one value the
    mean is that value and the half width is NaN (one replication says nothing about spread).
    """
    data = _finite(per_replication, "mean_ci")
    data = data[~np.isnan(data)]
    if data.size == 0:
        return math.nan, math.nan
    if data.size > 1 and bool((data == data[0]).all()):
        # Every replication agrees: exactly that value and no spread (a sum of equal values
        # divided back can miss it by a rounding error, which would read as a tiny interval).
        return float(data[0]), 0.0
    mean = float(data.mean())
    if data.size == 1:
        return mean, math.nan
    std_error = float(data.std(ddof=1)) / math.sqrt(data.size)
    return mean, t_quantile(confidence, data.size - 1) * std_error


def clip_interval(mean: float, half_width: float, limits: tuple[float, float] = UNBOUNDED) -> tuple[float, float]:
    """The bounds ``mean`` ± ``half_width``, each cut to ``limits``, the quantity's natural range
    ((0, 1) for a share, (0, inf) for a count or a time). A bound is never cut past the mean
    (a mean outside ``limits`` keeps it inside its interval). (NaN, NaN) without an interval."""
    if math.isnan(mean) or math.isnan(half_width):
        return math.nan, math.nan
    low_limit, high_limit = limits
    return max(mean - half_width, min(low_limit, mean)), min(mean + half_width, max(high_limit, mean))


def too_few_replications(n: int) -> bool:
    """Whether an interval over ``n`` replications rests on too few to plan on (there is one, but
    over fewer than ``TRUSTED_REPLICATIONS``): it is shown with a warning."""
    return 1 < n < TRUSTED_REPLICATIONS


@dataclass(frozen=True)
class Interval:
    """A mean over replications and its confidence interval.

    ``half_width`` is Student's t·s/√n; ``low`` and ``high`` are the mean ± that, cut to the
    quantity's natural range (``clip_interval``), so they need not be symmetric about the mean.
    ``n`` counts the replications measured. With one there is no interval: ``half_width``,
    ``low`` and ``high`` are NaN. When every replication gave the same value the half width is 0.
    """

    mean: float
    half_width: float
    low: float
    high: float
    n: int

    @classmethod
    def of(cls, per_replication: Sequence[float] | np.ndarray, limits: tuple[float, float] = UNBOUNDED,
           confidence: float = 0.95) -> Interval:
        """The interval of the values of a quantity in each replication (NaN: not measured there)."""
        mean, half_width = mean_ci(per_replication, confidence)
        n = int(np.count_nonzero(~np.isnan(np.asarray(per_replication, dtype=float))))
        return cls(mean, half_width, *clip_interval(mean, half_width, limits), n)

    @classmethod
    def symmetric(cls, mean: float, half_width: float, n: int = 0) -> Interval:
        """``mean`` ± ``half_width`` uncut, as for a difference between runs, which may have either sign."""
        return cls(mean, half_width, *clip_interval(mean, half_width), n)

    def scaled(self, factor: float) -> Interval:
        """The same interval in another unit (``factor`` > 0), e.g. VND in millions."""
        return Interval(self.mean * factor, self.half_width * factor, self.low * factor, self.high * factor, self.n)

    @property
    def agreed(self) -> bool:
        """Whether every replication gave the same value (so the interval has no width)."""
        return self.half_width == 0.0 and not math.isnan(self.mean)

    @property
    def cut(self) -> bool:
        """Whether the natural range cut a bound, so the interval is not mean ± half width."""
        return self.low > self.mean - self.half_width or self.high < self.mean + self.half_width


def paired_difference(
    a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray, confidence: float = 0.95
) -> tuple[float, float]:
    """Mean of ``a - b`` over paired replications and its confidence half width.

    Replication i of ``a`` and of ``b`` must share a seed (common random numbers), so the
    difference cancels the noise both runs see. A pair with NaN on either side is left out.
    """
    left = _finite(a, "paired_difference")
    right = _finite(b, "paired_difference")
    if left.size != right.size:
        raise ValueError(f"paired_difference: both runs need the same replications (got {left.size} and {right.size})")
    return mean_ci(left - right, confidence)


def welch_difference(
    a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray, confidence: float = 0.95
) -> tuple[float, float]:
    """Mean of ``a`` minus mean of ``b`` for independent runs (different seeds), Welch's interval.

    The Welch-Satterthwaite degrees of freedom are rounded down, which widens the interval a
    little rather than claiming precision the data do not give.
    """
    left = _finite(a, "welch_difference")
    right = _finite(b, "welch_difference")
    left = left[~np.isnan(left)]
    right = right[~np.isnan(right)]
    if left.size == 0 or right.size == 0:
        return math.nan, math.nan
    difference = float(left.mean() - right.mean())
    if left.size < 2 or right.size < 2:
        return difference, math.nan
    var_left = float(left.var(ddof=1)) / left.size
    var_right = float(right.var(ddof=1)) / right.size
    spread = var_left + var_right
    if spread == 0.0:
        return difference, 0.0
    df = spread**2 / (var_left**2 / (left.size - 1) + var_right**2 / (right.size - 1))
    return difference, t_quantile(confidence, max(1, int(math.floor(df)))) * math.sqrt(spread)


def erlang_c_wait(arrival_rate: float, service_rate: float, servers: int) -> float:
    """Mean time in queue Wq of an M/M/c queue (Erlang C), in the rates' time unit.

    ``service_rate`` is per server. An overloaded queue (arrival rate at or above the total
    service rate) has no steady state: the result is infinity.
    """
    if arrival_rate < 0 or not math.isfinite(arrival_rate):
        raise ValueError(f"erlang_c_wait: arrival_rate must be finite and >= 0 (got {arrival_rate})")
    if service_rate <= 0 or not math.isfinite(service_rate):
        raise ValueError(f"erlang_c_wait: service_rate must be finite and > 0 (got {service_rate})")
    if isinstance(servers, bool) or not isinstance(servers, (int, np.integer)) or servers < 1:
        raise ValueError(f"erlang_c_wait: servers must be a positive integer (got {servers!r})")
    if arrival_rate == 0:
        return 0.0
    offered = arrival_rate / service_rate
    occupancy = offered / servers
    if occupancy >= 1:
        return math.inf
    # Erlang B by its recurrence (stable for many servers), then Erlang C from B.
    blocking = 1.0
    for k in range(1, int(servers) + 1):
        blocking = offered * blocking / (k + offered * blocking)
    wait_probability = blocking / (1 - occupancy * (1 - blocking))
    return wait_probability / (servers * service_rate - arrival_rate)


def _window_indices(times: np.ndarray, start: float, end: float, what: str) -> tuple[int, int]:
    """Indices [i0, i1) of the step values that hold somewhere inside [start, end)."""
    if not end > start:
        raise ValueError(f"{what}: the window end must be after its start (got start={start}, end={end})")
    if times.size == 0:
        raise ValueError(f"{what}: the series is empty")
    if start < times[0]:
        raise ValueError(f"{what}: the series starts at t={times[0]}, after the window start t={start}")
    first = int(np.searchsorted(times, start, side="right")) - 1
    stop = int(np.searchsorted(times, end, side="left"))
    return first, stop


def _checked_series(times: np.ndarray | Sequence[float], values: np.ndarray | Sequence[float], what: str) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(times, dtype=float)
    v = np.asarray(values, dtype=float)
    if t.shape != v.shape or t.ndim != 1:
        raise ValueError(f"{what}: times and values must be 1-D of equal length (got {t.shape} and {v.shape})")
    if t.size > 1 and bool((np.diff(t) < 0).any()):
        raise ValueError(f"{what}: times must not decrease")
    return t, v


def time_weighted_mean(
    times: np.ndarray | Sequence[float], values: np.ndarray | Sequence[float], start: float, end: float
) -> float:
    """Time-weighted mean over [start, end] of a step series.

    ``values[i]`` holds from ``times[i]`` until the next change; the last value holds to the
    end of the window. The series must begin at or before ``start``.
    """
    return time_integral(times, values, start, end) / (end - start)


def window_max(times: np.ndarray | Sequence[float], values: np.ndarray | Sequence[float], start: float, end: float) -> float:
    """Largest value a step series takes anywhere in [start, end]."""
    t, v = _checked_series(times, values, "window_max")
    first, stop = _window_indices(t, start, end, "window_max")
    return float(v[first:stop].max())


def time_integral(times: np.ndarray | Sequence[float], values: np.ndarray | Sequence[float], start: float, end: float) -> float:
    """Integral over [start, end] of a step series (value x time); same rules as the mean."""
    t, v = _checked_series(times, values, "time_integral")
    first, stop = _window_indices(t, start, end, "time_integral")
    edges = np.concatenate(([start], t[first + 1 : stop], [end]))
    return float(np.dot(np.diff(edges), v[first:stop]))
