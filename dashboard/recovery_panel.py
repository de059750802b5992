"""The recovery from the disruptions on the page: its table, what caught up and when the waits
were back to normal, and its figure, from a folder written by ``gatetwin recovery --out`` or
from memory.
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
    waits_normal_line,
)
from dashboard.state import short_source
from dashboard.ui import INTERVAL_HELP, table
from twin.compare import few_replications_warning
from twin.recovery import RECOVERY_CSV, RECOVERY_PLOT

#: The heading of the recovery.
SECTION = "Recovery from the disruptions"


def show_recovery(recovery: pd.DataFrame, png: bytes | None, *, horizon_h: float, scenario_name: str, key: str,
                  no_figure: str = "No figure of the trucks behind over time.", warn_few: bool = True) -> None:
    """A recovery table (``recovery.csv`` read back, or ``RecoveryReport.table``): each figure with
    its 95 % interval, how many replications caught up and had their waits back to normal, and
    the figure of the trucks behind (``png``; ``no_figure`` said instead when there is none).
    ``warn_few``: warn when the intervals rest on too few replications (not when the page has
    said so of the run already)."""
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
