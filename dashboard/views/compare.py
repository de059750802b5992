"""Compare layouts: two or more runs side by side, each difference from the baseline with its
confidence interval, and the best run on each KPI.

Runs without a finished replication have nothing to compare: they are left out of the choice,
with a notice. A comparison started here ("Run and compare") is shown as its runs finish: each
time one more of them opens, the selection becomes every one of them that has opened so far.
"""

from __future__ import annotations

import string

import streamlit as st

from dashboard.analysis import side_by_side, winners
from dashboard.jobs import JobKey, RunRequest
from dashboard.state import LoadedRun, compare_opened, loaded_runs, post_message, request_runs
from dashboard.ui import first_line, page_setup, show_figure, table
from scenarios import ALIASES, ScenarioError, format_errors, library_names, load_variant, split_variant, with_overrides
from twin.compare import comparison_plot, compare_runs, describe_pairing, has_results

SELECTION_KEY = "compare.runs"
#: The keys of the runs "Run and compare" started last, baseline first.
LAUNCHED_KEY = "gatetwin.compare_launched"
#: The labels last put into the selection from those runs (so a later change by hand stays).
APPLIED_KEY = "gatetwin.compare_applied"


def launch_comparison() -> None:
    """Run library scenarios with one seed (common random numbers), for a paired comparison."""
    with st.expander("Run layouts to compare (same seed for all, paired by replication)", expanded=len(loaded_runs()) < 2):
        chosen = st.multiselect("Library scenarios (the first is the baseline)", library_names(), key="compare.launch")
        variants = st.text_area(
            "Variants to run after them (optional)", key="compare.variants", height=80,
            placeholder="harvest_peak+layout.entry_lanes=3+layout.exit_lanes=3",
            help="One a line, written as for 'gatetwin compare': a library scenario and its changes, each "
                 "+KEY=VALUE (a dotted path and a value as in a scenario file). Each runs named after its changes.")
        chosen = chosen + [line.strip() for line in variants.splitlines() if line.strip()]
        columns = st.columns(3)
        hours = columns[0].number_input("Simulated hours", min_value=0.5, max_value=24.0 * 60, value=24.0, step=1.0,
                                        key="compare.hours")
        reps = columns[1].number_input("Replications", min_value=2, max_value=100, value=5, step=1, key="compare.reps",
                                       help="At least two, for confidence intervals.")
        seed = columns[2].number_input("Seed (all scenarios)", min_value=0, value=1, step=1, key="compare.seed")
        if st.button("Run and compare", key="compare.start", disabled=len(chosen) < 2, icon=":material/play_arrow:"):
            problems: list[str] = []
            requests: list[RunRequest] = []
            for spec in chosen:  # every problem of every variant at once
                source, _ = split_variant(spec)
                if source not in library_names() and source not in ALIASES:  # no files of the server's from here
                    problems.append(f"{spec}: {source!r} is not a library scenario; available: {', '.join(library_names())}")
                    continue
                try:
                    requests.append(RunRequest(with_overrides(load_variant(spec), horizon_h=float(hours)),
                                               int(reps), int(seed)))
                except ScenarioError as err:
                    problems += format_errors(err)
            if problems:
                for line in problems:
                    st.error(line)
                return
            st.session_state[LAUNCHED_KEY] = [request.key for request in requests]
            st.session_state.pop(APPLIED_KEY, None)
            request_runs(requests, group="compare")
            post_message("info", f"Started {len(requests)} runs; they are compared here as they finish.")
            st.rerun()


def launched_and_open(comparable: dict[str, LoadedRun]) -> list[str]:
    """Labels of the runs the last "Run and compare" started that have opened, baseline first."""
    launched: list[JobKey] = st.session_state.get(LAUNCHED_KEY, [])
    opened = compare_opened()
    return [opened[key] for key in launched if opened.get(key) in comparable]


def choose_selection(comparable: dict[str, LoadedRun]) -> None:
    """Set the runs compared before the selector is drawn: the runs "Run and compare" started,
    once two have opened and again each time one more opens; otherwise the first three runs
    the first time, and afterwards the runs chosen that are still open."""
    ready = launched_and_open(comparable)
    if len(ready) >= 2 and ready != st.session_state.get(APPLIED_KEY):
        st.session_state[SELECTION_KEY] = ready
        st.session_state[APPLIED_KEY] = ready
    elif SELECTION_KEY not in st.session_state:
        st.session_state[SELECTION_KEY] = list(comparable)[:3]
    else:
        st.session_state[SELECTION_KEY] = [label for label in st.session_state[SELECTION_KEY] if label in comparable]


def short_names(labels: list[str]) -> dict[str, str]:
    """A letter for each run compared (A is the baseline), for headings too narrow for a label."""
    letters = string.ascii_uppercase
    return {label: letters[i] if i < len(letters) else f"R{i + 1}" for i, label in enumerate(labels)}


def show_comparison(selected: list[str], comparable: dict[str, LoadedRun]) -> None:
    options = st.columns(2)
    only_significant = options[0].toggle("Only KPIs with a clear difference", key="compare.significant",
                                         help="A difference is clear when its 95 % interval excludes zero.")
    with_stations = options[1].toggle("Include per-station and per-agency KPIs", key="compare.stations",
                                      help="Each station's and each agency's officers' utilisation and mean wait.")
    try:
        comparison = compare_runs([comparable[label].run for label in selected], selected)
    except ValueError as exc:
        st.error(str(exc))
        return
    for warning in comparison.attrs.get("warnings", []):
        st.warning(warning)
    shown = comparison
    if not with_stations:
        shown = shown[~shown["kpi"].str.endswith(("_utilisation", "_mean_wait"))]
    if only_significant:
        clear = set(shown.loc[shown["significant"], "kpi"])
        shown = shown[shown["kpi"].isin(clear)]
    short = short_names(selected)
    st.caption(f"Baseline: {selected[0]}. {describe_pairing(comparison)}")
    judged = winners(shown)
    clear_wins = judged.loc[judged["clear"], "best"].value_counts()
    best_means = judged["best"].value_counts()
    columns = st.columns(len(selected))
    for column, label in zip(columns, selected, strict=True):
        column.metric(label, f"clearly best on {int(clear_wins.get(label, 0))} KPI(s)",
                      help="A clear win: the run's 95 % interval against the baseline excludes zero (for the "
                           "baseline: every other run is clearly worse).")
        column.caption(f"**{short[label]}**{' (baseline)' if label == selected[0] else ''} in the table below · "
                       f"best mean on {int(best_means.get(label, 0))} of {len(judged)} KPI(s) judged; "
                       f"{int((judged['best'] == 'tie').sum())} tie(s)")
    if shown.empty:
        st.info("No KPI left with these filters.")
    else:
        wide = side_by_side(shown, short)
        baseline = short[selected[0]]
        headings = {label: (f"{short[label]}{' (baseline)' if label == selected[0] else ''}", label) for label in selected}
        headings.update({f"{label} − baseline": (f"{short[label]} − {baseline}", f"{label} minus the baseline, "
                                                 f"{selected[0]}, with the 95 % interval of the difference")
                         for label in selected[1:]})
        headings["best"] = ("best", "The run with the best mean; '(clear)' when it wins by an interval that excludes zero.")
        table(wide, widths={name: "medium" for name in wide.columns if name not in ("KPI", "unit", "better", "best")},
              labels=headings, pinned=("KPI",), key="compare.table")
        st.caption(" · ".join(f"**{short[label]}**: {label}" for label in selected))
        show_figure(comparison_plot(shown), "Change of each KPI against the baseline, in percent of the baseline's "
                    "mean, with 95 % intervals. Green: clearly better; red: clearly worse; grey: no clear difference.")
    st.download_button("Download the comparison (CSV)", comparison.to_csv(index=False).encode("utf-8"),
                       file_name="comparison.csv", mime="text/csv", key="compare.download")


page_setup("Compare layouts")
launch_comparison()
runs = loaded_runs()
comparable = {label: item for label, item in runs.items() if has_results(item.run)}
left_out = [item for label, item in runs.items() if label not in comparable]
if left_out:
    st.info("Left out of the comparison, with no finished replication: "
            + "; ".join(f"{item.label} ({first_line(item.run.failed) or 'no results'})" for item in left_out) + ".")
if len(comparable) < 2:
    st.info("Open at least two runs with results to compare them: run them above, or open them on the "
            "'Run or open' page.")
else:
    choose_selection(comparable)
    selected = st.multiselect("Runs to compare (the first is the baseline)", list(comparable), key=SELECTION_KEY)
    if len(selected) < 2:
        st.warning("Choose at least two runs.")
    else:
        show_comparison(selected, comparable)
