"""Run a scenario: build -> wire -> run(until) -> collect, for each replication.

Results are written even when a replication fails (desmod's "results even on failure"): the
replications that finished are kept, and the error is recorded in ``summary.json``. A violated
invariant (conservation, Little's law, the core's own books, the audit chain) fails the run
loudly with ``InvariantViolation`` after the results are written.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import pickle
import queue
import traceback
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, as_completed, wait
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gate.core import GateCore
from gate.enums import AgvMissionState, Location
from scenarios.loader import scenario_hash
from scenarios.schema import Scenario
from twin.build import PeopleFactory, build, statistical_people
from twin.people import people_results
from twin.probes import AGV_STACK
from twin.report import write_report
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
    #: Replications run at once, each in a process of its own; 1 runs them one after another in
    #: this process. The results are the same bit for bit either way.
    jobs: int = 1


def usable_cpus() -> int:
    """The CPUs this process may run on (the default for ``--jobs``)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def run_replication(scenario: Scenario, replication: int, seed: int,
                    people_factory: PeopleFactory = statistical_people,
                    progress: Progress | None = None) -> tuple[ReplicationResult, GateWorld]:
    """Build, wire and run one replication; collect what its probes measured.

    The build, too, runs under ``run_gc``: it makes tens of thousands of objects that live as
    long as the run (plans, declarations, processes), which CPython's default thresholds would
    scan again and again.
    """
    with run_gc():
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
    _record_fees_paid(world)
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


def _record_fees_paid(world: GateWorld) -> None:
    """Each truck's fee as paid by the end, by the core's books (the fee assessed is ``fee_vnd``)."""
    log, fee_paid = world.probes.log, world.core.fee_paid
    for truck in world.trucks.values():
        paid = fee_paid(truck.visit_id)
        if paid:
            log.set(truck.row, "fee_paid_vnd", paid)


def _inside_by_station(world: GateWorld) -> dict[str, int]:
    """Trucks at each station at the end, by their own account (independent of the probes); at the
    AGV stack, containers: those on their way to it, a truck's one at a time, and those on it, by
    the fleet's account."""
    counts = {name: 0 for name in world.probes.stations}
    for truck in world.trucks.values():
        for station in truck.places:
            counts[station] += 1
    fleet = world.equipment.fleet
    if fleet is not None and AGV_STACK in counts:
        counts[AGV_STACK] += fleet.stacked
    return counts


def core_invariants(world: GateWorld) -> list[InvariantCheck]:
    """The core's own books, the audit chain, and the twin and the core agreeing on who left."""
    core = world.core
    problems = core.check_invariants()
    bad_record = core.audit.verify()
    departed_twin = sum(1 for t in world.trucks.values() if t.outcome == "departed")
    agree = departed_twin == core.stats["departed"]
    # A truck waiting at staging after its checkpoint read, that the core still has outside,
    # would wait for ever: nobody calls forward a vehicle the core has not seen arrive.
    location = core.location
    unseen = sorted(t.visit_id for t in world.trucks.values()
                    if t.checked_in and "staging" in t.places and location(t.visit_id) is Location.OUTSIDE)
    return [
        InvariantCheck("core books", not problems, "; ".join(problems[:5]) or
                       f"{core.open_visits()} open visits, {len(core.archive)} archived, counts consistent"),
        InvariantCheck("audit chain", bad_record is None,
                       f"{core.audit.count} records verify" if bad_record is None else f"record {bad_record} fails"),
        InvariantCheck("core and twin agree on departures", agree,
                       f"twin {departed_twin}, core {core.stats['departed']}"),
        InvariantCheck("the core knows every truck waiting at staging", not unseen,
                       f"{len(unseen)} truck(s) past the checkpoint that the core has outside: {', '.join(unseen[:5])}"
                       if unseen else "every truck past the staging checkpoint is known to the core"),
    ]


def world_extra(world: GateWorld) -> dict[str, Any]:
    core = world.core
    desks = {
        role.value: {
            "officers": desk.officers if desk.officers < 100_000 else "unlimited",
            "tasks_done": desk.tasks_done,
            "utilisation": desk.utilisation(),
            "mean_wait_min": (desk.wait_s / desk.tasks_started / 60.0) if desk.tasks_started else 0.0,
            # The share of that wait outside the shifts: high, the shifts set it; low, too few officers.
            "wait_off_shift_share": desk.wait_off_shift_s / desk.wait_s if desk.wait_s > 0 else 0.0,
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
    # What each plate camera reported, by outcome; none where officers type every plate (phase 1).
    plate_reads = ({camera_id: {"reads": camera.reads, "correct": camera.correct_reads, "misreads": camera.misreads,
                                "no_reads": camera.no_reads, "no_reads_while_down": camera.reads_while_down}
                    for camera_id, camera in world.equipment.cameras.items()}
                   if world.scenario.devices.plate_camera is not None else {})
    return {
        "core_stats": dict(core.stats),
        "commands": dict(sorted(world.commands.items())),
        "refusals": dict(sorted(world.refusals.items())),
        "agencies": desks,
        "devices": devices,
        "plate_reads": plate_reads,
        "agv": ({"delivered": fleet.delivered, "utilisation": fleet.utilisation(), "breakdowns": fleet.breakdowns,
                 "backlog": agv_backlog(core)}
                if fleet is not None else {}),
        "events_handled": world.events_handled,
        "open_reviews": len(core.reviews),
        **people_results(world),  # what the people's own models measured (e.g. the Mesa agents)
    }


#: Where an AGV mission stands while its container still waits to cross.
_CROSSING = frozenset({AgvMissionState.MANIFEST_SENT, AgvMissionState.ACKNOWLEDGED, AgvMissionState.DISPATCHED,
                       AgvMissionState.FAULTED})


def agv_backlog(core: GateCore) -> int:
    """Containers handed to the AGV lane that have not crossed: neither delivered nor given up."""
    return sum(1 for mission in core.missions.values() if mission.state in _CROSSING)


def _drop_warmup(result: ReplicationResult, warmup: float) -> None:
    """Record how many trucks arrived during the warm-up (the per-truck KPIs leave them out; the
    truck table keeps them, for the conservation check and the replay)."""
    trucks = result.trucks
    result.extra["warmup_trucks_excluded"] = int((trucks["arrival"] < warmup).sum())


def run_scenario(scenario: Scenario, options: RunOptions = RunOptions(),
                 people_factory: PeopleFactory = statistical_people,
                 progress: Callable[[int, float], None] | None = None) -> RunResult:
    """Every replication of a scenario; results written to ``options.out`` even on failure.

    With ``options.jobs`` above 1 the replications run in parallel processes. Each replication's
    random streams depend only on the seed, its number and their names, and the results are put
    together in replication order, so the run is the same bit for bit as one run serially. If a
    replication fails, the replications before it are kept, as a serial run would have kept them.
    As with any process started by "spawn", each worker imports the calling program's
    ``__main__`` again: a script that calls this with ``jobs`` above 1 keeps its own work under
    ``if __name__ == "__main__":``.
    """
    if options.jobs < 1:
        raise ValueError(f"jobs must be at least 1 (got {options.jobs})")
    reps_wanted = options.replications or scenario.run.replications
    seed = scenario.run.seed if options.seed is None else options.seed
    if options.jobs > 1 and reps_wanted > 1:
        _check_sendable(scenario, people_factory)
        replications, failed = _run_parallel(scenario, reps_wanted, seed, people_factory,
                                             min(options.jobs, reps_wanted), progress)
    else:
        replications, failed = _run_serial(scenario, reps_wanted, seed, people_factory, progress)
    return finish_run(scenario, replications, failed, seed, reps_wanted, options)


def finish_run(scenario: Scenario, replications: list[ReplicationResult], failed: str | None, seed: int,
               reps_wanted: int, options: RunOptions) -> RunResult:
    """The run of ``scenario`` from its finished ``replications`` (those before the first that
    failed, ``failed`` saying why): summarised, its invariants checked, written to
    ``options.out``; ``InvariantViolation`` or ``RuntimeError`` once written if it failed."""
    run = RunResult(
        scenario_name=scenario.name,
        scenario_hash=scenario_hash(scenario),
        replications=replications,
        manifest=make_manifest(scenario.name, scenario_hash(scenario), seed, reps_wanted,
                               extra={"horizon_h": scenario.run.horizon_h, "warmup_h": scenario.run.warmup_h}),
        summary=summarize_run(replications) if replications else {},
        failed=failed,
        scenario=scenario,
    )
    if failed is None and options.check_invariants:
        broken = [f"replication {i}: {c.name}: {c.detail}" for i, rep in enumerate(replications)
                  for c in rep.invariants if not c.holds]
        if broken:
            run.failed = "invariants violated:\n" + "\n".join(broken)
    if options.out is not None:
        write_results(run, options.out)
        write_report(run, options.out)
    if run.failed is not None:
        raise InvariantViolation(run.failed) if failed is None else RuntimeError(run.failed)
    return run


def _check_sendable(scenario: Scenario, people_factory: PeopleFactory) -> None:
    """Raise ``ValueError`` before anything runs if worker processes could not be given the run."""
    for what, value in (("the scenario", scenario), ("the people model", people_factory)):
        try:
            pickle.dumps(value)
        except Exception as exc:  # pickling fails in many ways: lambdas, closures, open files
            raise ValueError(
                f"jobs above 1 send {what} to worker processes, which cannot take it ({type(exc).__name__}: {exc}); "
                "use a function defined at module level, or jobs=1") from exc


def _failure(index: int, exc: BaseException) -> str:
    """How replication ``index`` failed, with its traceback (from the worker, when it ran in one)."""
    return (f"replication {index} failed: {type(exc).__name__}: {exc}\n"
            + "".join(traceback.format_exception(exc)))


def _run_serial(scenario: Scenario, reps: int, seed: int, people_factory: PeopleFactory,
                progress: Callable[[int, float], None] | None) -> tuple[list[ReplicationResult], str | None]:
    """Replications 0 .. reps-1 in this process; stops at the first that fails."""
    replications: list[ReplicationResult] = []
    for r in range(reps):
        rep_progress = (lambda f, r=r: progress(r, f)) if progress is not None else None
        try:
            result, _ = run_replication(scenario, r, seed, people_factory, rep_progress)
        except Exception as exc:  # the run failed: keep what finished, record why
            return replications, _failure(r, exc)
        replications.append(result)
    return replications, None


#: In a worker process: where it reports how far its replication has gone, as (replication, fraction).
_progress_queue: Any = None


def _worker_start(updates: Any) -> None:
    global _progress_queue
    _progress_queue = updates


def _worker_replication(scenario: Scenario, replication: int, seed: int,
                        people_factory: PeopleFactory) -> ReplicationResult:
    """One replication in a worker process; its world stays there, its results come back."""
    updates = _progress_queue
    report = None if updates is None else (lambda f: updates.put((replication, f)))
    result, _ = run_replication(scenario, replication, seed, people_factory, report)
    return result


def _run_parallel(scenario: Scenario, reps: int, seed: int, people_factory: PeopleFactory, jobs: int,
                  progress: Callable[[int, float], None] | None) -> tuple[list[ReplicationResult], str | None]:
    """Replications 0 .. reps-1 in ``jobs`` worker processes, gathered in replication order.

    When one fails, the replications after it are cancelled (or their results dropped) and those
    before it are awaited: what is kept is what a serial run would have kept. Workers are started
    fresh ("spawn"), so they share nothing with this process but what is sent to them.
    """
    context = multiprocessing.get_context("spawn")
    updates = context.Queue() if progress is not None else None
    done: dict[int, ReplicationResult] = {}
    errors: dict[int, BaseException] = {}

    def report_progress() -> None:
        while updates is not None and progress is not None:
            try:
                replication, fraction = updates.get_nowait()
            except queue.Empty:
                return
            progress(replication, fraction)

    with ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_worker_start,
                             initargs=(updates,)) as pool:
        futures: dict[Future[ReplicationResult], int] = {
            pool.submit(_worker_replication, scenario, r, seed, people_factory): r for r in range(reps)}
        pending = set(futures)
        try:
            while pending:
                finished, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                report_progress()
                for future in finished:
                    r = futures[future]
                    if future.cancelled():
                        continue
                    exc = future.exception()
                    if exc is None:
                        done[r] = future.result()
                    else:
                        errors[r] = exc
                if errors:  # nothing after the first failure is kept: stop what has not started
                    first = min(errors)
                    for future in list(pending):
                        if futures[future] > first and future.cancel():
                            pending.discard(future)
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        report_progress()
    if updates is not None:
        updates.close()
        updates.join_thread()
    first_bad = min(errors) if errors else reps
    replications = [done[r] for r in range(first_bad)]
    return replications, (_failure(first_bad, errors[first_bad]) if errors else None)


def run_cells(scenarios: Sequence[Scenario], reps: int, seed: int, executor: Executor | None = None,
              progress: Callable[[int, int], None] | None = None) -> list[tuple[list[ReplicationResult], str | None]]:
    """Replications 0 .. reps-1 of every scenario with one seed, for runs side by side (a sweep's
    cells): each scenario's finished replications, in order, and why the first that failed did.

    With an ``executor`` (a process pool, or a dask cluster's ``Client.get_executor()``) every
    replication of every scenario is submitted at once, so the workers stay busy across the
    scenarios; without one they run here, one after another. Each replication's streams depend
    only on the seed, its number and their names, so the results are the same either way.
    ``progress(done, total)`` is called as replications finish.
    """
    total = len(scenarios) * reps
    outcomes: list[tuple[list[ReplicationResult], str | None]] = []
    if executor is None:
        for index, scenario in enumerate(scenarios):
            done, failed = _run_serial(scenario, reps, seed, statistical_people, None)
            outcomes.append((done, failed))
            if progress is not None:
                progress((index + 1) * reps, total)
        return outcomes
    for scenario in scenarios:
        _check_sendable(scenario, statistical_people)
    futures = [[executor.submit(_worker_replication, scenario, r, seed, statistical_people) for r in range(reps)]
               for scenario in scenarios]
    if progress is not None:
        finished = 0
        for _ in as_completed([f for cell in futures for f in cell]):
            finished += 1
            progress(finished, total)
    for cell in futures:
        replications: list[ReplicationResult] = []
        failed = None
        for r, future in enumerate(cell):
            try:
                replications.append(future.result())
            except Exception as exc:  # the replication failed: keep those before it, as a serial run would
                failed = _failure(r, exc)
                break
        outcomes.append((replications, failed))
    return outcomes

