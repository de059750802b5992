"""A human summary of a scenario, for the CLI and the dashboard."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from gate.config import RiskConfig, TrafficConfig
from scenarios.distributions import describe_distribution
from scenarios.schema import Scenario
from scenarios.staff import AgencyStaff
from scenarios.values import capacity_value, mtbf_value


def _mix(table: Mapping[Any, float]) -> str:
    parts = sorted(table.items(), key=lambda item: -item[1])
    return ", ".join(f"{getattr(key, 'value', key)} {share:.0%}" for key, share in parts if share > 0)


def _capacity(value: int | str) -> str:
    return "unlimited" if capacity_value(value) == math.inf else str(value)


def _hours(staff: AgencyStaff) -> str:
    if not staff.staffed:
        return "not staffed"
    if staff.round_the_clock:
        return "24/7"
    return ", ".join(f"{start}-{end}" for start, end in staff.shifts)


def _agency(name: str, staff: AgencyStaff) -> str:
    if not staff.staffed:
        return f"  {name}: not staffed"
    line = f"  {name}: {staff.officers} officer(s), {_hours(staff)}, service {describe_distribution(staff.service_s)}"
    return_rate = getattr(staff, "return_rate", 0.0)
    if return_rate:
        line += f", returns {return_rate:.0%}"
    return line


def describe(scenario: Scenario) -> str:
    """Several lines naming the scenario's key numbers: demand, layout, staff, devices, run."""
    s = scenario
    demand, layout, run = s.demand, s.layout, s.run
    lines = [f"{s.name} - {s.site}", f"  {s.description.strip()}", ""]

    recorded = demand.recorded
    if recorded is None:
        lines.append(
            f"Demand: {demand.trucks_per_day:g} trucks/day, peak hour {demand.peak_hour:02d}:00 "
            f"({demand.trucks_in_hour(demand.peak_hour):.0f} trucks/h)"
        )
    else:
        source = f" from {recorded.source}" if recorded.source else ""
        span = "one day, repeated every day" if recorded.repeat_daily else f"{recorded.days} day(s)"
        lines.append(f"Demand: recorded, {len(recorded.trucks)} trucks{source} over {span} "
                     f"({demand.trucks_per_day:g} trucks/day); what the record leaves out is drawn from:")
    lines.append(f"  directions: {_mix(demand.direction_mix)}")
    lines.append(f"  vehicles: {_mix(demand.vehicle_class_mix)}")
    lines.append(f"  cargo: {_mix(demand.cargo_mix)} (perishable {demand.perishable_share:.0%})")
    if demand.agv_share:
        lines.append(f"  AGV lane takes {demand.agv_share:.0%} of container exports")
    lines.append(
        f"  declaration errors {demand.declaration_error_rate:.1%}, weight misdeclared "
        f"{demand.weight_misdeclaration_rate:.1%}, suspect loads {demand.suspect_load_rate:.1%}"
    )

    scanners = ", ".join(f"{g.count} {g.type.value.replace('_', '-')}" for g in layout.scanners if g.count) or "none"
    yard = ", ".join(f"{cls.value} {_capacity(cap)}" for cls, cap in layout.yard.items())
    lines.append("")
    lines.append(
        f"Layout: {layout.entry_lanes} entry lane(s), {layout.exit_lanes} exit lane(s), "
        f"{layout.scales} scale(s), scanners: {scanners}, inspection bays: {_capacity(layout.inspection_bays)}"
    )
    places = layout.barrier_places
    lines.append("  at each lane's barrier: " + (
        "every truck sent there is checked at once, side by side" if places == "unlimited"
        else f"{places} truck(s) checked at a time, the rest waiting behind in single file"))
    lines.append(f"  yard: {yard}; staging: " + (", ".join(f"{n} {_capacity(c)}" for n, c in layout.staging_areas.items()) or "none"))
    if layout.agv_lane is not None:
        lane = layout.agv_lane
        stack = ("no limit on the containers waiting for an AGV" if lane.stack_slots == "unlimited"
                 else f"{lane.stack_slots} container places on the stack at the handover point")
        lines.append(
            f"  AGV lane: {lane.n_agvs} AGVs on {lane.lane_km:g} km at {lane.speed_kmh:g} km/h "
            f"({lane.trip_s / 60:.1f} min a trip); {stack}"
        )
        for w in lane.partner_closures:
            lines.append(f"  the partner side does not accept AGVs for {w.duration_h:g} h from hour {w.start_h:g}")

    lines.append("")
    lines.append("Agencies:")
    for name in ("medical", "border_guard", "health_quarantine", "animal_quarantine", "plant_quarantine", "customs", "fee_collector"):
        lines.append(_agency(name, getattr(s.agencies, name)))

    camera = s.devices.plate_camera
    lines.append("")
    if camera is None:
        lines.append("Devices: no plate cameras (plates entered by hand)")
    else:
        lines.append(
            f"Devices: plate cameras {camera.p_correct:.0%} correct, {camera.p_misread:.0%} misread, "
            f"{camera.p_noread:.0%} no-read"
        )
    for outage in s.devices.outages:
        lines.append(f"  outage: {outage.device} down from hour {outage.start_h:g} for {outage.duration_h:g} h")
    barrier_mtbf = mtbf_value(s.devices.barrier.mtbf_h)
    failures = "never fails" if barrier_mtbf == math.inf else f"MTBF {barrier_mtbf:g} h"
    lines.append(f"  barrier cycle {describe_distribution(s.devices.barrier.cycle_s)}, {failures}")

    core = s.core
    lines.append("")
    lines.append(
        f"Core: risk yellow {core.risk.expected_yellow:.0%}, red {core.risk.expected_red:.0%} ({_trust(core.risk)}); "
        f"automated border check {'on' if core.automated_border_check else 'off'}; "
        f"medical check {'on' if core.medical_check else 'off'}"
        + (" (trucks called forward once it passed)" if core.medical_check and core.call_when_checked else "")
        + "; "
        f"traffic channelling {'on' if s.traffic.channelling else 'off'}"
    )
    lines.append("  congestion risk against the gate's pace: " + _pace(core.traffic))
    feed = s.traffic.gps_feed_s
    lines.append(f"  GPS: a position every {s.traffic.gps_ping_s:g} s, "
                 + (f"reaching the core in telematics batches every {feed:g} s" if feed is not None
                    else "each reaching the core on its own"))
    for closure in s.closures:
        at_work = (f"; {', '.join(role.value for role in closure.staffed)} at work through it"
                   if closure.staffed else "; every agency off duty")
        lines.append(f"Closure: day {closure.start_day} for {closure.days:g} day(s), backlog arrives over "
                     f"{closure.surge_days:g} day(s){at_work}")
    for window in s.demand_windows:
        lines.append(f"Demand x{window.multiplier:g}: day {window.start_day} for {window.days:g} day(s)")

    agents = s.agents
    lines.append("")
    if agents.enabled:
        lines.append(
            f"Agents: Mesa agents on: {agents.enterprises.count:,} enterprises declaring, drivers on the "
            f"{demand.approach_road_km:g} km approach road, traffic police at the staging areas"
        )
    else:
        lines.append("Agents: Mesa agents off; statistical people (agents.enabled is false)")

    lines.append("")
    lines.append(
        f"Run: {run.horizon_h:g} h (warm-up {run.warmup_h:g} h), {run.replications} replication(s), seed {run.seed}"
    )
    if s.devices.outages or s.closures or (s.layout.agv_lane is not None and s.layout.agv_lane.partner_closures):
        lines.append(f"  'gatetwin recovery {s.name}': the trucks its outages and closures leave behind, how "
                     "long the gate takes to catch up, and when its waits are back to normal")
    return "\n".join(lines)


def _pace(traffic: TrafficConfig) -> str:
    """The gate's pace the congestion risk uses: one figure, or by spells of the day."""
    hourly = traffic.hourly_capacity_per_h
    if hourly is None:
        return f"{traffic.gate_capacity_per_h:g} trucks/h"
    spells: list[str] = []
    start = 0
    for hour in range(1, 25):
        if hour == 24 or hourly[hour] != hourly[start]:
            spells.append(f"{start:02d}:00-{hour:02d}:00 {hourly[start]:g}")
            start = hour
    return "trucks/h by hour, " + ", ".join(spells)


def _trust(risk: RiskConfig) -> str:
    """Who customs selects at the minimum random rates instead of the expected ones."""
    threshold = risk.trusted_compliance
    if threshold >= 1.0 and not any(score >= 1.0 for score in risk.compliance.values()):
        return "no declarant trusted"
    return (f"declarants trusted from a compliance score of {threshold:g}: yellow {risk.min_random_yellow:.0%}, "
            f"red {risk.min_random_red:.0%}")

