"""Congestion risk on the approach corridor and the channelling advice it leads to.

The estimate is deliberately simple and monotone, so officers can reason about it:

    pressure = (trucks reported within the horizon + trucks waiting at staging)
               / (trucks the gate clears in the current hour of the day)
    risk     = min(1, max(pressure, fullest yard class's fill ratio))

In an hour when the gate clears nothing (``hourly_capacity_per_h``: the border guards' night,
say) any truck approaching or waiting makes the risk 1.

Above ``hold_above`` the core advises traffic police to hold arrivals at staging and release at
the rate the gate can absorb; below ``release_below`` it advises free release. Between the two
nothing changes (hysteresis), so the advice does not flicker. All updates are O(1).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gate.config import TrafficConfig
from gate.enums import TrafficAction

if TYPE_CHECKING:
    from gate.visit import Visit


# Bound once: ``assess`` runs on every GPS ping, and reading a member off its Enum class is slow
# in Python 3.11 (it goes through EnumType's ``__getattr__`` hook).
_HOLD, _RELEASE = TrafficAction.HOLD, TrafficAction.RELEASE


class Corridor:
    """How many vehicles on their way in last reported a position within the horizon.

    Each visit keeps the distance it last reported (``Visit.km_to_gate``, None once it is no
    longer on the way in), so a ping touches the visit it is about and nothing else.
    """

    __slots__ = ("config", "within_horizon", "action", "risk", "yard_fill")

    def __init__(self, config: TrafficConfig) -> None:
        self.config = config
        self.within_horizon = 0
        self.action = TrafficAction.RELEASE
        self.risk = 0.0
        self.yard_fill = 0.0

    def ping(self, visit: Visit, km: float) -> None:
        """Record a vehicle's reported distance to the gate."""
        horizon = self.config.horizon_km
        before = visit.km_to_gate
        if before is not None and before <= horizon:
            self.within_horizon -= 1
        visit.km_to_gate = km
        if km <= horizon:
            self.within_horizon += 1

    def arrived(self, visit: Visit) -> None:
        """The vehicle reached the gate area (or left the flow): it no longer approaches."""
        before = visit.km_to_gate
        if before is not None:
            visit.km_to_gate = None
            if before <= self.config.horizon_km:
                self.within_horizon -= 1

    def capacity_per_h(self, now: float) -> float:
        """Trucks the gate clears per hour at ``now`` (its hour of the day, when given by hour)."""
        hourly = self.config.hourly_capacity_per_h
        if hourly is None:
            return self.config.gate_capacity_per_h
        return hourly[int(now // 3600.0) % 24]

    def assess(self, staging_waiting: int, yard_fill: float, now: float) -> TrafficAction | None:
        """Update the risk at ``now``; return the new advice when it changes, else None."""
        self.yard_fill = yard_fill
        waiting = self.within_horizon + staging_waiting
        capacity = self.capacity_per_h(now)
        pressure = waiting / capacity if capacity > 0 else (1.0 if waiting else 0.0)
        self.risk = min(1.0, max(pressure, yard_fill))
        if self.action is _RELEASE and self.risk >= self.config.hold_above:
            self.action = _HOLD
            return self.action
        if self.action is _HOLD and self.risk <= self.config.release_below:
            self.action = _RELEASE
            return self.action
        return None

    def release_rate_per_h(self, now: float) -> float:
        """What the gate can absorb at ``now``: its pace when free; while holding, the yard's free share of it."""
        capacity = self.capacity_per_h(now)
        if self.action is TrafficAction.HOLD:
            return capacity * max(0.0, 1.0 - self.yard_fill)
        return capacity
