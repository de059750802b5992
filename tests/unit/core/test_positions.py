"""Batches of positions from the telematics server (``PositionsReported``)."""

from __future__ import annotations

import pytest

from gate.commands import RefuseEvent
from gate.enums import Location, TrafficAction
from gate.events import MAX_POSITIONS, GpsPing, Position, PositionsReported
from tests.unit.core.support import SLOW_GATE, GateRun, gate_config, general_advice, of_type, plate, ten_on_the_way


@pytest.fixture
def run() -> GateRun:
    return ten_on_the_way()


def batch(*positions: object) -> PositionsReported:
    return PositionsReported("telematics", tuple(positions))  # type: ignore[arg-type]


def near(*trucks: int, km: float = 10.0) -> PositionsReported:
    return batch(*(Position(plate(n), km, 40.0) for n in trucks))


def test_a_batch_counts_each_vehicle_as_its_pings_would(run: GateRun) -> None:
    run.send(near(1, 2, 3))
    assert run.core.congestion_risk == pytest.approx(0.3)
    one_by_one = ten_on_the_way()
    for n in (1, 2, 3):
        one_by_one.send(GpsPing("app", plate(n), 10.0, 40.0))
    assert one_by_one.core.congestion_risk == run.core.congestion_risk
    assert run.core.corridor.within_horizon == one_by_one.core.corridor.within_horizon == 3


def test_a_batch_that_crosses_the_threshold_advises_one_hold_after_the_whole_batch(run: GateRun) -> None:
    answer = run.send(near(*range(1, 11)))
    assert [(a.action, a.congestion_risk) for a in general_advice(answer)] == [(TrafficAction.HOLD, 1.0)]


def test_a_vehicle_reported_twice_in_one_batch_ends_where_its_last_position_puts_it(run: GateRun) -> None:
    run.send(batch(Position(plate(1), 30.0, 40.0), Position(plate(1), 5.0, 40.0), Position(plate(2), 5.0, 40.0),
                   Position(plate(2), 50.0, 40.0)))
    assert run.core.corridor.within_horizon == 1


def test_plain_tuples_and_whole_numbers_are_accepted_as_positions(run: GateRun) -> None:
    answer = run.send(batch((plate(1), 10, 40), (plate(2).lower(), 12.5, 30.0)))
    assert of_type(answer, RefuseEvent) == []
    assert run.core.corridor.within_horizon == 2


def test_bad_positions_are_refused_one_by_one_and_the_rest_still_count(run: GateRun) -> None:
    answer = run.send(batch(
        Position(plate(1), 10.0, 40.0),
        Position(plate(2), -1.0, 40.0),
        Position("29LD-123.45", 3.0, 40.0),
        "garbage",
        (plate(3), 10.0),
        Position(plate(4), float("nan"), 40.0),
        Position(plate(5), 10.0, 40.0),
    ))
    refusals = of_type(answer, RefuseEvent)
    assert [(r.event_kind, r.sender, r.reason) for r in refusals] == [
        ("PositionsReported", "telematics", "position 1: km_to_gate: must be between 0 and 5000"),
        ("PositionsReported", "telematics", "position 2: no open declaration for plate 29LD-123.45"),
        ("PositionsReported", "telematics", "position 3: must be a (plate, km_to_gate, speed_kmh) position"),
        ("PositionsReported", "telematics", "position 4: must be a (plate, km_to_gate, speed_kmh) position"),
        ("PositionsReported", "telematics", "position 5: km_to_gate: must be a finite number"),
    ]
    assert run.core.corridor.within_horizon == 2
    records = run.core.audit.records
    assert [(r.accepted, r.reason) for r in records[-6:-1]] == [(False, r.reason) for r in refusals]
    assert (records[-1].action, records[-1].accepted, records[-1].reason) == (
        "PositionsReported", True, "7 positions: 2 applied, 0 at the gate, 5 refused")
    assert run.core.stats["refused"] == 5


def test_a_vehicle_already_at_the_gate_is_ignored_and_the_batch_says_so(run: GateRun) -> None:
    run.send(near(1))
    run.arrive_at_staging("DEC-0001")
    assert run.location("DEC-0001") is Location.STAGING
    assert of_type(run.send(near(1, 2)), RefuseEvent) == []
    assert run.core.corridor.within_horizon == 1
    assert run.core.audit.records[-1].reason == "2 positions: 1 applied, 1 at the gate, 0 refused"


def test_an_empty_batch_is_accepted_and_changes_nothing(run: GateRun) -> None:
    assert run.send(batch()) == []
    assert run.core.audit.records[-1].reason == "0 positions: 0 applied, 0 at the gate, 0 refused"
    assert run.core.corridor.within_horizon == 0


@pytest.mark.parametrize("positions", [None, [("12C-000.01", 1.0, 1.0)], "positions", ((),) * (MAX_POSITIONS + 1)])
def test_a_batch_that_is_not_a_tuple_of_positions_is_refused_whole(run: GateRun, positions: object) -> None:
    answer = run.send(PositionsReported("telematics", positions))  # type: ignore[arg-type]
    refusal = run.refused(answer)
    assert refusal.reason == f"malformed PositionsReported: positions: must be a tuple of at most {MAX_POSITIONS:,} positions"
    assert run.core.corridor.within_horizon == 0


def test_a_repeated_batch_changes_nothing_more(run: GateRun) -> None:
    run.send(near(1, 2, 3))
    before = (run.core.corridor.within_horizon, run.core.congestion_risk)
    assert general_advice(run.send(near(1, 2, 3))) == []
    assert (run.core.corridor.within_horizon, run.core.congestion_risk) == before


def test_the_same_batches_give_the_same_audit_chain() -> None:
    def chain() -> str:
        gate = GateRun(gate_config(traffic=SLOW_GATE))
        for n in range(1, 6):
            gate.declare(f"DEC-{n:04d}", plate(n))
        gate.send(near(1, 2, 3, 9))
        gate.send(batch(Position(plate(4), 2.0, 10.0), "x"))
        assert gate.core.audit.verify() is None
        return gate.core.audit.head_hash

    assert chain() == chain()


@pytest.mark.parametrize("position", [
    Position("12C-000.01", 3.0, 40.0), ("12C-000.01", 3.0, 40.0), ("12C-000.01", 3, 40.0), ("", 3.0, 40.0),
    ("12C-000.01", 5000.5, 40.0), ("12C-000.01", 3.0, -0.1), ("12C-000.01", float("inf"), 40.0), ("x" * 21, 1.0, 1.0),
    ("12C-000.01", 3.0), ["12C-000.01", 3.0, 40.0], ("12C-000.01", True, 40.0),
])
def test_the_fast_check_of_a_position_never_accepts_what_the_full_checks_refuse(position: object) -> None:
    from gate.validation import position_problem, usual_position

    if usual_position(position):
        assert position_problem(position) is None
    # and the fast check takes the usual positions, as sent by the twin and the load test
    assert usual_position(("12C-000.01", 3.0, 40.0)) and usual_position(Position("12C-000.01", 3.0, 40.0))


@pytest.mark.parametrize("position", [
    Position("12C-000.01", 3.0, 40.0), ("12C-000.01", 3, 40.0), ("", 3.0, 40.0), ("12C-000.01", 3.0, -0.1),
    ("12C-000.01", float("nan"), 40.0), ("12C-000.01", 3.0), ["12C-000.01", 3.0, 40.0], ("12C-000.01", True, 40.0),
])
def test_the_fast_check_of_a_batch_takes_it_whole_only_when_it_takes_each_position(position: object) -> None:
    from gate.validation import usual_position, usual_positions

    sound = Position("12C-000.02", 2.0, 30.0)
    for positions in ((position,), (sound, position), (position, sound, sound)):
        assert usual_positions(positions) == all(usual_position(p) for p in positions)
    assert usual_positions(()) and usual_positions((sound, ("12C-000.03", 1.0, 30.0)))


def test_a_batch_given_as_a_tuple_subclass_is_checked_position_by_position() -> None:
    from gate.validation import usual_positions

    class Positions(tuple):  # type: ignore[type-arg]
        pass

    assert not usual_positions(Positions((Position("12C-000.02", 2.0, 30.0),)))


def test_a_position_beyond_a_float_s_range_is_refused_on_its_own_and_the_rest_still_count(run: GateRun) -> None:
    answer = run.send(batch(Position(plate(1), 10.0, 40.0), (plate(2), 10**400, 40.0), (plate(3), 10.0, -10**400),
                            Position(plate(4), 10.0, 40.0)))
    assert [r.reason for r in of_type(answer, RefuseEvent)] == [
        "position 1: km_to_gate: must be a finite number", "position 2: speed_kmh: must be a finite number"]
    assert run.core.audit.records[-1].reason == "4 positions: 2 applied, 0 at the gate, 2 refused"
    assert run.core.corridor.within_horizon == 2
    assert run.core.audit.verify() is None and run.core.check_invariants() == []
