"""The Mesa agents of ``agents/`` wired into one replication (``scenario.agents.enabled``).

``agents_people`` is a ``PeopleFactory``: it builds the enterprise population and the
corridor (drivers, staging areas, traffic police) from the scenario and the replication's
named random streams, re-plans the trucks (which enterprise sends each, when it declares,
whether its data are wrong), and returns one ``AgentPeople`` that is at once the declarants
and the drivers of the run; officers stay statistical.

SimPy is the only clock. ``AgentPeople.start`` adds these processes to the world:

* the **corridor clock** steps the drivers on the road every ``step_s`` (only while someone
  drives), reports their positions to the core (one ``PositionsReported`` per step through the
  telematics feed, or a ``GpsPing`` each without one) and wakes each truck at
  the moment it reaches the back of the queue;
* the **checkpoint** lets trucks the core called forward drive on to barrier 1 when the
  forecourt has room (looking every ``release_check_s`` while trucks wait for it);
* the **patrol** (with channelling only) carries out the police's moves from the road into
  the staging areas and sends their manual releases to the core (``StagingReleaseOrdered``);
* the **observer** samples both models' ``DataCollector`` series every ``collect_every_s``.

Every move between the road and a staging area goes through ``_place``, which keeps the
road-queue counters (trucks and km) and the staging-occupancy counter in step with the
corridor model. Wall-clock seconds spent inside the agents' own calls are added up in
``agent_seconds`` (not in the results: those must not depend on the machine).

``AgentPeople.results`` hands the run its KPIs (``twin.people.PEOPLE_KPIS``: truck-hours on the
road and in the staging areas, mean waits at the checkpoint) and the ``DataCollector`` series
(``CORRIDOR_SERIES``, ``DECLARANT_SERIES``), which ``twin.results.write_results`` writes as
Parquet tables and ``twin.plots`` draws as ``agents.png``.
"""

from __future__ import annotations

import dataclasses
import math
from collections import deque
from collections.abc import Generator
from time import perf_counter
from typing import Any

import numpy as np
import pandas as pd
import simpy

from agents import POLICE_ACCOUNT, ROAD, Corridor, Driver, Enterprise, EnterprisePopulation
from gate import events as ev
from gate.commands import RouteTo
from gate.enums import Station
from scenarios.schema import Scenario
from scenarios.values import capacity_value
from twin.build import People
from twin.fleet import TruckPlan, closed_at
from twin.people import CORRIDOR_SERIES, DECLARANT_SERIES, PEOPLE_KPIS, StatisticalOfficers
from twin.probes import ROAD_QUEUE_KM, ROAD_QUEUE_TRUCKS
from twin.stats import time_integral
from twin.streams import Streams, sampler
from twin.trucks import DRIVE_S, STAGING_OCCUPANCY, next_route, take_route
from twin.world import GateWorld, TruckRun

HOUR = 3600.0
ProcessGenerator = Generator[simpy.Event, Any, Any]


class AgentPeople:
    """Enterprises, drivers and traffic police of one replication; see the module docstring.

    Implements ``twin.people.Declarants``, ``CorridorDrivers`` and ``Reporting``.
    """

    def __init__(self, scenario: Scenario, streams: Streams, plans: list[TruckPlan]) -> None:
        settings = scenario.agents
        demand = scenario.demand
        self.scenario = scenario
        self.agent_seconds = 0.0
        started = perf_counter()
        ent = settings.enterprises
        ent_rng = streams.get("agents/enterprises")
        self.enterprises = EnterprisePopulation(
            rng=ent_rng, count=ent.count, cargo_mix=demand.cargo_mix, volume_skew=ent.volume_skew,
            error_rate=demand.declaration_error_rate, error_concentration=ent.error_concentration,
            lead_h=sampler(ent.lead_h, ent_rng), lead_cv=ent.lead_cv, amend_h=sampler(ent.amend_h, ent_rng),
            amend_cv=ent.amend_cv, pay_online_s=ent.pay_online_min * 60.0,
            loading_registration_s=ent.loading_registration_min * 60.0, history_days=ent.history_days,
            trucks_per_day=demand.trucks_per_day, default_compliance=scenario.core.risk.default_compliance,
        )
        self._enterprise: dict[str, Enterprise] = {e.enterprise_id: e for e in self.enterprises.enterprises}
        self.plans = [self._replan(plan) for plan in plans]
        self.compliance = self.enterprises.compliance_scores()
        corridor = settings.corridor
        police = settings.police
        self.corridor = Corridor(
            rng=streams.get("agents/corridor"), road_km=demand.approach_road_km, speed_kmh=demand.approach_speed_kmh,
            speed_cv=corridor.speed_cv, compliance=scenario.traffic.driver_compliance,
            jam_spacing_m=demand.queue_spacing_m, min_gap_s=corridor.min_gap_s, slow_zone_km=corridor.slow_zone_km,
            creep_share=corridor.creep_share, segment_km=corridor.segment_km,
            areas={name: capacity_value(c) for name, c in scenario.layout.staging_areas.items()},
            channelling=scenario.traffic.channelling, overflow_spill=police.overflow_spill,
            release_batch=police.release_batch, release_cooldown_s=police.release_cooldown_s,
        )
        speeds, obeys = self.corridor.draw_habits(len(self.plans))
        self._habits = {plan.visit_id: (float(speed), bool(obey)) for plan, speed, obey in zip(self.plans, speeds, obeys)}
        self.agent_seconds += perf_counter() - started
        self.step_s = corridor.step_s if corridor.step_s is not None else scenario.traffic.gps_ping_s
        self.forecourt_capacity = capacity_value(scenario.layout.forecourt_per_lane) * scenario.layout.entry_lanes
        self._drivers: dict[str, Driver] = {}
        self._arriving: dict[str, simpy.Event] = {}
        self._going: dict[str, simpy.Event] = {}
        self._in_transit: deque[float] = deque()  # when trucks left the checkpoint for barrier 1
        self._next_step = 0.0
        self._corridor_idle: simpy.Event | None = None
        self._checkpoint_idle: simpy.Event | None = None
        self._observed_at = -math.inf  # when the series were last sampled

    def _replan(self, plan: TruckPlan) -> TruckPlan:
        """The truck as its enterprise sends it: the sender, when it declares, whether the data are wrong."""
        sender = self.enterprises.sender(plan.declaration.goods[0].category)
        trip = self.enterprises.plan_trip(sender, plan.arrival_s)
        declaration = plan.declaration.model_copy(
            update={"declarant_id": sender.enterprise_id, "declarant_name": sender.name})
        return dataclasses.replace(plan, declaration=declaration, declare_at_s=trip.declare_at_s, error=trip.error)

    # ------------------------------------------------------------------ declarants

    def _sender(self, plan: TruckPlan) -> Enterprise:
        return self._enterprise[plan.declaration.declarant_id]

    def amendment_delay_s(self, plan: TruckPlan, now: float) -> float:
        """The sending enterprise's time to fix this returned declaration."""
        started = perf_counter()
        delay = self.enterprises.amendment_delay_s(self._sender(plan), now)
        self.agent_seconds += perf_counter() - started
        return delay

    def online_payment_delay_s(self, plan: TruckPlan, now: float) -> float:
        """The sending enterprise's time to pay the fee online."""
        started = perf_counter()
        delay = self.enterprises.online_payment_delay_s(self._sender(plan))
        self.agent_seconds += perf_counter() - started
        return delay

    def loading_registration_delay_s(self, plan: TruckPlan, now: float) -> float:
        """The sending enterprise's time to register the loading once the truck is parked."""
        started = perf_counter()
        delay = self.enterprises.loading_registration_delay_s(self._sender(plan))
        self.agent_seconds += perf_counter() - started
        return delay

    def on_returned(self, plan: TruckPlan, now: float) -> None:
        """The sending enterprise learns that its declaration was returned."""
        started = perf_counter()
        self.enterprises.on_returned(self._sender(plan), now)
        self.agent_seconds += perf_counter() - started

    # ------------------------------------------------------------------ drivers

    def obeys_hold(self, plan: TruckPlan, now: float) -> bool:
        """The habit of this truck's driver."""
        return self._habits[plan.visit_id][1]

    def _sync(self, world: GateWorld) -> None:
        """What the agents see of the world: the back of the road queue and the core's general advice."""
        self.corridor.queue_tail_km = world.counter(ROAD_QUEUE_KM).level
        self.corridor.hold = world.traffic_hold

    def approach(self, world: GateWorld, truck: TruckRun) -> ProcessGenerator:
        """Join the corridor at the start of the tracked road; return at the back of the queue."""
        env = world.env
        if self._corridor_idle is not None:  # nobody drives: the next step is the next whole step
            self._next_step = (math.floor(env.now / self.step_s) + 1) * self.step_s
        self._sync(world)
        speed, obeys = self._habits[truck.visit_id]
        started = perf_counter()
        driver, arrival = self.corridor.enter(truck.visit_id, truck.plan.truth.plate, speed, obeys, env.now,
                                              self._next_step)
        self.agent_seconds += perf_counter() - started
        self._drivers[truck.visit_id] = driver
        if arrival is not None:
            at = arrival.time
        else:
            arrived = self._arriving[truck.visit_id] = env.event()
            if self._corridor_idle is not None and not self._corridor_idle.triggered:
                self._corridor_idle.succeed()
            at = yield arrived
        yield env.timeout(max(0.0, at - env.now))

    def _drive(self, world: GateWorld) -> ProcessGenerator:
        """The corridor clock: ping, then step the drivers on the road to the next step."""
        env = world.env
        road_km = self.corridor.road_km
        while True:
            if not len(self.corridor.active):
                self._corridor_idle = env.event()
                yield self._corridor_idle
                self._corridor_idle = None
                continue
            yield env.timeout(max(0.0, self._next_step - env.now))
            now = env.now
            self._next_step = now + self.step_s
            world.report_positions([(f"app-{driver.visit_id}", ev.Position(driver.plate, driver.km, driver.speed_kmh))
                                    for driver in list(self.corridor.active) if 0.0 < driver.km <= road_km])
            self._sync(world)
            started = perf_counter()
            arrivals = self.corridor.advance(now, self._next_step)
            self.agent_seconds += perf_counter() - started
            for arrival in arrivals:
                self._arriving.pop(arrival.driver.visit_id).succeed(arrival.time)

    # ------------------------------------------------------------------ at the checkpoint

    def _driver_at_checkpoint(self, world: GateWorld, truck: TruckRun) -> Driver:
        """The truck's driver; one sent back from barrier 1 (yard full) stands at the checkpoint again."""
        driver = self._drivers.get(truck.visit_id)
        if driver is None:
            speed, obeys = self._habits[truck.visit_id]
            started = perf_counter()
            driver = self.corridor.at_checkpoint(truck.visit_id, truck.plan.truth.plate, speed, obeys, world.env.now)
            self.agent_seconds += perf_counter() - started
            self._drivers[truck.visit_id] = driver
        return driver

    def _place(self, world: GateWorld, driver: Driver, where: str) -> None:
        """Move a waiting truck (to the road or a staging area), keeping the counters right."""
        now = world.env.now
        started = perf_counter()
        before = self.corridor.place(driver, where, now)
        self.agent_seconds += perf_counter() - started
        if before == where:
            return
        if before is not None:
            self._count(world, before, -1)
        self._count(world, where, +1)

    def _count(self, world: GateWorld, where: str, delta: int) -> None:
        now = world.env.now
        if where == ROAD:
            world.counter(ROAD_QUEUE_TRUCKS).add(now, delta)
            world.counter(ROAD_QUEUE_KM).add(now, delta * self.scenario.demand.queue_spacing_m / 1000.0)
        else:
            world.counter(STAGING_OCCUPANCY).add(now, delta)

    def _direct(self, world: GateWorld, driver: Driver) -> None:
        """The police direct a truck that must wait (it stays where it is if they do not)."""
        self._sync(world)
        started = perf_counter()
        area = self.corridor.police.direct(driver)
        self.agent_seconds += perf_counter() - started
        if area is not None:
            self._place(world, driver, area)

    def reach_checkpoint(self, world: GateWorld, truck: TruckRun) -> None:
        """The truck stops at the back of the queue, on the road, for its plate read."""
        self._place(world, self._driver_at_checkpoint(world, truck), ROAD)

    def forecourt_room(self, world: GateWorld) -> int:
        """Free places between the checkpoint and barrier 1 (trucks at barrier 1, queued in the
        lanes and on their way there count); a large number when the forecourt is unlimited."""
        now = world.env.now
        transit = self._in_transit
        while transit and transit[0] <= now - DRIVE_S["to_entry"]:
            transit.popleft()
        lanes = world.station("entry_lane")
        room = self.forecourt_capacity - lanes.busy - lanes.queue - len(transit)
        return int(min(room, 1_000_000))

    def wait_at_staging(self, world: GateWorld, truck: TruckRun) -> Generator[simpy.Event, Any, RouteTo]:
        """Wait where the police direct until the core sends the truck on and the forecourt has room."""
        env = world.env
        driver = self._driver_at_checkpoint(world, truck)
        route: RouteTo | None = None
        go: simpy.Event | None = None
        while True:
            get = next_route(truck)
            if go is None:
                if not get.triggered:  # the core holds the truck (no yard slot for its class)
                    self._direct(world, driver)
                    yield get
                route = take_route(truck)
                if route.station is Station.AWAY:
                    break
                if route.station is not Station.ENTRY_LANE:
                    continue
                driver.called = True
                if not self.corridor.awaiting_forecourt and self.forecourt_room(world) > 0:
                    self._in_transit.append(env.now)
                    break
                started = perf_counter()
                self.corridor.queue_for_forecourt(driver)
                self.agent_seconds += perf_counter() - started
                go = self._going[truck.visit_id] = env.event()
                self._direct(world, driver)
                if self._checkpoint_idle is not None and not self._checkpoint_idle.triggered:
                    self._checkpoint_idle.succeed()
                continue
            yield go | get
            if go.triggered:
                break
            new_route = take_route(truck)
            if new_route.station is Station.AWAY:  # e.g. its declaration was returned while it waited
                self.corridor.awaiting_forecourt.pop(truck.visit_id, None)
                self._going.pop(truck.visit_id, None)
                route = new_route
                break
            if new_route.station is Station.ENTRY_LANE:
                route = new_route  # another entry lane: it keeps its turn
        assert route is not None
        reopens = closed_at(world.scenario, env.now)
        if reopens is not None and route.station is Station.ENTRY_LANE:  # called forward while the gate is closed
            yield env.timeout(reopens - env.now)
        started = perf_counter()
        before = self.corridor.leave(driver, env.now)
        driver.remove()
        self.agent_seconds += perf_counter() - started
        if before is not None:
            self._count(world, before, -1)
        del self._drivers[truck.visit_id]
        return route

    def _let_on(self, world: GateWorld) -> ProcessGenerator:
        """The checkpoint: trucks called forward drive on, in the order called, as the forecourt has room."""
        env = world.env
        check_s = self.scenario.agents.corridor.release_check_s
        while True:
            if not self.corridor.awaiting_forecourt:
                self._checkpoint_idle = env.event()
                yield self._checkpoint_idle
                self._checkpoint_idle = None
            yield env.timeout(check_s)
            room = self.forecourt_room(world)
            started = perf_counter()
            going = self.corridor.police.release_to_forecourt(room)
            self.agent_seconds += perf_counter() - started
            for driver in going:
                self._in_transit.append(env.now)
                self._going.pop(driver.visit_id).succeed()

    def _patrol(self, world: GateWorld) -> ProcessGenerator:
        """The traffic police's patrol: moves off the road, and manual releases when an area overflows."""
        env = world.env
        patrol_s = self.scenario.agents.police.patrol_s
        police = self.corridor.police
        while True:
            yield env.timeout(patrol_s)
            self._sync(world)
            room = self.forecourt_room(world)
            started = perf_counter()
            orders = police.patrol(env.now, room)
            self.agent_seconds += perf_counter() - started
            for driver, area in orders.moves:
                self._place(world, driver, area)
            if orders.release is not None:
                area, count = orders.release
                world.report(ev.StagingReleaseOrdered(POLICE_ACCOUNT, area, count))

    def _observe(self, world: GateWorld) -> ProcessGenerator:
        """Sample the agents' series (trucks by road segment, declarations awaiting amendment)."""
        env = world.env
        every = self.scenario.agents.collect_every_s
        while True:
            self._sample(world)
            yield env.timeout(every)

    def _sample(self, world: GateWorld) -> None:
        now = world.env.now
        self._sync(world)
        started = perf_counter()
        self.corridor.observe(now)
        self.enterprises.observe(now)
        self.agent_seconds += perf_counter() - started
        self._observed_at = now

    def start(self, world: GateWorld) -> None:
        """Start the corridor clock, the checkpoint, the patrol (with channelling) and the observer."""
        world.env.process(self._drive(world))
        world.env.process(self._let_on(world))
        if self.scenario.traffic.channelling:
            world.env.process(self._patrol(world))
        world.env.process(self._observe(world))

    # ------------------------------------------------------------------ results

    def results(self, world: GateWorld) -> dict[str, Any]:
        """The agents' KPIs, summary and tables for ``ReplicationResult.extra``.

        KPIs (over the run's window, after the warm-up): truck-hours queued on the road and in the
        staging areas, and the mean minutes a truck waited on the road and in an area at the
        checkpoint (over the trucks that left it in the window). Tables: the corridor's and the
        enterprises' ``DataCollector`` series, one row per passage and one per enterprise.
        """
        start, end = self.scenario.run.warmup_h * HOUR, self.scenario.run.horizon_h * HOUR
        if world.env.now > self._observed_at:  # the series end with the run, not at the last sample before it
            self._sample(world)
        road = world.counter(ROAD_QUEUE_TRUCKS).series()
        areas = world.counter(STAGING_OCCUPANCY).series()
        passages = self.corridor.collector.get_table_dataframe("passages")
        police = self.corridor.police

        in_window = passages["left_s"].to_numpy(dtype=float) >= start

        def mean_min(column: str) -> float:
            values = passages[column].to_numpy(dtype=float)[in_window]
            values = values[~np.isnan(values)]  # no approach time for a truck that did not drive the road
            return float(values.mean() / 60.0) if values.size else 0.0

        kpis = {
            "road_queue_truck_h": time_integral(road["time"], road["value"], start, end) / HOUR,
            "staging_area_truck_h": time_integral(areas["time"], areas["value"], start, end) / HOUR,
            "road_wait_mean_min": mean_min("road_wait_s"),
            "area_wait_mean_min": mean_min("area_wait_s"),
        }
        summary = {
            "enterprises": len(self.enterprises.enterprises),
            "compliance_scores_seeded": len(self.compliance),
            "passages": len(passages),
            "approach_mean_min": mean_min("approach_s"),
            "waiting_at_checkpoint_at_end": len(self.corridor.road) + sum(len(o) for o in self.corridor.occupants.values()),
            "police_directed": police.directed,
            "police_orders_ignored": police.ignored,
            "police_spills": police.spills,
            "manual_releases": police.releases,
            "manual_release_trucks": police.released,
        }
        enterprises = pd.DataFrame(self.enterprises.table())
        return {
            PEOPLE_KPIS: kpis,
            "agents": summary,
            CORRIDOR_SERIES: self.corridor.collector.get_model_vars_dataframe(),
            "agents_passages": passages,
            DECLARANT_SERIES: self.enterprises.collector.get_model_vars_dataframe(),
            "agents_enterprises": enterprises,
        }


def agents_people(scenario: Scenario, streams: Streams, plans: list[TruckPlan]) -> People:
    """A ``PeopleFactory``: enterprises and drivers as Mesa agents, officers statistical."""
    people = AgentPeople(scenario, streams, plans)
    return People(
        declarants=people,
        drivers=people,
        officers=StatisticalOfficers(scenario, streams.get("officers")),
        plans=people.plans,
        compliance=people.compliance,
        start=people.start,
    )


__all__ = ["AgentPeople", "agents_people"]
