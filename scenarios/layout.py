"""The physical gate: lanes, scales, scanners, yard, staging areas, bays, the AGV lane.

The layout is also what names the devices. ``device_inventory`` derives the device list the
twin builds (and the core's ``GateConfig.devices``) from the layout, with fixed names:

=====================  =====================================================
``barrier-in-<k>``     barrier 1 of entry lane k (k from 1)
``barrier-out-<k>``    barrier 2 of exit lane k
``cam-in-<k>``         plate camera at barrier 1 of entry lane k
``cam-out-<k>``        plate camera at barrier 2 of exit lane k
``cam-<area>``         plate camera at a staging area (``cam-staging-1``)
``cam-yard-in/out``    yard gate cameras
``cam-bay``            camera at the inspection bays
``scale-<k>``          weighbridges
``scanner-<k>``        container scanners, numbered in the order the layout lists them
``agv-fleet``          the AGV fleet on the cross-border lane
``partner-link``       the link to the partner side's platform (with the AGV lane)
=====================  =====================================================

Cameras exist only when the scenario has a plate-camera model; without one, plates are
entered by hand (phase 1).
"""

from __future__ import annotations

import re
from enum import Enum
from typing import Annotated, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from gate.config import DeviceSpec
from gate.enums import DeviceKind, Site, VehicleClass
from scenarios.distributions import Constant, Distribution, Exponential, Triangular
from scenarios.errors import Problems
from scenarios.values import (
    FROZEN,
    MAX_AGVS,
    MAX_DEVICES,
    AtLeastOne,
    Capacity,
    DeviceCount,
    Mtbf,
    OptionalDeviceCount,
    Positive,
    Whole,
    Window,
)


class ScannerType(str, Enum):
    """Container scanner families, by throughput (DOMAIN.md, Devices)."""

    DRIVE_THROUGH = "drive_through"  # about 50-150 vehicles/h
    PORTAL = "portal"  # relocatable / portal: about 20-30 vehicles/h


class ScannerGroup(BaseModel):
    """Some scanners of one type."""

    model_config = FROZEN
    type: ScannerType
    count: OptionalDeviceCount


class AgvLane(BaseModel):
    """The dedicated cross-border lane on which driverless AGVs carry containers."""

    model_config = FROZEN
    n_agvs: Annotated[Whole, Field(ge=1, le=MAX_AGVS)]
    lane_km: Positive
    speed_kmh: Positive
    #: Crane / handover time at each end of a mission.
    handover_s: Distribution = Triangular(kind="triangular", low=120, mode=180, high=300)
    missions_per_charge: AtLeastOne = 20
    charge_s: Distribution = Constant(value=1800)
    mtbf_h: Mtbf = 200.0
    mttr_h: Distribution = Exponential(kind="exponential", mean=1.0)
    #: Periods when the partner side stops accepting AGVs: loaded AGVs wait at the border line
    #: until it accepts again (manifests are still acknowledged).
    partner_closures: tuple[Window, ...] = ()
    #: Container places on the stack at the handover point, where containers wait for an AGV.
    #: When every place is taken, the crane cannot take a container off its truck: the truck
    #: waits in the yard with it (and holds its yard slot) until a place frees.
    stack_slots: Capacity = "unlimited"

    @field_validator("stack_slots")
    @classmethod
    def _a_stack_holds_a_container(cls, value: int | str) -> int | str:
        if value == 0:
            raise ValueError("must be at least 1 or 'unlimited' (containers wait for an AGV on the stack)")
        return value

    @property
    def trip_s(self) -> float:
        """One-way driving time on the lane, in seconds."""
        return self.lane_km / self.speed_kmh * 3600


#: Area names whose camera (``cam-<area>``) would take the name of another camera of the gate.
_OTHER_CAMERA = re.compile(r"(?:in|out)-\d+|yard-in|yard-out|bay")


def _default_yard() -> dict[VehicleClass, int | Literal["unlimited"]]:
    return {VehicleClass.SMALL: 40, VehicleClass.TRUCK: 150, VehicleClass.CONTAINER: 150}


def _default_staging() -> dict[str, int | Literal["unlimited"]]:
    return {"staging-1": 200}


class Layout(BaseModel):
    """Lanes, equipment and space at one gate."""

    model_config = FROZEN
    entry_lanes: DeviceCount
    exit_lanes: DeviceCount
    #: Vehicles that stand at a lane's barrier at once, for its camera and the officers' check;
    #: the others sent to the lane wait behind them in single file. "unlimited": every vehicle
    #: sent to a lane is read and checked at once, side by side (the arm still lets one through
    #: at a time).
    barrier_places: Capacity = 1
    #: Trucks the forecourt between the staging checkpoint and barrier 1 holds, per entry lane
    #: (one apron in front of all the lanes, so this many times the lanes; those queued in the
    #: lanes included; assumption: about 200 m of apron per lane at 20 m a truck). A truck called
    #: forward waits at staging until there is room. At least ``barrier_places``.
    forecourt_per_lane: Capacity = 10
    scales: OptionalDeviceCount = 0
    scanners: tuple[ScannerGroup, ...] = ()
    #: Parking slots by vehicle class; a class left out has no slots.
    yard: dict[VehicleClass, Capacity] = Field(default_factory=_default_yard)
    #: Staging areas on the approach road, nearest to the gate first, with their capacity.
    staging_areas: dict[str, Capacity] = Field(default_factory=_default_staging)
    #: Bays for physical inspection, one truck each; "unlimited": an inspection never waits for
    #: a bay. At least one: red-channel and suspect trucks are inspected in a bay.
    inspection_bays: Capacity = 2
    agv_lane: AgvLane | None = None

    @field_validator("barrier_places")
    @classmethod
    def _barrier_places(cls, places: int | str) -> int | str:
        if places != "unlimited" and not 1 <= int(places) <= MAX_DEVICES:
            raise ValueError(f"must be from 1 to {MAX_DEVICES} or 'unlimited': the vehicles a lane holds at its "
                             "barrier at once")
        return places

    @field_validator("forecourt_per_lane")
    @classmethod
    def _forecourt(cls, trucks: int | str) -> int | str:
        if trucks != "unlimited" and not 1 <= int(trucks) <= 10_000:
            raise ValueError("must be from 1 to 10000 or 'unlimited': the trucks the forecourt holds per entry lane")
        return trucks

    @field_validator("inspection_bays")
    @classmethod
    def _inspection_bays(cls, bays: int | str) -> int | str:
        if bays == 0:
            raise ValueError("must be at least 1: a gate that inspects trucks physically needs a bay; "
                             "give 'unlimited' for no limit")
        return bays

    @field_validator("staging_areas")
    @classmethod
    def _area_names(cls, areas: dict[str, int | str]) -> dict[str, int | str]:
        if len(areas) > MAX_DEVICES:
            raise ValueError(f"at most {MAX_DEVICES} staging areas (got {len(areas)})")
        for name in areas:
            if _OTHER_CAMERA.fullmatch(name):
                raise ValueError(f"staging area {name!r}: its camera would be called cam-{name}, as another "
                                 "camera of the gate is; choose another name")
        for name in areas:
            if not name or len(name) > 40 or any(ch.isspace() for ch in name):
                raise ValueError(f"staging area names must be 1-40 characters without spaces (got {name!r})")
        return areas

    @model_validator(mode="after")
    def _forecourt_holds_the_barrier_places(self) -> Layout:
        places, forecourt = self.barrier_places, self.forecourt_per_lane
        if places != "unlimited" and forecourt != "unlimited" and int(forecourt) < int(places):
            problems = Problems()
            problems.add("forecourt_per_lane", f"holds fewer trucks per lane than each lane's barrier places "
                         f"({places}): those places could never all be taken", forecourt)
            problems.raise_if_any()
        return self

    @property
    def scanner_count(self) -> int:
        """All scanners, of every type."""
        return sum(group.count for group in self.scanners)

    def scanner_ids(self) -> dict[str, ScannerType]:
        """Scanner device ids (``scanner-1`` ...) and their types, in layout order."""
        ids: dict[str, ScannerType] = {}
        for group in self.scanners:
            for _ in range(group.count):
                ids[f"scanner-{len(ids) + 1}"] = group.type
        return ids


def device_inventory(layout: Layout, plate_cameras: bool) -> tuple[DeviceSpec, ...]:
    """Every device of ``layout``, named as the module docstring says.

    ``plate_cameras`` says whether the gate reads plates automatically; without cameras the
    inventory has no ``cam-*`` devices.
    """
    devices: list[DeviceSpec] = []

    def add(device_id: str, kind: DeviceKind, site: Site, lane: str | None = None) -> None:
        devices.append(DeviceSpec(device_id=device_id, kind=kind, site=site, lane=lane))

    if plate_cameras:
        for area in layout.staging_areas:
            add(f"cam-{area}", DeviceKind.PLATE_CAMERA, Site.STAGING, area)
    for k in range(1, layout.entry_lanes + 1):
        if plate_cameras:
            add(f"cam-in-{k}", DeviceKind.PLATE_CAMERA, Site.BARRIER_1, f"in-{k}")
        add(f"barrier-in-{k}", DeviceKind.BARRIER, Site.BARRIER_1, f"in-{k}")
    for k in range(1, layout.scales + 1):
        add(f"scale-{k}", DeviceKind.SCALE, Site.SCALE)
    for scanner_id in layout.scanner_ids():
        add(scanner_id, DeviceKind.SCANNER, Site.SCANNER)
    if plate_cameras:
        add("cam-yard-in", DeviceKind.PLATE_CAMERA, Site.YARD_GATE_IN)
        add("cam-yard-out", DeviceKind.PLATE_CAMERA, Site.YARD_GATE_OUT)
        add("cam-bay", DeviceKind.PLATE_CAMERA, Site.INSPECTION_BAY)
    for k in range(1, layout.exit_lanes + 1):
        if plate_cameras:
            add(f"cam-out-{k}", DeviceKind.PLATE_CAMERA, Site.BARRIER_2, f"out-{k}")
        add(f"barrier-out-{k}", DeviceKind.BARRIER, Site.BARRIER_2, f"out-{k}")
    if layout.agv_lane is not None:
        add("agv-fleet", DeviceKind.AGV_FLEET, Site.AGV_LANE)
        add("partner-link", DeviceKind.PARTNER_LINK, Site.PARTNER)
    return tuple(devices)
