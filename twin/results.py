"""Results of a run: per-replication tables, KPIs with confidence intervals, files on disk.

A replication's results come from its probes (``collect_replication``); a run's summary gives
every KPI's mean and 95 % confidence interval over replications, and distributions over all
trucks pooled. A KPI's interval is kept as ``half_width`` (Student's t·s/√n) and as its bounds
``low`` and ``high``: mean ± half_width cut to the KPI's natural range (``kpi_range``: a share
in [0, 1], every other KPI here at least 0), so a cut interval is not symmetric about the mean.
``write_results`` writes Parquet/CSV tables, ``summary.json`` and PNG plots; it works for a failed run too (whatever replications exist, plus the error), and for
the same input it writes the same bytes: no wall-clock time goes into any file.

KPI units: times in minutes, rates per day, levels in trucks or km, money in VND.
"""

from __future__ import annotations

import importlib.metadata
import json
import math
import platform
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from gate.enums import CrossingMode
from scenarios import ScenarioError, load_scenario, scenario_yaml
from scenarios import scenario_hash as hash_of_scenario
from scenarios.schema import Scenario
from twin.people import PEOPLE_KPIS
from twin.plots import PLOT_FILES, write_plots
from twin.probes import (
    ROAD_QUEUE_KM,
    ROAD_QUEUE_TRUCKS,
    YARD_OCCUPANCY,
    CounterProbe,
    LittleCheck,
    StationProbe,
    StationSummary,
    TruckLog,
    time_at_gate_minutes,
)
from twin.stats import UNBOUNDED, Interval, clip_interval, summarize

SECONDS_PER_MINUTE = 60.0
SECONDS_PER_DAY = 86_400.0
CONFIDENCE = 0.95

#: The run-level KPIs in report order, with units.
KPI_UNITS: dict[str, str] = {
    "trucks_arrived": "trucks",
    "trucks_departed": "trucks",
    "trucks_returned": "trucks",
    "trucks_refused": "trucks",
    "trucks_inside": "trucks",
    "throughput_per_day": "trucks/day",
    "time_at_gate_mean": "min",
    "time_at_gate_p50": "min",
    "time_at_gate_p90": "min",
    "time_at_gate_p95": "min",
    "time_at_gate_departed_mean": "min",
    "time_at_gate_departed_p50": "min",
    "time_at_gate_departed_p90": "min",
    "time_at_gate_departed_p95": "min",
    "time_in_system_mean": "min",
    "road_queue_trucks_max": "trucks",
    "road_queue_km_max": "km",
    "yard_occupancy_max": "trucks",
    "redeclarations": "count",
    "manual_reviews": "count",
    "plates_typed": "count",
    # The same counts per 100 trucks that reached the gate: a layout that clears more trucks
    # meets more of each, so ``compare`` judges these, not the counts.
    "redeclarations_per_100_trucks": "per 100 trucks",
    "manual_reviews_per_100_trucks": "per 100 trucks",
    "plates_typed_per_100_trucks": "per 100 trucks",
    "fee_revenue_vnd": "VND",
    # Only at a gate with an AGV lane; from ``extra["agv"]`` and the trucks' handovers.
    "agv_containers_delivered_per_day": "containers/day",
    "agv_fleet_utilisation": "share",
    "agv_backlog_containers": "containers",
    "agv_containers_handed_over_per_day": "containers/day",
    "agv_trucks_per_day": "trucks/day",
    # Measured by the Mesa agents (``agents.enabled``) and merged from ``extra[PEOPLE_KPIS]``.
    "road_queue_truck_h": "truck-h",
    "staging_area_truck_h": "truck-h",
    "road_wait_mean_min": "min",
    "area_wait_mean_min": "min",
}
#: What a KPI counts, where its name does not say it all.
TIME_AT_GATE_NOTE = ("every truck that arrived after the warm-up and reached the gate; one still there at the end "
                     "counts its time so far (censored at the end of the run), so stranded trucks raise it")
TIME_AT_GATE_DEPARTED_NOTE = "only the trucks that departed: lower when more trucks are stranded inside"
PER_100_TRUCKS_NOTE = ("per 100 trucks that arrived after the warm-up and reached the gate (the trucks the "
                       "time_at_gate KPIs count)")
KPI_NOTES: dict[str, str] = {
    **{f"time_at_gate_{stat}": TIME_AT_GATE_NOTE for stat in ("mean", "p50", "p90", "p95")},
    **{f"time_at_gate_departed_{stat}": TIME_AT_GATE_DEPARTED_NOTE for stat in ("mean", "p50", "p90", "p95")},
    **{f"{count}_per_100_trucks": PER_100_TRUCKS_NOTE for count in ("redeclarations", "manual_reviews", "plates_typed")},
    "agv_containers_delivered_per_day": "containers the AGVs delivered across the line",
    "agv_fleet_utilisation": "share of the AGVs' time on missions",
    "agv_backlog_containers": ("containers handed to the AGV lane and not yet delivered at the end "
                               "(neither delivered nor given up to manual handling)"),
    "agv_containers_handed_over_per_day": "containers the crane moved from trucks to the AGV stack, crossed or not",
    "agv_trucks_per_day": ("trucks that handed their containers to the AGV lane and departed: trips across the "
                           "line the lane took off the road"),
}
#: The version of the results folder's format, written as ``format_version`` in summary.json.
#: Raised when a file gains, loses or changes the meaning of a column or key that a reader relies
#: on; a folder without it was written before folders had a version, and reads as version 0.
#: Version 1: every file as version 0 last had it (``time_at_gate_so_far`` and ``refused_at`` in
#: the trucks, ``time_at_gate_departed_*`` beside ``time_at_gate_*``), and ``format_version``.
#: Each KPI's ``low`` and ``high`` came later without a new version: no reader relies on them, as
#: ``kpi_interval`` derives them, the same, from the mean and half width where they are missing.
RESULTS_FORMAT = 1
#: The KPIs every run has, whatever its gate (not the AGV lane's, the agents' or the stations'):
#: ``KPI_UNITS`` lists them first, up to the fee revenue.
BASE_KPIS: tuple[str, ...] = tuple(KPI_UNITS)[: tuple(KPI_UNITS).index("fee_revenue_vnd") + 1]
#: Per-station KPIs are named ``<station><suffix>``.
STATION_KPI_UNITS: dict[str, str] = {"_utilisation": "share", "_mean_wait": "min"}


def kpi_unit(name: str) -> str:
    """The unit of a KPI, "" when the KPI is not one this module defines."""
    if name in KPI_UNITS:
        return KPI_UNITS[name]
    for suffix, unit in STATION_KPI_UNITS.items():
        if name.endswith(suffix):
            return unit
    return ""


def kpi_range(name: str) -> tuple[float, float]:
    """The values the KPI ``name`` can take: (0, 1) for a share, (0, inf) for any other KPI this
    module defines (counts, rates, times, levels, money: none is negative), unbounded for a KPI
    it does not know."""
    unit = kpi_unit(name)
    if unit == "share":
        return 0.0, 1.0
    return (0.0, math.inf) if unit else UNBOUNDED


def kpi_interval(name: str, entry: Mapping[str, Any]) -> Interval:
    """The interval of the KPI ``name`` from its entry in a summary's ``kpis`` (bounds derived
    from its mean and half width when the entry has none, as in results of an older version)."""
    mean = _number(entry.get("mean"))
    half_width = _number(entry.get("half_width"))
    low, high = clip_interval(mean, half_width, kpi_range(name))
    if "low" in entry and "high" in entry:
        low, high = _number(entry["low"]), _number(entry["high"])
    n = entry.get("n")
    return Interval(mean, half_width, low, high, int(n) if isinstance(n, (int, float)) and not math.isnan(n) else 0)


def _number(value: Any) -> float:
    return math.nan if value is None else float(value)


def kpi_order(names: Iterable[str]) -> list[str]:
    """KPI names in report order: the run-level KPIs, then station KPIs, then any others."""
    present = set(names)
    ordered = [name for name in KPI_UNITS if name in present]
    station = sorted(n for n in present if n not in KPI_UNITS and any(n.endswith(s) for s in STATION_KPI_UNITS))
    others = sorted(present - set(ordered) - set(station))
    return ordered + station + others


def kpi_notes(kpis: Iterable[str]) -> list[str]:
    """What the KPIs among ``kpis`` that have a note (``KPI_NOTES``) count, one line per note,
    naming the KPIs it covers."""
    covered: dict[str, list[str]] = {}
    for kpi in dict.fromkeys(kpis):
        if kpi in KPI_NOTES:
            covered.setdefault(KPI_NOTES[kpi], []).append(str(kpi))
    return [f"{', '.join(names)}: {note}." for note, names in covered.items()]


@dataclass(frozen=True)
class InvariantCheck:
    """One invariant checked at the end of a replication, and what was found."""

    name: str
    holds: bool
    detail: str


@dataclass
class ReplicationResult:
    """Everything one replication measured. ``series`` holds station and counter step series."""

    seed: int
    trucks: pd.DataFrame
    stations: dict[str, StationSummary]
    series: dict[str, dict[str, np.ndarray]]
    kpis: dict[str, float]
    invariants: list[InvariantCheck] = field(default_factory=list)
    #: Anything else worth keeping, e.g. agents' DataCollector frames (DataFrames are written
    #: as Parquet tables, other values into summary.json).
    extra: dict[str, Any] = field(default_factory=dict)
    #: Start of the measured window (the warm-up's end), seconds: times at the gate count the
    #: trucks that arrived from then on.
    measured_from: float = 0.0


@dataclass
class RunResult:
    """A run of one scenario: its replications, manifest, summary and failure, if any."""

    scenario_name: str
    scenario_hash: str
    replications: list[ReplicationResult]
    manifest: dict[str, Any]
    summary: dict[str, Any]
    failed: str | None = None
    #: The results format: ``RESULTS_FORMAT`` for a run of this version, the folder's
    #: ``format_version`` for one read back (0 when it was written before folders had one).
    format_version: int = field(default_factory=lambda: RESULTS_FORMAT)
    #: The scenario as run: written as ``SCENARIO_FILE`` and read back from it; None for a run
    #: read from a folder without one (written by an older version), or whose file does not give
    #: back the run's scenario (``read_run_scenario`` says why).
    scenario: Scenario | None = None


def little_invariant(check: LittleCheck) -> InvariantCheck:
    """A Little's-law check as an invariant of the run."""
    detail = (
        f"L={check.mean_number:.4g}, lambda*W={check.little_product:.4g} "
        f"(lambda={check.arrival_rate * 3600:.4g}/h, W={check.mean_sojourn_s / 60:.4g} min), "
        f"relative error {check.relative_error:.3g} vs tolerance {check.tolerance:.3g}, "
        f"{check.in_station_at_end} still inside at the end"
        + (f" ({check.expected_inside} expected)" if check.expected_inside is not None else "")
    )
    return InvariantCheck(name=f"little:{check.name}", holds=check.holds, detail=detail)


def conservation_check(trucks: pd.DataFrame, generated: int | None = None) -> InvariantCheck:
    """Every truck that arrived departed, was returned or refused, or is still inside.

    Also checks that each outcome agrees with the stamps (a departed truck has a departure
    time, a returned one a return time, and no other truck has either), and, given the count
    of trucks the arrival process created, that none is missing from the table.
    """
    problems: list[str] = []
    outcome = trucks["outcome"].astype(object)
    known = {"departed", "returned", "refused", "inside"}
    unknown = sorted(set(outcome) - known)
    if unknown:
        problems.append(f"unknown outcomes {unknown}")
    counts = {name: int((outcome == name).sum()) for name in sorted(known)}
    departed_stamp = trucks["departed"].notna()
    returned_stamp = trucks["returned_at"].notna()
    for label, mismatch in (
        ("departed without a departure time", (outcome == "departed") & ~departed_stamp),
        ("with a departure time but not departed", (outcome != "departed") & departed_stamp),
        ("returned without a return time", (outcome == "returned") & ~returned_stamp),
    ):
        if mismatch.any():
            ids = trucks.loc[mismatch, "truck_id"].head(5).tolist()
            problems.append(f"{int(mismatch.sum())} truck(s) {label} (e.g. truck_id {ids})")
    if generated is not None and generated != len(trucks):
        problems.append(f"{generated} trucks were generated but {len(trucks)} are in the table")
    detail = f"{len(trucks)} arrived = " + " + ".join(f"{counts[n]} {n}" for n in ("departed", "returned", "refused", "inside"))
    if problems:
        detail += "; " + "; ".join(problems)
    return InvariantCheck(name="conservation", holds=not problems, detail=detail)


def _time_kpis(trucks: pd.DataFrame, start: float) -> dict[str, float]:
    """Times at the gate of the trucks that arrived from ``start`` on (``KPI_NOTES`` says which
    trucks each counts), and the mean time in the system."""
    kpis: dict[str, float] = {}
    for prefix, departed_only in (("time_at_gate", False), ("time_at_gate_departed", True)):
        at_gate = summarize(time_at_gate_minutes(trucks, start, departed_only))
        kpis.update({f"{prefix}_{stat}": at_gate[stat] for stat in ("mean", "p50", "p90", "p95")})
    in_system = trucks["time_in_system"].to_numpy(dtype=float) / SECONDS_PER_MINUTE
    kpis["time_in_system_mean"] = summarize(in_system)["mean"]
    return kpis


def _series_max(series: Mapping[str, Mapping[str, np.ndarray]], name: str, start: float, end: float) -> float:
    """Highest level of a counter over the window; NaN when the run has no such counter."""
    if name not in series:
        return math.nan
    time, value = series[name]["time"], series[name]["value"]
    inside = (time >= start) & (time <= end)
    before = time < start
    candidates = [value[inside]]
    if before.any():
        candidates.append(value[before][-1:])
    joined = np.concatenate(candidates)
    return float(joined.max()) if joined.size else math.nan


def replication_kpis(
    trucks: pd.DataFrame,
    stations: Mapping[str, StationSummary],
    series: Mapping[str, Mapping[str, np.ndarray]],
    start: float,
    end: float,
) -> dict[str, float]:
    """The KPIs of one replication. Per-truck figures (counts, times, re-declarations, reviews,
    plates typed, fees) cover the trucks that arrived from ``start`` (the warm-up's end) on;
    rates and level maxima the window [start, end] (seconds)."""
    if not end > start:
        raise ValueError(f"replication_kpis: the window end must be after its start (got {start}, {end})")
    days = (end - start) / SECONDS_PER_DAY
    departed_time = trucks["departed"].to_numpy(dtype=float)
    departed_in_window = int(np.count_nonzero((departed_time >= start) & (departed_time <= end)))
    if start > 0:  # the trucks of the warm-up are left out of the per-truck figures
        trucks = trucks[trucks["arrival"].to_numpy(dtype=float) >= start]
    outcome = trucks["outcome"].astype(object)
    kpis: dict[str, float] = {
        "trucks_arrived": float(len(trucks)),
        "trucks_departed": float((outcome == "departed").sum()),
        "trucks_returned": float((outcome == "returned").sum()),
        "trucks_refused": float((outcome == "refused").sum()),
        "trucks_inside": float((outcome == "inside").sum()),
        "throughput_per_day": departed_in_window / days,
    }
    kpis.update(_time_kpis(trucks, start))
    kpis["road_queue_trucks_max"] = _series_max(series, ROAD_QUEUE_TRUCKS, start, end)
    kpis["road_queue_km_max"] = _series_max(series, ROAD_QUEUE_KM, start, end)
    kpis["yard_occupancy_max"] = _series_max(series, YARD_OCCUPANCY, start, end)
    kpis["redeclarations"] = float(trucks["redeclarations"].sum())
    kpis["manual_reviews"] = float(trucks["manual_reviews"].sum())
    kpis["plates_typed"] = float(trucks["plates_typed"].sum())
    reached = time_at_gate_minutes(trucks, start).size  # the trucks that reached the gate
    for count in ("redeclarations", "manual_reviews", "plates_typed"):
        kpis[f"{count}_per_100_trucks"] = 100.0 * kpis[count] / reached if reached else math.nan
    kpis["fee_revenue_vnd"] = float(trucks["fee_paid_vnd"].sum())  # collected, not merely assessed
    for name, station in stations.items():
        kpis[f"{name}_utilisation"] = station.utilisation
        kpis[f"{name}_mean_wait"] = station.mean_wait_s / SECONDS_PER_MINUTE
    return kpis


def agv_kpis(trucks: pd.DataFrame, agv: Mapping[str, Any], start: float, end: float) -> dict[str, float]:
    """The AGV lane's KPIs from the fleet's figures (``extra["agv"]``: delivered, utilisation,
    backlog) and the trucks' handovers; none at a gate without an AGV lane (``agv`` empty).
    Per-day figures count the whole run, a warm-up included, over the window's days."""
    if not agv:
        return {}
    days = (end - start) / SECONDS_PER_DAY
    by_agv = (trucks["crossing_mode"].astype(object) == CrossingMode.AGV_LANE.value) & trucks["departed"].notna()
    return {
        "agv_containers_delivered_per_day": float(agv["delivered"]) / days,
        "agv_fleet_utilisation": float(agv["utilisation"]),
        "agv_backlog_containers": float(agv["backlog"]),
        "agv_containers_handed_over_per_day": float(trucks["agv_containers"].sum()) / days,
        "agv_trucks_per_day": float(by_agv.sum()) / days,
    }


def officer_kpis(agencies: Mapping[str, Mapping[str, Any]]) -> dict[str, float]:
    """Each agency's officers as KPIs beside the stations': ``officers_<role>_utilisation`` (share
    of officer time on duty, overtime finishing a task included, spent on tasks) and
    ``officers_<role>_mean_wait`` (minutes a task waited for an officer). Agencies with unlimited
    officers have no utilisation."""
    kpis: dict[str, float] = {}
    for role, desk in agencies.items():
        unlimited = desk.get("officers") == "unlimited"
        kpis[f"officers_{role}_utilisation"] = math.nan if unlimited else float(desk.get("utilisation", math.nan))
        kpis[f"officers_{role}_mean_wait"] = float(desk.get("mean_wait_min", math.nan))
    return kpis


def collect_replication(
    seed: int,
    trucks: TruckLog,
    stations: Sequence[StationProbe],
    counters: Sequence[CounterProbe],
    start: float,
    end: float,
    generated: int | None = None,
    invariants: Sequence[InvariantCheck] = (),
    extra: Mapping[str, Any] | None = None,
    expected_inside: Mapping[str, int] | None = None,
) -> ReplicationResult:
    """Read every probe of a finished replication over [start, end] into a result.

    Adds the conservation invariant and Little's law for each station to ``invariants``. KPIs the
    people's models measured themselves (``extra[PEOPLE_KPIS]``) join the replication's KPIs.
    """
    probes: list[StationProbe | CounterProbe] = [*stations, *counters]
    names = [probe.name for probe in probes]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"collect_replication: probe names must be unique (repeated: {', '.join(duplicates)})")
    frame = trucks.to_frame(end=end)
    summaries = {probe.name: probe.summary(start, end) for probe in stations}
    series = {probe.name: probe.series() for probe in probes}
    checks = [*invariants, conservation_check(frame, generated)]
    expected = expected_inside or {}
    checks.extend(little_invariant(probe.little(start, end, expected_inside=expected.get(probe.name)))
                  for probe in stations)
    extra = dict(extra or {})
    kpis = replication_kpis(frame, summaries, series, start, end)
    kpis.update(agv_kpis(frame, extra.get("agv", {}), start, end))
    kpis.update(officer_kpis(extra.get("agencies", {})))
    kpis.update({name: float(value) for name, value in extra.pop(PEOPLE_KPIS, {}).items()})
    return ReplicationResult(
        seed=seed,
        trucks=frame,
        stations=summaries,
        series=series,
        kpis=kpis,
        invariants=checks,
        extra=extra,
        measured_from=start,
    )


def summarize_run(reps: Sequence[ReplicationResult], confidence: float = CONFIDENCE) -> dict[str, Any]:
    """Each KPI's mean, confidence half width and bounds (``kpi_interval``), replications
    measured, unit, note (``KPI_NOTES``, where it has one) and per-replication values; truck
    times pooled over replications.

    A KPI a replication lacks counts as NaN there and is left out of its mean. ``reps[i]`` is
    replication i of the run: ``replication_ids`` pairs each seed with that index, which
    together name the replication's random streams (``twin.streams.Streams(seed, i)``), so
    two runs' replications with the same id saw the same random numbers.
    """
    names = kpi_order({name for rep in reps for name in rep.kpis})
    kpis: dict[str, Any] = {}
    for name in names:
        values = [float(rep.kpis.get(name, math.nan)) for rep in reps]
        interval = Interval.of(values, kpi_range(name), confidence)
        kpis[name] = {
            "mean": interval.mean,
            "half_width": interval.half_width,
            "low": interval.low,
            "high": interval.high,
            "n": interval.n,
            "unit": kpi_unit(name),
            "per_replication": values,
        }
        if name in KPI_NOTES:
            kpis[name]["note"] = KPI_NOTES[name]
    pooled_gate = [time_at_gate_minutes(rep.trucks, rep.measured_from) for rep in reps]
    pooled_departed = [time_at_gate_minutes(rep.trucks, rep.measured_from, departed_only=True) for rep in reps]
    pooled_system = [rep.trucks["time_in_system"].to_numpy(dtype=float) / SECONDS_PER_MINUTE for rep in reps]
    empty = np.empty(0)
    return {
        "replications": len(reps),
        "seeds": [int(rep.seed) for rep in reps],
        "replication_ids": [[int(rep.seed), index] for index, rep in enumerate(reps)],
        "confidence": confidence,
        "kpis": kpis,
        "pooled": {
            "time_at_gate_min": summarize(np.concatenate(pooled_gate) if pooled_gate else empty),
            "time_at_gate_departed_min": summarize(np.concatenate(pooled_departed) if pooled_departed else empty),
            "time_in_system_min": summarize(np.concatenate(pooled_system) if pooled_system else empty),
        },
        "invariants_failed": sum(1 for rep in reps for check in rep.invariants if not check.holds),
    }


_MANIFEST_PACKAGES = ("numpy", "simpy", "mesa", "pandas", "pyarrow", "pydantic", "matplotlib", "gatetwin")


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def make_manifest(
    scenario_name: str,
    scenario_hash: str,
    seed: int,
    replications: int,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """What a run needs to be reproduced: scenario, seed, replications, versions, platform.

    No wall-clock time: the same run on the same installation writes identical files.
    """
    versions = {"python": platform.python_version()}
    versions.update({package: _version(package) for package in _MANIFEST_PACKAGES})
    return {
        "scenario_name": scenario_name,
        "scenario_hash": scenario_hash,
        "seed": int(seed),
        "replications": int(replications),
        "versions": versions,
        "platform": platform.platform(),
        "extra": dict(extra or {}),
    }


# --- files -------------------------------------------------------------------------------------

SUMMARY_FILE = "summary.json"
TRUCKS_FILE = "trucks.parquet"
TRUCKS_CSV = "trucks.csv"
STATIONS_FILE = "stations.csv"
SERIES_FILE = "series.parquet"
#: The scenario as run, as YAML (``scenarios.scenario_yaml``); it reads back with the run's hash.
SCENARIO_FILE = "scenario.yaml"
#: The run's report for people (``twin.report``), written after the other files.
REPORT_FILE = "report.md"
_RUN_FILES = (SUMMARY_FILE, TRUCKS_FILE, TRUCKS_CSV, STATIONS_FILE, SERIES_FILE, SCENARIO_FILE, REPORT_FILE)
_EXTRA_TABLE = re.compile(r"extra_[A-Za-z0-9_-]+_rep[0-9]+(_[0-9]+)?\.parquet")
_STATION_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(StationSummary))
_STATION_COUNTS = frozenset({"arrivals", "completions", "abandoned"})
_SAFE_NAME = re.compile(r"[^A-Za-z0-9_-]+")


def _jsonable(value: Any) -> Any:
    """Plain JSON data: NaN and infinity become null, numpy values plain numbers, enums their
    value, and anything else its repr (kept, visibly, rather than dropped)."""
    if isinstance(value, Mapping):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    if isinstance(value, np.ndarray):
        return [_jsonable(item) for item in value.tolist()]
    if isinstance(value, Enum):
        return _jsonable(value.value)
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        number = float(value)
        return number if math.isfinite(number) else None
    return repr(value)


def _restore_nan(value: Any) -> Any:
    """Undo the null-for-NaN of ``_jsonable`` in numeric data."""
    if value is None:
        return math.nan
    if isinstance(value, dict):
        return {key: _restore_nan(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_restore_nan(item) for item in value]
    return value


def _trucks_table(run: RunResult) -> pd.DataFrame:
    frames = [(index, rep.seed, rep.trucks) for index, rep in enumerate(run.replications)]
    if not frames:
        # No replication finished: an empty table that still has every column.
        frames = [(0, 0, TruckLog().to_frame())]
    tables = []
    for index, seed, trucks in frames:
        frame = trucks.copy()
        frame.insert(0, "replication", np.full(len(frame), index, dtype=np.int64))
        frame.insert(1, "seed", np.full(len(frame), seed, dtype=np.int64))
        tables.append(frame)
    return pd.concat(tables, ignore_index=True)


def _stations_table(run: RunResult) -> pd.DataFrame:
    rows = []
    for index, rep in enumerate(run.replications):
        for key, station in rep.stations.items():
            if key != station.name:
                raise ValueError(f"replication {index}: station summary {station.name!r} is filed under {key!r}")
            rows.append({"replication": index, "seed": int(rep.seed), **station.as_dict()})
    return pd.DataFrame(rows, columns=["replication", "seed", *_STATION_FIELDS])


def _series_table(run: RunResult) -> pa.Table:
    """All step series in long form; names and metrics dictionary-encoded to stay small."""
    names: dict[str, int] = {}
    metrics: dict[str, int] = {}
    parts: dict[str, list[np.ndarray]] = {"replication": [], "name": [], "metric": [], "time": [], "value": []}
    for index, rep in enumerate(run.replications):
        for name, arrays in rep.series.items():
            if "time" not in arrays:
                raise ValueError(f"replication {index}: series {name!r} has no 'time' array")
            time = np.asarray(arrays["time"], dtype=float)
            for metric, values in arrays.items():
                if metric == "time":
                    continue
                values = np.asarray(values, dtype=float)
                if values.shape != time.shape:
                    raise ValueError(
                        f"replication {index}: series {name!r} metric {metric!r} has {values.size} values for {time.size} times"
                    )
                parts["replication"].append(np.full(time.size, index, dtype=np.int32))
                parts["name"].append(np.full(time.size, names.setdefault(name, len(names)), dtype=np.int32))
                parts["metric"].append(np.full(time.size, metrics.setdefault(metric, len(metrics)), dtype=np.int32))
                parts["time"].append(time)
                parts["value"].append(values)

    def joined(key: str, dtype: Any) -> np.ndarray:
        return np.concatenate(parts[key]) if parts[key] else np.empty(0, dtype=dtype)

    return pa.table(
        {
            "replication": pa.array(joined("replication", np.int32), pa.int32()),
            "name": pa.DictionaryArray.from_arrays(pa.array(joined("name", np.int32)), pa.array(list(names), pa.string())),
            "time": pa.array(joined("time", float), pa.float64()),
            "metric": pa.DictionaryArray.from_arrays(pa.array(joined("metric", np.int32)), pa.array(list(metrics), pa.string())),
            "value": pa.array(joined("value", float), pa.float64()),
        }
    )


def _extra_tables(run: RunResult) -> dict[tuple[int, str], str]:
    """File name for every DataFrame in the replications' ``extra``, unique and stable."""
    files: dict[tuple[int, str], str] = {}
    used: set[str] = set()
    for index, rep in enumerate(run.replications):
        for key in sorted(k for k, v in rep.extra.items() if isinstance(v, pd.DataFrame)):
            stem = f"extra_{safe_file_stem(key)}_rep{index}"
            candidate, n = stem, 1
            while candidate in used:
                n += 1
                candidate = f"{stem}_{n}"
            used.add(candidate)
            files[(index, key)] = f"{candidate}.parquet"
    return files


def safe_file_stem(name: str) -> str:
    """A name usable in a file name (letters, digits, '-' and '_')."""
    return _SAFE_NAME.sub("_", name) or "_"


def _summary_document(run: RunResult, extra_files: Mapping[tuple[int, str], str]) -> dict[str, Any]:
    replications = []
    for index, rep in enumerate(run.replications):
        replications.append(
            {
                "replication": index,
                "seed": int(rep.seed),
                "measured_from_s": rep.measured_from,
                "kpis": rep.kpis,
                "invariants": [{"name": c.name, "holds": c.holds, "detail": c.detail} for c in rep.invariants],
                # Lists, not dicts: sort_keys must not reorder stations and series.
                "stations": [station.as_dict() for station in rep.stations.values()],
                "series": [[name, [m for m in arrays if m != "time"]] for name, arrays in rep.series.items()],
                "extra": {k: v for k, v in rep.extra.items() if not isinstance(v, pd.DataFrame)},
                "extra_tables": {key: name for (i, key), name in extra_files.items() if i == index},
            }
        )
    return {
        "format_version": RESULTS_FORMAT,
        "scenario_name": run.scenario_name,
        "scenario_hash": run.scenario_hash,
        "failed": run.failed,
        "manifest": run.manifest,
        "summary": run.summary,
        "replications": replications,
    }


def is_extra_table(name: str) -> bool:
    """Whether a file named ``name`` is one of the replications' extra tables ``write_results`` writes."""
    return _EXTRA_TABLE.fullmatch(name) is not None


def is_results_folder(folder: Path) -> bool:
    """Whether ``folder`` holds what ``write_results`` writes (its ``summary.json``)."""
    return (Path(folder) / SUMMARY_FILE).is_file()


def clear_results(out_dir: Path) -> list[Path]:
    """Remove the files an earlier ``write_results`` left in ``out_dir``; return their paths.

    Only a results folder is touched, and in it only the files ``write_results`` makes (its
    tables, summary, plots and per-replication tables): anything else a user keeps there stays.
    A run with fewer replications or plots than the one before it so leaves none of the
    earlier run's files beside its own.
    """
    out_dir = Path(out_dir)
    if not is_results_folder(out_dir):
        return []
    removed = []
    for path in sorted(out_dir.iterdir()):
        ours = path.name in _RUN_FILES or path.name in PLOT_FILES or is_extra_table(path.name)
        if ours and path.is_file():
            path.unlink()
            removed.append(path)
    return removed


def write_results(run: RunResult, out_dir: Path) -> list[Path]:
    """Write the run's tables, summary.json and plots into ``out_dir``; return the paths.

    Files: trucks.parquet and trucks.csv (all replications, with ``replication`` and ``seed``
    columns; times in seconds), stations.csv (one row per replication and station),
    series.parquet (long: replication, name, time, metric, value), summary.json (summary,
    manifest, per-replication KPIs and invariants, the failure if any), one Parquet file per
    table in a replication's ``extra``, and PNG plots. The summary is written before the
    plots, so a run that failed still leaves its error and whatever it measured. The files of
    an earlier run in the same folder are removed first (``clear_results``).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    clear_results(out_dir)
    paths: list[Path] = []
    trucks = _trucks_table(run)
    trucks.to_parquet(out_dir / TRUCKS_FILE, index=False)
    trucks.to_csv(out_dir / TRUCKS_CSV, index=False, lineterminator="\n")
    _stations_table(run).to_csv(out_dir / STATIONS_FILE, index=False, lineterminator="\n")
    pq.write_table(_series_table(run), out_dir / SERIES_FILE)
    paths += [out_dir / TRUCKS_FILE, out_dir / TRUCKS_CSV, out_dir / STATIONS_FILE, out_dir / SERIES_FILE]
    extra_files = _extra_tables(run)
    document = _jsonable(_summary_document(run, extra_files))
    text = json.dumps(document, sort_keys=True, indent=2, allow_nan=False, ensure_ascii=False) + "\n"
    (out_dir / SUMMARY_FILE).write_text(text, encoding="utf-8")
    paths.append(out_dir / SUMMARY_FILE)
    if run.scenario is not None:
        comment = (f"The scenario {run.scenario_name} as gatetwin ran it (scenario_hash {run.scenario_hash}):\n"
                   "every field written out, defaults included. 'gatetwin run' takes this file.")
        (out_dir / SCENARIO_FILE).write_text(scenario_yaml(run.scenario, comment), encoding="utf-8")
        paths.append(out_dir / SCENARIO_FILE)
    for (index, key), name in extra_files.items():
        run.replications[index].extra[key].to_parquet(out_dir / name)
        paths.append(out_dir / name)
    paths.extend(write_plots(run, out_dir))
    return paths


def read_run_scenario(out_dir: Path, scenario_hash: str) -> Scenario:
    """The scenario a results folder's run ran, from its ``SCENARIO_FILE``: ``FileNotFoundError``
    when the folder has none (an older version wrote it), ``ScenarioError`` when the file is not
    a valid scenario for this version, ``ValueError`` when it is one but not the run's (its hash
    differs from ``scenario_hash``: the file was changed, or this version reads it otherwise)."""
    path = Path(out_dir) / SCENARIO_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path}: missing; the folder was written by an older version, which did not keep "
                                "the scenario it ran")
    scenario = load_scenario(path)
    found = hash_of_scenario(scenario)
    if found != scenario_hash:
        raise ValueError(f"{path}: not the scenario the run ran: its hash is {found[:12]}, the run's {scenario_hash[:12]} "
                         "(the file was changed, or this version reads it otherwise)")
    return scenario


def _station_summaries(entries: Sequence[Mapping[str, Any]]) -> dict[str, StationSummary]:
    result = {}
    for entry in entries:
        values: dict[str, Any] = {f: (int(entry[f]) if f in _STATION_COUNTS else float(_restore_nan(entry[f]))) for f in _STATION_FIELDS if f != "name"}
        result[str(entry["name"])] = StationSummary(name=str(entry["name"]), **values)
    return result


def _series_by_key(path: Path) -> tuple[pd.DataFrame, dict[tuple[int, str, str], np.ndarray]]:
    frame = pq.read_table(path).to_pandas()
    groups = frame.groupby(["replication", "name", "metric"], sort=False, observed=True).indices
    return frame, {(int(r), str(n), str(m)): rows for (r, n, m), rows in groups.items()}


_T = TypeVar("_T")


class ResultsFileError(ValueError):
    """A file of a results folder that is missing, truncated or not what ``write_results`` writes;
    the message names the file and what is wrong with it."""


def _read_file(path: Path, read: Callable[[Path], _T]) -> _T:
    """``read(path)``, with a missing or unreadable file reported as a ``ResultsFileError`` naming it."""
    if not path.is_file():
        raise ResultsFileError(f"{path}: missing; the folder is incomplete")
    try:
        return read(path)
    except json.JSONDecodeError as exc:
        raise ResultsFileError(f"{path}: not valid JSON at line {exc.lineno}, column {exc.colno} ({exc.msg}); "
                               "the file is truncated or corrupt") from None
    except KeyError as exc:
        raise ResultsFileError(f"{path}: has no column {exc}, so it is not the table gatetwin writes") from None
    except (OSError, ValueError, pa.ArrowException) as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ResultsFileError(f"{path}: cannot be read ({detail}); the file is truncated or corrupt") from None


def load_results(out_dir: Path) -> RunResult:
    """Read a results folder written by ``write_results`` back into a ``RunResult``.

    Tables, station summaries, series, KPIs, invariants, manifest, summary and failure come
    back as they were written; non-table ``extra`` values come back as their JSON form. A
    missing, truncated or corrupt file raises ``ResultsFileError`` naming it. A folder written
    by an older version reads with what it has (``format_gaps`` says what it lacks).
    """
    out_dir = Path(out_dir)
    summary_path = out_dir / SUMMARY_FILE
    if not summary_path.is_file():
        raise FileNotFoundError(f"{out_dir}: no {SUMMARY_FILE}, so this is not a gatetwin results folder")
    document = _read_file(summary_path, lambda path: json.loads(path.read_text(encoding="utf-8")))
    try:
        return _run_from_files(out_dir, document)
    except (KeyError, TypeError, IndexError) as exc:
        raise ResultsFileError(f"{summary_path}: not a gatetwin summary, or one this version cannot read "
                               f"({type(exc).__name__}: {exc})") from None


def _run_from_files(out_dir: Path, document: Mapping[str, Any]) -> RunResult:
    trucks = _read_file(out_dir / TRUCKS_FILE, pd.read_parquet)
    for column in ("replication", "seed"):
        if column not in trucks.columns:
            raise ResultsFileError(f"{out_dir / TRUCKS_FILE}: no column {column!r}; not a gatetwin truck table")
    series_frame, series_rows = _read_file(out_dir / SERIES_FILE, _series_by_key)
    time_values = series_frame["time"].to_numpy(dtype=float)
    metric_values = series_frame["value"].to_numpy(dtype=float)
    empty_rows = np.empty(0, dtype=np.int64)
    reps = []
    for entry in document["replications"]:
        index = int(entry["replication"])
        rep_trucks = trucks.loc[trucks["replication"] == index].drop(columns=["replication", "seed"]).reset_index(drop=True)
        series: dict[str, dict[str, np.ndarray]] = {}
        for name, metrics in entry["series"]:
            arrays: dict[str, np.ndarray] = {}
            for metric in metrics:
                rows = series_rows.get((index, name, metric), empty_rows)
                arrays.setdefault("time", time_values[rows])
                arrays[metric] = metric_values[rows]
            series[name] = arrays if arrays else {"time": np.empty(0)}
        extra: dict[str, Any] = dict(entry["extra"])
        extra.update({key: _read_file(out_dir / name, pd.read_parquet) for key, name in entry["extra_tables"].items()})
        reps.append(
            ReplicationResult(
                seed=int(entry["seed"]),
                trucks=rep_trucks,
                stations=_station_summaries(entry["stations"]),
                series=series,
                kpis={k: float(v) for k, v in _restore_nan(entry["kpis"]).items()},
                invariants=[InvariantCheck(name=c["name"], holds=bool(c["holds"]), detail=c["detail"]) for c in entry["invariants"]],
                extra=extra,
                measured_from=float(entry.get("measured_from_s", 0.0)),
            )
        )
    try:
        scenario: Scenario | None = read_run_scenario(out_dir, str(document["scenario_hash"]))
    except (OSError, ValueError, ScenarioError):
        scenario = None  # the run reads without it; ``read_run_scenario`` says why to whoever needs it
    return RunResult(
        scenario_name=document["scenario_name"],
        scenario_hash=document["scenario_hash"],
        replications=reps,
        manifest=document["manifest"],
        summary=_restore_nan(document["summary"]),
        failed=document["failed"],
        format_version=int(document.get("format_version", 0)),
        scenario=scenario,
    )


@dataclass(frozen=True)
class FormatGaps:
    """What a run read from a folder lacks of what this version writes: the folder was written
    by an older version (or, with ``newer``, by a newer one, whose format this one may misread)."""

    format_version: int
    truck_columns: tuple[str, ...] = ()
    kpis: tuple[str, ...] = ()

    @property
    def newer(self) -> bool:
        """Whether the folder's format is newer than the one this version writes."""
        return self.format_version > RESULTS_FORMAT

    def __bool__(self) -> bool:
        return self.newer or bool(self.truck_columns or self.kpis)

    def lines(self) -> list[str]:
        """What is missing, one line per file, naming the file."""
        lines = []
        if self.truck_columns:
            lines.append(f"{TRUCKS_FILE} has no column {', '.join(self.truck_columns)}")
        if self.kpis:
            lines.append(f"{SUMMARY_FILE} has no KPI {', '.join(self.kpis)}")
        return lines


def format_gaps(run: RunResult) -> FormatGaps:
    """What ``run`` lacks of the truck columns and the KPIs every run of this version has (empty
    for a run of this version). A run that failed before any replication finished lacks nothing."""
    columns = list(TruckLog().to_frame().columns)
    present = set().union(*(rep.trucks.columns for rep in run.replications)) if run.replications else set(columns)
    kpis = run.summary.get("kpis", {}) if isinstance(run.summary, Mapping) and run.replications else {}
    return FormatGaps(
        format_version=run.format_version,
        truck_columns=tuple(name for name in columns if name not in present),
        kpis=tuple(name for name in BASE_KPIS if run.replications and name not in kpis),
    )
