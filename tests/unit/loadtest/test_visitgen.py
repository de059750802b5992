"""The visit generator: realistic declarations, a deterministic world, bad input that loses nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gate import events as ev
from gate.core import GateCore
from gate.enums import CrossingMode, VehicleClass
from gate.identifiers import confusable_key, container_problem, plate_problem
from twin.loadtest import replay
from twin.visitgen import (
    NAMED_MIXES,
    Draws,
    GateWorld,
    Incident,
    Mix,
    misread_plate,
    parse_mix,
    sample_container_number,
    sample_declaration,
    sample_plate,
)


def test_sampled_declarations_are_valid_and_consistent() -> None:
    rng = np.random.default_rng(7)
    for i in range(200):
        d = sample_declaration(rng, i, Mix(agv=0.5))
        assert d.declaration_id == f"LT{i:08d}"
        assert plate_problem(d.vehicle_plate) is None
        assert sum(line.gross_kg for line in d.goods) <= d.declared_gross_kg
        if d.vehicle_class is VehicleClass.CONTAINER:
            assert d.containers and all(container_problem(c.number) is None for c in d.containers)
        if d.crossing_mode is CrossingMode.AGV_LANE:
            assert d.vehicle_class is VehicleClass.CONTAINER


def test_sampled_container_numbers_carry_a_correct_check_digit() -> None:
    draws = Draws(np.random.default_rng(3))
    numbers = [sample_container_number(draws) for _ in range(500)]
    assert all(container_problem(n) is None for n in numbers)
    assert len(set(numbers)) > 490


def test_plates_come_in_vietnamese_and_chinese_forms() -> None:
    draws = Draws(np.random.default_rng(5))
    vietnamese = [sample_plate(draws, True) for _ in range(100)]
    chinese = [sample_plate(draws, False) for _ in range(100)]
    assert all(plate_problem(p) is None for p in vietnamese + chinese)
    assert all(p[:2].isdigit() for p in vietnamese)
    assert all(not p[0].isascii() for p in chinese)


def test_a_misread_plate_is_another_string_the_core_can_trace_back() -> None:
    draws = Draws(np.random.default_rng(11))
    for _ in range(200):
        plate = sample_plate(draws, draws.chance(0.5))
        wrong = misread_plate(draws, plate)
        assert wrong != plate and len(wrong) == len(plate)
        differing = [i for i, (a, b) in enumerate(zip(plate, wrong, strict=True)) if a != b]
        # one confusable character, or two neighbouring digits swapped
        assert confusable_key(wrong) == confusable_key(plate) or differing == [differing[0], differing[0] + 1]


def test_the_same_seed_gives_the_same_stream_and_another_seed_another() -> None:
    def stream(seed: int) -> list[tuple[str, float]]:
        world = GateWorld(seed=seed, open_visits=30, total_visits=60, bad_share=0.2)
        recorded = world.record_all()
        return [(repr(e), t) for e, t in zip(recorded.events, recorded.times, strict=True)]

    first = stream(42)
    assert first == stream(42)
    assert first != stream(43)


_DIGEST = """
import hashlib
from twin.visitgen import GateWorld
s = GateWorld(seed=3, open_visits=30, total_visits=80, bad_share=0.3).record_all()
print(hashlib.sha256(repr([(repr(e), t) for e, t in zip(s.events, s.times)]).encode()).hexdigest())
"""


def test_the_stream_is_the_same_in_another_process_with_another_hash_seed() -> None:
    root = Path(__file__).resolve().parents[3]

    def digest(hash_seed: str) -> str:
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        done = subprocess.run([sys.executable, "-c", _DIGEST], cwd=root, env=env, capture_output=True, text=True,
                              check=True)
        return done.stdout.strip()

    assert digest("1") == digest("2")


def test_the_world_keeps_the_chosen_number_of_visits_open() -> None:
    world = GateWorld(seed=2, open_visits=50, total_visits=400)
    world.record(50)  # the initial declarations
    seen = []
    while world.tail_index is None:
        world.record(500)
        seen.append(world.core.open_visits())
    # A replacement is declared within two minutes of a departure, so the count dips only briefly.
    assert len(seen) > 3 and all(45 <= n <= 50 for n in seen[:-1])
    assert np.mean(seen[:-1]) >= 48


def test_a_clean_world_runs_every_visit_to_its_end_without_surprises() -> None:
    world = GateWorld(seed=4, open_visits=40, total_visits=200, mix=NAMED_MIXES["smart-gate"])
    world.record_all()
    core, stats = world.core, world.stats
    assert stats.unexpected_refusals == 0 and stats.unexpected_reviews == 0, stats.surprises
    assert stats.visits_departed + stats.visits_refused == 200
    assert core.stats["departed"] == stats.visits_departed
    assert core.stats["declarations_rejected"] == 0  # plates are unique among open visits
    assert core.stats["agv_delivered"] > 0 and core.stats["agv_failed"] == 0
    assert core.open_visits() == 0 and core.check_invariants() == []


def test_a_world_where_every_declaration_is_returned_sends_no_decision_on_a_returned_version() -> None:
    # A return takes every task of the visit off the agencies' lists: a decision made on the
    # returned version would be refused, so the world drops those it had planned.
    for seed in (2, 3):
        world = GateWorld(seed=seed, open_visits=40, total_visits=300, mix=parse_mix("returned=1"))
        world.record_all()
        stats = world.stats
        assert stats.returns >= 250
        assert stats.unexpected_refusals == 0 and stats.unexpected_reviews == 0, stats.surprises
        assert stats.visits_departed + stats.visits_refused == 300
        assert world.core.check_invariants() == []


def test_a_world_where_every_visit_is_refused_sees_each_vehicle_refused_in_the_yard_out_of_it() -> None:
    # A vehicle refused while parked still fills its slot until the yard-gate camera sees it out:
    # the world sends it past the camera, so no slot is held at the end and nothing is a surprise.
    world = GateWorld(seed=5, open_visits=40, total_visits=300, mix=parse_mix("refused=1"))
    world.record_all()
    stats, core = world.stats, world.core
    assert stats.visits_refused + stats.visits_departed == 300 and stats.visits_refused >= 150
    assert stats.unexpected_refusals == 0 and stats.unexpected_reviews == 0, stats.surprises
    freed = [r for r in core.audit.records if "is out of the yard" in r.reason]
    assert len(freed) >= 30  # the refusals made in the yard, each seen out
    assert all(r.action == "PlateRead" and "(seen at yard_gate_out)" in r.reason for r in freed)
    assert not core.yard.refused_inside and sum(core.yard.occupied.values()) == 0
    assert core.check_invariants() == []


def test_late_decisions_load_the_cores_timers_and_a_replay_escalates_the_same_tasks() -> None:
    world = GateWorld(seed=5, open_visits=40, total_visits=300, mix=parse_mix("late=0.1"))
    stream = world.record_all()
    escalations = world.core.stats["escalations"]
    assert escalations > 20 and len(stream.ticks) > 0
    assert world.stats.unexpected_refusals == 0 and world.stats.unexpected_reviews == 0, world.stats.surprises
    assert world.stats.visits_departed + world.stats.visits_refused == 300
    fresh = GateCore(world.config)
    replay(fresh, stream, None)
    assert fresh.stats["escalations"] == escalations
    clean = GateWorld(seed=5, open_visits=40, total_visits=300)
    clean.record_all()
    assert clean.core.stats["escalations"] == 0, "none unless asked for"


def test_bad_input_brings_refusals_and_reviews_but_loses_no_visit() -> None:
    world = GateWorld(seed=9, open_visits=60, total_visits=400, bad_share=0.5)
    world.record_all()
    core, stats = world.core, world.stats
    assert set(stats.incidents) == {i.value for i in Incident}
    assert stats.expected_refusals > 50 and core.stats["manual_reviews"] > 50
    assert core.stats["declarations_rejected"] == stats.incidents[Incident.INVALID_DECLARATION.value]
    assert stats.unexpected_refusals == 0 and stats.unexpected_reviews == 0, stats.surprises
    assert core.stats["departed"] + core.stats["refused_visits"] == 400
    assert core.open_visits() == 0 and not core.open_reviews()
    assert core.check_invariants() == []


def test_parse_mix_reads_a_named_mix_and_overrides() -> None:
    mix = parse_mix("lang-son, agv=0.25")
    assert mix.red == NAMED_MIXES["lang-son"].red and mix.agv == 0.25
    assert parse_mix("red=0.1").red == 0.1


@pytest.mark.parametrize(("text", "named"), [
    ("fast", "unknown named mix 'fast'"),
    ("red=0.2,lang-son", "unknown named mix 'lang-son'"),
    ("reds=0.2", "unknown share 'reds'"),
    ("red=lots", "mix.red: must be a number"),
    ("red=1.5", "mix.red: must be a share between 0 and 1"),
    ("yellow=0.7,red=0.5", r"yellow \+ red must be at most 1 \(got 1.2\)"),
    ("red=0.1,red=0.2", "share 'red' given twice: give it once"),
])
def test_a_bad_mix_is_refused_naming_the_option_the_text_and_the_share(text: str, named: str) -> None:
    with pytest.raises(ValueError, match=named) as refused:
        parse_mix(text)
    assert str(refused.value).startswith(f"--mix {text!r}: ")


def test_the_world_refuses_fewer_visits_than_it_must_keep_open() -> None:
    with pytest.raises(ValueError, match=r"total_visits \(10\) must be at least open_visits \(20\)"):
        GateWorld(seed=1, open_visits=20, total_visits=10)


def test_a_world_with_a_telematics_feed_sends_the_positions_in_batches_at_the_feed_s_times() -> None:
    world = GateWorld(seed=11, open_visits=80, total_visits=240, bad_share=0.2, gps_feed_s=120.0)
    stream = world.record_all(keep_commands=True)
    batches = [(t, e) for e, t in zip(stream.events, stream.times) if type(e) is ev.PositionsReported]
    assert batches and not any(type(e) is ev.GpsPing for e in stream.events)
    assert all(t % 120.0 == 0.0 and e.positions for t, e in batches)
    assert len({t for t, _ in batches}) == len(batches)  # one delivery per feed time
    assert world.stats.unexpected_refusals == 0 and world.stats.unexpected_reviews == 0, world.stats.surprises
    core = GateCore(world.config)  # and it replays the same
    assert replay(core, stream, None) == stream.commands and core.audit.head_hash == world.core.audit.head_hash


def test_a_feed_period_that_is_not_a_positive_number_is_refused() -> None:
    with pytest.raises(ValueError, match="gps_feed_s must be a positive number of seconds"):
        GateWorld(seed=1, open_visits=5, total_visits=5, gps_feed_s=0.0)


def test_the_world_refuses_a_negative_seed_saying_what_a_seed_must_be() -> None:
    with pytest.raises(ValueError, match=r"seed must be a whole number of at least 0 \(got -3\)"):
        GateWorld(seed=-3, open_visits=5, total_visits=5)
