"""Timers: agency service levels, next_deadline as the earliest live deadline, and on_timer."""

from __future__ import annotations

import random

import pytest

from gate.commands import Escalate, ManualReview, RefuseEvent, SendManifest
from gate.config import TimeoutConfig
from gate.deadlines import Deadlines
from gate.enums import Channel, ClearanceKind, PaymentMethod, Role
from gate.events import BarrierOpened, ContainerHandedOver
from tests.unit.core.support import GateRun, container_declaration, container_no, gate_config, of_type, only

K = ClearanceKind


def test_an_agency_silent_past_its_service_level_is_escalated_once() -> None:
    run = GateRun()
    visit = run.declare()
    run.arrive_at_barrier_1(visit)
    assigned_at = run.now
    due = assigned_at + 600.0  # border guard and medical: 10 minutes
    assert run.core.next_deadline() == due
    assert run.wake(due - 0.001) == []
    answer = run.wake(due + 30.0)
    escalations = of_type(answer, Escalate)
    assert {(e.role, e.clearance) for e in escalations} == {(Role.MEDICAL, K.MEDICAL),
                                                            (Role.BORDER_GUARD, K.BORDER_GUARD_ENTRY)}
    assert all(e.visit_id == visit and e.overdue_s == pytest.approx(30.0) for e in escalations)
    assert run.view(visit).clearance(K.BORDER_GUARD_ENTRY).escalated  # type: ignore[union-attr]
    assert run.core.next_deadline() is None
    assert run.wake(due + 3600.0) == []
    assert [r.action for r in run.core.audit.records[-2:]] == ["Escalate", "Escalate"]
    assert run.core.stats["escalations"] == 2


def test_a_decision_in_time_cancels_its_deadline() -> None:
    run = GateRun()
    visit = run.declare()
    run.arrive_at_barrier_1(visit)
    due = run.now + 600.0
    run.pass_entry_checks(visit)
    assert all(when != due for when, _, _ in run.core.deadlines.pending())
    assert not of_type(run.wake(due), Escalate)


def test_each_role_has_its_own_service_level() -> None:
    sla = {Role.MEDICAL: 60.0, Role.BORDER_GUARD: 90.0, Role.CUSTOMS: 7_200.0}
    run = GateRun(gate_config(timeouts=TimeoutConfig(sla_s=sla)))
    visit = run.declare()
    run.arrive_at_barrier_1(visit)
    at = run.now
    assert [(when - at, key) for when, kind, key in run.core.deadlines.pending()] == [
        (60.0, (visit, K.MEDICAL)), (90.0, (visit, K.BORDER_GUARD_ENTRY))]


def test_a_role_without_a_service_level_gets_a_day() -> None:
    run = GateRun(gate_config(timeouts=TimeoutConfig(sla_s={})))
    visit = run.declare()
    run.arrive_at_barrier_1(visit)
    assert run.core.next_deadline() == run.now + 86_400.0


def test_next_deadline_is_the_earliest_live_deadline_of_any_kind() -> None:
    run = GateRun(gate_config(agv=True))
    assert run.core.next_deadline() is None
    visit = run.declare(data=container_declaration("DEC-0001", "12C-000.01", crossing_mode="agv_lane"))
    run.to_yard(visit)  # medical and border guard decided: no agency deadline left open
    assert run.core.next_deadline() is None
    run.pay(visit, method=PaymentMethod.ONLINE, account="trader-1", reference="VCB-1")
    payment_due = run.now + 3_600.0
    assert run.core.next_deadline() == payment_due
    run.send(ContainerHandedOver("yard-1", visit, container_no(100)))
    manifest_due = run.now + 120.0
    assert run.core.next_deadline() == manifest_due
    assert only(run.wake(manifest_due), SendManifest).attempt == 2
    assert run.core.next_deadline() == manifest_due + 120.0
    run.wake(manifest_due + 120.0)
    run.wake(manifest_due + 240.0)  # given up: the manifest timer is gone
    assert run.core.next_deadline() == payment_due
    assert only(run.wake(payment_due), ManualReview).visit_id == visit
    assert run.core.next_deadline() is None


def test_on_timer_before_anything_is_due_does_nothing() -> None:
    run = GateRun()
    visit = run.declare()
    run.arrive_at_barrier_1(visit)
    records = run.core.audit.count
    assert run.core.on_timer(run.now) == []
    assert run.core.audit.count == records


def test_on_timer_at_a_time_before_the_last_event_acts_at_the_last_event_s_time() -> None:
    run = GateRun()
    visit = run.declare()
    run.arrive_at_barrier_1(visit)
    due = run.core.next_deadline()
    assert due is not None
    run.send(BarrierOpened("barrier-in-1"), after=2_000.0)
    answer = run.core.on_timer(due)  # late shell: the deadline is long past
    assert len(of_type(answer, Escalate)) == 2
    assert run.core.audit.records[-1].time == run.now


@pytest.mark.parametrize("now", [float("nan"), float("inf"), "10", None, True, 10**400],
                         ids=["nan", "inf", "text", "none", "bool", "int-of-401-digits"])
def test_on_timer_with_a_time_that_is_no_finite_number_is_refused_as_handle_refuses_it(now: object) -> None:
    run = GateRun()
    visit = run.declare()
    run.arrive_at_barrier_1(visit)  # two entry checks, each with its deadline
    due = run.core.next_deadline()
    records, last = run.core.audit.count, run.core.audit.records[-1].time
    answer = run.core.on_timer(now)  # type: ignore[arg-type]
    refusal = only(answer, RefuseEvent)
    assert answer == [refusal]
    assert (refusal.event_kind, refusal.sender) == ("Timer", "host")
    assert refusal.reason.startswith("time must be a finite, non-negative number of seconds (got ")
    record = run.core.audit.records[-1]
    assert run.core.audit.count == records + 1 and not record.accepted and record.time == last
    assert (record.actor, record.action, record.reason) == ("host", "Timer", refusal.reason)
    assert run.core.next_deadline() == due  # nothing fired
    # handle refuses the same time the same way
    handled = run.core.handle(BarrierOpened("barrier-in-1"), now)  # type: ignore[arg-type]
    assert only(handled, RefuseEvent).reason == refusal.reason


def test_cancelled_deadlines_never_fire_however_many_there_are() -> None:
    deadlines = Deadlines()
    for i in range(5_000):
        deadlines.cancel(deadlines.schedule(float(i), "sla", i))
    keep = deadlines.schedule(1e9, "payment", "V")
    assert len(deadlines) == 1
    assert deadlines.next_time() == 1e9
    assert deadlines.pop_due(1e9) == [("payment", "V")]
    deadlines.cancel(keep)
    assert deadlines.next_time() is None


def test_deadlines_due_together_come_out_in_the_order_they_were_set() -> None:
    deadlines = Deadlines()
    for key in ("b", "a", "c"):
        deadlines.schedule(5.0, "sla", key)
    deadlines.schedule(1.0, "sla", "first")
    assert deadlines.pop_due(5.0) == [("sla", "first"), ("sla", "b"), ("sla", "a"), ("sla", "c")]


# --- service levels in working hours ------------------------------------------------------------

HOUR = 3600.0
DAY_SHIFT = {Role.MEDICAL: ((6.0, 14.0), (14.0, 22.0)), Role.BORDER_GUARD: ((22.0, 24.0), (0.0, 6.0))}


def test_a_service_level_counts_only_the_hours_the_agency_works() -> None:
    run = GateRun(gate_config(timeouts=TimeoutConfig(working_hours=DAY_SHIFT)))
    visit = run.declare()
    run.now = 2 * HOUR  # 02:00: the medical unit is off until 06:00; the night border guards are on
    run.arrive_at_barrier_1(visit)
    due = {key[1]: when for when, _, key in run.core.deadlines.pending()}
    assert due[K.MEDICAL] == 6 * HOUR + 600.0  # ten minutes into the morning's work
    assert due[K.BORDER_GUARD_ENTRY] == run.now + 600.0  # on duty now: ten minutes from now
    escalated = {e.clearance for e in of_type(run.wake(5 * HOUR), Escalate)}
    assert K.MEDICAL not in escalated  # a night without a medical officer is no missed service level
    overdue = [e for e in of_type(run.wake(6 * HOUR + 660.0), Escalate) if e.clearance is K.MEDICAL]
    assert [e.overdue_s for e in overdue] == [pytest.approx(60.0)]
    assert [item.due for item in run.core.work_list(Role.MEDICAL)] == [6 * HOUR + 600.0]


def test_a_task_due_after_the_day_s_work_carries_over_to_the_next_day() -> None:
    run = GateRun(gate_config(timeouts=TimeoutConfig(working_hours=DAY_SHIFT)))
    visit = run.declare()
    run.now = 21 * HOUR + 55 * 60  # five minutes before the medical unit goes home
    run.arrive_at_barrier_1(visit)
    worked_today = 22 * HOUR - run.now  # about five minutes
    due = {key[1]: when for when, _, key in run.core.deadlines.pending()}
    assert due[K.MEDICAL] == pytest.approx(24 * HOUR + 6 * HOUR + 600.0 - worked_today)  # the rest next morning


@pytest.mark.parametrize("spells", [(), ((6.0, 6.0),), ((22.0, 6.0),), ((-1.0, 6.0),), ((6.0, 25.0),),
                                    ((6.0, float("nan")),)])
def test_working_hours_are_spells_within_the_day(spells: tuple[tuple[float, float], ...]) -> None:
    with pytest.raises(ValueError, match="working_hours of medical"):
        TimeoutConfig(working_hours={Role.MEDICAL: spells})


# --- service levels and the gate's closures (holidays) ------------------------------------------

DAY = 24 * HOUR


def test_a_service_level_stops_while_the_gate_is_closed() -> None:
    closed = ((1 * DAY, 8 * DAY),)  # a week's holiday from the second midnight
    run = GateRun(gate_config(timeouts=TimeoutConfig(closed=closed)))
    visit = run.declare()
    run.now = DAY - 300.0  # five minutes before the closure
    run.arrive_at_barrier_1(visit)
    worked = DAY - run.now  # about five minutes of the ten before the closure
    due = {key[1]: when for when, _, key in run.core.deadlines.pending()}
    assert due[K.MEDICAL] == pytest.approx(8 * DAY + 600.0 - worked)  # the rest after the reopening
    assert of_type(run.wake(7 * DAY), Escalate) == []  # a holiday is no missed service level
    assert {e.clearance for e in of_type(run.wake(8 * DAY + 360.0), Escalate)} >= {K.MEDICAL}


def test_a_task_assigned_while_the_gate_is_closed_counts_from_the_reopening_in_working_hours() -> None:
    closed = ((0.0, 2 * DAY),)
    run = GateRun(gate_config(timeouts=TimeoutConfig(working_hours=DAY_SHIFT, closed=closed)))
    visit = run.declare()
    run.now = 10 * HOUR
    run.arrive_at_barrier_1(visit)
    due = {key[1]: when for when, _, key in run.core.deadlines.pending()}
    assert due[K.MEDICAL] == 2 * DAY + 6 * HOUR + 600.0  # the reopening is at midnight; work starts at 06:00
    assert due[K.BORDER_GUARD_ENTRY] == 2 * DAY + 600.0  # the night border guards are on at the reopening


def test_closures_that_overlap_count_as_one_and_a_deadline_can_span_several() -> None:
    from gate.deadlines import due_around_closures, merge_spells, working_seconds

    assert merge_spells(((5.0, 9.0), (1.0, 3.0), (2.0, 6.0), (20.0, 30.0))) == ((1.0, 9.0), (20.0, 30.0))
    closed = merge_spells(((10.0, 20.0), (30.0, 40.0)))
    assert due_around_closures(0.0, 25.0, None, closed) == 45.0  # 10 before, 10 between, 5 after
    assert due_around_closures(15.0, 5.0, None, closed) == 25.0  # closed now: from the reopening
    assert due_around_closures(50.0, 5.0, None, closed) == 55.0  # all behind it
    spells = ((6 * HOUR, 14 * HOUR),)
    assert working_seconds(0.0, 2 * DAY, spells) == 16 * HOUR
    assert due_around_closures(0.0, 10 * HOUR, spells, ((DAY, 2 * DAY),)) == 2 * DAY + 8 * HOUR


@pytest.mark.parametrize("closed", [((5.0, 5.0),), ((9.0, 3.0),), ((-1.0, 3.0),), ((0.0, float("inf")),)])
def test_a_closure_runs_from_a_time_to_a_later_one(closed: tuple[tuple[float, float], ...]) -> None:
    with pytest.raises(ValueError, match="closed: a spell runs from a time to a later one"):
        TimeoutConfig(closed=closed)


def test_an_agency_that_works_through_a_closure_keeps_its_service_level_running() -> None:
    closed = ((1 * DAY, 8 * DAY),)
    timeouts = TimeoutConfig(closed=closed, closed_for={Role.CUSTOMS: ()})  # customs works over the holiday
    run = GateRun(gate_config(Channel.YELLOW, timeouts=timeouts))
    run.now = 2 * DAY
    run.declare()  # a pre-arrival declaration: customs checks its documents over the holiday
    due = {key[1]: when for when, _, key in run.core.deadlines.pending()}
    assert due[K.CUSTOMS_DOCUMENTS] == pytest.approx(2 * DAY + timeouts.sla_s[Role.CUSTOMS], abs=1.0)
    others = GateRun(gate_config(Channel.YELLOW, timeouts=TimeoutConfig(closed=closed)))
    others.now = 2 * DAY
    others.declare()
    due = {key[1]: when for when, _, key in others.core.deadlines.pending()}
    assert due[K.CUSTOMS_DOCUMENTS] == 8 * DAY + timeouts.sla_s[Role.CUSTOMS]  # without it: from the reopening


def test_an_agency_closure_of_its_own_must_run_forward_too() -> None:
    with pytest.raises(ValueError, match="closed_for of customs: a spell runs from a time to a later one"):
        TimeoutConfig(closed_for={Role.CUSTOMS: ((9.0, 3.0),)})


def _due_day_by_day(now: float, seconds: float, spells: tuple[tuple[float, float], ...]) -> float:
    """``working_due`` as it counts a few days: each day's working time in turn."""
    day, at, left = now // 86_400.0, now, seconds
    while True:
        base = day * 86_400.0
        for start, end in spells:
            if base + end <= at:
                continue
            begin = max(base + start, at)
            if base + end - begin >= left:
                return begin + left
            left -= base + end - begin
            at = base + end
        day += 1


@pytest.mark.parametrize("seed", range(5))
def test_a_time_limit_of_months_of_short_working_days_falls_where_counting_day_by_day_puts_it(seed: int) -> None:
    from gate.deadlines import working_due, working_spells

    draw = random.Random(seed)
    for _ in range(200):
        first = draw.uniform(0, 20)
        spells = working_spells(((first, first + draw.uniform(0.02, 4)), (21.0, 23.5)))
        now, seconds = draw.uniform(0, 30 * 86_400), draw.uniform(65, 400) * 86_400 * draw.uniform(0.01, 1)
        assert working_due(now, seconds, spells) == pytest.approx(_due_day_by_day(now, seconds, spells), rel=1e-9)


def test_a_time_limit_longer_than_a_year_is_refused_by_the_config() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="less than or equal to 31622400"):
        TimeoutConfig(payment_confirmation_s=2.0**70)
