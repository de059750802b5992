"""Events: what happened, in the past tense. They are the only way into the core.

Every event is a small frozen dataclass with ``__slots__``. Events from devices carry the
reporting ``device_id``; events from people carry the ``account_id`` they were sent with
(the platform authenticates the account; the core checks its roles). No event carries a
wall-clock time the core would trust: time comes in as ``now`` with every ``handle`` call.

Devices and people can send anything: an unknown plate, a decision on a visit that does not
exist, a repeated read. The core answers each such event with an explicit refusal; nothing
here is trusted to be consistent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple, Union

from gate.enums import Channel, ClearanceKind, Outcome, PaymentMethod, Role, ScanResult

if TYPE_CHECKING:
    from gate.declaration import Declaration

#: A declaration as the platform received it: either already validated, or raw data the core
#: validates itself (and refuses with every field error at once).
DeclarationPayload = Union["Declaration", Mapping[str, Any]]


# --- from people, through the platform ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DeclarationSubmitted:
    """A declarant submitted a pre-arrival declaration (version 1)."""

    account_id: str
    declaration: DeclarationPayload


@dataclass(frozen=True, slots=True)
class DeclarationAmended:
    """A declarant submitted a new version of an existing declaration."""

    account_id: str
    declaration_id: str
    declaration: DeclarationPayload


@dataclass(frozen=True, slots=True)
class DeclarationCancelled:
    """A declarant withdrew a declaration whose vehicle has not entered the gate."""

    account_id: str
    declaration_id: str
    reason: str = ""


@dataclass(frozen=True, slots=True)
class ClearanceDecided:
    """An officer decided one clearance of one visit."""

    account_id: str
    visit_id: str
    clearance: ClearanceKind
    outcome: Outcome
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ChannelRaised:
    """Customs raised a visit's risk channel on information of its own (a tip-off, an alert from
    another post): the checks of the higher channel are added to the visit."""

    account_id: str
    visit_id: str
    channel: Channel
    reason: str


@dataclass(frozen=True, slots=True)
class LoadingRegistered:
    """The enterprise registered the loading (transshipment) of a visit's goods."""

    account_id: str
    visit_id: str


@dataclass(frozen=True, slots=True)
class FeePaid:
    """The infrastructure fee was paid: at the counter (confirmed at once) or online."""

    account_id: str
    visit_id: str
    amount_vnd: int
    method: PaymentMethod
    reference: str


@dataclass(frozen=True, slots=True)
class PaymentConfirmed:
    """The fee collector / tax authority confirmed an online payment."""

    account_id: str
    visit_id: str
    reference: str


@dataclass(frozen=True, slots=True)
class ManualPlateEntered:
    """An officer typed the plate for a manual review raised by a failed or doubtful read."""

    account_id: str
    review_id: str
    plate: str


@dataclass(frozen=True, slots=True)
class ReviewResolved:
    """An officer closed a manual review without a plate (e.g. after checking papers)."""

    account_id: str
    review_id: str
    note: str = ""


@dataclass(frozen=True, slots=True)
class ContainerHandedOver:
    """The yard operator moved a container from a truck onto the AGV lane's handover stack."""

    account_id: str
    visit_id: str
    container_no: str


@dataclass(frozen=True, slots=True)
class StagingReleaseOrdered:
    """Traffic police released vehicles from a staging area by hand (e.g. it overflowed)."""

    account_id: str
    area: str
    count: int


@dataclass(frozen=True, slots=True)
class RoleGranted:
    """An administrator gave an account a role."""

    account_id: str
    target_account: str
    role: Role


@dataclass(frozen=True, slots=True)
class RoleRevoked:
    """An administrator took a role from an account."""

    account_id: str
    target_account: str
    role: Role


# --- from devices ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlateRead:
    """A plate camera read a plate (``plate=None``: no read). Its site is the camera's site."""

    device_id: str
    plate: str | None
    confidence: float


@dataclass(frozen=True, slots=True)
class WeightMeasured:
    """A weighbridge reported a vehicle's gross weight."""

    device_id: str
    plate: str
    gross_kg: float
    stable: bool = True
    overload: bool = False


@dataclass(frozen=True, slots=True)
class ScanCompleted:
    """A container scanner finished a scan and its image was assessed."""

    device_id: str
    plate: str
    result: ScanResult
    image_ref: str = ""


@dataclass(frozen=True, slots=True)
class BarrierOpened:
    """A barrier's arm went up."""

    device_id: str


@dataclass(frozen=True, slots=True)
class BarrierClosed:
    """A barrier's arm came down."""

    device_id: str


@dataclass(frozen=True, slots=True)
class VehiclePassed:
    """A vehicle went through a barrier (loop detector / camera behind the arm)."""

    device_id: str
    plate: str


@dataclass(frozen=True, slots=True)
class DeviceFaulted:
    """A device stopped working (``reason`` as the device or its operator gave it)."""

    device_id: str
    reason: str = ""


@dataclass(frozen=True, slots=True)
class DeviceRecovered:
    """A device works again."""

    device_id: str


@dataclass(frozen=True, slots=True)
class ManifestAcknowledged:
    """The partner side acknowledged an AGV mission's manifest."""

    device_id: str
    mission_id: str


@dataclass(frozen=True, slots=True)
class AgvArrived:
    """An AGV delivered a mission's container at the partner side. ``attempt`` echoes the
    ``DispatchAgv`` it answers (None from a fleet that does not say)."""

    device_id: str
    mission_id: str
    attempt: int | None = None


@dataclass(frozen=True, slots=True)
class AgvFaulted:
    """An AGV broke down or was stopped during a mission. ``attempt`` echoes the ``DispatchAgv``
    it answers, so a fault reported again for a dispatch already answered is told from a new
    one (None from a fleet that does not say: then only a copy at the same instant is)."""

    device_id: str
    mission_id: str
    reason: str = ""
    attempt: int | None = None


# --- from the corridor ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GpsPing:
    """The driver app reported the vehicle's position on the approach corridor."""

    device_id: str
    plate: str
    km_to_gate: float
    speed_kmh: float


class Position(NamedTuple):
    """One vehicle's reported position in a telematics batch (``PositionsReported``)."""

    plate: str
    km_to_gate: float
    speed_kmh: float


#: The most positions one ``PositionsReported`` may carry; a longer batch is malformed.
MAX_POSITIONS = 100_000


@dataclass(frozen=True, slots=True)
class PositionsReported:
    """The telematics server delivered the positions the driver apps sent since its last delivery.

    Fleet-tracking servers collect the apps' positions and push them on in batches (every minute,
    say): the core takes one event per batch instead of one per position. Each position is
    checked as a ``GpsPing`` would be; a bad one is refused on its own (the rest still count),
    and the congestion risk is assessed once, after the whole batch. Positions are taken in
    order, so a vehicle reported twice ends where its last position puts it. ``positions`` holds
    ``Position`` tuples (plain ``(plate, km_to_gate, speed_kmh)`` tuples are accepted too).
    """

    device_id: str
    positions: tuple[Position | tuple[str, float, float], ...]


Event = Union[
    DeclarationSubmitted,
    DeclarationAmended,
    DeclarationCancelled,
    ClearanceDecided,
    ChannelRaised,
    LoadingRegistered,
    FeePaid,
    PaymentConfirmed,
    ManualPlateEntered,
    ReviewResolved,
    ContainerHandedOver,
    StagingReleaseOrdered,
    RoleGranted,
    RoleRevoked,
    PlateRead,
    WeightMeasured,
    ScanCompleted,
    BarrierOpened,
    BarrierClosed,
    VehiclePassed,
    DeviceFaulted,
    DeviceRecovered,
    ManifestAcknowledged,
    AgvArrived,
    AgvFaulted,
    GpsPing,
    PositionsReported,
]

PERSON_EVENTS: tuple[type, ...] = (
    DeclarationSubmitted,
    DeclarationAmended,
    DeclarationCancelled,
    ClearanceDecided,
    ChannelRaised,
    LoadingRegistered,
    FeePaid,
    PaymentConfirmed,
    ManualPlateEntered,
    ReviewResolved,
    ContainerHandedOver,
    StagingReleaseOrdered,
    RoleGranted,
    RoleRevoked,
)
DEVICE_EVENTS: tuple[type, ...] = (
    PlateRead,
    WeightMeasured,
    ScanCompleted,
    BarrierOpened,
    BarrierClosed,
    VehiclePassed,
    DeviceFaulted,
    DeviceRecovered,
    ManifestAcknowledged,
    AgvArrived,
    AgvFaulted,
    GpsPing,
    PositionsReported,
)
ALL_EVENTS: tuple[type, ...] = PERSON_EVENTS + DEVICE_EVENTS
