"""Numbers the dashboard pages show, computed from a run's results (no Streamlit here).

Hours are counted from the start of the run (hour 0 is midnight of day 1). Time-weighted
means treat every series as a step function: a value holds until the next change, and the
last value holds to the end of the run.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dashboard.replay import clock_label
from scenarios import library_names
from scenarios.schema import Scenario
from twin.people import CORRIDOR_SERIES, DECLARANT_SERIES
from twin.plots import LEVEL_LABELS
from twin.probes import ROAD_QUEUE_TRUCKS, time_at_gate_minutes
from twin.compare import comparison_run_folders, difference_interval, interval_text, row_interval, with_ci
from twin.recovery import LABELS as RECOVERY_LABELS
from twin.recovery import LATER_FIGURES, NORMAL_NOTE, NOT_YET
from twin.recovery import RECOVERY_CSV, figure_interval
from twin.results import (
    RESULTS_FORMAT,
    TIME_AT_GATE_NOTE,
    RunResult,
    format_gaps,
    kpi_interval,
    kpi_order,
    kpi_range,
    kpi_unit,
)
from twin.stats import Interval, too_few_replications

HOUR = 3600.0
MINUTE = 60.0
#: The series the wiring keeps for trucks held at the staging areas.
STAGING_OCCUPANCY = "staging_occupancy"
#: The station where trucks wait to be called forward. Its queue holds every such truck, in a
#: staging area or on the road, so the road-queue and staging-area counters are parts of it.
STAGING = "staging"
#: Names of the staging queue and of its parts, in tables and heat maps.
STAGING_QUEUE = "staging (all waiting to be called)"
STAGING_PARTS: tuple[tuple[str, str], ...] = (
    (ROAD_QUEUE_TRUCKS, "staging: on the approach road"),
    (STAGING_OCCUPANCY, "staging: in staging areas"),
)
#: Without a staging station (older results) the two counters are queues of their own.
SEPARATE_QUEUES: tuple[tuple[str, str], ...] = ((ROAD_QUEUE_TRUCKS, "approach road"), (STAGING_OCCUPANCY, "held at staging"))

#: Headline KPIs of the overview, in order: KPI name and the label a stakeholder reads.
HEADLINES: tuple[tuple[str, str], ...] = (
    ("throughput_per_day", "Trucks cleared per day"),
    ("time_at_gate_p50", "Time at the gate, median"),
    ("time_at_gate_p95", "Time at the gate, 95th percentile"),
    ("road_queue_km_max", "Longest road queue"),
    ("yard_occupancy_max", "Yard occupancy, peak"),
    ("redeclarations", "Re-declarations"),
    ("fee_revenue_vnd", "Fee revenue"),
)
#: KPIs the Mesa agents measure when a run uses them (``agents.enabled``), with their labels.
AGENT_HEADLINES: tuple[tuple[str, str], ...] = (
    ("road_queue_truck_h", "Truck-hours queued on the road"),
    ("staging_area_truck_h", "Truck-hours in staging areas"),
    ("road_wait_mean_min", "Mean wait on the road"),
    ("area_wait_mean_min", "Mean wait in a staging area"),
)
#: What the agents counted (``extra["agents"]``), with the label a planner reads, in this order.
AGENT_ACTIVITY: tuple[tuple[str, str], ...] = (
    ("passages", "passages of the checkpoint (a truck sent back from barrier 1 passes it again)"),
    ("approach_mean_min", "mean drive along the corridor (min)"),
    ("police_directed", "trucks the traffic police directed to a staging area"),
    ("police_orders_ignored", "hold orders drivers ignored"),
    ("police_spills", "trucks turned back to the road from a full staging area"),
    ("manual_releases", "manual releases by the police"),
    ("manual_release_trucks", "trucks released manually"),
    ("waiting_at_checkpoint_at_end", "trucks still waiting at the checkpoint at the end"),
    ("enterprises", "enterprises declaring"),
)


@dataclass(frozen=True)
class Headline:
    """One headline KPI: its mean over replications and 95 % confidence interval."""

    kpi: str
    label: str
    interval: Interval
    unit: str

    @property
    def mean(self) -> float:
        """The mean over replications."""
        return self.interval.mean

    @property
    def value_text(self) -> str:
        """The mean with its unit, e.g. "813 trucks/day"."""
        return format_quantity(self.mean, self.unit)

    @property
    def interval_text(self) -> str:
        """The confidence interval in words (``interval_words``)."""
        return interval_words(self.interval, self.unit)


def interval_words(interval: Interval, unit: str) -> str:
    """A KPI's confidence interval in words, each figure with its unit: "95 % CI ± 46 trucks/day
    (5 replications)", "95 % CI 0% to 6% (5 replications)" where a share's or a count's range
    cuts it, "same in all 2 replications" when they all agree, and "..., too few to plan on"
    after a count of replications below ``twin.stats.TRUSTED_REPLICATIONS``."""
    if math.isnan(interval.mean):
        return "not measured in this run"
    if math.isnan(interval.half_width):
        return "one replication: no confidence interval"
    words = interval_text(interval, lambda value: format_quantity(value, unit))
    if interval.agreed:
        return words
    few = ", too few to plan on" if too_few_replications(interval.n) else ""
    return f"95 % CI {words} ({interval.n} replications{few})"


def format_number(value: float) -> str:
    """A number for reading: thousands separated, three significant digits below 1,000."""
    if value is None or math.isnan(value):
        return "-"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if value == 0:
        return "0"
    return f"{value:.3g}"


def format_quantity(value: float, unit: str) -> str:
    """A value with its unit; money in millions of VND, shares as percentages."""
    if value is None or math.isnan(value):
        return "-"
    if unit == "VND":
        return f"{value / 1e6:,.1f} M VND"
    if unit == "share":
        return f"{value:.0%}"
    if unit == "count":
        return format_number(value)
    return f"{format_number(value)} {unit}".strip()


def headlines(summary: Mapping[str, Any], which: Sequence[tuple[str, str]] = HEADLINES) -> list[Headline]:
    """Headline KPIs (``which``: KPI name and label) from a run summary; missing KPIs come back as NaN."""
    kpis = summary.get("kpis", {})
    replications = int(summary.get("replications", 0))
    result = []
    for kpi, label in which:
        interval = kpi_interval(kpi, kpis.get(kpi, {}))
        if not interval.n:  # a summary that does not count them per KPI
            interval = replace(interval, n=replications)
        result.append(Headline(kpi=kpi, label=label, interval=interval, unit=kpi_unit(kpi)))
    return result


#: More about a headline KPI than its name says, for its help.
HEADLINE_NOTES: dict[str, str] = {
    "time_at_gate_p50": f"The mean over replications of each replication's own median, over {TIME_AT_GATE_NOTE}.",
    "time_at_gate_p95": f"The mean over replications of each replication's own 95th percentile, over {TIME_AT_GATE_NOTE}.",
    "road_queue_km_max": "Trucks queued on the road, waiting to be called forward from staging: the Gate replay "
                         "counts them in its staging area.",
    "yard_occupancy_max": "Trucks in the yard, those in its inspection bays included.",
}


#: Headline KPIs given per day: a run measuring other than 24 h is scaled to them.
PER_DAY_KPIS = frozenset({"throughput_per_day", "agv_containers_delivered_per_day", "agv_containers_handed_over_per_day",
                          "agv_trucks_per_day"})


def per_day_note(measured_h: float) -> str:
    """What a per-day KPI of a run that measured ``measured_h`` hours (its horizon less its
    warm-up) rests on: "" for a day, else "scaled to a day from 12 h" and the like."""
    if math.isclose(measured_h, 24.0):
        return ""
    return f"scaled to a day from {measured_h:g} h"


def levels_caption(levels: Sequence[str], seed: int, replications: int) -> str:
    """The caption of the Overview's "Levels over time" figure: one panel per level drawn
    (``levels``, names in ``twin.plots.LEVEL_LABELS``), of replication 0 only."""
    panels = [f"{label[0].lower()}{label[1:]} ({unit})" for label, unit in
              (LEVEL_LABELS.get(name, (name.replace("_", " "), "level")) for name in levels)]
    which = (f"Replication 0 (seed {seed}) of {replications}; the others differ" if replications > 1
             else f"The run's one replication (seed {seed})")
    return f"Over the run, one panel each: {'; '.join(panels)}. {which}."


def pooled_percentiles_note(trucks: pd.DataFrame, summary: Mapping[str, Any], measured_from: float = 0.0) -> str:
    """How the histogram's median and 95th percentile of the time at the gate (all trucks of all
    replications together that arrived from ``measured_from`` on) differ from the headline KPIs
    (the mean over replications of each replication's own percentile), with both pairs of numbers."""
    minutes = time_at_gate_minutes(trucks, measured_from)
    if minutes.size == 0:
        return "No truck reached the gate, so there is no time at the gate to show."
    kpis = summary.get("kpis", {})
    means = [format_number(_float((kpis.get(name) or {}).get("mean"))) for name in ("time_at_gate_p50", "time_at_gate_p95")]
    pooled = [format_number(float(np.percentile(minutes, p))) for p in (50, 95)]
    return (f"The histograms pool the trucks of every replication: their p50 and p95 at the gate ({pooled[0]} and "
            f"{pooled[1]} min) are of all those trucks together. The headline median and 95th percentile ({means[0]} "
            f"and {means[1]} min) are the mean over replications of each replication's own, so the two can differ.")


#: The truck column the time at the gate of every truck that reached it is counted from; results
#: written before it existed hold the time of the departed trucks only.
TIME_SO_FAR = "time_at_gate_so_far"


def has_time_so_far(run: RunResult) -> bool:
    """Whether the run's trucks have ``TIME_SO_FAR``, which the histogram of the time at the gate needs."""
    return all(TIME_SO_FAR in rep.trucks.columns for rep in run.replications)


def rerun_command(run: RunResult, out: str | None) -> str:
    """The ``gatetwin run`` command that runs ``run``'s scenario again with its own seed,
    replications and hours (into ``out``, when given)."""
    manifest = run.manifest if isinstance(run.manifest, dict) else {}
    extra = manifest.get("extra") if isinstance(manifest.get("extra"), dict) else {}
    scenario = run.scenario_name if run.scenario_name in library_names() else "YOUR_SCENARIO.yaml"
    parts = ["gatetwin run", scenario]
    for option, value in (("--reps", manifest.get("replications")), ("--seed", manifest.get("seed")),
                          ("--hours", extra.get("horizon_h"))):
        if value is not None:
            parts.append(f"{option} {value:g}" if isinstance(value, float) else f"{option} {value}")
    if out:
        parts.append(f"--out {out}")
    return " ".join(parts)


def older_results_note(run: RunResult, out: str | None = None) -> str | None:
    """What a run read from a folder written by another version lacks, what that means on the
    pages and how to get it (run the scenario again); None for a run in this version's format."""
    gaps = format_gaps(run)
    if not gaps:
        return None
    again = f"`{rerun_command(run, out)}`"
    if gaps.newer:
        return (f"These results were written by a newer version of gatetwin (results format {gaps.format_version}; "
                f"this version reads up to {RESULTS_FORMAT}), so some of what they hold may be missing here or read "
                f"wrongly. Open them with that version, or run the scenario again with this one: {again}.")
    note = (f"These results were written by an older version of gatetwin (results format {gaps.format_version}; this "
            f"version writes {RESULTS_FORMAT}): {'; '.join(gaps.lines())}. The pages show what the results hold and "
            "say where something is left out.")
    if not has_time_so_far(run):
        note += (" In them, the time at the gate (`time_at_gate_*`) counts only the trucks that departed, not every "
                 "truck that reached the gate, so it does not compare with the same KPI of newer results.")
    return note + f" To get everything, run the scenario again with this version: {again}."


def _float(value: Any) -> float:
    return math.nan if value is None else float(value)


def kpi_table(summary: Mapping[str, Any]) -> pd.DataFrame:
    """Every KPI of a run: mean, 95 % confidence interval in words (``twin.compare.interval_text``:
    "—" with one replication), unit and replications measured."""
    kpis = summary.get("kpis", {})
    rows = []
    for name in kpi_order(kpis):
        interval = kpi_interval(name, kpis[name])
        rows.append({"KPI": name, "mean": interval.mean, "95 % CI": interval_text(interval, format_number) or "—",
                     "unit": kpis[name].get("unit") or kpi_unit(name), "replications": int(kpis[name].get("n", 0))})
    return pd.DataFrame(rows, columns=["KPI", "mean", "95 % CI", "unit", "replications"])


# --- series by the hour -----------------------------------------------------------------------

def hours_of(end: float) -> int:
    """Whole or started hours in a run that ends at ``end`` seconds."""
    return max(1, int(math.ceil(end / HOUR - 1e-9)))


def hourly_integral(time: np.ndarray, values: np.ndarray, hours: int) -> np.ndarray:
    """Integral of a step series over each hour [h, h+1), in value x seconds.

    Before the first change the series counts as 0; NaN values count as 0.
    """
    time = np.asarray(time, dtype=float)
    values = np.nan_to_num(np.asarray(values, dtype=float))
    edges = np.arange(hours + 1, dtype=float) * HOUR
    if time.size == 0:
        return np.zeros(hours)
    # Cumulative integral at each change time, then interpolated (linearly: a step's integral
    # grows linearly) at the hour edges.
    widths = np.diff(time)
    cumulative = np.concatenate(([0.0], np.cumsum(widths * values[:-1])))

    def integral_to(t: np.ndarray) -> np.ndarray:
        index = np.searchsorted(time, t, side="right") - 1
        before = index < 0
        index = np.clip(index, 0, time.size - 1)
        out = cumulative[index] + (t - time[index]) * values[index]
        return np.where(before, 0.0, out)

    return np.diff(integral_to(edges))


def hourly_mean(series: Mapping[str, np.ndarray], metric: str, hours: int) -> np.ndarray:
    """Time-weighted mean of one metric of a series in each hour."""
    return hourly_integral(series["time"], series[metric], hours) / HOUR


def hourly_utilisation(series: Mapping[str, np.ndarray], hours: int) -> np.ndarray:
    """Busy server-time over available server-time in each hour; NaN with no server available
    (a device down) or unlimited servers."""
    servers = np.asarray(series["servers"], dtype=float)
    if servers.size == 0 or np.isnan(servers).all():
        return np.full(hours, math.nan)
    available = hourly_integral(series["time"], servers, hours)
    busy = hourly_integral(series["time"], series["busy"], hours)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(available > 0, busy / available, math.nan)


def station_names(series: Mapping[str, Mapping[str, np.ndarray]]) -> list[str]:
    """Stations (series with queue, busy and servers) in recording order."""
    return [name for name, arrays in series.items() if {"queue", "busy", "servers"} <= set(arrays)]


def station_hour_table(series: Mapping[str, Mapping[str, np.ndarray]], end: float, what: str) -> pd.DataFrame:
    """Stations (rows) by hour (columns): ``what`` is "utilisation" or "queue" (mean waiting).

    Utilisation rows are only given for stations with a finite number of servers. Queue rows
    show the staging queue as one (``STAGING_QUEUE``) followed by its parts, on the road and in
    staging areas, named as parts of it; results without a staging station show the road queue
    as a queue of its own ("approach road").
    """
    if what not in ("utilisation", "queue"):
        raise ValueError(f"station_hour_table: what must be 'utilisation' or 'queue' (got {what!r})")
    hours = hours_of(end)
    rows: dict[str, np.ndarray] = {}
    stations = station_names(series)
    for name in stations:
        if what == "utilisation":
            values = hourly_utilisation(series[name], hours)
            if np.isnan(values).all():
                continue
            rows[name] = values
        elif name == STAGING:
            rows[STAGING_QUEUE] = hourly_mean(series[name], "queue", hours)
            for part, label in STAGING_PARTS:
                if part in series:
                    rows[label] = hourly_mean(series[part], "value", hours)
        else:
            rows[name] = hourly_mean(series[name], "queue", hours)
    if what == "queue" and STAGING not in stations and ROAD_QUEUE_TRUCKS in series:
        rows["approach road"] = hourly_mean(series[ROAD_QUEUE_TRUCKS], "value", hours)
    return pd.DataFrame.from_dict(rows, orient="index", columns=list(range(hours)))


#: Station stays for the time-at-station table: name, in-stamp, out-stamp.
STAGES: tuple[tuple[str, str, str], ...] = (
    ("staging", "staging_in", "staging_out"),
    ("entry lane", "entry_in", "entry_out"),
    ("weighbridge", "scale_in", "scale_out"),
    ("scanner", "scanner_in", "scanner_out"),
    ("yard", "yard_in", "yard_out"),
    ("inspection bay", "inspection_in", "inspection_out"),
    ("exit lane", "exit_in", "departed"),
)


def stage_minutes_by_hour(trucks: pd.DataFrame, end: float) -> pd.DataFrame:
    """Mean minutes trucks spent at each station (rows), by the hour they reached it (columns).

    Only finished stays count (both stamps present); an hour in which no truck reached the
    station is NaN.
    """
    hours = hours_of(end)
    rows: dict[str, np.ndarray] = {}
    for name, in_stamp, out_stamp in STAGES:
        begin = trucks[in_stamp].to_numpy(dtype=float)
        leave = trucks[out_stamp].to_numpy(dtype=float)
        done = ~np.isnan(begin) & ~np.isnan(leave) & (leave >= begin)
        if not done.any():
            continue
        hour = np.minimum((begin[done] // HOUR).astype(int), hours - 1)
        minutes = (leave[done] - begin[done]) / MINUTE
        total = np.bincount(hour, weights=minutes, minlength=hours)
        count = np.bincount(hour, minlength=hours)
        with np.errstate(invalid="ignore", divide="ignore"):
            rows[name] = np.where(count > 0, total / np.maximum(count, 1), math.nan)
    return pd.DataFrame.from_dict(rows, orient="index", columns=list(range(hours)))


def hourly_flow(trucks: pd.DataFrame, series: Mapping[str, Mapping[str, np.ndarray]], end: float) -> pd.DataFrame:
    """Per hour: trucks arriving, trucks departing, and trucks waiting (mean, all queues).

    "Waiting" adds the queues ``waiting_parts`` names (each truck once), time-weighted over
    the hour.
    """
    hours = hours_of(end)
    arrival = trucks["arrival"].to_numpy(dtype=float)
    departed = trucks["departed"].to_numpy(dtype=float)

    def per_hour(times: np.ndarray) -> np.ndarray:
        times = times[~np.isnan(times) & (times < hours * HOUR)]
        return np.bincount((times // HOUR).astype(int), minlength=hours)[:hours]

    waiting = np.zeros(hours)
    for time, values in waiting_parts(series):
        waiting += hourly_integral(time, values, hours) / HOUR
    frame = pd.DataFrame({
        "hour": np.arange(hours),
        "from": [clock_label(h * HOUR) for h in range(hours)],
        "arrivals": per_hour(arrival),
        "departures": per_hour(departed),
        "waiting (mean trucks)": waiting,
    })
    return frame


def busiest_hours(flow: pd.DataFrame, top: int = 3) -> pd.DataFrame:
    """The ``top`` hours with the most arrivals (ties: more trucks waiting first, then earlier)."""
    ranked = flow.sort_values(["arrivals", "waiting (mean trucks)", "hour"], ascending=[False, False, True], kind="stable")
    return ranked.head(top).reset_index(drop=True)


def queue_onsets(series: Mapping[str, Mapping[str, np.ndarray]], threshold: float) -> pd.DataFrame:
    """Where the queue forms first: when each queue first reached ``threshold`` trucks.

    Queues: every station's waiting line, the staging station's as one queue
    (``STAGING_QUEUE``: trucks waiting to be called, on the road or in staging areas); in
    results without a staging station, the approach road and the trucks held at staging.
    Sorted by that time; queues that never reached the threshold come last (time NaN).
    """
    if not threshold > 0:
        raise ValueError(f"queue_onsets: threshold must be more than 0 trucks (got {threshold})")
    stations = station_names(series)
    sources: list[tuple[str, Mapping[str, np.ndarray], str]] = []
    if STAGING not in stations:
        sources += [(label, series[name], "value") for name, label in SEPARATE_QUEUES if name in series]
    sources += [(STAGING_QUEUE if name == STAGING else name, series[name], "queue") for name in stations]
    rows = []
    for place, arrays, metric in sources:
        time = np.asarray(arrays["time"], dtype=float)
        level = np.nan_to_num(np.asarray(arrays[metric], dtype=float))
        reached = np.flatnonzero(level >= threshold)
        peak_index = int(np.argmax(level)) if level.size else -1
        first = float(time[reached[0]]) if reached.size else math.nan
        rows.append({
            "queue": place,
            "first reached": clock_label(first) if reached.size else "never",
            "first_time_s": first,
            "peak (trucks)": float(level[peak_index]) if peak_index >= 0 else 0.0,
            "peak at": clock_label(float(time[peak_index])) if peak_index >= 0 and level[peak_index] > 0 else "-",
        })
    frame = pd.DataFrame(rows, columns=["queue", "first reached", "first_time_s", "peak (trucks)", "peak at"])
    return frame.sort_values("first_time_s", na_position="last", kind="stable").reset_index(drop=True)


@dataclass(frozen=True)
class DownPeriod:
    """A device (or station) out of service from ``start`` to ``end`` (seconds)."""

    device: str
    start: float
    end: float
    cause: str


def planned_outages(scenario: Scenario, end: float) -> list[DownPeriod]:
    """The outages the scenario schedules, per device, clipped to the run."""
    periods = []
    for outage in scenario.devices.outages:
        start = outage.start_h * HOUR
        if start >= end:
            continue
        for device in scenario.outage_devices(outage):
            periods.append(DownPeriod(device, start, min(end, outage.end_h * HOUR), "planned outage"))
    return sorted(periods, key=lambda p: (p.start, p.device))


def known_outages(planned: Sequence[DownPeriod], recorded: Sequence[DownPeriod]) -> list[DownPeriod]:
    """Every outage once: each recorded period, named by the plan it overlaps when there is one,
    plus the planned outages no recorded period of the same device overlaps (a plan the results
    cannot show, e.g. a device without a station)."""

    def overlap(a: DownPeriod, b: DownPeriod) -> bool:
        return a.device == b.device and a.start < b.end and b.start < a.end

    kept = []
    for r in recorded:
        plan = next((p for p in planned if overlap(p, r)), None)
        kept.append(r if plan is None else DownPeriod(r.device, r.start, r.end, plan.cause))
    kept += [p for p in planned if not any(overlap(p, r) for r in recorded)]
    return sorted(kept, key=lambda p: (p.start, p.device))


def recorded_outages(series: Mapping[str, Mapping[str, np.ndarray]], end: float) -> list[DownPeriod]:
    """Periods in which a station's series shows fewer servers than its most (a device down)."""
    periods = []
    for name in station_names(series):
        time = np.asarray(series[name]["time"], dtype=float)
        servers = np.asarray(series[name]["servers"], dtype=float)
        if servers.size == 0 or np.isnan(servers).all():
            continue
        down = servers < np.nanmax(servers)
        # Starts and ends of each run of "down" steps.
        edges = np.diff(np.concatenate(([0], down.astype(np.int8), [0])))
        for first, stop in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True):
            until = float(time[stop]) if stop < time.size else float(end)
            periods.append(DownPeriod(name, float(time[first]), until, "fewer servers recorded"))
    return sorted(periods, key=lambda p: (p.start, p.device))


def waiting_parts(series: Mapping[str, Mapping[str, np.ndarray]]) -> list[tuple[np.ndarray, np.ndarray]]:
    """The step series (time, trucks) that together count every waiting truck once.

    Every station's queue. The staging station's queue already holds every truck waiting to be
    called forward, in a staging area or on the road; only results without that station (older
    runs) add the staging-area and road-queue counters instead.
    """
    stations = station_names(series)
    parts = [(np.asarray(series[name]["time"], dtype=float), np.asarray(series[name]["queue"], dtype=float))
             for name in stations]
    if STAGING not in stations:
        parts += [(np.asarray(series[name]["time"], dtype=float), np.asarray(series[name]["value"], dtype=float))
                  for name, _ in SEPARATE_QUEUES if name in series]
    return parts


def queues_that_grew(periods: Sequence[DownPeriod], series: Mapping[str, Mapping[str, np.ndarray]],
                     most: int = 3) -> list[str]:
    """The stations whose queue grew most during the down periods (at most ``most``, largest
    growth first; none that did not grow): where the trucks the outage held up actually waited,
    which is often not the station that was down (trucks are routed around a faulted scanner,
    and wait at the inspection bays instead)."""
    growth: dict[str, float] = {}
    for name in station_names(series):
        time = np.asarray(series[name]["time"], dtype=float)
        queue = np.nan_to_num(np.asarray(series[name]["queue"], dtype=float))
        if time.size == 0:
            continue
        for period in periods:
            first = max(int(np.searchsorted(time, period.start, side="right")) - 1, 0)
            inside = (time >= period.start) & (time < period.end)
            peak = float(queue[inside].max()) if inside.any() else float(queue[first])
            growth[name] = max(growth.get(name, 0.0), peak - float(queue[first]))
    grown = sorted((name for name, g in growth.items() if g > 0), key=lambda name: -growth[name])
    return grown[:most]


def total_waiting(series: Mapping[str, Mapping[str, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """All trucks waiting (``waiting_parts``, each truck once) as one step series."""
    parts = waiting_parts(series)
    if not parts:
        return np.zeros(1), np.zeros(1)
    time = np.unique(np.concatenate([t for t, _ in parts]))
    total = np.zeros(time.size)
    for t, v in parts:
        if t.size == 0:
            continue
        index = np.searchsorted(t, time, side="right") - 1
        values = np.nan_to_num(v)
        total += np.where(index >= 0, values[np.clip(index, 0, t.size - 1)], 0.0)
    return time, total


def outage_effects(periods: Sequence[DownPeriod], series: Mapping[str, Mapping[str, np.ndarray]],
                   trucks: pd.DataFrame) -> pd.DataFrame:
    """What each down period did: trucks waiting (all queues) when it began and at most during
    it; how long after it the waiting fell back to its level at the start ("backlog cleared
    after", NaN if not by the end of the run); and the time at the gate of trucks that reached
    the gate during it, against all departed trucks.
    """
    time, waiting = total_waiting(series)
    departed = trucks["outcome"].astype(object) == "departed"
    gate_start = trucks["staging_in"].fillna(trucks["entry_in"]).to_numpy(dtype=float)
    at_gate = trucks["time_at_gate"].to_numpy(dtype=float) / MINUTE
    overall = float(np.nanmean(at_gate[departed])) if departed.any() else math.nan
    rows = []
    for period in periods:
        before_index = int(np.searchsorted(time, period.start, side="left")) - 1
        at_start = float(waiting[before_index]) if before_index >= 0 else 0.0
        during = (time >= period.start) & (time < period.end)
        most = float(max(at_start, waiting[during].max(initial=0.0)))
        after = time >= period.end
        cleared = np.flatnonzero(waiting[after] <= at_start)
        end_index = int(np.searchsorted(time, period.end, side="right")) - 1
        still_low = end_index >= 0 and waiting[end_index] <= at_start
        cleared_after = 0.0 if still_low else ((float(time[after][cleared[0]]) - period.end) / HOUR if cleared.size else math.nan)
        hit = departed.to_numpy() & (gate_start >= period.start) & (gate_start < period.end)
        rows.append({
            "device": period.device,
            "cause": period.cause,
            "down from": clock_label(period.start),
            "down until": clock_label(period.end),
            "hours down": (period.end - period.start) / HOUR,
            "trucks waiting at start": at_start,
            "most trucks waiting": most,
            "backlog cleared after (h)": cleared_after,
            "time at gate, trucks arriving then (min)": float(np.mean(at_gate[hit])) if hit.any() else math.nan,
            "time at gate, all trucks (min)": overall,
        })
    columns = ["device", "cause", "down from", "down until", "hours down", "trucks waiting at start", "most trucks waiting",
               "backlog cleared after (h)", "time at gate, trucks arriving then (min)", "time at gate, all trucks (min)"]
    return pd.DataFrame(rows, columns=columns)


# --- agencies, devices, AGVs ------------------------------------------------------------------

#: What the rows of ``bottleneck_table`` are: a station's queue, or an agency's officers.
STATION_KIND, OFFICERS_KIND = "station", "officers"
OFFICER_KPI_PREFIX = "officers_"


#: The columns of ``officer_waits`` and ``bottleneck_table`` that hold a mean with, beside it,
#: its 95 % interval (a ``twin.stats.Interval``).
UTILISATION_CI, WAIT_CI = "utilisation 95 % CI", "mean wait 95 % CI"


def _kpi_interval(kpis: Mapping[str, Any], name: str) -> Interval:
    return kpi_interval(name, kpis.get(name) or {})


def officer_waits(run: RunResult) -> pd.DataFrame:
    """Each agency's officers: the share of their time on tasks and the mean minutes a task
    waited for one of them, each a mean over replications with its 95 % interval.

    Read from the KPIs ``officers_<role>_utilisation`` and ``officers_<role>_mean_wait``;
    results written before those KPIs existed give the same figures in each replication's
    agency section, which is read instead. Unlimited officers have no utilisation (NaN).
    """
    kpis = run.summary.get("kpis", {})
    suffix = "_mean_wait"
    roles = [name[len(OFFICER_KPI_PREFIX):-len(suffix)] for name in kpis
             if name.startswith(OFFICER_KPI_PREFIX) and name.endswith(suffix)]
    rows = []
    if roles:
        for role in roles:
            utilisation = _kpi_interval(kpis, f"{OFFICER_KPI_PREFIX}{role}_utilisation")
            wait = _kpi_interval(kpis, f"{OFFICER_KPI_PREFIX}{role}{suffix}")
            rows.append((role, utilisation.mean, utilisation, wait.mean, wait))
    else:
        sections = _per_replication(run, "agencies")
        for role in dict.fromkeys(role for section in sections for role in section):
            entries = [section[role] for section in sections if isinstance(section.get(role), Mapping)]

            def values(field: str, entries: Sequence[Mapping[str, Any]] = entries) -> list[float]:
                result = []
                for entry in entries:
                    value = entry.get(field)
                    unlimited = field == "utilisation" and entry.get("officers") == "unlimited"
                    result.append(float(value) if isinstance(value, (int, float)) and not unlimited else math.nan)
                return result

            utilisation = Interval.of(values("utilisation"), kpi_range(f"{OFFICER_KPI_PREFIX}{role}_utilisation"))
            wait = Interval.of(values("mean_wait_min"), kpi_range(f"{OFFICER_KPI_PREFIX}{role}{suffix}"))
            rows.append((role, utilisation.mean, utilisation, wait.mean, wait))
    return pd.DataFrame(rows, columns=["agency", "utilisation", UTILISATION_CI, "mean wait (min)", WAIT_CI])


def bottleneck_table(run: RunResult) -> pd.DataFrame:
    """Where trucks wait, over the whole run: each station (a truck waiting in its queue) and each
    agency's officers (a task waiting for an officer), longest mean wait first.

    Columns: ``where``, ``kind`` (``STATION_KIND`` or ``OFFICERS_KIND``), utilisation and mean
    wait (minutes), each a mean over replications with its 95 % interval (``UTILISATION_CI``,
    ``WAIT_CI``); and for stations
    the longest queue, trucks per hour and mean minutes there (means over replications; NaN
    for officers, who hold no queue of trucks).
    """
    kpis = run.summary.get("kpis", {})
    names = list(dict.fromkeys(name for rep in run.replications for name in rep.stations))
    rows = []
    for name in names:
        utilisation = _kpi_interval(kpis, f"{name}_utilisation")
        wait = _kpi_interval(kpis, f"{name}_mean_wait")
        summaries = [rep.stations[name] for rep in run.replications if name in rep.stations]
        rows.append({
            "where": name, "kind": STATION_KIND,
            "utilisation": utilisation.mean, UTILISATION_CI: utilisation,
            "mean wait (min)": wait.mean, WAIT_CI: wait,
            "longest queue": float(np.mean([s.max_queue for s in summaries])),
            "trucks per hour": float(np.mean([s.throughput_per_h for s in summaries])),
            "mean time there (min)": float(np.mean([s.mean_sojourn_s for s in summaries])) / MINUTE,
        })
    for officers in officer_waits(run).to_dict("records"):
        rows.append({
            "where": f"{str(officers['agency']).replace('_', ' ')} officers", "kind": OFFICERS_KIND,
            **{column: officers[column] for column in ("utilisation", UTILISATION_CI, "mean wait (min)", WAIT_CI)},
            "longest queue": math.nan, "trucks per hour": math.nan, "mean time there (min)": math.nan,
        })
    columns = ["where", "kind", "utilisation", UTILISATION_CI, "mean wait (min)", WAIT_CI, "longest queue",
               "trucks per hour", "mean time there (min)"]
    frame = pd.DataFrame(rows, columns=columns)
    return frame.sort_values(["mean wait (min)", "utilisation"], ascending=False, na_position="last",
                             kind="stable").reset_index(drop=True)



def _per_replication(run: RunResult, section: str) -> list[Mapping[str, Any]]:
    return [rep.extra.get(section) or {} for rep in run.replications]


def agency_table(run: RunResult) -> pd.DataFrame:
    """Each agency's workload over the run: means over replications.

    ``SLA misses`` are tasks the agency left longer than its time limit (the core escalated
    them); the share is of the tasks assigned. ``wait off shift`` is the share of the tasks'
    wait that fell outside the agency's shifts (NaN for results that do not record it): high,
    the shifts set the wait; low, the officers on duty are too few for the work.
    """
    sections = _per_replication(run, "agencies")
    roles = list(dict.fromkeys(role for section in sections for role in section))
    rows = []
    for role in roles:
        entries = [section[role] for section in sections if role in section]

        def mean(field: str, entries: Sequence[Mapping[str, Any]] = entries) -> float:
            values = [float(e[field]) for e in entries if isinstance(e.get(field), (int, float))]
            return float(np.mean(values)) if values else math.nan

        officers = entries[0].get("officers")
        assigned, misses = mean("tasks_assigned"), mean("sla_misses")
        rows.append({
            "agency": role.replace("_", " "),
            "officers": str(officers),
            "tasks assigned": assigned,
            "tasks done": mean("tasks_done"),
            "utilisation": mean("utilisation"),
            "mean wait (min)": mean("mean_wait_min"),
            "wait off shift": mean("wait_off_shift_share"),
            "SLA misses": misses,
            "SLA missed share": misses / assigned if assigned > 0 else math.nan,
        })
    columns = ["agency", "officers", "tasks assigned", "tasks done", "utilisation", "mean wait (min)",
               "wait off shift", "SLA misses", "SLA missed share"]
    return pd.DataFrame(rows, columns=columns)


def device_table(run: RunResult) -> pd.DataFrame:
    """Each device's faults and hours down, as means over replications, most downtime first."""
    sections = _per_replication(run, "devices")
    devices = list(dict.fromkeys(device for section in sections for device in section))
    rows = []
    for device in devices:
        entries = [section[device] for section in sections if device in section]
        rows.append({
            "device": device,
            "faults": float(np.mean([float(e.get("faults", 0)) for e in entries])),
            "hours down": float(np.mean([float(e.get("downtime_h", 0.0)) for e in entries])),
        })
    frame = pd.DataFrame(rows, columns=["device", "faults", "hours down"])
    return frame.sort_values(["hours down", "faults", "device"], ascending=[False, False, True], kind="stable").reset_index(drop=True)


def faults_text(faults: float, replications: int) -> str:
    """A device's faults for reading: "1 fault", "3 faults", or with several replications a
    mean such as "0.33 faults per replication"."""
    count = f"{faults:.2f}".rstrip("0").rstrip(".")
    text = f"{count} fault" + ("" if count == "1" else "s")
    return text + " per replication" if replications > 1 else text


def agv_summary(run: RunResult) -> dict[str, Interval] | None:
    """AGV fleet figures (mean and 95 % interval over replications, a share cut to [0, 1], the
    counts at 0); None without an AGV lane."""
    sections = [section for section in _per_replication(run, "agv") if section]
    if not sections:
        return None
    result = {}
    for field, label, limits in (("utilisation", "fleet utilisation", (0.0, 1.0)),
                                 ("backlog", "waiting to cross at the end", (0.0, math.inf)),
                                 ("breakdowns", "breakdowns", (0.0, math.inf))):
        result[label] = Interval.of([float(section.get(field, math.nan)) for section in sections], limits)
    return result


def command_counts(run: RunResult) -> pd.DataFrame:
    """Commands the core issued, by type: mean per replication."""
    sections = _per_replication(run, "commands")
    names = sorted({name for section in sections for name in section})
    rows = [{"command": name, "per replication": float(np.mean([float(s.get(name, 0)) for s in sections]))} for name in names]
    return pd.DataFrame(rows, columns=["command", "per replication"])


# --- the Mesa agents --------------------------------------------------------------------------

def agent_series(run: RunResult, replication: int) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """The agents' ``DataCollector`` frames of one replication: the corridor (trucks by road
    segment, waiting at the checkpoint, HOLD advice) and the declarants (declarations awaiting
    amendment); None for a frame the run does not have."""
    extra = run.replications[replication].extra
    frames = (extra.get(CORRIDOR_SERIES), extra.get(DECLARANT_SERIES))
    return tuple(frame if isinstance(frame, pd.DataFrame) and len(frame) else None for frame in frames)  # type: ignore[return-value]


def uses_agents(run: RunResult) -> bool:
    """Whether the run's drivers, police or enterprises were Mesa agents (they left their series)."""
    return any(frame is not None for index in range(len(run.replications)) for frame in agent_series(run, index))


def agent_activity(run: RunResult) -> pd.DataFrame:
    """What the agents counted (none of it negative), mean per replication with its 95 % interval
    in words (``twin.compare.interval_text``; "—" with one replication)."""
    sections = _per_replication(run, "agents")
    rows = []
    for field, label in AGENT_ACTIVITY:
        values = [float(section[field]) for section in sections if isinstance(section.get(field), (int, float))]
        if values:
            interval = Interval.of(values, (0.0, math.inf))
            rows.append({"what": label, "per replication": interval.mean,
                         "95 % CI": interval_text(interval, format_number) or "—"})
    return pd.DataFrame(rows, columns=["what", "per replication", "95 % CI"])


def corridor_segments(corridor: pd.DataFrame) -> list[str]:
    """The corridor series' columns counting trucks per road segment, nearest the gate first."""
    return [column for column in corridor.columns if column.startswith("trucks_km_")]


def corridor_at(corridor: pd.DataFrame, hour: float) -> tuple[pd.DataFrame, float]:
    """Trucks on each stretch of the approach corridor at the agents' last count at or before
    ``hour`` (the first count when ``hour`` comes before it), and the hour of that count."""
    times = corridor["time_h"].to_numpy(dtype=float)
    row = corridor.iloc[max(0, int(np.searchsorted(times, hour, side="right")) - 1)]
    places = [(f"driving, {c.removeprefix('trucks_km_').replace('_', '-')} km from the checkpoint", c)
              for c in corridor_segments(corridor)]
    places += [(label, column) for column, label in (("waiting_on_road", "waiting on the road at the checkpoint"),
                                                     ("waiting_in_areas", "waiting in staging areas"),
                                                     ("awaiting_forecourt", "called, waiting for the forecourt"))
               if column in corridor]
    frame = pd.DataFrame({"where": [label for label, _ in places], "trucks": [int(row[c]) for _, c in places]})
    return frame, float(row["time_h"])


# --- comparing runs ---------------------------------------------------------------------------

def winner(group: pd.DataFrame) -> tuple[str, bool]:
    """The run that wins one KPI (its rows of the comparison, baseline first) and whether it wins
    clearly: a run beating the baseline by an interval that excludes zero, or the baseline when
    every other run is clearly worse. "tie" when every run has the same mean; "" for a neutral KPI."""
    if group["direction"].iloc[0] == "neutral" or not group["best"].iloc[0]:
        return "", False
    means = group["mean"].dropna()
    if len(means) == len(group) and means.nunique() == 1:
        return "tie", False
    best = str(group["best"].iloc[0])
    baseline = str(group["run"].iloc[0])
    others = group.iloc[1:]
    if best == baseline:
        return best, bool((others["verdict"] == "worse").all())
    return best, bool((others.loc[others["run"] == best, "verdict"] == "better").all())


def winners(comparison: pd.DataFrame) -> pd.DataFrame:
    """Per judged KPI (not neutral): the winning run and whether it wins clearly."""
    rows = []
    for kpi, group in comparison.groupby("kpi", sort=False):
        best, clear = winner(group)
        if best:
            rows.append({"kpi": kpi, "best": best, "clear": clear})
    return pd.DataFrame(rows, columns=["kpi", "best", "clear"])


def side_by_side(comparison: pd.DataFrame, short: Mapping[str, str] | None = None) -> pd.DataFrame:
    """One row per KPI: each difference from the baseline and the winner first (what a planner
    reads), then each run's mean ± CI, the unit and which direction is better.

    Columns are named by the runs' labels; ``short`` gives each run a short name for the
    "best" column (the label by default). Money is shown in millions of VND, as the overview
    shows it.
    """
    runs = list(dict.fromkeys(comparison["run"]))
    names = {run: (short or {}).get(run, run) for run in runs}
    rows = []
    for kpi, group in comparison.groupby("kpi", sort=False):
        by_run = {row["run"]: row for row in group.to_dict("records")}
        unit = group["unit"].iloc[0]
        scale = 1e-6 if unit == "VND" else 1.0
        row: dict[str, object] = {"KPI": kpi}
        for run in runs[1:]:
            entry = by_run.get(run)
            if entry is None:
                row[f"{run} − baseline"] = "-"
                continue
            verdict = entry["verdict"] if entry["verdict"] not in ("n/a",) else ""
            difference = with_ci(difference_interval(entry).scaled(scale), format_number)
            row[f"{run} − baseline"] = f"{difference} {verdict}".strip()
        best, clear = winner(group)
        best = names.get(best, best)
        row["best"] = (f"{best} (clear)" if clear else best) if best else "-"
        for run in runs:
            entry = by_run.get(run)
            row[run] = with_ci(row_interval(entry).scaled(scale), format_number) if entry else "-"
        row["unit"] = "M VND" if unit == "VND" else unit
        row["better"] = group["direction"].iloc[0]
        rows.append(row)
    return pd.DataFrame(rows)


# --- recovery from disruptions (a folder written by ``gatetwin recovery --out``) ----------------

#: Where ``read_recovery`` notes the figures its file was written without (``attrs``).
NOT_MEASURED = "not_measured"
#: The columns ``recovery.csv`` must have: each replication's seed and index, then every figure.
RECOVERY_COLUMNS: tuple[str, ...] = ("seed", "replication", *RECOVERY_LABELS)
#: The first bytes of every PNG file.
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: What "trucks behind" means, for the caption of the recovery figure.
TRUCKS_BEHIND_NOTE = (
    "Trucks behind at a time: the trucks the gate without the disruptions had let depart by then, less those the "
    "disrupted gate had, with the same seeds (so the same trucks arrive at both). Shaded: the disruptions. Below "
    "zero: the disrupted gate was ahead at that time. Below the curve, in figures written since it was added, the "
    "mean time at the gate of the trucks by when they arrived, with and without the disruptions.")


def recovery_folders(sources: Sequence[str], measured: Mapping[str, Path] | None = None) -> list[Path]:
    """The folders written by ``gatetwin recovery --out`` both of whose runs (the undisrupted and
    the disrupted one) are among the runs opened from ``sources`` (``LoadedRun.source``: a run
    opened from a folder has the folder's full path); in the order their runs come first.
    ``measured``: the recovery folder the dashboard wrote for a run opened from elsewhere (the
    disrupted run it measured), by source; that run stands for the folder's disrupted one."""
    measured = measured or {}
    holders = {source: recovery_folder_of(source) or measured.get(source) for source in dict.fromkeys(sources)}
    folders = [folder for folder in holders.values() if folder is not None]
    return [folder for folder in dict.fromkeys(folders) if folders.count(folder) >= 2]


def recovery_folder_of(source: str) -> Path | None:
    """The folder written by ``gatetwin recovery --out`` that holds the run opened from ``source``
    (``LoadedRun.source``) as one of its two runs; None when the run is not one of them."""
    path = Path(source)
    if not path.is_absolute() or not path.is_dir() or not (path.parent / RECOVERY_CSV).is_file():
        return None
    runs = comparison_run_folders(path.parent)
    return path.parent if len(runs) == 2 and path.resolve() in {run.resolve() for run in runs} else None


def read_recovery(path: Path) -> pd.DataFrame:
    """``recovery.csv`` as ``gatetwin recovery --out`` writes it: a row per replication, its seed,
    its index and every figure of ``twin.recovery.LABELS`` (NaN where the figure says nothing, as
    ``caught_up_h`` of a replication that did not catch up). A file written before a figure of
    ``twin.recovery.LATER_FIGURES`` existed reads with it NaN, named in ``attrs[NOT_MEASURED]``.

    Raises ``ValueError`` with one line naming the file and what is wrong with it.
    """
    try:
        table = pd.read_csv(path)
    except pd.errors.EmptyDataError:
        raise ValueError(f"{path}: the file is empty") from None
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise ValueError(f"{path}: cannot be read as a table ({type(exc).__name__}: {(str(exc).splitlines() or [''])[0]})") from None
    absent = tuple(name for name in LATER_FIGURES if name not in table.columns)
    for name in absent:  # a file written before the figure was: not measured
        table[name] = math.nan
    missing = [name for name in RECOVERY_COLUMNS if name not in table.columns]
    if missing:
        raise ValueError(f"{path}: no column{'s' if len(missing) > 1 else ''} {', '.join(repr(name) for name in missing)} (it has "
                         f"{', '.join(repr(str(name)) for name in table.columns) or 'none'})")
    if table.empty:
        raise ValueError(f"{path}: no replication in it")
    for name in RECOVERY_COLUMNS:
        values = pd.to_numeric(table[name], errors="coerce")
        wrong = (table[name].notna() & values.isna()) | np.isinf(values.astype(float))
        if name in ("seed", "replication"):
            wrong |= values.isna()
        if wrong.any():
            row = int(np.flatnonzero(wrong.to_numpy())[0])
            cell = table[name].iloc[row]
            what = ("no value" if pd.isna(cell) else
                    f"{cell!r} is not a number" if isinstance(cell, str) else f"{cell} is not a finite number")
            raise ValueError(f"{path}: column {name!r}, replication row {row + 1}: {what}")
        table[name] = values.astype(float)
    table.attrs[NOT_MEASURED] = absent
    return table


def recovery_figures(table: pd.DataFrame) -> pd.DataFrame:
    """One row per figure of ``twin.recovery.LABELS``: what it is, its mean with its 95 %
    interval over the replications in words (over those that caught up, for the time to catch
    up), and its unit."""
    rows = []
    for name, (label, unit, _) in RECOVERY_LABELS.items():
        interval = figure_interval(table, name)
        if math.isnan(interval.mean):
            measured = name in NOT_YET and name not in table.attrs.get(NOT_MEASURED, ())
            text = f"{NOT_YET[name]} in any replication" if measured else "not measured"
        else:
            text = with_ci(interval, format_number)
        rows.append({"figure": label, "mean and 95 % CI": text, "unit": unit})
    return pd.DataFrame(rows, columns=["figure", "mean and 95 % CI", "unit"])


def caught_up_line(table: pd.DataFrame, horizon_h: float | None = None) -> str:
    """How many replications of a recovery table caught up by the end of the run, in words."""
    n = len(table)
    caught = int(table["caught_up_h"].notna().sum())
    end = f"by the end of the run (hour {horizon_h:g})" if horizon_h else "by the end of the run"
    if caught == n:
        return f"All {n} replications caught up {end}." if n != 1 else f"The replication caught up {end}."
    if caught == 0:
        return (f"None of the {n} replications caught up {end}; a longer run shows how long it takes." if n != 1 else
                f"The replication had not caught up {end}; a longer run shows how long it takes.")
    return (f"{caught} of {n} replications caught up {end}; the time to catch up is the mean over those "
            f"{caught}; the other {n - caught} had not caught up.")


def waits_normal_line(table: pd.DataFrame, horizon_h: float | None = None) -> str:
    """How many replications of a recovery table had their time at the gate back to normal by the
    end of the run, in words, and what normal means; empty for a table written before the figure."""
    if "waits_normal_h" in table.attrs.get(NOT_MEASURED, ()):
        return ""
    n = len(table)
    normal = int(table["waits_normal_h"].notna().sum())
    end = f"by the end of the run (hour {horizon_h:g})" if horizon_h else "by the end of the run"
    said = (f"The time at the gate was back to normal {end} in every replication." if normal == n else
            f"The time at the gate was not back to normal {end} in any replication." if normal == 0 else
            f"The time at the gate was back to normal {end} in {normal} of {n} replications; the time until it "
            f"was is the mean over those {normal}.")
    return f"{said} {NORMAL_NOTE}"


def is_png(path: Path) -> bool:
    """Whether ``path`` is a file that starts as a PNG image does."""
    try:
        with path.open("rb") as file:
            return file.read(len(PNG_SIGNATURE)) == PNG_SIGNATURE
    except OSError:
        return False
