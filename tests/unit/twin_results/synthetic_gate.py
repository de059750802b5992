"""A small synthetic gate, simulated with numpy alone, to feed the results layer real data.

Trucks arrive at random over the day, pass an entry lane and a scanner (each a FIFO
station with a number of servers); a share is returned for re-declaration at the entry
lane. The events are replayed in time order into the probes the twin uses, so every
number the results layer sees comes from the same calls the wiring makes.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable

import numpy as np

from twin.probes import ROAD_QUEUE_KM, ROAD_QUEUE_TRUCKS, YARD_OCCUPANCY, CounterProbe, StationProbe, TruckLog
from twin.results import ReplicationResult, RunResult, collect_replication, make_manifest, summarize_run

HORIZON_S = 24 * 3600.0
KM_PER_TRUCK = 0.02


def fifo_station(arrivals: np.ndarray, service: np.ndarray, servers: int) -> tuple[np.ndarray, np.ndarray]:
    """Service start and end times at a first-come-first-served station with ``servers``."""
    free = [0.0] * servers
    starts = np.empty_like(arrivals)
    for i in np.argsort(arrivals, kind="stable"):
        starts[i] = max(arrivals[i], heapq.heappop(free))
        heapq.heappush(free, starts[i] + service[i])
    return starts, starts + service


def simulate_gate(seed: int, scanners: int = 1, trucks_per_hour: float = 20.0, return_share: float = 0.05) -> ReplicationResult:
    """One replication of the synthetic gate over a day; the same seed gives the same trucks."""
    arrival_rng, service_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2))
    n = arrival_rng.poisson(trucks_per_hour * 24)
    arrivals = np.sort(arrival_rng.uniform(0.0, HORIZON_S, n))
    returned = arrival_rng.random(n) < return_share
    entry_service = service_rng.exponential(120.0, n)
    scan_service = service_rng.exponential(150.0, n)
    entry_start, entry_end = fifo_station(arrivals, entry_service, servers=2)
    scanned = ~returned
    scan_start, scan_end = np.full(n, np.nan), np.full(n, np.nan)
    scan_start[scanned], scan_end[scanned] = fifo_station(entry_end[scanned], scan_service[scanned], scanners)

    log = TruckLog(capacity=8)
    entry, scanner = StationProbe("entry_lane", 2), StationProbe("scanner", scanners)
    road_trucks, road_km, yard = CounterProbe(ROAD_QUEUE_TRUCKS), CounterProbe(ROAD_QUEUE_KM), CounterProbe(YARD_OCCUPANCY)
    rows = [
        log.new_truck(plate=f"14C-{i:03d}.{i % 100:02d}", direction="export", vehicle_class="truck",
                      cargo="plants_fruit", channel="yellow", crossing_mode="road_handover", visit_id=f"v{i}")
        for i in range(n)
    ]

    def entry_arrives(i: int, t: float) -> None:
        log.stamp(rows[i], "arrival", t)
        log.stamp(rows[i], "entry_in", t)
        entry.arrive(t)
        road_trucks.add(t, 1)
        road_km.add(t, KM_PER_TRUCK)

    def entry_starts(i: int, t: float) -> None:
        entry.start_service(t)
        road_trucks.add(t, -1)
        road_km.add(t, -KM_PER_TRUCK)

    def entry_ends(i: int, t: float) -> None:
        entry.end_service(t)
        log.stamp(rows[i], "entry_out", t)
        if returned[i]:
            log.stamp(rows[i], "returned_at", t)
            log.set(rows[i], "outcome", "returned")
            log.incr(rows[i], "redeclarations")
        else:
            log.stamp(rows[i], "scanner_in", t)
            scanner.arrive(t)
            yard.add(t, 1)

    def scan_starts(i: int, t: float) -> None:
        scanner.start_service(t)

    def scan_ends(i: int, t: float) -> None:
        scanner.end_service(t)
        yard.add(t, -1)
        log.stamp(rows[i], "scanner_out", t)
        log.stamp(rows[i], "departed", t)
        log.set(rows[i], "outcome", "departed")
        log.set(rows[i], "fee_vnd", 500_000)

    # (time, order at equal times, truck, action): ends free servers before new work starts.
    events: list[tuple[float, int, int, Callable[[int, float], None]]] = []
    for i in range(n):
        events += [(arrivals[i], 1, i, entry_arrives), (entry_start[i], 2, i, entry_starts), (entry_end[i], 0, i, entry_ends)]
        if scanned[i]:
            events += [(scan_start[i], 2, i, scan_starts), (scan_end[i], 0, i, scan_ends)]
    for t, _, i, action in sorted(events, key=lambda e: (e[0], e[1], e[2])):
        if t <= HORIZON_S:
            action(i, float(t))
    return collect_replication(seed, log, [entry, scanner], [road_trucks, road_km, yard], 0.0, HORIZON_S, generated=n)


def make_run(name: str, seeds: list[int], **gate: float) -> RunResult:
    """A run of the synthetic gate over ``seeds``."""
    reps = [simulate_gate(seed, **gate) for seed in seeds]  # type: ignore[arg-type]
    return RunResult(
        scenario_name=name,
        scenario_hash=f"hash-{name}",
        replications=reps,
        manifest=make_manifest(name, f"hash-{name}", seeds[0], len(seeds), {"layout": name}),
        summary=summarize_run(reps),
    )
