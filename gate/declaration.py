"""The pre-arrival declaration: declared once, shared by every agency.

Validated at the boundary with pydantic. ``parse_declaration`` turns raw data into a
``Declaration`` or into the complete list of what is wrong with it, each error with its
field path and reason, so a declarant can fix everything in one amendment.

A ``Declaration`` object is trusted as it is only if validation made it. pydantic can also
build one without validating (``model_construct``, ``model_copy(update=...)``, a copy, an
unpickled one), holding anything at all: ``parse_declaration`` validates those afresh, nested
models included (``revalidate_instances="always"``). Validation registers what it makes, by
identity and weakly, so the usual case costs one lookup.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from gate.commands import FieldError
from gate.enums import CrossingMode, Direction, GoodsCategory, VehicleClass
from gate.identifiers import (
    container_problem,
    country_problem,
    declarant_problem,
    hs_code_problem,
    normalize_plate,
    plate_problem,
)

# ``revalidate_instances``: a model instance given as data (a nested driver, a whole declaration)
# is validated again, for it may have been built without validation.
_FROZEN = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True, revalidate_instances="always")

#: Categories that spoil: they may be called forward ahead of others when the gate is full.
PERISHABLE_CATEGORIES = frozenset(
    {GoodsCategory.LIVE_ANIMALS, GoodsCategory.ANIMAL_PRODUCTS, GoodsCategory.PLANTS_FRUIT, GoodsCategory.FOODSTUFF}
)

#: HS chapters a category must fall in, where the tariff makes that unambiguous.
_CATEGORY_CHAPTERS: dict[GoodsCategory, frozenset[int]] = {
    GoodsCategory.LIVE_ANIMALS: frozenset({1}),
    GoodsCategory.ANIMAL_PRODUCTS: frozenset({2, 3, 4, 5, 15, 16}),
    GoodsCategory.PLANTS_FRUIT: frozenset(range(6, 15)),
    GoodsCategory.ORE: frozenset({26}),
}


class HealthDeclaration(BaseModel):
    """The driver's health declaration, checked by the medical unit at the gate."""

    model_config = _FROZEN
    fever: bool = False
    symptoms: Annotated[tuple[Annotated[str, Field(min_length=1, max_length=200)], ...], Field(max_length=20)] = ()
    contact_with_case: bool = False

    @property
    def needs_attention(self) -> bool:
        """Whether the medical unit must look at the driver more closely."""
        return self.fever or bool(self.symptoms) or self.contact_with_case


class Driver(BaseModel):
    """The driver, as declared; the health declaration travels with them."""

    model_config = _FROZEN
    name: Annotated[str, Field(min_length=2, max_length=120)]
    id_number: Annotated[str, Field(pattern=r"^[A-Z0-9]{6,20}$")]
    nationality: str
    health: HealthDeclaration = HealthDeclaration()

    @field_validator("nationality")
    @classmethod
    def _country(cls, v: str) -> str:
        problem = country_problem(v)
        if problem:
            raise ValueError(problem)
        return v


class Container(BaseModel):
    """One container on the vehicle: ISO 6346 number (check digit verified), size, seal."""

    model_config = _FROZEN
    number: str
    size_ft: Literal[20, 40, 45]
    seal: Annotated[str, Field(min_length=1, max_length=40)] | None = None

    @field_validator("number", mode="before")
    @classmethod
    def _iso6346(cls, v: Any) -> Any:
        if isinstance(v, str):
            v = v.replace(" ", "").upper()
            problem = container_problem(v)
            if problem:
                raise ValueError(problem)
        return v


class GoodsLine(BaseModel):
    """One line of goods: HS code, description, quantity, weight, value, origin and category."""

    # An infinite quantity or value is a typo, never a declaration.
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True, allow_inf_nan=False,
                              revalidate_instances="always")
    hs_code: str
    description: Annotated[str, Field(min_length=2, max_length=500)]
    quantity: Annotated[float, Field(gt=0)]
    unit: Annotated[str, Field(min_length=1, max_length=10)] = "kg"
    gross_kg: Annotated[float, Field(gt=0)]
    value_usd: Annotated[float, Field(ge=0)]
    origin: str
    category: GoodsCategory

    @field_validator("hs_code", mode="before")
    @classmethod
    def _hs(cls, v: Any) -> Any:
        if isinstance(v, str):
            v = v.replace(".", "").replace(" ", "")
            problem = hs_code_problem(v)
            if problem:
                raise ValueError(problem)
        return v

    @field_validator("origin")
    @classmethod
    def _origin(cls, v: str) -> str:
        problem = country_problem(v)
        if problem:
            raise ValueError(problem)
        return v

    @model_validator(mode="after")
    def _category_matches_chapter(self) -> GoodsLine:
        chapters = _CATEGORY_CHAPTERS.get(self.category)
        if chapters is not None and int(self.hs_code[:2]) not in chapters:
            raise ValueError(
                f"category {self.category.value} does not match HS chapter {self.hs_code[:2]}"
            )
        return self


class Declaration(BaseModel):
    """One trip of one vehicle, declared before it travels. Versions replace each other."""

    model_config = _FROZEN
    declaration_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{2,39}$")]
    version: Annotated[int, Field(ge=1)] = 1
    declarant_id: str
    declarant_name: Annotated[str, Field(min_length=2, max_length=200)]
    direction: Direction
    vehicle_plate: str
    trailer_plate: str | None = None
    vehicle_class: VehicleClass
    driver: Driver
    containers: tuple[Container, ...] = ()
    #: Non-empty, checked by ``_some_goods`` rather than ``min_length``: a length constraint is
    #: applied to the lines that validated, so one bad line would also report "no goods".
    goods: tuple[GoodsLine, ...]
    declared_gross_kg: Annotated[float, Field(gt=0, le=200_000)]
    crossing_mode: CrossingMode = CrossingMode.ROAD_HANDOVER
    transshipment: bool = False
    arrival_from: Annotated[float, Field(ge=0)] = 0.0
    arrival_to: Annotated[float, Field(ge=0)] = float("inf")

    @field_validator("declarant_id")
    @classmethod
    def _declarant(cls, v: str) -> str:
        problem = declarant_problem(v)
        if problem:
            raise ValueError(problem)
        return v

    @field_validator("goods")
    @classmethod
    def _some_goods(cls, v: tuple[GoodsLine, ...]) -> tuple[GoodsLine, ...]:
        if not v:
            raise ValueError("declare at least one goods line")
        return v

    @field_validator("vehicle_plate", "trailer_plate", mode="before")
    @classmethod
    def _plate(cls, v: Any) -> Any:
        if isinstance(v, str):
            v = normalize_plate(v)
            problem = plate_problem(v)
            if problem:
                raise ValueError(problem)
        return v

    @model_validator(mode="after")
    def _consistent(self) -> Declaration:
        problems: list[str] = []
        if self.arrival_to < self.arrival_from:
            problems.append("arrival_to is before arrival_from")
        cargo = sum(line.gross_kg for line in self.goods)
        if cargo > self.declared_gross_kg:
            problems.append(
                f"goods weigh {cargo:g} kg, more than the declared gross {self.declared_gross_kg:g} kg"
            )
        numbers = [c.number for c in self.containers]
        if len(set(numbers)) != len(numbers):
            problems.append("a container number appears twice")
        if self.crossing_mode is CrossingMode.AGV_LANE and not self.containers:
            problems.append("the AGV lane carries containers: declare at least one")
        if self.vehicle_class is VehicleClass.CONTAINER and not self.containers:
            problems.append("a container vehicle must declare its containers")
        if problems:
            raise ValueError("; ".join(problems))
        _VALIDATED[id(self)] = self  # the last check of validation: what reaches here is sound
        return self

    @property
    def categories(self) -> frozenset[GoodsCategory]:
        """The goods categories on the declaration."""
        return frozenset(line.category for line in self.goods)

    @property
    def perishable(self) -> bool:
        """Whether any line spoils (live animals, animal products, plants and fruit, foodstuff)."""
        return not PERISHABLE_CATEGORIES.isdisjoint(self.categories)

    @property
    def origins(self) -> frozenset[str]:
        """The countries of origin of the goods."""
        return frozenset(line.origin for line in self.goods)


#: Every live ``Declaration`` validation made, by ``id``. Weak: an entry goes with its declaration,
#: so an id can name only the object registered under it, never a later one at the same address.
_VALIDATED: weakref.WeakValueDictionary[int, Declaration] = weakref.WeakValueDictionary()


def _path(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "declaration"


def shown(value: Any, limit: int = 60) -> str:
    """``value`` as a refusal or a field error shows it: its repr, cut to ``limit`` characters.

    Never raises: a value that cannot be shown (deep nesting, an int of more digits than Python
    converts to text, an object whose repr fails) is shown by its type.
    """
    try:
        text = repr(value)
    except Exception:  # only for display, never for a decision
        return f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[:limit - 3] + "..."


def field_errors(error: ValidationError) -> tuple[FieldError, ...]:
    """Every error of a pydantic validation, as paths and reasons a declarant can act on."""
    out = []
    for item in error.errors(include_url=False):
        message = str(item["msg"]).removeprefix("Value error, ")
        value = "" if item["type"] == "missing" else shown(item.get("input"))
        out.append(FieldError(_path(tuple(item["loc"])), message, value))
    return tuple(out)


def parse_declaration(data: Declaration | Mapping[str, Any]) -> Declaration | tuple[FieldError, ...]:
    """A validated declaration, or every reason it is not one. Never raises.

    A ``Declaration`` that validation made is returned as it is; one built some other way is
    validated afresh (and a new, validated object returned).
    """
    if isinstance(data, Declaration):
        if _VALIDATED.get(id(data)) is data:
            return data
    elif not isinstance(data, Mapping):
        return (FieldError("declaration", "must be a mapping of fields", shown(data)),)
    else:
        data = dict(data)
    try:
        return Declaration.model_validate(data)
    except ValidationError as exc:
        return field_errors(exc)
    except (TypeError, ValueError, RecursionError) as exc:  # defensive: odd inputs in odd types
        return (FieldError("declaration", f"could not be read: {exc}", ""),)
