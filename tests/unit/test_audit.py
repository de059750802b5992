"""The hash-chained audit log: any change, removal or reordering breaks the chain where it is."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from gate.audit import GENESIS, AuditLog, AuditRecord, record_hash, verify_chain


def filled_log(n: int = 12) -> AuditLog:
    """A log of ``n`` varied decisions on a few visits."""
    log = AuditLog()
    for i in range(n):
        log.append(
            time=10.0 * i + 0.25,
            actor=("guard-1", "customs-1", "system")[i % 3],
            action=("decide:border_guard_entry", "assess_channel", "open_barrier")[i % 3],
            visit_id=None if i % 4 == 3 else f"V-{i // 2:04d}",
            accepted=i % 5 != 4,
            reason=("passed", "rule: live animals", "")[i % 3],
        )
    return log


def _changed(field: str, value: Any) -> Any:
    """A value of ``field`` different from ``value``."""
    if field == "visit_id":
        return "V-9999" if value is None else None
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        return value + 0.001
    return value + "x" if field not in ("hash", "prev_hash") else "f" * 64


FIELDS = [field.name for field in dataclasses.fields(AuditRecord)]


def test_a_fresh_log_verifies_and_chains_from_genesis() -> None:
    log = filled_log()
    assert log.verify() is None
    assert verify_chain(log.records) is None
    assert log.records[0].prev_hash == GENESIS
    assert [r.seq for r in log.records] == list(range(12))
    assert all(later.prev_hash == earlier.hash for earlier, later in zip(log.records, log.records[1:]))


def test_an_empty_log_verifies_and_its_head_is_genesis() -> None:
    log = AuditLog()
    assert log.verify() is None
    assert log.head_hash == GENESIS
    assert log.count == 0
    assert verify_chain([]) is None


def test_append_returns_the_record_it_keeps_and_moves_the_head() -> None:
    log = AuditLog()
    record = log.append(5, "guard-1", "decide:border_guard_entry", "V-0001", True, "passed")
    assert log.records == [record]
    assert log.head_hash == record.hash
    assert record.time == 5.0 and isinstance(record.time, float)
    assert record.hash == record_hash(0, 5.0, "guard-1", "decide:border_guard_entry", "V-0001", True, "passed", GENESIS)


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize("position", [0, 5, 11])
def test_changing_any_field_of_any_record_is_detected_at_that_record(field: str, position: int) -> None:
    records = list(filled_log().records)
    target = records[position]
    records[position] = dataclasses.replace(target, **{field: _changed(field, getattr(target, field))})
    assert verify_chain(records) == position


@pytest.mark.parametrize("field", ["actor", "action", "reason", "visit_id"])
def test_a_changed_field_with_a_recomputed_hash_is_detected_at_the_next_record(field: str) -> None:
    records = list(filled_log().records)
    target = records[5]
    forged = dataclasses.replace(target, **{field: _changed(field, getattr(target, field))})
    forged = dataclasses.replace(
        forged,
        hash=record_hash(
            forged.seq, forged.time, forged.actor, forged.action, forged.visit_id,
            forged.accepted, forged.reason, forged.prev_hash,
        ),
    )
    records[5] = forged
    assert verify_chain(records) == 6


@pytest.mark.parametrize("position", [0, 4, 10])
def test_removing_a_record_is_detected_where_it_was(position: int) -> None:
    records = list(filled_log().records)
    del records[position]
    assert verify_chain(records) == position


def test_swapping_two_records_is_detected_at_the_first_of_them() -> None:
    records = list(filled_log().records)
    records[3], records[4] = records[4], records[3]
    assert verify_chain(records) == 3


def test_inserting_a_copy_of_a_record_is_detected() -> None:
    records = list(filled_log().records)
    records.insert(7, records[6])
    assert verify_chain(records) == 7


def test_a_chain_checked_from_the_wrong_start_hash_fails_at_its_first_record() -> None:
    assert verify_chain(filled_log().records, "a" * 64, start_seq=0) == 0


def test_the_log_itself_detects_a_record_removed_from_its_tail() -> None:
    log = filled_log()
    log.records.pop()
    assert log.verify() == 11


def test_the_log_itself_detects_a_record_tampered_in_place() -> None:
    log = filled_log()
    log.records[2] = dataclasses.replace(log.records[2], accepted=not log.records[2].accepted)
    assert log.verify() == 2


def test_drained_segments_joined_in_order_verify_from_genesis() -> None:
    log = AuditLog()
    segments: list[tuple[str, list[AuditRecord]]] = []
    for i in range(25):
        log.append(float(i), "system", "tick", f"V-{i:04d}", True, "")
        if i % 7 == 6:
            segments.append(log.drain())
    segments.append(log.drain())
    joined = [record for _, segment in segments for record in segment]
    assert [r.seq for r in joined] == list(range(25))
    assert verify_chain(joined) is None
    assert joined[-1].hash == log.head_hash


def test_each_drained_segment_verifies_from_the_hash_it_was_handed_with() -> None:
    log = filled_log(10)
    first_start, first = log.drain()
    log.append(200.0, "guard-1", "decide:border_guard_exit", "V-0100", True, "passed")
    second_start, second = log.drain()
    assert first_start == GENESIS
    assert second_start == first[-1].hash
    assert verify_chain(first, first_start) is None
    assert verify_chain(second, second_start) is None
    assert second[0].seq == 10


def test_a_drain_retains_nothing_and_the_chain_continues() -> None:
    log = filled_log(5)
    head = log.head_hash
    _, drained = log.drain()
    assert log.records == [] and log.count == 5 and log.head_hash == head
    assert log.verify() is None
    record = log.append(99.0, "fees-1", "decide:fee", "V-0002", True, "paid online")
    assert record.seq == 5 and record.prev_hash == drained[-1].hash
    assert log.verify() is None


def test_a_record_tampered_after_a_drain_is_reported_by_its_seq() -> None:
    log = filled_log(5)
    log.drain()
    for i in range(4):
        log.append(100.0 + i, "system", "tick", None, True, "")
    log.records[1] = dataclasses.replace(log.records[1], reason="forged")
    assert log.verify() == 6


def test_hashes_are_deterministic_across_logs() -> None:
    first, second = filled_log(), filled_log()
    assert [r.hash for r in first.records] == [r.hash for r in second.records]
    fixed = (3, 12.5, "customs-1", "assess_channel", "V-0001", False, "rule: poor compliance", GENESIS)
    assert record_hash(*fixed) == record_hash(*fixed)
    assert len(record_hash(*fixed)) == 64 and int(record_hash(*fixed), 16) >= 0


def test_hashes_are_the_same_in_another_process_with_another_string_hash_seed() -> None:
    code = "from tests.unit.test_audit import filled_log; print(filled_log().head_hash)"
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    root = Path(__file__).resolve().parents[2]
    other = subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True, check=True)
    assert other.stdout.strip() == filled_log().head_hash


def test_an_integer_time_hashes_like_the_same_float() -> None:
    args: tuple[Any, ...] = ("guard-1", "open_barrier", "V-0001", True, "", GENESIS)
    assert record_hash(0, 5, *args) == record_hash(0, 5.0, *args)


@pytest.mark.parametrize(
    "a, b",
    [
        (("guard-1", "open", "V-1", "x"), ("guard-1o", "pen", "V-1", "x")),  # a boundary moved
        (("guard-1\x1fopen", "x", "V-1", "x"), ("guard-1", "open\x1fx", "V-1", "x")),  # a separator in text
        (("guard-1", "open\x1f1", "V-1", "x"), ("guard-1", "open", "1\x1fV-1", "x")),
        (("guard-1", "open", "V-1", "x\x1f1"), ("guard-1", "open", "V-1", "x")),
        (("guard-1", "open", None, "x"), ("guard-1", "open", "", "x")),  # no visit is not an empty visit
        (("guard-1", "open", "V-1", "x"), ("guard-1", "open", "V-1", "x ")),
    ],
)
def test_records_that_differ_only_in_how_text_is_split_hash_differently(
    a: tuple[str, str, str | None, str], b: tuple[str, str, str | None, str]
) -> None:
    def digest(actor: str, action: str, visit_id: str | None, reason: str) -> str:
        return record_hash(0, 1.0, actor, action, visit_id, True, reason, GENESIS)

    assert digest(*a) != digest(*b)


def test_free_text_in_any_script_is_hashed() -> None:
    log = AuditLog()
    log.append(1.0, "guard-1", "plate_read", "V-0001", False, "biển số 桂A12345 không khớp \ud800")
    assert log.verify() is None


@pytest.mark.parametrize("bad_time", [float("nan"), float("inf"), float("-inf")])
def test_a_record_without_a_finite_time_is_refused_and_nothing_is_appended(bad_time: float) -> None:
    log = filled_log(3)
    with pytest.raises(ValueError, match="time must be finite"):
        log.append(bad_time, "system", "tick", None, True, "")
    assert log.count == 3 and len(log.records) == 3


def test_records_are_frozen() -> None:
    record = filled_log(1).records[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.reason = "forged"  # type: ignore[misc]


def test_records_are_the_logs_own_list_not_a_copy() -> None:
    log = filled_log(3)
    assert log.records is log.records
