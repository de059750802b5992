"""Customs selectivity: which channel (green, yellow, red) a declaration goes to.

The scheme follows VNACCS and ASYCUDA. Each channel has an expected share for declarants
without a trusted record and a minimum random share nobody escapes, however good their
record; selectivity rules then raise the channel of declarations that match them.

Rules of this module:

- The draw is a keyed hash (HMAC-SHA256) of the declaration id, never a random generator:
  replaying the same events decides the same channels, and a site that keeps its key secret
  keeps the draw unpredictable to declarants.
- The draw depends on the declaration id only, not its version, so amending a declaration
  cannot re-roll its channel.
- Rules only ever raise a channel; nothing here lowers one.
- The compliance history is plain counters in dicts: every call is O(1).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from gate.config import RiskConfig, RiskRule
from gate.declaration import Declaration
from gate.enums import Channel

#: A draw is the top 53 bits of the digest (a float's mantissa) scaled into [0, 1).
_DRAW_SCALE = 2.0**-53

#: Prior weight of the compliance score, in pseudo-declarations.
PRIOR_WEIGHT = 10

_RANK: dict[Channel, int] = {Channel.GREEN: 0, Channel.YELLOW: 1, Channel.RED: 2}
_BY_RANK: tuple[Channel, ...] = (Channel.GREEN, Channel.YELLOW, Channel.RED)

RANDOM_SELECTION = "random selection"
EXPECTED_RATE_SELECTION = "expected-rate selection"


def selection_draw(declaration_id: str, key: str) -> float:
    """A uniform number in [0, 1) from HMAC-SHA256(key, declaration_id).

    The same id and key always give the same draw; different ids give independent draws.
    """
    digest = hmac.digest(key.encode("utf-8"), declaration_id.encode("utf-8"), "sha256")
    return (int.from_bytes(digest[:8], "big") >> 11) * _DRAW_SCALE


def upgrade(channel: Channel) -> Channel:
    """The next stricter channel: green -> yellow -> red; red stays red."""
    return _BY_RANK[min(_RANK[channel] + 1, 2)]


def channel_max(a: Channel, b: Channel) -> Channel:
    """The stricter of two channels."""
    return a if _RANK[a] >= _RANK[b] else b


class ComplianceLedger:
    """Per-declarant compliance history that feeds the selectivity rules.

    The score is the Bayesian-smoothed share of clean declarations::

        score = (prior * PRIOR_WEIGHT + clean) / (PRIOR_WEIGHT + declarations)

    with ``prior`` the configured score of the declarant (``RiskConfig.compliance``) or
    ``RiskConfig.default_compliance``. A new declarant scores its prior; each clean declaration
    pulls the score towards 1 and each violation towards 0.

    Each recorded violation marks one declaration unclean, so the count of declarations is
    the larger of those recorded and the violations: a second violation of the same
    declaration counts as a declaration of its own (the score stays in [0, 1] and every
    violation lowers it), and the order of the calls does not matter (a violation recorded
    before its declaration is matched by it).
    """

    __slots__ = ("_config", "_declarations", "_unclean", "_violations")

    def __init__(self, config: RiskConfig) -> None:
        self._config = config
        self._declarations: dict[str, int] = {}
        self._unclean: dict[str, int] = {}
        self._violations: dict[str, dict[str, int]] = {}

    def score(self, declarant_id: str) -> float:
        """The declarant's compliance score in [0, 1]."""
        config = self._config
        prior = config.compliance.get(declarant_id, config.default_compliance)
        unclean = self._unclean.get(declarant_id, 0)
        declarations = max(self._declarations.get(declarant_id, 0), unclean)
        return (prior * PRIOR_WEIGHT + declarations - unclean) / (PRIOR_WEIGHT + declarations)

    def record_declaration(self, declarant_id: str) -> None:
        """Count one more declaration; it is clean unless a violation is recorded for it."""
        self._declarations[declarant_id] = self._declarations.get(declarant_id, 0) + 1

    def record_violation(self, declarant_id: str, kind: str) -> None:
        """Count a violation, e.g. ``"weight_discrepancy"``, ``"returned"``, ``"refused"``."""
        if not kind:
            raise ValueError(f"violation of declarant {declarant_id!r}: kind must be a non-empty name")
        self._unclean[declarant_id] = self._unclean.get(declarant_id, 0) + 1
        kinds = self._violations.get(declarant_id)
        if kinds is None:
            kinds = self._violations[declarant_id] = {}
        kinds[kind] = kinds.get(kind, 0) + 1

    def declarations(self, declarant_id: str) -> int:
        """How many declarations the score counts for the declarant."""
        return max(self._declarations.get(declarant_id, 0), self._unclean.get(declarant_id, 0))

    def violations(self, declarant_id: str) -> dict[str, int]:
        """Violations recorded against the declarant, by kind (a copy)."""
        return dict(self._violations.get(declarant_id, {}))


@dataclass(frozen=True, slots=True)
class ChannelDecision:
    """The channel a declaration goes to, why, and the draw that decided the selection."""

    channel: Channel
    reasons: tuple[str, ...]
    draw: float


def _rule_matches(rule: RiskRule, declaration: Declaration, compliance: float) -> bool:
    """True when every condition the rule sets holds (an unset condition always holds)."""
    if rule.when_declarant is not None and declaration.declarant_id != rule.when_declarant:
        return False
    if rule.when_compliance_below is not None and not compliance < rule.when_compliance_below:
        return False
    if rule.when_category is not None:
        category = rule.when_category
        if not any(line.category is category for line in declaration.goods):
            return False
    if rule.when_origin is not None:
        # Declarations carry upper-case ISO codes; a rule written "cn" must still match.
        origin = rule.when_origin.strip().upper()
        if not any(line.origin == origin for line in declaration.goods):
            return False
    return True


def assess_channel(declaration: Declaration, config: RiskConfig, compliance: float) -> ChannelDecision:
    """Decide the channel of a declaration by selection, then by rules.

    A trusted declarant (``compliance >= config.trusted_compliance``) is selected at the
    minimum random rates, others at the expected rates. Every rule whose conditions all hold
    then raises the channel to at least the rule's channel. The reasons name the selection
    first, then each rule that raised the channel, as ``"rule: <name>"``.
    """
    if not 0.0 <= compliance <= 1.0:
        raise ValueError(
            f"declaration {declaration.declaration_id}: compliance must be in [0, 1] (got {compliance!r})"
        )
    draw = selection_draw(declaration.declaration_id, config.selection_key)
    if compliance >= config.trusted_compliance:
        red, yellow, selection = config.min_random_red, config.min_random_yellow, RANDOM_SELECTION
    else:
        red, yellow, selection = config.expected_red, config.expected_yellow, EXPECTED_RATE_SELECTION
    if draw < red:
        rank = 2
    elif draw < red + yellow:
        rank = 1
    else:
        rank = 0
    reasons = [selection]
    for rule in config.rules:
        rule_rank = _RANK[rule.channel]
        if rule_rank > rank and _rule_matches(rule, declaration, compliance):
            rank = rule_rank
            reasons.append(f"rule: {rule.name}")
    return ChannelDecision(_BY_RANK[rank], tuple(reasons), draw)
