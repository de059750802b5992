"""Where the trucks are at a given moment, from the per-truck stage timestamps.

Each truck's stamps (``arrival``, ``staging_in``, ``entry_in`` ... ``departed``) cut its life
into stays at places. A stay at a station runs from the station's ``*_in`` stamp to its
``*_out`` stamp; when that is missing (the truck was re-routed while queueing, or is still
there at the end of the run) it runs to the truck's next later stamp, or to the end of the
truck's passage. Stays are half-open, [in, out): a truck that leaves one station and enters
the next at the same instant is counted once. Inside the gate area, a truck at no station is
driving between stations.

On the approach road a truck is driving to the checkpoint: from ``arrival`` to its first
stamp at the gate. A truck queued on the road to be called forward has reached staging and
counts there, with the trucks waiting in staging areas: the staging area's count is the whole
staging queue, of which the twin's road-queue series is the part on the road.

A truck's passage ends when it departs (``departed``), when it is turned back for
re-declaration and does not come back (``returned_at``), at its last stamp when it was refused,
and never while it is still inside at the end of the run. A truck that was turned back and came
back is stamped again on its accepted passage (the twin keeps the later time), so its first
passage is not visible here: it counts on the approach road until it reaches staging again.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

#: Places in the order a truck passes them: key, label on the schematic, in-stamp, out-stamp.
STATIONS: tuple[tuple[str, str, str, str], ...] = (
    ("staging", "Staging area", "staging_in", "staging_out"),
    ("entry", "Entry lanes (barrier 1)", "entry_in", "entry_out"),
    ("scale", "Weighbridge", "scale_in", "scale_out"),
    ("scanner", "Container scanner", "scanner_in", "scanner_out"),
    ("yard", "Yard", "yard_in", "yard_out"),
    ("inspection", "Inspection bays", "inspection_in", "inspection_out"),
    ("exit", "Exit lanes (barrier 2)", "exit_in", "departed"),
)
ROAD = "road"
MOVING = "moving"
#: Every place counted, in schematic order; the counts of all places add up to the trucks inside.
PLACES: tuple[str, ...] = (ROAD, *(key for key, *_ in STATIONS), MOVING)
PLACE_LABELS: dict[str, str] = {
    ROAD: "Driving on the approach road",
    **{key: label for key, label, *_ in STATIONS},
    MOVING: "Driving inside the gate area",
}
#: The stamps that mark reaching a place; a stay ends at the next of them, at the latest.
_IN_STAMPS: tuple[str, ...] = tuple(in_stamp for _, _, in_stamp, _ in STATIONS)
#: Internal: the whole stay inside the gate area, from staging (or barrier 1) to the end.
GATE = "gate"
_ALL_STAMPS: tuple[str, ...] = tuple(stamp for _, _, in_stamp, out_stamp in STATIONS for stamp in (in_stamp, out_stamp))
_REQUIRED: tuple[str, ...] = ("arrival", "returned_at", "outcome", *_ALL_STAMPS)


@dataclass(frozen=True)
class Stays:
    """Every truck's stay at every place, as sorted start and end times, for fast counting."""

    starts: dict[str, np.ndarray]
    ends: dict[str, np.ndarray]
    first_time: float
    last_time: float

    def counts_at(self, time: float) -> dict[str, int]:
        """Trucks at each place at ``time`` (seconds), in ``PLACES`` order."""
        return {place: int(self.count(place, np.array([time], dtype=float))[0]) for place in PLACES}

    def count(self, place: str, times: np.ndarray) -> np.ndarray:
        """Trucks at ``place`` at each of ``times`` (seconds)."""
        if place == MOVING:
            at_stations = np.zeros(len(times), dtype=np.int64)
            for key, *_ in STATIONS:
                at_stations += self._count(key, times)
            return self._count(GATE, times) - at_stations
        if place not in PLACES:
            raise KeyError(f"no place {place!r}; places: {', '.join(PLACES)}")
        return self._count(place, times)

    def inside(self, times: np.ndarray) -> np.ndarray:
        """Trucks on the approach road or inside the gate area at each of ``times``."""
        inside: np.ndarray = self._count(ROAD, times) + self._count(GATE, times)
        return inside

    def _count(self, key: str, times: np.ndarray) -> np.ndarray:
        begun = np.searchsorted(self.starts[key], times, side="right")
        ended = np.searchsorted(self.ends[key], times, side="right")
        return (begun - ended).astype(np.int64)

    def peaks(self) -> dict[str, int]:
        """The most trucks at each place at any moment, in ``PLACES`` order.

        Every count changes only when some stay starts or ends, so it is read at each of those
        instants: the exact peak, not the peak of samples.
        """
        moments = np.unique(np.concatenate([*self.starts.values(), *self.ends.values()]))
        moments = moments[np.isfinite(moments)]
        if moments.size == 0:
            return {place: 0 for place in PLACES}
        return {place: int(self.count(place, moments).max()) for place in PLACES}

    def timeline(self, times: np.ndarray) -> pd.DataFrame:
        """Trucks at each place (columns) at each of ``times`` (index, seconds)."""
        times = np.asarray(times, dtype=float)
        return pd.DataFrame({place: self.count(place, times) for place in PLACES}, index=pd.Index(times, name="time"))


def _check_columns(trucks: pd.DataFrame) -> None:
    missing = sorted(set(_REQUIRED) - set(trucks.columns))
    if missing:
        raise ValueError(f"trucks table: missing column(s) {', '.join(missing)}; is this a gatetwin trucks table?")


def passage_end(trucks: pd.DataFrame) -> np.ndarray:
    """When each truck's passage ended (seconds); infinity for a truck still inside."""
    _check_columns(trucks)
    outcome = trucks["outcome"].astype(object).to_numpy()
    departed = trucks["departed"].to_numpy(dtype=float)
    returned = trucks["returned_at"].to_numpy(dtype=float)
    stamps = trucks[["arrival", *_ALL_STAMPS]].to_numpy(dtype=float)
    # A refused truck leaves after its last stamp; with no stamp at all it was never seen.
    last_stamp = np.full(len(trucks), -math.inf)
    seen = ~np.all(np.isnan(stamps), axis=1)
    last_stamp[seen] = np.nanmax(stamps[seen], axis=1)
    end = np.full(len(trucks), math.inf)
    end = np.where(outcome == "refused", last_stamp, end)
    end = np.where(outcome == "returned", returned, end)
    return np.where(~np.isnan(departed), departed, end)


def stays(trucks: pd.DataFrame) -> Stays:
    """The stays of every truck at every place; see the module docstring for the rules."""
    _check_columns(trucks)
    end = passage_end(trucks)
    arrival = trucks["arrival"].to_numpy(dtype=float)
    staging_in = trucks["staging_in"].to_numpy(dtype=float)
    gate_start = np.where(np.isnan(staging_in), trucks["entry_in"].to_numpy(dtype=float), staging_in)
    # Trucks never at the gate (still on the road, or turned away before it) stay on the road.
    gate_start = np.minimum(np.where(np.isnan(gate_start), end, gate_start), end)
    in_stamps = trucks[list(_IN_STAMPS)].to_numpy(dtype=float)

    intervals: dict[str, tuple[np.ndarray, np.ndarray]] = {ROAD: (arrival, gate_start), GATE: (gate_start, end)}
    for key, _, in_stamp, out_stamp in STATIONS:
        begin = trucks[in_stamp].to_numpy(dtype=float)
        leave = trucks[out_stamp].to_numpy(dtype=float)
        # A stay ends at its out-stamp or when the truck is stamped into another place, so a
        # truck is at one place at a time (an inspection bay, not also the yard it parks in).
        later = np.where(in_stamps > begin[:, None], in_stamps, np.inf)
        next_in = later.min(axis=1) if len(trucks) else np.empty(0)
        stay_end = np.minimum(np.minimum(np.where(np.isnan(leave), np.inf, leave), next_in), end)
        # Stamps left over from an earlier passage lie before this passage's start: clip them.
        intervals[key] = (np.maximum(begin, gate_start), stay_end)

    starts: dict[str, np.ndarray] = {}
    ends: dict[str, np.ndarray] = {}
    for place, (start, stop) in intervals.items():
        keep = ~np.isnan(start) & ~np.isnan(stop) & (stop > start)
        starts[place] = np.sort(start[keep])
        ends[place] = np.sort(stop[keep])
    stamps = np.concatenate([arrival, in_stamps.ravel(), end])
    finite = stamps[np.isfinite(stamps)]
    first = float(finite.min()) if finite.size else 0.0
    last = float(finite.max()) if finite.size else 0.0
    return Stays(starts=starts, ends=ends, first_time=first, last_time=last)


def agv_handover(trucks: pd.DataFrame, time: float) -> tuple[int, int]:
    """AGV-lane trucks in the yard at ``time``, and AGV containers handed over by then.

    The handover happens while the truck is parked, so its containers are counted as handed
    over once the truck has left the yard.
    """
    if "crossing_mode" not in trucks.columns or "agv_containers" not in trucks.columns:
        return 0, 0
    agv = trucks[trucks["crossing_mode"].astype(object) == "agv_lane"]
    yard_in = agv["yard_in"].to_numpy(dtype=float)
    yard_out = agv["yard_out"].to_numpy(dtype=float)
    in_yard = (yard_in <= time) & ~(yard_out <= time)
    handed = agv["agv_containers"].to_numpy()[yard_out <= time].sum()
    return int(in_yard.sum()), int(handed)


def series_value_at(series: dict[str, np.ndarray] | None, time: float, metric: str = "value") -> float:
    """The level of a step series at ``time``; NaN without a series or before it starts."""
    if not series or metric not in series or series["time"].size == 0:
        return math.nan
    index = int(np.searchsorted(series["time"], time, side="right")) - 1
    return float(series[metric][index]) if index >= 0 else math.nan


def trucks_text(count: float) -> str:
    """A number of trucks in words: "1 truck", "3 trucks"."""
    return f"{count:.0f} truck" + ("" if round(count) == 1 else "s")


def clock_label(seconds: float) -> str:
    """A simulation time as "day N, HH:MM" (the run starts at midnight of day 1)."""
    minutes = int(round(seconds / 60.0))
    day, minute_of_day = divmod(minutes, 24 * 60)
    return f"day {day + 1}, {minute_of_day // 60:02d}:{minute_of_day % 60:02d}"
