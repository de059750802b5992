"""The cheap read-only queries (``clearance_status``, ``fee_due``) agree with the visit snapshots."""

from __future__ import annotations

from typing import Any

import pytest

from gate.enums import ClearanceKind, ClearanceStatus, PaymentMethod
from tests.unit.core.support import GateRun

K = ClearanceKind
S = ClearanceStatus


def _statuses_from_snapshot(run: GateRun, visit_id: str) -> dict[ClearanceKind, ClearanceStatus]:
    view = run.core.visit(visit_id)
    assert view is not None
    return {c.kind: c.status for c in view.clearances}


def test_clearance_status_follows_a_visit_through_the_gate_as_its_snapshot_does() -> None:
    run = GateRun()
    visit = run.declare()
    for step in (lambda: None, lambda: run.to_yard(visit), lambda: run.pay(visit)):
        step()
        expected = _statuses_from_snapshot(run, visit)
        assert {kind: run.core.clearance_status(visit, kind) for kind in expected} == expected
    assert run.core.clearance_status(visit, K.FEE) is S.PASSED


def test_clearance_status_is_none_for_an_unknown_visit_or_a_clearance_the_visit_does_not_need() -> None:
    run = GateRun()
    visit = run.declare()
    assert run.core.clearance_status("NO-SUCH-VISIT", K.MEDICAL) is None
    needed = _statuses_from_snapshot(run, visit)
    not_needed = next(kind for kind in ClearanceKind if kind not in needed)
    assert run.core.clearance_status(visit, not_needed) is None


def test_fee_due_is_the_fee_less_what_was_paid_and_none_for_an_unknown_visit() -> None:
    run = GateRun()
    visit = run.declare()
    run.to_yard(visit)
    view = run.core.visit(visit)
    assert view is not None and view.fee_vnd > 0
    assert run.core.fee_due(visit) == view.fee_vnd
    run.pay(visit, amount=200_000, method=PaymentMethod.DIRECT)
    assert run.core.fee_due(visit) == view.fee_vnd - 200_000
    assert run.core.fee_due("NO-SUCH-VISIT") is None


def test_inside_counts_the_vehicles_barrier_1_let_in_and_not_those_waiting_at_it() -> None:
    run = GateRun()
    visit = run.declare()
    run.arrive_at_barrier_1(visit)
    assert run.core.inside() == 0
    run.pass_entry_checks(visit)  # the barrier opens for it
    assert run.core.inside() == 1
    run.weigh(visit)
    assert run.core.inside() == 1
    run.read("cam-yard-in", run.plate_of(visit))
    run.clear_goods(visit)
    run.leave(visit)
    assert run.core.inside() == 0


ODD = [None, 12345, ["DEC-0001"], {}, ("DEC-0001",), b"DEC-0001", float("nan")]


@pytest.mark.parametrize("odd", ODD, ids=[type(v).__name__ for v in ODD])
def test_a_query_given_an_odd_argument_answers_none_or_nothing(odd: Any) -> None:
    run = GateRun()
    visit = run.declare()
    core = run.core
    assert core.visit(odd) is None and core.location(odd) is None
    assert core.fee_due(odd) is None and core.fee_paid(odd) is None
    assert core.clearance_status(odd, K.MEDICAL) is None and core.clearance_status(visit, odd) is None
    assert core.visit_by_plate(odd) is None and core.mission(odd) is None
    assert core.work_list(odd) == [] and core.work_list("nobody") == []  # type: ignore[arg-type]
    assert core.visit(visit) is not None  # and the visit is still there
