"""The traffic police at the staging checkpoint, as a Mesa agent.

They apply the platform's advice (DOMAIN.md, step 2: "police hold or release trucks"):

* **Directing.** A truck that must wait at the checkpoint stops on the road first. When the
  core's general advice is HOLD (congestion risk high), or the core holds this truck itself
  (its class has no free yard slot), the police send it into the first staging area with room.
  A driver whose habit is to ignore the police stays on the road; a driver who obeys but finds
  every area full stays on the road too, and counts as *spilled*. While the advice is RELEASE
  the police leave waiting trucks where they stopped: the road queue is expected to be short.
* **Patrolling.** Every patrol they move obeying drivers from the road into areas that have
  room again, in the order the trucks arrived, under the same conditions; those they find no
  room for count as spilled, like a driver who found every area full on arrival.
* **Releasing by hand.** When an area is full, at least ``overflow_spill`` obeying drivers are
  spilled on the road, the core is holding trucks in that area for a full yard, and the gate's
  forecourt has room for them, the police order the core to release up to ``release_batch`` of
  them (``gate.events.StagingReleaseOrdered``); they wait at barrier 1 for a yard slot
  instead of blocking the area. At most one such order per ``release_cooldown_s``.
* **Letting trucks on.** A truck the core has called forward drives on to barrier 1 only when
  the forecourt in front of it has room; the police let waiting trucks on in the order the
  core called them, wherever they waited.

The police decide; the twin carries the decisions out (moves the trucks, sends the order).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import mesa

if TYPE_CHECKING:
    from agents.corridor import Corridor, Driver

#: The platform account the traffic police act under (the twin grants it the traffic-police role).
POLICE_ACCOUNT = "traffic_police-1"
_ROAD = "road"


@dataclass(slots=True)
class PatrolOrders:
    """What one patrol decided: trucks to move from the road into areas, and a release to order."""

    moves: list[tuple[Driver, str]] = field(default_factory=list)
    #: (staging area, number of trucks) for ``StagingReleaseOrdered``, or None.
    release: tuple[str, int] | None = None


class TrafficPolice(mesa.Agent):
    """The traffic police of the staging checkpoint; see the module docstring.

    Attributes:
        directed: Trucks sent into a staging area (on arrival or on patrol).
        ignored: Orders a driver did not follow.
        spills: Obeying drivers left on the road because every area was full.
        releases, released: Manual release orders, and the trucks they asked for.
    """

    def __init__(self, model: Corridor, *, channelling: bool, overflow_spill: int, release_batch: int,
                 release_cooldown_s: float) -> None:
        super().__init__(model)
        self._corridor = model
        if overflow_spill < 1 or release_batch < 1 or release_cooldown_s < 0:
            raise ValueError("police: overflow_spill and release_batch must be at least 1, the cooldown at least 0")
        self.channelling = channelling
        self.overflow_spill = overflow_spill
        self.release_batch = release_batch
        self.release_cooldown_s = release_cooldown_s
        self.directed = 0
        self.ignored = 0
        self.spills = 0
        self.releases = 0
        self.released = 0
        self._next_release = -math.inf

    @property
    def corridor(self) -> Corridor:
        """The corridor the police work on."""
        return self._corridor

    def _channels(self, driver: Driver) -> bool:
        """Whether the advice says this waiting truck belongs in a staging area."""
        return self.channelling and (self.corridor.hold or not driver.called)

    def _area_with_room(self) -> str | None:
        corridor = self.corridor
        for area in corridor.capacity:
            if corridor.room(area) >= 1:
                return area
        return None

    def direct(self, driver: Driver) -> str | None:
        """Where a truck waiting on the road should go now: a staging area, or None to stay."""
        if driver.place != _ROAD or not self._channels(driver):
            return None
        if not driver.obeys:
            self.ignored += 1
            return None
        area = self._area_with_room()
        if area is None:
            self._spill(driver)
            return None
        self.directed += 1
        return area

    def _spill(self, driver: Driver) -> None:
        """An obeying driver who belongs in an area stays on the road: every area is full (counted once)."""
        if not driver.spilled:
            driver.spilled = True
            self.spills += 1

    def patrol(self, now: float, forecourt_room: int) -> PatrolOrders:
        """Move obeying drivers off the road where the advice says so; order a release on overflow."""
        orders = PatrolOrders()
        if not self.channelling:
            return orders
        corridor = self.corridor
        free = {area: corridor.room(area) for area in corridor.capacity}
        for driver in corridor.road.values():
            if not driver.obeys or not self._channels(driver):
                continue
            area = next((a for a, n in free.items() if n >= 1), None)
            if area is None:  # e.g. called forward under RELEASE, and the advice has turned to HOLD
                self._spill(driver)
                continue
            free[area] -= 1
            orders.moves.append((driver, area))
            self.directed += 1
        if now >= self._next_release and forecourt_room > 0:
            orders.release = self._overflow_release(free, forecourt_room)
            if orders.release is not None:
                self._next_release = now + self.release_cooldown_s
                self.releases += 1
                self.released += orders.release[1]
        return orders

    def _overflow_release(self, free: dict[str, float], forecourt_room: int) -> tuple[str, int] | None:
        corridor = self.corridor
        spilled = sum(1 for d in corridor.road.values() if d.spilled and d.obeys)
        if spilled < self.overflow_spill:
            return None
        for area, room in free.items():
            if room >= 1:
                continue
            held = sum(1 for d in corridor.occupants[area].values() if not d.called)
            count = min(self.release_batch, held, forecourt_room)
            if count > 0:
                return area, count
        return None

    def release_to_forecourt(self, room: int) -> list[Driver]:
        """The trucks that may drive on to barrier 1 now: the first ``room`` the core called forward."""
        if room <= 0:
            return []
        waiting = self.corridor.awaiting_forecourt
        going: list[Driver] = []
        for driver in waiting.values():
            if len(going) >= room:
                break
            going.append(driver)
        for driver in going:
            del waiting[driver.visit_id]
        return going
