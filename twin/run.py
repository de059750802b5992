"""Run a scenario: build -> wire -> run(until) -> collect, for each replication.

Results are written even when a replication fails (desmod's "results even on failure"): the
replications that finished are kept, and the error is recorded in ``summary.json``. A violated
invariant (conservation, Little's law, the core's own books, the audit chain) fails the run
loudly with ``InvariantViolation`` after the results are written.
"""

from __future__ import annotations

import gc
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scenarios.loader import scenario_hash
from scenarios.schema import Scenario
from twin.build import PeopleFactory, build, statistical_people
from twin.people import people_results
from twin.results import (
    InvariantCheck,
    ReplicationResult,
    RunResult,
    collect_replication,
    make_manifest,
    summarize_run,
    write_results,
)
from twin.world import GateWorld

HOUR = 3600.0
Progress = Callable[[float], None]
#: Allocations between two collections of the youngest generation while a run goes (CPython: 700).
RUN_GC_THRESHOLD = 100_000


@contextmanager
def run_gc() -> Iterator[None]:
    """Garbage collection for the length of a run; CPython's own settings are back afterwards.

    A run allocates millions of short-lived objects while it keeps tens of thousands alive (the
    plans, declarations, visits, audit records). With CPython's defaults the collector re-scans
    the live ones again and again, a large share of the run's time. Here what exists when the run
    starts is frozen (left out of collections until the run ends), and young objects are
    collected in batches of ``RUN_GC_THRESHOLD``. At the end the objects still young join the
    oldest generation with the frozen ones (the results, the world and its books are read
    afterwards, so most of them are alive): the collector's defaults come back without a
    collection of the last batch at the first allocation. Nothing the model computes depends on it.
    """
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(RUN_GC_THRESHOLD, *thresholds[1:])
    try:
        yield
    finally:
        gc.freeze()
        gc.set_threshold(*thresholds)
        gc.unfreeze()


class InvariantViolation(RuntimeError):
    """A run broke one of the invariants checked at its end."""


@dataclass(frozen=True, slots=True)
class RunOptions:
    replications: int | None = None  # None: the scenario's own
    seed: int | None = None
    out: Path | None = None
    check_invariants: bool = True


def run_replication(scenario: Scenario, replication: int, seed: int,
                    people_factory: PeopleFactory = statistical_people,
                    progress: Progress | None = None) -> tuple[ReplicationResult, GateWorld]:
    """Build, wire and run one replication; collect what its probes measured."""
    world = build(scenario, replication, seed, people_factory)
    horizon = scenario.run.horizon_h * HOUR
    with run_gc():
        if progress is None:
            world.env.run(until=horizon)
        else:
            steps = 50
            for k in range(1, steps + 1):
                world.env.run(until=horizon * k / steps)
                progress(k / steps)
    world.send_due_pings()
    warmup = scenario.run.warmup_h * HOUR
    result = collect_replication(
        seed=seed,
        trucks=world.probes.log,
        stations=list(world.probes.stations.values()),
        counters=list(world.probes.counters.values()),
        start=warmup,
        end=horizon,
        generated=world.generated,
        invariants=core_invariants(world),
        extra=world_extra(world),
        expected_inside=_inside_by_station(world),
    )
    if warmup > 0:
        _drop_warmup(result, warmup)
    return result, world


def _inside_by_station(world: GateWorld) -> dict[str, int]:
    """Trucks at each station at the end, by their own account (independent of the probes)."""
    counts = {name: 0 for name in world.probes.stations}
    for truck in world.trucks.values():
        for station in truck.places:
            counts[station] += 1
    return counts


def core_invariants(world: GateWorld) -> list[InvariantCheck]:
    """The core's own books, the audit chain, and the twin and the core agreeing on who left."""
    core = world.core
    problems = core.check_invariants()
    bad_record = core.audit.verify()
    departed_twin = sum(1 for t in world.trucks.values() if t.outcome == "departed")
    agree = departed_twin == core.stats["departed"]
    return [
        InvariantCheck("core books", not problems, "; ".join(problems[:5]) or
                       f"{core.open_visits()} open visits, {len(core.archive)} archived, counts consistent"),
        InvariantCheck("audit chain", bad_record is None,
                       f"{core.audit.count} records verify" if bad_record is None else f"record {bad_record} fails"),
        InvariantCheck("core and twin agree on departures", agree,
                       f"twin {departed_twin}, core {core.stats['departed']}"),
    ]


def world_extra(world: GateWorld) -> dict[str, Any]:
    core = world.core
    desks = {
        role.value: {
            "officers": desk.officers if desk.officers < 100_000 else "unlimited",
            "tasks_done": desk.tasks_done,
            "utilisation": desk.utilisation(),
            "mean_wait_min": (desk.wait_s / desk.tasks_started / 60.0) if desk.tasks_started else 0.0,
            "tasks_assigned": desk.tasks_assigned,
            "sla_misses": world.escalations.get(role.value, 0),
        }
        for role, desk in world.desks.items()
    }
    devices = {
        d.device_id: {"faults": d.fault_count, "downtime_h": d.downtime_s / HOUR}
        for d in world.equipment.all()
    }
    fleet = world.equipment.fleet
    return {
        "core_stats": dict(core.stats),
        "commands": dict(sorted(world.commands.items())),
        "refusals": dict(sorted(world.refusals.items())),
        "agencies": desks,
        "devices": devices,
        "agv": ({"delivered": fleet.delivered, "utilisation": fleet.utilisation(), "breakdowns": fleet.breakdowns}
                if fleet is not None else {}),
        "events_handled": world.events_handled,
        "open_reviews": len(core.reviews),
        **people_results(world),  # what the people's own models measured (e.g. the Mesa agents)
    }


def _drop_warmup(result: ReplicationResult, warmup: float) -> None:
    """Per-truck KPIs cover trucks that arrived after the warm-up."""
    trucks = result.trucks
    result.extra["warmup_trucks_excluded"] = int((trucks["arrival"] < warmup).sum())


def run_scenario(scenario: Scenario, options: RunOptions = RunOptions(),
                 people_factory: PeopleFactory = statistical_people,
                 progress: Callable[[int, float], None] | None = None) -> RunResult:
    """Every replication of a scenario; results written to ``options.out`` even on failure."""
    reps_wanted = options.replications or scenario.run.replications
    seed = scenario.run.seed if options.seed is None else options.seed
    replications: list[ReplicationResult] = []
    failed: str | None = None
    try:
        for r in range(reps_wanted):
            rep_progress = (lambda f, r=r: progress(r, f)) if progress is not None else None
            result, _ = run_replication(scenario, r, seed, people_factory, rep_progress)
            replications.append(result)
    except Exception as exc:  # the run failed: keep what finished, record why, re-raise after writing
        failed = f"replication {len(replications)} failed: {type(exc).__name__}: {exc}\n{traceback.format_exc()}"
    run = RunResult(
        scenario_name=scenario.name,
        scenario_hash=scenario_hash(scenario),
        replications=replications,
        manifest=make_manifest(scenario.name, scenario_hash(scenario), seed, reps_wanted,
                               extra={"horizon_h": scenario.run.horizon_h, "warmup_h": scenario.run.warmup_h}),
        summary=summarize_run(replications) if replications else {},
        failed=failed,
    )
    if failed is None and options.check_invariants:
        broken = [f"replication {i}: {c.name}: {c.detail}" for i, rep in enumerate(replications)
                  for c in rep.invariants if not c.holds]
        if broken:
            run.failed = "invariants violated:\n" + "\n".join(broken)
    if options.out is not None:
        write_results(run, options.out)
    if run.failed is not None:
        raise InvariantViolation(run.failed) if failed is None else RuntimeError(run.failed)
    return run
