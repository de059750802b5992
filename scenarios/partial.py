"""The checks across fields of a scenario that did not validate, so that every error shows at once.

pydantic runs a model's checks across fields (its ``model_validator(mode="after")``) only when
every field of that model validated: one bad value in a file would hide every contradiction
in it until that value was fixed, and the planner would fix the file one error at a time.

After a failed validation, ``cross_field_issues`` rebuilds what did validate. A part with no
error is validated again on its own and is the real model; a model with an error somewhere
inside becomes a ``Partial``, whose valid fields read as usual and whose invalid ones raise
``InvalidInput``. The checks of every model that had an error inside run on its ``Partial``
(the model's own properties and methods work on it), innermost first; a check, or a part of
one inside ``skip_if_invalid()``, that reads an invalid field is skipped, since that field is
reported already. A model whose only error is its own check's is not checked again.

Field validators of a model (``@field_validator``) are not run again on a field validated on
its own: they check, or normalise values no check across fields reads.
"""

from __future__ import annotations

import functools
import inspect
import types
import typing
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic.fields import FieldInfo

from scenarios.errors import CrossFieldProblems, InvalidInput, ScenarioIssue, field_path, given_for, unwrap_annotation

Loc = tuple[int | str, ...]


class Partial:
    """A model some of whose fields did not validate.

    Reading a valid field gives its value; reading an invalid one raises ``InvalidInput``. The
    model's properties and methods are bound to the partial, so they work as long as they read
    only valid fields.
    """

    __slots__ = ("_model", "_fields")

    def __init__(self, model: type[BaseModel], fields: dict[str, Any]) -> None:
        self._model = model
        self._fields = fields

    def __getattr__(self, name: str) -> Any:
        if name in self._fields:
            return self._fields[name]
        if name in self._model.model_fields:
            raise InvalidInput(f"{self._model.__name__}.{name}")
        attribute = inspect.getattr_static(self._model, name, None)
        if isinstance(attribute, property):
            return attribute.__get__(self)
        if isinstance(attribute, (staticmethod, classmethod)):
            return attribute.__get__(self, self._model)
        if inspect.isfunction(attribute):
            return types.MethodType(attribute, self)
        raise AttributeError(f"{self._model.__name__} has no attribute {name!r}")

    def __repr__(self) -> str:
        return f"Partial({self._model.__name__}, valid: {', '.join(self._fields) or 'nothing'})"


def cross_field_issues(root: type[BaseModel], data: Mapping[str, Any], error: ValidationError) -> list[ScenarioIssue]:
    """The problems the checks across fields find in what validated of ``data``.

    ``error`` is the failed validation of ``data`` as a ``root``; its problems are not repeated.
    """
    locs = [tuple(item["loc"]) for item in error.errors(include_url=False)]
    rebuilt = _Rebuild(root, locs)
    rebuilt.value(root, data, ())
    return rebuilt.issues


class _Rebuild:
    """One rebuilding of a scenario: the error locations, and the problems its checks found."""

    def __init__(self, root: type[BaseModel], locs: list[Loc]) -> None:
        self.root = root
        self.locs = locs
        self.issues: list[ScenarioIssue] = []

    def _errors_at_or_below(self, loc: Loc) -> bool:
        return any(found[: len(loc)] == loc for found in self.locs)

    def _errors_below(self, loc: Loc) -> bool:
        return any(len(found) > len(loc) and found[: len(loc)] == loc for found in self.locs)

    def value(self, annotation: Any, raw: Any, loc: Loc) -> Any:
        """What validated of ``raw`` at ``loc``: a value, a ``Partial``, or ``InvalidInput`` raised."""
        if not self._errors_at_or_below(loc):
            try:
                return _adapter(annotation).validate_python(raw)
            except ValidationError:  # valid in its place, not on its own: leave it out
                raise InvalidInput(".".join(map(str, loc))) from None
        structure = _structure(annotation)
        if isinstance(structure, type) and issubclass(structure, BaseModel):
            return self._model(structure, raw, loc)
        if isinstance(structure, tuple) and isinstance(raw, (list, tuple)):
            item_model = _structure(structure[0])
            if isinstance(item_model, type) and issubclass(item_model, BaseModel):  # outages, closures...
                return tuple(self._item(structure[0], item_model, item, (*loc, i)) for i, item in enumerate(raw))
        raise InvalidInput(".".join(map(str, loc)))

    def _item(self, annotation: Any, model: type[BaseModel], raw: Any, loc: Loc) -> Any:
        try:
            return self.value(annotation, raw, loc)
        except InvalidInput:
            return Partial(model, {})  # an item that does not validate at all: nothing in it reads

    def _model(self, model: type[BaseModel], raw: Any, loc: Loc) -> Partial:
        if not isinstance(raw, Mapping):
            return Partial(model, {})
        fields: dict[str, Any] = {}
        for name, field in model.model_fields.items():
            try:
                if name in raw:
                    fields[name] = self.value(_annotated(model, name), raw[name], (*loc, name))
                elif not field.is_required():
                    fields[name] = field.get_default(call_default_factory=True)
            except InvalidInput:
                pass
        partial = Partial(model, fields)
        if self._errors_below(loc):  # the model's own checks did not run: run them on what validated
            self._check(model, partial, raw, loc)
        return partial

    def _check(self, model: type[BaseModel], partial: Partial, raw: Mapping[str, Any], loc: Loc) -> None:
        prefix = field_path(self.root, loc)
        for decorator in model.__pydantic_decorators__.model_validators.values():
            if decorator.info.mode != "after":
                continue
            try:
                decorator.func(partial)
            except InvalidInput:
                continue
            except CrossFieldProblems as problems:
                for issue in problems.issues:
                    path = ".".join(part for part in (prefix, issue.path) if part)
                    self.issues.append(ScenarioIssue(path, issue.reason, issue.value))
            except (ValueError, AssertionError) as exc:
                message = str(exc)
                self.issues.append(ScenarioIssue(prefix, message, given_for(message, raw)))


@functools.cache
def _annotated(model: type[BaseModel], name: str) -> Any:
    """The type of a model's field with its constraints and validators (``Annotated``)."""
    field: FieldInfo = model.model_fields[name]
    return typing.Annotated[field.annotation, field]


@functools.cache
def _adapter(annotation: Any) -> TypeAdapter[Any]:
    return TypeAdapter(annotation)


def _structure(annotation: Any) -> Any:
    """A model class, ``(element,)`` for a list or tuple of items, or None for anything else."""
    annotation = unwrap_annotation(annotation)  # a union of several types stays one: nothing to rebuild
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) in (list, tuple) and args and (len(args) == 1 or args[1] is Ellipsis):
        return (args[0],)
    return None

