"""The recovery from the disruptions on the page: its table, what caught up and when the waits
were back to normal, and its figure, from a folder (``gatetwin recovery --out``, or one the
dashboard wrote) or from memory; and, on the Overview, the button that measures it for the run
shown (``dashboard.recovery`` says when a run can be measured and how).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from dashboard.analysis import (
    TRUCKS_BEHIND_NOTE,
    caught_up_line,
    is_png,
    read_recovery,
    recovery_figures,
    recovery_folder_of,
    waits_normal_line,
)
from dashboard.jobs import JobStatus
from dashboard.recovery import is_measured, plan_recovery
from dashboard.state import (
    LoadedRun,
    ask_recovery,
    finish_recovery,
    job_board,
    measured_folder,
    open_recovery_runs,
    post_message,
    recovery_asked,
    short_source,
)
from dashboard.ui import INTERVAL_HELP, table
from twin.compare import few_replications_warning
from twin.recovery import RECOVERY_CSV, RECOVERY_PLOT

#: The heading of the recovery, on the Overview and on Compare layouts.
SECTION = "Recovery from the disruptions"
#: The button that measures the recovery of the run shown.
MEASURE_LABEL = "Measure the recovery from its disruptions"
COMPARE_PAGE = "views/compare.py"


def show_recovery(recovery: pd.DataFrame, png: bytes | None, *, horizon_h: float, scenario_name: str, key: str,
                  no_figure: str = "No figure of the trucks behind over time.", warn_few: bool = True) -> None:
    """A recovery table (``recovery.csv`` read back, or ``RecoveryReport.table``): each figure with
    its 95 % interval, how many replications caught up and had their waits back to normal, and
    the figure of the trucks behind (``png``; ``no_figure`` said instead when there is none).
    ``warn_few``: warn when the intervals rest on too few replications (the Overview has said so
    of the run already)."""
    table(recovery_figures(recovery), widths={"figure": "large", "mean and 95 % CI": "medium"},
          labels={"mean and 95 % CI": ("mean and 95 % CI", INTERVAL_HELP)}, key=key)
    st.markdown(caught_up_line(recovery, horizon_h))
    normal = waits_normal_line(recovery, horizon_h)
    if normal:
        st.markdown(normal)
    few = few_replications_warning({scenario_name: len(recovery)}) if warn_few else ""
    if few:
        st.warning(few, icon=":material/warning:")
    if png is not None:
        st.image(png, width="stretch", output_format="PNG")
    else:
        st.info(no_figure)
    st.caption(TRUCKS_BEHIND_NOTE)


def show_recovery_folder(folder: Path, horizon_h: float, scenario_name: str, key: str, warn_few: bool = True) -> None:
    """The recovery written in ``folder`` (``recovery.csv`` and ``recovery.png``); a warning naming
    the file and the problem, and nothing else, when its table cannot be read."""
    st.caption(f"From {short_source(str(folder))}: the run with its disruptions against the same gate without "
               "them, with the same seeds ('gatetwin recovery'). Mean over the replications, with its 95 % interval.",
               help=f"from {folder}")
    path = folder / RECOVERY_CSV
    try:
        recovery = read_recovery(path)
    except ValueError as exc:
        st.warning(f"The recovery from the disruptions is not shown: {exc}. Write it anew with "
                   f"'gatetwin recovery {scenario_name} --out {folder}'.", icon=":material/warning:")
        return
    plot = folder / RECOVERY_PLOT
    show_recovery(recovery, plot.read_bytes() if is_png(plot) else None, horizon_h=horizon_h,
                  scenario_name=scenario_name, key=key, warn_few=warn_few,
                  no_figure=f"{plot}: no figure of the trucks behind over time (the file is missing or not a PNG image).")


def _compare_button(loaded: LoadedRun, folder: Path) -> None:
    if st.button("Compare the two runs", key=f"overview.recovery.compare[{loaded.label}]",
                 icon=":material/compare_arrows:",
                 help="Open the run without the disruptions beside this one, every KPI side by side, on 'Compare "
                      "layouts'."):
        try:
            open_recovery_runs(loaded, folder)
        except ValueError as exc:
            st.error(str(exc))
            return
        st.switch_page(COMPARE_PAGE)


def measure_recovery(loaded: LoadedRun) -> None:
    """On the Overview, for the run shown when its scenario has disruptions: its recovery from
    them once measured; until then, a button that runs the same scenario without them with the
    same seed, replications and hours; or why it cannot be measured. Nothing for a run whose
    scenario has no disruption, or that is one of the two runs of a recovery folder (the
    Overview says where its recovery is)."""
    if recovery_folder_of(loaded.source) is not None:
        return
    plan = plan_recovery(loaded.run, loaded.scenario, loaded.horizon_h)
    if plan.nothing_to_recover:
        return
    if not plan.disruptions:  # the scenario is not known: nor whether it has disruptions
        st.caption(plan.problem)
        return
    st.markdown(f"#### {SECTION}")
    st.caption("Its disruptions: " + "; ".join(d.what for d in plan.disruptions) + ".")
    request = plan.request
    if request is None:
        st.info(plan.problem, icon=":material/info:")
        return
    folder = measured_folder(loaded)
    if is_measured(folder):
        show_recovery_folder(folder, loaded.horizon_h, loaded.run.scenario_name, key=f"overview.recovery[{folder}]",
                             warn_few=False)
        _compare_button(loaded, folder)
        return
    job = job_board().get(request.key)
    if job is not None and job.status is JobStatus.DONE:
        measured = finish_recovery(loaded, job)
        if measured.saved:
            show_recovery_folder(folder, loaded.horizon_h, loaded.run.scenario_name,
                                 key=f"overview.recovery[{folder}]", warn_few=False)
            _compare_button(loaded, folder)
        elif measured.table is not None:
            st.warning(f"The recovery {measured.problem}: it shows here in this session only.",
                       icon=":material/warning:")
            st.caption("The run with its disruptions against the same gate without them, with the same seeds. Mean "
                       "over the replications, with its 95 % interval.")
            show_recovery(measured.table, measured.png, horizon_h=loaded.horizon_h,
                          scenario_name=loaded.run.scenario_name, key=f"overview.recovery[{loaded.label}]", warn_few=False)
        else:
            st.error(f"The recovery {measured.problem}.")
        return
    if job is not None and not job.status.finished:
        if not recovery_asked(loaded, job.key):  # asked for by another run or session: wait for it here too
            ask_recovery(loaded, request)
            st.rerun()
        st.info(f"Measuring: {job.label} runs without the disruptions; its progress shows in the sidebar, and the "
                "recovery here when it finishes.", icon=":material/hourglass_top:")
        return
    if job is not None and job.status is JobStatus.FAILED:
        st.error(f"The run without the disruptions, {job.label}, failed: {job.error}. Nothing was measured, and this "
                 "run is as it was; measure again to run it anew.")
    elif job is not None and job.status is JobStatus.CANCELLED:
        st.info(f"The run without the disruptions, {job.label}, was cancelled: nothing was measured.")
    hours = f"{loaded.horizon_h:g}"
    st.caption(f"Measuring runs the same scenario without them ({request.scenario.name}) with this run's seed "
               f"({request.seed}), replications ({request.replications}) and hours ({hours}), so the same trucks arrive "
               "at both gates, and shows how far behind the disruptions left the gate, how long it took to catch up "
               "and when the time at the gate was back to normal, as 'gatetwin recovery' does. The run waits its turn "
               "with the others; its progress shows in the sidebar.")
    if st.button(MEASURE_LABEL, key=f"overview.recovery.measure[{loaded.label}]", icon=":material/restore:"):
        ask_recovery(loaded, request)
        post_message("info", f"Started {request.scenario.name} (seed {request.seed}, {request.replications} "
                             f"replication(s), {hours} h): its progress shows in the sidebar; the recovery shows on "
                             "'Overview' when it finishes.")
        st.rerun()
