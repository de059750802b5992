"""Calibration validation: the library scenarios against the public figures they cite.

Each ``Check`` names a public figure and its source as ``docs/DOMAIN.md`` gives them, the
library scenario that cites it, what is measured from a run of that scenario (its per-truck
table, stations and ``extra``), the public range, and the rule that judges agreement:

- ``overlap``: the measured 95 % interval overlaps the public range (a range such as 50-150/h);
- ``contains``: the public figure lies within the measured 95 % interval (a single figure);
- ``within``: the whole measured interval lies inside the public range (a bound such as < 15 s,
  or the range of fees every trip must fall in).

Intervals: a figure measured once per replication (a count per day, a mean) gets Student's t
interval over the replications (``twin.stats.mean_ci``); with a single replication, a count gets
its Poisson interval and a mean over trucks its normal interval over those trucks. Such an
interval is cut at 0 for a figure that cannot be negative (a count, a rate, a time). A share gets
the Wilson interval of its counts pooled over the replications.

Each check says whether its figure is an *input* the scenario sets and the run reproduces
(arrivals, closures, a device's service time: the arrivals generator, closures, demand windows
and emulators are verified end to end) or an *outcome* of the clearance core and the emulators
working together (trucks cleared a day, the channels the core's selectivity decides, plates
identified without an officer typing them, the time at an automated barrier).

``run_calibration`` runs each scenario the checks need once (replications in parallel worker
processes, as ``twin.run`` does) and judges every check; ``write_calibration`` writes
``calibration.csv`` and ``calibration.json``. The same seed gives the same files, byte for byte.
"""

from __future__ import annotations

import json
import math
import multiprocessing
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scenarios import load_scenario, with_overrides, with_settings
from scenarios.loader import scenario_hash
from scenarios.schema import Scenario
from twin.report import markdown_table
from twin.results import ReplicationResult, make_manifest
from twin.run import run_replication
from twin.stats import UNBOUNDED, clip_interval, mean_ci

HOUR = 3600.0
DAY = 86_400.0
#: The two-sided 95 % quantile of the standard normal distribution.
Z95 = 1.959963984540054
#: The range of a figure that cannot be negative.
NOT_NEGATIVE = (0.0, math.inf)
CALIBRATION_CSV = "calibration.csv"
CALIBRATION_JSON = "calibration.json"
CALIBRATION_REPORT = "calibration.md"


class Rule(str, Enum):
    """How a measured interval is judged against the public figure."""

    OVERLAP = "overlap"  # the interval overlaps the public range
    CONTAINS = "contains"  # the public figure lies within the interval
    WITHIN = "within"  # the whole interval lies within the public range


class Kind(str, Enum):
    """Whether the scenario sets the figure (and the run reproduces it) or the run produces it."""

    INPUT = "input reproduced"
    OUTCOME = "outcome"


@dataclass(frozen=True)
class Estimate:
    """A measured figure: its value, its 95 % interval, how the interval was made, and the value
    in each replication. ``low``/``high`` are NaN when no interval could be made."""

    value: float
    low: float
    high: float
    method: str
    per_replication: tuple[float, ...] = ()

    def bounds(self) -> tuple[float, float]:
        """The interval, or the value itself at both ends when there is none."""
        low = self.value if math.isnan(self.low) else self.low
        high = self.value if math.isnan(self.high) else self.high
        return low, high


#: Measures a figure from a run's replications and the scenario as it was run.
Measure = Callable[[Sequence[ReplicationResult], Scenario], Estimate]


@dataclass(frozen=True)
class RunSpec:
    """One run the checks measure: a library scenario, for how long, with which changes.

    ``settings`` are ``KEY=VALUE`` changes as ``gatetwin run --set`` takes them (the tests use
    them to break a scenario on purpose, or to make a long run smaller).
    """

    scenario: str
    horizon_h: float
    warmup_h: float = 0.0
    settings: tuple[str, ...] = ()

    def load(self) -> Scenario:
        """The scenario with its changes, horizon and warm-up; ``ScenarioError`` if broken."""
        scenario = with_settings(load_scenario(self.scenario), list(self.settings))
        return with_overrides(scenario, horizon_h=self.horizon_h, warmup_h=self.warmup_h)


@dataclass(frozen=True)
class Check:
    """A public figure, where it comes from, and how a run of a library scenario is held to it."""

    name: str
    figure: str
    source: str
    run: str  # a key of the runs (``RUNS``)
    measures: str
    unit: str
    low: float
    high: float
    public: str  # the public range as shown
    rule: Rule
    kind: Kind
    justification: str
    measure: Measure = field(repr=False, compare=False)


def judge(rule: Rule, estimate: Estimate, low: float, high: float) -> bool:
    """Whether the estimate agrees with the public range [low, high] under ``rule``."""
    if math.isnan(estimate.value):
        return False  # not measured: nothing agrees
    measured_low, measured_high = estimate.bounds()
    if rule is Rule.OVERLAP:
        return measured_low <= high and measured_high >= low
    if rule is Rule.CONTAINS:
        return measured_low <= low and high <= measured_high
    return low <= measured_low and measured_high <= high


# --- intervals ------------------------------------------------------------------------------------


def wilson_interval(successes: int, trials: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a binomial share; (NaN, NaN) without trials."""
    if trials <= 0:
        return math.nan, math.nan
    p = successes / trials
    denominator = 1.0 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    # None or all: the bound on that side is exact (rounding would leave it a hair off 0 or 1).
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == trials else min(1.0, centre + half)
    return low, high


def over_replications(values: Sequence[float], single: tuple[float, str] | None = None,
                      limits: tuple[float, float] = NOT_NEGATIVE) -> Estimate:
    """Mean and t interval over replications, cut to ``limits`` (the figure's range: a count or a
    time is never negative); with one replication, ``single`` gives the half width of the
    interval within it and how it was made (without it there is no interval)."""
    mean, half = mean_ci(values)
    if len(values) >= 2:
        method = f"t interval over {len(values)} replications"
    elif single is not None and math.isfinite(single[0]):
        half, method = single
    else:
        method = "one replication: no interval"
    return Estimate(mean, *clip_interval(mean, half, limits), method, tuple(float(v) for v in values))


def pooled_share(counts: Sequence[tuple[int, int]]) -> Estimate:
    """A share in percent from (successes, trials) per replication, pooled, Wilson interval."""
    successes = sum(s for s, _ in counts)
    trials = sum(n for _, n in counts)
    low, high = wilson_interval(successes, trials)
    value = 100.0 * successes / trials if trials else math.nan
    per_rep = tuple(100.0 * s / n if n else math.nan for s, n in counts)
    return Estimate(value, 100.0 * low, 100.0 * high, f"Wilson interval, {successes} of {trials} pooled", per_rep)


# --- measures ---------------------------------------------------------------------------------------


def _window(rep: ReplicationResult, scenario: Scenario) -> tuple[float, float]:
    return rep.measured_from, scenario.run.horizon_h * HOUR


def _in_window(times: pd.Series, start: float, end: float) -> np.ndarray:
    values: np.ndarray = times.to_numpy(dtype=float)
    inside: np.ndarray = (values >= start) & (values < end)
    return inside


def per_day(column: str) -> Measure:
    """Trucks per day with a ``column`` time (``arrival``, ``departed``) in the measured window."""

    def measure(reps: Sequence[ReplicationResult], scenario: Scenario) -> Estimate:
        rates, counts, days = [], [], 1.0
        for rep in reps:
            start, end = _window(rep, scenario)
            days = (end - start) / DAY
            count = int(_in_window(rep.trucks[column], start, end).sum())
            counts.append(count)
            rates.append(count / days)
        single = (Z95 * math.sqrt(counts[0]) / days, "one replication: Poisson interval of the count") if counts else None
        return over_replications(rates, single)

    return measure


def _accepted_after_warmup(rep: ReplicationResult) -> pd.DataFrame:
    """The trucks of the measured window whose declaration the core accepted (they have a channel)."""
    trucks = rep.trucks
    trucks = trucks[trucks["arrival"].to_numpy(dtype=float) >= rep.measured_from]
    return trucks[trucks["channel"].astype(str) != ""]


def channel_share(channel: str) -> Measure:
    """Share (%) of the accepted trucks of the window that the core's selectivity sent to ``channel``:
    the channel of the acceptance, the one selection figures count (a later raise, on a weight
    outside tolerance or customs' own information, is not a selection)."""

    def measure(reps: Sequence[ReplicationResult], scenario: Scenario) -> Estimate:
        counts = []
        for rep in reps:
            accepted = _accepted_after_warmup(rep)
            counts.append((int((accepted["channel"].astype(str) == channel).sum()), len(accepted)))
        return pooled_share(counts)

    return measure


def direction_share(direction: str) -> Measure:
    """Share (%) of the trucks that arrived in the window going in ``direction``."""

    def measure(reps: Sequence[ReplicationResult], scenario: Scenario) -> Estimate:
        counts = []
        for rep in reps:
            start, end = _window(rep, scenario)
            trucks = rep.trucks[_in_window(rep.trucks["arrival"], start, end)]
            counts.append((int((trucks["direction"].astype(str) == direction).sum()), len(trucks)))
        return pooled_share(counts)

    return measure


def plates_identified_without_typing(reps: Sequence[ReplicationResult], scenario: Scenario) -> Estimate:
    """Share (%) of the plate cameras' reads that identified the truck with no plate typed by hand:
    1 - plates typed / reads, over the whole run (a wrong or missing read, or one below the core's
    confidence threshold, goes to a review where an officer types the plate)."""
    counts = []
    for rep in reps:
        cameras = rep.extra.get("plate_reads", {})
        reads = int(sum(int(camera["reads"]) for camera in cameras.values()))
        typed = int(rep.trucks["plates_typed"].sum())
        counts.append((reads - typed, reads))
    return pooled_share(counts)


def scanner_vehicles_per_hour(reps: Sequence[ReplicationResult], scenario: Scenario) -> Estimate:
    """Vehicles an hour one scanner clears while busy: 3600 / mean time a truck holds it (the
    station's mean time there less its mean wait, over the trucks scanned and gone)."""
    rates = []
    for rep in reps:
        scanners = [s for name, s in rep.stations.items() if name.startswith("scanner") and s.completions > 0]
        done = sum(s.completions for s in scanners)
        if not done:
            rates.append(math.nan)
            continue
        service_s = sum((s.mean_sojourn_s - s.mean_wait_s) * s.completions for s in scanners) / done
        rates.append(HOUR / service_s if service_s > 0 else math.nan)
    return over_replications(rates)


def time_at_barrier_1(reps: Sequence[ReplicationResult], scenario: Scenario) -> Estimate:
    """Mean seconds from reaching barrier 1 to passing it (``entry_out - entry_at_barrier``):
    the plate read, the border check and the arm."""
    means, times = [], np.empty(0)
    for rep in reps:
        times = (rep.trucks["entry_out"] - rep.trucks["entry_at_barrier"]).dropna().to_numpy(dtype=float)
        means.append(float(times.mean()) if times.size else math.nan)
    single = ((Z95 * float(times.std(ddof=1)) / math.sqrt(times.size), "one replication: normal interval over trucks")
              if times.size > 1 else None)
    return over_replications(means, single)


def fees_per_trip(ore: bool) -> Measure:
    """The smallest and largest fee the core assessed on a trip (accepted trucks), ore or not."""

    def measure(reps: Sequence[ReplicationResult], scenario: Scenario) -> Estimate:
        fees = []
        for rep in reps:
            accepted = rep.trucks[rep.trucks["channel"].astype(str) != ""]
            is_ore = accepted["cargo"].astype(str) == "ore"
            fees.append(accepted.loc[is_ore if ore else ~is_ore, "fee_vnd"].to_numpy(dtype=float))
        every = np.concatenate(fees) if fees else np.empty(0)
        if not every.size:
            return Estimate(math.nan, math.nan, math.nan, "no trips")
        return Estimate(float(every.max()), float(every.min()), float(every.max()),
                        f"range over {every.size} trips", tuple(float(f.max()) if f.size else math.nan for f in fees))

    return measure


def days_without_entries(reps: Sequence[ReplicationResult], scenario: Scenario) -> Estimate:
    """Whole days of the run on which no truck passed barrier 1 (the gate was shut)."""
    days = int(scenario.run.horizon_h // 24)
    values = []
    for rep in reps:
        entered = rep.trucks["entry_out"].dropna().to_numpy(dtype=float)
        per_day_entries = np.bincount((entered // DAY).astype(int), minlength=days)[:days]
        values.append(float(np.count_nonzero(per_day_entries == 0)))
    return over_replications(values)


def _expected_arrivals(scenario: Scenario, start_h: float, end_h: float) -> float:
    """Trucks the demand brings in [start_h, end_h) without closures: the daily demand by the
    hourly profile and the demand windows' multipliers."""
    demand = scenario.demand
    total = 0.0
    for hour in range(int(math.floor(start_h)), int(math.ceil(end_h))):
        multiplier = 1.0
        for window in scenario.demand_windows:
            if window.start_h <= hour + 0.5 < window.end_h:
                multiplier *= window.multiplier
        overlap = min(end_h, hour + 1) - max(start_h, hour)
        total += demand.trucks_per_day * demand.hourly_profile[hour % 24] * multiplier * overlap
    return total


def days_of_demand_in_surge(reps: Sequence[ReplicationResult], scenario: Scenario) -> Estimate:
    """Days of demand the first closure held back that arrived after it reopened: the arrivals
    over its surge days less the demand those days bring anyway, over the daily demand."""
    if not scenario.closures:
        return Estimate(math.nan, math.nan, math.nan, "the scenario has no closure")
    closure = scenario.closures[0]
    start_h = closure.end_h
    end_h = min(closure.end_h + 24.0 * closure.surge_days, scenario.run.horizon_h)
    normal = _expected_arrivals(scenario, start_h, end_h)
    per_day_demand = scenario.demand.trucks_per_day
    values, counts = [], []
    for rep in reps:
        count = int(_in_window(rep.trucks["arrival"], start_h * HOUR, end_h * HOUR).sum())
        counts.append(count)
        values.append((count - normal) / per_day_demand)
    single = (Z95 * math.sqrt(counts[0]) / per_day_demand, "one replication: Poisson interval of the count") if counts else None
    return over_replications(values, single, UNBOUNDED)  # fewer trucks than the days bring anyway: below 0


# --- the runs and the checks ------------------------------------------------------------------------

#: The runs the checks measure. Figures per day are measured on a day after a day's warm-up,
#: so the gate holds the trucks a normal day leaves inside; the Tet run covers the day before
#: the closure, the 7 days closed and the 3 days of the surge.
RUNS: dict[str, RunSpec] = {
    "huu_nghi_2025": RunSpec("huu_nghi_2025", horizon_h=48, warmup_h=24),
    "mong_cai_phase1": RunSpec("mong_cai_phase1", horizon_h=48, warmup_h=24),
    "mong_cai_phase2": RunSpec("mong_cai_phase2", horizon_h=48, warmup_h=24),
    "harvest_peak": RunSpec("harvest_peak", horizon_h=24),
    "huu_nghi_smart_gate": RunSpec("huu_nghi_smart_gate", horizon_h=24),
    "tet_reopening": RunSpec("tet_reopening", horizon_h=264),
}

_HUU_NGHI = "DOMAIN.md Traffic (vietnam.vn, Lang Son infrastructure-fee report, mid-2025)"
_MONG_CAI = "DOMAIN.md Traffic (vietnam.vn, Mong Cai - Dong Hung smart gate)"
_CHANNELS = "DOMAIN.md Risk channels (customs selectivity, VNACCS)"
_PERCENT_READING = "a share given as '≈ N %' is read as given to the whole percent: N ± 0.5 points"

CHECKS: tuple[Check, ...] = (
    Check("huu_nghi_arrivals", "Huu Nghi ≈ 870 trucks/day", _HUU_NGHI, "huu_nghi_2025",
          "trucks arriving a day (the day after a day's warm-up)", "trucks/day", 870, 870, "870",
          Rule.CONTAINS, Kind.INPUT,
          "the scenario's demand is this figure: the arrivals generator must reproduce it within sampling error",
          per_day("arrival")),
    Check("huu_nghi_export_share", "Huu Nghi 262 export of 870 (30.1 %)", _HUU_NGHI, "huu_nghi_2025",
          "share of the day's arrivals that are exports", "%", 100 * 262 / 870, 100 * 262 / 870, "30.1",
          Rule.CONTAINS, Kind.INPUT, "the scenario's direction mix is 262/870: drawn per truck, within sampling error",
          direction_share("export")),
    Check("huu_nghi_cleared", "Huu Nghi ≈ 870 trucks/day crossed", _HUU_NGHI, "huu_nghi_2025",
          "trucks through barrier 2 a day (the day after a day's warm-up)", "trucks/day", 870, 870, "870",
          Rule.CONTAINS, Kind.OUTCOME,
          "the fee report counts trucks that crossed: the 2025 layout, staff and core must clear a day's demand",
          per_day("departed")),
    Check("mong_cai_arrivals", "Mong Cai ≈ 800 vehicles/day", _MONG_CAI, "mong_cai_phase2",
          "trucks arriving a day (the day after a day's warm-up)", "trucks/day", 800, 800, "800",
          Rule.CONTAINS, Kind.INPUT,
          "the scenario's demand is this figure: the arrivals generator must reproduce it within sampling error",
          per_day("arrival")),
    Check("mong_cai_cleared", "Mong Cai ≈ 800 vehicles/day crossed", _MONG_CAI, "mong_cai_phase2",
          "trucks through barrier 2 a day (the day after a day's warm-up)", "trucks/day", 800, 800, "800",
          Rule.CONTAINS, Kind.OUTCOME,
          "the vehicles a day cross the gate: the phase-2 layout, staff and core must clear a day's demand",
          per_day("departed")),
    Check("mong_cai_phase1_cleared", "Mong Cai ≈ 800 vehicles/day crossed", _MONG_CAI, "mong_cai_phase1",
          "trucks through barrier 2 a day (the day after a day's warm-up)", "trucks/day", 800, 800, "800",
          Rule.CONTAINS, Kind.OUTCOME,
          "phase 1 (2023-2025) cleared the same traffic by hand: three manned lanes each way, plates typed",
          per_day("departed")),
    Check("harvest_peak_demand", "harvest-peak demand 2,000-2,500 vehicles/day",
          "DOMAIN.md Traffic (Decision 865/QĐ-TTg, Hanoi Times)", "harvest_peak",
          "trucks arriving in the day", "trucks/day", 2000, 2500, "2,000-2,500", Rule.OVERLAP, Kind.INPUT,
          "the scenario's peak day is the top of the target range: the arrivals must fall in it",
          per_day("arrival")),
    Check("national_green", "national green channel 52-58 %", _CHANNELS, "mong_cai_phase2",
          "share of accepted declarations the core's selectivity sent green", "%", 52, 58, "52-58", Rule.OVERLAP, Kind.OUTCOME,
          "the scenario sets national rates; the core's selection (trusted declarants at the minimum random "
          "rates, rules, weight upgrades) decides the channels", channel_share("green")),
    Check("national_yellow", "national yellow channel 37-43 %", _CHANNELS, "mong_cai_phase2",
          "share of accepted declarations the core's selectivity sent yellow", "%", 37, 43, "37-43", Rule.OVERLAP, Kind.OUTCOME,
          "as for green", channel_share("yellow")),
    Check("national_red", "national red channel ≈ 5 %", _CHANNELS, "mong_cai_phase2",
          "share of accepted declarations the core's selectivity sent red", "%", 4.5, 5.5, "4.5-5.5", Rule.OVERLAP, Kind.OUTCOME,
          _PERCENT_READING, channel_share("red")),
    Check("lang_son_red", "Lang Son red channel ≈ 20 % (H1 2021)", _CHANNELS, "huu_nghi_2025",
          "share of accepted declarations the core's selectivity sent red", "%", 19.5, 20.5, "19.5-20.5", Rule.OVERLAP,
          Kind.OUTCOME, _PERCENT_READING, channel_share("red")),
    Check("lang_son_yellow", "national yellow channel 37-43 %", _CHANNELS, "huu_nghi_2025",
          "share of accepted declarations the core's selectivity sent yellow", "%", 37, 43, "37-43", Rule.OVERLAP, Kind.OUTCOME,
          "huu_nghi_2025 sets the national yellow rate beside Lang Son's red", channel_share("yellow")),
    Check("plate_reads", "plate cameras 90-98 % correct reads", "DOMAIN.md Devices (vendors ≈ 98 %, users 90-94 %)",
          "huu_nghi_2025", "share of camera reads that identified the truck with no plate typed by hand", "%",
          90, 98, "90-98", Rule.OVERLAP, Kind.OUTCOME,
          "the emulated cameras (worse at night) read; the core sends wrong, missing and unsure reads to an "
          "officer who types the plate", plates_identified_without_typing),
    Check("scanner_rate", "drive-through scanner 50-150 vehicles/h", "DOMAIN.md Devices", "huu_nghi_2025",
          "3600 / mean time a truck holds the scanner", "vehicles/h", 50, 150, "50-150", Rule.OVERLAP, Kind.INPUT,
          "the scan time is set from this figure (24-72 s); measured at the scanner station",
          scanner_vehicles_per_hour),
    Check("automated_border_check", "border check < 15 s per truck after automation",
          "DOMAIN.md Devices (Youyiguan, Chinese side of Huu Nghi)", "huu_nghi_smart_gate",
          "mean time from reaching barrier 1 to passing it", "s", 0, 15, "< 15", Rule.WITHIN, Kind.OUTCOME,
          "plate read, the core's automatic match (an officer when it fails) and the arm: all of it must stay "
          "under the figure", time_at_barrier_1),
    Check("fees_per_trip", "fees VND 100,000-4,000,000 per trip (ore ×5 aside)",
          "DOMAIN.md Fees (Lang Son, from 8 May 2025)", "huu_nghi_2025",
          "smallest and largest fee the core assessed on a trip without ore", "VND", 100_000, 4_000_000,
          "100,000-4,000,000", Rule.WITHIN, Kind.INPUT, "every trip's fee must fall in the schedule's range",
          fees_per_trip(ore=False)),
    Check("fees_ore", "ore pays ×5: VND 500,000-20,000,000 per trip", "DOMAIN.md Fees (Lang Son, from 8 May 2025)",
          "huu_nghi_2025", "smallest and largest fee the core assessed on a trip with ore", "VND", 500_000,
          20_000_000, "500,000-20,000,000", Rule.WITHIN, Kind.INPUT, "the schedule's range times five",
          fees_per_trip(ore=True)),
    Check("tet_closure", "Tet closure of 7 days (2023)", "DOMAIN.md Traffic", "tet_reopening",
          "whole days on which no truck passed barrier 1", "days", 7, 7, "7", Rule.CONTAINS, Kind.INPUT,
          "the crossing is closed: no truck passes a barrier and the agencies are off until it reopens", days_without_entries),
    Check("tet_surge", "trucks held over the 7-day closure surge after it", "DOMAIN.md Traffic", "tet_reopening",
          "days of demand arriving over the surge days on top of their own demand", "days", 7, 7, "7",
          Rule.CONTAINS, Kind.INPUT, "held back, none lost: the surge carries the closure's 7 days of demand",
          days_of_demand_in_surge),
)


# --- running ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckResult:
    """A check, what was measured, and whether it agrees."""

    check: Check
    estimate: Estimate
    agrees: bool
    error: str | None = None


@dataclass
class RunRecord:
    """What is kept of a run for the report: the scenario as run and its seed, or its failure."""

    key: str
    spec: RunSpec
    scenario_name: str
    scenario_hash: str
    seed: int
    replications: list[ReplicationResult]
    failed: str | None = None


@dataclass
class CalibrationReport:
    results: list[CheckResult]
    runs: dict[str, RunRecord]
    replications: int
    seed: int | None

    @property
    def all_agree(self) -> bool:
        return all(result.agrees for result in self.results)


def _replication(scenario: Scenario, replication: int, seed: int) -> ReplicationResult:
    """One replication (in a worker process, too); its world stays where it ran."""
    result, _ = run_replication(scenario, replication, seed)
    return result


def _cost(scenario: Scenario) -> float:
    """A rough cost of a replication, to start the longest first."""
    return scenario.demand.trucks_per_day * scenario.run.horizon_h


def run_calibration(checks: Sequence[Check] = CHECKS, runs: Mapping[str, RunSpec] = RUNS, replications: int = 5,
                    seed: int | None = None, jobs: int = 1,
                    progress: Callable[[int, int], None] | None = None) -> CalibrationReport:
    """Run every scenario the checks need (``replications`` each, the scenario's own seed unless
    ``seed`` is given) and judge each check. ``jobs`` above 1 runs replications of all the runs side by
    side in worker processes; the results are the same bit for bit. A run that fails or breaks an
    invariant fails its checks (they disagree, with the error). ``ScenarioError`` for a broken run."""
    if replications < 1:
        raise ValueError(f"replications must be at least 1 (got {replications})")
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1 (got {jobs})")
    unknown = sorted({c.run for c in checks} - set(runs))
    if unknown:
        raise ValueError(f"checks name runs that are not given: {', '.join(unknown)}")
    keys = list(dict.fromkeys(c.run for c in checks))
    scenarios = {key: runs[key].load() for key in keys}
    seeds = {key: scenarios[key].run.seed if seed is None else seed for key in keys}
    tasks = sorted(((key, r) for key in keys for r in range(replications)),
                   key=lambda task: (-_cost(scenarios[task[0]]), keys.index(task[0]), task[1]))
    done: dict[tuple[str, int], ReplicationResult] = {}
    errors: dict[tuple[str, int], str] = {}

    def finished(task: tuple[str, int], result: ReplicationResult | None, error: BaseException | None) -> None:
        if error is not None:
            errors[task] = f"replication {task[1]} failed: {type(error).__name__}: {error}"
        elif result is not None:
            done[task] = result
        if progress is not None:
            progress(len(done) + len(errors), len(tasks))

    if jobs == 1 or len(tasks) == 1:
        for key, r in tasks:
            try:
                finished((key, r), _replication(scenarios[key], r, seeds[key]), None)
            except Exception as exc:  # the run failed: its checks report it
                finished((key, r), None, exc)
    else:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=min(jobs, len(tasks)), mp_context=context) as pool:
            futures: dict[Future[ReplicationResult], tuple[str, int]] = {
                pool.submit(_replication, scenarios[key], r, seeds[key]): (key, r) for key, r in tasks}
            pending = set(futures)
            while pending:
                complete, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in complete:
                    error = future.exception()
                    finished(futures[future], None if error is not None else future.result(), error)
    records = {}
    for key in keys:
        reps = [done[(key, r)] for r in range(replications) if (key, r) in done]
        failures = [errors[(key, r)] for r in range(replications) if (key, r) in errors]
        failures += [f"replication {r}: invariant {c.name}: {c.detail}" for r, rep in enumerate(reps)
                     for c in rep.invariants if not c.holds]
        records[key] = RunRecord(key, runs[key], scenarios[key].name, scenario_hash(scenarios[key]), seeds[key], reps,
                                 "; ".join(failures) or None)
    results = []
    for check in checks:
        record = records[check.run]
        if record.failed is not None:
            nothing = Estimate(math.nan, math.nan, math.nan, "run failed")
            results.append(CheckResult(check, nothing, False, record.failed))
            continue
        estimate = check.measure(record.replications, scenarios[check.run])
        results.append(CheckResult(check, estimate, judge(check.rule, estimate, check.low, check.high)))
    return CalibrationReport(results, records, replications, seed)


# --- files ------------------------------------------------------------------------------------------


def _number(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def check_row(result: CheckResult) -> dict[str, Any]:
    """One check's line of ``calibration.csv``."""
    check, estimate = result.check, result.estimate
    low, high = estimate.bounds()
    return {
        "check": check.name, "figure": check.figure, "source": check.source, "scenario": check.run,
        "kind": check.kind.value, "measures": check.measures, "unit": check.unit,
        "measured": _number(estimate.value), "ci_low": _number(low), "ci_high": _number(high),
        "interval": estimate.method, "public_low": check.low, "public_high": check.high, "rule": check.rule.value,
        "agrees": result.agrees, "justification": check.justification, "error": result.error or "",
    }


def calibration_document(report: CalibrationReport) -> dict[str, Any]:
    """Everything ``calibration.json`` holds: the settings, the runs, each check and its measure."""
    runs = {
        key: {"scenario": record.spec.scenario, "scenario_name": record.scenario_name,
              "scenario_hash": record.scenario_hash, "seed": record.seed, "horizon_h": record.spec.horizon_h,
              "warmup_h": record.spec.warmup_h, "settings": list(record.spec.settings),
              "replications": len(record.replications), "failed": record.failed}
        for key, record in report.runs.items()
    }
    checks = []
    for result in report.results:
        row = check_row(result)
        row["public"] = result.check.public
        row["per_replication"] = [_number(v) for v in result.estimate.per_replication]
        checks.append(row)
    manifest = make_manifest("calibration", "", report.seed if report.seed is not None else -1, report.replications)
    return {
        "replications": report.replications,
        "seed": report.seed,
        "agree": sum(r.agrees for r in report.results),
        "disagree": sum(not r.agrees for r in report.results),
        "runs": runs,
        "checks": checks,
        "versions": manifest["versions"],
    }


def write_calibration(report: CalibrationReport, out_dir: Path) -> list[Path]:
    """Write ``calibration.csv`` (one row per check), ``calibration.json`` and ``calibration.md``
    (the report for people: ``calibration_markdown``) into ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    table = pd.DataFrame([check_row(r) for r in report.results])
    table.to_csv(out_dir / CALIBRATION_CSV, index=False, lineterminator="\n")
    text = json.dumps(calibration_document(report), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    (out_dir / CALIBRATION_JSON).write_text(text, encoding="utf-8")
    (out_dir / CALIBRATION_REPORT).write_text(calibration_markdown(report), encoding="utf-8")
    return [out_dir / CALIBRATION_CSV, out_dir / CALIBRATION_JSON, out_dir / CALIBRATION_REPORT]


# --- text -------------------------------------------------------------------------------------------


def _figure(value: float) -> str:
    """Three significant digits below 100, whole numbers grouped by thousands from 100 up."""
    if math.isnan(value):
        return "–"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def format_measured(result: CheckResult) -> str:
    """The measured figure and its interval for a table: ``827 [771, 883]``, or a fee range."""
    estimate = result.estimate
    if math.isnan(estimate.value):
        return "not measured"
    if result.check.rule is Rule.WITHIN and result.check.unit == "VND":
        return f"{_figure(estimate.low)}–{_figure(estimate.high)}"
    if math.isnan(estimate.low):
        return _figure(estimate.value)
    return f"{_figure(estimate.value)} [{_figure(estimate.low)}, {_figure(estimate.high)}]"


#: What the rules mean, under the table of checks.
RULES_CAPTION = ("overlap: the interval overlaps the public range; contains: the public figure lies in the interval; "
                 "within: the whole interval lies in the public range.")
CHECKS_HEADER = ("check", "figure", "source", "scenario", "measured [95 % interval]", "public", "rule", "verdict",
                 "figure is")


def check_rows(report: CalibrationReport) -> list[tuple[str, ...]]:
    """Each check as the console and ``calibration.md`` show it (``CHECKS_HEADER``)."""
    return [(r.check.name, r.check.figure, r.check.source, r.check.run, format_measured(r),
             f"{r.check.public} {r.check.unit}", r.check.rule.value, "agrees" if r.agrees else "disagrees",
             r.check.kind.value) for r in report.results]


def seeds_text(report: CalibrationReport) -> str:
    """Which seeds the runs had, in words."""
    return "each scenario's own seed" if report.seed is None else f"seed {report.seed}"


def calibration_markdown(report: CalibrationReport) -> str:
    """``calibration.md``: the verdict, each check against its public figure (the console's table),
    why each check holds its figure so, the runs measured and the files beside it. It holds no
    wall-clock time: the same runs give the same report, byte for byte."""
    lines = ["# Calibration: the library against the public figures it cites", ""]
    disagree = [r.check.name for r in report.results if not r.agrees]
    verdict = (f"All {len(report.results)} checks agree." if not disagree else
               f"{len(disagree)} of {len(report.results)} checks disagree: {', '.join(disagree)}.")
    lines += [f"{verdict} {report.replications} replication(s) per scenario, {seeds_text(report)}, 95 % intervals.", ""]
    errors = [(r.check.name, r.error.splitlines()[0]) for r in report.results if r.error]
    if errors:
        lines += ["Checks whose run failed:", "", *(f"- `{name}`: {first}" for name, first in errors), ""]
    lines += ["## The checks", ""]
    lines += markdown_table(CHECKS_HEADER, check_rows(report), (False, False, False, False, True, True, False, False, False))
    lines += ["", RULES_CAPTION, "", "## Why each check holds its figure so", ""]
    lines += [f"- `{r.check.name}` ({r.check.measures}): {r.check.justification}" for r in report.results]
    lines += ["", "## The runs measured", ""]
    rows = [(key, record.scenario_name, f"`{record.scenario_hash}`", str(record.seed), f"{record.spec.horizon_h:g}",
             f"{record.spec.warmup_h:g}", ", ".join(f"`{s}`" for s in record.spec.settings) or "—",
             str(len(record.replications)), (record.failed or "").splitlines()[0] if record.failed else "")
            for key, record in report.runs.items()]
    lines += markdown_table(("run", "scenario", "scenario hash", "seed", "hours", "warm-up (h)", "changes",
                             "replications", "failed"), rows, (False, False, False, True, True, True, False, True, False))
    versions = make_manifest("calibration", "", 0, 0)["versions"]
    lines += ["", "Versions: " + ", ".join(f"{name} {version}" for name, version in sorted(versions.items())) + ".", "",
              "## Files in this folder", "",
              f"- `{CALIBRATION_CSV}`: a row per check: the figure, its source, what was measured with its interval, "
              "the public range, the rule and the verdict",
              f"- `{CALIBRATION_JSON}`: the same with each replication's value, and the runs", ""]
    return "\n".join(lines)

