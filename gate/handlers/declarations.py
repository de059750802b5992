"""Declarations: submitted, amended (a new version), cancelled."""

from __future__ import annotations

from gate import events as ev
from gate.commands import AcceptDeclaration, FieldError, KeepClosed, RejectDeclaration, RequestFee, RouteTo
from gate.core import CHANNEL_ORDER, GateCore, Refusal
from gate.declaration import Declaration, parse_declaration, shown
from gate.enums import Channel, ClearanceKind, CrossingMode, Location, Role, Station
from gate.fees import fee_for
from gate.handlers.common import K, S, Out, Verdict, amount_text, may_declare, open_visit, roles_of
from gate.handlers.devices import check_weight
from gate.identifiers import confusable_key
from gate.risk import assess_channel
from gate.transitions import Trigger
from gate.visit import Clearance, Visit


_CHANNEL_VALUE = {channel: channel.value for channel in Channel}


def on_declaration_submitted(core: GateCore, e: ev.DeclarationSubmitted, now: float, out: Out) -> Verdict:
    """A new declaration: validate it, decide its channel, fee and clearances, open its visit."""
    payload = e.declaration
    # A declaration built without validation may lack any field: its id is read as data.
    claimed_id = getattr(payload, "declaration_id", None) if isinstance(payload, Declaration) \
        else payload.get("declaration_id")
    # Only an id that could be valid is echoed back and audited; anything else is just garbage.
    claimed = str.__str__(claimed_id) if isinstance(claimed_id, str) and 0 < len(claimed_id) <= 40 else None
    if not may_declare(core, e.account_id):
        return claimed, Refusal(f"account {e.account_id} may not declare")
    parsed = parse_declaration(payload)
    if isinstance(parsed, tuple):
        return _reject(core, claimed, parsed, out)
    d = parsed
    if d.declaration_id in core.active or d.declaration_id in core.archive:
        return _reject(core, d.declaration_id, (FieldError("declaration_id", "is already used", d.declaration_id),), out)
    if d.version != 1:
        return _reject(core, d.declaration_id, (FieldError(
            "version", "a new declaration is version 1; send an amendment for a new version", shown(d.version)),), out)
    other = core.by_plate.get(d.vehicle_plate)
    if other is not None:
        return _reject(core, d.declaration_id, (FieldError(
            "vehicle_plate", f"the vehicle already has open declaration {other}", d.vehicle_plate),), out)
    if _no_agv_lane_for(core, d):
        return _reject(core, d.declaration_id, (FieldError(
            "crossing_mode", "this gate has no AGV lane", d.crossing_mode.value),), out)
    if d.containers and core.by_container:
        on_other = _containers_on_other_visits(core, d)
        if on_other:
            return _reject(core, d.declaration_id, on_other, out)
    compliance = core.ledger.score(d.declarant_id)
    core.ledger.record_declaration(d.declarant_id)
    decision = assess_channel(d, core.config.risk, compliance)
    fee = fee_for(d, core.config.fees)
    visit = Visit(
        visit_id=d.declaration_id, declaration=d, owner=e.account_id, plate=d.vehicle_plate, created_at=now,
        channel=decision.channel, channel_reasons=decision.reasons, fee_vnd=fee,
        clearances=core.required_clearances(d, decision.channel, fee), updated_at=now,
        history=[(now, Location.OUTSIDE)], vehicle_class=d.vehicle_class, crossing_mode=d.crossing_mode,
    )
    core.active[visit.visit_id] = visit
    if d.containers:
        core.index_containers(visit, [c.number for c in d.containers])
    core.by_plate[visit.plate] = visit.visit_id
    core.plate_visits[visit.plate] = visit
    core.by_confusable[confusable_key(visit.plate)] = visit.plate
    core.location_counts[Location.OUTSIDE] += 1
    core.stats["declarations_accepted"] += 1
    channel = _CHANNEL_VALUE[decision.channel]
    out.append(AcceptDeclaration(d.declaration_id, 1, visit.visit_id, channel, fee))
    if fee > 0:
        out.append(RequestFee(visit.visit_id, fee, "border-gate infrastructure fee"))
    core.assign_workable(visit, now, out)
    return visit.visit_id, f"channel {channel} ({'; '.join(decision.reasons)}); fee {amount_text(fee)}"


def _no_agv_lane_for(core: GateCore, d: Declaration) -> bool:
    """The declaration sends containers by AGV, and this gate has no AGV lane to take them."""
    return d.crossing_mode is CrossingMode.AGV_LANE and (core.agv_fleet is None or core.partner_link is None)


def _reject(core: GateCore, declaration_id: str | None, errors: tuple[FieldError, ...], out: Out) -> Verdict:
    """Reject a declaration with its field errors."""
    core.stats["declarations_rejected"] += 1
    out.append(RejectDeclaration(declaration_id, errors))
    listed = "; ".join(str(err) for err in errors[:3]) + (f"; and {len(errors) - 3} more" if len(errors) > 3 else "")
    return declaration_id, Refusal(f"declaration rejected: {listed}")


def on_declaration_amended(core: GateCore, e: ev.DeclarationAmended, now: float, out: Out) -> Verdict:
    """A new version of a declaration: never a lower channel, re-checks what changed."""
    visit = open_visit(core, e.declaration_id)
    if isinstance(visit, Refusal):
        return e.declaration_id, visit
    if e.account_id != visit.owner and Role.ADMIN not in roles_of(core, e.account_id):
        return visit.visit_id, Refusal(f"account {e.account_id} did not make declaration {e.declaration_id}")
    if visit.exit_granted:
        # Every check passed on the version in force and the barrier is open: a change now would
        # leave with nobody checking it.
        return visit.visit_id, Refusal(f"cannot amend: barrier 2 is already open for vehicle {visit.plate}")
    parsed = parse_declaration(e.declaration)
    if isinstance(parsed, tuple):
        return _reject(core, e.declaration_id, parsed, out)
    if parsed.declaration_id != e.declaration_id:
        return _reject(core, e.declaration_id, (FieldError(
            "declaration_id", f"does not match the declaration amended ({e.declaration_id})", parsed.declaration_id),), out)
    if _no_agv_lane_for(core, parsed):
        return _reject(core, e.declaration_id, (FieldError(
            "crossing_mode", "this gate has no AGV lane", parsed.crossing_mode.value),), out)
    old = visit.declaration
    if parsed.vehicle_plate != visit.plate:
        if visit.location not in (Location.OUTSIDE, Location.RETURNED):
            return _reject(core, e.declaration_id, (FieldError(
                "vehicle_plate", f"cannot change once the vehicle is {visit.location.value}", parsed.vehicle_plate),), out)
        holder = core.by_plate.get(parsed.vehicle_plate)
        if holder is not None:
            return _reject(core, e.declaration_id, (FieldError(
                "vehicle_plate", f"the vehicle already has open declaration {holder}", parsed.vehicle_plate),), out)
    # Yard slots and the staging queue are kept per class: a class can change only while the
    # vehicle holds neither.
    if parsed.vehicle_class is not old.vehicle_class and (
            visit.location not in (Location.OUTSIDE, Location.RETURNED) or visit.reserved_slot or visit.in_yard):
        return _reject(core, e.declaration_id, (FieldError(
            "vehicle_class", f"cannot change once the vehicle is {visit.location.value}", parsed.vehicle_class.value),), out)
    fixed = _fixed_by_now(core, visit, parsed) + _containers_on_other_visits(core, parsed)
    if fixed:
        return _reject(core, e.declaration_id, fixed, out)
    d = parsed.model_copy(update={"version": old.version + 1})
    if d.vehicle_plate != visit.plate:
        del core.by_plate[visit.plate]
        del core.plate_visits[visit.plate]
        core.by_confusable.pop(confusable_key(visit.plate), None)
        visit.plate = d.vehicle_plate
        core.by_plate[visit.plate] = visit.visit_id
        core.plate_visits[visit.plate] = visit
        core.by_confusable[confusable_key(visit.plate)] = visit.plate
    if d.containers or old.containers:
        core.index_containers(visit, [c.number for c in d.containers])
    visit.declaration = d
    visit.vehicle_class, visit.crossing_mode = d.vehicle_class, d.crossing_mode
    core.stats["amendments"] += 1
    # The channel is never lowered by an amendment; rules on the new data may raise it.
    decision = assess_channel(d, core.config.risk, core.ledger.score(d.declarant_id))
    if CHANNEL_ORDER.index(decision.channel) > CHANNEL_ORDER.index(visit.channel):
        core.set_channel(visit, decision.channel, "amended declaration: " + "; ".join(decision.reasons), now, out)
    # New requirements from the new data (none is dropped: like the channel, requirements only grow);
    # returned clearances go back to work; customs re-checks documents.
    wanted = core.required_clearances(d, visit.channel, fee_for(d, core.config.fees))
    merged = dict(visit.clearances)
    for kind, fresh in wanted.items():
        merged.setdefault(kind, fresh)
    exit_check = merged.pop(K.BORDER_GUARD_EXIT)
    merged[K.BORDER_GUARD_EXIT] = exit_check
    visit.clearances = merged
    goods_changed = _physical_goods(d) != _physical_goods(old)
    # Another driver (or their health declaration) or trailer: the checks made on the people and
    # the papers at the gate are made again (only possible before barrier 1: see _fixed_by_now).
    crew_checks = _crew_checks(old, d)
    for kind, c in visit.clearances.items():
        if c.status is S.RETURNED or (kind is K.CUSTOMS_DOCUMENTS and c.status is not S.REQUIRED) or (
                goods_changed and kind in _GOODS_CHECKS and c.status is S.PASSED) or (
                kind in crew_checks and c.status is not S.REQUIRED):
            # Returned, or decided on papers, goods or people that are no longer what is declared.
            core.reopen(visit, kind)
    if visit.weight_kg is not None and d.declared_gross_kg != old.declared_gross_kg:
        # Weighed already: the new figure is held against what the scale measured.
        check_weight(core, visit, visit.weight_kg, now, out)
    _reprice(core, visit, fee_for(d, core.config.fees), now, out)
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


def _containers_on_other_visits(core: GateCore, d: Declaration) -> tuple[FieldError, ...]:
    """The declaration's containers that another open declaration already carries: a container
    is on one truck at a time."""
    return tuple(FieldError(f"containers[{i}].number", f"is on open declaration {holder}", number)
                 for i, number, holder in core.container_holders(d.declaration_id, [c.number for c in d.containers]))


def _crew_checks(old: Declaration, new: Declaration) -> frozenset[ClearanceKind]:
    """The entry checks an amendment must have made again: medical for another driver or health
    declaration, the border guard's for another driver or trailer."""
    a, b = old.driver, new.driver
    another_driver = (a.name, a.id_number, a.nationality) != (b.name, b.id_number, b.nationality)
    health = another_driver or a.health != b.health
    papers = another_driver or new.trailer_plate != old.trailer_plate
    return (_MEDICAL if health else _NONE) | (_PAPERS if papers else _NONE)


_MEDICAL = frozenset({K.MEDICAL})
_PAPERS = frozenset({K.BORDER_GUARD_ENTRY})
_NONE: frozenset[ClearanceKind] = frozenset()


def _fixed_by_now(core: GateCore, visit: Visit, new: Declaration) -> tuple[FieldError, ...]:
    """What the amendment may no longer change, where the vehicle is: the driver and trailer once
    barrier 1 has let it in (the entry checks were made on them), and containers already handed
    to the AGV lane (they are on the AGV stack, declared to the partner side, whatever the new
    version says: they stay declared until they cross or the visit is refused)."""
    old = visit.declaration
    errors: list[FieldError] = []
    if core.let_in(visit):
        where = f"cannot change once barrier 1 has let the vehicle in (it is {visit.location.value})"
        if new.driver != old.driver:
            errors.append(FieldError("driver", where, f"{new.driver.name} ({new.driver.id_number})"))
        if new.trailer_plate != old.trailer_plate:
            errors.append(FieldError("trailer_plate", where, new.trailer_plate or "none"))
    if visit.handed_over:
        handed = ", ".join(visit.handed_over)
        if new.crossing_mode is not CrossingMode.AGV_LANE:
            errors.append(FieldError("crossing_mode", f"containers {handed} are already handed over to the AGV lane",
                                     new.crossing_mode.value))
        declared = {c.number for c in new.containers}
        for number in visit.handed_over:
            if number not in declared:
                errors.append(FieldError("containers", f"container {number} is already handed over to the AGV lane "
                                                       f"and cannot be taken off the declaration", number))
    return tuple(errors)


#: Checks made on the goods themselves: made again when an amendment changes the goods declared.
_GOODS_CHECKS = frozenset({K.HEALTH_QUARANTINE, K.ANIMAL_QUARANTINE, K.PLANT_QUARANTINE, K.CUSTOMS_INSPECTION})


def _physical_goods(d: Declaration) -> tuple[tuple[object, ...], ...]:
    """What an inspection of the goods looks at, line by line (not their value: a corrected
    invoice changes no goods)."""
    return tuple((g.hs_code, g.description, g.quantity, g.unit, g.gross_kg, g.origin, g.category) for g in d.goods)


def _reprice(core: GateCore, visit: Visit, fee: int, now: float, out: Out) -> None:
    """Follow a changed fee: ask for what is now missing, or settle what is now covered."""
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
    elif c is not None and c.status is S.REQUIRED:
        # A lower fee than what was already paid is covered: nothing more is owed.
        core.settle(visit, K.FEE, S.PASSED, "core:amended-fee-covered", now)


def on_declaration_cancelled(core: GateCore, e: ev.DeclarationCancelled, now: float, out: Out) -> Verdict:
    """The declarant withdrew a declaration whose vehicle barrier 1 has not let in (as a return turns
    such a vehicle back); one let in must leave through barrier 2."""
    visit = open_visit(core, e.declaration_id)
    if isinstance(visit, Refusal):
        return e.declaration_id, visit
    if e.account_id != visit.owner and Role.ADMIN not in roles_of(core, e.account_id):
        return visit.visit_id, Refusal(f"account {e.account_id} did not make declaration {e.declaration_id}")
    if core.let_in(visit):
        opened = ", let in through barrier 1" if visit.location is Location.ENTRY_LANE else ""
        return visit.visit_id, Refusal(f"cannot cancel: vehicle {visit.plate} is {visit.location.value}{opened}")
    if visit.location is Location.ENTRY_LANE and visit.entry_device is not None:
        out.append(KeepClosed(visit.entry_device, visit.visit_id, visit.plate, ("declaration cancelled",)))
    if visit.location in (Location.STAGING, Location.ENTRY_LANE):
        out.append(RouteTo(visit.visit_id, visit.plate, Station.AWAY, None))
    core.move(visit, Trigger.REFUSED, now)
    core.stats["cancelled"] += 1
    closed = core.finish(visit, now, out)
    return visit.visit_id, "cancelled by the declarant" + (f": {e.reason}" if e.reason else "") + closed
