"""Commands: what the core asks devices and people to do, in the imperative.

``GateCore.handle`` and ``GateCore.on_timer`` return lists of these. A shell (the twin, or a
production service) delivers each to the device or account it names; the core never learns
whether a command was carried out except through later events.
"""

from __future__ import annotations

from dataclasses import MISSING, dataclass, fields
from typing import Any, TypeVar, Union

from gate.enums import ClearanceKind, ReviewKind, Role, Station, TrafficAction


@dataclass(frozen=True, slots=True)
class FieldError:
    """One invalid field of a declaration: where, why, and what was given."""

    path: str
    message: str
    value: str = ""

    def __str__(self) -> str:
        shown = f" (got {self.value})" if self.value else ""
        return f"{self.path}: {self.message}{shown}"


@dataclass(frozen=True, slots=True)
class OpenBarrier:
    """Raise a barrier's arm for one vehicle."""

    device_id: str
    visit_id: str
    plate: str


@dataclass(frozen=True, slots=True)
class KeepClosed:
    """Keep a barrier down, and show why (``visit_id``/``plate`` unset when the vehicle is unknown)."""

    device_id: str
    visit_id: str | None
    plate: str | None
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RouteTo:
    """Send a vehicle to a station (``device_id`` names the lane, scale, scanner … if chosen)."""

    visit_id: str
    plate: str
    station: Station
    device_id: str | None = None


@dataclass(frozen=True, slots=True)
class RequestScan:
    """Scan a vehicle's load with this scanner."""

    device_id: str
    visit_id: str
    plate: str


@dataclass(frozen=True, slots=True)
class AssignTask:
    """Put a clearance on an agency's work list; ``due`` is its service-level deadline."""

    role: Role
    visit_id: str
    clearance: ClearanceKind
    due: float


@dataclass(frozen=True, slots=True)
class Escalate:
    """An agency has let a task pass its service-level deadline."""

    role: Role
    visit_id: str
    clearance: ClearanceKind
    overdue_s: float


@dataclass(frozen=True, slots=True)
class ReturnForRedeclaration:
    """Send the declaration back to the declarant, with what must be put right."""

    visit_id: str
    declaration_id: str
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AcceptDeclaration:
    """The declaration (this version) is on record; ``visit_id`` follows the vehicle."""

    declaration_id: str
    version: int
    visit_id: str
    channel: str
    fee_vnd: int


@dataclass(frozen=True, slots=True)
class RejectDeclaration:
    """The declaration was not taken: every invalid field, each with its path and reason."""

    declaration_id: str | None
    errors: tuple[FieldError, ...]


@dataclass(frozen=True, slots=True)
class RequestFee:
    """Ask the declarant or driver to pay this amount of the infrastructure fee."""

    visit_id: str
    amount_vnd: int
    reason: str


@dataclass(frozen=True, slots=True)
class DispatchAgv:
    """Send an AGV across the line with one container; ``attempt`` counts the mission's dispatches
    (1, then 2 after a fault...), for the fleet to echo in its reports."""

    device_id: str
    mission_id: str
    visit_id: str
    container_no: str
    attempt: int = 1


@dataclass(frozen=True, slots=True)
class SendManifest:
    """Send a container's manifest to the partner side (``attempt`` counts resends from 1)."""

    device_id: str
    mission_id: str
    visit_id: str
    container_no: str
    attempt: int


@dataclass(frozen=True, slots=True)
class TrafficAdvice:
    """Hold or release vehicles at a staging area.

    ``visit_id`` set: about one vehicle. Unset: a general advice to traffic police, with the
    release rate the gate can absorb and the congestion risk it was computed from.
    """

    area: str
    action: TrafficAction
    visit_id: str | None
    plate: str | None
    release_rate_per_h: float | None
    congestion_risk: float
    reason: str


@dataclass(frozen=True, slots=True)
class ManualReview:
    """A person must look: the core could not decide safely on its own. ``roles`` are who must
    act on it (the one usually acting first): an account with one of them, or an administrator,
    may close it (``ReviewResolved``)."""

    review_id: str
    reason: str
    visit_id: str | None = None
    device_id: str | None = None
    plate: str | None = None
    kind: ReviewKind | None = None
    roles: tuple[Role, ...] = ()


@dataclass(frozen=True, slots=True)
class RefuseEvent:
    """Tell the sender its event was not applied, and why (the refusal is also audited)."""

    event_kind: str
    sender: str
    reason: str
    visit_id: str | None = None


Command = Union[
    OpenBarrier,
    KeepClosed,
    RouteTo,
    RequestScan,
    AssignTask,
    Escalate,
    ReturnForRedeclaration,
    AcceptDeclaration,
    RejectDeclaration,
    RequestFee,
    DispatchAgv,
    SendManifest,
    TrafficAdvice,
    ManualReview,
    RefuseEvent,
]

ALL_COMMANDS: tuple[type, ...] = (
    OpenBarrier,
    KeepClosed,
    RouteTo,
    RequestScan,
    AssignTask,
    Escalate,
    ReturnForRedeclaration,
    AcceptDeclaration,
    RejectDeclaration,
    RequestFee,
    DispatchAgv,
    SendManifest,
    TrafficAdvice,
    ManualReview,
    RefuseEvent,
)


T = TypeVar("T")


def store_through_slots(cls: type[T]) -> type[T]:
    """Give a frozen dataclass with slots an ``__init__`` that stores each field through its slot.

    The ``__init__`` dataclasses writes calls ``object.__setattr__`` by name once per field (the
    way past the frozen ``__setattr__``); the slot's own setter makes the same store in about
    half the time, and the core builds commands on most events. Same parameters, defaults and
    resulting object; a field with a default factory or left out of ``__init__`` is not supported.
    """
    params: list[str] = []
    body: list[str] = []
    namespace: dict[str, Any] = {}
    for f in fields(cls):  # type: ignore[arg-type]
        if not f.init or f.default_factory is not MISSING or not f.name.isidentifier():
            raise TypeError(f"{cls.__name__}.{f.name}: only plain fields can be stored through their slots")
        if f.default is MISSING:
            params.append(f.name)
        else:
            namespace[f"_default_{f.name}"] = f.default
            params.append(f"{f.name}=_default_{f.name}")
        namespace[f"_store_{f.name}"] = getattr(cls, f.name).__set__
        body.append(f"    _store_{f.name}(self, {f.name})")
    source = f"def __init__(self, {', '.join(params)}):\n" + ("\n".join(body) or "    pass")
    exec(source, namespace)  # code built from the dataclass's own fields only
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__doc__ = cls.__init__.__doc__
    init.__annotations__ = dict(cls.__init__.__annotations__)  # what ``inspect.signature`` shows
    setattr(cls, "__init__", init)
    return cls


for _cls in (*ALL_COMMANDS, FieldError):
    store_through_slots(_cls)
