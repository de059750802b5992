"""Drivers on the approach corridor as Mesa agents, and the places where trucks wait.

The corridor is the road from where trucks are first tracked (``road_km`` from the staging
checkpoint) to the checkpoint. Positions are kilometres *to the checkpoint*, so they fall as a
truck drives in. Trucks waiting to go on to the gate stand either in a staging area (off the
road) or on the road, where they form the road queue: its back is ``queue_tail_km`` from the
checkpoint (the twin sets it from its road-queue counter before every step).

Driving, per step of ``step_s`` seconds, front truck first:

* each driver wants its own speed (``desired_kmh``), and slows down when closing in on the
  back of a standing queue: within ``slow_zone_km`` of it, its speed falls in proportion to the
  distance left, down to ``creep_share`` of its own speed;
* nobody overtakes (a two-lane mountain road with oncoming trucks), and nobody gets closer to
  the truck ahead than the jam spacing plus ``min_gap_s`` at its speed, so fast drivers bunch
  behind slow ones;
* a driver who reaches the back of the queue (or the checkpoint when there is none) has
  arrived; arrivals keep the same minimum headway in time.

Steps look ahead: the step at time T moves everyone to T + step_s and reports the exact time,
within the step, at which each arriving truck gets there. A truck that joins between two steps
is first moved on its own to the next step. Only the drivers on the road (the ``active``
AgentSet) are stepped; trucks waiting at the checkpoint are not.

This module never touches a clock or the core: the twin calls ``enter``/``advance`` from its
SimPy processes and reports the positions to the core as GPS pings.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import mesa
from mesa.agent import AgentSet
import numpy as np

from agents.police import TrafficPolice

HOUR = 3600.0
#: The place name of the road queue (staging areas are named by the layout).
ROAD = "road"
#: No driver's own speed leaves this range (km/h), whatever the spread.
_SPEED_RANGE = (5.0, 120.0)
#: Most road segments the series count trucks in: each is a column of every sample.
MAX_SEGMENTS = 1000


@dataclass(frozen=True, slots=True)
class Arrival:
    """A driver who reaches the back of the queue (or the checkpoint) at ``time``."""

    driver: Driver
    time: float


class Driver(mesa.Agent):
    """One truck's driver, from the start of the tracked road to leaving the checkpoint.

    Attributes:
        visit_id, plate: The truck's visit and plate (for its GPS pings).
        desired_kmh: The speed the driver drives at on a free road.
        obeys: The driver's habit: whether it follows the traffic police's orders.
        km: Distance to the checkpoint at time ``t``; ``speed_kmh`` its speed over the last step.
        place: Where it waits at the checkpoint (``ROAD`` or a staging area), None while driving.
        called: Whether the core has called it forward (it waits only for room in the forecourt).
        spilled: Whether it obeyed an order to a staging area but found every area full.
        drove: False for a truck put back at the checkpoint without driving the road.
    """

    def __init__(self, model: Corridor, visit_id: str, plate: str, desired_kmh: float, obeys: bool,
                 km: float, now: float) -> None:
        super().__init__(model)
        self.visit_id = visit_id
        self.plate = plate
        self.desired_kmh = desired_kmh
        self.obeys = obeys
        self.km = km
        self.t = now
        self.speed_kmh = desired_kmh
        self.entered_at = now
        self.arrived_at: float | None = None
        self.place: str | None = None
        self.place_since = now
        self.called = False
        self.spilled = False
        self.drove = True
        self.road_s = 0.0
        self.area_s = 0.0
        self.moves = 0

    def step(self) -> None:
        """Drive to the model's step horizon behind whatever is ahead (see the module docstring)."""
        m: Corridor = self.model
        target = m.horizon
        dt = target - self.t
        limit = m.limit_km
        if dt <= 0:
            m.limit_km = self.km + m.spacing_km(self.speed_kmh)
            m.limit_is_tail = False
            return
        to_tail = self.km - m.queue_tail_km
        factor = min(1.0, max(m.creep_share, to_tail / m.slow_zone_km))
        speed = self.desired_kmh * factor
        reach_km = self.km - speed * dt / HOUR
        if m.limit_is_tail and reach_km <= limit:
            # Reaches the back of the queue within this step: when exactly, kept a headway behind the last arrival.
            at = self.t + max(0.0, self.km - limit) / speed * HOUR
            at = max(at, m.last_arrival + m.min_gap_s + m.jam_spacing_km / speed * HOUR)
            if at <= target:
                self.speed_kmh = speed
                self.km = limit
                self.t = at
                self.arrived_at = at
                m.last_arrival = at
                m.arrivals.append(Arrival(self, at))
                return  # the lane behind it is clear up to the back of the queue
        new_km = max(limit, reach_km)
        self.speed_kmh = max(0.0, (self.km - new_km) / dt * HOUR)
        self.km = new_km
        self.t = target
        m.limit_km = new_km + m.spacing_km(self.speed_kmh)
        m.limit_is_tail = False


class Corridor(mesa.Model):
    """The approach road, its drivers, the staging areas and the traffic police.

    Args:
        rng: The corridor's random stream (drivers' habits; it also seeds Mesa's generators).
        road_km: Length of the tracked road up to the checkpoint.
        speed_kmh: Mean of the drivers' own speeds; ``speed_cv`` their spread.
        compliance: Share of drivers who obey the traffic police (a habit per driver).
        jam_spacing_m: Road length one standing truck takes (the road queue's spacing).
        min_gap_s: Time gap a moving driver keeps to the truck ahead.
        slow_zone_km, creep_share: How drivers slow down at the back of a standing queue.
        segment_km: Length of the segments the series count trucks in.
        areas: Staging areas by name and capacity (``math.inf`` for unlimited).
        channelling: Whether traffic police channel traffic into the staging areas at all.
        overflow_spill, release_batch, release_cooldown_s: The police's manual release rule.
    """

    def __init__(self, *, rng: np.random.Generator, road_km: float, speed_kmh: float, speed_cv: float,
                 compliance: float, jam_spacing_m: float, min_gap_s: float, slow_zone_km: float,
                 creep_share: float, segment_km: float, areas: Mapping[str, float], channelling: bool,
                 overflow_spill: int, release_batch: int, release_cooldown_s: float) -> None:
        super().__init__(rng=rng)
        if road_km <= 0 or speed_kmh <= 0 or segment_km <= 0 or slow_zone_km <= 0:
            raise ValueError("corridor: road_km, speed_kmh, segment_km and slow_zone_km must be positive")
        if not 0.0 < creep_share <= 1.0:
            raise ValueError(f"corridor: creep_share must be in (0, 1] (got {creep_share})")
        self.road_km = road_km
        self.speed_kmh = speed_kmh
        self.speed_cv = speed_cv
        self.compliance = compliance
        self.jam_spacing_km = jam_spacing_m / 1000.0
        self.min_gap_s = min_gap_s
        self.slow_zone_km = slow_zone_km
        self.creep_share = creep_share
        self.segments = max(1, math.ceil(road_km / segment_km - 1e-9))
        if self.segments > MAX_SEGMENTS:
            raise ValueError(f"corridor: segment_km: {segment_km:g} km cuts the {road_km:g} km road into "
                             f"{self.segments:,} segments; at most {MAX_SEGMENTS:,}")
        self.segment_km = segment_km
        self.capacity: dict[str, float] = dict(areas)
        self.occupants: dict[str, dict[str, Driver]] = {area: {} for area in areas}
        self.road: dict[str, Driver] = {}  # waiting on the road at the checkpoint, in arrival order
        self.awaiting_forecourt: dict[str, Driver] = {}  # called forward, in call order
        self.active = AgentSet([], random=self.random)
        self.queue_tail_km = 0.0
        self.hold = False
        self.now = 0.0
        self.horizon = 0.0
        self.limit_km = 0.0
        self.limit_is_tail = True
        self.last_arrival = -math.inf
        self.arrivals: list[Arrival] = []
        self.passages = 0
        #: Drivers per segment at the last observation: counted once per sample, not once per column.
        self.segment_counts = [0] * self.segments
        self.police = TrafficPolice(self, channelling=channelling, overflow_spill=overflow_spill,
                                    release_batch=release_batch, release_cooldown_s=release_cooldown_s)
        reporters: dict[str, object] = {
            "time_h": lambda m: m.now / HOUR,
            "driving": lambda m: len(m.active),
            "mean_speed_kmh": lambda m: m.mean_speed_kmh(),
        }
        for k in range(self.segments):
            low, high = k * segment_km, min(road_km, (k + 1) * segment_km)
            reporters[f"trucks_km_{low:g}_{high:g}"] = lambda m, k=k: m.segment_counts[k]
        reporters.update({
            "waiting_on_road": lambda m: len(m.road),
            "waiting_in_areas": lambda m: sum(len(o) for o in m.occupants.values()),
            "awaiting_forecourt": lambda m: len(m.awaiting_forecourt),
            "hold_advice": lambda m: int(m.hold),
            "manual_releases": lambda m: m.police.releases,
        })
        self.collector = mesa.DataCollector(model_reporters=reporters, tables={"passages": list(_PASSAGE_COLUMNS)})

    # ------------------------------------------------------------------ drivers' habits

    def draw_habits(self, trips: int) -> tuple[np.ndarray, np.ndarray]:
        """Own speed (km/h) and obedience of the drivers of ``trips`` trucks, in truck order.

        Drawn once for the whole run, so a truck's driver is the same person whatever else changes
        (e.g. with and without channelling).
        """
        if self.speed_cv > 0:
            sigma2 = math.log1p(self.speed_cv ** 2)
            factors = self.rng.lognormal(-sigma2 / 2, math.sqrt(sigma2), size=trips)
        else:
            factors = np.ones(trips)
        speeds = np.clip(self.speed_kmh * factors, *_SPEED_RANGE)
        obeys = self.rng.random(trips) < self.compliance
        return speeds, obeys

    # ------------------------------------------------------------------ driving

    def spacing_km(self, speed_kmh: float) -> float:
        """Least distance a driver keeps to the truck ahead at ``speed_kmh``."""
        return self.jam_spacing_km + speed_kmh * self.min_gap_s / HOUR

    def enter(self, visit_id: str, plate: str, desired_kmh: float, obeys: bool, now: float,
              next_step: float) -> tuple[Driver, Arrival | None]:
        """A truck starts the tracked road at ``now``; it is moved on its own up to ``next_step``.

        It starts behind the last driver on the road if that one is still within a spacing of
        the start (a jam at the entrance). Returns the driver, and its arrival if it reaches the
        back of the queue before ``next_step``.
        """
        last = self.active[-1] if len(self.active) else None
        km = self.road_km
        if last is not None:
            km = max(km, last.km + self.spacing_km(last.speed_kmh))
        driver = Driver(self, visit_id, plate, desired_kmh, obeys, km, now)
        self.active.add(driver)
        self.horizon = next_step
        self.limit_km = self.queue_tail_km if last is None else last.km + self.spacing_km(last.speed_kmh)
        self.limit_is_tail = last is None
        self.arrivals = []
        driver.step()
        return driver, self._take_arrivals()[0] if self.arrivals else None

    def at_checkpoint(self, visit_id: str, plate: str, desired_kmh: float, obeys: bool, now: float) -> Driver:
        """A truck back at the checkpoint without driving the road (sent back from barrier 1)."""
        driver = Driver(self, visit_id, plate, desired_kmh, obeys, 0.0, now)
        driver.arrived_at = now
        driver.drove = False
        return driver

    def advance(self, now: float, horizon: float) -> list[Arrival]:
        """Move every driver on the road from ``now`` to ``horizon``, front first; who arrives, and when."""
        self.now = now
        self.horizon = horizon
        self.limit_km = self.queue_tail_km
        self.limit_is_tail = True
        self.arrivals = []
        self.active.do("step")
        return self._take_arrivals()

    def _take_arrivals(self) -> list[Arrival]:
        arrivals, self.arrivals = self.arrivals, []
        for arrival in arrivals:
            self.active.remove(arrival.driver)
        return arrivals

    def trucks_by_segment(self) -> list[int]:
        """Drivers on the road per segment, from the checkpoint out (beyond the road: the last one)."""
        counts = [0] * self.segments
        for driver in self.active:
            counts[min(self.segments - 1, int(max(0.0, driver.km) / self.segment_km))] += 1
        return counts

    def mean_speed_kmh(self) -> float:
        """Mean speed of the drivers on the road over their last step (NaN when nobody drives)."""
        speeds = [d.speed_kmh for d in self.active]
        return float(np.mean(speeds)) if speeds else math.nan

    # ------------------------------------------------------------------ waiting at the checkpoint

    def room(self, area: str) -> float:
        """Free places in a staging area."""
        return self.capacity[area] - len(self.occupants[area])

    def place(self, driver: Driver, where: str, now: float) -> str | None:
        """Put a waiting truck on the road or in a staging area; returns where it was before."""
        before = driver.place
        if before == where:
            return before
        if where != ROAD and self.room(where) < 1:
            raise ValueError(f"corridor: staging area {where} is full ({self.capacity[where]:g} trucks)")
        self._account(driver, now)
        if before is not None:
            driver.moves += 1
        self._forget_place(driver)
        (self.road if where == ROAD else self.occupants[where])[driver.visit_id] = driver
        driver.place = where
        if where != ROAD:
            driver.spilled = False
        return before

    def leave(self, driver: Driver, now: float) -> str | None:
        """The truck leaves the checkpoint (on to the gate, or away); returns where it waited last."""
        before = driver.place
        self._account(driver, now)
        self._forget_place(driver)
        self.awaiting_forecourt.pop(driver.visit_id, None)
        driver.place = None
        self.passages += 1
        self.collector.add_table_row("passages", {
            "visit_id": driver.visit_id, "entered_s": driver.entered_at,
            "approach_s": self._approach_s(driver, now),
            "desired_kmh": driver.desired_kmh, "obeys": bool(driver.obeys), "road_wait_s": driver.road_s,
            "area_wait_s": driver.area_s, "police_moves": driver.moves, "left_s": now,
        })
        return before

    @staticmethod
    def _approach_s(driver: Driver, now: float) -> float:
        """Seconds the truck drove the road to the back of the queue; NaN if it did not drive it."""
        if not driver.drove:
            return math.nan
        return (driver.arrived_at if driver.arrived_at is not None else now) - driver.entered_at

    def _account(self, driver: Driver, now: float) -> None:
        if driver.place == ROAD:
            driver.road_s += now - driver.place_since
        elif driver.place is not None:
            driver.area_s += now - driver.place_since
        driver.place_since = now

    def _forget_place(self, driver: Driver) -> None:
        if driver.place == ROAD:
            self.road.pop(driver.visit_id, None)
        elif driver.place is not None:
            self.occupants[driver.place].pop(driver.visit_id, None)

    def queue_for_forecourt(self, driver: Driver) -> None:
        """The core called the truck forward; it waits its turn for room in the forecourt."""
        self.awaiting_forecourt.setdefault(driver.visit_id, driver)

    def observe(self, now: float) -> None:
        """Sample the corridor's series at ``now`` (the twin calls this on its observation clock)."""
        self.now = now
        self.segment_counts = self.trucks_by_segment()
        self.collector.collect(self)


#: Columns of the per-passage table (one row each time a truck leaves the checkpoint).
_PASSAGE_COLUMNS = ("visit_id", "entered_s", "approach_s", "desired_kmh", "obeys", "road_wait_s", "area_wait_s",
                    "police_moves", "left_s")
