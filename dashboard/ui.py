"""Small pieces every page uses: figures as images, the "nothing open yet" notice, job progress."""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st
from matplotlib.figure import Figure

from dashboard.analysis import format_number, older_results_note
from dashboard.jobs import JobKey, JobStatus
from twin.compare import few_replications_warning
from dashboard.state import (
    LoadedRun,
    collect_finished,
    current_run,
    dismiss_start_problems,
    job_board,
    pending_runs,
    post_message,
    preload_from_environment,
    remember,
    restore_widget,
    run_picker,
    show_messages,
    start_problems,
)

#: Resolution of figures shown in the browser.
FIGURE_DPI = 100
#: Seconds between two looks at the background runs while any is unfinished.
POLL_S = 1.0
RUN_PAGE = "views/run.py"


def page_setup(title: str) -> None:
    """What every page does first: open the results named at start, draw the sidebar (the run
    shown, the progress of background runs), the page title and any pending messages."""
    preload_from_environment()
    st.sidebar.title("gatetwin")
    st.sidebar.caption("Digital twin of a road-freight border gate")
    run_picker()
    start_problems_notice()
    job_progress()
    st.title(title)
    show_messages()


#: Key of the button that dismisses ``start_problems_notice``.
DISMISS_START_PROBLEMS = "gatetwin.dismiss_start_problems"


def start_problems_notice() -> None:
    """In the sidebar, on every page: the results folders named at start that did not open, and
    why, until the user dismisses them or picks other results."""
    problems = start_problems()
    if not problems:
        return
    with st.sidebar:
        for problem in problems:
            st.error(f"Not opened at start: {problem}", icon=":material/folder_off:")
        st.button("Dismiss", key=DISMISS_START_PROBLEMS, on_click=dismiss_start_problems,
                  help="Hide this message; it also goes once other results are opened or chosen.")


def show_figure(figure: Figure, alt: str) -> None:
    """Draw a matplotlib figure as a PNG image (``alt`` describes it for screen readers)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=FIGURE_DPI)
    st.image(buffer.getvalue(), width="stretch", caption=None, output_format="PNG")
    st.caption(alt)


def require_run() -> LoadedRun | None:
    """The run to show; when nothing is open, a notice pointing to the page that opens runs."""
    loaded = current_run()
    if loaded is None:
        st.info("No results are open yet. Run a scenario, or open results saved by 'gatetwin run --out', "
                "on the 'Run or open' page.")
        st.page_link(RUN_PAGE, label="Run or open results", icon=":material/play_arrow:")
        return None
    if not loaded.run.replications:
        st.error(f"{loaded.label}: the run has no finished replication. {first_line(loaded.run.failed)}")
        return None
    show_format_note(loaded)
    return loaded


def show_format_note(loaded: LoadedRun) -> None:
    """Say what a run from a folder written by another version lacks and how to get it (nothing
    for a run in this version's format)."""
    note = older_results_note(loaded.run, loaded.source if Path(loaded.source).is_dir() else None)
    if note:
        st.warning(f"{loaded.label}: {note}", icon=":material/history:")


#: What an interval column of a table shows, for its heading's help.
INTERVAL_HELP = ("The 95 % confidence interval over replications: ± its half width, or its bounds where the "
                 "quantity's range cuts it (a share cannot go below 0 or above 1, a count or a time below 0); "
                 "'same in all N replications' when every replication gave the same value.")


def show_few_replications(loaded: LoadedRun) -> None:
    """A warning, on a page that shows intervals, when they rest on too few replications."""
    few = few_replications_warning({loaded.label: len(loaded.run.replications)})
    if few:
        st.warning(few, icon=":material/warning:")


def first_line(text: str | None) -> str:
    """The first line of a message ("" for none)."""
    return text.splitlines()[0] if text else ""


def replication_key(loaded: LoadedRun, key: str) -> str:
    """The key of a page's replication picker (``key``) while it shows ``loaded``.

    One widget per run: Streamlit keeps a keyed widget's identity when its options change, so a
    picker shared by every run would go on showing the label chosen for the run shown before.
    """
    return f"{key}[{loaded.label}]"


def pick_replication(loaded: LoadedRun, key: str) -> int:
    """A choice of replication when the run has several (pages that show one replication)."""
    reps = loaded.run.replications
    if len(reps) == 1:
        return 0
    widget = replication_key(loaded, key)
    restore_widget(widget, 0)  # the choice is kept while the user visits other pages
    chosen = int(st.selectbox("Replication", list(range(len(reps))), key=widget,
                              format_func=lambda r: f"replication {r} (seed {reps[r].seed})",
                              help="Replication r of a run uses the run's seed and its own random streams; "
                                   "runs with the same seed share replication r's random numbers."))
    remember(widget, chosen)
    return chosen


#: What a table shows for a missing number (NaN), rather than Streamlit's "None".
MISSING = "—"


def table(frame: pd.DataFrame, formats: dict[str, str] | None = None, *, missing: dict[str, str] | None = None,
          labels: dict[str, tuple[str, str]] | None = None, widths: dict[str, str | int] | None = None,
          pinned: tuple[str, ...] = (), **kwargs: Any) -> None:
    """A data frame shown with fixed number formats (printf-style, per column).

    A number column with a missing value is shown as text: each number in its format, each
    missing one as ``missing[column]`` (``MISSING`` by default). ``labels`` gives a column a
    short heading and its full meaning as the heading's help; ``widths`` a column's width
    ("small", "medium", "large" or pixels); ``pinned`` columns stay in view when a table wider
    than the page is scrolled. The data keep their column names.
    """
    formats, missing, labels, widths = formats or {}, missing or {}, labels or {}, widths or {}
    shown = frame
    config: dict[str, Any] = {}
    for name in frame.columns:
        label, help_text = labels.get(name, (name, None))
        common: dict[str, Any] = {"label": label, "help": help_text, "width": widths.get(name),
                                  "pinned": True if name in pinned else None}
        column = frame[name]
        if pd.api.types.is_float_dtype(column) and column.isna().any():
            fmt = formats.get(name)
            blank = missing.get(name, MISSING)
            if shown is frame:
                shown = frame.copy()
            shown[name] = [blank if math.isnan(v) else (fmt % v if fmt else format_number(v)) for v in column]
            config[name] = st.column_config.TextColumn(alignment="right", **common)
        elif name in formats:
            config[name] = st.column_config.NumberColumn(format=formats[name], **common)
        elif name in labels or name in widths or name in pinned:
            config[name] = st.column_config.Column(**common)
    st.dataframe(shown, hide_index=True, column_config=config, **kwargs)


def _cancel(key: JobKey, label: str) -> None:
    """Cancel a run; say so when it is too late (its simulation is over, its results are being
    written or are written)."""
    if not job_board().cancel(key):
        post_message("info", f"{label}: too late to cancel: its simulation had finished, and its results open "
                             "once written.")


def _progress_panel() -> None:
    board = job_board()
    pending = pending_runs()
    finished_any = False
    for item in pending:
        job = board.get(item.key)
        if job is None or job.status.finished:
            finished_any = True
            continue
        if job.writing:  # too late to cancel: no button
            st.progress(1.0, text=f"{job.label}: simulated; writing results…")
            continue
        text = f"{job.label}: {'waiting for the run before it' if job.status is JobStatus.QUEUED else f'{job.progress:.0%}'}"
        st.progress(job.progress, text=text)
        # A callback, which runs even when the click arrives after the run began writing and the
        # button is no longer drawn.
        st.button("Cancel", key=f"cancel-{item.key.scenario_hash[:12]}-{item.key.seed}-{item.key.replications}-{item.key.horizon_h}",
                  on_click=_cancel, args=(item.key, job.label))
    if finished_any:
        collect_finished()
        st.rerun(scope="app")


def job_progress() -> None:
    """Progress of this session's background runs, polled while any is unfinished.

    Runs as a fragment so only this panel redraws while polling; when a run finishes the
    whole page is drawn again with the new results.
    """
    if not pending_runs():
        return
    with st.sidebar:
        st.subheader("Runs in progress")
        fragment: Callable[[], None] = st.fragment(run_every=POLL_S)(_progress_panel)
        fragment()
