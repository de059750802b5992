"""Load-testing the clearance core: replay recorded visits through ``GateCore.handle`` and measure.

``run(LoadConfig(...))`` drives a ``GateWorld`` (``twin.visitgen``) in chunks: each chunk of the
``(event, now)`` stream is recorded against the world's own core first (not measured), then
replayed on the core under test, timing only ``handle`` (``time.perf_counter_ns`` around each
call, into a preallocated numpy array). Two modes:

* ``max``: as fast as possible, over ``visits`` complete visits with ``open_visits`` open at once;
* ``rate``: a target rate of events per second for a duration, paced in wall time; the report
  says whether the core kept up (achieved rate, lag behind the schedule). The schedule pauses while
  the next chunk is recorded, so that time never counts as lag; a backlog carries over it.

Long runs stay bounded in memory: finished visits go to the core's archive (``archive_limit``),
the audit trail is drained after every chunk and each drained segment is verified to chain onto
the one before, latencies are folded into a histogram, and the stream is dropped chunk by chunk.
After the run: every visit declared departed, was refused, is still open, or awaits the core's
acceptance of its declaration (none lost), the core's own invariants hold, and the audit chain
verifies. Memory per open visit is measured on a separate pass with ``tracemalloc`` (the core's
allocations with the visits open, declaration included, divided by the number open). Peak RSS
is the whole process's, up to the end of the replay (the core under test plus the recording
world, which holds a core of its own, and one chunk of the stream) and up to the end of the run,
the memory pass included. The command line refuses an ``--open`` that would not fit in the
memory available (``check_memory``).

In rate mode the schedule holds ``rate x duration`` events; a core that falls behind it is not
waited for beyond ``--duration`` seconds of replay: the run stops at the end of the chunk then
being replayed (``stopped_at_duration``) and reports the events handled against those offered.
(A core still keeping up, within ``KEPT_UP_LAG_MS`` of its schedule, is given its last events.)
CPU time spent waiting for an event's slot is the harness's and is not counted.

Rates are given by the wall clock and by the thread's CPU clock (``cpu_events_per_s``), which
other processes on a shared machine cannot inflate. After recording each chunk the harness calls
``gc.freeze()`` (``gc_freeze``, on by default), so that CPython's full collections do not keep
rescanning the recorded stream; the report gives the collections that still ran and their CPU
time. Commands are tallied in batches as the replay goes and then dropped, as a shell would.
"""

from __future__ import annotations

import gc
import math
import pickle
import resource
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import numpy as np

from gate import events as ev
from gate.audit import GENESIS, AuditLog, verify_chain
from gate.commands import Command, RefuseEvent
from gate.config import GateConfig
from gate.core import GateCore
from gate.declaration import Declaration
from twin.visitgen import EVENT_KINDS, GateWorld, Mix, RecordedStream


class LoadMode(str, Enum):
    MAX = "max"
    RATE = "rate"


@dataclass(frozen=True)
class LoadConfig:
    """What to load the core with. Errors name the ``gatetwin loadtest`` option at fault."""

    mode: LoadMode = LoadMode.MAX
    visits: int = 2_000  #: max mode: visits declared in all (every one runs to its end)
    open_visits: int = 100  #: visits open at once
    rate: float = 10_000.0  #: rate mode: target events per second
    duration_s: float = 10.0  #: rate mode: how long to keep the rate
    bad_share: float = 0.02  #: share of visits meeting one piece of bad input
    seed: int = 1
    mix: Mix = field(default_factory=Mix)
    lead_time_s: float = 6 * 3600.0  #: mean time from declaration to arrival at the gate
    chunk_events: int = 200_000  #: events recorded, then replayed, at a time
    archive_limit: int = 10_000  #: finished visits the core keeps for queries
    measure_memory: bool = True
    progress: bool = False
    #: ``gc.freeze()`` after recording each chunk, so that CPython's full collections do not
    #: rescan the recorded stream (the harness's, not the core's); the visits open at that
    #: moment are frozen with it. The report says whether it was on, and what the collections cost.
    gc_freeze: bool = True
    #: GPS positions through a telematics feed delivering every this many seconds, as
    #: ``PositionsReported`` batches; None: one ``GpsPing`` each.
    gps_feed_s: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.mode, LoadMode):
            raise ValueError(f"--mode: must be one of {', '.join(m.value for m in LoadMode)} (got {self.mode!r})")
        if self.open_visits < 1:
            raise ValueError(f"--open: must be at least 1 (got {self.open_visits})")
        if self.mode is LoadMode.MAX and self.visits < self.open_visits:
            raise ValueError(f"--visits ({self.visits}) must be at least --open ({self.open_visits})")
        if self.mode is LoadMode.RATE:
            if not (math.isfinite(self.rate) and self.rate > 0):
                raise ValueError(f"--rate: must be a positive number of events per second (got {self.rate})")
            if not (math.isfinite(self.duration_s) and self.duration_s > 0):
                raise ValueError(f"--duration: must be a positive number of seconds (got {self.duration_s})")
            if self.rate * self.duration_s < 1.0:
                # Otherwise the run would handle nothing and report an empty replay as a rate not kept.
                raise ValueError(f"--duration: {self.duration_s:g} s at --rate {self.rate:g} events/s is less than "
                                 f"one event; hold the rate for at least {1.0 / self.rate:g} s")
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)) or self.seed < 0:
            # numpy's SeedSequence takes only non-negative integers.
            raise ValueError(f"--seed: must be a whole number of at least 0 (got {self.seed!r})")
        if not 0.0 <= self.bad_share <= 1.0:
            raise ValueError(f"--bad-share: must be a share between 0 and 1 (got {self.bad_share})")
        if self.chunk_events < 1_000:
            raise ValueError(f"chunk_events: must be at least 1000 (got {self.chunk_events})")
        if self.gps_feed_s is not None and not (math.isfinite(self.gps_feed_s) and self.gps_feed_s > 0):
            raise ValueError(f"--gps-feed-s: must be a positive number of seconds (got {self.gps_feed_s})")
        if self.archive_limit < 0:
            raise ValueError(f"archive_limit: must not be negative (got {self.archive_limit})")


# ---------------------------------------------------------------------------- measuring


class LatencyHistogram:
    """Durations in nanoseconds, folded into log-spaced bins 2 % wide (plus exact count, sum, max).

    Quantiles are read to within one bin (2 %), so a run of any length keeps a fixed footprint.
    """

    LOW_NS = 50.0
    STEP = math.log(1.02)
    BINS = int(math.ceil(math.log(1e12 / 50.0) / math.log(1.02))) + 1

    def __init__(self) -> None:
        self.counts = np.zeros(self.BINS, dtype=np.int64)
        self.n = 0
        self.total_ns = 0.0
        self.max_ns = 0.0

    def add(self, ns: np.ndarray) -> None:
        if ns.size == 0:
            return
        values = np.maximum(ns.astype(np.float64), self.LOW_NS)
        index = np.minimum((np.log(values / self.LOW_NS) / self.STEP).astype(np.int64), self.BINS - 1)
        self.counts += np.bincount(index, minlength=self.BINS)
        self.n += int(ns.size)
        self.total_ns += float(ns.sum())
        self.max_ns = max(self.max_ns, float(ns.max()))

    def quantile_ns(self, q: float) -> float:
        """The ``q`` quantile (0..1), as the middle of its bin, never above the maximum; NaN if empty."""
        if self.n == 0:
            return math.nan
        rank = max(1, math.ceil(q * self.n))
        k = int(np.searchsorted(np.cumsum(self.counts), rank))
        return min(self.LOW_NS * math.exp((k + 0.5) * self.STEP), self.max_ns)

    @property
    def mean_ns(self) -> float:
        return self.total_ns / self.n if self.n else math.nan


class GcPauses:
    """CPython's garbage collections while installed in ``gc.callbacks`` and ``active``: how many,
    and how long (CPU time of this thread, so another process sharing the machine does not count)."""

    def __init__(self) -> None:
        self.active = False
        self.count = [0, 0, 0]
        self.total_s = [0.0, 0.0, 0.0]
        self.max_s = 0.0
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if not self.active:
            return
        if phase == "start":
            self._started = time.thread_time()
            return
        spent = time.thread_time() - self._started
        generation = int(info["generation"])
        self.count[generation] += 1
        self.total_s[generation] += spent
        self.max_s = max(self.max_s, spent)


class AuditTrail:
    """Checks the drained segments of one core's audit log: each verifies and chains onto the last."""

    def __init__(self) -> None:
        self.head = GENESIS
        self.next_seq = 0
        self.segments = 0
        self.first_bad: int | None = None

    def drain(self, log: AuditLog) -> None:
        start_hash, records = log.drain()
        if not records:
            return
        self.segments += 1
        if self.first_bad is None:
            bad = self.next_seq if start_hash != self.head else verify_chain(records, start_hash,
                                                                              start_seq=self.next_seq)
            self.first_bad = bad
        self.head = records[-1].hash
        self.next_seq += len(records)

    @property
    def records(self) -> int:
        return self.next_seq

    @property
    def ok(self) -> bool:
        return self.first_bad is None


#: Commands handed to a replay's sink at a time.
SINK_BATCH = 1_000


def replay(core: GateCore, stream: RecordedStream, durations_ns: np.ndarray | None,
           clock: Callable[[], int] = time.perf_counter_ns,
           sink: Callable[[list[list[Command]]], None] | None = None) -> list[list[Command]]:
    """Feed ``stream`` to ``core`` as fast as possible; each ``handle``'s duration into ``durations_ns``.

    ``clock`` is wall time by default; ``time.thread_time_ns`` measures CPU time instead (dearer
    to read, but blind to other processes taking the CPU away mid-event). Without
    ``durations_ns`` nothing is timed per event, so the loop costs no more than the calls.

    Returns each event's commands, or, with a ``sink``, hands them to it ``SINK_BATCH`` events at
    a time (outside the per-event timing), with those of the timer calls, and returns nothing: a shell delivers commands and lets
    them go, and holding a whole chunk's commands alive would make the collector's work the
    harness's rather than the core's.
    """
    events, times = stream.events, stream.times
    outs: list[list[Command]] = [[]] * len(events)
    handle, on_timer = core.handle, core.on_timer
    if durations_ns is None:
        if sink is not None:
            batch: list[list[Command]] = []
            for lo, hi, ticks in stream.segments():
                for t in ticks:
                    batch.append(on_timer(t))
                for i in range(lo, hi):
                    batch.append(handle(events[i], times[i]))
                    if len(batch) >= SINK_BATCH:
                        sink(batch)
                        batch = []
            if batch:
                sink(batch)
            return []
        for lo, hi, ticks in stream.segments():
            for t in ticks:
                on_timer(t)
            for i in range(lo, hi):
                outs[i] = handle(events[i], times[i])
        return outs
    if sink is not None:
        batch = []
        for lo, hi, ticks in stream.segments():
            for t in ticks:
                batch.append(on_timer(t))
            for i in range(lo, hi):
                t0 = clock()
                out = handle(events[i], times[i])
                durations_ns[i] = clock() - t0
                batch.append(out)
                if len(batch) >= SINK_BATCH:
                    sink(batch)
                    batch = []
        if batch:
            sink(batch)
        return []
    for lo, hi, ticks in stream.segments():
        for t in ticks:
            on_timer(t)
        for i in range(lo, hi):
            t0 = clock()
            out = handle(events[i], times[i])
            durations_ns[i] = clock() - t0
            outs[i] = out
    return outs


@dataclass
class Paced:
    """What a paced replay did besides handling events."""

    #: How far behind its schedule the core is at the end (0 if on time), in nanoseconds.
    behind_ns: int
    #: CPU nanoseconds this thread spent waiting for events' slots (the spin before each one due):
    #: the harness's, not the core's, and taken off the run's CPU time.
    waited_cpu_ns: int
    #: The commands (without a sink), else empty.
    outs: list[list[Command]]


def replay_paced(core: GateCore, stream: RecordedStream, rate: float, durations_ns: np.ndarray,
                 lags_ns: np.ndarray, behind_ns: int = 0,
                 sink: Callable[[list[list[Command]]], None] | None = None) -> Paced:
    """Feed ``stream`` to ``core`` at ``rate`` events per second of wall time.

    Event ``i`` is due ``i / rate`` seconds after the start; the core is never fed early. Its lag
    (how late ``handle`` started) goes into ``lags_ns``. Returns no sooner than ``len(stream) / rate``
    seconds after the start, the end of the last event's slot.

    ``behind_ns`` is how far behind its schedule the core already was when the stream starts
    (at the end of the previous chunk): the schedule starts that much earlier, so a backlog
    carries over. With a ``sink``, commands (those of the timer calls too) go to it
    ``SINK_BATCH`` events at a time and are let go, as in ``replay``; without one they are returned.
    The schedule pauses while the sink runs, as it does while a chunk is recorded: the sink is the
    harness's work, so it neither makes the core late nor, taken off the replay's time by the
    caller, makes the run seem faster than its rate.
    """
    events, times = stream.events, stream.times
    outs: list[list[Command]] = [[]] * len(events) if sink is None else []
    batch: list[list[Command]] = []
    handle, on_timer, clock, cpu_clock = core.handle, core.on_timer, time.perf_counter_ns, time.thread_time_ns
    interval = 1e9 / rate
    waited = 0
    base = clock() - behind_ns
    for lo, hi, ticks in stream.segments():
        for t in ticks:
            timed_out = on_timer(t)
            if sink is not None:
                batch.append(timed_out)
        for i in range(lo, hi):
            due = base + int(i * interval)
            now = clock()
            if now < due:  # ahead of the schedule: what waiting costs is counted, being ahead anyway
                w0 = cpu_clock()
                if due - now > 200_000:  # sleep when far ahead, spin the last stretch for precision
                    time.sleep((due - now - 100_000) / 1e9)
                while clock() < due:
                    pass
                waited += cpu_clock() - w0
            t0 = clock()
            out = handle(events[i], times[i])
            t1 = clock()
            durations_ns[i] = t1 - t0
            lags_ns[i] = t0 - due
            if sink is None:
                outs[i] = out
            else:
                batch.append(out)
                if len(batch) >= SINK_BATCH:
                    s0 = clock()
                    sink(batch)
                    base += clock() - s0
                    batch = []
    if batch and sink is not None:
        s0 = clock()
        sink(batch)
        base += clock() - s0
    # The last event's slot ends one interval after it is due: n events hold the rate for n
    # intervals, so a core that keeps up is never reported faster than the target.
    end = base + int(len(events) * interval)
    w0 = cpu_clock()
    while (now := clock()) < end:
        time.sleep((end - now) / 1e9)
    waited += cpu_clock() - w0
    return Paced(now - end, waited, outs)


#: Refusal reasons by class, first match wins: (class, any of these phrases).
REFUSAL_CLASSES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("malformed event", ("malformed ",)),
    ("bad time", ("time went backwards", "time must be")),
    ("invalid declaration", ("declaration rejected",)),
    ("unknown plate", ("no open declaration for plate",)),
    ("not yet workable", ("cannot be decided yet",)),
    ("out of order", (" cannot ", "without entry permission", "was not dispatched", "is not under way")),
    ("not authorised", ("lacks the", "may not", "is not an officer", "cannot take payment", "cannot confirm",
                        "is not a yard operator", "did not make", "is not an administrator", "is not traffic police")),
    ("unknown or closed visit", ("unknown visit", "is closed", "unknown AGV mission")),
    ("unknown device", ("unknown device", "is a ", "stands at")),
    ("already decided or paid", ("already", "awaiting confirmation")),
    ("no open review", ("no open review", "review stays open", "not about a plate")),
)


def refusal_class(reason: str) -> str:
    """The class of a refusal reason (``REFUSAL_CLASSES``), or ``"other"``."""
    for name, phrases in REFUSAL_CLASSES:
        if any(p in reason for p in phrases):
            return name
    return "other"


@dataclass(frozen=True)
class MemoryMeasure:
    open_visits: int
    bytes_total: int

    @property
    def bytes_per_open_visit(self) -> float:
        return self.bytes_total / self.open_visits if self.open_visits else math.nan


def measure_memory(stream: RecordedStream, config: GateConfig) -> MemoryMeasure:
    """The bytes a fresh core holds after replaying ``stream``, traced with ``tracemalloc``.

    Each submitted declaration is rebuilt inside the traced window the way one arrives from the
    platform: its fields as fresh data (unpickled, so no string is shared with the recorded
    stream), validated into a ``Declaration``. Its memory therefore counts as the core's. (An
    unpickled pydantic model itself would not do: unpickling grows each model's ``__dict__``
    and fields-set item by item, about 2.7 KB more per declaration than validation builds.)
    Finished visits are not archived and the audit is drained, so what remains belongs to open
    visits and the core's indexes.
    """
    events, times = stream.events, stream.times
    blobs = {i: pickle.dumps(e.declaration.model_dump()) for i, e in enumerate(events)
             if type(e) is ev.DeclarationSubmitted and isinstance(e.declaration, Declaration)}
    quiet = config.model_copy(update={"archive_limit": 0})
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        core = GateCore(quiet)
        for lo, hi, ticks in stream.segments():
            for t in ticks:
                core.on_timer(t)
            for i in range(lo, hi):
                event = events[i]
                blob = blobs.get(i)
                if blob is not None:
                    event = ev.DeclarationSubmitted(event.account_id, Declaration.model_validate(pickle.loads(blob)))
                core.handle(event, times[i])
        event = None
        core.audit.drain()
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    return MemoryMeasure(core.open_visits(), after - before)


#: The process's memory per open visit in a load test: the core under test (about 6.3 KB,
#: declaration included), the recording world's core and trucks, and a chunk of the stream.
#: Measured: 263 MB at 10,000 open, 1.2-1.3 GB at 100,000, from about 160 MB with none.
BYTES_PER_OPEN_VISIT = 12_000
#: What the memory pass (``measure_memory``, on by default) adds per open visit at its peak: a
#: second core holding them all, their declarations rebuilt and pickled, and ``tracemalloc``'s
#: own records. Measured: whole runs peaked at 614 MB at 20,000 open and 2.75 GB at 100,000.
MEMORY_PASS_BYTES_PER_OPEN_VISIT = 16_000
BASE_MB = 160.0


def memory_needed_mb(open_visits: int, measure_memory: bool = True) -> float:
    """About how much memory a load test with ``open_visits`` open takes at its peak, with or
    without the memory pass (``BYTES_PER_OPEN_VISIT``, ``MEMORY_PASS_BYTES_PER_OPEN_VISIT``)."""
    per_visit = BYTES_PER_OPEN_VISIT + (MEMORY_PASS_BYTES_PER_OPEN_VISIT if measure_memory else 0)
    return BASE_MB + open_visits * per_visit / 2**20


def available_memory_mb() -> float | None:
    """The memory available to a new process (``MemAvailable`` in /proc/meminfo); None where unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) / 1024.0
    except (OSError, ValueError, IndexError):
        return None
    return None


def check_memory(open_visits: int, available_mb: float | None, measure_memory: bool = True) -> None:
    """Refuse, naming ``--open``, a load test that could not fit in ``available_mb``: it would
    spend minutes building visits and then be killed for want of memory, or starve the machine."""
    needed = memory_needed_mb(open_visits, measure_memory)
    if available_mb is not None and needed > available_mb:
        per_visit = BYTES_PER_OPEN_VISIT + (MEMORY_PASS_BYTES_PER_OPEN_VISIT if measure_memory else 0)
        hint = (f" (--no-memory, which skips the memory pass, needs about "
                f"{memory_needed_mb(open_visits, False) / 1024:,.1f} GB)") if measure_memory else ""
        raise ValueError(f"--open: {open_visits:,} visits open need about {needed / 1024:,.1f} GB of memory "
                         f"(about {per_visit // 1000} KB each); {available_mb / 1024:,.1f} GB is available{hint}")


def _rss_mb() -> float | None:
    """The resident set size now, from /proc (Linux); None where it cannot be read."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            pages = int(statm.read().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return pages * resource.getpagesize() / 2**20


def _peak_rss_mb() -> float:
    # ru_maxrss is in KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


# ---------------------------------------------------------------------------- the report


@dataclass
class LoadReport:
    """What a load test measured and checked."""

    mode: str
    seed: int
    open_target: int
    events: int
    timer_calls: int
    visits_declared: int
    visits_completed: int
    visits_open: int
    #: Declared by the world but not accepted by the core yet (a replacement visit's declaration
    #: still to come, a rejected one still to be resubmitted): at the end of a rate run, not lost.
    visits_awaiting_acceptance: int
    #: Max mode: visits still open or awaiting acceptance when the world had nothing left to do.
    #: Every visit should run to its end there, so each one is a visit the core (or the world's
    #: script) left stranded. Always 0 in rate mode, which stops with visits in flight.
    stranded_visits: int
    elapsed_s: float
    events_per_s: float
    #: CPU seconds of this thread in the replay (``time.thread_time``), and events per CPU second:
    #: on a machine shared with other work the wall-clock rate understates the core; this does not.
    cpu_s: float
    cpu_events_per_s: float
    visits_per_s: float
    p50_us: float
    p90_us: float
    p99_us: float
    max_us: float
    mean_us: float
    latency_by_kind: dict[str, dict[str, float]]
    commands_by_kind: dict[str, int]
    refusals_by_class: dict[str, int]
    manual_reviews: int
    #: The process's peak resident set size up to the end of the replay (the core under test, the
    #: recording world, a chunk of the stream), and up to the end of the whole run, the memory
    #: pass included (``peak_rss_process_mb``, which is what the machine must hold).
    peak_rss_mb: float
    peak_rss_process_mb: float
    #: Resident set size after each chunk: flat over a long run when memory stays bounded.
    rss_mb: list[float]
    #: CPython's full (generation 2) collections during the replay; each scans every live object
    #: not frozen, so with many open visits each is a pause of its own (see max_us).
    gc_full_collections: int
    #: Whether the harness froze the recorded stream (``LoadConfig.gc_freeze``).
    gc_freeze: bool
    #: CPU milliseconds spent in garbage collection during the replay, by generation, and the
    #: longest single collection.
    gc_ms_by_generation: list[float]
    gc_max_pause_ms: float
    bytes_per_open_visit: float | None
    memory_open_visits: int | None
    lost_visits: int
    invariant_problems: list[str]
    audit_records: int
    audit_segments: int
    audit_ok: bool
    incidents: dict[str, int]
    unexpected_refusals: int
    unexpected_reviews: int
    surprises: list[str]
    target_rate: float | None = None
    #: Rate mode: the events the schedule held (rate x duration), and whether the run stopped
    #: short of them because ``--duration`` seconds of replay had passed (the core fell behind).
    events_offered: int | None = None
    stopped_at_duration: bool = False
    #: Stopped on request (Ctrl-C) at the end of a chunk: what was replayed is reported and checked.
    interrupted: bool = False
    #: What to keep in mind reading the figures (e.g. a rate run that measured mostly the ramp-up).
    notes: list[str] = field(default_factory=list)
    achieved_rate: float | None = None
    lag_p99_ms: float | None = None
    lag_max_ms: float | None = None
    kept_up: bool | None = None
    #: The telematics feed's period (None: one ``GpsPing`` per position), and the positions its
    #: batches carried (each batch is one event).
    gps_feed_s: float | None = None
    gps_positions: int = 0

    @property
    def ok(self) -> bool:
        """Nothing lost or stranded, the core's books consistent, the audit chain intact, and no
        surprise: the core refused nothing the world sent in good faith, and raised no review it
        did not provoke (either would be a regression of the core, or of the world's script)."""
        return (self.lost_visits == 0 and self.stranded_visits == 0 and not self.invariant_problems
                and self.audit_ok and self.unexpected_refusals == 0 and self.unexpected_reviews == 0)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of every field, plus ``ok``."""
        out = {name: getattr(self, name) for name in self.__dataclass_fields__}
        out["ok"] = self.ok
        return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in out.items()}


def _memory_prefix(stream: RecordedStream, world: GateWorld, open_visits: int) -> RecordedStream:
    """The start of the first chunk, up to where the world stops keeping ``open_visits`` open."""
    end = min(len(stream), open_visits + max(2_000, 2 * open_visits))
    if world.tail_index is not None:
        end = min(end, world.tail_index)
    return stream.prefix(end)


def run(config: LoadConfig, on_chunk: Callable[[int, int], None] | None = None,
        stop: Callable[[], bool] | None = None) -> LoadReport:
    """Run one load test and check its results. ``on_chunk(done, total)`` is told the progress;
    ``stop()``, asked after each chunk, ends the run there when it says so (``interrupted``):
    everything recorded has then been replayed, so the checks hold for what was run."""
    world = GateWorld(seed=config.seed, open_visits=config.open_visits,
                      total_visits=None if config.mode is LoadMode.RATE else config.visits, mix=config.mix,
                      bad_share=config.bad_share, lead_time_s=config.lead_time_s, archive_limit=config.archive_limit,
                      gps_feed_s=config.gps_feed_s)
    core = GateCore(world.config)
    pauses = GcPauses()
    gc.callbacks.append(pauses)
    try:
        report = _run_chunks(config, world, core, pauses, on_chunk, stop)
    finally:
        gc.callbacks.remove(pauses)
        if config.gc_freeze:
            gc.unfreeze()
    return report


class _Tally:
    """Counts commands by kind and refusals by class, timing itself (wall and CPU)."""

    def __init__(self, commands: Counter[str], refusals: Counter[str]) -> None:
        self.commands, self.refusals = commands, refusals
        self.wall_s = self.cpu_s = 0.0

    def __call__(self, outs: list[list[Command]]) -> None:
        started, cpu_started = time.perf_counter(), time.thread_time()
        self.count(outs)
        self.wall_s += time.perf_counter() - started
        self.cpu_s += time.thread_time() - cpu_started

    def count(self, outs: list[list[Command]]) -> None:
        commands, refusals = self.commands, self.refusals
        for out in outs:
            for c in out:
                commands[type(c).__name__] += 1
                if type(c) is RefuseEvent:
                    refusals[refusal_class(c.reason)] += 1


#: Rate mode: seconds of the schedule recorded at a time (so that a core far behind its schedule
#: overruns ``--duration`` by one such chunk at most), within ``LoadConfig.chunk_events``.
RATE_CHUNK_S = 2.0
#: Rate mode: a core kept up when 99 % of the events started within this many milliseconds of
#: their time (and every event offered was handled, at 95 % of the rate or more).
KEPT_UP_LAG_MS = 100.0


def _keeping_up(handled: int, elapsed_s: float, behind_ns: int, rate: float) -> bool:
    """Whether a rate run is keeping up so far: at 95 % of the rate or more, and less than
    ``KEPT_UP_LAG_MS`` behind its schedule. Such a core is given the rest of its schedule even
    when that ends a little after --duration (a chunk of a few events left, a few ms late)."""
    return handled >= 0.95 * rate * elapsed_s and behind_ns <= KEPT_UP_LAG_MS * 1e6


def _run_chunks(config: LoadConfig, world: GateWorld, core: GateCore, pauses: GcPauses,
                on_chunk: Callable[[int, int], None] | None, stop: Callable[[], bool] | None) -> LoadReport:
    rate_mode = config.mode is LoadMode.RATE
    target_events = int(round(config.rate * config.duration_s)) if rate_mode else None
    chunk_events = (min(config.chunk_events, max(1_000, int(config.rate * RATE_CHUNK_S))) if rate_mode
                    else config.chunk_events)
    latency, lag = LatencyHistogram(), LatencyHistogram()
    kind_ns = np.zeros(len(EVENT_KINDS))
    kind_n = np.zeros(len(EVENT_KINDS), dtype=np.int64)
    commands: Counter[str] = Counter()
    refusals: Counter[str] = Counter()
    trail = AuditTrail()
    memory_stream: RecordedStream | None = None
    first_chunk = chunk_events
    if config.measure_memory:
        first_chunk = max(first_chunk, 3 * config.open_visits + 2_000)
    durations = np.zeros(first_chunk, dtype=np.int64)
    lags = np.zeros(first_chunk if rate_mode else 0, dtype=np.int64)
    elapsed = cpu = 0.0
    behind = 0  # rate mode: how far behind its schedule the core was at the end of the last chunk
    timer_calls = 0
    full_collections = 0
    rss: list[float] = []
    positions = 0
    harness = _Tally(commands, refusals)
    stopped_at_duration = interrupted = False
    while True:
        wanted = first_chunk if world.recorded == 0 else chunk_events
        if target_events is not None:
            wanted = min(wanted, target_events - world.recorded)
        stream = world.record(wanted)
        if config.gc_freeze:
            gc.freeze()
        if config.measure_memory and memory_stream is None:
            memory_stream = _memory_prefix(stream, world, config.open_visits)
        n = len(stream)
        collections_before = gc.get_stats()[2]["collections"]
        pauses.active = True
        sink_wall, sink_cpu = harness.wall_s, harness.cpu_s
        started, cpu_started = time.perf_counter(), time.thread_time()
        waited_ns = 0
        if rate_mode:
            paced = replay_paced(core, stream, config.rate, durations, lags, behind, sink=harness)
            behind, waited_ns = paced.behind_ns, paced.waited_cpu_ns
        else:
            replay(core, stream, durations, sink=harness)
        # The tally's own time is the harness's, not the core's, and so is waiting for the schedule.
        elapsed += time.perf_counter() - started - (harness.wall_s - sink_wall)
        cpu += time.thread_time() - cpu_started - (harness.cpu_s - sink_cpu) - waited_ns / 1e9
        pauses.active = False
        full_collections += gc.get_stats()[2]["collections"] - collections_before
        timer_calls += len(stream.ticks)
        latency.add(durations[:n])
        if rate_mode:
            lag.add(lags[:n])
        kind_ns += np.bincount(stream.kinds, weights=durations[:n], minlength=len(EVENT_KINDS))
        kind_n += np.bincount(stream.kinds, minlength=len(EVENT_KINDS))
        if config.gps_feed_s is not None:
            positions += sum(len(e.positions) for e in stream.events if type(e) is ev.PositionsReported)
        del stream
        trail.drain(core.audit)
        current = _rss_mb()
        if current is not None:
            rss.append(round(current, 1))
        if on_chunk is not None:
            done = world.recorded if rate_mode else _completed(core)
            on_chunk(done, target_events if target_events is not None else config.visits)
        if world.finished or (target_events is not None and world.recorded >= target_events):
            break
        if rate_mode and elapsed >= config.duration_s and not _keeping_up(world.recorded, elapsed, behind, config.rate):
            stopped_at_duration = True  # the core fell behind: the duration is up, not the schedule
            break
        if stop is not None and stop():
            interrupted = True
            break
    peak_rss = _peak_rss_mb()
    trail.drain(core.audit)
    stats = core.stats
    completed = _completed(core)
    # Lost: a visit the world saw accepted that the core under test neither finished nor holds open.
    awaiting = world.awaiting_acceptance
    lost = world.stats.visits_declared - awaiting - completed - core.open_visits()
    problems = core.check_invariants()[:20]
    if stats["declarations_accepted"] != world.stats.visits_declared - awaiting:
        problems.append(f"the core accepted {stats['declarations_accepted']} declarations, the recording world saw "
                        f"{world.stats.visits_declared - awaiting} accepted")
    memory = measure_memory(memory_stream, world.config) if memory_stream is not None else None
    events = int(kind_n.sum())
    by_kind = {EVENT_KINDS[k].__name__: {"count": int(kind_n[k]), "mean_us": round(kind_ns[k] / kind_n[k] / 1e3, 2)}
               for k in range(len(EVENT_KINDS)) if kind_n[k]}
    report = LoadReport(
        mode=config.mode.value, seed=config.seed, open_target=config.open_visits, events=events,
        timer_calls=timer_calls, visits_declared=world.stats.visits_declared, visits_completed=completed,
        visits_open=core.open_visits(), visits_awaiting_acceptance=awaiting,
        stranded_visits=0 if rate_mode or interrupted else core.open_visits() + awaiting, elapsed_s=round(elapsed, 4),
        events_per_s=round(events / elapsed, 1) if elapsed else math.nan,
        cpu_s=round(cpu, 4), cpu_events_per_s=round(events / cpu, 1) if cpu else math.nan,
        visits_per_s=round(completed / elapsed, 1) if elapsed else math.nan,
        p50_us=_us(latency.quantile_ns(0.50)), p90_us=_us(latency.quantile_ns(0.90)),
        p99_us=_us(latency.quantile_ns(0.99)), max_us=_us(latency.max_ns), mean_us=_us(latency.mean_ns),
        latency_by_kind=by_kind, commands_by_kind=dict(commands.most_common()),
        refusals_by_class=dict(refusals.most_common()), manual_reviews=stats["manual_reviews"],
        peak_rss_mb=round(peak_rss, 1), peak_rss_process_mb=round(_peak_rss_mb(), 1), rss_mb=rss,
        gc_full_collections=full_collections,
        gc_freeze=config.gc_freeze, gc_ms_by_generation=[round(t * 1e3, 1) for t in pauses.total_s],
        gc_max_pause_ms=round(pauses.max_s * 1e3, 2),
        bytes_per_open_visit=round(memory.bytes_per_open_visit, 1) if memory else None,
        memory_open_visits=memory.open_visits if memory else None,
        lost_visits=lost, invariant_problems=problems, audit_records=trail.records,
        audit_segments=trail.segments, audit_ok=trail.ok and trail.records == core.audit.count,
        incidents=dict(sorted(world.stats.incidents.items())), unexpected_refusals=world.stats.unexpected_refusals,
        unexpected_reviews=world.stats.unexpected_reviews, surprises=list(world.stats.surprises),
        gps_feed_s=config.gps_feed_s, gps_positions=positions, interrupted=interrupted,
    )
    declarations = int(kind_n[EVENT_KINDS.index(ev.DeclarationSubmitted)])
    if rate_mode:
        report.target_rate = config.rate
        report.events_offered = target_events
        report.stopped_at_duration = stopped_at_duration
        report.achieved_rate = report.events_per_s
        report.lag_p99_ms = round(lag.quantile_ns(0.99) / 1e6, 3)
        report.lag_max_ms = round(lag.max_ns / 1e6, 3)
        # Kept up: every event offered handled, within 5 % of the target rate, and 99 % of events
        # started within KEPT_UP_LAG_MS of their time.
        report.kept_up = (not stopped_at_duration and report.events_per_s >= 0.95 * config.rate
                          and report.lag_p99_ms <= KEPT_UP_LAG_MS)
        if stopped_at_duration:
            report.notes.append(f"the core fell behind: {events:,} of the {target_events:,} events offered were "
                                f"handled when --duration ({config.duration_s:g} s) was up")
        if events and declarations > events / 2:
            report.notes.append(f"{declarations / events:.0%} of the events were declarations: the run measured "
                                f"the build-up to {config.open_visits:,} open visits more than their flow; "
                                "hold the rate longer (--duration) to measure the flow")
    if interrupted:
        report.notes.append("interrupted: stopped at the end of a chunk; what was replayed is reported and checked")
    return report


def _completed(core: GateCore) -> int:
    stats = core.stats
    return stats["departed"] + stats["refused_visits"] + stats["cancelled"]


def _us(ns: float) -> float:
    return round(ns / 1e3, 2) if math.isfinite(ns) else math.nan
