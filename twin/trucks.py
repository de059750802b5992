"""A truck's life at the gate, as a SimPy process that follows the core's routing.

The truck drives the approach road (reporting GPS positions), is seen at staging, waits there
(in a staging area if its driver obeys the traffic police, else on the road) until the core
calls it forward, and from then on goes wherever the core's ``RouteTo`` commands send it:
barrier 1, scale, scanner, yard, inspection bay, barrier 2, or away. Each physical step uses the
emulated device (cameras read the plate, barriers must be opened for it, the scale weighs it).

While it waits for a device, a new route can arrive (a scanner faulted, the yard filled up, the
declaration was returned): the truck leaves the queue it was in and follows the new route.
"""

from __future__ import annotations

from collections.abc import Generator
from functools import lru_cache
from typing import Any

import simpy

from gate.commands import RouteTo
from gate.enums import CrossingMode, Location, Station
from gate.identifiers import normalize_plate
from hardware_emulators import WITHDRAWN
from twin.fleet import closed_at
from twin.probes import ROAD_QUEUE_KM, ROAD_QUEUE_TRUCKS, YARD_OCCUPANCY
from twin.world import GateWorld, PingPlan, TruckRun

ProcessGenerator = Generator[simpy.Event, Any, Any]

#: Driving times between places inside the gate area, in seconds.
DRIVE_S = {
    "to_entry": 90.0,  # staging area to barrier 1
    "to_scale": 30.0,
    "to_scanner": 60.0,
    "to_yard": 60.0,
    "to_bay": 60.0,
    "to_exit": 60.0,  # yard gate to barrier 2
}
STAGING_OCCUPANCY = "staging_occupancy"


def truck_life(w: GateWorld, t: TruckRun) -> ProcessGenerator:
    """The whole life of one truck, from the approach road to departure (or not)."""
    env = w.env
    yield env.timeout(max(0.0, t.plan.arrival_s - env.now))
    w.probes.log.stamp(t.row, "arrival", env.now)
    while True:
        yield from _approach(w, t)
        reopens = closed_at(w.scenario, env.now)
        if reopens is not None:  # the gate is closed: queue on the road until it reopens
            _road_queue(w, +1)
            yield env.timeout(reopens - env.now)
            _road_queue(w, -1)
        result = yield from _at_gate(w, t)
        if result != "turned_back":
            t.outcome = result
            w.probes.log.set(t.row, "outcome", result)
            if result == "refused":
                w.probes.log.stamp(t.row, "refused_at", env.now)
            return
        # Turned back for re-declaration: drive away, wait for the amended declaration, come back.
        w.probes.log.end_passage(t.row, env.now)
        w.probes.log.stamp(t.row, "returned_at", env.now)
        w.probes.log.set(t.row, "outcome", "returned")
        t.outcome = "returned"
        if t.reaccepted is not None:
            yield t.reaccepted
        w.probes.log.set(t.row, "outcome", "inside")
        t.outcome = "inside"


def _approach(w: GateWorld, t: TruckRun) -> ProcessGenerator:
    corridor = w.corridor_drivers
    if corridor is not None:  # the drivers' own corridor model drives the road
        yield from corridor.approach(w, t)
        return
    demand = w.scenario.demand
    speed = demand.approach_speed_kmh
    plan = ping_plan(demand.approach_road_km, speed, w.scenario.traffic.gps_ping_s)
    env = w.env
    end = w.drive_approach(t, plan, speed)  # the GPS pings on the way
    if plan:
        yield env.timeout(end - env.now)
        if env.now != end:  # rounding: arrive at the very instant the stretches add up to
            yield env.timeout(end - env.now)


@lru_cache(maxsize=16)
def ping_plan(km: float, speed_kmh: float, ping_s: float) -> PingPlan:
    """The approach road as driven: stretches of ``ping_s`` seconds (the last one shorter), each
    with the km still to go after it. The driver app pings after each stretch but the last."""
    travel_s = km / speed_kmh * 3600.0
    plan = []
    driven = 0.0
    while driven < travel_s:
        step = min(ping_s, travel_s - driven)
        driven += step
        plan.append((step, max(0.0, km * (1.0 - driven / travel_s))))
    return tuple(plan)


def _road_queue(w: GateWorld, delta: int) -> None:
    now = w.env.now
    w.counter(ROAD_QUEUE_TRUCKS).add(now, delta)
    w.counter(ROAD_QUEUE_KM).add(now, delta * w.scenario.demand.queue_spacing_m / 1000.0)


def _enter(w: GateWorld, t: TruckRun, station: str, served: bool = True) -> int:
    """The truck arrives at a station probe (and, unless it must queue, is in it at once).

    At staging every truck queues: the wait there is the hold (in a staging area, on the road or
    before the forecourt) until it is called forward, and ``_leave_staging`` ends it.
    """
    probe = w.station(station)
    customer = probe.arrive(w.env.now)
    if served:
        probe.start_service(w.env.now, customer)
    t.places.add(station)
    return customer


def _leave(w: GateWorld, t: TruckRun, station: str, customer: int | None, abandoned: bool = False) -> None:
    probe = w.station(station)
    if abandoned:
        probe.abandon(w.env.now, customer)
    else:
        probe.end_service(w.env.now, customer)
    t.places.discard(station)


def next_route(t: TruckRun) -> simpy.Event:
    """The truck's pending request for its next route (one at a time, reused until answered)."""
    if t.pending_get is None:
        t.pending_get = t.mailbox.get()
    return t.pending_get


def _route_before(t: TruckRun, event: simpy.Event) -> ProcessGenerator:
    """Wait for ``event`` or the truck's next route, whichever comes first: returns the route, or
    None once ``event`` has happened (a route arriving in the same instant stays pending)."""
    get = next_route(t)
    yield event | get
    if event.triggered:
        return None
    return take_route(t)


def take_route(t: TruckRun) -> RouteTo:
    event = t.pending_get
    assert event is not None and event.triggered
    t.pending_get = None
    route = event.value
    assert isinstance(route, RouteTo)  # the mailbox holds the core's routes only
    return route


def _identify(w: GateWorld, t: TruckRun, camera_id: str) -> ProcessGenerator:
    """Drive past a camera; if it could not identify the truck, the officer types the plate."""
    camera = w.equipment.cameras[camera_id]
    read = yield from camera.read_vehicle(t.plan.truth)
    if w.plates_typed_at_checkpoints:  # no cameras: the officer at the checkpoint typed it
        w.probes.log.incr(t.row, "plates_typed")
    plate = normalize_plate(read.plate) if read.plate else None
    if plate == t.plan.truth.plate and read.confidence >= w.core_config.plate_confidence_threshold:
        return
    review_id = w.claim_plate_review(t, camera_id, plate)
    if review_id is not None:
        yield from w.enter_plate_by_hand(t, review_id)


def _at_gate(w: GateWorld, t: TruckRun) -> ProcessGenerator:
    """From the staging camera to departure. Returns departed / refused / turned_back."""
    env = w.env
    while True:  # back to staging when the yard filled up while the truck was at barrier 1
        route = yield from _staging(w, t)
        if route.station is Station.AWAY:
            return _away(w, t)
        result = yield from _entry(w, t, route)
        if t.forecourt is not None:  # through barrier 1, or sent back from it: the forecourt has room again
            w.forecourt.release(t.forecourt)  # type: ignore[union-attr]
            t.forecourt = None
        if result == "staging":
            continue
        if result != "entered":
            return result
        return (yield from _inside(w, t))


def _staging(w: GateWorld, t: TruckRun) -> ProcessGenerator:
    env = w.env
    log = w.probes.log
    log.stamp(t.row, "staging_in", env.now)
    t.checked_in = False
    cameras = w.staging_cameras
    corridor = w.corridor_drivers
    if corridor is not None:  # the drivers and the traffic police decide where it waits
        corridor.reach_checkpoint(w, t)
        customer = _enter(w, t, "staging", served=False)
        if cameras:
            yield from _check_in(w, t, cameras[0])
        route = yield from corridor.wait_at_staging(w, t)
        _leave_staging(w, t, customer, route)
        log.stamp(t.row, "staging_out", env.now)
        return route
    area_has_room = w.counter(STAGING_OCCUPANCY)
    channelled = w.scenario.traffic.channelling and w.drivers.obeys_hold(t.plan, env.now)
    in_area = channelled and area_has_room.level < w.staging_capacity
    if in_area:
        area_has_room.add(env.now, 1)
    else:
        _road_queue(w, +1)
    customer = _enter(w, t, "staging", served=False)
    if cameras:
        yield from _check_in(w, t, cameras[0])
    while True:
        yield next_route(t)
        route = take_route(t)
        if route.station in (Station.ENTRY_LANE, Station.AWAY):
            break
    reopens = closed_at(w.scenario, env.now)
    if reopens is not None and route.station is Station.ENTRY_LANE:
        yield env.timeout(reopens - env.now)
    if route.station is Station.ENTRY_LANE and w.forecourt is not None:
        route = yield from _wait_for_forecourt(w, t, route)
    if in_area:
        area_has_room.add(env.now, -1)
    else:
        _road_queue(w, -1)
    _leave_staging(w, t, customer, route)
    log.stamp(t.row, "staging_out", env.now)
    return route


def _wait_for_forecourt(w: GateWorld, t: TruckRun, route: RouteTo) -> ProcessGenerator:
    """Called forward, the truck waits at staging for a place in the forecourt, in the order called.
    Returns the route it drives on with: the call (or a later one), or AWAY if sent away first."""
    place, away, kept = yield from _queue_for(t, w.forecourt, (Station.AWAY,))  # type: ignore[arg-type]
    if away is not None:
        return away
    t.forecourt = place
    if kept is not None and kept.station is Station.ENTRY_LANE:
        return kept  # called again (to another lane): the latest call stands
    return route


def _check_in(w: GateWorld, t: TruckRun, camera_id: str) -> ProcessGenerator:
    """Drive past the staging camera, and again each time the declaration comes back amended
    while the core could not take the truck in.

    The core refuses the read of a truck whose declaration was returned for re-declaration while
    it drove in. The truck then waits at the checkpoint for the amended declaration and drives
    past the camera once more, also when the amendment was accepted during the read itself (the
    core then has the visit outside again). Each amendment brings one more read, never more, so
    a read refused for another reason cannot loop.
    """
    used: simpy.Event | None = None
    while True:
        yield from _identify(w, t, camera_id)
        again = t.reaccepted
        if again is None or again is used:
            break  # nothing new to come back with (the run's invariants will say so if it is stuck)
        if w.core.location(t.visit_id) not in (Location.OUTSIDE, Location.RETURNED):
            break  # taken in at staging (or the visit is over)
        used = again
        if not again.triggered:
            yield again
    t.checked_in = True


def _leave_staging(w: GateWorld, t: TruckRun, customer: int, route: RouteTo) -> None:
    """The truck's wait at staging ends: called forward to barrier 1 (its wait is over and it
    drives on), or sent away without being called (it leaves the queue unserved)."""
    if route.station is Station.ENTRY_LANE:
        w.station("staging").start_service(w.env.now, customer)
        _leave(w, t, "staging", customer)
    else:
        _leave(w, t, "staging", customer, abandoned=True)


def _queue_for(t: TruckRun, places: simpy.Resource, leave_for: tuple[Station, ...]) -> ProcessGenerator:
    """Queue for one of ``places`` (a place at a lane's barrier, in the forecourt). Returns
    (the place, None, kept): ``kept`` is the last other route that arrived meanwhile, or None.
    Returns (None, route, None) when the core sends the truck elsewhere (one of ``leave_for``) first."""
    place = places.request()
    kept: RouteTo | None = None
    while not place.triggered:
        route = yield from _route_before(t, place)
        if route is None:
            break
        if route.station in leave_for:
            place.cancel()
            return None, route, None
        kept = route
    return place, None, kept


def _entry(w: GateWorld, t: TruckRun, route: RouteTo) -> ProcessGenerator:
    """Barrier 1. Returns entered / staging (sent back) / turned_back / refused.

    The truck queues in its lane for a place at the barrier (``layout.barrier_places``); there
    the camera reads it and it waits for its checks and the arm, while those behind wait.
    """
    env = w.env
    yield env.timeout(DRIVE_S["to_entry"])
    barrier_id = route.device_id or next(iter(w.equipment.barriers))
    lane = barrier_id.removeprefix("barrier-in-")
    w.probes.log.stamp(t.row, "entry_in", env.now)
    places = w.lane_places.get(barrier_id)
    customer = _enter(w, t, "entry_lane", served=places is None)
    place = onward = None  # onward: a route for after the barrier (e.g. the scale), kept aside
    if places is not None:
        place, elsewhere, onward = yield from _queue_for(t, places, (Station.STAGING, Station.AWAY))
        if elsewhere is not None:
            _leave(w, t, "entry_lane", customer, abandoned=True)
            return "staging" if elsewhere.station is Station.STAGING else _away(w, t)
        w.station("entry_lane").start_service(env.now, customer)
    w.probes.log.stamp(t.row, "entry_at_barrier", env.now)  # in the lane's queue from entry_in until now
    camera = f"cam-in-{lane}"
    if camera in w.equipment.cameras:
        yield from _identify(w, t, camera)
    passing = w.equipment.barriers[barrier_id].pass_vehicle(t.plan.truth)
    while not passing.triggered:
        if onward is not None:
            yield passing
            break
        get = next_route(t)
        yield passing | get
        if passing.triggered and not get.triggered:
            break
        new_route = take_route(t)
        if new_route.station in (Station.STAGING, Station.AWAY):
            if not passing.triggered:
                passing.interrupt("sent away from barrier 1")
            _leave_lane(w, t, "entry_lane", customer, places, place)
            if new_route.station is Station.STAGING:
                return "staging"
            return _away(w, t)
        onward = new_route
    t.onward = onward
    _leave_lane(w, t, "entry_lane", customer, places, place)
    if passing.value is False:
        return "staging"
    w.probes.log.stamp(t.row, "entry_out", env.now)
    return "entered"


def _leave_lane(w: GateWorld, t: TruckRun, station: str, customer: int, places: simpy.Resource | None,
                place: simpy.resources.resource.Request | None) -> None:
    """The truck leaves its lane's barrier (through it, or sent back): the next one moves up."""
    if places is not None and place is not None:
        places.release(place)
    _leave(w, t, station, customer)


def _away(w: GateWorld, t: TruckRun) -> str:
    return "turned_back" if w.core.visit(t.visit_id) is not None and _returned(w, t) else "refused"


def _returned(w: GateWorld, t: TruckRun) -> bool:
    view = w.core.visit(t.visit_id)
    return view is not None and view.location.value == "returned"


def _use_device(w: GateWorld, t: TruckRun, device_id: str, work: Any) -> ProcessGenerator:
    """Queue for a device, use it, leave; abandon the queue if a new route arrives first.

    Returns the new route if one interrupted the wait, else None.
    """
    env = w.env
    customer = _enter(w, t, device_id, served=False)
    probe = w.station(device_id)
    resource = w.device_resources[device_id]
    request = resource.request()
    get = next_route(t)
    yield request | get
    if not request.triggered:
        request.cancel()
        _leave(w, t, device_id, customer, abandoned=True)
        return take_route(t)
    probe.start_service(env.now, customer)
    process = work()
    yield process | get
    resource.release(request)
    t.places.discard(device_id)
    if not process.triggered:  # taken off the device before its work was done
        probe.withdraw(env.now, customer)
        process.interrupt(WITHDRAWN)
        return take_route(t)
    probe.end_service(env.now, customer)
    return None


def _inside(w: GateWorld, t: TruckRun) -> ProcessGenerator:
    """From barrier 1 to barrier 2, following the core's routes."""
    env = w.env
    log = w.probes.log
    where = "lane"
    yard_customer = bay_customer = None
    while True:
        if t.onward is not None:
            route, t.onward = t.onward, None
        else:
            yield next_route(t)
            route = take_route(t)
        while route is not None:
            station = route.station
            if station is Station.SCALE and route.device_id:
                yield env.timeout(DRIVE_S["to_scale"])
                if next_route(t).triggered:  # re-routed on the way (e.g. the scale faulted): never weighed
                    route = take_route(t)
                    continue
                log.stamp(t.row, "scale_in", env.now)
                scale = w.equipment.scales[route.device_id]
                route = yield from _use_device(w, t, route.device_id, lambda: scale.weigh(t.plan.truth))
                if route is None:  # weighed; a truck withdrawn from the scale keeps no scale_out
                    log.stamp(t.row, "scale_out", env.now)
                continue
            if station is Station.SCANNER and route.device_id:
                yield env.timeout(DRIVE_S["to_scanner"])
                if next_route(t).triggered:  # re-routed on the way (e.g. the scanner faulted): never scanned
                    route = take_route(t)
                    continue
                log.stamp(t.row, "scanner_in", env.now)
                scanner = w.equipment.scanners[route.device_id]
                route = yield from _use_device(w, t, route.device_id, lambda: scanner.scan_vehicle(t.plan.truth))
                if route is None:  # scanned; a truck withdrawn from the scanner keeps no scanner_out
                    log.stamp(t.row, "scanner_out", env.now)
                continue
            if station is Station.YARD:
                if where == "bay":
                    _leave_bay(w, t, bay_customer)
                if where != "yard":
                    yield env.timeout(DRIVE_S["to_yard"])
                    if "cam-yard-in" in w.equipment.cameras:
                        yield from _identify(w, t, "cam-yard-in")
                    if not t.in_yard:
                        t.in_yard = True
                        w.counter(YARD_OCCUPANCY).add(env.now, 1)
                        yard_customer = _enter(w, t, "yard")
                        log.stamp(t.row, "yard_in", env.now)
                    where = "yard"
                    _yard_business(w, t)
                route = None
                continue
            if station is Station.INSPECTION:
                yield env.timeout(DRIVE_S["to_bay"])
                log.stamp(t.row, "inspection_in", env.now)
                bays = w.inspection_bays
                bay_customer = _enter(w, t, "inspection", served=bays is None)
                if bays is not None:  # wait for a free bay (or a new route)
                    request = bays.request()
                    get = next_route(t)
                    yield request | get
                    if not request.triggered:
                        request.cancel()
                        _leave(w, t, "inspection", bay_customer, abandoned=True)
                        t.at_bay = None
                        where = "bays"
                        route = take_route(t)
                        continue
                    t.bay_request = request
                    w.station("inspection").start_service(env.now, bay_customer)
                    if t.at_bay is None or t.at_bay.triggered:
                        t.at_bay = env.event()
                    t.at_bay.succeed()  # the officer sent to inspect it can start
                if "cam-bay" in w.equipment.cameras:
                    yield from _identify(w, t, "cam-bay")
                where = "bay"
                route = None
                continue
            if station is Station.EXIT_LANE:
                if where == "bay":
                    _leave_bay(w, t, bay_customer)
                if "cam-yard-out" in w.equipment.cameras:
                    yield from _identify(w, t, "cam-yard-out")
                if t.in_yard:
                    t.in_yard = False
                    w.counter(YARD_OCCUPANCY).add(env.now, -1)
                    _leave(w, t, "yard", yard_customer)
                    log.stamp(t.row, "yard_out", env.now)
                where = "exit"
                result = yield from _exit(w, t)
                if isinstance(result, RouteTo):
                    route = result  # sent back into the yard
                    where = "exit"
                    continue
                return result
            if station is Station.AWAY:
                if where == "bay":
                    _leave_bay(w, t, bay_customer, stamp=False)
                if t.in_yard and "cam-yard-out" in w.equipment.cameras:
                    # Refused while parked: seen out past the yard gate, which frees its slot.
                    yield from _identify(w, t, "cam-yard-out")
                _leave_yard(w, t, yard_customer)
                return "refused"
            route = None


def _leave_bay(w: GateWorld, t: TruckRun, bay_customer: int | None, stamp: bool = True) -> None:
    """The truck drives out of its inspection bay, which is free for the next one."""
    _leave(w, t, "inspection", bay_customer)
    if stamp:
        w.probes.log.stamp(t.row, "inspection_out", w.env.now)
    bays = w.inspection_bays
    if t.bay_request is not None and bays is not None:
        bays.release(t.bay_request)
        t.bay_request = None
    t.at_bay = None


def _yard_business(w: GateWorld, t: TruckRun) -> None:
    """What happens once a truck is parked: the fee at the counter, the AGV handover."""
    if t.fee_state == "due":
        w.pay_at_counter(t)
    if t.plan.declaration.crossing_mode is CrossingMode.AGV_LANE and not t.handed_over:
        w.env.process(w.hand_over_containers(t))
    if t.plan.declaration.transshipment and not t.loading_registered:
        t.loading_registered = True
        w.register_loading(t)


def _leave_yard(w: GateWorld, t: TruckRun, yard_customer: int | None) -> None:
    if t.in_yard:
        t.in_yard = False
        w.counter(YARD_OCCUPANCY).add(w.env.now, -1)
        _leave(w, t, "yard", yard_customer)
        w.probes.log.stamp(t.row, "yard_out", w.env.now)


def _exit(w: GateWorld, t: TruckRun) -> ProcessGenerator:
    """Barrier 2. Returns "departed", or the route back into the yard.

    As at barrier 1, the truck queues for a place at the barrier of the exit lane with the
    fewest trucks, and is read and checked there.
    """
    env = w.env
    yield env.timeout(DRIVE_S["to_exit"])
    barrier_id = min(w.exit_barriers, key=lambda b: _lane_load(w, b))
    lane = barrier_id.removeprefix("barrier-out-")
    w.probes.log.stamp(t.row, "exit_in", env.now)
    places = w.lane_places.get(barrier_id)
    customer = _enter(w, t, "exit_lane", served=places is None)
    place = None
    if places is not None:
        # Routes other than back into the yard mean nothing here, as at the arm.
        place, elsewhere, _ = yield from _queue_for(t, places, (Station.YARD,))
        if elsewhere is not None:
            _leave(w, t, "exit_lane", customer, abandoned=True)
            if t.fee_state not in ("online", "counter", "paid"):
                t.fee_state = "due"
            return elsewhere
        w.station("exit_lane").start_service(env.now, customer)
    w.probes.log.stamp(t.row, "exit_at_barrier", env.now)
    camera = f"cam-out-{lane}"
    if camera in w.equipment.cameras:
        yield from _identify(w, t, camera)
    passing = w.equipment.barriers[barrier_id].pass_vehicle(t.plan.truth)
    while not passing.triggered:
        route = yield from _route_before(t, passing)
        if route is None:
            break
        if route.station is Station.YARD:
            passing.interrupt("sent back into the yard")
            _leave_lane(w, t, "exit_lane", customer, places, place)
            if t.fee_state not in ("online", "counter", "paid"):
                t.fee_state = "due"
            return route
    _leave_lane(w, t, "exit_lane", customer, places, place)
    w.probes.log.stamp(t.row, "departed", env.now)
    return "departed"


def _lane_load(w: GateWorld, barrier_id: str) -> int:
    """Trucks at a lane's barrier and queued behind it."""
    places = w.lane_places.get(barrier_id)
    if places is None:
        return w.equipment.barriers[barrier_id].queue_length
    return places.count + len(places.queue)
