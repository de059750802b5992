"""The clearance core: one object that turns events into commands, and never waits.

Contract (sans-I/O, see ARCHITECTURE.md)::

    core = GateCore(config)
    commands = core.handle(event, now)   # event in (past tense), commands out (imperative)
    deadline = core.next_deadline()      # when the core next needs to be woken, or None
    commands = core.on_timer(now)        # agency silent too long, payment unconfirmed, ...
    core.visit(visit_id)                 # read-only views for UIs, probes and tests

Rules this module keeps:

* ``handle`` never raises for anything a device or a person could send. A malformed, unknown,
  unauthorised, repeated or out-of-order event is *refused*: it changes nothing, it is written to
  the audit with its reason, the sender is told (``RefuseEvent``), and where a person must act a
  ``ManualReview`` is raised. Real programming errors still raise: they must not be hidden.
* ``now`` comes from the host with every call, in seconds (never negative). ``handle`` and
  ``on_timer`` treat a ``now`` that is not a finite, non-negative number alike: refused
  (audited, answered with a ``RefuseEvent``), never raised.
* Every accepted or refused event is audited, hash-chained, with its sender, time and reason.
* Every visit is in exactly one location; a visit leaves the open set only by departing or being
  refused, and then moves to the archive. None is ever lost.
* Work per event is O(1) in the number of open visits: every lookup is a dict or a deque.
* Decisions that look random (selection for inspection) are keyed hashes of the declaration, so
  replaying the same events gives the same decisions.

The event handlers live in ``gate.handlers``; this module keeps the state, the shared steps of
the flow, the timers and the queries.
"""

from __future__ import annotations

import math
import numbers
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any, cast

from gate.audit import AuditLog
from gate.commands import (
    AssignTask,
    Command,
    DispatchAgv,
    Escalate,
    KeepClosed,
    ManualReview,
    OpenBarrier,
    RefuseEvent,
    RequestScan,
    RouteTo,
    SendManifest,
    TrafficAdvice,
)
from gate.config import DeviceSpec, GateConfig
from gate.deadlines import Deadlines, due_around_closures, merge_spells, working_due, working_spells
from gate.declaration import Declaration, shown
from gate.enums import (
    CLEARANCE_ROLE,
    TERMINAL_LOCATIONS,
    AgvMissionState,
    Channel,
    ClearanceKind,
    ClearanceStatus,
    CrossingMode,
    DeviceKind,
    GoodsCategory,
    Location,
    ReviewKind,
    Role,
    Site,
    Station,
    TrafficAction,
    VehicleClass,
)
from gate.events import PERSON_EVENTS, Event
from gate.identifiers import confusable_key
from gate.reviews import review_roles
from gate.risk import ComplianceLedger
from gate.traffic import Corridor
from gate.transitions import GUARDS, PHRASE, TRANSITIONS, Trigger
from gate.validation import WELL_FORMED as _WELL_FORMED
from gate.validation import problem, sender
from gate.visit import Clearance, Mission, Review, Visit, VisitView, WorkItem, closed_as
from gate.yard import RefusedInside, Staging, Yard

K = ClearanceKind
S = ClearanceStatus

#: Clearances an agency can work on, by where the vehicle is. Customs documents can be checked
#: before arrival; quarantine and physical inspection need the goods in the yard.
_YARD_WORK = frozenset(
    {K.CUSTOMS_DOCUMENTS, K.HEALTH_QUARANTINE, K.ANIMAL_QUARANTINE, K.PLANT_QUARANTINE, K.CUSTOMS_INSPECTION, K.LOADING}
)
WORKABLE: dict[Location, frozenset[ClearanceKind]] = {
    Location.OUTSIDE: frozenset({K.CUSTOMS_DOCUMENTS}),
    Location.STAGING: frozenset({K.CUSTOMS_DOCUMENTS, K.MEDICAL}),
    Location.ENTRY_LANE: frozenset({K.CUSTOMS_DOCUMENTS, K.MEDICAL, K.BORDER_GUARD_ENTRY}),
    Location.SCALE: frozenset({K.CUSTOMS_DOCUMENTS}),
    Location.SCANNER: frozenset({K.CUSTOMS_DOCUMENTS}),
    Location.YARD: _YARD_WORK,
    Location.INSPECTION: _YARD_WORK,
    Location.EXIT_LANE: _YARD_WORK | {K.BORDER_GUARD_EXIT},
    Location.RETURNED: frozenset(),
    Location.DEPARTED: frozenset(),
    Location.REFUSED: frozenset(),
}
ENTRY_CLEARANCES = (K.MEDICAL, K.BORDER_GUARD_ENTRY)
#: The risk channels from lowest to highest: a channel may be raised, never lowered.
CHANNEL_ORDER = (Channel.GREEN, Channel.YELLOW, Channel.RED)
#: Clearances on the goods: an AGV may carry a container across only once these have passed.
GOODS_CLEARANCES = (
    K.HEALTH_QUARANTINE, K.ANIMAL_QUARANTINE, K.PLANT_QUARANTINE, K.CUSTOMS_DOCUMENTS, K.CUSTOMS_INSPECTION, K.LOADING,
)
#: Where a vehicle is inside the gate whatever else holds: past the entry lane, not yet departed.
_BEYOND_ENTRY_LANE = frozenset({Location.SCALE, Location.SCANNER, Location.YARD, Location.INSPECTION,
                                Location.EXIT_LANE})
#: Where a vehicle can still be sent to a scanner.
_BEFORE_SCAN = frozenset({Location.OUTSIDE, Location.STAGING, Location.ENTRY_LANE, Location.SCALE})
# Members read on every event, bound once: in Python 3.11 reading a member off its Enum class
# (``ClearanceStatus.PASSED``) goes through EnumType's ``__getattr__`` hook and costs several
# times a global read, which adds up on the hot path.
_PASSED, _REQUIRED, _ASSIGNED = S.PASSED, S.REQUIRED, S.ASSIGNED
_EXIT_CHECK = K.BORDER_GUARD_EXIT
_MEDICAL, _ENTRY_CHECK = K.MEDICAL, K.BORDER_GUARD_ENTRY
assert ENTRY_CLEARANCES == (_MEDICAL, _ENTRY_CHECK)  # ``progress`` reads the two by name
_TO_SCALE, _TO_YARD, _TO_EXIT_LANE, _TO_ENTRY_LANE = Station.SCALE, Station.YARD, Station.EXIT_LANE, Station.ENTRY_LANE
_FEE, _LOADING, _INSPECTION_CHECK = K.FEE, K.LOADING, K.CUSTOMS_INSPECTION
_AGV_LANE = CrossingMode.AGV_LANE
_STAGING, _ENTRY_LANE, _SCALE, _YARD, _INSPECTION, _EXIT_LANE = (
    Location.STAGING, Location.ENTRY_LANE, Location.SCALE, Location.YARD, Location.INSPECTION, Location.EXIT_LANE,
)
_QUARANTINE_FOR: dict[GoodsCategory, ClearanceKind] = {
    GoodsCategory.LIVE_ANIMALS: K.ANIMAL_QUARANTINE,
    GoodsCategory.ANIMAL_PRODUCTS: K.ANIMAL_QUARANTINE,
    GoodsCategory.PLANTS_FRUIT: K.PLANT_QUARANTINE,
    GoodsCategory.FOODSTUFF: K.HEALTH_QUARANTINE,
}
#: ``_QUARANTINE_FOR`` in the order of the categories' values: the order a visit's quarantines are listed in.
_QUARANTINE_ORDER = tuple(sorted(_QUARANTINE_FOR.items(), key=lambda item: item[0].value))
#: Dispatches of one AGV mission before a fault hands it to people.
MAX_AGV_DISPATCHES = 3
#: Reviews about one passage of a vehicle, asking people to act for it where it stands: find it
#: when it did not come forward from staging, lift a faulted barrier for it. Once its visit ends
#: (departed, refused, cancelled) or it is turned back before entering, there is nothing left to
#: do for it there, and they close (``close_passage_reviews``). Every other review about a visit
#: outlives it: money to refund or to trace, a container on the AGV lane, a refused vehicle still
#: in the yard, or an incident people must still look into (a passage without permission, a
#: vehicle seen where it cannot be, a weighing skipped, a doubtful read or scan).
PASSAGE_REVIEWS = frozenset({ReviewKind.NO_SHOW, ReviewKind.BARRIER_FAULTED})
#: Events from people: one about a vehicle no longer called forward is news of it (``heard_from``).
_FROM_PEOPLE = frozenset(PERSON_EVENTS)


_INF = math.inf
#: How the audit and a ``RefuseEvent`` name a refused ``on_timer`` call, and who made it.
TIMER, HOST = "Timer", "host"

#: ``TRANSITIONS`` and ``GUARDS`` in one table: location -> trigger -> (next location, guard or None).
_STEPS: dict[Location, dict[Trigger, tuple[Location, str | None]]] = {
    here: {trigger: (there, GUARDS.get((here, trigger))) for trigger, there in row.items()}
    for here, row in TRANSITIONS.items()
}


def _finite_time(now: object) -> float | None:
    """``now`` as a float when it is a finite real number of seconds, not negative (and not a
    bool), else None. Seconds on the host's clock (from the start of a simulation, or of the
    epoch) are never negative, and refusing them keeps the audit's clock from running backwards
    behind a refusal stamped before any valid time (at 0)."""
    if type(now) is float:  # the usual case, kept cheap: this runs on every event
        return now if 0.0 <= now < _INF else None
    if isinstance(now, bool) or not isinstance(now, numbers.Real):
        return None
    try:
        value = float(now)
    except (OverflowError, ValueError):  # an int beyond a float's range
        return None
    return value if 0.0 <= value < _INF else None


#: Per event type: its fast shape check (or None), its handler, and its name as the audit writes it.
_ROUTES: dict[type, tuple[Any, Any, str]] = {}


def _route(event_type: type) -> tuple[Any, Any, str]:
    """The route of an event type; the table is filled on first use (``gate.handlers`` imports
    this module). A type without a handler gets no well-formed check, so ``problem`` refuses it."""
    if not _ROUTES:
        from gate.handlers import HANDLERS

        _ROUTES.update({cls: (_WELL_FORMED.get(cls), handler, cls.__name__) for cls, handler in HANDLERS.items()})
    return _ROUTES.get(event_type) or (None, None, event_type.__name__)


class Refusal(str):
    """A handler's verdict that its event is refused; the text is the reason."""

    __slots__ = ()


class GateCore:
    """The multi-agency clearance engine of one gate."""

    def __init__(self, config: GateConfig | None = None) -> None:
        self.config = config if config is not None else GateConfig()
        cfg = self.config
        self.devices: dict[str, DeviceSpec] = {d.device_id: d for d in cfg.devices}
        self.faulted: set[str] = set()
        self.accounts: dict[str, set[Role]] = {a: set(roles) for a, roles in cfg.accounts.items()}
        self.active: dict[str, Visit] = {}
        self.archive: OrderedDict[str, Visit] = OrderedDict()
        self.by_plate: dict[str, str] = {}
        #: The same index to the open visits themselves (kept with ``by_plate``): one lookup per read.
        self.plate_visits: dict[str, Visit] = {}
        #: Per plate camera: (its spec, the location trigger at its site, the barrier it watches or None).
        self.camera_steps: dict[str, tuple[DeviceSpec, Trigger | None, str | None]] = {}
        self.by_confusable: dict[str, str] = {}
        #: The open visit each declared container number is on (a container is on one truck at a time).
        self.by_container: dict[str, str] = {}
        #: The last archived visit of each plate, to recognise late repeats about a vehicle that left.
        self.closed_by_plate: dict[str, str] = {}
        self.yard = Yard(cfg.yard)
        self.staging = Staging(cfg.yard)
        self.corridor = Corridor(cfg.traffic)
        self.deadlines = Deadlines()
        #: Each agency's working day (``timeouts.working_hours``), as merged spells in seconds.
        self.working_spells = {role: working_spells(hours) for role, hours in cfg.timeouts.working_hours.items()}
        #: The gate's closures, sorted and merged: no service level runs through them.
        self.closed = merge_spells(cfg.timeouts.closed)
        #: Each agency's own closures where it works through some (``timeouts.closed_for``).
        self.closed_for = {role: merge_spells(spells) for role, spells in cfg.timeouts.closed_for.items()}
        self.audit = AuditLog()
        self.ledger = ComplianceLedger(cfg.risk)
        #: Each agency's work list, keyed by the clearance itself (its identity: no hashing of ids).
        self.work: dict[Role, dict[Clearance, WorkItem]] = {r: {} for r in Role}
        self.reviews: dict[str, Review] = {}
        self._review_keys: dict[tuple[str | None, str | None, str], str] = {}
        self._review_key_of: dict[str, tuple[str | None, str | None, str]] = {}
        self._review_seq = 0
        #: The open ``PASSAGE_REVIEWS`` of each visit that has any: review id -> kind.
        self.passage_reviews: dict[str, dict[str, ReviewKind]] = {}
        self.missions: dict[str, Mission] = {}
        #: Vehicles no longer called forward from staging, for they missed
        #: ``timeouts.no_show_max_calls`` calls in a row, until they are heard from (``heard_from``).
        self.not_answering: dict[str, Visit] = {}
        self.location_counts: dict[Location, int] = {loc: 0 for loc in Location}
        #: Visits in the entry lane that barrier 1 has opened for (``let_in``), for ``inside``.
        self.let_in_at_entry_lane = 0
        self.stats: dict[str, int] = {
            "events": 0, "refused": 0, "declarations_accepted": 0, "declarations_rejected": 0,
            "amendments": 0, "returns": 0, "departed": 0, "refused_visits": 0, "cancelled": 0,
            "manual_reviews": 0, "escalations": 0, "weight_discrepancies": 0, "scans": 0,
            "scan_suspect": 0, "fees_collected_vnd": 0, "agv_dispatched": 0, "agv_delivered": 0,
            "agv_failed": 0, "manifest_resends": 0, "yard_overflows": 0,
        }
        self._last_now = 0.0
        # Device inventory by role in the flow.
        self.entry_barriers = self._devices_at(DeviceKind.BARRIER, Site.BARRIER_1)
        self.exit_barriers = self._devices_at(DeviceKind.BARRIER, Site.BARRIER_2)
        self.scales = self._devices_at(DeviceKind.SCALE, None)
        self.scanners = self._devices_at(DeviceKind.SCANNER, None)
        fleets = self._devices_at(DeviceKind.AGV_FLEET, None)
        links = self._devices_at(DeviceKind.PARTNER_LINK, None)
        self.agv_fleet = fleets[0] if fleets else None
        self.partner_link = links[0] if links else None
        self.lane_load: dict[str, int] = {b: 0 for b in self.entry_barriers}
        #: Vehicles sent to an entry lane and not yet through (``lane_load`` summed), and how many
        #: ever left a lane after being read at barrier 1: a called vehicle's no-show limit runs
        #: once as many have gone as were sent before it. Counted over the whole gate, not per
        #: lane: called vehicles may share a forecourt before the lanes, in the order called.
        self.sent_to_entry = 0
        self.left_entry = 0
        #: ... and at each entry lane, how many ever left it after being read at its barrier.
        self.lane_left: dict[str, int] = {b: 0 for b in self.entry_barriers}
        self.scanner_queue: dict[str, dict[str, None]] = {s: {} for s in self.scanners}
        self.scale_queue: dict[str, dict[str, None]] = {s: {} for s in self.scales}
        self._barrier_for_lane: dict[tuple[Site, str | None], str] = {}
        for d in cfg.devices:
            if d.kind is DeviceKind.BARRIER:
                self._barrier_for_lane.setdefault((d.site, d.lane), d.device_id)
                self._barrier_for_lane.setdefault((d.site, None), d.device_id)

    # ------------------------------------------------------------------ the contract

    def handle(self, event: Event, now: float) -> list[Command]:
        """Apply one event at time ``now``; return what devices and people must do next.

        ``now`` is the host's clock, in seconds. One that is not a finite, non-negative number, or
        is earlier than the last event's, is refused as a bad event is: nothing changes, the
        refusal is audited (at the last good time, 0 before any) and returned as a
        ``RefuseEvent`` to the event's sender. ``on_timer`` treats a time that is not a finite,
        non-negative number the same way.
        """
        out: list[Command] = []
        event_type = type(event)
        route = _ROUTES.get(event_type)
        well_formed, handler, kind = route if route is not None else _route(event_type)
        # The common case in one pass: a well-formed event of a known type gives its sender at once.
        actor = well_formed(event) if well_formed is not None else None
        checked = actor is not None
        if actor is None:
            actor = sender(event)
        self.stats["events"] += 1
        when = now if type(now) is float and 0.0 <= now < _INF else _finite_time(now)
        if when is None or when < self._last_now:
            # A refusal is audited at the latest valid time (0 before any), so the audit's clock
            # never runs backwards.
            last = self._last_now
            if when is None:
                reason = f"time must be a finite, non-negative number of seconds (got {shown(now, 40)})"
            else:
                reason = f"time went backwards: {when:g} after {last:g}"
            return self.refuse(out, kind, actor, None, reason, last)
        self._last_now = when
        if not checked:
            bad = problem(event)
            if bad is not None:
                return self.refuse(out, kind, actor, None, f"malformed {kind}: {bad}", when)
        visit_id, verdict = handler(self, event, when, out)
        if isinstance(verdict, Refusal):
            return self.refuse(out, kind, actor, visit_id, str(verdict), when)
        if self.not_answering and visit_id in self.not_answering and event_type in _FROM_PEOPLE:
            # Someone acted on the visit of a vehicle no longer called: it is heard from.
            verdict = (verdict or "") + self.heard_from(self.not_answering[visit_id], f"{kind} from {actor}", when, out)
        self.audit.write(when, actor, kind, visit_id, True, verdict or "")
        return out

    def next_deadline(self) -> float | None:
        """When the core next needs ``on_timer``; None when nothing is pending."""
        return self.deadlines.next_time()

    def on_timer(self, now: float) -> list[Command]:
        """Act on every deadline due at ``now``.

        ``now`` is the host's clock, as for ``handle``, and a bad one is treated as ``handle`` treats
        it: a time that is not a finite, non-negative number is refused, not raised; nothing
        fires, the refusal is audited at the last good time (sender ``host``, action ``Timer``)
        and returned as a ``RefuseEvent``. A time earlier than the last event is taken as that event's time (there is
        no event to refuse): what was due by then is done, stamped no earlier than what the audit
        already holds.
        """
        when = _finite_time(now)
        if when is None:
            return self.refuse([], TIMER, HOST, None,
                               f"time must be a finite, non-negative number of seconds (got {shown(now, 40)})",
                               self._last_now)
        when = max(when, self._last_now)
        self._last_now = when
        out: list[Command] = []
        for kind, key in self.deadlines.pop_due(when):
            if kind == "sla":
                visit_id, clearance_kind = cast("tuple[str, ClearanceKind]", key)
                self._sla_missed(visit_id, clearance_kind, when, out)
            elif kind == "payment":
                self._payment_unconfirmed(str(key), when, out)
            elif kind == "manifest":
                self._manifest_unacknowledged(str(key), when, out)
            elif kind == "agv":
                self._agv_silent(str(key), when, out)
            elif kind == "no-show":
                self._no_show(str(key), when, out)
        return out

    # ------------------------------------------------------------------ queries
    #
    # A query never raises for an odd argument (an id that is no string, a role that is no Role):
    # there is no such visit, clearance, task or mission, so the answer is None or empty.

    def _any_visit(self, visit_id: object) -> Visit | None:
        """The open or archived visit with this id; None for any other id, or for no string at all."""
        if not isinstance(visit_id, str):
            return None
        return self.active.get(visit_id) or self.archive.get(visit_id)

    def visit(self, visit_id: str) -> VisitView | None:
        """A snapshot of an open or archived visit, or None if the core has no such visit."""
        v = self._any_visit(visit_id)
        return VisitView.of(v) if v is not None else None

    def clearance_status(self, visit_id: str, kind: ClearanceKind) -> ClearanceStatus | None:
        """The status of one clearance of an open or archived visit; None when the core has no such
        visit or the visit does not need that clearance. Builds no snapshot: cheap enough per task."""
        v = self._any_visit(visit_id)
        c = v.clearances.get(kind) if v is not None and isinstance(kind, ClearanceKind) else None
        return c.status if c is not None else None

    def fee_due(self, visit_id: str) -> int | None:
        """The fee still owed on an open or archived visit (its fee less what was paid), or None
        when the core has no such visit. Builds no snapshot."""
        v = self._any_visit(visit_id)
        return v.fee_vnd - v.fee_paid_vnd if v is not None else None

    def location(self, visit_id: str) -> Location | None:
        """Where an open or archived visit is, or None when the core has no such visit. Builds no
        snapshot: cheap enough for a device's every report."""
        v = self._any_visit(visit_id)
        return v.location if v is not None else None

    def fee_paid(self, visit_id: str) -> int | None:
        """What was paid on an open or archived visit, or None when the core has no such visit.
        Builds no snapshot."""
        v = self._any_visit(visit_id)
        return v.fee_paid_vnd if v is not None else None

    def visit_by_plate(self, plate: str) -> VisitView | None:
        """A snapshot of the open visit of a plate (any spacing or case), or None."""
        from gate.identifiers import normalize_plate

        if not isinstance(plate, str):
            return None
        visit_id = self.by_plate.get(normalize_plate(plate))
        return self.visit(visit_id) if visit_id else None

    def work_list(self, role: Role) -> list[WorkItem]:
        """The agency's tasks on vehicles whose data is complete and that are where the work is done,
        oldest first; empty for anything that is no ``Role``."""
        tasks = self.work.get(role) if isinstance(role, Role) else None
        return list(tasks.values()) if tasks is not None else []

    def open_reviews(self) -> list[Review]:
        """Manual reviews raised and not yet resolved, oldest first."""
        return list(self.reviews.values())

    def open_visits(self) -> int:
        """How many visits are open (declared and not yet departed or refused)."""
        return len(self.active)

    def inside(self) -> int:
        """Vehicles let in through barrier 1 (``let_in``) and not yet departed or refused."""
        c = self.location_counts
        return self.let_in_at_entry_lane + sum(c[loc] for loc in _BEYOND_ENTRY_LANE)

    @staticmethod
    def let_in(visit: Visit) -> bool:
        """Barrier 1 has let the vehicle in: it opened for it (the vehicle may still be rolling
        through), or the vehicle is further in. Before that it can still turn away: a return or a
        cancellation sends it off; after it, it leaves only through the yard and barrier 2."""
        location = visit.location
        return location in _BEYOND_ENTRY_LANE or (location is _ENTRY_LANE and visit.entry_granted)

    def yard_occupancy(self) -> dict[str, int]:
        """Vehicles in the yard by class, as the yard-gate cameras counted them."""
        return {c.value: n for c, n in self.yard.occupied.items()}

    @property
    def congestion_risk(self) -> float:
        """The approach corridor's congestion risk in [0, 1], as last assessed."""
        return self.corridor.risk

    def mission(self, mission_id: str) -> Mission | None:
        """An AGV mission by id (``<visit id>:<container>``), or None."""
        return self.missions.get(mission_id) if isinstance(mission_id, str) else None

    def check_invariants(self) -> list[str]:
        """Consistency of the core's own books (for tests and end-of-run checks). O(visits)."""
        problems: list[str] = []
        counted = {loc: 0 for loc in Location}
        in_yard = {c: 0 for c in self.yard.occupied}
        reserved = {c: 0 for c in self.yard.reserved}
        lanes = {b: 0 for b in self.lane_load}
        for v in self.active.values():
            counted[v.location] += 1
            if self.plate_visits.get(v.plate) is not v:
                problems.append(f"{v.visit_id}: plate index to visits does not point at it")
            if v.location in TERMINAL_LOCATIONS:
                problems.append(f"{v.visit_id} is {v.location.value} but still open")
            if self.by_plate.get(v.plate) != v.visit_id:
                problems.append(f"{v.visit_id}: plate index does not point at it")
            vehicle_class = v.declaration.vehicle_class
            if (v.vehicle_class, v.crossing_mode) != (vehicle_class, v.declaration.crossing_mode):
                problems.append(f"{v.visit_id}: vehicle class or crossing mode differs from its declaration's")
            in_yard[vehicle_class] += v.in_yard
            reserved[vehicle_class] += v.reserved_slot
            if v.lane_held and v.entry_device in lanes:
                lanes[v.entry_device] += 1
        for v in self.archive.values():
            if v.location not in TERMINAL_LOCATIONS:
                problems.append(f"{v.visit_id} archived while {v.location.value}")
        for loc in Location:
            if counted[loc] != self.location_counts[loc]:
                problems.append(f"location count for {loc.value}: books {self.location_counts[loc]}, visits {counted[loc]}")
        if set(self.active) & set(self.archive):
            problems.append("a visit is both open and archived")
        if len(self.by_plate) != len(self.active):
            problems.append(f"plate index holds {len(self.by_plate)} plates for {len(self.active)} open visits")
        declared = {c.number: v.visit_id for v in self.active.values() for c in v.declaration.containers}
        if declared != self.by_container:
            problems.append(f"container index holds {len(self.by_container)} containers, the open declarations "
                            f"{len(declared)}")
        if len(self.plate_visits) != len(self.active):
            problems.append(
                f"plate index to visits holds {len(self.plate_visits)} plates for {len(self.active)} open visits")
        for held in self.yard.refused_inside.values():
            in_yard[held.vehicle_class] += 1
            if held.review_id not in self.reviews:
                problems.append(f"refused vehicle of {held.visit_id} holds a yard slot with no open review")
        for vehicle_class in in_yard:
            if in_yard[vehicle_class] != self.yard.occupied[vehicle_class]:
                problems.append(f"yard occupancy of {vehicle_class.value}: books {self.yard.occupied[vehicle_class]}, "
                                f"visits {in_yard[vehicle_class]}")
            if reserved[vehicle_class] != self.yard.reserved[vehicle_class]:
                problems.append(f"yard reservations of {vehicle_class.value}: books {self.yard.reserved[vehicle_class]}, "
                                f"visits {reserved[vehicle_class]}")
        if lanes != self.lane_load:
            problems.append(f"entry lane loads: books {self.lane_load}, visits {lanes}")
        if self.sent_to_entry != sum(self.lane_load.values()):
            problems.append(f"vehicles sent to barrier 1: books {self.sent_to_entry}, lanes {sum(self.lane_load.values())}")
        let_in = sum(1 for v in self.active.values() if v.location is _ENTRY_LANE and v.entry_granted)
        if let_in != self.let_in_at_entry_lane:
            problems.append(f"vehicles let in at the entry lane: books {self.let_in_at_entry_lane}, visits {let_in}")
        problems += self._station_queue_problems()
        problems += self._passage_review_problems()
        problems += self._not_answering_problems()
        for visit_id in self.staging:
            queued = self.active.get(visit_id)
            if queued is None or not (queued.location is Location.STAGING
                                      or (queued.location is _ENTRY_LANE and not queued.entry_granted)):
                where = "closed" if queued is None else queued.location.value
                problems.append(f"staging queues {visit_id}, which is {where}")
        waiting_in_areas = sum(len(self.staging.in_area(area)) for area in self.staging.area_capacity)
        if waiting_in_areas != sum(self.staging.area_count.values()):
            problems.append(f"staging areas list {waiting_in_areas} vehicles, count {sum(self.staging.area_count.values())}")
        return problems

    def _passage_review_problems(self) -> list[str]:
        """Every open review about a vehicle's passage is about an open visit (a no-show's about one
        waiting at staging), and ``passage_reviews`` indexes exactly those reviews."""
        problems: list[str] = []
        indexed = 0
        for review in self.reviews.values():
            if review.kind not in PASSAGE_REVIEWS or review.visit_id is None:
                continue
            indexed += 1
            kind, visit_id = review.kind, review.visit_id
            visit = self.active.get(visit_id)
            if visit is None:
                problems.append(f"{kind.value} review {review.review_id} is open for {visit_id}, which is closed")
            elif kind is ReviewKind.NO_SHOW and visit.location is not _STAGING:
                problems.append(f"no-show review {review.review_id} is open for {visit_id}, which is "
                                f"{visit.location.value}")
            if self.passage_reviews.get(visit_id, {}).get(review.review_id) is not kind:
                problems.append(f"{kind.value} review {review.review_id} of {visit_id} is not indexed")
        if indexed != sum(len(held) for held in self.passage_reviews.values()):
            problems.append(f"passage reviews: {indexed} open, index holds "
                            f"{sum(len(held) for held in self.passage_reviews.values())}")
        return problems

    def _not_answering_problems(self) -> list[str]:
        """``not_answering`` lists exactly the open visits taken as not answering, and each waits at
        staging without a place in the queue, a slot or a call, its review open."""
        problems: list[str] = []
        flagged = [v.visit_id for v in self.active.values() if v.not_answering]
        if sorted(flagged) != sorted(self.not_answering):
            problems.append(f"not answering: books {sorted(self.not_answering)}, visits {sorted(flagged)}")
        for visit_id, v in self.not_answering.items():
            if self.active.get(visit_id) is not v:
                problems.append(f"{visit_id} is listed as not answering but is not open")
            elif (v.location is not _STAGING or visit_id not in self.staging or self.staging.is_ready(visit_id)
                  or v.reserved_slot or v.call_token is not None):
                problems.append(f"{visit_id} is not answering, yet {v.location.value}, "
                                f"{'queued' if self.staging.is_ready(visit_id) else 'not queued'}, "
                                f"{'holding' if v.reserved_slot else 'without'} a slot")
            elif v.no_show_review not in self.reviews:
                problems.append(f"{visit_id} is not answering, with no open review")
        return problems

    def _station_queue_problems(self) -> list[str]:
        """The scale and scanner queues hold exactly the vehicles let in and on their way there."""
        problems: list[str] = []
        for station, queues, on_the_way in (("scale", self.scale_queue, (_ENTRY_LANE,)),
                                             ("scanner", self.scanner_queue, (_ENTRY_LANE, _SCALE))):
            for device, queue in queues.items():
                for visit_id in queue:
                    v = self.active.get(visit_id)
                    if v is None or getattr(v, station) != device:
                        problems.append(f"{station} {device} queues {visit_id}, which is not sent to it")
                    elif v.location not in on_the_way or not v.entry_granted:
                        problems.append(f"{station} {device} queues {visit_id}, which is {v.location.value}"
                                        f"{'' if v.entry_granted else ' without entry'}")
        for v in self.active.values():
            if v.scale is not None and v.visit_id not in self.scale_queue[v.scale]:
                problems.append(f"{v.visit_id} is sent to scale {v.scale} but not in its queue")
            if v.scanner is not None and v.visit_id not in self.scanner_queue[v.scanner]:
                problems.append(f"{v.visit_id} is sent to scanner {v.scanner} but not in its queue")
        return problems

    # ------------------------------------------------------------------ shared steps of the flow

    def _devices_at(self, kind: DeviceKind, site: Site | None) -> list[str]:
        return [d.device_id for d in self.config.devices if d.kind is kind and (site is None or d.site is site)]

    def refuse(self, out: list[Command], kind: str, actor: str, visit_id: str | None, reason: str,
               now: float) -> list[Command]:
        """Refuse an event, or one part of it (a position of a batch): count it, audit it, tell the sender."""
        self.stats["refused"] += 1
        self.audit.write(now, actor, kind, visit_id, False, reason)
        out.append(RefuseEvent(kind, actor, reason, visit_id))
        return out

    def review(self, out: list[Command], reason: str, now: float, visit_id: str | None = None,
               device_id: str | None = None, plate: str | None = None, *, kind: ReviewKind, about: str = "",
               dedupe: bool = True) -> str:
        """Raise a manual review of ``kind`` (about ``about``, e.g. a mission or a visit), unless the
        same one (same kind and subject, device and plate) is open; returns the id of the review
        raised, or of the one already open. The review belongs to the roles ``review_roles`` gives
        for its kind and device: the ``ManualReview`` names them, so that it reaches them.

        ``dedupe=False`` always opens a new one: two no-reads at one camera are two vehicles.
        """
        key = (device_id, plate, f"{kind.value}:{about}" if about else kind.value)
        if dedupe and key in self._review_keys:
            return self._review_keys[key]
        self._review_seq += 1
        review_id = f"R{self._review_seq}"
        roles = review_roles(kind, self.devices.get(device_id) if device_id is not None else None)
        self.reviews[review_id] = Review(review_id, reason, now, visit_id, device_id, plate, kind, roles)
        if visit_id is not None and kind in PASSAGE_REVIEWS:
            self.passage_reviews.setdefault(visit_id, {})[review_id] = kind
        if dedupe:
            self._review_keys[key] = review_id
            self._review_key_of[review_id] = key
        self.stats["manual_reviews"] += 1
        out.append(ManualReview(review_id, reason, visit_id, device_id, plate, kind, roles))
        return review_id

    def close_review(self, review_id: str) -> Review | None:
        """Forget an open review; returns it, or None if there was none with that id."""
        review = self.reviews.pop(review_id, None)
        key = self._review_key_of.pop(review_id, None)
        if key is not None:
            del self._review_keys[key]
        if review is not None and review.visit_id is not None and review.kind in PASSAGE_REVIEWS:
            held = self.passage_reviews.get(review.visit_id)
            if held is not None:
                held.pop(review_id, None)
                if not held:
                    del self.passage_reviews[review.visit_id]
        return review

    def close_passage_reviews(self, visit: Visit, because: str | None = None) -> str:
        """Close the open reviews about the vehicle's passage (``PASSAGE_REVIEWS``): its visit
        ended (``because`` None: the audit says how, ``closed_as``), or it was turned back before
        entering (``because`` says so). Its missed calls forward go with them: they were calls of
        this passage. Returns what the audit record of the event that did it says of the reviews
        ("" when there were none)."""
        if visit.missed_calls:
            self.reset_missed_calls(visit)
        visit.no_show_review = None
        held = self.passage_reviews.pop(visit.visit_id, None)
        if not held:
            return ""
        if because is None:
            because = f"the visit ended ({closed_as(visit)})"
        for review_id in held:
            self.close_review(review_id)
        closed = ", ".join(f"{kind.value} review {review_id}" for review_id, kind in held.items())
        return f"; {closed} closed: {because}"

    def close_barrier_reviews(self, visit: Visit, device_id: str) -> str:
        """The vehicle went through barrier ``device_id``: close the reviews asking people to lift
        that barrier's arm for it (done, or no longer needed). Returns what the audit record of
        the passage says of them ("" when there were none)."""
        held = self.passage_reviews.get(visit.visit_id)
        if not held:
            return ""
        done = [review_id for review_id, kind in held.items() if kind is ReviewKind.BARRIER_FAULTED
                and self.reviews[review_id].device_id == device_id]
        for review_id in done:
            self.close_review(review_id)
        return "".join(f"; barrier-faulted review {review_id} closed: the vehicle went through" for review_id in done)

    def illegal_move(self, visit: Visit, trigger: Trigger) -> str | None:
        """Why the table (or a guard) forbids ``trigger`` where the visit is now; None when allowed."""
        here = visit.location
        if trigger not in TRANSITIONS[here]:
            return f"vehicle {visit.plate} cannot {PHRASE[trigger]} while {here.value.replace('_', ' ')}"
        guard = GUARDS.get((here, trigger))
        if guard is not None and not getattr(visit, guard):
            return f"vehicle {visit.plate} cannot {PHRASE[trigger]}: {guard.replace('_', ' ')} is not given"
        return None

    def move(self, visit: Visit, trigger: Trigger, now: float) -> str | None:
        """Apply a location trigger. None when done (or a harmless repeat); else why it is illegal."""
        here = visit.location
        step = _STEPS[here].get(trigger)
        if step is None or (step[1] is not None and not getattr(visit, step[1])):
            return self.illegal_move(visit, trigger)
        there = step[0]
        if there is not here:
            if here is _STAGING and visit.call_token is not None:  # called forward, and it came (or left)
                self.deadlines.cancel(visit.call_token)
                visit.call_token = None
            if here is _ENTRY_LANE:
                self.release_lane(visit)
                if visit.entry_granted:
                    self.let_in_at_entry_lane -= 1
            counts = self.location_counts
            counts[here] -= 1
            counts[there] += 1
            visit.location = there
            visit.history.append((now, there))
        visit.updated_at = now
        return None

    def required_clearances(self, declaration: Declaration, channel: Channel, fee: int) -> dict[ClearanceKind, Clearance]:
        """The clearances a declaration needs in a channel, in the order of the flow."""
        kinds: list[ClearanceKind] = []
        if self.config.medical_check:
            kinds.append(K.MEDICAL)
        kinds.append(K.BORDER_GUARD_ENTRY)
        categories = {line.category for line in declaration.goods}
        for category, quarantine in _QUARANTINE_ORDER:
            if category in categories and quarantine not in kinds:
                kinds.append(quarantine)
        if channel is Channel.YELLOW:
            kinds.append(K.CUSTOMS_DOCUMENTS)
        elif channel is Channel.RED:
            kinds.append(K.CUSTOMS_INSPECTION)
        if declaration.transshipment:
            kinds.append(K.LOADING)
        if fee > 0:
            kinds.append(K.FEE)
        kinds.append(K.BORDER_GUARD_EXIT)
        return {k: Clearance(k) for k in kinds}

    def assign(self, visit: Visit, kind: ClearanceKind, now: float, out: list[Command]) -> None:
        """Put a required clearance on its agency's work list, with its service-level deadline."""
        c = visit.clearances.get(kind)
        if c is None or c.status is not _REQUIRED or kind is _FEE:
            return
        if kind is _LOADING and not visit.loading_registered:
            return
        if kind is _INSPECTION_CHECK and self.wants_scan(visit):
            return
        role = CLEARANCE_ROLE[kind]
        sla = self.config.timeouts.sla_s.get(role, 86_400.0)
        due = self.limit_due(now, sla, role, self.working_spells.get(role))
        c.status = _ASSIGNED
        c.assigned_at = now
        key = (visit.visit_id, kind)
        c.deadline_token = self.deadlines.schedule(due, "sla", key)
        self.work[role][c] = WorkItem(visit.visit_id, visit.plate, kind, now, due)
        out.append(AssignTask(role, visit.visit_id, kind, due))

    def assign_workable(self, visit: Visit, now: float, out: list[Command]) -> None:
        """Assign every required clearance that can be worked where the vehicle is now."""
        if visit.awaiting_amendment:
            return
        workable = WORKABLE[visit.location]
        for kind, c in visit.clearances.items():
            if c.status is _REQUIRED and kind in workable and kind is not _EXIT_CHECK:
                self.assign(visit, kind, now, out)

    def settle(self, visit: Visit, kind: ClearanceKind, status: ClearanceStatus, actor: str, now: float,
               reasons: tuple[str, ...] = ()) -> None:
        """Record a decision on a clearance and take it off the work list."""
        c = visit.clearances[kind]
        c.status = status
        c.decided_at = now
        c.decided_by = actor
        c.reasons = reasons
        self.deadlines.cancel(c.deadline_token)
        self.work[CLEARANCE_ROLE[kind]].pop(c, None)

    def reopen(self, visit: Visit, kind: ClearanceKind) -> None:
        """Put a clearance back to 'required', whatever it was: what was decided must be decided
        again (a new passage, or data that changed under the decision)."""
        c = visit.clearances[kind]
        self.deadlines.cancel(c.deadline_token)
        self.work[CLEARANCE_ROLE[kind]].pop(c, None)
        c.status = _REQUIRED
        c.assigned_at = c.decided_at = c.decided_by = c.deadline_token = None
        c.reasons = ()
        c.escalated = False

    def unassign(self, visit: Visit, kind: ClearanceKind) -> None:
        """Put an assigned clearance back to 'required' (the vehicle left where it could be done)."""
        c = visit.clearances[kind]
        if c.status is _ASSIGNED:
            c.status = _REQUIRED
            c.assigned_at = None
            self.deadlines.cancel(c.deadline_token)
            self.work[CLEARANCE_ROLE[kind]].pop(c, None)

    def set_channel(self, visit: Visit, channel: Channel, reason: str, now: float, out: list[Command]) -> None:
        """Raise the visit's channel (never lower it) and add the customs clearance it needs."""
        if CHANNEL_ORDER.index(channel) <= CHANNEL_ORDER.index(visit.channel):
            return
        visit.channel = channel
        visit.channel_reasons = visit.channel_reasons + (reason,)
        kind = K.CUSTOMS_DOCUMENTS if channel is Channel.YELLOW else K.CUSTOMS_INSPECTION
        if kind not in visit.clearances:
            clearances = dict(visit.clearances)
            # keep barrier-2 last so that the required list reads in the order of the flow
            exit_check = clearances.pop(K.BORDER_GUARD_EXIT, None)
            clearances[kind] = Clearance(kind)
            if exit_check is not None:
                clearances[K.BORDER_GUARD_EXIT] = exit_check
            visit.clearances = clearances
        self.assign_workable(visit, now, out)

    # --- devices in the flow

    def least_busy(self, device_ids: Iterable[str], queues: dict[str, dict[str, None]]) -> str | None:
        """The first working device among ``device_ids`` with the fewest vehicles queued; None if none works."""
        faulted = self.faulted
        best, least = None, 0
        for device in device_ids:
            if device not in faulted and (best is None or len(queues[device]) < least):
                best, least = device, len(queues[device])
        return best

    def working(self, device_ids: Iterable[str]) -> list[str]:
        """The devices among ``device_ids`` that are not faulted, in order."""
        return [d for d in device_ids if d not in self.faulted]

    def wants_scan(self, visit: Visit) -> bool:
        """Red channel, not yet scanned, scanner-first policy, and a scanner that works."""
        c = visit.clearances.get(_INSPECTION_CHECK)
        return (
            c is not None and c.status is _REQUIRED and visit.scan_result is None
            and self.config.scanner_first and visit.location in _BEFORE_SCAN
            and any(s not in self.faulted for s in self.scanners)
        )

    def entry_lane_for(self, visit: Visit) -> str | None:
        """The working entry barrier with the fewest vehicles sent to it (ties: inventory order)."""
        faulted, load = self.faulted, self.lane_load
        best, least = None, 0
        for lane in self.entry_barriers:  # the first of the least loaded working lanes
            if lane not in faulted and (best is None or load[lane] < least):
                best, least = lane, load[lane]
        if best is None and self.entry_barriers:  # every lane faulted: the least loaded of them all
            best = min(self.entry_barriers, key=load.__getitem__)
        return best

    def barrier_at(self, camera: DeviceSpec) -> str | None:
        """The barrier a camera watches over: the one of its lane at its site, else any at its site."""
        site = camera.site
        return self._barrier_for_lane.get((site, camera.lane)) or self._barrier_for_lane.get((site, None))

    def call_forward(self, visit: Visit, now: float, out: list[Command], area: str | None = None) -> None:
        """Send a vehicle from staging (or the road) to an entry lane, holding a yard slot for it."""
        if not visit.reserved_slot and not visit.in_yard:
            self.yard.reserve(visit.vehicle_class)
            visit.reserved_slot = True
        lane = self.entry_lane_for(visit)
        if lane is not None and visit.entry_device is None:
            self.hold_lane(visit, lane)
        if visit.location is _STAGING:
            self.await_called(visit, now)
        if area is not None:
            out.append(TrafficAdvice(area, TrafficAction.RELEASE, visit.visit_id, visit.plate, None,
                                     self.corridor.risk, "called forward: a yard slot is free"))
        out.append(RouteTo(visit.visit_id, visit.plate, _TO_ENTRY_LANE, visit.entry_device))

    def limit_due(self, now: float, seconds: float, role: Role | None = None,
                  spells: tuple[tuple[float, float], ...] | None = None) -> float:
        """When a time limit of ``seconds`` started ``now`` runs out, counting only the daily
        working ``spells`` (None: the whole day) and none of the time the gate is closed
        (``timeouts.closed``; given a ``role``, the time that agency does not work,
        ``timeouts.closed_for``): nobody drives to a closed gate or works a task over a holiday,
        so waiting it out is not being late."""
        closed = self.closed_for.get(role, self.closed) if role is not None and self.closed_for else self.closed
        if closed:
            return due_around_closures(now, seconds, spells, closed)
        return now + seconds if spells is None else working_due(now, seconds, spells)

    def await_called(self, visit: Visit, now: float) -> None:
        """Start (or restart) the no-show limit of a vehicle called forward from staging
        (``timeouts.call_forward_s``), noting how many vehicles were sent to barrier 1 before it."""
        self.deadlines.cancel(visit.call_token)
        held = visit.lane_held and visit.entry_device is not None
        visit.called_ahead = self.sent_to_entry - held
        visit.called_mark = self.left_entry
        lane = visit.entry_device
        visit.called_lane_ahead = self.lane_load[lane] - 1 if held and lane is not None else 0
        visit.called_lane_mark = self.lane_left[lane] if held and lane is not None else 0
        visit.called_clear = visit.called_ahead == 0
        visit.called_at = now
        visit.call_token = self.deadlines.schedule(self.limit_due(now, self.config.timeouts.call_forward_s),
                                                   "no-show", visit.visit_id)

    def hold_at_staging(self, visit: Visit, reason: str, out: list[Command], ready: bool = True) -> None:
        """Keep a vehicle waiting at staging (in arrival order) and tell traffic police. One not
        ``ready`` waits for its checks before it takes a place in the queue (``checked_for_entry``)."""
        area = self.staging.area_of(visit.visit_id)
        if area is None and visit.visit_id not in self.staging:
            area = self.staging.choose_area()
            self.staging.add(visit.visit_id, visit.vehicle_class, visit.declaration.perishable, area, ready)
        out.append(TrafficAdvice(area or "approach", TrafficAction.HOLD, visit.visit_id, visit.plate, None,
                                 self.corridor.risk, reason if area else reason + "; staging areas full"))

    def checked_for_entry(self, visit: Visit) -> bool:
        """Whether a vehicle at staging may be called forward as far as its checks go: its medical
        check has passed (or is not required), or the gate calls vehicles before it."""
        if not self.config.yard.call_when_checked:
            return True
        medical = visit.clearances.get(_MEDICAL)
        return medical is None or medical.status is _PASSED

    def slot_freed(self, visit: Visit, now: float, out: list[Command]) -> None:
        """A yard slot of this vehicle's class became free: call the next waiting vehicle forward."""
        self.call_waiting(visit.vehicle_class, now, out)
        self.advise_traffic(now, out)

    def call_waiting(self, vehicle_class: VehicleClass, now: float, out: list[Command]) -> None:
        """Call vehicles of a class forward from staging, in turn, while the yard has room for them."""
        while self.yard.has_room(vehicle_class):
            popped = self.staging.pop_next(vehicle_class)
            if popped is None:
                break
            next_id, area = popped
            waiting = self.active.get(next_id)
            if waiting is None or waiting.awaiting_amendment:
                continue
            if waiting.location is Location.STAGING:
                # Released from where it was held: its staging area, or the approach when every area was full.
                self.call_forward(waiting, now, out, area=area or "approach")
            elif waiting.location is Location.ENTRY_LANE:
                # Sent back from barrier 1 because the yard was full, and not yet back at staging:
                # it keeps its place in the queue, and the barrier opens for it where it stands.
                self.call_forward(waiting, now, out)
                self.progress(waiting, now, out)

    def release_slot(self, visit: Visit, now: float, out: list[Command]) -> None:
        """Give back whatever yard capacity the visit holds, then call the next vehicle forward."""
        vehicle_class = visit.vehicle_class
        freed = False
        if visit.reserved_slot:
            self.yard.cancel_reservation(vehicle_class)
            visit.reserved_slot = False
            self.deadlines.cancel(visit.call_token)
            visit.call_token = None
            freed = True
        if visit.in_yard:
            self.yard.leave(vehicle_class)
            visit.in_yard = False
            freed = True
        if freed:
            self.slot_freed(visit, now, out)

    def hold_refused_in_yard(self, visit: Visit, now: float, out: list[Command]) -> None:
        """The visit is refused while its vehicle is parked in the yard: the vehicle must still be
        taken out, so its slot stays taken until it is seen out of the yard (``refused_out_of_yard``)
        or an officer closes the review raised here, saying it has gone."""
        plate = visit.plate
        self.refused_out_of_yard(plate, "refused anew", now, out)  # one vehicle, one slot
        review_id = self.review(
            out, f"vehicle {plate} was refused inside the yard (visit {visit.visit_id}): see it out; its slot "
                 f"stays taken until it is seen leaving the yard, or this review is closed", now, visit.visit_id,
            None, plate, kind=ReviewKind.REFUSED_IN_YARD)
        self.yard.hold_refused(plate, RefusedInside(visit.visit_id, visit.vehicle_class, review_id))
        visit.in_yard = False  # the visit closes; the yard's count keeps the vehicle until it is gone

    def refused_out_of_yard(self, plate: str, how: str, now: float, out: list[Command]) -> tuple[str, str] | None:
        """A vehicle refused inside the yard is out of it: its slot frees, its review closes and
        the next vehicle is called forward. Returns its visit id and a note for the audit record of
        the event that told; None if no vehicle of that plate was held."""
        held = self.yard.release_refused(plate)
        if held is None:
            return None
        self.close_review(held.review_id)
        self.call_waiting(held.vehicle_class, now, out)
        self.advise_traffic(now, out)
        return held.visit_id, f"refused vehicle {plate} is out of the yard ({how}): its slot is free, " \
                              f"review {held.review_id} closed"

    def container_holders(self, visit_id: str, numbers: Iterable[str]) -> list[tuple[int, str, str]]:
        """The containers among ``numbers`` declared on another open visit: (index, number, visit id)."""
        by_container = self.by_container
        return [(i, n, holder) for i, n in enumerate(numbers)
                if (holder := by_container.get(n)) is not None and holder != visit_id]

    def index_containers(self, visit: Visit, numbers: Iterable[str]) -> None:
        """Make ``numbers`` the containers indexed to the visit (the declaration's, or none once closed)."""
        by_container, visit_id = self.by_container, visit.visit_id
        for c in visit.declaration.containers:
            if by_container.get(c.number) == visit_id:
                del by_container[c.number]
        for number in numbers:
            by_container[number] = visit_id

    def hold_lane(self, visit: Visit, lane: str) -> None:
        """Count the vehicle in the load of entry lane ``lane`` (and out of any other it was sent to)."""
        if visit.lane_held and visit.entry_device == lane:
            return
        self.release_lane(visit)
        visit.entry_device = lane
        if lane in self.lane_load:
            self.lane_load[lane] += 1
            self.sent_to_entry += 1
            visit.lane_held = True

    def release_lane(self, visit: Visit) -> None:
        """The vehicle no longer loads its entry lane: it is through barrier 1, or gone. Idempotent."""
        if visit.lane_held and visit.entry_device is not None:
            self.lane_load[visit.entry_device] -= 1
            self.sent_to_entry -= 1
            if visit.location is _ENTRY_LANE:  # read at barrier 1, and gone on (or back)
                self.left_entry += 1
                self.lane_left[visit.entry_device] += 1
        visit.lane_held = False

    def leave_stations(self, visit: Visit) -> None:
        """Take the vehicle off the scale and the scanner it was sent to: it went elsewhere (back to
        staging, turned away, into the yard) or is gone. Sent forward again, it is routed afresh."""
        if visit.scanner is not None:
            self.scanner_queue[visit.scanner].pop(visit.visit_id, None)
            visit.scanner = None
        if visit.scale is not None:
            self.scale_queue[visit.scale].pop(visit.visit_id, None)
            visit.scale = None

    def route_onward(self, visit: Visit, now: float, out: list[Command]) -> None:
        """After barrier 1, the scale, or the scanner: send the vehicle to its next station."""
        loc = visit.location
        if loc is _ENTRY_LANE and visit.weight_kg is None and visit.scale is None:
            scale = self.least_busy(self.scales, self.scale_queue)
            if scale is not None:
                visit.scale = scale
                self.scale_queue[scale][visit.visit_id] = None
                out.append(RouteTo(visit.visit_id, visit.plate, _TO_SCALE, scale))
                return
        if (loc is _ENTRY_LANE or loc is _SCALE) and visit.scanner is None and self.wants_scan(visit):
            scanners = self.working(self.scanners)
            scanner = min(scanners, key=lambda s: len(self.scanner_queue[s]))
            visit.scanner = scanner
            self.scanner_queue[scanner][visit.visit_id] = None
            out.append(RouteTo(visit.visit_id, visit.plate, Station.SCANNER, scanner))
            out.append(RequestScan(scanner, visit.visit_id, visit.plate))
            return
        out.append(RouteTo(visit.visit_id, visit.plate, _TO_YARD, None))

    def progress(self, visit: Visit, now: float, out: list[Command]) -> None:
        """Whatever the visit can do next, now that something about it changed."""
        if visit.awaiting_amendment:
            return
        loc = visit.location
        if loc is _ENTRY_LANE and not visit.entry_granted:
            clearances = visit.clearances  # ENTRY_CLEARANCES, unrolled: this runs on most events
            medical, entry_check = clearances.get(_MEDICAL), clearances.get(_ENTRY_CHECK)
            if (medical is None or medical.status is _PASSED) and (
                    entry_check is None or entry_check.status is _PASSED):
                self.open_entry(visit, now, out)
        elif loc is _STAGING:
            if (not visit.reserved_slot and not visit.not_answering and self.checked_for_entry(visit)
                    and self.staging.mark_ready(visit.visit_id)):
                # Its checks at staging passed: it queues now to be called forward.
                self.call_waiting(visit.vehicle_class, now, out)
                self.advise_traffic(now, out)
        elif loc is _YARD or loc is _INSPECTION:
            if self.ready_to_exit(visit):
                out.append(RouteTo(visit.visit_id, visit.plate, _TO_EXIT_LANE, None))
        elif loc is _EXIT_LANE and visit.exit_device is not None and not visit.exit_granted:
            if self.ready_to_exit(visit):
                bge = visit.clearances.get(_EXIT_CHECK)
                if bge is not None and bge.status is _REQUIRED:
                    if self.config.automated_border_check:
                        self.settle(visit, _EXIT_CHECK, _PASSED, "core:automated-check", now)
                    else:
                        self.assign(visit, _EXIT_CHECK, now, out)
                if visit.passed(_EXIT_CHECK):
                    visit.exit_granted = True
                    barrier = visit.exit_device
                    if barrier in self.faulted:  # as at barrier 1: people lift it for this vehicle
                        self.review(out, f"barrier {barrier} is faulted: open it by hand for {visit.plate}", now,
                                    visit.visit_id, barrier, visit.plate, kind=ReviewKind.BARRIER_FAULTED)
                    out.append(OpenBarrier(barrier, visit.visit_id, visit.plate))
        if visit.handed_over:
            self.dispatch_ready_missions(visit, now, out)

    def ready_to_exit(self, visit: Visit) -> bool:
        """Every clearance but the exit check has passed, and any AGV containers are handed over."""
        for kind, c in visit.clearances.items():
            if kind is not _EXIT_CHECK and c.status is not _PASSED:
                return False
        if visit.crossing_mode is _AGV_LANE:
            return all(c.number in visit.handed_over for c in visit.declaration.containers)
        return True

    def open_entry(self, visit: Visit, now: float, out: list[Command]) -> None:
        """Barrier 1 opens when the entry checks passed and a yard slot is held for the vehicle."""
        if not visit.reserved_slot and not visit.in_yard:
            if not self.yard.has_room(visit.vehicle_class):
                if visit.entry_device is not None:
                    out.append(KeepClosed(visit.entry_device, visit.visit_id, visit.plate,
                                          ("yard full: wait at staging",)))
                out.append(RouteTo(visit.visit_id, visit.plate, Station.STAGING, None))
                self.hold_at_staging(visit, "yard full", out)
                return
            self.yard.reserve(visit.vehicle_class)
            visit.reserved_slot = True
        barrier = visit.entry_device
        if barrier is None:
            return
        visit.entry_granted = True
        self.let_in_at_entry_lane += 1
        if barrier in self.faulted:
            self.review(out, f"barrier {barrier} is faulted: open it by hand for {visit.plate}", now,
                        visit.visit_id, barrier, visit.plate, kind=ReviewKind.BARRIER_FAULTED)
        out.append(OpenBarrier(barrier, visit.visit_id, visit.plate))
        self.route_onward(visit, now, out)

    def finish(self, visit: Visit, now: float, out: list[Command]) -> str:
        """The visit reached a terminal location: free what it holds, close the reviews about its
        passage, and archive it. Returns what the audit record of the event that ended it says of
        the reviews closed ("" when there were none)."""
        closed = self.close_passage_reviews(visit)
        self.release_slot(visit, now, out)
        self.release_lane(visit)
        self.staging.discard(visit.visit_id)
        self.corridor.arrived(visit)
        self.leave_stations(visit)
        for kind, c in visit.clearances.items():
            self.deadlines.cancel(c.deadline_token)
            self.work[CLEARANCE_ROLE[kind]].pop(c, None)
        self.deadlines.cancel(visit.payment_token)
        self.index_containers(visit, ())
        fee = visit.clearances.get(K.FEE)
        if fee is not None and fee.status is ClearanceStatus.PENDING_CONFIRMATION:
            # Closed with an online payment still to confirm: confirmed later, it is refunded.
            visit.voided_payment = visit.payment_reference
        del self.active[visit.visit_id]
        if self.by_plate.get(visit.plate) == visit.visit_id:
            del self.by_plate[visit.plate]
            del self.plate_visits[visit.plate]
        key = confusable_key(visit.plate)
        if self.by_confusable.get(key) == visit.plate:
            del self.by_confusable[key]
        self.location_counts[visit.location] -= 1
        if self.config.archive_limit > 0:
            self.archive[visit.visit_id] = visit
            self.closed_by_plate[visit.plate] = visit.visit_id
            while len(self.archive) > self.config.archive_limit:
                _, old = self.archive.popitem(last=False)
                self._forget(old)
        return closed

    def _forget(self, visit: Visit) -> None:
        """Drop what still refers to a visit evicted from the archive, so long runs stay bounded."""
        if self.closed_by_plate.get(visit.plate) == visit.visit_id:
            del self.closed_by_plate[visit.plate]
        for container in visit.handed_over:
            mission = self.missions.pop(f"{visit.visit_id}:{container}", None)
            if mission is not None:
                self.deadlines.cancel(mission.token)
                self.deadlines.cancel(mission.report_token)

    def advise_traffic(self, now: float, out: list[Command]) -> None:
        """Re-assess the congestion risk; advise traffic police when the advice changes."""
        action = self.corridor.assess(len(self.staging), self.yard.fill_ratio(), now)
        if action is not None:
            reason = "congestion risk high: hold arrivals at staging" if action is TrafficAction.HOLD \
                else "congestion risk low: release"
            out.append(TrafficAdvice("approach", action, None, None, self.corridor.release_rate_per_h(now),
                                     self.corridor.risk, reason))

    # --- AGV missions

    def dispatch_ready_missions(self, visit: Visit, now: float, out: list[Command]) -> None:
        """Dispatch the acknowledged AGV missions of a visit whose goods are cleared (and whose
        declaration is not waiting to be amended: a container crosses on accepted data only).
        While the fleet is faulted they wait: its recovery dispatches them."""
        if visit.awaiting_amendment or not all(visit.passed(k) for k in GOODS_CLEARANCES) or self.agv_fleet is None \
                or self.agv_fleet in self.faulted:
            return
        for container in visit.handed_over:
            mission = self.missions.get(f"{visit.visit_id}:{container}")
            if mission is not None and mission.state is AgvMissionState.ACKNOWLEDGED:
                self.dispatch(mission, now, out)

    def dispatch(self, mission: Mission, now: float, out: list[Command]) -> None:
        """Send an AGV with the mission's container."""
        assert self.agv_fleet is not None
        mission.state = AgvMissionState.DISPATCHED
        mission.dispatch_attempts += 1
        mission.dispatched_at = now
        self.deadlines.cancel(mission.report_token)
        mission.report_token = self.deadlines.schedule(now + self.config.timeouts.agv_report_s, "agv",
                                                       mission.mission_id)
        self.stats["agv_dispatched"] += 1
        out.append(DispatchAgv(self.agv_fleet, mission.mission_id, mission.visit_id, mission.container_no,
                               mission.dispatch_attempts))

    def send_manifest(self, mission: Mission, now: float, out: list[Command]) -> None:
        """Send the mission's manifest to the partner side, and wait for its acknowledgement."""
        assert self.partner_link is not None
        mission.token = self.deadlines.schedule(now + self.config.timeouts.manifest_ack_s, "manifest", mission.mission_id)
        out.append(SendManifest(self.partner_link, mission.mission_id, mission.visit_id, mission.container_no,
                                mission.manifest_attempts))

    # ------------------------------------------------------------------ timers

    def _sla_missed(self, visit_id: str, kind: ClearanceKind, now: float, out: list[Command]) -> None:
        visit = self.active.get(visit_id)
        if visit is None:
            return
        c = visit.clearances.get(kind)
        if c is None or c.status is not S.ASSIGNED or c.assigned_at is None:
            return
        role = CLEARANCE_ROLE[kind]
        item = self.work[role].get(c)
        due = item.due if item is not None else now
        c.escalated = True
        self.stats["escalations"] += 1
        self.audit.write(now, "core", "Escalate", visit_id, True, f"{role.value} has not decided {kind.value}")
        out.append(Escalate(role, visit_id, kind, now - due))

    def _payment_unconfirmed(self, visit_id: str, now: float, out: list[Command]) -> None:
        visit = self.active.get(visit_id)
        if visit is None:
            return
        fee = visit.clearances.get(K.FEE)
        if fee is None or fee.status is not S.PENDING_CONFIRMATION:
            return
        visit.payment_overdue = True
        self.audit.write(now, "core", "PaymentUnconfirmed", visit_id, True, f"payment {visit.payment_reference}")
        visit.payment_review = self.review(out, f"online payment {visit.payment_reference} for {visit.plate} not confirmed in time", now,
                    visit_id, None, visit.plate, kind=ReviewKind.PAYMENT_UNCONFIRMED, about=visit_id)

    def _no_show(self, visit_id: str, now: float, out: list[Command]) -> None:
        """A vehicle called forward from staging has not been read at barrier 1 in time. Unless
        the vehicles sent to barrier 1 before it (at the gate, and at its own lane) had all gone
        through by the last time the limit ran out, it may be queueing behind them: the limit
        runs again. Else it is a no-show: a review asks people to find it, its yard slot and its
        place in the lane go to the next vehicle waiting, and it queues again at staging, at the
        back (its visit stays open, its checks stand). Read at barrier 1 later, it is let in if
        the yard has room, else sent back to staging (``open_entry``), and its review closes.

        The ``timeouts.no_show_max_calls``-th call missed in a row, it is no longer called: it
        waits at staging without a place in the queue, "not answering", so that the vehicles
        behind it are called, and its review says so (replacing the last one). It takes a place
        again, at the back, once it is heard from (``heard_from``)."""
        visit = self.active.get(visit_id)
        if visit is None or visit.location is not _STAGING or not visit.reserved_slot:
            return
        visit.call_token = None
        limit = self.config.timeouts.call_forward_s
        if not visit.called_clear:
            lane = visit.entry_device
            visit.called_clear = self.left_entry - visit.called_mark >= visit.called_ahead and (
                not visit.lane_held or lane is None
                or self.lane_left[lane] - visit.called_lane_mark >= visit.called_lane_ahead)
            visit.call_token = self.deadlines.schedule(self.limit_due(now, limit), "no-show", visit_id)
            return
        visit.missed_calls += 1
        missed = visit.missed_calls
        given_up = missed >= self.config.timeouts.no_show_max_calls
        late = f"{visit.plate} called forward at {visit.called_at:g}, not at barrier 1 by {now:g}"
        if given_up:
            calls = f"{missed} call{'s' if missed > 1 else ''}"
            self.audit.write(now, "core", "NotAnswering", visit_id, True,
                             f"{late}: {calls} missed in a row, no longer called forward until heard from")
            reason = (f"vehicle {visit.plate} (visit {visit_id}) has missed {calls} forward in a row and is "
                      "no longer called: it waits at staging, not answering, while the vehicles behind it are "
                      "called; find it. It is called again in turn once it is heard from (its plate read, a "
                      "position from its driver's app, anything done about its visit), or this review is closed")
        else:
            self.audit.write(now, "core", "NoShow", visit_id, True, late)
            reason = (f"vehicle {visit.plate} (visit {visit_id}) was called forward from staging and has not reached "
                      f"barrier 1 within {limit:g} s: find it; its yard slot went to the next vehicle and it waits "
                      "at staging again, at the back")
        if visit.no_show_review is not None:  # missed an earlier call too: this review replaces that one
            self.close_review(visit.no_show_review)
        visit.no_show_review = self.review(out, reason, now, visit_id, None, visit.plate, kind=ReviewKind.NO_SHOW,
                                           dedupe=False)
        self.yard.cancel_reservation(visit.vehicle_class)
        visit.reserved_slot = False
        self.release_lane(visit)
        visit.entry_device = None
        self.staging.discard(visit_id)
        if given_up:
            visit.not_answering = True
            self.not_answering[visit_id] = visit
            self.hold_at_staging(visit, "not answering calls forward: not called again until heard from", out,
                                 ready=False)
        else:
            self.hold_at_staging(visit, "did not come when called forward: wait to be called again", out)
        self.slot_freed(visit, now, out)

    def heard_from(self, visit: Visit, how: str, now: float, out: list[Command]) -> str:
        """News of a vehicle no longer called forward (``not_answering``), ``how`` it came: it may
        be called again. Its missed calls are forgotten, its review closes, and it takes a place
        at the back of the staging queue (once its medical check has passed, where the gate waits
        for it), so it is called in turn. Returns what the audit record of that news says of it."""
        closed = self.forget_missed_calls(visit)
        if self.checked_for_entry(visit) and self.staging.mark_ready(visit.visit_id):
            self.call_waiting(visit.vehicle_class, now, out)
            self.advise_traffic(now, out)
        return f"; vehicle {visit.plate} heard from ({how}): it may be called forward again{closed}"

    def forget_missed_calls(self, visit: Visit) -> str:
        """The vehicle answered its call (it reached barrier 1) or was heard from: its missed calls
        are forgotten, and its no-show review closes. Returns what the audit says of the review
        ("" when none was open)."""
        self.reset_missed_calls(visit)
        review_id, visit.no_show_review = visit.no_show_review, None
        if review_id is not None and self.close_review(review_id) is not None:
            return f"; review {review_id} closed"
        return ""

    def reset_missed_calls(self, visit: Visit) -> None:
        """Start the count of the vehicle's missed calls afresh; one not answering is no longer taken so."""
        visit.missed_calls = 0
        if visit.not_answering:
            visit.not_answering = False
            del self.not_answering[visit.visit_id]

    def _agv_silent(self, mission_id: str, now: float, out: list[Command]) -> None:
        """A dispatched AGV mission has not been heard of (arrived, or faulted) in time: people
        must find out where the AGV and its container are. Raised once per mission; the mission
        stays under way, and its report, when it comes, is taken as usual and closes the review."""
        mission = self.missions.get(mission_id)
        if mission is None or mission.state is not AgvMissionState.DISPATCHED:
            return
        mission.report_token = None
        if mission.silent_review is not None:
            return
        dispatched = mission.dispatched_at if mission.dispatched_at is not None else now
        self.audit.write(now, "core", "AgvSilent", mission.visit_id, True,
                         f"{mission_id} dispatched at {dispatched:g}, not heard of by {now:g}")
        visit = self.active.get(mission.visit_id) or self.archive.get(mission.visit_id)
        plate = visit.plate if visit is not None else None
        mission.silent_review = self.review(
            out, f"AGV mission {mission_id} (container {mission.container_no}, visit {mission.visit_id}) has not "
                 f"been heard of since it was dispatched {now - dispatched:g} s ago: find the AGV and the container",
            now, mission.visit_id, self.agv_fleet, plate, kind=ReviewKind.AGV_SILENT, about=mission_id, dedupe=False)

    def heard_of(self, mission: Mission) -> str:
        """A dispatched mission was heard of (arrived, or faulted): its limit stops, and a review
        raised because it was silent closes. Returns what the audit says of that review."""
        self.deadlines.cancel(mission.report_token)
        mission.report_token = None
        review_id = mission.silent_review
        if review_id is not None and self.close_review(review_id) is not None:
            return f"; review {review_id} closed"
        return ""

    def _manifest_unacknowledged(self, mission_id: str, now: float, out: list[Command]) -> None:
        mission = self.missions.get(mission_id)
        if mission is None or mission.state is not AgvMissionState.MANIFEST_SENT:
            return
        if mission.manifest_attempts < self.config.timeouts.manifest_max_attempts:
            mission.manifest_attempts += 1
            self.stats["manifest_resends"] += 1
            self.audit.write(now, "core", "ManifestResent", mission.visit_id, True,
                             f"{mission_id} attempt {mission.manifest_attempts}")
            self.send_manifest(mission, now, out)
        else:
            mission.state = AgvMissionState.FAILED
            self.stats["agv_failed"] += 1
            self.audit.write(now, "core", "ManifestFailed", mission.visit_id, False,
                             f"{mission_id}: no acknowledgement after {mission.manifest_attempts} attempts")
            self.review(out, f"partner side never acknowledged manifest {mission_id}", now, mission.visit_id,
                        self.partner_link, None, kind=ReviewKind.MANIFEST_UNACKNOWLEDGED, about=mission_id)
