"""Shared pieces of the device emulators: samplers, the truth about a vehicle, the fault model.

Rules every emulator follows:

- Time is SimPy's ``env.now`` in seconds; the twin's clock starts at midnight of day 0, so
  ``env.now % 86_400`` is the time of day (night windows and agency shifts rely on it).
- Randomness comes only from the ``numpy.random.Generator`` each emulator is given. The fault
  model draws from a child stream spawned from it, so switching faults on or off does not shift
  the device's own measurement draws (two layouts compared with one seed stay comparable).
- Timing distributions arrive as samplers (``Callable[[], float]``): an emulator does not know
  how a scenario describes a distribution, only that each call yields one duration in seconds.
- A device reports through the ``report`` callback given to ``connect``. Reporting before
  ``connect`` is a wiring error and raises at once rather than losing the event.
"""

from __future__ import annotations

import math
from bisect import insort
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

import numpy as np
import simpy
from simpy.resources.resource import SortedQueue

from gate.events import DeviceFaulted, DeviceRecovered, Event
from gate.ports import Report

#: One draw of a duration (seconds) or another non-negative quantity.
Sampler = Callable[[], float]

#: What a SimPy process generator yields and returns.
ProcessGenerator = Generator[simpy.Event, Any, Any]

SECONDS_PER_DAY = 86_400.0


# --- samplers -------------------------------------------------------------------------------


def constant(value: float) -> Sampler:
    """A sampler that always returns ``value`` (seconds)."""
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"constant sampler: value must be a finite number >= 0 (got {value})")
    return lambda: value


def draw_uniform(rng: np.random.Generator, low: float, high: float) -> float:
    """``float(rng.uniform(low, high))``, the very same number (numpy computes
    ``low + (high - low) * random()``), at a third of the cost of a scalar ``uniform`` call."""
    return low + (high - low) * rng.random()


def uniform(rng: np.random.Generator, low: float, high: float) -> Sampler:
    """A sampler drawing uniformly from ``[low, high)`` with ``rng``."""
    if not (math.isfinite(low) and math.isfinite(high)) or low < 0 or high < low:
        raise ValueError(f"uniform sampler: need 0 <= low <= high (got low={low}, high={high})")
    return lambda: draw_uniform(rng, low, high)


def exponential(rng: np.random.Generator, mean: float) -> Sampler:
    """A sampler drawing exponentially distributed values with the given ``mean``."""
    if not math.isfinite(mean) or mean <= 0:
        raise ValueError(f"exponential sampler: mean must be a finite number > 0 (got {mean})")
    return lambda: float(rng.exponential(mean))


# --- a priority resource for long queues ---------------------------------------------------

_KEY = attrgetter("key")


class _InsertionSortedQueue(SortedQueue):
    """Waiting requests kept in ``key`` order as each one arrives.

    The order of SimPy's ``SortedQueue``, which sorts the whole queue again on every arrival:
    a request goes after every request with an equal key (the sort is stable), which is where
    ``insort`` puts it, at the cost of a binary search instead of a sort.
    """

    def append(self, item: Any) -> None:
        if self.maxlen is not None and len(self) >= self.maxlen:
            raise RuntimeError("Cannot append event. Queue is full.")
        if not self or item.key >= self[-1].key:  # the usual case: it goes last
            list.append(self, item)
        else:
            insort(self, item, key=_KEY)


class SortedPriorityResource(simpy.PriorityResource):
    """``simpy.PriorityResource`` serving in the same order, with a queue that stays cheap when long."""

    PutQueue = _InsertionSortedQueue


# --- validation helpers shared by the emulators ---------------------------------------------


def require_probability(owner: str, name: str, value: float) -> float:
    """Return ``value`` if it is a probability, else raise a ValueError naming owner and field."""
    if not (0.0 <= value <= 1.0):
        raise ValueError(f"{owner}: {name} must be in [0, 1] (got {value})")
    return float(value)


def require_positive(owner: str, name: str, value: float, *, allow_zero: bool = False) -> float:
    """Return ``value`` if it is finite and > 0 (or >= 0 with ``allow_zero``), else raise."""
    ok = math.isfinite(value) and (value >= 0 if allow_zero else value > 0)
    if not ok:
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{owner}: {name} must be a finite number {bound} (got {value})")
    return float(value)


def draw_duration(owner: str, name: str, sampler: Sampler) -> float:
    """Call ``sampler`` once and check the result is a usable duration.

    A sampler is supplied from outside (a scenario's distribution), so a negative or non-finite
    draw is bad input: it is refused with the device and the sampler named, never clamped.
    """
    value = float(sampler())
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{owner}: {name} sampler returned {value}; durations must be finite and >= 0")
    return value


# --- the truth about a vehicle --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VehicleTruth:
    """What a vehicle really is, which the devices observe (imperfectly).

    The twin fills one per truck. Devices never see the declaration, only this.
    """

    #: The plate actually mounted on the vehicle.
    plate: str
    #: The true gross weight in kilograms.
    gross_kg: float
    #: True if the load would show something on a scanner image.
    suspect: bool = False
    #: True if the vehicle carries a container.
    container: bool = False

    def __post_init__(self) -> None:
        if not self.plate or not self.plate.strip():
            raise ValueError("VehicleTruth.plate must be a non-empty string")
        if not math.isfinite(self.gross_kg) or self.gross_kg < 0:
            raise ValueError(f"VehicleTruth({self.plate}).gross_kg must be finite and >= 0 (got {self.gross_kg})")


# --- reporting ------------------------------------------------------------------------------


class EmulatedDevice:
    """Base of every emulated device: an id, a SimPy environment, a report channel, faults.

    Each device owns a ``FaultModel`` (inert when given no failures and no outages). A subclass
    reacts to its device going down or up by overriding ``_on_fault`` / ``_on_recovery``.
    """

    def __init__(
        self,
        env: simpy.Environment,
        device_id: str,
        rng: np.random.Generator,
        *,
        mtbf_s: float | None = None,
        mttr_s: Sampler | None = None,
        outages: Iterable[OutageLike] = (),
    ) -> None:
        if not isinstance(device_id, str) or not device_id.strip():
            raise ValueError(f"{type(self).__name__}: device_id must be a non-empty string (got {device_id!r})")
        self.env = env
        self._device_id = device_id
        self._rng = rng
        self._report: Report | None = None
        #: Events reported so far.
        self.events_reported = 0
        #: The device's up/down life; its draws come from a child stream of ``rng``.
        self.fault_model = FaultModel(
            env,
            device_id,
            rng.spawn(1)[0],
            self._emit,
            mtbf_s=mtbf_s,
            mttr_s=mttr_s,
            outages=outages,
            on_fault=self._on_fault,
            on_recovery=self._on_recovery,
        )

    @property
    def device_id(self) -> str:
        """The id matching the device's ``DeviceSpec`` in the gate configuration."""
        return self._device_id

    @property
    def is_down(self) -> bool:
        """True while the device is faulted or in a scheduled outage."""
        return self.fault_model.is_down

    @property
    def fault_count(self) -> int:
        """Down periods so far."""
        return self.fault_model.faults

    @property
    def downtime_s(self) -> float:
        """Seconds spent down so far."""
        return self.fault_model.downtime_s

    def connect(self, report: Report) -> None:
        """Send every future event of this device to ``report``."""
        self._report = report

    def _emit(self, event: Event) -> None:
        if self._report is None:
            raise RuntimeError(
                f"{self._device_id}: tried to report {type(event).__name__} at t={self.env.now} "
                "before connect() was called"
            )
        self.events_reported += 1
        self._report(event)

    def _on_fault(self, reason: str) -> None:
        """Called when the device goes down (after ``DeviceFaulted`` was reported)."""

    def _on_recovery(self) -> None:
        """Called when the device is up again (after ``DeviceRecovered`` was reported)."""


class Signal:
    """A re-armable SimPy event: processes wait on ``wait()``; ``fire()`` wakes all of them.

    Waiters re-check their condition after each wake-up, so one signal serves any change of a
    device's state (a command arrived, a repair finished, an arm moved).
    """

    def __init__(self, env: simpy.Environment) -> None:
        self._env = env
        self._event = env.event()

    def wait(self) -> simpy.Event:
        """The event the next ``fire()`` triggers."""
        return self._event

    def fire(self) -> None:
        """Wake every process waiting now; later waiters wait for the next fire.

        Waiters yield the event ``wait()`` gives them at once, so an event nobody has yielded
        yet has no callbacks: with no one to wake it stays armed for the next fire.
        """
        fired = self._event
        if fired.callbacks:
            self._event = self._env.event()
            fired.succeed()


class _Withdrawn:
    """The cause of an interrupt that takes a vehicle off a device before its work is done."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "WITHDRAWN"


#: Interrupt a scale's or scanner's work process with this cause when its vehicle is sent
#: elsewhere (e.g. re-routed by the core): the process ends at once, reports nothing and frees
#: the device. Any other cause is a fault, after which the work starts again once the device is up.
WITHDRAWN = _Withdrawn()


class SingleVehicleDevice(EmulatedDevice):
    """A device that works on one vehicle at a time (a weighbridge platform, a scanner tunnel).

    ``_work_when_up`` waits for the device to be up and then works for a drawn time; a fault in
    the middle aborts the work (counted in ``aborted``) and it starts again after the repair; a
    ``WITHDRAWN`` interrupt ends it at once.
    """

    #: The process working right now (a fault interrupts it), if any.
    _working: simpy.Process | None = None
    #: Work cut short by a fault (done again after the repair).
    aborted: int = 0

    def _work_when_up(self, draw_s: Callable[[], float]) -> Generator[simpy.Event, Any, bool]:
        """Work on the vehicle until done (True) or until it is withdrawn (False)."""
        while True:
            while self.is_down:
                try:
                    yield self.fault_model.when_up()
                except simpy.Interrupt as interrupt:
                    if interrupt.cause is WITHDRAWN:
                        return False
                    raise
            self._working = self.env.active_process
            try:
                yield self.env.timeout(draw_s())
            except simpy.Interrupt as interrupt:
                if interrupt.cause is WITHDRAWN:
                    return False
                self.aborted += 1
                continue
            finally:
                self._working = None
            return True

    def _on_fault(self, reason: str) -> None:
        if self._working is not None:
            self._working.interrupt(reason)


# --- faults ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Outage:
    """A scheduled outage: the device is down from ``start_s`` for ``duration_s`` seconds."""

    start_s: float
    duration_s: float
    reason: str = "scheduled outage"

    def __post_init__(self) -> None:
        if not math.isfinite(self.start_s) or self.start_s < 0:
            raise ValueError(f"Outage.start_s must be finite and >= 0 (got {self.start_s})")
        if not math.isfinite(self.duration_s) or self.duration_s <= 0:
            raise ValueError(f"Outage.duration_s must be finite and > 0 (got {self.duration_s})")


#: An outage as given by a caller: an ``Outage`` or a ``(start_s, duration_s)`` pair.
OutageLike = Outage | tuple[float, float]


def as_outages(outages: Iterable[OutageLike]) -> tuple[Outage, ...]:
    """Normalise a list of outages and pairs into ``Outage`` objects, sorted by start."""
    result = [o if isinstance(o, Outage) else Outage(float(o[0]), float(o[1])) for o in outages]
    return tuple(sorted(result, key=lambda o: o.start_s))


class FaultModel:
    """A device's up/down life: random failures (MTBF/MTTR) and scheduled outages.

    Random failures arrive at rate ``1 / mtbf_s`` while the device is up; each keeps it down
    for one ``mttr_s()`` draw. Scheduled outages take it down at fixed times whatever its state.
    Causes may overlap (a failure during an outage): the device is down while any cause holds,
    and reports ``DeviceFaulted`` when the first cause starts and ``DeviceRecovered`` when the
    last one ends, so the core sees one clean down period.

    The owning device reacts through ``on_fault`` (e.g. interrupt the process that was busy)
    and waits for ``when_up()`` before starting work.
    """

    def __init__(
        self,
        env: simpy.Environment,
        device_id: str,
        rng: np.random.Generator,
        report: Callable[[Event], None],
        *,
        mtbf_s: float | None = None,
        mttr_s: Sampler | None = None,
        outages: Iterable[OutageLike] = (),
        on_fault: Callable[[str], None] | None = None,
        on_recovery: Callable[[], None] | None = None,
    ) -> None:
        if (mtbf_s is None) != (mttr_s is None):
            raise ValueError(f"{device_id}: give both mtbf_s and mttr_s for random failures, or neither")
        if mtbf_s is not None:
            require_positive(device_id, "mtbf_s", mtbf_s)
        self.env = env
        self.device_id = device_id
        self._rng = rng
        self._report = report
        self._mtbf_s = mtbf_s
        self._mttr_s = mttr_s
        self.outages = as_outages(outages)
        self._on_fault = on_fault
        self._on_recovery = on_recovery
        self._causes = 0
        self._down_since: float | None = None
        self._closed_downtime_s = 0.0
        self._up = Signal(env)
        #: Down periods started so far (overlapping causes count once).
        self.faults = 0
        #: Random failures drawn so far (whether or not they overlapped another cause).
        self.failures = 0
        for outage in self.outages:
            env.process(self._scheduled(outage))
        if mtbf_s is not None:
            env.process(self._random_failures())

    @property
    def is_down(self) -> bool:
        """True while any fault cause holds."""
        return self._causes > 0

    @property
    def downtime_s(self) -> float:
        """Seconds spent down so far, including the current down period."""
        current = self.env.now - self._down_since if self._down_since is not None else 0.0
        return self._closed_downtime_s + current

    def when_up(self) -> simpy.Event:
        """An event that triggers when the device is up (at once if it is up now)."""
        if not self.is_down:
            return self.env.timeout(0)
        return self._up.wait()

    def inject(self, duration_s: float, reason: str = "injected fault") -> None:
        """Take the device down now for ``duration_s`` seconds (e.g. a fault a user triggers)."""
        require_positive(self.device_id, "duration_s", duration_s)
        self._go_down(reason)
        self.env.process(self._recover_after(duration_s))

    def _recover_after(self, duration_s: float) -> ProcessGenerator:
        yield self.env.timeout(duration_s)
        self._go_up()

    def _go_down(self, reason: str) -> None:
        self._causes += 1
        if self._causes > 1:
            return
        self.faults += 1
        self._down_since = self.env.now
        self._report(DeviceFaulted(device_id=self.device_id, reason=reason))
        if self._on_fault is not None:
            self._on_fault(reason)

    def _go_up(self) -> None:
        self._causes -= 1
        if self._causes > 0:
            return
        assert self._down_since is not None
        self._closed_downtime_s += self.env.now - self._down_since
        self._down_since = None
        self._report(DeviceRecovered(device_id=self.device_id))
        if self._on_recovery is not None:
            self._on_recovery()
        self._up.fire()

    def _scheduled(self, outage: Outage) -> ProcessGenerator:
        yield self.env.timeout(outage.start_s)
        self._go_down(outage.reason)
        yield self.env.timeout(outage.duration_s)
        self._go_up()

    def _random_failures(self) -> ProcessGenerator:
        assert self._mtbf_s is not None and self._mttr_s is not None
        while True:
            yield self.when_up()
            # The exponential is memoryless, so discarding a draw that an outage overtook and
            # drawing afresh once up again is exactly "failures arrive at 1/MTBF while up".
            started = self.faults
            yield self.env.timeout(float(self._rng.exponential(self._mtbf_s)))
            if self.is_down or self.faults != started:
                continue
            self.failures += 1
            self._go_down("failure")
            yield self.env.timeout(draw_duration(self.device_id, "mttr_s", self._mttr_s))
            self._go_up()
