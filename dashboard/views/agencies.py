"""Agencies and devices: each agency's workload and missed time limits; device faults and what
they did to the queues; the AGV lane's throughput."""

from __future__ import annotations

import streamlit as st

from dashboard.analysis import (
    agency_table,
    agv_summary,
    command_counts,
    device_table,
    format_number,
    format_quantity,
    interval_words,
    outage_effects,
    queues_that_grew,
    known_outages,
    planned_outages,
    recorded_outages,
)
from dashboard.charts import agency_figure, device_downtime_figure
from dashboard.ui import page_setup, pick_replication, require_run, show_figure, table
from twin.plots import queue_length_figure
from twin.results import kpi_interval

#: Short headings of the outage table (the help of each says it in full), so that it fits the page.
OUTAGE_HEADINGS = {
    "down from": ("from", "When the device went down."),
    "down until": ("until", "When it was back in service."),
    "hours down": ("down (h)", "Hours the device was down."),
    "trucks waiting at start": ("queue at start", "Trucks waiting (every queue) when the outage began."),
    "most trucks waiting": ("queue at most", "The most trucks waiting (every queue) during the outage."),
    "backlog cleared after (h)": ("cleared after (h)", "Hours after the outage until the waiting fell back to its "
                                  "level at the start."),
    "time at gate, trucks arriving then (min)": ("gate time then (min)", "Mean time at the gate of the trucks that "
                                                 "reached the gate during the outage."),
}
#: The same for every outage: said under the table rather than repeated in a column.
ALL_TRUCKS_GATE_TIME = "time at gate, all trucks (min)"

page_setup("Agencies and devices")
loaded = require_run()
if loaded is not None:
    run = loaded.run
    end = loaded.horizon_h * 3600.0

    st.markdown("#### Agencies")
    agencies = agency_table(run)
    if agencies.empty:
        st.info("This run recorded no agency workload.")
    else:
        worked = agencies.dropna(subset=["utilisation"]).sort_values("utilisation", ascending=False)
        missed = agencies.sort_values("SLA misses", ascending=False).iloc[0]
        lines = []
        if not worked.empty:
            lines.append(f"Busiest agency: **{worked.iloc[0]['agency']}** ({worked.iloc[0]['utilisation']:.0%} of officer time).")
        if missed["SLA misses"] > 0:
            lines.append(f"Most missed time limits: **{missed['agency']}** ({missed['SLA misses']:.1f} of "
                         f"{missed['tasks assigned']:.1f} tasks per replication).")
        else:
            lines.append("No agency missed a time limit.")
        st.markdown(" ".join(lines))
        table(agencies, {"tasks assigned": "%.1f", "tasks done": "%.1f", "utilisation": "%.2f", "mean wait (min)": "%.1f",
                         "wait off shift": "%.2f", "SLA misses": "%.1f", "SLA missed share": "%.2f"},
              key="agencies.table")
        st.caption("Wait off shift: the share of an agency's wait that fell outside its shifts (a task that comes "
                   "off shift waits for the next one). High, the shifts set the wait; low, the officers on duty are "
                   "too few for the work.")
        show_figure(agency_figure(agencies), "Share of officer time in use, and tasks assigned against tasks that "
                    "waited past the agency's time limit (means per replication).")

    st.markdown("#### Devices")
    devices = device_table(run)
    failed = devices[(devices["faults"] > 0) | (devices["hours down"] > 0)]
    if failed.empty:
        st.info(f"None of the {len(devices)} devices failed or was taken down in this run.")
    else:
        st.markdown(f"{len(failed)} of {len(devices)} devices were down at some point.")
        show_figure(device_downtime_figure(devices, len(run.replications)),
                    "Hours each device was down, mean per replication.")
    table(devices, {"faults": "%.2f", "hours down": "%.2f"}, key="agencies.devices")

    replication = pick_replication(loaded, "agencies.replication")
    rep = run.replications[replication]
    periods = recorded_outages(rep.series, end)
    if loaded.scenario is not None:
        periods = known_outages(planned_outages(loaded.scenario, end), periods)
    st.markdown("#### What the outages did")
    if periods:
        effects = outage_effects(periods, rep.series, rep.trucks)
        table(effects.drop(columns=[ALL_TRUCKS_GATE_TIME]),
              {"hours down": "%.2f", "trucks waiting at start": "%.0f", "most trucks waiting": "%.0f",
               "backlog cleared after (h)": "%.2f", "time at gate, trucks arriving then (min)": "%.1f"},
              missing={"backlog cleared after (h)": "not by the end"}, labels=OUTAGE_HEADINGS, key="agencies.outages")
        overall = effects[ALL_TRUCKS_GATE_TIME].iloc[0]
        st.caption(f"For comparison, the mean time at the gate of all departed trucks in this replication: "
                   f"{format_number(overall)} min.")
        cleared = effects["backlog cleared after (h)"]
        if cleared.isna().any():
            st.warning("After at least one outage the backlog had not cleared by the end of the run.")
        down = [name for name in dict.fromkeys(p.device for p in periods) if name in rep.series]
        affected = list(dict.fromkeys([*down, *queues_that_grew(periods, rep.series)]))
        if affected:
            show_figure(queue_length_figure(rep.series, affected, end, "Queues during the outages"),
                        "Trucks waiting at each station that went down and at the stations whose queue grew most "
                        "while it was down (trucks routed around a faulted device wait elsewhere); red shading: "
                        "no server available at that station.")
    else:
        st.info("No outage is known for this replication: the scenario plans none, or it is not known here, "
                "and the station series show no drop in servers. Random faults still count in the table above.")

    st.markdown("#### AGV lane")
    agv = agv_summary(run)
    if agv is None:
        st.info("This gate has no AGV lane.")
    else:
        name = "agv_containers_delivered_per_day"
        per_day = kpi_interval(name, run.summary.get("kpis", {}).get(name, {}))
        columns = st.columns(4)
        columns[0].metric("Containers delivered per day", format_number(per_day.mean),
                          help=f"Delivered across the line by the AGVs; {interval_words(per_day, '')}.")
        for column, (label, interval) in zip(columns[1:], agv.items(), strict=True):
            unit = "share" if label == "fleet utilisation" else ""
            column.metric(label.capitalize(), format_quantity(interval.mean, unit),
                          help=f"Mean per replication; {interval_words(interval, unit)}.")
        kpis = run.summary.get("kpis", {})
        more = [(name, label, unit, text) for name, label, unit, text in (
            ("agv_trucks_per_day", "Truck trips off the road per day", "",
             "Trucks that handed their containers to the AGV lane and left: trips across the line not made by road"),
            ("agv_stack_mean_wait", "Wait for a place on the stack", "min",
             "Mean time a container waited on its truck, in the yard, for a place on the stack at the handover "
             "point (layout.agv_lane.stack_slots)"),
        ) if name in kpis]
        if more:
            columns = st.columns(4)
            for column, (name, label, unit, text) in zip(columns, more, strict=False):
                interval = kpi_interval(name, kpis[name])
                column.metric(label, format_quantity(interval.mean, unit), help=f"{text}; {interval_words(interval, unit)}.")

    with st.expander("Commands the clearance core issued (per replication)"):
        table(command_counts(run), {"per replication": "%.1f"}, key="agencies.commands")
