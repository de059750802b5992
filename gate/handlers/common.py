"""What every handler shares: the verdict type, and finding accounts, visits and devices."""

from __future__ import annotations

from typing import Any

from gate.commands import Command
from gate.core import GateCore, Refusal
from gate.enums import ClearanceKind, ClearanceStatus, DeviceKind, Location, ReviewKind, Role, Site
from gate.identifiers import confusable_key, normalize_plate
from gate.transitions import Trigger
from gate.visit import Visit, closed_as

K = ClearanceKind
S = ClearanceStatus
#: What a handler returns: the visit the event concerned (if any), and a ``Refusal`` or a note for the audit.
Verdict = tuple[str | None, str | None]
#: The commands a handler appends to.
Out = list[Command]

#: Roles that make an account an officer: which plates it may type and which reviews it may close
#: depend on its roles (``gate.reviews``).
OFFICER_ROLES = frozenset(Role) - {Role.DECLARANT}
#: The location trigger of a plate identified at each checkpoint site.
SITE_TRIGGER = {
    Site.STAGING: Trigger.SEEN_AT_STAGING,
    Site.BARRIER_1: Trigger.SEEN_AT_BARRIER_1,
    Site.YARD_GATE_IN: Trigger.SEEN_AT_YARD_GATE_IN,
    Site.INSPECTION_BAY: Trigger.SEEN_AT_INSPECTION_BAY,
    Site.YARD_GATE_OUT: Trigger.SEEN_AT_YARD_GATE_OUT,
    Site.BARRIER_2: Trigger.SEEN_AT_BARRIER_2,
}

#: Sites inside the yard: a vehicle seen there has not left it.
INSIDE_YARD = frozenset({Site.YARD_GATE_IN, Site.INSPECTION_BAY})


def roles_of(core: GateCore, account: str) -> set[Role]:
    """The roles an account holds (none for an unknown account)."""
    return core.accounts.get(account, set())


def may_declare(core: GateCore, account: str) -> bool:
    """Whether the account may submit declarations."""
    roles = core.accounts.get(account)
    if roles is None:
        return core.config.open_declarant_registration
    return Role.DECLARANT in roles or Role.ADMIN in roles or (not roles and core.config.open_declarant_registration)


def open_visit(core: GateCore, visit_id: str) -> Visit | Refusal:
    """The open visit with this id, or a refusal saying why there is none."""
    visit = core.active.get(visit_id)
    if visit is not None:
        return visit
    return not_open(core, visit_id)


def not_open(core: GateCore, visit_id: str) -> Refusal:
    """Why there is no open visit with this id (it is closed, or unknown)."""
    if visit_id in core.archive:
        return Refusal(f"visit {visit_id} is closed ({closed_as(core.archive[visit_id])})")
    return Refusal(f"unknown visit {visit_id}")


def device_of(core: GateCore, device_id: str, kind: DeviceKind) -> Any:
    """The spec of a device of the expected kind, or a refusal naming what is wrong."""
    spec = core.devices.get(device_id)
    if spec is None:
        return Refusal(f"unknown device {device_id}")
    if spec.kind is not kind:
        return Refusal(f"device {device_id} is of kind {spec.kind.value}, not {kind.value}")
    return spec


def visit_for_plate(core: GateCore, plate: str, device_id: str, now: float, out: Out) -> Visit | Refusal:
    """The open visit of a plate a device reported; an unknown plate needs an officer."""
    # A plate an open visit holds is in normal form already (normalising is idempotent), so the
    # usual read is found as sent; only a miss needs the normal form.
    visit = core.plate_visits.get(plate)
    if visit is not None:
        return visit
    plate = normalize_plate(plate)
    visit = core.plate_visits.get(plate)
    if visit is not None:
        return visit
    closed = core.archive.get(core.closed_by_plate.get(plate, ""))
    if closed is not None and closed.location is Location.DEPARTED and core.devices[device_id].site is Site.BARRIER_2:
        # The camera or loop behind barrier 2 reporting a vehicle that just left: not an officer's matter.
        return Refusal(f"vehicle {plate} has already departed (visit {closed.visit_id})")
    if closed is not None and closed.location is Location.REFUSED:
        # A vehicle sent away (or whose trip was called off) is still about the gate: officers
        # must see to it, knowing who it is.
        ended = closed_as(closed)
        core.review(out, f"{ended} vehicle {plate} (visit {closed.visit_id}) seen at {device_id}", now,
                    closed.visit_id, device_id, plate, kind=ReviewKind.REFUSED_VEHICLE)
        return Refusal(f"vehicle {plate} was {ended} (visit {closed.visit_id}): no open declaration")
    guess = core.by_confusable.get(confusable_key(plate))
    hint = f"; did the device mean {guess}?" if guess else ""
    core.review(out, f"unknown plate {plate} at {device_id}{hint}", now, core.by_plate.get(guess or ""), device_id,
                plate, kind=ReviewKind.UNKNOWN_PLATE)
    return Refusal(f"no open declaration for plate {plate}{hint}")


def amount_text(vnd: int) -> str:
    """An amount of dong as the audit shows it."""
    return f"{vnd:,} VND"
