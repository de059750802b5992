"""The agencies' officers: how many, when on duty, how fast, how often they return a file.

``officers`` is the number on duty during each shift, or ``unlimited`` to take the agency out
of the picture as a bottleneck (every task starts at once). Shifts are clock times in quotes;
``["00:00", "24:00"]`` is round the clock, and a shift whose end is before its start runs past
midnight (``["19:00", "07:00"]``).
"""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator, model_validator

from gate.enums import GoodsCategory, Role
from scenarios.distributions import Distribution, Exponential, Lognormal, Triangular
from scenarios.errors import Problems, skip_if_invalid
from scenarios.values import FROZEN, Capacity, Share, Shift, capacity_value, clock_hours, in_clock_window, shift_hours

ROUND_THE_CLOCK: tuple[tuple[str, str], ...] = (("00:00", "24:00"),)

#: The quarantine role that must confirm each goods category (no entry: none needed).
QUARANTINE_FOR_CATEGORY: dict[GoodsCategory, Role] = {
    GoodsCategory.LIVE_ANIMALS: Role.ANIMAL_QUARANTINE,
    GoodsCategory.ANIMAL_PRODUCTS: Role.ANIMAL_QUARANTINE,
    GoodsCategory.PLANTS_FRUIT: Role.PLANT_QUARANTINE,
    GoodsCategory.FOODSTUFF: Role.HEALTH_QUARANTINE,
}


#: The field of ``Agencies`` that holds each agency role's staff.
_AGENCY_OF_ROLE: dict[Role, str] = {
    Role.MEDICAL: "medical",
    Role.BORDER_GUARD: "border_guard",
    Role.HEALTH_QUARANTINE: "health_quarantine",
    Role.ANIMAL_QUARANTINE: "animal_quarantine",
    Role.PLANT_QUARANTINE: "plant_quarantine",
    Role.CUSTOMS: "customs",
    Role.FEE_COLLECTOR: "fee_collector",
}
#: The most officers of one agency on a shift (a whole border post has a few hundred).
MAX_OFFICERS = 1_000
#: The roles that are agencies with officers of their own (``Agencies``), in the order listed there.
AGENCY_ROLES = tuple(_AGENCY_OF_ROLE)


def _minutes(shift: tuple[str, str]) -> set[int]:
    start = round(clock_hours(shift[0]) * 60)
    length = round(shift_hours(shift) * 60)
    return {(start + m) % 1440 for m in range(length)}


class AgencyStaff(BaseModel):
    """One agency's officers at the gate."""

    model_config = FROZEN
    #: At most ``MAX_OFFICERS`` on a shift, or "unlimited".
    officers: Capacity
    shifts: tuple[Shift, ...] = ROUND_THE_CLOCK
    #: Time one officer spends on one vehicle's task.
    service_s: Distribution

    @field_validator("officers")
    @classmethod
    def _officers_on_a_shift(cls, officers: int | str) -> int | str:
        if officers != "unlimited" and int(officers) > MAX_OFFICERS:
            raise ValueError(f"must be at most {MAX_OFFICERS:,} on a shift, or 'unlimited' for an agency that "
                             "never keeps a vehicle waiting")
        return officers

    @model_validator(mode="after")
    def _shifts_do_not_overlap(self) -> AgencyStaff:
        problems = Problems()
        with skip_if_invalid():
            if self.staffed and not self.shifts:
                problems.add(
                    "shifts", "officers are on the staff but no shift is given; for 24/7 write [['00:00', '24:00']]", []
                )
        with skip_if_invalid():
            covered: set[int] = set()
            for i, shift in enumerate(self.shifts):
                minutes = _minutes(shift)
                if covered & minutes:
                    problems.add(f"shifts.{i}", "overlaps an earlier shift; officers are counted per shift", list(shift))
                covered |= minutes
        problems.raise_if_any()
        return self

    @property
    def staffed(self) -> bool:
        """Whether the agency has any officers at all."""
        return capacity_value(self.officers) > 0

    def on_duty(self, hour_of_day: float) -> bool:
        """Whether officers are on duty at ``hour_of_day`` (0 <= h < 24)."""
        return self.staffed and any(in_clock_window(s, hour_of_day) for s in self.shifts)

    @property
    def hours_per_day(self) -> float:
        """Hours per day with officers on duty."""
        return sum(shift_hours(s) for s in self.shifts) if self.staffed else 0.0

    @property
    def round_the_clock(self) -> bool:
        """Whether officers are on duty 24 hours a day."""
        return self.hours_per_day >= 24


class ReviewingAgency(AgencyStaff):
    """An agency that may return a file for re-declaration."""

    #: Share of its tasks returned to the declarant for re-declaration.
    return_rate: Share = 0.0


class CustomsStaff(ReviewingAgency):
    """Customs: document checks (``service_s``), physical inspections, loading approvals."""

    #: A physical inspection at a bay (scanner images are judged within ``service_s``).
    inspection_s: Distribution = Lognormal(kind="lognormal", mean=2700, cv=0.5)
    #: Approving an enterprise's loading registration.
    loading_s: Distribution = Exponential(kind="exponential", mean=120)


class FeeCollection(AgencyStaff):
    """The border-gate management centre / tax authority collecting the infrastructure fee."""

    #: Share of fees paid online by bank transfer (the rest at the counter).
    online_share: Share = 0.5
    #: From an online payment to the collector's confirmation.
    online_confirmation_s: Distribution = Exponential(kind="exponential", mean=600)


def _staff(officers: int, low: float, mode: float, high: float) -> AgencyStaff:
    return AgencyStaff(officers=officers, service_s=Triangular(kind="triangular", low=low, mode=mode, high=high))


def _reviewing(officers: int, low: float, mode: float, high: float) -> ReviewingAgency:
    return ReviewingAgency(officers=officers, service_s=Triangular(kind="triangular", low=low, mode=mode, high=high))


class Agencies(BaseModel):
    """Every agency working the gate. A role with 0 officers does not work here."""

    model_config = FROZEN
    medical: AgencyStaff = Field(default_factory=lambda: _staff(2, 30, 60, 120))
    border_guard: ReviewingAgency = Field(default_factory=lambda: _reviewing(4, 60, 120, 300))
    health_quarantine: ReviewingAgency = Field(default_factory=lambda: _reviewing(1, 300, 600, 1200))
    animal_quarantine: ReviewingAgency = Field(default_factory=lambda: _reviewing(1, 300, 900, 1800))
    plant_quarantine: ReviewingAgency = Field(default_factory=lambda: _reviewing(2, 300, 600, 1200))
    customs: CustomsStaff = Field(
        default_factory=lambda: CustomsStaff(officers=4, service_s=Triangular(kind="triangular", low=60, mode=180, high=600))
    )
    fee_collector: FeeCollection = Field(
        default_factory=lambda: FeeCollection(officers=1, service_s=Triangular(kind="triangular", low=30, mode=60, high=180))
    )

    def for_role(self, role: Role) -> AgencyStaff:
        """The staff of ``role``; raises ``KeyError`` for a role that is not an agency's."""
        # Only the agency asked for is read: the others may not have validated (scenarios.partial).
        staff: AgencyStaff = getattr(self, _AGENCY_OF_ROLE[role])
        return staff

