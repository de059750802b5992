"""Ports: what a driver for each device must do to plug into the core.

A port receives the commands addressed to its device and reports what happened as events,
through the ``report`` callback it was connected with. The shell (the twin's SimPy wiring, or a
production service) passes reported events to ``GateCore.handle`` with the current time.

The SimPy emulators in ``hardware_emulators/`` implement these; so would a Modbus barrier
controller, an HTTP plate camera or a serial weighbridge reader. Nothing here imports a device
library: the core stays free of I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

from gate.commands import DispatchAgv, KeepClosed, OpenBarrier, RequestScan, SendManifest
from gate.events import Event

#: How a device reports: the shell stamps the time and hands the event to the core.
Report = Callable[[Event], None]


@runtime_checkable
class Device(Protocol):
    """What every device driver has: an id matching a ``DeviceSpec`` and a report channel."""

    @property
    def device_id(self) -> str: ...

    def connect(self, report: Report) -> None:
        """Send every future event of this device to ``report``."""
        ...


@runtime_checkable
class BarrierPort(Device, Protocol):
    """An entry/exit barrier. Reports ``BarrierOpened``, ``VehiclePassed``, ``BarrierClosed``,
    ``DeviceFaulted`` / ``DeviceRecovered``.

    ``open`` is idempotent: leave for a plate (and visit) that already has leave not yet used is
    not given twice. The core sends it again where the barrier may have dropped it (opened again
    after a doubtful read, or after a repair)."""

    def open(self, command: OpenBarrier) -> None: ...

    def keep_closed(self, command: KeepClosed) -> None: ...


@runtime_checkable
class PlateCameraPort(Device, Protocol):
    """A plate camera. Takes no commands; reports a ``PlateRead`` for each vehicle it sees."""


@runtime_checkable
class ScalePort(Device, Protocol):
    """A weighbridge. Takes no commands; reports ``WeightMeasured`` for each vehicle on it."""


@runtime_checkable
class ScannerPort(Device, Protocol):
    """A container scanner. Reports ``ScanCompleted``."""

    def scan(self, command: RequestScan) -> None: ...


@runtime_checkable
class AgvFleetPort(Device, Protocol):
    """The fleet on the cross-border AGV lane. Reports ``AgvArrived`` / ``AgvFaulted``."""

    def dispatch(self, command: DispatchAgv) -> None: ...


@runtime_checkable
class PartnerLinkPort(Device, Protocol):
    """The link to the partner side's platform. Reports ``ManifestAcknowledged``."""

    def send_manifest(self, command: SendManifest) -> None: ...
