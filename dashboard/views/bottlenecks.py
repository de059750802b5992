"""Bottlenecks: how busy each station is and how long trucks stay there, hour by hour; the
busiest hours; and where the queue forms first."""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from dashboard.analysis import (
    agent_activity,
    agent_series,
    busiest_hours,
    hourly_flow,
    queue_onsets,
    stage_minutes_by_hour,
    station_hour_table,
    station_names,
    uses_agents,
)
from dashboard.charts import hour_heatmap_figure, hourly_flow_figure
from dashboard.ui import page_setup, pick_replication, require_run, show_figure, table
from twin.plots import agents_figure, queue_length_figure
from twin.results import RunResult


def station_table(run: RunResult) -> pd.DataFrame:
    """Per station: utilisation and mean wait (means over replications, with 95 % CI), and the
    longest queue and throughput (means over replications); busiest (longest wait) first."""
    kpis = run.summary.get("kpis", {})
    names = list(dict.fromkeys(name for rep in run.replications for name in rep.stations))
    rows = []
    for name in names:
        utilisation = kpis.get(f"{name}_utilisation", {})
        wait = kpis.get(f"{name}_mean_wait", {})
        summaries = [rep.stations[name] for rep in run.replications if name in rep.stations]
        rows.append({
            "station": name,
            "utilisation": _num(utilisation.get("mean")),
            "utilisation ± CI": _num(utilisation.get("half_width")),
            "mean wait (min)": _num(wait.get("mean")),
            "mean wait ± CI": _num(wait.get("half_width")),
            "longest queue": float(sum(s.max_queue for s in summaries) / len(summaries)),
            "trucks per hour": float(sum(s.throughput_per_h for s in summaries) / len(summaries)),
            "mean time there (min)": float(sum(s.mean_sojourn_s for s in summaries) / len(summaries) / 60.0),
        })
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    return frame.sort_values(["mean wait (min)", "utilisation"], ascending=False, na_position="last").reset_index(drop=True)


def _num(value: object) -> float:
    return math.nan if value is None else float(value)  # type: ignore[arg-type]


page_setup("Bottlenecks")
loaded = require_run()
if loaded is not None:
    run = loaded.run
    end = loaded.horizon_h * 3600.0
    stations = station_table(run)
    st.markdown("#### Stations, over the whole run")
    if not stations.empty:
        worst_wait = stations.iloc[0]
        finite = stations.dropna(subset=["utilisation"])
        busiest = finite.sort_values("utilisation", ascending=False).iloc[0] if not finite.empty else None
        message = f"Longest mean wait: **{worst_wait['station']}** ({worst_wait['mean wait (min)']:.1f} min)."
        if busiest is not None:
            message += f" Busiest station: **{busiest['station']}** ({busiest['utilisation']:.0%} of its capacity in use)."
        st.markdown(message)
        table(stations, {"utilisation": "%.2f", "utilisation ± CI": "%.2f", "mean wait (min)": "%.2f",
                         "mean wait ± CI": "%.2f", "longest queue": "%.1f", "trucks per hour": "%.1f",
                         "mean time there (min)": "%.1f"},
              missing={"utilisation": "unlimited", "utilisation ± CI": "unlimited"}, key="bottlenecks.stations")

    replication = pick_replication(loaded, "bottlenecks.replication")
    rep = run.replications[replication]
    st.markdown(f"#### Over the day (replication {replication}, seed {rep.seed})")
    show_figure(hour_heatmap_figure(station_hour_table(rep.series, end, "utilisation"), "Utilisation by hour",
                                    "share of capacity in use", share=True),
                "Share of each station's servers busy, hour by hour (stations with unlimited room are not shown).")
    show_figure(hour_heatmap_figure(station_hour_table(rep.series, end, "queue"), "Trucks waiting by hour",
                                    "trucks waiting (mean)"),
                "Mean number of trucks waiting at each station and on the approach road, hour by hour.")
    show_figure(hour_heatmap_figure(stage_minutes_by_hour(rep.trucks, end), "Time spent at each station",
                                    "minutes (mean, by the hour trucks got there)"),
                "Mean minutes a truck spent at each station, by the hour it got there (waiting and service).")

    st.markdown("#### The busiest hours")
    flow = hourly_flow(rep.trucks, rep.series, end)
    top = busiest_hours(flow, top=3)
    table(top.drop(columns=["hour"]), {"waiting (mean trucks)": "%.1f"}, key="bottlenecks.busiest")
    show_figure(hourly_flow_figure(flow, top["hour"].tolist()), "Arrivals and departures per hour, and trucks waiting.")

    st.markdown("#### Where the queue forms first")
    threshold = st.slider("A queue counts from this many trucks", min_value=1, max_value=50, value=5,
                          key="bottlenecks.threshold")
    onsets = queue_onsets(rep.series, threshold)
    first = onsets.iloc[0] if not onsets.empty else None
    if first is not None and not math.isnan(first["first_time_s"]):
        st.success(f"With {threshold} or more trucks, the queue forms first at **{first['queue']}**, "
                   f"at {first['first reached']}.")
    else:
        st.info(f"No queue reached {threshold} trucks in this replication.")
    table(onsets.drop(columns=["first_time_s"]), {"peak (trucks)": "%.0f"}, key="bottlenecks.onsets")
    show_figure(queue_length_figure(rep.series, station_names(rep.series), end, "Trucks waiting at each station"),
                "Queue at each station over the run; red shading: no server available.")

    if uses_agents(run):
        st.markdown("#### On the approach road and at staging (Mesa agents)")
        corridor, declarants = agent_series(run, replication)
        if corridor is None and declarants is None:
            st.info(f"Replication {replication} left no agent series.")
        else:
            show_figure(agents_figure(corridor, declarants, f"Agents: replication {replication} (seed {rep.seed})"),
                        "Trucks driving each stretch of the approach road; trucks waiting at the staging checkpoint "
                        "(on the road, in staging areas; red: the platform advised HOLD); returned declarations "
                        "waiting for the enterprise's amendment.")
        activity = agent_activity(run)
        if not activity.empty:
            table(activity, {"per replication": "%.1f", "± 95 % CI": "%.1f"}, key="bottlenecks.agents")
