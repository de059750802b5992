"""Compare layouts: two or more runs side by side, each difference from the baseline with its
confidence interval, and the best run on each KPI.

When the runs compared are the two runs of a folder written by ``gatetwin recovery --out`` (a
scenario with its disruptions and without them, same seeds), the page first gives the recovery
from the disruptions that command measured (``recovery.csv``, ``recovery.png``); so too for a run
whose recovery the Overview measured, compared with the run without its disruptions.

Runs without a finished replication have nothing to compare: they are left out of the choice,
with a notice. A comparison started here ("Run and compare") is shown as its runs finish: each
time one more of them opens, the selection becomes every one of them that has opened so far.
The runs chosen and the page's other choices are kept while the user visits other pages.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import streamlit as st

from dashboard.analysis import recovery_folders, side_by_side, winners
from dashboard.forms import change_lines, field_clashes
from dashboard.jobs import JobKey, RunRequest
from dashboard.recovery import is_measured
from dashboard.recovery_panel import SECTION, show_recovery_folder
from dashboard.state import (
    COMPARE_SELECTION,
    LoadedRun,
    compare_opened,
    loaded_runs,
    measured_folder,
    open_again,
    post_message,
    remember,
    remembered,
    request_runs,
    restore_widget,
)
from dashboard.ui import first_line, page_setup, show_figure, show_format_note, table
from scenarios import ALIASES, ScenarioError, format_errors, library_names, load_variant, split_variant, with_overrides
from scenarios.schema import Scenario
from twin.compare import comparison_plot, compare_runs, describe_pairing, has_results, run_letters
from twin.recovery import UNDISRUPTED_SUFFIX

SELECTION_KEY = COMPARE_SELECTION
#: The keys of the runs "Run and compare" started last, baseline first.
LAUNCHED_KEY = "gatetwin.compare_launched"
#: The labels last put into the selection from those runs (so a later change by hand stays).
APPLIED_KEY = "gatetwin.compare_applied"
#: The scenario whose hours and seed the "Run and compare" form was last given.
DEFAULTS_FROM_KEY = "gatetwin.compare_defaults_from"
#: The run settings the "Run and compare" form gives, by the label of its field.
COMPARE_FIELDS = {"horizon_h": "Simulated hours", "replications": "Replications", "seed": "Seed (all scenarios)"}
#: The fewest and most hours the form takes.
MIN_HOURS, MAX_HOURS = 0.5, 24.0 * 60
#: Widgets of the form, with their values before the user gives any.
LAUNCH_DEFAULTS: dict[str, object] = {"compare.launch": [], "compare.variants": "", "compare.hours": 24.0,
                                      "compare.reps": 5, "compare.seed": 1}


def first_scenario(chosen: list[str]) -> Scenario | None:
    """The baseline of the scenarios chosen to run, when it is a library scenario (or a
    variant of one) that reads; None otherwise."""
    if not chosen or split_variant(chosen[0])[0] not in (*library_names(), *ALIASES):
        return None
    try:
        return load_variant(chosen[0])
    except ScenarioError:
        return None


def launch_comparison() -> None:
    """Run library scenarios with one seed (common random numbers), for a paired comparison.

    Hours and seed start as the baseline's (the first scenario chosen), as ``gatetwin compare``
    takes them, and again each time another scenario becomes the baseline.
    """
    with st.expander("Run layouts to compare (same seed for all, paired by replication)", expanded=len(loaded_runs()) < 2):
        for key, default in LAUNCH_DEFAULTS.items():
            restore_widget(key, default)
        library = st.multiselect("Library scenarios (the first is the baseline)", library_names(), key="compare.launch")
        variants = st.text_area(
            "Variants to run after them (optional)", key="compare.variants", height=80,
            placeholder="harvest_peak+layout.entry_lanes=3+layout.exit_lanes=3",
            help="One a line, written as for 'gatetwin compare': a library scenario and its changes, each "
                 "+KEY=VALUE (a dotted path and a value as in a scenario file). Each runs named after its changes. "
                 "Hours, replications and seed are set in the fields below.")
        chosen = library + change_lines(variants)
        baseline = first_scenario(chosen)
        if baseline is not None and chosen[0] != st.session_state.get(DEFAULTS_FROM_KEY):
            st.session_state[DEFAULTS_FROM_KEY] = chosen[0]
            st.session_state["compare.hours"] = min(max(float(baseline.run.horizon_h), MIN_HOURS), MAX_HOURS)
            st.session_state["compare.seed"] = int(baseline.run.seed)
        columns = st.columns(3)
        hours = columns[0].number_input(COMPARE_FIELDS["horizon_h"], min_value=MIN_HOURS, max_value=MAX_HOURS, step=1.0,
                                        key="compare.hours",
                                        help="The baseline's own hours until you change them.")
        reps = columns[1].number_input(COMPARE_FIELDS["replications"], min_value=2, max_value=100, step=1,
                                       key="compare.reps", help="At least two, for confidence intervals.")
        seed = columns[2].number_input(COMPARE_FIELDS["seed"], min_value=0, step=1, key="compare.seed",
                                       help="The baseline's own seed until you change it; every run uses it.")
        for key, value in (("compare.launch", library), ("compare.variants", variants), ("compare.hours", hours),
                           ("compare.reps", reps), ("compare.seed", seed)):
            remember(key, value)
        if st.button("Run and compare", key="compare.start", disabled=len(chosen) < 2, icon=":material/play_arrow:"):
            start_comparison(chosen, float(hours), int(reps), int(seed))


def start_comparison(chosen: list[str], hours: float, reps: int, seed: int) -> None:
    """Start the runs of ``chosen`` (library scenarios and variants), or show every problem of
    every one of them and start nothing."""
    problems: list[str] = []
    requests: list[RunRequest] = []
    for spec in chosen:  # every problem of every variant at once
        source, changes = split_variant(spec)
        if source not in library_names() and source not in ALIASES:  # no files of the server's from here
            problems.append(f"{spec}: {source!r} is not a library scenario; available: {', '.join(library_names())}")
            continue
        try:
            clashes = field_clashes(changes, COMPARE_FIELDS, f"{source} (changes)")
            if clashes:
                problems += clashes
                continue
            requests.append(RunRequest(with_overrides(load_variant(spec), horizon_h=hours), reps, seed))
        except ScenarioError as err:
            problems += format_errors(err)
    if problems:
        for line in problems:
            st.error(line)
        return
    keys = [request.key for request in requests]
    for place, key in enumerate(keys):
        earlier = keys.index(key)
        if earlier < place:
            post_message("info", f"Run {place + 1}, {chosen[place]}, is the same scenario with the same settings as run "
                                 f"{earlier + 1}, {chosen[earlier]}: it runs once and is compared with itself, so every "
                                 "difference is zero.")
    st.session_state[LAUNCHED_KEY] = keys
    st.session_state.pop(APPLIED_KEY, None)
    request_runs(requests, group="compare")
    started = len(set(keys))
    post_message("info", f"Started {started} run{'s' if started != 1 else ''}; the comparison shows here as "
                         f"{'they finish' if started != 1 else 'it finishes'}.")
    st.rerun()


def open_launched() -> list[str]:
    """Labels of the runs the last "Run and compare" started that have opened, baseline first.

    A run started twice (the same scenario and settings asked for twice) ran once; it is opened
    again under a label of its own for each further place it has, to be compared with itself.
    """
    launched: list[JobKey] = st.session_state.get(LAUNCHED_KEY, [])
    opened, runs = compare_opened(), loaded_runs()
    labels: list[str] = []
    places: Counter[JobKey] = Counter()
    for place, key in enumerate(launched, start=1):
        label = opened.get(key)
        if label not in runs or not has_results(runs[label].run):
            continue
        places[key] += 1
        labels.append(label if places[key] == 1 else open_again(runs[label], place).label)
    return labels


def choose_selection(comparable: dict[str, LoadedRun], ready: list[str]) -> None:
    """Set the runs compared before the selector is drawn: ``ready``, the runs "Run and compare"
    started, once two have opened and again each time one more opens; otherwise the runs chosen
    last that are still open (kept across pages), or the first three runs the first time."""
    if len(ready) >= 2 and ready != st.session_state.get(APPLIED_KEY):
        st.session_state[SELECTION_KEY] = ready
        st.session_state[APPLIED_KEY] = ready
        return
    previous = st.session_state[SELECTION_KEY] if SELECTION_KEY in st.session_state else remembered(SELECTION_KEY)
    if previous is None:
        st.session_state[SELECTION_KEY] = list(comparable)[:3]
    else:
        st.session_state[SELECTION_KEY] = [label for label in previous if label in comparable]


def show_recoveries(selected: list[str], comparable: dict[str, LoadedRun]) -> bool:
    """The recovery from the disruptions of every recovery folder both of whose runs are compared
    (written by ``gatetwin recovery --out``, or by the dashboard for a run it measured, which
    then stands for the folder's run with the disruptions); whether there was any."""
    chosen = [comparable[label] for label in selected]
    measured = {loaded.source: folder for loaded in chosen if is_measured(folder := measured_folder(loaded))}
    folders = recovery_folders([loaded.source for loaded in chosen], measured)
    for folder in folders:
        runs = [loaded for loaded in chosen
                if Path(loaded.source).parent == folder or measured.get(loaded.source) == folder]
        # The run with the disruptions: not named "-undisrupted"; of the folder's own, "2-<name>" after "1-<name>-undisrupted".
        disrupted = max(runs, key=lambda loaded: (not loaded.run.scenario_name.endswith(UNDISRUPTED_SUFFIX),
                                                  Path(loaded.source).name))
        show_recovery(folder, max(loaded.horizon_h for loaded in runs), disrupted.run.scenario_name)
    return bool(folders)


def show_recovery(folder: Path, horizon_h: float, scenario_name: str) -> None:
    """The recovery written in ``folder``, under its heading."""
    st.subheader(SECTION)
    show_recovery_folder(folder, horizon_h, scenario_name, key=f"compare.recovery[{folder}]")


def show_comparison(selected: list[str], comparable: dict[str, LoadedRun]) -> None:
    options = st.columns(2)
    for key in ("compare.significant", "compare.stations"):
        restore_widget(key, False)
    only_significant = options[0].toggle("Only KPIs with a clear difference", key="compare.significant",
                                         help="A difference is clear when its 95 % interval excludes zero.")
    with_stations = options[1].toggle("Include per-station and per-agency KPIs", key="compare.stations",
                                      help="Each station's and each agency's officers' utilisation and mean wait.")
    remember("compare.significant", only_significant)
    remember("compare.stations", with_stations)
    try:
        comparison = compare_runs([comparable[label].run for label in selected], selected)
    except ValueError as exc:
        st.error(str(exc))
        return
    for warning in comparison.attrs.get("warnings", []):
        st.warning(warning)
    for label in selected:
        show_format_note(comparable[label])
    shown = comparison
    if not with_stations:
        shown = shown[~shown["kpi"].str.endswith(("_utilisation", "_mean_wait"))]
    if only_significant:
        clear = set(shown.loc[shown["significant"], "kpi"])
        shown = shown[shown["kpi"].isin(clear)]
    short = run_letters(selected)
    st.caption(f"Baseline: {selected[0]}. {describe_pairing(comparison)}")
    judged = winners(shown)
    clear_wins = judged.loc[judged["clear"], "best"].value_counts()
    best_means = judged["best"].value_counts()
    columns = st.columns(len(selected))
    for column, label in zip(columns, selected, strict=True):
        # Short heading and value, which a narrow column does not cut; the run's label below them.
        column.metric(f"{short[label]}{' (baseline)' if label == selected[0] else ''}: clearly best on",
                      f"{int(clear_wins.get(label, 0))} KPI(s)",
                      help=f"{label}. A clear win: the run's 95 % interval against the baseline excludes zero (for "
                           "the baseline: every other run is clearly worse).")
        column.caption(f"{label} · best mean on {int(best_means.get(label, 0))} of {len(judged)} KPI(s) judged; "
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
        show_figure(comparison_plot(shown, short), "Change of each KPI against the baseline, in percent of the baseline's "
                    "mean, with 95 % intervals. Green: clearly better; red: clearly worse; grey: no clear difference.")
    st.download_button("Download the comparison (CSV)", comparison.to_csv(index=False).encode("utf-8"),
                       file_name="comparison.csv", mime="text/csv", key="compare.download")


page_setup("Compare layouts")
launch_comparison()
ready = open_launched()
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
    choose_selection(comparable, ready)
    selected = st.multiselect("Runs to compare (the first is the baseline)", list(comparable), key=SELECTION_KEY)
    remember(SELECTION_KEY, selected)
    if len(selected) < 2:
        st.warning("Choose at least two runs.")
    else:
        if show_recoveries(selected, comparable):
            st.subheader("Every KPI, side by side")
        show_comparison(selected, comparable)
