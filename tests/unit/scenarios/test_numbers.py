"""Numbers in a scenario are finite, and counts are whole numbers, never true/false or text."""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from scenarios import ScenarioError, canonical_json, load_scenario, validate_scenario
from tests.unit.scenarios.support import MINIMAL_YAML, error_lines

Write = Callable[[str], Path]


def issues(data: Any) -> list[str]:
    """``path: reason (got value)`` of each problem of validating ``data``."""
    with pytest.raises(ScenarioError) as caught:
        validate_scenario(data)
    return [str(issue) for issue in caught.value.errors]


def _put(data: dict[str, Any], dotted: str, value: Any) -> dict[str, Any]:
    """``data`` with ``value`` at the dotted path, creating mappings on the way."""
    node: Any = data
    parts = dotted.split(".")
    for part in parts[:-1]:
        key: Any = int(part) if isinstance(node, list) else part
        if isinstance(node, dict):
            node = node.setdefault(key, {})
        else:
            node = node[key]
    last: Any = int(parts[-1]) if isinstance(node, list) else parts[-1]
    node[last] = value
    return data


def _numbers(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """The path of every number (not true/false) in parsed data."""
    if isinstance(node, dict):
        return [path for key, value in node.items() for path in _numbers(value, (*prefix, key))]
    if isinstance(node, list):
        return [path for i, value in enumerate(node) for path in _numbers(value, (*prefix, i))]
    if isinstance(node, (int, float)) and not isinstance(node, bool):
        return [prefix]
    return []


def _with(full: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    data = copy.deepcopy(full)
    node = data
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return data


@pytest.mark.parametrize("text", [".inf", "-.inf", ".nan", "1e400"])
def test_an_infinite_or_undefined_number_of_trucks_is_refused(write: Write, text: str) -> None:
    path = write(MINIMAL_YAML.replace("trucks_per_day: 100", f"trucks_per_day: {text}"))
    (line,) = error_lines(path)
    assert line.startswith(f"{path}: demand.trucks_per_day: must be a finite number (got ")


@pytest.mark.parametrize(
    ("field", "reason"),
    [
        ("run.horizon_h", "must be a finite number"),
        ("run.warmup_h", "must be a finite number"),
        ("devices.barrier.cycle_s", "must be a finite number"),
        ("devices.barrier.mtbf_h", "must be a finite number of hours > 0, or 'never'"),
        ("devices.scale.drift_kg_per_day", "must be a finite number"),
        ("layout.inspection_bays", "must be a whole number >= 0 or 'unlimited'"),
        ("layout.yard.truck", "must be a whole number >= 0 or 'unlimited'"),
        ("agencies.customs.officers", "must be a whole number >= 0 or 'unlimited'"),
        ("agents.corridor.creep_share", "must be a finite number"),
        ("core.traffic.gate_capacity_per_h", "must be a finite number"),
        ("core.timeouts.payment_confirmation_s", "must be a finite number"),
        ("core.fees.category_multiplier.ore", "must be a finite number"),
    ],
)
def test_infinity_is_refused_in_a_field_of_any_kind(minimal: dict[str, Any], field: str, reason: str) -> None:
    if field.startswith("agencies.customs"):
        minimal["agencies"] = {"customs": {"officers": 2, "service_s": 60}}
    lines = issues(_put(minimal, field, math.inf))
    assert f"{field}: {reason}" in "\n".join(lines)
    assert any(line.startswith(f"{field}: ") and line.endswith("(got inf)") for line in lines), lines


def test_a_window_cannot_start_at_infinity(minimal: dict[str, Any]) -> None:
    minimal["devices"] = {"outages": [{"device": "scanner-1", "start": math.inf, "duration_h": 1}]}
    assert issues(minimal) == [
        "devices.outages.0.start: must be a clock time 'HH:MM' in quotes, or a finite number of hours >= 0 "
        "since the start of the day (got inf)"
    ]


def test_no_number_anywhere_in_a_scenario_may_be_infinite_or_nan() -> None:
    scenario = load_scenario("huu_nghi_smart_gate")
    full = scenario.model_dump(mode="json")
    escaped = []
    for path in _numbers(full):
        dotted = ".".join(str(part) for part in path)
        for bad in (math.inf, -math.inf, math.nan):
            try:
                validate_scenario(_with(full, path, bad))
            except ScenarioError as err:
                if not any(issue.path == dotted for issue in err.errors):
                    escaped.append(f"{dotted} = {bad}: reported as {[str(i) for i in err.errors]}")
            else:
                escaped.append(f"{dotted} = {bad}: accepted")
    assert not escaped, "\n".join(escaped[:20])


def test_an_unlimited_capacity_is_still_written_and_hashed_as_a_word(minimal: dict[str, Any]) -> None:
    minimal["layout"]["inspection_bays"] = "unlimited"
    minimal["layout"]["yard"] = {"truck": "unlimited", "container": 10}
    scenario = validate_scenario(minimal)
    assert '"inspection_bays":"unlimited"' in canonical_json(scenario)


@pytest.mark.parametrize(
    "field",
    [
        "layout.entry_lanes",
        "layout.exit_lanes",
        "layout.scales",
        "layout.scanners.0.count",
        "layout.inspection_bays",
        "layout.yard.truck",
        "layout.staging_areas.staging-1",
        "run.replications",
        "run.seed",
        "agents.enterprises.count",
        "agents.police.release_batch",
    ],
)
def test_true_is_not_a_count(minimal: dict[str, Any], field: str) -> None:
    lines = issues(_put(minimal, field, True))
    assert f"{field}: must be a whole number" in "\n".join(lines), lines
    assert any(line.startswith(f"{field}: ") and "not true/false" in line and line.endswith("(got True)") for line in lines)


def test_a_count_written_as_text_is_refused(minimal: dict[str, Any]) -> None:
    minimal["layout"]["entry_lanes"] = "2"
    assert issues(minimal) == ["layout.entry_lanes: must be a whole number, not text (got '2')"]


def test_a_whole_number_written_with_a_decimal_point_is_a_count(minimal: dict[str, Any]) -> None:
    minimal["layout"]["entry_lanes"] = 2.0
    assert validate_scenario(minimal).layout.entry_lanes == 2


@pytest.mark.parametrize("field", ["demand.trucks_per_day", "demand.agv_share", "devices.scale.drift_kg_per_day"])
def test_true_is_not_a_number_either(minimal: dict[str, Any], field: str) -> None:
    lines = issues(_put(minimal, field, True))
    assert f"{field}: must be a number, not true/false (got True)" in lines, lines


def test_the_reviewers_true_entry_lanes_file_is_refused(write: Write) -> None:
    path = write(MINIMAL_YAML.replace("entry_lanes: 1", "entry_lanes: true"))
    assert error_lines(path) == [f"{path}: layout.entry_lanes: must be a whole number, not true/false (got True)"]


@pytest.mark.parametrize("field", ["layout.entry_lanes", "layout.exit_lanes", "layout.scales"])
def test_an_absurd_number_of_devices_is_refused_at_once_not_built(minimal: dict[str, Any], field: str) -> None:
    lines = issues(_put(minimal, field, 1_000_000_000))  # building a billion lanes would never end
    assert lines == [f"{field}: must be <= 100 (got 1000000000)"]


def test_an_absurd_fleet_of_agvs_is_refused(minimal: dict[str, Any]) -> None:
    lane = {"n_agvs": 10**9, "lane_km": 3.6, "speed_kmh": 20}
    lines = issues(_put(minimal, "layout.agv_lane", lane))
    assert lines == ["layout.agv_lane.n_agvs: must be <= 1000 (got 1000000000)"]


def test_a_layout_may_have_at_most_a_hundred_staging_areas(minimal: dict[str, Any]) -> None:
    minimal["layout"]["staging_areas"] = {f"area-{k}": 10 for k in range(101)}
    assert any("at most 100 staging areas (got 101)" in line for line in issues(minimal))


@pytest.mark.parametrize("name", ["in-1", "out-2", "yard-in", "yard-out", "bay"])
def test_a_staging_area_cannot_take_a_name_whose_camera_another_camera_has(minimal: dict[str, Any], name: str) -> None:
    minimal["layout"]["staging_areas"] = {name: 10}
    (line,) = issues(minimal)
    assert line.startswith(f"layout.staging_areas: staging area '{name}': its camera would be called cam-{name}")


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("agents.enterprises.count", 2_000_000, "must be <= 1000000"),
        ("agents.corridor.step_s", 0.001, "must be >= 1"),
        ("agents.corridor.speed_cv", 3, "must be <= 1"),
        ("agents.corridor.release_check_s", 0.01, "must be >= 1"),
        ("agents.police.patrol_s", 0.0001, "must be >= 1"),
        ("agents.collect_every_s", 0.5, "must be >= 1"),
    ],
)
def test_agent_settings_that_would_never_end_a_run_or_stop_the_gate_are_refused(
        minimal: dict[str, Any], field: str, value: float, reason: str) -> None:
    lines = issues(_put(minimal, field, value))
    assert any(line.startswith(f"{field}: {reason}") for line in lines), lines


@pytest.mark.parametrize("field", ["no_show_max_calls", "manifest_max_attempts"])
@pytest.mark.parametrize(("calls", "reason"), [(0, "must be >= 1 (got 0)"), (2.5, "must be a whole number (got 2.5)"),
                                               (True, "must be a whole number (got True)")])
def test_a_limit_of_missed_calls_or_attempts_is_a_whole_number_of_at_least_one(
        minimal: dict[str, Any], field: str, calls: float, reason: str) -> None:
    assert issues(_put(minimal, f"core.timeouts.{field}", calls)) == [f"core.timeouts.{field}: {reason}"]
