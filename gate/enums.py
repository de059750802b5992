"""The core's vocabulary: the closed sets of names every room shares.

Each enum's *value* is a short stable string, so that audit records, results tables and
scenario files can name a member without importing this module.
"""

from __future__ import annotations

from enum import Enum


class Direction(str, Enum):
    """Which way the goods cross, as declared."""

    EXPORT = "export"
    IMPORT = "import"
    TRANSIT = "transit"
    TEMPORARY_IMPORT_REEXPORT = "temporary_import_reexport"


class CrossingMode(str, Enum):
    """How the goods cross the line itself."""

    ROAD_HANDOVER = "road_handover"  # the truck (or a partner-side truck after transshipment) crosses
    AGV_LANE = "agv_lane"  # containers are handed to driverless AGVs on the cross-border lane


class GoodsCategory(str, Enum):
    """Goods classes that decide quarantine and fees."""

    LIVE_ANIMALS = "live_animals"
    ANIMAL_PRODUCTS = "animal_products"
    PLANTS_FRUIT = "plants_fruit"
    FOODSTUFF = "foodstuff"
    ORE = "ore"
    GENERAL = "general"


class VehicleClass(str, Enum):
    """Vehicle classes for yard capacity and fees."""

    SMALL = "small"  # under 4 t payload: vans, pick-ups
    TRUCK = "truck"  # rigid trucks
    CONTAINER = "container"  # tractor with container trailer


class Channel(str, Enum):
    """Customs risk channel (VNACCS / ASYCUDA selectivity)."""

    GREEN = "green"  # release on documents
    YELLOW = "yellow"  # document check
    RED = "red"  # physical inspection (scanner first where one exists)


class Location(str, Enum):
    """Where a visit's vehicle is, as far as the gate knows. Exactly one at any time."""

    OUTSIDE = "outside"  # declared; on the road or not yet travelling
    STAGING = "staging"  # in a staging area before the gate
    ENTRY_LANE = "entry_lane"  # at barrier 1
    SCALE = "scale"
    SCANNER = "scanner"
    YARD = "yard"
    INSPECTION = "inspection"  # in a physical-inspection bay
    EXIT_LANE = "exit_lane"  # at barrier 2
    DEPARTED = "departed"  # terminal: passed barrier 2
    RETURNED = "returned"  # turned back before entry, awaiting re-declaration
    REFUSED = "refused"  # terminal: removed from the flow by an officer


TERMINAL_LOCATIONS = frozenset({Location.DEPARTED, Location.REFUSED})


class Site(str, Enum):
    """Where a device stands. A plate read at a site is the vehicle's arrival there."""

    STAGING = "staging"
    BARRIER_1 = "barrier_1"
    SCALE = "scale"
    SCANNER = "scanner"
    YARD_GATE_IN = "yard_gate_in"
    YARD_GATE_OUT = "yard_gate_out"
    INSPECTION_BAY = "inspection_bay"
    BARRIER_2 = "barrier_2"
    AGV_LANE = "agv_lane"
    PARTNER = "partner"


class DeviceKind(str, Enum):
    """What a device is, and so which commands it takes and which events it reports."""
    BARRIER = "barrier"
    PLATE_CAMERA = "plate_camera"
    SCALE = "scale"
    SCANNER = "scanner"
    AGV_FLEET = "agv_fleet"
    PARTNER_LINK = "partner_link"


class Station(str, Enum):
    """Where a `RouteTo` command sends a vehicle."""

    STAGING = "staging"
    ENTRY_LANE = "entry_lane"
    SCALE = "scale"
    SCANNER = "scanner"
    YARD = "yard"
    INSPECTION = "inspection"
    EXIT_LANE = "exit_lane"
    AWAY = "away"  # leave the gate area (returned or refused)


class Role(str, Enum):
    """What an account may decide."""

    DECLARANT = "declarant"
    MEDICAL = "medical"
    BORDER_GUARD = "border_guard"
    HEALTH_QUARANTINE = "health_quarantine"
    ANIMAL_QUARANTINE = "animal_quarantine"
    PLANT_QUARANTINE = "plant_quarantine"
    CUSTOMS = "customs"
    YARD_OPERATOR = "yard_operator"
    FEE_COLLECTOR = "fee_collector"
    OPERATION_CENTRE = "operation_centre"
    TRAFFIC_POLICE = "traffic_police"
    ADMIN = "admin"


class ClearanceKind(str, Enum):
    """One agency requirement on a visit. The declaration decides which are required."""

    MEDICAL = "medical"
    BORDER_GUARD_ENTRY = "border_guard_entry"
    HEALTH_QUARANTINE = "health_quarantine"
    ANIMAL_QUARANTINE = "animal_quarantine"
    PLANT_QUARANTINE = "plant_quarantine"
    CUSTOMS_DOCUMENTS = "customs_documents"
    CUSTOMS_INSPECTION = "customs_inspection"
    LOADING = "loading"
    FEE = "fee"
    BORDER_GUARD_EXIT = "border_guard_exit"


#: The role an account needs to decide each clearance.
CLEARANCE_ROLE: dict[ClearanceKind, Role] = {
    ClearanceKind.MEDICAL: Role.MEDICAL,
    ClearanceKind.BORDER_GUARD_ENTRY: Role.BORDER_GUARD,
    ClearanceKind.HEALTH_QUARANTINE: Role.HEALTH_QUARANTINE,
    ClearanceKind.ANIMAL_QUARANTINE: Role.ANIMAL_QUARANTINE,
    ClearanceKind.PLANT_QUARANTINE: Role.PLANT_QUARANTINE,
    ClearanceKind.CUSTOMS_DOCUMENTS: Role.CUSTOMS,
    ClearanceKind.CUSTOMS_INSPECTION: Role.CUSTOMS,
    ClearanceKind.LOADING: Role.CUSTOMS,
    ClearanceKind.FEE: Role.FEE_COLLECTOR,
    ClearanceKind.BORDER_GUARD_EXIT: Role.BORDER_GUARD,
}


class ClearanceStatus(str, Enum):
    """Where one clearance stands."""
    REQUIRED = "required"  # needed, not yet workable (the vehicle is not where it can be done)
    ASSIGNED = "assigned"  # on an agency's work list
    PENDING_CONFIRMATION = "pending_confirmation"  # e.g. an online payment awaiting the bank
    PASSED = "passed"
    RETURNED = "returned"  # returned for re-declaration
    REFUSED = "refused"


class Outcome(str, Enum):
    """What an officer decides on a clearance."""

    PASSED = "passed"
    RETURNED = "returned"  # wrong data: back to the declarant for re-declaration
    REFUSED = "refused"  # final: the vehicle does not cross


class ScanResult(str, Enum):
    """What the officer reading a scanner image concluded."""
    CLEAR = "clear"
    SUSPECT = "suspect"


class PaymentMethod(str, Enum):
    """How the infrastructure fee was paid."""
    DIRECT = "direct"  # at the counter: confirmed on the spot by a fee collector
    ONLINE = "online"  # bank transfer: confirmed later by the fee collector / tax authority


class TrafficAction(str, Enum):
    """The advice to traffic police at a staging area."""
    HOLD = "hold"
    RELEASE = "release"


class AgvMissionState(str, Enum):
    """Where an AGV mission stands."""
    MANIFEST_SENT = "manifest_sent"
    ACKNOWLEDGED = "acknowledged"
    DISPATCHED = "dispatched"
    DELIVERED = "delivered"
    FAULTED = "faulted"
    FAILED = "failed"  # gave up: manual handling


class ReviewKind(str, Enum):
    """What a manual review is about; it decides who must act on it (``REVIEW_ROLES``)."""

    PLATE_READ = "plate-read"  # no read, or a doubtful one: type the plate
    UNKNOWN_PLATE = "unknown-plate"  # a plate no open declaration holds
    REFUSED_VEHICLE = "refused-vehicle"  # a vehicle refused (or whose trip was called off) seen again
    OUT_OF_ORDER = "out-of-order"  # a vehicle seen where it cannot be
    UNAUTHORISED_PASSAGE = "unauthorised-passage"  # through a barrier not opened for it
    BARRIER_FAULTED = "barrier-faulted"  # a faulted barrier to lift by hand for a vehicle
    DEVICE_FAULTED = "device-faulted"  # a device down: its manual procedure
    NO_SHOW = "no-show"  # called forward from staging and never read at barrier 1
    REFUSED_IN_YARD = "refused-in-yard"  # a refused vehicle still parked in the yard: see it out
    YARD_OVERFLOW = "yard-overflow"  # back in a full yard without a slot
    SCALE_SKIPPED = "scale-skipped"  # reached the yard unweighed
    OVERLOAD = "overload"  # over the scale's range
    WEIGHED_TWICE = "weighed-twice"  # two weights for one vehicle
    SCANNED_TWICE = "scanned-twice"  # two scan results for one vehicle
    PAYMENT_UNCONFIRMED = "payment-unconfirmed"  # an online payment not confirmed in time
    REFUND = "refund"  # money taken twice, or for a closed visit
    MANIFEST_UNACKNOWLEDGED = "manifest"  # the partner side never acknowledged a manifest
    MANIFEST_LATE = "manifest-late"  # ... acknowledged after the mission failed
    AGV_UNDISPATCHED = "agv-undispatched"  # a container across the line the gate never sent
    AGV_FAILED = "agv"  # an AGV mission that failed every dispatch
    AGV_REFUSED = "agv-refused"  # a visit refused with its container on the AGV stack or lane
    AGV_SILENT = "agv-silent"  # a dispatched AGV mission not heard of in time


#: Who must act on each kind of review, the first the one who usually does. An account with any
#: of these roles may close it, and an administrator may close any (``SUPERVISOR_ROLES``). A
#: review about a plate camera belongs instead to the officers who stand at its site
#: (``gate.reviews.review_roles``). Why each: the border guard controls who passes the barriers
#: and checks plates, drivers and vehicles (DOMAIN.md, steps 4-5); customs supervises weighing,
#: scanning and the goods (step 9); the management centre's fee collectors handle money (step 10);
#: the yard operator keeps the yard's capacity (step 6); traffic police channel trucks between
#: staging and the gate (step 2); the operation centre runs the AGV lane and exchanges manifests
#: with the partner side (smart gate).
REVIEW_ROLES: dict[ReviewKind, tuple[Role, ...]] = {
    ReviewKind.PLATE_READ: (Role.BORDER_GUARD,),
    ReviewKind.UNKNOWN_PLATE: (Role.BORDER_GUARD,),
    ReviewKind.REFUSED_VEHICLE: (Role.BORDER_GUARD,),
    ReviewKind.OUT_OF_ORDER: (Role.BORDER_GUARD,),
    ReviewKind.UNAUTHORISED_PASSAGE: (Role.BORDER_GUARD,),
    ReviewKind.BARRIER_FAULTED: (Role.BORDER_GUARD,),
    ReviewKind.DEVICE_FAULTED: (Role.BORDER_GUARD,),
    ReviewKind.NO_SHOW: (Role.TRAFFIC_POLICE, Role.BORDER_GUARD),
    # The yard operator sees the vehicle out of the yard; the border guard stops it at barrier 2.
    ReviewKind.REFUSED_IN_YARD: (Role.YARD_OPERATOR, Role.BORDER_GUARD),
    ReviewKind.YARD_OVERFLOW: (Role.YARD_OPERATOR,),
    ReviewKind.SCALE_SKIPPED: (Role.CUSTOMS,),
    ReviewKind.OVERLOAD: (Role.CUSTOMS,),
    ReviewKind.WEIGHED_TWICE: (Role.CUSTOMS,),
    ReviewKind.SCANNED_TWICE: (Role.CUSTOMS,),
    ReviewKind.PAYMENT_UNCONFIRMED: (Role.FEE_COLLECTOR,),
    ReviewKind.REFUND: (Role.FEE_COLLECTOR,),
    ReviewKind.MANIFEST_UNACKNOWLEDGED: (Role.OPERATION_CENTRE,),
    ReviewKind.MANIFEST_LATE: (Role.OPERATION_CENTRE,),
    # Goods across the line that the gate never sent: customs must know as well.
    ReviewKind.AGV_UNDISPATCHED: (Role.OPERATION_CENTRE, Role.CUSTOMS),
    ReviewKind.AGV_FAILED: (Role.OPERATION_CENTRE,),
    # The container of a refused visit goes back onto its vehicle, under customs' eye.
    ReviewKind.AGV_REFUSED: (Role.OPERATION_CENTRE, Role.CUSTOMS),
    ReviewKind.AGV_SILENT: (Role.OPERATION_CENTRE,),
}

#: Roles that may close any review, whoever it belongs to: the gate's administrators.
SUPERVISOR_ROLES = frozenset({Role.ADMIN})
