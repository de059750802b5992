"""Small pieces every page uses: figures as images, the "nothing open yet" notice, job progress."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st
from matplotlib.figure import Figure

from dashboard.jobs import JobStatus
from dashboard.state import (
    LoadedRun,
    collect_finished,
    current_run,
    job_board,
    pending_runs,
    preload_from_environment,
    run_picker,
    show_messages,
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
    job_progress()
    st.title(title)
    show_messages()


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
    return loaded


def first_line(text: str | None) -> str:
    """The first line of a message ("" for none)."""
    return text.splitlines()[0] if text else ""


def pick_replication(loaded: LoadedRun, key: str) -> int:
    """A choice of replication when the run has several (pages that show one replication)."""
    reps = loaded.run.replications
    if len(reps) == 1:
        return 0
    return int(st.selectbox("Replication", list(range(len(reps))), key=key,
                            format_func=lambda r: f"replication {r} (seed {reps[r].seed})"))


def table(frame: pd.DataFrame, formats: dict[str, str] | None = None, **kwargs: Any) -> None:
    """A data frame shown with fixed number formats (printf-style, per column)."""
    config = {name: st.column_config.NumberColumn(name, format=fmt) for name, fmt in (formats or {}).items()}
    st.dataframe(frame, hide_index=True, column_config=config, **kwargs)


def _progress_panel() -> None:
    board = job_board()
    pending = pending_runs()
    finished_any = False
    for item in pending:
        job = board.get(item.key)
        if job is None or job.status.finished:
            finished_any = True
            continue
        text = f"{job.label}: {'waiting for the run before it' if job.status is JobStatus.QUEUED else f'{job.progress:.0%}'}"
        st.progress(job.progress, text=text)
        if st.button("Cancel", key=f"cancel-{item.key.scenario_hash[:12]}-{item.key.seed}-{item.key.replications}-{item.key.horizon_h}"):
            board.cancel(item.key)
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
