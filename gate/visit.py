"""A visit: one passage of one vehicle, its clearances, and read-only views of it.

The mutable ``Visit`` belongs to the core; everything outside the core sees ``VisitView``
snapshots. Memory matters (a busy gate keeps ~100,000 visits open in the load test), so the
classes use ``__slots__`` and keep only what a decision needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gate.commands import store_through_slots
from gate.deadlines import Timer
from gate.declaration import Declaration
from gate.enums import (
    AgvMissionState, Channel, ClearanceKind, ClearanceStatus, CrossingMode, Location, ReviewKind, Role, ScanResult, Site,
    VehicleClass,
)


# Bound once: reading a member off its Enum class is slow in Python 3.11, and ``passed`` is hot.
_PASSED = ClearanceStatus.PASSED


@dataclass(slots=True, eq=False)
class Clearance:
    """One agency requirement on a visit: its status, who decided it, and its service-level timer.

    Compared and hashed by identity: each is one requirement of one visit, and the agency work
    lists are keyed by it."""

    kind: ClearanceKind
    status: ClearanceStatus = ClearanceStatus.REQUIRED
    assigned_at: float | None = None
    decided_at: float | None = None
    decided_by: str | None = None
    reasons: tuple[str, ...] = ()
    escalated: bool = False
    deadline_token: Timer | None = None


@dataclass(slots=True, kw_only=True)
class Visit:
    """One passage of one vehicle: where it is, what it still needs, and what it holds (slot, lane).

    The fields most events read come first: a slotted object is laid out in field order, so
    they share a few cache lines, which is what an event costs when many visits are open.
    ``vehicle_class`` and ``crossing_mode`` repeat the declaration's, kept with it, for the same reason.
    """

    visit_id: str
    plate: str
    location: Location = Location.OUTSIDE
    km_to_gate: float | None = None  # last reported on the way in; None once arrived or gone
    clearances: dict[ClearanceKind, Clearance]
    last_site: Site | None = None  # where a camera (or an officer) last identified the vehicle
    updated_at: float = 0.0
    history: list[tuple[float, Location]] = field(default_factory=list)
    awaiting_amendment: bool = False
    entry_granted: bool = False
    exit_granted: bool = False
    reserved_slot: bool = False
    in_yard: bool = False
    entry_device: str | None = None  # the barrier 1 opened (or to open) for this vehicle
    lane_held: bool = False  # counted in the load of ``entry_device`` until it is through or gone
    vehicle_class: VehicleClass
    crossing_mode: CrossingMode
    handed_over: list[str] = field(default_factory=list)
    scanner: str | None = None  # the scanner this vehicle is routed to, until it is scanned
    scale: str | None = None
    exit_device: str | None = None
    withheld_at: str | None = None  # a barrier told to stay closed after it opened for the vehicle (a doubtful read)
    declaration: Declaration
    loading_registered: bool = False
    weight_kg: float | None = None
    scan_result: ScanResult | None = None
    channel: Channel
    fee_vnd: int
    fee_paid_vnd: int = 0
    owner: str  # the account that declared it
    created_at: float
    channel_reasons: tuple[str, ...]
    payment_reference: str | None = None
    payment_token: Timer | None = None
    payment_pending_vnd: int = 0  # an online payment awaiting confirmation
    payment_overdue: bool = False  # ... and not confirmed in time
    payment_review: str | None = None  # the review raised when it was not confirmed in time
    voided_payment: str | None = None  # an online payment given up for one at the counter: its late confirmation means a refund
    call_token: Timer | None = None  # the no-show limit of a vehicle called forward from staging
    called_at: float = 0.0  # ... when it was called
    called_ahead: int = 0  # ... how many vehicles were sent to barrier 1 before it (``GateCore.sent_to_entry``)
    called_mark: int = 0  # ... and how many had gone through it by then (``GateCore.left_entry``)
    called_lane_ahead: int = 0  # ... the same at its own entry lane
    called_lane_mark: int = 0
    called_clear: bool = False  # ... those before it have gone: a whole limit more and it is late
    no_show_review: str | None = None  # the review raised when it did not show up
    missed_calls: int = 0  # calls forward missed in a row, each a no-show
    not_answering: bool = False  # ... ``timeouts.no_show_max_calls`` of them: not called until heard from
    return_reasons: tuple[str, ...] = ()
    returns: int = 0
    weight_flagged: bool = False

    @property
    def entry_pending(self) -> bool:
        """Barrier 1 has not opened for the vehicle: it can still be turned away (a guard of the table)."""
        return not self.entry_granted

    def pending(self) -> list[ClearanceKind]:
        """Required clearances not yet passed, in a stable order."""
        return [k for k, c in self.clearances.items() if c.status is not ClearanceStatus.PASSED]

    def passed(self, kind: ClearanceKind) -> bool:
        """Whether a clearance has passed (a clearance the visit does not need counts as passed)."""
        c = self.clearances.get(kind)
        return c is None or c.status is _PASSED


def closed_as(visit: Visit) -> str:
    """How a closed visit ended: departed, refused, or cancelled (a withdrawn declaration leaves
    its visit where a refusal does, with no clearance refused)."""
    if visit.location is Location.REFUSED and not any(
            c.status is ClearanceStatus.REFUSED for c in visit.clearances.values()):
        return "cancelled"
    return visit.location.value


@dataclass(slots=True)
class Mission:
    """One container carried across the line by an AGV."""

    mission_id: str
    visit_id: str
    container_no: str
    state: AgvMissionState = AgvMissionState.MANIFEST_SENT
    manifest_attempts: int = 1
    dispatch_attempts: int = 0
    dispatched_at: float | None = None
    fault_at: float | None = None  # when an AGV fault was last answered (re-dispatch or given up)
    token: Timer | None = None  # the manifest's acknowledgement limit
    report_token: Timer | None = None  # the limit on hearing of a dispatched AGV (``timeouts.agv_report_s``)
    silent_review: str | None = None  # the review raised when it was not heard of in time (once per mission)


@dataclass(frozen=True, slots=True)
class Review:
    """An open manual review: what a person must look at, where, and who must act on it.

    Read-only: the core hands these out as they are (``GateCore.open_reviews``). ``roles`` are
    the roles that must act on it, the one usually acting first; an account with any of them (or
    an administrator) may close it."""

    review_id: str
    reason: str
    opened_at: float
    visit_id: str | None = None
    device_id: str | None = None
    plate: str | None = None
    kind: ReviewKind | None = None
    roles: tuple[Role, ...] = ()


@dataclass(frozen=True, slots=True)
class ClearanceView:
    """A read-only snapshot of one clearance."""

    kind: ClearanceKind
    status: ClearanceStatus
    assigned_at: float | None
    decided_at: float | None
    decided_by: str | None
    reasons: tuple[str, ...]
    escalated: bool


@dataclass(frozen=True, slots=True)
class VisitView:
    """A read-only snapshot of a visit, for UIs, probes and tests."""

    visit_id: str
    plate: str
    declaration_version: int
    location: Location
    channel: Channel
    channel_reasons: tuple[str, ...]
    clearances: tuple[ClearanceView, ...]
    fee_vnd: int
    fee_paid_vnd: int
    awaiting_amendment: bool
    returns: int
    missed_calls: int  # calls forward missed in a row (each a no-show)
    not_answering: bool  # so many (``timeouts.no_show_max_calls``) that it is not called until heard from
    weight_kg: float | None
    weight_flagged: bool
    scan_result: ScanResult | None
    entry_granted: bool
    exit_granted: bool
    history: tuple[tuple[float, Location], ...]

    @property
    def pending(self) -> tuple[ClearanceKind, ...]:
        """Required clearances not yet passed, in the order of the flow."""
        return tuple(c.kind for c in self.clearances if c.status is not ClearanceStatus.PASSED)

    def clearance(self, kind: ClearanceKind) -> ClearanceView | None:
        """The snapshot of one clearance, or None if the visit does not need it."""
        for c in self.clearances:
            if c.kind is kind:
                return c
        return None

    @classmethod
    def of(cls, visit: Visit) -> VisitView:
        """The snapshot of a visit as it is now."""
        return cls(
            visit_id=visit.visit_id,
            plate=visit.plate,
            declaration_version=visit.declaration.version,
            location=visit.location,
            channel=visit.channel,
            channel_reasons=visit.channel_reasons,
            clearances=tuple(
                ClearanceView(c.kind, c.status, c.assigned_at, c.decided_at, c.decided_by, c.reasons, c.escalated)
                for c in visit.clearances.values()
            ),
            fee_vnd=visit.fee_vnd,
            fee_paid_vnd=visit.fee_paid_vnd,
            awaiting_amendment=visit.awaiting_amendment,
            returns=visit.returns,
            missed_calls=visit.missed_calls,
            not_answering=visit.not_answering,
            weight_kg=visit.weight_kg,
            weight_flagged=visit.weight_flagged,
            scan_result=visit.scan_result,
            entry_granted=visit.entry_granted,
            exit_granted=visit.exit_granted,
            history=tuple(visit.history),
        )


@store_through_slots
@dataclass(frozen=True, slots=True)
class WorkItem:
    """One task on an agency's work list."""

    visit_id: str
    plate: str
    clearance: ClearanceKind
    assigned_at: float
    due: float
