"""Helpers shared by the scenario tests: a small valid scenario and error capture."""

from __future__ import annotations

from typing import Any

import pytest

from scenarios import ScenarioError, format_errors, load_scenario

MINIMAL: dict[str, Any] = {
    "name": "tiny",
    "description": "a one-lane gate for tests",
    "site": "Test gate",
    "layout": {
        "entry_lanes": 1,
        "exit_lanes": 1,
        "scales": 1,
        "scanners": [{"type": "drive_through", "count": 1}],
    },
    "demand": {
        "trucks_per_day": 100,
        "direction_mix": {"export": 0.4, "import": 0.6},
        "vehicle_class_mix": {"truck": 0.7, "container": 0.3},
        "cargo_mix": {"general": 0.8, "plants_fruit": 0.2},
    },
}


MINIMAL_YAML = """\
name: tiny
description: a one-lane gate for tests
site: Test gate
layout:
  entry_lanes: 1
  exit_lanes: 1
  scales: 1
  scanners:
    - {type: drive_through, count: 1}
demand:
  trucks_per_day: 100
  direction_mix: {export: 0.4, import: 0.6}
  vehicle_class_mix: {truck: 0.7, container: 0.3}
  cargo_mix: {general: 0.8, plants_fruit: 0.2}
"""


def error_lines(source: Any) -> list[str]:
    """The formatted error lines of loading ``source``; fails the test if it loads."""
    with pytest.raises(ScenarioError) as caught:
        load_scenario(source)
    return format_errors(caught.value)
