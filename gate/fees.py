"""The infrastructure fee a declaration owes, in whole VND.

The schedule is shaped like the Lang Son resolution in force from 8 May 2025 (see
``docs/DOMAIN.md``): vehicles without containers pay per trip by vehicle class; container
vehicles pay per container by size, at the higher re-export rate under temporary import for
re-export; a goods category may carry a multiplier (ore x5), and a mixed load pays the highest
multiplier among its lines. Fees are collected in thousands of dong, so the result is rounded
half up to the nearest 1,000 VND.

Multipliers are decimal figures from a resolution (1.5, 2.25), so the product is taken in
decimal arithmetic: a binary float such as ``100_000 * 1.005`` must not round the wrong way.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from gate.config import FeeSchedule
from gate.declaration import Declaration
from gate.enums import Direction

_THOUSAND = Decimal(1000)


def container_rate(size_ft: int, rates: dict[int, int]) -> int:
    """The rate for a container of ``size_ft`` from ``rates`` (VND by size in feet).

    A size the table does not list pays the rate of the nearest smaller listed size; a size
    smaller than every listed one pays nothing.
    """
    rate = rates.get(size_ft)
    if rate is not None:
        return rate
    smaller = [size for size in rates if size < size_ft]
    return rates[max(smaller)] if smaller else 0


def fee_multiplier(declaration: Declaration, schedule: FeeSchedule) -> float:
    """The highest category multiplier among the goods lines; unlisted categories count 1.0."""
    multipliers = schedule.category_multiplier
    return max(multipliers.get(line.category, 1.0) for line in declaration.goods)


def round_to_thousand(amount: Decimal) -> int:
    """``amount`` rounded half up to the nearest 1,000 VND."""
    return int((amount / _THOUSAND).quantize(Decimal(1), rounding=ROUND_HALF_UP)) * 1000


def fee_for(declaration: Declaration, schedule: FeeSchedule) -> int:
    """The infrastructure fee of ``declaration`` under ``schedule``, in VND.

    Transit is exempt (0) when ``schedule.exempt_transit``. Without containers the vehicle
    pays ``per_trip_vnd`` of its class (an unlisted class pays 0); with containers each
    container pays its size's rate (``reexport_container_vnd`` under temporary
    import/re-export, else ``per_container_vnd``). The sum is multiplied by the highest
    category multiplier of the goods and rounded half up to the nearest 1,000 VND.
    """
    if schedule.exempt_transit and declaration.direction is Direction.TRANSIT:
        return 0
    if declaration.containers:
        rates = (
            schedule.reexport_container_vnd
            if declaration.direction is Direction.TEMPORARY_IMPORT_REEXPORT
            else schedule.per_container_vnd
        )
        base = sum(container_rate(container.size_ft, rates) for container in declaration.containers)
    else:
        base = schedule.per_trip_vnd.get(declaration.vehicle_class, 0)
    multiplier = fee_multiplier(declaration, schedule)
    if multiplier.is_integer():
        # The common case (x1, x5) stays in exact integer arithmetic.
        return (base * int(multiplier) + 500) // 1000 * 1000
    # repr gives the shortest decimal that reads back as the float: the figure as written.
    return round_to_thousand(Decimal(base) * Decimal(repr(multiplier)))
