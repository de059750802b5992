"""The bare SimPy reference model: the same layout and the same trucks, nothing else.

The twin's speed is reported as a ratio against this model, measured in the same run
(ARCHITECTURE.md, "Performance budget"). It has the stations of the twin's gate with the
scenario's service times and the same arrival process, but no clearance core, no device
emulators, no probes and no people models: each truck queues for each resource in turn.

What it shares with the twin, station by station:

* the arrivals (the same ``arrivals`` stream) and the approach road's driving time;
* the yard slots per vehicle class, held from the call forward at staging to departure;
* the plate read at each checkpoint (the camera's latency, or an officer typing the plate
  where the layout has no cameras) and the driving times inside the gate (``DRIVE_S``);
* the agencies' officers, on their shifts (off shift a desk holds every slot ahead of the
  waiting tasks, as ``AgencyDesk`` does), perishables first where the scenario says so: the
  documentary check of a yellow declaration starts when the truck sets off, the medical check
  at staging (before the call forward, as the core has it by default), the border check at
  each barrier, quarantine, the fee at the counter for those
  who do not pay online, the physical inspection of a red truck (``inspection_s``) where there
  is no scanner to clear it, and the loading approval in the yard;
* the forecourt in front of the entry lanes (``layout.forecourt_per_lane``), taken from the
  call forward until barrier 1;
* the places at the lanes' barriers (``layout.barrier_places``: there a truck is read and
  checked while the trucks behind it wait), the barrier arms (one cycle up and one down per
  truck), the scales and the scanners;
* the closures (``scenario.closures``): the held-back arrivals, and while the gate is closed
  every desk off duty, trucks called forward held at staging and no arm raised, as in the twin.

Channel, cargo, vehicle class, online payment and transshipment are drawn with the scenario's
shares, one block of uniforms for all trucks. It answers no planner's question; it is the
cheapest honest SimPy model of the same flow.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import Any

import numpy as np
import simpy

from gate.deadlines import merge_spells
from gate.declaration import PERISHABLE_CATEGORIES
from gate.enums import GoodsCategory, Role, VehicleClass
from hardware_emulators.base import SortedPriorityResource
from scenarios.schema import Scenario
from scenarios.staff import AgencyStaff
from scenarios.values import capacity_value, clock_hours
from twin.fleet import arrival_times, closure_spells
from twin.run import run_gc
from twin.streams import Sampler, Streams, sampler
from twin.trucks import DRIVE_S
from twin.world import MANUAL_PLATE_S

HOUR = 3600.0
DAY = 24 * HOUR
_QUARANTINE = {GoodsCategory.LIVE_ANIMALS: Role.ANIMAL_QUARANTINE, GoodsCategory.ANIMAL_PRODUCTS: Role.ANIMAL_QUARANTINE,
               GoodsCategory.PLANTS_FRUIT: Role.PLANT_QUARANTINE, GoodsCategory.FOODSTUFF: Role.HEALTH_QUARANTINE}
#: "unlimited" officers or yard slots: enough that nobody ever waits for one.
_UNLIMITED = 100_000
#: Off-duty holds go ahead of every task (tasks use priority 0 or 1).
_OFF_DUTY = -1
ProcessGenerator = Generator[simpy.Event, Any, Any]


def off_duty(shifts: tuple[tuple[str, str], ...], horizon_s: float) -> list[tuple[float, float]]:
    """The spells in ``[0, horizon_s]`` when none of the daily ``shifts`` is on, as (start, end) seconds."""
    on: list[tuple[float, float]] = []
    for day in range(-1, math.ceil(horizon_s / DAY) + 1):
        for start, end in shifts:
            s, e = clock_hours(start) * HOUR, clock_hours(end) * HOUR
            on.append((s + day * DAY, (e if e > s else e + DAY) + day * DAY))
    on.sort()
    gaps: list[tuple[float, float]] = []
    covered = 0.0
    for s, e in on:
        if s > covered and covered < horizon_s:
            gaps.append((covered, min(s, horizon_s)))
        covered = max(covered, e)
    if covered < horizon_s:
        gaps.append((covered, horizon_s))
    return gaps


def closure_spans(scenario: Scenario) -> list[tuple[float, float]]:
    """The gate's closures as (start, end) seconds, in order."""
    return sorted(closure_spells(scenario))


class _Desk:
    """One agency's officers: a slot each, held by the roster while they are off duty."""

    def __init__(self, env: simpy.Environment, staff: AgencyStaff, service: Sampler, horizon_s: float,
                 closures: list[tuple[float, float]]) -> None:
        self.env = env
        self.count = _UNLIMITED if staff.officers == "unlimited" else int(staff.officers)
        self.slots = SortedPriorityResource(env, capacity=self.count)
        self.service = service
        spells = off_duty(staff.shifts, horizon_s)
        if closures:  # off duty through the closures it does not work through (``Closure.staffed``)
            spells = list(merge_spells(tuple(spells + [(s, min(e, horizon_s)) for s, e in closures if s < horizon_s])))
        #: When the officers are off duty: outside their shifts, and through the closures.
        self.off_duty = tuple(spells)
        if spells:
            env.process(self._roster(spells))

    def _roster(self, spells: list[tuple[float, float]]) -> ProcessGenerator:
        env, slots = self.env, self.slots
        for start, end in spells:
            yield env.timeout(start - env.now)
            held = [slots.request(priority=_OFF_DUTY) for _ in range(self.count)]
            yield env.timeout(end - env.now)
            for request in held:
                if request.triggered:
                    slots.release(request)
                else:
                    request.cancel()

    def task(self, priority: int, service: Sampler | None = None) -> simpy.Process:
        return self.env.process(self._serve(priority, service or self.service))

    def _serve(self, priority: int, service: Sampler) -> ProcessGenerator:
        with self.slots.request(priority=priority) as officer:
            yield officer
            yield self.env.timeout(service())


class BareGate:
    """Resources and service times of one gate, for the reference model."""

    def __init__(self, env: simpy.Environment, scenario: Scenario, streams: Streams, trucks: int = 0) -> None:
        self.env = env
        self.scenario = scenario
        layout, devices, demand, agencies = scenario.layout, scenario.devices, scenario.demand, scenario.agencies
        horizon_s = scenario.run.horizon_h * HOUR
        self.closures = closure_spans(scenario)
        self.rng = rng = streams.get("bare")
        self.approach_s = demand.approach_road_km / demand.approach_speed_kmh * HOUR
        # The places at the lanes' barriers, where a truck is read and checked while those behind
        # wait (one pool per direction: the twin's lanes are balanced by their queues), and the
        # barrier arms, one per lane, each busy for a cycle up and a cycle down per truck. With
        # one place a lane, the place already lets one truck at a time through its arm.
        places = capacity_value(layout.barrier_places)
        self.entry_places = self.exit_places = None
        if places < math.inf:
            self.entry_places = simpy.Resource(env, capacity=layout.entry_lanes * int(places))
            self.exit_places = simpy.Resource(env, capacity=layout.exit_lanes * int(places))
        # The forecourt in front of the entry lanes: a truck called forward takes a place there
        # before it drives on, and gives it back once through barrier 1.
        fore = capacity_value(layout.forecourt_per_lane)
        self.forecourt = simpy.Resource(env, capacity=int(fore) * layout.entry_lanes) if fore < math.inf else None
        self.entry = simpy.Resource(env, capacity=layout.entry_lanes) if places != 1 else None
        self.exit = simpy.Resource(env, capacity=layout.exit_lanes) if places != 1 else None
        self.barrier_s = sampler(devices.barrier.cycle_s, rng)
        self.scales = simpy.Resource(env, capacity=layout.scales) if layout.scales else None
        self.settle_s = sampler(devices.scale.settle_s, rng)
        self.scanners = simpy.Resource(env, capacity=layout.scanner_count) if layout.scanner_count else None
        scanner_model = devices.scanners.drive_through
        if layout.scanners:
            scanner_model = getattr(devices.scanners, layout.scanners[0].type.value)
        self.scan_s = sampler(scanner_model.scan_s, rng)
        camera = devices.plate_camera
        self.read_s: Sampler = sampler(camera.latency_s, rng) if camera is not None else (lambda: MANUAL_PLATE_S)
        # Yard slots per vehicle class; a class the layout leaves out has none.
        self.yards: dict[VehicleClass, simpy.Resource | None] = {}
        for vehicle_class in VehicleClass:
            slots = capacity_value(layout.yard.get(vehicle_class, 0))
            self.yards[vehicle_class] = (simpy.Resource(env, capacity=_UNLIMITED if math.isinf(slots) else int(slots))
                                         if slots > 0 else None)
        self.desks: dict[Role, _Desk] = {}
        for role in (Role.MEDICAL, Role.BORDER_GUARD, Role.HEALTH_QUARANTINE, Role.ANIMAL_QUARANTINE,
                     Role.PLANT_QUARANTINE, Role.CUSTOMS, Role.FEE_COLLECTOR):
            staff = agencies.for_role(role)
            if staff.officers != 0:
                self.desks[role] = _Desk(env, staff, sampler(staff.service_s, rng), horizon_s,
                                         closure_spells(scenario, role))
        self.inspection_s = sampler(agencies.customs.inspection_s, rng)
        self.loading_s = sampler(agencies.customs.loading_s, rng)
        core = scenario.core
        self.medical = core.medical_check
        self.medical_first = core.call_when_checked  # checked at staging before the call forward
        self.border_checks = not core.automated_border_check
        self.p_red, self.p_yellow = core.risk.expected_red, core.risk.expected_yellow
        self.p_online = agencies.fee_collector.online_share
        self.p_transship = demand.transshipment_share
        self.perishables_first = demand.perishable.priority
        self.categories = list(demand.cargo_mix)
        self.cargo_cdf = _cdf([demand.cargo_mix[c] for c in self.categories])
        self.classes = list(demand.vehicle_class_mix)
        self.class_cdf = _cdf([demand.vehicle_class_mix[c] for c in self.classes])
        #: Per truck: channel, cargo, vehicle class, online payment, transshipment.
        self.uniforms = rng.random((trucks, 5))
        self.departed = 0

    def task(self, role: Role, priority: int, service: Sampler | None = None) -> simpy.Process | None:
        desk = self.desks.get(role)
        return desk.task(priority, service) if desk is not None else None

    def truck(self, index: int, arrival: float) -> ProcessGenerator:
        env = self.env
        u_channel, u_cargo, u_class, u_online, u_transship = self.uniforms[index].tolist()
        category = self.categories[int(np.searchsorted(self.cargo_cdf, u_cargo, side="right"))]
        vehicle_class = self.classes[int(np.searchsorted(self.class_cdf, u_class, side="right"))]
        red, yellow = u_channel < self.p_red, self.p_red <= u_channel < self.p_red + self.p_yellow
        priority = 0 if self.perishables_first and category in PERISHABLE_CATEGORIES else 1
        yield env.timeout(arrival - env.now)
        documents = self.task(Role.CUSTOMS, priority) if yellow else None  # checked while the truck drives in
        yield env.timeout(self.approach_s + self.read_s())  # the approach road, the plate read at staging
        yard = self.yards[vehicle_class]
        if yard is None:  # no slots for its class: it waits at staging for ever
            return
        medical = None
        if self.medical and self.medical_first:
            yield self.task(Role.MEDICAL, priority)  # type: ignore[misc]
        slot = yard.request()
        yield slot  # called forward
        if self.closures:  # called while the gate is closed: it waits at staging for the reopening
            yield from self._while_closed(0.0)
        forecourt = self.forecourt.request() if self.forecourt is not None else None
        if forecourt is not None:
            yield forecourt
        if self.medical and not self.medical_first:
            medical = self.task(Role.MEDICAL, priority)  # done by the time it reaches the barrier, or waited for there
        yield env.timeout(DRIVE_S["to_entry"])
        yield from self._barrier(self.entry_places, self.entry, priority, medical)
        if forecourt is not None:
            self.forecourt.release(forecourt)  # type: ignore[union-attr]
        if self.scales is not None:
            yield env.timeout(DRIVE_S["to_scale"])
            with self.scales.request() as scale:
                yield scale
                yield env.timeout(self.settle_s())
        scanned = red and self.scanners is not None
        if scanned:
            yield env.timeout(DRIVE_S["to_scanner"])
            with self.scanners.request() as scanner:  # type: ignore[union-attr]
                yield scanner
                yield env.timeout(self.scan_s())
        yield env.timeout(DRIVE_S["to_yard"] + self.read_s())
        work = [documents]
        if category in _QUARANTINE:
            work.append(self.task(_QUARANTINE[category], priority))
        if red and not scanned:  # a clear scan passes the inspection; without a scanner, customs inspect
            work.append(self.task(Role.CUSTOMS, priority, self.inspection_s))
        if u_online >= self.p_online:
            work.append(self.task(Role.FEE_COLLECTOR, 1))
        if u_transship < self.p_transship:
            work.append(self.task(Role.CUSTOMS, priority, self.loading_s))
        pending = [p for p in work if p is not None]
        if pending:
            yield env.all_of(pending)
        yield env.timeout(DRIVE_S["to_exit"] + self.read_s())  # the yard gate out, then the exit lane
        yield from self._barrier(self.exit_places, self.exit, priority, None)
        yard.release(slot)
        self.departed += 1

    def _barrier(self, places: simpy.Resource | None, arms: simpy.Resource | None, priority: int,
                 medical: simpy.Process | None) -> ProcessGenerator:
        """At a lane's barrier: the plate read, the checks, the arm up and down; in single file
        behind the trucks at the barrier when its places are limited."""
        env = self.env
        place = places.request() if places is not None else None
        if place is not None:
            yield place
        yield env.timeout(self.read_s())
        guard = self.task(Role.BORDER_GUARD, priority) if self.border_checks else None
        for check in (medical, guard):
            if check is not None:
                yield check
        arm = arms.request() if arms is not None else None
        if arm is not None:
            yield arm
        up, down = self.barrier_s(), self.barrier_s()
        if self.closures:  # the arm is not raised to be up while the gate is closed
            yield from self._while_closed(up)
        yield env.timeout(up + down)
        if arm is not None:
            arms.release(arm)  # type: ignore[union-attr]
        if place is not None:
            places.release(place)  # type: ignore[union-attr]

    def _while_closed(self, ahead: float) -> ProcessGenerator:
        """Wait until the gate is open now and ``ahead`` seconds from now."""
        env = self.env
        while True:
            reopens = next((end for start, end in self.closures
                            if start <= env.now + ahead and env.now < end), None)
            if reopens is None:
                return
            yield env.timeout(reopens - env.now)


def _cdf(shares: list[float]) -> np.ndarray:
    """The inner bounds of the shares on [0, 1): ``searchsorted(bounds, u, "right")`` picks one."""
    cdf = np.cumsum(np.asarray(shares, dtype=float))
    bounds: np.ndarray = cdf[:-1] / cdf[-1]
    return bounds


def run_bare(scenario: Scenario, replication: int = 0, seed: int | None = None) -> BareGate:
    """Run the reference model over the scenario's horizon with the twin's arrivals."""
    streams = Streams(scenario.run.seed if seed is None else seed, replication)
    env = simpy.Environment()
    arrivals = arrival_times(scenario, streams.get("arrivals"))
    gate = BareGate(env, scenario, streams, len(arrivals))
    for index, arrival in enumerate(arrivals.tolist()):
        env.process(gate.truck(index, arrival))
    with run_gc():  # the twin's settings, so that both run under the same collector
        env.run(until=scenario.run.horizon_h * HOUR)
    return gate
