"""Trucks at each place at a moment, from the per-truck stage timestamps."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from dashboard.replay import PLACES, agv_handover, clock_label, passage_end, series_value_at, stays
from twin.probes import TRUCK_TIME_COLUMNS, YARD_OCCUPANCY
from twin.results import RunResult

NAN = math.nan


def trucks_table(*rows: dict[str, object]) -> pd.DataFrame:
    """A trucks table with every time column; unstamped stages are NaN."""
    records = []
    for row in rows:
        record: dict[str, object] = {name: NAN for name in TRUCK_TIME_COLUMNS}
        record.update({"outcome": "inside", "crossing_mode": "road_handover", "agv_containers": 0})
        record.update(row)
        records.append(record)
    return pd.DataFrame.from_records(records)


#: A truck that passes every station: road 0-100, staging 100-200, drive, entry 210-220,
#: scale 250-260, scanner 300-320, yard 400-900 (inspection bay 460-800 inside it), exit 960-980.
FULL_PASSAGE = {
    "arrival": 0.0, "staging_in": 100.0, "staging_out": 200.0, "entry_in": 210.0, "entry_out": 220.0,
    "scale_in": 250.0, "scale_out": 260.0, "scanner_in": 300.0, "scanner_out": 320.0, "yard_in": 400.0,
    "inspection_in": 460.0, "inspection_out": 800.0, "yard_out": 900.0, "exit_in": 960.0, "departed": 980.0,
    "outcome": "departed",
}


def place_of(table: pd.DataFrame, time: float) -> list[str]:
    counts = stays(table).counts_at(time)
    return [place for place, n in counts.items() for _ in range(n)]


@pytest.mark.parametrize(("time", "place"), [
    (50.0, "road"), (100.0, "staging"), (205.0, "moving"), (215.0, "entry"), (255.0, "scale"), (310.0, "scanner"),
    (430.0, "yard"), (500.0, "inspection"), (850.0, "moving"), (970.0, "exit"),
])
def test_a_truck_is_at_exactly_one_place_at_each_moment_of_its_passage(time: float, place: str) -> None:
    assert place_of(trucks_table(FULL_PASSAGE), time) == [place]


def test_a_truck_is_nowhere_before_it_arrives_and_after_it_departs() -> None:
    table = trucks_table({**FULL_PASSAGE, "arrival": 10.0})
    assert place_of(table, 5.0) == []
    assert place_of(table, 980.0) == []


def test_a_stay_without_an_out_stamp_ends_when_the_truck_is_stamped_into_the_next_place() -> None:
    rerouted = {**FULL_PASSAGE, "scanner_out": NAN}  # left the scanner queue for the yard
    table = trucks_table(rerouted)
    assert place_of(table, 350.0) == ["scanner"]
    assert place_of(table, 400.0) == ["yard"]


def test_a_truck_still_inside_at_the_end_stays_where_it_was_last_stamped() -> None:
    table = trucks_table({"arrival": 0.0, "staging_in": 100.0, "staging_out": 150.0, "entry_in": 200.0})
    assert place_of(table, 10_000.0) == ["entry"]
    assert passage_end(table)[0] == math.inf


def test_a_truck_turned_back_for_redeclaration_leaves_when_it_is_returned() -> None:
    returned = {"arrival": 0.0, "staging_in": 100.0, "staging_out": 120.0, "entry_in": 150.0, "returned_at": 300.0,
                "outcome": "returned"}
    table = trucks_table(returned)
    assert place_of(table, 250.0) == ["entry"]
    assert place_of(table, 300.0) == []


def test_a_refused_truck_leaves_at_its_last_stamp() -> None:
    refused = {"arrival": 0.0, "staging_in": 100.0, "staging_out": 120.0, "entry_in": 150.0, "entry_out": 170.0,
               "yard_in": 200.0, "yard_out": 500.0, "outcome": "refused"}
    table = trucks_table(refused)
    assert passage_end(table)[0] == 500.0
    assert place_of(table, 499.0) == ["yard"]
    assert place_of(table, 500.0) == []


def test_a_truck_that_came_back_counts_on_the_road_until_its_accepted_passage() -> None:
    came_back = {**FULL_PASSAGE, "returned_at": 60.0, "arrival": 0.0}
    shifted = {key: (value + 1000.0 if key not in ("arrival", "returned_at", "outcome") else value)
               for key, value in came_back.items()}
    table = trucks_table(shifted)
    assert place_of(table, 500.0) == ["road"]
    assert place_of(table, 1100.0) == ["staging"]


def test_counts_at_a_moment_add_up_over_many_trucks() -> None:
    offsets = [0.0, 30.0, 300.0, 700.0]
    table = trucks_table(*({k: (v + o if isinstance(v, float) else v) for k, v in FULL_PASSAGE.items()} for o in offsets))
    counts = stays(table).counts_at(750.0)
    # At 750: trucks 0 and 1 are in the bays (460-800, 490-830), truck 2 parks in the yard
    # (700, its bay from 760), truck 3 has just arrived on the road (700, staging at 800).
    assert counts["inspection"] == 2
    assert counts["yard"] == 1
    assert counts["road"] == 1
    assert sum(counts.values()) == 4


def test_the_timeline_agrees_with_counting_each_moment_alone() -> None:
    offsets = [0.0, 45.0, 130.0, 610.0]
    table = trucks_table(*({k: (v + o if isinstance(v, float) else v) for k, v in FULL_PASSAGE.items()} for o in offsets))
    occupancy = stays(table)
    times = np.arange(0.0, 1700.0, 37.0)
    timeline = occupancy.timeline(times)
    for time in times[::5]:
        assert timeline.loc[time].to_dict() == occupancy.counts_at(time)
    assert list(timeline.columns) == list(PLACES)


def test_a_table_without_the_stage_columns_is_refused_with_the_missing_names() -> None:
    with pytest.raises(ValueError, match="missing column.*yard_in"):
        stays(pd.DataFrame({"arrival": [0.0], "outcome": ["inside"]}))


def test_the_yard_and_its_bays_hold_what_the_yard_occupancy_probe_measured(baseline_run: RunResult) -> None:
    rep = baseline_run.replications[0]
    occupancy = stays(rep.trucks)
    series = rep.series[YARD_OCCUPANCY]
    # Probe and stamps are written at the same instants; look just after each change.
    times = series["time"][1:] + 1e-6
    counted = occupancy.count("yard", times) + occupancy.count("inspection", times)
    # Between leaving the bay and leaving the yard (well under a second) a truck is counted
    # as driving; compare at moments where no truck is in that gap.
    moving_out_of_bay = [(row.inspection_out, row.yard_out) for row in rep.trucks.itertuples()
                         if not math.isnan(row.inspection_out)]
    clear = np.array([not any(a <= t < b for a, b in moving_out_of_bay) for t in times])
    assert clear.sum() > 20
    np.testing.assert_array_equal(counted[clear], series["value"][1:][clear])


def test_everyone_counted_is_a_truck_that_arrived_and_had_not_finished(baseline_run: RunResult) -> None:
    trucks = baseline_run.replications[1].trucks
    occupancy = stays(trucks)
    end = passage_end(trucks)
    arrival = trucks["arrival"].to_numpy()
    for time in np.arange(0.0, 5 * 3600.0, 600.0):
        expected = int(((arrival <= time) & (end > time)).sum())
        assert sum(occupancy.counts_at(time).values()) == expected
        assert all(n >= 0 for n in occupancy.counts_at(time).values())


def test_agv_containers_count_as_handed_over_once_their_truck_leaves_the_yard() -> None:
    agv = {**FULL_PASSAGE, "crossing_mode": "agv_lane", "agv_containers": 2}
    table = trucks_table(agv, FULL_PASSAGE)
    assert agv_handover(table, 500.0) == (1, 0)
    assert agv_handover(table, 900.0) == (0, 2)


def test_a_series_level_is_read_as_a_step_function() -> None:
    series = {"time": np.array([0.0, 10.0, 20.0]), "value": np.array([1.0, 3.0, 2.0])}
    assert series_value_at(series, 9.9) == 1.0
    assert series_value_at(series, 10.0) == 3.0
    assert series_value_at(series, 99.0) == 2.0
    assert math.isnan(series_value_at(series, -1.0))
    assert math.isnan(series_value_at(None, 5.0))


@pytest.mark.parametrize(("seconds", "label"), [(0.0, "day 1, 00:00"), (9 * 3600 + 30 * 60, "day 1, 09:30"),
                                                 (25 * 3600, "day 2, 01:00"), (59.6, "day 1, 00:01")])
def test_simulation_times_read_as_day_and_clock(seconds: float, label: str) -> None:
    assert clock_label(seconds) == label


def test_the_peak_at_a_place_counts_a_stay_shorter_than_any_sampling_step() -> None:
    # Two trucks in the yard together from 400 to 430 s only: no five-minute sample sees both.
    table = trucks_table(FULL_PASSAGE, {**FULL_PASSAGE, "arrival": 0.0, "yard_in": 370.0, "inspection_in": NAN,
                                        "inspection_out": NAN, "yard_out": 430.0, "exit_in": 440.0, "departed": 450.0})
    occupancy = stays(table)
    assert occupancy.timeline(np.arange(0.0, 1200.0, 300.0))["yard"].max() < 2
    peaks = occupancy.peaks()
    assert peaks["yard"] == 2
    assert list(peaks) == list(PLACES)
    # Checked against counting at every whole second of the passage.
    brute = occupancy.timeline(np.arange(0.0, 1000.0, 1.0)).max()
    assert peaks == {place: int(brute[place]) for place in PLACES}


def test_the_schematic_shows_the_road_queue_as_part_of_the_staging_count_not_of_the_trucks_driving() -> None:
    from dashboard.charts import gate_schematic_figure

    counts = {place: 0 for place in PLACES} | {"road": 7, "staging": 3}
    figure = gate_schematic_figure(counts, "day 1, 10:00", road_queue=(1.0, 0.02), in_areas=2.0)
    texts = {text.get_text(): text.get_position() for text in figure.axes[0].texts}
    assert "Driving on the\napproach road" in texts
    waiting = "of them waiting\non the road: 1 truck\n(0.02 km)\nin staging areas: 2"
    assert waiting in texts
    staging = next(patch for patch in figure.axes[0].patches if patch.get_x() == 18.0)  # the staging box
    assert staging.get_x() < texts[waiting][0] < staging.get_x() + staging.get_width()
    assert not any("queued on the road" in text for text in texts)
    assert "on the approach road or inside the gate: 10 trucks" in texts
