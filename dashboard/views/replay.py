"""Gate replay: the gate drawn from above with the trucks at each place, at a moment you choose.

The counts come from the per-truck stage timestamps (``dashboard.replay``). The time slider
moves in steps; "Play" advances it by one step per tick until the end of the run, where
playing stops and the whole page is drawn again, so the button says "Play" once more; "Play"
at the end starts again from the beginning. The moment shown and the step are kept while the
user visits other pages.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from dashboard.analysis import STAGING_OCCUPANCY, agent_series, corridor_at
from dashboard.replay import (
    PLACE_LABELS,
    PLACES,
    Stays,
    agv_handover,
    clock_label,
    series_value_at,
    stays,
    trucks_text,
)
from dashboard.charts import gate_schematic_figure, place_timeline_figure
from dashboard.state import remember, remembered, restore_widget
from dashboard.ui import page_setup, pick_replication, require_run, show_figure, table
from twin.probes import ROAD_QUEUE_KM, ROAD_QUEUE_TRUCKS, YARD_OCCUPANCY

TIME_KEY = "replay.minute"
PLAYING_KEY = "replay.playing"
STEP_KEY = "replay.step"
#: Set when Play starts again from the beginning: that moment is shown before the first step.
REWOUND_KEY = "replay.rewound"
TICK_S = 1.0
STEPS_MIN = {"15 minutes": 15, "30 minutes": 30, "1 hour": 60, "3 hours": 180}


@st.cache_data(show_spinner=False, max_entries=16)
def _stays(trucks: pd.DataFrame) -> Stays:
    return stays(trucks)


def _toggle_play(first: int, last: int) -> None:
    """Play or pause; Play at the last moment (``last``, minutes) starts again from ``first``."""
    playing = not st.session_state.get(PLAYING_KEY, False)
    st.session_state[PLAYING_KEY] = playing
    if playing and st.session_state.get(TIME_KEY, first) >= last:
        st.session_state[TIME_KEY] = first
        st.session_state[REWOUND_KEY] = True


page_setup("Gate replay")
loaded = require_run()
if loaded is not None:
    replication = pick_replication(loaded, "replay.replication")
    rep = loaded.run.replications[replication]
    trucks = rep.trucks
    occupancy = _stays(trucks)
    end_min = int(round(loaded.horizon_h * 60))
    grid = np.arange(0, end_min * 60 + 1, 300.0)
    timeline = occupancy.timeline(grid)
    peaks = occupancy.peaks()
    stations = set(rep.stations)
    absent = [place for place, prefix in (("scale", "scale-"), ("scanner", "scanner-"), ("inspection", "inspection"))
              if not any(name.startswith(prefix) for name in stations)]
    has_agv = bool(rep.extra.get("agv"))
    corridor, _ = agent_series(loaded.run, replication)

    controls = st.columns([1, 1, 3], vertical_alignment="bottom")
    with controls[0]:
        restore_widget(STEP_KEY, next(iter(STEPS_MIN)))
        step_name = st.selectbox("Step", list(STEPS_MIN), key=STEP_KEY)
        remember(STEP_KEY, step_name)
    step = STEPS_MIN[step_name]
    options = list(range(0, end_min + 1, step))
    if options[-1] != end_min:
        options.append(end_min)
    with controls[1]:
        playing = bool(st.session_state.get(PLAYING_KEY, False))
        st.button("Pause" if playing else "Play", key="replay.play", on_click=_toggle_play, args=(options[0], options[-1]),
                  icon=":material/pause:" if playing else ":material/play_arrow:")

    @st.fragment(run_every=TICK_S if playing else None)
    def replay_view() -> None:
        current = st.session_state.get(TIME_KEY, remembered(TIME_KEY, options[len(options) // 2]))
        current = min(options, key=lambda m: abs(m - current))
        if st.session_state.pop(REWOUND_KEY, False):
            pass  # show the beginning first; the next tick moves on
        elif st.session_state.get(PLAYING_KEY):
            following = [m for m in options if m > current]
            if following:
                current = following[0]
            else:
                # The button is drawn outside this fragment: draw the page again for it to say Play.
                st.session_state[PLAYING_KEY] = False
                st.session_state[TIME_KEY] = current
                remember(TIME_KEY, current)
                st.rerun(scope="app")
        st.session_state[TIME_KEY] = current
        minute = st.select_slider("Time", options=options, key=TIME_KEY, format_func=lambda m: clock_label(m * 60.0))
        remember(TIME_KEY, minute)
        now = minute * 60.0
        counts = occupancy.counts_at(now)
        road = (series_value_at(rep.series.get(ROAD_QUEUE_TRUCKS), now), series_value_at(rep.series.get(ROAD_QUEUE_KM), now))
        in_areas = series_value_at(rep.series.get(STAGING_OCCUPANCY), now)
        agv = agv_handover(trucks, now) if has_agv else None
        when = clock_label(now)
        show_figure(gate_schematic_figure(counts, when, peaks, absent, road, agv, in_areas),
                    f"Trucks at each place at {when}; darker boxes are nearer their peak of the run. The approach road "
                    "counts trucks still driving to the checkpoint; the staging area counts every truck waiting to be "
                    "called forward, of them those queued on the road (the Overview's road queue) and those in "
                    "staging areas.")
        left, right = st.columns([3, 2])
        with left:
            frame = pd.DataFrame({
                "place": [PLACE_LABELS[p] for p in PLACES],
                "trucks now": [counts[p] for p in PLACES],
                "most in the run": [peaks[p] for p in PLACES],
            })
            table(frame, labels={"trucks now": ("now", f"Trucks there at {when}."),
                                 "most in the run": ("peak", "The most trucks there at any moment of the run, from "
                                                     "every truck's times in and out.")},
                  widths={"place": "medium", "trucks now": "small", "most in the run": "small"}, key="replay-counts")
        with right:
            st.caption(f"{trucks_text(sum(counts.values()))} on the approach road or inside the gate at {when}.")
            yard_max = rep.kpis.get(YARD_OCCUPANCY + "_max")
            if yard_max is not None and not np.isnan(yard_max) and int(yard_max) != peaks["yard"]:
                st.caption(f"The yard's peak here ({peaks['yard']}) counts the trucks parked in it; the Overview's yard "
                           f"peak ({yard_max:.0f} in this replication) also counts those in its inspection bays.")
        show_figure(place_timeline_figure(timeline, now, [p for p in PLACES if peaks[p] > 0] or list(PLACES)),
                    "Trucks at each place over the run; the black line is the moment shown above.")
        if corridor is not None:
            on_corridor, counted_h = corridor_at(corridor, now / 3600.0)
            st.markdown("##### On the approach corridor (Mesa agents)")
            table(on_corridor, key="replay-corridor")
            st.caption(f"Trucks on each stretch of the approach road as the agents counted them at "
                       f"{clock_label(counted_h * 3600.0)}, their last count at or before {when}.")

    replay_view()
