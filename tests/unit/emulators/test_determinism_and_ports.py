"""Every emulator fits its port, and the same seed gives the same event log, bit for bit."""

from __future__ import annotations

import numpy as np
import simpy

from gate.commands import DispatchAgv, OpenBarrier, RequestScan, SendManifest
from gate.enums import Role
from gate.events import Event
from gate.ports import AgvFleetPort, BarrierPort, PartnerLinkPort, PlateCameraPort, ScalePort, ScannerPort
from hardware_emulators import (
    AgencyDesk,
    AgvFleet,
    Barrier,
    PartnerLink,
    PlateCamera,
    Scale,
    Scanner,
    VehicleTruth,
    constant,
    exponential,
    uniform,
)


def _gate_day(seed: int) -> list[tuple[float, Event]]:
    """A small gate with every device, random timings and random faults, run for one day."""
    env = simpy.Environment()
    streams = np.random.SeedSequence(seed).spawn(8)
    rngs = [np.random.default_rng(s) for s in streams]
    entries: list[tuple[float, Event]] = []

    def report(event: Event) -> None:
        entries.append((env.now, event))

    camera = PlateCamera(env, "cam-in-1", rngs[0], uniform(rngs[0], 0.2, 1.0), night=[(18 * 3600, 6 * 3600, 2.0)],
                         mtbf_s=20_000.0, mttr_s=exponential(rngs[0], 900.0))
    barrier = Barrier(env, "barrier-in-1", rngs[1], uniform(rngs[1], 2.0, 4.0), mtbf_s=30_000.0, mttr_s=constant(600.0))
    scale = Scale(env, "scale-1", rngs[2], uniform(rngs[2], 20.0, 40.0), drift_kg_per_day=5.0,
                  mtbf_s=40_000.0, mttr_s=exponential(rngs[2], 1800.0))
    scanner = Scanner(env, "scanner-1", rngs[3], "drive_through", uniform(rngs[3], *Scanner.default_scan_s("drive_through")),
                      p_detect=0.9, p_false_alarm=0.05, outages=[(12 * 3600, 4 * 3600)])
    fleet = AgvFleet(env, "agv-lane", rngs[4], n_agvs=3, lane_km=3.6, speed_kmh=20.0, handover_s=uniform(rngs[4], 60, 120),
                     mtbf_s=50_000.0, mttr_s=constant(1800.0), closures=[(10 * 3600, 11 * 3600)])
    link = PartnerLink(env, "partner", rngs[5], exponential(rngs[5], 5.0), p_loss=0.05)
    desk = AgencyDesk(env, Role.CUSTOMS, officers=2, shifts=[(7, 19)], service_s=exponential(rngs[6], 600.0))
    for device in (camera, barrier, scale, scanner, fleet, link):
        device.connect(report)

    def truck(i: int, truth: VehicleTruth) -> simpy.events.ProcessGenerator:
        yield camera.observe(truth)
        barrier.open(OpenBarrier("barrier-in-1", f"v{i}", truth.plate))
        yield barrier.pass_vehicle(truth)
        yield scale.weigh(truth)
        scanner.scan(RequestScan("scanner-1", f"v{i}", truth.plate))
        yield scanner.scan_vehicle(truth)
        yield desk.serve()
        if truth.container:
            link.send_manifest(SendManifest("partner", f"m{i}", f"v{i}", "MSKU1234565", 1))
            fleet.dispatch(DispatchAgv("agv-lane", f"m{i}", f"v{i}", "MSKU1234565"))

    def arrivals() -> simpy.events.ProcessGenerator:
        traffic = rngs[7]
        for i in range(300):
            yield env.timeout(float(traffic.exponential(240.0)))
            truth = VehicleTruth(f"14C-{i:03d}.{i % 100:02d}", float(traffic.uniform(8_000, 40_000)),
                                 suspect=bool(traffic.random() < 0.1), container=bool(traffic.random() < 0.5))
            env.process(truck(i, truth))

    env.process(arrivals())
    env.run(until=86_400)
    return entries


def test_the_same_seed_gives_identical_event_logs() -> None:
    first, second = _gate_day(7), _gate_day(7)
    assert len(first) > 1_000
    assert first == second
    assert _gate_day(8) != first


def test_each_emulator_fits_its_device_port() -> None:
    env, rng = simpy.Environment(), np.random.default_rng(1)
    assert isinstance(Barrier(env, "b", rng, constant(3)), BarrierPort)
    assert isinstance(PlateCamera(env, "c", rng, constant(1)), PlateCameraPort)
    assert isinstance(Scale(env, "s", rng, constant(30)), ScalePort)
    assert isinstance(Scanner(env, "x", rng, "portal", constant(150), p_detect=0.9, p_false_alarm=0.05), ScannerPort)
    assert isinstance(AgvFleet(env, "a", rng, n_agvs=1, lane_km=1, speed_kmh=10, handover_s=constant(60)), AgvFleetPort)
    assert isinstance(PartnerLink(env, "p", rng, constant(5)), PartnerLinkPort)
