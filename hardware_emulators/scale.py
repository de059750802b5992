"""A weighbridge (OIML R76 class III) and its serial frame format.

One vehicle at a time stands on the platform (a ``simpy.Resource`` of capacity 1). After the
settle time the indicator reports a stable gross weight: the true weight, plus normal noise
(standard deviation about one scale interval ``e``), plus calibration drift growing linearly
since the last calibration at t=0, displayed in whole multiples of ``e`` as a real indicator
does. Above ``max_kg + 9 e`` the indicator shows overload (OIML R76 blanks the display there).

A fault while a vehicle settles aborts the weighing; the vehicle stays on the platform and is
weighed afresh after the repair, so nothing is measured while the scale is down.

The serial format is the one weighbridge indicators send, e.g. ``ST,GS+  5120kg``: a status
(``ST`` stable, ``US`` unstable, ``OL`` overload), ``GS`` for gross, a sign, the weight in
whole kilograms right-aligned in six characters, and ``kg``; a CR/LF terminator is allowed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

import numpy as np
import simpy

from gate.events import WeightMeasured
from hardware_emulators.base import (
    SECONDS_PER_DAY,
    WITHDRAWN,
    OutageLike,
    ProcessGenerator,
    Sampler,
    SingleVehicleDevice,
    VehicleTruth,
    draw_duration,
    require_positive,
)

_FRAME = re.compile(r"^(ST|US|OL),GS([+-])(?=[ \d]{6}kg)( *\d+)kg(?:\r\n|\r|\n)?$")
_FRAME_WIDTH = 6


def frame(gross_kg: float, stable: bool, overload: bool) -> str:
    """The indicator's serial frame for a reading, e.g. ``frame(5120, True, False) == "ST,GS+  5120kg"``.

    The weight is rounded to whole kilograms. An overload reading is never stable.
    """
    if not math.isfinite(gross_kg):
        raise ValueError(f"cannot frame a weight of {gross_kg} kg")
    if overload and stable:
        raise ValueError("an overload reading cannot be stable: the indicator shows OL, not ST")
    status = "OL" if overload else ("ST" if stable else "US")
    sign = "-" if gross_kg < 0 else "+"
    digits = f"{round(abs(gross_kg)):>{_FRAME_WIDTH}d}"
    if len(digits) > _FRAME_WIDTH:
        raise ValueError(f"weight {gross_kg} kg does not fit the frame's {_FRAME_WIDTH} digits")
    return f"{status},GS{sign}{digits}kg"


def parse_frame(text: str) -> tuple[float, bool, bool]:
    """Read a serial frame into ``(gross_kg, stable, overload)``; a bad frame raises ValueError."""
    match = _FRAME.match(text)
    if match is None:
        raise ValueError(
            f"bad weighbridge frame {text!r}: expected STATUS,GS<sign><6-character weight>kg "
            "with STATUS one of ST, US, OL (e.g. 'ST,GS+  5120kg')"
        )
    status, sign, digits = match.groups()
    value = float(int(digits.strip()))
    return (-value if sign == "-" else value), status == "ST", status == "OL"


class Scale(SingleVehicleDevice):
    """A weighbridge (implements ``gate.ports.ScalePort``).

    Args:
        env: the simulation environment.
        device_id: the scale's id in the gate configuration.
        rng: the scale's random stream (measurement noise).
        settle_s: time from the vehicle stopping on the platform to a stable reading.
        interval_kg: the scale interval ``e`` (display resolution), 20 kg by default.
        noise_sd_kg: standard deviation of the measurement noise (default: one interval).
        drift_kg_per_day: calibration drift added per day since t=0 (may be negative).
        max_kg: the scale's maximum capacity.
        mtbf_s, mttr_s, outages: the scale's faults (see ``FaultModel``).
    """

    def __init__(
        self,
        env: simpy.Environment,
        device_id: str,
        rng: np.random.Generator,
        settle_s: Sampler,
        *,
        interval_kg: float = 20.0,
        noise_sd_kg: float | None = None,
        drift_kg_per_day: float = 0.0,
        max_kg: float = 60_000.0,
        mtbf_s: float | None = None,
        mttr_s: Sampler | None = None,
        outages: Iterable[OutageLike] = (),
    ) -> None:
        super().__init__(env, device_id, rng, mtbf_s=mtbf_s, mttr_s=mttr_s, outages=outages)
        self.interval_kg = require_positive(device_id, "interval_kg", interval_kg)
        self.noise_sd_kg = require_positive(
            device_id, "noise_sd_kg", interval_kg if noise_sd_kg is None else noise_sd_kg, allow_zero=True
        )
        if not math.isfinite(drift_kg_per_day):
            raise ValueError(f"{device_id}: drift_kg_per_day must be finite (got {drift_kg_per_day})")
        self.drift_kg_per_day = float(drift_kg_per_day)
        self.max_kg = require_positive(device_id, "max_kg", max_kg)
        self._settle_s = settle_s
        #: The weighing platform: one vehicle at a time.
        self.platform = simpy.Resource(env, capacity=1)
        self._occupied_since: float | None = None
        self._closed_busy_s = 0.0
        #: Vehicles weighed (reports made).
        self.weighed = 0
        #: Weighings cut short by a fault (the vehicle was weighed again after the repair).
        self.aborted = 0
        #: Readings reported as overload.
        self.overloads = 0

    @property
    def queue_length(self) -> int:
        """Vehicles waiting for the platform."""
        return len(self.platform.queue)

    @property
    def busy_s(self) -> float:
        """Seconds the platform has been occupied so far."""
        current = self.env.now - self._occupied_since if self._occupied_since is not None else 0.0
        return self._closed_busy_s + current

    def utilisation(self) -> float:
        """Share of the time since t=0 the platform was occupied (downtime with a vehicle on it counts)."""
        return self.busy_s / self.env.now if self.env.now > 0 else 0.0

    def drift_kg(self, now: float) -> float:
        """The calibration drift at ``now``."""
        return self.drift_kg_per_day * now / SECONDS_PER_DAY

    def reading(self, true_kg: float) -> tuple[float, bool]:
        """One indicator reading of ``true_kg`` now: (displayed kg, overload)."""
        raw = true_kg + float(self._rng.normal(0.0, self.noise_sd_kg)) + self.drift_kg(self.env.now)
        displayed = round(raw / self.interval_kg) * self.interval_kg
        return displayed, displayed > self.max_kg + 9 * self.interval_kg

    def weigh(self, vehicle: VehicleTruth) -> simpy.Process:
        """The vehicle queues for the platform, settles and is weighed.

        The process reports and returns the ``WeightMeasured``; the vehicle has left the
        platform when it ends. Interrupted with ``WITHDRAWN`` (the vehicle was sent elsewhere),
        it ends at once, reports nothing and returns None.
        """
        return self.env.process(self._weigh(vehicle))

    def _weigh(self, vehicle: VehicleTruth) -> ProcessGenerator:
        with self.platform.request() as request:
            try:
                yield request
            except simpy.Interrupt as interrupt:
                if interrupt.cause is WITHDRAWN:
                    return None
                raise
            since = self._occupied_since = self.env.now
            try:
                done = yield from self._work_when_up(lambda: draw_duration(self.device_id, "settle_s", self._settle_s))
                if not done:
                    return None
                gross_kg, overload = self.reading(vehicle.gross_kg)
                measured = WeightMeasured(
                    device_id=self.device_id,
                    plate=vehicle.plate,
                    gross_kg=gross_kg,
                    stable=not overload,
                    overload=overload,
                )
                self.weighed += 1
                self.overloads += overload
                self._emit(measured)
                return measured
            finally:
                self._closed_busy_s += self.env.now - since
                self._occupied_since = None

