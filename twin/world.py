"""The wired gate: the clearance core inside a SimPy world of devices, trucks and people.

The core runs unchanged. This module only translates:

* every event a device emulator or a person reports goes to ``core.handle(event, env.now)``;
* every command the core returns is carried out by the device, truck or person it names;
* the core's timers (``next_deadline`` / ``on_timer``) are kept armed with a SimPy timeout;
* people's later steps (officers' tasks, submissions, payments, reviews) are timeout callbacks;
  what officers would do while the gate is closed waits for them (``_officers_delay``).

Reports can arrive while a command is being carried out (a device may answer at once); they
are queued and handled in order, so the core never sees re-entrant calls. Nothing here makes a
clearance decision: people's decisions come from the policies in ``twin.people``.
"""

from __future__ import annotations

import math
from collections import Counter, deque
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from heapq import heappop, heappush
from itertools import count
from typing import Any

import numpy as np
import simpy

from gate import commands as cmd
from gate import events as ev
from gate.config import GateConfig
from gate.core import GateCore
from gate.deadlines import due_around_closures, merge_spells
from gate.enums import (
    AgvMissionState,
    ClearanceKind,
    ClearanceStatus,
    DeviceKind,
    PaymentMethod,
    ReviewKind,
    Role,
    Station,
    TrafficAction,
)
from gate.identifiers import normalize_plate
from gate.visit import Mission
from hardware_emulators import AgencyDesk, AgvFleet, Barrier, PartnerLink, PlateCamera, Scale, Scanner
from scenarios.schema import Scenario
from twin.fleet import TruckPlan, closure_spells
from twin.people import CorridorDrivers, Declarants, Drivers, Officers
from twin.probes import AGV_STACK, CounterProbe, StationProbe, TruckLog
from twin.streams import Sampler
from twin.telematics import FEED_DEVICE, next_delivery

K = ClearanceKind
ProcessGenerator = Generator[simpy.Event, Any, Any]
#: The approach road as driven: each stretch's seconds and the km still to go after it.
PingPlan = tuple[tuple[float, float], ...]

#: The account each officer role acts under in the twin.
ROLE_ACCOUNT: dict[Role, str] = {role: f"{role.value}-1" for role in Role if role is not Role.DECLARANT}
#: How long an officer takes to type a plate the camera could not read, and to look at a review.
MANUAL_PLATE_S = 45.0
REVIEW_S = 300.0
#: Reviews raised when the core gives up AGV missions whose containers may still be on the stack.
_GIVEN_UP_ON_STACK = frozenset({ReviewKind.MANIFEST_UNACKNOWLEDGED, ReviewKind.AGV_REFUSED})


class Mailbox:
    """The routes the core sent one truck, oldest first: ``simpy.Store`` for a single reader,
    without the store's bookkeeping (a ``put`` is not an event of its own)."""

    __slots__ = ("env", "items", "_waiting")

    def __init__(self, env: simpy.Environment) -> None:
        self.env = env
        self.items: deque[Any] = deque()
        self._waiting: deque[simpy.Event] = deque()

    def put(self, item: Any) -> None:
        """Deliver ``item`` to the oldest ``get`` waiting, else keep it."""
        if self._waiting:
            self._waiting.popleft().succeed(item)
        else:
            self.items.append(item)

    def get(self) -> simpy.Event:
        """An event that succeeds with the oldest item (at once if one is kept)."""
        event = self.env.event()
        if self.items:
            event.succeed(self.items.popleft())
        else:
            self._waiting.append(event)
        return event


@dataclass(slots=True)
class TruckRun:
    """A truck's state during the run (the plan is what was decided before it started)."""

    plan: TruckPlan
    row: int
    mailbox: Mailbox
    error: str
    owner: str
    amended: bool = False
    returns: int = 0
    fee_state: str = "none"  # none | online | counter | paid
    in_yard: bool = False
    outcome: str = "inside"
    pending_get: simpy.Event | None = None
    onward: Any = None  # a route received while waiting at barrier 1, for after it
    forecourt: Any = None  # its place in the forecourt, from the call forward until through barrier 1
    places: set[str] = field(default_factory=set)  # the station probes the truck is in now
    checked_in: bool = False  # it has passed the staging checkpoint on its current approach
    reaccepted: simpy.Event | None = None
    channel: str = ""
    handed_over: bool = False
    loading_registered: bool = False
    at_bay: simpy.Event | None = None  # succeeds when the truck has an inspection bay
    bay_request: Any = None  # its hold on a bay while it stands in one

    @property
    def visit_id(self) -> str:
        return self.plan.visit_id


@dataclass(slots=True)
class Equipment:
    """The emulated devices of one gate, by id."""

    barriers: dict[str, Barrier] = field(default_factory=dict)
    cameras: dict[str, PlateCamera] = field(default_factory=dict)
    scales: dict[str, Scale] = field(default_factory=dict)
    scanners: dict[str, Scanner] = field(default_factory=dict)
    fleet: AgvFleet | None = None
    link: PartnerLink | None = None

    def all(self) -> list[Any]:
        devices: list[Any] = [*self.barriers.values(), *self.cameras.values(), *self.scales.values(),
                              *self.scanners.values()]
        devices += [d for d in (self.fleet, self.link) if d is not None]
        return devices


@dataclass(slots=True)
class Probes:
    """Everything measured during a run (read by ``twin.run.collect``)."""

    log: TruckLog
    stations: dict[str, StationProbe]
    counters: dict[str, CounterProbe]


class GateWorld:
    """One replication's world: environment, core, devices, desks, trucks and probes."""

    def __init__(self, env: simpy.Environment, scenario: Scenario, core: GateCore, equipment: Equipment,
                 desks: dict[Role, AgencyDesk], task_samplers: dict[ClearanceKind, Sampler],
                 declarants: Declarants, drivers: Drivers, officers: Officers, probes: Probes,
                 rng: np.random.Generator, handover_s: Sampler | None) -> None:
        self.env = env
        self.scenario = scenario
        self._core = core
        self._next_deadline = core.next_deadline
        self.equipment = equipment
        self.desks = desks
        self.task_samplers = task_samplers
        self.declarants = declarants
        self.drivers = drivers  # also sets ``corridor_drivers``
        self.officers = officers
        self.probes = probes
        self.rng = rng
        self.handover_s = handover_s
        self.trucks: dict[str, TruckRun] = {}
        # The AGV stack's customer number of each container on it (``hand_over_containers``).
        self._stack_customers: dict[str, int] = {}
        if equipment.fleet is not None:
            equipment.fleet.on_unstacked = self._unstacked
        self._traffic_hold = False
        self.commands = Counter[str]()
        self.refusals = Counter[str]()
        self.escalations = Counter[str]()
        self.sla_tasks = Counter[str]()
        self.events_handled = 0
        self.generated = 0  # trucks the run was given (set by ``wire``)
        self.timer_calls = 0
        self._inbox: deque[ev.Event] = deque()
        self._draining = False
        # GPS pings of the trucks on the approach road, not yet handed to the core, each as
        # (when, order, stretch, (app, plate, speed, route)) and taken in (when, order) order.
        # Most come in that order already (trucks drive the same road one after another): those
        # wait in a FIFO line; any that would overtake the line's last one wait in a heap.
        self._ping_line: deque[tuple[float, int, int, tuple[str, str, float, _PingRoute]]] = deque()
        self._pings: list[tuple[float, int, int, tuple[str, str, float, _PingRoute]]] = []
        self._ping_order = count()
        # With a telematics feed the pings are gathered by truck instead: each truck on the road
        # as a ``_Trip`` (its next ping's time and stretch), in the order they set off; every
        # delivery walks them once, taking what each sent since the last one.
        self._trips: list[_Trip] = []
        self._next_trip_ping = math.inf  # when the first of them sends its next ping
        #: With a telematics feed, how often it delivers its batch of positions (None: each ping
        #: reaches the core on its own).
        self._feed_s = scenario.traffic.gps_feed_s
        #: When the core is next due to hear of pings (inf: none): the next ping's own time, or,
        #: with a feed, the delivery that will carry it.
        self._ping_due = math.inf
        self._delivering = False
        self._alarm_at: float | None = None
        # Reviews of plate reads, by camera and plate read, oldest first: (review id, whether it
        # named its visit when raised, so was already counted on the truck).
        self.plate_reviews: dict[tuple[str, str | None], deque[tuple[str, bool]]] = {}
        self._closures = closure_spells(scenario)
        #: By role and whether they wait for their first shift, the spells its officers are away
        #: for the closures (``_officers_delay``), worked out when first needed.
        self._away: dict[tuple[Role, bool], tuple[tuple[float, float], ...]] = {}
        #: What the trucks look up on every passage, worked out once from the layout.
        #: The staging checkpoint's cameras (``cam-<area>``), nearest area first, whatever the areas are called.
        self.staging_cameras = [f"cam-{area}" for area in scenario.layout.staging_areas
                                if f"cam-{area}" in equipment.cameras]
        #: The layout has no plate cameras: an officer types each plate at each checkpoint.
        self.plates_typed_at_checkpoints = scenario.devices.plate_camera is None
        self.exit_barriers = sorted(b for b in equipment.barriers if b.startswith("barrier-out-"))
        self.staging_capacity = sum(_capacity(v) for v in scenario.layout.staging_areas.values())
        #: The places at each lane's barrier (``layout.barrier_places``), by barrier; empty when
        #: they are unlimited (then every truck sent to a lane is read and checked at once).
        self.lane_places: dict[str, simpy.Resource] = {}
        places = _capacity(scenario.layout.barrier_places)
        if places < float("inf"):
            for prefix, station in (("barrier-in-", "entry_lane"), ("barrier-out-", "exit_lane")):
                lanes = [b for b in equipment.barriers if b.startswith(prefix)]
                for barrier_id in lanes:
                    self.lane_places[barrier_id] = simpy.Resource(env, capacity=int(places))
                if lanes and station in probes.stations:
                    probes.stations[station].set_servers(env.now, len(lanes) * int(places))
        #: The forecourt between the staging checkpoint and barrier 1 (``layout.forecourt_per_lane``
        #: per entry lane): a truck called forward takes a place in it before it drives on, and
        #: gives it up once through barrier 1 or sent back. None when unlimited, and with the Mesa
        #: agents, whose corridor keeps the forecourt itself.
        self.forecourt: simpy.Resource | None = None
        fore = _capacity(scenario.layout.forecourt_per_lane)
        entry_lanes = sum(1 for b in equipment.barriers if b.startswith("barrier-in-"))
        if fore < float("inf") and entry_lanes and not scenario.agents.enabled:
            self.forecourt = simpy.Resource(env, capacity=int(fore) * entry_lanes)
        self.device_resources: dict[str, simpy.Resource] = {}
        for device_id in (*equipment.scales, *equipment.scanners):
            self.device_resources[device_id] = simpy.Resource(env, capacity=1)
        #: The inspection bays, one truck each (at least one: the schema refuses none); None when
        #: the layout has unlimited bays (then an inspection waits for no bay).
        bays = _capacity(scenario.layout.inspection_bays)
        self.inspection_bays: simpy.Resource | None = None
        if bays < float("inf"):
            self.inspection_bays = simpy.Resource(env, capacity=int(bays))
            if "inspection" in probes.stations:
                probes.stations["inspection"].set_servers(env.now, int(bays))
        for device in equipment.all():
            probe = probes.stations.get(device.device_id)
            device.connect(self.report if probe is None else self._station_device_report(probe))
        self._executors: dict[type, Callable[[Any], None]] = {
            cmd.OpenBarrier: self._open_barrier,
            cmd.KeepClosed: self._keep_closed,
            cmd.RouteTo: self._route,
            cmd.RequestScan: self._request_scan,
            cmd.AssignTask: self._assign_task,
            cmd.Escalate: self._escalate,
            cmd.ReturnForRedeclaration: self._returned,
            cmd.AcceptDeclaration: self._accepted,
            cmd.RejectDeclaration: self._rejected,
            cmd.RequestFee: self._fee_requested,
            cmd.DispatchAgv: self._dispatch_agv,
            cmd.SendManifest: self._send_manifest,
            cmd.TrafficAdvice: self._traffic_advice,
            cmd.ManualReview: self._manual_review,
            cmd.RefuseEvent: self._refused,
        }

    @property
    def drivers(self) -> Drivers:
        return self._drivers

    @drivers.setter
    def drivers(self, drivers: Drivers) -> None:
        self._drivers = drivers
        #: The drivers, when they model the approach corridor themselves (else None).
        self.corridor_drivers: CorridorDrivers | None = drivers if isinstance(drivers, CorridorDrivers) else None

    # ------------------------------------------------------------------ core in the loop

    @property
    def core(self) -> GateCore:
        """The clearance core, told of every GPS ping sent before now (``send_due_pings``)."""
        self.send_due_pings()
        return self._core

    @property
    def core_config(self) -> GateConfig:
        """The core's configuration (reading it hands the core nothing: pings wait)."""
        return self._core.config

    @property
    def traffic_hold(self) -> bool:
        """The traffic police hold arrivals at staging (the core's latest advice, pings included)."""
        self.send_due_pings()
        return self._traffic_hold

    @traffic_hold.setter
    def traffic_hold(self, hold: bool) -> None:
        self._traffic_hold = hold

    def _station_device_report(self, probe: StationProbe) -> Callable[[ev.Event], None]:
        """``report`` for a device that is a station (a scale, a scanner): while the device is
        down, planned outage or random fault alike, its station has no server."""
        servers = probe.servers
        report = self.report

        def station_report(event: ev.Event) -> None:
            if isinstance(event, ev.DeviceFaulted):
                probe.set_servers(self.env.now, 0)
            elif isinstance(event, ev.DeviceRecovered):
                probe.set_servers(self.env.now, servers)
            report(event)

        return station_report

    def report(self, event: ev.Event) -> None:
        """A device or a person reports an event; the core handles it at the current time."""
        if self._draining:  # reported while a command is carried out: handled next, in order
            self._inbox.append(event)
            return
        now = self.env.now
        if self._ping_due < now and not self._delivering:  # ``send_due_pings``
            self._deliver_pings(now)
        self._handle(event, now)

    def _handle(self, event: ev.Event, now: float) -> None:
        """The core handles ``event`` at ``now``, then whatever is reported meanwhile, in order."""
        self._draining = True
        try:
            self.events_handled += self._hand_over(event, now)
        finally:
            self._draining = False
        self._arm_timer()

    # ------------------------------------------------------------------ GPS pings

    def drive_approach(self, truck: TruckRun, plan: PingPlan, speed_kmh: float) -> float:
        """The truck starts down the approach road now; returns when it reaches the end.

        Its driver app pings after each stretch of ``plan`` but the last. The pings are not SimPy
        events: each is handed to the core at its own time, in time order with every other ping
        (or, with a telematics feed, in the feed's next batch, at the batch's time, each truck's
        positions in the order sent), before anything else reaches the core or reads what pings
        change (``report``, ``core``, ``traffic_hold``, ``send_due_pings``). So the core sees the
        very events, at the very times, it would see if every ping woke the truck, without the
        truck being woken.
        """
        at = self.env.now
        route = _ping_route(plan)
        if route.last >= 0:
            first = at + route.steps[0]
            if self._feed_s is not None:
                self._trips.append(_Trip(truck.plan.truth.plate, speed_kmh, route, first))
                if first < self._next_trip_ping:
                    self._next_trip_ping = first
            else:
                self._queue_ping((first, next(self._ping_order), 0,
                                  (f"app-{truck.visit_id}", truck.plan.truth.plate, speed_kmh, route)))
            due = self._delivery(first)
            if due < self._ping_due:
                self._ping_due = due
        for step in route.steps:
            at += step
        return at

    def send_due_pings(self) -> None:
        """Hand the core every GPS ping sent before now (reading ``core`` does it first)."""
        now = self.env.now
        if self._ping_due < now and not self._delivering:
            self._deliver_pings(now)

    def _queue_ping(self, ping: tuple[float, int, int, tuple[str, str, float, _PingRoute]]) -> None:
        line = self._ping_line
        if not line or ping[0] >= line[-1][0]:  # orders only grow: it goes after the line's last
            line.append(ping)
        else:
            heappush(self._pings, ping)

    def _delivery(self, sent: float) -> float:
        """When a ping sent at ``sent`` reaches the core: at once, or with the feed's next batch."""
        feed = self._feed_s
        return sent if feed is None else next_delivery(sent, feed)

    def _deliver_pings(self, before: float) -> None:
        """Hand the core, in time order, every delivery of pings due before ``before``.

        A delivery is one ping at its own time, or, with a telematics feed, every ping sent since
        the feed's last delivery as one batch at the feed's time. Each is handled at its time,
        followed by whatever its commands made anyone report, as ``report`` would have done then.
        """
        self._delivering = self._draining = True
        try:
            if self._feed_s is None:
                due = self._deliver_each_ping(before)
            else:
                due = self._deliver_feed(before, self._feed_s)
        finally:
            self._delivering = self._draining = False
        self._ping_due = due if due == math.inf else self._delivery(due)
        self._arm_timer()

    def _deliver_each_ping(self, before: float) -> float:
        """Without a feed: each ping sent before ``before`` as a ``GpsPing`` at its own time;
        returns when the next ping is sent (inf: none is pending)."""
        line, heap = self._ping_line, self._pings
        take, hand_over = self._take_ping, self._hand_over
        handled = 0
        try:
            while line or heap:
                first = line[0][0] if line and (not heap or line[0] < heap[0]) else heap[0][0]
                if not first < before:
                    break
                bound = math.nextafter(first, math.inf)  # every ping sent at that instant
                while (ping := take(bound)) is not None:
                    at, (app, plate, speed, _), remaining = ping
                    if remaining > 0:
                        handled += hand_over(ev.GpsPing(app, plate, remaining, speed), at)
        finally:
            self.events_handled += handled
        due = line[0][0] if line else math.inf
        return heap[0][0] if heap and heap[0][0] < due else due

    def _deliver_feed(self, before: float, feed: float) -> float:
        """With a feed: each delivery due before ``before``, as one ``PositionsReported`` of the
        positions sent since the last; returns when the next ping is sent (inf: none is pending)."""
        inf = math.inf
        trips = self._trips
        first = self._next_trip_ping
        handled = 0
        try:
            while first < inf:
                delivery = next_delivery(first, feed)
                if not delivery < before:
                    break
                bound = math.nextafter(delivery, inf)  # every ping sent by the delivery
                positions: list[tuple[str, float, float]] = []  # plain tuples: the core takes them as Positions
                on_road: list[_Trip] = []
                first = inf
                for trip in trips:
                    at = trip.at
                    if at < bound:
                        route, k = trip.route, trip.k
                        km_left, steps, last = route.km_left, route.steps, route.last
                        while True:
                            remaining = km_left[k]
                            if remaining > 0:
                                positions.append((trip.plate, remaining, trip.speed))
                            if k == last:  # its last ping: the truck reaches the end of the road
                                at = inf
                                break
                            k += 1
                            at += steps[k]
                            if not at < bound:
                                break
                        if at == inf:
                            continue
                        trip.at, trip.k = at, k
                    on_road.append(trip)
                    if at < first:
                        first = at
                trips = self._trips = on_road
                if positions:
                    handled += self._hand_over(ev.PositionsReported(FEED_DEVICE, tuple(positions)), delivery)
        finally:
            self.events_handled += handled
            self._next_trip_ping = first
        return first

    def _take_ping(self, bound: float) -> tuple[float, tuple[str, str, float, _PingRoute], float] | None:
        """The next ping sent before ``bound``, as (time, truck, km to go), taken off the line, with
        its truck's next ping queued in its place; None when there is none."""
        line, heap = self._ping_line, self._pings
        if line and (not heap or line[0] < heap[0]):
            at, _, k, truck = line[0]
            if not at < bound:
                return None
            line.popleft()
        elif heap:
            at, _, k, truck = heap[0]
            if not at < bound:
                return None
            heappop(heap)
        else:
            return None
        route = truck[3]
        if k < route.last:  # the truck drives on to its next ping
            self._queue_ping((at + route.steps[k + 1], next(self._ping_order), k + 1, truck))
        return at, truck, route.km_left[k]

    def _hand_over(self, event: ev.Event, at: float) -> int:
        """The core handles ``event`` at ``at``, then what its commands made anyone report; the
        number of events handled."""
        handle, execute, inbox = self._core.handle, self.execute, self._inbox
        handled = 1
        for command in handle(event, at):
            execute(command)
        while inbox:
            handled += 1
            for command in handle(inbox.popleft(), at):
                execute(command)
        return handled

    def report_positions(self, sent: list[tuple[str, ev.Position]]) -> None:
        """Positions the driver apps send now, as ``(app, position)`` (the drivers' corridor
        model steps them all at once): with a feed, one batch; else one ``GpsPing`` each."""
        if self._feed_s is None:
            for app, p in sent:
                self.report(ev.GpsPing(app, p.plate, p.km_to_gate, p.speed_kmh))
        elif sent:
            self.report(ev.PositionsReported(FEED_DEVICE, tuple(p for _, p in sent)))

    def execute(self, command: cmd.Command) -> None:
        self.commands[type(command).__name__] += 1
        self._executors[type(command)](command)

    def _arm_timer(self) -> None:
        deadline = self._next_deadline()
        if deadline is None:
            return
        armed = self._alarm_at
        if armed is not None and armed <= deadline:
            return
        self._alarm_at = deadline
        self._after(max(0.0, deadline - self.env.now), lambda _: self._alarm(deadline))

    def _alarm(self, at: float) -> None:
        """The core's next deadline came: it acts on what is due (an alarm overtaken by an
        earlier deadline still rings, and finds nothing to do)."""
        core = self.core  # first the pings sent before now
        if self._alarm_at == at:
            self._alarm_at = None
        self.timer_calls += 1
        for command in core.on_timer(self.env.now):
            self.execute(command)
        self._arm_timer()

    # ------------------------------------------------------------------ devices

    def _open_barrier(self, c: cmd.OpenBarrier) -> None:
        self.equipment.barriers[c.device_id].open(c)

    def _keep_closed(self, c: cmd.KeepClosed) -> None:
        barrier = self.equipment.barriers.get(c.device_id)
        if barrier is not None:
            barrier.keep_closed(c)

    def _request_scan(self, c: cmd.RequestScan) -> None:
        self.equipment.scanners[c.device_id].scan(c)

    def _dispatch_agv(self, c: cmd.DispatchAgv) -> None:
        assert self.equipment.fleet is not None, "the core dispatched an AGV at a gate without an AGV lane"
        self.equipment.fleet.dispatch(c)

    def _send_manifest(self, c: cmd.SendManifest) -> None:
        assert self.equipment.link is not None, "the core sent a manifest at a gate without a partner link"
        self.equipment.link.send_manifest(c)

    # ------------------------------------------------------------------ trucks

    def _route(self, c: cmd.RouteTo) -> None:
        truck = self.trucks.get(c.visit_id)
        if truck is not None:
            if c.station is Station.INSPECTION and self.inspection_bays is not None and truck.at_bay is None:
                truck.at_bay = self.env.event()  # sent to the bays: succeeds once it stands in one
            truck.mailbox.put(c)

    def _traffic_advice(self, c: cmd.TrafficAdvice) -> None:
        if c.visit_id is None and self.scenario.traffic.channelling:
            self._traffic_hold = c.action is TrafficAction.HOLD

    def _accepted(self, c: cmd.AcceptDeclaration) -> None:
        truck = self.trucks.get(c.visit_id)
        if truck is None:
            return
        truck.channel = c.channel
        self.probes.log.set(truck.row, "channel", c.channel)
        self.probes.log.set(truck.row, "fee_vnd", c.fee_vnd)
        if c.version > 1 and truck.reaccepted is not None and not truck.reaccepted.triggered:
            truck.reaccepted.succeed()

    def _rejected(self, c: cmd.RejectDeclaration) -> None:
        self.refusals[f"declaration rejected: {c.errors[0] if c.errors else ''}"] += 1

    def _refused(self, c: cmd.RefuseEvent) -> None:
        self.refusals[f"{c.event_kind}: {c.reason.split(':')[0]}"] += 1

    def _escalate(self, c: cmd.Escalate) -> None:
        self.escalations[c.role.value] += 1

    def _returned(self, c: cmd.ReturnForRedeclaration) -> None:
        truck = self.trucks[c.visit_id]
        truck.returns += 1
        self.probes.log.incr(truck.row, "redeclarations")
        truck.reaccepted = self.env.event()
        self.declarants.on_returned(truck.plan, self.env.now)
        self._after(self.declarants.amendment_delay_s(truck.plan, self.env.now), lambda _: self._amend(truck))

    def _amend(self, truck: TruckRun) -> None:
        truck.error = ""
        truck.amended = True
        self.report(ev.DeclarationAmended(truck.owner, truck.visit_id, truck.plan.declaration))

    # ------------------------------------------------------------------ agencies

    def _assign_task(self, c: cmd.AssignTask) -> None:
        self.sla_tasks[c.role.value] += 1
        truck = self.trucks.get(c.visit_id)
        if truck is None:
            return
        desk = self.desks.get(c.role)
        if desk is None:  # the layout staffs no such agency: the task waits for ever (and escalates)
            return
        if c.clearance is K.CUSTOMS_INSPECTION:
            # A physical inspection is done at a bay. The route there may come later in the same
            # batch of commands: the officer looks once the batch is carried out.
            self._after(0.0, lambda _: self._inspect_at_bay(c, truck, desk))
        else:
            self._officer_task(c, truck, desk)

    def _inspect_at_bay(self, c: cmd.AssignTask, truck: TruckRun, desk: AgencyDesk) -> None:
        """The inspection starts once the truck stands in a bay (at once where it is not sent to one)."""
        at_bay = truck.at_bay
        if at_bay is not None and not at_bay.triggered:
            at_bay.callbacks.append(lambda _: self._officer_task(c, truck, desk))
        else:
            self._officer_task(c, truck, desk)

    def _officer_task(self, c: cmd.AssignTask, truck: TruckRun, desk: AgencyDesk) -> None:
        """An officer of ``desk`` takes the task up when one is free, and decides when done."""
        priority = 0 if (truck.plan.perishable and self.scenario.demand.perishable.priority) else 1
        version = truck.returns

        def decide(_: float) -> None:
            if truck.returns != version or (
                    self.core.clearance_status(c.visit_id, c.clearance) is not ClearanceStatus.ASSIGNED):
                # Decided or withdrawn meanwhile: a return takes every task off the lists, and
                # the amended version's task is another officer's.
                return
            outcome, reasons = self.officers.decide(c.role, c.clearance, truck.plan, truck.error, truck.amended,
                                                    self.env.now)
            self.report(ev.ClearanceDecided(ROLE_ACCOUNT[c.role], c.visit_id, c.clearance, outcome, reasons))

        desk.begin(priority, self.task_samplers.get(c.clearance), decide)

    # ------------------------------------------------------------------ fees

    def _fee_requested(self, c: cmd.RequestFee) -> None:
        truck = self.trucks.get(c.visit_id)
        if truck is None or truck.fee_state in ("online", "counter"):
            return
        if truck.fee_state == "none" and truck.plan.pays_online:
            truck.fee_state = "online"
            self._after(self.declarants.online_payment_delay_s(truck.plan, self.env.now),
                        lambda _: self._pay_online(truck, c.amount_vnd))
        elif truck.in_yard:
            self.pay_at_counter(truck, c.amount_vnd)
        else:
            truck.fee_state = "due"  # paid at the counter once the truck is in the yard

    def _pay_online(self, truck: TruckRun, amount: int) -> None:
        """The enterprise pays through its bank; the fee collector confirms the payment later."""
        reference = f"BANK-{truck.visit_id}-{truck.returns}"
        self.report(ev.FeePaid(truck.owner, truck.visit_id, amount, PaymentMethod.ONLINE, reference))
        confirm = self.task_samplers.get(K.FEE)

        def confirmed(_: simpy.Event) -> None:
            self.report(ev.PaymentConfirmed(ROLE_ACCOUNT[Role.FEE_COLLECTOR], truck.visit_id, reference))
            truck.fee_state = "paid"

        # The fee collectors check the bank account at any hour (their shifts are the counter's),
        # but not while the gate is closed: nothing says they do over Tet (seed 003 has them
        # check the account and confirm), so a confirmation waits for the reopening, unless the
        # scenario has them work through the closure.
        self._after(self._officers_delay(confirm() if confirm is not None else 600.0, Role.FEE_COLLECTOR,
                                         first_shift=False), confirmed)

    def pay_at_counter(self, truck: TruckRun, amount: int | None = None) -> None:
        """The driver pays at the fee counter (the truck is in the yard)."""
        if truck.fee_state in ("online", "counter", "paid"):
            return
        owed = self.core.fee_due(truck.visit_id)
        if owed is None:
            return
        due = owed if amount is None else amount
        if due <= 0:
            return
        truck.fee_state = "counter"
        desk = self.desks.get(Role.FEE_COLLECTOR)
        if desk is not None:
            desk.begin(1, None, lambda _: self._paid_at_counter(truck, due))
        else:  # nobody collects fees here: the payment is taken as it is offered
            self._after(0.0, lambda _: self._paid_at_counter(truck, due))

    def _paid_at_counter(self, truck: TruckRun, amount: int) -> None:
        self.report(ev.FeePaid(ROLE_ACCOUNT[Role.FEE_COLLECTOR], truck.visit_id, amount, PaymentMethod.DIRECT,
                               f"COUNTER-{truck.visit_id}-{truck.returns}"))
        truck.fee_state = "paid"

    # ------------------------------------------------------------------ reviews

    def _manual_review(self, c: cmd.ManualReview) -> None:
        truck = self.trucks.get(c.visit_id) if c.visit_id else None
        if truck is not None:
            self.probes.log.incr(truck.row, "manual_reviews")
        spec = self.core.devices.get(c.device_id) if c.device_id else None
        if spec is not None and spec.kind is DeviceKind.PLATE_CAMERA:
            self.plate_reviews.setdefault((c.device_id or "", c.plate), deque()).append((c.review_id, truck is not None))
        owner = _owner(c.roles)
        if c.kind in _GIVEN_UP_ON_STACK and c.visit_id is not None and self.equipment.fleet is not None:
            visit_id = c.visit_id
            self._after(self._officers_delay(REVIEW_S, owner), lambda _: self._take_off_stack(visit_id))
        if spec is not None and spec.kind is DeviceKind.BARRIER and c.plate and "by hand" in c.reason:
            barrier, plate, review = c.device_id or "", c.plate, c.review_id
            self._after(self._officers_delay(MANUAL_PLATE_S, owner),
                        lambda _: self._override_barrier(barrier, plate, review))
            return
        self._after(self._officers_delay(REVIEW_S, owner), lambda _: self._supervise(c.review_id, c.roles))

    def claim_plate_review(self, truck: TruckRun, device_id: str, plate: str | None) -> str | None:
        """The review raised for this truck's read at ``device_id``, if one was raised; one the
        core could not tie to a visit (no read, an unknown plate) is counted on the truck now."""
        queue = self.plate_reviews.get((device_id, normalize_plate(plate) if plate else None))
        if not queue:
            return None
        review_id, counted = queue.popleft()
        if not counted:
            self.probes.log.incr(truck.row, "manual_reviews")
        return review_id

    def _override_barrier(self, barrier_id: str, plate: str, review_id: str) -> None:
        """An officer opens the barrier by hand for the vehicle (``MANUAL_PLATE_S`` after the review),
        if it still waits at the arm: repaired meanwhile, the barrier may have let it through
        already, and an arm lifted for a vehicle long gone would block its lane for good."""
        barrier = self.equipment.barriers[barrier_id]
        if barrier.waits_for_arm(plate):
            barrier.manual_override(plate)
        if review_id in self.core.reviews:
            self.report(ev.ReviewResolved(ROLE_ACCOUNT[Role.BORDER_GUARD], review_id, "opened by hand"))

    def _supervise(self, review_id: str, roles: tuple[Role, ...]) -> None:
        """The officer the review belongs to (its first role) closes what nobody else did,
        ``REVIEW_S`` after it was raised; a supervisor (the administrator) one that names nobody."""
        if review_id in self.core.reviews:
            account = ROLE_ACCOUNT[_owner(roles)]
            self.report(ev.ReviewResolved(account, review_id, "checked on site"))

    def enter_plate_by_hand(self, truck: TruckRun, review_id: str) -> ProcessGenerator:
        """The officer at the checkpoint types the vehicle's plate for its review. While the gate is
        closed this waits for the officers the review belongs to, as their check of it
        (``_supervise``) does, and so still comes first."""
        review = self._core.reviews.get(review_id)
        yield self.env.timeout(self._officers_delay(MANUAL_PLATE_S, _owner(review.roles if review else ())))
        self.probes.log.incr(truck.row, "plates_typed")
        if review_id in self.core.reviews:
            self.report(ev.ManualPlateEntered(ROLE_ACCOUNT[Role.BORDER_GUARD], review_id, truck.plan.truth.plate))

    # ------------------------------------------------------------------ AGV handover

    def hand_over_containers(self, truck: TruckRun) -> ProcessGenerator:
        """The yard operator's crane moves each AGV container from the truck to the AGV stack.

        Each container needs a place on the stack first: with every place taken (the AGVs held at
        the line while the partner side does not accept, say), the truck waits in the yard with
        its container until one frees. A truck that left the yard meanwhile (refused) gives its
        place back; a container the core does not take (its handover refused) is put back on the
        truck, and frees its place too.
        """
        truck.handed_over = True
        fleet = self.equipment.fleet
        stack = self.probes.stations.get(AGV_STACK)
        env = self.env
        for container in truck.plan.declaration.containers:
            number = container.number
            place = fleet.place() if fleet is not None else None
            customer = stack.arrive(env.now) if stack is not None else None
            truck.places.add(AGV_STACK)  # its container on the way to the stack
            if place is not None:
                yield place
            if not truck.in_yard:
                truck.places.discard(AGV_STACK)
                if fleet is not None:
                    fleet.give_back(place)
                if stack is not None:
                    stack.abandon(env.now, customer)
                return
            if stack is not None:
                stack.start_service(env.now, customer)
            yield env.timeout(self.handover_s() if self.handover_s is not None else 180.0)
            truck.places.discard(AGV_STACK)  # on the stack (counted there), or not put there at all
            if fleet is None or not fleet.stack(number, place):
                if stack is not None:  # no AGV lane, or a number already on the stack: not put there
                    stack.withdraw(env.now, customer)
            elif customer is not None:
                self._stack_customers[number] = customer
            self.probes.log.incr(truck.row, "agv_containers")
            self.report(ev.ContainerHandedOver(ROLE_ACCOUNT[Role.YARD_OPERATOR], truck.visit_id, number))
            if fleet is not None and fleet.on_stack(number) and self._mission(truck.visit_id, number) is None:
                fleet.unstack(number)  # the core refused it: back on the truck

    def _unstacked(self, container_no: str, by_agv: bool) -> None:
        """A container left the AGV stack: onto an AGV (served), or taken off by people."""
        customer = self._stack_customers.pop(container_no, None)
        stack = self.probes.stations.get(AGV_STACK)
        if customer is not None and stack is not None:
            (stack.end_service if by_agv else stack.withdraw)(self.env.now, customer)

    def _mission(self, visit_id: str, container_no: str) -> Mission | None:
        """The core's AGV mission for a visit's container (``GateCore.mission``: ``<visit id>:<container>``)."""
        return self._core.mission(f"{visit_id}:{container_no}")

    def _take_off_stack(self, visit_id: str) -> None:
        """People take a visit's containers off the AGV stack whose missions were given up (the
        manifest never acknowledged, the visit refused): they are handled by hand from here."""
        fleet, truck = self.equipment.fleet, self.trucks.get(visit_id)
        if fleet is None or truck is None:
            return
        for container in truck.plan.declaration.containers:
            if fleet.on_stack(container.number):
                mission = self._mission(visit_id, container.number)
                if mission is None or mission.state is AgvMissionState.FAILED:
                    fleet.unstack(container.number)

    def register_loading(self, truck: TruckRun) -> None:
        """The enterprise registers the transshipment, a while after the truck is parked."""
        self._after(self.declarants.loading_registration_delay_s(truck.plan, self.env.now),
                    lambda _: self.report(ev.LoadingRegistered(truck.owner, truck.visit_id)))

    # ------------------------------------------------------------------ declarations

    def declare(self, truck: TruckRun) -> None:
        """The declarant submits the truck's declaration at the plan's time (at once if it is past)."""
        self._after(max(0.0, truck.plan.declare_at_s - self.env.now), lambda _: self._submit(truck))

    def _submit(self, truck: TruckRun) -> None:
        self.probes.log.stamp(truck.row, "declared_at", self.env.now)
        self.report(ev.DeclarationSubmitted(truck.owner, truck.plan.declaration))

    def _officers_delay(self, delay: float, role: Role, first_shift: bool = True) -> float:
        """How long from now the officers of ``role`` take over ``delay`` seconds of work (a review,
        a payment to confirm). Nobody works while the gate is closed, but for the agencies that
        work through a closure (``Closure.staffed``): the officers are away from a closure's start
        until their desk's first shift after the reopening (until the reopening itself for a role
        with no desk, or with ``first_shift`` False: work they do at any hour), and the work waits
        for them, as a desk's tasks do, its time counted around their absence: nothing is lost,
        and what was to be done in order still is."""
        if not self._closures:
            return delay
        away = self._away.get((role, first_shift))
        if away is None:
            desk = self.desks.get(role) if first_shift else None
            away = self._away[role, first_shift] = merge_spells(tuple(
                (start, end if desk is None or desk.on_shift(end) else desk.next_shift_start(end))
                for start, end in closure_spells(self.scenario, role)))
        now = self.env.now
        done = due_around_closures(now, delay, None, away)
        wait = done - now
        while now + wait < done:  # ``now + (done - now)`` may round below ``done``: not before they are back
            wait = math.nextafter(wait, math.inf)
        return wait

    def _after(self, delay: float, then: Callable[[simpy.Event], None]) -> None:
        """``then`` is called ``delay`` seconds from now: a timeout's callback, no process of its own
        (one SimPy step, where a process for it would take three: its start, the timeout, its end)."""
        self.env.timeout(delay).callbacks.append(then)

    def station(self, name: str) -> StationProbe:
        return self.probes.stations[name]

    def counter(self, name: str) -> CounterProbe:
        return self.probes.counters[name]

    def assigned_status(self, visit_id: str, kind: ClearanceKind) -> ClearanceStatus | None:
        """The core's status of one clearance of a visit (None if unknown)."""
        return self.core.clearance_status(visit_id, kind)


class _Trip:
    """A truck on the approach road, as the telematics feed tracks it: when it sends its next
    ping, and after which stretch of its route."""

    __slots__ = ("plate", "speed", "route", "at", "k")

    def __init__(self, plate: str, speed: float, route: _PingRoute, at: float) -> None:
        self.plate = plate
        self.speed = speed
        self.route = route
        self.at = at
        self.k = 0


class _PingRoute:
    """A ping plan laid out for the delivery loop: each stretch's seconds and km to go after it,
    and the last stretch after which another ping follows (-1: the road has no ping)."""

    __slots__ = ("steps", "km_left", "last")

    def __init__(self, plan: PingPlan) -> None:
        self.steps = tuple(step for step, _ in plan)
        self.km_left = tuple(km for _, km in plan)
        self.last = len(plan) - 2


#: Routes by the plan they were laid out from (plans come from a cache, so the same few recur).
_ROUTES: dict[int, tuple[PingPlan, _PingRoute]] = {}


def _ping_route(plan: PingPlan) -> _PingRoute:
    known = _ROUTES.get(id(plan))
    if known is not None and known[0] is plan:
        return known[1]
    if len(_ROUTES) > 64:
        _ROUTES.clear()
    route = _PingRoute(plan)
    _ROUTES[id(plan)] = (plan, route)
    return route


def _owner(roles: tuple[Role, ...]) -> Role:
    """Who acts on a review belonging to ``roles``: its first role, or a supervisor (the
    administrator) for one that names nobody."""
    return roles[0] if roles else Role.ADMIN


def _capacity(value: int | str) -> float:
    return float("inf") if value == "unlimited" else float(value)


__all__ = ["GateWorld", "Mailbox", "TruckRun", "Equipment", "Probes", "ROLE_ACCOUNT", "Station"]
