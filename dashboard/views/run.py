"""Run or open: run a library scenario or an uploaded scenario file in the background, or open
results saved by ``gatetwin run --out``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from dashboard.forms import change_lines, field_clashes
from dashboard.jobs import RunRequest
from dashboard.analysis import older_results_note, recovery_folders
from dashboard.state import LoadedRun, loaded_runs, open_folders, post_message, request_runs, results_status, runs_dir
from dashboard.ui import page_setup, table
from scenarios import (
    ScenarioError,
    ScenarioIssue,
    describe,
    format_errors,
    library_names,
    load_scenario,
    validate_scenario,
    with_overrides,
    with_recorded_trucks,
    with_settings,
)
from scenarios.schema import Scenario
from scenarios.recorded import expand_recorded_bytes, recorded_file_named
from scenarios.yaml_reader import read_yaml
from twin.compare import unfinished
from twin.results import SUMMARY_FILE

#: Largest scenario file accepted for upload, in bytes (a scenario is a few kilobytes).
MAX_UPLOAD_BYTES = 1_000_000
#: The run settings the form's fields give, by the label of each field.
RUN_FIELDS = {"horizon_h": "Simulated hours", "replications": "Replications", "seed": "Seed"}


def run_controls(scenario: Scenario, key: str, recorded: bool = True) -> RunRequest | None:
    """Hours, replications and seed for ``scenario``, changes to it, with ``recorded`` a CSV of
    recorded trucks to replay at it, and a Run button; the request when pressed."""
    key = f"{key}.{scenario.name}"
    columns = st.columns(3)
    hours = columns[0].number_input(RUN_FIELDS["horizon_h"], min_value=0.5, max_value=24.0 * 60, step=1.0,
                                    value=float(scenario.run.horizon_h), key=f"{key}.hours")
    reps = columns[1].number_input(RUN_FIELDS["replications"], min_value=1, max_value=100, step=1,
                                   value=int(scenario.run.replications), key=f"{key}.reps",
                                   help="Two or more give confidence intervals; 3 or more to plan on them (with 2 the "
                                        "pages warn that they rest on too few).")
    seed = columns[2].number_input(RUN_FIELDS["seed"], min_value=0, step=1, value=int(scenario.run.seed),
                                   key=f"{key}.seed", help="The same seed gives the same results, bit for bit.")
    changes = st.text_area(
        "Changes to the scenario (optional)", key=f"{key}.changes", height=100,
        placeholder="layout.entry_lanes=3\nlayout.scanners=[{type: drive_through, count: 2}]\nagencies.border_guard.officers=10",
        help="One KEY=VALUE a line: a dotted path into the scenario (see 'What this scenario describes', or "
             "'gatetwin scenarios show NAME --json') and a value written as in a scenario file. The run is "
             "named after its changes, so it is not taken for the scenario's own. Hours, replications and "
             "seed are set in the fields above, not here.")
    record = st.file_uploader(
        "Replay a recorded day (CSV, optional)", type=["csv"], key=f"{key}.recorded",
        help="The trucks of a record arrive when it says, with what it says of them, instead of generated "
             "arrivals: a header row, arrival first (06:12, or 2025-07-14 06:12), then optional direction, "
             "vehicle_class, cargo, containers and crossing_mode columns. See 'A recorded day instead of generated "
             "arrivals' in the README.") if recorded else None
    if not st.button("Run", key=f"{key}.run", type="primary", icon=":material/play_arrow:"):
        return None
    pairs = change_lines(changes)
    try:
        # The fields give the hours, replications and seed: a change setting them too is refused.
        problems = field_clashes(pairs, RUN_FIELDS, f"{scenario.name} (changes)")
        changed = None if problems else with_overrides(with_settings(scenario, pairs), horizon_h=float(hours))
        if changed is not None and record is not None:
            changed = with_recorded_trucks(changed, record.getvalue(), record.name)
    except ScenarioError as err:
        problems, changed = format_errors(err), None
    if changed is None:
        for line in problems:
            st.error(line)
        return None
    return RunRequest(changed, replications=int(reps), seed=int(seed))


def uploaded_data(name: str, data: bytes) -> Any:
    """The sections of an uploaded YAML file, as read; ``ScenarioError`` when it cannot be read."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise ScenarioError(name, [ScenarioIssue("", f"is {len(data):,} bytes; a scenario file is at most {MAX_UPLOAD_BYTES:,}")])
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(name, [ScenarioIssue("", f"cannot read the file: not UTF-8 text ({exc.reason} at byte {exc.start})")]) from None
    return read_yaml(text, name)


def uploaded_scenario(name: str, sections: Any, recorded: bytes | None = None) -> Scenario:
    """A scenario from the sections of an uploaded YAML file (``uploaded_data``), its recorded
    trucks (``demand.recorded.file``) from ``recorded``, the CSV uploaded beside it;
    ``ScenarioError`` (one issue per problem) otherwise."""
    wanted = recorded_file_named(sections)
    if wanted is not None and recorded is None:
        raise ScenarioError(name, [ScenarioIssue("demand.recorded.file", f"reads its trucks from {wanted}: upload "
                                                                          "that file beside it")])
    if recorded is not None:
        sections, issues = expand_recorded_bytes(sections, recorded)
        if issues:
            raise ScenarioError(name, issues)
    return validate_scenario(sections, name)


def saved_folders() -> list[Path]:
    """Results folders found under the dashboard's runs folder and ./out, newest first."""
    roots = {runs_dir(), Path("out")}
    found = {summary.parent.resolve() for root in roots if root.is_dir() for summary in root.glob(f"*/{SUMMARY_FILE}")}
    found |= {summary.parent.resolve() for root in roots if root.is_dir() for summary in root.glob(f"*/*/{SUMMARY_FILE}")}
    return sorted(found, key=lambda p: (p / SUMMARY_FILE).stat().st_mtime, reverse=True)


def found_label(folder: Path) -> str:
    """A results folder found, marked when its run did not finish every replication."""
    status = results_status(folder)
    return f"{folder} ({status})" if status else str(folder)


def post_opened(runs: list[LoadedRun]) -> None:
    """Say runs were opened (the runs of a comparison folder, or one): for each, a success when
    it finished, a warning saying what it left unfinished, and what it lacks if an older version
    wrote it; for the two runs of a recovery folder, where their recovery is shown."""
    for opened in runs:
        post_opened_run(opened)
    for folder in recovery_folders([opened.source for opened in runs]):
        post_message("info", f"{folder} holds the recovery from the disruptions of its two runs ('gatetwin "
                             "recovery'): it is shown on 'Compare layouts', where they are compared.")


def post_opened_run(opened: LoadedRun) -> None:
    """Say a run was opened: a success when it finished, a warning saying what it left unfinished."""
    problem = unfinished(opened.run)
    if problem:
        post_message("warning", f"Opened {opened.label}, but {problem}.")
    else:
        post_message("success", f"Opened {opened.label}.")
    note = older_results_note(opened.run, opened.source)
    if note:
        post_message("warning", note)


page_setup("Run or open")
library_tab, upload_tab, open_tab = st.tabs(["Library scenario", "Upload a scenario file", "Open saved results"])

with library_tab:
    names = library_names()
    name = st.selectbox("Scenario", names, key="run.library", index=names.index("huu_nghi_2025") if "huu_nghi_2025" in names else 0)
    scenario = load_scenario(name)
    st.caption(scenario.description.strip())
    with st.expander("What this scenario describes"):
        st.code(describe(scenario), language=None)
    request = run_controls(scenario, "run.library")
    if request is not None:
        request_runs([request], group="run")
        post_message("info", f"Started {request.scenario.name}: its progress shows in the sidebar; its results open "
                             "when it finishes.")
        st.rerun()

with upload_tab:
    upload = st.file_uploader("Scenario file (YAML)", type=["yaml", "yml"], key="run.upload",
                              help="The format of scenarios/library/*.yaml; see 'gatetwin scenarios show NAME --json'.")
    record_upload, wanted, sections = None, None, None
    problem: ScenarioError | None = None
    if upload is not None:
        try:
            sections = uploaded_data(upload.name, upload.getvalue())
        except ScenarioError as err:
            problem = err
        wanted = recorded_file_named(sections)
        if wanted is not None:
            record_upload = st.file_uploader(
                f"Recorded trucks ({wanted})", type=["csv"], key="run.upload.recorded",
                help="The scenario reads its trucks from this CSV (demand.recorded.file): a header row, arrival "
                     "first, then a row per truck. See 'A recorded day instead of generated arrivals' in the README.")
            if record_upload is None:
                st.info(f"{upload.name} reads its trucks from {wanted}: upload that file to check and run the scenario.")
    if upload is not None and (wanted is None or record_upload is not None):
        custom = None
        if problem is None:
            try:
                custom = uploaded_scenario(upload.name, sections,
                                           record_upload.getvalue() if record_upload is not None else None)
            except ScenarioError as err:
                problem = err
        if problem is not None:
            st.error(f"{upload.name} is not a valid scenario ({len(problem.errors)} problem(s)):")
            for line in format_errors(problem):
                st.error(line)
        elif custom is not None:
            st.success(f"{upload.name}: a valid scenario, '{custom.name}'.")
            with st.expander("What this scenario describes", expanded=True):
                st.code(describe(custom), language=None)
            request = run_controls(custom, "run.upload", recorded=wanted is None)
            if request is not None:
                request_runs([request], group="run")
                post_message("info", f"Started {request.scenario.name}: its progress shows in the sidebar.")
                st.rerun()

with open_tab:
    folders = saved_folders()
    if folders:
        chosen = st.selectbox("Results found", folders, key="run.found", format_func=found_label,
                              help="Runs that did not finish every replication are marked, e.g. '(cancelled: 1 of 3 "
                                   "replications)'.")
        if st.button("Open", key="run.open_found"):
            try:
                opened = open_folders(chosen)
            except ValueError as exc:
                st.error(str(exc))
            else:
                post_opened(opened)
                st.rerun()
    typed = st.text_input("Results folder", key="run.folder", placeholder="out/huu_nghi_2025",
                          help="A folder written by 'gatetwin run --out' (it holds summary.json), or by 'gatetwin compare "
                               "--out' (each of its runs opens).")
    if st.button("Open folder", key="run.open_folder"):
        if not typed.strip():
            st.error("Results folder: type the path of a folder written by 'gatetwin run --out'.")
        else:
            try:
                opened = open_folders(Path(typed.strip()))
            except ValueError as exc:
                st.error(str(exc))
            else:
                post_opened(opened)
                st.rerun()

st.markdown("#### Open results")
runs = loaded_runs()
if runs:
    table(pd.DataFrame(
        [{"results": label, "replications": len(item.run.replications), "hours": item.horizon_h, "from": item.source}
         for label, item in runs.items()]),
        key="run.loaded",
    )
else:
    st.caption("None yet.")
