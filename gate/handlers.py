"""One handler per event type, routed by a dict (``HANDLERS``).

Each handler takes the core, the event (already shape-checked), ``now`` and the list of commands
to append to, and returns ``(visit_id, verdict)``: a ``Refusal`` when the event is not applied
(the core audits it and tells the sender), or a short note for the audit when it is.
A refused event changes nothing but may raise a manual review.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gate import events as ev
from gate.commands import (
    AcceptDeclaration,
    Command,
    FieldError,
    KeepClosed,
    RejectDeclaration,
    RequestFee,
    RequestScan,
    ReturnForRedeclaration,
    RouteTo,
)
from gate.core import ENTRY_CLEARANCES, GateCore, Refusal
from gate.declaration import Declaration, parse_declaration
from gate.enums import (
    CLEARANCE_ROLE,
    AgvMissionState,
    Channel,
    ClearanceKind,
    ClearanceStatus,
    CrossingMode,
    DeviceKind,
    Location,
    Outcome,
    PaymentMethod,
    Role,
    ScanResult,
    Site,
    Station,
    VehicleClass,
)
from gate.fees import fee_for
from gate.identifiers import confusable_key, normalize_plate, plate_problem
from gate.risk import assess_channel, upgrade
from gate.transitions import Trigger
from gate.visit import Clearance, Mission, Visit

K = ClearanceKind
S = ClearanceStatus
Verdict = tuple[str | None, str | None]
Out = list[Command]

_OFFICER_ROLES = frozenset(Role) - {Role.DECLARANT}
_SITE_TRIGGER = {
    Site.STAGING: Trigger.SEEN_AT_STAGING,
    Site.BARRIER_1: Trigger.SEEN_AT_BARRIER_1,
    Site.YARD_GATE_IN: Trigger.SEEN_AT_YARD_GATE_IN,
    Site.INSPECTION_BAY: Trigger.SEEN_AT_INSPECTION_BAY,
    Site.YARD_GATE_OUT: Trigger.SEEN_AT_YARD_GATE_OUT,
    Site.BARRIER_2: Trigger.SEEN_AT_BARRIER_2,
}
_CHANNEL_ORDER = (Channel.GREEN, Channel.YELLOW, Channel.RED)


# ---------------------------------------------------------------------------- helpers


def _roles(core: GateCore, account: str) -> set[Role]:
    return core.accounts.get(account, set())


def _may_declare(core: GateCore, account: str) -> bool:
    roles = core.accounts.get(account)
    if roles is None:
        return core.config.open_declarant_registration
    return Role.DECLARANT in roles or Role.ADMIN in roles or (not roles and core.config.open_declarant_registration)


def _open_visit(core: GateCore, visit_id: str) -> Visit | Refusal:
    visit = core.active.get(visit_id)
    if visit is not None:
        return visit
    if visit_id in core.archive:
        return Refusal(f"visit {visit_id} is closed ({core.archive[visit_id].location.value})")
    return Refusal(f"unknown visit {visit_id}")


def _device(core: GateCore, device_id: str, kind: DeviceKind) -> Any:
    spec = core.devices.get(device_id)
    if spec is None:
        return Refusal(f"unknown device {device_id}")
    if spec.kind is not kind:
        return Refusal(f"device {device_id} is a {spec.kind.value}, not a {kind.value}")
    return spec


def _visit_for_plate(core: GateCore, plate: str, device_id: str, now: float, out: Out) -> Visit | Refusal:
    """The open visit of a plate a device reported; an unknown plate needs an officer."""
    plate = normalize_plate(plate)
    visit_id = core.by_plate.get(plate)
    if visit_id is not None:
        return core.active[visit_id]
    guess = core.by_confusable.get(confusable_key(plate))
    hint = f"; did the device mean {guess}?" if guess else ""
    core.review(out, f"unknown plate {plate} at {device_id}{hint}", now, core.by_plate.get(guess or ""), device_id,
                plate, kind="unknown-plate")
    return Refusal(f"no open declaration for plate {plate}{hint}")


def _amount(vnd: int) -> str:
    return f"{vnd:,} VND"


# ---------------------------------------------------------------------------- declarations


def on_declaration_submitted(core: GateCore, e: ev.DeclarationSubmitted, now: float, out: Out) -> Verdict:
    payload = e.declaration
    claimed_id = payload.declaration_id if isinstance(payload, Declaration) else payload.get("declaration_id")
    claimed = claimed_id if isinstance(claimed_id, str) else None
    if not _may_declare(core, e.account_id):
        return claimed, Refusal(f"account {e.account_id} may not declare")
    parsed = parse_declaration(payload)
    if isinstance(parsed, tuple):
        return _reject(core, claimed, parsed, out)
    d = parsed
    if d.declaration_id in core.active or d.declaration_id in core.archive:
        return _reject(core, d.declaration_id, (FieldError("declaration_id", "is already used", d.declaration_id),), out)
    if d.version != 1:
        return _reject(core, d.declaration_id, (FieldError(
            "version", "a new declaration is version 1; send an amendment for a new version", str(d.version)),), out)
    other = core.by_plate.get(d.vehicle_plate)
    if other is not None:
        return _reject(core, d.declaration_id, (FieldError(
            "vehicle_plate", f"the vehicle already has open declaration {other}", d.vehicle_plate),), out)
    compliance = core.ledger.score(d.declarant_id)
    core.ledger.record_declaration(d.declarant_id)
    decision = assess_channel(d, core.config.risk, compliance)
    fee = fee_for(d, core.config.fees)
    visit = Visit(
        visit_id=d.declaration_id, declaration=d, owner=e.account_id, plate=d.vehicle_plate, created_at=now,
        channel=decision.channel, channel_reasons=decision.reasons, fee_vnd=fee,
        clearances=core.required_clearances(d, decision.channel, fee), updated_at=now,
        history=[(now, Location.OUTSIDE)],
    )
    core.active[visit.visit_id] = visit
    core.by_plate[visit.plate] = visit.visit_id
    core.by_confusable[confusable_key(visit.plate)] = visit.plate
    core.location_counts[Location.OUTSIDE] += 1
    core.stats["declarations_accepted"] += 1
    out.append(AcceptDeclaration(d.declaration_id, 1, visit.visit_id, decision.channel.value, fee))
    if fee > 0:
        out.append(RequestFee(visit.visit_id, fee, "border-gate infrastructure fee"))
    core.assign_workable(visit, now, out)
    return visit.visit_id, f"channel {decision.channel.value} ({'; '.join(decision.reasons)}); fee {_amount(fee)}"


def _reject(core: GateCore, declaration_id: str | None, errors: tuple[FieldError, ...], out: Out) -> Verdict:
    core.stats["declarations_rejected"] += 1
    out.append(RejectDeclaration(declaration_id, errors))
    shown = "; ".join(str(err) for err in errors[:3]) + (f"; and {len(errors) - 3} more" if len(errors) > 3 else "")
    return declaration_id, Refusal(f"declaration rejected: {shown}")


def on_declaration_amended(core: GateCore, e: ev.DeclarationAmended, now: float, out: Out) -> Verdict:
    visit = _open_visit(core, e.declaration_id)
    if isinstance(visit, Refusal):
        return e.declaration_id, visit
    if e.account_id != visit.owner and Role.ADMIN not in _roles(core, e.account_id):
        return visit.visit_id, Refusal(f"account {e.account_id} did not make declaration {e.declaration_id}")
    parsed = parse_declaration(e.declaration)
    if isinstance(parsed, tuple):
        return _reject(core, e.declaration_id, parsed, out)
    if parsed.declaration_id != e.declaration_id:
        return _reject(core, e.declaration_id, (FieldError(
            "declaration_id", f"does not match the declaration amended ({e.declaration_id})", parsed.declaration_id),), out)
    old = visit.declaration
    if parsed.vehicle_plate != visit.plate:
        if visit.location not in (Location.OUTSIDE, Location.RETURNED):
            return _reject(core, e.declaration_id, (FieldError(
                "vehicle_plate", f"cannot change once the vehicle is {visit.location.value}", parsed.vehicle_plate),), out)
        holder = core.by_plate.get(parsed.vehicle_plate)
        if holder is not None:
            return _reject(core, e.declaration_id, (FieldError(
                "vehicle_plate", f"the vehicle already has open declaration {holder}", parsed.vehicle_plate),), out)
    if parsed.vehicle_class is not old.vehicle_class and (visit.reserved_slot or visit.in_yard):
        return _reject(core, e.declaration_id, (FieldError(
            "vehicle_class", "cannot change while the vehicle holds a yard slot", parsed.vehicle_class.value),), out)
    d = parsed.model_copy(update={"version": old.version + 1})
    if d.vehicle_plate != visit.plate:
        del core.by_plate[visit.plate]
        core.by_confusable.pop(confusable_key(visit.plate), None)
        visit.plate = d.vehicle_plate
        core.by_plate[visit.plate] = visit.visit_id
        core.by_confusable[confusable_key(visit.plate)] = visit.plate
    visit.declaration = d
    core.stats["amendments"] += 1
    # The channel is never lowered by an amendment; rules on the new data may raise it.
    decision = assess_channel(d, core.config.risk, core.ledger.score(d.declarant_id))
    if _CHANNEL_ORDER.index(decision.channel) > _CHANNEL_ORDER.index(visit.channel):
        core.set_channel(visit, decision.channel, "amended declaration: " + "; ".join(decision.reasons), now, out)
    # New requirements from the new data; returned clearances go back to work; customs re-checks documents.
    wanted = core.required_clearances(d, visit.channel, fee_for(d, core.config.fees))
    merged = dict(visit.clearances)
    for kind, fresh in wanted.items():
        merged.setdefault(kind, fresh)
    exit_check = merged.pop(K.BORDER_GUARD_EXIT)
    merged[K.BORDER_GUARD_EXIT] = exit_check
    visit.clearances = merged
    for kind, c in visit.clearances.items():
        if c.status is S.RETURNED or (kind is K.CUSTOMS_DOCUMENTS and c.status is not S.REQUIRED):
            core.unassign(visit, kind)
            c.status = S.REQUIRED
            c.decided_at = None
            c.decided_by = None
    _reprice(core, visit, fee_for(d, core.config.fees), out)
    visit.awaiting_amendment = False
    visit.return_reasons = ()
    if visit.location is Location.RETURNED:
        core.move(visit, Trigger.REENTERED, now)
        visit.entry_granted = False
        visit.entry_device = None
    out.append(AcceptDeclaration(d.declaration_id, d.version, visit.visit_id, visit.channel.value, visit.fee_vnd))
    core.assign_workable(visit, now, out)
    core.progress(visit, now, out)
    return visit.visit_id, f"version {d.version} accepted"


def _reprice(core: GateCore, visit: Visit, fee: int, out: Out) -> None:
    if fee == visit.fee_vnd:
        return
    visit.fee_vnd = fee
    c = visit.clearances.get(K.FEE)
    if fee > visit.fee_paid_vnd:
        if c is None:
            c = visit.clearances.setdefault(K.FEE, Clearance(K.FEE))
            exit_check = visit.clearances.pop(K.BORDER_GUARD_EXIT)
            visit.clearances[K.BORDER_GUARD_EXIT] = exit_check
        if c.status is S.PASSED:
            c.status = S.REQUIRED
        out.append(RequestFee(visit.visit_id, fee - visit.fee_paid_vnd, "fee changed by the amended declaration"))


def on_declaration_cancelled(core: GateCore, e: ev.DeclarationCancelled, now: float, out: Out) -> Verdict:
    visit = _open_visit(core, e.declaration_id)
    if isinstance(visit, Refusal):
        return e.declaration_id, visit
    if e.account_id != visit.owner and Role.ADMIN not in _roles(core, e.account_id):
        return visit.visit_id, Refusal(f"account {e.account_id} did not make declaration {e.declaration_id}")
    if visit.location not in (Location.OUTSIDE, Location.STAGING, Location.RETURNED):
        return visit.visit_id, Refusal(f"cannot cancel: vehicle {visit.plate} is {visit.location.value}")
    if visit.location is Location.STAGING:
        out.append(RouteTo(visit.visit_id, visit.plate, Station.AWAY, None))
    core.move(visit, Trigger.REFUSED, now)
    core.stats["cancelled"] += 1
    core.finish(visit, now, out)
    return visit.visit_id, "cancelled by the declarant" + (f": {e.reason}" if e.reason else "")


# ---------------------------------------------------------------------------- agency decisions


def on_clearance_decided(core: GateCore, e: ev.ClearanceDecided, now: float, out: Out) -> Verdict:
    visit = _open_visit(core, e.visit_id)
    if isinstance(visit, Refusal):
        return e.visit_id, visit
    role = CLEARANCE_ROLE[e.clearance]
    if role not in _roles(core, e.account_id):
        return visit.visit_id, Refusal(f"account {e.account_id} lacks the {role.value} role to decide {e.clearance.value}")
    c = visit.clearances.get(e.clearance)
    if c is None:
        return visit.visit_id, Refusal(f"{e.clearance.value} is not required for visit {visit.visit_id}")
    if c.status in (S.PASSED, S.RETURNED, S.REFUSED):
        if c.status.value == e.outcome.value:
            return visit.visit_id, f"repeat: {e.clearance.value} already {c.status.value}"
        return visit.visit_id, Refusal(f"{e.clearance.value} was already decided ({c.status.value})")
    if c.status is not S.ASSIGNED and not (c.status is S.PENDING_CONFIRMATION and e.clearance is K.FEE):
        if e.clearance is K.FEE and e.outcome is Outcome.PASSED:
            return visit.visit_id, Refusal("the fee passes by payment (FeePaid), not by a decision")
        return visit.visit_id, Refusal(
            f"{e.clearance.value} cannot be decided yet: vehicle {visit.plate} is {visit.location.value}")
    if e.outcome is Outcome.PASSED:
        core.settle(visit, e.clearance, S.PASSED, e.account_id, now, e.reasons)
        core.progress(visit, now, out)
        return visit.visit_id, f"{e.clearance.value} passed"
    if e.outcome is Outcome.RETURNED:
        return_for_redeclaration(core, visit, e.clearance, e.reasons or ("wrong data",), e.account_id, now, out)
        return visit.visit_id, f"{e.clearance.value} returned for re-declaration: {'; '.join(e.reasons)}"
    refuse_visit(core, visit, e.clearance, e.reasons or ("refused",), e.account_id, now, out)
    return visit.visit_id, f"{e.clearance.value} refused: {'; '.join(e.reasons)}"


def return_for_redeclaration(core: GateCore, visit: Visit, kind: ClearanceKind, reasons: tuple[str, ...], actor: str,
                             now: float, out: Out) -> None:
    core.settle(visit, kind, S.RETURNED, actor, now, reasons)
    visit.awaiting_amendment = True
    visit.return_reasons = reasons
    visit.returns += 1
    core.stats["returns"] += 1
    core.ledger.record_violation(visit.declaration.declarant_id, "returned")
    out.append(ReturnForRedeclaration(visit.visit_id, visit.visit_id, reasons))
    if visit.location in (Location.OUTSIDE, Location.STAGING, Location.ENTRY_LANE):
        # Turned back before entering: the vehicle leaves, gives up its place, and comes back amended.
        if visit.location is Location.ENTRY_LANE:
            out.append(KeepClosed(visit.entry_device or "barrier-1", visit.visit_id, visit.plate, reasons))
        if visit.location is not Location.OUTSIDE:
            out.append(RouteTo(visit.visit_id, visit.plate, Station.AWAY, None))
        core.move(visit, Trigger.TURNED_BACK, now)
        for k in ENTRY_CLEARANCES:
            if k in visit.clearances:
                core.unassign(visit, k)
        core.leave_entry_lane(visit)
        visit.entry_device = None
        core.staging.discard(visit.visit_id)
        core.corridor.arrived(visit.visit_id)
        core.release_slot(visit, now, out)


def refuse_visit(core: GateCore, visit: Visit, kind: ClearanceKind, reasons: tuple[str, ...], actor: str, now: float,
                 out: Out) -> None:
    core.settle(visit, kind, S.REFUSED, actor, now, reasons)
    core.ledger.record_violation(visit.declaration.declarant_id, "refused")
    if visit.location is Location.ENTRY_LANE:
        out.append(KeepClosed(visit.entry_device or "barrier-1", visit.visit_id, visit.plate, reasons))
    out.append(RouteTo(visit.visit_id, visit.plate, Station.AWAY, None))
    for mission_key in visit.handed_over:
        mission = core.missions.get(f"{visit.visit_id}:{mission_key}")
        if mission is not None and mission.state in (AgvMissionState.MANIFEST_SENT, AgvMissionState.ACKNOWLEDGED):
            mission.state = AgvMissionState.FAILED
            core.deadlines.cancel(mission.token)
    core.move(visit, Trigger.REFUSED, now)
    core.stats["refused_visits"] += 1
    core.finish(visit, now, out)


def on_loading_registered(core: GateCore, e: ev.LoadingRegistered, now: float, out: Out) -> Verdict:
    visit = _open_visit(core, e.visit_id)
    if isinstance(visit, Refusal):
        return e.visit_id, visit
    if e.account_id != visit.owner and Role.YARD_OPERATOR not in _roles(core, e.account_id):
        return visit.visit_id, Refusal(f"account {e.account_id} may not register loading for {visit.visit_id}")
    if K.LOADING not in visit.clearances:
        return visit.visit_id, Refusal("the declaration does not declare transshipment")
    if visit.loading_registered:
        return visit.visit_id, "repeat: loading already registered"
    visit.loading_registered = True
    core.assign_workable(visit, now, out)
    return visit.visit_id, "loading registered"


def on_fee_paid(core: GateCore, e: ev.FeePaid, now: float, out: Out) -> Verdict:
    visit = _open_visit(core, e.visit_id)
    if isinstance(visit, Refusal):
        return e.visit_id, visit
    c = visit.clearances.get(K.FEE)
    if c is None:
        return visit.visit_id, Refusal("no fee is due for this visit")
    if c.status is S.PASSED:
        return visit.visit_id, Refusal(f"the fee is already paid ({_amount(visit.fee_paid_vnd)})")
    if e.method is PaymentMethod.DIRECT:
        if Role.FEE_COLLECTOR not in _roles(core, e.account_id):
            return visit.visit_id, Refusal(f"account {e.account_id} cannot take payment at the counter")
        if c.status is S.PENDING_CONFIRMATION:
            return visit.visit_id, Refusal(f"an online payment {visit.payment_reference} is awaiting confirmation")
        _credit(core, visit, e.amount_vnd, e.account_id, now, out)
        return visit.visit_id, f"paid {_amount(e.amount_vnd)} at the counter"
    if e.account_id != visit.owner and Role.FEE_COLLECTOR not in _roles(core, e.account_id):
        return visit.visit_id, Refusal(f"account {e.account_id} may not pay for {visit.visit_id}")
    if c.status is S.PENDING_CONFIRMATION:
        return visit.visit_id, Refusal(f"payment {visit.payment_reference} is already awaiting confirmation")
    c.status = S.PENDING_CONFIRMATION
    visit.payment_reference = e.reference
    visit.payment_token = core.deadlines.schedule(now + core.config.timeouts.payment_confirmation_s, "payment",
                                                  visit.visit_id)
    visit.payment_pending_vnd = e.amount_vnd
    return visit.visit_id, f"online payment {e.reference} of {_amount(e.amount_vnd)} awaiting confirmation"


def on_payment_confirmed(core: GateCore, e: ev.PaymentConfirmed, now: float, out: Out) -> Verdict:
    visit = _open_visit(core, e.visit_id)
    if isinstance(visit, Refusal):
        return e.visit_id, visit
    if Role.FEE_COLLECTOR not in _roles(core, e.account_id):
        return visit.visit_id, Refusal(f"account {e.account_id} cannot confirm payments")
    c = visit.clearances.get(K.FEE)
    if c is None or c.status is not S.PENDING_CONFIRMATION:
        return visit.visit_id, Refusal("no online payment is awaiting confirmation")
    if e.reference != visit.payment_reference:
        return visit.visit_id, Refusal(f"reference {e.reference} does not match the pending payment {visit.payment_reference}")
    core.deadlines.cancel(visit.payment_token)
    c.status = S.REQUIRED
    amount, visit.payment_pending_vnd = visit.payment_pending_vnd, 0
    _credit(core, visit, amount, e.account_id, now, out)
    return visit.visit_id, f"online payment {e.reference} confirmed"


def _credit(core: GateCore, visit: Visit, amount: int, actor: str, now: float, out: Out) -> None:
    visit.fee_paid_vnd += amount
    core.stats["fees_collected_vnd"] += amount
    if visit.fee_paid_vnd >= visit.fee_vnd:
        core.settle(visit, K.FEE, S.PASSED, actor, now)
        core.progress(visit, now, out)
    else:
        out.append(RequestFee(visit.visit_id, visit.fee_vnd - visit.fee_paid_vnd, "part of the fee is still due"))


# ---------------------------------------------------------------------------- officers and admin


def on_manual_plate_entered(core: GateCore, e: ev.ManualPlateEntered, now: float, out: Out) -> Verdict:
    if not (_roles(core, e.account_id) & _OFFICER_ROLES):
        return None, Refusal(f"account {e.account_id} is not an officer")
    review = core.reviews.get(e.review_id)
    if review is None:
        return None, Refusal(f"no open review {e.review_id}")
    if review.device_id is None or review.device_id not in core.devices:
        return review.visit_id, Refusal(f"review {e.review_id} is not about a plate at a device")
    plate = normalize_plate(e.plate)
    bad = plate_problem(plate)
    if bad is not None:
        return review.visit_id, Refusal(f"plate {e.plate!r}: {bad}")
    if plate not in core.by_plate:
        return review.visit_id, Refusal(f"no open declaration for plate {plate}; the review stays open")
    core.close_review(e.review_id)
    visit_id, verdict = _plate_seen(core, review.device_id, plate, now, out)
    if isinstance(verdict, Refusal):
        return visit_id, Refusal(f"manual entry of {plate}: {verdict}")
    return visit_id, f"manual entry of {plate} resolved {e.review_id}; {verdict or ''}".rstrip("; ")


def on_review_resolved(core: GateCore, e: ev.ReviewResolved, now: float, out: Out) -> Verdict:
    if not (_roles(core, e.account_id) & _OFFICER_ROLES):
        return None, Refusal(f"account {e.account_id} is not an officer")
    review = core.close_review(e.review_id)
    if review is None:
        return None, Refusal(f"no open review {e.review_id}")
    return review.visit_id, f"review {e.review_id} closed" + (f": {e.note}" if e.note else "")


def on_role_granted(core: GateCore, e: ev.RoleGranted, now: float, out: Out) -> Verdict:
    if Role.ADMIN not in _roles(core, e.account_id):
        return None, Refusal(f"account {e.account_id} is not an administrator")
    core.accounts.setdefault(e.target_account, set()).add(e.role)
    return None, f"{e.target_account} may now act as {e.role.value}"


def on_role_revoked(core: GateCore, e: ev.RoleRevoked, now: float, out: Out) -> Verdict:
    if Role.ADMIN not in _roles(core, e.account_id):
        return None, Refusal(f"account {e.account_id} is not an administrator")
    roles = core.accounts.get(e.target_account)
    if roles is None or e.role not in roles:
        return None, Refusal(f"{e.target_account} does not have the {e.role.value} role")
    if e.role is Role.ADMIN and e.target_account == e.account_id:
        return None, Refusal("an administrator cannot revoke their own administrator role")
    roles.discard(e.role)
    return None, f"{e.target_account} no longer acts as {e.role.value}"


def on_staging_release_ordered(core: GateCore, e: ev.StagingReleaseOrdered, now: float, out: Out) -> Verdict:
    if Role.TRAFFIC_POLICE not in _roles(core, e.account_id):
        return None, Refusal(f"account {e.account_id} is not traffic police")
    if e.area not in core.staging.area_capacity:
        return None, Refusal(f"unknown staging area {e.area}")
    released = 0
    for vehicle_class in (VehicleClass.CONTAINER, VehicleClass.TRUCK, VehicleClass.SMALL):
        while released < e.count:
            visit_id = core.staging.pop_next(vehicle_class)
            if visit_id is None:
                break
            visit = core.active.get(visit_id)
            if visit is None or visit.location is not Location.STAGING:
                continue
            if not core.yard.has_room(vehicle_class):
                # Released by hand into a full yard: it goes forward without a slot and waits at barrier 1.
                lane = core.entry_lane_for(visit)
                if lane is not None and visit.entry_device is None:
                    visit.entry_device = lane
                    core.lane_load[lane] += 1
                out.append(RouteTo(visit.visit_id, visit.plate, Station.ENTRY_LANE, visit.entry_device))
            else:
                core.call_forward(visit, now, out, area=e.area)
            released += 1
    core.advise_traffic(now, out)
    return None, f"released {released} of {e.count} from {e.area}"


# ---------------------------------------------------------------------------- devices


def on_plate_read(core: GateCore, e: ev.PlateRead, now: float, out: Out) -> Verdict:
    spec = _device(core, e.device_id, DeviceKind.PLATE_CAMERA)
    if isinstance(spec, Refusal):
        return None, spec
    barrier = core.barrier_at(spec) if spec.site in (Site.BARRIER_1, Site.BARRIER_2) else None
    if e.plate is None or e.confidence < core.config.plate_confidence_threshold:
        candidate = normalize_plate(e.plate) if e.plate else None
        what = "no plate read" if e.plate is None else f"low confidence {e.confidence:.2f} for {candidate}"
        visit_id = core.by_plate.get(candidate) if candidate else None
        core.review(out, f"{what} at {e.device_id}: enter the plate by hand", now, visit_id, e.device_id, candidate,
                    kind="plate-read", dedupe=candidate is not None)
        if barrier is not None:
            out.append(KeepClosed(barrier, visit_id, candidate, ("plate not identified",)))
        return visit_id, "awaiting manual plate entry"
    return _plate_seen(core, e.device_id, e.plate, now, out)


def _plate_seen(core: GateCore, device_id: str, raw_plate: str, now: float, out: Out) -> Verdict:
    """A plate identified at a camera's site (by the camera, or by an officer's manual entry)."""
    spec = core.devices[device_id]
    trigger = _SITE_TRIGGER.get(spec.site)
    if trigger is None:
        return None, Refusal(f"camera {device_id} stands at {spec.site.value}, which is not a checkpoint")
    barrier = core.barrier_at(spec) if spec.site in (Site.BARRIER_1, Site.BARRIER_2) else None
    visit = _visit_for_plate(core, raw_plate, device_id, now, out)
    if isinstance(visit, Refusal):
        if barrier is not None:
            out.append(KeepClosed(barrier, None, normalize_plate(raw_plate), (str(visit),)))
        return None, visit
    before = visit.location
    illegal = core.move(visit, trigger, now)
    if illegal is not None:
        if barrier is not None:
            out.append(KeepClosed(barrier, visit.visit_id, visit.plate, (illegal,)))
        core.review(out, illegal, now, visit.visit_id, device_id, visit.plate, kind="out-of-order")
        return visit.visit_id, Refusal(illegal)
    if visit.location is before and visit.last_site is spec.site:
        return visit.visit_id, f"repeat read at {spec.site.value}"
    visit.last_site = spec.site
    return visit.visit_id, _ARRIVALS[spec.site](core, visit, before, barrier, now, out)


def _arrived_staging(core: GateCore, visit: Visit, before: Location, barrier: str | None, now: float, out: Out) -> str:
    core.corridor.arrived(visit.visit_id)
    core.assign_workable(visit, now, out)
    vehicle_class = visit.declaration.vehicle_class
    if visit.reserved_slot or (core.yard.has_room(vehicle_class) and not _others_waiting(core, visit)):
        core.call_forward(visit, now, out)
        note = "called forward"
    else:
        core.hold_at_staging(visit, "yard full: wait to be called forward", out)
        note = "held at staging"
    core.advise_traffic(now, out)
    return note


def _others_waiting(core: GateCore, visit: Visit) -> bool:
    """Arrival order: a newcomer does not overtake vehicles of its class already waiting."""
    return core.staging.class_count[visit.declaration.vehicle_class] > 0


def _arrived_barrier_1(core: GateCore, visit: Visit, before: Location, barrier: str | None, now: float, out: Out) -> str:
    core.corridor.arrived(visit.visit_id)
    core.staging.discard(visit.visit_id)
    if barrier is not None and visit.entry_device != barrier:
        core.leave_entry_lane(visit)
        visit.entry_device = barrier
        core.lane_load[barrier] = core.lane_load.get(barrier, 0) + 1
    core.assign_workable(visit, now, out)
    bge = visit.clearances[K.BORDER_GUARD_ENTRY]
    if core.config.automated_border_check and bge.status is S.ASSIGNED:
        core.settle(visit, K.BORDER_GUARD_ENTRY, S.PASSED, "core:automated-check", now)
    core.progress(visit, now, out)
    return "entry granted" if visit.entry_granted else "awaiting entry checks: " + ", ".join(
        k.value for k in ENTRY_CLEARANCES if not visit.passed(k))


def _arrived_yard(core: GateCore, visit: Visit, before: Location, barrier: str | None, now: float, out: Out) -> str:
    if not visit.in_yard:
        core.yard.enter(visit.declaration.vehicle_class, visit.reserved_slot)
        visit.reserved_slot = False
        visit.in_yard = True
    if visit.scanner is not None:  # reached the yard without the scan it was sent to
        core.scanner_queue[visit.scanner].pop(visit.visit_id, None)
        visit.scanner = None
    if visit.scale is not None:
        core.scale_queue[visit.scale].pop(visit.visit_id, None)
        visit.scale = None
    core.assign_workable(visit, now, out)
    inspection = visit.clearances.get(K.CUSTOMS_INSPECTION)
    if inspection is not None and inspection.status is S.ASSIGNED and visit.location is Location.YARD:
        out.append(RouteTo(visit.visit_id, visit.plate, Station.INSPECTION, None))
    core.progress(visit, now, out)
    return f"in the yard ({core.yard.occupied[visit.declaration.vehicle_class]} {visit.declaration.vehicle_class.value})"


def _arrived_inspection(core: GateCore, visit: Visit, before: Location, barrier: str | None, now: float,
                        out: Out) -> str:
    core.assign_workable(visit, now, out)
    core.progress(visit, now, out)
    return "at the inspection bay"


def _arrived_yard_gate_out(core: GateCore, visit: Visit, before: Location, barrier: str | None, now: float,
                           out: Out) -> str:
    core.release_slot(visit, now, out)
    return "left the yard"


def _arrived_barrier_2(core: GateCore, visit: Visit, before: Location, barrier: str | None, now: float, out: Out) -> str:
    if visit.in_yard:  # no exit camera at the yard: it left the yard to reach barrier 2
        core.release_slot(visit, now, out)
    visit.exit_device = barrier
    if barrier is None:
        return "at barrier 2 (no barrier configured)"
    if visit.awaiting_amendment or not core.ready_to_exit(visit):
        reasons = ("awaiting amended declaration",) if visit.awaiting_amendment else tuple(
            f"{k.value} not passed" for k in visit.pending() if k is not K.BORDER_GUARD_EXIT)
        out.append(KeepClosed(barrier, visit.visit_id, visit.plate, reasons))
        fee = visit.clearances.get(K.FEE)
        if fee is not None and fee.status is S.REQUIRED:
            out.append(RequestFee(visit.visit_id, visit.fee_vnd - visit.fee_paid_vnd, "exit refused until the fee is paid"))
        out.append(RouteTo(visit.visit_id, visit.plate, Station.YARD, None))
        visit.exit_device = None
        return "kept closed: " + "; ".join(reasons)
    core.progress(visit, now, out)
    return "exit granted" if visit.exit_granted else "awaiting border guard exit check"


_ARRIVALS: dict[Site, Callable[[GateCore, Visit, Location, str | None, float, Out], str]] = {
    Site.STAGING: _arrived_staging,
    Site.BARRIER_1: _arrived_barrier_1,
    Site.YARD_GATE_IN: _arrived_yard,
    Site.INSPECTION_BAY: _arrived_inspection,
    Site.YARD_GATE_OUT: _arrived_yard_gate_out,
    Site.BARRIER_2: _arrived_barrier_2,
}


def on_weight_measured(core: GateCore, e: ev.WeightMeasured, now: float, out: Out) -> Verdict:
    spec = _device(core, e.device_id, DeviceKind.SCALE)
    if isinstance(spec, Refusal):
        return None, spec
    visit = _visit_for_plate(core, e.plate, e.device_id, now, out)
    if isinstance(visit, Refusal):
        return None, visit
    if not e.stable and not e.overload:
        return visit.visit_id, "unstable reading ignored"
    before = visit.location
    illegal = core.move(visit, Trigger.WEIGHED, now)
    if illegal is not None:
        core.review(out, illegal, now, visit.visit_id, e.device_id, visit.plate, kind="out-of-order")
        return visit.visit_id, Refusal(illegal)
    if before is Location.SCALE:
        return visit.visit_id, "repeat weighing ignored"
    if visit.scale is not None:
        core.scale_queue[visit.scale].pop(visit.visit_id, None)
        visit.scale = None
    if e.overload:
        core.review(out, f"{visit.plate} overloads scale {e.device_id}: weigh by other means", now, visit.visit_id,
                    e.device_id, visit.plate, kind="overload")
        note = "overload: weight not checked"
    else:
        visit.weight_kg = float(e.gross_kg)
        note = _check_weight(core, visit, float(e.gross_kg), now, out)
    core.route_onward(visit, now, out)
    return visit.visit_id, note


def _check_weight(core: GateCore, visit: Visit, measured: float, now: float, out: Out) -> str:
    declared = visit.declaration.declared_gross_kg
    cfg = core.config.weight
    tolerance = max(declared * cfg.tolerance_pct / 100.0, cfg.tolerance_min_kg)
    difference = measured - declared
    if abs(difference) <= tolerance:
        return f"weight {measured:.0f} kg within tolerance"
    visit.weight_flagged = True
    core.stats["weight_discrepancies"] += 1
    core.ledger.record_violation(visit.declaration.declarant_id, "weight_discrepancy")
    reason = f"weight {measured:.0f} kg differs from declared {declared:.0f} kg by {difference:+.0f} kg"
    if core.config.risk.upgrade_on_weight_discrepancy:
        core.set_channel(visit, upgrade(visit.channel), reason, now, out)
    return reason + f"; channel {visit.channel.value}"


def on_scan_completed(core: GateCore, e: ev.ScanCompleted, now: float, out: Out) -> Verdict:
    spec = _device(core, e.device_id, DeviceKind.SCANNER)
    if isinstance(spec, Refusal):
        return None, spec
    visit = _visit_for_plate(core, e.plate, e.device_id, now, out)
    if isinstance(visit, Refusal):
        return None, visit
    before = visit.location
    illegal = core.move(visit, Trigger.SCANNED, now)
    if illegal is not None:
        core.review(out, illegal, now, visit.visit_id, e.device_id, visit.plate, kind="out-of-order")
        return visit.visit_id, Refusal(illegal)
    if before is Location.SCANNER:
        return visit.visit_id, "repeat scan ignored"
    if visit.scanner is not None:
        core.scanner_queue[visit.scanner].pop(visit.visit_id, None)
        visit.scanner = None
    if visit.scale is not None:
        core.scale_queue[visit.scale].pop(visit.visit_id, None)
        visit.scale = None
    visit.scan_result = e.result
    core.stats["scans"] += 1
    inspection = visit.clearances.get(K.CUSTOMS_INSPECTION)
    if e.result is ScanResult.CLEAR:
        if inspection is not None and inspection.status is S.REQUIRED:
            core.settle(visit, K.CUSTOMS_INSPECTION, S.PASSED, e.device_id, now, ("scan clear",))
        note = "scan clear"
    else:
        core.stats["scan_suspect"] += 1
        core.set_channel(visit, Channel.RED, "scan suspect", now, out)
        note = "scan suspect: physical inspection"
    out.append(RouteTo(visit.visit_id, visit.plate, Station.YARD, None))
    return visit.visit_id, note


def on_vehicle_passed(core: GateCore, e: ev.VehiclePassed, now: float, out: Out) -> Verdict:
    spec = _device(core, e.device_id, DeviceKind.BARRIER)
    if isinstance(spec, Refusal):
        return None, spec
    visit = _visit_for_plate(core, e.plate, e.device_id, now, out)
    if isinstance(visit, Refusal):
        return None, visit
    if spec.site is Site.BARRIER_1:
        if not visit.entry_granted or visit.location is not Location.ENTRY_LANE:
            reason = f"{visit.plate} passed barrier 1 without entry permission ({visit.location.value})"
            core.review(out, reason, now, visit.visit_id, e.device_id, visit.plate, kind="unauthorised-passage")
            return visit.visit_id, Refusal(reason)
        if visit.entry_device in core.lane_load:
            core.lane_load[visit.entry_device] = max(0, core.lane_load[visit.entry_device] - 1)
        return visit.visit_id, "passed barrier 1"
    if spec.site is not Site.BARRIER_2:
        return visit.visit_id, Refusal(f"barrier {e.device_id} stands at {spec.site.value}")
    illegal = core.move(visit, Trigger.PASSED_BARRIER_2, now)
    if illegal is not None:
        core.review(out, illegal, now, visit.visit_id, e.device_id, visit.plate, kind="unauthorised-passage")
        return visit.visit_id, Refusal(illegal)
    core.stats["departed"] += 1
    core.finish(visit, now, out)
    return visit.visit_id, "departed"


def on_barrier_moved(core: GateCore, e: ev.BarrierOpened | ev.BarrierClosed, now: float, out: Out) -> Verdict:
    spec = _device(core, e.device_id, DeviceKind.BARRIER)
    if isinstance(spec, Refusal):
        return None, spec
    return None, "opened" if isinstance(e, ev.BarrierOpened) else "closed"


def on_device_faulted(core: GateCore, e: ev.DeviceFaulted, now: float, out: Out) -> Verdict:
    spec = core.devices.get(e.device_id)
    if spec is None:
        return None, Refusal(f"unknown device {e.device_id}")
    if e.device_id in core.faulted:
        return None, "repeat: already faulted"
    core.faulted.add(e.device_id)
    if spec.kind is DeviceKind.SCANNER:
        waiting = list(core.scanner_queue[e.device_id])
        core.scanner_queue[e.device_id].clear()
        for visit_id in waiting:
            visit = core.active.get(visit_id)
            if visit is None:
                continue
            visit.scanner = None
            core.route_onward(visit, now, out)  # another scanner, or the yard and a manual inspection
        return None, f"scanner down; {len(waiting)} vehicle(s) re-routed"
    if spec.kind is DeviceKind.SCALE:
        waiting = list(core.scale_queue[e.device_id])
        core.scale_queue[e.device_id].clear()
        for visit_id in waiting:
            visit = core.active.get(visit_id)
            if visit is None:
                continue
            visit.scale = None
            if visit.location is Location.ENTRY_LANE:
                visit.weight_kg = None
                _skip_scale(core, visit, now, out)
        return None, f"scale down; {len(waiting)} vehicle(s) re-routed"
    core.review(out, f"{spec.kind.value} {e.device_id} faulted ({e.reason or 'no reason given'}): manual procedure",
                now, None, e.device_id, None, kind="device-faulted")
    return None, "faulted: manual procedure"


def _skip_scale(core: GateCore, visit: Visit, now: float, out: Out) -> None:
    scales = core.working(core.scales)
    if scales:
        core.route_onward(visit, now, out)
        return
    if core.wants_scan(visit):
        scanners = core.working(core.scanners)
        scanner = min(scanners, key=lambda s: len(core.scanner_queue[s]))
        visit.scanner = scanner
        core.scanner_queue[scanner][visit.visit_id] = None
        out.append(RouteTo(visit.visit_id, visit.plate, Station.SCANNER, scanner))
        out.append(RequestScan(scanner, visit.visit_id, visit.plate))
    else:
        out.append(RouteTo(visit.visit_id, visit.plate, Station.YARD, None))


def on_device_recovered(core: GateCore, e: ev.DeviceRecovered, now: float, out: Out) -> Verdict:
    if e.device_id not in core.devices:
        return None, Refusal(f"unknown device {e.device_id}")
    if e.device_id not in core.faulted:
        return None, "repeat: not faulted"
    core.faulted.discard(e.device_id)
    for review in list(core.reviews.values()):
        if review.device_id == e.device_id and review.reason.startswith(f"{core.devices[e.device_id].kind.value} "):
            core.close_review(review.review_id)
    return None, "recovered"


# ---------------------------------------------------------------------------- AGV lane


def on_container_handed_over(core: GateCore, e: ev.ContainerHandedOver, now: float, out: Out) -> Verdict:
    roles = _roles(core, e.account_id)
    if not roles & {Role.YARD_OPERATOR, Role.OPERATION_CENTRE}:
        return e.visit_id, Refusal(f"account {e.account_id} is not a yard operator or the operation centre")
    visit = _open_visit(core, e.visit_id)
    if isinstance(visit, Refusal):
        return e.visit_id, visit
    if visit.declaration.crossing_mode is not CrossingMode.AGV_LANE:
        return visit.visit_id, Refusal("the declaration does not use the AGV lane")
    if core.agv_fleet is None or core.partner_link is None:
        return visit.visit_id, Refusal("this gate has no AGV lane")
    number = e.container_no.replace(" ", "").upper()
    if number not in {c.number for c in visit.declaration.containers}:
        return visit.visit_id, Refusal(f"container {number} is not on the declaration")
    if visit.location not in (Location.YARD, Location.INSPECTION):
        return visit.visit_id, Refusal(f"vehicle {visit.plate} is {visit.location.value}, not in the yard")
    if number in visit.handed_over:
        return visit.visit_id, f"repeat: {number} already handed over"
    visit.handed_over.append(number)
    mission = Mission(f"{visit.visit_id}:{number}", visit.visit_id, number)
    core.missions[mission.mission_id] = mission
    core.send_manifest(mission, now, out)
    core.progress(visit, now, out)
    return visit.visit_id, f"{number} on the AGV stack; manifest sent"


def _mission(core: GateCore, device_id: str, mission_id: str, kind: DeviceKind) -> Mission | Refusal:
    spec = _device(core, device_id, kind)
    if isinstance(spec, Refusal):
        return spec
    mission = core.missions.get(mission_id)
    if mission is None:
        return Refusal(f"unknown AGV mission {mission_id}")
    return mission


def on_manifest_acknowledged(core: GateCore, e: ev.ManifestAcknowledged, now: float, out: Out) -> Verdict:
    mission = _mission(core, e.device_id, e.mission_id, DeviceKind.PARTNER_LINK)
    if isinstance(mission, Refusal):
        return None, mission
    if mission.state is not AgvMissionState.MANIFEST_SENT:
        return mission.visit_id, f"repeat acknowledgement ({mission.state.value})"
    core.deadlines.cancel(mission.token)
    mission.state = AgvMissionState.ACKNOWLEDGED
    visit = core.active.get(mission.visit_id) or core.archive.get(mission.visit_id)
    if visit is not None and visit.location is not Location.REFUSED:
        core.dispatch_ready_missions(visit, now, out)
    return mission.visit_id, f"manifest {mission.mission_id} acknowledged"


def on_agv_arrived(core: GateCore, e: ev.AgvArrived, now: float, out: Out) -> Verdict:
    mission = _mission(core, e.device_id, e.mission_id, DeviceKind.AGV_FLEET)
    if isinstance(mission, Refusal):
        return None, mission
    if mission.state is AgvMissionState.DELIVERED:
        return mission.visit_id, "repeat: already delivered"
    if mission.state is not AgvMissionState.DISPATCHED:
        return mission.visit_id, Refusal(f"mission {mission.mission_id} was not dispatched ({mission.state.value})")
    mission.state = AgvMissionState.DELIVERED
    core.stats["agv_delivered"] += 1
    return mission.visit_id, f"{mission.container_no} delivered across the line"


def on_agv_faulted(core: GateCore, e: ev.AgvFaulted, now: float, out: Out) -> Verdict:
    mission = _mission(core, e.device_id, e.mission_id, DeviceKind.AGV_FLEET)
    if isinstance(mission, Refusal):
        return None, mission
    if mission.state is not AgvMissionState.DISPATCHED:
        return mission.visit_id, Refusal(f"mission {mission.mission_id} is not under way ({mission.state.value})")
    if mission.dispatch_attempts < _MAX_AGV_DISPATCHES:
        core.dispatch(mission, out)
        return mission.visit_id, f"AGV fault ({e.reason or 'no reason given'}); dispatched again"
    mission.state = AgvMissionState.FAILED
    core.stats["agv_failed"] += 1
    core.review(out, f"mission {mission.mission_id} failed {mission.dispatch_attempts} times: move it by hand", now,
                mission.visit_id, e.device_id, None, kind=f"agv:{mission.mission_id}")
    return mission.visit_id, "AGV mission failed: manual handling"


# ---------------------------------------------------------------------------- corridor


def on_gps_ping(core: GateCore, e: ev.GpsPing, now: float, out: Out) -> Verdict:
    visit_id = core.by_plate.get(normalize_plate(e.plate))
    if visit_id is None:
        return None, Refusal(f"no open declaration for plate {normalize_plate(e.plate)}")
    visit = core.active[visit_id]
    if visit.location is not Location.OUTSIDE:
        return visit_id, f"ignored: vehicle is {visit.location.value}"
    core.corridor.ping(visit_id, float(e.km_to_gate))
    core.advise_traffic(now, out)
    return visit_id, None


HANDLERS: dict[type, Callable[[GateCore, Any, float, Out], Verdict]] = {
    ev.DeclarationSubmitted: on_declaration_submitted,
    ev.DeclarationAmended: on_declaration_amended,
    ev.DeclarationCancelled: on_declaration_cancelled,
    ev.ClearanceDecided: on_clearance_decided,
    ev.LoadingRegistered: on_loading_registered,
    ev.FeePaid: on_fee_paid,
    ev.PaymentConfirmed: on_payment_confirmed,
    ev.ManualPlateEntered: on_manual_plate_entered,
    ev.ReviewResolved: on_review_resolved,
    ev.ContainerHandedOver: on_container_handed_over,
    ev.StagingReleaseOrdered: on_staging_release_ordered,
    ev.RoleGranted: on_role_granted,
    ev.RoleRevoked: on_role_revoked,
    ev.PlateRead: on_plate_read,
    ev.WeightMeasured: on_weight_measured,
    ev.ScanCompleted: on_scan_completed,
    ev.BarrierOpened: on_barrier_moved,
    ev.BarrierClosed: on_barrier_moved,
    ev.VehiclePassed: on_vehicle_passed,
    ev.DeviceFaulted: on_device_faulted,
    ev.DeviceRecovered: on_device_recovered,
    ev.ManifestAcknowledged: on_manifest_acknowledged,
    ev.AgvArrived: on_agv_arrived,
    ev.AgvFaulted: on_agv_faulted,
    ev.GpsPing: on_gps_ping,
}
