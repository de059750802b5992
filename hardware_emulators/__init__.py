"""SimPy models of the gate's devices and staff.

Each device emulator implements the matching port of ``gate.ports``: it has a ``device_id``,
reports gate events through the callback given to ``connect``, and accepts the commands
addressed to it. The twin creates one SimPy environment, the emulators (each with its own
random stream) and the truck processes that call the emulators' hooks (``observe``,
``weigh``, ``scan_vehicle``, ``pass_vehicle``, ``serve``).
"""

from hardware_emulators.agency import AgencyDesk
from hardware_emulators.agv import AgvFleet
from hardware_emulators.barrier import Barrier
from hardware_emulators.base import (
    WITHDRAWN,
    EmulatedDevice,
    FaultModel,
    Outage,
    Sampler,
    VehicleTruth,
    constant,
    exponential,
    uniform,
)
from hardware_emulators.camera import CONFUSIONS, PlateCamera, ReadWindow, misread
from hardware_emulators.partner import PartnerLink
from hardware_emulators.scale import Scale, frame, parse_frame
from hardware_emulators.scanner import THROUGHPUT_PER_H, Scanner, ScannerKind

__all__ = [
    "CONFUSIONS",
    "THROUGHPUT_PER_H",
    "WITHDRAWN",
    "AgencyDesk",
    "AgvFleet",
    "Barrier",
    "EmulatedDevice",
    "FaultModel",
    "Outage",
    "PartnerLink",
    "PlateCamera",
    "ReadWindow",
    "Sampler",
    "Scale",
    "Scanner",
    "ScannerKind",
    "VehicleTruth",
    "constant",
    "exponential",
    "frame",
    "misread",
    "parse_frame",
    "uniform",
]
