"""Plots: each figure shows what it claims, with units, and the writer leaves PNG files."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from twin.plots import down_spans, levels_figure, queue_length_figure, time_distribution_figure, utilisation_figure, write_plots
from twin.probes import TruckLog
from twin.results import RunResult
from twin.stats import Interval

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_write_plots_leaves_a_png_for_each_view(one_scanner_run: RunResult, tmp_path: Path) -> None:
    paths = write_plots(one_scanner_run, tmp_path)
    assert [p.name for p in paths] == ["queue_length.png", "utilisation.png", "truck_times.png", "levels.png"]
    for path in paths:
        data = path.read_bytes()
        assert data.startswith(PNG_SIGNATURE), path.name
        assert len(data) > 10_000, f"{path.name} looks empty"


def test_the_queue_plot_has_a_panel_per_station_in_hours(one_scanner_run: RunResult) -> None:
    rep = one_scanner_run.replications[0]
    figure = queue_length_figure(rep.series, list(rep.stations), end=86_400.0)
    assert [ax.get_title(loc="left") for ax in figure.axes] == ["entry_lane", "scanner"]
    assert figure.axes[-1].get_xlabel() == "time (hours)"
    assert figure.axes[0].get_ylabel() == "waiting (trucks)"
    line = figure.axes[1].lines[0]
    assert line.get_xdata()[-1] == 24.0  # the last level is carried to the end of the day
    assert np.array_equal(line.get_ydata()[:-1], rep.series["scanner"]["queue"])


def test_the_queue_plot_shades_a_scanner_outage() -> None:
    series = {"scanner": {"time": np.array([0.0, 3600.0, 7200.0]), "queue": np.array([0.0, 4.0, 0.0]),
                          "busy": np.zeros(3), "servers": np.array([1.0, 0.0, 1.0])}}
    figure = queue_length_figure(series, ["scanner"], end=10_800.0)
    legend = figure.axes[0].get_legend()
    assert legend is not None
    assert [t.get_text() for t in legend.get_texts()] == ["no server available"]
    (band,) = figure.axes[0].patches
    corners = band.get_patch_transform().transform(band.get_path().vertices)
    assert (corners[:, 0].min(), corners[:, 0].max()) == (1.0, 2.0)  # a band over the hour down, not a line


def test_down_spans_cover_each_spell_at_zero_servers_including_one_running_at_the_end() -> None:
    time = np.array([0.0, 10.0, 20.0, 30.0, 40.0])
    servers = np.array([1.0, 0.0, 0.0, 2.0, 0.0])
    assert down_spans(time, servers) == [(10.0, 30.0)]  # the last step has no length yet
    assert down_spans(np.append(time, 50.0), np.append(servers, 0.0)) == [(10.0, 30.0), (40.0, 50.0)]
    assert down_spans(np.zeros(0), np.zeros(0)) == []


def test_the_time_histograms_are_in_minutes_and_say_when_no_truck_reached_the_gate() -> None:
    log = TruckLog()
    for minutes in (10, 20, 30):
        row = log.new_truck(arrival=0.0)
        log.stamp(row, "entry_in", 0.0)
        log.stamp(row, "departed", minutes * 60.0)
        log.set(row, "outcome", "departed")
    stranded = log.new_truck(arrival=0.0)
    log.stamp(stranded, "staging_in", 0.0)
    log.new_truck(arrival=0.0)  # still on the approach road: not at the gate
    figure = time_distribution_figure(log.to_frame(end=3_600.0))
    assert [ax.get_xlabel() for ax in figure.axes] == ["minutes", "minutes"]
    assert sum(patch.get_height() for patch in figure.axes[0].patches) == 4  # the stranded truck too
    empty = time_distribution_figure(TruckLog().to_frame())
    assert empty.axes[0].texts[0].get_text() == "no truck reached the gate"


def test_the_utilisation_chart_leaves_out_unlimited_stations_and_names_them() -> None:
    nan = float("nan")
    figure = utilisation_figure({"scanner": Interval(0.92, 0.05, 0.87, 0.97, 3), "scale": Interval(0.4, nan, nan, nan, 1),
                                 "yard": Interval(nan, nan, nan, nan, 0)})
    ax = figure.axes[0]
    assert [tick.get_text() for tick in ax.get_xticklabels()] == ["scanner", "scale"]
    assert [round(p.get_height(), 2) for p in ax.patches] == [0.92, 0.4]
    assert "yard" in ax.get_title(loc="left")
    assert ax.get_ylabel() == "utilisation (share of server time)"


def test_the_levels_plot_labels_trucks_and_km() -> None:
    series = {
        "yard_occupancy": {"time": np.array([0.0, 3600.0]), "value": np.array([0.0, 40.0])},
        "road_queue_km": {"time": np.array([0.0, 7200.0]), "value": np.array([0.0, 3.5])},
    }
    figure = levels_figure(series, ["yard_occupancy", "road_queue_km", "absent"], end=10_800.0)
    assert [ax.get_ylabel() for ax in figure.axes] == ["trucks", "km"]
    assert figure.axes[-1].get_xlabel() == "time (hours)"


def test_no_replication_means_no_plot(tmp_path: Path) -> None:
    run = RunResult("empty", "0", [], {}, {})
    assert write_plots(run, tmp_path) == []
    assert list(tmp_path.iterdir()) == []


def test_the_report_queue_plot_leaves_out_stations_where_nobody_waited_and_names_them() -> None:
    series = {
        "entry_lane": {"time": np.array([0.0, 600.0]), "queue": np.array([0.0, 0.0]), "busy": np.zeros(2)},
        "scale-1": {"time": np.array([0.0, 600.0, 1200.0]), "queue": np.array([0.0, 3.0, 0.0]), "busy": np.zeros(3)},
    }
    figure = queue_length_figure(series, ["entry_lane", "scale-1"], end=3600.0, skip_empty=True)
    assert [ax.get_title(loc="left") for ax in figure.axes] == ["scale-1"]
    assert "no truck waited at: entry_lane" in figure.get_suptitle()
    everything = queue_length_figure(series, ["entry_lane", "scale-1"], end=3600.0)
    assert [ax.get_title(loc="left") for ax in everything.axes] == ["entry_lane", "scale-1"]


def test_runs_longer_than_three_days_are_plotted_in_days() -> None:
    two_weeks = 14 * 86_400.0
    series = {"scale-1": {"time": np.array([0.0, 86_400.0]), "queue": np.array([0.0, 2.0]), "busy": np.zeros(2)},
              "yard_occupancy": {"time": np.array([0.0, 86_400.0]), "value": np.array([0.0, 5.0])}}
    queue = queue_length_figure(series, ["scale-1"], end=two_weeks)
    assert queue.axes[-1].get_xlabel() == "time (days)"
    assert queue.axes[0].lines[0].get_xdata()[-1] == 14.0
    levels = levels_figure(series, ["yard_occupancy"], end=two_weeks)
    assert levels.axes[-1].get_xlabel() == "time (days)"
    assert levels_figure(series, ["yard_occupancy"], end=86_400.0).axes[-1].get_xlabel() == "time (hours)"
