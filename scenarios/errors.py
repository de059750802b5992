"""What is wrong with a scenario, said so that a planner can fix it.

Every problem found while reading a scenario - unreadable file, YAML syntax, a field of the
wrong type, a value out of range, two fields that contradict each other - becomes one
``ScenarioIssue`` with the dotted path of the field, a reason and the offending value. All the
issues of one file travel together in a ``ScenarioError``, so a planner fixes everything in
one pass. ``format_errors`` renders one line per issue::

    scenarios/library/peak.yaml: layout.scanners.0.count: must be >= 0 (got -1)

Every line about a value the file gives shows that value; a check across fields shows the
fields it compared (``core.risk: expected_yellow + expected_red must be at most 1 (got
expected_yellow 0.9, expected_red 0.2)``).

pydantic's messages are rewritten here into that house style, and the path is cleaned of
pydantic's internal segments (a distribution's ``kind`` tag, a dict's ``[key]`` marker).

A check across fields reads fields that may not have validated (``scenarios.partial`` runs the
checks on what did validate); reading an invalid field raises ``InvalidInput``, and the part of
the check inside ``skip_if_invalid()`` is skipped: its input is reported already.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Union

from pydantic import BaseModel, ValidationError


@dataclass(frozen=True, slots=True)
class ScenarioIssue:
    """One problem in a scenario: where (dotted field path), why, and what was given."""

    path: str
    reason: str
    value: str = ""

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        shown = f" (got {self.value})" if self.value else ""
        return f"{where}{self.reason}{shown}"


class ScenarioError(Exception):
    """A scenario that could not be read or is not valid; ``errors`` lists every problem."""

    def __init__(self, file: str, errors: Sequence[ScenarioIssue]) -> None:
        self.file = file
        self.errors = list(errors)
        super().__init__("\n".join(format_errors(self)))


def format_errors(err: ScenarioError) -> list[str]:
    """One line per problem: ``file: path: reason (got value)``."""
    return [f"{err.file}: {issue}" for issue in err.errors]


def shown(value: Any) -> str:
    """A short, readable rendering of a bad value for an error message."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def shown_fields(**fields: Any) -> str:
    """Several given values, named: ``p_correct 0.9, p_misread 0.05``."""
    return ", ".join(f"{name} {shown(value)}" for name, value in fields.items())


def _named_in(message: str, given: Any) -> str:
    """The values of the fields of ``given`` (a mapping or a model) that ``message`` names."""
    if isinstance(given, BaseModel):
        given = {name: getattr(given, name) for name in type(given).model_fields}
    if not isinstance(given, Mapping):
        return ""
    named = {
        str(key): value
        for key, value in given.items()
        if isinstance(key, str) and re.search(rf"(?<![\w]){re.escape(key)}(?![\w])", message)
    }
    return shown_fields(**named)


class InvalidInput(Exception):
    """A check across fields read a field that did not validate (see ``scenarios.partial``)."""


@contextmanager
def skip_if_invalid() -> Iterator[None]:
    """Skip the rest of the block if it reads a field that did not validate."""
    try:
        yield
    except InvalidInput:
        pass


class CrossFieldProblems(ValueError):
    """Raised by a model validator that found contradictions between fields.

    pydantic reports a model validator's error at the model's own location; this exception
    carries each problem's path *relative to that model*, so the message can name the exact
    field (``devices.outages.0.device``) instead of the whole section.
    """

    def __init__(self, issues: Sequence[ScenarioIssue]) -> None:
        self.issues = list(issues)
        super().__init__("; ".join(str(issue) for issue in self.issues))


class Problems:
    """Collects cross-field problems inside a validator and raises them all at once."""

    def __init__(self) -> None:
        self._issues: list[ScenarioIssue] = []

    def add(self, path: str, reason: str, value: Any = None, *, given: str = "") -> None:
        """Record a problem at ``path`` (relative to the model being validated).

        ``value`` is the value given, shown as it reads in an error; ``given`` says it in words
        instead, for several fields (``shown_fields``) or a field the file left out.
        """
        self._issues.append(ScenarioIssue(path, reason, given or ("" if value is None else shown(value))))

    def raise_if_any(self) -> None:
        """Raise ``CrossFieldProblems`` if anything was recorded."""
        if self._issues:
            raise CrossFieldProblems(self._issues)


# --- pydantic errors -> issues ------------------------------------------------------------


def unwrap_annotation(annotation: Any) -> Any:
    """Strip ``Annotated`` and ``X | None`` so a walker sees the structural type; a union of
    models comes back as the tuple of those models, any other union as it is."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
            continue
        if origin in (Union, types.UnionType):
            members = [a for a in typing.get_args(annotation) if a is not type(None)]
            models = [m for m in members if isinstance(m, type) and issubclass(m, BaseModel)]
            if len(members) == 1:
                annotation = members[0]
                continue
            if models and len(models) == len(members):
                return tuple(models)  # a tagged union of models
        return annotation


def _kind_of(model: type[BaseModel]) -> Any:
    """The tag of a tagged-union member: the single value of its ``kind: Literal[...]``."""
    field = model.model_fields.get("kind")
    if field is None:
        return None
    tags = typing.get_args(field.annotation)
    return tags[0] if len(tags) == 1 else None


def _walk(root: type[BaseModel], loc: Sequence[int | str]) -> tuple[list[str], Any]:
    """The user-facing path of ``loc`` and the type found at its end (None if lost).

    Drops the segments pydantic adds but a scenario file never contains: the tag of a tagged
    union (``service_s.lognormal.cv`` is written ``service_s: {kind: lognormal, cv: ...}``).
    """
    parts: list[str] = []
    current: Any = root
    for segment in loc:
        if segment == "[key]":
            continue
        current = unwrap_annotation(current) if current is not None else None
        if isinstance(current, tuple):  # tagged union: this segment is the tag
            chosen = [m for m in current if _kind_of(m) == segment]
            if chosen:
                current = chosen[0]
                continue
            current = None
        parts.append(str(segment))
        if current is None:
            continue
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(segment))
            current = None if field is None else field.annotation
            continue
        origin = typing.get_origin(current)
        args = typing.get_args(current)
        if origin in (list, tuple, Sequence) and args:
            current = args[0]
        elif origin is dict and len(args) == 2:
            current = args[1]
        else:
            current = None
    return parts, (unwrap_annotation(current) if current is not None else None)


def field_path(root: type[BaseModel], loc: Sequence[int | str]) -> str:
    """The dotted path a scenario file uses for pydantic's location ``loc`` in ``root``."""
    return ".".join(_walk(root, loc)[0])


def _allowed_fields(root: type[BaseModel], loc: Sequence[int | str]) -> list[str]:
    _, parent = _walk(root, loc)
    if isinstance(parent, type) and issubclass(parent, BaseModel):
        return list(parent.model_fields)
    if isinstance(parent, tuple):
        return sorted({name for model in parent for name in model.model_fields})
    return []


def _unknown_field_reason(root: type[BaseModel], loc: Sequence[int | str]) -> str:
    name = str(loc[-1]) if loc else ""
    allowed = _allowed_fields(root, loc[:-1])
    if not allowed:
        return "unknown field"
    close = difflib.get_close_matches(name, allowed, n=1, cutoff=0.6)
    if close:
        return f"unknown field (did you mean '{close[0]}'?)"
    return f"unknown field; expected one of: {', '.join(allowed)}"


def _reason(item: Any, root: type[BaseModel]) -> tuple[str, bool]:
    """The house-style reason for one pydantic error, and whether to show the bad value."""
    kind = item["type"]
    ctx = item.get("ctx") or {}
    value = item.get("input")
    bounds = {
        "greater_than_equal": (">=", "ge"),
        "greater_than": (">", "gt"),
        "less_than_equal": ("<=", "le"),
        "less_than": ("<", "lt"),
    }
    if kind in bounds:
        symbol, key = bounds[kind]
        limit = ctx.get(key)
        return f"must be {symbol} {_limit(limit)}", True
    if kind == "missing":
        return "required field is missing", False
    if kind == "extra_forbidden":
        return _unknown_field_reason(root, tuple(item["loc"])), False
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return "must be a whole number", True
    if kind in ("float_parsing", "float_type"):
        return "must be a number", True
    if kind == "finite_number":
        return "must be a finite number", True
    if kind in ("bool_parsing", "bool_type"):
        return "must be true or false", True
    if kind == "string_type":
        if isinstance(value, bool):
            return "must be text; quote it so YAML does not read it as true/false", True
        return "must be text", True
    if kind in ("literal_error", "enum"):
        what = "key" if "[key]" in item["loc"] else "value"
        return f"unknown {what}: must be one of {ctx.get('expected')}", True
    if kind == "union_tag_invalid":
        return f"unknown kind: must be one of {ctx.get('expected_tags')}", True
    if kind == "union_tag_not_found":
        return "needs a 'kind' (constant, exponential, lognormal, triangular or empirical)", True
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return "must be a mapping of fields", True
    if kind in ("list_type", "tuple_type"):
        return "must be a list", True
    if kind == "too_short":
        return f"must have at least {ctx.get('min_length')} item(s)", True
    if kind == "too_long":
        return f"must have at most {ctx.get('max_length')} item(s)", True
    if kind == "string_too_short":
        return "must not be empty", True
    if kind == "string_pattern_mismatch":
        return f"must match the pattern {ctx.get('pattern')}", True
    message = str(item["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    return message, True


def given_for(message: str, value: Any) -> str:
    """The value given, as an error about it shows it after ``message``.

    Empty when the message shows the value itself (``(got ...)``). For a check across the
    fields of a section, the fields the message names (``expected_yellow 0.9, expected_red
    0.2``); the section itself if it names none.
    """
    if "(got " in message:
        return ""
    if isinstance(value, (Mapping, BaseModel)):
        return _named_in(message, value) or shown(value)
    return shown(value)


def issues_from_validation(error: ValidationError, root: type[BaseModel]) -> list[ScenarioIssue]:
    """Every error of a pydantic validation of ``root``, as issues with clean paths."""
    issues: list[ScenarioIssue] = []
    for item in error.errors(include_url=False):
        loc = tuple(item["loc"])
        parts, _ = _walk(root, loc)
        prefix = ".".join(parts)
        cause = (item.get("ctx") or {}).get("error")
        if isinstance(cause, CrossFieldProblems):
            for sub in cause.issues:
                path = ".".join(p for p in (prefix, sub.path) if p)
                issues.append(ScenarioIssue(path, sub.reason, sub.value))
            continue
        reason, show_value = _reason(item, root)
        given = item.get("input")
        if item["type"] == "union_tag_invalid" and isinstance(given, Mapping):
            given = given.get("kind")  # the kind is what is wrong, not the whole mapping
        value = given_for(reason, given) if show_value and "input" in item else ""
        issues.append(ScenarioIssue(prefix, reason, value))
    return issues



def _limit(limit: object) -> str:
    """A bound as people write it: 1000000 and 0.5, not 1e+06."""
    if isinstance(limit, int) and not isinstance(limit, bool):
        return str(limit)
    if isinstance(limit, float):
        return str(int(limit)) if limit.is_integer() and abs(limit) < 1e15 else f"{limit:g}"
    return str(limit)
