"""Small value types every scenario section shares: shares, capacities, clock times, windows.

Conventions used throughout the schema:

- A field name says its unit: ``_s`` seconds, ``_h`` hours, ``_km``, ``_kmh``, ``_kg``.
- Simulation time 0 is midnight at the start of day 0; a clock time ``"HH:MM"`` on day ``d``
  is ``24 * d + HH + MM / 60`` hours.
- Every number is finite: ``.inf``, ``.nan`` and numbers too large for a float (``1e400``)
  are refused everywhere. A capacity is a whole number or ``"unlimited"``; a device that
  never fails has ``mtbf_h: never``.
- Counts (lanes, scanners, replications, days...) are whole numbers: ``true``/``false`` and
  text such as ``"2"`` are refused. Other numbers refuse ``true``/``false`` but read numeric
  text, because YAML 1.1 reads scientific notation without a dot (``1e6``) as text.
- Clock times are written in quotes (``"07:00"``): YAML 1.1 reads an unquoted ``12:30`` as
  the number 750; the loader refuses such values instead of misreading them.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from scenarios.errors import shown

#: Every scenario model is immutable, rejects fields it does not know, and refuses infinite
#: and NaN numbers in every float field (a run cannot simulate them, nor can they be hashed).
FROZEN = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


def _number(value: Any) -> Any:
    # pydantic reads true as 1.0; in a scenario it is a slip (a YAML ``yes`` in the wrong place).
    if isinstance(value, bool):
        raise ValueError("must be a number, not true/false")
    return value


def _whole_number(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("must be a whole number, not true/false")
    if isinstance(value, str):
        raise ValueError("must be a whole number, not text")
    return value


#: Any finite number (not true/false).
Number = Annotated[float, BeforeValidator(_number)]
#: A share or probability in [0, 1].
Share = Annotated[Number, Field(ge=0.0, le=1.0)]
#: A strictly positive quantity (rates, means, lengths).
Positive = Annotated[Number, Field(gt=0)]
#: A non-negative quantity (times that may be zero).
NonNegative = Annotated[Number, Field(ge=0)]
#: A whole number (a count, a day, a seed): not true/false, not text; ``2.0`` is read as 2.
Whole = Annotated[int, BeforeValidator(_whole_number)]
#: A count of at least one (lanes, replications).
AtLeastOne = Annotated[Whole, Field(ge=1)]
#: A count that may be zero (scales, scanners), or a day number from 0.
NonNegativeWhole = Annotated[Whole, Field(ge=0)]
#: The most devices of one kind a layout may have (lanes, scales, scanners of a type, staging
#: areas): each is built and watched one by one, so an absurd count is refused, not attempted.
MAX_DEVICES = 100
#: Devices of one kind: at least one, at most ``MAX_DEVICES``.
DeviceCount = Annotated[Whole, Field(ge=1, le=MAX_DEVICES)]
#: Devices of one kind that the layout may also go without.
OptionalDeviceCount = Annotated[Whole, Field(ge=0, le=MAX_DEVICES)]
#: The most AGVs on one lane.
MAX_AGVS = 1_000

#: The largest seed: results keep it as a 64-bit integer.
MAX_SEED = 2**63 - 1

UNLIMITED = "unlimited"
NEVER = "never"

#: How far shares may stray from summing to 1 (rounding in hand-written files).
SHARE_TOLERANCE = 1e-6


def _capacity(value: Any) -> Any:
    if value == UNLIMITED:
        return value
    if isinstance(value, bool):
        raise ValueError(f"must be a whole number >= 0 or '{UNLIMITED}', not true/false")
    # A capacity without limit is spelt out; .inf would pass for one here but not in the hash.
    if not isinstance(value, (int, float)) or not math.isfinite(value) or value != int(value):
        raise ValueError(f"must be a whole number >= 0 or '{UNLIMITED}'")
    if value < 0:
        raise ValueError(f"must be >= 0 or '{UNLIMITED}'")
    return int(value)


#: A number of places (vehicles, bays) or "unlimited".
Capacity = Annotated[int | Literal["unlimited"], BeforeValidator(_capacity)]


def capacity_value(capacity: int | str) -> float:
    """A capacity as a number: ``math.inf`` for ``"unlimited"``."""
    return math.inf if capacity == UNLIMITED else float(capacity)


def _mtbf(value: Any) -> Any:
    if value == NEVER:
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < math.inf:
        raise ValueError(f"must be a finite number of hours > 0, or '{NEVER}' for a device that never fails")
    return float(value)


#: Mean time between failures in hours, or "never".
Mtbf = Annotated[float | Literal["never"], BeforeValidator(_mtbf)]


def mtbf_value(mtbf_h: float | str) -> float:
    """Mean time between failures in hours: ``math.inf`` for ``"never"``."""
    return math.inf if mtbf_h == NEVER else float(mtbf_h)


_CLOCK = re.compile(r"^(\d{1,2}):([0-5]\d)$")


def clock_hours(text: str) -> float:
    """Hours after midnight of a clock time ``"HH:MM"`` (``"24:00"`` is 24.0)."""
    match = _CLOCK.match(text)
    if match is None:
        raise ValueError(f"must be a clock time 'HH:MM' in quotes (got {shown(text)})")
    hours, minutes = int(match.group(1)), int(match.group(2))
    if hours > 24 or (hours == 24 and minutes):
        raise ValueError(f"must be a clock time between '00:00' and '24:00' (got {shown(text)})")
    return hours + minutes / 60


def _clock_time(value: Any) -> Any:
    if not isinstance(value, str):
        raise ValueError(f"must be a clock time 'HH:MM' in quotes (got {shown(value)})")
    hours = clock_hours(value)
    return f"{int(hours):02d}:{round((hours % 1) * 60):02d}"


#: A clock time "HH:MM" from "00:00" to "24:00", normalised to two-digit hours.
ClockTime = Annotated[str, BeforeValidator(_clock_time)]


def _shift(value: tuple[str, str]) -> tuple[str, str]:
    start, end = value
    if start == "24:00":
        raise ValueError("a period cannot start at '24:00'; start it at '00:00'")
    if clock_hours(start) == clock_hours(end):
        raise ValueError(f"start and end must differ; for the whole day write ['00:00', '24:00'] (got {[start, end]})")
    return value


#: A daily period ["start", "end"]; an end before the start runs past midnight.
ClockWindow = Annotated[tuple[ClockTime, ClockTime], AfterValidator(_shift)]
#: A working period of officers, e.g. ["07:00", "19:00"].
Shift = ClockWindow


def shift_hours(shift: tuple[str, str]) -> float:
    """Length of a shift in hours (a night shift wraps past midnight)."""
    start, end = clock_hours(shift[0]), clock_hours(shift[1])
    return end - start if end > start else 24 - start + end


def in_clock_window(window: tuple[str, str], hour_of_day: float) -> bool:
    """Whether ``hour_of_day`` (0 <= h < 24) falls in ``window``, which may wrap past midnight."""
    start, end = clock_hours(window[0]), clock_hours(window[1])
    hour = hour_of_day % 24
    if start < end:
        return start <= hour < end
    return hour >= start or hour < end


def _start(value: Any) -> Any:
    if isinstance(value, str):
        normalised = _clock_time(value)
        if normalised == "24:00":
            raise ValueError("a start time must be before '24:00'; use '00:00' of the next day")
        return normalised
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < math.inf:
        raise ValueError("must be a clock time 'HH:MM' in quotes, or a finite number of hours >= 0 since the start of the day")
    return float(value)


class Window(BaseModel):
    """A stretch of time: from ``start`` on ``day`` for ``duration_h`` hours.

    ``start`` is a clock time ``"HH:MM"`` or a number of hours, both counted from midnight of
    ``day`` (day 0 is the first day of the run).
    """

    model_config = FROZEN
    start: Annotated[float | str, BeforeValidator(_start)]
    day: NonNegativeWhole = 0
    duration_h: Positive

    @property
    def start_h(self) -> float:
        """Start in hours since the beginning of the run."""
        offset = clock_hours(self.start) if isinstance(self.start, str) else self.start
        return 24 * self.day + offset

    @property
    def end_h(self) -> float:
        """End in hours since the beginning of the run."""
        return self.start_h + self.duration_h


def check_shares(shares: dict[Any, float], what: str) -> dict[Any, float]:
    """Raise unless ``shares`` sum to 1 within ``SHARE_TOLERANCE``; return them unchanged."""
    total = sum(shares.values())
    if abs(total - 1.0) > SHARE_TOLERANCE:
        listed = ", ".join(f"{getattr(k, 'value', k)} {v:g}" for k, v in shares.items())
        raise ValueError(f"{what} shares must sum to 1, they sum to {total:.6g} (got {listed})")
    return shares

