"""Replaying the same events gives the same commands, decisions and audit, bit for bit."""

from __future__ import annotations

from gate.config import GateConfig, RiskConfig
from gate.core import GateCore
from gate.enums import ClearanceKind, Outcome, ScanResult
from gate.events import DeviceFaulted, GpsPing
from tests.unit.core.support import GateRun, gate_config, plate


def busy_morning(config: GateConfig) -> GateRun:
    """Twenty trucks with the default selectivity (keyed draws), a scanner fault, returns and timers."""
    run = GateRun(config)
    visits = [run.declare(f"DEC-{n:04d}", plate(n)) for n in range(1, 21)]
    for n, visit in enumerate(visits, start=1):
        run.send(GpsPing(f"app-{n}", plate(n), 30.0 - n, 50.0))
    for n, visit in enumerate(visits, start=1):
        if n == 7:
            run.send(DeviceFaulted("scanner-1", "x-ray source"))
        run.arrive_at_staging(visit)
        run.arrive_at_barrier_1(visit)
        if n % 9 == 0:
            run.decide(visit, ClearanceKind.BORDER_GUARD_ENTRY, Outcome.RETURNED, reasons=("papers",))
            continue
        run.pass_entry_checks(visit)
        run.pass_barrier("barrier-in-1", visit)
        run.weigh(visit, 20_000.0 + 700.0 * (n % 4))
        if run.core.active[visit].scanner is not None:
            run.scan(visit, ScanResult.SUSPECT if n % 5 == 0 else ScanResult.CLEAR)
        run.read("cam-yard-in", plate(n))
        run.clear_goods(visit)
        if n % 3:
            run.leave(visit)
    run.wake(run.now + 9 * 3600.0)
    return run


def test_the_same_events_on_two_cores_give_identical_commands_and_audit() -> None:
    first, second = busy_morning(GateConfig()), busy_morning(GateConfig())
    assert first.answers == second.answers
    assert first.core.audit.head_hash == second.core.audit.head_hash
    assert first.core.audit.records == second.core.audit.records
    assert first.core.stats == second.core.stats


def test_replaying_a_recorded_event_log_reproduces_every_command() -> None:
    original = busy_morning(GateConfig())
    replica = GateCore(GateConfig())
    replayed = [replica.handle(event, now) for now, event in original.sent]
    replica.on_timer(original.now)
    assert replayed == original.answers
    assert replica.audit.head_hash == original.core.audit.head_hash


def test_the_selection_key_changes_the_draw_and_so_the_channels() -> None:
    keyed = {key: busy_morning(gate_config(risk=RiskConfig(selection_key=key), rules=True))
             for key in ("site-secret-a", "site-secret-b")}
    channels = {key: [run.view(f"DEC-{n:04d}").channel for n in range(1, 21)] for key, run in keyed.items()}
    assert channels["site-secret-a"] != channels["site-secret-b"]
    again = busy_morning(gate_config(risk=RiskConfig(selection_key="site-secret-a"), rules=True))
    assert [again.view(f"DEC-{n:04d}").channel for n in range(1, 21)] == channels["site-secret-a"]
