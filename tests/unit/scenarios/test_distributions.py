"""Duration distributions: plain numbers, parameter checks, means and spreads."""

from __future__ import annotations

import math
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from scenarios import Constant, Distribution, Empirical, Exponential, Lognormal, Triangular, validate_scenario
from scenarios.distributions import describe_distribution

ADAPTER: TypeAdapter[Any] = TypeAdapter(Distribution)


def parse(value: Any) -> Any:
    return ADAPTER.validate_python(value)


def error_text(value: Any) -> str:
    with pytest.raises(ValidationError) as caught:
        parse(value)
    return str(caught.value)


def test_a_plain_number_means_a_constant() -> None:
    assert parse(45) == Constant(value=45)
    assert parse(2.5).mean == 2.5


def test_zero_means_the_stage_takes_no_time() -> None:
    zero = parse(0)
    assert isinstance(zero, Constant) and zero.mean == 0 and zero.cv == 0


def test_a_negative_constant_is_refused() -> None:
    assert "greater than or equal to 0" in error_text(-1)


def test_true_or_false_is_not_a_duration() -> None:
    assert "not true/false" in error_text(True)


def test_text_is_not_a_duration() -> None:
    assert "mapping with a kind" in error_text("fast")


def test_a_mapping_without_kind_is_refused_with_the_kinds_listed() -> None:
    message = error_text({"mean": 3})
    assert "needs a 'kind'" in message and "lognormal" in message


def test_exponential_needs_a_positive_mean() -> None:
    assert parse({"kind": "exponential", "mean": 60}) == Exponential(kind="exponential", mean=60)
    assert "greater than 0" in error_text({"kind": "exponential", "mean": 0})


def test_exponential_has_coefficient_of_variation_one() -> None:
    assert parse({"kind": "exponential", "mean": 60}).cv == 1.0


def test_lognormal_parameters_reproduce_the_declared_mean_and_cv() -> None:
    dist = parse({"kind": "lognormal", "mean": 300, "cv": 0.5})
    assert isinstance(dist, Lognormal)
    assert math.exp(dist.mu + dist.sigma**2 / 2) == pytest.approx(300)
    assert math.sqrt(math.exp(dist.sigma**2) - 1) == pytest.approx(0.5)


def test_lognormal_refuses_a_negative_cv() -> None:
    assert "greater than or equal to 0" in error_text({"kind": "lognormal", "mean": 300, "cv": -0.1})


def test_triangular_mean_and_cv_follow_the_three_points() -> None:
    dist = parse({"kind": "triangular", "low": 0, "mode": 0, "high": 3})
    assert isinstance(dist, Triangular)
    assert dist.mean == 1.0
    assert dist.cv == pytest.approx(math.sqrt(0.5))


def test_triangular_needs_low_mode_high_in_order() -> None:
    assert "low <= mode <= high" in error_text({"kind": "triangular", "low": 5, "mode": 1, "high": 3})


def test_a_triangular_with_no_spread_asks_for_a_plain_number() -> None:
    assert "plain number 4" in error_text({"kind": "triangular", "low": 4, "mode": 4, "high": 4})


def test_empirical_without_weights_draws_values_equally() -> None:
    dist = parse({"kind": "empirical", "values": [10, 20, 60]})
    assert isinstance(dist, Empirical)
    assert dist.probabilities == pytest.approx((1 / 3, 1 / 3, 1 / 3))
    assert dist.mean == pytest.approx(30)


def test_empirical_weights_are_normalised_into_the_mean() -> None:
    dist = parse({"kind": "empirical", "values": [10, 20], "weights": [3, 1]})
    assert dist.probabilities == pytest.approx((0.75, 0.25))
    assert dist.mean == pytest.approx(12.5)
    assert dist.cv == pytest.approx(math.sqrt(0.75 * 2.5**2 + 0.25 * 7.5**2) / 12.5)


def test_empirical_needs_one_weight_per_value() -> None:
    assert "one weight per value" in error_text({"kind": "empirical", "values": [1, 2], "weights": [1]})


def test_empirical_needs_a_positive_weight() -> None:
    assert "positive weight" in error_text({"kind": "empirical", "values": [1, 2], "weights": [0, 0]})


def test_empirical_needs_at_least_one_value() -> None:
    assert "at least 1 item" in error_text({"kind": "empirical", "values": []})


def test_an_unknown_kind_is_refused() -> None:
    assert "does not match any of the expected tags" in error_text({"kind": "weibull", "shape": 2})


def test_distribution_parameters_reject_unknown_fields() -> None:
    assert "Extra inputs" in error_text({"kind": "exponential", "mean": 3, "rate": 2})


def test_a_plain_number_in_a_scenario_file_becomes_a_constant(minimal: dict[str, Any]) -> None:
    minimal["agencies"] = {"customs": {"officers": 2, "service_s": 90}}
    scenario = validate_scenario(minimal)
    assert scenario.agencies.customs.service_s == Constant(value=90)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (12, "12 s"),
        ({"kind": "exponential", "mean": 60}, "exponential mean 60 s"),
        ({"kind": "lognormal", "mean": 300, "cv": 0.5}, "lognormal mean 300 s, cv 0.5"),
        ({"kind": "triangular", "low": 1, "mode": 2, "high": 4}, "triangular 1/2/4 s"),
        ({"kind": "empirical", "values": [1, 3]}, "empirical over 2 values, mean 2 s"),
    ],
)
def test_each_distribution_has_a_short_description(value: Any, text: str) -> None:
    assert describe_distribution(parse(value)) == text
