"""Probes: station and counter step series, Little's law, the per-truck table."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from gate.enums import Channel, Direction
from twin.probes import TRUCK_COLUMNS, CounterProbe, StationProbe, TruckLog
from twin.stats import erlang_c_wait


def test_a_station_summary_matches_a_hand_worked_sequence() -> None:
    scanner = StationProbe("scanner", servers=1)
    scanner.arrive(0.0)
    scanner.start_service(0.0)
    scanner.arrive(2.0)
    scanner.arrive(3.0)
    scanner.end_service(4.0)
    scanner.start_service(4.0)
    scanner.end_service(6.0)
    scanner.start_service(6.0)
    scanner.end_service(9.0)
    summary = scanner.summary(0.0, 10.0)
    # Queue: 1 on [2,3), 2 on [3,4), 1 on [4,6): 5 truck-seconds over 10 s.
    assert summary.mean_queue == pytest.approx(0.5)
    assert summary.mean_in_service == pytest.approx(0.9)
    assert summary.utilisation == pytest.approx(0.9)
    assert summary.max_queue == 2
    assert (summary.arrivals, summary.completions, summary.abandoned) == (3, 3, 0)
    assert summary.mean_wait_s == pytest.approx((0 + 2 + 3) / 3)
    assert summary.mean_sojourn_s == pytest.approx((4 + 4 + 6) / 3)
    assert summary.throughput_per_h == pytest.approx(3 / 10 * 3600)


def test_the_series_records_each_change_once_per_instant() -> None:
    lane = StationProbe("entry_lane", servers=2, start=0.0)
    lane.arrive(1.0)
    lane.start_service(1.0)  # served at once: no queue at t=1 worth keeping
    lane.end_service(5.0)
    series = lane.series()
    assert series["time"].tolist() == [0.0, 1.0, 5.0]
    assert series["queue"].tolist() == [0.0, 0.0, 0.0]
    assert series["busy"].tolist() == [0.0, 1.0, 0.0]
    assert series["servers"].tolist() == [2.0, 2.0, 2.0]


def test_a_faulted_scanner_offers_no_server_time_while_it_is_down() -> None:
    scanner = StationProbe("scanner", servers=2)
    scanner.arrive(0.0)
    scanner.start_service(0.0)
    scanner.set_servers(5.0, 0)
    scanner.set_servers(10.0, 2)
    scanner.end_service(20.0)
    # Available server-time: 2*5 + 0*5 + 2*10 = 30; busy: 20.
    assert scanner.summary(0.0, 20.0).utilisation == pytest.approx(20 / 30)
    assert scanner.series()["time"].tolist() == [0.0, 5.0, 10.0, 20.0]
    assert scanner.series()["servers"].tolist() == [2.0, 0.0, 2.0, 2.0]


def test_a_station_with_unlimited_servers_has_no_utilisation() -> None:
    yard = StationProbe("yard", servers=None)
    yard.arrive(0.0)
    yard.start_service(0.0)
    yard.end_service(3.0)
    summary = yard.summary(0.0, 4.0)
    assert math.isnan(summary.utilisation)
    assert summary.mean_in_service == pytest.approx(0.75)


def test_a_returned_truck_leaves_the_queue_and_its_customer_number_says_which() -> None:
    staging = StationProbe("staging", servers=1)
    first = staging.arrive(0.0)
    staging.start_service(0.0, first)
    staging.arrive(1.0)
    returned = staging.arrive(2.0)
    staging.abandon(3.0, returned)  # the later truck is sent back, not the one in front
    staging.end_service(5.0, first)
    staging.start_service(5.0)
    staging.end_service(6.0)
    summary = staging.summary(0.0, 10.0)
    assert summary.abandoned == 1
    assert summary.completions == 2
    # Served: the first waits 0 s, the truck that arrived at t=1 waits 4 s.
    assert summary.mean_wait_s == pytest.approx(2.0)


def test_wait_and_sojourn_are_means_over_the_same_served_trucks() -> None:
    staging = StationProbe("staging", servers=None)
    kept = staging.arrive(0.0)
    turned = staging.arrive(10.0)
    staging.abandon(12.0, turned)  # sent back after 2 s: neither waited to be served nor served
    still = staging.arrive(20.0)
    staging.start_service(30.0, still)  # served but not gone by the end of the window
    staging.start_service(100.0, kept)
    staging.end_service(100.0, kept)  # waited 100 s, called forward and gone at once
    summary = staging.summary(0.0, 200.0)
    assert summary.mean_wait_s == pytest.approx(100.0)
    assert summary.mean_sojourn_s == pytest.approx(100.0)
    assert (summary.arrivals, summary.completions, summary.abandoned) == (3, 1, 1)


def test_no_station_waits_longer_than_it_holds_its_trucks() -> None:
    draw = random.Random(7)
    for _ in range(50):
        probe = StationProbe("scanner", servers=draw.randint(1, 3))
        now, waiting, in_service = 0.0, [], []
        for _ in range(40):
            now += draw.expovariate(1.0)
            move = draw.random()
            if move < 0.4:
                waiting.append(probe.arrive(now))
            elif move < 0.55 and waiting:
                probe.abandon(now, waiting.pop(draw.randrange(len(waiting))))
            elif move < 0.8 and waiting and len(in_service) < probe.servers:
                customer = waiting.pop(0)
                probe.start_service(now, customer)
                in_service.append(customer)
            elif in_service:
                probe.end_service(now, in_service.pop(0))
        summary = probe.summary(0.0, now + 1.0)
        if not math.isnan(summary.mean_wait_s):
            assert summary.mean_wait_s <= summary.mean_sojourn_s


def test_tokens_let_a_perishable_load_overtake_the_queue() -> None:
    staging = StationProbe("staging", servers=1)
    general = staging.arrive(0.0)
    fruit = staging.arrive(1.0)
    staging.start_service(1.0, fruit)
    with pytest.raises(ValueError, match="customer 1 is not waiting"):
        staging.start_service(1.5, fruit)
    staging.end_service(2.0, fruit)
    staging.start_service(2.0)  # the longest-waiting truck left is the general cargo
    staging.end_service(4.0, general)
    assert staging.summary(0.0, 4.0).mean_sojourn_s == pytest.approx((1.0 + 4.0) / 2)


def test_a_station_refuses_calls_that_would_lose_count() -> None:
    scanner = StationProbe("scanner", servers=1)
    with pytest.raises(ValueError, match="'scanner': start_service at t=1.0 but nobody is waiting"):
        scanner.start_service(1.0)
    with pytest.raises(ValueError, match="no server is busy"):
        scanner.end_service(1.0)
    scanner.arrive(5.0)
    with pytest.raises(ValueError, match="time went backwards"):
        scanner.arrive(4.0)
    with pytest.raises(ValueError, match="servers must be"):
        scanner.set_servers(6.0, -1)
    with pytest.raises(ValueError, match="before the probe started"):
        StationProbe("exit_lane", 1, start=10.0).summary(0.0, 20.0)


def _replay_mm1(seed: int, arrival_rate: float, service_rate: float, customers: int, lose_every: int = 0) -> StationProbe:
    """An M/M/1 queue built with numpy (Lindley's recursion), replayed into a probe.

    With ``lose_every`` = k, every k-th customer never leaves: the kind of wiring fault
    (a truck that vanishes inside a station) Little's law must expose.
    """
    rng = np.random.default_rng(seed)
    arrivals = np.cumsum(rng.exponential(1 / arrival_rate, customers))
    service = rng.exponential(1 / service_rate, customers)
    starts = np.empty(customers)
    free = 0.0
    for i in range(customers):
        starts[i] = max(arrivals[i], free)
        free = starts[i] + service[i]
    ends = starts + service
    kinds = np.concatenate((np.ones(customers), np.full(customers, 2), np.zeros(customers)))
    times = np.concatenate((arrivals, starts, ends))
    who = np.tile(np.arange(customers), 3)
    probe = StationProbe("mm1", servers=1)
    token: dict[int, int] = {}
    for k in np.lexsort((kinds, times)):
        i, kind, t = int(who[k]), kinds[k], float(times[k])
        if kind == 1:
            token[i] = probe.arrive(t)
        elif kind == 2:
            probe.start_service(t, token[i])
        elif not (lose_every and i % lose_every == 0):
            probe.end_service(t, token[i])
    return probe


def test_littles_law_holds_on_a_synthetic_mm1_queue() -> None:
    probe = _replay_mm1(seed=3, arrival_rate=0.8, service_rate=1.0, customers=20_000)
    end = float(probe.series()["time"][-1])
    check = probe.little(0.0, end)
    assert check.holds
    assert check.relative_error < 0.005
    # The measured queue agrees with queueing theory (rho = 0.8: L = 4, Wq = 4) within the
    # sampling error of 20,000 customers.
    assert check.mean_number == pytest.approx(0.8 / (1 - 0.8), rel=0.2)
    assert probe.summary(0.0, end).mean_wait_s == pytest.approx(erlang_c_wait(0.8, 1.0, 1), rel=0.2)
    assert probe.summary(0.0, end).utilisation == pytest.approx(0.8, abs=0.03)


def test_littles_law_fails_when_trucks_vanish_inside_a_station() -> None:
    probe = _replay_mm1(seed=3, arrival_rate=0.8, service_rate=1.0, customers=20_000, lose_every=50)
    end = float(probe.series()["time"][-1])
    # Nobody should still be inside once the last customer has been served.
    check = probe.little(0.0, end, expected_inside=0)
    assert not check.holds
    assert check.in_station_at_end == 400
    assert probe.little(0.0, end, expected_inside=400).holds


def test_littles_law_counts_the_stays_still_running_at_the_end_of_the_window() -> None:
    yard = StationProbe("yard", None)
    a = yard.arrive(0.0)
    yard.start_service(0.0, a)
    b = yard.arrive(50.0)
    yard.start_service(50.0, b)
    yard.end_service(60.0, a)
    # L = (60 + 50) / 100; two stays, W = (60 + 50) / 2, lambda = 2 / 100.
    check = yard.little(0.0, 100.0, expected_inside=1)
    assert check.mean_number == pytest.approx(1.1)
    assert check.little_product == pytest.approx(1.1)
    assert check.holds


def test_littles_law_breaks_when_the_level_and_the_records_disagree() -> None:
    bay = StationProbe("bay", 1)
    c = bay.arrive(0.0)
    bay.start_service(10.0, c)
    bay.end_service(20.0, c)
    bay._times.values[0, 2] = 90.0  # a record that says the stay lasted 90 s, not 20 s
    assert not bay.little(0.0, 100.0).holds


def test_littles_law_on_an_idle_station_holds_trivially_but_not_when_someone_is_stuck() -> None:
    assert StationProbe("bay", 1).little(0.0, 100.0).holds
    stuck = StationProbe("bay", 1)
    stuck.arrive(0.0)
    assert not stuck.little(0.0, 100.0, expected_inside=0).holds
    assert stuck.little(0.0, 100.0, expected_inside=1).holds


def test_a_counter_gives_time_weighted_mean_and_maximum() -> None:
    yard = CounterProbe("yard_occupancy")
    yard.add(10.0, 3)
    yard.add(20.0, -1)
    yard.set(30.0, 0)
    # 3 on [10,20), 2 on [20,30): 50 truck-seconds over 40 s.
    assert yard.mean(0.0, 40.0) == pytest.approx(50 / 40)
    assert yard.maximum(0.0, 40.0) == 3
    assert yard.maximum(25.0, 40.0) == 2
    assert yard.level == 0
    assert yard.series()["value"].tolist() == [0.0, 3.0, 2.0, 0.0]


def test_a_counter_tolerates_rounding_but_not_a_negative_level() -> None:
    road = CounterProbe("road_queue_km")
    road.add(0.0, 0.3)
    for t in (1.0, 2.0, 3.0):
        road.add(t, -0.1)  # 0.3 - 3 x 0.1 is -2.8e-17 in floating point
    assert road.level == 0.0
    with pytest.raises(ValueError, match="'road_queue_km': level would become -1.0 at t=30.0"):
        road.add(30.0, -1.0)


def test_the_truck_log_grows_past_its_capacity_and_keeps_every_row() -> None:
    log = TruckLog(capacity=2)
    for i in range(1000):
        row = log.new_truck(plate=f"29C-{i:03d}.00", arrival=float(i))
        log.stamp(row, "entry_in", i + 0.5)
        log.incr(row, "manual_reviews", i % 3)
    assert len(log) == 1000
    assert log.capacity == 1024  # doubled from 2, not grown row by row
    frame = log.to_frame()
    assert frame["truck_id"].tolist() == list(range(1000))
    assert frame["arrival"].tolist() == [float(i) for i in range(1000)]
    assert frame["entry_in"].iloc[999] == 999.5
    assert frame["manual_reviews"].sum() == sum(i % 3 for i in range(1000))
    assert frame["plate"].iloc[500] == "29C-500.00"


def test_the_truck_frame_has_every_column_and_the_derived_times() -> None:
    log = TruckLog()
    via_staging = log.new_truck(truck_id=7, visit_id="V-7", direction=Direction.EXPORT, channel=Channel.RED, arrival=0.0)
    log.stamp(via_staging, "staging_in", 600.0)
    log.stamp(via_staging, "entry_in", 1200.0)
    log.stamp(via_staging, "departed", 4200.0)
    log.set(via_staging, "outcome", "departed")
    straight = log.new_truck(arrival=100.0)
    log.stamp(straight, "entry_in", 200.0)
    log.stamp(straight, "departed", 500.0)
    log.set(straight, "outcome", "departed")
    returned = log.new_truck(arrival=0.0)
    log.stamp(returned, "returned_at", 900.0)
    log.set(returned, "outcome", "returned")
    inside = log.new_truck(arrival=50.0)
    frame = log.to_frame()
    assert list(frame.columns) == [*TRUCK_COLUMNS, "time_at_gate", "time_at_gate_so_far", "time_in_system"]
    assert frame.loc[via_staging, ["truck_id", "visit_id", "direction", "channel"]].tolist() == [7, "V-7", "export", "red"]
    assert frame.loc[via_staging, "time_at_gate"] == 3600.0  # from staging, not from the entry lane
    assert frame.loc[straight, "time_at_gate"] == 300.0
    assert frame.loc[straight, "time_in_system"] == 400.0
    assert math.isnan(frame.loc[returned, "time_at_gate"])
    assert frame.loc[returned, "time_in_system"] == 900.0
    assert frame.loc[inside, "outcome"] == "inside"
    assert math.isnan(frame.loc[inside, "time_in_system"])
    assert math.isnan(frame.loc[inside, "scale_in"])


def test_a_truck_turned_back_and_come_again_counts_both_passages_at_the_gate_but_not_the_time_away() -> None:
    log = TruckLog()
    row = log.new_truck(arrival=0.0)
    log.stamp(row, "staging_in", 1_000.0)
    log.stamp(row, "entry_in", 1_600.0)
    log.end_passage(row, 2_000.0)  # turned back at barrier 1: 1,000 s at the gate
    log.stamp(row, "returned_at", 2_000.0)
    log.stamp(row, "staging_in", 9_000.0)  # back, amended, seven hours later
    log.stamp(row, "entry_in", 9_300.0)
    log.stamp(row, "departed", 10_500.0)
    log.set(row, "outcome", "departed")
    frame = log.to_frame()
    assert frame.loc[row, "first_staging_in"] == 1_000.0
    assert frame.loc[row, "staging_in"] == 9_000.0
    assert frame.loc[row, "earlier_gate_s"] == 1_000.0
    assert frame.loc[row, "time_at_gate"] == 1_000.0 + 1_500.0
    assert frame.loc[row, "time_in_system"] == 10_500.0


def test_a_passage_that_never_reached_the_gate_adds_no_time_at_the_gate() -> None:
    log = TruckLog()
    row = log.new_truck(arrival=0.0)
    log.end_passage(row, 500.0)  # returned while still on the approach road
    assert log.get(row, "earlier_gate_s") == 0.0
    with pytest.raises(TypeError, match="'earlier_gate_s' holds seconds"):
        log.set(row, "earlier_gate_s", "long")


def test_time_at_the_gate_so_far_counts_every_truck_that_reached_the_gate_until_it_left_or_the_end() -> None:
    log = TruckLog()
    departed = log.new_truck(arrival=0.0)
    log.stamp(departed, "staging_in", 100.0)
    log.stamp(departed, "departed", 1_300.0)
    log.set(departed, "outcome", "departed")
    stranded = log.new_truck(arrival=0.0)
    log.stamp(stranded, "staging_in", 2_000.0)  # still waiting at the end
    refused = log.new_truck(arrival=0.0)
    log.stamp(refused, "staging_in", 500.0)
    log.stamp(refused, "entry_in", 700.0)
    log.stamp(refused, "refused_at", 900.0)
    log.set(refused, "outcome", "refused")
    away = log.new_truck(arrival=0.0)  # turned back, amending its declaration at the end
    log.stamp(away, "staging_in", 1_000.0)
    log.end_passage(away, 1_400.0)
    log.stamp(away, "returned_at", 1_400.0)
    log.set(away, "outcome", "returned")
    back = log.new_truck(arrival=0.0)  # turned back, amended, and at staging again at the end
    log.stamp(back, "staging_in", 1_000.0)
    log.end_passage(back, 1_400.0)
    log.stamp(back, "returned_at", 1_400.0)
    log.stamp(back, "staging_in", 9_000.0)
    on_road = log.new_truck(arrival=0.0)  # never reached the gate
    frame = log.to_frame(end=10_000.0)
    so_far = frame["time_at_gate_so_far"]
    assert so_far[departed] == frame.loc[departed, "time_at_gate"] == 1_200.0
    assert so_far[stranded] == 8_000.0  # censored at the end
    assert so_far[refused] == 400.0
    assert so_far[away] == 400.0  # the time away is not at the gate
    assert so_far[back] == 400.0 + 1_000.0
    assert math.isnan(so_far[on_road])
    assert math.isnan(frame.loc[stranded, "time_at_gate"])  # time_at_gate itself is for departed trucks


def test_the_truck_log_refuses_unknown_columns_and_values_of_the_wrong_kind() -> None:
    log = TruckLog()
    with pytest.raises(ValueError, match="unknown column\\(s\\) colour"):
        log.new_truck(colour="red")
    row = log.new_truck()
    with pytest.raises(ValueError, match="outcome must be one of"):
        log.set(row, "outcome", "lost")
    with pytest.raises(ValueError, match="'plate' is not a time column"):
        log.stamp(row, "plate", 1.0)
    with pytest.raises(TypeError, match="'arrival' holds a time"):
        log.set(row, "arrival", "noon")
    with pytest.raises(TypeError, match="'fee_vnd' holds a whole number"):
        log.set(row, "fee_vnd", 1.5)
    with pytest.raises(ValueError, match="'departed' is not a count column"):
        log.incr(row, "departed")
    with pytest.raises(IndexError, match="no truck at row 3"):
        log.stamp(3, "arrival", 1.0)
    assert len(log) == 1


def test_an_empty_truck_log_still_has_the_full_schema() -> None:
    frame = TruckLog().to_frame()
    assert len(frame) == 0
    assert list(frame.columns) == [*TRUCK_COLUMNS, "time_at_gate", "time_at_gate_so_far", "time_in_system"]
    assert frame["arrival"].dtype == np.float64
    assert frame["fee_vnd"].dtype == np.int64
