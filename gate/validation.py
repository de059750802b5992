"""Shape checks on incoming events, before any logic runs.

Events are frozen dataclasses, but Python does not enforce their annotations: a device driver
or a platform adapter can still hand over a string where a number belongs, a NaN weight, or an
enum value that is really a plain string. Each event type has one row here: field -> accepted
types, plus value checks. ``problem(event)`` names the first bad field, or returns None.

``WELL_FORMED`` holds, per event type, one function compiled from the same rows that accepts
the common case in a single pass (exact types, values in range) and returns the event's sender;
it returns None whenever it is not sure, and then ``problem`` and ``sender`` decide, so the
verdict and the reason are always theirs.

Text fields (ids, plates, free text) must be exact ``str``. A subclass, such as a member of a
``(str, Enum)`` a driver adapter names its devices with, compares equal to its value but may
hash, format and print differently: the core would file it under one key, find it under
another, and the audit would hash one text and show another. It is refused, naming its type,
so the sender learns to send the plain value.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from gate import events as ev
from gate.enums import Channel, ClearanceKind, Outcome, PaymentMethod, Role, ScanResult

_ID_MAX = 128

#: The fast form of a check: a Python expression over ``v`` that is true only for values the
#: check accepts (it may reject values the check would accept; the check then decides).
_FAST_FORM: dict[Callable[[Any], str | None], str] = {}


def _not_plain(value: Any, usual: str) -> str:
    """The reason a text field is refused: ``usual``, or that a ``str`` subclass is no plain string."""
    if isinstance(value, str) and type(value) is not str:
        return f"must be a plain string, not {type(value).__name__}"
    return usual


def _id(value: Any) -> str | None:
    if type(value) is not str or not value or len(value) > _ID_MAX:
        return _not_plain(value, f"must be a non-empty string of at most {_ID_MAX} characters")
    return None


def _text(value: Any) -> str | None:
    if type(value) is not str or len(value) > 2000:
        return _not_plain(value, "must be a string of at most 2000 characters")
    return None


def _opt_plate(value: Any) -> str | None:
    return None if value is None else _plate(value)


def _plate(value: Any) -> str | None:
    if type(value) is not str or not 1 <= len(value) <= 20:
        return _not_plain(value, "must be a plate string of 1-20 characters")
    return None


def _number(lo: float, hi: float) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if type(value) is float and lo <= value <= hi:  # the usual case; NaN and inf fail the range test
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return "must be a finite number"
        try:
            # An int is exact, but the handlers work in floats: one beyond a float's range
            # (10**400) is as unusable as inf, and math.isfinite would raise on it.
            if not math.isfinite(float(value)):
                return "must be a finite number"
        except OverflowError:
            return "must be a finite number"
        if not lo <= value <= hi:
            return f"must be between {lo:g} and {hi:g}"
        return None

    _FAST_FORM[check] = f"type(v) is float and {float(lo)!r} <= v <= {float(hi)!r}"
    return check


def _whole(lo: int, hi: int) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int):
            return "must be a whole number"
        if not lo <= value <= hi:
            return f"must be between {lo} and {hi}"
        return None

    _FAST_FORM[check] = f"type(v) is int and {int(lo)!r} <= v <= {int(hi)!r}"
    return check


def _optional(check: Callable[[Any], str | None]) -> Callable[[Any], str | None]:
    """``check``, or nothing given (None)."""
    def optional(value: Any) -> str | None:
        return None if value is None else check(value)

    _FAST_FORM[optional] = f"v is None or ({_FAST_FORM[check]})"
    return optional


def _flag(value: Any) -> str | None:
    return None if isinstance(value, bool) else "must be true or false"


def _member(enum: type) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        return None if isinstance(value, enum) else f"must be a {enum.__name__}"

    _FAST_FORM[check] = f"type(v) is _enums[{_ENUMS.setdefault(enum, len(_ENUMS))}]"
    return check


def _reasons(value: Any) -> str | None:
    if not isinstance(value, tuple) or len(value) > 50 or not all(type(r) is str and len(r) <= 2000 for r in value):
        return "must be a tuple of plain strings (at most 50, each at most 2000 characters)"
    return None


def _positions(value: Any) -> str | None:
    # Only the batch's shape: each position is checked on its own (``position_problem``), so that
    # one bad position does not cost the others.
    if not isinstance(value, tuple) or len(value) > ev.MAX_POSITIONS:
        return f"must be a tuple of at most {ev.MAX_POSITIONS:,} positions"
    return None


_ENUMS: dict[type, int] = {}
_FAST_FORM.update({
    _id: f"type(v) is str and 0 < len(v) <= {_ID_MAX}",
    _text: "type(v) is str and len(v) <= 2000",
    _plate: "type(v) is str and 1 <= len(v) <= 20",
    _opt_plate: "v is None or (type(v) is str and 1 <= len(v) <= 20)",
    _flag: "type(v) is bool",
    _positions: f"type(v) is tuple and len(v) <= {ev.MAX_POSITIONS}",
    _reasons: "type(v) is tuple and (not v or (len(v) <= 50 and all(type(r) is str and len(r) <= 2000 for r in v)))",
})


def _payload(value: Any) -> str | None:
    from gate.declaration import Declaration

    return None if isinstance(value, (Declaration, Mapping)) else "must be a declaration or a mapping of its fields"


_RULES: dict[type, dict[str, Callable[[Any], str | None]]] = {
    ev.DeclarationSubmitted: {"account_id": _id, "declaration": _payload},
    ev.DeclarationAmended: {"account_id": _id, "declaration_id": _id, "declaration": _payload},
    ev.DeclarationCancelled: {"account_id": _id, "declaration_id": _id, "reason": _text},
    ev.ClearanceDecided: {
        "account_id": _id, "visit_id": _id, "clearance": _member(ClearanceKind),
        "outcome": _member(Outcome), "reasons": _reasons,
    },
    ev.ChannelRaised: {"account_id": _id, "visit_id": _id, "channel": _member(Channel), "reason": _text},
    ev.LoadingRegistered: {"account_id": _id, "visit_id": _id},
    ev.FeePaid: {
        "account_id": _id, "visit_id": _id, "amount_vnd": _whole(1, 10**12),
        "method": _member(PaymentMethod), "reference": _id,
    },
    ev.PaymentConfirmed: {"account_id": _id, "visit_id": _id, "reference": _id},
    ev.ManualPlateEntered: {"account_id": _id, "review_id": _id, "plate": _plate},
    ev.ReviewResolved: {"account_id": _id, "review_id": _id, "note": _text},
    ev.ContainerHandedOver: {"account_id": _id, "visit_id": _id, "container_no": _id},
    ev.StagingReleaseOrdered: {"account_id": _id, "area": _id, "count": _whole(1, 10_000)},
    ev.RoleGranted: {"account_id": _id, "target_account": _id, "role": _member(Role)},
    ev.RoleRevoked: {"account_id": _id, "target_account": _id, "role": _member(Role)},
    ev.PlateRead: {"device_id": _id, "plate": _opt_plate, "confidence": _number(0.0, 1.0)},
    ev.WeightMeasured: {
        "device_id": _id, "plate": _plate, "gross_kg": _number(0.0, 1_000_000.0),
        "stable": _flag, "overload": _flag,
    },
    ev.ScanCompleted: {"device_id": _id, "plate": _plate, "result": _member(ScanResult), "image_ref": _text},
    ev.BarrierOpened: {"device_id": _id},
    ev.BarrierClosed: {"device_id": _id},
    ev.VehiclePassed: {"device_id": _id, "plate": _plate},
    ev.DeviceFaulted: {"device_id": _id, "reason": _text},
    ev.DeviceRecovered: {"device_id": _id},
    ev.ManifestAcknowledged: {"device_id": _id, "mission_id": _id},
    ev.AgvArrived: {"device_id": _id, "mission_id": _id, "attempt": _optional(_whole(1, 1_000))},
    ev.AgvFaulted: {"device_id": _id, "mission_id": _id, "reason": _text, "attempt": _optional(_whole(1, 1_000))},
    ev.GpsPing: {"device_id": _id, "plate": _plate, "km_to_gate": _number(0.0, 5000.0), "speed_kmh": _number(0.0, 200.0)},
    ev.PositionsReported: {"device_id": _id, "positions": _positions},
}

#: The checks of one position in a ``PositionsReported`` batch: those of a ``GpsPing``'s fields.
_POSITION_CHECKS = tuple((name, _RULES[ev.GpsPing][name]) for name in ev.Position._fields)


def _compile_usual_position(batch: bool) -> Callable[[Any], bool]:
    """True for a position every check accepts in its fast form (a ``Position`` or plain tuple of
    three); False when not sure, and then ``position_problem`` decides. With ``batch``, the same
    for every position of a batch (a plain tuple of them) in one call: a batch holds dozens."""
    name = "usual_positions" if batch else "usual_position"
    pad = "    " * (2 if batch else 1)
    lines = [f"def {name}(positions):" if batch else f"def {name}(p):"]
    if batch:
        lines += ["    if type(positions) is not tuple:",  # a subclass might not give the same items twice
                  "        return False",
                  "    for p in positions:"]
    lines += [f"{pad}if (type(p) is not _Position and type(p) is not tuple) or len(p) != {len(_POSITION_CHECKS)}:",
              f"{pad}    return False"]
    for i, (_, check) in enumerate(_POSITION_CHECKS):
        lines += [f"{pad}v = p[{i}]", f"{pad}if not ({_FAST_FORM[check]}):", f"{pad}    return False"]
    lines.append("    return True")
    namespace: dict[str, Any] = {"_Position": ev.Position}
    exec("\n".join(lines), namespace)  # code built only from the rule table above
    usual: Callable[[Any], bool] = namespace[name]
    return usual


#: The common case of ``position_problem`` returning None, in one call (the checks' fast forms).
usual_position = _compile_usual_position(batch=False)
#: ``usual_position`` of every position of a batch, in one call.
usual_positions = _compile_usual_position(batch=True)


def position_problem(position: Any) -> str | None:
    """What is wrong with one position of a batch, as ``field: reason``; None when it is sound."""
    if not isinstance(position, tuple) or len(position) != len(_POSITION_CHECKS):
        return "must be a (plate, km_to_gate, speed_kmh) position"
    for (name, check), value in zip(_POSITION_CHECKS, position):
        reason = check(value)
        if reason is not None:
            return f"{name}: {reason}"
    return None


#: The same rules as pairs, to walk without building a dict view on every event.
_CHECKS: dict[type, tuple[tuple[str, Callable[[Any], str | None]], ...]] = {
    cls: tuple(rules.items()) for cls, rules in _RULES.items()
}


def _compile_well_formed(cls: type, sender_field: str | None) -> Callable[[Any], str | None] | None:
    """One function checking every rule of ``cls`` in its fast form, returning the sender; None
    when a rule has no fast form or the sender is not an id checked by the rules."""
    checks = _CHECKS[cls]
    if sender_field is None or dict(checks).get(sender_field) is not _id:
        return None
    lines = ["def well_formed(e):", "    try:"]
    for name, check in checks:
        form = _FAST_FORM.get(check)
        if form is None or not name.isidentifier():
            return None
        lines += [f"        v = e.{name}", f"        if not ({form}):", "            return None"]
    lines += ["    except AttributeError:", "        return None", f"    return e.{sender_field}"]
    namespace: dict[str, Any] = {"_enums": [enum for enum, _ in sorted(_ENUMS.items(), key=lambda kv: kv[1])]}
    exec("\n".join(lines), namespace)  # code built only from the rule table above
    well_formed: Callable[[Any], str | None] = namespace["well_formed"]
    well_formed.__qualname__ = f"well_formed[{cls.__name__}]"
    return well_formed


def problem(event: Any) -> str | None:
    """The first malformed field of ``event`` as ``field: reason``, or None when well formed."""
    checks = _CHECKS.get(type(event))
    if checks is None:
        return f"unknown event type {type(event).__name__}"
    for name, check in checks:
        reason = check(getattr(event, name, None))
        if reason is not None:
            return f"{name}: {reason}"
    return None


_SENDER_FIELD: dict[type, str] = {cls: "account_id" for cls in ev.PERSON_EVENTS}
_SENDER_FIELD.update({cls: "device_id" for cls in ev.DEVICE_EVENTS})


def sender(event: Any) -> str:
    """Who sent ``event``, for the audit: its account or device, or a description if garbled."""
    field = _SENDER_FIELD.get(type(event))
    value = getattr(event, field, None) if field is not None else None
    if type(value) is str and value:
        return value if len(value) <= _ID_MAX else value[:_ID_MAX]
    for attr in ("account_id", "device_id"):
        value = getattr(event, attr, None)
        if isinstance(value, str) and value:
            return str.__str__(value)[:_ID_MAX]  # a plain copy of a str subclass: the audit keeps plain text
    return f"<unidentified {type(event).__name__}>"


#: Per event type: the sender when the event is certainly well formed, else None (then ask
#: ``problem`` and ``sender``). Types absent here always take the full checks.
WELL_FORMED: dict[type, Callable[[Any], str | None]] = {
    cls: fast for cls in _CHECKS if (fast := _compile_well_formed(cls, _SENDER_FIELD.get(cls))) is not None
}
