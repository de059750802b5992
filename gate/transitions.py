"""The visit's location state machine, as one table.

Rules, before any code:

* A visit is in exactly one ``Location`` at every moment.
* Devices and officers report *triggers* (a plate seen at a site, a weight measured, a barrier
  passed, a vehicle turned back). ``TRANSITIONS[location][trigger]`` is the next location.
* A pair absent from the table is illegal: the location stays as it was, and the core answers
  with a refusal and, where a person must act, a ``ManualReview``. Nothing raises.
* A pair that maps a location to itself is a repeat (the same truck read twice at one site):
  it is accepted and does nothing more. Repeated device reports never make a second visit.
* A few triggers also need a *guard* the table cannot express (entering the gate needs barrier 1
  to have been opened for this visit, and turning back needs it not to have been; departing needs
  barrier 2 opened). ``GUARDS`` names them, so the diagram and the walk test see them too.

``docs/transitions.md`` is generated from this table by ``python -m gate.diagram``.
"""

from __future__ import annotations

from enum import Enum

from gate.enums import Location


class Trigger(str, Enum):
    """What moves a visit: a vehicle seen at a site, weighed, scanned, passing barrier 2, or an officer's decision."""
    SEEN_AT_STAGING = "seen_at_staging"
    SEEN_AT_BARRIER_1 = "seen_at_barrier_1"
    WEIGHED = "weighed"
    SCANNED = "scanned"
    SEEN_AT_YARD_GATE_IN = "seen_at_yard_gate_in"
    SEEN_AT_INSPECTION_BAY = "seen_at_inspection_bay"
    SEEN_AT_YARD_GATE_OUT = "seen_at_yard_gate_out"
    SEEN_AT_BARRIER_2 = "seen_at_barrier_2"
    PASSED_BARRIER_2 = "passed_barrier_2"
    TURNED_BACK = "turned_back"  # returned for re-declaration (or yard full) before entering
    REENTERED = "reentered"  # the amended declaration puts a returned vehicle back in the flow
    REFUSED = "refused"  # an officer's final refusal, or a cancelled declaration


L = Location
T = Trigger

#: How each trigger reads in a refusal: "vehicle 14C-123.45 cannot <phrase> while <location>".
PHRASE: dict[Trigger, str] = {
    T.SEEN_AT_STAGING: "arrive at staging",
    T.SEEN_AT_BARRIER_1: "arrive at barrier 1",
    T.WEIGHED: "be weighed",
    T.SCANNED: "be scanned",
    T.SEEN_AT_YARD_GATE_IN: "enter the yard",
    T.SEEN_AT_INSPECTION_BAY: "arrive at the inspection bay",
    T.SEEN_AT_YARD_GATE_OUT: "leave the yard",
    T.SEEN_AT_BARRIER_2: "arrive at barrier 2",
    T.PASSED_BARRIER_2: "pass barrier 2",
    T.TURNED_BACK: "be turned back",
    T.REENTERED: "re-enter the flow",
    T.REFUSED: "be refused",
}

TRANSITIONS: dict[Location, dict[Trigger, Location]] = {
    L.OUTSIDE: {
        T.SEEN_AT_STAGING: L.STAGING,
        T.SEEN_AT_BARRIER_1: L.ENTRY_LANE,
        T.TURNED_BACK: L.RETURNED,
        T.REFUSED: L.REFUSED,
    },
    L.STAGING: {
        T.SEEN_AT_STAGING: L.STAGING,
        T.SEEN_AT_BARRIER_1: L.ENTRY_LANE,
        T.TURNED_BACK: L.RETURNED,
        T.REFUSED: L.REFUSED,
    },
    L.ENTRY_LANE: {
        T.SEEN_AT_BARRIER_1: L.ENTRY_LANE,
        T.SEEN_AT_STAGING: L.STAGING,  # sent back to wait: the yard filled up meanwhile
        T.WEIGHED: L.SCALE,
        T.SCANNED: L.SCANNER,
        T.SEEN_AT_YARD_GATE_IN: L.YARD,
        T.TURNED_BACK: L.RETURNED,
        T.REFUSED: L.REFUSED,
    },
    L.SCALE: {
        T.WEIGHED: L.SCALE,
        T.SCANNED: L.SCANNER,
        T.SEEN_AT_YARD_GATE_IN: L.YARD,
        T.REFUSED: L.REFUSED,
    },
    L.SCANNER: {
        T.SCANNED: L.SCANNER,
        T.SEEN_AT_YARD_GATE_IN: L.YARD,
        T.REFUSED: L.REFUSED,
    },
    L.YARD: {
        T.SEEN_AT_YARD_GATE_IN: L.YARD,
        T.SEEN_AT_INSPECTION_BAY: L.INSPECTION,
        T.SEEN_AT_YARD_GATE_OUT: L.EXIT_LANE,
        T.SEEN_AT_BARRIER_2: L.EXIT_LANE,  # a yard without an exit camera
        T.REFUSED: L.REFUSED,
    },
    L.INSPECTION: {
        T.SEEN_AT_INSPECTION_BAY: L.INSPECTION,
        T.SEEN_AT_YARD_GATE_IN: L.YARD,
        T.SEEN_AT_YARD_GATE_OUT: L.EXIT_LANE,
        T.SEEN_AT_BARRIER_2: L.EXIT_LANE,
        T.REFUSED: L.REFUSED,
    },
    L.EXIT_LANE: {
        T.SEEN_AT_YARD_GATE_OUT: L.EXIT_LANE,
        T.SEEN_AT_BARRIER_2: L.EXIT_LANE,
        T.SEEN_AT_YARD_GATE_IN: L.YARD,  # sent back into the yard (e.g. a clearance still open)
        T.PASSED_BARRIER_2: L.DEPARTED,
        T.REFUSED: L.REFUSED,
    },
    L.RETURNED: {
        T.REENTERED: L.OUTSIDE,
        T.REFUSED: L.REFUSED,
    },
    L.DEPARTED: {},
    L.REFUSED: {},
}

#: Extra conditions on some legal pairs: (location, trigger) -> the guard's name.
#: ``entry_granted``: barrier 1 was opened for this visit; ``entry_pending``: it was not (a vehicle
#: barrier 1 let in is no longer turned back: a return leaves it where it is, to wait inside for
#: the amendment). ``exit_granted``: barrier 2 was opened for it.
GUARDS: dict[tuple[Location, Trigger], str] = {
    (L.ENTRY_LANE, T.WEIGHED): "entry_granted",
    (L.ENTRY_LANE, T.SCANNED): "entry_granted",
    (L.ENTRY_LANE, T.SEEN_AT_YARD_GATE_IN): "entry_granted",
    (L.ENTRY_LANE, T.TURNED_BACK): "entry_pending",
    (L.EXIT_LANE, T.PASSED_BARRIER_2): "exit_granted",
}


def next_location(location: Location, trigger: Trigger) -> Location | None:
    """The location after ``trigger``, or None when the pair is illegal."""
    return TRANSITIONS[location].get(trigger)


def is_repeat(location: Location, trigger: Trigger) -> bool:
    """A legal pair that keeps the location: the same report again."""
    return TRANSITIONS[location].get(trigger) is location
