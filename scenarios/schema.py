"""The scenario: one typed, validated, immutable description of a gate, its demand and a run.

A scenario file is YAML with these sections (only ``name``, ``description``, ``site``,
``layout`` and ``demand`` are required; the others have defaults)::

    name / description / site   what the CLI and dashboard show
    layout      lanes, scales, scanners, yard, staging areas, inspection bays, AGV lane
    demand      trucks per day, hourly profile, direction / vehicle / cargo mixes, error rates
    agencies    officers per role, shifts, service times, return rates
    devices     plate camera, barrier, scale, scanner and partner-link models; outages
    traffic     channelling by the traffic police and driver compliance
    agents      Mesa agents for enterprises, drivers and traffic police (off by default)
    core        the clearance core's settings (gate.config models embedded as they are)
    closures    days the gate is closed (Tet); demand_windows: peaks and lulls
    run         horizon, warm-up, replications, seed

Cross-field rules (an outage must name a device the layout has, warm-up shorter than the
horizon, a needed agency must have officers...) are checked here, each with the path of the
field to change.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import BaseModel, Field, ValidationError, ValidatorFunctionWrapHandler, WrapValidator, field_validator, model_validator
from pydantic_core import InitErrorDetails

from gate.config import DeviceSpec, FeeSchedule, GateConfig, RiskConfig, TimeoutConfig, TrafficConfig, WeightConfig, YardConfig
from gate.enums import CrossingMode, Direction, Role
from scenarios.agents import AgentsSettings
from scenarios.demand import Closure, Demand, DemandWindow, TrafficSettings
from scenarios.devices import Devices, Outage
from scenarios.errors import Problems, shown, skip_if_invalid
from scenarios.layout import Layout, device_inventory
from scenarios.staff import QUARANTINE_FOR_CATEGORY, Agencies
from scenarios.values import (
    FROZEN,
    MAX_SEED,
    AtLeastOne,
    NonNegative,
    NonNegativeWhole,
    Positive,
    Share,
    Window,
    capacity_value,
)


_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def _gate_default(field: str) -> object:
    return GateConfig.model_fields[field].default


def _non_finite(value: Any, loc: tuple[int | str, ...] = ()) -> list[tuple[tuple[int | str, ...], float]]:
    """Where raw input (mappings, lists, models) holds an infinite or NaN number, and the number."""
    if isinstance(value, BaseModel):
        value = {name: getattr(value, name) for name in type(value).model_fields}
    if isinstance(value, Mapping):
        return [found for key, item in value.items() for found in _non_finite(item, (*loc, key))]
    if isinstance(value, (list, tuple)):
        return [found for i, item in enumerate(value) for found in _non_finite(item, (*loc, i))]
    if isinstance(value, float) and not math.isfinite(value):
        return [(loc, value)]
    return []


def _all_numbers_finite(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    """Refuse inf and NaN in a ``gate.config`` model, which accepts them, with its other errors.

    The scenario's own models refuse them through their config (``values.FROZEN``); the core's
    models are shared with ``gate/`` and keep theirs, so the scenario checks their input here.
    """
    found = _non_finite(value)
    if not found:
        return handler(value)
    errors = [InitErrorDetails(type="finite_number", loc=loc, input=number) for loc, number in found]
    try:
        handler(value)
    except ValidationError as exc:
        refused = {loc for loc, _ in found}
        errors += [
            InitErrorDetails(type=e["type"], loc=e["loc"], input=e["input"], ctx=e.get("ctx", {}))
            for e in exc.errors(include_url=False)
            if tuple(e["loc"]) not in refused
        ]
    raise ValidationError.from_exception_data("core settings", errors)


#: A ``gate.config`` model in a scenario: every number in it finite.
_FINITE = WrapValidator(_all_numbers_finite)


class CoreSettings(BaseModel):
    """The clearance core's settings, reusing ``gate.config`` models unchanged.

    The twin combines these with what it derives from the layout (devices, accounts, yard
    capacity, staging areas) into a ``GateConfig``.
    """

    model_config = FROZEN
    risk: Annotated[RiskConfig, _FINITE] = RiskConfig()
    weight: Annotated[WeightConfig, _FINITE] = WeightConfig()
    fees: Annotated[FeeSchedule, _FINITE] = FeeSchedule()
    timeouts: Annotated[TimeoutConfig, _FINITE] = TimeoutConfig()
    traffic: Annotated[TrafficConfig, _FINITE] = TrafficConfig()
    plate_confidence_threshold: Share = _gate_default("plate_confidence_threshold")  # type: ignore[assignment]
    medical_check: bool = _gate_default("medical_check")  # type: ignore[assignment]
    automated_border_check: bool = _gate_default("automated_border_check")  # type: ignore[assignment]
    scanner_first: bool = _gate_default("scanner_first")  # type: ignore[assignment]
    #: Call a truck forward from staging only once its medical check there has passed (the
    #: core's ``yard.call_when_checked``), so none waits in an entry lane for it.
    call_when_checked: bool = YardConfig.model_fields["call_when_checked"].default


#: The longest run, in simulated hours, and the most replications of one.
MAX_HORIZON_H = 366 * 24
MAX_REPLICATIONS = 10_000


class Run(BaseModel):
    """How long to simulate, how often, from which seed."""

    model_config = FROZEN
    #: At most a (leap) year: the longest span a planner studies in one run.
    horizon_h: Annotated[Positive, Field(le=MAX_HORIZON_H)] = 24.0
    #: Results before this time are discarded (the gate starts empty).
    warmup_h: NonNegative = 0.0
    replications: Annotated[AtLeastOne, Field(le=MAX_REPLICATIONS)] = 1
    #: At most 2**63 - 1: results keep the seed as a 64-bit integer.
    seed: Annotated[NonNegativeWhole, Field(le=MAX_SEED)] = 0

    @model_validator(mode="after")
    def _warmup_within_horizon(self) -> Run:
        problems = Problems()
        if self.warmup_h >= self.horizon_h:
            problems.add("warmup_h", f"must be shorter than horizon_h ({self.horizon_h:g} h)", self.warmup_h)
        problems.raise_if_any()
        return self


def _nth_truck(index: int, source: str) -> str:
    """A recorded truck as people find it: its place in the record (and the record's file)."""
    return f"the record's truck {index + 1}" + (f" (row {index + 1} after the header of {source})" if source else "")


class Scenario(BaseModel):
    """A complete scenario; see the module docstring for its sections."""

    model_config = FROZEN
    name: str
    description: Annotated[str, Field(min_length=1)]
    site: Annotated[str, Field(min_length=1)]
    layout: Layout
    demand: Demand
    agencies: Agencies = Agencies()
    devices: Devices = Devices()
    traffic: TrafficSettings = TrafficSettings()
    agents: AgentsSettings = AgentsSettings()
    core: CoreSettings = CoreSettings()
    closures: tuple[Closure, ...] = ()
    demand_windows: tuple[DemandWindow, ...] = ()
    run: Run = Run()

    @field_validator("name")
    @classmethod
    def _name_is_a_word(cls, name: str) -> str:
        if not _NAME.match(name):
            raise ValueError("must be 1-64 letters, digits, '_', '-' or '.', starting with a letter or digit")
        return name

    def device_inventory(self) -> tuple[DeviceSpec, ...]:
        """Every device of this gate, named as ``scenarios.layout`` documents."""
        return device_inventory(self.layout, plate_cameras=self.devices.plate_camera is not None)

    def outage_devices(self, outage: Outage) -> tuple[str, ...]:
        """The device ids an outage takes down (all devices of a kind, or the one named)."""
        return tuple(
            d.device_id for d in self.device_inventory() if outage.device in (d.device_id, d.kind.value)
        )

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        # Each check, and each item inside one, is skipped on its own when it reads a field that
        # did not validate (scenarios.partial runs these checks on a scenario with errors).
        problems = Problems()
        for check in (self._check_timeline, self._check_closures_overlap, self._check_outages,
                      self._check_equipment, self._check_staffing, self._check_recorded):
            with skip_if_invalid():
                check(problems)
        problems.raise_if_any()
        return self

    def _by_day(self) -> list[tuple[str, Closure | DemandWindow]]:
        """Closures and demand windows, with the path of the field that sets their start."""
        by_day: list[tuple[str, Closure | DemandWindow]] = []
        with skip_if_invalid():
            by_day += [(f"closures.{i}.start_day", c) for i, c in enumerate(self.closures)]
        with skip_if_invalid():
            by_day += [(f"demand_windows.{i}.start_day", w) for i, w in enumerate(self.demand_windows)]
        return by_day

    def _windows(self) -> list[tuple[str, Window]]:
        """Outages, rain and partner closures, with the path of the field that sets their start."""
        windows: list[tuple[str, Window]] = []
        with skip_if_invalid():
            windows += [(f"devices.outages.{i}.start", o) for i, o in enumerate(self.devices.outages)]
        with skip_if_invalid():
            if self.devices.plate_camera is not None:
                windows += [(f"devices.plate_camera.rain.{i}.start", w) for i, w in enumerate(self.devices.plate_camera.rain)]
        with skip_if_invalid():
            if self.layout.agv_lane is not None:
                closures = self.layout.agv_lane.partner_closures
                windows += [(f"layout.agv_lane.partner_closures.{i}.start", w) for i, w in enumerate(closures)]
        return windows

    def _check_timeline(self, problems: Problems) -> None:
        horizon = self.run.horizon_h
        late = f"after the run ends (run.horizon_h = {horizon:g})"
        for path, span in self._by_day():
            with skip_if_invalid():
                if span.start_h >= horizon:
                    problems.add(path, f"starts at hour {span.start_h:g}, {late}", span.start_day)
        for path, window in self._windows():
            with skip_if_invalid():
                if window.start_h >= horizon:
                    given = shown(window.start) + (f" on day {window.day}" if window.day else "")
                    problems.add(path, f"starts at hour {window.start_h:g}, {late}", given=given)

    def _check_closures_overlap(self, problems: Problems) -> None:
        spans: list[tuple[float, float, int, Closure]] = []
        for i, closure in enumerate(self.closures):
            with skip_if_invalid():
                spans.append((closure.start_h, closure.end_h, i, closure))
        ordered = sorted(spans, key=lambda span: span[0])
        for (_, earlier_end, _, earlier), (later_start, _, i, later) in zip(ordered, ordered[1:]):
            if later_start < earlier_end:
                problems.add(f"closures.{i}", f"overlaps the closure starting on day {earlier.start_day}",
                             given=f"start_day {later.start_day}, days {later.days:g}")

    def _check_outages(self, problems: Problems) -> None:
        inventory = self.device_inventory()
        ids = [d.device_id for d in inventory]
        kinds = sorted({d.kind.value for d in inventory})
        for i, outage in enumerate(self.devices.outages):
            with skip_if_invalid():
                if outage.device in ids or outage.device in kinds:
                    continue
                family = outage.device.rsplit("-", 1)[0]
                same = [d for d in ids if d.rsplit("-", 1)[0] == family]
                has = ", ".join(same) if same else ", ".join(kinds + ids[:12])
                problems.add(f"devices.outages.{i}.device", f"no such device in this layout (it has: {has})", outage.device)

    def _check_equipment(self, problems: Problems) -> None:
        demand, layout, core = self.demand, self.layout, self.core
        with skip_if_invalid():
            if demand.agv_share > 0:
                if layout.agv_lane is None:
                    problems.add("demand.agv_share", "is above 0 but the layout has no agv_lane", demand.agv_share)
                elif demand.container_share == 0 or demand.share("direction_mix", Direction.EXPORT.value) == 0:
                    problems.add("demand.agv_share", "is above 0 but the demand has no container exports", demand.agv_share)
        with skip_if_invalid():
            for vehicle_class, share in demand.vehicle_class_mix.items():
                slots = layout.yard.get(vehicle_class)
                if share > 0 and capacity_value(slots or 0) == 0:
                    problems.add(
                        f"layout.yard.{vehicle_class.value}",
                        f"{vehicle_class.value} vehicles are {share:.0%} of demand but the yard has no slots for them",
                        slots,
                        given="" if slots is not None else f"no entry for {vehicle_class.value}",
                    )
        with skip_if_invalid():
            if core.automated_border_check and self.devices.plate_camera is None:
                problems.add("core.automated_border_check", "needs plate cameras (devices.plate_camera is null)", True)
        with skip_if_invalid():
            if self.traffic.channelling and not layout.staging_areas:
                problems.add("traffic.channelling", "needs at least one staging area (layout.staging_areas) to hold trucks in", True)

    def _check_recorded(self, problems: Problems) -> None:
        """Recorded trucks the gate can take: in the run's time, into its yard and AGV lane, and
        not multiplied by demand windows (which shape generated demand only)."""
        recorded = self.demand.recorded
        if recorded is None:
            return
        where = f" ({recorded.source})" if recorded.source else ""
        with skip_if_invalid():
            if self.demand_windows:
                problems.add("demand_windows", f"shape generated demand; the recorded trucks{where} arrive when the "
                                               "record says, so leave demand_windows out", given=f"{len(self.demand_windows)} window(s)")
        with skip_if_invalid():
            first = min(truck.arrival_h for truck in recorded.trucks)
            if first >= self.run.horizon_h:
                problems.add("demand.recorded.trucks", f"no recorded truck{where} arrives within the run: the first at "
                                                       f"hour {first:g}, the run ends at {self.run.horizon_h:g} (run.horizon_h)")
        with skip_if_invalid():
            for i, truck in enumerate(recorded.trucks):
                if truck.crossing_mode is CrossingMode.AGV_LANE and self.layout.agv_lane is None:
                    problems.add(f"demand.recorded.trucks.{i}.crossing_mode", f"{_nth_truck(i, recorded.source)} crosses "
                                                                              "by the AGV lane but the layout has no agv_lane",
                                 "agv_lane")
                    break
        with skip_if_invalid():
            for vehicle_class in sorted({t.vehicle_class for t in recorded.trucks if t.vehicle_class is not None},
                                        key=lambda c: c.value):
                slots = self.layout.yard.get(vehicle_class)
                if capacity_value(slots or 0) == 0:
                    first_i = next(i for i, t in enumerate(recorded.trucks) if t.vehicle_class is vehicle_class)
                    problems.add(f"demand.recorded.trucks.{first_i}.vehicle_class",
                                 f"{_nth_truck(first_i, recorded.source)} is a {vehicle_class.value} vehicle but the yard "
                                 f"has no slots for them (layout.yard.{vehicle_class.value})", vehicle_class.value)

    def _check_staffing(self, problems: Problems) -> None:
        needed: dict[Role, str] = {
            Role.CUSTOMS: "every declaration needs a customs decision",
            Role.FEE_COLLECTOR: "every trip pays the infrastructure fee",
        }
        with skip_if_invalid():
            if not self.core.automated_border_check:
                needed[Role.BORDER_GUARD] = "border checks are manual (core.automated_border_check is false)"
        with skip_if_invalid():
            if self.core.medical_check:
                needed[Role.MEDICAL] = "drivers are checked (core.medical_check is true)"
        with skip_if_invalid():
            for category, share in self.demand.cargo_mix.items():
                role = QUARANTINE_FOR_CATEGORY.get(category)
                if share > 0 and role is not None and role not in needed:
                    needed[role] = f"{category.value} cargo is {share:.0%} of demand"
        for role, why in needed.items():
            with skip_if_invalid():
                staff = self.agencies.for_role(role)
                if not staff.staffed:
                    problems.add(f"agencies.{role.value}.officers", f"must be at least 1: {why}", staff.officers)
