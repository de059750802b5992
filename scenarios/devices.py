"""Timing and fault models of the gate's devices, and scheduled outages.

These parameters drive the SimPy emulators; the device *inventory* comes from the layout
(``scenarios.layout.device_inventory``). Defaults are the figures of DOMAIN.md where it has
one (plate-camera read rates, scanner throughput, OIML R76 class III scales).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, model_validator

from scenarios.distributions import Constant, Distribution, Exponential, Triangular
from scenarios.errors import Problems, shown_fields, skip_if_invalid
from scenarios.values import FROZEN, SHARE_TOLERANCE, ClockWindow, Mtbf, Number, Positive, Share, Window


class PlateCamera(BaseModel):
    """Plate cameras (all of one model): read outcome probabilities and degradations.

    At night and in rain, the misread and no-read probabilities are multiplied by the factor
    (both factors when both apply) and the correct-read probability shrinks accordingly.
    """

    model_config = FROZEN
    latency_s: Distribution = Triangular(kind="triangular", low=0.2, mode=0.4, high=1.0)
    #: DOMAIN.md: vendors claim about 98 % correct reads, users report 90-94 %.
    p_correct: Share = 0.92
    p_misread: Share = 0.03
    p_noread: Share = 0.05
    night: ClockWindow = ("19:00", "06:00")
    night_factor: Annotated[Number, Field(ge=1)] = 1.5
    rain: tuple[Window, ...] = ()
    rain_factor: Annotated[Number, Field(ge=1)] = 2.0

    @model_validator(mode="after")
    def _probabilities(self) -> PlateCamera:
        problems = Problems()
        with skip_if_invalid():
            total = self.p_correct + self.p_misread + self.p_noread
            if abs(total - 1.0) > SHARE_TOLERANCE:
                problems.add(
                    "p_correct",
                    f"p_correct + p_misread + p_noread must sum to 1, they sum to {total:.6g}",
                    given=shown_fields(p_correct=self.p_correct, p_misread=self.p_misread, p_noread=self.p_noread),
                )
        with skip_if_invalid():
            rain_factor = self.rain_factor if self.rain else 1.0
            worst = (self.p_misread + self.p_noread) * self.night_factor * rain_factor
            if worst > 1.0 + SHARE_TOLERANCE:
                problems.add(
                    "night_factor",
                    f"night and rain factors push the misread + no-read probability to {worst:.3g}, above 1",
                    given=shown_fields(night_factor=self.night_factor, rain_factor=rain_factor),
                )
        problems.raise_if_any()
        return self

    def error_probability(self, night: bool, raining: bool) -> float:
        """Probability of a misread or no-read under the given conditions."""
        factor = (self.night_factor if night else 1.0) * (self.rain_factor if raining else 1.0)
        return min(1.0, (self.p_misread + self.p_noread) * factor)


class Barrier(BaseModel):
    """Entry and exit barriers."""

    model_config = FROZEN
    #: Open, let one vehicle pass, close.
    cycle_s: Distribution = Constant(value=6.0)
    mtbf_h: Mtbf = 500.0
    mttr_h: Distribution = Exponential(kind="exponential", mean=0.5)


class Scale(BaseModel):
    """Weighbridges (OIML R76 class III)."""

    model_config = FROZEN
    #: From the vehicle stopping to a stable (``ST``) frame.
    settle_s: Distribution = Triangular(kind="triangular", low=10, mode=20, high=40)
    #: Verification scale interval e: readings are multiples of it.
    interval_kg: Positive = 20.0
    #: Maximum capacity; heavier vehicles read ``OL`` (overload).
    capacity_kg: Positive = 80_000.0
    #: Calibration drift per day (signed: a scale may drift either way).
    drift_kg_per_day: Number = 0.0
    mtbf_h: Mtbf = 1000.0
    mttr_h: Distribution = Exponential(kind="exponential", mean=2.0)


class Scanner(BaseModel):
    """One type of container scanner."""

    model_config = FROZEN
    scan_s: Distribution
    #: Probability a suspect load is flagged.
    p_detect: Share = 0.9
    #: Probability a clean load is flagged.
    p_false_alarm: Share = 0.05
    mtbf_h: Mtbf = 300.0
    mttr_h: Distribution = Exponential(kind="exponential", mean=3.0)


class Scanners(BaseModel):
    """Scanner models by type. DOMAIN.md: drive-through about 50-150 vehicles/h, portal 20-30/h."""

    model_config = FROZEN
    # 3600/150 = 24 s, 3600/100 = 36 s, 3600/50 = 72 s per vehicle.
    drive_through: Scanner = Scanner(scan_s=Triangular(kind="triangular", low=24, mode=36, high=72))
    # 3600/30 = 120 s, 3600/25 = 144 s, 3600/20 = 180 s per vehicle.
    portal: Scanner = Scanner(scan_s=Triangular(kind="triangular", low=120, mode=144, high=180))


class PartnerLink(BaseModel):
    """The data link to the partner side's platform (manifests, acknowledgements)."""

    model_config = FROZEN
    latency_s: Distribution = Exponential(kind="exponential", mean=2.0)
    #: Probability a message is lost and must be sent again.
    p_loss: Share = 0.01


class Outage(Window):
    """A scheduled outage: ``device`` (an id such as ``scanner-1``, or a device kind such as
    ``scanner`` for all of them) is down from ``start`` for ``duration_h`` hours."""

    device: Annotated[str, Field(min_length=1)]


class Devices(BaseModel):
    """Every device model, and the outages planned for the run."""

    model_config = FROZEN
    #: ``null``: no plate cameras; plates are entered by hand.
    plate_camera: PlateCamera | None = PlateCamera()
    barrier: Barrier = Barrier()
    scale: Scale = Scale()
    scanners: Scanners = Scanners()
    partner_link: PartnerLink = PartnerLink()
    outages: tuple[Outage, ...] = ()

