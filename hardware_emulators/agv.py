"""The driverless AGV fleet on the cross-border container lane (smart gate).

A mission (``DispatchAgv``) runs: wait for a free AGV at the handover point, crane handover
of the container, drive to the border line, wait there while the partner side does not
accept, drive on to the partner's delivery point and deliver (``AgvArrived``), drive back
empty. The lane at Huu Nghi is about 3.6 km (about 500 m on the Vietnamese side); the Tan
Thanh - Po Chai pilot ran 6 AGVs on a 2.4 km closed lane (docs/DOMAIN.md, "Devices").

Each AGV breaks down at rate ``1 / mtbf_s`` while driving (waiting does not wear it). A
breakdown before delivery abandons the mission: ``AgvFaulted`` is reported and the core
decides whether to redispatch; the AGV is recovered and repaired (``mttr_s``) before it
rejoins the fleet. A breakdown on the empty return leg costs only the repair.

After ``missions_per_charge`` missions an AGV charges for ``charge_s`` before its next one.
A fleet outage (lane control down) keeps loaded AGVs from departing; AGVs already on the lane
carry on.

Containers wait for an AGV on the stack at the handover point. With ``stack_slots`` places, a
container taken off its truck needs a free place first (``place``): the yard's crane asks for
one and waits, with the truck, when every place is taken. A container leaves the stack when the
crane puts it on an AGV, or when people take it off by hand (``unstack``); ``on_unstacked`` is
told of each, for the twin's probes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import simpy
from simpy.resources.resource import Request

from gate.commands import DispatchAgv
from gate.deadlines import merge_spells
from gate.events import AgvArrived, AgvFaulted
from hardware_emulators.base import (
    EmulatedDevice,
    OutageLike,
    ProcessGenerator,
    Sampler,
    draw_duration,
    require_positive,
)


@dataclass(slots=True)
class _Agv:
    number: int
    missions_since_charge: int = 0


def _merge_closures(device_id: str, closures: Iterable[tuple[float, float]]) -> tuple[tuple[float, float], ...]:
    spans = []
    for start, end in closures:
        if not (math.isfinite(start) and math.isfinite(end)) or start < 0 or end <= start:
            raise ValueError(f"{device_id}: a partner closure needs 0 <= start_s < end_s (got ({start}, {end}))")
        spans.append((float(start), float(end)))
    return merge_spells(tuple(spans))


class AgvFleet(EmulatedDevice):
    """The AGV fleet of one cross-border lane (implements ``gate.ports.AgvFleetPort``).

    Args:
        env: the simulation environment.
        device_id: the fleet's id in the gate configuration.
        rng: the fleet's random stream (breakdowns).
        n_agvs: AGVs in the fleet.
        lane_km: one-way length of the lane, handover point to partner delivery point.
        speed_kmh: AGV speed, loaded or empty.
        handover_s: crane time to put one container on an AGV.
        cranes: cranes at the handover point (handovers at once).
        border_km: distance from the handover point to the border line, where loaded AGVs wait
            while the partner does not accept (default: the whole lane).
        missions_per_charge: missions an AGV runs on one charge (None: batteries never limit).
        charge_s: charging time (required with ``missions_per_charge``).
        mtbf_s: mean driving time between breakdowns of one AGV (None: no breakdowns).
        mttr_s: recovery and repair time of a broken-down AGV (required with ``mtbf_s``).
        closures: ``(start_s, end_s)`` spans in which the partner side does not accept.
        outages: scheduled outages of the whole lane (see ``FaultModel``).
        stack_slots: container places on the stack at the handover point (None: no limit).
    """

    def __init__(
        self,
        env: simpy.Environment,
        device_id: str,
        rng: np.random.Generator,
        *,
        n_agvs: int,
        lane_km: float,
        speed_kmh: float,
        handover_s: Sampler,
        cranes: int = 1,
        border_km: float | None = None,
        missions_per_charge: int | None = None,
        charge_s: Sampler | None = None,
        mtbf_s: float | None = None,
        mttr_s: Sampler | None = None,
        closures: Iterable[tuple[float, float]] = (),
        outages: Iterable[OutageLike] = (),
        stack_slots: int | None = None,
    ) -> None:
        super().__init__(env, device_id, rng, outages=outages)
        if n_agvs < 1:
            raise ValueError(f"{device_id}: n_agvs must be >= 1 (got {n_agvs})")
        if cranes < 1:
            raise ValueError(f"{device_id}: cranes must be >= 1 (got {cranes})")
        self.lane_km = require_positive(device_id, "lane_km", lane_km)
        self.speed_kmh = require_positive(device_id, "speed_kmh", speed_kmh)
        self.border_km = (
            lane_km if border_km is None else require_positive(device_id, "border_km", border_km, allow_zero=True)
        )
        if self.border_km > lane_km:
            raise ValueError(f"{device_id}: border_km must not exceed lane_km (got {border_km} > {lane_km})")
        if (missions_per_charge is None) != (charge_s is None):
            raise ValueError(f"{device_id}: give both missions_per_charge and charge_s, or neither")
        if missions_per_charge is not None and missions_per_charge < 1:
            raise ValueError(f"{device_id}: missions_per_charge must be >= 1 (got {missions_per_charge})")
        if (mtbf_s is None) != (mttr_s is None):
            raise ValueError(f"{device_id}: give both mtbf_s and mttr_s for breakdowns, or neither")
        if stack_slots is not None and (isinstance(stack_slots, bool) or stack_slots < 1):
            raise ValueError(f"{device_id}: stack_slots must be >= 1 or None (got {stack_slots})")
        self.n_agvs = n_agvs
        self.stack_slots = stack_slots
        #: The stack's places (None: no limit), and the containers on it with the place each holds.
        self._stack = simpy.Resource(env, capacity=stack_slots) if stack_slots is not None else None
        self._stacked: dict[str, Request | None] = {}
        #: Called with a container's number and whether an AGV took it (else people did) when it
        #: leaves the stack.
        self.on_unstacked: Callable[[str, bool], None] | None = None
        self._mtbf_s = None if mtbf_s is None else require_positive(device_id, "mtbf_s", mtbf_s)
        self._mttr_s = mttr_s
        self._handover_s = handover_s
        self._missions_per_charge = missions_per_charge
        self._charge_s = charge_s
        self.closures = _merge_closures(device_id, closures)
        #: Free AGVs at the handover point.
        self.depot: simpy.Store = simpy.Store(env, capacity=n_agvs)
        self.depot.items.extend(_Agv(number=i) for i in range(n_agvs))
        #: Cranes at the handover point.
        self.cranes = simpy.Resource(env, capacity=cranes)
        self._on_mission_since: dict[int, float] = {}
        self._closed_busy_s = 0.0
        #: Missions received, delivered, abandoned on a breakdown.
        self.dispatched = 0
        self.delivered = 0
        self.abandoned = 0
        #: Breakdowns (before or after delivery), charges, and the time they took.
        self.breakdowns = 0
        self.repair_s = 0.0
        self.charges = 0
        self.charging_s = 0.0
        #: Loaded AGVs waiting at the border line right now, and the total time spent so.
        self.waiting_at_line = 0
        self.line_wait_s = 0.0

    @property
    def travel_s(self) -> float:
        """Time to drive the whole lane one way."""
        return self.lane_km / self.speed_kmh * 3600.0

    @property
    def queue_length(self) -> int:
        """Missions waiting for a free AGV."""
        return len(self.depot.get_queue)

    @property
    def busy_s(self) -> float:
        """AGV-seconds spent on missions so far (handover to return or breakdown)."""
        now = self.env.now
        return self._closed_busy_s + sum(now - since for since in self._on_mission_since.values())

    def utilisation(self) -> float:
        """Share of the fleet's AGV-time spent on missions since t=0."""
        if self.env.now <= 0:
            return 0.0
        return self.busy_s / (self.n_agvs * self.env.now)

    @property
    def stacked(self) -> int:
        """Containers on the stack now, waiting for an AGV."""
        return len(self._stacked)

    def on_stack(self, container_no: str) -> bool:
        """Whether ``container_no`` is on the stack now."""
        return container_no in self._stacked

    def place(self) -> Request | None:
        """A request for a place on the stack, to yield until it is granted and then hand to
        ``stack`` (or to ``give_back`` if the container is not put there after all); None when
        the stack has no limit."""
        return self._stack.request() if self._stack is not None else None

    def give_back(self, place: Request | None) -> None:
        """Give up a place asked for or granted, for a container not put on the stack."""
        if place is None:
            return
        assert self._stack is not None
        if place.triggered:
            self._stack.release(place)
        else:  # still waiting for a place: leave the line
            place.cancel()

    def stack(self, container_no: str, place: Request | None) -> bool:
        """Put a container on the stack, in the ``place`` granted for it; False (and the place given
        back) when a container of that number is on it already."""
        if container_no in self._stacked:
            self.give_back(place)
            return False
        self._stacked[container_no] = place
        return True

    def unstack(self, container_no: str, by_agv: bool = False) -> bool:
        """Take a container off the stack (onto an AGV, or by hand), freeing its place; False when
        it is not on the stack."""
        if container_no not in self._stacked:
            return False
        self.give_back(self._stacked.pop(container_no))
        if self.on_unstacked is not None:
            self.on_unstacked(container_no, by_agv)
        return True

    def partner_accepting(self, now: float) -> bool:
        """Whether the partner side accepts deliveries at ``now``."""
        return all(not (start <= now < end) for start, end in self.closures)

    def dispatch(self, command: DispatchAgv) -> None:
        """Start a mission carrying ``command.container_no`` across the line."""
        if command.device_id != self.device_id:
            raise ValueError(f"{self.device_id}: received a command addressed to {command.device_id!r}")
        self.dispatched += 1
        self.env.process(self._mission(command))

    def _mission(self, command: DispatchAgv) -> ProcessGenerator:
        agv: _Agv = yield self.depot.get()
        self._on_mission_since[agv.number] = self.env.now
        delivered = False
        broke_down = False
        try:
            with self.cranes.request() as crane:
                yield crane
                yield self.env.timeout(draw_duration(self.device_id, "handover_s", self._handover_s))
            self.unstack(command.container_no, by_agv=True)  # a re-dispatch after a breakdown finds it gone
            while self.is_down:
                yield self.fault_model.when_up()
            if (yield from self._drive(self.border_km)):
                yield from self._wait_for_acceptance()
                if (yield from self._drive(self.lane_km - self.border_km)):
                    delivered = True
                    self.delivered += 1
                    self._emit(AgvArrived(device_id=self.device_id, mission_id=command.mission_id,
                                          attempt=command.attempt))
                    broke_down = not (yield from self._drive(self.lane_km))
                else:
                    broke_down = True
            else:
                broke_down = True
        finally:
            self._closed_busy_s += self.env.now - self._on_mission_since.pop(agv.number)
        if broke_down:
            yield from self._break_down(agv, command, delivered)
        agv.missions_since_charge += 1
        if self._missions_per_charge is not None and agv.missions_since_charge >= self._missions_per_charge:
            assert self._charge_s is not None
            duration = draw_duration(self.device_id, "charge_s", self._charge_s)
            yield self.env.timeout(duration)
            self.charges += 1
            self.charging_s += duration
            agv.missions_since_charge = 0
        yield self.depot.put(agv)

    def _break_down(self, agv: _Agv, command: DispatchAgv, delivered: bool) -> ProcessGenerator:
        self.breakdowns += 1
        if not delivered:
            self.abandoned += 1
            self._emit(
                AgvFaulted(
                    device_id=self.device_id,
                    mission_id=command.mission_id,
                    reason=f"AGV {agv.number} broke down carrying {command.container_no}",
                    attempt=command.attempt,
                )
            )
        assert self._mttr_s is not None
        duration = draw_duration(self.device_id, "mttr_s", self._mttr_s)
        yield self.env.timeout(duration)
        self.repair_s += duration

    def _drive(self, km: float) -> Generator[simpy.Event, Any, bool]:
        """Drive ``km``; False if the AGV broke down on the way (it stops where it broke)."""
        duration = km / self.speed_kmh * 3600.0
        if self._mtbf_s is not None and duration > 0:
            # Memoryless wear: a fresh draw per leg gives breakdowns at 1/MTBF of driving time.
            to_failure = float(self._rng.exponential(self._mtbf_s))
            if to_failure < duration:
                yield self.env.timeout(to_failure)
                return False
        yield self.env.timeout(duration)
        return True

    def _wait_for_acceptance(self) -> ProcessGenerator:
        arrived = self.env.now
        self.waiting_at_line += 1
        try:
            for start, end in self.closures:
                if start <= self.env.now < end:
                    yield self.env.timeout(end - self.env.now)
        finally:
            self.waiting_at_line -= 1
            self.line_wait_s += self.env.now - arrived
