"""Enterprises (declarants) as Mesa agents: who sends the trucks, and how they declare.

Each enterprise trades one kind of cargo and sends a share of the trucks: volumes follow a
Zipf law (the k-th largest sends in proportion to k^-skew), so a few large firms make most
of the trips, as on any border. Each has habits of its own:

* how often its declarations are wrong (Beta-distributed around the gate's average rate, so a
  few careless firms make most of the errors);
* how long before its truck sets off it declares;
* how long it takes to fix a declaration the gate returned;
* how quickly it pays the fee online and registers a loading (one responsiveness factor).

The population is *called* by the twin (a trip to plan, a return to fix); it never runs a
clock of its own. Its series (declarations waiting for an amendment, returns so far) are
sampled with a Mesa ``DataCollector`` when the twin asks (``observe``).

A compliance record can be seeded for the core's risk rules (``compliance_scores``): a past of
``history_days`` days, drawn from each enterprise's volume and error rate and scored with the
core's own formula (``gate.risk.ComplianceLedger``), so the seed and the live ledger agree.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import mesa
import numpy as np

from gate.enums import GoodsCategory
from gate.identifiers import declarant_problem
from gate.risk import PRIOR_WEIGHT

HOUR = 3600.0
#: Nobody declares less than this before the truck sets off (the driver's app needs the
#: declaration to report positions).
MIN_LEAD_H = 0.25
#: Spread of the responsiveness factor across enterprises (coefficient of variation).
_RESPONSIVENESS_CV = 0.5
#: Most enterprises in one population: a thousand times a busy gate's declarants, and few enough
#: that their tax codes (spaced ``_ID_SPACING`` apart from the default base) keep ten digits.
MAX_ENTERPRISES = 1_000_000
_ID_SPACING = 7919
_TAX_CODE_END = 10 ** 10

#: A zero-argument draw from a habit distribution (the twin builds it on the population's rng).
Draw = Callable[[], float]


@dataclass(frozen=True, slots=True)
class Trip:
    """What the enterprise decides for one truck: when it declares and whether the data are wrong."""

    declare_at_s: float
    #: "papers" (caught by the border guard), "goods" (caught by customs or quarantine), or "".
    error: str


class Enterprise(mesa.Agent):
    """One declarant: its cargo, its share of the trucks and its habits.

    Attributes:
        enterprise_id: The tax code it declares under.
        cargo: The goods category it trades.
        volume: Its weight in the draw of which enterprise sends a truck.
        error_rate: Probability that one of its declarations is wrong.
        lead_h: Habitual hours between declaring and the truck setting off.
        amend_mean_s: Habitual time to fix a returned declaration.
        responsiveness: Factor on its times to pay online and to register a loading.
        trips, returns, amendments: What happened to it during the run.
    """

    def __init__(self, model: EnterprisePopulation, enterprise_id: str, cargo: GoodsCategory, volume: float,
                 error_rate: float, lead_h: float, amend_mean_s: float, responsiveness: float) -> None:
        super().__init__(model)
        problem = declarant_problem(enterprise_id)
        if problem is not None:
            raise ValueError(f"enterprise id {enterprise_id!r}: {problem}")
        self.enterprise_id = enterprise_id
        self.cargo = cargo
        self.volume = volume
        self.error_rate = error_rate
        self.lead_h = lead_h
        self.amend_mean_s = amend_mean_s
        self.responsiveness = responsiveness
        self.trips = 0
        self.returns = 0
        self.amendments = 0

    @property
    def name(self) -> str:
        """The name shown on its declarations."""
        return f"Enterprise {self.enterprise_id}"


def _lognormal_factor(rng: np.random.Generator, cv: float) -> float:
    """A lognormal draw with mean 1 and coefficient of variation ``cv`` (1.0 when cv is 0)."""
    if cv == 0:
        return 1.0
    sigma2 = math.log1p(cv * cv)
    return float(rng.lognormal(-sigma2 / 2, math.sqrt(sigma2)))


def allocate(count: int, shares: Mapping[GoodsCategory, float]) -> dict[GoodsCategory, int]:
    """Enterprises per cargo category: proportional to the shares (largest remainder), at least one each.

    Categories with a zero share get none; the others get at least one enterprise, so the total
    can exceed ``count`` when ``count`` is smaller than the number of categories traded.
    """
    traded = {c: s for c, s in shares.items() if s > 0}
    if not traded:
        raise ValueError("enterprises: the cargo mix has no category with a positive share")
    total = sum(traded.values())
    exact = {c: count * s / total for c, s in traded.items()}
    result = {c: int(math.floor(v)) for c, v in exact.items()}
    by_remainder = sorted(traded, key=lambda c: (-(exact[c] - result[c]), list(traded).index(c)))
    for c in by_remainder[: count - sum(result.values())]:
        result[c] += 1
    return {c: max(1, n) for c, n in result.items()}


class EnterprisePopulation(mesa.Model):
    """The declarants of one run; see the module docstring.

    Args:
        rng: The population's random stream (it also seeds Mesa's own generators).
        count: Enterprises wanted (each traded category gets at least one).
        cargo_mix: Share of the trucks by goods category.
        volume_skew: Zipf exponent of the volumes.
        error_rate: The gate's average share of wrong declarations.
        error_concentration: Beta concentration (a + b) of the enterprises' error rates.
        lead_h: Draws an enterprise's habitual lead time (hours); ``lead_cv`` spreads it per trip.
        amend_h: Draws an enterprise's habitual time to amend (hours); ``amend_cv`` spreads it per return.
        pay_online_s, loading_registration_s: Mean times of an enterprise of average responsiveness.
        history_days: Days of past record for ``compliance_scores`` (0: none).
        trucks_per_day: The gate's demand, to size that record.
        default_compliance: The core's score of a declarant it has no record of.
        id_base: First tax code of the population (ids are spaced so they never collide).
    """

    def __init__(self, *, rng: np.random.Generator, count: int, cargo_mix: Mapping[GoodsCategory, float],
                 volume_skew: float, error_rate: float, error_concentration: float, lead_h: Draw, lead_cv: float,
                 amend_h: Draw, amend_cv: float, pay_online_s: float, loading_registration_s: float,
                 history_days: float = 0.0, trucks_per_day: float = 0.0, default_compliance: float = 0.8,
                 id_base: int = 2_000_000_000) -> None:
        super().__init__(rng=rng)
        if not 0.0 <= error_rate <= 1.0:
            raise ValueError(f"enterprises: error_rate must be in [0, 1] (got {error_rate})")
        # Refused before anything is built: a million Mesa agents take seconds, and past that the
        # tax codes would grow an eleventh digit and fail the core's check on the first one.
        if count > MAX_ENTERPRISES:
            raise ValueError(f"enterprises: count: at most {MAX_ENTERPRISES:,} enterprises (got {count:,})")
        self.lead_cv = lead_cv
        self.amend_cv = amend_cv
        self.pay_online_s = pay_online_s
        self.loading_registration_s = loading_registration_s
        self.history_days = history_days
        self.trucks_per_day = trucks_per_day
        self.default_compliance = default_compliance
        self.now = 0.0
        self.returns_so_far = 0
        self._amendments_due: list[float] = []  # a heap of the times returned declarations come back
        per_cargo = allocate(count, cargo_mix)
        total = sum(per_cargo.values())
        if id_base + _ID_SPACING * (total - 1) >= _TAX_CODE_END:
            raise ValueError(f"enterprises: the tax codes of {total:,} enterprises from {id_base} run past ten digits")
        # Volume ranks are shuffled across categories, so every trade has large and small firms.
        ranks = self.rng.permutation(total) + 1
        volumes = ranks.astype(float) ** -volume_skew
        self.enterprises: list[Enterprise] = []
        self._by_cargo: dict[GoodsCategory, tuple[list[Enterprise], np.ndarray]] = {}
        k = 0
        for cargo, n in per_cargo.items():
            members = []
            for _ in range(n):
                enterprise = Enterprise(
                    self, f"{id_base + _ID_SPACING * k:010d}", cargo, float(volumes[k]),
                    error_rate=self._draw_error_rate(error_rate, error_concentration),
                    lead_h=max(MIN_LEAD_H, float(lead_h())), amend_mean_s=max(0.0, float(amend_h())) * HOUR,
                    responsiveness=_lognormal_factor(self.rng, _RESPONSIVENESS_CV),
                )
                members.append(enterprise)
                self.enterprises.append(enterprise)
                k += 1
            weights = np.cumsum([e.volume for e in members])
            self._by_cargo[cargo] = (members, weights)
        self.collector = mesa.DataCollector(model_reporters={
            "time_h": lambda m: m.now / HOUR,
            "declarations_awaiting_amendment": lambda m: len(m._amendments_due),
            "returns_so_far": "returns_so_far",
        })

    def _draw_error_rate(self, mean: float, concentration: float) -> float:
        if mean in (0.0, 1.0):
            return mean
        return float(self.rng.beta(mean * concentration, (1.0 - mean) * concentration))

    # ------------------------------------------------------------------ planning

    def sender(self, cargo: GoodsCategory) -> Enterprise:
        """The enterprise that sends a truck with this cargo, drawn by volume among its traders."""
        traders = self._by_cargo.get(cargo)
        if traders is None:
            raise ValueError(f"enterprises: nobody trades {cargo.value}; it has no share in the cargo mix")
        members, cumulative = traders
        u = float(self.rng.random()) * float(cumulative[-1])
        return members[min(int(np.searchsorted(cumulative, u, side="right")), len(members) - 1)]

    def plan_trip(self, enterprise: Enterprise, arrival_s: float) -> Trip:
        """When the enterprise declares this truck, and whether it gets the declaration wrong."""
        enterprise.trips += 1
        error = ""
        if float(self.rng.random()) < enterprise.error_rate:
            error = "papers" if float(self.rng.random()) < 0.5 else "goods"
        lead_h = max(MIN_LEAD_H, enterprise.lead_h * _lognormal_factor(self.rng, self.lead_cv))
        return Trip(declare_at_s=max(0.0, arrival_s - lead_h * HOUR), error=error)

    # ------------------------------------------------------------------ during the run

    def amendment_delay_s(self, enterprise: Enterprise, now: float) -> float:
        """Seconds until the enterprise sends the amended declaration (it is counted as awaited until then)."""
        delay = enterprise.amend_mean_s * _lognormal_factor(self.rng, self.amend_cv)
        enterprise.amendments += 1
        heapq.heappush(self._amendments_due, now + delay)
        return delay

    def on_returned(self, enterprise: Enterprise, now: float) -> None:
        """A declaration of the enterprise was returned for re-declaration."""
        enterprise.returns += 1
        self.returns_so_far += 1

    def online_payment_delay_s(self, enterprise: Enterprise) -> float:
        """Seconds from the fee request to the enterprise's online payment."""
        return float(self.rng.exponential(self.pay_online_s * enterprise.responsiveness))

    def loading_registration_delay_s(self, enterprise: Enterprise) -> float:
        """Seconds from the truck parking to the enterprise registering its loading."""
        return float(self.rng.exponential(self.loading_registration_s * enterprise.responsiveness))

    def awaiting_amendment(self, now: float) -> int:
        """Returned declarations whose amendment has not come back by ``now``."""
        due = self._amendments_due
        while due and due[0] <= now:
            heapq.heappop(due)
        return len(due)

    def observe(self, now: float) -> None:
        """Sample the population's series at ``now`` (the twin calls this on its observation clock)."""
        self.now = now
        self.awaiting_amendment(now)
        self.collector.collect(self)

    # ------------------------------------------------------------------ the core's risk rules

    def compliance_scores(self) -> dict[str, float]:
        """A past record per enterprise, scored as the core's ``ComplianceLedger`` scores a live one.

        Empty when ``history_days`` is 0. Each enterprise made a Poisson number of declarations
        in proportion to its volume, each wrong with its error rate.
        """
        if self.history_days <= 0 or self.trucks_per_day <= 0:
            return {}
        total_volume = sum(e.volume for e in self.enterprises)
        scores: dict[str, float] = {}
        for e in self.enterprises:
            declared = int(self.rng.poisson(self.trucks_per_day * self.history_days * e.volume / total_volume))
            wrong = int(self.rng.binomial(declared, e.error_rate)) if declared else 0
            score = (self.default_compliance * PRIOR_WEIGHT + declared - wrong) / (PRIOR_WEIGHT + declared)
            scores[e.enterprise_id] = min(1.0, max(0.0, score))
        return scores

    def table(self) -> list[dict[str, object]]:
        """One row per enterprise: who it is, its habits and what happened to it."""
        return [
            {"enterprise_id": e.enterprise_id, "cargo": e.cargo.value, "volume": e.volume,
             "error_rate": e.error_rate, "lead_h": e.lead_h, "amend_mean_h": e.amend_mean_s / HOUR,
             "responsiveness": e.responsiveness, "trips": e.trips, "returns": e.returns,
             "amendments": e.amendments}
            for e in self.enterprises
        ]
