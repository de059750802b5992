"""Plots of a run's results, for the report folder and the dashboard.

Each function builds and returns a matplotlib ``Figure`` (made directly, never through
pyplot, so nothing opens a window or keeps global state); ``write_plots`` saves them as PNG.
Axis titles carry units: hours on time axes, minutes for durations, trucks or km for levels.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from twin.people import CORRIDOR_SERIES, DECLARANT_SERIES
from twin.probes import ROAD_QUEUE_KM, ROAD_QUEUE_TRUCKS, YARD_OCCUPANCY, time_at_gate_minutes
from twin.stats import Interval

if TYPE_CHECKING:
    from twin.results import RunResult

DPI = 110
_HOUR = 3600.0
_MINUTE = 60.0

#: Title and unit of the levels the wiring records under these names.
LEVEL_LABELS: dict[str, tuple[str, str]] = {
    YARD_OCCUPANCY: ("Yard occupancy", "trucks"),
    ROAD_QUEUE_TRUCKS: ("Trucks queued on the approach road", "trucks"),
    ROAD_QUEUE_KM: ("Length of the queue on the approach road", "km"),
    "staging_occupancy": ("Trucks held in the staging areas", "trucks"),
}

#: File names written by ``write_plots``.
QUEUE_PLOT = "queue_length.png"
TIMES_PLOT = "truck_times.png"
UTILISATION_PLOT = "utilisation.png"
LEVELS_PLOT = "levels.png"
AGENTS_PLOT = "agents.png"
PLOT_FILES = (QUEUE_PLOT, TIMES_PLOT, UTILISATION_PLOT, LEVELS_PLOT, AGENTS_PLOT)
#: Columns of the corridor series that count trucks per road segment ("trucks_km_0_5", ...).
_SEGMENT_PREFIX = "trucks_km_"
_CHECKPOINT_COLUMNS = (("waiting_on_road", "on the road"), ("waiting_in_areas", "in staging areas"),
                       ("awaiting_forecourt", "called, waiting for the forecourt"))


#: Runs longer than this are plotted in days rather than hours.
_DAYS_BEYOND_H = 72.0


def _time_unit(series: Mapping[str, Mapping[str, np.ndarray]], names: Sequence[str], end: float | None) -> tuple[float, str]:
    """Seconds per unit on the time axis and its label: hours, or days for runs over three days."""
    last = end if end is not None else max(
        (float(series[n]["time"][-1]) for n in names if n in series and series[n]["time"].size), default=0.0)
    if last > _DAYS_BEYOND_H * _HOUR:
        return 24 * _HOUR, "time (days)"
    return _HOUR, "time (hours)"


def _extended(time: np.ndarray, values: np.ndarray, end: float | None) -> tuple[np.ndarray, np.ndarray]:
    """A step series carried on to ``end`` so the last level shows until the end of the run."""
    if end is not None and time.size and end > time[-1]:
        return np.append(time, end), np.append(values, values[-1])
    return time, values


def down_spans(time: np.ndarray, servers: np.ndarray) -> list[tuple[float, float]]:
    """The spells, as (start, end) seconds, when a step series of servers stands at zero.

    A step holds from its time to the next one's; a spell still running at the last step ends there.
    """
    spans: list[tuple[float, float]] = []
    start: float | None = None
    for t, n in zip(time.tolist(), servers.tolist(), strict=True):
        if n == 0 and start is None:
            start = t
        elif n != 0 and start is not None:
            spans.append((start, t))
            start = None
    if start is not None and time.size and time[-1] > start:
        spans.append((start, float(time[-1])))
    return spans


def queue_length_figure(
    series: Mapping[str, Mapping[str, np.ndarray]], stations: Sequence[str], end: float | None = None, title: str = "",
    skip_empty: bool = False,
) -> Figure:
    """Trucks waiting at each station over time, one panel per station (step plot).

    Periods with no server available (a device down) are shaded. With ``skip_empty``, stations
    where no truck ever waited get no panel; they are named in the figure's title instead.
    """
    stations = [name for name in stations if name in series]
    never = []
    if skip_empty:
        never = [name for name in stations if not np.any(series[name]["queue"] > 0)]
        stations = [name for name in stations if name not in never] or stations[:1]
        never = [name for name in never if name not in stations]
    unit, unit_label = _time_unit(series, stations, end)
    figure = Figure(figsize=(10, 1.2 + 1.7 * max(1, len(stations))), layout="constrained")
    axes = figure.subplots(max(1, len(stations)), 1, sharex=True, squeeze=False)[:, 0]
    for ax, name in zip(axes, stations, strict=False):
        time, queue = _extended(series[name]["time"], series[name]["queue"], end)
        ax.step(time / unit, queue, where="post", color="tab:blue", linewidth=1.2)
        if "servers" in series[name]:
            spans = down_spans(*_extended(series[name]["time"], series[name]["servers"], end))
            for k, (start, stop) in enumerate(spans):
                ax.axvspan(start / unit, stop / unit, color="tab:red", alpha=0.15,
                           label="no server available" if k == 0 else None)
            if spans:
                ax.legend(loc="upper right", fontsize=8)
        ax.set_ylabel("waiting (trucks)")
        ax.set_title(name, loc="left", fontsize=10)
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
    if not stations:
        axes[0].text(0.5, 0.5, "no station series", ha="center", va="center", transform=axes[0].transAxes)
    axes[-1].set_xlabel(unit_label)
    heading = title or "Queue length at each station"
    if never:
        heading += "\nno truck waited at: " + ", ".join(never)
    figure.suptitle(heading)
    return figure


def time_distribution_figure(trucks: pd.DataFrame, title: str = "", measured_from: float = 0.0) -> Figure:
    """Histograms, in minutes, of the time at the gate of every truck that arrived from
    ``measured_from`` on and reached it (those still there at the end: their time so far, as the
    ``time_at_gate_*`` KPIs count it) and of the time in the system."""
    figure = Figure(figsize=(10, 4), layout="constrained")
    left, right = figure.subplots(1, 2)
    in_system = trucks["time_in_system"].to_numpy(dtype=float) / _MINUTE
    panels = (
        (left, time_at_gate_minutes(trucks, measured_from),
         "Time at the gate (every truck that reached it;\nthose still there at the end: so far)", "no truck reached the gate"),
        (right, in_system[~np.isnan(in_system)], "Time in the system (departed or returned)", "no truck finished"),
    )
    for ax, minutes, label, empty in panels:
        if minutes.size:
            ax.hist(minutes, bins=min(40, max(5, int(math.sqrt(minutes.size)))), color="tab:blue", alpha=0.8)
            for p, style in ((50, "-"), (95, "--")):
                ax.axvline(float(np.percentile(minutes, p)), color="black", linestyle=style, linewidth=1,
                           label=f"p{p} = {np.percentile(minutes, p):.0f} min")
            ax.legend(fontsize=8)
        else:
            ax.text(0.5, 0.5, empty, ha="center", va="center", transform=ax.transAxes)
        ax.set_title(label, fontsize=10)
        ax.set_xlabel("minutes")
        ax.set_ylabel("trucks")
        ax.grid(alpha=0.3)
    figure.suptitle(title or "Truck times")
    return figure


def error_bars(means: np.ndarray, lows: np.ndarray, highs: np.ndarray) -> np.ndarray:
    """Matplotlib's ``yerr`` for intervals from ``lows`` to ``highs`` about ``means``: the length
    below and above each mean (an interval cut at a bound is shorter on that side), 0 for none."""
    return np.vstack([np.nan_to_num(means - lows, nan=0.0), np.nan_to_num(highs - means, nan=0.0)])


def utilisation_figure(utilisation: Mapping[str, Interval], title: str = "") -> Figure:
    """Utilisation of each station (mean, with its confidence interval, cut to [0, 1], as an
    error bar).

    Stations with unlimited servers have no utilisation and are listed under the chart.
    """
    shown = {name: value for name, value in utilisation.items() if not math.isnan(value.mean)}
    figure = Figure(figsize=(max(6, 0.9 * len(shown) + 3), 4), layout="constrained")
    ax = figure.subplots()
    names = list(shown)
    means = np.array([shown[n].mean for n in names], dtype=float)
    errors = error_bars(means, np.array([shown[n].low for n in names], dtype=float),
                        np.array([shown[n].high for n in names], dtype=float))
    colours = ["tab:red" if m >= 0.9 else "tab:orange" if m >= 0.75 else "tab:green" for m in means]
    ax.bar(names, means, yerr=errors, capsize=4, color=colours)
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_ylim(0, max(1.05, float(np.max(means + errors[1])) * 1.05 if names else 1.05))
    ax.set_ylabel("utilisation (share of server time)")
    ax.set_xlabel("station")
    ax.tick_params(axis="x", rotation=30)
    ax.grid(axis="y", alpha=0.3)
    unlimited = sorted(set(utilisation) - set(shown))
    if unlimited:
        ax.set_title("unlimited servers, not shown: " + ", ".join(unlimited), fontsize=8, loc="left")
    figure.suptitle(title or "Station utilisation")
    return figure


def levels_figure(
    series: Mapping[str, Mapping[str, np.ndarray]], names: Sequence[str], end: float | None = None, title: str = ""
) -> Figure:
    """Levels over time (yard occupancy, road queue in trucks and km, ...), one panel each."""
    names = [name for name in names if name in series]
    time_unit, time_label = _time_unit(series, names, end)
    figure = Figure(figsize=(10, 1.2 + 2.0 * max(1, len(names))), layout="constrained")
    axes = figure.subplots(max(1, len(names)), 1, sharex=True, squeeze=False)[:, 0]
    for ax, name in zip(axes, names, strict=False):
        label, unit = LEVEL_LABELS.get(name, (name.replace("_", " ").capitalize(), "level"))
        time, value = _extended(series[name]["time"], series[name]["value"], end)
        ax.step(time / time_unit, value, where="post", color="tab:purple", linewidth=1.2)
        ax.set_title(label, loc="left", fontsize=10)
        ax.set_ylabel(unit)
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
    if not names:
        axes[0].text(0.5, 0.5, "no level series", ha="center", va="center", transform=axes[0].transAxes)
    axes[-1].set_xlabel(time_label)
    figure.suptitle(title or "Levels over time")
    return figure


def agents_figure(corridor: pd.DataFrame | None, declarants: pd.DataFrame | None, title: str = "") -> Figure:
    """The Mesa agents' ``DataCollector`` series: trucks driving per road segment, trucks waiting
    at the checkpoint (on the road, in staging areas; HOLD advice shaded) and declarations
    waiting for an amendment. A panel whose frame is missing or empty is left out."""
    panels: list[str] = []
    if corridor is not None and len(corridor):
        panels += ["segments", "checkpoint"]
    if declarants is not None and len(declarants):
        panels.append("declarants")
    figure = Figure(figsize=(10, 1.2 + 2.2 * max(1, len(panels))), layout="constrained")
    axes = figure.subplots(max(1, len(panels)), 1, sharex=True, squeeze=False)[:, 0]
    for ax, panel in zip(axes, panels, strict=False):
        if panel == "segments":
            assert corridor is not None
            hours = corridor["time_h"].to_numpy(dtype=float)
            for column in (c for c in corridor.columns if c.startswith(_SEGMENT_PREFIX)):
                low, high = column.removeprefix(_SEGMENT_PREFIX).split("_")
                ax.plot(hours, corridor[column].to_numpy(dtype=float), linewidth=1.2, label=f"{low}-{high} km")
            ax.set_title("Trucks driving on the approach road, by distance to the checkpoint", loc="left", fontsize=10)
        elif panel == "checkpoint":
            assert corridor is not None
            hours = corridor["time_h"].to_numpy(dtype=float)
            for column, label in _CHECKPOINT_COLUMNS:
                if column in corridor:
                    ax.step(hours, corridor[column].to_numpy(dtype=float), where="post", linewidth=1.2, label=label)
            if "hold_advice" in corridor:
                hold = corridor["hold_advice"].to_numpy(dtype=float) > 0
                ax.fill_between(hours, 0, 1, where=hold, step="post", color="tab:red", alpha=0.12,
                                transform=ax.get_xaxis_transform(), label="HOLD advice")
            ax.set_title("Trucks waiting at the staging checkpoint", loc="left", fontsize=10)
        else:
            assert declarants is not None
            hours = declarants["time_h"].to_numpy(dtype=float)
            ax.step(hours, declarants["declarations_awaiting_amendment"].to_numpy(dtype=float), where="post",
                    color="tab:purple", linewidth=1.2, label="awaiting amendment")
            ax.set_title("Returned declarations waiting for the enterprise's amendment", loc="left", fontsize=10)
        ax.set_ylabel("declarations" if panel == "declarants" else "trucks")
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left", fontsize=8)
    if not panels:
        axes[0].text(0.5, 0.5, "no agent series", ha="center", va="center", transform=axes[0].transAxes)
    axes[-1].set_xlabel("time (hours)")
    figure.suptitle(title or "Agents")
    return figure


def save_figure(figure: Figure, path: Path) -> Path:
    """Save a figure as PNG at the report resolution."""
    figure.savefig(path, dpi=DPI)
    return path


def write_plots(run: RunResult, out_dir: Path) -> list[Path]:
    """Save the run's plots as PNG files in ``out_dir``; return their paths.

    Time series show the first replication; histograms pool every replication's trucks;
    utilisation is the mean over replications with its confidence half width; the Mesa agents'
    series (when the run used them) go into ``AGENTS_PLOT``. A plot with nothing to show (no
    replication, no station, no level, no agents) is not written.
    """
    out_dir = Path(out_dir)
    if not run.replications:
        return []
    first = run.replications[0]
    label = f"{run.scenario_name}, replication 0 (seed {first.seed})"
    end = max((s.end for s in first.stations.values()), default=None)
    paths: list[Path] = []
    if first.stations:
        figure = queue_length_figure(first.series, list(first.stations), end, f"Queue length at each station: {label}",
                                     skip_empty=True)
        paths.append(save_figure(figure, out_dir / QUEUE_PLOT))
        utilisation = {
            name: Interval.of([rep.stations[name].utilisation for rep in run.replications if name in rep.stations],
                              (0.0, 1.0))
            for name in first.stations
        }
        paths.append(save_figure(utilisation_figure(utilisation, f"Station utilisation: {run.scenario_name}"), out_dir / UTILISATION_PLOT))
    trucks = pd.concat([rep.trucks for rep in run.replications], ignore_index=True)
    times_title = f"Truck times: {run.scenario_name}, {len(run.replications)} replication(s) pooled"
    paths.append(save_figure(time_distribution_figure(trucks, times_title, first.measured_from), out_dir / TIMES_PLOT))
    known = [name for name in LEVEL_LABELS if name in first.series]
    others = [
        name for name, arrays in first.series.items()
        if name not in first.stations and name not in LEVEL_LABELS and "value" in arrays
    ]
    if known or others:
        figure = levels_figure(first.series, known + others, end, f"Levels over time: {label}")
        paths.append(save_figure(figure, out_dir / LEVELS_PLOT))
    corridor, declarants = first.extra.get(CORRIDOR_SERIES), first.extra.get(DECLARANT_SERIES)
    if isinstance(corridor, pd.DataFrame) or isinstance(declarants, pd.DataFrame):
        figure = agents_figure(corridor if isinstance(corridor, pd.DataFrame) else None,
                               declarants if isinstance(declarants, pd.DataFrame) else None, f"Agents: {label}")
        paths.append(save_figure(figure, out_dir / AGENTS_PLOT))
    return paths
