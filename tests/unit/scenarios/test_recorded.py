"""Recorded arrivals: a logged day of trucks read from CSV into the scenario, and every problem named."""

from __future__ import annotations

from pathlib import Path

import pytest

from gate.enums import CrossingMode, Direction, GoodsCategory, VehicleClass
from scenarios import ScenarioError, canonical_json, load_scenario, scenario_hash, scenario_yaml, with_overrides, with_settings
from scenarios.recorded import read_recorded_csv

EXAMPLE = Path(__file__).resolve().parents[3] / "scenarios" / "examples" / "huu_nghi_recorded_day.csv"

_SCENARIO = """\
name: recorded
description: a recorded day
site: Huu Nghi
layout:
  entry_lanes: 2
  exit_lanes: 2
  agv_lane: {{n_agvs: 2, lane_km: 0.8, speed_kmh: 10}}
demand:
  recorded:
    file: {file}
{extra}  direction_mix: {{export: 0.3, import: 0.7}}
  vehicle_class_mix: {{container: 0.5, truck: 0.5}}
  cargo_mix: {{general: 1.0}}
"""


def _scenario_with(tmp_path: Path, csv_text: str, extra: str = "", file: str = "day.csv") -> Path:
    (tmp_path / "day.csv").write_text(csv_text, encoding="utf-8")
    path = tmp_path / "s.yaml"
    path.write_text(_SCENARIO.format(file=file, extra=extra), encoding="utf-8")
    return path


def _errors(path: Path) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    return [str(issue) for issue in caught.value.errors]


def test_a_recorded_day_reads_into_the_scenario_with_what_each_row_says(tmp_path: Path) -> None:
    path = _scenario_with(tmp_path, "arrival,direction,vehicle_class,cargo,containers,crossing_mode\n"
                                    "06:05,export,container,plants_fruit,1,\n"
                                    "\n"  # a blank line is skipped
                                    "06:07,import,,,,\n"
                                    "06:30:15,,truck,ore,,\n"
                                    "07:10,export,container,general,2,agv_lane\n")
    scenario = load_scenario(path)
    recorded = scenario.demand.recorded
    assert recorded is not None and recorded.source == "day.csv"
    hours = [truck.arrival_h for truck in recorded.trucks]
    assert hours == pytest.approx([6 + 5 / 60, 6 + 7 / 60, 6.5 + 15 / 3600, 7 + 10 / 60])
    first, second, third, fourth = recorded.trucks
    assert (first.direction, first.vehicle_class, first.cargo, first.containers) == (
        Direction.EXPORT, VehicleClass.CONTAINER, GoodsCategory.PLANTS_FRUIT, 1)
    assert (second.direction, second.vehicle_class, second.cargo, second.containers) == (Direction.IMPORT, None, None, None)
    assert third.direction is None and third.cargo is GoodsCategory.ORE
    assert fourth.crossing_mode is CrossingMode.AGV_LANE and fourth.containers == 2
    assert scenario.demand.trucks_per_day == 4  # the record's own: 4 trucks over 1 day


def test_days_come_from_a_day_column_or_from_dates(tmp_path: Path) -> None:
    by_column = load_scenario(_scenario_with(tmp_path, "arrival,day\n23:00,0\n01:30,1\n12:00,2\n"))
    assert [t.arrival_h for t in by_column.demand.recorded.trucks] == [23.0, 25.5, 60.0]  # type: ignore[union-attr]
    assert by_column.demand.trucks_per_day == 1.0  # 3 trucks over 3 days
    dated = load_scenario(_scenario_with(tmp_path, "arrival\n2025-07-15T08:00\n2025-07-14 22:15:30\n"))
    assert [t.arrival_h for t in dated.demand.recorded.trucks] == pytest.approx([32.0, 22.2583333])  # type: ignore[union-attr]


def test_a_byte_order_mark_from_a_spreadsheet_does_not_hide_the_header(tmp_path: Path) -> None:
    (tmp_path / "day.csv").write_bytes("\ufeffarrival,direction\n06:00,export\n".encode("utf-8"))
    path = tmp_path / "s.yaml"
    path.write_text(_SCENARIO.format(file="day.csv", extra=""), encoding="utf-8")
    assert load_scenario(path).demand.recorded.trucks[0].direction is Direction.EXPORT  # type: ignore[union-attr]


@pytest.mark.parametrize(("csv_text", "expected"), [
    ("", "day.csv: empty; expected a header row naming its columns, arrival first"),
    ("arrival\n", "day.csv: no truck; expected a row per truck after the header"),
    ("time,direction\n06:00,export\n", "day.csv, line 1: unknown column(s) 'time'"),
    ("direction\nexport\n", "day.csv, line 1: no 'arrival' column"),
    ("arrival,arrival\n06:00,07:00\n", "day.csv, line 1: column(s) 'arrival' given twice"),
    ("arrival\n25:00\n", "day.csv, line 2, arrival: must be a time 'HH:MM' or 'HH:MM:SS', or a date and time "
                         "'YYYY-MM-DD HH:MM[:SS]' (got '25:00')"),
    ("arrival\n2025-02-30 06:00\n", "day.csv, line 2, arrival: not a date (day is out of range for month)"),
    ("arrival,day\n06:00,-1\n", "day.csv, line 2, day: must be a whole number of days from 0 (got '-1')"),
    ("arrival,day\n2025-01-01 06:00,1\n", "day.csv, line 2, day: a date and time says the day already"),
    ("arrival\n06:00\n2025-01-01 07:00\n", "day.csv: arrivals mix clock times and dates"),
    ("arrival,direction\n06:00\n", "day.csv, line 2, row: has 1 cells for 2 columns"),
    ("arrival,direction\n06:00,north\n", "day.csv, line 2, direction: unknown value: must be one of 'export'"),
    ("arrival,containers\n06:00,3\n", "day.csv, line 2, containers: must be <= 2 (got 3)"),
    ("arrival,containers\n06:00,\u00b2\n", "day.csv, line 2, containers: "),
    ("arrival,day\n06:00,\u00b2\n", "day.csv, line 2, day: must be a whole number of days from 0"),
    ("arrival,vehicle_class,containers\n06:00,truck,1\n",
     "day.csv, line 2, containers: only a container vehicle carries containers (vehicle_class is truck)"),
    ("arrival,crossing_mode\n06:00,agv_lane\n",
     "day.csv, line 2, crossing_mode: the AGV lane takes containers going out: give vehicle_class container and "
     "direction export with it"),
])
def test_each_problem_of_a_recorded_file_names_the_file_the_line_and_the_column(
        tmp_path: Path, csv_text: str, expected: str) -> None:
    errors = _errors(_scenario_with(tmp_path, csv_text))
    assert any(line.startswith(f"demand.recorded.file: {expected}") for line in errors), errors


def test_every_bad_row_is_reported_at_once_in_file_order(tmp_path: Path) -> None:
    errors = _errors(_scenario_with(tmp_path, "arrival,direction,vehicle_class\n25:00,export,truck\n"
                                              "06:00,north,bus\n07:00,export,truck\n08:00,west,truck\n"))
    assert [e.split(",")[1].strip() for e in errors] == ["line 2", "line 3", "line 3", "line 5"]


def test_a_missing_or_unreadable_file_is_named(tmp_path: Path) -> None:
    errors = _errors(_scenario_with(tmp_path, "arrival\n06:00\n", file="nowhere.csv"))
    assert errors == [f"demand.recorded.file: cannot read {tmp_path / 'nowhere.csv'}: No such file or directory"]
    (tmp_path / "latin.csv").write_bytes(b"arrival,cargo\n06:00,caf\xe9\n")
    errors = _errors(_scenario_with(tmp_path, "arrival\n06:00\n", file="latin.csv"))
    assert errors == ["demand.recorded.file: latin.csv: not UTF-8 text (invalid continuation byte at byte 23)"]


def test_trucks_given_both_inline_and_in_a_file_are_refused(tmp_path: Path) -> None:
    path = _scenario_with(tmp_path, "arrival\n06:00\n", extra="")
    path.write_text(path.read_text(encoding="utf-8").replace("    file: day.csv\n",
                                                             "    file: day.csv\n    trucks: [{arrival_h: 6}]\n"))
    assert _errors(path) == ["demand.recorded: give the trucks inline (trucks) or in a file (file), not both"]


def test_the_gate_must_be_able_to_take_the_recorded_trucks(tmp_path: Path) -> None:
    path = _scenario_with(tmp_path, "arrival,direction,vehicle_class,crossing_mode\n06:00,export,small,\n"
                                    "07:00,export,container,agv_lane\n",
                          extra="  queue_spacing_m: 20\n")
    text = path.read_text(encoding="utf-8").replace("  agv_lane: {n_agvs: 2, lane_km: 0.8, speed_kmh: 10}\n", "")
    path.write_text(text + "demand_windows: [{start_day: 0, days: 1, multiplier: 2}]\nrun: {horizon_h: 5}\n")
    errors = _errors(path)
    assert ("demand.recorded.trucks.1.crossing_mode: the record's truck 2 (row 2 after the header of day.csv) crosses "
            "by the AGV lane but the layout has no agv_lane (got 'agv_lane')") in errors
    assert any(e.startswith("demand_windows: shape generated demand") for e in errors), errors
    assert ("demand.recorded.trucks: no recorded truck (day.csv) arrives within the run: the first at hour 6, "
            "the run ends at 5 (run.horizon_h)") in errors


def test_a_record_repeated_daily_must_fit_in_one_day(tmp_path: Path) -> None:
    path = _scenario_with(tmp_path, "arrival,day\n06:00,0\n07:00,1\n", extra="")
    path.write_text(path.read_text(encoding="utf-8").replace("    file: day.csv\n",
                                                             "    file: day.csv\n    repeat_daily: true\n"))
    assert _errors(path) == ["demand.recorded.trucks.1.arrival_h: repeat_daily repeats day 0, and this truck "
                             "arrives after it (got 31.0)"]


def test_the_record_sets_trucks_per_day_whatever_the_file_says(tmp_path: Path) -> None:
    path = _scenario_with(tmp_path, "arrival,day\n06:00,0\n07:00,0\n08:00,1\n", extra="  trucks_per_day: 870\n")
    assert load_scenario(path).demand.trucks_per_day == 1.5  # 3 trucks over 2 days


def test_a_recorded_scenario_is_hashed_and_written_with_its_trucks(tmp_path: Path) -> None:
    path = _scenario_with(tmp_path, "arrival,direction\n06:00,export\n07:00,import\n")
    scenario = load_scenario(path)
    written = tmp_path / "elsewhere" / "scenario.yaml"
    written.parent.mkdir()
    written.write_text(scenario_yaml(scenario), encoding="utf-8")
    again = load_scenario(written)  # no file beside it: the trucks are in the scenario
    assert again == scenario and scenario_hash(again) == scenario_hash(scenario)
    (tmp_path / "day.csv").write_text("arrival,direction\n06:00,export\n07:01,import\n", encoding="utf-8")
    assert scenario_hash(load_scenario(path)) != scenario_hash(scenario)  # another record, another scenario


def test_any_scenario_takes_a_record_as_a_change(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(EXAMPLE.parent)
    base = with_overrides(load_scenario("huu_nghi_2025"), horizon_h=24)
    changed = with_settings(base, [f"demand.recorded={{file: {EXAMPLE.name}}}"])
    recorded = changed.demand.recorded
    assert recorded is not None and len(recorded.trucks) == 858 and changed.demand.trucks_per_day == 858
    assert changed.name.startswith("huu_nghi_2025-recorded-")


def test_the_example_record_reads_as_the_platform_export_it_stands_for() -> None:
    trucks, issues = read_recorded_csv(EXAMPLE.read_text(encoding="utf-8"), EXAMPLE.name)
    assert issues == [] and len(trucks) == 858
    hours = [truck["arrival_h"] for truck in trucks]
    assert hours == sorted(hours) and 0 <= hours[0] and hours[-1] < 24


def test_a_scenario_without_a_record_is_hashed_as_before_scenarios_could_hold_one() -> None:
    plain = load_scenario("huu_nghi_2025")
    assert '"recorded"' not in canonical_json(plain)  # the hash results written earlier name
    recorded = with_overrides(plain, **{"demand.recorded": {"trucks": [{"arrival_h": 6.0}]}})
    assert '"recorded"' in canonical_json(recorded) and scenario_hash(recorded) != scenario_hash(plain)
