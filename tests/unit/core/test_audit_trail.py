"""The core's audit trail: one hash-chained record per event and timer action, verifiable, tamper-evident."""

from __future__ import annotations

import dataclasses

from gate.audit import verify_chain
from gate.enums import Channel, ClearanceKind, Outcome, ScanResult
from gate.events import PlateRead
from tests.unit.core.support import GateRun, gate_config, plate


def busy_run() -> GateRun:
    """Several visits through the gate, with refusals, a return and an escalation."""
    run = GateRun(gate_config(Channel.RED))
    for n in range(1, 4):
        visit = run.declare(f"DEC-{n:04d}", plate(n))
        run.through(visit, scan=ScanResult.CLEAR)
    late = run.declare("DEC-0009", plate(9))
    run.arrive_at_barrier_1(late)
    run.decide(late, ClearanceKind.MEDICAL, account="trader-1")  # refused: no role
    run.read("cam-in-1", "29LD-123.45")  # refused: unknown plate
    run.wake(run.now + 601.0)  # escalations
    run.decide(late, ClearanceKind.BORDER_GUARD_ENTRY, Outcome.RETURNED, reasons=("papers",))
    return run


def test_every_event_and_every_timer_action_leaves_one_record_and_the_chain_verifies() -> None:
    run = busy_run()
    audit = run.core.audit
    timer_actions = sum(1 for r in audit.records if r.actor == "core")
    assert timer_actions == 2
    assert audit.count == len(run.sent) + timer_actions == run.core.stats["events"] + timer_actions
    assert audit.verify() is None
    assert verify_chain(audit.records) is None
    assert audit.records[-1].hash == audit.head_hash


def test_each_record_names_the_sender_the_event_the_visit_and_the_verdict() -> None:
    run = busy_run()
    refused = [r for r in run.core.audit.records if not r.accepted]
    assert [(r.actor, r.action, r.visit_id) for r in refused] == [
        ("trader-1", "ClearanceDecided", "DEC-0009"),
        ("cam-in-1", "PlateRead", None),
    ]
    assert refused[0].reason == "account trader-1 lacks the medical role to decide medical"
    assert len(refused) == run.core.stats["refused"]
    times = [r.time for r in run.core.audit.records]
    assert times == sorted(times)


def test_changing_any_record_is_detected_at_that_record() -> None:
    run = busy_run()
    records = run.core.audit.records
    target = 7
    original = records[target]
    records[target] = dataclasses.replace(original, reason=original.reason + " (edited)")
    assert run.core.audit.verify() == target
    records[target] = dataclasses.replace(original, accepted=not original.accepted)
    assert run.core.audit.verify() == target
    records[target] = original
    assert run.core.audit.verify() is None


def test_removing_or_reordering_records_is_detected() -> None:
    run = busy_run()
    records = run.core.audit.records
    removed = records.pop(4)
    assert run.core.audit.verify() == 4
    records.insert(4, removed)
    records[5], records[6] = records[6], records[5]
    assert run.core.audit.verify() == 5


def test_a_refused_event_leaves_the_visit_as_it_was() -> None:
    run = GateRun()
    visit = run.declare()
    before = run.view(visit)
    run.send(PlateRead("cam-yard-in", run.plate_of(visit), 0.99))  # cannot enter the yard from outside
    assert run.view(visit) == before
