"""Probes: what the twin measures, recorded as it happens.

The wiring calls a probe at every change (a truck joins a queue, a server starts or ends a
service, a level moves, a truck reaches a stage) and passes the simulation clock as ``now``,
in seconds. Probes never read a clock and never touch SimPy. They keep step series and
per-customer times in numpy arrays that grow by doubling, so a long run costs a few arrays
rather than a Python object per event; summaries are computed afterwards for a window
``[start, end]``.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from enum import Enum
from typing import Any

import numpy as np
import pandas as pd

from twin.stats import time_integral, window_max

#: Relative difference between L and lambda*W that Little's law tolerates by default.
LITTLE_TOLERANCE = 0.05

_SECONDS_PER_HOUR = 3600.0

#: Names the wiring gives its counter probes; the KPIs and the level plots look for them.
ROAD_QUEUE_TRUCKS = "road_queue_trucks"
ROAD_QUEUE_KM = "road_queue_km"
YARD_OCCUPANCY = "yard_occupancy"
#: The station of the containers waiting for an AGV on the stack at the handover point (one
#: customer a container; its servers are the stack's places).
AGV_STACK = "agv_stack"


class _Buffer:
    """Rows appended to a numpy array (1-D, or 2-D with ``width`` columns) that doubles when full.

    Unused rows hold ``fill``, so a new row only needs the cells that differ from it.
    """

    __slots__ = ("data", "size", "_fill")

    def __init__(self, width: int | None, dtype: Any = float, fill: Any = math.nan, capacity: int = 256) -> None:
        self._fill = fill
        self.data = np.full(capacity if width is None else (capacity, width), fill, dtype=dtype)
        self.size = 0

    def new_row(self) -> int:
        """Claim the next row (filled with ``fill``) and return its index."""
        if self.size == self.data.shape[0]:
            grown = np.full((2 * self.size, *self.data.shape[1:]), self._fill, dtype=self.data.dtype)
            grown[: self.size] = self.data
            self.data = grown
        self.size += 1
        return self.size - 1

    @property
    def values(self) -> np.ndarray:
        """The filled rows (a view)."""
        return self.data[: self.size]


class _StepSeries:
    """A step series: change times and named values; a second change at one instant replaces the first.

    Rows are kept as tuples in a list while the run goes, and become arrays when read.
    """

    __slots__ = ("_width", "_names", "_rows", "_arrays", "last_time")

    def __init__(self, names: tuple[str, ...], start: float, initial: tuple[float, ...]) -> None:
        self._names = names
        self._width = 1 + len(names)
        self._rows: list[tuple[float, ...]] = []
        self._arrays: dict[str, np.ndarray] | None = None
        self.last_time = math.nan
        self.record(start, initial)

    def record(self, now: float, values: tuple[float, ...]) -> None:
        if now == self.last_time:
            self._rows[-1] = (now, *values)
        else:
            self._rows.append((now, *values))
            self.last_time = now
        self._arrays = None

    def arrays(self) -> dict[str, np.ndarray]:
        if self._arrays is None:
            table = np.array(self._rows, dtype=float).reshape(len(self._rows), self._width)
            arrays = {"time": table[:, 0]}
            arrays.update({name: table[:, i + 1] for i, name in enumerate(self._names)})
            self._arrays = arrays
        return {name: values.copy() for name, values in self._arrays.items()}


def _check_now(kind: str, name: str, now: float, last: float) -> float:
    now = float(now)
    if now < last or now != now:  # now != now: NaN
        reason = "time is NaN" if now != now else f"time went backwards (t={now} after t={last})"
        raise ValueError(f"{kind} {name!r}: {reason}")
    return now


@dataclass(frozen=True)
class StationSummary:
    """One station over one window. Times in seconds, throughput in trucks per hour.

    ``utilisation`` is busy server-time over available server-time; NaN when the station has
    unlimited servers in the window or none available at all.

    ``mean_wait_s`` (arrival to start of service) and ``mean_sojourn_s`` (arrival to leaving)
    are taken over the same trucks: those that arrived in the window and were served and gone
    by its end. So the wait never exceeds the sojourn, and their difference is the mean service
    time. A truck that gave up or was sent back counts in ``abandoned``, in neither mean; one
    still waiting or in service at the end counts in ``mean_queue`` and ``mean_in_service``.
    """

    name: str
    start: float
    end: float
    mean_queue: float
    mean_in_service: float
    utilisation: float
    max_queue: float
    arrivals: int
    completions: int
    abandoned: int
    mean_wait_s: float
    mean_sojourn_s: float
    throughput_per_h: float

    def as_dict(self) -> dict[str, Any]:
        """The fields as a plain dict (one row of ``stations.csv``)."""
        return asdict(self)


@dataclass(frozen=True)
class LittleCheck:
    """Little's law at one station over a window: L against lambda x W.

    The window form is exact: every customer whose stay overlaps the window counts once in
    lambda and, in W, for the part of its stay inside the window (a truck still in the yard at
    the end counts until the end). So L = lambda x W holds whenever the station's level series
    and its per-customer records agree; a probe that lost count breaks it.

    A customer the wiring forgot to take out still agrees with the level series, so the check
    also compares ``in_station_at_end`` with ``expected_inside``, the number the caller knows by
    other means to be there (e.g. the trucks whose own state says they are at this station).
    """

    name: str
    mean_number: float
    arrival_rate: float
    mean_sojourn_s: float
    relative_error: float
    tolerance: float
    in_station_at_end: int
    expected_inside: int | None = None

    @property
    def little_product(self) -> float:
        """lambda x W, the number Little's law predicts."""
        return self.arrival_rate * self.mean_sojourn_s

    @property
    def holds(self) -> bool:
        """L and lambda x W agree within the tolerance, and nobody is inside who should not be."""
        expected_ok = self.expected_inside is None or self.expected_inside == self.in_station_at_end
        return self.relative_error <= self.tolerance and expected_ok


# Customer states inside a station.
_WAITING, _IN_SERVICE, _DONE, _ABANDONED = 0, 1, 2, 3


class StationProbe:
    """Time-weighted queue length and busy servers of one station, recorded on change.

    Each ``arrive`` returns the customer's number at this station. Pass it back to
    ``start_service``/``end_service``/``abandon`` when the station does not serve in arrival
    order (priority for perishables); without it the longest-waiting customer starts first
    and the earliest-started customer finishes first.
    """

    def __init__(self, name: str, servers: int | None, start: float = 0.0) -> None:
        self.name = name
        self._servers = self._checked_servers(servers)
        self._servers_f = self._servers_value()
        self.start = float(start)
        self._queue = 0
        self._busy = 0
        self._steps = _StepSeries(("queue", "busy", "servers"), self.start, (0.0, 0.0, self._servers_value()))
        # Per customer: arrival, service start, exit (NaN until they happen) and state.
        self._times = _Buffer(3)
        self._state = _Buffer(None, np.int8, _WAITING)
        # Customer numbers in arrival / service-start order; entries that left out of order are
        # skipped when they reach the front, so tokens and FIFO calls can be mixed.
        self._waiting: deque[int] = deque()
        self._serving: deque[int] = deque()

    @property
    def servers(self) -> int | None:
        """Servers available now; None means unlimited."""
        return self._servers

    @property
    def queue(self) -> int:
        """Customers waiting now."""
        return self._queue

    @property
    def busy(self) -> int:
        """Customers in service now."""
        return self._busy

    def _checked_servers(self, servers: int | None) -> int | None:
        if servers is None:
            return None
        if isinstance(servers, bool) or not isinstance(servers, (int, np.integer)) or servers < 0:
            raise ValueError(f"station {self.name!r}: servers must be a whole number >= 0 or None (got {servers!r})")
        return int(servers)

    def _servers_value(self) -> float:
        return math.nan if self._servers is None else float(self._servers)

    def _record(self, now: float) -> None:
        # ``_StepSeries.record`` inlined: a probe records at every change of every truck.
        steps = self._steps
        row = (now, self._queue, self._busy, self._servers_f)
        if now == steps.last_time:
            steps._rows[-1] = row
        else:
            steps._rows.append(row)
            steps.last_time = now
        steps._arrays = None

    def _now(self, now: float) -> float:
        last = self._steps.last_time
        if now.__class__ is float and now >= last:  # in time order (NaN never is)
            return now
        return _check_now("station", self.name, now, last)

    def _customer(self, customer: int, expected: int, action: str) -> int:
        if not 0 <= customer < self._state.size:
            raise ValueError(f"station {self.name!r}: {action}: no customer number {customer}")
        if self._state.data[customer] != expected:
            raise ValueError(f"station {self.name!r}: {action}: customer {customer} is not {('waiting', 'in service')[expected]}")
        return customer

    def _trim(self, line: deque[int], expected: int) -> None:
        """Drop customers from the front of ``line`` who already left it out of order."""
        state = self._state.data
        while line and state[line[0]] != expected:
            line.popleft()

    def _front(self, line: deque[int], expected: int) -> int:
        self._trim(line, expected)
        return line.popleft()

    def arrive(self, now: float) -> int:
        """One more customer waiting; returns its customer number at this station."""
        now = self._now(now)
        customer = self._times.new_row()
        self._state.new_row()
        self._times.data[customer, 0] = now
        self._waiting.append(customer)
        self._queue += 1
        self._record(now)
        return customer

    def start_service(self, now: float, customer: int | None = None) -> None:
        """One fewer waiting, one more busy."""
        now = self._now(now)
        if self._queue == 0:
            raise ValueError(f"station {self.name!r}: start_service at t={now} but nobody is waiting")
        if customer is None:
            customer = self._front(self._waiting, _WAITING)
        else:
            customer = self._customer(customer, _WAITING, "start_service")
        self._state.data[customer] = _IN_SERVICE
        self._times.data[customer, 1] = now
        self._trim(self._waiting, _WAITING)
        self._serving.append(customer)
        self._queue -= 1
        self._busy += 1
        self._record(now)

    def end_service(self, now: float, customer: int | None = None) -> None:
        """One fewer busy: a customer leaves the station served."""
        now = self._now(now)
        if self._busy == 0:
            raise ValueError(f"station {self.name!r}: end_service at t={now} but no server is busy")
        if customer is None:
            customer = self._front(self._serving, _IN_SERVICE)
        else:
            customer = self._customer(customer, _IN_SERVICE, "end_service")
        self._state.data[customer] = _DONE
        self._times.data[customer, 2] = now
        self._trim(self._serving, _IN_SERVICE)
        self._busy -= 1
        self._record(now)

    def abandon(self, now: float, customer: int | None = None) -> None:
        """A waiting customer leaves without service (e.g. returned for re-declaration)."""
        now = self._now(now)
        if self._queue == 0:
            raise ValueError(f"station {self.name!r}: abandon at t={now} but nobody is waiting")
        if customer is None:
            customer = self._front(self._waiting, _WAITING)
        else:
            customer = self._customer(customer, _WAITING, "abandon")
        self._state.data[customer] = _ABANDONED
        self._times.data[customer, 2] = now
        self._trim(self._waiting, _WAITING)
        self._queue -= 1
        self._record(now)

    def withdraw(self, now: float, customer: int | None = None) -> None:
        """A customer in service leaves before its service is done (e.g. taken off a faulted
        scanner): a server is free again, and the customer counts as abandoned, not completed."""
        now = self._now(now)
        if self._busy == 0:
            raise ValueError(f"station {self.name!r}: withdraw at t={now} but no server is busy")
        if customer is None:
            customer = self._front(self._serving, _IN_SERVICE)
        else:
            customer = self._customer(customer, _IN_SERVICE, "withdraw")
        self._state.data[customer] = _ABANDONED
        self._times.data[customer, 2] = now
        self._trim(self._serving, _IN_SERVICE)
        self._busy -= 1
        self._record(now)

    def set_servers(self, now: float, servers: int | None) -> None:
        """Change the servers available, e.g. a device faulted -> 0; None means unlimited."""
        now = self._now(now)
        self._servers = self._checked_servers(servers)
        self._servers_f = self._servers_value()
        self._record(now)

    def series(self) -> dict[str, np.ndarray]:
        """Step series: change times and, from each, queue length, busy servers, servers (NaN = unlimited)."""
        return self._steps.arrays()

    def _window(self, start: float, end: float) -> tuple[float, float]:
        if start < self.start:
            raise ValueError(f"station {self.name!r}: window start t={start} is before the probe started (t={self.start})")
        if not end > start:
            raise ValueError(f"station {self.name!r}: window end must be after its start (got {start}, {end})")
        return float(start), float(end)

    def summary(self, start: float, end: float) -> StationSummary:
        """Queue, service and flow statistics of this station over [start, end]."""
        start, end = self._window(start, end)
        steps = self.series()
        time, queue, busy, servers = steps["time"], steps["queue"], steps["busy"], steps["servers"]
        duration = end - start
        available = time_integral(time, servers, start, end) if not np.isnan(window_max(time, servers, start, end)) else math.nan
        busy_time = time_integral(time, busy, start, end)
        utilisation = busy_time / available if available and not math.isnan(available) else math.nan
        arrival, service_start, exit_ = self._times.values.T
        state = self._state.values
        arrived = (arrival >= start) & (arrival <= end)
        served = arrived & (exit_ <= end) & (state == _DONE)  # both means over these same trucks
        in_window_exit = (exit_ >= start) & (exit_ <= end)
        completions = int(np.count_nonzero(in_window_exit & (state == _DONE)))
        return StationSummary(
            name=self.name,
            start=start,
            end=end,
            mean_queue=time_integral(time, queue, start, end) / duration,
            mean_in_service=busy_time / duration,
            utilisation=utilisation,
            max_queue=window_max(time, queue, start, end),
            arrivals=int(np.count_nonzero(arrived)),
            completions=completions,
            abandoned=int(np.count_nonzero(in_window_exit & (state == _ABANDONED))),
            mean_wait_s=float((service_start[served] - arrival[served]).mean()) if served.any() else math.nan,
            mean_sojourn_s=float((exit_[served] - arrival[served]).mean()) if served.any() else math.nan,
            throughput_per_h=completions / duration * _SECONDS_PER_HOUR,
        )

    def little(self, start: float, end: float, tolerance: float = LITTLE_TOLERANCE,
               expected_inside: int | None = None) -> LittleCheck:
        """Compare L (time-average number in the station) with lambda x W over [start, end].

        See ``LittleCheck``: W counts each stay's overlap with the window, and
        ``expected_inside`` (when given) is checked against the customers still inside at ``end``.
        """
        start, end = self._window(start, end)
        steps = self.series()
        present = steps["queue"] + steps["busy"]
        duration = end - start
        mean_number = time_integral(steps["time"], present, start, end) / duration
        arrival, _, exit_ = self._times.values.T
        leaves = np.where(np.isnan(exit_), np.inf, exit_)
        overlap = np.minimum(leaves, end) - np.maximum(arrival, start)
        counted = (arrival <= end) & (leaves >= start) & ((overlap > 0) | ((arrival >= start) & (arrival <= end)))
        customers = int(np.count_nonzero(counted))
        arrival_rate = customers / duration
        mean_sojourn = float(np.clip(overlap[counted], 0.0, None).mean()) if customers else 0.0
        predicted = arrival_rate * mean_sojourn
        if mean_number > 0:
            error = abs(mean_number - predicted) / mean_number
        else:
            error = 0.0 if predicted == 0 else math.inf
        still_inside = (arrival <= end) & (leaves > end)
        return LittleCheck(
            name=self.name,
            mean_number=mean_number,
            arrival_rate=arrival_rate,
            mean_sojourn_s=mean_sojourn,
            relative_error=error,
            tolerance=tolerance,
            in_station_at_end=int(np.count_nonzero(still_inside)),
            expected_inside=expected_inside,
        )


class CounterProbe:
    """A level over time: yard occupancy, road queue in trucks or km, trucks at staging.

    Levels never go below zero: a negative level means the wiring lost count, and the probe
    says so at once instead of averaging it away.
    """

    def __init__(self, name: str, start: float = 0.0, initial: float = 0.0) -> None:
        self.name = name
        self.start = float(start)
        self._level = self._checked(float(initial), self.start)
        self._steps = _StepSeries(("value",), self.start, (self._level,))

    @property
    def level(self) -> float:
        """The level now."""
        return self._level

    def _checked(self, value: float, now: float) -> float:
        if math.isnan(value) or math.isinf(value):
            raise ValueError(f"counter {self.name!r}: level must be finite (got {value} at t={now})")
        if value < 0:
            # Sums of fractional kilometres may undershoot zero by rounding only.
            if value > -1e-9:
                return 0.0
            raise ValueError(f"counter {self.name!r}: level would become {value} at t={now}; it cannot be negative")
        return value

    def set(self, now: float, value: float) -> None:
        """The level is ``value`` from ``now`` on."""
        now = _check_now("counter", self.name, now, self._steps.last_time)
        self._level = self._checked(float(value), now)
        self._steps.record(now, (self._level,))

    def add(self, now: float, delta: float) -> None:
        """The level changes by ``delta`` (negative to remove) at ``now``."""
        self.set(now, self._level + float(delta))

    def series(self) -> dict[str, np.ndarray]:
        """Step series: change times and the level from each."""
        return self._steps.arrays()

    def mean(self, start: float, end: float) -> float:
        """Time-weighted mean level over [start, end]."""
        steps = self._steps.arrays()
        return time_integral(steps["time"], steps["value"], start, end) / (end - start)

    def maximum(self, start: float, end: float) -> float:
        """Highest level over [start, end]."""
        steps = self._steps.arrays()
        return window_max(steps["time"], steps["value"], start, end)


#: Per-truck columns, in table order, by kind.
TRUCK_STRING_COLUMNS: tuple[str, ...] = (
    "visit_id", "plate", "direction", "vehicle_class", "cargo", "channel", "crossing_mode", "outcome",
)
TRUCK_TIME_COLUMNS: tuple[str, ...] = (
    "arrival", "declared_at", "first_staging_in", "staging_in", "staging_out", "entry_in", "entry_at_barrier",
    "entry_out", "scale_in", "scale_out", "scanner_in", "scanner_out", "yard_in", "yard_out", "inspection_in",
    "inspection_out", "exit_in", "exit_at_barrier", "departed", "returned_at", "refused_at",
)
TRUCK_COUNT_COLUMNS: tuple[str, ...] = (
    "redeclarations", "manual_reviews", "plates_typed", "fee_vnd", "fee_paid_vnd", "agv_containers",
)
#: Seconds spent, summed: ``earlier_gate_s`` is the time at the gate on passages that ended in a
#: return for re-declaration (from reaching staging, or the entry lane, to being turned back).
TRUCK_DURATION_COLUMNS: tuple[str, ...] = ("earlier_gate_s",)
TRUCK_COLUMNS: tuple[str, ...] = ("truck_id", *TRUCK_STRING_COLUMNS, *TRUCK_TIME_COLUMNS, *TRUCK_COUNT_COLUMNS,
                                  *TRUCK_DURATION_COLUMNS)
_STRING, _TIME, _COUNT = frozenset(TRUCK_STRING_COLUMNS), frozenset(TRUCK_TIME_COLUMNS), frozenset(TRUCK_COUNT_COLUMNS)
_DURATION = frozenset(TRUCK_DURATION_COLUMNS)
_COLUMNS = frozenset(TRUCK_COLUMNS)
#: Where a truck's passage ended; "inside" means it was still in the corridor or gate at the end.
OUTCOMES: frozenset[str] = frozenset({"departed", "returned", "refused", "inside"})


class TruckLog:
    """Per-truck table. Columns in ``TRUCK_COLUMNS``; float NaN for stages a truck did not visit.

    Times are simulation seconds. Stamping a stage twice keeps the later time: a truck turned
    back for re-declaration that comes back shows the stages of its last passage, with
    ``first_staging_in`` (when it first reached staging) and ``earlier_gate_s`` (the time it
    spent at the gate on the passages that ended in a return, ``end_passage``) beside them;
    ``redeclarations`` counts the returns. Strings default to "" and the outcome to "inside".

    ``scale_out`` / ``scanner_out`` mean weighed / scanned: a truck taken off the scale or the
    scanner before its work was done (re-routed, e.g. the device faulted) keeps its ``*_in``
    (it was there) and no ``*_out``; one re-routed on its way there has neither.
    """

    def __init__(self, capacity: int = 1024) -> None:
        if capacity < 1:
            raise ValueError(f"TruckLog: capacity must be at least 1 (got {capacity})")
        # Column name -> (dtype, value of a fresh row); arrays are preallocated and doubled.
        self._defaults: dict[str, tuple[Any, Any]] = {"truck_id": (np.int64, -1)}
        self._defaults.update({name: (object, "inside" if name == "outcome" else "") for name in TRUCK_STRING_COLUMNS})
        self._defaults.update({name: (float, math.nan) for name in TRUCK_TIME_COLUMNS})
        self._defaults.update({name: (np.int64, 0) for name in TRUCK_COUNT_COLUMNS})
        self._defaults.update({name: (float, 0.0) for name in TRUCK_DURATION_COLUMNS})
        self._columns = {name: np.full(capacity, fill, dtype=dtype) for name, (dtype, fill) in self._defaults.items()}
        self._size = 0

    def __len__(self) -> int:
        return self._size

    @property
    def capacity(self) -> int:
        """Rows allocated; doubles when a new truck does not fit."""
        return self._columns["truck_id"].size

    def new_truck(self, **static: Any) -> int:
        """Add a truck and return its row. ``truck_id`` defaults to the row number."""
        if not _COLUMNS.issuperset(static):
            unknown = sorted(set(static) - _COLUMNS)
            raise ValueError(f"TruckLog.new_truck: unknown column(s) {', '.join(unknown)}; known: {', '.join(TRUCK_COLUMNS)}")
        row = self._size
        if row == self.capacity:
            for name, (dtype, fill) in self._defaults.items():
                grown = np.full(2 * row, fill, dtype=dtype)
                grown[:row] = self._columns[name]
                self._columns[name] = grown
        self._size = row + 1
        self._columns["truck_id"][row] = row
        for name, value in static.items():
            self.set(row, name, value)
        return row

    def _row(self, row: int) -> int:
        if not 0 <= row < self._size:
            raise IndexError(f"TruckLog: no truck at row {row} (rows 0..{self._size - 1})")
        return row

    def stamp(self, row: int, column: str, now: float) -> None:
        """Record that the truck reached a stage (a time column) at ``now``."""
        if column not in _TIME:
            raise ValueError(f"TruckLog.stamp: {column!r} is not a time column; time columns: {', '.join(TRUCK_TIME_COLUMNS)}")
        if not 0 <= row < self._size:
            self._row(row)  # raises
        self._columns[column][row] = float(now)
        if column == "staging_in":
            first = self._columns["first_staging_in"]
            if first[row] != first[row]:  # NaN: this is its first time at staging
                first[row] = float(now)

    def end_passage(self, row: int, now: float) -> None:
        """The truck is turned back at ``now``: its time at the gate on this passage (from
        ``staging_in``, or ``entry_in`` for a truck that went straight there) joins ``earlier_gate_s``."""
        row = self._row(row)
        staging, entry = self._columns["staging_in"][row], self._columns["entry_in"][row]
        start = staging if staging == staging else entry
        if start == start and now >= start:
            self._columns["earlier_gate_s"][row] += float(now) - start

    def set(self, row: int, column: str, value: Any) -> None:
        """Set one cell; the value must suit the column (text, time or count)."""
        row = self._row(row)
        if column in _STRING:
            if isinstance(value, Enum):
                value = value.value
            if not isinstance(value, str):
                raise TypeError(f"TruckLog: column {column!r} holds text (got {value!r})")
            if column == "outcome" and value not in OUTCOMES:
                raise ValueError(f"TruckLog: outcome must be one of {', '.join(sorted(OUTCOMES))} (got {value!r})")
        elif column in _TIME:
            if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
                raise TypeError(f"TruckLog: column {column!r} holds a time in seconds (got {value!r})")
            value = float(value)
        elif column in _DURATION:
            if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
                raise TypeError(f"TruckLog: column {column!r} holds seconds (got {value!r})")
            value = float(value)
        elif column in _COUNT or column == "truck_id":
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise TypeError(f"TruckLog: column {column!r} holds a whole number (got {value!r})")
            value = int(value)
        else:
            raise ValueError(f"TruckLog: unknown column {column!r}; known: {', '.join(TRUCK_COLUMNS)}")
        self._columns[column][row] = value

    def incr(self, row: int, column: str, by: int = 1) -> None:
        """Add ``by`` to a count column."""
        if column not in _COUNT:
            raise ValueError(f"TruckLog.incr: {column!r} is not a count column; count columns: {', '.join(TRUCK_COUNT_COLUMNS)}")
        if isinstance(by, bool) or not isinstance(by, (int, np.integer)):
            raise TypeError(f"TruckLog.incr: by must be a whole number (got {by!r})")
        self._columns[column][self._row(row)] += by

    def get(self, row: int, column: str) -> Any:
        """One cell's current value."""
        if column not in self._columns:
            raise ValueError(f"TruckLog: unknown column {column!r}; known: {', '.join(TRUCK_COLUMNS)}")
        value = self._columns[column][self._row(row)]
        return value.item() if isinstance(value, np.generic) else value

    def to_frame(self, end: float = math.nan) -> pd.DataFrame:
        """The table, with ``time_at_gate``, ``time_at_gate_so_far`` and ``time_in_system`` in seconds added.

        ``time_at_gate`` runs from entering staging (or the entry lane, for a truck that went
        straight there) to departure, plus the time at the gate on earlier passages that ended
        in a return (``earlier_gate_s``; the time away amending the declaration is not in it);
        ``time_in_system`` from entering the corridor to departure or return, time away included.
        Both are NaN for trucks that did neither.

        ``time_at_gate_so_far`` is the same time for every truck that reached the gate, counted
        until it departed, was refused, or ``end`` (the end of the run) for a truck still there,
        so right-censored at ``end``; a truck away amending its declaration at the end counts its
        earlier passages. NaN for a truck that never reached the gate.
        """
        data: dict[str, Any] = {name: self._columns[name][: self._size].copy() for name in TRUCK_COLUMNS}
        frame = pd.DataFrame(data)
        for name in TRUCK_STRING_COLUMNS:
            # The text dtype even when the log is empty, so every run's table has one schema.
            frame[name] = pd.Series(data[name], dtype=str)
        gate_start = np.where(np.isnan(data["staging_in"]), data["entry_in"], data["staging_in"])
        frame["time_at_gate"] = data["departed"] - gate_start + data["earlier_gate_s"]
        frame["time_at_gate_so_far"] = _time_at_gate_so_far(data, gate_start, end)
        finished = np.where(np.isnan(data["departed"]), data["returned_at"], data["departed"])
        frame["time_in_system"] = finished - data["arrival"]
        return frame


def _time_at_gate_so_far(data: Mapping[str, np.ndarray], gate_start: np.ndarray, end: float) -> np.ndarray:
    """Seconds at the gate by the time each truck left it, or by ``end``: see ``TruckLog.to_frame``."""
    reached = ~np.isnan(data["first_staging_in"]) | ~np.isnan(data["entry_in"])
    # On its current passage unless it was turned back after that passage began (and is away).
    on_passage = ~np.isnan(gate_start) & ~(data["returned_at"] >= gate_start)
    left = np.where(np.isnan(data["departed"]), data["refused_at"], data["departed"])
    until = np.where(np.isnan(left), end, left)
    current = np.where(on_passage, until - gate_start, 0.0)
    return np.where(reached, data["earlier_gate_s"] + current, math.nan)


def time_at_gate_minutes(trucks: pd.DataFrame, measured_from: float = 0.0, departed_only: bool = False) -> np.ndarray:
    """Minutes at the gate of the trucks that arrived from ``measured_from`` (the warm-up's end)
    and reached the gate: ``time_at_gate_so_far``, so those still there at the end count with
    their time so far; with ``departed_only``, ``time_at_gate`` of the trucks that departed."""
    counted = trucks["arrival"].to_numpy(dtype=float) >= measured_from
    if departed_only:
        counted &= (trucks["outcome"].astype(object) == "departed").to_numpy()
        seconds = trucks["time_at_gate"].to_numpy(dtype=float)[counted]
    else:
        seconds = trucks["time_at_gate_so_far"].to_numpy(dtype=float)[counted]
    return seconds[~np.isnan(seconds)] / 60.0
