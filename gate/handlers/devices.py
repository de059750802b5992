"""Device reports: plate reads and arrivals at each site, weights, scans, barriers, faults; and GPS pings."""

from __future__ import annotations

from collections.abc import Callable

from gate import events as ev
from gate.commands import KeepClosed, OpenBarrier, RequestFee, RequestScan, RouteTo
from gate.config import DeviceSpec
from gate.core import ENTRY_CLEARANCES, GateCore, Refusal
from gate.enums import AgvMissionState, Channel, DeviceKind, Location, ReviewKind, ScanResult, Site, Station, VehicleClass
from gate.handlers.common import INSIDE_YARD, K, S, SITE_TRIGGER, Out, Verdict, device_of, visit_for_plate
from gate.identifiers import normalize_plate
from gate.risk import upgrade
from gate.transitions import Trigger
from gate.validation import position_problem, usual_position, usual_positions
from gate.visit import Visit

#: Sites where a camera watches over a barrier (a set: reading Enum members off the class is slow).
_BARRIER_SITES = frozenset({Site.BARRIER_1, Site.BARRIER_2})
_OUTSIDE = Location.OUTSIDE  # read on every GPS ping
_CAMERA, _BARRIER, _SCALE = DeviceKind.PLATE_CAMERA, DeviceKind.BARRIER, DeviceKind.SCALE
# More members read on the common paths, bound once for the same reason.
_ENTRY_LANE, _YARD, _AT_SCALE, _EXIT_LANE = Location.ENTRY_LANE, Location.YARD, Location.SCALE, Location.EXIT_LANE
_ENTRY_CHECK, _EXIT_CHECK, _INSPECTION_CHECK, _FEE = (
    K.BORDER_GUARD_ENTRY, K.BORDER_GUARD_EXIT, K.CUSTOMS_INSPECTION, K.FEE)
_ASSIGNED, _PASSED, _REQUIRED = S.ASSIGNED, S.PASSED, S.REQUIRED
_TO_YARD, _TO_INSPECTION = Station.YARD, Station.INSPECTION
_WEIGHED = Trigger.WEIGHED
_BARRIER_1, _BARRIER_2 = Site.BARRIER_1, Site.BARRIER_2
_REPEAT_READ = {site: f"repeat read at {site.value}" for site in Site}
_KIND_VALUE = {kind: kind.value for kind in K}
_CLASS_VALUE = {vehicle_class: vehicle_class.value for vehicle_class in VehicleClass}


def on_plate_read(core: GateCore, e: ev.PlateRead, now: float, out: Out) -> Verdict:
    """A camera read a plate: a doubtful read goes to an officer, a confident one moves the visit."""
    step = core.camera_steps.get(e.device_id)
    if step is None:
        spec = device_of(core, e.device_id, _CAMERA)
        if isinstance(spec, Refusal):
            return None, spec
        step = camera_step(core, spec)
    if e.plate is None or e.confidence < core.config.plate_confidence_threshold:
        barrier = step[2]
        candidate = normalize_plate(e.plate) if e.plate else None
        what = "no plate read" if e.plate is None else f"low confidence {e.confidence:.2f} for {candidate}"
        visit_id = core.by_plate.get(candidate) if candidate else None
        core.review(out, f"{what} at {e.device_id}: enter the plate by hand", now, visit_id, e.device_id, candidate,
                    kind=ReviewKind.PLATE_READ, dedupe=candidate is not None)
        if barrier is not None:
            out.append(KeepClosed(barrier, visit_id, candidate, ("plate not identified",)))
            if visit_id is not None:
                _withhold(core.active[visit_id], barrier)
        return visit_id, "awaiting manual plate entry"
    return plate_seen(core, e.device_id, e.plate, now, out)


def _opened_for(visit: Visit, barrier: str | None) -> bool:
    """Whether ``barrier`` was opened for the vehicle and it has not yet gone through."""
    return (visit.entry_granted and visit.lane_held and visit.entry_device == barrier) or (
        visit.exit_granted and visit.location is _EXIT_LANE and visit.exit_device == barrier)


def _lane_barrier(visit: Visit, site: Site) -> str | None:
    """The barrier the vehicle was last seen at, at barrier 1 or barrier 2."""
    return visit.entry_device if site is _BARRIER_1 else visit.exit_device


def _at_the_arm(visit: Visit, site: Site) -> bool:
    """Whether the vehicle still waits at a barrier of this site (it has not gone through one)."""
    if site is _BARRIER_1:
        return visit.location is _ENTRY_LANE and visit.lane_held
    return visit.location is _EXIT_LANE and visit.exit_device is not None


def _changed_lane(visit: Visit, site: Site, barrier: str, core: GateCore, out: Out) -> str:
    """Seen at another lane's barrier than the one it was waiting at: it waits here now. A barrier
    opened for it over there is told to stay closed, and this one opens for it instead."""
    old = _lane_barrier(visit, site)
    if site is _BARRIER_1:
        core.hold_lane(visit, barrier)
        granted = visit.entry_granted
    else:
        visit.exit_device = barrier
        granted = visit.exit_granted
    if visit.withheld_at == old:
        visit.withheld_at = None
    if not granted:
        return f"moved from {old} to {barrier}"
    if old is not None:
        out.append(KeepClosed(old, visit.visit_id, visit.plate, (f"vehicle moved to {barrier}",)))
    out.append(OpenBarrier(barrier, visit.visit_id, visit.plate))
    return f"moved from {old} to {barrier}: opened here"


def _withhold(visit: Visit, barrier: str) -> None:
    """Remember that ``barrier``, already opened for the vehicle, was told to stay closed until
    its plate is confirmed: the confirmation opens it again (``plate_seen``)."""
    if _opened_for(visit, barrier):
        visit.withheld_at = barrier


def camera_step(core: GateCore, spec: DeviceSpec) -> tuple[DeviceSpec, Trigger | None, str | None]:
    """What a plate identified at this device's site does: its spec, the location trigger of the
    site (None where it is no checkpoint), and the barrier it watches over (or None). Kept per
    plate camera, which the configuration fixes for the core's life."""
    step = (spec, SITE_TRIGGER.get(spec.site), core.barrier_at(spec) if spec.site in _BARRIER_SITES else None)
    if spec.kind is _CAMERA:
        core.camera_steps[spec.device_id] = step
    return step


def plate_seen(core: GateCore, device_id: str, raw_plate: str, now: float, out: Out) -> Verdict:
    """A plate identified at a camera's site (by the camera, or by an officer's manual entry)."""
    step = core.camera_steps.get(device_id)
    spec, trigger, barrier = step if step is not None else camera_step(core, core.devices[device_id])
    if trigger is None:
        return None, Refusal(f"camera {device_id} stands at {spec.site.value}, which is not a checkpoint")
    if core.yard.refused_inside and spec.site not in INSIDE_YARD:
        out_of_yard = core.refused_out_of_yard(normalize_plate(raw_plate), f"seen at {spec.site.value}", now, out)
        if out_of_yard is not None:
            visit_id, note = out_of_yard
            if spec.site is Site.YARD_GATE_OUT:
                return visit_id, note
            # Seen beyond the yard gate: the read goes on as any other, and its record says both.
            seen_id, verdict = plate_seen(core, device_id, raw_plate, now, out)
            said = f"{note}; {verdict}" if verdict else note
            return seen_id, Refusal(said) if isinstance(verdict, Refusal) else said
    visit = visit_for_plate(core, raw_plate, device_id, now, out)
    if isinstance(visit, Refusal):
        if barrier is not None:
            out.append(KeepClosed(barrier, None, normalize_plate(raw_plate), (str(visit),)))
        return None, visit
    before = visit.location
    illegal = core.move(visit, trigger, now)
    if illegal is not None:
        if barrier is not None:
            out.append(KeepClosed(barrier, visit.visit_id, visit.plate, (illegal,)))
        core.review(out, illegal, now, visit.visit_id, device_id, visit.plate, kind=ReviewKind.OUT_OF_ORDER)
        return visit.visit_id, Refusal(illegal)
    site = spec.site
    if visit.location is before and visit.last_site is site:
        if visit.not_answering:  # seen at staging again: the vehicle no longer called is about after all
            return visit.visit_id, _REPEAT_READ[site] + core.heard_from(visit, f"seen at {device_id}", now, out)
        if barrier is not None and barrier != _lane_barrier(visit, site) and _at_the_arm(visit, site):
            return visit.visit_id, _changed_lane(visit, site, barrier, core, out)
        if visit.withheld_at is not None and visit.withheld_at == barrier and _opened_for(visit, barrier):
            # The plate of a vehicle the barrier had opened for, then closed on a doubtful read, is
            # confirmed: the barrier opens for it again.
            visit.withheld_at = None
            out.append(OpenBarrier(barrier, visit.visit_id, visit.plate))
            return visit.visit_id, f"plate confirmed at {site.value}: barrier opened again"
        if not (site is _BARRIER_2 and visit.exit_device is None and not _exit_blockers(core, visit)):
            return visit.visit_id, _REPEAT_READ[site]
        # Seen again at barrier 2 after it was sent back from there (to pay, say) but stayed, and
        # nothing blocks it any more: it is taken as arriving at barrier 2 anew.
    visit.last_site = site
    return visit.visit_id, _ARRIVALS[site](core, visit, before, barrier, now, out)


def _arrived_staging(core: GateCore, visit: Visit, before: Location, barrier: str | None, now: float, out: Out) -> str:
    """Seen at staging: called forward if its medical check has passed, a yard slot is free and
    nobody waits ahead; else held (until the check passes, or a slot frees)."""
    if before is _ENTRY_LANE:
        # Back from barrier 1 without passing it: the barrier must be opened for it again, and the
        # scale or scanner it was sent to is no longer where it is going.
        visit.entry_granted = False
        core.leave_stations(visit)
    core.corridor.arrived(visit)
    core.assign_workable(visit, now, out)
    vehicle_class = visit.vehicle_class
    checked = core.checked_for_entry(visit)
    if visit.reserved_slot or (checked and core.yard.has_room(vehicle_class) and not _others_waiting(core, visit)):
        core.call_forward(visit, now, out)
        note = "called forward"
    elif not checked:
        core.hold_at_staging(visit, "medical check first: wait to be called forward", out, ready=False)
        note = "held at staging for the medical check"
    else:
        core.hold_at_staging(visit, "yard full: wait to be called forward", out)
        note = "held at staging"
    core.advise_traffic(now, out)
    return note


def _others_waiting(core: GateCore, visit: Visit) -> bool:
    """Arrival order: a newcomer does not overtake vehicles of its class already waiting."""
    return core.staging.class_count[visit.vehicle_class] > 0


def _arrived_barrier_1(core: GateCore, visit: Visit, before: Location, barrier: str | None, now: float, out: Out) -> str:
    """Seen at barrier 1: the entry checks are assigned, and the barrier opens when they pass."""
    core.corridor.arrived(visit)
    core.staging.discard(visit.visit_id)
    if barrier is not None:
        core.hold_lane(visit, barrier)
    found = ""
    if visit.no_show_review is not None:  # taken for a no-show (even one no longer called), it came after all
        found = core.forget_missed_calls(visit)
    core.assign_workable(visit, now, out)
    bge = visit.clearances[_ENTRY_CHECK]
    if core.config.automated_border_check and bge.status is _ASSIGNED:
        core.settle(visit, _ENTRY_CHECK, _PASSED, "core:automated-check", now)
    core.progress(visit, now, out)
    if visit.entry_granted:
        return "entry granted" + found
    return "awaiting entry checks: " + ", ".join(
        [_KIND_VALUE[k] for k in ENTRY_CLEARANCES if not visit.passed(k)]) + found


def _arrived_yard(core: GateCore, visit: Visit, before: Location, barrier: str | None, now: float, out: Out) -> str:
    """Seen at the yard gate going in: the yard counts it and the yard work is assigned."""
    if before is _EXIT_LANE:
        # Back from the exit lane without passing barrier 2: the barrier must be opened for it again.
        visit.exit_granted = False
        visit.exit_device = None
    vehicle_class = visit.vehicle_class
    if not visit.in_yard:
        if not visit.reserved_slot and not core.yard.has_room(vehicle_class):
            # Back in without being sent (it had given its slot up on the way out): the count follows
            # the camera, and the yard operator must know the yard is over capacity.
            core.stats["yard_overflows"] += 1
            core.review(out, f"{visit.plate} re-entered a full yard without a slot", now, visit.visit_id,
                        None, visit.plate, kind=ReviewKind.YARD_OVERFLOW)
        core.yard.enter(vehicle_class, visit.reserved_slot)
        visit.reserved_slot = False
        visit.in_yard = True
    if visit.scale is not None:  # sent to a scale that neither weighed it nor went down
        core.review(out, f"{visit.plate} reached the yard without being weighed at {visit.scale}: weigh it by "
                         "other means", now, visit.visit_id, visit.scale, visit.plate, kind=ReviewKind.SCALE_SKIPPED)
    core.leave_stations(visit)  # reached the yard without the weighing or the scan it was sent to
    core.assign_workable(visit, now, out)
    send_to_inspection_bay(visit, out)
    core.progress(visit, now, out)
    return f"in the yard ({core.yard.occupied[vehicle_class]} {_CLASS_VALUE[vehicle_class]})"


def _arrived_inspection(core: GateCore, visit: Visit, before: Location, barrier: str | None, now: float,
                        out: Out) -> str:
    """Seen at the inspection bay."""
    core.assign_workable(visit, now, out)
    core.progress(visit, now, out)
    return "at the inspection bay"


def _exit_blockers(core: GateCore, visit: Visit) -> tuple[str, ...]:
    """Why the vehicle may not leave yet (nothing when only the exit check is left)."""
    if visit.awaiting_amendment:
        return ("awaiting amended declaration",)
    if core.ready_to_exit(visit):
        return ()
    blockers = tuple(f"{k.value} not passed" for k in visit.pending() if k is not _EXIT_CHECK)
    return blockers or ("containers not yet handed over to the AGV lane",)


def _arrived_yard_gate_out(core: GateCore, visit: Visit, before: Location, barrier: str | None, now: float,
                           out: Out) -> str:
    """Seen at the yard gate going out: its slot frees only if it may really leave."""
    blockers = _exit_blockers(core, visit)
    if blockers:
        # It will be sent back in, so its slot stays its own: giving it to a vehicle called forward
        # meanwhile would overfill the yard when it returns.
        out.append(RouteTo(visit.visit_id, visit.plate, _TO_YARD, None))
        return "left the yard before clearance; sent back: " + "; ".join(blockers)
    core.release_slot(visit, now, out)
    return "left the yard"


def _arrived_barrier_2(core: GateCore, visit: Visit, before: Location, barrier: str | None, now: float, out: Out) -> str:
    """Seen at barrier 2: the exit check is asked for once everything else has passed."""
    blockers = _exit_blockers(core, visit)
    if visit.in_yard and not blockers:  # no exit camera at the yard: it left the yard to reach barrier 2
        core.release_slot(visit, now, out)
    visit.exit_device = barrier
    if barrier is None:
        return "at barrier 2 (no barrier configured)"
    if blockers:
        out.append(KeepClosed(barrier, visit.visit_id, visit.plate, blockers))
        fee = visit.clearances.get(_FEE)
        if fee is not None and fee.status is _REQUIRED:
            out.append(RequestFee(visit.visit_id, visit.fee_vnd - visit.fee_paid_vnd, "exit refused until the fee is paid"))
        if send_back_to_yard(core, visit, out):
            return "kept closed, sent back to the yard: " + "; ".join(blockers)
        # Its slot went to another vehicle and the yard is full: it waits here, and the barrier
        # opens for it as soon as nothing blocks it any more.
        return "kept closed, waits at barrier 2: " + "; ".join(blockers)
    core.progress(visit, now, out)
    return "exit granted" if visit.exit_granted else "awaiting border guard exit check"


def send_to_inspection_bay(visit: Visit, out: Out) -> None:
    """A vehicle in the yard whose physical inspection is assigned drives to the inspection bay."""
    inspection = visit.clearances.get(_INSPECTION_CHECK)
    if inspection is not None and inspection.status is _ASSIGNED and visit.location is _YARD:
        out.append(RouteTo(visit.visit_id, visit.plate, _TO_INSPECTION, None))


def send_back_to_yard(core: GateCore, visit: Visit, out: Out) -> bool:
    """A vehicle at barrier 2 that may not leave yet goes back into the yard to wait, if it still
    has its slot or one is free; False when the yard is full (it waits where it is, and the
    barrier opens for it once nothing blocks it)."""
    vehicle_class = visit.vehicle_class
    if not visit.in_yard and not visit.reserved_slot and core.yard.has_room(vehicle_class):
        core.yard.reserve(vehicle_class)
        visit.reserved_slot = True
    if visit.in_yard or visit.reserved_slot:
        out.append(RouteTo(visit.visit_id, visit.plate, _TO_YARD, None))
        visit.exit_device = None
        return True
    return False


_ARRIVALS: dict[Site, Callable[[GateCore, Visit, Location, str | None, float, Out], str]] = {
    Site.STAGING: _arrived_staging,
    _BARRIER_1: _arrived_barrier_1,
    Site.YARD_GATE_IN: _arrived_yard,
    Site.INSPECTION_BAY: _arrived_inspection,
    Site.YARD_GATE_OUT: _arrived_yard_gate_out,
    _BARRIER_2: _arrived_barrier_2,
}


def on_weight_measured(core: GateCore, e: ev.WeightMeasured, now: float, out: Out) -> Verdict:
    """The scale weighed a vehicle: check it against the declaration."""
    spec = device_of(core, e.device_id, _SCALE)
    if isinstance(spec, Refusal):
        return None, spec
    visit = visit_for_plate(core, e.plate, e.device_id, now, out)
    if isinstance(visit, Refusal):
        return None, visit
    if not e.stable and not e.overload:
        return visit.visit_id, "unstable reading ignored"
    before = visit.location
    illegal = core.move(visit, _WEIGHED, now)
    if illegal is not None:
        core.review(out, illegal, now, visit.visit_id, e.device_id, visit.plate, kind=ReviewKind.OUT_OF_ORDER)
        return visit.visit_id, Refusal(illegal)
    if before is _AT_SCALE:
        return visit.visit_id, _weighed_again(core, visit, e, now, out)
    if visit.scale is not None:
        core.scale_queue[visit.scale].pop(visit.visit_id, None)
        visit.scale = None
    if e.overload:
        core.review(out, f"{visit.plate} overloads scale {e.device_id}: weigh by other means", now, visit.visit_id,
                    e.device_id, visit.plate, kind=ReviewKind.OVERLOAD)
        note = "overload: weight not checked"
    else:
        visit.weight_kg = float(e.gross_kg)
        note = check_weight(core, visit, float(e.gross_kg), now, out)
    core.route_onward(visit, now, out)
    return visit.visit_id, note


def _weighed_again(core: GateCore, visit: Visit, e: ev.WeightMeasured, now: float, out: Out) -> str:
    """The scale reported the vehicle again before it drove off. The same weight (within the
    tolerance) is a repeat; another is a conflict for people to look at, and the figure further
    from the declared one is the one checked and kept (a check only ever raises the channel)."""
    first = visit.weight_kg
    second = float(e.gross_kg)
    if e.overload or first is None or abs(second - first) <= _tolerance(core, visit):
        return "repeat weighing ignored"
    core.review(out, f"scale {e.device_id} weighed {visit.plate} at {first:.0f} kg, then at {second:.0f} kg: "
                     "check the scale and the load", now, visit.visit_id, e.device_id, visit.plate, kind=ReviewKind.WEIGHED_TWICE)
    declared = visit.declaration.declared_gross_kg
    if abs(second - declared) <= abs(first - declared):
        return f"weighed again at {second:.0f} kg, {first:.0f} kg before: the first weight stands"
    visit.weight_kg = second
    return f"weighed again at {second:.0f} kg, {first:.0f} kg before: " + check_weight(core, visit, second, now, out)


def _tolerance(core: GateCore, visit: Visit) -> float:
    """How far a measured gross weight may be from the declared one, in kg."""
    cfg = core.config.weight
    return max(visit.declaration.declared_gross_kg * cfg.tolerance_pct / 100.0, cfg.tolerance_min_kg)


def check_weight(core: GateCore, visit: Visit, measured: float, now: float, out: Out) -> str:
    """Compare the measured with the declared gross weight; outside tolerance flags and upgrades."""
    declared = visit.declaration.declared_gross_kg
    difference = measured - declared
    if abs(difference) <= _tolerance(core, visit):
        return f"weight {measured:.0f} kg within tolerance"
    visit.weight_flagged = True
    core.stats["weight_discrepancies"] += 1
    core.ledger.record_violation(visit.declaration.declarant_id, "weight_discrepancy")
    reason = f"weight {measured:.0f} kg differs from declared {declared:.0f} kg by {difference:+.0f} kg"
    if core.config.risk.upgrade_on_weight_discrepancy:
        core.set_channel(visit, upgrade(visit.channel), reason, now, out)
    return reason + f"; channel {visit.channel.value}"


def on_scan_completed(core: GateCore, e: ev.ScanCompleted, now: float, out: Out) -> Verdict:
    """The scanner assessed a vehicle: clear passes the red-channel inspection, suspect sends it to the bay."""
    spec = device_of(core, e.device_id, DeviceKind.SCANNER)
    if isinstance(spec, Refusal):
        return None, spec
    visit = visit_for_plate(core, e.plate, e.device_id, now, out)
    if isinstance(visit, Refusal):
        return None, visit
    before = visit.location
    illegal = core.move(visit, Trigger.SCANNED, now)
    if illegal is not None:
        core.review(out, illegal, now, visit.visit_id, e.device_id, visit.plate, kind=ReviewKind.OUT_OF_ORDER)
        return visit.visit_id, Refusal(illegal)
    if before is Location.SCANNER:
        return visit.visit_id, _scanned_again(core, visit, e, now, out)
    core.leave_stations(visit)
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


def _scanned_again(core: GateCore, visit: Visit, e: ev.ScanCompleted, now: float, out: Out) -> str:
    """The scanner reported the vehicle again before it drove off (a second look at the image,
    say). The same result is a repeat; another is a conflict for people to look at, and the
    stricter result stands: suspect after clear sends the vehicle to physical inspection."""
    first = visit.scan_result
    if first is None or e.result is first:
        return "repeat scan ignored"
    core.review(out, f"scanner {e.device_id} assessed {visit.plate} {first.value}, then {e.result.value}: "
                     "check the images", now, visit.visit_id, e.device_id, visit.plate, kind=ReviewKind.SCANNED_TWICE)
    if e.result is ScanResult.CLEAR:
        return "scan clear after suspect: the suspect result stands"
    visit.scan_result = e.result
    core.stats["scan_suspect"] += 1
    inspection = visit.clearances.get(K.CUSTOMS_INSPECTION)
    if inspection is not None and inspection.status is S.PASSED:
        core.reopen(visit, K.CUSTOMS_INSPECTION)  # passed on the clear scan: inspected by hand now
    core.set_channel(visit, Channel.RED, "scan suspect", now, out)
    return "scan suspect after clear: physical inspection"


def on_vehicle_passed(core: GateCore, e: ev.VehiclePassed, now: float, out: Out) -> Verdict:
    """A vehicle went through barrier 1 (it is inside) or barrier 2 (it has departed)."""
    spec = device_of(core, e.device_id, _BARRIER)
    if isinstance(spec, Refusal):
        return None, spec
    visit = visit_for_plate(core, e.plate, e.device_id, now, out)
    if isinstance(visit, Refusal):
        return None, visit
    if spec.site is _BARRIER_1:
        if not visit.entry_granted:
            reason = f"{visit.plate} passed barrier 1 without entry permission ({visit.location.value})"
            core.review(out, reason, now, visit.visit_id, e.device_id, visit.plate, kind=ReviewKind.UNAUTHORISED_PASSAGE)
            return visit.visit_id, Refusal(reason)
        if not visit.lane_held:  # reported again, or after the scale already saw the vehicle
            return visit.visit_id, "repeat: already through barrier 1"
        visit.withheld_at = None  # through (an officer lifted the arm): nothing left to open again
        core.release_lane(visit)
        return visit.visit_id, "passed barrier 1" + core.close_barrier_reviews(visit, e.device_id)
    if spec.site is not _BARRIER_2:
        return visit.visit_id, Refusal(f"barrier {e.device_id} stands at {spec.site.value}")
    illegal = core.move(visit, Trigger.PASSED_BARRIER_2, now)
    if illegal is not None:
        core.review(out, illegal, now, visit.visit_id, e.device_id, visit.plate, kind=ReviewKind.UNAUTHORISED_PASSAGE)
        return visit.visit_id, Refusal(illegal)
    core.stats["departed"] += 1
    return visit.visit_id, "departed" + core.finish(visit, now, out)


def on_barrier_moved(core: GateCore, e: ev.BarrierOpened | ev.BarrierClosed, now: float, out: Out) -> Verdict:
    """A barrier opened or closed: recorded, nothing follows from it."""
    spec = device_of(core, e.device_id, _BARRIER)
    if isinstance(spec, Refusal):
        return None, spec
    return None, "opened" if isinstance(e, ev.BarrierOpened) else "closed"


def on_device_faulted(core: GateCore, e: ev.DeviceFaulted, now: float, out: Out) -> Verdict:
    """A device broke down: route vehicles around it, or ask for the manual procedure."""
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
                now, None, e.device_id, None, kind=ReviewKind.DEVICE_FAULTED)
    return None, "faulted: manual procedure"


def _skip_scale(core: GateCore, visit: Visit, now: float, out: Out) -> None:
    """Send a vehicle that was to be weighed on to the scanner or the yard."""
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
    """A device works again."""
    if e.device_id not in core.devices:
        return None, Refusal(f"unknown device {e.device_id}")
    if e.device_id not in core.faulted:
        return None, "repeat: not faulted"
    core.faulted.discard(e.device_id)
    reopened = []
    for review in list(core.reviews.values()):
        if review.device_id == e.device_id and review.reason.startswith(f"{core.devices[e.device_id].kind.value} "):
            core.close_review(review.review_id)
            visit = core.active.get(review.visit_id) if review.visit_id is not None else None
            if visit is not None and _opened_for(visit, e.device_id):
                # Still waiting for the arm the fault kept down (nobody lifted it by hand): the
                # barrier, working again, is told once more to open for it.
                out.append(OpenBarrier(e.device_id, visit.visit_id, visit.plate))
                reopened.append(visit.plate)
    if e.device_id == core.agv_fleet:
        # The containers cleared while the fleet was down go now.
        before = core.stats["agv_dispatched"]
        for visit_id in sorted({m.visit_id for m in core.missions.values() if m.state is AgvMissionState.ACKNOWLEDGED}):
            visit = core.active.get(visit_id) or core.archive.get(visit_id)  # its truck may have left
            if visit is not None and visit.location is not Location.REFUSED:
                core.dispatch_ready_missions(visit, now, out)
        sent = core.stats["agv_dispatched"] - before
        return None, "recovered" + (f"; {sent} AGV mission(s) dispatched" if sent else "")
    return None, "recovered" + (f"; opened again for {', '.join(reopened)}" if reopened else "")


# ---------------------------------------------------------------------------- corridor


def on_gps_ping(core: GateCore, e: ev.GpsPing, now: float, out: Out) -> Verdict:
    """The driver app reported a position on the approach: update the congestion risk."""
    visit = core.plate_visits.get(e.plate)  # found as sent unless the plate needs its normal form
    if visit is None:
        plate = normalize_plate(e.plate)
        visit = core.plate_visits.get(plate)
        if visit is None:
            return None, Refusal(f"no open declaration for plate {plate}")
    visit_id = visit.visit_id
    if visit.location is not _OUTSIDE:
        if visit.not_answering:  # its driver's app: the vehicle no longer called is about after all
            return visit_id, f"position not counted: vehicle is {visit.location.value}" + core.heard_from(
                visit, f"position from {e.device_id}", now, out)
        return visit_id, f"ignored: vehicle is {visit.location.value}"
    core.corridor.ping(visit, float(e.km_to_gate))
    core.advise_traffic(now, out)
    return visit_id, None


_POSITIONS = ev.PositionsReported.__name__


def on_positions_reported(core: GateCore, e: ev.PositionsReported, now: float, out: Out) -> Verdict:
    """The telematics server delivered a batch of positions: apply each, then assess the risk once.

    A position that is malformed or names no open declaration is refused on its own (audited and
    answered, as a ``GpsPing`` would be, naming its place in the batch); one about a vehicle that
    already reached the gate is ignored. The batch itself is audited with what came of it.
    """
    plates, ping = core.plate_visits, core.corridor.ping
    applied = ignored = refused = 0
    heard = ""
    positions = e.positions
    # The common case: every position sound, checked in one call for the batch. Else each one
    # is checked on its own, in one call too when it is sound; the rest take the full checks.
    sound = usual_positions(positions)
    for index, position in enumerate(positions):
        if sound or usual_position(position):
            plate, km, _ = position
        else:
            bad = position_problem(position)
            if bad is not None:
                refused += 1
                core.refuse(out, _POSITIONS, e.device_id, None, f"position {index}: {bad}", now)
                continue
            plate, km = position[0], float(position[1])
        visit = plates.get(plate)
        if visit is None:
            plate = normalize_plate(plate)
            visit = plates.get(plate)
            if visit is None:
                refused += 1
                core.refuse(out, _POSITIONS, e.device_id, None,
                            f"position {index}: no open declaration for plate {plate}", now)
                continue
        if visit.location is not _OUTSIDE:
            ignored += 1
            if visit.not_answering:  # its driver's app: the vehicle no longer called is about after all
                heard += core.heard_from(visit, f"position {index} from {e.device_id}", now, out)
            continue
        ping(visit, km)
        applied += 1
    if applied:
        core.advise_traffic(now, out)
    return None, f"{len(positions)} positions: {applied} applied, {ignored} at the gate, {refused} refused{heard}"
