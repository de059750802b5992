"""Scenarios: the pydantic schema of a gate, its demand and a run, and the YAML library.

Typical use::

    from scenarios import load_scenario, with_overrides, describe
    scenario = load_scenario("harvest_peak")          # or a path to a YAML file
    short = with_overrides(scenario, horizon_h=6, seed=3)
    print(describe(short))

Every problem in a scenario raises ``ScenarioError``; ``format_errors`` gives one line each.
"""

from __future__ import annotations

from scenarios.demand import Closure, Demand, DemandWindow, PerishableHandling, TrafficSettings
from scenarios.describe import describe
from scenarios.devices import Barrier, Devices, Outage, PartnerLink, PlateCamera, Scale, Scanner, Scanners
from scenarios.distributions import (
    Constant,
    Distribution,
    DistributionModel,
    Empirical,
    Exponential,
    Lognormal,
    Triangular,
)
from scenarios.errors import ScenarioError, ScenarioIssue, format_errors
from scenarios.layout import AgvLane, Layout, ScannerGroup, ScannerType, device_inventory
from scenarios.loader import (
    ALIASES,
    DEFAULT_SCENARIO,
    LIBRARY_DIR,
    canonical_json,
    library_names,
    library_path,
    load_scenario,
    load_variant,
    parse_settings,
    run_settings_in,
    scenario_file,
    scenario_hash,
    scenario_yaml,
    split_variant,
    validate_scenario,
    variant_name,
    with_overrides,
    with_recorded_trucks,
    with_settings,
)
from scenarios.schema import CoreSettings, Run, Scenario
from scenarios.staff import Agencies, AgencyStaff, CustomsStaff, FeeCollection, ReviewingAgency
from scenarios.values import Window, capacity_value, clock_hours, mtbf_value

__all__ = [
    "ALIASES",
    "DEFAULT_SCENARIO",
    "LIBRARY_DIR",
    "Agencies",
    "AgencyStaff",
    "AgvLane",
    "Barrier",
    "Closure",
    "Constant",
    "CoreSettings",
    "CustomsStaff",
    "Demand",
    "DemandWindow",
    "Devices",
    "Distribution",
    "DistributionModel",
    "Empirical",
    "Exponential",
    "FeeCollection",
    "Layout",
    "Lognormal",
    "Outage",
    "PartnerLink",
    "PerishableHandling",
    "PlateCamera",
    "ReviewingAgency",
    "Run",
    "Scale",
    "Scanner",
    "ScannerGroup",
    "ScannerType",
    "Scanners",
    "Scenario",
    "ScenarioError",
    "ScenarioIssue",
    "TrafficSettings",
    "Triangular",
    "Window",
    "canonical_json",
    "capacity_value",
    "clock_hours",
    "describe",
    "device_inventory",
    "format_errors",
    "library_names",
    "library_path",
    "load_scenario",
    "load_variant",
    "mtbf_value",
    "scenario_file",
    "scenario_hash",
    "scenario_yaml",
    "split_variant",
    "validate_scenario",
    "parse_settings",
    "run_settings_in",
    "variant_name",
    "with_overrides",
    "with_recorded_trucks",
    "with_settings",
]
