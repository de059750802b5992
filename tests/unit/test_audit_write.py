"""``AuditLog.write``: records chained and hashed at once, built as objects only when read."""

from __future__ import annotations

import dataclasses
from enum import Enum

import pytest

from gate.audit import GENESIS, AuditLog, record_hash, verify_chain


def _decisions(log: AuditLog, start: int, n: int, *, built: bool) -> None:
    add = log.append if built else log.write
    for i in range(start, start + n):
        add(1.5 * i, ("guard-1", "core")[i % 2], "PlateRead", None if i % 3 == 0 else f"V-{i:03d}", i % 4 != 3,
            f"note {i}")


def test_written_records_read_back_exactly_as_appended_ones() -> None:
    written, appended = AuditLog(), AuditLog()
    _decisions(written, 0, 10, built=False)
    _decisions(appended, 0, 10, built=True)
    assert written.count == appended.count == 10
    assert written.head_hash == appended.head_hash
    assert written.records == appended.records
    assert written.verify() is None and verify_chain(written.records) is None


def test_a_log_mixing_written_and_appended_records_keeps_one_chain_in_order() -> None:
    log = AuditLog()
    _decisions(log, 0, 4, built=False)
    _decisions(log, 4, 3, built=True)
    _decisions(log, 7, 5, built=False)
    assert log.verify() is None
    assert [r.seq for r in log.records] == list(range(12))
    assert log.records[0].prev_hash == GENESIS and log.records[-1].hash == log.head_hash


def test_verify_checks_records_not_yet_built_and_leaves_them_so() -> None:
    log = AuditLog()
    _decisions(log, 0, 6, built=True)
    _decisions(log, 6, 6, built=False)
    assert log.verify() is None
    assert len(log._records) == 6 and len(log._pending) == 6  # verifying built nothing


def test_a_forged_record_is_caught_while_the_records_after_it_are_not_yet_built() -> None:
    log = AuditLog()
    _decisions(log, 0, 6, built=True)
    log.records[3] = dataclasses.replace(log.records[3], reason="forged")
    _decisions(log, 6, 6, built=False)
    assert log.verify() == 3


def test_a_log_missing_a_written_record_at_its_end_does_not_verify() -> None:
    log = AuditLog()
    _decisions(log, 0, 6, built=False)
    log._pending.pop()
    assert log.verify() == 5


def test_a_forged_last_built_record_breaks_the_chain_into_the_written_ones() -> None:
    log = AuditLog()
    _decisions(log, 0, 5, built=True)
    last = log.records[-1]
    _decisions(log, 5, 5, built=False)
    assert len(log.records) == 10  # reading builds the written ones
    log.records[4] = dataclasses.replace(last, hash="f" * 64)
    assert log.verify() == 4


def test_drain_hands_over_written_records_built_and_the_chain_continues() -> None:
    log = AuditLog()
    _decisions(log, 0, 5, built=False)
    start, first = log.drain()
    _decisions(log, 5, 4, built=False)
    assert log.verify() is None
    after, second = log.drain()
    assert start == GENESIS and after == first[-1].hash
    assert verify_chain(first + second) is None
    assert [r.seq for r in first + second] == list(range(9))


class Sender(str, Enum):
    """Ids as a driver adapter might name them: equal to their values, formatted as ``Sender.NAME``."""

    TELEMATICS = "telematics-feed-3"
    VISIT = "V-001"


def test_text_of_a_str_subclass_is_written_and_hashed_as_the_plain_string() -> None:
    log, plain = AuditLog(), AuditLog()
    log.write(1.0, Sender.TELEMATICS, "PositionsReported", Sender.VISIT, False, "unknown plate")
    plain.write(1.0, "telematics-feed-3", "PositionsReported", "V-001", False, "unknown plate")
    record = log.records[0]
    assert (type(record.actor), type(record.visit_id)) == (str, str)
    assert record == plain.records[0] and log.verify() is None


def test_a_str_subclass_written_to_one_log_leaves_the_hashes_of_every_other_log_alone() -> None:
    AuditLog().write(1.0, Sender.TELEMATICS, "PositionsReported", None, False, "unknown plate")
    other = AuditLog()
    other.write(1.0, "telematics-feed-3", "PositionsReported", None, True, "0 positions")
    record = other.records[0]
    assert record.hash == record_hash(0, 1.0, "telematics-feed-3", "PositionsReported", None, True, "0 positions", GENESIS)
    assert other.verify() is None


@pytest.mark.parametrize("field", ["actor", "action", "visit_id", "reason"])
def test_writing_text_that_is_no_string_is_a_programming_error(field: str) -> None:
    fields: dict[str, object] = {"actor": "guard-1", "action": "PlateRead", "visit_id": "V-001", "reason": "ok"}
    fields[field] = 42
    log = AuditLog()
    with pytest.raises(TypeError, match=f"{field} must be a str"):
        log.write(1.0, fields["actor"], fields["action"], fields["visit_id"], True, fields["reason"])  # type: ignore[arg-type]
    assert log.count == 0
