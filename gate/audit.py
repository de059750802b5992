"""A hash-chained audit log of every decision the gate takes.

Each record carries the hash of the record before it and its own hash over all its fields,
so that changing any field, or removing, inserting or reordering records, breaks the chain at
the first record affected. The chain starts from ``GENESIS``; ``seq`` counts records from 0
over the whole life of the log.

Rules of this module:

- The hashed text is an unambiguous encoding: every free-text field is prefixed with its
  length, so no choice of actor, action or reason can make two different records encode
  alike. Times are hashed as ``repr(float(time))``, so ``5`` and ``5.0`` hash the same.
- ``write`` is on the core's hot path (one record per decision): it builds one string and one
  SHA-256, and keeps the fields as a plain tuple. The ``AuditRecord`` objects are built when
  someone reads ``records``, drains or verifies: a frozen dataclass costs about as much to
  build as the hash itself, and most records are only ever read in bulk, if at all.
  ``append`` is ``write`` followed by building the record, for callers that want it back.
- Every text field is kept and hashed as a plain ``str``: a subclass (a ``(str, Enum)`` member)
  compares equal to its value yet formats as ``Class.NAME``, so it is copied to a plain string
  when written; anything that is no string at all is a programming error and raises.
- Long runs keep memory bounded by ``drain``-ing retained records to a sink; the chain
  continues across drains, and the drained segments joined in order verify from ``GENESIS``.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

#: The hash the first record chains from.
GENESIS: str = "0" * 64

#: Domain prefix of the hashed text; a change of encoding changes the prefix.
_DOMAIN = "gatetwin-audit-v1"

_sha256 = hashlib.sha256
_INF = math.inf


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One decision: who (actor) did what (action) to which visit, when, and with what result."""

    seq: int
    time: float
    actor: str
    action: str
    visit_id: str | None
    accepted: bool
    reason: str
    prev_hash: str
    hash: str


def record_hash(
    seq: int,
    time: float,
    actor: str,
    action: str,
    visit_id: str | None,
    accepted: bool,
    reason: str,
    prev_hash: str,
) -> str:
    """The SHA-256 hex digest of a record's fields, chained to ``prev_hash``."""
    # Plain {} conversions only: format specs cost more than the hash itself on the hot path.
    # Free text is length-prefixed so no field can imitate a separator; a missing visit is "-"
    # and an empty one "0:", so they differ. prev_hash is last: it needs no prefix.
    text = (
        f"{_DOMAIN}\x1f{seq}\x1f{float(time)!r}\x1f{len(actor)}:{actor}\x1f{len(action)}:{action}\x1f"
        f"{'-' if visit_id is None else f'{len(visit_id)}:{visit_id}'}\x1f{'1' if accepted else '0'}"
        f"\x1f{len(reason)}:{reason}\x1f{prev_hash}"
    )
    return _sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def verify_chain(
    records: Sequence[AuditRecord], start_hash: str = GENESIS, *, start_seq: int | None = None
) -> int | None:
    """None if ``records`` chain correctly from ``start_hash``; else the seq of the first bad one.

    A record is bad when its seq is not the next in line, its ``prev_hash`` is not the hash of
    the record before it (``start_hash`` for the first), or its ``hash`` does not match its
    fields. The seq reported is the one the record at that position should have, so a record
    whose own seq was altered is still reported where it stands. The first seq expected is
    ``start_seq``; by default 0 for a chain from ``GENESIS``, else the first record's own seq.
    """
    if not records:
        return None
    if start_seq is None:
        start_seq = 0 if start_hash == GENESIS else records[0].seq
    rows = (
        (r.seq, r.time, r.actor, r.action, r.visit_id, r.accepted, r.reason, r.prev_hash, r.hash) for r in records
    )
    return _first_bad(rows, start_hash, start_seq)


#: A record's fields in ``AuditRecord`` order: seq, time, actor, action, visit_id, accepted,
#: reason, prev_hash, hash.
_Row = tuple[int, float, str, str, "str | None", bool, str, str, str]


#: Length-prefixed forms of the senders and actions written lately, as ``record_hash`` encodes a
#: string field. Emptied whenever it holds ``_LABELS_MAX``, so that garbled senders cannot grow it.
#: Shared by every log in the process, so its keys are plain ``str`` only (``write`` sees to it):
#: a ``(str, Enum)`` member equals and hashes as its value but formats otherwise, and as a key
#: it would hand its label to the plain text.
_LABELS: dict[str, str] = {}
_LABELS_MAX = 4096


def _label(text: str) -> str:
    """``text`` (a plain ``str``) as the record encoding writes a string field: its length, a colon, the text."""
    assert type(text) is str
    label = f"{len(text)}:{text}"
    if len(_LABELS) >= _LABELS_MAX:
        _LABELS.clear()
    _LABELS[text] = label
    return label


def _plain(text: object, field: str) -> str:
    """``text`` as a plain ``str``: itself, or a plain copy of a ``str`` subclass; else a TypeError."""
    if type(text) is str:
        return text
    if isinstance(text, str):
        return str.__str__(text)  # the characters, without the subclass's formatting
    raise TypeError(f"audit record: {field} must be a str (got {type(text).__name__})")


def _first_bad(rows: Iterable[_Row], start_hash: str, start_seq: int) -> int | None:
    """``verify_chain`` over records given as field tuples (as the log keeps those not yet built)."""
    prev = start_hash
    expected_seq = start_seq
    for row in rows:
        seq, time, actor, action, visit_id, accepted, reason, prev_hash, digest = row
        if (
            seq != expected_seq
            or prev_hash != prev
            or digest != record_hash(seq, time, actor, action, visit_id, accepted, reason, prev_hash)
        ):
            return expected_seq
        prev = digest
        expected_seq += 1
    return None


class AuditLog:
    """The gate's append-only audit trail, as a hash chain.

    ``records`` holds the records retained since the last ``drain``; ``count`` and
    ``head_hash`` cover the whole chain, drained or not.
    """

    __slots__ = ("_records", "_pending", "_count", "_head", "_start_hash", "_start_seq")

    def __init__(self) -> None:
        self._records: list[AuditRecord] = []
        # Records written but not yet built, as AuditRecord field tuples, oldest first; they
        # follow every record in ``_records``.
        self._pending: list[_Row] = []
        self._count = 0
        self._head = GENESIS
        self._start_hash = GENESIS  # the hash the first retained record chains from
        self._start_seq = 0  # the seq of the first retained record

    def write(
        self, time: float, actor: str, action: str, visit_id: str | None, accepted: bool, reason: str
    ) -> None:
        """Add a record at ``time``, chained and hashed now, built as an ``AuditRecord`` on first read.

        ``time`` must be finite; the text fields strings (a ``str`` subclass is kept as a plain copy).
        """
        if type(time) is not float or not -_INF < time < _INF:
            if not math.isfinite(time):
                raise ValueError(
                    f"audit record {self._count} ({action!r} by {actor!r}): time must be finite (got {time!r})")
            time = float(time)
        if type(actor) is not str or type(action) is not str or type(reason) is not str or (
                visit_id is not None and type(visit_id) is not str):
            actor, action, reason = _plain(actor, "actor"), _plain(action, "action"), _plain(reason, "reason")
            visit_id = None if visit_id is None else _plain(visit_id, "visit_id")
        seq = self._count
        prev = self._head
        # ``record_hash``'s encoding, inlined: this runs once per event (tests hold the two equal).
        # Senders and actions are few and recur on every event, so their length-prefixed forms
        # are remembered (``_label``). Visits and reasons are not: with many visits open they
        # would rarely be found, and remembering them would cost more than it saves.
        actor_label = _LABELS.get(actor) or _label(actor)
        action_label = _LABELS.get(action) or _label(action)
        text = (
            f"{_DOMAIN}\x1f{seq}\x1f{time!r}\x1f{actor_label}\x1f{action_label}\x1f"
            f"{'-' if visit_id is None else f'{len(visit_id)}:{visit_id}'}\x1f{'1' if accepted else '0'}"
            f"\x1f{len(reason)}:{reason}\x1f{prev}"
        )
        digest = _sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
        self._pending.append((seq, time, actor, action, visit_id, accepted, reason, prev, digest))
        self._count = seq + 1
        self._head = digest

    def append(
        self, time: float, actor: str, action: str, visit_id: str | None, accepted: bool, reason: str
    ) -> AuditRecord:
        """Add a record at ``time`` and return it. ``time`` must be finite."""
        self.write(time, actor, action, visit_id, accepted, reason)
        return self.records[-1]

    def _build_pending(self) -> list[AuditRecord]:
        """Build the written records into ``AuditRecord`` objects; return the retained list."""
        if self._pending:
            self._records.extend([AuditRecord(*fields) for fields in self._pending])
            self._pending = []
        return self._records

    @property
    def records(self) -> list[AuditRecord]:
        """Retained records, oldest first. The log's own list: read it, do not change it."""
        return self._build_pending()

    @property
    def count(self) -> int:
        """Records ever appended, drained ones included."""
        return self._count

    @property
    def head_hash(self) -> str:
        """The hash of the last record appended (``GENESIS`` if none)."""
        return self._head

    def drain(self) -> tuple[str, list[AuditRecord]]:
        """Hand over the retained records: the hash the first one chains from, and the records.

        Nothing is retained afterwards; the next record chains from the last one drained.
        """
        start_hash, records = self._start_hash, self._build_pending()
        self._records = []
        self._start_hash = self._head
        self._start_seq = self._count
        return start_hash, records

    def verify(self) -> int | None:
        """None if the retained records chain correctly up to ``head_hash``; else the first bad seq.

        Besides the chain itself this checks that no retained record is missing at the end and
        that the last one is the record ``head_hash`` names.
        """
        # Records not yet built are checked as they are kept: building them only to verify
        # them would double the cost of an end-of-run check.
        records, pending = self._records, self._pending
        bad = verify_chain(records, self._start_hash, start_seq=self._start_seq)
        if bad is not None:
            return bad
        if pending:
            after = records[-1].hash if records else self._start_hash
            bad = _first_bad(pending, after, self._start_seq + len(records))
            if bad is not None:
                return bad
        retained = self._count - self._start_seq
        kept = len(records) + len(pending)
        if kept != retained:
            return self._start_seq + min(kept, retained)
        if pending:
            last_seq, last_hash = pending[-1][0], pending[-1][8]
        elif records:
            last_seq, last_hash = records[-1].seq, records[-1].hash
        else:
            return None
        return last_seq if last_hash != self._head else None
