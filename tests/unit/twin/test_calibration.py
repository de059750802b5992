"""Calibration validation: the library scenarios against the public figures they cite.

The runs here are test-sized: one replication of each scenario, for the horizon its checks
need (a day after a day's warm-up for the figures per day). The Tet fortnight is the one
reduced further: its checks are counted in days (days closed, days of demand in the surge), so
it runs with a tenth of the demand, which keeps the figures and cuts the run to seconds.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from twin import calibration as cal
from twin.calibration import CHECKS, RUNS, CalibrationReport, Estimate, Rule, RunSpec, judge, run_calibration, wilson_interval
from twin.cli import app

runner = CliRunner()
CHECK = {check.name: check for check in CHECKS}

#: The test-sized runs: the library scenarios, one replication; Tet with a tenth of its demand.
TEST_RUNS: dict[str, RunSpec] = {**RUNS, "tet_reopening": replace(RUNS["tet_reopening"],
                                                                  settings=("demand.trucks_per_day=87",))}

@pytest.fixture(scope="module")
def library_report() -> CalibrationReport:
    return run_calibration(CHECKS, TEST_RUNS, replications=1, jobs=2)


@pytest.mark.parametrize("name", [c.name for c in CHECKS])
def test_each_check_agrees_with_its_public_figure_on_the_library_scenario(library_report: CalibrationReport,
                                                                          name: str) -> None:
    result = next(r for r in library_report.results if r.check.name == name)
    assert result.error is None
    assert not math.isnan(result.estimate.value)
    assert result.agrees, f"{name}: measured {cal.format_measured(result)}, public {result.check.public}"


def test_every_check_cites_domain_md_and_says_whether_its_figure_is_an_input_or_an_outcome() -> None:
    assert len({c.name for c in CHECKS}) == len(CHECKS)
    for check in CHECKS:
        assert check.source.startswith("DOMAIN.md"), check.name
        assert check.run in RUNS, check.name
        assert check.low <= check.high, check.name
        assert check.justification and check.measures, check.name
        if check.rule is Rule.CONTAINS:
            assert check.low == check.high, f"{check.name}: 'contains' judges a single figure"


def test_the_rules_judge_an_interval_against_a_range_as_documented() -> None:
    interval = Estimate(10.0, 8.0, 12.0, "t")
    assert judge(Rule.OVERLAP, interval, 11.5, 20.0) and not judge(Rule.OVERLAP, interval, 12.5, 20.0)
    assert judge(Rule.CONTAINS, interval, 8.0, 8.0) and not judge(Rule.CONTAINS, interval, 12.1, 12.1)
    assert judge(Rule.WITHIN, interval, 0.0, 15.0) and not judge(Rule.WITHIN, interval, 0.0, 11.0)
    no_interval = Estimate(10.0, math.nan, math.nan, "one replication")
    assert judge(Rule.WITHIN, no_interval, 0.0, 10.0) and not judge(Rule.CONTAINS, no_interval, 9.0, 9.0)
    assert not judge(Rule.OVERLAP, Estimate(math.nan, math.nan, math.nan, "failed"), 0.0, 1.0)


def test_a_time_s_interval_stops_at_zero_so_a_quick_barrier_is_judged_within_its_bound() -> None:
    # 2, 2, 14 s: the t interval 6 ± 17.2 would reach -11 s, which no barrier takes.
    estimate = cal.over_replications([2.0, 2.0, 14.0])
    assert (estimate.value, estimate.low) == (6.0, 0.0)
    assert estimate.high == pytest.approx(6.0 + cal.mean_ci([2.0, 2.0, 14.0])[1])
    # 1, 1, 5 s: 2.3 ± 5.7 s is under 15 s once it no longer claims times below 0.
    assert judge(Rule.WITHIN, cal.over_replications([1.0, 1.0, 5.0]), 0.0, 15.0)
    # Days of demand in a surge may be fewer than none: that interval is not cut.
    assert cal.over_replications([-0.5, 0.5], limits=cal.UNBOUNDED).low < 0


def test_the_wilson_interval_of_a_share_holds_the_share_and_narrows_with_more_trials() -> None:
    low, high = wilson_interval(45, 100)
    assert low < 0.45 < high
    wide, narrow = high - low, (lambda b: b[1] - b[0])(wilson_interval(450, 1000))
    assert narrow < wide / 3
    assert wilson_interval(0, 50)[0] == 0.0 and wilson_interval(50, 50)[1] == 1.0


def _one(check: str, spec: RunSpec) -> cal.CheckResult:
    return run_calibration([CHECK[check]], {CHECK[check].run: spec}, replications=1).results[0]


def test_the_read_rate_check_disagrees_when_the_cameras_read_half_the_plates() -> None:
    spec = RunSpec("huu_nghi_2025", horizon_h=8, settings=(
        "devices.plate_camera.p_correct=0.5", "devices.plate_camera.p_misread=0.2",
        "devices.plate_camera.p_noread=0.3"))
    result = _one("plate_reads", spec)
    assert not result.agrees
    assert result.estimate.high < 60.0  # the officers type a plate for about every other read


def test_the_huu_nghi_check_disagrees_when_the_demand_is_doubled() -> None:
    result = _one("huu_nghi_arrivals", RunSpec("huu_nghi_2025", horizon_h=24, settings=("demand.trucks_per_day=1740",)))
    assert not result.agrees
    assert result.estimate.low > 1500


def test_the_border_check_disagrees_at_a_gate_where_an_officer_checks_every_truck() -> None:
    spec = RunSpec("huu_nghi_smart_gate", horizon_h=6, settings=("core.automated_border_check=false",
                                                                   "agencies.border_guard.service_s=60"))
    result = _one("automated_border_check", spec)
    assert not result.agrees
    assert result.estimate.low > 15


def test_the_fee_check_disagrees_when_a_container_costs_more_than_the_schedule_allows() -> None:
    spec = RunSpec("huu_nghi_2025", horizon_h=4, settings=(
        "core.fees.per_container_vnd={20: 1000000, 40: 5000000, 45: 5500000}",))
    result = _one("fees_per_trip", spec)
    assert not result.agrees
    assert result.estimate.high == 5_000_000


def test_a_check_whose_run_fails_disagrees_and_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    def failing(scenario: object, replication: int, seed: int) -> None:
        raise RuntimeError("the scanner emulator crashed")

    monkeypatch.setattr(cal, "_replication", failing)
    result = _one("scanner_rate", RunSpec("huu_nghi_2025", horizon_h=1))
    assert not result.agrees
    assert result.error is not None and "the scanner emulator crashed" in result.error


# --- the command line ---------------------------------------------------------------------------------

QUICK_RUNS = {"huu_nghi_2025": RunSpec("huu_nghi_2025", horizon_h=4)}
QUICK_CHECKS = (CHECK["huu_nghi_export_share"], CHECK["fees_per_trip"])


@pytest.fixture()
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    """The command on two checks of a four-hour run, so it takes seconds."""
    monkeypatch.setattr(cal, "RUNS", QUICK_RUNS)
    monkeypatch.setattr(cal, "CHECKS", QUICK_CHECKS)


def test_the_command_writes_the_table_files_and_exits_0_when_every_check_agrees(quick: None, tmp_path: Path) -> None:
    result = runner.invoke(app, ["calibration", "--reps", "2", "--jobs", "1", "--out", str(tmp_path), "--quiet"])
    assert result.exit_code == 0, result.output
    assert "huu_nghi_export_share" in result.output and "agrees" in result.output
    document = json.loads((tmp_path / cal.CALIBRATION_JSON).read_text(encoding="utf-8"))
    assert [c["check"] for c in document["checks"]] == ["huu_nghi_export_share", "fees_per_trip"]
    assert document["disagree"] == 0 and document["replications"] == 2
    assert len(document["checks"][0]["per_replication"]) == 2
    lines = (tmp_path / cal.CALIBRATION_CSV).read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("check,figure,source,scenario,kind") and len(lines) == 3
    report = (tmp_path / cal.CALIBRATION_REPORT).read_text(encoding="utf-8")
    assert "All 2 checks agree. 2 replication(s) per scenario, each scenario's own seed, 95 % intervals." in report
    for check in document["checks"]:  # the table's figures are those of calibration.json
        row = next(line for line in report.splitlines() if line.startswith(f"| {check['check']} |"))
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        assert cells[6:8] == [check["rule"], "agrees"]
        if check["unit"] == "VND":  # a fee is shown as the range of fees charged
            assert cells[4] == f"{check['ci_low']:,.0f}–{check['ci_high']:,.0f}"
        else:
            assert cells[4] == f"{check['measured']:.3g} [{check['ci_low']:.3g}, {check['ci_high']:.3g}]"
        assert f"- `{check['check']}` ({check['measures']}): {check['justification']}" in report
    assert f"| huu_nghi_2025 | huu_nghi_2025 | `{document['runs']['huu_nghi_2025']['scenario_hash']}` |" in report


def test_the_command_exits_1_and_names_the_check_that_disagrees(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(cal, "RUNS", {"huu_nghi_2025": RunSpec("huu_nghi_2025", horizon_h=4, settings=(
        "core.fees.per_trip_vnd={small: 100000, truck: 5000000, container: 1000000}",))})
    monkeypatch.setattr(cal, "CHECKS", QUICK_CHECKS)
    result = runner.invoke(app, ["calibration", "--reps", "1", "--out", str(tmp_path), "--quiet"])
    assert result.exit_code == 1, result.output
    assert "1 of 2 checks disagree: fees_per_trip" in result.output
    assert (tmp_path / cal.CALIBRATION_CSV).is_file()
    report = (tmp_path / cal.CALIBRATION_REPORT).read_text(encoding="utf-8")
    assert report.splitlines()[2].startswith("1 of 2 checks disagree: fees_per_trip.")
    assert "| fees_per_trip |" in report and "| disagrees |" in report


def test_the_command_refuses_an_unknown_check_with_exit_code_2(quick: None, tmp_path: Path) -> None:
    result = runner.invoke(app, ["calibration", "--check", "no_such_check", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "no check named no_such_check" in result.output


def test_the_same_seed_writes_the_same_files_whatever_the_jobs(quick: None, tmp_path: Path) -> None:
    for folder, jobs in (("a", "1"), ("b", "2")):
        result = runner.invoke(app, ["calibration", "--reps", "2", "--seed", "7", "--jobs", jobs,
                                     "--out", str(tmp_path / folder), "--quiet"])
        assert result.exit_code == 0, result.output
    for name in (cal.CALIBRATION_CSV, cal.CALIBRATION_JSON, cal.CALIBRATION_REPORT):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    other = runner.invoke(app, ["calibration", "--reps", "2", "--seed", "8", "--jobs", "1",
                                "--out", str(tmp_path / "c"), "--quiet"])
    assert other.exit_code == 0
    assert (tmp_path / "c" / cal.CALIBRATION_JSON).read_bytes() != (tmp_path / "a" / cal.CALIBRATION_JSON).read_bytes()
