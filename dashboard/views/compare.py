"""Compare layouts: two or more runs side by side, each difference from the baseline with its
confidence interval, and the best run on each KPI."""

from __future__ import annotations

import streamlit as st

from dashboard.analysis import side_by_side, winners
from dashboard.jobs import RunRequest
from dashboard.state import loaded_runs, post_message, request_runs
from dashboard.ui import page_setup, show_figure, table
from scenarios import ScenarioError, format_errors, library_names, load_scenario, with_overrides
from twin.compare import comparison_plot, compare_runs, describe_pairing

SELECTION_KEY = "compare.runs"
PICK_KEY = "gatetwin.compare_pick"


def launch_comparison() -> None:
    """Run library scenarios with one seed (common random numbers), for a paired comparison."""
    with st.expander("Run layouts to compare (same seed for all, paired by replication)", expanded=len(loaded_runs()) < 2):
        chosen = st.multiselect("Library scenarios (the first is the baseline)", library_names(), key="compare.launch")
        columns = st.columns(3)
        hours = columns[0].number_input("Simulated hours", min_value=0.5, max_value=24.0 * 60, value=24.0, step=1.0,
                                        key="compare.hours")
        reps = columns[1].number_input("Replications", min_value=2, max_value=100, value=5, step=1, key="compare.reps",
                                       help="At least two, for confidence intervals.")
        seed = columns[2].number_input("Seed (all scenarios)", min_value=0, value=1, step=1, key="compare.seed")
        if st.button("Run and compare", key="compare.start", disabled=len(chosen) < 2, icon=":material/play_arrow:"):
            try:
                requests = [RunRequest(with_overrides(load_scenario(name), horizon_h=float(hours)), int(reps), int(seed))
                            for name in chosen]
            except ScenarioError as err:
                for line in format_errors(err):
                    st.error(line)
                return
            st.session_state[PICK_KEY] = []
            request_runs(requests, group="compare")
            post_message("info", f"Started {len(requests)} runs; they are compared here as they finish.")
            st.rerun()


page_setup("Compare layouts")
launch_comparison()
runs = loaded_runs()
if len(runs) < 2:
    st.info("Open at least two runs to compare them: run them above, or open them on the 'Run or open' page.")
else:
    labels = list(runs)
    picked = [label for label in st.session_state.pop(PICK_KEY, []) if label in runs]
    if len(picked) >= 2:
        st.session_state[SELECTION_KEY] = picked
    elif SELECTION_KEY not in st.session_state:
        st.session_state[SELECTION_KEY] = labels[: min(3, len(labels))]
    else:
        st.session_state[SELECTION_KEY] = [label for label in st.session_state[SELECTION_KEY] if label in runs]
    selected = st.multiselect("Runs to compare (the first is the baseline)", labels, key=SELECTION_KEY)
    options = st.columns(2)
    only_significant = options[0].toggle("Only KPIs with a clear difference", key="compare.significant",
                                         help="A difference is clear when its 95 % interval excludes zero.")
    with_stations = options[1].toggle("Include per-station KPIs", key="compare.stations")
    if len(selected) < 2:
        st.warning("Choose at least two runs.")
    else:
        chosen_runs = [runs[label].run for label in selected]
        comparison = compare_runs(chosen_runs, selected)
        shown = comparison
        if not with_stations:
            shown = shown[~shown["kpi"].str.endswith(("_utilisation", "_mean_wait"))]
        if only_significant:
            clear = set(shown.loc[shown["significant"], "kpi"])
            shown = shown[shown["kpi"].isin(clear)]
        st.caption(f"Baseline: {selected[0]}. {describe_pairing(comparison)}")
        judged = winners(shown)
        clear_wins = judged.loc[judged["clear"], "best"].value_counts()
        best_means = judged["best"].value_counts()
        columns = st.columns(len(selected))
        for column, label in zip(columns, selected, strict=True):
            column.metric(label, f"clearly best on {int(clear_wins.get(label, 0))} KPI(s)",
                          help="A clear win: the run's 95 % interval against the baseline excludes zero (for the "
                               "baseline: every other run is clearly worse).")
            column.caption(f"best mean on {int(best_means.get(label, 0))} of {len(judged)} KPI(s) judged; "
                           f"{int((judged['best'] == 'tie').sum())} tie(s)")
        if shown.empty:
            st.info("No KPI left with these filters.")
        else:
            wide = side_by_side(shown)
            table(wide, widths={name: "medium" for name in wide.columns if name not in ("KPI", "unit", "better")},
                  pinned=("KPI",), key="compare.table")
            show_figure(comparison_plot(shown), "Change of each KPI against the baseline, in percent of the baseline's "
                        "mean, with 95 % intervals. Green: clearly better; red: clearly worse; grey: no clear difference.")
        st.download_button("Download the comparison (CSV)", comparison.to_csv(index=False).encode("utf-8"),
                           file_name="comparison.csv", mime="text/csv", key="compare.download")
