"""Recorded arrivals: a day (or days) of trucks as the platform logged them, instead of generated demand.

A scenario's ``demand.recorded`` gives each truck's arrival and, where the record says, its
direction, vehicle class, cargo, containers and crossing mode; what a row leaves out is drawn
from the demand's mixes as for generated trucks. In a scenario file the trucks are given
inline, or read from a CSV file::

    demand:
      recorded:
        file: records/huu_nghi_2025-07-14.csv   # relative to the scenario file
        repeat_daily: false                      # true: every day of the run sees the record again
      direction_mix: ...                         # still used for what the record leaves out

The loader reads the file into the scenario (``trucks``, with the file's name as ``source``),
so the scenario's hash covers the trucks themselves, and a run's ``scenario.yaml`` holds them.

The CSV has a header row. ``arrival`` is required: a clock time ``HH:MM`` or ``HH:MM:SS`` (on
day 0, or on the day of an optional ``day`` column, from 0), or a date and time
``YYYY-MM-DD HH:MM[:SS]`` (the run starts at midnight of the earliest date in the file).
Optional columns: ``direction``, ``vehicle_class``, ``cargo``, ``containers`` (1 or 2, on a
container vehicle), ``crossing_mode``; an empty cell leaves the value to the mixes. Every
problem is reported with the file, the line and the column.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, Field, ValidationError, model_validator

from gate.enums import CrossingMode, Direction, GoodsCategory, VehicleClass
from scenarios.errors import Problems, ScenarioIssue, issues_from_validation, shown
from scenarios.values import FROZEN, NonNegative

HOURS_PER_DAY = 24
#: The columns a recorded-arrivals CSV may have; ``arrival`` is required.
CSV_COLUMNS = ("arrival", "day", "direction", "vehicle_class", "cargo", "containers", "crossing_mode")
#: Largest CSV read (a day at the busiest gate is a few hundred kilobytes).
MAX_CSV_BYTES = 50_000_000
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")
_DATE_TIME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?$")


class RecordedTruck(BaseModel):
    """One truck of a record: when it arrived (hours from the start of the run) and what the
    record says of it; ``None`` leaves a value to the demand's mixes."""

    model_config = FROZEN
    arrival_h: NonNegative
    direction: Direction | None = None
    vehicle_class: VehicleClass | None = None
    cargo: GoodsCategory | None = None
    #: Containers on a container vehicle: 1, or 2 (two 20 ft containers).
    containers: Annotated[int, Field(ge=1, le=2)] | None = None
    crossing_mode: CrossingMode | None = None

    @model_validator(mode="after")
    def _consistent(self) -> RecordedTruck:
        problems = Problems()
        if self.containers is not None and self.vehicle_class not in (None, VehicleClass.CONTAINER):
            problems.add("containers", f"only a container vehicle carries containers (vehicle_class is "
                                       f"{self.vehicle_class.value})", self.containers)
        if self.crossing_mode is CrossingMode.AGV_LANE and (
                self.vehicle_class is not VehicleClass.CONTAINER or self.direction is not Direction.EXPORT):
            problems.add("crossing_mode", "the AGV lane takes containers going out: give vehicle_class container and "
                                          "direction export with it", self.crossing_mode.value)
        problems.raise_if_any()
        return self


class RecordedDemand(BaseModel):
    """The trucks of a record, replacing generated arrivals."""

    model_config = FROZEN
    #: Where the record came from (the CSV file's name as the scenario gave it), for people.
    source: str = ""
    trucks: Annotated[tuple[RecordedTruck, ...], Field(min_length=1)]
    #: Every day of the run sees the record again (its trucks must all arrive on day 0).
    repeat_daily: bool = False

    @model_validator(mode="after")
    def _one_day_to_repeat(self) -> RecordedDemand:
        problems = Problems()
        if self.repeat_daily:
            late = [i for i, truck in enumerate(self.trucks) if truck.arrival_h >= HOURS_PER_DAY]
            if late:
                problems.add(f"trucks.{late[0]}.arrival_h", "repeat_daily repeats day 0, and this truck arrives after "
                                                            "it", self.trucks[late[0]].arrival_h)
        problems.raise_if_any()
        return self

    @property
    def days(self) -> int:
        """The whole days the record spans (1 when it repeats daily)."""
        return record_days([truck.arrival_h for truck in self.trucks], self.repeat_daily)

    @property
    def trucks_per_day(self) -> float:
        """The record's trucks over the days it spans."""
        return len(self.trucks) / self.days


def record_days(arrivals_h: list[float], repeat_daily: bool) -> int:
    """The whole days a record with these arrivals spans, from day 0 to the day of its last
    truck (1 when it repeats daily)."""
    if repeat_daily or not arrivals_h:
        return 1
    return int(max(arrivals_h) // HOURS_PER_DAY) + 1


def _clock_h(text: str) -> float | None:
    match = _CLOCK.match(text)
    if match is None:
        return None
    hours, minutes, seconds = int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)
    if hours > 23 or minutes > 59 or seconds > 59:
        return None
    return hours + minutes / 60 + seconds / 3600


def read_recorded_csv(text: str, file: str) -> tuple[list[dict[str, Any]], list[ScenarioIssue]]:
    """The trucks of a recorded-arrivals CSV (``text``, read from ``file``), as ``RecordedTruck``
    data, and every problem found, each naming ``file``, the line and the column."""
    issues: list[ScenarioIssue] = []
    where = "demand.recorded.file"

    def problem(line: int, column: str, reason: str, value: object = "") -> None:
        issues.append(ScenarioIssue(where, f"{file}, line {line}, {column}: {reason}", shown(value) if value != "" else ""))

    reader = csv.reader(io.StringIO(text))
    try:
        rows = list(reader)
    except csv.Error as exc:
        return [], [ScenarioIssue(where, f"{file}, line {reader.line_num}: not a CSV file ({exc})")]
    if not rows or not any(cell.strip() for cell in rows[0]):
        return [], [ScenarioIssue(where, f"{file}: empty; expected a header row naming its columns, arrival first")]
    header = [cell.strip().lower() for cell in rows[0]]
    unknown = [name for name in header if name not in CSV_COLUMNS]
    if unknown:
        issues.append(ScenarioIssue(where, f"{file}, line 1: unknown column(s) {', '.join(map(repr, unknown))}; expected "
                                           f"{', '.join(CSV_COLUMNS)}"))
    doubled = sorted({name for name in header if header.count(name) > 1})
    if doubled:
        issues.append(ScenarioIssue(where, f"{file}, line 1: column(s) {', '.join(map(repr, doubled))} given twice"))
    if "arrival" not in header:
        issues.append(ScenarioIssue(where, f"{file}, line 1: no 'arrival' column; every truck needs its arrival time"))
    if issues:
        return [], issues
    dated: list[tuple[int, date, float]] = []  # truck, date, hour of day: days are counted once all are read
    trucks: list[dict[str, Any]] = []
    forms: set[str] = set()
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue  # a blank line
        if len(row) != len(header):
            problem(line, "row", f"has {len(row)} cells for {len(header)} columns")
            continue
        cells = {name: cell.strip() for name, cell in zip(header, row, strict=True)}
        truck: dict[str, Any] = {name: value for name, value in cells.items()
                                 if value and name not in ("arrival", "day")}
        arrival = cells["arrival"]
        clock = _clock_h(arrival)
        stamp = _DATE_TIME.match(arrival)
        if clock is not None:
            forms.add("clock time")
            day = cells.get("day", "") or "0"
            if not day.isdecimal():
                problem(line, "day", "must be a whole number of days from 0", day)
                continue
            truck["arrival_h"] = int(day) * HOURS_PER_DAY + clock
        elif stamp is not None:
            forms.add("date and time")
            if cells.get("day"):
                problem(line, "day", "a date and time says the day already; leave day empty", cells["day"])
                continue
            y, mo, d, h, mi, s = (int(g or 0) for g in stamp.groups())
            try:
                on = date(y, mo, d)
            except ValueError as exc:
                problem(line, "arrival", f"not a date ({exc})", arrival)
                continue
            if h > 23 or mi > 59 or s > 59:
                problem(line, "arrival", "not a time of day", arrival)
                continue
            dated.append((len(trucks), on, h + mi / 60 + s / 3600))
            truck["arrival_h"] = 0.0  # set below, from the earliest date
        else:
            problem(line, "arrival", "must be a time 'HH:MM' or 'HH:MM:SS', or a date and time "
                                     "'YYYY-MM-DD HH:MM[:SS]'", arrival)
            continue
        if "containers" in truck:
            count = truck["containers"]
            truck["containers"] = int(count) if count.isdecimal() else count
        truck["_line"] = line
        trucks.append(truck)
    if len(forms) > 1:
        issues.append(ScenarioIssue(where, f"{file}: arrivals mix clock times and dates; give every arrival the same way"))
    if dated:
        first = min(on for _, on, _ in dated)
        for index, on, hour in dated:
            trucks[index]["arrival_h"] = (on - first).days * HOURS_PER_DAY + hour
    if not trucks and not issues:
        issues.append(ScenarioIssue(where, f"{file}: no truck; expected a row per truck after the header"))
    return trucks, issues


def recorded_file_named(data: Any) -> str | None:
    """The recorded-arrivals file a scenario's data names (``demand.recorded.file``), if any."""
    demand = data.get("demand") if isinstance(data, Mapping) else None
    recorded = demand.get("recorded") if isinstance(demand, Mapping) else None
    if isinstance(recorded, Mapping) and "file" in recorded:
        name = recorded["file"]
        return name if isinstance(name, str) else str(name)
    return None


def expand_recorded_file(data: Mapping[str, Any], base_dir: Path) -> tuple[dict[str, Any], list[ScenarioIssue]]:
    """``data`` (a scenario's sections) with ``demand.recorded.file`` read into ``trucks`` (the
    file's name kept as ``source``), the file found relative to ``base_dir``; and the problems
    found reading it. Data without a recorded file comes back as it was."""
    name = recorded_file_named(data)
    if name is None:
        return dict(data), []
    where = "demand.recorded.file"
    if not name.strip():
        return dict(data), [ScenarioIssue(where, "must be the path of a CSV file", shown(name))]
    path = Path(name) if Path(name).is_absolute() else base_dir / name
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return dict(data), [ScenarioIssue(where, f"cannot read {path}: {exc.strerror or exc}")]
    return expand_recorded_bytes(data, raw)


def expand_recorded_bytes(data: Mapping[str, Any], raw: bytes) -> tuple[dict[str, Any], list[ScenarioIssue]]:
    """``expand_recorded_file`` with the file's contents given (``raw``): an upload, say."""
    name = recorded_file_named(data)
    if name is None:
        return dict(data), []
    where = "demand.recorded.file"
    demand: Mapping[str, Any] = data["demand"]
    recorded: Mapping[str, Any] = demand["recorded"]
    if "trucks" in recorded:
        return dict(data), [ScenarioIssue("demand.recorded", "give the trucks inline (trucks) or in a file (file), not both")]
    if len(raw) > MAX_CSV_BYTES:
        return dict(data), [ScenarioIssue(where, f"{name} is {len(raw):,} bytes; a record is at most {MAX_CSV_BYTES:,}")]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return dict(data), [ScenarioIssue(where, f"{name}: not UTF-8 text ({exc.reason} at byte {exc.start})")]
    trucks, issues = read_recorded_csv(text, name)
    lines = [truck.pop("_line") for truck in trucks]
    expanded = {key: value for key, value in recorded.items() if key != "file"}
    expanded.update(source=name, trucks=trucks)
    issues += _row_issues(expanded, lines, name)
    if issues:
        return dict(data), sorted(issues, key=_line_of)
    result = dict(data)
    result["demand"] = {**dict(demand), "recorded": expanded}
    return result, []


def _line_of(issue: ScenarioIssue) -> int:
    """The line of the file an issue names (0 for the file as a whole), to report in file order."""
    match = re.search(r", line (\d+)", issue.reason)
    return int(match.group(1)) if match else 0


def _row_issues(recorded: Mapping[str, Any], lines: list[int], file: str) -> list[ScenarioIssue]:
    """The problems of each truck read from the file, named by its line (validation would name
    them by their place in the list, which the file does not show)."""
    issues = []
    for truck, line in zip(recorded["trucks"], lines, strict=True):
        try:
            RecordedTruck.model_validate(truck)
        except ValidationError as exc:
            for issue in issues_from_validation(exc, RecordedTruck):
                issues.append(ScenarioIssue("demand.recorded.file", f"{file}, line {line}, {issue.path or 'row'}: "
                                                                    f"{issue.reason}", issue.value))
    return issues
