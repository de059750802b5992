"""Yard capacity and the staging queue.

The yard counts vehicles by class from the yard-gate plate reads, plus the slots *reserved* for
vehicles called forward from staging and still on their way in. A vehicle is called forward only
when a slot of its class is free, so the yard never overfills through the core's own doing.

Staging keeps arrival order, per vehicle class, with an optional priority lane for perishable
goods. Removing a vehicle from the middle (it was returned, refused, or released by hand) is lazy:
its id is forgotten and skipped when it reaches the head. Every operation is O(1) amortised, but
listing the vehicles of one area for a release by hand, which costs what the area holds.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from typing import NamedTuple

from gate.config import YardConfig
from gate.enums import VehicleClass


class RefusedInside(NamedTuple):
    """A vehicle refused while in the yard, still parked there: its visit is closed, its slot is not."""

    visit_id: str
    vehicle_class: VehicleClass
    review_id: str


class Yard:
    """Parking slots by vehicle class: occupied (counted by the yard-gate cameras) and reserved.

    A vehicle refused inside the yard keeps filling its slot until it is seen out of the yard or
    an officer says it has gone: ``refused_inside`` holds it by plate, and ``occupied`` counts it.
    """

    __slots__ = ("capacity", "occupied", "reserved", "_fill", "refused_inside", "_refused_review")

    def __init__(self, config: YardConfig) -> None:
        self.capacity: dict[VehicleClass, int | None] = {c: config.capacity.get(c) for c in VehicleClass}
        self.occupied: dict[VehicleClass, int] = {c: 0 for c in VehicleClass}
        self.reserved: dict[VehicleClass, int] = {c: 0 for c in VehicleClass}
        # ``fill_ratio`` as last computed, None once a count changed: it is read on every GPS ping,
        # and the counts change only through the methods below.
        self._fill: float | None = None
        self.refused_inside: dict[str, RefusedInside] = {}
        self._refused_review: dict[str, str] = {}  # review id -> plate

    def has_room(self, vehicle_class: VehicleClass) -> bool:
        """Whether one more vehicle of this class fits, counting slots held for vehicles on their way."""
        cap = self.capacity[vehicle_class]
        return cap is None or self.occupied[vehicle_class] + self.reserved[vehicle_class] < cap

    def reserve(self, vehicle_class: VehicleClass) -> None:
        """Hold a slot for a vehicle called forward."""
        self.reserved[vehicle_class] += 1
        self._fill = None

    def cancel_reservation(self, vehicle_class: VehicleClass) -> None:
        """Give a held slot back."""
        if self.reserved[vehicle_class] > 0:
            self.reserved[vehicle_class] -= 1
            self._fill = None

    def enter(self, vehicle_class: VehicleClass, had_reservation: bool) -> None:
        """A vehicle entered the yard (using its held slot, if it had one)."""
        if had_reservation:
            self.cancel_reservation(vehicle_class)
        self.occupied[vehicle_class] += 1
        self._fill = None

    def leave(self, vehicle_class: VehicleClass) -> None:
        """A vehicle left the yard."""
        if self.occupied[vehicle_class] > 0:
            self.occupied[vehicle_class] -= 1
            self._fill = None

    def hold_refused(self, plate: str, held: RefusedInside) -> None:
        """A vehicle refused inside the yard stays until it is seen leaving: its slot stays taken."""
        self.refused_inside[plate] = held
        self._refused_review[held.review_id] = plate

    def refused_plate_of(self, review_id: str) -> str | None:
        """The plate of the refused vehicle a review asks people to see out of the yard, or None."""
        return self._refused_review.get(review_id)

    def release_refused(self, plate: str) -> RefusedInside | None:
        """A refused vehicle is out of the yard: its slot frees. Returns what was held, or None."""
        held = self.refused_inside.pop(plate, None)
        if held is not None:
            del self._refused_review[held.review_id]
            self.leave(held.vehicle_class)
        return held

    @property
    def total_occupied(self) -> int:
        """Vehicles in the yard, all classes."""
        return sum(self.occupied.values())

    def fill_ratio(self) -> float:
        """The fullest class's share of its capacity (0 when every class is unlimited)."""
        if self._fill is not None:
            return self._fill
        ratio = 0.0
        for c, cap in self.capacity.items():
            if cap is not None:
                used = self.occupied[c] + self.reserved[c]
                ratio = max(ratio, 1.0 if cap == 0 else used / cap)
        self._fill = ratio
        return ratio


class Staging:
    """Vehicles waiting at the staging areas to be called forward.

    One entry per waiting vehicle holds its class, area and place in line, so that adding or
    forgetting a vehicle is one lookup in one table however many vehicles wait. The queues by
    class are cut lazily: a forgotten vehicle is skipped when it reaches the head, and only the
    place it holds now counts (a vehicle that left and came back queues anew, at the back).
    Each area also keeps its vehicles in arrival order, for releases from that area by hand.

    A vehicle may wait at staging before it can be called at all (its medical check, made at the
    staging area, has not passed yet; or it missed so many calls that it is called no more until
    it is heard from): it counts in its area but holds no place in the queues until
    ``mark_ready`` gives it one, at the back, so vehicles are called in the order they became
    ready.
    """

    __slots__ = ("_queues", "_entries", "_areas", "_places", "perishable_priority", "area_capacity", "area_count",
                 "class_count")

    def __init__(self, config: YardConfig) -> None:
        self.perishable_priority = config.perishable_priority
        self.area_capacity: dict[str, int] = dict(config.staging_areas)
        self.area_count: dict[str, int] = {a: 0 for a in config.staging_areas}
        # (vehicle class, perishable first) -> (place, visit id) in arrival order
        self._queues: dict[tuple[VehicleClass, bool], deque[tuple[int, str]]] = {
            (c, p): deque() for c in VehicleClass for p in (True, False)
        }
        # visit id -> (vehicle class, staging area or None when it waits on the road, perishable first, place)
        self._entries: dict[str, tuple[VehicleClass, str | None, bool, int]] = {}
        # staging area -> the ids waiting there, in arrival order
        self._areas: dict[str, dict[str, None]] = {a: {} for a in config.staging_areas}
        self._places = 0
        #: Vehicles that may be called, by class (those still waiting for their checks left out).
        self.class_count: dict[VehicleClass, int] = {c: 0 for c in VehicleClass}

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, visit_id: str) -> bool:
        return visit_id in self._entries

    def __iter__(self) -> Iterator[str]:
        """The ids of the waiting vehicles, in no particular order."""
        return iter(self._entries)

    def area_of(self, visit_id: str) -> str | None:
        """The staging area a waiting vehicle is in (None when it waits on the road or not at all)."""
        entry = self._entries.get(visit_id)
        return entry[1] if entry is not None else None

    def choose_area(self) -> str | None:
        """The nearest staging area with room, or None when all are full."""
        for area, cap in self.area_capacity.items():
            if self.area_count[area] < cap:
                return area
        return None

    def add(self, visit_id: str, vehicle_class: VehicleClass, perishable: bool, area: str | None,
            ready: bool = True) -> None:
        """Put a vehicle at the back of its class's queue (or the perishable queue) in ``area``;
        one not ``ready`` waits in ``area`` without a place in the queue until ``mark_ready``."""
        entries = self._entries
        if visit_id in entries:
            return
        first = perishable and self.perishable_priority
        entries[visit_id] = (vehicle_class, area, first, 0)
        if ready:
            self._queue(visit_id)
        if area is not None:
            self.area_count[area] = self.area_count.get(area, 0) + 1
            self._areas.setdefault(area, {})[visit_id] = None

    def _queue(self, visit_id: str) -> None:
        vehicle_class, area, first, _ = self._entries[visit_id]
        self._places += 1
        self._queues[(vehicle_class, first)].append((self._places, visit_id))
        self._entries[visit_id] = (vehicle_class, area, first, self._places)
        self.class_count[vehicle_class] += 1

    def mark_ready(self, visit_id: str) -> bool:
        """A waiting vehicle may now be called: it takes its place at the back of its queue.
        Returns whether it was waiting without a place (False for one already queued, or unknown)."""
        entry = self._entries.get(visit_id)
        if entry is None or entry[3]:
            return False
        self._queue(visit_id)
        return True

    def is_ready(self, visit_id: str) -> bool:
        """Whether a waiting vehicle holds a place in the queues (False when not waiting at all)."""
        entry = self._entries.get(visit_id)
        return entry is not None and entry[3] != 0

    def discard(self, visit_id: str) -> str | None:
        """Forget a waiting vehicle (it left staging some other way); returns the area it waited in."""
        entry = self._entries.pop(visit_id, None)
        if entry is None:
            return None
        vehicle_class, area = entry[0], entry[1]
        if entry[3]:
            self.class_count[vehicle_class] -= 1
        if area is not None:
            self.area_count[area] -= 1
            del self._areas[area][visit_id]
        return area

    def pop_next(self, vehicle_class: VehicleClass) -> tuple[str, str | None] | None:
        """The next vehicle of this class to call forward (perishables first if prioritised), with
        the area it waited in; None when none of the class waits."""
        entries = self._entries
        for perishable in (True, False):
            queue = self._queues[(vehicle_class, perishable)]
            while queue:
                place, visit_id = queue.popleft()
                entry = entries.get(visit_id)
                if entry is not None and entry[3] == place:
                    return visit_id, self.discard(visit_id)
        return None

    def in_area(self, area: str) -> list[str]:
        """The vehicles waiting in ``area``, in the order they are called forward: those that may be
        called before those still waiting for their checks, perishables first when they have
        priority, then by arrival, whatever their class. O(vehicles in the area)."""
        waiting = self._areas.get(area)
        if not waiting:
            return []
        entries = self._entries
        # stable: arrival order kept within each group
        return sorted(waiting, key=lambda visit_id: (not entries[visit_id][3], not entries[visit_id][2]))

    def waiting_in(self, area: str) -> int:
        """Vehicles waiting in one staging area."""
        return self.area_count.get(area, 0)
