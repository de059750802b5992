"""Agencies, accounts and roles: who may decide what, and what a refused decision leaves behind."""

from __future__ import annotations

import pytest

from gate.enums import ClearanceKind, ClearanceStatus, Location, Outcome, PaymentMethod, Role
from gate.events import ClearanceDecided, RoleGranted, RoleRevoked
from tests.unit.core.support import GateRun, gate_config

K = ClearanceKind
S = ClearanceStatus


@pytest.mark.parametrize("account", ["customs-1", "trader-1", "nobody", "admin"])
def test_a_decision_from_an_account_without_the_role_is_refused_audited_and_not_applied(account: str) -> None:
    run = GateRun()
    visit = run.declare()
    run.arrive_at_barrier_1(visit)
    answer = run.decide(visit, K.BORDER_GUARD_ENTRY, account=account)
    refusal = run.refused(answer)
    assert refusal.reason == f"account {account} lacks the border_guard role to decide border_guard_entry"
    assert (refusal.sender, refusal.visit_id, refusal.event_kind) == (account, visit, "ClearanceDecided")
    record = run.core.audit.records[-1]
    assert (record.actor, record.action, record.visit_id, record.accepted) == (account, "ClearanceDecided", visit, False)
    assert run.status(visit, K.BORDER_GUARD_ENTRY) is S.ASSIGNED
    assert not run.core.active[visit].entry_granted


def test_a_role_granted_by_the_administrator_lets_the_account_decide() -> None:
    run = GateRun()
    visit = run.declare()
    run.arrive_at_barrier_1(visit)
    assert run.send(RoleGranted("admin", "guard-2", Role.BORDER_GUARD)) == []
    run.decide(visit, K.BORDER_GUARD_ENTRY, account="guard-2")
    assert run.status(visit, K.BORDER_GUARD_ENTRY) is S.PASSED
    assert run.view(visit).clearance(K.BORDER_GUARD_ENTRY).decided_by == "guard-2"  # type: ignore[union-attr]


def test_a_revoked_role_no_longer_decides() -> None:
    run = GateRun()
    visit = run.declare()
    run.arrive_at_barrier_1(visit)
    run.send(RoleRevoked("admin", "guard-1", Role.BORDER_GUARD))
    answer = run.decide(visit, K.BORDER_GUARD_ENTRY)
    assert "lacks the border_guard role" in run.refused(answer).reason


def test_only_an_administrator_grants_or_revokes_roles() -> None:
    run = GateRun()
    grant = run.send(RoleGranted("customs-1", "customs-1", Role.BORDER_GUARD))
    assert run.refused(grant).reason == "account customs-1 is not an administrator"
    revoke = run.send(RoleRevoked("guard-1", "customs-1", Role.CUSTOMS))
    assert run.refused(revoke).reason == "account guard-1 is not an administrator"
    assert run.core.accounts["customs-1"] == {Role.CUSTOMS}


def test_revoking_a_role_the_account_does_not_have_is_refused() -> None:
    run = GateRun()
    answer = run.send(RoleRevoked("admin", "customs-1", Role.BORDER_GUARD))
    assert run.refused(answer).reason == "customs-1 does not have the border_guard role"


def test_an_administrator_cannot_revoke_their_own_administrator_role() -> None:
    run = GateRun()
    answer = run.send(RoleRevoked("admin", "admin", Role.ADMIN))
    assert "cannot revoke their own administrator role" in run.refused(answer).reason
    assert Role.ADMIN in run.core.accounts["admin"]


def test_a_decision_on_a_clearance_the_visit_does_not_need_is_refused() -> None:
    run = GateRun()
    visit = run.declare()
    answer = run.decide(visit, K.PLANT_QUARANTINE)
    assert run.refused(answer).reason == f"plant_quarantine is not required for visit {visit}"


def test_a_decision_before_the_vehicle_is_where_the_work_is_done_is_refused() -> None:
    run = GateRun()
    visit = run.declare(goods=[{"hs_code": "0810", "description": "lychee", "quantity": 1, "gross_kg": 100,
                                "value_usd": 10, "origin": "VN", "category": "plants_fruit"}])
    answer = run.decide(visit, K.PLANT_QUARANTINE)
    assert run.refused(answer).reason == "plant_quarantine cannot be decided yet: vehicle 12C-000.01 is outside"
    assert run.status(visit, K.PLANT_QUARANTINE) is S.REQUIRED


def test_the_same_decision_twice_is_a_harmless_repeat_and_a_pass_is_not_turned_into_a_return() -> None:
    run = GateRun()
    visit = run.declare()
    run.arrive_at_barrier_1(visit)
    run.decide(visit, K.MEDICAL)
    assert run.decide(visit, K.MEDICAL) == []
    assert run.core.audit.records[-1].reason == "repeat: medical already passed"
    contrary = run.decide(visit, K.MEDICAL, Outcome.RETURNED)
    assert run.refused(contrary).reason == "medical was already decided (passed)"
    assert run.status(visit, K.MEDICAL) is S.PASSED


def test_an_agency_can_still_refuse_a_vehicle_it_passed_until_the_vehicle_has_crossed() -> None:
    run = GateRun()
    visit = run.declare()
    run.to_yard(visit)
    run.clear_goods(visit)
    run.to_barrier_2(visit)
    run.decide(visit, K.BORDER_GUARD_EXIT)
    assert run.core.active[visit].exit_granted
    run.decide(visit, K.BORDER_GUARD_EXIT, Outcome.REFUSED, reasons=("alert from the partner side",))
    assert run.location(visit) is Location.REFUSED
    assert run.core.audit.records[-1].reason == (
        "border_guard_exit refused after it was passed: alert from the partner side")
    crossed = run.declare("DEC-0002", "12C-000.02")
    run.through(crossed)
    late = run.decide(crossed, K.MEDICAL, Outcome.REFUSED)
    assert run.refused(late).reason == "visit DEC-0002 is closed (departed)"


def test_the_fee_is_settled_by_payment_not_by_a_decision_though_the_collector_may_refuse_the_visit() -> None:
    run = GateRun()
    visit = run.declare()
    run.pay(visit, method=PaymentMethod.ONLINE, account="trader-1", reference="VCB-1")
    for outcome in (Outcome.PASSED, Outcome.RETURNED):
        answer = run.decide(visit, K.FEE, outcome)
        assert run.refused(answer).reason == "the fee is settled by payment (FeePaid, PaymentConfirmed), not by a decision"
    assert run.status(visit, K.FEE) is S.PENDING_CONFIRMATION
    run.decide(visit, K.FEE, Outcome.REFUSED, reasons=("payment reversed by the bank",))
    assert run.location(visit) is Location.REFUSED
    assert run.core.next_deadline() is None


def test_a_decision_on_an_unknown_visit_is_refused() -> None:
    run = GateRun()
    answer = run.send(ClearanceDecided("guard-1", "DEC-9999", K.BORDER_GUARD_ENTRY, Outcome.PASSED))
    assert run.refused(answer).reason == "unknown visit DEC-9999"


def test_an_account_configured_with_several_roles_decides_for_each() -> None:
    run = GateRun(gate_config(accounts={"officer-x": ("medical", "border_guard")}))
    visit = run.declare()
    run.arrive_at_barrier_1(visit)
    run.decide(visit, K.MEDICAL, account="officer-x")
    run.decide(visit, K.BORDER_GUARD_ENTRY, account="officer-x")
    assert run.core.active[visit].entry_granted


def test_work_lists_hold_only_the_vehicles_whose_work_can_be_done_now_oldest_first() -> None:
    run = GateRun()
    first, second = run.declare(), run.declare("DEC-0002", "12C-000.02")
    assert run.core.work_list(Role.BORDER_GUARD) == []
    run.arrive_at_barrier_1(second)
    run.arrive_at_barrier_1(first)
    assert [w.visit_id for w in run.core.work_list(Role.BORDER_GUARD)] == [second, first]
    item = run.core.work_list(Role.BORDER_GUARD)[0]
    assert (item.plate, item.clearance, item.due) == ("12C-000.02", K.BORDER_GUARD_ENTRY, item.assigned_at + 600.0)
    run.decide(second, K.BORDER_GUARD_ENTRY)
    assert [w.visit_id for w in run.core.work_list(Role.BORDER_GUARD)] == [first]
