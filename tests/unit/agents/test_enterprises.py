"""Enterprises as declarants: who sends the trucks, their errors, amendments and compliance record."""

from __future__ import annotations

import numpy as np
import pytest

from agents.enterprises import HOUR, allocate
from gate.enums import GoodsCategory
from tests.unit.agents.support import population

FRUIT, GENERAL = GoodsCategory.PLANTS_FRUIT, GoodsCategory.GENERAL


def test_a_returned_declaration_is_awaited_until_its_enterprise_s_delay_has_passed() -> None:
    people = population()
    enterprise = people.enterprises[3]
    delay = people.amendment_delay_s(enterprise, now=1000.0)
    assert delay == pytest.approx(enterprise.amend_mean_s), "amend_cv 0: the enterprise's own habit, exactly"
    assert enterprise.amendments == 1
    assert people.awaiting_amendment(1000.0 + delay - 1.0) == 1
    assert people.awaiting_amendment(1000.0 + delay) == 0


def test_amendment_delays_spread_around_the_enterprise_s_habit() -> None:
    people = population(amend_cv=0.5)
    enterprise = people.enterprises[0]
    delays = np.array([people.amendment_delay_s(enterprise, 0.0) for _ in range(4000)])
    assert delays.mean() == pytest.approx(enterprise.amend_mean_s, rel=0.05)
    assert delays.std() / delays.mean() == pytest.approx(0.5, rel=0.1)


def test_slow_and_quick_enterprises_amend_at_their_own_pace() -> None:
    people = population()
    slow = max(people.enterprises, key=lambda e: e.amend_mean_s)
    quick = min(people.enterprises, key=lambda e: e.amend_mean_s)
    assert slow.amend_mean_s > quick.amend_mean_s
    assert people.amendment_delay_s(slow, 0.0) > people.amendment_delay_s(quick, 0.0)


def test_the_declarations_awaiting_amendment_are_sampled_into_the_collector() -> None:
    people = population()
    people.on_returned(people.enterprises[0], 0.0)
    delay = people.amendment_delay_s(people.enterprises[0], 0.0)
    people.observe(delay / 2)
    people.observe(delay + 1.0)
    frame = people.collector.get_model_vars_dataframe()
    assert frame["declarations_awaiting_amendment"].tolist() == [1, 0]
    assert frame["returns_so_far"].tolist() == [1, 1]
    assert frame["time_h"].tolist() == pytest.approx([delay / 2 / HOUR, (delay + 1.0) / HOUR])


def test_large_enterprises_send_most_of_the_trucks_in_proportion_to_their_volume() -> None:
    people = population()
    fruit = [e for e in people.enterprises if e.cargo is FRUIT]
    draws = [people.sender(FRUIT) for _ in range(20_000)]
    assert all(e.cargo is FRUIT for e in draws)
    largest = max(fruit, key=lambda e: e.volume)
    expected = largest.volume / sum(e.volume for e in fruit)
    assert sum(e is largest for e in draws) / len(draws) == pytest.approx(expected, rel=0.1)


def test_nobody_sends_a_cargo_outside_the_mix() -> None:
    with pytest.raises(ValueError, match="nobody trades ore"):
        population().sender(GoodsCategory.ORE)


def test_every_traded_cargo_gets_enterprises_in_proportion_to_its_share() -> None:
    assert allocate(10, {FRUIT: 0.35, GENERAL: 0.65}) == {FRUIT: 4, GENERAL: 6}
    assert allocate(1, {FRUIT: 0.5, GENERAL: 0.5, GoodsCategory.ORE: 0.0}) == {FRUIT: 1, GENERAL: 1}


def test_an_enterprise_declares_its_habitual_lead_before_the_trip_and_errs_at_its_own_rate() -> None:
    people = population()
    careful = min(people.enterprises, key=lambda e: e.error_rate)
    careless = max(people.enterprises, key=lambda e: e.error_rate)
    trips = [people.plan_trip(careless, 10 * HOUR) for _ in range(4000)]
    assert {t.declare_at_s for t in trips} == {10 * HOUR - careless.lead_h * HOUR}
    wrong = np.mean([t.error != "" for t in trips])
    assert wrong == pytest.approx(careless.error_rate, abs=0.03)
    assert {t.error for t in trips} <= {"", "papers", "goods"}
    assert careless.error_rate > careful.error_rate


def test_a_past_record_scores_careless_enterprises_lower() -> None:
    people = population(history_days=365.0, trucks_per_day=500.0, error_rate=0.1, error_concentration=5.0)
    scores = people.compliance_scores()
    assert set(scores) == {e.enterprise_id for e in people.enterprises}
    assert all(0.0 <= s <= 1.0 for s in scores.values())
    rates = np.array([e.error_rate for e in people.enterprises])
    values = np.array([scores[e.enterprise_id] for e in people.enterprises])
    assert np.corrcoef(rates, values)[0, 1] < -0.8


def test_no_record_is_seeded_without_history() -> None:
    assert population().compliance_scores() == {}


def test_a_population_too_large_for_its_tax_codes_is_refused_up_front_naming_the_count() -> None:
    with pytest.raises(ValueError, match=r"count: at most 1,000,000 enterprises \(got 2,000,000\)"):
        population(count=2_000_000)
    # The tax codes of the largest population allowed all have ten digits.
    with pytest.raises(ValueError, match=r"tax codes .* run past ten digits"):
        population(count=3, id_base=9_999_990_000)
