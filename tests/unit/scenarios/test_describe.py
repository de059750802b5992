"""``describe`` tells a stakeholder the key numbers of a scenario."""

from __future__ import annotations

from scenarios import describe, load_scenario, with_overrides


def test_describe_names_the_scenario_site_and_demand() -> None:
    text = describe(load_scenario("huu_nghi_2025"))
    assert text.splitlines()[0] == "huu_nghi_2025 - Huu Nghi"
    assert "870 trucks/day" in text
    assert "peak hour 09:00 (84 trucks/h)" in text
    assert "import 70%, export 30%" in text


def test_describe_gives_the_layout_staff_and_run() -> None:
    text = describe(load_scenario("huu_nghi_2025"))
    assert "2 entry lane(s), 2 exit lane(s), 1 scale(s), scanners: 1 drive-through, inspection bays: 4" in text
    assert "customs: 12 officer(s), 06:00-14:00, 14:00-22:00" in text
    assert "risk yellow 40%, red 20%" in text
    assert "Run: 24 h (warm-up 0 h), 1 replication(s), seed 870" in text


def test_describe_follows_overrides() -> None:
    text = describe(with_overrides(load_scenario("huu_nghi_2025"), seed=5, replications=10, horizon_h=6))
    assert "Run: 6 h (warm-up 0 h), 10 replication(s), seed 5" in text


def test_describe_says_when_plates_are_typed_by_hand() -> None:
    text = describe(load_scenario("mong_cai_phase1"))
    assert "no plate cameras (plates entered by hand)" in text
    assert "scanners: none" in text
    assert "barrier cycle triangular 10/15/30 s, never fails" in text


def test_describe_shows_outages_closures_and_the_agv_lane() -> None:
    assert "outage: scanner-1 down from hour 9 for 4 h" in describe(load_scenario("scanner_outage"))
    tet = describe(load_scenario("tet_reopening"))
    assert "Closure: day 1 for 7 day(s), backlog arrives over 3 day(s)" in tet
    assert "Demand x1.3: day 0 for 1 day(s)" in tet
    smart = describe(load_scenario("huu_nghi_smart_gate"))
    assert "AGV lane: 12 AGVs on 3.6 km at 20 km/h (10.8 min a trip); 24 container places on the stack" in smart
    assert "recovery" not in smart
    closed = describe(load_scenario("agv_partner_closure"))
    assert "the partner side does not accept AGVs for 12 h from hour 8" in closed
    assert "'gatetwin recovery agv_partner_closure'" in closed and "when its waits are back to normal" in closed
    unlimited = describe(with_overrides(load_scenario("huu_nghi_smart_gate"), **{"layout.agv_lane.stack_slots": "unlimited"}))
    assert "no limit on the containers waiting for an AGV" in unlimited
    assert "AGV lane takes 50% of container exports" in smart
    assert "customs: 8 officer(s), 24/7" in smart
    assert "automated border check on" in smart


def test_describe_names_the_command_that_measures_the_recovery_from_disruptions() -> None:
    for name in ("scanner_outage", "tet_reopening"):
        assert f"'gatetwin recovery {name}': the trucks its outages and closures leave behind" in describe(
            load_scenario(name))
    assert "gatetwin recovery" not in describe(load_scenario("huu_nghi_2025"))  # nothing to recover from


def test_describe_marks_an_agency_without_officers() -> None:
    scenario = with_overrides(load_scenario("huu_nghi_smart_gate"), **{"agencies.animal_quarantine.officers": 0,
                                                                       "demand.cargo_mix.animal_products": 0,
                                                                       "demand.cargo_mix.general": 0.50})
    assert "animal_quarantine: not staffed" in describe(scenario)


def test_describe_shows_unlimited_officers() -> None:
    scenario = with_overrides(load_scenario("huu_nghi_2025"), **{"agencies.customs.officers": "unlimited"})
    assert "customs: unlimited officer(s)" in describe(scenario)


def test_describe_says_how_gps_positions_reach_the_core() -> None:
    scenario = load_scenario("huu_nghi_2025")
    assert "GPS: a position every 60 s, reaching the core in telematics batches every 60 s" in describe(scenario)
    alone = with_overrides(scenario, **{"traffic.gps_feed_s": None, "traffic.gps_ping_s": 30.0})
    assert "GPS: a position every 30 s, each reaching the core on its own" in describe(alone)


def test_describe_says_whether_mesa_agents_are_enabled() -> None:
    scenario = load_scenario("huu_nghi_2025")
    assert "Agents: Mesa agents off; statistical people (agents.enabled is false)" in describe(scenario)
    text = describe(with_overrides(scenario, **{"agents.enabled": True}))
    assert ("Agents: Mesa agents on: 1,000 enterprises declaring, drivers on the 20 km approach road, "
            "traffic police at the staging areas") in text


def test_describe_says_whom_customs_selects_at_the_trusted_rates() -> None:
    assert "red 20% (no declarant trusted)" in describe(load_scenario("huu_nghi_2025"))
    trusting = with_overrides(load_scenario("huu_nghi_2025"), **{"core.risk.trusted_compliance": 0.9})
    assert "(declarants trusted from a compliance score of 0.9: yellow 5%, red 1%)" in describe(trusting)
    known = with_overrides(load_scenario("huu_nghi_2025"), **{"core.risk.compliance": {"0100000000": 1.0}})
    assert "no declarant trusted" not in describe(known)  # a declarant known to score 1 is trusted
