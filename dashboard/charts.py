"""Figures drawn for the dashboard: the gate schematic, heat maps by the hour, workloads.

Each function returns a matplotlib ``Figure`` built without pyplot (no global state, nothing
opens a window), like ``twin.plots``. Colours are chosen to read in print: darker is fuller.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.colors import PowerNorm
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from dashboard.analysis import faults_text
from dashboard.replay import MOVING, PLACE_LABELS, ROAD, trucks_text

HOUR = 3600.0
_CMAP = "YlOrRd"

#: Where each place is drawn on the schematic: x, y, width, height (axes run 0-100 by 0-50).
_BOXES: dict[str, tuple[float, float, float, float]] = {
    ROAD: (0.5, 20.0, 15.0, 9.0),
    "staging": (18.0, 19.0, 9.5, 11.0),
    "entry": (30.0, 19.0, 9.5, 11.0),
    "scale": (42.0, 19.0, 9.0, 11.0),
    "scanner": (53.5, 19.0, 9.0, 11.0),
    "yard": (65.0, 15.0, 15.0, 19.0),
    "inspection": (65.0, 2.5, 15.0, 9.0),
    "exit": (82.5, 19.0, 9.5, 11.0),
}
_FLOW: tuple[tuple[str, str], ...] = (
    (ROAD, "staging"), ("staging", "entry"), ("entry", "scale"), ("scale", "scanner"), ("scanner", "yard"),
    ("yard", "exit"), ("yard", "inspection"),
)
_BORDER_X = 95.0


def _fill(count: int, peak: int) -> tuple[float, float, float, float]:
    """Box colour: pale when empty, darker as the count nears the place's peak of the day."""
    share = 0.0 if peak <= 0 else min(1.0, count / peak)
    return colormaps[_CMAP](0.05 + 0.8 * share)


def gate_schematic_figure(
    counts: Mapping[str, int],
    when: str,
    peaks: Mapping[str, int] | None = None,
    absent: Sequence[str] = (),
    road_queue: tuple[float, float] | None = None,
    agv: tuple[int, int] | None = None,
    in_areas: float | None = None,
) -> Figure:
    """The gate seen from above at one moment, with the number of trucks at each place.

    ``counts``: trucks per place (``dashboard.replay.PLACES``); ``peaks``: each place's most
    over the day, which sets how dark its box is; ``absent``: places this layout does not have
    (drawn hatched); ``road_queue``: trucks and km queued on the road to be called forward, and
    ``in_areas``: trucks waiting in staging areas, both written under the staging box, whose
    count they are parts of (the approach-road box counts trucks still driving); ``agv``: AGV
    trucks in the yard and containers handed over to the AGV lane so far (None: no AGV lane).
    """
    peaks = peaks or {}
    figure = Figure(figsize=(11, 5.2), layout="constrained")
    ax = figure.subplots()
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 50)
    ax.set_axis_off()
    for place, (x, y, width, height) in _BOXES.items():
        count = int(counts.get(place, 0))
        missing = place in absent
        box = FancyBboxPatch((x, y), width, height, boxstyle="round,pad=0.3,rounding_size=1.2",
                             facecolor="white" if missing else _fill(count, int(peaks.get(place, 0))),
                             edgecolor="0.3", hatch="//" if missing else None, linewidth=1.2)
        ax.add_patch(box)
        label = (PLACE_LABELS[place].replace(" (", "\n(").replace("Container scanner", "Container\nscanner")
                 .replace(" on the approach road", " on the\napproach road"))
        ax.text(x + width / 2, y + height - 1.2, label, ha="center", va="top", fontsize=7.5)
        ax.text(x + width / 2, y + 1.2, "none" if missing else str(count), ha="center", va="bottom",
                fontsize=10 if missing else 16, fontweight="bold", color="0.4" if missing else "black")
    for source, target in _FLOW:
        ax.add_patch(_arrow(source, target))
    ax.add_patch(FancyArrowPatch((92.3, 24.5), (99.5, 24.5), arrowstyle="-|>", mutation_scale=12, color="0.3"))
    ax.axvline(_BORDER_X, color="tab:red", linestyle="--", linewidth=1)
    ax.text(_BORDER_X - 0.5, 48.5, "Vietnam", color="tab:red", fontsize=8, va="top", ha="right")
    ax.text(_BORDER_X + 0.5, 48.5, "China", color="tab:red", fontsize=8, va="top")
    parts = []
    if road_queue is not None and not any(math.isnan(v) for v in road_queue):
        trucks, km = road_queue
        parts.append(f"on the road: {trucks_text(trucks)}\n({km:.2f} km)")
    if in_areas is not None and not math.isnan(in_areas):
        parts.append(f"in staging areas: {in_areas:.0f}")
    if parts:
        x, y, width, _ = _BOXES["staging"]
        ax.text(x + width / 2, y - 0.8, "of them waiting\n" + "\n".join(parts), ha="center", va="top", fontsize=7.5)
    ax.text(18.0, 6.0, f"{PLACE_LABELS[MOVING]}: {int(counts.get(MOVING, 0))}", fontsize=9, va="center")
    inside = sum(int(counts.get(place, 0)) for place in counts)
    ax.text(18.0, 2.5, f"on the approach road or inside the gate: {trucks_text(inside)}", fontsize=9, va="center")
    _agv_lane(ax, agv)
    figure.suptitle(f"The gate at {when}", fontsize=12)
    return figure


def _arrow(source: str, target: str) -> FancyArrowPatch:
    sx, sy, sw, sh = _BOXES[source]
    tx, ty, tw, th = _BOXES[target]
    if target == "inspection":
        start, end = (sx + sw / 2, sy - 0.4), (tx + tw / 2, ty + th + 0.4)
    else:
        start, end = (sx + sw + 0.4, sy + sh / 2), (tx - 0.4, ty + th / 2)
        if source == "yard" or target == "yard":
            start, end = (start[0], 24.5), (end[0], 24.5)
    return FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=12, color="0.3")


def _agv_lane(ax: Axes, agv: tuple[int, int] | None) -> None:
    """The AGV lane: from the yard's top edge across the border, with its figures."""
    x, y, width, height = _BOXES["yard"]
    top = y + height + 0.3
    colour = "tab:blue" if agv is not None else "0.7"
    ax.plot([x + width / 2, x + width / 2, 99.5], [top, 43.0, 43.0], color=colour, linewidth=3,
            linestyle="-" if agv is not None else ":")
    if agv is None:
        ax.text(x + width / 2 - 1, 43.0, "AGV lane: none at this gate", fontsize=8, color="0.45", ha="right", va="center")
        return
    in_yard, handed_over = agv
    ax.text(x + width / 2 - 1, 43.0,
            f"AGV lane: {in_yard} AGV truck(s) in the yard,\n{handed_over} container(s) handed over so far",
            fontsize=8, color="tab:blue", ha="right", va="center")


def place_timeline_figure(timeline: pd.DataFrame, now: float, places: Sequence[str]) -> Figure:
    """Trucks at each place over the run (step lines), with the chosen moment marked.

    Drawn the width of the page, with the legend at the right in type as large as the axes'.
    """
    figure = Figure(figsize=(10, 3.6), layout="constrained")
    ax = figure.subplots()
    hours = timeline.index.to_numpy(dtype=float) / HOUR
    for place in places:
        ax.step(hours, timeline[place].to_numpy(), where="post", label=PLACE_LABELS[place], linewidth=1.2)
    ax.axvline(now / HOUR, color="black", linewidth=1)
    ax.set_xlabel("time (hours since the start of the run)")
    ax.set_ylabel("trucks")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=10, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return figure


#: A heat map whose largest value is this many times its typical one is coloured on a square-root
#: scale, so that one long row (hours at the inspection bays) does not wash every other row out.
_SKEWED = 10.0


def hour_heatmap_figure(table: pd.DataFrame, title: str, colour_label: str, share: bool = False) -> Figure:
    """Rows (stations) by columns (hours) as a heat map; NaN cells blank. Shares are coloured
    from 0 to 1; other values linearly, or on a square-root scale when a few cells dwarf the
    rest (the colour bar then says so)."""
    figure = Figure(figsize=(11, 1.4 + 0.45 * max(1, len(table))), layout="constrained")
    ax = figure.subplots()
    if table.empty:
        ax.text(0.5, 0.5, "nothing measured", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        figure.suptitle(title)
        return figure
    values = table.to_numpy(dtype=float)
    data = np.ma.masked_invalid(values)
    positive = values[np.isfinite(values) & (values > 0)]
    skewed = not share and positive.size > 0 and positive.max() > _SKEWED * np.median(positive)
    if skewed:
        norm = PowerNorm(gamma=0.5, vmin=0.0, vmax=float(positive.max()))
        image = ax.imshow(data, aspect="auto", cmap=_CMAP, interpolation="nearest", norm=norm)
    else:
        image = ax.imshow(data, aspect="auto", cmap=_CMAP, interpolation="nearest",
                          vmin=0.0, vmax=1.0 if share else None)
    ax.set_yticks(range(len(table)), [str(name) for name in table.index])
    step = max(1, len(table.columns) // 24)
    ax.set_xticks(range(0, len(table.columns), step), [str(h) for h in list(table.columns)[::step]])
    ax.set_xlabel("hour since the start of the run")
    colour_bar = figure.colorbar(image, ax=ax, pad=0.01)
    colour_bar.set_label(colour_label + (" (square-root scale)" if skewed else ""))
    figure.suptitle(title)
    return figure


def hourly_flow_figure(flow: pd.DataFrame, busiest: Sequence[int] = ()) -> Figure:
    """Arrivals and departures per hour (bars) and trucks waiting (line); busiest hours marked."""
    figure = Figure(figsize=(11, 3.6), layout="constrained")
    ax = figure.subplots()
    hours = flow["hour"].to_numpy()
    ax.bar(hours - 0.2, flow["arrivals"], width=0.4, label="arrivals", color="tab:blue")
    ax.bar(hours + 0.2, flow["departures"], width=0.4, label="departures", color="tab:green")
    for hour in busiest:
        ax.axvspan(hour - 0.5, hour + 0.5, color="tab:orange", alpha=0.15)
    ax.set_xlabel("hour since the start of the run (busiest hours shaded)")
    ax.set_ylabel("trucks per hour")
    waiting_ax = ax.twinx()
    waiting_ax.plot(hours, flow["waiting (mean trucks)"], color="tab:red", marker="o", markersize=3,
                    label="waiting (mean)")
    waiting_ax.set_ylabel("trucks waiting (mean)")
    waiting_ax.set_ylim(bottom=0)
    handles = ax.get_legend_handles_labels()
    more = waiting_ax.get_legend_handles_labels()
    ax.legend(handles[0] + more[0], handles[1] + more[1], fontsize=8, loc="upper left")
    ax.grid(axis="y", alpha=0.3)
    figure.suptitle("Trucks per hour and trucks waiting")
    return figure


def agency_figure(table: pd.DataFrame) -> Figure:
    """Each agency's utilisation (left) and its tasks against its SLA misses (right)."""
    figure = Figure(figsize=(11, 3.8), layout="constrained")
    left, right = figure.subplots(1, 2)
    names = table["agency"].tolist()
    positions = np.arange(len(names))
    utilisation = table["utilisation"].to_numpy(dtype=float)
    colours = ["tab:red" if u >= 0.9 else "tab:orange" if u >= 0.75 else "tab:green" for u in np.nan_to_num(utilisation)]
    left.barh(positions, np.nan_to_num(utilisation), color=colours)
    left.set_yticks(positions, names)
    left.invert_yaxis()
    left.set_xlim(0, max(1.0, float(np.nanmax(utilisation)) if np.isfinite(utilisation).any() else 1.0))
    left.set_xlabel("utilisation (share of officer time)")
    left.grid(axis="x", alpha=0.3)
    right.barh(positions - 0.2, table["tasks assigned"].to_numpy(dtype=float), height=0.4, label="tasks assigned",
               color="tab:blue")
    right.barh(positions + 0.2, table["SLA misses"].to_numpy(dtype=float), height=0.4, label="SLA misses",
               color="tab:red")
    right.set_yticks(positions, names)
    right.invert_yaxis()
    right.set_xlabel("tasks per replication")
    right.legend(fontsize=8)
    right.grid(axis="x", alpha=0.3)
    figure.suptitle("Agency workload")
    return figure


def device_downtime_figure(table: pd.DataFrame, replications: int) -> Figure:
    """Hours each device was down (devices that never failed are left out), as means over the
    run's ``replications``; each device is labelled with its faults."""
    failed = table[(table["hours down"] > 0) | (table["faults"] > 0)]
    figure = Figure(figsize=(8, 1.4 + 0.4 * max(1, len(failed))), layout="constrained")
    ax = figure.subplots()
    if failed.empty:
        ax.text(0.5, 0.5, "no device was down", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
    else:
        positions = np.arange(len(failed))
        ax.barh(positions, failed["hours down"], color="tab:red")
        ax.set_yticks(positions, [f"{d} ({faults_text(f, replications)})" for d, f in zip(failed["device"], failed["faults"], strict=True)])
        ax.invert_yaxis()
        ax.set_xlabel("hours down (mean per replication)" if replications > 1 else "hours down")
        ax.grid(axis="x", alpha=0.3)
    figure.suptitle("Device downtime")
    return figure
