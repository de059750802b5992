"""The AGV lane: containers handed over, manifests acknowledged, AGVs arrived or faulted."""

from __future__ import annotations

from gate import events as ev
from gate.core import MAX_AGV_DISPATCHES, GateCore, Refusal
from gate.enums import AgvMissionState, CrossingMode, DeviceKind, Location, ReviewKind, Role
from gate.handlers.common import Out, Verdict, device_of, open_visit, roles_of
from gate.visit import Mission


def on_container_handed_over(core: GateCore, e: ev.ContainerHandedOver, now: float, out: Out) -> Verdict:
    """The yard operator put a declared container on the AGV stack: record it and send its manifest."""
    roles = roles_of(core, e.account_id)
    if not roles & {Role.YARD_OPERATOR, Role.OPERATION_CENTRE}:
        return e.visit_id, Refusal(f"account {e.account_id} is not a yard operator or the operation centre")
    visit = open_visit(core, e.visit_id)
    if isinstance(visit, Refusal):
        return e.visit_id, visit
    if visit.crossing_mode is not CrossingMode.AGV_LANE:
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
    """The mission a device reports about, or a refusal."""
    spec = device_of(core, device_id, kind)
    if isinstance(spec, Refusal):
        return spec
    mission = core.missions.get(mission_id)
    if mission is None:
        return Refusal(f"unknown AGV mission {mission_id}")
    return mission


def on_manifest_acknowledged(core: GateCore, e: ev.ManifestAcknowledged, now: float, out: Out) -> Verdict:
    """The partner side took the manifest: the AGV goes once the goods are cleared."""
    mission = _mission(core, e.device_id, e.mission_id, DeviceKind.PARTNER_LINK)
    if isinstance(mission, Refusal):
        return None, mission
    if mission.state is AgvMissionState.FAILED:
        # Given up (never acknowledged in time, or its visit refused) and handed to people, who
        # must know the partner side has the manifest after all.
        core.review(out, f"partner side acknowledged manifest {mission.mission_id} after the mission failed: "
                         "check how it is handled by hand", now, mission.visit_id, e.device_id, None,
                    kind=ReviewKind.MANIFEST_LATE, about=mission.mission_id)
        return mission.visit_id, Refusal(f"manifest {mission.mission_id} acknowledged too late: the mission failed")
    if mission.state is not AgvMissionState.MANIFEST_SENT:
        return mission.visit_id, f"repeat acknowledgement ({mission.state.value})"
    core.deadlines.cancel(mission.token)
    mission.state = AgvMissionState.ACKNOWLEDGED
    visit = core.active.get(mission.visit_id) or core.archive.get(mission.visit_id)
    if visit is not None and visit.location is not Location.REFUSED:
        core.dispatch_ready_missions(visit, now, out)
    return mission.visit_id, f"manifest {mission.mission_id} acknowledged"


def on_agv_arrived(core: GateCore, e: ev.AgvArrived, now: float, out: Out) -> Verdict:
    """The container reached the partner side: the mission is delivered."""
    mission = _mission(core, e.device_id, e.mission_id, DeviceKind.AGV_FLEET)
    if isinstance(mission, Refusal):
        return None, mission
    if mission.state is AgvMissionState.DELIVERED:
        return mission.visit_id, "repeat: already delivered"
    if mission.state is not AgvMissionState.DISPATCHED:
        # A container across the line that the gate never sent: goods not (or no longer) cleared
        # are on the other side, and only people can deal with that.
        core.review(out, f"container {mission.container_no} reported across the line, but mission "
                         f"{mission.mission_id} was never dispatched ({mission.state.value}): find out how it crossed",
                    now, mission.visit_id, e.device_id, None, kind=ReviewKind.AGV_UNDISPATCHED, about=mission.mission_id)
        return mission.visit_id, Refusal(f"mission {mission.mission_id} was not dispatched ({mission.state.value})")
    mission.state = AgvMissionState.DELIVERED
    core.stats["agv_delivered"] += 1
    closed = core.heard_of(mission)
    return mission.visit_id, f"{mission.container_no} delivered across the line{closed}"


def on_agv_faulted(core: GateCore, e: ev.AgvFaulted, now: float, out: Out) -> Verdict:
    """An AGV stopped on its mission: send another, up to the limit, then hand it to people."""
    mission = _mission(core, e.device_id, e.mission_id, DeviceKind.AGV_FLEET)
    if isinstance(mission, Refusal):
        return None, mission
    if e.attempt is not None and e.attempt != mission.dispatch_attempts:
        if e.attempt > mission.dispatch_attempts:
            return mission.visit_id, Refusal(f"mission {mission.mission_id} has been dispatched "
                                             f"{mission.dispatch_attempts} time(s), not {e.attempt}")
        return mission.visit_id, f"repeat: fault of dispatch {e.attempt}, already answered"
    if mission.fault_at == now:
        # A fault answered at this very instant: the fleet repeated its report (a second AGV
        # breaking down at the instant it was sent could not be told from it).
        return mission.visit_id, "repeat: fault already answered"
    if mission.state is not AgvMissionState.DISPATCHED:
        return mission.visit_id, Refusal(f"mission {mission.mission_id} is not under way ({mission.state.value})")
    mission.fault_at = now
    core.heard_of(mission)  # a re-dispatch below starts its limit anew
    visit = core.active.get(mission.visit_id) or core.archive.get(mission.visit_id)
    if visit is not None and visit.location is Location.REFUSED:
        # Stopped (or broken down) on a refused visit's container: people bring it back, as the
        # review raised at the refusal asks; no AGV is sent with it again.
        mission.state = AgvMissionState.FAILED
        core.stats["agv_failed"] += 1
        return mission.visit_id, f"AGV stopped ({e.reason or 'no reason given'}); visit refused: not dispatched again"
    if visit is not None and visit.awaiting_amendment:
        # Its declaration went back for amendment meanwhile: the container goes again once the
        # amended version is accepted and its goods cleared (``dispatch_ready_missions``).
        mission.state = AgvMissionState.ACKNOWLEDGED
        return mission.visit_id, f"AGV fault ({e.reason or 'no reason given'}); waits for the amended declaration"
    if mission.dispatch_attempts < MAX_AGV_DISPATCHES and core.agv_fleet in core.faulted:
        mission.state = AgvMissionState.ACKNOWLEDGED  # sent again once the fleet is back
        return mission.visit_id, f"AGV fault ({e.reason or 'no reason given'}); the fleet is down: waits for it"
    if mission.dispatch_attempts < MAX_AGV_DISPATCHES:
        core.dispatch(mission, now, out)
        return mission.visit_id, f"AGV fault ({e.reason or 'no reason given'}); dispatched again"
    mission.state = AgvMissionState.FAILED
    core.stats["agv_failed"] += 1
    core.review(out, f"mission {mission.mission_id} failed {mission.dispatch_attempts} times: move it by hand", now,
                mission.visit_id, e.device_id, None, kind=ReviewKind.AGV_FAILED, about=mission.mission_id)
    return mission.visit_id, "AGV mission failed: manual handling"
