"""Customs selectivity: keyed draws, channel shares, rules and the compliance ledger."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import pytest

from gate.config import RiskConfig, RiskRule
from gate.declaration import Declaration
from gate.enums import Channel, GoodsCategory
from gate.risk import (
    EXPECTED_RATE_SELECTION,
    RANDOM_SELECTION,
    ComplianceLedger,
    assess_channel,
    channel_max,
    selection_draw,
    upgrade,
)
from tests.unit.test_declaration import goods_line, parsed

SAMPLE = 20_000
UNTRUSTED = 0.8
TRUSTED = 0.95

NO_RULES = RiskConfig(rules=())


def general_goods(declaration_id: str, **overrides: Any) -> Declaration:
    """A truck of general goods from China: matches none of the default rules."""
    fields: dict[str, Any] = {"vehicle_class": "truck", "containers": [], "goods": [goods_line()]}
    fields.update(overrides)
    return parsed(declaration_id=declaration_id, **fields)


def _channel_of(draw: float, red: float, yellow: float) -> Channel:
    if draw < red:
        return Channel.RED
    return Channel.YELLOW if draw < red + yellow else Channel.GREEN


def _assert_binomial(count: int, n: int, p: float, what: str) -> None:
    """``count`` successes in ``n`` trials lies within 4 standard deviations of ``n * p``."""
    sigma = math.sqrt(n * p * (1 - p))
    assert abs(count - n * p) <= 4 * sigma, f"{what}: {count} of {n}, expected {n * p:.0f} +- {4 * sigma:.0f}"


# ---- the draw -------------------------------------------------------------------------------


def test_the_same_declaration_id_and_key_always_give_the_same_draw() -> None:
    assert selection_draw("DEC-2025-000123", "key") == selection_draw("DEC-2025-000123", "key")


def test_draws_lie_in_the_unit_interval_and_are_uniform() -> None:
    draws = [selection_draw(f"DEC-{i:06d}", "gatetwin-selectivity") for i in range(SAMPLE)]
    assert all(0.0 <= d < 1.0 for d in draws)
    deciles = Counter(int(d * 10) for d in draws)
    for decile in range(10):
        _assert_binomial(deciles[decile], SAMPLE, 0.1, f"decile {decile}")


def test_draws_of_consecutive_ids_are_uncorrelated() -> None:
    draws = [selection_draw(f"DEC-{i:06d}", "gatetwin-selectivity") for i in range(SAMPLE)]
    centred = [d - 0.5 for d in draws]
    lag_one = sum(a * b for a, b in zip(centred, centred[1:])) / (len(centred) - 1)
    # Under independence the lag-1 covariance has mean 0 and sd (1/12) / sqrt(n).
    assert abs(lag_one) <= 4 * (1 / 12) / math.sqrt(SAMPLE - 1)


def test_another_key_gives_other_draws() -> None:
    ids = [f"DEC-{i:06d}" for i in range(1000)]
    same = sum(selection_draw(i, "site-key-a") == selection_draw(i, "site-key-b") for i in ids)
    assert same == 0


def test_another_key_moves_declarations_between_channels() -> None:
    ids = [f"DEC-{i:06d}" for i in range(2000)]
    key_a, key_b = RiskConfig(rules=(), selection_key="site-key-a"), RiskConfig(rules=(), selection_key="site-key-b")
    moved = 0
    for declaration_id in ids:
        declaration = general_goods(declaration_id)
        a = assess_channel(declaration, key_a, UNTRUSTED).channel
        b = assess_channel(declaration, key_b, UNTRUSTED).channel
        moved += a is not b
    # Independent draws disagree with probability 1 - (0.55^2 + 0.40^2 + 0.05^2) = 0.535.
    _assert_binomial(moved, len(ids), 0.535, "declarations whose channel the key changed")


# ---- channel shares -------------------------------------------------------------------------


def _shares(config: RiskConfig, compliance: float) -> Counter[Channel]:
    """Channels assess_channel gives SAMPLE synthetic declarations that differ only by id."""
    # Validating 20,000 declarations would dominate the run time; the id is all that varies.
    template = general_goods("SYN-000000")
    return Counter(
        assess_channel(template.model_copy(update={"declaration_id": f"SYN-{i:06d}"}), config, compliance).channel
        for i in range(SAMPLE)
    )


def test_assess_channel_selects_exactly_by_the_draw_against_the_configured_rates() -> None:
    for i in range(300):
        declaration = general_goods(f"SYN-{i:06d}")
        draw = selection_draw(declaration.declaration_id, NO_RULES.selection_key)
        untrusted = assess_channel(declaration, NO_RULES, UNTRUSTED)
        trusted = assess_channel(declaration, NO_RULES, TRUSTED)
        assert untrusted.draw == trusted.draw == draw
        assert untrusted.channel is _channel_of(draw, NO_RULES.expected_red, NO_RULES.expected_yellow)
        assert trusted.channel is _channel_of(draw, NO_RULES.min_random_red, NO_RULES.min_random_yellow)


@pytest.mark.parametrize(
    "config",
    [RiskConfig(rules=()), RiskConfig(rules=(), expected_red=0.20, expected_yellow=0.35, selection_key="lang-son")],
    ids=["national", "lang-son-2021"],
)
def test_untrusted_declarants_get_the_expected_channel_shares(config: RiskConfig) -> None:
    shares = _shares(config, UNTRUSTED)
    _assert_binomial(shares[Channel.RED], SAMPLE, config.expected_red, "red")
    _assert_binomial(shares[Channel.YELLOW], SAMPLE, config.expected_yellow, "yellow")
    _assert_binomial(shares[Channel.GREEN], SAMPLE, 1 - config.expected_red - config.expected_yellow, "green")


def test_trusted_declarants_get_only_the_minimum_random_shares() -> None:
    shares = _shares(NO_RULES, TRUSTED)
    _assert_binomial(shares[Channel.RED], SAMPLE, NO_RULES.min_random_red, "red")
    _assert_binomial(shares[Channel.YELLOW], SAMPLE, NO_RULES.min_random_yellow, "yellow")
    green = 1 - NO_RULES.min_random_red - NO_RULES.min_random_yellow
    _assert_binomial(shares[Channel.GREEN], SAMPLE, green, "green")


def test_trust_starts_exactly_at_the_trusted_compliance_score() -> None:
    declaration = general_goods("DEC-2025-000123")
    assert assess_channel(declaration, NO_RULES, NO_RULES.trusted_compliance).reasons == (RANDOM_SELECTION,)
    just_below = math.nextafter(NO_RULES.trusted_compliance, 0)
    assert assess_channel(declaration, NO_RULES, just_below).reasons == (EXPECTED_RATE_SELECTION,)


# ---- determinism and amendment ---------------------------------------------------------------


def test_the_same_declaration_id_decides_the_same_channel_every_time() -> None:
    config = RiskConfig()
    decisions = {assess_channel(general_goods(f"DEC-{i:06d}"), config, UNTRUSTED) for i in range(50)}
    again = {assess_channel(general_goods(f"DEC-{i:06d}"), config, UNTRUSTED) for i in range(50)}
    assert decisions == again


def test_amending_a_declaration_keeps_its_draw_and_channel() -> None:
    config = RiskConfig()
    for i in range(200):
        original = general_goods(f"DEC-{i:06d}")
        amended = general_goods(
            f"DEC-{i:06d}", version=2, declared_gross_kg=25_000, goods=[goods_line(description="printer parts")]
        )
        first, second = assess_channel(original, config, UNTRUSTED), assess_channel(amended, config, UNTRUSTED)
        assert (second.draw, second.channel) == (first.draw, first.channel)


# ---- rules ----------------------------------------------------------------------------------

PIGS = goods_line(hs_code="0103", description="live pigs", category="live_animals", origin="VN")


def _find_id(channel: Channel, config: RiskConfig, compliance: float) -> Declaration:
    """A general-goods declaration whose selection alone puts it in ``channel``."""
    for i in range(1000):
        declaration = general_goods(f"FIND-{i:04d}")
        if assess_channel(declaration, config, compliance).channel is channel:
            return declaration
    raise AssertionError(f"no id selected {channel.value} in 1000 tries")


def test_a_matching_rule_raises_the_channel_and_is_named_in_the_reasons() -> None:
    green = _find_id(Channel.GREEN, NO_RULES, UNTRUSTED)
    pigs = general_goods(green.declaration_id, goods=[PIGS])
    decision = assess_channel(pigs, RiskConfig(), UNTRUSTED)
    assert decision.channel is Channel.YELLOW
    assert decision.reasons == (EXPECTED_RATE_SELECTION, "rule: live animals")


def test_a_rule_never_lowers_a_channel() -> None:
    red = _find_id(Channel.RED, NO_RULES, UNTRUSTED)
    green_rule = RiskConfig(rules=(RiskRule(name="all goods", channel=Channel.GREEN),))
    yellow_rule = RiskConfig(rules=(RiskRule(name="general goods", channel=Channel.YELLOW, when_category=GoodsCategory.GENERAL),))
    for config in (green_rule, yellow_rule):
        decision = assess_channel(red, config, UNTRUSTED)
        assert decision.channel is Channel.RED
        assert decision.reasons == (EXPECTED_RATE_SELECTION,)


def test_poor_compliance_sends_a_declaration_to_red() -> None:
    green = _find_id(Channel.GREEN, NO_RULES, 0.3)
    decision = assess_channel(green, RiskConfig(), 0.3)
    assert decision.channel is Channel.RED
    assert decision.reasons == (EXPECTED_RATE_SELECTION, "rule: poor compliance")
    assert assess_channel(green, RiskConfig(), 0.5).channel is Channel.GREEN  # "below" is strict


def test_a_rule_with_two_conditions_needs_both() -> None:
    rule = RiskRule(name="fruit from CN", channel=Channel.RED, when_category=GoodsCategory.PLANTS_FRUIT, when_origin="CN")
    config = RiskConfig(rules=(rule,))
    green = _find_id(Channel.GREEN, config, UNTRUSTED)

    def with_goods(*lines: dict[str, Any]) -> Declaration:
        return general_goods(green.declaration_id, goods=list(lines))

    fruit = {"hs_code": "0810", "description": "lychee", "category": "plants_fruit"}
    assert assess_channel(with_goods(goods_line(**fruit, origin="CN")), config, UNTRUSTED).channel is Channel.RED
    assert assess_channel(with_goods(goods_line(**fruit, origin="VN")), config, UNTRUSTED).channel is Channel.GREEN
    assert assess_channel(with_goods(goods_line(origin="CN")), config, UNTRUSTED).channel is Channel.GREEN
    # The conditions may hold on different lines of a mixed load: any line of each.
    mixed = with_goods(goods_line(**fruit, origin="VN"), goods_line(origin="CN"))
    assert assess_channel(mixed, config, UNTRUSTED).channel is Channel.RED


def test_declarant_and_origin_rules_match_their_values() -> None:
    green = _find_id(Channel.GREEN, NO_RULES, UNTRUSTED)
    watched = RiskConfig(rules=(RiskRule(name="watch list", channel=Channel.YELLOW, when_declarant="0101234567"),))
    other = RiskConfig(rules=(RiskRule(name="watch list", channel=Channel.YELLOW, when_declarant="0109999999"),))
    assert assess_channel(green, watched, UNTRUSTED).channel is Channel.YELLOW
    assert assess_channel(green, other, UNTRUSTED).channel is Channel.GREEN
    lower_case_origin = RiskConfig(rules=(RiskRule(name="from CN", channel=Channel.YELLOW, when_origin="cn"),))
    assert assess_channel(green, lower_case_origin, UNTRUSTED).channel is Channel.YELLOW


def test_every_rule_that_raises_the_channel_is_named_in_order() -> None:
    green = _find_id(Channel.GREEN, NO_RULES, UNTRUSTED)
    rules = (
        RiskRule(name="general goods", channel=Channel.YELLOW, when_category=GoodsCategory.GENERAL),
        RiskRule(name="from CN", channel=Channel.RED, when_origin="CN"),
        RiskRule(name="also general", channel=Channel.YELLOW, when_category=GoodsCategory.GENERAL),
    )
    decision = assess_channel(green, RiskConfig(rules=rules), UNTRUSTED)
    assert decision.channel is Channel.RED
    assert decision.reasons == (EXPECTED_RATE_SELECTION, "rule: general goods", "rule: from CN")


def test_a_compliance_score_outside_the_unit_interval_is_refused_with_the_declaration_named() -> None:
    with pytest.raises(ValueError, match="DEC-2025-000123.*compliance"):
        assess_channel(general_goods("DEC-2025-000123"), RiskConfig(), 1.5)


# ---- channel order --------------------------------------------------------------------------


def test_upgrading_goes_green_to_yellow_to_red_and_red_stays_red() -> None:
    assert upgrade(Channel.GREEN) is Channel.YELLOW
    assert upgrade(Channel.YELLOW) is Channel.RED
    assert upgrade(Channel.RED) is Channel.RED


@pytest.mark.parametrize("a", list(Channel))
@pytest.mark.parametrize("b", list(Channel))
def test_channel_max_is_the_stricter_channel_whichever_the_order(a: Channel, b: Channel) -> None:
    order = [Channel.GREEN, Channel.YELLOW, Channel.RED]
    expected = order[max(order.index(a), order.index(b))]
    assert channel_max(a, b) is expected
    assert channel_max(b, a) is expected


# ---- the compliance ledger ------------------------------------------------------------------


def test_a_declarant_without_history_scores_its_prior() -> None:
    config = RiskConfig(compliance={"0101234567": 0.95}, default_compliance=0.7)
    ledger = ComplianceLedger(config)
    assert ledger.score("0101234567") == pytest.approx(0.95)
    assert ledger.score("0309999999") == pytest.approx(0.7)


def test_clean_declarations_raise_the_score_towards_one() -> None:
    ledger = ComplianceLedger(RiskConfig(default_compliance=0.8))
    scores = [ledger.score("0101234567")]
    for _ in range(10):
        ledger.record_declaration("0101234567")
        scores.append(ledger.score("0101234567"))
    assert scores == sorted(scores) and len(set(scores)) == len(scores)
    # (0.8 * 10 + 10) / (10 + 10): ten clean declarations earn trust at the default threshold.
    assert scores[-1] == pytest.approx(0.9)


def test_violations_lower_the_score_and_are_counted_by_kind() -> None:
    ledger = ComplianceLedger(RiskConfig(default_compliance=0.8))
    for _ in range(4):
        ledger.record_declaration("0101234567")
    before = ledger.score("0101234567")
    ledger.record_violation("0101234567", "weight_discrepancy")
    after_one = ledger.score("0101234567")
    ledger.record_violation("0101234567", "returned")
    ledger.record_violation("0101234567", "weight_discrepancy")
    after_three = ledger.score("0101234567")
    assert before > after_one > after_three
    assert after_three == pytest.approx((0.8 * 10 + 1) / (10 + 4))
    assert ledger.violations("0101234567") == {"weight_discrepancy": 2, "returned": 1}


def test_a_violation_before_any_declaration_still_counts() -> None:
    ledger = ComplianceLedger(RiskConfig(default_compliance=0.8))
    ledger.record_violation("0101234567", "refused")
    assert ledger.score("0101234567") == pytest.approx(8 / 11)
    assert ledger.declarations("0101234567") == 1
    ledger.record_declaration("0101234567")  # the declaration the violation was for
    assert ledger.score("0101234567") == pytest.approx(8 / 11)
    ledger.record_declaration("0101234567")
    assert ledger.score("0101234567") == pytest.approx(9 / 12)


def test_the_score_stays_in_the_unit_interval_under_many_violations() -> None:
    ledger = ComplianceLedger(RiskConfig(default_compliance=0.8))
    for _ in range(1000):
        ledger.record_violation("0101234567", "scan_suspect")
    assert 0.0 <= ledger.score("0101234567") < 0.01


def test_declarants_are_scored_independently() -> None:
    ledger = ComplianceLedger(RiskConfig())
    ledger.record_violation("0101234567", "refused")
    assert ledger.score("0309999999") == pytest.approx(RiskConfig().default_compliance)
    assert ledger.violations("0309999999") == {}


def test_the_violations_returned_are_a_copy() -> None:
    ledger = ComplianceLedger(RiskConfig())
    ledger.record_violation("0101234567", "returned")
    ledger.violations("0101234567")["returned"] = 99
    assert ledger.violations("0101234567") == {"returned": 1}


def test_a_violation_without_a_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="0101234567.*kind"):
        ComplianceLedger(RiskConfig()).record_violation("0101234567", "")


def test_a_poor_record_leads_through_the_rules_to_red() -> None:
    config = RiskConfig()
    ledger = ComplianceLedger(config)
    green = _find_id(Channel.GREEN, NO_RULES, UNTRUSTED)
    for _ in range(10):
        ledger.record_declaration(green.declarant_id)
        ledger.record_violation(green.declarant_id, "weight_discrepancy")
    assert ledger.score(green.declarant_id) < 0.5
    assert assess_channel(green, config, ledger.score(green.declarant_id)).channel is Channel.RED
