"""A reactive gate world: a deterministic script that plays every device and officer around a core.

``GateWorld`` submits declarations and answers each command the core gives: a ``RouteTo`` makes
the next camera or scale report, an ``OpenBarrier`` makes the vehicle pass, an ``AssignTask``
brings the agency's decision after a delay, a ``RequestFee`` a payment, a ``SendManifest`` the
partner's acknowledgement, and so on, through a time-ordered heap of pending reactions. It keeps
a chosen number of visits open at once: each visit that ends is replaced by a new declaration.
A share of visits meets bad input (``Incident``): misread and unread plates, out-of-order and
duplicate reports, invalid declarations, decisions from the wrong account, undeclared vehicles.

The world runs against its own recording core and yields the ``(event, now)`` stream in chunks
(``RecordedStream``); the core is deterministic, so a replay on a fresh core takes the same path.
Every event the world sends in good faith is expected to be accepted: a refusal or a manual
review it did not provoke is counted as a surprise (``WorldStats``), never hidden.

Times are seconds of simulated time. Officer delays stay inside the service levels of the
default ``TimeoutConfig``, so a clean stream escalates nothing, unless the mix asks for late
decisions (``Mix.late``: the share decided after the service level, each escalated first); the
core's timers are driven (``on_timer`` when a deadline falls due) and recorded as ticks, so that
a replay matches.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import numpy as np

from gate import commands as cmd
from gate import events as ev
from gate.config import GateConfig
from gate.core import GateCore
from gate.declaration import Declaration
from gate.enums import ClearanceKind, CrossingMode, Outcome, PaymentMethod, Role, ScanResult, Site, Station
from twin.telematics import FEED_DEVICE, next_delivery
from twin.visitgen.declarations import (
    Draws,
    Mix,
    invalid_declaration_payload,
    loadtest_gate_config,
    misread_plate,
    sample_declarants,
    sample_declaration,
    sample_plate,
)

K = ClearanceKind

#: Event types in a fixed order; a stream stores each event's index here as its kind code.
EVENT_KINDS: tuple[type, ...] = ev.ALL_EVENTS
KIND_CODE: dict[type, int] = {t: i for i, t in enumerate(EVENT_KINDS)}


class Incident(str, Enum):
    """A piece of bad input a visit meets (at most one per visit)."""

    INVALID_DECLARATION = "invalid_declaration"  # bad container check digit or plate; resubmitted
    MISREAD = "misread"  # a confusable character; the officer types the plate
    NO_READ = "no_read"  # the camera read nothing; the officer types the plate
    LOW_CONFIDENCE = "low_confidence"  # read below the threshold; the officer confirms it
    OUT_OF_ORDER = "out_of_order"  # barrier-2 pass before exit granted, or weighed before entry
    DUPLICATE = "duplicate"  # the same plate read, weight or decision reported twice
    WRONG_ACCOUNT = "wrong_account"  # a decision from an account without the role
    UNDECLARED_VEHICLE = "undeclared_vehicle"  # a truck without a declaration shows up at staging


def _sent_away(out: list[cmd.Command], visit_id: str | None) -> bool:
    """Whether ``out`` sends the visit away (it was refused)."""
    return any(isinstance(c, cmd.RouteTo) and c.station is Station.AWAY and c.visit_id == visit_id for c in out)


class Act(Enum):
    """What a scheduled event means to the world, so it can tell expected refusals from bugs."""

    SUBMIT = "submit"
    SUBMIT_INVALID = "submit_invalid"
    AMEND = "amend"
    PING = "ping"
    FEED = "feed"  # a telematics delivery: the positions pinged since the last one
    READ = "read"
    BAD_READ = "bad_read"
    MANUAL_ENTRY = "manual_entry"
    BARRIER = "barrier"
    PASS_IN = "pass_in"
    PASS_OUT = "pass_out"
    WEIGH = "weigh"
    SCAN = "scan"
    DECIDE = "decide"
    PAY_ONLINE = "pay_online"
    PAY_DIRECT = "pay_direct"
    CONFIRM = "confirm"
    LOADING = "loading"
    HANDOVER = "handover"
    ACK = "ack"
    AGV = "agv"
    RESOLVE = "resolve"
    SEEN_OUT = "seen_out"  # a vehicle refused in the yard passes the yard-gate camera on its way out
    BAD = "bad"  # out of order, duplicate, wrong account, undeclared: a refusal is expected


_EXPECTED_REFUSALS = frozenset({Act.SUBMIT_INVALID, Act.BAD_READ, Act.BAD})
_READ_INCIDENTS = frozenset({Incident.MISREAD, Incident.NO_READ, Incident.LOW_CONFIDENCE})
_READ_SITES = (Site.STAGING, Site.BARRIER_1, Site.YARD_GATE_IN, Site.YARD_GATE_OUT, Site.BARRIER_2)
_CAMERA = {Site.STAGING: "cam-staging", Site.BARRIER_1: "cam-in-1", Site.YARD_GATE_IN: "cam-yard-in",
           Site.INSPECTION_BAY: "cam-bay", Site.YARD_GATE_OUT: "cam-yard-out", Site.BARRIER_2: "cam-out-1"}
_STATION_SITE = {Station.ENTRY_LANE: Site.BARRIER_1, Station.YARD: Site.YARD_GATE_IN,
                 Station.INSPECTION: Site.INSPECTION_BAY, Station.EXIT_LANE: Site.YARD_GATE_OUT}
#: Who types a plate or closes a review at each site.
_OFFICER_AT = {Site.STAGING: "police-1", Site.BARRIER_1: "guard-1", Site.YARD_GATE_IN: "yard-1",
               Site.INSPECTION_BAY: "customs-1", Site.YARD_GATE_OUT: "yard-1", Site.BARRIER_2: "guard-1"}
_ROLE_ACCOUNT = {Role.MEDICAL: "medical-1", Role.BORDER_GUARD: "guard-1", Role.HEALTH_QUARANTINE: "health-q-1",
                 Role.ANIMAL_QUARANTINE: "animal-q-1", Role.PLANT_QUARANTINE: "plant-q-1", Role.CUSTOMS: "customs-1",
                 Role.FEE_COLLECTOR: "fees-1", Role.YARD_OPERATOR: "yard-1", Role.OPERATION_CENTRE: "ops-1",
                 Role.TRAFFIC_POLICE: "police-1"}
#: An officer of another agency who presses the button by mistake.
_WRONG_ACCOUNT = {Role.MEDICAL: "yard-1", Role.BORDER_GUARD: "medical-1", Role.HEALTH_QUARANTINE: "plant-q-1",
                  Role.ANIMAL_QUARANTINE: "health-q-1", Role.PLANT_QUARANTINE: "animal-q-1",
                  Role.CUSTOMS: "fees-1", Role.FEE_COLLECTOR: "customs-1"}
#: Decision delays in seconds, inside each agency's service level (TimeoutConfig defaults).
_DECISION_DELAY = {K.MEDICAL: (60, 300), K.BORDER_GUARD_ENTRY: (30, 180), K.BORDER_GUARD_EXIT: (20, 120),
                   K.HEALTH_QUARANTINE: (600, 3600), K.ANIMAL_QUARANTINE: (600, 3600),
                   K.PLANT_QUARANTINE: (600, 3600), K.CUSTOMS_DOCUMENTS: (300, 10_800),
                   K.CUSTOMS_INSPECTION: (1_200, 5_400), K.LOADING: (900, 3_600), K.FEE: (60, 600)}
#: Returns and refusals fall on clearances decided where the vehicle can be turned back or held.
_RETURNABLE = frozenset({K.MEDICAL, K.BORDER_GUARD_ENTRY, K.HEALTH_QUARANTINE, K.ANIMAL_QUARANTINE,
                         K.PLANT_QUARANTINE})
_REFUSABLE = frozenset({K.BORDER_GUARD_ENTRY, K.CUSTOMS_INSPECTION, K.ANIMAL_QUARANTINE, K.PLANT_QUARANTINE})
_ENTRY_KINDS = frozenset({K.MEDICAL, K.BORDER_GUARD_ENTRY})
_RETURN_REASONS = ("driver's health declaration incomplete", "vehicle papers do not match the declaration",
                   "phytosanitary certificate missing", "seal number differs from the declaration")


@dataclass(slots=True, eq=False)
class Truck:
    """The world's side of one visit: what the vehicle really is and what it will do."""

    number: int
    declaration: Declaration
    account: str
    weight_kg: float  #: what the weighbridge will read
    lead_s: float  #: from declaration to arrival at staging
    pay_online: bool
    scan_suspect: bool
    will_return: bool
    will_refuse: bool
    incident: Incident | None
    incident_site: Site
    variant: int
    incident_used: bool = False
    accepted: bool = False  #: the core has accepted its first declaration: the visit is open
    epoch: int = 0  #: bumped when the vehicle is turned back: its pending moves are void
    returns: int = 0  #: bumped at each return: the decisions pending on the returned version are void
    station: Station | None = None
    fee_due: int = 0
    paying: bool = False
    in_yard: bool = False
    turned_back: bool = False
    refused: bool = False
    departed: bool = False

    @property
    def visit_id(self) -> str:
        return self.declaration.declaration_id

    @property
    def plate(self) -> str:
        return self.declaration.vehicle_plate


@dataclass(slots=True, eq=False)
class _Action:
    event: Any
    truck: Truck | None
    act: Act
    epoch: int  # -1: stays valid when the vehicle is turned back
    site: Site | None = None
    #: The bad input this event carries, counted when the event is recorded (not when planned:
    #: a visit refused first, or a run ending first, never sends it).
    incident: Incident | None = None
    #: A decision's version of the declaration (the truck's ``returns`` then); -1 for any other move.
    returns: int = -1


@dataclass
class WorldStats:
    """What the world did and saw while recording."""

    visits_declared: int = 0
    visits_departed: int = 0
    visits_refused: int = 0
    declarations_rejected: int = 0
    returns: int = 0
    #: Bad input sent to the core, by ``Incident``: counted as recorded, so an incident planned
    #: for a visit refused first, or due after the run's end, is not.
    incidents: dict[str, int] = field(default_factory=dict)
    expected_refusals: int = 0
    unexpected_refusals: int = 0
    unexpected_reviews: int = 0
    timer_calls: int = 0
    #: The first few surprises, for the report: a refusal of an event the world sent in good faith.
    surprises: list[str] = field(default_factory=list)


@dataclass
class RecordedStream:
    """A chunk of the recorded ``(event, now)`` stream, ready to replay on a core.

    ``ticks`` lists the core's timer calls: ``(i, t)`` means ``on_timer(t)`` before event ``i``
    (``i == len(events)``: after the last one). ``kinds`` holds each event's ``KIND_CODE``.
    ``commands`` is kept only when asked for (to check that a replay takes the same path).
    """

    events: list[Any]
    times: list[float]
    kinds: np.ndarray
    ticks: list[tuple[int, float]]
    start_index: int
    commands: list[list[cmd.Command]] | None = None

    def __len__(self) -> int:
        return len(self.events)

    def segments(self) -> Iterator[tuple[int, int, list[float]]]:
        """``(lo, hi, timer_times)``: call ``on_timer`` at each time, then handle events ``lo:hi``."""
        lo = 0
        pending: list[float] = []
        for index, t in self.ticks:
            if index > lo:
                yield lo, index, pending
                lo, pending = index, []
            pending.append(t)
        yield lo, len(self.events), pending

    def prefix(self, n: int) -> RecordedStream:
        """The first ``n`` events, with their timer calls."""
        return RecordedStream(self.events[:n], self.times[:n], self.kinds[:n],
                              [(i, t) for i, t in self.ticks if i < n], self.start_index,
                              None if self.commands is None else self.commands[:n])


class GateWorld:
    """Devices, officers and declarants around one recording ``GateCore``, as a deterministic script.

    ``open_visits`` declarations are submitted at the start and each visit that ends (departs or
    is refused) is replaced by a new declaration, until ``total_visits`` have been declared
    (None: without end). ``record(n)`` runs the world for up to ``n`` more events.
    The world speaks to the device ids of ``loadtest_gate_config``.
    """

    def __init__(self, *, seed: int, open_visits: int, total_visits: int | None, mix: Mix | None = None,
                 bad_share: float = 0.0, lead_time_s: float = 6 * 3600.0, declarants: int = 400,
                 gps_pings: int = 3, gps_feed_s: float | None = None, archive_limit: int = 10_000,
                 config: GateConfig | None = None) -> None:
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            # numpy's SeedSequence says only "expected non-negative integer".
            raise ValueError(f"seed must be a whole number of at least 0 (got {seed!r})")
        if open_visits < 1:
            raise ValueError(f"open_visits must be at least 1 (got {open_visits})")
        if total_visits is not None and total_visits < open_visits:
            raise ValueError(f"total_visits ({total_visits}) must be at least open_visits ({open_visits})")
        if not 0.0 <= bad_share <= 1.0:
            raise ValueError(f"bad_share must be a share between 0 and 1 (got {bad_share})")
        if lead_time_s <= 0:
            raise ValueError(f"lead_time_s must be positive (got {lead_time_s})")
        if gps_feed_s is not None and not (math.isfinite(gps_feed_s) and gps_feed_s > 0):
            raise ValueError(f"gps_feed_s must be a positive number of seconds (got {gps_feed_s})")
        self.mix = mix or Mix()
        self.open_visits = open_visits
        self.total_visits = total_visits
        self.bad_share = bad_share
        self.lead_time_s = lead_time_s
        self.gps_pings = gps_pings
        #: With a telematics feed, how often it delivers; pings wait in ``_feed`` by delivery time.
        self.gps_feed_s = gps_feed_s
        self._feed: dict[float, list[tuple[Truck, int, str, float, float]]] = {}
        # Arrivals per hour in steady state: every open visit turns over in about lead + 2 h at the gate.
        throughput_h = open_visits * 3600.0 / (lead_time_s + 7200.0)
        self.config = config or loadtest_gate_config(self.mix, gate_capacity_per_h=max(60.0, 1.5 * throughput_h),
                                                     archive_limit=archive_limit)
        self.core = GateCore(self.config)
        streams = np.random.SeedSequence(seed).spawn(6)
        self._vehicles, self._arrivals, self._officers, self._devices, self._bad, people = (
            Draws(np.random.default_rng(s)) for s in streams)
        self.declarants = sample_declarants(people, declarants)
        self.stats = WorldStats()
        self.trucks: dict[str, Truck] = {}
        self._plates: set[str] = set()
        self._containers: set[str] = set()  # the container numbers of the open visits
        self._heap: list[tuple[float, int, _Action]] = []
        self._seq = 0
        self._now = 0.0
        self._recorded = 0
        self._next_number = 0
        #: Global index of the first event after which a finished visit was not replaced.
        self.tail_index: int | None = None
        self._on_command: dict[type, Callable[[Any, Truck, float, set[str], set[str]], None]] = {
            cmd.AcceptDeclaration: self._accepted, cmd.RequestFee: self._fee_requested,
            cmd.AssignTask: self._task_assigned, cmd.RouteTo: self._routed, cmd.OpenBarrier: self._barrier_opened,
            cmd.RequestScan: self._scan_requested, cmd.DispatchAgv: self._agv_dispatched,
            cmd.SendManifest: self._manifest_sent, cmd.ReturnForRedeclaration: self._returned,
        }
        first = open_visits if total_visits is None else min(open_visits, total_visits)
        for k in range(first):
            self._new_truck(60.0 * k / first, initial=True)

    # ------------------------------------------------------------------ recording

    @property
    def finished(self) -> bool:
        """Every declared visit has ended and nothing is pending."""
        return not self._heap

    @property
    def awaiting_acceptance(self) -> int:
        """Visits declared whose declaration the core has not accepted yet: still to be submitted,
        or rejected and to be submitted again."""
        return sum(1 for truck in self.trucks.values() if not truck.accepted)

    @property
    def recorded(self) -> int:
        """Events recorded so far, over every chunk."""
        return self._recorded

    def record(self, max_events: int, keep_commands: bool = False) -> RecordedStream:
        """Run the world for up to ``max_events`` more events and return them as a stream."""
        events: list[Any] = []
        times: list[float] = []
        kinds: list[int] = []
        ticks: list[tuple[int, float]] = []
        commands: list[list[cmd.Command]] | None = [] if keep_commands else None
        heap, core = self._heap, self.core
        start = self._recorded
        while heap and len(events) < max_events:
            t, _, action = heap[0]
            deadline = core.next_deadline()
            if deadline is not None and deadline <= t:
                tick = max(deadline, self._now)
                ticks.append((len(events), tick))
                self._now = tick
                self.stats.timer_calls += 1
                self._react(_Action(None, None, Act.RESOLVE, -1), core.on_timer(tick), tick)
                continue
            heapq.heappop(heap)
            truck = action.truck
            if truck is not None and (truck.refused or (action.epoch >= 0 and action.epoch != truck.epoch)
                                      or (action.returns >= 0 and action.returns != truck.returns)):
                # The vehicle was refused or turned back, or the decision was on a version since
                # returned (a return takes every task off the work lists): it no longer happens.
                continue
            if action.act is Act.FEED:
                action.event = self._delivery(t)
                if action.event is None:
                    continue
            out = core.handle(action.event, t)
            self._now = t
            events.append(action.event)
            times.append(t)
            kinds.append(KIND_CODE[type(action.event)])
            if commands is not None:
                commands.append(out)
            self._recorded += 1
            if action.incident is not None:
                incidents = self.stats.incidents
                incidents[action.incident.value] = incidents.get(action.incident.value, 0) + 1
            self._react(action, out, t)
        if len(core.audit.records) > 50_000:
            core.audit.drain()  # the recording core's trail is not the one under test
        return RecordedStream(events, times, np.asarray(kinds, dtype=np.uint8), ticks, start, commands)

    def record_all(self, keep_commands: bool = False) -> RecordedStream:
        """The whole stream until every visit has ended (needs ``total_visits``)."""
        if self.total_visits is None:
            raise ValueError("record_all needs total_visits: without it the world never ends")
        return self.record(2**62, keep_commands)

    # ------------------------------------------------------------------ scheduling

    def _at(self, t: float, event: Any, truck: Truck | None, act: Act, bound: bool = False,
            site: Site | None = None, incident: Incident | None = None, on_version: bool = False) -> None:
        self._seq += 1
        epoch = truck.epoch if bound and truck is not None else -1
        returns = truck.returns if on_version and truck is not None else -1
        if incident is None and act in _EXPECTED_REFUSALS and truck is not None:
            incident = truck.incident
        heapq.heappush(self._heap, (t, self._seq, _Action(event, truck, act, epoch, site, incident, returns)))

    def _new_truck(self, t: float, initial: bool = False) -> None:
        number = self._next_number
        self._next_number += 1
        draws, bad = self._vehicles, self._bad
        plate = sample_plate(draws, draws.chance(self.mix.vn_plates))
        while plate in self._plates:
            plate = sample_plate(draws, draws.chance(self.mix.vn_plates))
        declarant = draws.pick(self.declarants)
        declaration = sample_declaration(draws, number, self.mix, plate=plate, declarant=declarant)
        while any(c.number in self._containers for c in declaration.containers):  # one truck per container
            declaration = sample_declaration(draws, number, self.mix, plate=plate, declarant=declarant)
        declared = declaration.declared_gross_kg
        weight = declared * (draws.uniform(1.07, 1.15) if draws.chance(self.mix.weight_discrepancy)
                             else draws.uniform(0.98, 1.02))
        incident = bad.pick(tuple(Incident)) if bad.chance(self.bad_share) else None
        lead = self.lead_time_s * (self._arrivals.uniform(0.02, 2.0) if initial else self._arrivals.uniform(0.25, 1.75))
        truck = Truck(number, declaration, declarant.account, round(weight, 0), lead,
                      pay_online=draws.chance(self.mix.online_payment), scan_suspect=draws.chance(self.mix.suspect_scan),
                      will_return=self._officers.chance(self.mix.returned),
                      will_refuse=self._officers.chance(self.mix.refused),
                      incident=incident, incident_site=bad.pick(_READ_SITES), variant=bad.integer(0, 2))
        self.trucks[truck.visit_id] = truck
        self._plates.add(plate)
        self._containers.update(c.number for c in declaration.containers)
        self.stats.visits_declared += 1
        if incident is Incident.INVALID_DECLARATION:
            payload = invalid_declaration_payload(bad, declaration)
            self._at(t, ev.DeclarationSubmitted(truck.account, payload), truck, Act.SUBMIT_INVALID)
        else:
            self._at(t, ev.DeclarationSubmitted(truck.account, declaration), truck, Act.SUBMIT)

    def _finish(self, truck: Truck, now: float) -> None:
        """The visit ended: free its plate and containers and, while visits remain, declare the next one."""
        self.trucks.pop(truck.visit_id, None)
        self._plates.discard(truck.plate)
        self._containers.difference_update(c.number for c in truck.declaration.containers)
        if self.total_visits is None or self.stats.visits_declared < self.total_visits:
            self._new_truck(now + self._arrivals.uniform(0.0, 120.0))
        elif self.tail_index is None:
            self.tail_index = self._recorded

    def _trip(self, truck: Truck, now: float, lead: float) -> None:
        """Drive to the gate: GPS pings on the way, then the staging camera."""
        arrival = now + lead
        speed = self._arrivals.uniform(35.0, 60.0)
        for k in range(self.gps_pings, 0, -1):
            t = arrival - 900.0 * k
            if t > now:
                km, kmh = round(speed * k / 4.0, 2), round(speed, 1)
                if self.gps_feed_s is None:
                    self._at(t, ev.GpsPing("driver-app", truck.plate, km, kmh), truck, Act.PING, bound=True)
                else:
                    self._to_feed(t, truck, km, kmh)
        self._read(truck, Site.STAGING, arrival)

    def _to_feed(self, t: float, truck: Truck, km: float, kmh: float) -> None:
        """A ping sent at ``t`` waits for the feed's next delivery (scheduled with its first ping)."""
        assert self.gps_feed_s is not None
        delivery = next_delivery(t, self.gps_feed_s)
        waiting = self._feed.get(delivery)
        if waiting is None:
            waiting = self._feed[delivery] = []
            self._at(delivery, None, None, Act.FEED)
        waiting.append((truck, truck.epoch, truck.plate, km, kmh))

    def _delivery(self, t: float) -> ev.PositionsReported | None:
        """The feed's delivery at ``t``: the positions still meant (not of a vehicle since refused,
        turned back or gone), in the order pinged; None when none is left."""
        positions = tuple((plate, km, kmh) for truck, epoch, plate, km, kmh in self._feed.pop(t)
                          if truck.epoch == epoch and not truck.refused and self.trucks.get(truck.visit_id) is truck)
        return ev.PositionsReported(FEED_DEVICE, positions) if positions else None

    def _read(self, truck: Truck, site: Site, t: float) -> None:
        """The camera at ``site`` sees the truck: a good read, or the truck's bad-read incident."""
        camera = _CAMERA[site]
        d = self._devices
        if truck.incident in _READ_INCIDENTS and site is truck.incident_site and not truck.incident_used:
            truck.incident_used = True
            if truck.incident is Incident.MISREAD:
                wrong = misread_plate(d, truck.plate)
                event = (ev.PlateRead(camera, wrong, round(d.uniform(0.88, 0.97), 3)) if wrong not in self._plates
                         else ev.PlateRead(camera, None, 0.0))
            elif truck.incident is Incident.NO_READ:
                event = ev.PlateRead(camera, None, 0.0)
            else:
                event = ev.PlateRead(camera, truck.plate, round(d.uniform(0.40, 0.80), 3))
            self._at(t, event, truck, Act.BAD_READ, bound=True, site=site)
            return
        event = ev.PlateRead(camera, truck.plate, round(d.uniform(0.90, 0.995), 3))
        self._at(t, event, truck, Act.READ, bound=True, site=site)
        if (truck.incident is Incident.DUPLICATE and truck.variant == 0 and site is truck.incident_site
                and not truck.incident_used):
            truck.incident_used = True
            self._at(t + d.uniform(0.5, 2.0), event, truck, Act.BAD, bound=True, site=site)

    # ------------------------------------------------------------------ reacting to the core

    def _surprise(self, text: str) -> None:
        if len(self.stats.surprises) < 20:
            self.stats.surprises.append(text)

    def _react(self, action: _Action, out: list[cmd.Command], now: float) -> None:
        truck = action.truck
        refused = False
        away: set[str] = set()
        returned: set[str] = set()
        reviewed = False
        for c in out:
            if isinstance(c, cmd.ManualReview) and c.device_id is None and c.plate and _sent_away(out, c.visit_id):
                # Refused while parked in the yard: the yard operator sees it out past the camera,
                # which frees its slot and answers the review.
                self._at(now + self._officers.uniform(60.0, 300.0), ev.PlateRead("cam-yard-out", c.plate, 0.99),
                         None, Act.SEEN_OUT)
            elif isinstance(c, cmd.RefuseEvent):
                refused = True
                if action.act in _EXPECTED_REFUSALS:
                    self.stats.expected_refusals += 1
                else:
                    self.stats.unexpected_refusals += 1
                    self._surprise(f"t={now:g} {c.event_kind} by {c.sender} refused: {c.reason}")
            elif isinstance(c, cmd.ManualReview):
                reviewed = True
                self._review(action, c, now)
            elif isinstance(c, cmd.RouteTo) and c.station is Station.AWAY:
                away.add(c.visit_id)
            elif isinstance(c, cmd.ReturnForRedeclaration):
                returned.add(c.visit_id)
        if action.act is Act.BAD_READ and truck is not None and not reviewed:
            # The same review is already open at this camera: the camera simply reads again.
            self._at(now + self._devices.uniform(3.0, 10.0), ev.PlateRead(_CAMERA[action.site or Site.STAGING],
                     truck.plate, 0.95), truck, Act.READ, bound=True, site=action.site)
        if not refused and truck is not None:
            self._accepted_event(action, truck, now)
        for c in out:
            handler = self._on_command.get(type(c))
            if handler is not None:
                target = self.trucks.get(getattr(c, "visit_id", ""))
                if target is not None:
                    handler(c, target, now, away, returned)
        for visit_id in sorted(away - returned):
            target = self.trucks.get(visit_id)
            if target is not None:  # refused by an officer: the vehicle leaves for good
                target.refused = True
                self.stats.visits_refused += 1
                self._finish(target, now)
        for c in out:
            if isinstance(c, cmd.RejectDeclaration) and c.declaration_id in self.trucks:
                target = self.trucks[c.declaration_id]
                self.stats.declarations_rejected += 1
                self._at(now + self._officers.uniform(300.0, 1800.0),
                         ev.DeclarationSubmitted(target.account, target.declaration), target, Act.SUBMIT)

    def _review(self, action: _Action, review: cmd.ManualReview, now: float) -> None:
        truck = action.truck
        o = self._officers
        if action.act is Act.BAD_READ and truck is not None and action.site is not None:
            entry = ev.ManualPlateEntered(_OFFICER_AT[action.site], review.review_id, truck.plate)
            self._at(now + o.uniform(20.0, 120.0), entry, truck, Act.MANUAL_ENTRY, bound=True, site=action.site)
            return
        if action.act not in _EXPECTED_REFUSALS:
            self.stats.unexpected_reviews += 1
            self._surprise(f"t={now:g} review {review.review_id}: {review.reason}")
        officer = _ROLE_ACCOUNT.get(review.roles[0], "admin") if review.roles else "admin"
        self._at(now + o.uniform(60.0, 300.0), ev.ReviewResolved(officer, review.review_id, "checked on site"),
                 None, Act.RESOLVE)

    def _accepted_event(self, action: _Action, truck: Truck, now: float) -> None:
        act = action.act
        if act is Act.READ or act is Act.MANUAL_ENTRY:
            self._arrived(truck, action.site or Site.STAGING, now)
        elif act is Act.PAY_ONLINE:
            confirm = ev.PaymentConfirmed("fees-1", truck.visit_id, action.event.reference)
            self._at(now + self._officers.uniform(120.0, 1800.0), confirm, truck, Act.CONFIRM)
        elif act is Act.PASS_OUT and not truck.departed:
            truck.departed = True
            self.stats.visits_departed += 1
            self._finish(truck, now)

    def _arrived(self, truck: Truck, site: Site, now: float) -> None:
        """The core identified the truck at ``site``: what the truck and the people around it do next."""
        d, bad = self._devices, self._bad
        fresh = not truck.incident_used
        if site is Site.STAGING and fresh and truck.incident is Incident.UNDECLARED_VEHICLE:
            truck.incident_used = True
            stranger = sample_plate(bad, bad.chance(0.5))
            while stranger in self._plates:
                stranger = sample_plate(bad, bad.chance(0.5))
            self._at(now + bad.uniform(5.0, 60.0), ev.PlateRead("cam-staging", stranger, 0.96), None, Act.BAD,
                     incident=Incident.UNDECLARED_VEHICLE)
        elif site is Site.STAGING and fresh and truck.incident is Incident.OUT_OF_ORDER and truck.variant == 1:
            truck.incident_used = True  # the scale reports a truck that has not passed barrier 1
            self._at(now + bad.uniform(5.0, 30.0), ev.WeightMeasured("scale-1", truck.plate, truck.weight_kg),
                     truck, Act.BAD)
        elif site is Site.YARD_GATE_IN and not truck.in_yard:
            truck.in_yard = True
            if fresh and truck.incident is Incident.OUT_OF_ORDER and truck.variant != 1:
                truck.incident_used = True  # the exit loop reports a truck still parked in the yard
                self._at(now + bad.uniform(30.0, 120.0), ev.VehiclePassed("barrier-out-1", truck.plate), truck, Act.BAD)
            if truck.fee_due > 0 and not truck.paying and not truck.pay_online:
                self._pay_direct(truck, now)
            if truck.declaration.transshipment:
                self._at(now + d.uniform(300.0, 1200.0), ev.LoadingRegistered(truck.account, truck.visit_id),
                         truck, Act.LOADING)
            if truck.declaration.crossing_mode is CrossingMode.AGV_LANE:
                for container in truck.declaration.containers:
                    handover = ev.ContainerHandedOver("yard-1", truck.visit_id, container.number)
                    self._at(now + d.uniform(600.0, 1800.0), handover, truck, Act.HANDOVER)
        elif site is Site.YARD_GATE_OUT:
            self._read(truck, Site.BARRIER_2, now + d.uniform(60.0, 180.0))

    def _pay_direct(self, truck: Truck, now: float) -> None:
        truck.paying = True
        paid = ev.FeePaid("fees-1", truck.visit_id, truck.fee_due, PaymentMethod.DIRECT, f"CTR{truck.number:08d}")
        self._at(now + self._officers.uniform(180.0, 900.0), paid, truck, Act.PAY_DIRECT)

    # --- one reaction per command type: (command, truck, now, visits sent away, visits returned)

    def _accepted(self, c: cmd.AcceptDeclaration, truck: Truck, now: float, away: set[str], returned: set[str]) -> None:
        if c.version == 1:
            truck.accepted = True
            self._trip(truck, now, truck.lead_s)
        elif truck.turned_back:
            truck.turned_back = False
            truck.station = None
            self._trip(truck, now, self._arrivals.uniform(1800.0, 5400.0))

    def _fee_requested(self, c: cmd.RequestFee, truck: Truck, now: float, away: set[str], returned: set[str]) -> None:
        truck.fee_due = c.amount_vnd
        if truck.paying:
            return
        if truck.pay_online:
            truck.paying = True
            paid = ev.FeePaid(truck.account, truck.visit_id, c.amount_vnd, PaymentMethod.ONLINE, f"VCB{truck.number:08d}")
            self._at(now + self._officers.uniform(300.0, 7200.0), paid, truck, Act.PAY_ONLINE)
        elif truck.in_yard:
            self._pay_direct(truck, now)

    def _task_assigned(self, c: cmd.AssignTask, truck: Truck, now: float, away: set[str], returned: set[str]) -> None:
        o = self._officers
        kind = c.clearance
        outcome = Outcome.PASSED
        reasons: tuple[str, ...] = ()
        if truck.will_refuse and kind in _REFUSABLE and (kind is not K.BORDER_GUARD_ENTRY or o.chance(0.5)):
            # Half the vehicles to refuse are refused at the border check on entry; the others
            # by the first goods check they need, in the yard (none needed: they leave cleared).
            truck.will_refuse = False
            outcome, reasons = Outcome.REFUSED, ("goods not admissible",)
        elif truck.will_return and kind in _RETURNABLE:
            truck.will_return = False
            outcome, reasons = Outcome.RETURNED, (o.pick(_RETURN_REASONS),)
        lo, hi = _DECISION_DELAY[kind]
        delay = o.uniform(lo, hi)
        if self.mix.late and o.chance(self.mix.late):  # drawn only when asked for: other streams stay as they were
            delay = c.due - now + o.uniform(60.0, 1_800.0)  # after the service level: escalated first
        decision = ev.ClearanceDecided(_ROLE_ACCOUNT[c.role], truck.visit_id, kind, outcome, reasons)
        bound = kind in _ENTRY_KINDS
        self._at(now + delay, decision, truck, Act.DECIDE, bound=bound, on_version=True)
        if truck.incident is Incident.WRONG_ACCOUNT and not truck.incident_used:
            truck.incident_used = True
            wrong = truck.account if truck.variant == 0 else _WRONG_ACCOUNT[c.role]
            self._at(now + delay / 2, ev.ClearanceDecided(wrong, truck.visit_id, kind, Outcome.PASSED), truck, Act.BAD,
                     bound=bound, on_version=True)
        elif truck.incident is Incident.DUPLICATE and truck.variant == 2 and not truck.incident_used:
            truck.incident_used = True
            self._at(now + delay + o.uniform(0.5, 3.0), decision, truck, Act.BAD, bound=bound, on_version=True)

    def _routed(self, c: cmd.RouteTo, truck: Truck, now: float, away: set[str], returned: set[str]) -> None:
        if c.station is truck.station or c.station is Station.AWAY:
            return  # the same instruction again, or leaving (handled with the return or refusal)
        truck.station = c.station
        d = self._devices
        if c.station is Station.SCALE:
            weighed = ev.WeightMeasured(c.device_id or "scale-1", truck.plate, truck.weight_kg)
            t = now + d.uniform(40.0, 150.0)
            self._at(t, weighed, truck, Act.WEIGH, bound=True)
            if truck.incident is Incident.DUPLICATE and truck.variant == 1 and not truck.incident_used:
                truck.incident_used = True
                self._at(t + d.uniform(0.5, 2.0), weighed, truck, Act.BAD, bound=True)
        elif c.station in _STATION_SITE:
            lo, hi = {Station.ENTRY_LANE: (120.0, 600.0), Station.YARD: (60.0, 300.0),
                      Station.INSPECTION: (120.0, 300.0), Station.EXIT_LANE: (300.0, 1200.0)}[c.station]
            self._read(truck, _STATION_SITE[c.station], now + d.uniform(lo, hi))
        # STAGING: wait to be called forward; SCANNER: the RequestScan that comes with it says when.

    def _barrier_opened(self, c: cmd.OpenBarrier, truck: Truck, now: float, away: set[str], returned: set[str]) -> None:
        d = self._devices
        opened = now + d.uniform(1.0, 3.0)
        passed = opened + d.uniform(6.0, 15.0)
        exit_barrier = c.device_id == "barrier-out-1"
        self._at(opened, ev.BarrierOpened(c.device_id), truck, Act.BARRIER)
        self._at(passed, ev.VehiclePassed(c.device_id, truck.plate), truck,
                 Act.PASS_OUT if exit_barrier else Act.PASS_IN, bound=not exit_barrier)
        self._at(passed + d.uniform(3.0, 6.0), ev.BarrierClosed(c.device_id), truck, Act.BARRIER)

    def _scan_requested(self, c: cmd.RequestScan, truck: Truck, now: float, away: set[str], returned: set[str]) -> None:
        result = ScanResult.SUSPECT if truck.scan_suspect else ScanResult.CLEAR
        scanned = ev.ScanCompleted(c.device_id, truck.plate, result, f"img-{truck.number:08d}")
        self._at(now + self._devices.uniform(180.0, 600.0), scanned, truck, Act.SCAN, bound=True)

    def _agv_dispatched(self, c: cmd.DispatchAgv, truck: Truck, now: float, away: set[str], returned: set[str]) -> None:
        self._at(now + self._devices.uniform(600.0, 1200.0), ev.AgvArrived(c.device_id, c.mission_id, c.attempt), truck, Act.AGV)

    def _manifest_sent(self, c: cmd.SendManifest, truck: Truck, now: float, away: set[str], returned: set[str]) -> None:
        self._at(now + self._devices.uniform(5.0, 60.0), ev.ManifestAcknowledged(c.device_id, c.mission_id), truck,
                 Act.ACK)

    def _returned(self, c: cmd.ReturnForRedeclaration, truck: Truck, now: float, away: set[str],
                  returned: set[str]) -> None:
        self.stats.returns += 1
        truck.returns += 1
        if c.visit_id in away:  # turned back before entering: it drives away and comes back amended
            truck.epoch += 1
            truck.turned_back = True
            truck.station = None
        amended = ev.DeclarationAmended(truck.account, c.declaration_id, truck.declaration)
        self._at(now + self._officers.uniform(1200.0, 3600.0), amended, truck, Act.AMEND)
