"""People's decisions: agency clearances, loading, fees and payments, manual plate entries, reviews, roles, staging."""

from __future__ import annotations

from gate import events as ev
from gate.commands import KeepClosed, RequestFee, ReturnForRedeclaration, RouteTo
from gate.core import CHANNEL_ORDER, ENTRY_CLEARANCES, GateCore, Refusal
from gate.enums import (
    CLEARANCE_ROLE,
    SUPERVISOR_ROLES,
    AgvMissionState,
    ClearanceKind,
    DeviceKind,
    Location,
    Outcome,
    PaymentMethod,
    ReviewKind,
    Role,
    Site,
    Station,
)
from gate.handlers.common import (
    INSIDE_YARD, K, S, OFFICER_ROLES, SITE_TRIGGER, Out, Verdict, amount_text, not_open, open_visit,
    roles_of,
)
from gate.handlers.devices import plate_seen, send_back_to_yard, send_to_inspection_bay
from gate.identifiers import normalize_plate, plate_problem
from gate.reviews import OFFICERS_AT, may_close
from gate.transitions import Trigger
from gate.visit import Visit, closed_as


# ---------------------------------------------------------------------------- agency decisions

# Members read on every decision, bound once (reading one off its Enum class is slow in Python 3.11).
_DECIDED = frozenset({S.PASSED, S.RETURNED, S.REFUSED})
_FEE, _PASSED, _ASSIGNED, _OUTCOME_PASSED = K.FEE, S.PASSED, S.ASSIGNED, Outcome.PASSED
_REQUIRED, _PENDING_CONFIRMATION = S.REQUIRED, S.PENDING_CONFIRMATION
_DIRECT, _FEE_COLLECTOR = PaymentMethod.DIRECT, Role.FEE_COLLECTOR
_PASSED_NOTE = {kind: f"{kind.value} passed" for kind in ClearanceKind}
_NO_ROLES: frozenset[Role] = frozenset()


def on_clearance_decided(core: GateCore, e: ev.ClearanceDecided, now: float, out: Out) -> Verdict:
    """An officer passed, returned or refused one clearance of a visit."""
    visit = core.active.get(e.visit_id)
    if visit is None:
        return e.visit_id, not_open(core, e.visit_id)
    kind = e.clearance
    role = CLEARANCE_ROLE[kind]
    if role not in core.accounts.get(e.account_id, _NO_ROLES):
        return visit.visit_id, Refusal(f"account {e.account_id} lacks the {role.value} role to decide {kind.value}")
    c = visit.clearances.get(kind)
    if c is None:
        return visit.visit_id, Refusal(f"{kind.value} is not required for visit {visit.visit_id}")
    status = c.status
    if status is _ASSIGNED and e.outcome is _OUTCOME_PASSED and kind is not _FEE:  # the usual decision
        core.settle(visit, kind, _PASSED, e.account_id, now, e.reasons)
        core.progress(visit, now, out)
        return visit.visit_id, _PASSED_NOTE[kind]
    if e.clearance is _FEE:
        # The fee is settled by money (FeePaid, PaymentConfirmed); the collector may only refuse the visit.
        if e.outcome is not Outcome.REFUSED:
            return visit.visit_id, Refusal("the fee is settled by payment (FeePaid, PaymentConfirmed), not by a decision")
        closed = refuse_visit(core, visit, K.FEE, e.reasons or ("refused",), e.account_id, now, out)
        return visit.visit_id, f"fee refused: {'; '.join(e.reasons)}{closed}"
    if c.status in _DECIDED:
        if c.status.value == e.outcome.value:
            return visit.visit_id, f"repeat: {e.clearance.value} already {c.status.value}"
        # Until the vehicle has crossed, its agency can still stop it: a refusal may follow a pass
        # (a late finding) or a return (never put right). Nothing else undoes a decision.
        if e.outcome is not Outcome.REFUSED:
            return visit.visit_id, Refusal(f"{e.clearance.value} was already decided ({c.status.value})")
        earlier = c.status.value
        closed = refuse_visit(core, visit, e.clearance, e.reasons or ("refused",), e.account_id, now, out)
        return visit.visit_id, f"{e.clearance.value} refused after it was {earlier}: {'; '.join(e.reasons)}{closed}"
    if c.status is not _ASSIGNED:
        if visit.awaiting_amendment:  # a return took every task off the work lists until the amendment
            return visit.visit_id, Refusal(f"{e.clearance.value} cannot be decided yet: the declaration was "
                                           "returned for re-declaration and waits for its amended version")
        return visit.visit_id, Refusal(
            f"{e.clearance.value} cannot be decided yet: vehicle {visit.plate} is {visit.location.value}")
    if e.outcome is _OUTCOME_PASSED:
        core.settle(visit, e.clearance, _PASSED, e.account_id, now, e.reasons)
        core.progress(visit, now, out)
        return visit.visit_id, f"{e.clearance.value} passed"
    if e.outcome is Outcome.RETURNED:
        closed = return_for_redeclaration(core, visit, e.clearance, e.reasons or ("wrong data",), e.account_id, now,
                                          out)
        return visit.visit_id, f"{e.clearance.value} returned for re-declaration: {'; '.join(e.reasons)}{closed}"
    closed = refuse_visit(core, visit, e.clearance, e.reasons or ("refused",), e.account_id, now, out)
    return visit.visit_id, f"{e.clearance.value} refused: {'; '.join(e.reasons)}{closed}"


def return_for_redeclaration(core: GateCore, visit: Visit, kind: ClearanceKind, reasons: tuple[str, ...], actor: str,
                             now: float, out: Out) -> str:
    """Send the declaration back to the declarant. A vehicle barrier 1 has not let in is turned back
    and gives up its places; one let in stays in the flow, holding its yard slot, and waits in the
    yard for the amended declaration (it can leave only through barrier 2).

    Every task on the visit leaves the agencies' work lists until the amended version comes (their
    lists hold vehicles whose data is complete). A vehicle turned back comes again as a new
    passage: the checks of the person and the papers at the gate (medical, border guard at entry)
    are made again then, passed or not before, for the driver may have changed with the papers.
    Returned at barrier 2, the vehicle goes back into the yard to wait, leaving the exit lane free.

    Returns what the audit says of the reviews about the passage of a vehicle turned back, which
    close ("" when there were none)."""
    core.settle(visit, kind, S.RETURNED, actor, now, reasons)
    for other, c in visit.clearances.items():
        if c.status is _ASSIGNED:
            core.unassign(visit, other)
    visit.awaiting_amendment = True
    visit.return_reasons = reasons
    visit.returns += 1
    core.stats["returns"] += 1
    core.ledger.record_violation(visit.declaration.declarant_id, "returned")
    out.append(ReturnForRedeclaration(visit.visit_id, visit.visit_id, reasons))
    if not core.let_in(visit):
        # Turned back before entering: the vehicle leaves, gives up its place, and comes back amended.
        if visit.location is Location.ENTRY_LANE and visit.entry_device is not None:
            out.append(KeepClosed(visit.entry_device, visit.visit_id, visit.plate, reasons))
        if visit.location is not Location.OUTSIDE:
            out.append(RouteTo(visit.visit_id, visit.plate, Station.AWAY, None))
        core.move(visit, Trigger.TURNED_BACK, now)
        for k in ENTRY_CLEARANCES:
            check = visit.clearances.get(k)
            if check is not None and check.status is not S.RETURNED:  # a returned one waits for the amendment
                core.reopen(visit, k)
        core.release_lane(visit)
        core.leave_stations(visit)
        visit.entry_device = None
        visit.entry_granted = False
        core.staging.discard(visit.visit_id)
        core.corridor.arrived(visit)
        core.release_slot(visit, now, out)
        return core.close_passage_reviews(visit, "the vehicle was turned back (returned)")
    if visit.location is Location.EXIT_LANE and visit.exit_device is not None:
        # Returned at barrier 2: it waits for the amendment in the yard, not in the exit lane.
        out.append(KeepClosed(visit.exit_device, visit.visit_id, visit.plate, reasons))
        send_back_to_yard(core, visit, out)
    return ""


def refuse_visit(core: GateCore, visit: Visit, kind: ClearanceKind, reasons: tuple[str, ...], actor: str, now: float,
                 out: Out) -> str:
    """Remove the visit from the flow for good: the vehicle is sent away and its places freed, but
    for a yard slot it still fills (freed once it is out of the yard). A barrier it stands at is
    told to stay closed for it, even one already opened for it. Returns what the audit says of
    the reviews about its passage, which close (``GateCore.finish``)."""
    core.settle(visit, kind, S.REFUSED, actor, now, reasons)
    core.ledger.record_violation(visit.declaration.declarant_id, "refused")
    if visit.location is Location.ENTRY_LANE and visit.entry_device is not None:
        out.append(KeepClosed(visit.entry_device, visit.visit_id, visit.plate, reasons))
    elif visit.location is Location.EXIT_LANE and visit.exit_device is not None:
        out.append(KeepClosed(visit.exit_device, visit.visit_id, visit.plate, reasons))
    out.append(RouteTo(visit.visit_id, visit.plate, Station.AWAY, None))
    for mission_key in visit.handed_over:
        mission = core.missions.get(f"{visit.visit_id}:{mission_key}")
        if mission is not None and mission.state in (AgvMissionState.MANIFEST_SENT, AgvMissionState.ACKNOWLEDGED):
            mission.state = AgvMissionState.FAILED
            core.deadlines.cancel(mission.token)
            # The container is on the AGV stack and the partner side has (or will have) its manifest.
            core.review(out, f"visit {visit.visit_id} refused with container {mission.container_no} on the AGV "
                             f"stack: put it back on vehicle {visit.plate} and withdraw manifest "
                             f"{mission.mission_id} from the partner side", now, visit.visit_id,
                        core.partner_link, None, kind=ReviewKind.AGV_REFUSED, about=mission.mission_id)
        elif mission is not None and mission.state is AgvMissionState.DISPATCHED:
            # Its container is already on the way across the line: only people can stop it now.
            core.review(out, f"visit {visit.visit_id} refused while AGV mission {mission.mission_id} is under way: "
                             f"stop it or bring container {mission.container_no} back", now, visit.visit_id,
                        core.agv_fleet, None, kind=ReviewKind.AGV_REFUSED, about=mission.mission_id)
    if visit.in_yard:
        core.hold_refused_in_yard(visit, now, out)
    core.move(visit, Trigger.REFUSED, now)
    core.stats["refused_visits"] += 1
    return core.finish(visit, now, out)


def on_channel_raised(core: GateCore, e: ev.ChannelRaised, now: float, out: Out) -> Verdict:
    """Customs raised the visit's channel on information of its own: the higher channel's checks
    are added and assigned where the vehicle is; a vehicle waiting at barrier 2 goes back into
    the yard for them. Never lowered; not once barrier 2 is open for the vehicle."""
    if Role.CUSTOMS not in roles_of(core, e.account_id):
        return e.visit_id, Refusal(f"account {e.account_id} is not customs")
    visit = open_visit(core, e.visit_id)
    if isinstance(visit, Refusal):
        return e.visit_id, visit
    if not e.reason.strip():
        return visit.visit_id, Refusal("say why the channel is raised")
    if CHANNEL_ORDER.index(e.channel) <= CHANNEL_ORDER.index(visit.channel):
        return visit.visit_id, Refusal(f"the visit is already in the {visit.channel.value} channel")
    if visit.exit_granted:
        return visit.visit_id, Refusal(f"barrier 2 is already open for vehicle {visit.plate}: stop it there by hand")
    core.set_channel(visit, e.channel, f"raised by {e.account_id}: {e.reason}", now, out)
    send_to_inspection_bay(visit, out)
    if visit.location is Location.EXIT_LANE and visit.exit_device is not None:
        out.append(KeepClosed(visit.exit_device, visit.visit_id, visit.plate, (f"channel raised to {e.channel.value}",)))
        send_back_to_yard(core, visit, out)
    return visit.visit_id, f"channel raised to {e.channel.value}: {e.reason}"



def on_loading_registered(core: GateCore, e: ev.LoadingRegistered, now: float, out: Out) -> Verdict:
    """The enterprise (or the yard operator) registered the transshipment of the goods."""
    visit = open_visit(core, e.visit_id)
    if isinstance(visit, Refusal):
        return e.visit_id, visit
    if e.account_id != visit.owner and Role.YARD_OPERATOR not in roles_of(core, e.account_id):
        return visit.visit_id, Refusal(f"account {e.account_id} may not register loading for {visit.visit_id}")
    if K.LOADING not in visit.clearances:
        return visit.visit_id, Refusal("the declaration does not declare transshipment")
    if visit.loading_registered:
        return visit.visit_id, "repeat: loading already registered"
    visit.loading_registered = True
    core.assign_workable(visit, now, out)
    return visit.visit_id, "loading registered"


def on_fee_paid(core: GateCore, e: ev.FeePaid, now: float, out: Out) -> Verdict:
    """The fee was paid at the counter (settled at once) or online (awaiting confirmation)."""
    visit = open_visit(core, e.visit_id)
    if isinstance(visit, Refusal):
        return e.visit_id, visit
    c = visit.clearances.get(_FEE)
    if c is None:
        return visit.visit_id, Refusal("no fee is due for this visit")
    if c.status is _PASSED:
        return visit.visit_id, Refusal(f"the fee is already paid ({amount_text(visit.fee_paid_vnd)})")
    due = visit.fee_vnd - visit.fee_paid_vnd
    if e.method is _DIRECT:
        if _FEE_COLLECTOR not in roles_of(core, e.account_id):
            return visit.visit_id, Refusal(f"account {e.account_id} cannot take payment at the counter")
        if e.amount_vnd > due:
            return visit.visit_id, Refusal(f"{amount_text(e.amount_vnd)} is more than the {amount_text(due)} due: "
                                           "take the amount due")
        if c.status is _PENDING_CONFIRMATION:
            if not visit.payment_overdue:
                return visit.visit_id, Refusal(f"an online payment {visit.payment_reference} is awaiting confirmation")
            # Never confirmed in time: the driver pays at the counter instead, and the online payment is void.
            visit.voided_payment = visit.payment_reference
            closed = _drop_pending_payment(core, visit)
            _credit(core, visit, e.amount_vnd, e.account_id, now, out)
            return visit.visit_id, f"paid {amount_text(e.amount_vnd)} at the counter{closed}"
        _credit(core, visit, e.amount_vnd, e.account_id, now, out)
        return visit.visit_id, f"paid {amount_text(e.amount_vnd)} at the counter"
    if e.account_id != visit.owner and _FEE_COLLECTOR not in roles_of(core, e.account_id):
        return visit.visit_id, Refusal(f"account {e.account_id} may not pay for {visit.visit_id}")
    if c.status is _PENDING_CONFIRMATION:
        return visit.visit_id, Refusal(f"payment {visit.payment_reference} is already awaiting confirmation")
    if e.amount_vnd > due:
        return visit.visit_id, Refusal(f"{amount_text(e.amount_vnd)} is more than the {amount_text(due)} due: "
                                       "pay the amount due")
    c.status = _PENDING_CONFIRMATION
    visit.payment_reference = e.reference
    visit.payment_token = core.deadlines.schedule(
        core.limit_due(now, core.config.timeouts.payment_confirmation_s, Role.FEE_COLLECTOR), "payment", visit.visit_id)
    visit.payment_pending_vnd = e.amount_vnd
    return visit.visit_id, f"online payment {e.reference} of {amount_text(e.amount_vnd)} awaiting confirmation"


def _drop_pending_payment(core: GateCore, visit: Visit) -> str:
    """Forget the online payment awaiting confirmation, and close the review raised when it was
    not confirmed in time: the payment is settled one way or the other. Returns what the audit
    says of that review ("" when there was none)."""
    core.deadlines.cancel(visit.payment_token)
    visit.clearances[_FEE].status = _REQUIRED
    visit.payment_pending_vnd = 0
    visit.payment_reference = None
    visit.payment_overdue = False
    review_id, visit.payment_review = visit.payment_review, None
    if review_id is not None and core.close_review(review_id) is not None:
        return f"; review {review_id} closed"
    return ""


def on_payment_confirmed(core: GateCore, e: ev.PaymentConfirmed, now: float, out: Out) -> Verdict:
    """The fee collector confirmed the pending online payment. The confirmation of one given up
    for a payment at the counter (the visit open or closed) means the fee was paid twice, and of
    one still pending when its visit was refused or cancelled, money taken for nothing: the fee
    collector is asked to refund it."""
    if _FEE_COLLECTOR not in roles_of(core, e.account_id):
        return e.visit_id, Refusal(f"account {e.account_id} cannot confirm payments")
    voided = core.active.get(e.visit_id) or core.archive.get(e.visit_id)
    if voided is not None and voided.voided_payment is not None and e.reference == voided.voided_payment:
        voided.voided_payment = None
        if voided.clearances[_FEE].status is _PENDING_CONFIRMATION:  # still pending when the visit closed
            core.review(out, f"online payment {e.reference} for {voided.plate} confirmed after visit "
                             f"{voided.visit_id} was closed ({closed_as(voided)}): refund it", now,
                        voided.visit_id, None, voided.plate, kind=ReviewKind.REFUND, about=voided.visit_id)
            return voided.visit_id, f"online payment {e.reference} confirmed after the visit closed: refund asked for"
        core.review(out, f"online payment {e.reference} for {voided.plate} confirmed after the fee was paid at the "
                         "counter: refund one of the two", now, voided.visit_id, None, voided.plate,
                    kind=ReviewKind.REFUND, about=voided.visit_id)
        return voided.visit_id, f"online payment {e.reference} confirmed late: paid twice, refund asked for"
    visit = open_visit(core, e.visit_id)
    if isinstance(visit, Refusal):
        return e.visit_id, visit
    c = visit.clearances.get(_FEE)
    if c is None or c.status is not _PENDING_CONFIRMATION:
        return visit.visit_id, Refusal("no online payment is awaiting confirmation")
    if e.reference != visit.payment_reference:
        return visit.visit_id, Refusal(f"reference {e.reference} does not match the pending payment {visit.payment_reference}")
    amount = visit.payment_pending_vnd
    closed = _drop_pending_payment(core, visit)
    _credit(core, visit, amount, e.account_id, now, out)
    return visit.visit_id, f"online payment {e.reference} confirmed{closed}"


def _credit(core: GateCore, visit: Visit, amount: int, actor: str, now: float, out: Out) -> None:
    """Count a payment; the fee passes once the whole of it is paid."""
    visit.fee_paid_vnd += amount
    core.stats["fees_collected_vnd"] += amount
    if visit.fee_paid_vnd >= visit.fee_vnd:
        core.settle(visit, _FEE, _PASSED, actor, now)
        core.progress(visit, now, out)
    else:
        out.append(RequestFee(visit.visit_id, visit.fee_vnd - visit.fee_paid_vnd, "part of the fee is still due"))


# ---------------------------------------------------------------------------- officers and admin


#: Who may type the plate a camera could not read, by the camera's site: the officers who stand
#: there (``OFFICERS_AT``), and an administrator.
PLATE_TYPISTS: dict[Site, frozenset[Role]] = {
    site: frozenset(roles) | SUPERVISOR_ROLES for site, roles in OFFICERS_AT.items()
}


def on_manual_plate_entered(core: GateCore, e: ev.ManualPlateEntered, now: float, out: Out) -> Verdict:
    """An officer typed the plate a camera could not read: the read counts as that plate's."""
    if not (roles_of(core, e.account_id) & OFFICER_ROLES):
        return None, Refusal(f"account {e.account_id} is not an officer")
    review = core.reviews.get(e.review_id)
    if review is None:
        return None, Refusal(f"no open review {e.review_id}")
    spec = core.devices.get(review.device_id) if review.device_id is not None else None
    trigger = SITE_TRIGGER.get(spec.site) if spec is not None and spec.kind is DeviceKind.PLATE_CAMERA else None
    if spec is None or trigger is None:
        return review.visit_id, Refusal(f"review {e.review_id} is not about a plate read at a checkpoint camera")
    typists = PLATE_TYPISTS[spec.site]
    if not roles_of(core, e.account_id) & typists:
        # A typed plate counts as the camera's read: at a barrier it can open the barrier.
        return review.visit_id, Refusal(f"account {e.account_id} may not type plates at {spec.site.value} "
                                        f"(roles: {', '.join(sorted(r.value for r in typists))})")
    plate = normalize_plate(e.plate)
    bad = plate_problem(plate)
    if bad is not None:
        return review.visit_id, Refusal(f"plate {e.plate!r}: {bad}")
    visit_id = core.by_plate.get(plate)
    if visit_id is None and plate in core.yard.refused_inside and spec.site not in INSIDE_YARD:
        # The refused vehicle still in the yard, typed where the camera could not read it leaving.
        core.close_review(e.review_id)
        seen_id, verdict = plate_seen(core, spec.device_id, plate, now, out)
        return seen_id, f"manual entry of {plate} resolved {e.review_id}; {verdict}"
    if visit_id is None:
        return review.visit_id, Refusal(f"no open declaration for plate {plate}; the review stays open")
    # A plate the vehicle cannot have shown at this camera now is likely a typo: the review stays
    # open for a second look rather than being closed on a refusal.
    illegal = core.illegal_move(core.active[visit_id], trigger)
    if illegal is not None:
        return visit_id, Refusal(f"manual entry of {plate}: {illegal}; the review stays open")
    core.close_review(e.review_id)
    seen_id, verdict = plate_seen(core, spec.device_id, plate, now, out)
    if isinstance(verdict, Refusal):  # defensive: the checks above leave nothing for it to refuse
        return seen_id, Refusal(f"manual entry of {plate}: {verdict}")
    return seen_id, f"manual entry of {plate} resolved {e.review_id}; {verdict or ''}".rstrip("; ")


def on_review_resolved(core: GateCore, e: ev.ReviewResolved, now: float, out: Out) -> Verdict:
    """An officer closed a manual review: one holding a role the review belongs to, or an administrator."""
    roles = roles_of(core, e.account_id)
    if not (roles & OFFICER_ROLES):
        return None, Refusal(f"account {e.account_id} is not an officer")
    review = core.reviews.get(e.review_id)
    if review is None:
        return None, Refusal(f"no open review {e.review_id}")
    if not may_close(roles, review.roles):
        about = f"{review.kind.value} review" if review.kind is not None else "review"
        where = f" at {review.device_id}" if review.device_id is not None else ""
        return review.visit_id, Refusal(
            f"account {e.account_id} may not close {about} {e.review_id}{where}: it belongs to "
            f"{', '.join(r.value for r in review.roles)} (or an administrator)")
    core.close_review(e.review_id)
    said = f"review {e.review_id} closed" + (f": {e.note}" if e.note else "")
    plate = core.yard.refused_plate_of(e.review_id)
    out_of_yard = core.refused_out_of_yard(plate, f"gone, says {e.account_id}", now, out) if plate else None
    if out_of_yard is not None:  # the refused vehicle it was about has gone: its yard slot frees
        return review.visit_id, f"{said}; {out_of_yard[1]}"
    return review.visit_id, said


def on_role_granted(core: GateCore, e: ev.RoleGranted, now: float, out: Out) -> Verdict:
    """An administrator gave an account a role."""
    if Role.ADMIN not in roles_of(core, e.account_id):
        return None, Refusal(f"account {e.account_id} is not an administrator")
    core.accounts.setdefault(e.target_account, set()).add(e.role)
    return None, f"{e.target_account} may now act as {e.role.value}"


def on_role_revoked(core: GateCore, e: ev.RoleRevoked, now: float, out: Out) -> Verdict:
    """An administrator took a role from an account."""
    if Role.ADMIN not in roles_of(core, e.account_id):
        return None, Refusal(f"account {e.account_id} is not an administrator")
    roles = core.accounts.get(e.target_account)
    if roles is None or e.role not in roles:
        return None, Refusal(f"{e.target_account} does not have the {e.role.value} role")
    if e.role is Role.ADMIN and e.target_account == e.account_id:
        return None, Refusal("an administrator cannot revoke their own administrator role")
    roles.discard(e.role)
    return None, f"{e.target_account} no longer acts as {e.role.value}"


def on_staging_release_ordered(core: GateCore, e: ev.StagingReleaseOrdered, now: float, out: Out) -> Verdict:
    """Traffic police released vehicles from a staging area by hand: up to ``count`` of those
    waiting in that area, in the order they would be called forward. Where the gate calls
    vehicles only once their medical check has passed (``yard.call_when_checked``), those still
    waiting for it stay: sent on, they would hold a place at barrier 1 until it passed. Vehicles
    not answering their calls forward stay too: they go once heard from, or their review closed."""
    if Role.TRAFFIC_POLICE not in roles_of(core, e.account_id):
        return None, Refusal(f"account {e.account_id} is not traffic police")
    if e.area not in core.staging.area_capacity:
        return None, Refusal(f"unknown staging area {e.area}")
    released = 0
    checked_only = core.config.yard.call_when_checked
    for visit_id in core.staging.in_area(e.area):
        if released >= e.count or (checked_only and not core.staging.is_ready(visit_id)):
            break  # the checked vehicles come first in the area's order
        visit = core.active[visit_id]  # every queued vehicle is open (check_invariants)
        if visit.not_answering:  # released when heard from, or by hand by closing its review
            continue
        room = core.yard.has_room(visit.vehicle_class)
        if visit.location is Location.ENTRY_LANE:
            # Sent back from barrier 1 because the yard was full, and not yet at staging: with a slot
            # free it is let in where it stands; without one it already waits at barrier 1, and
            # keeps its place in the queue for the next free slot.
            if not room:
                continue
            core.staging.discard(visit_id)
            core.call_forward(visit, now, out)
            core.progress(visit, now, out)
        else:
            core.staging.discard(visit_id)
            if room:
                core.call_forward(visit, now, out, area=e.area)
            else:
                # Released by hand into a full yard: it goes forward without a slot and waits at barrier 1.
                lane = core.entry_lane_for(visit)
                if lane is not None and visit.entry_device is None:
                    core.hold_lane(visit, lane)
                out.append(RouteTo(visit.visit_id, visit.plate, Station.ENTRY_LANE, visit.entry_device))
        released += 1
    core.advise_traffic(now, out)
    return None, f"released {released} of {e.count} from {e.area}"
