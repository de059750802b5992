"""Overview: the scenario, the headline KPIs with confidence intervals, the recovery from the
disruptions when the scenario has any (measured on request: ``dashboard.recovery_panel``), and
the run's health."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.analysis import (
    AGENT_HEADLINES,
    HEADLINE_NOTES,
    PER_DAY_KPIS,
    TIME_SO_FAR,
    has_time_so_far,
    headlines,
    kpi_table,
    levels_caption,
    per_day_note,
    pooled_percentiles_note,
    recovery_folder_of,
    uses_agents,
)
from dashboard.downloads import report_download, scenario_download
from dashboard.recovery_panel import COMPARE_PAGE, measure_recovery
from dashboard.ui import INTERVAL_HELP, first_line, page_setup, require_run, show_few_replications, show_figure, table
from scenarios import describe
from twin.plots import LEVEL_LABELS, levels_figure, time_distribution_figure
from twin.results import SCENARIO_FILE

page_setup("Overview")
loaded = require_run()
if loaded is not None:
    run = loaded.run
    manifest = run.manifest
    st.subheader(run.scenario_name)
    site = f"{loaded.scenario.site} · " if loaded.scenario is not None else ""
    warmup = f" · the figures exclude the first {loaded.warmup_h:g} h (the warm-up)" if loaded.warmup_h > 0 else ""
    st.caption(f"{site}seed {manifest.get('seed', '?')} · {len(run.replications)} replication(s) · "
               f"{loaded.horizon_h:g} simulated hours{warmup} · scenario hash {run.scenario_hash[:12]} · "
               f"from {loaded.source}")
    recovery = recovery_folder_of(loaded.source)
    if recovery is not None:
        st.info(f"This run is one of the two runs of {recovery}, written by 'gatetwin recovery': the same scenario "
                "with and without its disruptions. Compare them on 'Compare layouts' to see how far behind the "
                "disruptions left the gate and how long it took to catch up.", icon=":material/restore:")
        st.page_link(COMPARE_PAGE, label="Recovery from the disruptions", icon=":material/compare_arrows:")
    if run.failed:
        st.error(f"This run did not finish cleanly: {first_line(run.failed)}")
    broken = [(i, c) for i, rep in enumerate(run.replications) for c in rep.invariants if not c.holds]
    if broken:
        st.warning(f"{len(broken)} invariant check(s) failed; the numbers below may be wrong. See 'Checks' below.")

    show_few_replications(loaded)
    st.markdown("#### Headline KPIs (mean over replications, 95 % confidence interval)")
    items = headlines(run.summary)
    scaled = per_day_note(loaded.horizon_h - loaded.warmup_h)
    for row_start in range(0, len(items), 4):
        columns = st.columns(4)
        for column, item in zip(columns, items[row_start:row_start + 4], strict=False):
            with column:
                note = scaled if item.kpi in PER_DAY_KPIS else ""
                help_text = " ".join(part for part in (f"KPI '{item.kpi}'.", HEADLINE_NOTES.get(item.kpi),
                                                       f"{note.capitalize()}." if note else "",
                                                       f"{item.interval_text}.") if part)
                st.metric(item.label, item.value_text, help=help_text)
                st.caption(f"{item.interval_text}; {note}" if note else item.interval_text)

    if uses_agents(run):
        st.markdown("#### Drivers, traffic police and enterprises (Mesa agents)")
        st.caption("This run modelled them as agents; their series over the day are on 'Bottlenecks', the "
                   "trucks on each stretch of the approach road on 'Gate replay'.")
        columns = st.columns(4)
        for column, item in zip(columns, headlines(run.summary, AGENT_HEADLINES), strict=True):
            with column:
                st.metric(item.label, item.value_text, help=f"KPI '{item.kpi}'. {item.interval_text}.")
                st.caption(item.interval_text)

    measure_recovery(loaded)

    scenario = loaded.scenario_as_run()
    if scenario is not None:
        with st.expander("The scenario", expanded=False):
            st.code(describe(scenario), language=None)
            st.caption("Hours, warm-up, replications and seed are this run's own, as its manifest records them.")
            name, data = scenario_download(loaded)
            st.download_button("Download the scenario as run (YAML)", data, file_name=name, mime="application/x-yaml",
                               key="overview.scenario_yaml", icon=":material/download:",
                               help="Every field written out, with this run's hours, replications and seed: "
                                    f"'gatetwin run {name}' runs it again with the same results.")
    else:
        st.caption(f"The scenario of this run is not known here: its folder has no {SCENARIO_FILE} (an older "
                   "version wrote it) and no library scenario has its hash.")
    name, data = report_download(loaded)
    st.download_button("Download the run's report (Markdown)", data, file_name=name, mime="text/markdown",
                       key="overview.report_md", icon=":material/description:",
                       help="How the run went, what was run, the headline KPIs, where trucks waited longest, the "
                            "invariants and every KPI, as 'gatetwin run --out' writes it in report.md.")

    trucks = pd.concat([rep.trucks for rep in run.replications], ignore_index=True)
    measured_from = run.replications[0].measured_from
    if has_time_so_far(run):
        show_figure(time_distribution_figure(trucks, f"Truck times: {len(run.replications)} replication(s) pooled",
                                             measured_from),
                    "Histograms of the time at the gate and in the system, with the median and 95th percentile.")
        st.caption(pooled_percentiles_note(trucks, run.summary, measured_from))
    else:
        st.info(f"The histograms of the truck times are left out: these results have no column '{TIME_SO_FAR}' in "
                "trucks.parquet, the time at the gate of every truck that reached it. Run the scenario again with "
                "this version to get them (see the note above).")
    first = run.replications[0]
    levels = [name for name in LEVEL_LABELS if name in first.series]
    if levels:
        show_figure(levels_figure(first.series, levels, loaded.horizon_h * 3600.0,
                                  f"Levels over time: replication 0 (seed {first.seed})"),
                    levels_caption(levels, first.seed, len(run.replications)))

    with st.expander("Every KPI", expanded=False):
        table(kpi_table(run.summary), {"mean": "%.3f"}, labels={"95 % CI": ("95 % CI", INTERVAL_HELP)},
              key="overview-kpis")
    with st.expander("Checks (conservation, Little's law, the core's books)", expanded=bool(broken)):
        checks = pd.DataFrame(
            [{"replication": i, "check": c.name, "holds": c.holds, "detail": c.detail}
             for i, rep in enumerate(run.replications) for c in rep.invariants],
            columns=["replication", "check", "holds", "detail"],
        )
        table(checks, key="overview-checks")
