"""Service targets: reading them, judging a cell's interval against one, and the smallest cells."""

from __future__ import annotations

import math

import pytest

from twin.targets import Target, Verdict, meets_all, parse_target, smallest

KNOWN = ("time_at_gate_p95", "throughput_per_day", "entry_lane_utilisation")


def parse(text: str) -> Target:
    return parse_target(text, KNOWN.__contains__, f"one of {', '.join(KNOWN)}")


def test_a_target_reads_as_a_kpi_a_bound_and_a_number() -> None:
    assert parse("time_at_gate_p95<=120") == Target("time_at_gate_p95", "<=", 120.0)
    assert parse(" throughput_per_day >= 2,400 ") == Target("throughput_per_day", ">=", 2400.0)
    assert parse("entry_lane_utilisation=<0.85") == Target("entry_lane_utilisation", "<=", 0.85)
    assert str(parse("throughput_per_day=>2400")) == "throughput_per_day >= 2400"


@pytest.mark.parametrize(("text", "message"), [
    ("time_at_gate_p95", "expected KPI<=NUMBER or KPI>=NUMBER, e.g. time_at_gate_p95<=120"),
    ("time_at_gate_p95<120", "a target is a bound, <= (a KPI is measured, not matched exactly)"),
    ("time_at_gate_p95=120", "a target is a bound, <= or >="),
    ("queue<=3", "no such KPI 'queue' (one of time_at_gate_p95, throughput_per_day, entry_lane_utilisation)"),
    ("time_at_gate_p95<=1.2.3", "'1.2.3' is not a number"),
    ("time_at_gate_p95<=1e999", "the bound must be a finite number"),
    ("entry_lane_utilisation<=85", "is a share, from 0 to 1 (e.g. 0.85 for 85 %)"),
])
def test_a_malformed_target_is_refused_naming_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ValueError, match="^--meet ") as caught:
        parse(text)
    assert message in str(caught.value)


@pytest.mark.parametrize(("target", "mean", "low", "high", "n", "verdict"), [
    (Target("time_at_gate_p95", "<=", 120), 100, 90, 110, 5, Verdict.MEETS),
    (Target("time_at_gate_p95", "<=", 120), 100, 70, 130, 5, Verdict.MAY_MEET),  # the interval reaches past it
    (Target("time_at_gate_p95", "<=", 120), 125, 119, 131, 5, Verdict.FAILS),
    (Target("time_at_gate_p95", "<=", 120), 100, math.nan, math.nan, 1, Verdict.MAY_MEET),  # no interval
    (Target("time_at_gate_p95", "<=", 120), math.nan, math.nan, math.nan, 5, Verdict.NOT_MEASURED),
    (Target("throughput_per_day", ">=", 2400), 2450, 2410, 2490, 3, Verdict.MEETS),
    (Target("throughput_per_day", ">=", 2400), 2450, 2390, 2510, 3, Verdict.MAY_MEET),
    (Target("throughput_per_day", ">=", 2400), 2390, 2300, 2480, 3, Verdict.FAILS),
    (Target("throughput_per_day", ">=", 2400), 2400, 2400, 2400, 3, Verdict.MEETS),  # the bound itself holds
])
def test_a_cell_meets_a_target_when_its_whole_interval_does(target: Target, mean: float, low: float, high: float,
                                                           n: int, verdict: Verdict) -> None:
    assert target.judge(mean, low, high, n) is verdict


def test_a_cell_meets_every_target_only_when_it_meets_each() -> None:
    assert meets_all([Verdict.MEETS, Verdict.MEETS]) is Verdict.MEETS
    assert meets_all([Verdict.MEETS, Verdict.MAY_MEET]) is Verdict.MAY_MEET
    assert meets_all([Verdict.MAY_MEET, Verdict.FAILS]) is Verdict.FAILS
    assert meets_all([Verdict.MEETS, Verdict.NOT_MEASURED]) is Verdict.FAILS


def test_the_smallest_cells_are_those_no_other_chosen_cell_undercuts() -> None:
    # lanes 2, 3, 4 (slowest) x scanners 1, 2
    positions = [(lane, scanner) for lane in range(3) for scanner in range(2)]
    chosen = [False, False, False, True, True, True]  # 3 lanes with 2 scanners, 4 lanes with either
    assert smallest(positions, chosen) == [3, 4]  # (3 lanes, 2 scanners) and (4 lanes, 1 scanner) trade off
    assert smallest(positions, [False, True, False, True, False, True]) == [1]
    assert smallest(positions, [False] * 6) == []
    assert smallest([(0,), (1,), (2,)], [False, True, True]) == [1]
