"""A broken file gets every error at once: field errors do not hide the checks across fields.

A check across fields runs on whatever parts of the scenario validated, and is skipped only when
one of its own inputs is invalid (an outage cannot start "after the run ends" if the run has no
valid horizon).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from scenarios import ScenarioError, validate_scenario
from tests.unit.scenarios.support import MINIMAL_YAML, error_lines

Write = Callable[[str], Path]


def issues(data: Any) -> list[str]:
    """``path: reason (got value)`` of each problem of validating ``data``."""
    with pytest.raises(ScenarioError) as caught:
        validate_scenario(data)
    return [str(issue) for issue in caught.value.errors]


def test_a_bad_duration_an_unknown_device_and_a_late_outage_are_reported_together(write: Write) -> None:
    path = write(
        MINIMAL_YAML
        + "devices:\n"
        "  outages:\n"
        "    - {device: scanner-2, start: '09:00', duration_h: 4}\n"
        "    - {device: scanner-1, start: '09:00', duration_h: 0}\n"
        "    - {device: scanner-1, start: 30, duration_h: 4}\n"
    )
    assert sorted(error_lines(path)) == sorted([
        f"{path}: devices.outages.1.duration_h: must be > 0 (got 0)",
        f"{path}: devices.outages.0.device: no such device in this layout (it has: scanner-1) (got 'scanner-2')",
        f"{path}: devices.outages.2.start: starts at hour 30, after the run ends (run.horizon_h = 24) (got 30.0)",
    ])


def test_one_outage_with_a_bad_duration_and_an_unknown_device_gets_both_lines(minimal: dict[str, Any]) -> None:
    minimal["devices"] = {"outages": [{"device": "scanner-9", "start": "09:00", "duration_h": 0}]}
    assert sorted(issues(minimal)) == [
        "devices.outages.0.device: no such device in this layout (it has: scanner-1) (got 'scanner-9')",
        "devices.outages.0.duration_h: must be > 0 (got 0)",
    ]


def test_an_error_in_one_section_does_not_hide_a_contradiction_elsewhere(minimal: dict[str, Any]) -> None:
    minimal["run"] = {"seed": -1}
    minimal["demand"]["agv_share"] = 0.3
    minimal["agencies"] = {"customs": {"officers": 0, "service_s": 60}}
    assert issues(minimal) == [
        "run.seed: must be >= 0 (got -1)",
        "demand.agv_share: is above 0 but the layout has no agv_lane (got 0.3)",
        "agencies.customs.officers: must be at least 1: every declaration needs a customs decision (got 0)",
    ]


def test_a_check_whose_input_is_invalid_is_skipped(minimal: dict[str, Any]) -> None:
    minimal["run"] = {"horizon_h": 0}
    minimal["devices"] = {"outages": [{"device": "scanner-1", "start": 30, "duration_h": 4}]}
    assert issues(minimal) == ["run.horizon_h: must be > 0 (got 0)"]


def test_a_section_with_a_field_error_still_gets_its_own_checks(minimal: dict[str, Any]) -> None:
    minimal["run"] = {"replications": 0, "horizon_h": 24, "warmup_h": 30}
    assert issues(minimal) == [
        "run.replications: must be >= 1 (got 0)",
        "run.warmup_h: must be shorter than horizon_h (24 h) (got 30.0)",
    ]


def test_plate_camera_probabilities_are_checked_beside_a_bad_latency(minimal: dict[str, Any]) -> None:
    minimal["devices"] = {"plate_camera": {"latency_s": -1, "p_correct": 0.9, "p_misread": 0.05, "p_noread": 0.1}}
    lines = issues(minimal)
    assert lines[0] == "devices.plate_camera.latency_s.value: must be >= 0 (got -1)"
    assert lines[1].startswith("devices.plate_camera.p_correct: p_correct + p_misread + p_noread must sum to 1, they sum to 1.05")
    assert len(lines) == 2


def test_an_unknown_field_does_not_hide_the_checks_across_fields(minimal: dict[str, Any]) -> None:
    minimal["layout"]["colour"] = "red"
    minimal["layout"]["yard"] = {"truck": 100}
    assert issues(minimal) == [
        "layout.colour: unknown field; expected one of: entry_lanes, exit_lanes, barrier_places, forecourt_per_lane, "
        "scales, scanners, yard, staging_areas, inspection_bays, agv_lane",
        "layout.yard.container: container vehicles are 30% of demand but the yard has no slots for them "
        "(got no entry for container)",
    ]


def test_the_overlap_of_two_valid_closures_is_found_beside_an_invalid_third(minimal: dict[str, Any]) -> None:
    minimal["run"] = {"horizon_h": 240}
    minimal["closures"] = [{"start_day": 0, "days": 3}, {"start_day": 2, "days": 1}, {"start_day": -1, "days": 1}]
    assert issues(minimal) == [
        "closures.2.start_day: must be >= 0 (got -1)",
        "closures.1: overlaps the closure starting on day 0 (got start_day 2, days 1)",
    ]


def test_a_missing_section_skips_only_the_checks_that_need_it(minimal: dict[str, Any]) -> None:
    del minimal["layout"]
    minimal["closures"] = [{"start_day": 3, "days": 1}]
    assert issues(minimal) == [
        "layout: required field is missing",
        "closures.0.start_day: starts at hour 72, after the run ends (run.horizon_h = 24) (got 3)",
    ]


def test_a_scenario_that_is_all_wrong_still_reports_rather_than_crashes(minimal: dict[str, Any]) -> None:
    minimal.update(layout=[], demand="x", agencies=3, devices={"outages": [5, {"device": 3}]}, run={"horizon_h": "x"})
    lines = issues(minimal)
    assert "layout: must be a mapping of fields (got [])" in lines
    assert "devices.outages.0: must be a mapping of fields (got 5)" in lines
