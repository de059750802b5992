"""Parsing a pre-arrival declaration: a Declaration, or every reason it is not one."""

from __future__ import annotations

import copy
import pickle
from typing import Any

import pytest
from pydantic import ValidationError

from gate.commands import FieldError
from gate.declaration import Declaration, parse_declaration
from gate.enums import CrossingMode, Direction, GoodsCategory, VehicleClass


def declaration_data(**overrides: Any) -> dict[str, Any]:
    """A valid declaration as raw data: dragon fruit on a container truck from Lang Son.

    Keyword arguments replace top-level fields. Other test modules build on it.
    """
    data: dict[str, Any] = {
        "declaration_id": "DEC-2025-000123",
        "declarant_id": "0101234567",
        "declarant_name": "Lang Son Fruit Trading JSC",
        "direction": "export",
        "vehicle_plate": "12C-123.45",
        "vehicle_class": "container",
        "driver": {"name": "Nguyen Van An", "id_number": "001085012345", "nationality": "VN"},
        "containers": [{"number": "CSQU3054383", "size_ft": 40, "seal": "VN123456"}],
        "goods": [
            {
                "hs_code": "0810.90",
                "description": "fresh dragon fruit",
                "quantity": 20000,
                "gross_kg": 21000,
                "value_usd": 18000,
                "origin": "VN",
                "category": "plants_fruit",
            }
        ],
        "declared_gross_kg": 30000,
    }
    data.update(overrides)
    return data


def goods_line(**overrides: Any) -> dict[str, Any]:
    """A valid goods line as raw data (general goods); keyword arguments replace fields."""
    line: dict[str, Any] = {
        "hs_code": "8471",
        "description": "computer parts",
        "quantity": 100,
        "gross_kg": 500,
        "value_usd": 9000,
        "origin": "CN",
        "category": "general",
    }
    line.update(overrides)
    return line


def parsed(**overrides: Any) -> Declaration:
    """The Declaration of ``declaration_data(**overrides)``; fails the test if it is invalid."""
    result = parse_declaration(declaration_data(**overrides))
    assert isinstance(result, Declaration), result
    return result


def errors_of(data: Any) -> dict[str, FieldError]:
    """The errors ``parse_declaration`` reports for ``data``, by path; fails if it parses."""
    result = parse_declaration(data)
    assert isinstance(result, tuple), f"expected errors, got {result!r}"
    return {error.path: error for error in result}


def test_a_good_declaration_parses_into_a_declaration_with_normalized_fields() -> None:
    declaration = parsed(vehicle_plate=" 12c-123.45 ")
    assert declaration.vehicle_plate == "12C-123.45"
    assert declaration.direction is Direction.EXPORT
    assert declaration.vehicle_class is VehicleClass.CONTAINER
    assert declaration.goods[0].hs_code == "081090"
    assert declaration.containers[0].size_ft == 40
    assert declaration.version == 1
    assert declaration.crossing_mode is CrossingMode.ROAD_HANDOVER


def test_a_chinese_plate_with_a_middle_dot_is_stored_in_its_plain_form() -> None:
    assert parsed(vehicle_plate="桂A·12345").vehicle_plate == "桂A12345"


def test_a_container_number_with_spaces_and_lower_case_is_normalized() -> None:
    declaration = parsed(containers=[{"number": "csqu 305438 3", "size_ft": 40}])
    assert declaration.containers[0].number == "CSQU3054383"


def test_a_declaration_passed_through_is_returned_as_is() -> None:
    declaration = parsed()
    assert parse_declaration(declaration) is declaration


def test_several_bad_fields_are_all_reported_each_with_its_dotted_path() -> None:
    data = declaration_data(
        declarant_id="12345",
        vehicle_plate="00C-123.45",
        driver={"name": "Nguyen Van An", "id_number": "001085012345", "nationality": "Vietnam"},
        containers=[
            {"number": "CSQU3054383", "size_ft": 40},
            {"number": "CSQU3054384", "size_ft": 40},
        ],
        goods=[goods_line(), goods_line(hs_code="12AB"), goods_line(origin="china")],
    )
    errors = errors_of(data)
    assert set(errors) == {
        "declarant_id",
        "vehicle_plate",
        "driver.nationality",
        "containers.1.number",
        "goods.1.hs_code",
        "goods.2.origin",
    }
    assert "check digit" in errors["containers.1.number"].message
    assert "province" in errors["vehicle_plate"].message
    assert errors["goods.1.hs_code"].message == "must be 4, 6, 8 or 10 digits"
    assert "'Vietnam'" in errors["driver.nationality"].value


def test_an_error_reads_as_path_reason_and_what_was_given() -> None:
    error = errors_of(declaration_data(declared_gross_kg=-5))["declared_gross_kg"]
    assert str(error).startswith("declared_gross_kg: ")
    assert str(error).endswith("(got -5)")


def test_missing_required_fields_are_reported_without_a_value() -> None:
    data = declaration_data()
    del data["driver"]
    del data["goods"]
    errors = errors_of(data)
    assert {"driver", "goods"} <= set(errors)
    assert errors["driver"].value == ""


def test_a_single_bad_goods_line_is_reported_at_its_path_and_nowhere_else() -> None:
    errors = errors_of(declaration_data(goods=[goods_line(hs_code="84")]))
    assert set(errors) == {"goods.0.hs_code"}


def test_a_declaration_without_goods_lines_is_reported_on_goods() -> None:
    errors = errors_of(declaration_data(goods=[]))
    assert set(errors) == {"goods"}
    assert errors["goods"].message == "declare at least one goods line"


@pytest.mark.parametrize("field", ["quantity", "value_usd", "gross_kg"])
def test_an_infinite_or_undefined_goods_figure_is_reported(field: str) -> None:
    for figure in (float("inf"), float("nan")):
        errors = errors_of(declaration_data(goods=[goods_line(**{field: figure})]))
        assert f"goods.0.{field}" in errors


def test_unknown_fields_are_refused_rather_than_silently_dropped() -> None:
    errors = errors_of(declaration_data(trailer_colour="red"))
    assert "trailer_colour" in errors


def test_a_category_that_contradicts_the_hs_chapter_is_reported_on_its_line() -> None:
    data = declaration_data(goods=[goods_line(), goods_line(hs_code="0810", category="ore")])
    errors = errors_of(data)
    assert set(errors) == {"goods.1"}
    assert "does not match HS chapter 08" in errors["goods.1"].message


def test_goods_heavier_than_the_declared_gross_weight_are_reported() -> None:
    errors = errors_of(declaration_data(declared_gross_kg=20000))
    assert "goods weigh 21000 kg, more than the declared gross 20000 kg" in errors["declaration"].message


def test_the_agv_lane_without_containers_is_reported() -> None:
    data = declaration_data(vehicle_class="truck", containers=[], crossing_mode="agv_lane")
    errors = errors_of(data)
    assert "the AGV lane carries containers" in errors["declaration"].message


def test_a_container_declared_twice_is_reported() -> None:
    container = {"number": "CSQU3054383", "size_ft": 40}
    errors = errors_of(declaration_data(containers=[container, dict(container)]))
    assert "a container number appears twice" in errors["declaration"].message


def test_a_container_vehicle_without_containers_is_reported() -> None:
    errors = errors_of(declaration_data(containers=[]))
    assert "a container vehicle must declare its containers" in errors["declaration"].message


def test_an_arrival_window_that_ends_before_it_starts_is_reported() -> None:
    errors = errors_of(declaration_data(arrival_from=7200, arrival_to=3600))
    assert "arrival_to is before arrival_from" in errors["declaration"].message


def test_several_cross_field_problems_are_reported_together() -> None:
    data = declaration_data(
        vehicle_class="truck", containers=[], crossing_mode="agv_lane", declared_gross_kg=1000
    )
    message = errors_of(data)["declaration"].message
    assert "the AGV lane carries containers" in message
    assert "more than the declared gross" in message


@pytest.mark.parametrize("payload", [None, 42, "DEC-1", ["declaration_id", "DEC-1"], b"{}"])
def test_a_payload_that_is_not_a_mapping_is_an_error_not_an_exception(payload: Any) -> None:
    result = parse_declaration(payload)
    assert isinstance(result, tuple) and len(result) == 1
    assert result[0].path == "declaration"
    assert "mapping" in result[0].message


def test_fields_of_the_wrong_type_are_errors_not_exceptions() -> None:
    data = declaration_data(goods="fruit", driver=["Nguyen"], containers=5, declared_gross_kg="heavy")
    errors = errors_of(data)
    assert {"goods", "driver", "containers", "declared_gross_kg"} <= set(errors)


def test_parsing_leaves_the_raw_data_untouched() -> None:
    data = declaration_data(vehicle_plate=" 12c-123.45 ")
    before = copy.deepcopy(data)
    parse_declaration(data)
    assert data == before


def test_a_declaration_is_frozen() -> None:
    declaration = parsed()
    with pytest.raises(ValidationError):
        declaration.declared_gross_kg = 1.0
    with pytest.raises(ValidationError):
        declaration.goods[0].gross_kg = 1.0  # type: ignore[misc]
    assert isinstance(declaration.goods, tuple)
    assert isinstance(declaration.containers, tuple)


def test_categories_origins_and_perishability_come_from_the_goods_lines() -> None:
    fruit_and_parts = parsed(goods=[declaration_data()["goods"][0], goods_line()])
    assert fruit_and_parts.categories == {GoodsCategory.PLANTS_FRUIT, GoodsCategory.GENERAL}
    assert fruit_and_parts.origins == {"VN", "CN"}
    assert fruit_and_parts.perishable
    parts_only = parsed(goods=[goods_line()])
    assert not parts_only.perishable


def test_a_health_declaration_with_fever_needs_attention() -> None:
    driver = {"name": "Nguyen Van An", "id_number": "001085012345", "nationality": "VN", "health": {"fever": True}}
    assert parsed(driver=driver).driver.health.needs_attention
    assert not parsed().driver.health.needs_attention


def test_a_declaration_that_validation_made_is_returned_as_it_is() -> None:
    made = Declaration.model_validate(declaration_data())
    assert parse_declaration(made) is made


@pytest.mark.parametrize("rebuild", [copy.copy, copy.deepcopy, lambda d: pickle.loads(pickle.dumps(d)),
                                     lambda d: d.model_copy(), lambda d: d.model_copy(deep=True)],
                         ids=["copy", "deepcopy", "pickled", "model_copy", "model_copy-deep"])
def test_every_copy_of_a_declaration_is_validated_afresh(rebuild: Any) -> None:
    made = Declaration.model_validate(declaration_data())
    copied = rebuild(made)
    parsed = parse_declaration(copied)
    assert parsed is not copied and parsed == made


def test_a_deep_copy_with_changes_is_validated_with_its_changes() -> None:
    made = Declaration.model_validate(declaration_data())
    changed = made.model_copy(update={"vehicle_plate": "ABC"}, deep=True)
    errors = parse_declaration(changed)
    assert isinstance(errors, tuple) and [e.path for e in errors] == ["vehicle_plate"]
