"""Recovery from a disruption: the trucks behind the same gate without it, and when it caught up."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from scenarios import load_scenario, with_overrides
from twin.cli import app
from twin.recovery import (
    HOUR,
    GateWaits,
    RECOVERY_CSV,
    RECOVERY_PLOT,
    behind_curve,
    disruptions,
    gate_waits,
    recovery_figure,
    recovery_of,
    recovery_report,
    undisrupted,
    waits_normal_from,
)
from twin.run import RunOptions, run_scenario

runner = CliRunner()


def _hours(*values: float) -> np.ndarray:
    return np.array(values, dtype=float) * HOUR


# --- the curve and what it says, on departures chosen by hand -------------------------------


def test_trucks_behind_is_the_undisrupted_departures_less_the_disrupted_ones() -> None:
    baseline = _hours(1, 2, 3, 4)
    disrupted = _hours(1, 5, 5.5, 6)
    times, behind = behind_curve(disrupted, baseline)
    assert list(times / HOUR) == [0, 1, 2, 3, 4, 5, 5.5, 6]
    assert list(behind) == [0, 0, 1, 2, 3, 2, 1, 0]


def test_a_backlog_left_by_a_disruption_and_worked_off() -> None:
    # Disruption from hour 1.5 to 3.5: three trucks the undisrupted gate cleared at 2, 3 and 4
    # leave at 5, 5.5 and 6 instead.
    recovery = recovery_of(_hours(1, 5, 5.5, 6), _hours(1, 2, 3, 4), 1.5 * HOUR, 3.5 * HOUR, 10 * HOUR)
    assert recovery.behind_at_end == 2  # cleared by 3.5: 1, 2, 3 against 1
    assert (recovery.behind_max, recovery.behind_max_h) == (3, 4.0)
    assert recovery.caught_up_h == pytest.approx(6 - 3.5)
    # Each late truck is the area under the curve: 3 + 2.5 + 2 truck-hours.
    assert recovery.truck_hours_lost == pytest.approx(7.5)
    assert recovery.behind_at_horizon == 0
    assert recovery.catch_up_per_day == pytest.approx(3 / (2 / 24))  # 3 trucks in the 2 h from the peak


def test_a_gate_that_has_not_caught_up_by_the_end_says_so_and_how_fast_it_is_catching_up() -> None:
    baseline = _hours(1, 2, 3, 4, 5, 6)
    disrupted = _hours(1, 7, 8)  # 5 behind at hour 6, then 4 at 7, 3 at 8
    recovery = recovery_of(disrupted, baseline, 1.5 * HOUR, 2.5 * HOUR, 8.5 * HOUR)
    assert math.isnan(recovery.caught_up_h)
    assert recovery.behind_at_horizon == 3  # 3 cleared against 6 by the end
    assert (recovery.behind_max, recovery.behind_max_h) == (5, 6.0)
    # Not caught up: the pace since the disruption ended, 1 behind at 2.5 h and 3 at 8.5 h: growing.
    assert recovery.behind_at_end == 1
    assert recovery.catch_up_per_day == pytest.approx((1 - 3) / (6 / 24))


def test_a_disruption_that_left_nothing_behind_is_caught_up_at_once() -> None:
    same = _hours(1, 2, 3)
    recovery = recovery_of(same, same, 1.5 * HOUR, 2.5 * HOUR, 4 * HOUR)
    assert (recovery.behind_at_end, recovery.behind_max, recovery.caught_up_h, recovery.truck_hours_lost) == (0, 0, 0, 0)
    assert math.isnan(recovery.catch_up_per_day)  # nothing to work off


def test_departures_after_the_end_of_the_run_do_not_count() -> None:
    recovery = recovery_of(_hours(1, 20), _hours(1, 2), 1.5 * HOUR, 2.5 * HOUR, 10 * HOUR)
    assert math.isnan(recovery.caught_up_h) and recovery.behind_at_horizon == 1
    assert recovery.truck_hours_lost == pytest.approx(8.0)  # from hour 2 to the end of the run


def test_a_run_that_ends_before_the_disruptions_do_says_nothing_of_the_time_after_them() -> None:
    recovery = recovery_of(_hours(1), _hours(1, 2, 3), 1.5 * HOUR, 10 * HOUR, 4 * HOUR)
    assert (recovery.behind_max, recovery.behind_at_horizon) == (2, 2)
    assert recovery.truck_hours_lost == pytest.approx(1 + 2)  # 1 behind from hour 2, 2 from hour 3, to hour 4
    assert math.isnan(recovery.behind_at_end) and math.isnan(recovery.caught_up_h)
    assert math.isnan(recovery.catch_up_per_day)


def test_a_disruption_that_ends_before_it_starts_is_refused() -> None:
    with pytest.raises(ValueError, match="must start before they end"):
        recovery_of(_hours(1), _hours(1), 3 * HOUR, 2 * HOUR, 4 * HOUR)


# --- the scenario side -----------------------------------------------------------------------


def test_the_disruptions_of_a_scenario_and_the_same_scenario_without_them() -> None:
    outage = load_scenario("scanner_outage")
    (found,) = disruptions(outage)
    assert (found.start_s, found.end_s) == (9 * HOUR, 13 * HOUR) and "scanner-1 down for 4 h" in found.what
    calm = undisrupted(outage)
    assert disruptions(calm) == [] and calm.name == "scanner_outage-undisrupted"
    assert calm.demand == outage.demand and calm.layout == outage.layout and calm.run == outage.run
    tet = load_scenario("tet_reopening")
    (closure,) = disruptions(tet)
    assert (closure.start_s, closure.end_s) == (24 * HOUR, 8 * 24 * HOUR)
    assert undisrupted(tet).closures == ()
    assert disruptions(load_scenario("huu_nghi_2025")) == []


def test_a_report_needs_a_disruption_and_replications_paired_one_to_one() -> None:
    empty = pd.DataFrame({"departed": [1.0]})
    with pytest.raises(ValueError, match="no device outage, closure or AGV partner closure"):
        recovery_report(load_scenario("huu_nghi_2025"), [empty], [empty], [(1, 0)])
    with pytest.raises(ValueError, match="pair one to one"):
        recovery_report(load_scenario("scanner_outage"), [empty, empty], [empty], [(1, 0), (1, 1)])


def test_a_scanner_outage_leaves_trucks_behind_that_the_gate_then_works_off() -> None:
    outage = with_overrides(load_scenario("scanner_outage"), horizon_h=22.0, replications=2)
    disrupted = run_scenario(outage, RunOptions(jobs=1))
    calm = run_scenario(undisrupted(outage), RunOptions(jobs=1))
    report = recovery_report(outage, [r.trucks for r in disrupted.replications],
                             [r.trucks for r in calm.replications], [(870, 0), (870, 1)])
    for (times, behind), recovery in zip(report.curves, report.recoveries, strict=True):
        # Common random numbers: until the scanner fails, the two gates are the same gate.
        assert not behind[times < 9 * HOUR].any()
        assert recovery.behind_at_end >= 10 and recovery.behind_max >= recovery.behind_at_end
        assert 9 <= recovery.behind_max_h <= 22
        assert recovery.truck_hours_lost > 0
    assert report.caught_up >= 1
    table = report.table()
    assert list(table["replication"]) == [0, 1] and (table["seed"] == 870).all()
    # Trucks arriving once the scanner is back are scanned again: their waits are soon normal.
    assert report.waits_normal >= 1 and all(0 <= r.waits_normal_h <= 9 for r in report.recoveries
                                            if not math.isnan(r.waits_normal_h))
    # The trucks arriving during the outage waited longer than without it.
    (dis, base), _ = report.waits
    during = (dis.starts_s >= 9 * HOUR) & (dis.starts_s < 13 * HOUR)
    assert dis.mean_min[during].mean() > base.mean_min[during].mean()
    figure = recovery_figure(report)
    assert len(figure.axes) == 2 and figure.axes[1].get_legend() is not None


def test_the_partner_side_not_accepting_agvs_is_a_disruption_once_the_stack_is_full() -> None:
    closure = load_scenario("agv_partner_closure")
    (found,) = disruptions(closure)
    assert (found.start_s, found.end_s) == (8 * HOUR, 20 * HOUR) and "not accepting AGVs for 12 h" in found.what
    calm = undisrupted(closure)
    assert calm.layout.agv_lane is not None and calm.layout.agv_lane.partner_closures == ()
    assert calm.layout.agv_lane.stack_slots == closure.layout.agv_lane.stack_slots  # type: ignore[union-attr]
    short = with_overrides(closure, horizon_h=24.0, replications=1)
    disrupted = run_scenario(short, RunOptions(jobs=1))
    baseline = run_scenario(undisrupted(short), RunOptions(jobs=1))
    report = recovery_report(short, [r.trucks for r in disrupted.replications],
                             [r.trucks for r in baseline.replications], [(870, 0)])
    ((times, behind),), (recovery,) = report.curves, report.recoveries
    assert not behind[times < 8 * HOUR].any()  # the same gate until the partner side closes
    # The AGVs wait at the line and the stack's 24 places fill: then AGV trucks wait in the yard.
    assert recovery.behind_max >= 5 and 8 <= recovery.behind_max_h <= 24
    assert recovery.behind_at_horizon == 0 and report.caught_up == 1  # worked off once it accepts again


# --- the time at the gate back to normal -----------------------------------------------------


def _trucks(rows: list[tuple[float, float, str]]) -> pd.DataFrame:
    """A truck table of (arrival h, minutes at the gate so far, outcome)."""
    return pd.DataFrame({"arrival": [a * HOUR for a, _, _ in rows],
                         "time_at_gate_so_far": [m * 60.0 for _, m, _ in rows],
                         "outcome": [o for _, _, o in rows]})


def test_gate_waits_are_the_mean_time_at_the_gate_of_the_trucks_arriving_in_each_window() -> None:
    trucks = _trucks([(0.5, 99.0, "departed"),  # before the windows
                      (10.5, 20.0, "departed"), (11.0, 40.0, "departed"),  # window 10-12 h
                      (12.2, 30.0, "departed"), (13.9, math.nan, "inside"),  # never reached the gate: not counted
                      (14.1, 50.0, "inside"), (15.0, 10.0, "departed"),  # half still inside: not known
                      (17.5, 5.0, "refused")])  # the last window, cut short by the end at 17.5 h... not counted
    waits = gate_waits(trucks, 10 * HOUR, 17.5 * HOUR)
    assert list(waits.starts_s / HOUR) == [10.0, 12.0, 14.0, 16.0]
    assert list(waits.trucks) == [2, 1, 2, 0]
    assert waits.mean_min[:3].tolist() == [30.0, 30.0, 30.0] and math.isnan(waits.mean_min[3])
    assert waits.known.tolist() == [True, True, False, False]
    with pytest.raises(ValueError, match="longer than 0 h"):
        gate_waits(trucks, 0.0, HOUR, window_h=0.0)


def _waits(means: list[float], known: list[bool], trucks: list[int] | None = None) -> GateWaits:
    n = len(means)
    return GateWaits(np.arange(n) * 2 * HOUR, np.array(means, dtype=float), np.array(known),
                     np.array(trucks if trucks is not None else [10] * n))


def test_waits_are_normal_again_from_the_first_window_after_the_last_one_that_was_not() -> None:
    base = _waits([30, 30, 30, 30, 30, 30], [True] * 5 + [False])
    # 36 min is within 20 % of 30; 39 within 10 min; 41 is neither. The last window is cut short
    # by the end of the run at both gates: it says nothing.
    waits = _waits([90, 36, 41, 39, 30, 500], [True] * 5 + [False])
    assert waits_normal_from(waits, base) == 3 * 2 * HOUR
    assert waits_normal_from(base, base) == 0.0
    # Trucks still inside at the end where, without the disruptions, they would have left: not normal.
    stuck = _waits([90, 30, 30, 30, 30, 30], [True, True, True, True, False, False])
    assert math.isnan(waits_normal_from(stuck, base))
    # Never within the margin after the last bad window: not back to normal by the end.
    assert math.isnan(waits_normal_from(_waits([90, 90, 90, 90, 90, 30], [True] * 6), base))
    # A window no truck came in says nothing either way.
    gap = _waits([90, math.nan, 30, 30, 30, 30], [True, False, True, True, True, False], [10, 0, 10, 10, 10, 10])
    assert waits_normal_from(gap, base) == 2 * 2 * HOUR
    with pytest.raises(ValueError, match="windows differ"):
        waits_normal_from(_waits([30], [True]), base)


# --- the command -----------------------------------------------------------------------------


def test_recovery_writes_its_table_plot_and_both_runs(tmp_path: Path) -> None:
    out = tmp_path / "recovery"
    result = runner.invoke(app, ["recovery", "scanner_outage", "--reps", "2", "--hours", "16", "--out", str(out),
                                 "--quiet", "--jobs", "1"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    rows = {line.split("│")[1].strip(): line.split("│")[2].strip() for line in result.output.splitlines()
            if line.startswith("│")}
    assert float(rows["trucks behind when the disruptions ended"].replace(",", "")) > 0
    assert rows["caught up, after the end of the disruptions"] == "not caught up"
    assert "truck-hours of departure lost" in text
    assert "disruption: scanner-1 down for 4 h from hour 9" in text
    # Four hours after a four-hour outage at the peak, the backlog is still there.
    assert "not caught up" in text
    assert "None of the 2 replication(s) had caught up by the end of the run (hour 16); give --hours" in text
    assert rows["time at the gate back to normal, after the end of the disruptions"]
    assert "Back to normal: trucks arriving in 2-hour windows from the end of the disruptions" in text
    assert "too few to plan on" in text
    table = pd.read_csv(out / RECOVERY_CSV)
    assert len(table) == 2 and (table["behind_at_end"] > 0).all() and "waits_normal_h" in table.columns
    assert (out / RECOVERY_PLOT).stat().st_size > 10_000
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == ["1-scanner_outage-undisrupted", "2-scanner_outage"]


def test_recovery_refuses_a_scenario_with_nothing_to_recover_from() -> None:
    result = runner.invoke(app, ["recovery", "huu_nghi_2025", "--quiet"])
    assert result.exit_code == 2
    assert ("huu_nghi_2025 has no device outage (devices.outages), closure (closures) or AGV partner closure "
            "(layout.agv_lane.partner_closures) to recover from") in result.output


def test_recovery_refuses_a_change_that_clashes_with_its_options() -> None:
    result = runner.invoke(app, ["recovery", "scanner_outage", "--set", "run.replications=3", "--quiet"])
    assert result.exit_code == 2 and "run.replications" in result.output


def test_recovery_of_a_run_that_ends_during_the_closure_says_so() -> None:
    result = runner.invoke(app, ["recovery", "tet_reopening", "--reps", "1", "--hours", "30", "--quiet", "--jobs", "1"],
                           env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    rows = {line.split("│")[1].strip(): line.split("│")[2].strip() for line in result.output.splitlines()
            if line.startswith("│")}
    assert rows["trucks behind when the disruptions ended"] == "—"
    assert rows["caught up, after the end of the disruptions"] == "—"
    assert float(rows["most trucks behind"].replace(",", "")) > 0  # the closure holds every truck from hour 24
    text = " ".join(result.output.split())
    assert "The run ends (hour 30) before the disruptions do (hour 192): nothing to say of the time after them" in text
    assert "One replication: no 95 % intervals." in text


def test_recovery_whose_runs_break_an_invariant_fails_loudly_and_keeps_what_they_wrote(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import twin.run as run_module

    def lose_a_departure(world):  # type: ignore[no-untyped-def]
        world.core.stats["departed"] += 1  # the core now claims one more departure than the twin saw
        return original(world)

    original = run_module.core_invariants
    monkeypatch.setattr(run_module, "core_invariants", lose_a_departure)
    out = tmp_path / "broken"
    result = runner.invoke(app, ["recovery", "scanner_outage", "--reps", "1", "--hours", "10", "--out", str(out),
                                 "--quiet", "--jobs", "1"])
    assert result.exit_code == 1
    for name in ("scanner_outage-undisrupted", "scanner_outage"):
        assert f"gatetwin: {name}: invariants violated:\nreplication 0: core and twin agree on departures" \
            in result.output, name
    assert f"results (partial) written to {out}" in result.output
    assert not (out / RECOVERY_CSV).exists()  # no recovery is measured on runs that broke the model's books
    assert "invariants violated" in (out / "2-scanner_outage" / "summary.json").read_text()
