"""The agents' DataCollector series as a figure."""

from __future__ import annotations

import pandas as pd

from twin.plots import agents_figure

CORRIDOR = pd.DataFrame({
    "time_h": [0.0, 0.25, 0.5], "driving": [0, 3, 2], "trucks_km_0_5": [0, 1, 2], "trucks_km_5_10": [0, 2, 0],
    "waiting_on_road": [0, 1, 4], "waiting_in_areas": [0, 0, 6], "awaiting_forecourt": [0, 1, 9],
    "hold_advice": [0, 0, 1],
})
DECLARANTS = pd.DataFrame({"time_h": [0.0, 0.25, 0.5], "declarations_awaiting_amendment": [0, 2, 1],
                           "returns_so_far": [0, 2, 3]})


def test_the_agents_figure_shows_road_segments_the_checkpoint_and_awaited_amendments() -> None:
    figure = agents_figure(CORRIDOR, DECLARANTS, "Agents")
    segments, checkpoint, declarants = figure.axes
    assert [line.get_label() for line in segments.get_lines()] == ["0-5 km", "5-10 km"]
    assert [line.get_label() for line in checkpoint.get_lines()] == [
        "on the road", "in staging areas", "called, waiting for the forecourt"]
    assert list(checkpoint.get_lines()[1].get_ydata()) == [0, 0, 6]
    assert "HOLD advice" in [t.get_text() for t in checkpoint.get_legend().get_texts()]
    assert list(declarants.get_lines()[0].get_ydata()) == [0, 2, 1]
    assert all(ax.get_xlabel() in ("", "time (hours)") for ax in figure.axes)


def test_the_agents_figure_leaves_out_a_missing_series() -> None:
    assert len(agents_figure(None, DECLARANTS).axes) == 1
    assert len(agents_figure(CORRIDOR, None).axes) == 2
    (empty,) = agents_figure(None, None).axes
    assert empty.texts[0].get_text() == "no agent series"
