"""A container scanner: one vehicle at a time, a scan time, an imperfect image assessment.

Two types stand at the gates (docs/DOMAIN.md, "Devices"): a drive-through scanner clears
about 50-150 vehicles an hour; a relocatable / portal scanner about 20-30 an hour.

A scan reports ``SUSPECT`` with probability ``p_detect`` when the load really would show
something, and with probability ``p_false_alarm`` when it would not. A fault during a scan
aborts it; the vehicle stays in the tunnel and is scanned afresh after the repair, so no scan
completes while the scanner is down.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from typing import Literal

import numpy as np
import simpy

from gate.commands import RequestScan
from gate.enums import ScanResult
from gate.events import ScanCompleted
from hardware_emulators.base import (
    WITHDRAWN,
    OutageLike,
    ProcessGenerator,
    Sampler,
    SingleVehicleDevice,
    VehicleTruth,
    draw_duration,
    require_probability,
)

ScannerKind = Literal["drive_through", "portal"]

#: Vehicles per hour each scanner type clears (docs/DOMAIN.md, "Devices").
THROUGHPUT_PER_H: dict[str, tuple[float, float]] = {
    "drive_through": (50.0, 150.0),
    "portal": (20.0, 30.0),
}


class Scanner(SingleVehicleDevice):
    """A container scanner (implements ``gate.ports.ScannerPort``).

    Args:
        env: the simulation environment.
        device_id: the scanner's id in the gate configuration.
        rng: the scanner's random stream (image assessments).
        kind: "drive_through" or "portal".
        scan_s: time one vehicle occupies the scanner (see ``Scanner.default_scan_s``).
        p_detect: probability a suspect load is flagged.
        p_false_alarm: probability a clean load is flagged.
        mtbf_s, mttr_s, outages: the scanner's faults (see ``FaultModel``).
    """

    def __init__(
        self,
        env: simpy.Environment,
        device_id: str,
        rng: np.random.Generator,
        kind: ScannerKind,
        scan_s: Sampler,
        *,
        p_detect: float,
        p_false_alarm: float,
        mtbf_s: float | None = None,
        mttr_s: Sampler | None = None,
        outages: Iterable[OutageLike] = (),
    ) -> None:
        super().__init__(env, device_id, rng, mtbf_s=mtbf_s, mttr_s=mttr_s, outages=outages)
        if kind not in THROUGHPUT_PER_H:
            raise ValueError(f"{device_id}: kind must be one of {sorted(THROUGHPUT_PER_H)} (got {kind!r})")
        self.kind = kind
        self._scan_s = scan_s
        self.p_detect = require_probability(device_id, "p_detect", p_detect)
        self.p_false_alarm = require_probability(device_id, "p_false_alarm", p_false_alarm)
        #: The scanning tunnel: one vehicle at a time.
        self.tunnel = simpy.Resource(env, capacity=1)
        #: ``RequestScan`` commands received.
        self.requests_received = 0
        self._requested: dict[str, deque[RequestScan]] = {}
        self._occupied_since: float | None = None
        self._closed_busy_s = 0.0
        #: Scans completed, and how many of them were flagged suspect.
        self.scanned = 0
        self.suspects = 0
        #: Scans cut short by a fault.
        self.aborted = 0
        #: Vehicles scanned without a ``RequestScan`` naming their plate.
        self.unrequested = 0

    @staticmethod
    def default_scan_s(kind: ScannerKind) -> tuple[float, float]:
        """The range of seconds per vehicle for a scanner type, from its published throughput."""
        if kind not in THROUGHPUT_PER_H:
            raise ValueError(f"scanner kind must be one of {sorted(THROUGHPUT_PER_H)} (got {kind!r})")
        slowest, fastest = THROUGHPUT_PER_H[kind]
        return 3600.0 / fastest, 3600.0 / slowest

    @property
    def queue_length(self) -> int:
        """Vehicles waiting for the scanner."""
        return len(self.tunnel.queue)

    @property
    def pending_requests(self) -> int:
        """Requests whose vehicle has not yet been scanned."""
        return sum(len(q) for q in self._requested.values())

    @property
    def busy_s(self) -> float:
        """Seconds the tunnel has been occupied so far."""
        current = self.env.now - self._occupied_since if self._occupied_since is not None else 0.0
        return self._closed_busy_s + current

    def utilisation(self) -> float:
        """Share of the time since t=0 the tunnel was occupied (downtime with a vehicle on it counts)."""
        return self.busy_s / self.env.now if self.env.now > 0 else 0.0

    def scan(self, command: RequestScan) -> None:
        """Record the core's request to scan a plate; the vehicle's arrival starts the scan."""
        if command.device_id != self.device_id:
            raise ValueError(f"{self.device_id}: received a command addressed to {command.device_id!r}")
        self.requests_received += 1
        self._requested.setdefault(command.plate, deque()).append(command)

    def scan_vehicle(self, vehicle: VehicleTruth) -> simpy.Process:
        """The vehicle queues for the tunnel and is scanned; the process returns the ``ScanCompleted``.

        Interrupted with ``WITHDRAWN`` (the vehicle was sent elsewhere), it ends at once, reports
        nothing and returns None.
        """
        return self.env.process(self._scan_vehicle(vehicle))

    def _scan_vehicle(self, vehicle: VehicleTruth) -> ProcessGenerator:
        with self.tunnel.request() as request:
            try:
                yield request
            except simpy.Interrupt as interrupt:
                if interrupt.cause is WITHDRAWN:
                    return None
                raise
            since = self._occupied_since = self.env.now
            try:
                done = yield from self._work_when_up(lambda: draw_duration(self.device_id, "scan_s", self._scan_s))
                if not done:
                    return None
                completed = self._assess(vehicle)
                self._emit(completed)
                return completed
            finally:
                self._closed_busy_s += self.env.now - since
                self._occupied_since = None

    def _assess(self, vehicle: VehicleTruth) -> ScanCompleted:
        p_flag = self.p_detect if vehicle.suspect else self.p_false_alarm
        suspect = float(self._rng.random()) < p_flag
        self.scanned += 1
        self.suspects += suspect
        waiting = self._requested.get(vehicle.plate)
        if waiting:
            visit = waiting.popleft().visit_id
            if not waiting:
                del self._requested[vehicle.plate]
        else:
            self.unrequested += 1
            visit = "unrequested"
        return ScanCompleted(
            device_id=self.device_id,
            plate=vehicle.plate,
            result=ScanResult.SUSPECT if suspect else ScanResult.CLEAR,
            image_ref=f"{self.device_id}/{visit}/{self.scanned}",
        )

