"""A scenario's identity (hash) and its variations (overrides), both validated."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from gate.enums import Direction
from scenarios import (
    Run,
    ScenarioError,
    canonical_json,
    format_errors,
    load_scenario,
    parse_settings,
    scenario_hash,
    variant_name,
    with_overrides,
    with_settings,
)
from tests.unit.scenarios.support import MINIMAL_YAML

Write = Callable[[str], Path]


def test_the_hash_is_a_sha256_hex_digest() -> None:
    digest = scenario_hash(load_scenario("huu_nghi_2025"))
    assert len(digest) == 64 and int(digest, 16) >= 0


def test_the_hash_is_stable_across_loads() -> None:
    assert scenario_hash(load_scenario("harvest_peak")) == scenario_hash(load_scenario("harvest_peak"))


def test_the_hash_ignores_key_order_and_comments(write: Write) -> None:
    data = yaml.safe_load(MINIMAL_YAML)
    reordered = dict(reversed(list(data.items())))
    first = load_scenario(write(MINIMAL_YAML))
    second = load_scenario(write("# the same gate, sections reversed\n" + yaml.safe_dump(reordered, sort_keys=False)))
    assert scenario_hash(first) == scenario_hash(second)


def test_writing_a_default_out_does_not_change_the_hash(write: Write) -> None:
    implicit = load_scenario(write(MINIMAL_YAML))
    explicit = load_scenario(write(MINIMAL_YAML + "run: {horizon_h: 24, warmup_h: 0, replications: 1, seed: 0}\n"))
    assert scenario_hash(implicit) == scenario_hash(explicit)


def test_an_override_that_changes_nothing_keeps_the_hash() -> None:
    scenario = load_scenario("huu_nghi_smart_gate")
    assert scenario_hash(with_overrides(scenario)) == scenario_hash(scenario)
    assert with_overrides(scenario, seed=scenario.run.seed) == scenario


CHANGES: list[dict[str, Any]] = [
    {"seed": 1},
    {"replications": 2},
    {"horizon_h": 12},
    {"warmup_h": 1},
    {"name": "other"},
    {"description": "another description"},
    {"site": "Tan Thanh"},
    {"demand.trucks_per_day": 871},
    {"demand.hourly_profile": [1] * 24},
    {"demand.direction_mix.export": 0.302149, "demand.direction_mix.import": 0.697851},
    {"layout.yard.small": "unlimited"},
    {"layout.entry_lanes": 3},
    {"agencies.customs.officers": 13},
    {"agencies.customs.service_s": {"kind": "exponential", "mean": 200}},
    {"devices.barrier.cycle_s": 7},
    {"devices.plate_camera": None},
    {"core.risk.expected_red": 0.05},
    {"core.medical_check": False},
    {"traffic.channelling": False},
    {"closures": [{"start_day": 0, "days": 0.5}]},
]


def test_any_change_changes_the_hash_and_no_two_changes_collide() -> None:
    base = load_scenario("huu_nghi_2025")
    digests = {scenario_hash(base)}
    for change in CHANGES:
        digests.add(scenario_hash(with_overrides(base, **change)))
    assert len(digests) == len(CHANGES) + 1


def test_the_canonical_json_writes_every_default_with_sorted_keys(write: Write) -> None:
    scenario = load_scenario(write(MINIMAL_YAML))
    text = canonical_json(scenario)
    every = scenario.model_dump(mode="json")
    del every["demand"]["recorded"]  # no record: left out, as before scenarios could hold one
    assert json.loads(text) == every
    assert list(json.loads(text)) == sorted(scenario.model_dump())
    assert '"run":{"horizon_h":24.0,"replications":1,"seed":0,"warmup_h":0.0}' in text


def test_run_fields_are_overridden_by_their_own_names() -> None:
    short = with_overrides(load_scenario("harvest_peak"), seed=7, replications=3, horizon_h=6, warmup_h=1)
    assert short.run == Run(horizon_h=6, warmup_h=1, replications=3, seed=7)


def test_dotted_and_double_underscore_paths_reach_nested_fields() -> None:
    base = load_scenario("huu_nghi_2025")
    dotted = with_overrides(base, **{"demand.trucks_per_day": 2500})
    underscored = with_overrides(base, demand__trucks_per_day=2500)
    assert dotted == underscored
    assert dotted.demand.trucks_per_day == 2500


def test_a_planner_can_add_a_scanner_and_a_lane() -> None:
    base = load_scenario("harvest_peak")
    upgraded = with_overrides(
        base, **{"layout.entry_lanes": 3, "layout.scanners": [{"type": "drive_through", "count": 2}]}
    )
    assert upgraded.layout.entry_lanes == 3 and upgraded.layout.scanner_count == 2
    assert upgraded.demand == base.demand


def test_a_mix_entry_is_replaced_not_duplicated() -> None:
    base = load_scenario("huu_nghi_2025")
    changed = with_overrides(base, **{"demand.direction_mix.export": 0.5, "demand.direction_mix.import": 0.5})
    assert changed.demand.direction_mix == {Direction.EXPORT: 0.5, Direction.IMPORT: 0.5}


def test_a_whole_section_can_be_replaced_by_a_model() -> None:
    base = load_scenario("huu_nghi_2025")
    other = load_scenario("mong_cai_phase1")
    mixed = with_overrides(base, demand=other.demand)
    assert mixed.demand == other.demand and mixed.layout == base.layout


def test_overrides_leave_the_original_untouched() -> None:
    base = load_scenario("huu_nghi_2025")
    with_overrides(base, seed=99, **{"demand.trucks_per_day": 10})
    assert base.run.seed == 870 and base.demand.trucks_per_day == 870


def test_a_bad_override_value_is_a_scenario_error_naming_the_field() -> None:
    with pytest.raises(ScenarioError) as caught:
        with_overrides(load_scenario("huu_nghi_2025"), warmup_h=48)
    assert [str(issue) for issue in caught.value.errors] == ["run.warmup_h: must be shorter than horizon_h (24 h) (got 48.0)"]
    assert caught.value.file == "huu_nghi_2025 (overrides)"


def test_an_override_is_checked_against_the_rest_of_the_scenario() -> None:
    with pytest.raises(ScenarioError) as caught:
        with_overrides(load_scenario("scanner_outage"), **{"layout.scanners": []})
    assert [issue.path for issue in caught.value.errors] == ["devices.outages.0.device"]


def test_an_override_of_an_unknown_field_is_refused() -> None:
    base = load_scenario("huu_nghi_2025")
    with pytest.raises(ScenarioError) as caught:
        with_overrides(base, sed=3)
    assert str(caught.value.errors[0]) == "sed: unknown field; expected a section, a run field or a dotted path"
    with pytest.raises(ScenarioError) as caught:
        with_overrides(base, **{"demand.trucks_per_dy": 3})
    assert str(caught.value.errors[0]) == "demand.trucks_per_dy: unknown field (did you mean 'trucks_per_day'?)"


def test_an_override_below_a_plain_value_is_refused() -> None:
    with pytest.raises(ScenarioError) as caught:
        with_overrides(load_scenario("huu_nghi_2025"), **{"demand.trucks_per_day.low": 3})
    assert str(caught.value.errors[0]) == "demand.trucks_per_day.low: no section 'demand.trucks_per_day' to change"


def test_an_override_with_a_negative_seed_is_refused() -> None:
    with pytest.raises(ScenarioError) as caught:
        with_overrides(load_scenario("huu_nghi_2025"), seed=-1)
    assert str(caught.value.errors[0]) == "run.seed: must be >= 0 (got -1)"


# --- KEY=VALUE changes, as the command line and the dashboard take them -------------------------


def test_changes_are_read_as_yaml_values_and_applied_to_a_variant_named_after_them() -> None:
    base = load_scenario("harvest_peak")
    variant = with_settings(base, ["layout.entry_lanes=3", "layout.scanners=[{type: portal, count: 2}]",
                                   "traffic.gps_feed_s=null", "agencies.medical.shifts=[[06:00, '22:00']]"])
    assert variant.layout.entry_lanes == 3 and variant.layout.scanner_count == 2
    assert variant.traffic.gps_feed_s is None
    assert variant.agencies.medical.shifts == (("06:00", "22:00"),)  # an unquoted time stays a time
    # named after its changes, and tagged with its own hash (before the renaming)
    tag = scenario_hash(with_overrides(variant, name="harvest_peak"))[:6]
    assert variant.name == f"harvest_peak-entry_lanes-3-scanners-gps_feed_s-shifts-{tag}"
    assert scenario_hash(variant) != scenario_hash(base)
    assert with_settings(base, []) is base
    assert with_settings(base, ["name=three_lanes", "layout.entry_lanes=3"]).name == "three_lanes"  # a name given


def test_different_variants_never_share_a_name_and_the_same_changes_always_give_the_same_one() -> None:
    base = load_scenario("harvest_peak")
    names = {with_settings(base, [change]).name for change in (
        "agencies.medical.officers=3", "agencies.customs.officers=3", "core.medical_check=false",
        "core.medical_check=true", "layout.scanners=[{type: drive_through, count: 2}]",
        "layout.scanners=[{type: drive_through, count: 3}]")}
    assert len(names) == 6 and base.name not in names
    assert with_settings(base, ["layout.entry_lanes=3"]).name == with_settings(base, ["layout__entry_lanes=3"]).name
    long = with_overrides(base, name="g" * 63)
    assert with_settings(long, ["layout.entry_lanes=3"]).name != long.name  # cut to 64, still its own


def test_a_variant_name_keeps_to_the_names_a_scenario_may_have() -> None:
    assert variant_name("gate", {"demand.trucks_per_day": 2500, "run.seed": 7}) == "gate-trucks_per_day-2500-seed-7"
    assert variant_name("gate", {"layout.staging_areas": {"a b": 1}}) == "gate-staging_areas"
    assert variant_name("gate", {"site": "Huu Nghi / Lang Son"}) == "gate-site"  # too long for a name
    assert variant_name("gate", {"site": "Tan Thanh"}) == "gate-site-Tan_Thanh"
    long = variant_name("g" * 60, {"layout.entry_lanes": 3}, "abc123")
    assert len(long) == 64 and long.endswith("-abc123") and long.startswith("g" * 57)
    assert with_settings(load_scenario("default"), ["site=x"]).name.startswith("huu_nghi_2025-site-x-")


def test_every_malformed_change_is_named_at_once() -> None:
    with pytest.raises(ScenarioError) as caught:
        parse_settings(["layout.entry_lanes", "=3", "layout.scales=[1", "demand.trucks_per_day=2500"], "gate (changes)")
    assert format_errors(caught.value) == [
        "gate (changes): layout.entry_lanes: give KEY=VALUE, e.g. layout.entry_lanes=3",
        "gate (changes): =3: give KEY=VALUE, e.g. layout.entry_lanes=3",
        "gate (changes): layout.scales: YAML syntax error: while parsing a flow sequence: did not find expected "
        "',' or ']' (in '[1')",
    ]
    with pytest.raises(ScenarioError) as caught:
        with_settings(load_scenario("harvest_peak"), ["layout.entry_lanes=0"])
    assert format_errors(caught.value) == ["harvest_peak (changes): layout.entry_lanes: must be >= 1 (got 0)"]
    with pytest.raises(ScenarioError) as caught:
        with_settings(load_scenario("harvest_peak"), ["scenario=1", "layout.scanners.0.count=2"])
    assert format_errors(caught.value) == [
        "harvest_peak (changes): scenario: unknown field; expected a section, a run field or a dotted path",
        "harvest_peak (changes): layout.scanners.0.count: 'layout.scanners' is a list: give the whole list "
        "(layout.scanners=[...])",
    ]
