"""The bare SimPy reference model: the same layout and the same trucks, nothing else.

The twin's speed is reported as a ratio against this model, measured in the same run
(ARCHITECTURE.md, "Performance budget"). It has the stations of the twin's gate — staging,
entry lanes, scales, scanners, agency officers, the yard, exit lanes — with the scenario's
service times and the same arrival process, but no clearance core, no device emulators, no
probes and no people models: each truck simply queues for each resource in turn. The channel
and the quarantine a truck needs are drawn with the scenario's shares.

It answers no planner's question; it is the cheapest honest SimPy model of the same flow.
"""

from __future__ import annotations

import math

import numpy as np
import simpy

from gate.enums import GoodsCategory, Role
from scenarios.schema import Scenario
from scenarios.values import capacity_value, clock_hours
from twin.fleet import arrival_times
from twin.streams import Sampler, Streams, sampler

HOUR = 3600.0
_QUARANTINE = {GoodsCategory.LIVE_ANIMALS: Role.ANIMAL_QUARANTINE, GoodsCategory.ANIMAL_PRODUCTS: Role.ANIMAL_QUARANTINE,
               GoodsCategory.PLANTS_FRUIT: Role.PLANT_QUARANTINE, GoodsCategory.FOODSTUFF: Role.HEALTH_QUARANTINE}


class BareGate:
    """Resources and service times of one gate, for the reference model."""

    def __init__(self, env: simpy.Environment, scenario: Scenario, streams: Streams) -> None:
        self.env = env
        self.scenario = scenario
        layout = scenario.layout
        self.rng = streams.get("bare")
        self.entry = simpy.Resource(env, capacity=layout.entry_lanes)
        self.exit = simpy.Resource(env, capacity=layout.exit_lanes)
        self.scales = simpy.Resource(env, capacity=layout.scales) if layout.scales else None
        self.scanners = simpy.Resource(env, capacity=layout.scanner_count) if layout.scanner_count else None
        yard = sum(capacity_value(v) for v in layout.yard.values())
        self.yard = simpy.Resource(env, capacity=int(yard) if math.isfinite(yard) else 1_000_000)
        devices = scenario.devices
        self.barrier_s = sampler(devices.barrier.cycle_s, self.rng)
        self.settle_s = sampler(devices.scale.settle_s, self.rng)
        scanner_model = devices.scanners.drive_through
        if layout.scanners:
            scanner_model = getattr(devices.scanners, layout.scanners[0].type.value)
        self.scan_s = sampler(scanner_model.scan_s, self.rng)
        self.officers: dict[Role, simpy.Resource] = {}
        self.service: dict[Role, Sampler] = {}
        for role in (Role.MEDICAL, Role.BORDER_GUARD, Role.HEALTH_QUARANTINE, Role.ANIMAL_QUARANTINE,
                     Role.PLANT_QUARANTINE, Role.CUSTOMS, Role.FEE_COLLECTOR):
            staff = scenario.agencies.for_role(role)
            if staff.officers == 0:
                continue
            count = 100_000 if staff.officers == "unlimited" else int(staff.officers)
            self.officers[role] = simpy.Resource(env, capacity=count)
            self.service[role] = sampler(staff.service_s, self.rng)
        self.open_h = min((clock_hours(s[0]) for s in scenario.agencies.border_guard.shifts), default=0.0)
        risk = scenario.core.risk
        self.p_red, self.p_yellow = risk.expected_red, risk.expected_yellow
        cargo = scenario.demand.cargo_mix
        self.categories = list(cargo)
        self.cargo_p = np.asarray([cargo[c] for c in self.categories], dtype=float)
        self.cargo_p /= self.cargo_p.sum()
        self.departed = 0

    def officer(self, role: Role) -> simpy.events.Process | None:
        if role not in self.officers:
            return None
        return self.env.process(self._serve(role))

    def _serve(self, role: Role):  # type: ignore[no-untyped-def]
        with self.officers[role].request() as request:
            yield request
            yield self.env.timeout(self.service[role]())

    def truck(self, arrival: float):  # type: ignore[no-untyped-def]
        env = self.env
        yield env.timeout(arrival - env.now)
        yield env.timeout(self.scenario.demand.approach_road_km / self.scenario.demand.approach_speed_kmh * HOUR)
        yard_slot = self.yard.request()
        yield yard_slot
        medical = self.officer(Role.MEDICAL)
        if medical is not None:
            yield medical
        with self.entry.request() as lane:
            yield lane
            guard = self.officer(Role.BORDER_GUARD)
            if guard is not None:
                yield guard
            yield env.timeout(self.barrier_s())
        u = self.rng.random()
        red, yellow = u < self.p_red, self.p_red <= u < self.p_red + self.p_yellow
        if self.scales is not None:
            with self.scales.request() as scale:
                yield scale
                yield env.timeout(self.settle_s())
        if red and self.scanners is not None:
            with self.scanners.request() as scanner:
                yield scanner
                yield env.timeout(self.scan_s())
        category = self.categories[int(self.rng.choice(len(self.categories), p=self.cargo_p))]
        work = [self.officer(Role.FEE_COLLECTOR)]
        if category in _QUARANTINE:
            work.append(self.officer(_QUARANTINE[category]))
        if red or yellow:
            work.append(self.officer(Role.CUSTOMS))
        pending = [p for p in work if p is not None]
        if pending:
            yield env.all_of(pending)
        self.yard.release(yard_slot)
        with self.exit.request() as lane:
            yield lane
            guard = self.officer(Role.BORDER_GUARD)
            if guard is not None:
                yield guard
            yield env.timeout(self.barrier_s())
        self.departed += 1


def run_bare(scenario: Scenario, replication: int = 0, seed: int | None = None) -> BareGate:
    """Run the reference model over the scenario's horizon with the twin's arrivals."""
    streams = Streams(scenario.run.seed if seed is None else seed, replication)
    env = simpy.Environment()
    gate = BareGate(env, scenario, streams)
    for arrival in arrival_times(scenario, streams.get("arrivals")):
        env.process(gate.truck(float(arrival)))
    env.run(until=scenario.run.horizon_h * HOUR)
    return gate
