"""Service targets for sizing a gate: which cells of a sweep meet them, and the smallest that do.

A planner sizing a gate asks for the fewest lanes, scales, scanners, yard slots or AGVs that
hold a service level, e.g. "the P95 time at the gate at most 120 minutes, and 2,400 trucks a day
cleared". A target is a KPI, ``<=`` or ``>=``, and a number in the KPI's unit
(``time_at_gate_p95<=120``). A cell of a sweep

- *meets* it when its whole 95 % interval does (the interval's high end at most the number, for
  ``<=``): with 95 % confidence, the layout holds the target;
- *may meet* it when its mean does but the interval reaches past the number (more replications
  would tell), or when there is no interval (one replication);
- *fails* it when its mean does not;
- is *not measured* on it when the KPI has no value (no truck to measure it on).

The *smallest* cells meeting every target are those no other such cell undercuts: a cell is
smaller than another when each varied field's value comes no later in its ``--vary`` list and
one comes earlier. So each field's values are to be listed from the cheapest (fewest lanes
first), and where fields trade against each other (a scanner more or a lane more) every
cell of that trade-off is named.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum

from twin.results import kpi_unit


class Verdict(str, Enum):
    """How a cell stands against a target."""

    MEETS = "meets"
    MAY_MEET = "may meet"
    FAILS = "fails"
    NOT_MEASURED = "not measured"


_TARGET = re.compile(r"^\s*([A-Za-z0-9_.-]+)\s*(<=|>=|=<|=>|<|>|==|=)\s*([-+0-9.eE_,]+)\s*$")


@dataclass(frozen=True)
class Target:
    """A KPI held to a bound: ``time_at_gate_p95 <= 120``."""

    kpi: str
    #: "<=" (the KPI must not exceed ``bound``) or ">=" (it must reach it).
    op: str
    bound: float

    def __str__(self) -> str:
        return f"{self.kpi} {self.op} {self.bound:g}"

    def judge(self, mean: float, low: float, high: float, replications: int) -> Verdict:
        """How a cell whose KPI has this mean and 95 % interval (``low`` to ``high``, over
        ``replications``) stands against the target."""
        if math.isnan(mean):
            return Verdict.NOT_MEASURED
        holds = mean <= self.bound if self.op == "<=" else mean >= self.bound
        if not holds:
            return Verdict.FAILS
        edge = high if self.op == "<=" else low
        if replications < 2 or math.isnan(edge):
            return Verdict.MAY_MEET
        surely = edge <= self.bound if self.op == "<=" else edge >= self.bound
        return Verdict.MEETS if surely else Verdict.MAY_MEET


def parse_target(text: str, known: Callable[[str], bool], choices: str, where: str = "--meet") -> Target:
    """A target from ``KPI<=NUMBER`` or ``KPI>=NUMBER``; ``ValueError`` naming ``where``, the
    text and what is wrong with it. ``known`` says which KPIs a target may name, ``choices``
    says it in words."""
    match = _TARGET.match(text)
    if match is None:
        raise ValueError(f"{where} {text!r}: expected KPI<=NUMBER or KPI>=NUMBER, e.g. time_at_gate_p95<=120")
    kpi, op, number = match.groups()
    if op in ("<", ">", "=", "=="):
        hint = {"<": "<=", ">": ">=", "=": "<= or >=", "==": "<= or >="}[op]
        raise ValueError(f"{where} {text!r}: a target is a bound, {hint} (a KPI is measured, not matched exactly)")
    op = {"=<": "<=", "=>": ">="}.get(op, op)
    if not known(kpi):
        raise ValueError(f"{where} {text!r}: no such KPI {kpi!r} ({choices})")
    try:
        bound = float(number.replace("_", "").replace(",", ""))
    except ValueError:
        raise ValueError(f"{where} {text!r}: {number!r} is not a number") from None
    if not math.isfinite(bound):
        raise ValueError(f"{where} {text!r}: the bound must be a finite number")
    unit = kpi_unit(kpi)
    if unit == "share" and not 0 <= bound <= 1:
        raise ValueError(f"{where} {text!r}: {kpi} is a share, from 0 to 1 (e.g. 0.85 for 85 %)")
    return Target(kpi, op, bound)


def meets_all(verdicts: Sequence[Verdict]) -> Verdict:
    """A cell against every target at once: meets when it meets each, fails when it fails or is
    not measured on one, may meet otherwise."""
    if any(v in (Verdict.FAILS, Verdict.NOT_MEASURED) for v in verdicts):
        return Verdict.FAILS
    if all(v is Verdict.MEETS for v in verdicts):
        return Verdict.MEETS
    return Verdict.MAY_MEET


def smallest(positions: Sequence[tuple[int, ...]], chosen: Sequence[bool]) -> list[int]:
    """The indices of the chosen cells no other chosen cell undercuts: ``positions[i]`` is cell
    i's place in each varied field's list of values; a cell undercuts another when it is at no
    later place in every field and at an earlier one in some."""
    picked = [i for i, c in enumerate(chosen) if c]
    return [i for i in picked
            if not any(j != i and all(a <= b for a, b in zip(positions[j], positions[i], strict=True))
                       and positions[j] != positions[i] for j in picked)]
