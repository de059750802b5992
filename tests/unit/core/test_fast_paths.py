"""The core's fast paths decide exactly as the plain definitions they stand in for.

``WELL_FORMED`` (one compiled check per event type) must never accept an event that ``problem``
refuses, and must name the same sender; the plate normal form, the yard's remembered fill
ratio and the audit's inlined hashing must equal what they replace, whatever they are given.
So must the rest: the audit's remembered sender and action labels, the one-table move, the
plate index to the visits themselves, the cameras' remembered sites, and the commands built
through their slots.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gate import events as ev
from gate.audit import _LABELS, _LABELS_MAX, GENESIS, AuditLog, record_hash
from gate.commands import ALL_COMMANDS, FieldError, RefuseEvent
from gate.config import YardConfig
from gate.enums import Channel, ClearanceKind, Location, Outcome, PaymentMethod, Role, ScanResult, VehicleClass
from gate.events import GpsPing
from gate.identifiers import _PLATE_NOISE, normalize_plate
from gate.validation import _CHECKS, WELL_FORMED, problem, sender
from gate.transitions import GUARDS, Trigger, next_location
from gate.visit import WorkItem
from gate.yard import Yard
from tests.unit.core.support import GateRun, of_type

#: Values of every shape a field may be handed: right and wrong types, edges of each range.
ANY_VALUE = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**13), max_value=10**13),
    st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([0.0, 1.0, 1_000_000.0, 5000.0, 200.0, -0.0]),
    st.text(max_size=30), st.sampled_from(["", "x" * 20, "x" * 21, "x" * 128, "x" * 129, "x" * 2000, "x" * 2001]),
    st.sampled_from(list(ClearanceKind) + list(Outcome) + list(PaymentMethod) + list(Role) + list(ScanResult)),
    st.tuples(), st.tuples(st.text(max_size=5)), st.lists(st.text(max_size=5), max_size=2).map(tuple),
    st.just(("x",) * 51), st.just(("x" * 2001,)), st.just(np.float64(0.5)), st.just(["a list"]),
)


FAST_TYPES = sorted(WELL_FORMED, key=lambda cls: cls.__name__)
_CANDIDATES: tuple[Any, ...] = ("acct-1", 0.5, 5, True, (), ClearanceKind.MEDICAL, Outcome.PASSED,
                                PaymentMethod.DIRECT, Role.CUSTOMS, ScanResult.CLEAR, Channel.RED)


def _valid(cls: type) -> dict[str, Any]:
    """A well-formed value for every field of ``cls``, found by asking its own rules."""
    return {name: next(v for v in _CANDIDATES if check(v) is None) for name, check in _CHECKS[cls]}


def _events(cls: type) -> st.SearchStrategy[Any]:
    """Events of ``cls`` that are well formed but for one or two fields, which may be anything."""
    valid = _valid(cls)
    names = sorted(valid)
    return st.lists(st.tuples(st.sampled_from(names), ANY_VALUE), min_size=1, max_size=2).map(
        lambda changes: cls(**{**valid, **dict(changes)}))


def test_every_rule_table_row_has_a_well_formed_example_that_takes_the_fast_path() -> None:
    for cls in FAST_TYPES:
        event = cls(**_valid(cls))
        assert problem(event) is None and WELL_FORMED[cls](event) == sender(event)


def test_every_event_of_the_hot_path_has_a_fast_check() -> None:
    hot = {ev.PlateRead, ev.WeightMeasured, ev.ScanCompleted, ev.BarrierOpened, ev.BarrierClosed, ev.VehiclePassed,
           ev.GpsPing, ev.ClearanceDecided, ev.FeePaid, ev.PaymentConfirmed, ev.LoadingRegistered}
    assert hot <= set(WELL_FORMED)


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_the_fast_check_accepts_only_what_the_full_check_accepts_and_names_the_same_sender(data: st.DataObject) -> None:
    for cls in FAST_TYPES:
        event = data.draw(_events(cls), label=cls.__name__)
        actor = WELL_FORMED[cls](event)
        if actor is not None:
            assert problem(event) is None, (event, problem(event))
            assert actor == sender(event)


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_well_formed_events_of_the_usual_shapes_take_the_fast_path(data: st.DataObject) -> None:
    ident = st.text(alphabet="abc-123", min_size=1, max_size=20)
    plate = st.text(alphabet="0123456789ABC-.", min_size=1, max_size=20)
    unit = st.floats(min_value=0.0, max_value=1.0)
    samples = [
        ev.PlateRead(data.draw(ident), data.draw(st.none() | plate), data.draw(unit)),
        ev.WeightMeasured(data.draw(ident), data.draw(plate), data.draw(st.floats(0.0, 1_000_000.0)),
                          data.draw(st.booleans()), data.draw(st.booleans())),
        ev.ClearanceDecided(data.draw(ident), data.draw(ident), data.draw(st.sampled_from(list(ClearanceKind))),
                            data.draw(st.sampled_from(list(Outcome))), tuple(data.draw(st.lists(ident, max_size=3)))),
        ev.FeePaid(data.draw(ident), data.draw(ident), data.draw(st.integers(1, 10**12)),
                   data.draw(st.sampled_from(list(PaymentMethod))), data.draw(ident)),
        ev.GpsPing(data.draw(ident), data.draw(plate), data.draw(st.floats(0.0, 5000.0)), data.draw(st.floats(0.0, 200.0))),
    ]
    for event in samples:
        assert problem(event) is None
        assert WELL_FORMED[type(event)](event) == sender(event)


def test_an_event_missing_a_field_value_falls_back_to_the_full_check() -> None:
    event = object.__new__(ev.PlateRead)  # no field set at all
    assert WELL_FORMED[ev.PlateRead](event) is None
    assert problem(event) is not None


@given(st.text(alphabet=st.sampled_from(list("14c-.·• 桂Aaxß１２ｃＣ－．・\u3000١")) | st.characters(), max_size=16))
def test_the_plate_normal_form_is_the_translated_upper_case_and_idempotent(raw: str) -> None:
    assert normalize_plate(raw) == raw.translate(_PLATE_NOISE).upper()
    assert normalize_plate(normalize_plate(raw)) == normalize_plate(raw)


def _fill_from_scratch(yard: Yard) -> float:
    ratio = 0.0
    for c, cap in yard.capacity.items():
        if cap is not None:
            ratio = max(ratio, 1.0 if cap == 0 else (yard.occupied[c] + yard.reserved[c]) / cap)
    return ratio


@given(st.lists(st.tuples(st.sampled_from(["reserve", "cancel", "enter", "enter-held", "leave", "read"]),
                          st.sampled_from(list(VehicleClass))), max_size=60))
def test_the_yard_fill_ratio_follows_every_change_of_the_counts(steps: list[tuple[str, VehicleClass]]) -> None:
    yard = Yard(YardConfig(capacity={VehicleClass.SMALL: 3, VehicleClass.CONTAINER: 0}))  # trucks unlimited
    for op, vehicle_class in steps:
        if op == "reserve":
            yard.reserve(vehicle_class)
        elif op == "cancel":
            yard.cancel_reservation(vehicle_class)
        elif op.startswith("enter"):
            yard.enter(vehicle_class, op == "enter-held")
        elif op == "leave":
            yard.leave(vehicle_class)
        assert yard.fill_ratio() == _fill_from_scratch(yard)


TIMES = st.one_of(st.floats(allow_nan=False, allow_infinity=False), st.integers(-(10**6), 10**6),
                  st.booleans(), st.floats(-1e6, 1e6).map(np.float64))


@given(st.lists(st.tuples(TIMES, st.text(max_size=12), st.text(max_size=12), st.none() | st.text(max_size=12),
                          st.booleans(), st.text(max_size=40)), min_size=1, max_size=8))
def test_written_records_hash_exactly_as_record_hash_defines(rows: list[tuple[Any, str, str, str | None, bool, str]]) -> None:
    log = AuditLog()
    for row in rows:
        log.write(*row)
    prev = GENESIS
    for seq, (record, row) in enumerate(zip(log.records, rows, strict=True)):
        assert record.hash == record_hash(seq, float(row[0]), *row[1:], prev)
        assert type(record.time) is float and record.time == float(row[0])
        prev = record.hash
    assert log.verify() is None and log.head_hash == prev


def test_a_time_that_is_not_finite_is_still_refused_by_the_audit() -> None:
    log = AuditLog()
    for bad in (math.inf, -math.inf, math.nan, np.float64("nan")):
        try:
            log.write(bad, "core", "X", None, True, "")
        except ValueError as exc:
            assert "time must be finite" in str(exc)
        else:
            raise AssertionError(f"{bad!r} was accepted")
    assert log.count == 0


def test_written_records_hash_as_record_hash_defines_once_the_remembered_senders_are_full() -> None:
    log = AuditLog()
    senders = [f"dev-{i}" for i in range(_LABELS_MAX + 50)]
    for i, actor in enumerate(senders):
        log.write(float(i), actor, "PlateRead", None, True, "")
    log.write(1e9, senders[-1], f"Action-{len(senders)}", "V-1", False, "late")
    assert len(_LABELS) <= _LABELS_MAX
    prev = GENESIS
    for record in log.records:
        assert record.hash == record_hash(record.seq, record.time, record.actor, record.action, record.visit_id,
                                          record.accepted, record.reason, prev)
        prev = record.hash
    assert log.verify() is None


@pytest.mark.parametrize("here", list(Location))
@pytest.mark.parametrize("entry_granted", [False, True])
@pytest.mark.parametrize("exit_granted", [False, True])
def test_a_move_goes_where_the_transition_table_and_its_guards_say(here: Location, entry_granted: bool,
                                                                    exit_granted: bool) -> None:
    for trigger in Trigger:
        run = GateRun()
        visit = run.core.active[run.declare()]
        run.core.location_counts[visit.location] -= 1
        run.core.location_counts[here] += 1
        visit.location, visit.entry_granted, visit.exit_granted = here, entry_granted, exit_granted
        there = next_location(here, trigger)
        guard = GUARDS.get((here, trigger))
        allowed = there is not None and (guard is None or getattr(visit, guard))
        verdict = run.core.move(visit, trigger, 5.0)
        assert (verdict is None) == allowed, (here, trigger, verdict)
        assert verdict == run.core.illegal_move(visit, trigger) if not allowed else verdict is None
        assert visit.location is (there if allowed else here)


def test_reads_of_a_plate_in_any_spacing_or_case_find_the_same_visit_and_keep_both_plate_indexes_in_step() -> None:
    run = GateRun()
    first, second = run.declare("DEC-0001", "12C-000.01"), run.declare("DEC-0002", "12C-000.02")
    run.read("cam-staging", "12c-000.01")
    run.read("cam-staging", " 12c-000.02 ")
    assert (run.location(first), run.location(second)) == (Location.STAGING, Location.STAGING)
    assert run.core.plate_visits == {"12C-000.01": run.core.active[first], "12C-000.02": run.core.active[second]}
    pings = [run.send(GpsPing("app", plate, 3.0, 40.0)) for plate in ("12C-000.01", " 12c-000.01", "12C-999.99")]
    assert [r.reason for p in pings for r in of_type(p, RefuseEvent)] == ["no open declaration for plate 12C-999.99"]
    run.through(first)
    assert run.location(first) is Location.DEPARTED
    assert list(run.core.plate_visits) == ["12C-000.02"] and run.core.check_invariants() == []


def test_a_plate_read_from_a_device_that_is_no_camera_is_refused_every_time() -> None:
    run = GateRun()
    visit = run.declare()
    run.arrive_at_staging(visit)
    for _ in range(2):
        refusal = run.refused(run.read("barrier-in-1", "12C-000.01"))
        assert refusal.reason == "device barrier-in-1 is of kind barrier, not plate_camera"
    assert "barrier-in-1" not in run.core.camera_steps and "cam-staging" in run.core.camera_steps


@pytest.mark.parametrize("cls", [*ALL_COMMANDS, FieldError, WorkItem], ids=lambda cls: cls.__name__)
def test_commands_built_through_their_slots_take_the_same_arguments_and_hold_the_same_fields(cls: type) -> None:
    plain = dataclasses.make_dataclass(cls.__name__, [(f.name, f.type, f) for f in dataclasses.fields(cls)],
                                       frozen=True, slots=True)
    given = {f.name: f"value of {f.name}" for f in dataclasses.fields(cls)}
    required = {f.name: given[f.name] for f in dataclasses.fields(cls) if f.default is dataclasses.MISSING}
    for args, kwargs in (((), given), (tuple(given.values()), {}), ((), required)):
        built, reference = cls(*args, **kwargs), plain(*args, **kwargs)
        assert dataclasses.astuple(built) == dataclasses.astuple(reference)
        assert built == cls(**dataclasses.asdict(built)) and hash(built) == hash(cls(**dataclasses.asdict(built)))
    assert inspect.signature(cls) == inspect.signature(plain)
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(cls(**given), next(iter(given)), "changed")
    with pytest.raises(TypeError):
        cls(*given.values(), "one too many")
