"""The scenario library: every file loads, is calibrated as documented, and cites its figures."""

from __future__ import annotations

from typing import Any

import pytest

from gate.config import GateConfig
from gate.enums import Direction, GoodsCategory, Role
from scenarios import (
    ALIASES,
    LIBRARY_DIR,
    DEFAULT_SCENARIO,
    Scenario,
    describe,
    library_names,
    library_path,
    load_scenario,
    scenario_hash,
)

EXPECTED_LIBRARY = {
    "agv_partner_closure",
    "channelling_off",
    "channelling_on",
    "harvest_peak",
    "huu_nghi_2025",
    "huu_nghi_smart_gate",
    "mong_cai_phase1",
    "mong_cai_phase2",
    "scanner_outage",
    "tet_reopening",
}


def _without(scenario: Scenario, *paths: str) -> dict[str, Any]:
    """The scenario as JSON-like data with the given dotted paths removed."""
    data = scenario.model_dump(mode="json")
    for path in paths:
        *parents, last = path.split(".")
        node = data
        for part in parents:
            node = node[part]
        del node[last]
    return data


def test_the_library_holds_every_documented_scenario() -> None:
    assert set(library_names()) == EXPECTED_LIBRARY


@pytest.mark.parametrize("name", sorted(EXPECTED_LIBRARY))
def test_every_library_scenario_loads_and_is_named_after_its_file(name: str) -> None:
    scenario = load_scenario(name)
    assert scenario.name == name
    assert scenario.description.strip() and scenario.site.strip()


@pytest.mark.parametrize("name", sorted(EXPECTED_LIBRARY))
def test_every_library_file_cites_domain_figures(name: str) -> None:
    text = library_path(name).read_text(encoding="utf-8")
    assert "DOMAIN.md" in text
    assert "assumption" in text  # figures not from DOMAIN.md are labelled as ours


@pytest.mark.parametrize("name", sorted(EXPECTED_LIBRARY))
def test_every_library_scenario_gives_the_core_a_valid_device_inventory(name: str) -> None:
    scenario = load_scenario(name)
    config = GateConfig(devices=scenario.device_inventory(), risk=scenario.core.risk, traffic=scenario.core.traffic)
    assert config.devices == scenario.device_inventory()


@pytest.mark.parametrize("name", sorted(EXPECTED_LIBRARY))
def test_every_library_scenario_can_be_described(name: str) -> None:
    assert name in describe(load_scenario(name))


def test_default_is_an_alias_of_huu_nghi_2025_not_a_copy() -> None:
    assert ALIASES[DEFAULT_SCENARIO] == "huu_nghi_2025"
    assert not (LIBRARY_DIR / "default.yaml").exists()
    assert library_path("default") == library_path("huu_nghi_2025")
    assert scenario_hash(load_scenario("default")) == scenario_hash(load_scenario("huu_nghi_2025"))


def test_loading_by_path_and_by_name_gives_the_same_scenario() -> None:
    assert load_scenario(library_path("harvest_peak")) == load_scenario("harvest_peak")


def test_huu_nghi_2025_carries_870_trucks_262_export_608_import() -> None:
    demand = load_scenario("huu_nghi_2025").demand
    assert demand.trucks_per_day == 870
    assert demand.trucks_per_day * demand.direction_mix[Direction.EXPORT] == pytest.approx(262, abs=0.01)
    assert demand.trucks_per_day * demand.direction_mix[Direction.IMPORT] == pytest.approx(608, abs=0.01)


def test_mong_cai_phase1_checks_everything_by_hand() -> None:
    scenario = load_scenario("mong_cai_phase1")
    assert scenario.demand.trucks_per_day == 800
    assert scenario.devices.plate_camera is None
    assert scenario.layout.scales == 0 and scenario.layout.scanner_count == 0
    assert not scenario.core.automated_border_check
    kinds = {device.kind.value for device in scenario.device_inventory()}
    assert kinds == {"barrier"}


def test_mong_cai_phase2_adds_barriers_scales_and_cameras_to_the_same_demand() -> None:
    phase1, phase2 = load_scenario("mong_cai_phase1"), load_scenario("mong_cai_phase2")
    assert phase2.demand == phase1.demand
    assert phase2.run.seed == phase1.run.seed
    assert phase2.devices.plate_camera is not None
    assert phase2.layout.scales > 0
    assert phase2.devices.barrier.cycle_s.mean < phase1.devices.barrier.cycle_s.mean


def test_harvest_peak_is_2500_trucks_mostly_fruit() -> None:
    demand = load_scenario("harvest_peak").demand
    assert demand.trucks_per_day == 2500
    assert max(demand.cargo_mix, key=lambda category: demand.cargo_mix[category]) is GoodsCategory.PLANTS_FRUIT
    assert demand.perishable.priority


def test_tet_reopening_closes_seven_days_and_runs_long_enough_to_recover() -> None:
    scenario = load_scenario("tet_reopening")
    (closure,) = scenario.closures
    assert closure.days == 7
    assert scenario.run.horizon_h >= closure.end_h + 5 * 24
    assert closure.surge_days > 0
    assert scenario.demand == load_scenario("huu_nghi_2025").demand


def test_scanner_outage_takes_the_scanner_down_for_four_hours_over_the_peak() -> None:
    scenario = load_scenario("scanner_outage")
    (outage,) = scenario.devices.outages
    assert scenario.outage_devices(outage) == ("scanner-1",)
    assert outage.duration_h == 4
    assert outage.start_h <= scenario.demand.peak_hour < outage.end_h
    baseline = load_scenario("huu_nghi_2025")
    assert _without(scenario, "name", "description", "devices.outages") == _without(
        baseline, "name", "description", "devices.outages"
    )


def test_the_smart_gate_has_an_agv_lane_automated_border_checks_and_customs_round_the_clock() -> None:
    scenario = load_scenario("huu_nghi_smart_gate")
    lane = scenario.layout.agv_lane
    assert lane is not None and lane.lane_km == 3.6
    assert scenario.demand.agv_share > 0
    assert scenario.core.automated_border_check
    assert scenario.agencies.customs.round_the_clock
    assert scenario.agencies.border_guard.service_s.mean < 15
    assert {d.device_id for d in scenario.device_inventory()} >= {"agv-fleet", "partner-link"}


def test_channelling_scenarios_differ_only_in_channelling() -> None:
    on, off = load_scenario("channelling_on"), load_scenario("channelling_off")
    assert on.traffic.channelling and not off.traffic.channelling
    ignored = ("name", "description", "traffic.channelling")
    assert _without(on, *ignored) == _without(off, *ignored)


def test_lang_son_scenarios_use_the_lang_son_red_channel_share() -> None:
    for name in ("huu_nghi_2025", "harvest_peak", "huu_nghi_smart_gate", "tet_reopening"):
        assert load_scenario(name).core.risk.expected_red == 0.20


@pytest.mark.parametrize("name", sorted(EXPECTED_LIBRARY))
def test_every_staffed_agency_is_on_duty_at_the_peak_hour(name: str) -> None:
    scenario = load_scenario(name)
    peak = scenario.demand.peak_hour
    for role in (Role.MEDICAL, Role.BORDER_GUARD, Role.HEALTH_QUARANTINE, Role.ANIMAL_QUARANTINE,
                 Role.PLANT_QUARANTINE, Role.CUSTOMS, Role.FEE_COLLECTOR):  # fmt: skip
        staff = scenario.agencies.for_role(role)
        assert not staff.staffed or staff.on_duty(peak + 0.5), role
