"""Statistics: Student-t quantiles, confidence intervals, Erlang C, time-weighted means."""

from __future__ import annotations

import math

import numpy as np
import pytest

from twin.stats import (
    erlang_c_wait,
    mean_ci,
    paired_difference,
    summarize,
    t_quantile,
    time_weighted_mean,
    welch_difference,
    window_max,
)


@pytest.mark.parametrize(
    ("confidence", "df", "published"),
    [
        (0.95, 1, 12.706),
        (0.95, 2, 4.303),
        (0.95, 4, 2.776),
        (0.95, 9, 2.262),
        (0.95, 29, 2.045),
        (0.90, 10, 1.812),
        (0.99, 5, 4.032),
        (0.99, 30, 2.750),
    ],
)
def test_t_quantiles_match_the_published_table(confidence: float, df: int, published: float) -> None:
    assert t_quantile(confidence, df) == pytest.approx(published, abs=5e-4)


def test_t_quantile_approaches_the_normal_quantile_with_many_degrees_of_freedom() -> None:
    assert t_quantile(0.95, 20_000) == pytest.approx(1.95996, abs=2e-4)


@pytest.mark.parametrize("df", [0, -3, 2.5, True])
def test_t_quantile_refuses_degrees_of_freedom_that_are_not_positive_integers(df: object) -> None:
    with pytest.raises(ValueError, match="degrees of freedom"):
        t_quantile(0.95, df)  # type: ignore[arg-type]


def test_t_quantile_refuses_a_confidence_outside_zero_and_one() -> None:
    with pytest.raises(ValueError, match="confidence"):
        t_quantile(1.0, 5)


def test_the_confidence_interval_covers_the_true_mean_about_95_percent_of_the_time() -> None:
    rng = np.random.default_rng(20240205)
    trials = 4000
    covered = 0
    for _ in range(trials):
        sample = rng.normal(10.0, 3.0, size=5)
        mean, half_width = mean_ci(sample)
        covered += abs(mean - 10.0) <= half_width
    # Binomial standard deviation at 95 % over 4000 trials is 0.0034; allow three of them.
    assert covered / trials == pytest.approx(0.95, abs=0.011)


def test_mean_ci_uses_the_t_quantile_and_the_standard_error() -> None:
    values = [4.0, 6.0, 5.0, 7.0, 3.0]
    mean, half_width = mean_ci(values)
    assert mean == 5.0
    assert half_width == pytest.approx(2.776445 * math.sqrt(2.5) / math.sqrt(5), rel=1e-6)


def test_one_replication_gives_a_mean_but_no_interval() -> None:
    mean, half_width = mean_ci([42.0])
    assert mean == 42.0
    assert math.isnan(half_width)


def test_replications_without_a_value_are_left_out_of_the_interval() -> None:
    assert mean_ci([1.0, math.nan, 3.0]) == mean_ci([1.0, 3.0])
    assert all(math.isnan(x) for x in mean_ci([]))
    assert all(math.isnan(x) for x in mean_ci([math.nan]))


def test_an_infinite_kpi_is_refused_rather_than_averaged() -> None:
    with pytest.raises(ValueError, match="infinite"):
        mean_ci([1.0, math.inf])


def test_paired_difference_cancels_the_noise_both_runs_share() -> None:
    rng = np.random.default_rng(7)
    common = rng.normal(100.0, 20.0, size=10)  # day-to-day demand both layouts see
    baseline = common + rng.normal(0.0, 0.5, size=10)
    better = common - 3.0 + rng.normal(0.0, 0.5, size=10)
    paired_mean, paired_half = paired_difference(better, baseline)
    welch_mean, welch_half = welch_difference(better, baseline)
    assert paired_mean == pytest.approx(-3.0, abs=1.0)
    assert paired_mean == pytest.approx(welch_mean)
    assert paired_half < 1.5 < welch_half


def test_paired_difference_needs_the_same_replications_on_both_sides() -> None:
    with pytest.raises(ValueError, match="same replications"):
        paired_difference([1.0, 2.0], [1.0])


def test_paired_difference_skips_pairs_with_a_missing_side() -> None:
    assert paired_difference([1.0, math.nan, 5.0], [0.0, 2.0, 1.0]) == mean_ci([1.0, 4.0])


def _erlang_c_from_the_textbook(arrival_rate: float, service_rate: float, servers: int) -> float:
    """Wq = C(c, a) / (c mu - lambda), with P0 from the explicit sum (Gross & Harris)."""
    a = arrival_rate / service_rate
    rho = a / servers
    p0 = 1.0 / (sum(a**k / math.factorial(k) for k in range(servers)) + a**servers / (math.factorial(servers) * (1 - rho)))
    wait_probability = a**servers / (math.factorial(servers) * (1 - rho)) * p0
    return wait_probability / (servers * service_rate - arrival_rate)


@pytest.mark.parametrize(("arrival_rate", "service_rate", "servers"), [(2.0, 1.25, 2), (0.5, 1.0, 1), (5.0, 1.0, 7), (40.0, 2.5, 20)])
def test_erlang_c_agrees_with_the_textbook_formula(arrival_rate: float, service_rate: float, servers: int) -> None:
    assert erlang_c_wait(arrival_rate, service_rate, servers) == pytest.approx(
        _erlang_c_from_the_textbook(arrival_rate, service_rate, servers), rel=1e-12
    )


def test_erlang_c_for_two_servers_is_the_known_value() -> None:
    # lambda = 2, mu = 1.25, c = 2: P0 = 1/9, C = 0.7111, Wq = C / (2.5 - 2) = 1.4222.
    assert erlang_c_wait(2.0, 1.25, 2) == pytest.approx(64 / 45, rel=1e-12)


def test_erlang_c_of_an_overloaded_gate_is_infinite_and_of_an_idle_one_zero() -> None:
    assert erlang_c_wait(3.0, 1.0, 3) == math.inf
    assert erlang_c_wait(0.0, 1.0, 1) == 0.0


def test_erlang_c_refuses_impossible_inputs() -> None:
    with pytest.raises(ValueError, match="servers"):
        erlang_c_wait(1.0, 1.0, 0)
    with pytest.raises(ValueError, match="service_rate"):
        erlang_c_wait(1.0, 0.0, 1)


def test_time_weighted_mean_of_a_hand_made_step_series() -> None:
    times, values = [0.0, 1.0, 3.0], [2.0, 4.0, 0.0]
    assert time_weighted_mean(times, values, 0.0, 4.0) == pytest.approx((2 * 1 + 4 * 2 + 0 * 1) / 4)
    assert time_weighted_mean(times, values, 0.5, 2.0) == pytest.approx((2 * 0.5 + 4 * 1) / 1.5)
    # The last value holds beyond the last change.
    assert time_weighted_mean(times, values, 3.0, 10.0) == 0.0
    assert window_max(times, values, 3.5, 10.0) == 0.0
    assert window_max(times, values, 0.0, 10.0) == 4.0


def test_time_weighted_mean_refuses_a_window_the_series_does_not_cover() -> None:
    with pytest.raises(ValueError, match="starts at t=1.0"):
        time_weighted_mean([1.0, 2.0], [1.0, 1.0], 0.0, 3.0)
    with pytest.raises(ValueError, match="end must be after"):
        time_weighted_mean([0.0], [1.0], 2.0, 2.0)
    with pytest.raises(ValueError, match="must not decrease"):
        time_weighted_mean([0.0, 2.0, 1.0], [1.0, 1.0, 1.0], 0.0, 3.0)


def test_summarize_ignores_missing_values_and_copes_with_none_at_all() -> None:
    stats = summarize([1.0, 2.0, 3.0, 4.0, math.nan])
    assert stats["n"] == 4
    assert stats["mean"] == 2.5
    assert stats["p50"] == 2.5
    assert stats["p95"] == pytest.approx(np.percentile([1, 2, 3, 4], 95))
    assert (stats["min"], stats["max"]) == (1.0, 4.0)
    empty = summarize([])
    assert empty["n"] == 0
    assert all(math.isnan(v) for k, v in empty.items() if k != "n")
