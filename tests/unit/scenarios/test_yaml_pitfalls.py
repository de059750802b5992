"""YAML 1.1's silent conversions: country codes, clock times, octal numbers, duplicate keys."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from scenarios import ScenarioError, load_scenario
from scenarios.yaml_reader import read_yaml
from tests.unit.scenarios.support import MINIMAL_YAML, error_lines

Write = Callable[[str], Path]

NORWAY_RULE = """\
core:
  risk:
    rules:
      - {{name: norwegian goods, channel: red, when_origin: {origin}}}
"""


def test_a_quoted_country_code_no_stays_no(write: Write) -> None:
    scenario = load_scenario(write(MINIMAL_YAML + NORWAY_RULE.format(origin='"NO"')))
    assert scenario.core.risk.rules[0].when_origin == "NO"


def test_an_unquoted_country_code_no_is_not_read_as_false(write: Write) -> None:
    scenario = load_scenario(write(MINIMAL_YAML + NORWAY_RULE.format(origin="NO")))
    assert scenario.core.risk.rules[0].when_origin == "NO"


@pytest.mark.parametrize(("written", "expected"), [("no", False), ("off", False), ("yes", True), ("on", True), ("false", False)])
def test_yes_no_on_off_still_work_in_true_false_fields(write: Write, written: str, expected: bool) -> None:
    scenario = load_scenario(write(MINIMAL_YAML + f"traffic: {{channelling: {written}}}\n"))
    assert scenario.traffic.channelling is expected


def test_an_unquoted_time_is_an_error_not_the_number_750(write: Write) -> None:
    path = write(MINIMAL_YAML + 'agencies:\n  customs: {officers: 2, service_s: 60, shifts: [["07:00", 12:30]]}\n')
    assert error_lines(path) == [
        f'{path}: agencies.customs.shifts.0.1 (line 16, column 60): unquoted 12:30 would be read by YAML 1.1 as the number 750; '
        f'write times in quotes: "12:30"'
    ]


def test_every_unquoted_time_of_a_file_is_reported(write: Write) -> None:
    text = MINIMAL_YAML + "devices:\n  outages:\n    - {device: scanner-1, start: 9:00, duration_h: 4}\n"
    text += "agencies:\n  customs: {officers: 2, service_s: 60, shifts: [[7:00, 19:00]]}\n"
    lines = error_lines(write(text))
    assert len(lines) == 3
    assert "unquoted 9:00 would be read by YAML 1.1 as the number 540" in lines[0]
    assert "unquoted 7:00" in lines[1] and "unquoted 19:00" in lines[2]


def test_a_time_starting_with_zero_is_text_in_yaml_and_accepted(write: Write) -> None:
    # YAML 1.1 reads 07:00 as text (no base-60 number starts with 0), so it is a valid time.
    scenario = load_scenario(write(MINIMAL_YAML + "agencies:\n  customs: {officers: 2, service_s: 60, shifts: [[07:00, 08:30]]}\n"))
    assert scenario.agencies.customs.shifts == (("07:00", "08:30"),)


def test_quoted_times_are_accepted_and_normalised(write: Write) -> None:
    scenario = load_scenario(write(MINIMAL_YAML + 'agencies:\n  customs: {officers: 2, service_s: 60, shifts: [["7:00", "19:30"]]}\n'))
    assert scenario.agencies.customs.shifts == (("07:00", "19:30"),)


def test_a_time_as_a_number_in_data_gets_a_clear_error() -> None:
    from scenarios import validate_scenario
    from tests.unit.scenarios.support import MINIMAL

    data = {**MINIMAL, "agencies": {"customs": {"officers": 2, "service_s": 60, "shifts": [[750, "19:00"]]}}}
    with pytest.raises(ScenarioError) as caught:
        validate_scenario(data)
    (issue,) = caught.value.errors
    assert issue.path == "agencies.customs.shifts.0.0"
    assert issue.reason == "must be a clock time 'HH:MM' in quotes (got 750)"


@pytest.mark.parametrize(
    ("shift", "reason"),
    [
        ('["25:00", "26:00"]', "between '00:00' and '24:00'"),
        ('["07:00", "07:00"]', "start and end must differ"),
        ('["24:00", "06:00"]', "cannot start at '24:00'"),
        ('["7h", "19h"]', "must be a clock time 'HH:MM'"),
    ],
)
def test_impossible_shifts_are_refused(write: Write, shift: str, reason: str) -> None:
    path = write(MINIMAL_YAML + f"agencies:\n  customs: {{officers: 2, service_s: 60, shifts: [{shift}]}}\n")
    lines = error_lines(path)
    assert all(line.startswith(f"{path}: agencies.customs.shifts.0") for line in lines)
    assert reason in lines[0]


def test_an_unquoted_leading_zero_number_is_not_silently_octal(write: Write) -> None:
    (line,) = error_lines(write(MINIMAL_YAML + "run: {seed: 017}\n"))
    assert "unquoted 017 would be read by YAML 1.1 as the octal number 15" in line


def test_a_leading_zero_number_with_non_octal_digits_is_read_as_decimal(write: Write) -> None:
    # 0870 is no octal number; YAML 1.1 would leave it as text, the loader reads it as 870 (as YAML 1.2 does).
    assert load_scenario(write(MINIMAL_YAML + "run: {seed: 0870}\n")).run.seed == 870


def test_a_key_given_twice_is_an_error_with_both_lines(write: Write) -> None:
    path = write(MINIMAL_YAML + "site: Another gate\n")
    assert error_lines(path) == [f"{path}: site (line 15, column 1): key 'site' appears twice in one mapping (first on line 3)"]


def test_merge_keys_may_override_without_being_duplicates() -> None:
    data = read_yaml("base: &b {a: 1, b: 2}\nderived:\n  <<: *b\n  b: 3\n", "merge.yaml")
    assert data["derived"] == {"a": 1, "b": 3}


def test_plain_numbers_keep_their_yaml_meaning() -> None:
    assert read_yaml("a: 0\nb: 1_000\nc: -0.5\nd: 2.5e+3\ne: .inf\nf: null", "numbers.yaml") == {
        "a": 0,
        "b": 1000,
        "c": -0.5,
        "d": 2500.0,
        "e": float("inf"),
        "f": None,
    }


def test_yaml_problems_are_listed_in_file_order() -> None:
    with pytest.raises(ScenarioError) as caught:
        read_yaml("a: 12:30\nb: x\nb: y\nc: 017\n", "order.yaml")
    assert [issue.path for issue in caught.value.errors] == ["a (line 1, column 4)", "b (line 3, column 1)", "c (line 4, column 4)"]


def test_a_problem_found_while_reading_names_its_field_path_through_lists_and_mappings() -> None:
    text = "devices:\n  outages:\n    - {device: scanner-1, start: \"09:00\"}\n    - {device: scale-1, start: 9:30}\n"
    with pytest.raises(ScenarioError) as caught:
        read_yaml(text, "paths.yaml")
    (issue,) = caught.value.errors
    assert issue.path == "devices.outages.1.start (line 4, column 32)"
    assert issue.reason.startswith("unquoted 9:30 would be read by YAML 1.1 as the number 570")


@pytest.mark.parametrize(("text", "where"), [("layout: &a [*a]", "line 1, column 9"),
                                             ("a: {b: &x {c: [1, *x]}}", "line 1, column 8"),
                                             ("&x {c: *x}", "line 1, column 1")])
def test_an_alias_inside_the_value_it_names_is_refused_not_followed_for_ever(text: str, where: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        read_yaml(text, "loop.yaml")
    [issue] = caught.value.errors
    assert f"YAML alias inside the value it names ({where}): a value cannot contain itself" == issue.reason


def test_aliases_of_values_beside_them_are_read_as_copies() -> None:
    assert read_yaml("a: &x [1, 2]\nb: *x\nc: &y {d: [&z 3, *z]}\ne: *y\n", "ok.yaml") == {
        "a": [1, 2], "b": [1, 2], "c": {"d": [3, 3]}, "e": {"d": [3, 3]}}


def test_a_change_given_as_a_recursive_alias_is_refused_by_the_command_line() -> None:
    from typer.testing import CliRunner

    from twin.cli import app

    result = CliRunner().invoke(app, ["run", "huu_nghi_2025", "--set", "core.fees=&a [*a]", "--hours", "1"])
    assert result.exit_code == 2, result.output
    assert ("core.fees: YAML alias inside the value it names (line 1, column 1): a value cannot contain itself "
            "(in '&a [*a]')") in result.output


@pytest.mark.parametrize("depth", [65, 900])
def test_a_value_nested_deeper_than_any_scenario_needs_is_refused_before_it_is_read(depth: int) -> None:
    with pytest.raises(ScenarioError) as caught:
        read_yaml("scanners: " + "[" * depth + "]" * depth, "deep.yaml")
    [issue] = caught.value.errors
    assert issue.reason == "nested more than 64 lists and mappings deep (line 1, column 74): no scenario value is"
    assert read_yaml("a: " + "[" * 63 + "]" * 63, "ok.yaml") is not None  # 64 deep, the mapping included
