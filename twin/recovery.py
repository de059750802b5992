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
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from scenarios import with_overrides
from scenarios.schema import Scenario
from twin.stats import Interval

HOUR = 3600.0
DAY = 24 * HOUR
RECOVERY_CSV = "recovery.csv"
RECOVERY_PLOT = "recovery.png"
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
}


@dataclass(frozen=True)
class RecoveryReport:
    """The recovery of every replication of a scenario, against the same scenario undisrupted."""

    scenario_name: str
    disruptions: tuple[Disruption, ...]
    horizon_s: float
    replications: tuple[tuple[int, int], ...]  # (seed, replication index) of each
    recoveries: tuple[Recovery, ...]
    curves: tuple[tuple[np.ndarray, np.ndarray], ...]

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
    recoveries, curves = [], []
    for dis, base in zip(disrupted, baseline, strict=True):
        d, b = departures(dis), departures(base)
        recoveries.append(recovery_of(d, b, start, end, horizon))
        curves.append(behind_curve(d[d <= horizon], b[b <= horizon]))
    return RecoveryReport(scenario.name, tuple(found), horizon, tuple(replications), tuple(recoveries), tuple(curves))


def recovery_figure(report: RecoveryReport) -> Figure:
    """Trucks behind over time, a line per replication, the disruptions shaded."""
    figure = Figure(figsize=(10, 4.5), layout="constrained")
    axes = figure.subplots()
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
    return figure
