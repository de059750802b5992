"""The infrastructure fee, shaped like the Lang Son schedule in force from 8 May 2025."""

from __future__ import annotations

from typing import Any

import pytest

from gate.config import FeeSchedule
from gate.declaration import Declaration
from gate.enums import GoodsCategory, VehicleClass
from gate.fees import container_rate, fee_for
from tests.unit.test_declaration import goods_line, parsed

LANG_SON = FeeSchedule()

FRUIT = goods_line(hs_code="0810", description="fresh lychee", category="plants_fruit")
ORE = goods_line(hs_code="2601", description="iron ore", category="ore", gross_kg=20_000)


def container(number: str, size_ft: int) -> dict[str, Any]:
    return {"number": number, "size_ft": size_ft}


def truck(vehicle_class: str = "truck", **overrides: Any) -> Declaration:
    """A vehicle without containers carrying general goods."""
    fields: dict[str, Any] = {"vehicle_class": vehicle_class, "containers": [], "goods": [goods_line()]}
    fields.update(overrides)
    return parsed(**fields)


def container_truck(*containers: dict[str, Any], **overrides: Any) -> Declaration:
    fields: dict[str, Any] = {"vehicle_class": "container", "containers": list(containers), "goods": [FRUIT]}
    fields.update(overrides)
    return parsed(**fields)


def test_a_small_vehicle_pays_the_lowest_trip_fee() -> None:
    assert fee_for(truck("small"), LANG_SON) == 100_000


def test_a_forty_foot_container_under_temporary_import_for_reexport_pays_four_million() -> None:
    declaration = container_truck(container("CSQU3054383", 40), direction="temporary_import_reexport")
    assert fee_for(declaration, LANG_SON) == 4_000_000


def test_the_same_container_imported_outright_pays_the_ordinary_container_rate() -> None:
    declaration = container_truck(container("CSQU3054383", 40), direction="import")
    assert fee_for(declaration, LANG_SON) == 2_000_000


def test_ore_pays_five_times_the_rate() -> None:
    assert fee_for(truck(goods=[ORE]), LANG_SON) == 5 * 500_000


def test_a_mixed_load_of_ore_and_fruit_pays_the_highest_rate() -> None:
    mixed = truck(goods=[FRUIT, ORE])
    assert fee_for(mixed, LANG_SON) == 5 * 500_000
    assert fee_for(truck(goods=[FRUIT]), LANG_SON) == 500_000


def test_transit_is_exempt_when_the_schedule_says_so() -> None:
    transit = truck(direction="transit")
    assert fee_for(transit, LANG_SON.model_copy(update={"exempt_transit": True})) == 0
    assert fee_for(transit, LANG_SON) == 500_000


def test_the_transit_exemption_does_not_touch_other_directions() -> None:
    exempting = LANG_SON.model_copy(update={"exempt_transit": True})
    assert fee_for(truck(direction="import"), exempting) == 500_000


def test_two_containers_add_up() -> None:
    declaration = container_truck(container("CSQU3054383", 40), container("MSCU1234566", 20))
    assert fee_for(declaration, LANG_SON) == 2_000_000 + 1_000_000


def test_the_multiplier_applies_to_the_sum_of_the_containers() -> None:
    declaration = container_truck(container("CSQU3054383", 40), container("MSCU1234566", 20), goods=[ORE])
    assert fee_for(declaration, LANG_SON) == 5 * 3_000_000


def test_a_vehicle_class_missing_from_the_schedule_pays_nothing() -> None:
    schedule = FeeSchedule(per_trip_vnd={VehicleClass.SMALL: 100_000})
    assert fee_for(truck("truck"), schedule) == 0


def test_a_container_size_missing_from_the_schedule_pays_the_nearest_smaller_size() -> None:
    schedule = FeeSchedule(per_container_vnd={20: 1_000_000, 40: 2_000_000}, reexport_container_vnd={20: 2_500_000})
    assert fee_for(container_truck(container("CSQU3054383", 45)), schedule) == 2_000_000
    reexport = container_truck(container("CSQU3054383", 40), direction="temporary_import_reexport")
    assert fee_for(reexport, schedule) == 2_500_000


def test_a_container_smaller_than_every_listed_size_pays_nothing() -> None:
    assert container_rate(20, {40: 2_000_000, 45: 2_200_000}) == 0
    assert container_rate(45, {}) == 0


def test_categories_without_a_multiplier_count_once() -> None:
    schedule = FeeSchedule(category_multiplier={GoodsCategory.ORE: 5.0, GoodsCategory.PLANTS_FRUIT: 0.5})
    # A discounted line does not discount the general goods travelling with it.
    assert fee_for(truck(goods=[FRUIT, goods_line()]), schedule) == 500_000
    assert fee_for(truck(goods=[FRUIT]), schedule) == 250_000


@pytest.mark.parametrize(
    "per_trip, multiplier, expected",
    [
        (100_500, 1.0, 101_000),  # exactly half: up
        (100_499, 1.0, 100_000),
        (100_000, 1.005, 101_000),  # 100,500 in decimal; a binary float would give 100,499.99...
        (333_333, 1.5, 500_000),  # 499,999.5
        (123_456, 2.25, 278_000),  # 277,776
    ],
)
def test_the_fee_is_rounded_half_up_to_the_nearest_thousand_dong(per_trip: int, multiplier: float, expected: int) -> None:
    schedule = FeeSchedule(
        per_trip_vnd={VehicleClass.TRUCK: per_trip}, category_multiplier={GoodsCategory.GENERAL: multiplier}
    )
    assert fee_for(truck(), schedule) == expected


def test_the_fee_is_a_whole_number_of_dong() -> None:
    schedule = FeeSchedule(category_multiplier={GoodsCategory.GENERAL: 1.37})
    fee = fee_for(truck(), schedule)
    assert isinstance(fee, int) and fee == 685_000
