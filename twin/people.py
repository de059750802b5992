"""The people around the gate, as the twin's wiring asks them questions.

This is the seam where behaviour models plug in. The wiring never decides for a person; it
asks one of these policies:

* ``Declarants`` — when an enterprise declares, how long it takes to fix a returned declaration,
  how it pays the fee.
* ``Drivers`` — whether a driver obeys a hold order from the traffic police and waits in a
  staging area rather than on the road.
* ``Officers`` — what an agency decides on a task, given what is true about the truck.

The statistical defaults below follow the scenario's rates. The Mesa agents of ``agents/``
(wired by ``twin.agents_people``) provide the same methods with richer behaviour (an
enterprise's habits, a driver's speed and obedience), and two more seams:

* ``CorridorDrivers`` — drivers who drive a modelled approach corridor and wait at staging
  where the traffic police direct them; the truck process hands those two stretches over.
* ``Reporting`` — a policy that measured something of its own adds it to the run's results.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from gate.enums import ClearanceKind, Outcome, Role
from scenarios.schema import Scenario
from twin.fleet import TruckPlan

if TYPE_CHECKING:
    import simpy

    from gate.commands import RouteTo
    from twin.world import GateWorld, TruckRun

K = ClearanceKind
#: The checks that look at the goods, and so can catch wrong goods data.
_GOODS_CHECKS = frozenset({K.CUSTOMS_DOCUMENTS, K.CUSTOMS_INSPECTION, K.HEALTH_QUARANTINE, K.ANIMAL_QUARANTINE,
                           K.PLANT_QUARANTINE})
#: Clearances passed without the random return rate (once the rules above found nothing).
_ALWAYS_PASSED = frozenset({K.BORDER_GUARD_EXIT, K.LOADING, K.MEDICAL, K.FEE})


class Declarants(Protocol):
    def amendment_delay_s(self, plan: TruckPlan, now: float) -> float:
        """Seconds from a return for re-declaration to the amended declaration."""
        ...

    def online_payment_delay_s(self, plan: TruckPlan, now: float) -> float:
        """Seconds from the fee request to an online payment."""
        ...

    def loading_registration_delay_s(self, plan: TruckPlan, now: float) -> float:
        """Seconds from the truck parking in the yard to the enterprise registering its loading."""
        ...

    def on_returned(self, plan: TruckPlan, now: float) -> None:
        """The enterprise learns that a declaration was returned (it may learn from it)."""
        ...


class Drivers(Protocol):
    def obeys_hold(self, plan: TruckPlan, now: float) -> bool:
        """Whether the driver waits in a staging area when told to hold."""
        ...


@runtime_checkable
class CorridorDrivers(Drivers, Protocol):
    """Drivers with a model of the approach corridor and of where trucks wait at staging.

    ``approach`` drives the truck from the start of the tracked road to the staging checkpoint
    (reporting GPS positions to the core); ``reach_checkpoint`` puts it where it stops there,
    before the plate read; ``wait_at_staging`` keeps it wherever the traffic police direct it
    until the core sends it on (to barrier 1 or away) and returns that route. Whoever moves a
    truck between the road and a staging area keeps the road-queue and staging counters right.
    """

    def approach(self, world: GateWorld, truck: TruckRun) -> Generator[simpy.Event, Any, None]:
        """Drive the approach road up to the staging checkpoint."""
        ...

    def reach_checkpoint(self, world: GateWorld, truck: TruckRun) -> None:
        """The truck stops at the checkpoint (on the road, at the back of the queue)."""
        ...

    def wait_at_staging(self, world: GateWorld, truck: TruckRun) -> Generator[simpy.Event, Any, RouteTo]:
        """Wait at staging until the truck drives on; returns the route it follows (entry lane or away)."""
        ...


#: Keys of the people's results in a replication's ``extra``: KPIs of their own (merged into the
#: replication's KPIs, so summaries and comparisons carry them with confidence intervals), and the
#: Mesa ``DataCollector`` series the plots draw (``twin.plots.agents_figure``).
PEOPLE_KPIS = "kpis"
CORRIDOR_SERIES = "agents_corridor"
DECLARANT_SERIES = "agents_enterprise_series"


@runtime_checkable
class Reporting(Protocol):
    """A behaviour model that measured something of its own during the run."""

    def results(self, world: GateWorld) -> dict[str, Any]:
        """What it adds to the replication's ``extra``: DataFrames are written as tables, a mapping
        under ``PEOPLE_KPIS`` joins the replication's KPIs, other values go into summary.json."""
        ...


def people_results(world: GateWorld) -> dict[str, Any]:
    """What the world's people policies measured (each policy object counted once)."""
    extra: dict[str, Any] = {}
    seen: list[object] = []
    for policy in (world.declarants, world.drivers, world.officers):
        if isinstance(policy, Reporting) and not any(policy is other for other in seen):
            seen.append(policy)
            extra.update(policy.results(world))
    return extra


class Officers(Protocol):
    def decide(self, role: Role, clearance: ClearanceKind, plan: TruckPlan, error: str, amended: bool,
               now: float) -> tuple[Outcome, tuple[str, ...]]:
        """The officer's decision on one task."""
        ...


class StatisticalDeclarants:
    """Enterprises as rates: a lognormal time to amend, an exponential time to pay online."""

    def __init__(self, rng: np.random.Generator, amend_mean_s: float = 2 * 3600.0, amend_cv: float = 0.8,
                 pay_mean_s: float = 900.0) -> None:
        self._rng = rng
        sigma2 = np.log1p(amend_cv ** 2)
        self._mu, self._sigma = float(np.log(amend_mean_s) - sigma2 / 2), float(np.sqrt(sigma2))
        self._pay_mean_s = pay_mean_s

    def amendment_delay_s(self, plan: TruckPlan, now: float) -> float:
        return float(self._rng.lognormal(self._mu, self._sigma))

    def online_payment_delay_s(self, plan: TruckPlan, now: float) -> float:
        return float(self._rng.exponential(self._pay_mean_s))

    def loading_registration_delay_s(self, plan: TruckPlan, now: float) -> float:
        return float(self._rng.exponential(600.0))

    def on_returned(self, plan: TruckPlan, now: float) -> None:
        return None


class StatisticalDrivers:
    """Drivers as one compliance share (``traffic.driver_compliance``)."""

    def __init__(self, rng: np.random.Generator, compliance: float) -> None:
        self._rng = rng
        self._compliance = compliance

    def obeys_hold(self, plan: TruckPlan, now: float) -> bool:
        return bool(self._rng.random() < self._compliance)


class StatisticalOfficers:
    """Officers who catch the wrong data they are placed to see, plus their agency's return rate.

    Wrong vehicle or driver papers are caught by the border guard at barrier 1; wrong goods data by
    customs (documents or inspection) or the quarantine agency of the goods. A suspect load found in a
    physical inspection is returned for re-declaration. Each reviewing agency also returns a share of
    its tasks at random (``return_rate``); after an amendment the same task passes.
    """

    def __init__(self, scenario: Scenario, rng: np.random.Generator) -> None:
        self._rng = rng
        agencies = scenario.agencies
        self._return_rate: dict[Role, float] = {
            role: float(getattr(agencies.for_role(role), "return_rate", 0.0))
            for role in (Role.BORDER_GUARD, Role.HEALTH_QUARANTINE, Role.ANIMAL_QUARANTINE, Role.PLANT_QUARANTINE,
                         Role.CUSTOMS)
        }

    def decide(self, role: Role, clearance: ClearanceKind, plan: TruckPlan, error: str, amended: bool,
               now: float) -> tuple[Outcome, tuple[str, ...]]:
        if clearance is K.BORDER_GUARD_ENTRY and error == "papers":
            return Outcome.RETURNED, ("vehicle or driver papers do not match the declaration",)
        if clearance in _GOODS_CHECKS and error == "goods":
            return Outcome.RETURNED, ("goods data do not match the documents",)
        if clearance is K.CUSTOMS_INSPECTION and plan.truth.suspect and not amended:
            return Outcome.RETURNED, ("undeclared goods found in the physical inspection",)
        if clearance in _ALWAYS_PASSED or amended:
            return Outcome.PASSED, ()
        rate = self._return_rate.get(role, 0.0)
        if rate > 0 and self._rng.random() < rate:
            return Outcome.RETURNED, (f"{role.value} found the file incomplete",)
        return Outcome.PASSED, ()
