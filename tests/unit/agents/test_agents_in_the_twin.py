"""The Mesa agents inside the twin: driven by the SimPy clock, reported to the core, in the results."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from agents import Corridor, Driver, EnterprisePopulation, TrafficPolice
from gate import events as ev
from gate.enums import Channel
from gate.risk import assess_channel
from scenarios import load_scenario, with_overrides
from scenarios.schema import Scenario
from twin.agents_people import AgentPeople
from twin.build import build
from twin.plots import AGENTS_PLOT
from twin.probes import ROAD_QUEUE_KM, ROAD_QUEUE_TRUCKS
from twin.results import ReplicationResult, load_results
from twin.run import RunOptions, run_replication, run_scenario
from twin.world import GateWorld

HOUR = 3600.0
#: Long enough for the morning peak to fill the forecourt and the staging area (a few seconds a run).
COMPARE_H = 12.0
SEED = 1420


def _channelling(on: bool, hours: float = COMPARE_H, **changes: Any) -> Scenario:
    return with_overrides(load_scenario("channelling_on" if on else "channelling_off"), horizon_h=hours, **changes)


def _people(world: GateWorld) -> AgentPeople:
    assert isinstance(world.drivers, AgentPeople) and world.declarants is world.drivers
    return world.drivers


@pytest.fixture(scope="module")
def channelling_on() -> tuple[ReplicationResult, GateWorld]:
    return run_replication(_channelling(True), 0, SEED)


@pytest.fixture(scope="module")
def channelling_off() -> tuple[ReplicationResult, GateWorld]:
    return run_replication(_channelling(False), 0, SEED)


# ---------------------------------------------------------------------- the channelling comparison


def test_channelling_moves_the_road_queue_into_the_staging_areas(
        channelling_on: tuple[ReplicationResult, GateWorld], channelling_off: tuple[ReplicationResult, GateWorld]) -> None:
    on, off = channelling_on[0].kpis, channelling_off[0].kpis
    assert on["trucks_arrived"] == off["trucks_arrived"], "the same seed brings the same trucks"
    assert off["staging_area_truck_h"] == 0.0 and on["staging_area_truck_h"] > 0.0
    assert on["road_queue_truck_h"] < 0.75 * off["road_queue_truck_h"], "time queued on the road drops"
    assert on["road_wait_mean_min"] < off["road_wait_mean_min"]
    assert on["road_queue_km_max"] < off["road_queue_km_max"]
    # The trucks still wait, only elsewhere: the queue moved rather than vanished.
    assert on["road_queue_truck_h"] + on["staging_area_truck_h"] > 0.5 * off["road_queue_truck_h"]


def test_under_channelling_non_compliant_drivers_never_wait_in_a_staging_area(
        channelling_on: tuple[ReplicationResult, GateWorld]) -> None:
    result, world = channelling_on
    passages = result.extra["agents_passages"]
    ignoring = passages[~passages["obeys"]]
    obeying = passages[passages["obeys"]]
    assert len(ignoring) > 0 and (ignoring["area_wait_s"] == 0.0).all()
    assert (obeying["area_wait_s"] > 0.0).any()
    assert result.extra["agents"]["police_orders_ignored"] > 0
    assert _people(world).corridor.police.directed > 0


def test_the_road_queue_is_counted_in_trucks_and_km_as_the_corridor_sees_it(
        channelling_on: tuple[ReplicationResult, GateWorld]) -> None:
    result, world = channelling_on
    corridor = _people(world).corridor
    spacing_km = world.scenario.demand.queue_spacing_m / 1000.0
    assert world.counter(ROAD_QUEUE_TRUCKS).level == len(corridor.road)
    assert world.counter(ROAD_QUEUE_KM).level == pytest.approx(len(corridor.road) * spacing_km)
    series = result.series[ROAD_QUEUE_TRUCKS]
    sampled = result.extra["agents_corridor"]
    times = sampled["time_h"].to_numpy() * HOUR

    def level(side: str) -> np.ndarray:
        at = np.searchsorted(series["time"], times, side=side) - 1  # type: ignore[call-overload]
        return np.where(at >= 0, series["value"][np.maximum(at, 0)], 0.0)

    # A sample sees the queue as it was just before or just after the other events of its instant.
    seen = sampled["waiting_on_road"].to_numpy(dtype=float)
    assert ((seen == level("left")) | (seen == level("right"))).all()
    assert seen.max() > 0


def test_the_corridor_series_count_every_driver_on_the_road_by_segment(
        channelling_on: tuple[ReplicationResult, GateWorld]) -> None:
    sampled = channelling_on[0].extra["agents_corridor"]
    segments = [c for c in sampled.columns if c.startswith("trucks_km_")]
    assert segments == ["trucks_km_0_5", "trucks_km_5_10", "trucks_km_10_15", "trucks_km_15_20"]
    assert (sampled[segments].sum(axis=1) == sampled["driving"]).all()
    assert sampled["time_h"].iloc[-1] == COMPARE_H, "the series run to the end of the run"


# ---------------------------------------------------------------------- the SimPy clock steps them


def test_only_drivers_on_the_road_are_stepped_and_nobody_when_the_road_is_empty(
        monkeypatch: pytest.MonkeyPatch) -> None:
    scenario = _channelling(True, hours=8.0, **{"demand.trucks_per_day": 150})  # ~1.4 trucks an hour at night
    world = build(scenario, 0, SEED)
    corridor = _people(world).corridor
    advances: list[int] = []
    stepped_off_road: list[str] = []
    drove: set[str] = set()
    original_advance, original_step = corridor.advance, Driver.step

    def advance(now: float, horizon: float) -> Any:
        advances.append(len(corridor.active))
        return original_advance(now, horizon)

    def step(driver: Driver) -> None:
        drove.add(driver.visit_id)
        if driver.place is not None or driver not in corridor.active:
            stepped_off_road.append(driver.visit_id)
        original_step(driver)

    monkeypatch.setattr(corridor, "advance", advance)
    monkeypatch.setattr(Driver, "step", step)
    world.env.run(until=8 * HOUR)
    step_s = _people(world).step_s
    assert len(drove) >= 10
    assert advances and min(advances) > 0, "the corridor clock sleeps while nobody drives"
    assert len(advances) < 0.6 * 8 * HOUR / step_s
    assert stepped_off_road == []


@pytest.mark.parametrize("feed_s", [None, 60.0])
def test_drivers_report_their_positions_to_the_core_as_they_drive(monkeypatch: pytest.MonkeyPatch,
                                                                 feed_s: float | None) -> None:
    scenario = with_overrides(_channelling(True, hours=1.0), **{"traffic.gps_feed_s": feed_s})
    world = build(scenario, 0, SEED)
    positions: list[tuple[float, float]] = []  # (time, km to go)
    report = world.report

    def recording(event: ev.Event) -> None:
        if isinstance(event, ev.GpsPing):
            assert feed_s is None, "with a feed, the positions come in batches"
            positions.append((world.env.now, event.km_to_gate))
        elif isinstance(event, ev.PositionsReported):
            assert feed_s is not None and event.positions
            positions.extend((world.env.now, km) for _, km, _ in event.positions)
        report(event)

    monkeypatch.setattr(world, "report", recording)
    world.env.run(until=HOUR)
    assert positions and all(0.0 < km <= world.scenario.demand.approach_road_km for _, km in positions)
    assert world.core.stats["refused"] == 0


# ---------------------------------------------------------------------- enterprises


def test_a_returned_declaration_comes_back_amended_after_its_enterprise_s_delay(
        monkeypatch: pytest.MonkeyPatch) -> None:
    scenario = _channelling(True, hours=10.0, **{"demand.declaration_error_rate": 0.3,
                                                 "agents.enterprises.amend_cv": 0.0})
    world = build(scenario, 0, SEED)
    people = _people(world)
    returned: dict[str, list[float]] = {}
    amended: dict[str, list[float]] = {}
    on_returned, report = people.on_returned, world.report

    def record_return(plan: Any, now: float) -> None:
        returned.setdefault(plan.visit_id, []).append(now)
        on_returned(plan, now)

    def record_amendment(event: ev.Event) -> None:
        if isinstance(event, ev.DeclarationAmended):
            amended.setdefault(event.declaration_id, []).append(world.env.now)
        report(event)

    monkeypatch.setattr(people, "on_returned", record_return)
    monkeypatch.setattr(world, "report", record_amendment)
    world.env.run(until=10 * HOUR)
    assert len(amended) >= 10
    habits = {e.enterprise_id: e.amend_mean_s for e in people.enterprises.enterprises}
    delays = set()
    for visit_id, times in amended.items():
        habit = habits[world.trucks[visit_id].plan.declaration.declarant_id]
        for back, sent in zip(times, returned[visit_id], strict=False):
            assert back - sent == pytest.approx(habit, abs=1e-6)
            delays.add(round(habit))
    assert len(delays) > 1, "different enterprises take different times"


def test_enterprises_compliance_history_feeds_the_core_s_risk_rules() -> None:
    rule = {"name": "careless declarant", "channel": "red", "when_compliance_below": 0.7}
    scenario = _channelling(True, hours=1.0, **{"agents.enterprises.history_days": 180.0,
                                                "agents.enterprises.error_concentration": 2.0,
                                                "core.risk.rules": [rule],
                                                # a trusted programme: a long clean record earns the trusted rates
                                                "core.risk.trusted_compliance": 0.9})
    world = build(scenario, 0, SEED)
    people = _people(world)
    scores = people.compliance
    assert len(scores) == len(people.enterprises.enterprises) == 1000
    for enterprise_id, score in scores.items():
        assert world.core.ledger.score(enterprise_id) == pytest.approx(score)
    careless = min(scores, key=scores.__getitem__)
    trusted = max(scores, key=scores.__getitem__)
    assert scores[careless] < 0.7 <= world.core.config.risk.trusted_compliance <= scores[trusted]
    declaration = people.plans[0].declaration
    risk = world.core.config.risk
    as_careless = assess_channel(declaration.model_copy(update={"declarant_id": careless}), risk,
                                 world.core.ledger.score(careless))
    as_trusted = assess_channel(declaration.model_copy(update={"declarant_id": trusted}), risk,
                                world.core.ledger.score(trusted))
    assert as_careless.channel is Channel.RED and "rule: careless declarant" in as_careless.reasons
    assert "rule: careless declarant" not in as_trusted.reasons


def test_every_truck_is_declared_by_an_enterprise_of_its_cargo() -> None:
    world = build(_channelling(True, hours=1.0), 0, SEED)
    people = _people(world)
    cargo = {e.enterprise_id: e.cargo for e in people.enterprises.enterprises}
    for plan in people.plans:
        assert cargo[plan.declaration.declarant_id] is plan.declaration.goods[0].category
        assert plan.declare_at_s <= plan.arrival_s


# ---------------------------------------------------------------------- determinism and results


def _frames(result: ReplicationResult) -> dict[str, pd.DataFrame]:
    return {k: v for k, v in result.extra.items() if isinstance(v, pd.DataFrame)}


def test_the_same_seed_gives_the_same_agents_bit_for_bit_and_another_seed_does_not() -> None:
    scenario = _channelling(True, hours=8.0)
    first, _ = run_replication(scenario, 0, SEED)
    again, _ = run_replication(scenario, 0, SEED)
    other, _ = run_replication(scenario, 0, SEED + 1)
    assert first.kpis["staging_area_truck_h"] > 0, "the police channelled trucks"
    assert first.kpis == again.kpis
    pd.testing.assert_frame_equal(first.trucks, again.trucks, check_exact=True)
    for key, frame in _frames(first).items():
        pd.testing.assert_frame_equal(frame, _frames(again)[key], check_exact=True)
    assert first.extra["agents"] == again.extra["agents"]
    assert not _frames(first)["agents_passages"].equals(_frames(other)["agents_passages"])
    assert first.kpis["road_queue_truck_h"] != other.kpis["road_queue_truck_h"]


def test_the_agents_series_and_kpis_are_written_with_the_results_and_plotted(tmp_path: Path) -> None:
    run = run_scenario(_channelling(True, hours=4.0), RunOptions(out=tmp_path))
    (rep,) = run.replications
    for key in ("agents_corridor", "agents_enterprise_series", "agents_passages", "agents_enterprises"):
        assert (tmp_path / f"extra_{key}_rep0.parquet").is_file()
    assert (tmp_path / AGENTS_PLOT).stat().st_size > 0
    loaded = load_results(tmp_path)
    back = loaded.replications[0]
    for key, frame in _frames(rep).items():
        pd.testing.assert_frame_equal(back.extra[key], frame, check_exact=True)
    for name in ("road_queue_truck_h", "staging_area_truck_h", "road_wait_mean_min", "area_wait_mean_min"):
        assert back.kpis[name] == rep.kpis[name]
        assert name in loaded.summary["kpis"]
    assert "kpis" not in back.extra


def test_the_agents_time_counts_every_call_into_the_enterprises_the_drivers_and_the_police(
        monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [0.0]
    inside = [0.0]  # seconds the fake clock moved while an agent's own call ran
    monkeypatch.setattr("twin.agents_people.perf_counter", lambda: clock[0])

    def ticking(cls: type, name: str) -> None:
        call = getattr(cls, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            clock[0] += 1.0  # one "second" in each call the twin makes into an agent model
            inside[0] += 1.0
            return call(*args, **kwargs)

        monkeypatch.setattr(cls, name, timed)

    for name in ("sender", "plan_trip", "compliance_scores", "amendment_delay_s", "online_payment_delay_s",
                 "loading_registration_delay_s", "on_returned", "observe"):
        ticking(EnterprisePopulation, name)
    for name in ("draw_habits", "enter", "at_checkpoint", "advance", "place", "leave", "queue_for_forecourt",
                 "observe"):
        ticking(Corridor, name)
    for name in ("direct", "patrol", "release_to_forecourt"):
        ticking(TrafficPolice, name)
    ticking(Driver, "remove")
    # Medical officers on duty through the night, so that trucks are called forward in three hours.
    result, world = run_replication(_channelling(True, hours=3.0, agencies__medical__shifts=[["00:00", "24:00"]]),
                                    0, SEED)
    assert result.extra["agents"]["passages"] > 0 and result.kpis["fee_revenue_vnd"] > 0
    assert _people(world).agent_seconds == inside[0]
