"""Drivers on the approach corridor: driving, bunching, arriving at the back of the queue."""

from __future__ import annotations

import math

import pytest

from agents import Arrival, Corridor, Driver
from tests.unit.agents.support import AREA, corridor, waiting

STEP_S = 30.0


def drive(model: Corridor, until: float, start: float = 0.0) -> tuple[list[Arrival], list[dict[str, float]]]:
    """Step the corridor every ``STEP_S`` from ``start`` to ``until``; arrivals, and positions after each step."""
    arrivals: list[Arrival] = []
    positions: list[dict[str, float]] = []
    now = start
    while now < until and len(model.active):
        arrivals += model.advance(now, now + STEP_S)
        now += STEP_S
        positions.append({d.visit_id: d.km for d in model.active})
    return arrivals, positions


def test_a_driver_on_a_free_road_drives_at_its_own_speed_until_it_nears_the_checkpoint() -> None:
    model = corridor()
    driver, arrival = model.enter("V1", "14C00001", 60.0, True, 0.0, 0.0)
    assert arrival is None and driver.km == model.road_km
    drive(model, 5 * 60.0)
    assert driver.km == pytest.approx(model.road_km - 60.0 * 5 / 60)  # 5 min at 60 km/h
    assert driver.speed_kmh == pytest.approx(60.0)


def test_a_driver_stops_at_the_back_of_the_road_queue_slowing_down_as_it_closes_in() -> None:
    model = corridor()
    model.queue_tail_km = 2.2
    driver, _ = model.enter("V1", "14C00001", 60.0, True, 0.0, 0.0)
    arrivals, _ = drive(model, 3600.0)
    (arrival,) = arrivals
    assert arrival.driver is driver and driver.km == 2.2 and driver.arrived_at == arrival.time
    free_road_s = (10.0 - 2.2) / 60.0 * 3600.0
    slowest_s = free_road_s + model.slow_zone_km / (60.0 * model.creep_share) * 3600.0
    assert free_road_s < arrival.time < slowest_s
    assert driver.speed_kmh < 60.0, "it was slowing down when it reached the queue"
    assert driver not in model.active, "a truck that arrived is no longer stepped"


def test_a_fast_driver_bunches_behind_a_slow_one_and_never_overtakes() -> None:
    model = corridor()
    slow, _ = model.enter("SLOW", "14C00001", 30.0, True, 0.0, 0.0)
    fast, _ = model.enter("FAST", "14C00002", 90.0, True, 0.0, 0.0)
    assert fast.km > slow.km, "the second truck starts behind the first"
    arrivals, positions = drive(model, 3600.0)
    for where in positions:
        if "SLOW" in where and "FAST" in where:
            assert where["FAST"] - where["SLOW"] >= model.jam_spacing_km - 1e-12
    assert [a.driver.visit_id for a in arrivals] == ["SLOW", "FAST"]
    first, second = arrivals
    assert second.time - first.time >= model.min_gap_s
    assert second.time > model.road_km / 30.0 * 3600.0, "the fast truck arrives no sooner than the slow one could"


def test_trucks_on_the_road_are_counted_by_segment_from_the_checkpoint_out() -> None:
    model = corridor()
    model.enter("A", "14C00001", 60.0, True, 0.0, 0.0)
    drive(model, 6 * 60.0)  # 6 km driven: 4 km to go
    model.enter("B", "14C00002", 60.0, True, 360.0, 360.0)
    assert model.trucks_by_segment() == [1, 1]
    assert model.mean_speed_kmh() == pytest.approx(60.0)


def test_only_drivers_on_the_road_are_stepped() -> None:
    model = corridor()
    parked = waiting(model, "PARKED", obeys=True)
    parked_t = parked.t
    model.enter("MOVING", "14C00002", 60.0, True, 0.0, 0.0)
    stepped: list[str] = []
    original = Driver.step

    def counting(self: Driver) -> None:
        stepped.append(self.visit_id)
        original(self)

    Driver.step = counting  # type: ignore[method-assign]
    try:
        drive(model, 120.0)
    finally:
        Driver.step = original  # type: ignore[method-assign]
    assert stepped and set(stepped) == {"MOVING"}
    assert parked.t == parked_t and parked.km == 0.0


def test_advancing_an_empty_road_steps_nobody() -> None:
    model = corridor()
    assert model.advance(0.0, STEP_S) == []
    assert len(model.active) == 0


def test_a_waiting_truck_is_timed_on_the_road_and_in_the_area_it_stood_in() -> None:
    model = corridor()
    driver = waiting(model, "V1", obeys=True, now=100.0)
    model.place(driver, AREA, 400.0)
    model.leave(driver, 1000.0)
    row = model.collector.get_table_dataframe("passages").iloc[0]
    assert row["road_wait_s"] == pytest.approx(300.0) and row["area_wait_s"] == pytest.approx(600.0)
    assert row["police_moves"] == 1 and row["left_s"] == 1000.0
    assert driver.place is None and model.room(AREA) == 2


def test_a_full_staging_area_takes_no_more_trucks() -> None:
    model = corridor()
    for visit in ("A", "B"):
        model.place(waiting(model, visit, obeys=True), AREA, 0.0)
    with pytest.raises(ValueError, match="staging area staging-1 is full"):
        model.place(waiting(model, "C", obeys=True), AREA, 0.0)


def test_the_drivers_habits_follow_the_speed_spread_and_the_compliance_share() -> None:
    model = corridor(speed_cv=0.2, compliance=0.7)
    speeds, obeys = model.draw_habits(20_000)
    assert speeds.mean() == pytest.approx(60.0, rel=0.02)
    assert speeds.std() / speeds.mean() == pytest.approx(0.2, rel=0.05)
    assert obeys.mean() == pytest.approx(0.7, abs=0.01)
    assert not math.isnan(float(speeds.min())) and speeds.min() >= 5.0


def test_one_observation_counts_the_trucks_per_segment_once_however_many_segments_the_road_has(
        monkeypatch: pytest.MonkeyPatch) -> None:
    model = corridor(segment_km=0.01)  # 1,000 segments on the 10 km road
    for k in range(3):
        model.enter(f"V{k}", f"14C0000{k}", 60.0, True, 0.0, 0.0)
    drive(model, 2 * STEP_S)
    counted = 0
    by_segment = Corridor.trucks_by_segment

    def counting(self: Corridor) -> list[int]:
        nonlocal counted
        counted += 1
        return by_segment(self)

    monkeypatch.setattr(Corridor, "trucks_by_segment", counting)
    model.observe(60.0)
    assert counted == 1
    row = model.collector.get_model_vars_dataframe().iloc[-1]
    segments = [column for column in row.index if column.startswith("trucks_km_")]
    assert len(segments) == 1000 and row[segments].sum() == 3


def test_a_truck_sent_back_to_the_checkpoint_has_no_approach_time_as_it_did_not_drive_the_road() -> None:
    model = corridor()
    drove, _ = model.enter("V1", "14C00001", 60.0, True, 0.0, 0.0)
    (arrival,) = drive(model, 3600.0)[0]
    model.place(drove, "road", arrival.time)
    model.leave(drove, arrival.time + 60.0)
    back = model.at_checkpoint("V1", "14C00001", 60.0, True, 5000.0)  # the yard filled while it was at barrier 1
    model.place(back, "road", 5000.0)
    model.leave(back, 5300.0)
    first, second = model.collector.get_table_dataframe("passages").to_dict("records")
    assert first["approach_s"] == pytest.approx(arrival.time) and first["approach_s"] > 0.0
    assert math.isnan(second["approach_s"]), "a truck that did not drive the road is not averaged in as a zero"
    assert second["road_wait_s"] == pytest.approx(300.0)


def test_a_road_cut_into_more_segments_than_the_series_can_show_is_refused_naming_the_setting() -> None:
    with pytest.raises(ValueError, match=r"segment_km: 0\.001 km cuts the 10 km road into 10,000 segments; at most 1,000"):
        corridor(segment_km=0.001)
    assert corridor(segment_km=0.01).segments == 1000, "a segment of 10 m on a 10 km road is still allowed"
