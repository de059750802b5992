"""The identifier checks a declaration and every plate read go through."""

from __future__ import annotations

from typing import Any

import pytest

from gate.identifiers import (
    confusable_key,
    container_problem,
    country_problem,
    declarant_problem,
    hs_code_problem,
    iso6346_check_digit,
    normalize_plate,
    plate_problem,
)

# ---- containers (ISO 6346) ------------------------------------------------------------------


def test_a_real_container_number_with_its_check_digit_is_valid() -> None:
    assert container_problem("CSQU3054383") is None


def test_a_container_number_with_the_wrong_check_digit_names_the_expected_digit() -> None:
    problem = container_problem("CSQU3054384")
    assert problem is not None
    assert "expected 3" in problem and "got 4" in problem


def test_the_check_digit_follows_the_iso_6346_letter_values_and_powers_of_two() -> None:
    # Worked by hand: M=24 S=30 C=13 U=32, weights 1, 2, 4, ..., 512:
    # 24 + 60 + 52 + 256 + 1*16 + 2*32 + 3*64 + 4*128 + 5*256 + 6*512 = 5528; 5528 mod 11 = 6.
    assert iso6346_check_digit("MSCU123456") == 6
    assert container_problem("MSCU1234566") is None


def test_letter_values_skip_multiples_of_eleven() -> None:
    # ISO 6346 gives A=10, B=12 (11 skipped), L=23 (22 skipped), V=34 (33 skipped).
    assert iso6346_check_digit("A000000000") == 10 % 11 % 10
    assert iso6346_check_digit("B000000000") == 12 % 11
    assert iso6346_check_digit("L000000000") == 23 % 11
    assert iso6346_check_digit("V000000000") == 34 % 11


@pytest.mark.parametrize("position", range(4, 10))
def test_every_single_digit_typo_in_the_serial_number_is_caught(position: int) -> None:
    valid = "CSQU3054383"
    for digit in "0123456789":
        if digit == valid[position]:
            continue
        typo = valid[:position] + digit + valid[position + 1 :]
        assert container_problem(typo) is not None, typo


@pytest.mark.parametrize(
    "number",
    ["CSQ3054383", "CSQX3054383", "CSQU305438", "CSQU30543833", "csqu3054383", "1SQU3054383", "CSQU305438A"],
)
def test_a_malformed_container_number_is_refused_with_the_expected_shape(number: str) -> None:
    problem = container_problem(number)
    assert problem is not None
    assert "owner letters" in problem


def test_the_equipment_categories_j_and_z_are_accepted() -> None:
    for category in "JZ":
        first_ten = f"CSQ{category}305438"
        assert container_problem(first_ten + str(iso6346_check_digit(first_ten))) is None


# ---- plates ---------------------------------------------------------------------------------


@pytest.mark.parametrize("plate", ["14C-123.45", "29LD-123.45", "14C-1234", "51F1-12345", "99A-999.99", "11A-000.01"])
def test_vietnamese_plates_in_their_usual_forms_are_valid(plate: str) -> None:
    assert plate_problem(plate) is None


@pytest.mark.parametrize("plate", ["00C-123.45", "10C-123.45"])
def test_a_vietnamese_plate_outside_the_province_codes_names_the_code(plate: str) -> None:
    problem = plate_problem(plate)
    assert problem is not None
    assert "province" in problem and plate[:2] in problem


@pytest.mark.parametrize("plate", ["14C123.45", "14-123.45", "14C-12.345", "14CDE-123.45", "", "ABC", "14C-123"])
def test_malformed_plates_are_refused(plate: str) -> None:
    assert plate_problem(plate) is not None


@pytest.mark.parametrize("plate", ["桂A12345", "桂AD12345", "粤B1234X"])
def test_chinese_plates_including_new_energy_ones_are_valid(plate: str) -> None:
    assert plate_problem(plate) is None


@pytest.mark.parametrize("plate", ["桂A1234", "桂A1234567", "X A12345", "桂AI2345", "桂AO2345"])
def test_chinese_plates_with_wrong_length_unknown_province_or_i_and_o_are_refused(plate: str) -> None:
    assert plate_problem(plate) is not None


def test_a_chinese_plate_written_with_a_middle_dot_normalizes_to_the_plain_form() -> None:
    assert normalize_plate("桂A·12345") == "桂A12345"
    assert plate_problem(normalize_plate("桂A·12345")) is None


def test_normalizing_upper_cases_and_drops_spaces_and_is_idempotent() -> None:
    once = normalize_plate(" 14c-123.45 ")
    assert once == "14C-123.45"
    assert normalize_plate(once) == once


def test_a_misread_i_for_1_collides_with_the_declared_plate_under_the_confusable_key() -> None:
    assert confusable_key("14C-I23.45") == confusable_key("14C-123.45")


@pytest.mark.parametrize("misread, declared", [("14C-0O1.45", "14C-001.45"), ("29LD-B23.S5", "29LD-823.55")])
def test_other_confusable_characters_collide_too(misread: str, declared: str) -> None:
    assert confusable_key(misread) == confusable_key(declared)


def test_plates_that_differ_by_a_real_digit_do_not_collide() -> None:
    assert confusable_key("14C-123.45") != confusable_key("14C-123.46")


# ---- declarants, HS codes, countries --------------------------------------------------------


@pytest.mark.parametrize("declarant", ["0101234567", "0101234567-001", "CN:91450100MA5KXXXX0X"])
def test_vietnamese_tax_codes_and_foreign_company_ids_are_valid_declarants(declarant: str) -> None:
    assert declarant_problem(declarant) is None


@pytest.mark.parametrize("declarant", ["010123456", "0101234567-01", "cn:9145", "CN:ABC", "CHN:91450100MA5K"])
def test_malformed_declarant_ids_are_refused(declarant: str) -> None:
    assert declarant_problem(declarant) is not None


@pytest.mark.parametrize("code", ["0803", "080390", "08039010", "0803901000", "2601"])
def test_hs_codes_of_four_to_ten_digits_in_even_steps_are_valid(code: str) -> None:
    assert hs_code_problem(code) is None


@pytest.mark.parametrize("code", ["080", "08039", "0803901", "08A3"])
def test_hs_codes_of_other_lengths_are_refused(code: str) -> None:
    assert hs_code_problem(code) == "must be 4, 6, 8 or 10 digits"


@pytest.mark.parametrize("code", ["0003", "7701", "9801"])
def test_hs_codes_in_chapters_that_do_not_exist_are_refused_by_chapter(code: str) -> None:
    problem = hs_code_problem(code)
    assert problem is not None and code[:2] in problem


@pytest.mark.parametrize("code, valid", [("VN", True), ("CN", True), ("vn", False), ("VNM", False), ("V", False)])
def test_countries_are_upper_case_iso_alpha_2_codes(code: str, valid: bool) -> None:
    assert (country_problem(code) is None) is valid


# ---- other scripts' digits, fullwidth forms, trailing newlines --------------------------------

FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


@pytest.mark.parametrize("digits", [FULLWIDTH, ARABIC_INDIC], ids=["fullwidth", "arabic-indic"])
def test_tax_codes_hs_codes_and_container_numbers_in_other_digits_are_refused(digits: dict[int, str]) -> None:
    assert declarant_problem("0101234567".translate(digits)) is not None
    assert declarant_problem("0101234567-001".translate(digits)) is not None
    assert hs_code_problem("0803".translate(digits)) == "must be 4, 6, 8 or 10 digits"
    assert container_problem("CSQU3054383".translate(digits)) is not None


def test_a_plate_in_arabic_indic_digits_is_refused() -> None:
    assert plate_problem(normalize_plate("12C-123.45".translate(ARABIC_INDIC))) is not None
    assert plate_problem(normalize_plate("桂A12345".translate(ARABIC_INDIC))) is not None


@pytest.mark.parametrize(("typed", "plate"), [
    ("１２Ｃ－１２３．４５", "12C-123.45"), ("１２c-123.45", "12C-123.45"), ("桂Ａ１２３４５", "桂A12345"),
    ("桂A・12345", "桂A12345"), ("桂A\u300012345", "桂A12345"),
])
def test_a_plate_typed_in_fullwidth_forms_normalizes_to_the_ascii_plate(typed: str, plate: str) -> None:
    assert normalize_plate(typed) == plate and plate_problem(plate) is None
    assert normalize_plate(normalize_plate(typed)) == normalize_plate(typed)


@pytest.mark.parametrize(("problem", "value"), [
    (plate_problem, "12C-123.45\n"), (declarant_problem, "0101234567\n"), (hs_code_problem, "0803\n"),
    (container_problem, "CSQU3054383\n"), (country_problem, "VN\n"),
])
def test_an_identifier_with_a_trailing_newline_is_refused(problem: Any, value: str) -> None:
    assert problem(value) is not None
