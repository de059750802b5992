"""Build and wire one replication: scenario -> core config, devices, desks, trucks, probes.

The phases are explicit (ARCHITECTURE.md, "The twin"): ``build`` makes everything from the
scenario and the seed, ``wire`` connects it (devices report to the world, trucks start), and
``twin.run`` runs and collects. Nothing here runs the clock.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import simpy

from gate.config import GateConfig, TimeoutConfig, YardConfig
from gate.core import GateCore
from gate.deadlines import working_spells
from gate.enums import ClearanceKind, Role, VehicleClass
from hardware_emulators import AgencyDesk, AgvFleet, Barrier, PartnerLink, PlateCamera, Scale, Scanner
from scenarios.layout import device_inventory
from scenarios.schema import Scenario
from scenarios.values import capacity_value, clock_hours, mtbf_value
from twin.fleet import TruckPlan, closure_spells, make_trucks
from twin.people import (
    Declarants,
    Drivers,
    Officers,
    StatisticalDeclarants,
    StatisticalDrivers,
    StatisticalOfficers,
)
from twin.probes import AGV_STACK, ROAD_QUEUE_KM, ROAD_QUEUE_TRUCKS, YARD_OCCUPANCY, CounterProbe, StationProbe, TruckLog
from twin.streams import Sampler, Streams, sampler
from twin.trucks import STAGING_OCCUPANCY, truck_life
from twin.world import MANUAL_PLATE_S, ROLE_ACCOUNT, Equipment, GateWorld, Mailbox, Probes, TruckRun

HOUR = 3600.0
_AGENCY_ROLES = (Role.MEDICAL, Role.BORDER_GUARD, Role.HEALTH_QUARANTINE, Role.ANIMAL_QUARANTINE,
                 Role.PLANT_QUARANTINE, Role.CUSTOMS, Role.FEE_COLLECTOR)
#: "unlimited" officers: enough that nobody ever waits for one.
_UNLIMITED_OFFICERS = 100_000


@dataclass(slots=True)
class People:
    """The behaviour models a replication uses (statistical by default; Mesa agents plug in here)."""

    declarants: Declarants
    drivers: Drivers
    officers: Officers
    #: The trucks as the people planned them (which enterprise sends each, when it declares,
    #: whether its data are wrong); None keeps the plans the factory was given.
    plans: list[TruckPlan] | None = None
    #: Declarants' compliance scores known before the run, added to ``core.risk.compliance``.
    compliance: Mapping[str, float] = field(default_factory=dict)
    #: Called once the world is wired, to start the people's own processes (corridor, police).
    start: Callable[[GateWorld], None] | None = None


#: Makes the people of one replication; ``twin.agents_people.agents_people`` uses Mesa agents.
PeopleFactory = Callable[[Scenario, Streams, list[TruckPlan]], People]


def statistical_people(scenario: Scenario, streams: Streams, plans: list[TruckPlan]) -> People:
    return People(
        declarants=StatisticalDeclarants(streams.get("declarants")),
        drivers=StatisticalDrivers(streams.get("drivers"), scenario.traffic.driver_compliance),
        officers=StatisticalOfficers(scenario, streams.get("officers")),
    )


def gate_config(scenario: Scenario, compliance: Mapping[str, float] | None = None) -> GateConfig:
    """The clearance core's configuration for this scenario's gate.

    Without plate cameras (phase 1) every checkpoint still has a plate terminal, where an
    officer types the plate: the core sees the same events, later and without errors.
    ``compliance`` adds declarants' known scores to the scenario's (the scenario's win on a clash).
    """
    core = scenario.core
    layout = scenario.layout
    accounts = {account: (role,) for role, account in ROLE_ACCOUNT.items()}
    yard_capacity = {VehicleClass(c): int(capacity_value(v)) for c, v in layout.yard.items()
                     if not math.isinf(capacity_value(v))}
    for vehicle_class in VehicleClass:  # a class the layout leaves out has no slots
        if vehicle_class not in layout.yard:
            yard_capacity[vehicle_class] = 0
    staging = {name: (1_000_000 if math.isinf(capacity_value(v)) else int(capacity_value(v)))
               for name, v in layout.staging_areas.items()}
    risk = core.risk
    if compliance:
        risk = risk.model_copy(update={"compliance": {**compliance, **risk.compliance}})
    return GateConfig(
        gate_id=scenario.name,
        devices=device_inventory(layout, plate_cameras=True),
        accounts=accounts,
        risk=risk,
        weight=core.weight,
        fees=core.fees,
        traffic=core.traffic,
        timeouts=_timeouts(scenario),
        yard=YardConfig(capacity=yard_capacity, perishable_priority=scenario.demand.perishable.priority,
                        staging_areas=staging, call_when_checked=core.call_when_checked),
        plate_confidence_threshold=core.plate_confidence_threshold,
        medical_check=core.medical_check,
        automated_border_check=core.automated_border_check,
        scanner_first=core.scanner_first,
    )


#: ``working_spells`` of an agency on duty around the clock.
_ALL_DAY = ((0.0, 86_400.0),)


def _timeouts(scenario: Scenario) -> TimeoutConfig:
    """The core's time limits; unless the scenario gives the agencies' working hours itself, they
    are their shifts, so a service level counts only the hours someone is on duty to meet it.
    Unless the scenario sets them (to other than the core's defaults), the gate's closures are the
    core's ``closed`` spells (and ``closed_for`` those of an agency that works through some),
    which no service level and no limit on a truck called forward or a payment awaiting
    confirmation counts; and the limit on an AGV under way grows by the longest closure of the
    partner side, which the core does not know of."""
    timeouts = scenario.core.timeouts
    # A limit at the core's default is taken as not given (a scenario read back from its dump, as
    # ``--set`` and ``--hours`` make them, has every field set).
    default = TimeoutConfig()
    given = {name for name in ("agv_report_s", "closed", "closed_for")
             if getattr(timeouts, name) != getattr(default, name)}
    limits: dict[str, object] = {}
    # While the gate is closed no agency works (``closure_spells``): a truck called forward just
    # before it waits at staging, a payment waits for the reopening (``GateWorld._officers_delay``),
    # and the core's limits on them, as its service levels, count none of it.
    if scenario.closures and "closed" not in given:
        limits["closed"] = tuple(closure_spells(scenario))
    # An agency at work through some closures (``Closure.staffed``) meets its service levels then.
    staffed = {role for closure in scenario.closures for role in closure.staffed}
    if staffed and "closed_for" not in given:
        limits["closed_for"] = {role: tuple(closure_spells(scenario, role)) for role in sorted(staffed)}
    # An AGV sent just before the partner side stops accepting waits the closure out: the limit
    # on hearing of it lasts that long more.
    lane = scenario.layout.agv_lane
    partner = [w.duration_h for w in lane.partner_closures] if lane is not None else []
    if partner and "agv_report_s" not in given:
        limits["agv_report_s"] = timeouts.agv_report_s + max(partner) * HOUR
    if limits:
        timeouts = timeouts.model_copy(update=limits)
    if timeouts.working_hours:
        return timeouts
    hours: dict[Role, tuple[tuple[float, float], ...]] = {}
    for role in _AGENCY_ROLES:
        staff = scenario.agencies.for_role(role)
        spells: list[tuple[float, float]] = []
        for start, end in staff.shifts:
            begin, finish = clock_hours(start), clock_hours(end)
            # A shift across midnight is two spells of the day (either may be empty).
            spells += [(begin, finish)] if finish > begin else [(begin, 24.0), (0.0, finish)]
        spells = sorted((s, e) for s, e in spells if e > s)
        if staff.officers != 0 and spells and working_spells(tuple(spells)) != _ALL_DAY:
            hours[role] = tuple(spells)
    return TimeoutConfig.model_validate({**timeouts.model_dump(), "working_hours": hours})


def _faults(mtbf_h: float | str, mttr: object, streams: Streams, name: str) -> dict[str, object]:
    mtbf = mtbf_value(mtbf_h)
    if math.isinf(mtbf):
        return {}
    return {"mtbf_s": mtbf * HOUR, "mttr_s": sampler(mttr, streams.get(f"{name}/repair"), scale=HOUR)}


def build_equipment(env: simpy.Environment, scenario: Scenario, streams: Streams) -> Equipment:
    """One emulator per device of the layout, each with its own named random stream."""
    devices = scenario.devices
    outages: dict[str, list[tuple[float, float]]] = {}
    for outage in devices.outages:
        for device_id in scenario.outage_devices(outage):
            outages.setdefault(device_id, []).append((outage.start_h * HOUR, outage.duration_h * HOUR))
    eq = Equipment()
    for spec in device_inventory(scenario.layout, plate_cameras=True):
        d = spec.device_id
        rng = streams.get(d)
        kind = spec.kind.value
        if kind == "barrier":
            eq.barriers[d] = Barrier(env, d, rng, sampler(devices.barrier.cycle_s, rng),
                                     outages=outages.get(d, ()), closures=closure_spells(scenario),
                                     **_faults(devices.barrier.mtbf_h, devices.barrier.mttr_h, streams, d))  # type: ignore[arg-type]
        elif kind == "plate_camera":
            eq.cameras[d] = _camera(env, scenario, d, rng, outages.get(d, []), streams)
        elif kind == "scale":
            s = devices.scale
            eq.scales[d] = Scale(env, d, rng, sampler(s.settle_s, rng), interval_kg=s.interval_kg,
                                 drift_kg_per_day=s.drift_kg_per_day, max_kg=s.capacity_kg,
                                 outages=outages.get(d, ()), **_faults(s.mtbf_h, s.mttr_h, streams, d))  # type: ignore[arg-type]
        elif kind == "scanner":
            scanner_type = scenario.layout.scanner_ids()[d]
            model = getattr(devices.scanners, scanner_type.value)
            eq.scanners[d] = Scanner(env, d, rng, scanner_type.value, sampler(model.scan_s, rng),
                                     p_detect=model.p_detect, p_false_alarm=model.p_false_alarm,
                                     outages=outages.get(d, ()),
                                     **_faults(model.mtbf_h, model.mttr_h, streams, d))  # type: ignore[arg-type]
        elif kind == "agv_fleet":
            lane = scenario.layout.agv_lane
            assert lane is not None
            closures = [(w.start_h * HOUR, w.end_h * HOUR) for w in lane.partner_closures]
            mtbf = mtbf_value(lane.mtbf_h)
            eq.fleet = AgvFleet(env, d, rng, n_agvs=lane.n_agvs, lane_km=lane.lane_km, speed_kmh=lane.speed_kmh,
                                handover_s=sampler(lane.handover_s, rng), missions_per_charge=lane.missions_per_charge,
                                charge_s=sampler(lane.charge_s, rng),
                                mtbf_s=None if math.isinf(mtbf) else mtbf * HOUR,
                                mttr_s=None if math.isinf(mtbf) else sampler(lane.mttr_h, rng, scale=HOUR),
                                closures=closures, outages=outages.get(d, ()),
                                stack_slots=None if lane.stack_slots == "unlimited" else int(lane.stack_slots))
        elif kind == "partner_link":
            link = devices.partner_link
            eq.link = PartnerLink(env, d, rng, sampler(link.latency_s, rng), p_loss=link.p_loss,
                                  outages=outages.get(d, ()))
    return eq


def _camera(env: simpy.Environment, scenario: Scenario, device_id: str, rng: object, outages: list[tuple[float, float]],
            streams: Streams) -> PlateCamera:
    model = scenario.devices.plate_camera
    if model is None:  # phase 1: an officer types every plate at the checkpoint
        return PlateCamera(env, device_id, rng, lambda: MANUAL_PLATE_S, p_correct=1.0, p_misread=0.0,  # type: ignore[arg-type]
                           p_noread=0.0)
    night_start, night_end = (clock_hours(t) * HOUR for t in model.night)
    rain = [(w.start_h * HOUR, w.end_h * HOUR, model.rain_factor) for w in model.rain]
    return PlateCamera(env, device_id, rng, sampler(model.latency_s, rng), p_correct=model.p_correct,  # type: ignore[arg-type]
                       p_misread=model.p_misread, p_noread=model.p_noread,
                       night=[(night_start, night_end, model.night_factor)], rain=rain, outages=outages)


def build_desks(env: simpy.Environment, scenario: Scenario, streams: Streams) -> tuple[dict[Role, AgencyDesk],
                                                                                      dict[ClearanceKind, Sampler]]:
    """The agencies' officers, and the service times of tasks that differ from their desk's.
    Every desk is off duty while the gate is closed, whatever its shifts, unless it works
    through the closure (``Closure.staffed``)."""
    desks: dict[Role, AgencyDesk] = {}
    for role in _AGENCY_ROLES:
        staff = scenario.agencies.for_role(role)
        officers = staff.officers
        if officers == 0:
            continue
        count = _UNLIMITED_OFFICERS if officers == "unlimited" else int(officers)
        shifts = [(clock_hours(start), clock_hours(end)) for start, end in staff.shifts]
        desks[role] = AgencyDesk(env, role, officers=count, shifts=shifts, off_duty=closure_spells(scenario, role),
                                 service_s=sampler(staff.service_s, streams.get(f"desk/{role.value}")))
    customs = scenario.agencies.customs
    fees = scenario.agencies.fee_collector
    tasks = {
        ClearanceKind.CUSTOMS_INSPECTION: sampler(customs.inspection_s, streams.get("desk/customs/inspection")),
        ClearanceKind.LOADING: sampler(customs.loading_s, streams.get("desk/customs/loading")),
        ClearanceKind.FEE: sampler(fees.online_confirmation_s, streams.get("desk/fees/online")),
    }
    return desks, tasks


def build_probes(scenario: Scenario, equipment: Equipment) -> Probes:
    stations = {name: StationProbe(name, None) for name in ("staging", "entry_lane", "yard", "inspection", "exit_lane")}
    for device_id in (*equipment.scales, *equipment.scanners):
        stations[device_id] = StationProbe(device_id, 1)
    if equipment.fleet is not None:  # containers waiting for an AGV, a place each
        stations[AGV_STACK] = StationProbe(AGV_STACK, equipment.fleet.stack_slots)
    counters = {name: CounterProbe(name) for name in (ROAD_QUEUE_TRUCKS, ROAD_QUEUE_KM, YARD_OCCUPANCY, STAGING_OCCUPANCY)}
    return Probes(TruckLog(), stations, counters)


def build(scenario: Scenario, replication: int = 0, seed: int | None = None,
          people_factory: PeopleFactory = statistical_people) -> GateWorld:
    """Everything one replication needs, wired and ready for ``env.run``.

    With the default people, a scenario with ``agents.enabled`` gets the Mesa agents
    (``twin.agents_people``); a factory passed explicitly is always used as given.
    """
    streams = Streams(scenario.run.seed if seed is None else seed, replication)
    env = simpy.Environment()
    plans = make_trucks(scenario, streams)
    if people_factory is statistical_people and scenario.agents.enabled:
        from twin.agents_people import agents_people  # Mesa is imported only when agents are used

        people_factory = agents_people
    people = people_factory(scenario, streams, plans)
    if people.plans is not None:
        plans = people.plans
    core = GateCore(gate_config(scenario, people.compliance))
    equipment = build_equipment(env, scenario, streams)
    desks, tasks = build_desks(env, scenario, streams)
    probes = build_probes(scenario, equipment)
    lane = scenario.layout.agv_lane
    handover = sampler(lane.handover_s, streams.get("yard/cranes")) if lane is not None else None
    world = GateWorld(env, scenario, core, equipment, desks, tasks, people.declarants, people.drivers,
                      people.officers, probes, streams.get("world"), handover)
    wire(world, plans)
    if people.start is not None:
        people.start(world)
    return world


def wire(world: GateWorld, plans: list[TruckPlan]) -> None:
    """Start every truck's declaration and life."""
    for plan in plans:
        d = plan.declaration
        row = world.probes.log.new_truck(
            visit_id=plan.visit_id, plate=d.vehicle_plate, direction=d.direction.value,
            vehicle_class=d.vehicle_class.value, cargo=sorted(c.value for c in d.categories)[0],
            crossing_mode=d.crossing_mode.value,
        )
        truck = TruckRun(plan=plan, row=row, mailbox=Mailbox(world.env), error=plan.error,
                         owner=f"ent-{d.declarant_id}")
        world.trucks[plan.visit_id] = truck
        world.declare(truck)
        world.env.process(truck_life(world, truck))
    world.generated = len(plans)
