"""Every kind of mistake in a scenario file gets its own clear, located message."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from scenarios import ScenarioError, format_errors, load_scenario, validate_scenario
from scenarios.errors import ScenarioIssue
from tests.unit.scenarios.support import MINIMAL_YAML, error_lines

Write = Callable[[str], Path]


def issues(data: Any) -> list[str]:
    """``path: reason (got value)`` of each problem of validating ``data``."""
    with pytest.raises(ScenarioError) as caught:
        validate_scenario(data)
    return [str(issue) for issue in caught.value.errors]


def test_a_yaml_syntax_error_names_line_and_column(write: Write) -> None:
    path = write("name: x\nlayout: {entry_lanes: 1\n")
    (line,) = error_lines(path)
    assert line.startswith(f"{path}: line 3, column 1: YAML syntax error:")
    assert "expected ',' or '}'" in line


def test_a_bad_indentation_is_a_syntax_error_at_its_line(write: Write) -> None:
    path = write("name: x\nlayout:\n  entry_lanes: 1\n exit_lanes: 1\n")
    (line,) = error_lines(path)
    assert ": line 4, column 2: YAML syntax error" in line


def test_a_file_that_is_a_list_is_refused(write: Write) -> None:
    (line,) = error_lines(write("- name: x\n- layout: {}\n"))
    assert "must be a mapping of sections (name, layout, demand, ...), not a list" in line


def test_an_empty_file_is_refused(write: Write) -> None:
    (line,) = error_lines(write("# nothing but a comment\n"))
    assert "is empty; expected a mapping of sections" in line


def test_a_file_that_is_a_single_value_is_refused(write: Write) -> None:
    (line,) = error_lines(write("42\n"))
    assert "not a number (got 42)" in line


def test_an_unknown_field_is_named_with_a_suggestion(write: Write) -> None:
    path = write(MINIMAL_YAML.replace("  scales: 1\n", "  scales: 1\n  scanerz: 2\n"))
    assert error_lines(path) == [f"{path}: layout.scanerz: unknown field (did you mean 'scanners'?)"]


def test_an_unknown_section_lists_the_sections(write: Write) -> None:
    (line,) = error_lines(write(MINIMAL_YAML + "weather: rainy\n"))
    assert "weather: unknown field; expected one of: name, description, site, layout" in line


def test_an_unknown_field_inside_a_distribution_is_located_without_the_kind(minimal: dict[str, Any]) -> None:
    minimal["agencies"] = {"customs": {"officers": 2, "service_s": {"kind": "lognormal", "mean": 60, "cvv": 1}}}
    assert issues(minimal) == [
        "agencies.customs.service_s.cv: required field is missing",
        "agencies.customs.service_s.cvv: unknown field (did you mean 'cv'?)",
    ]


def test_a_missing_required_field_is_named(write: Write) -> None:
    path = write(MINIMAL_YAML.replace("  trucks_per_day: 100\n", ""))
    assert error_lines(path) == [f"{path}: demand.trucks_per_day: required field is missing"]


def test_a_missing_section_is_named(minimal: dict[str, Any]) -> None:
    del minimal["layout"]
    assert issues(minimal) == ["layout: required field is missing"]


def test_a_value_of_the_wrong_type_says_what_is_expected(write: Write) -> None:
    path = write(MINIMAL_YAML.replace("trucks_per_day: 100", "trucks_per_day: many"))
    assert error_lines(path) == [f"{path}: demand.trucks_per_day: must be a number (got 'many')"]


def test_a_section_that_is_not_a_mapping_is_refused(minimal: dict[str, Any]) -> None:
    minimal["layout"] = 5
    assert issues(minimal) == ["layout: must be a mapping of fields (got 5)"]


def test_a_whole_number_field_refuses_a_fraction(minimal: dict[str, Any]) -> None:
    minimal["layout"]["entry_lanes"] = 1.5
    assert issues(minimal) == ["layout.entry_lanes: must be a whole number (got 1.5)"]


def test_an_out_of_range_value_reads_like_the_house_style(write: Write) -> None:
    path = write(MINIMAL_YAML.replace("count: 1}", "count: -1}"))
    assert error_lines(path) == [f"{path}: layout.scanners.0.count: must be >= 0 (got -1)"]


def test_a_share_above_one_is_out_of_range(minimal: dict[str, Any]) -> None:
    minimal["demand"]["agv_share"] = 1.5
    assert issues(minimal) == ["demand.agv_share: must be <= 1 (got 1.5)"]


def test_an_unknown_enum_value_lists_the_allowed_ones(minimal: dict[str, Any]) -> None:
    minimal["layout"]["scanners"] = [{"type": "laser", "count": 1}]
    assert issues(minimal) == [
        "layout.scanners.0.type: unknown value: must be one of 'drive_through' or 'portal' (got 'laser')"
    ]


def test_an_unknown_mix_key_lists_the_allowed_keys(minimal: dict[str, Any]) -> None:
    minimal["demand"]["vehicle_class_mix"] = {"truck": 1.0, "lorry": 0.0}
    assert issues(minimal) == [
        "demand.vehicle_class_mix.lorry: unknown key: must be one of 'small', 'truck' or 'container' (got 'lorry')"
    ]


def test_a_capacity_is_a_whole_number_or_unlimited(minimal: dict[str, Any]) -> None:
    minimal["layout"]["yard"] = {"truck": "lots", "container": -3}
    assert issues(minimal) == [
        "layout.yard.truck: must be a whole number >= 0 or 'unlimited' (got 'lots')",
        "layout.yard.container: must be >= 0 or 'unlimited' (got -3)",
    ]


def test_an_unknown_distribution_kind_lists_the_kinds(minimal: dict[str, Any]) -> None:
    minimal["agencies"] = {"medical": {"officers": 1, "service_s": {"kind": "weibull"}}}
    (line,) = issues(minimal)
    assert line.startswith("agencies.medical.service_s: unknown kind: must be one of 'constant'")
    assert line.endswith("(got 'weibull')")


def test_distribution_parameter_errors_are_located_without_the_kind(minimal: dict[str, Any]) -> None:
    minimal["agencies"] = {
        "customs": {"officers": 2, "service_s": {"kind": "lognormal", "mean": -3, "cv": 0.5}},
        "border_guard": {"officers": 1, "service_s": {"kind": "triangular", "low": 5, "mode": 1, "high": 3}},
    }
    assert issues(minimal) == [
        "agencies.border_guard.service_s: needs low <= mode <= high (got 5, 1, 3)",
        "agencies.customs.service_s.mean: must be > 0 (got -3)",
    ]


def test_shares_must_sum_to_one(write: Write) -> None:
    path = write(MINIMAL_YAML.replace("{export: 0.4, import: 0.6}", "{export: 0.4, import: 0.5}"))
    assert error_lines(path) == [
        f"{path}: demand.direction_mix: direction shares must sum to 1, they sum to 0.9 (got export 0.4, import 0.5)"
    ]


def test_shares_within_a_millionth_of_one_are_accepted(minimal: dict[str, Any]) -> None:
    minimal["demand"]["direction_mix"] = {"export": 0.301149, "import": 0.698851 + 5e-7}
    assert validate_scenario(minimal).demand.trucks_per_day == 100


@pytest.mark.parametrize("mix", ["vehicle_class_mix", "cargo_mix"])
def test_every_mix_must_sum_to_one(minimal: dict[str, Any], mix: str) -> None:
    key = next(iter(minimal["demand"][mix]))
    minimal["demand"][mix][key] += 0.1
    (line,) = issues(minimal)
    assert line.startswith(f"demand.{mix}: ") and "must sum to 1, they sum to 1.1" in line


def test_plate_camera_probabilities_must_sum_to_one(minimal: dict[str, Any]) -> None:
    minimal["devices"] = {"plate_camera": {"p_correct": 0.9, "p_misread": 0.05, "p_noread": 0.1}}
    assert issues(minimal) == [
        "devices.plate_camera.p_correct: p_correct + p_misread + p_noread must sum to 1, they sum to 1.05 "
        "(got p_correct 0.9, p_misread 0.05, p_noread 0.1)"
    ]


def test_a_warmup_as_long_as_the_horizon_is_refused(minimal: dict[str, Any]) -> None:
    minimal["run"] = {"horizon_h": 24, "warmup_h": 24}
    assert issues(minimal) == ["run.warmup_h: must be shorter than horizon_h (24 h) (got 24.0)"]


def test_an_outage_of_a_device_the_layout_lacks_lists_what_it_has(minimal: dict[str, Any]) -> None:
    minimal["devices"] = {"outages": [{"device": "scanner-2", "start": "09:00", "duration_h": 4}]}
    assert issues(minimal) == ["devices.outages.0.device: no such device in this layout (it has: scanner-1) (got 'scanner-2')"]


def test_an_outage_of_a_device_kind_the_layout_lacks_is_refused(minimal: dict[str, Any]) -> None:
    minimal["devices"] = {"plate_camera": None, "outages": [{"device": "plate_camera", "start": 1, "duration_h": 1}]}
    (line,) = issues(minimal)
    assert line.startswith("devices.outages.0.device: no such device in this layout (it has: barrier, scale, scanner")


def test_an_outage_after_the_run_ends_is_refused(minimal: dict[str, Any]) -> None:
    minimal["devices"] = {"outages": [{"device": "scanner", "start": "09:00", "day": 2, "duration_h": 4}]}
    assert issues(minimal) == [
        "devices.outages.0.start: starts at hour 57, after the run ends (run.horizon_h = 24) (got '09:00' on day 2)"
    ]


def test_a_closure_after_the_run_ends_is_refused(minimal: dict[str, Any]) -> None:
    minimal["closures"] = [{"start_day": 3, "days": 7}]
    assert issues(minimal) == ["closures.0.start_day: starts at hour 72, after the run ends (run.horizon_h = 24) (got 3)"]


def test_overlapping_closures_are_refused(minimal: dict[str, Any]) -> None:
    minimal["closures"] = [{"start_day": 0, "days": 3}, {"start_day": 2, "days": 1}]
    minimal["run"] = {"horizon_h": 240}
    assert issues(minimal) == ["closures.1: overlaps the closure starting on day 0 (got start_day 2, days 1)"]


def test_an_agv_share_without_an_agv_lane_is_refused(minimal: dict[str, Any]) -> None:
    minimal["demand"]["agv_share"] = 0.3
    assert issues(minimal) == ["demand.agv_share: is above 0 but the layout has no agv_lane (got 0.3)"]


def test_an_agv_share_without_container_exports_is_refused(minimal: dict[str, Any]) -> None:
    minimal["demand"]["agv_share"] = 0.3
    minimal["demand"]["vehicle_class_mix"] = {"truck": 1.0}
    minimal["layout"]["agv_lane"] = {"n_agvs": 6, "lane_km": 2.4, "speed_kmh": 15}
    assert issues(minimal) == ["demand.agv_share: is above 0 but the demand has no container exports (got 0.3)"]


def test_an_agv_stack_without_a_place_is_refused(minimal: dict[str, Any]) -> None:
    minimal["layout"]["agv_lane"] = {"n_agvs": 6, "lane_km": 2.4, "speed_kmh": 15, "stack_slots": 0}
    assert issues(minimal) == [
        "layout.agv_lane.stack_slots: must be at least 1 or 'unlimited' (containers wait for an AGV on the stack) "
        "(got 0)"
    ]
    minimal["layout"]["agv_lane"]["stack_slots"] = "many"
    (line,) = issues(minimal)
    assert line.startswith("layout.agv_lane.stack_slots: must be a whole number >= 0 or 'unlimited'")


def test_no_inspection_bay_is_refused_with_unlimited_suggested_for_no_limit(minimal: dict[str, Any]) -> None:
    minimal["layout"]["inspection_bays"] = 0
    assert issues(minimal) == [
        "layout.inspection_bays: must be at least 1: a gate that inspects trucks physically needs a bay; "
        "give 'unlimited' for no limit (got 0)"
    ]


def test_no_inspection_bay_in_a_file_is_one_line_naming_the_file(write: Write) -> None:
    path = write(MINIMAL_YAML.replace("layout:", "layout:\n  inspection_bays: 0", 1))
    assert error_lines(path) == [
        f"{path}: layout.inspection_bays: must be at least 1: a gate that inspects trucks physically needs a bay; "
        "give 'unlimited' for no limit (got 0)"
    ]


def test_a_vehicle_class_in_demand_needs_yard_slots(minimal: dict[str, Any]) -> None:
    minimal["layout"]["yard"] = {"truck": 100}
    assert issues(minimal) == [
        "layout.yard.container: container vehicles are 30% of demand but the yard has no slots for them "
        "(got no entry for container)"
    ]


def test_a_needed_agency_without_officers_is_refused(minimal: dict[str, Any]) -> None:
    minimal["agencies"] = {"plant_quarantine": {"officers": 0, "service_s": 600}, "customs": {"officers": 0, "service_s": 60}}
    assert issues(minimal) == [
        "agencies.customs.officers: must be at least 1: every declaration needs a customs decision (got 0)",
        "agencies.plant_quarantine.officers: must be at least 1: plants_fruit cargo is 20% of demand (got 0)",
    ]


def test_automated_border_checks_need_cameras(minimal: dict[str, Any]) -> None:
    minimal["devices"] = {"plate_camera": None}
    minimal["core"] = {"automated_border_check": True}
    assert issues(minimal) == ["core.automated_border_check: needs plate cameras (devices.plate_camera is null) (got True)"]


def test_channelling_needs_a_staging_area(minimal: dict[str, Any]) -> None:
    minimal["layout"]["staging_areas"] = {}
    assert issues(minimal) == [
        "traffic.channelling: needs at least one staging area (layout.staging_areas) to hold trucks in (got True)"
    ]


def test_overlapping_shifts_are_refused(minimal: dict[str, Any]) -> None:
    minimal["agencies"] = {"customs": {"officers": 2, "service_s": 60, "shifts": [["07:00", "19:00"], ["18:00", "20:00"]]}}
    assert issues(minimal) == [
        "agencies.customs.shifts.1: overlaps an earlier shift; officers are counted per shift (got ['18:00', '20:00'])"
    ]


def test_a_core_setting_error_from_the_gate_config_is_located(minimal: dict[str, Any]) -> None:
    minimal["core"] = {"risk": {"expected_yellow": 0.9, "expected_red": 0.2}}
    assert issues(minimal) == [
        "core.risk: expected_yellow + expected_red must be at most 1 (got expected_yellow 0.9, expected_red 0.2)"
    ]


def test_a_return_rate_where_it_means_nothing_is_an_unknown_field(minimal: dict[str, Any]) -> None:
    minimal["agencies"] = {"medical": {"officers": 1, "service_s": 60, "return_rate": 0.1}}
    (line,) = issues(minimal)
    assert line.startswith("agencies.medical.return_rate: unknown field")


def test_a_scenario_name_must_be_a_single_word(minimal: dict[str, Any]) -> None:
    minimal["name"] = "harvest peak!"
    (line,) = issues(minimal)
    assert line.startswith("name: must be 1-64 letters, digits")


def test_every_problem_of_a_file_is_reported_at_once(write: Write) -> None:
    text = MINIMAL_YAML.replace("entry_lanes: 1", "entry_lanes: 0").replace("trucks_per_day: 100", "trucks_per_day: -5")
    lines = error_lines(write(text + "run: {seed: -1}\n"))
    assert [line.split(": ", 1)[1] for line in lines] == [
        "layout.entry_lanes: must be >= 1 (got 0)",
        "demand.trucks_per_day: must be > 0 (got -5)",
        "run.seed: must be >= 0 (got -1)",
    ]


def test_an_unknown_library_name_lists_the_available_ones() -> None:
    (line,) = error_lines("harvest_peek")
    assert line.startswith("harvest_peek: no library scenario of this name; available: agv_partner_closure, channelling_off,")
    assert "default" in line and "harvest_peak" in line


def test_a_missing_file_is_reported_not_raised(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.yaml"
    assert error_lines(path) == [f"{path}: cannot read the file: No such file or directory"]


def test_a_directory_is_an_unreadable_file(tmp_path: Path) -> None:
    (line,) = error_lines(tmp_path)
    assert line.startswith(f"{tmp_path}: cannot read the file:")


def test_a_file_that_is_not_utf8_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("site: Móng Cái\n".encode("latin-1"))
    (line,) = error_lines(path)
    assert line.startswith(f"{path}: cannot read the file: not UTF-8 text")


def test_a_string_path_is_named_as_given(write: Write) -> None:
    path = write("[1, 2]\n")
    (line,) = error_lines(str(path))
    assert line.startswith(f"{path}: ")


def test_library_files_are_named_relative_to_the_project() -> None:
    error = ScenarioError("scenarios/library/peak.yaml", [ScenarioIssue("layout.scanners.0.count", "must be >= 0", "-1")])
    assert format_errors(error) == ["scenarios/library/peak.yaml: layout.scanners.0.count: must be >= 0 (got -1)"]


def test_an_uncaught_scenario_error_still_reads_as_the_formatted_lines(write: Write) -> None:
    path = write("- 1\n")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert str(caught.value) == "\n".join(format_errors(caught.value))


def _mutations() -> list[tuple[str, Any]]:
    """Bad values of every shape, put in turn at every place of a valid scenario."""
    return [("none", None), ("text", "x"), ("negative", -1), ("list", [1, "a"]), ("map", {"kind": 3}), ("bool", True)]


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(node, dict):
        out = [prefix] if prefix else []
        for key, value in node.items():
            out += _paths(value, (*prefix, key))
        return out
    if isinstance(node, list):
        out = [prefix]
        for i, value in enumerate(node):
            out += _paths(value, (*prefix, i))
        return out
    return [prefix]


def _with(data: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    """A deep copy of ``data`` with ``value`` at ``path``."""
    changed = copy.deepcopy(data)
    node: Any = changed
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return changed


def test_no_bad_value_anywhere_escapes_as_anything_but_a_scenario_error() -> None:
    full = load_scenario("huu_nghi_smart_gate").model_dump(mode="json")
    failures = []
    for path in _paths(full):
        for label, bad in _mutations():
            try:
                validate_scenario(_with(full, path, bad))
            except ScenarioError as exc:
                assert exc.errors and all(issue.reason for issue in exc.errors)
            except Exception as exc:  # noqa: BLE001 - the point is to catch anything else
                failures.append(f"{'.'.join(map(str, path))} = {label}: {type(exc).__name__}: {exc}")
    assert not failures, "\n".join(failures[:20])


def _names_what_was_given(issue: ScenarioIssue) -> bool:
    """Whether a problem shows the value given, or has none to show (a missing or unknown field)."""
    return bool(issue.value) or "(got " in issue.reason or issue.reason.startswith(
        ("required field is missing", "unknown field")
    )


def test_every_error_about_a_given_value_shows_that_value(minimal: dict[str, Any]) -> None:
    full = validate_scenario(minimal).model_dump(mode="json")
    silent = set()
    for path in _paths(full):
        for _, bad in [*_mutations(), ("zero", 0)]:
            try:
                validate_scenario(_with(full, path, bad))
            except ScenarioError as exc:
                silent |= {str(issue) for issue in exc.errors if not _names_what_was_given(issue)}
    assert not silent, "\n".join(sorted(silent)[:20])


@pytest.mark.parametrize("places", [0, 101])
def test_a_lane_holds_at_least_one_truck_at_its_barrier(minimal: dict[str, Any], places: int) -> None:
    minimal["layout"]["barrier_places"] = places
    assert issues(minimal) == [
        f"layout.barrier_places: must be from 1 to 100 or 'unlimited': the vehicles a lane holds at its barrier "
        f"at once (got {places})"
    ]


def test_a_forecourt_that_cannot_fill_the_barrier_places_is_refused(minimal: dict[str, Any]) -> None:
    minimal["layout"].update({"barrier_places": 3, "forecourt_per_lane": 2})
    assert issues(minimal) == [
        "layout.forecourt_per_lane: holds fewer trucks per lane than each lane's barrier places (3): those places "
        "could never all be taken (got 2)"
    ]
