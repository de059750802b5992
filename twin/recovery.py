"""Recovery from a disruption: how far behind it leaves the gate, and how long the gate takes to catch up.

Two of the planners' questions (docs/DOMAIN.md) are about the time after a disruption: "if the
scanner is down for 4 hours, how long does the backlog take to clear?" and "after a 7-day Tet
closure, how many days until the gate is back to normal?". A queue's length alone cannot say:
at a peak the queue is long anyway. So the scenario is run twice with the same seeds (common
random numbers: the same trucks, the same draws): as given, and without its disruptions
(``undisrupted``: the same scenario with no scheduled device outage and no closure). The
trucks the disrupted gate has cleared are counted against those the undisrupted gate has
cleared by the same time:

    behind(t) = trucks departed by t without the disruptions - trucks departed by t with them

From the curve of each replication (``recovery_of``):

* ``behind_at_end``: trucks behind when the last disruption ended (the backlog it left); NaN,
  as are the two figures after the end below, when the run ends before the disruptions do;
* ``behind_max`` and ``behind_max_h``: the most trucks behind, and when (hours into the run);
* ``caught_up_h``: hours from the end of the disruptions until the disrupted gate had cleared
  as many trucks as the undisrupted one (behind <= 0) for the first time; NaN when it had not
  by the end of the run (the replication is *not caught up*);
* ``truck_hours_lost``: the area under the curve from the start of the disruptions to the end
  of the run, the truck-hours of departure lost (a truck cleared an hour late is one);
* ``behind_at_horizon``: trucks still behind at the end of the run;
* ``catch_up_per_day``: how fast the backlog shrank, in trucks a day: from its peak until the
  gate caught up; in a replication that did not, from the end of the disruptions to the end of
  the run (negative: the backlog was still growing). NaN when the gate never fell behind.
* ``waits_normal_h``: hours from the end of the disruptions until the time at the gate was back
  to normal, for good (``waits_normal_from``): trucks are taken by when they arrived, in windows
  of ``WAIT_WINDOW_H`` hours from the end of the disruptions, and a window is normal when its
  trucks' mean time at the gate is no more than ``NORMAL_SHARE`` or ``NORMAL_MIN`` minutes
  (whichever allows more) above the same window's at the undisrupted gate. NaN when no window was normal from
  some point to the end of the run.

The gate can have caught up on departures while its trucks still wait longer than they would
have (a surge after a closure clears at the pace of the undisrupted gate's peak, and the queue
behind it stays long), or wait as long as usual again while the trucks held up earlier are still
behind: the two figures answer different questions.

The AGV lane's partner closures (the partner side not accepting AGVs) are disruptions too:
they hold containers at the line, and once the stack at the handover point is full
(``layout.agv_lane.stack_slots``), the trucks waiting in the yard to hand theirs over. With a
stack without a limit they hold no truck, and the gate is never behind for them. Device faults
drawn from their MTBF are not disruptions here: both runs draw them alike. Nothing here reads a
clock or draws a number: the curves are computed from the two runs' truck tables, so the same
runs give the same figures.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields, replace

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from scenarios import with_overrides
from scenarios.schema import Scenario
from twin.stats import Interval

HOUR = 3600.0
DAY = 24 * HOUR
RECOVERY_CSV = "recovery.csv"
RECOVERY_PLOT = "recovery.png"
#: The report for people ``gatetwin recovery --out`` writes beside them (``twin.command_reports.recovery_markdown``).
RECOVERY_REPORT = "recovery.md"
#: The name given to a scenario run without its disruptions.
UNDISRUPTED_SUFFIX = "-undisrupted"


@dataclass(frozen=True)
class Disruption:
    """A scheduled disruption of the gate, in seconds since the start of the run."""

    what: str
    start_s: float
    end_s: float


def disruptions(scenario: Scenario) -> list[Disruption]:
    """The scenario's scheduled device outages and closures, earliest first."""
    found = [Disruption(f"{o.device} down for {o.duration_h:g} h from hour {o.start_h:g}", o.start_h * HOUR,
                        o.end_h * HOUR) for o in scenario.devices.outages]
    found += [Disruption(f"the gate closed for {c.days:g} days from day {c.start_day}", c.start_h * HOUR,
                         c.end_h * HOUR) for c in scenario.closures]
    lane = scenario.layout.agv_lane
    found += [Disruption(f"the partner side not accepting AGVs for {w.duration_h:g} h from hour {w.start_h:g}",
                         w.start_h * HOUR, w.end_h * HOUR) for w in (lane.partner_closures if lane is not None else ())]
    return sorted(found, key=lambda d: (d.start_s, d.end_s, d.what))


def undisrupted(scenario: Scenario) -> Scenario:
    """``scenario`` without its scheduled device outages, closures and partner closures, named apart."""
    changes: dict[str, object] = {"devices.outages": ()}
    if scenario.layout.agv_lane is not None:
        changes["layout.agv_lane.partner_closures"] = ()
    return with_overrides(scenario, name=f"{scenario.name}{UNDISRUPTED_SUFFIX}", closures=(), **changes)


def departures(trucks: pd.DataFrame) -> np.ndarray:
    """The departure times of the trucks that departed, sorted."""
    return np.sort(trucks["departed"].dropna().to_numpy(dtype=float))


def behind_curve(disrupted: np.ndarray, baseline: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Trucks behind as a step function: (times, behind), ``behind[i]`` holding from ``times[i]``
    until the next time; the first step is at 0 s. Both arguments are sorted departure times."""
    times = np.unique(np.concatenate(([0.0], disrupted, baseline)))
    behind = (np.searchsorted(baseline, times, side="right")
              - np.searchsorted(disrupted, times, side="right")).astype(float)
    return times, behind


@dataclass(frozen=True)
class Recovery:
    """What one replication's curve says (see the module docstring); NaN where it says nothing."""

    behind_at_end: float
    behind_max: float
    behind_max_h: float
    caught_up_h: float
    truck_hours_lost: float
    behind_at_horizon: float
    catch_up_per_day: float
    waits_normal_h: float = math.nan


#: The windows of arrivals whose times at the gate are compared, in hours.
WAIT_WINDOW_H = 2.0
#: A window's waits are normal within this share of the undisrupted gate's mean time at the gate,
#: or within ``NORMAL_MIN`` minutes of it, whichever allows more.
NORMAL_SHARE = 0.2
NORMAL_MIN = 10.0
#: A window's mean time at the gate is known when at least this share of its trucks had left the
#: gate by the end of the run (the others count with their time so far, which may say too little).
KNOWN_SHARE = 0.9


@dataclass(frozen=True)
class GateWaits:
    """Mean time at the gate (minutes) of the trucks that arrived in each window, whether it is
    known (``KNOWN_SHARE``), and how many trucks reached the gate in it."""

    starts_s: np.ndarray
    mean_min: np.ndarray
    known: np.ndarray
    trucks: np.ndarray


def gate_waits(trucks: pd.DataFrame, start_s: float, horizon_s: float, window_h: float = WAIT_WINDOW_H) -> GateWaits:
    """The time at the gate of the trucks arriving in each window of ``window_h`` hours from
    ``start_s`` to ``horizon_s`` (the last window may be shorter), from a truck table: each truck
    that reached the gate with ``time_at_gate_so_far``, by its ``arrival``."""
    if not window_h > 0:
        raise ValueError(f"gate_waits: the window must be longer than 0 h (got {window_h})")
    width = window_h * HOUR
    count = max(int(math.ceil((horizon_s - start_s) / width)), 0)
    starts = start_s + width * np.arange(count, dtype=float)
    arrival = trucks["arrival"].to_numpy(dtype=float)
    seconds = trucks["time_at_gate_so_far"].to_numpy(dtype=float)
    left = (trucks["outcome"].astype(object) != "inside").to_numpy()
    counted = ~np.isnan(seconds) & (arrival >= start_s) & (arrival < horizon_s)
    window = ((arrival[counted] - start_s) // width).astype(int)
    n = np.bincount(window, minlength=count)[:count]
    total = np.bincount(window, weights=seconds[counted], minlength=count)[:count]
    gone = np.bincount(window, weights=left[counted].astype(float), minlength=count)[:count]
    mean = np.where(n > 0, total / np.maximum(n, 1) / 60.0, math.nan)
    known = (n > 0) & (gone >= KNOWN_SHARE * n)
    return GateWaits(starts, mean, known, n)


def waits_normal_from(disrupted: GateWaits, baseline: GateWaits) -> float:
    """When (seconds since the start of the run) the disrupted gate's waits were back to normal for
    good: the start of the first window from which no window is abnormal and at least one is
    normal. A window is normal when both gates' means are known and the disrupted one's is within
    ``NORMAL_SHARE`` or ``NORMAL_MIN`` of the undisrupted one's; abnormal when it is above that, or
    unknown at the disrupted gate alone (its trucks still inside at the end, when they would have
    left without the disruptions); neither when the undisrupted gate's is unknown too (the end of
    the run cuts both short) or no truck came. NaN when no window is normal for good."""
    if not np.array_equal(disrupted.starts_s, baseline.starts_s):
        raise ValueError("waits_normal_from: the two runs' windows differ")
    limit = np.maximum(baseline.mean_min * (1.0 + NORMAL_SHARE), baseline.mean_min + NORMAL_MIN)
    judged = baseline.known & (disrupted.trucks > 0)
    normal = judged & disrupted.known & (disrupted.mean_min <= limit)
    abnormal = judged & ~normal
    last_bad = int(np.flatnonzero(abnormal)[-1]) if abnormal.any() else -1
    after = np.flatnonzero(normal[last_bad + 1:])
    return float(disrupted.starts_s[last_bad + 1 + after[0]]) if after.size else math.nan


def _at(times: np.ndarray, behind: np.ndarray, t: float) -> float:
    """The step function's value at ``t``."""
    return float(behind[max(int(np.searchsorted(times, t, side="right")) - 1, 0)])


def recovery_of(disrupted: np.ndarray, baseline: np.ndarray, start_s: float, end_s: float,
                horizon_s: float) -> Recovery:
    """One replication's recovery from disruptions between ``start_s`` and ``end_s``, seen until
    ``horizon_s`` (the end of the run), from the sorted departure times of each run."""
    if not 0.0 <= start_s <= end_s:
        raise ValueError(f"recovery_of: the disruptions must start before they end (got {start_s} to {end_s} s)")
    times, behind = behind_curve(disrupted[disrupted <= horizon_s], baseline[baseline <= horizon_s])
    # A run that ends before the disruptions do has no "after": only the peak so far and the loss.
    at_end = _at(times, behind, end_s) if end_s <= horizon_s else math.nan
    after = times >= start_s
    # The peak: the curve's highest step from the start of the disruptions (its first time, on ties).
    from_start = np.concatenate(([start_s], times[after]))
    values = np.concatenate(([_at(times, behind, start_s)], behind[after]))
    peak = int(np.argmax(values))
    behind_max, peak_s = float(values[peak]), float(from_start[peak])
    caught_up = math.nan
    if not math.isnan(at_end):
        if at_end <= 0:
            caught_up = 0.0
        else:
            later = np.flatnonzero((times > end_s) & (times <= horizon_s) & (behind <= 0))
            if later.size:
                caught_up = (float(times[later[0]]) - end_s) / HOUR
    # Truck-hours lost: the area under the step function from the start to the horizon.
    edges = np.clip(np.concatenate((from_start, [horizon_s])), start_s, horizon_s)
    lost = float(np.sum(values * np.diff(edges))) / HOUR
    at_horizon = _at(times, behind, horizon_s)
    # The pace: from the peak until the gate caught up; when it did not, from the end of the
    # disruptions to the end of the run (negative: the backlog was still growing).
    if not math.isnan(caught_up):
        span = end_s + caught_up * HOUR - peak_s
        rate = behind_max / (span / DAY) if span > 0 and behind_max > 0 else math.nan
    else:
        span = horizon_s - end_s
        rate = (at_end - at_horizon) / (span / DAY) if span > 0 and not math.isnan(at_end) else math.nan
    return Recovery(at_end, behind_max, peak_s / HOUR, caught_up, lost, at_horizon, rate)


#: What each figure of ``Recovery`` is called on the console, its unit, and its natural range.
LABELS: dict[str, tuple[str, str, tuple[float, float]]] = {
    "behind_at_end": ("trucks behind when the disruptions ended", "trucks", (-math.inf, math.inf)),
    "behind_max": ("most trucks behind", "trucks", (-math.inf, math.inf)),
    "behind_max_h": ("when most were behind", "hours into the run", (0.0, math.inf)),
    "caught_up_h": ("caught up, after the end of the disruptions", "h", (0.0, math.inf)),
    "truck_hours_lost": ("truck-hours of departure lost", "truck-h", (-math.inf, math.inf)),
    "behind_at_horizon": ("trucks behind at the end of the run", "trucks", (-math.inf, math.inf)),
    "catch_up_per_day": ("pace of working off the backlog", "trucks/day (< 0: it grew)", (-math.inf, math.inf)),
    "waits_normal_h": ("time at the gate back to normal, after the end of the disruptions", "h", (0.0, math.inf)),
}
#: Figures of ``LABELS`` that ``recovery.csv`` files written before them lack (read as NaN).
LATER_FIGURES = ("waits_normal_h",)
#: What "back to normal" means, in words, for the console and the dashboard.
NORMAL_NOTE = (f"Back to normal: trucks arriving in {WAIT_WINDOW_H:g}-hour windows from the end of the disruptions "
               f"spend on average no more than {NORMAL_SHARE:.0%} or {NORMAL_MIN:g} min longer at the gate than those "
               "of the same windows without the disruptions, from then to the end of the run.")
#: What a figure NaN in a replication says of it, for the figures that are NaN when the gate had
#: not recovered by the end of the run (their means are over the replications that had).
NOT_YET: dict[str, str] = {"caught_up_h": "not caught up", "waits_normal_h": "not back to normal"}


@dataclass(frozen=True)
class RecoveryReport:
    """The recovery of every replication of a scenario, against the same scenario undisrupted."""

    scenario_name: str
    disruptions: tuple[Disruption, ...]
    horizon_s: float
    replications: tuple[tuple[int, int], ...]  # (seed, replication index) of each
    recoveries: tuple[Recovery, ...]
    curves: tuple[tuple[np.ndarray, np.ndarray], ...]
    #: Each replication's time at the gate by window of arrival from the start of the run:
    #: (disrupted, undisrupted).
    waits: tuple[tuple[GateWaits, GateWaits], ...] = ()

    @property
    def end_s(self) -> float:
        """When the last disruption ends, seconds since the start of the run."""
        return max(d.end_s for d in self.disruptions)

    def interval(self, name: str) -> Interval:
        """The figure ``name`` over the replications (those that caught up, for ``caught_up_h``)."""
        return figure_interval(self.table(), name)

    @property
    def caught_up(self) -> int:
        """How many replications caught up by the end of the run."""
        return sum(not math.isnan(r.caught_up_h) for r in self.recoveries)

    @property
    def waits_normal(self) -> int:
        """How many replications had their time at the gate back to normal by the end of the run."""
        return sum(not math.isnan(r.waits_normal_h) for r in self.recoveries)

    def table(self) -> pd.DataFrame:
        """One row per replication: its seed and index, then every figure of ``Recovery``."""
        rows = [{"seed": seed, "replication": index, **asdict(recovery)}
                for (seed, index), recovery in zip(self.replications, self.recoveries, strict=True)]
        return pd.DataFrame(rows, columns=["seed", "replication", *(f.name for f in fields(Recovery))])


def figure_interval(table: pd.DataFrame, name: str) -> Interval:
    """The figure ``name`` of ``LABELS`` over the rows of a recovery table (``RecoveryReport.table``,
    or ``recovery.csv`` read back): mean and 95 % interval, NaN rows (not caught up) left out."""
    return Interval.of(table[name].to_numpy(dtype=float), LABELS[name][2])


def recovery_report(scenario: Scenario, disrupted: Sequence[pd.DataFrame], baseline: Sequence[pd.DataFrame],
                    replications: Sequence[tuple[int, int]]) -> RecoveryReport:
    """The report from each replication's truck table, disrupted and undisrupted (paired by index)."""
    found = disruptions(scenario)
    if not found:
        raise ValueError(f"{scenario.name}: no device outage, closure or AGV partner closure to recover from")
    if not len(disrupted) == len(baseline) == len(replications):
        raise ValueError(f"recovery_report: {len(disrupted)} disrupted replications, {len(baseline)} undisrupted, "
                         f"{len(replications)} named: they must pair one to one")
    horizon = scenario.run.horizon_h * HOUR
    start, end = min(d.start_s for d in found), max(d.end_s for d in found)
    recoveries, curves, waits = [], [], []
    for dis, base in zip(disrupted, baseline, strict=True):
        waits.append((gate_waits(dis, 0.0, horizon), gate_waits(base, 0.0, horizon)))
        d, b = departures(dis), departures(base)
        recovery = recovery_of(d, b, start, end, horizon)
        if end <= horizon:
            normal_s = waits_normal_from(gate_waits(dis, end, horizon), gate_waits(base, end, horizon))
            recovery = replace(recovery, waits_normal_h=(normal_s - end) / HOUR)
        recoveries.append(recovery)
        curves.append(behind_curve(d[d <= horizon], b[b <= horizon]))
    return RecoveryReport(scenario.name, tuple(found), horizon, tuple(replications), tuple(recoveries), tuple(curves),
                          tuple(waits))


def recovery_figure(report: RecoveryReport) -> Figure:
    """Trucks behind over time, a line per replication, the disruptions shaded; below it (when the
    report has them), the mean time at the gate by window of arrival over the replications, with
    and without the disruptions."""
    figure = Figure(figsize=(10, 7.5 if report.waits else 4.5), layout="constrained")
    if report.waits:
        axes, below = figure.subplots(2, 1, sharex=True, height_ratios=(3, 2))
    else:
        axes, below = figure.subplots(), None
    days = report.horizon_s > 2 * DAY
    unit, scale = ("days", DAY) if days else ("hours", HOUR)
    for disruption in report.disruptions:
        axes.axvspan(disruption.start_s / scale, disruption.end_s / scale, color="tab:red", alpha=0.12, lw=0)
    for (seed, index), (times, behind) in zip(report.replications, report.curves, strict=True):
        t = np.append(times, report.horizon_s) / scale
        axes.step(t, np.append(behind, behind[-1]), where="post", lw=1.2, label=f"replication {index} (seed {seed})")
    axes.axhline(0.0, color="black", lw=0.8)
    axes.set_xlabel(f"time ({unit} into the run)")
    axes.set_ylabel("trucks behind")
    axes.set_xlim(0, report.horizon_s / scale)
    axes.grid(alpha=0.3)
    if len(report.replications) <= 10:
        axes.legend(fontsize="small", loc="upper left")
    axes.set_title(f"Trucks behind the same gate without its disruptions: {report.scenario_name}\n"
                   "(shaded: " + "; ".join(d.what for d in report.disruptions) + ")", fontsize="medium")
    if below is not None:
        _waits_panel(below, report, scale)
        axes.set_xlabel("")
        below.set_xlabel(f"time of arrival ({unit} into the run)")
    return figure


def _waits_panel(axes: Axes, report: RecoveryReport, scale: float) -> None:
    """The mean time at the gate by window of arrival, over the replications, of both runs."""
    for disruption in report.disruptions:
        axes.axvspan(disruption.start_s / scale, disruption.end_s / scale, color="tab:red", alpha=0.12, lw=0)
    first = report.waits[0][0]
    middle = (first.starts_s + WAIT_WINDOW_H * HOUR / 2) / scale
    short = False
    for which, label, style in ((0, "with the disruptions", "-"), (1, "without", "--")):
        means = np.array([pair[which].mean_min for pair in report.waits])
        with warnings.catch_warnings():  # a window no truck arrived in, in any replication: a gap
            warnings.simplefilter("ignore", RuntimeWarning)
            mean = np.nanmean(means, axis=0)
        color = "tab:blue" if which == 0 else "black"
        # Where most of a window's trucks were still at the gate at the end (in any replication),
        # its mean is their time so far, a lower bound: drawn thin and dotted.
        known = np.all([pair[which].known | (pair[which].trucks == 0) for pair in report.waits], axis=0)
        short |= bool((~known).any())
        axes.plot(middle, mean, ":", lw=0.9, color=color)
        axes.plot(middle, np.where(known, mean, np.nan), style, lw=1.3, color=color, label=label)
    if short:
        axes.plot([], [], ":", lw=0.9, color="grey", label="trucks still at the gate at the end: time so far")
    axes.set_ylabel(f"mean time at the gate (min)\nby {WAIT_WINDOW_H:g}-hour window of arrival")
    axes.set_ylim(bottom=0)
    axes.grid(alpha=0.3)
    axes.legend(fontsize="small", loc="upper right")
