"""Bottlenecks: where trucks wait longest, at a station or for an agency's officers; how busy
each station is and how long trucks stay there, hour by hour; the busiest hours; and where the
queue forms first."""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from dashboard.analysis import (
    OFFICERS_KIND,
    UTILISATION_CI,
    WAIT_CI,
    agent_activity,
    agent_series,
    bottleneck_table,
    busiest_hours,
    hourly_flow,
    queue_onsets,
    stage_minutes_by_hour,
    station_hour_table,
    station_names,
    uses_agents,
)
from dashboard.charts import hour_heatmap_figure, hourly_flow_figure
from dashboard.state import remember, restore_widget
from dashboard.ui import (
    INTERVAL_HELP,
    MISSING,
    page_setup,
    pick_replication,
    require_run,
    show_figure,
    show_few_replications,
    table,
)
from twin.compare import interval_text
from twin.plots import agents_figure, queue_length_figure

#: Key of the slider of the queue that counts (the user's choice is kept across pages).
THRESHOLD_KEY = "bottlenecks.threshold"
#: Headings of the table of waits, with what each means.
WAIT_HEADINGS = {
    "where": ("where", "A station (trucks queue there) or an agency's officers (tasks wait for one of them)."),
    "kind": ("kind", "station: the mean wait of a truck in the station's queue; officers: the mean wait of a task "
                     "(a check, a payment, a review) for a free officer of the agency."),
    "utilisation": ("utilisation", "Share of the servers' (or officers' on shift) time in use; 'unlimited' when "
                                   "there is no limit to them."),
    UTILISATION_CI: (UTILISATION_CI, INTERVAL_HELP),
    WAIT_CI: (WAIT_CI, INTERVAL_HELP),
}


def interval_texts(frame: pd.DataFrame, replications: int) -> pd.DataFrame:
    """The table with its interval columns as text (``twin.compare.interval_text``): "± 0.05",
    "0.93 to 1.00" where 0 or 1 cut the interval, "same in all 2 replications"; "unlimited" for
    the utilisation of unlimited servers, "no CI (1 replication)" for a run of one replication,
    "—" otherwise when an interval is missing."""
    shown = frame.copy()
    none = "no CI (1 replication)" if replications == 1 else MISSING
    for value, column in (("utilisation", UTILISATION_CI), ("mean wait (min)", WAIT_CI)):
        texts = []
        for mean, interval in zip(frame[value], frame[column], strict=True):
            if value == "utilisation" and math.isnan(mean):
                texts.append("unlimited")
            elif math.isnan(mean):
                texts.append(MISSING)
            else:
                texts.append(interval_text(interval, lambda figure: f"{figure:.2f}") or none)
        shown[column] = texts
    return shown


def wait_headline(waits: pd.DataFrame) -> str:
    """The longest mean wait anywhere, saying whether trucks wait at a station or tasks wait for
    officers; the longest at a station beside it when that is not the same; the busiest."""
    timed = waits.dropna(subset=["mean wait (min)"])
    if timed.empty:
        return "No mean wait was measured in this run."
    worst = timed.iloc[0]
    if worst["kind"] == OFFICERS_KIND:
        message = (f"Longest mean wait: **{worst['where']}**, {worst['mean wait (min)']:.1f} min for a task to get "
                   "an officer.")
        stations = timed[timed["kind"] != OFFICERS_KIND]
        if not stations.empty:
            message += (f" Longest at a station: **{stations.iloc[0]['where']}**, "
                        f"{stations.iloc[0]['mean wait (min)']:.1f} min in its queue.")
    else:
        message = f"Longest mean wait: **{worst['where']}** (station), {worst['mean wait (min)']:.1f} min in its queue."
    finite = waits.dropna(subset=["utilisation"])
    if not finite.empty:
        busiest = finite.sort_values("utilisation", ascending=False, kind="stable").iloc[0]
        message += f" Busiest: **{busiest['where']}** ({busiest['utilisation']:.0%} of its capacity in use)."
    return message


page_setup("Bottlenecks")
loaded = require_run()
if loaded is not None:
    run = loaded.run
    end = loaded.horizon_h * 3600.0
    waits = bottleneck_table(run)
    show_few_replications(loaded)
    st.markdown("#### Where trucks wait, over the whole run")
    if not waits.empty:
        st.markdown(wait_headline(waits))
        table(interval_texts(waits, len(run.replications)),
              {"utilisation": "%.2f", "mean wait (min)": "%.2f", "longest queue": "%.1f", "trucks per hour": "%.1f",
               "mean time there (min)": "%.1f"},
              missing={"utilisation": "unlimited"}, labels=WAIT_HEADINGS, key="bottlenecks.stations")
        st.caption("Stations: minutes a truck waited in the queue. Officers: minutes a task waited for a free officer "
                   "of the agency; the truck waits meanwhile wherever it is. Longest mean wait first.")

    replication = pick_replication(loaded, "bottlenecks.replication")
    rep = run.replications[replication]
    st.markdown(f"#### Hour by hour (replication {replication}, seed {rep.seed})")
    show_figure(hour_heatmap_figure(station_hour_table(rep.series, end, "utilisation"), "Utilisation by hour",
                                    "share of capacity in use", share=True),
                "Share of each station's servers busy, hour by hour (stations with unlimited room are not shown).")
    show_figure(hour_heatmap_figure(station_hour_table(rep.series, end, "queue"), "Trucks waiting by hour",
                                    "trucks waiting (mean)"),
                "Mean number of trucks waiting at each station, hour by hour. The staging queue holds every truck "
                "waiting to be called forward; the rows 'staging: …' are the parts of it on the approach road and "
                "in staging areas, not more trucks.")
    show_figure(hour_heatmap_figure(stage_minutes_by_hour(rep.trucks, end), "Time spent at each station",
                                    "minutes (mean, by the hour trucks got there)"),
                "Mean minutes a truck spent at each station, by the hour it got there (waiting and service).")

    st.markdown("#### The busiest hours")
    flow = hourly_flow(rep.trucks, rep.series, end)
    top = busiest_hours(flow, top=3)
    table(top.drop(columns=["hour"]), {"waiting (mean trucks)": "%.1f"}, key="bottlenecks.busiest")
    show_figure(hourly_flow_figure(flow, top["hour"].tolist()), "Arrivals and departures per hour, and trucks waiting.")

    st.markdown("#### Where the queue forms first")
    restore_widget(THRESHOLD_KEY, 5)
    threshold = st.slider("A queue counts from this many trucks", min_value=1, max_value=50, key=THRESHOLD_KEY)
    remember(THRESHOLD_KEY, threshold)
    onsets = queue_onsets(rep.series, threshold)
    first = onsets.iloc[0] if not onsets.empty else None
    if first is not None and not math.isnan(first["first_time_s"]):
        st.success(f"With {threshold} or more trucks, the queue forms first at **{first['queue']}**, "
                   f"at {first['first reached']}.")
    else:
        st.info(f"No queue reached {threshold} trucks in this replication.")
    table(onsets.drop(columns=["first_time_s"]), {"peak (trucks)": "%.0f"}, key="bottlenecks.onsets")
    st.caption("The staging queue counts every truck waiting to be called forward, on the approach road and in "
               "staging areas alike.")
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
            table(activity, {"per replication": "%.1f"}, labels={"95 % CI": ("95 % CI", INTERVAL_HELP)},
                  key="bottlenecks.agents")
