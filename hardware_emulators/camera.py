"""A plate camera (ANPR): reads each vehicle's plate after a latency, not always right.

Each read is one of three outcomes, drawn with the camera's shares:

- correct: the true plate, with a high confidence;
- misread: the true plate with one character swapped for the one readers confuse it with
  (0/O, 8/B, 1/I, 5/S, 2/Z, 6/G, and D, Q read as 0, L read as 1), with a lower confidence,
  so that some misreads fall under the core's threshold and some do not;
- no-read: ``plate=None`` and confidence 0.

Vendors claim about 98 % correct reads; users report 90-94 % (docs/DOMAIN.md, "Devices").
Night and rain make reads worse: inside a window the misread and no-read shares are
multiplied by the window's factor (factors of overlapping windows multiply). Night windows
repeat daily (``env.now % 86_400``); rain windows are absolute times.

A plate without any confusable character cannot be misread by a swap; such a draw is reported
as a no-read, which the core sends to manual entry. A camera that is down still gets the
lane's trigger but has no image: it reports a no-read.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import simpy

from gate.events import PlateRead
from hardware_emulators.base import (
    SECONDS_PER_DAY,
    EmulatedDevice,
    OutageLike,
    ProcessGenerator,
    Sampler,
    VehicleTruth,
    draw_duration,
    draw_uniform,
    require_probability,
)

#: What a reader may see instead of each character. The pairs agree with
#: ``gate.identifiers.confusable_key``, so the core can always suggest the true plate.
CONFUSIONS: dict[str, str] = {
    "0": "O", "O": "0", "Q": "0", "D": "0",
    "8": "B", "B": "8",
    "1": "I", "I": "1", "L": "1",
    "5": "S", "S": "5",
    "2": "Z", "Z": "2",
    "6": "G", "G": "6",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class ReadWindow:
    """A time window in which reads are worse: error shares are multiplied by ``factor``.

    For night windows ``start_s``/``end_s`` are seconds after midnight (0-86,400) and a window
    with ``start_s > end_s`` wraps past midnight; for rain windows they are absolute times.
    """

    start_s: float
    end_s: float
    factor: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.start_s) and math.isfinite(self.end_s)) or self.start_s < 0 or self.end_s < 0:
            raise ValueError(
                f"ReadWindow: start_s and end_s must be finite and >= 0 (got {self.start_s}, {self.end_s})"
            )
        if not math.isfinite(self.factor) or self.factor < 1:
            raise ValueError(f"ReadWindow: factor must be >= 1, a window only worsens reads (got {self.factor})")


#: A window as given by a caller: a ``ReadWindow`` or a ``(start_s, end_s, factor)`` triple.
ReadWindowLike = ReadWindow | tuple[float, float, float]


def _as_windows(windows: Iterable[ReadWindowLike]) -> tuple[ReadWindow, ...]:
    return tuple(w if isinstance(w, ReadWindow) else ReadWindow(*map(float, w)) for w in windows)


def misread(plate: str, rng: np.random.Generator) -> str | None:
    """``plate`` with one confusable character (chosen uniformly) swapped, or None if it has none."""
    positions = [i for i, ch in enumerate(plate) if ch in CONFUSIONS]
    if not positions:
        return None
    i = positions[int(rng.integers(len(positions)))]
    return plate[:i] + CONFUSIONS[plate[i]] + plate[i + 1 :]


class PlateCamera(EmulatedDevice):
    """A plate camera at one site (implements ``gate.ports.PlateCameraPort``).

    Args:
        env: the simulation environment.
        device_id: the camera's id in the gate configuration.
        rng: the camera's random stream (outcomes, confidences, misread positions).
        latency_s: time from the vehicle's trigger to the reported read.
        p_correct, p_misread, p_noread: outcome shares in good conditions; they must sum to 1.
        night: daily windows (seconds after midnight) with a factor worsening reads.
        rain: absolute windows with a factor worsening reads.
        correct_confidence: range of confidences of a correct read.
        misread_confidence: range of confidences of a misread; straddles the usual 0.85 threshold.
        mtbf_s, mttr_s, outages: the camera's faults (see ``FaultModel``).
    """

    def __init__(
        self,
        env: simpy.Environment,
        device_id: str,
        rng: np.random.Generator,
        latency_s: Sampler,
        *,
        p_correct: float = 0.94,
        p_misread: float = 0.03,
        p_noread: float = 0.03,
        night: Iterable[ReadWindowLike] = (),
        rain: Iterable[ReadWindowLike] = (),
        correct_confidence: tuple[float, float] = (0.90, 1.00),
        misread_confidence: tuple[float, float] = (0.55, 0.95),
        mtbf_s: float | None = None,
        mttr_s: Sampler | None = None,
        outages: Iterable[OutageLike] = (),
    ) -> None:
        super().__init__(env, device_id, rng, mtbf_s=mtbf_s, mttr_s=mttr_s, outages=outages)
        for name, p in (("p_correct", p_correct), ("p_misread", p_misread), ("p_noread", p_noread)):
            require_probability(device_id, name, p)
        total = p_correct + p_misread + p_noread
        if abs(total - 1.0) > 1e-9:
            raise ValueError(f"{device_id}: p_correct + p_misread + p_noread must be 1 (got {total})")
        confidences = (("correct_confidence", correct_confidence), ("misread_confidence", misread_confidence))
        for name, (low, high) in confidences:
            if not 0.0 <= low <= high <= 1.0:
                raise ValueError(f"{device_id}: {name} must satisfy 0 <= low <= high <= 1 (got {low}, {high})")
        self._latency_s = latency_s
        self.p_correct = p_correct
        self.p_misread = p_misread
        self.p_noread = p_noread
        self.night = _as_windows(night)
        for w in self.night:
            if w.start_s > SECONDS_PER_DAY or w.end_s > SECONDS_PER_DAY:
                raise ValueError(f"{device_id}: night windows are times of day, 0-86400 s (got {w})")
        self.rain = _as_windows(rain)
        self._fixed_shares: tuple[float, float, float] | None = None
        self._correct_confidence = correct_confidence
        self._misread_confidence = misread_confidence
        #: Reads reported, by outcome.
        self.reads = 0
        self.correct_reads = 0
        self.misreads = 0
        self.no_reads = 0
        #: No-reads reported because the camera was down.
        self.reads_while_down = 0

    def worsening_factor(self, now: float) -> float:
        """The product of the factors of every night and rain window holding at ``now``."""
        factor = 1.0
        time_of_day = now % SECONDS_PER_DAY
        for w in self.night:
            if w.start_s <= w.end_s:
                inside = w.start_s <= time_of_day < w.end_s
            else:  # wraps past midnight
                inside = not (w.end_s <= time_of_day < w.start_s)
            if inside:
                factor *= w.factor
        for w in self.rain:
            if w.start_s <= now < w.end_s:
                factor *= w.factor
        return factor

    def shares(self, now: float) -> tuple[float, float, float]:
        """(correct, misread, no-read) shares at ``now``.

        Error shares are scaled by the worsening factor; if they would exceed 1 together they
        are scaled down to sum to 1 (no correct reads at all), keeping their ratio.
        """
        factor = self.worsening_factor(now)
        p_mis, p_no = self.p_misread * factor, self.p_noread * factor
        errors = p_mis + p_no
        if errors > 1.0:
            p_mis, p_no = p_mis / errors, p_no / errors
        return max(0.0, 1.0 - p_mis - p_no), p_mis, p_no

    def observe(self, vehicle: VehicleTruth) -> simpy.Process:
        """A vehicle triggers the camera; the process reports and returns its ``PlateRead``."""
        return self.env.process(self.read_vehicle(vehicle))

    def read_vehicle(self, vehicle: VehicleTruth) -> ProcessGenerator:
        """``observe`` as a generator, for a process that waits for the read itself (``yield from``)."""
        yield self.env.timeout(draw_duration(self.device_id, "latency_s", self._latency_s))
        if self.is_down:
            self.reads_while_down += 1
            read = self._no_read()
        else:
            read = self._read(vehicle.plate)
        self.reads += 1
        self._emit(read)
        return read

    def _read(self, plate: str) -> PlateRead:
        # Without night or rain windows the shares never change: worked out once.
        shares = self._fixed_shares
        if shares is None:
            shares = self.shares(self.env.now)
            if not (self.night or self.rain):
                self._fixed_shares = shares
        p_correct, p_mis, _ = shares
        u = float(self._rng.random())
        if u < p_correct:
            self.correct_reads += 1
            return PlateRead(self.device_id, plate, self._confidence(self._correct_confidence))
        if u < p_correct + p_mis:
            wrong = misread(plate, self._rng)
            if wrong is not None:
                self.misreads += 1
                return PlateRead(self.device_id, wrong, self._confidence(self._misread_confidence))
        return self._no_read()

    def _no_read(self) -> PlateRead:
        self.no_reads += 1
        return PlateRead(self.device_id, None, 0.0)

    def _confidence(self, bounds: Sequence[float]) -> float:
        return draw_uniform(self._rng, bounds[0], bounds[1])
