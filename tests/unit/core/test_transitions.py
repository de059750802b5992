"""The visit's location table, walked in full through the core with real events.

For every place a visit can be (each location; the entry and exit lanes both with and without
their barrier opened for the vehicle) and every trigger, a fresh gate drives one visit there with
real events, fires the trigger's real event, and checks the outcome against
``gate.transitions.TRANSITIONS`` and ``GUARDS``:

* a legal pair moves the visit to the table's location, and the event is accepted;
* an illegal pair (or a guard not given) leaves the location as it was, and the event is refused,
  with the refusal in the audit.

Two triggers come from decisions that also mean something where the table has no move for them:
a return for re-declaration inside the gate is handled in place (the vehicle waits inside for the
amendment), and an amendment of a visit that was not returned is simply a new version. Those pairs
keep the location and are accepted; on a closed visit they are refused like any other.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from pathlib import Path

import pytest

from gate import diagram
from gate.commands import Command, RefuseEvent
from gate.enums import TERMINAL_LOCATIONS, Channel, ClearanceKind, ClearanceStatus, Location, Outcome, ScanResult
from gate.events import (
    ClearanceDecided,
    DeclarationAmended,
    DeclarationCancelled,
    ScanCompleted,
    VehiclePassed,
    WeightMeasured,
)
from gate.transitions import GUARDS, PHRASE, TRANSITIONS, Trigger, is_repeat, next_location
from gate.visit import Visit
from tests.unit.core.support import EXIT, GateRun, declaration, gate_config

L = Location
T = Trigger
K = ClearanceKind
ROOT = Path(__file__).resolve().parents[3]
VISIT = "DEC-0001"


# ---------------------------------------------------------------------------- putting a visit somewhere


def _run() -> GateRun:
    """A yellow-channel gate: customs checks documents, so a customs decision is possible anywhere."""
    run = GateRun(gate_config(Channel.YELLOW))
    run.declare(VISIT)
    return run


def _staging(run: GateRun) -> None:
    run.arrive_at_staging(VISIT)


def _entry_lane_closed(run: GateRun) -> None:
    run.arrive_at_barrier_1(VISIT)


def _entry_lane_open(run: GateRun) -> None:
    run.arrive_at_barrier_1(VISIT)
    run.pass_entry_checks(VISIT)


def _scale(run: GateRun) -> None:
    run.enter(VISIT)
    run.weigh(VISIT)


def _scanner(run: GateRun) -> None:
    _scale(run)
    run.scan(VISIT, ScanResult.CLEAR)


def _yard(run: GateRun) -> None:
    run.to_yard(VISIT)


def _inspection(run: GateRun) -> None:
    run.to_yard(VISIT)
    run.read("cam-bay", run.plate_of(VISIT))


def _exit_lane_closed(run: GateRun) -> None:
    run.to_yard(VISIT)
    run.read("cam-yard-out", run.plate_of(VISIT))  # customs has not decided: not let out


def _exit_lane_open(run: GateRun) -> None:
    run.to_yard(VISIT)
    run.clear_goods(VISIT)
    run.read("cam-yard-out", run.plate_of(VISIT))
    run.read("cam-out-1", run.plate_of(VISIT))
    run.decide(VISIT, EXIT)


def _departed(run: GateRun) -> None:
    run.through(VISIT)


def _returned(run: GateRun) -> None:
    run.decide(VISIT, K.CUSTOMS_DOCUMENTS, Outcome.RETURNED, reasons=("invoice missing",))


def _refused(run: GateRun) -> None:
    run.send(DeclarationCancelled("trader-1", VISIT))


PLACES: dict[str, tuple[Location, Callable[[GateRun], None]]] = {
    "outside": (L.OUTSIDE, lambda run: None),
    "staging": (L.STAGING, _staging),
    "entry_lane-closed": (L.ENTRY_LANE, _entry_lane_closed),
    "entry_lane-open": (L.ENTRY_LANE, _entry_lane_open),
    "scale": (L.SCALE, _scale),
    "scanner": (L.SCANNER, _scanner),
    "yard": (L.YARD, _yard),
    "inspection": (L.INSPECTION, _inspection),
    "exit_lane-closed": (L.EXIT_LANE, _exit_lane_closed),
    "exit_lane-open": (L.EXIT_LANE, _exit_lane_open),
    "departed": (L.DEPARTED, _departed),
    "returned": (L.RETURNED, _returned),
    "refused": (L.REFUSED, _refused),
}


def put(place: str) -> tuple[GateRun, Visit]:
    """A fresh gate with the visit at ``place``; fails if the flow did not take it there."""
    location, drive = PLACES[place]
    run = _run()
    drive(run)
    assert run.location(VISIT) is location, f"could not put the visit at {place}"
    visit = run.core.active.get(VISIT) or run.core.archive[VISIT]
    return run, visit


# ---------------------------------------------------------------------------- each trigger's real event


def fire(run: GateRun, trigger: Trigger) -> list[Command]:
    plate = run.plate_of(VISIT)
    if trigger is T.TURNED_BACK:
        return run.decide(VISIT, K.CUSTOMS_DOCUMENTS, Outcome.RETURNED, reasons=("wrong data",))
    if trigger is T.REENTERED:
        return run.send(DeclarationAmended("trader-1", VISIT, declaration(VISIT, plate)))
    if trigger is T.REFUSED:
        return run.send(ClearanceDecided("customs-1", VISIT, K.CUSTOMS_DOCUMENTS, Outcome.REFUSED, ("smuggling",)))
    if trigger is T.WEIGHED:
        return run.send(WeightMeasured("scale-1", plate, 20_000.0))
    if trigger is T.SCANNED:
        return run.send(ScanCompleted("scanner-1", plate, ScanResult.CLEAR))
    if trigger is T.PASSED_BARRIER_2:
        return run.send(VehiclePassed("barrier-out-1", plate))
    camera = {
        T.SEEN_AT_STAGING: "cam-staging", T.SEEN_AT_BARRIER_1: "cam-in-1", T.SEEN_AT_YARD_GATE_IN: "cam-yard-in",
        T.SEEN_AT_INSPECTION_BAY: "cam-bay", T.SEEN_AT_YARD_GATE_OUT: "cam-yard-out", T.SEEN_AT_BARRIER_2: "cam-out-1",
    }[trigger]
    return run.read(camera, plate)


#: Triggers whose event keeps a meaning where the table has no move for them (see the module doc).
IN_PLACE = frozenset({T.TURNED_BACK, T.REENTERED})

CASES = [(place, trigger) for place in PLACES for trigger in Trigger]


@pytest.mark.parametrize(("place", "trigger"), CASES, ids=[f"{p}-{t.value}" for p, t in CASES])
def test_every_trigger_in_every_place_does_what_the_table_says(place: str, trigger: Trigger) -> None:
    run, visit = put(place)
    here = visit.location
    guard = GUARDS.get((here, trigger))
    target = TRANSITIONS[here].get(trigger)
    legal = target is not None and (guard is None or bool(getattr(visit, guard)))
    # a return needs a decision still open to return (past customs there is none), and an amendment
    # a barrier 2 not yet opened on the version in force
    too_late = (trigger is T.TURNED_BACK and run.status(VISIT, K.CUSTOMS_DOCUMENTS) is ClearanceStatus.PASSED) or (
        trigger is T.REENTERED and visit.exit_granted)
    records = run.core.audit.count

    answer = fire(run, trigger)

    assert run.core.audit.count == records + 1
    record = run.core.audit.records[-1]
    refusals = [c for c in answer if isinstance(c, RefuseEvent)]
    if legal:
        assert run.location(VISIT) is target
        assert record.accepted and not refusals, record.reason
    elif trigger in IN_PLACE and here not in TERMINAL_LOCATIONS and not too_late:
        assert run.location(VISIT) is here
        assert record.accepted and not refusals, record.reason
    else:
        assert run.location(VISIT) is here
        assert len(refusals) == 1 and not record.accepted
        assert refusals[0].reason == record.reason
    assert run.core.check_invariants() == []
    assert run.core.audit.verify() is None


def test_the_walk_puts_a_visit_in_every_location_and_covers_both_sides_of_every_guard() -> None:
    assert {location for location, _ in PLACES.values()} == set(Location)
    sides: dict[tuple[Location, Trigger], set[bool]] = {pair: set() for pair in GUARDS}
    for place in PLACES:
        run, visit = put(place)
        for (location, trigger), guard in GUARDS.items():
            if visit.location is location:
                sides[(location, trigger)].add(bool(getattr(visit, guard)))
    assert all(seen == {True, False} for seen in sides.values()), sides


def test_a_refused_trigger_in_the_entry_lane_keeps_the_barrier_closed_until_entry_is_granted() -> None:
    run, _ = put("entry_lane-closed")
    answer = run.send(WeightMeasured("scale-1", run.plate_of(VISIT), 20_000.0))
    assert run.refused(answer).reason == "vehicle 12C-000.01 cannot be weighed: entry granted is not given"


def test_every_location_is_reachable_from_outside() -> None:
    seen = {L.OUTSIDE}
    queue = deque([L.OUTSIDE])
    while queue:
        for target in TRANSITIONS[queue.popleft()].values():
            if target not in seen:
                seen.add(target)
                queue.append(target)
    assert seen == set(Location)


def test_departed_and_refused_have_no_exits_and_every_other_location_can_be_refused() -> None:
    assert TRANSITIONS[L.DEPARTED] == {} and TRANSITIONS[L.REFUSED] == {}
    assert TERMINAL_LOCATIONS == {L.DEPARTED, L.REFUSED}
    for location, row in TRANSITIONS.items():
        if location not in TERMINAL_LOCATIONS:
            assert row.get(T.REFUSED) is L.REFUSED, location


def test_the_table_names_every_location_uses_every_trigger_and_phrases_each() -> None:
    assert set(TRANSITIONS) == set(Location)
    used = {trigger for row in TRANSITIONS.values() for trigger in row}
    assert used == set(Trigger) == set(PHRASE)
    for (location, trigger), guard in GUARDS.items():
        assert trigger in TRANSITIONS[location]
        assert guard in Visit.__slots__ or isinstance(getattr(Visit, guard, None), property)


def test_the_helpers_read_the_table() -> None:
    assert next_location(L.YARD, T.SEEN_AT_YARD_GATE_OUT) is L.EXIT_LANE
    assert next_location(L.YARD, T.WEIGHED) is None
    assert is_repeat(L.SCALE, T.WEIGHED) and not is_repeat(L.SCALE, T.SCANNED)


def test_the_diagram_in_the_docs_is_generated_from_the_table() -> None:
    committed = (ROOT / "docs" / "transitions.md").read_text(encoding="utf-8")
    assert committed == diagram.markdown(), "regenerate it: .venv/bin/python -m gate.diagram > docs/transitions.md"


def test_the_diagram_draws_every_move_and_no_repeat() -> None:
    drawn = diagram.mermaid()
    for location, row in TRANSITIONS.items():
        for trigger, target in row.items():
            line = f"    {location.value} --> {target.value}: {trigger.value}"
            assert (line in drawn) is (target is not location), line
    for (location, trigger), guard in GUARDS.items():
        assert f"{trigger.value} [{guard}]" in drawn
