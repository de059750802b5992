"""An entry/exit barrier: an arm that rises for one commanded plate at a time.

The arm is driven by one controller process. ``open`` queues an authorisation for a plate; the
controller raises the arm for the oldest one (``BarrierOpened`` after one cycle), waits until
that plate's vehicle has passed (``VehiclePassed``), then lowers it (``BarrierClosed`` after
another cycle). A vehicle whose plate was not commanded never sees the arm rise for it.

A fault jams the arm shut: it fails closed (a raised arm drops at once, reporting
``BarrierClosed``) and no command raises it until the repair. An officer can still lift it by
hand for one plate with ``manual_override``. A vehicle already under the arm finishes passing
before a jam takes effect.

While the crossing is closed (``closures``, e.g. the gate closed for Tet) the arm rises for no
one, officers included: at a closure's start a rising arm falls back and a raised arm whose
vehicle is not yet under it drops (``BarrierClosed``), as in a jam but reported as no fault.
The leave is kept, in order, and the arm rises for it after the reopening.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import simpy

from gate.commands import KeepClosed, OpenBarrier
from gate.events import BarrierClosed, BarrierOpened, VehiclePassed
from hardware_emulators.base import (
    EmulatedDevice,
    OutageLike,
    ProcessGenerator,
    Sampler,
    Signal,
    VehicleTruth,
    draw_duration,
)



@dataclass(slots=True)
class _Authorisation:
    """Leave for one plate to pass: from the core (``OpenBarrier``) or from an officer."""

    plate: str
    visit_id: str | None
    manual: bool
    revoked: bool = False
    passed: bool = False


def _checked_closures(device_id: str, closures: Iterable[tuple[float, float]]) -> tuple[tuple[float, float], ...]:
    spans = tuple(sorted((float(start), float(end)) for start, end in closures))
    for start, end in spans:
        if not (0 <= start < end < float("inf")):
            raise ValueError(f"{device_id}: a closure needs 0 <= start_s < end_s (got ({start:g}, {end:g}))")
    return spans


class Barrier(EmulatedDevice):
    """A barrier arm on an entry or exit lane (implements ``gate.ports.BarrierPort``).

    Args:
        env: the simulation environment.
        device_id: the id of the barrier in the gate configuration.
        rng: the barrier's random stream (used by its fault model).
        cycle_s: time for the arm to rise, or to fall (one draw per movement).
        pass_s: time for a vehicle to clear the arm once it is up (default: instantaneous).
        mtbf_s: mean time between jams while working, or None for a barrier that never jams.
        mttr_s: repair time of a jam (required with ``mtbf_s``).
        outages: scheduled outages, ``Outage`` or ``(start_s, duration_s)`` pairs.
        closures: ``(start_s, end_s)`` spans in which the crossing is closed and the arm stays down.
    """

    def __init__(
        self,
        env: simpy.Environment,
        device_id: str,
        rng: np.random.Generator,
        cycle_s: Sampler,
        *,
        pass_s: Sampler | None = None,
        mtbf_s: float | None = None,
        mttr_s: Sampler | None = None,
        outages: Iterable[OutageLike] = (),
        closures: Iterable[tuple[float, float]] = (),
    ) -> None:
        super().__init__(env, device_id, rng, mtbf_s=mtbf_s, mttr_s=mttr_s, outages=outages)
        self.closures = _checked_closures(device_id, closures)
        self._cycle_s = cycle_s
        self._pass_s = pass_s
        self._pending: deque[_Authorisation] = deque()
        self._current: _Authorisation | None = None
        self._passing = False
        # Set while an interrupt to the controller is on its way, so a jam and a revocation
        # in the same instant do not interrupt it twice.
        self._stop_requested = False
        self._changed = Signal(env)
        # Vehicles waiting for the arm, by plate: only leave for its own plate can let one pass,
        # so a change wakes just the vehicles whose plate the arm is up for.
        self._waiting_for: dict[str, simpy.Event] = {}
        #: Where the arm is: "down", "raising", "up" or "lowering".
        self.arm = "down"
        #: Times the arm rose on a command from the core.
        self.opens = 0
        #: Times an officer lifted the arm by hand.
        self.overrides = 0
        #: Vehicles that went through.
        self.passes = 0
        #: Authorisations withdrawn by a later ``KeepClosed`` before their vehicle passed.
        self.revoked = 0
        #: ``KeepClosed`` commands received.
        self.keep_closed_received = 0
        #: ``OpenBarrier`` commands for leave already given and not yet used (ignored).
        self.repeated_opens = 0
        #: Vehicles waiting at the arm for it to rise for them.
        self.vehicles_waiting = 0
        self._controller = env.process(self._run())
        for start, end in self.closures:
            env.process(self._closure(start, end))

    # --- commands from the core -----------------------------------------------------------

    def open(self, command: OpenBarrier) -> None:
        """Queue leave for ``command.plate`` to pass; the arm rises for it in turn. Leave the
        plate (and visit) already has, not yet used, is not given twice (``BarrierPort``)."""
        self._check_addressed(command.device_id)

        def same(auth: _Authorisation | None) -> bool:
            return (auth is not None and auth.plate == command.plate and auth.visit_id == command.visit_id
                    and not (auth.passed or auth.revoked))

        if same(self._current) or any(same(auth) for auth in self._pending):
            self.repeated_opens += 1
            return
        self._pending.append(_Authorisation(plate=command.plate, visit_id=command.visit_id, manual=False))
        self._fire()

    def keep_closed(self, command: KeepClosed) -> None:
        """Count the refusal and withdraw any leave not yet used by the vehicle it names.

        A later ``KeepClosed`` for a plate or visit overrides an earlier ``OpenBarrier`` for it;
        a ``KeepClosed`` naming neither only keeps the arm as it is.
        """
        self._check_addressed(command.device_id)
        self.keep_closed_received += 1

        def names(auth: _Authorisation) -> bool:
            return (command.plate is not None and auth.plate == command.plate) or (
                command.visit_id is not None and auth.visit_id == command.visit_id
            )

        kept = deque(a for a in self._pending if not names(a))
        self.revoked += len(self._pending) - len(kept)
        self._pending = kept
        current = self._current
        if current is not None and names(current) and not self._passing and not current.passed:
            current.revoked = True
            self.revoked += 1
            if self.arm == "raising":
                self._stop_arm("revoked")
            self._fire()

    # --- hooks for the twin and for officers ----------------------------------------------

    def manual_override(self, plate: str) -> None:
        """An officer lifts the arm by hand for ``plate``, even while the barrier is jammed.

        Leave already queued for the plate is taken over by the officer (so the arm does not
        rise for it a second time after the repair); otherwise new leave is queued. The
        officer's leave goes ahead of the core's queued commands.
        """
        current = self._current
        if current is not None and current.plate == plate and not (current.passed or current.revoked):
            # The arm is already rising or up for this plate: the officer just holds it there.
            current.manual = True
            return
        for auth in self._pending:
            if auth.plate == plate:
                self._pending.remove(auth)
                break
        self._pending.appendleft(_Authorisation(plate=plate, visit_id=None, manual=True))
        self._fire()

    def pass_vehicle(self, vehicle: VehicleTruth) -> simpy.Process:
        """The truck's part: wait until the arm is up for its plate, then drive through.

        The process returns True once the vehicle has passed. The twin may withdraw a waiting
        vehicle (e.g. it was refused) with ``process.interrupt(cause)``; the process then
        returns False. A vehicle already under the arm cannot be withdrawn.
        """
        return self.env.process(self._pass(vehicle))

    def waits_for_arm(self, plate: str) -> bool:
        """Whether a vehicle of ``plate`` stands at the arm waiting for it to rise (not yet passing)."""
        return plate in self._waiting_for and self.open_for != plate

    @property
    def queue_length(self) -> int:
        """Vehicles waiting at the arm."""
        return self.vehicles_waiting

    @property
    def pending_plates(self) -> tuple[str, ...]:
        """Plates with leave to pass that the arm has not yet risen for, oldest first."""
        return tuple(a.plate for a in self._pending)

    @property
    def open_for(self) -> str | None:
        """The plate the arm is up for and whose vehicle has not yet passed, or None."""
        current = self._current
        if self.arm == "up" and current is not None and not (current.passed or current.revoked):
            return current.plate
        return None

    # --- the arm ----------------------------------------------------------------------------

    def _fire(self) -> None:
        """Something changed: wake the controller and the vehicles the arm is now up for."""
        plate = self.open_for
        if plate is not None:
            waiting = self._waiting_for.pop(plate, None)
            if waiting is not None:
                waiting.succeed()
        self._changed.fire()

    def _wait_for_arm(self, plate: str) -> simpy.Event:
        """The event that wakes a vehicle of ``plate`` when the arm may be up for it."""
        waiting = self._waiting_for.get(plate)
        if waiting is None:
            waiting = self._waiting_for[plate] = self.env.event()
        return waiting

    def _check_addressed(self, device_id: str) -> None:
        if device_id != self.device_id:
            raise ValueError(f"{self.device_id}: received a command addressed to {device_id!r}")

    def is_closed(self, now: float | None = None) -> bool:
        """Whether the crossing is closed (a closure span) at ``now`` (default: the current time)."""
        t = self.env.now if now is None else now
        return any(start <= t < end for start, end in self.closures)

    def _closure(self, start: float, end: float) -> ProcessGenerator:
        """At the closure's start the arm goes down for whoever it was rising or up for (a vehicle
        already under it finishes passing); at its end the leave kept meanwhile is served."""
        yield self.env.timeout(start - self.env.now)
        if self._current is not None and self.arm in ("raising", "up") and not self._passing:
            self._stop_arm("closure")
        yield self.env.timeout(end - self.env.now)
        self._fire()

    def _next_authorisation(self) -> _Authorisation | None:
        if self.closures and self.is_closed():
            return None
        if not self.is_down:
            return self._pending.popleft() if self._pending else None
        for auth in self._pending:
            if auth.manual:
                self._pending.remove(auth)
                return auth
        return None

    def _run(self) -> ProcessGenerator:
        while True:
            auth = self._next_authorisation()
            if auth is None:
                yield self._changed.wait()
                continue
            self._current = auth
            self.arm = "raising"
            try:
                yield self.env.timeout(draw_duration(self.device_id, "cycle_s", self._cycle_s))
            except simpy.Interrupt:
                # Jammed or revoked mid-raise: the arm falls back before it ever reported open;
                # leave that was not revoked waits for the repair.
                self._stop_requested = False
                self.arm = "down"
                self._current = None
                if not auth.revoked:
                    self._pending.appendleft(auth)
                continue
            if self.closures and self.is_closed():
                # Up at the very instant the crossing closes: the arm falls back, the leave waits.
                self.arm = "down"
                self._current = None
                self._pending.appendleft(auth)
                continue
            self.arm = "up"
            if auth.manual:
                self.overrides += 1
            else:
                self.opens += 1
            self._emit(BarrierOpened(device_id=self.device_id))
            self._fire()
            dropped = False
            while not (auth.passed or auth.revoked or dropped):
                try:
                    yield self._changed.wait()
                except simpy.Interrupt:
                    # A vehicle already under the arm finishes passing; otherwise the arm fails
                    # closed at once and unused leave waits for the repair.
                    self._stop_requested = False
                    dropped = not self._passing
            if dropped:
                self.arm = "down"
                self._current = None
                if not (auth.passed or auth.revoked):
                    self._pending.appendleft(auth)
                self._emit(BarrierClosed(device_id=self.device_id))
                continue
            self.arm = "lowering"
            yield self.env.timeout(draw_duration(self.device_id, "cycle_s", self._cycle_s))
            self.arm = "down"
            self._current = None
            self._emit(BarrierClosed(device_id=self.device_id))

    def _on_fault(self, reason: str) -> None:
        current = self._current
        if current is None or current.manual or self._passing:
            return
        if self.arm in ("raising", "up"):
            self._stop_arm("jam")

    def _stop_arm(self, cause: str) -> None:
        if not self._stop_requested:
            self._stop_requested = True
            self._controller.interrupt(cause)

    def _on_recovery(self) -> None:
        self._fire()

    def _pass(self, vehicle: VehicleTruth) -> ProcessGenerator:
        plate = vehicle.plate
        self.vehicles_waiting += 1
        try:
            while self.open_for != plate or self._passing:
                yield self._wait_for_arm(plate)
        except simpy.Interrupt:
            waiting = self._waiting_for.get(plate)
            if waiting is not None and not waiting.callbacks:
                del self._waiting_for[plate]
            return False
        finally:
            self.vehicles_waiting -= 1
        auth = self._current
        assert auth is not None  # open_for named this vehicle's plate, so leave is current
        self._passing = True
        if self._pass_s is not None:
            yield self.env.timeout(draw_duration(self.device_id, "pass_s", self._pass_s))
        self._passing = False
        auth.passed = True
        self.passes += 1
        self._emit(VehiclePassed(device_id=self.device_id, plate=vehicle.plate))
        self._fire()
        return True
