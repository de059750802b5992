"""The schema's derived views: device names, time windows, shifts, shares, core settings."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from pydantic import ValidationError

from gate.config import GateConfig
from gate.enums import DeviceKind, GoodsCategory, Site, VehicleClass
from scenarios import (
    AgencyStaff,
    ScenarioError,
    CoreSettings,
    Demand,
    Layout,
    PlateCamera,
    ScannerType,
    Window,
    capacity_value,
    device_inventory,
    format_errors,
    load_scenario,
    mtbf_value,
    validate_scenario,
)


def _ids(layout: Layout, cameras: bool = True) -> list[str]:
    return [d.device_id for d in device_inventory(layout, plate_cameras=cameras)]


def test_devices_are_named_per_lane_and_numbered_across_scanner_groups() -> None:
    layout = Layout.model_validate(
        {
            "entry_lanes": 2,
            "exit_lanes": 1,
            "scales": 1,
            "scanners": [{"type": "drive_through", "count": 1}, {"type": "portal", "count": 2}],
            "staging_areas": {"staging-1": 100, "km-5": "unlimited"},
        }
    )
    assert _ids(layout) == [
        "cam-staging-1", "cam-km-5",
        "cam-in-1", "barrier-in-1", "cam-in-2", "barrier-in-2",
        "scale-1",
        "scanner-1", "scanner-2", "scanner-3",
        "cam-yard-in", "cam-yard-out", "cam-bay",
        "cam-out-1", "barrier-out-1",
    ]  # fmt: skip
    assert layout.scanner_ids() == {
        "scanner-1": ScannerType.DRIVE_THROUGH,
        "scanner-2": ScannerType.PORTAL,
        "scanner-3": ScannerType.PORTAL,
    }


def test_without_cameras_the_inventory_has_no_cameras() -> None:
    layout = Layout(entry_lanes=1, exit_lanes=1)
    assert _ids(layout, cameras=False) == ["barrier-in-1", "barrier-out-1"]


def test_devices_stand_at_the_sites_the_core_expects() -> None:
    scenario = load_scenario("huu_nghi_smart_gate")
    sites = {d.device_id: (d.kind, d.site) for d in scenario.device_inventory()}
    assert sites["barrier-in-1"] == (DeviceKind.BARRIER, Site.BARRIER_1)
    assert sites["cam-out-2"] == (DeviceKind.PLATE_CAMERA, Site.BARRIER_2)
    assert sites["agv-fleet"] == (DeviceKind.AGV_FLEET, Site.AGV_LANE)
    assert sites["partner-link"] == (DeviceKind.PARTNER_LINK, Site.PARTNER)


def test_an_outage_by_kind_takes_down_every_device_of_that_kind(minimal: dict[str, Any]) -> None:
    minimal["layout"]["entry_lanes"] = 2
    minimal["devices"] = {"outages": [{"device": "barrier", "start": 0, "duration_h": 1}]}
    scenario = validate_scenario(minimal)
    assert scenario.outage_devices(scenario.devices.outages[0]) == ("barrier-in-1", "barrier-in-2", "barrier-out-1")


def test_a_window_starts_at_a_clock_time_or_an_hour_on_its_day() -> None:
    assert Window.model_validate({"start": "9:30", "duration_h": 2}).start_h == 9.5
    assert Window.model_validate({"start": "9:30", "duration_h": 2}).start == "09:30"
    assert Window.model_validate({"start": "09:30", "day": 2, "duration_h": 2}).end_h == 59.5
    assert Window.model_validate({"start": 30, "duration_h": 1}).start_h == 30


@pytest.mark.parametrize("start", [-1, "24:00", True, "9h"])
def test_a_window_refuses_an_impossible_start(start: Any) -> None:
    with pytest.raises(ValidationError):
        Window.model_validate({"start": start, "duration_h": 1})


def test_unlimited_capacity_and_a_device_that_never_fails_are_infinite() -> None:
    assert capacity_value("unlimited") == math.inf and capacity_value(3) == 3
    assert mtbf_value("never") == math.inf and mtbf_value(500.0) == 500


def test_a_capacity_may_be_unlimited_anywhere(minimal: dict[str, Any]) -> None:
    minimal["layout"].update({"inspection_bays": "unlimited", "yard": {"truck": "unlimited", "container": 2.0}})
    layout = validate_scenario(minimal).layout
    assert layout.inspection_bays == "unlimited"
    assert layout.yard[VehicleClass.CONTAINER] == 2 and isinstance(layout.yard[VehicleClass.CONTAINER], int)


def test_a_night_shift_wraps_past_midnight() -> None:
    staff = AgencyStaff.model_validate({"officers": 2, "service_s": 60, "shifts": [["22:00", "06:00"]]})
    assert staff.on_duty(23.5) and staff.on_duty(5.9) and not staff.on_duty(6.0) and not staff.on_duty(12)
    assert staff.hours_per_day == 8 and not staff.round_the_clock


def test_round_the_clock_is_written_midnight_to_midnight() -> None:
    staff = AgencyStaff.model_validate({"officers": 1, "service_s": 60, "shifts": [["00:00", "24:00"]]})
    assert staff.round_the_clock and all(staff.on_duty(h) for h in range(24))


def test_an_agency_without_officers_is_never_on_duty() -> None:
    staff = AgencyStaff.model_validate({"officers": 0, "service_s": 60})
    assert not staff.on_duty(12) and staff.hours_per_day == 0


def _demand(**changes: Any) -> Demand:
    data: dict[str, Any] = {
        "trucks_per_day": 240,
        "direction_mix": {"export": 1},
        "vehicle_class_mix": {"truck": 0.75, "container": 0.25},
        "cargo_mix": {"plants_fruit": 0.5, "ore": 0.25, "live_animals": 0.25},
    }
    data.update(changes)
    return Demand.model_validate(data)


def test_the_hourly_profile_is_flat_by_default_and_normalised_when_given() -> None:
    assert _demand().trucks_in_hour(3) == pytest.approx(10)
    profile = [0] * 24
    profile[8], profile[17] = 3, 1
    demand = _demand(hourly_profile=profile)
    assert demand.hourly_profile[8] == 0.75 and demand.peak_hour == 8
    assert demand.trucks_in_hour(17) == 60


@pytest.mark.parametrize(("profile", "reason"), [([1] * 23, "exactly 24"), ([0] * 24, "positive weight")])
def test_a_bad_hourly_profile_is_refused(profile: list[int], reason: str) -> None:
    with pytest.raises(ValidationError, match=reason):
        _demand(hourly_profile=profile)


def test_demand_derives_the_container_and_perishable_shares() -> None:
    demand = _demand()
    assert demand.container_share == 0.25
    assert demand.perishable_share == 0.75  # fruit and live animals, not ore
    assert demand.share("cargo_mix", GoodsCategory.ORE.value) == 0.25
    assert demand.share("direction_mix", "import") == 0


def test_container_sizes_are_20_40_or_45_feet() -> None:
    with pytest.raises(ValidationError, match=r"20, 40 or 45 ft \(got \[30\]\)"):
        _demand(container_sizes={30: 1.0})


def test_night_and_rain_raise_the_plate_camera_error_probability() -> None:
    camera = PlateCamera(p_correct=0.9, p_misread=0.04, p_noread=0.06, night_factor=2, rain_factor=3)
    assert camera.error_probability(night=False, raining=False) == pytest.approx(0.1)
    assert camera.error_probability(night=True, raining=False) == pytest.approx(0.2)
    assert camera.error_probability(night=True, raining=True) == pytest.approx(0.6)


def test_factors_that_push_camera_errors_above_certainty_are_refused() -> None:
    with pytest.raises(ValidationError, match="above 1"):
        PlateCamera.model_validate(
            {"p_correct": 0.7, "p_misread": 0.1, "p_noread": 0.2, "night_factor": 2, "rain_factor": 2,
             "rain": [{"start": "14:00", "duration_h": 2}]}
        )  # fmt: skip


def test_core_settings_default_to_the_gate_config_defaults() -> None:
    core, gate = CoreSettings(), GateConfig()
    assert core.risk == gate.risk and core.weight == gate.weight and core.fees == gate.fees
    assert core.timeouts == gate.timeouts and core.traffic == gate.traffic
    for field in ("plate_confidence_threshold", "medical_check", "automated_border_check", "scanner_first"):
        assert getattr(core, field) == getattr(gate, field)


def test_core_settings_embed_gate_config_models_with_their_own_checks(minimal: dict[str, Any]) -> None:
    minimal["core"] = {"traffic": {"hold_above": 0.5, "release_below": 0.7}, "weight": {"tolerance_pct": 3}}
    with pytest.raises(Exception, match="release_below must not exceed hold_above"):
        validate_scenario(minimal)
    minimal["core"]["traffic"] = {"hold_above": 0.9, "release_below": 0.7}
    scenario = validate_scenario(minimal)
    assert scenario.core.weight.tolerance_pct == 3 and scenario.core.traffic.hold_above == 0.9


def test_a_scenario_is_immutable(minimal: dict[str, Any]) -> None:
    scenario = validate_scenario(minimal)
    with pytest.raises(ValidationError):
        scenario.run.seed = 5


def test_an_agency_may_have_unlimited_officers_to_rule_it_out_as_a_bottleneck(minimal: dict[str, Any]) -> None:
    minimal["agencies"] = {"customs": {"officers": "unlimited", "service_s": 0}}
    customs = validate_scenario(minimal).agencies.customs
    assert customs.staffed and customs.round_the_clock and capacity_value(customs.officers) == math.inf
    assert customs.service_s.mean == 0


@pytest.mark.parametrize(("key", "value", "reason"), [
    ("demand.trucks_per_day", 2**70, "must be <= 100000 (got"),
    ("demand.approach_road_km", 1e9, "must be <= 1000 (got"),
    ("agencies.customs.officers", 2**70, "must be at most 1,000 on a shift, or 'unlimited'"),
    ("core.fees.per_trip_vnd", {"truck": 2**70}, "must be <= 1000000000000 (got"),
    ("core.timeouts.sla_s", {"customs": 1e12}, "must be <= 31622400 (got"),
    ("run.horizon_h", 2**70, "must be <= 8784 (got"),
    ("run.replications", 2**70, "must be <= 10000 (got"),
    ("agents.enterprises.history_days", 2**70, "must be <= 3653 (got"),
])
def test_a_value_past_what_any_gate_could_have_is_refused_naming_it(key: str, value: Any, reason: str) -> None:
    """Each of these, let through, stopped the run with an overflow, ran out of memory, or never ended."""
    from scenarios import with_settings

    with pytest.raises(ScenarioError) as caught:
        with_settings(load_scenario("huu_nghi_smart_gate"), [f"{key}={json.dumps(value)}"])
    lines = format_errors(caught.value)
    assert any(line.split(": ")[1].startswith(key) and reason in line for line in lines), lines
