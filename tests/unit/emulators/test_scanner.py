"""Container scanner: throughput by type, detection and false alarms, nothing scanned while down."""

from __future__ import annotations

import numpy as np
import pytest
import simpy

from gate.commands import RequestScan
from gate.enums import ScanResult
from gate.events import DeviceFaulted, DeviceRecovered, ScanCompleted
from hardware_emulators import Scanner, ScannerKind, VehicleTruth, constant, uniform
from tests.unit.emulators.support import EventLog, within


def _scanner(
    env: simpy.Environment, rng: np.random.Generator, log: EventLog, kind: ScannerKind = "drive_through", **kwargs: object
) -> Scanner:
    scan_s = kwargs.pop("scan_s", constant(40.0))
    scanner = Scanner(env, "scanner-1", rng, kind, scan_s, p_detect=0.9, p_false_alarm=0.05, **kwargs)  # type: ignore[arg-type]
    scanner.connect(log)
    return scanner


def test_default_scan_times_follow_the_published_throughputs() -> None:
    assert Scanner.default_scan_s("drive_through") == (24.0, 72.0)  # 150 and 50 vehicles/h
    assert Scanner.default_scan_s("portal") == (120.0, 180.0)  # 30 and 20 vehicles/h


@pytest.mark.parametrize(("kind", "low", "high"), [("drive_through", 50, 150), ("portal", 20, 30)])
def test_a_scanner_clears_its_type_s_vehicles_per_hour(
    env: simpy.Environment, rng: np.random.Generator, log: EventLog, kind: ScannerKind, low: int, high: int
) -> None:
    scanner = _scanner(env, rng, log, kind, scan_s=uniform(rng, *Scanner.default_scan_s(kind)))
    for i in range(400):
        scanner.scan_vehicle(VehicleTruth(f"14C-{i:03d}.45", 20_000))
    env.run(until=5 * 3600)
    # The queue never empties in the first five hours, so each hour shows the scanner's pace.
    per_hour = [sum(1 for t in log.times(ScanCompleted) if h * 3600 <= t < (h + 1) * 3600) for h in range(5)]
    assert all(low <= n <= high for n in per_hour)


def test_a_drive_through_scanner_clears_a_queue_faster_than_a_portal(
    env: simpy.Environment, rng: np.random.Generator, log: EventLog
) -> None:
    drive_through = Scanner(env, "scanner-1", rng, "drive_through", uniform(rng, 24, 72), p_detect=0.9, p_false_alarm=0.05)
    portal = Scanner(env, "scanner-2", rng, "portal", uniform(rng, 120, 180), p_detect=0.9, p_false_alarm=0.05)
    done: dict[str, float] = {}
    for scanner in (drive_through, portal):
        scanner.connect(log)
        jobs = [scanner.scan_vehicle(VehicleTruth(f"14C-{i:03d}.45", 20_000)) for i in range(100)]
        env.process(_record_when_done(env, jobs, done, scanner.device_id))
    env.run()
    # 100 vehicles: about 100 x 48 s and 100 x 150 s.
    assert 4_000 < done["scanner-1"] < 5_600
    assert 14_000 < done["scanner-2"] < 16_000


def _record_when_done(
    env: simpy.Environment, jobs: list[simpy.Process], done: dict[str, float], name: str
) -> simpy.events.ProcessGenerator:
    yield env.all_of(jobs)
    done[name] = env.now


def test_suspect_loads_are_detected_and_clean_loads_falsely_flagged_at_their_rates(
    env: simpy.Environment, rng: np.random.Generator, log: EventLog
) -> None:
    scanner = _scanner(env, rng, log, scan_s=constant(0.0))
    for i in range(4_000):
        scanner.scan_vehicle(VehicleTruth(f"SUS-{i}", 20_000, suspect=True))
        scanner.scan_vehicle(VehicleTruth(f"CLN-{i}", 20_000, suspect=False))
    env.run()
    results = [(e.plate.startswith("SUS"), e.result) for _, e in log.of(ScanCompleted)]  # type: ignore[union-attr]
    detected = sum(1 for sus, r in results if sus and r is ScanResult.SUSPECT) / 4_000
    false_alarms = sum(1 for sus, r in results if not sus and r is ScanResult.SUSPECT) / 4_000
    assert within(detected, 0.9, 4_000) and within(false_alarms, 0.05, 4_000)
    assert scanner.suspects == round((detected + false_alarms) * 4_000)


def test_nothing_is_scanned_while_the_scanner_is_down(env: simpy.Environment, rng: np.random.Generator, log: EventLog) -> None:
    scanner = _scanner(env, rng, log, outages=[(100, 600)])

    def arrivals() -> simpy.events.ProcessGenerator:
        for i in range(40):
            scanner.scan_vehicle(VehicleTruth(f"14C-{i:03d}.45", 20_000))
            yield env.timeout(30)

    env.process(arrivals())
    env.run()
    assert log.times(DeviceFaulted) == [100]
    assert log.times(DeviceRecovered) == [700]
    completed = log.times(ScanCompleted)
    assert not [t for t in completed if 100 < t < 700]
    assert len(completed) == 40
    assert completed[2:4] == [740.0, 780.0]  # the interrupted scan restarts at the repair
    assert scanner.aborted == 1
    assert scanner.downtime_s == 600


def test_a_requested_scan_names_its_visit_in_the_image_reference(
    env: simpy.Environment, rng: np.random.Generator, log: EventLog
) -> None:
    scanner = _scanner(env, rng, log)
    scanner.scan(RequestScan(device_id="scanner-1", visit_id="visit-42", plate="14C-123.45"))
    assert scanner.pending_requests == 1
    scanner.scan_vehicle(VehicleTruth("14C-123.45", 20_000))
    scanner.scan_vehicle(VehicleTruth("14C-678.90", 20_000))
    env.run()
    refs = [e.image_ref for _, e in log.of(ScanCompleted)]  # type: ignore[union-attr]
    assert refs == ["scanner-1/visit-42/1", "scanner-1/unrequested/2"]
    assert (scanner.pending_requests, scanner.unrequested, scanner.requests_received) == (0, 1, 1)


def test_an_unknown_scanner_type_is_refused(env: simpy.Environment, rng: np.random.Generator) -> None:
    with pytest.raises(ValueError, match="scanner-1: kind must be one of"):
        Scanner(env, "scanner-1", rng, "mobile", constant(60), p_detect=0.9, p_false_alarm=0.05)  # type: ignore[arg-type]
