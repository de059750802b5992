"""Who a manual review belongs to: the roles that must act on it, and who may close it.

A review is raised for people at a place: a plate the camera at staging could not read is for the
officers standing at staging, a scanner's doubtful result for customs, an AGV that never reported
back for the operation centre. ``REVIEW_ROLES`` (in ``gate.enums``) names them by kind of review;
a review about a device takes the people where the device stands (``review_roles``). An account
with one of a review's roles may close it, and so may an administrator (``SUPERVISOR_ROLES``):
there is no second permission system beside the roles.
"""

from __future__ import annotations

from gate.config import DeviceSpec
from gate.enums import REVIEW_ROLES, SUPERVISOR_ROLES, DeviceKind, ReviewKind, Role, Site

#: The officers who stand at each checkpoint with a plate camera, the one usually there first.
#: The border guard and the operation centre (which watches every camera) may act at any of them.
OFFICERS_AT: dict[Site, tuple[Role, ...]] = {
    Site.STAGING: (Role.TRAFFIC_POLICE, Role.MEDICAL, Role.BORDER_GUARD, Role.OPERATION_CENTRE),
    Site.BARRIER_1: (Role.BORDER_GUARD, Role.OPERATION_CENTRE),
    Site.YARD_GATE_IN: (Role.YARD_OPERATOR, Role.CUSTOMS, Role.BORDER_GUARD, Role.OPERATION_CENTRE),
    Site.INSPECTION_BAY: (Role.CUSTOMS, Role.YARD_OPERATOR, Role.BORDER_GUARD, Role.OPERATION_CENTRE),
    Site.YARD_GATE_OUT: (Role.YARD_OPERATOR, Role.CUSTOMS, Role.BORDER_GUARD, Role.OPERATION_CENTRE),
    Site.BARRIER_2: (Role.BORDER_GUARD, Role.OPERATION_CENTRE),
}

#: Reviews about what a plate camera saw: they belong to the officers at the camera's site.
_AT_CAMERA = frozenset({ReviewKind.PLATE_READ, ReviewKind.UNKNOWN_PLATE, ReviewKind.REFUSED_VEHICLE,
                        ReviewKind.OUT_OF_ORDER, ReviewKind.DEVICE_FAULTED})
#: Who runs the manual procedure of each kind of device (weighing and scanning are customs').
_OPERATORS: dict[DeviceKind, tuple[Role, ...]] = {
    DeviceKind.BARRIER: (Role.BORDER_GUARD,),
    DeviceKind.PLATE_CAMERA: (Role.BORDER_GUARD,),
    DeviceKind.SCALE: (Role.CUSTOMS, Role.BORDER_GUARD),
    DeviceKind.SCANNER: (Role.CUSTOMS, Role.BORDER_GUARD),
    DeviceKind.AGV_FLEET: (Role.OPERATION_CENTRE,),
    DeviceKind.PARTNER_LINK: (Role.OPERATION_CENTRE,),
}
assert set(REVIEW_ROLES) == set(ReviewKind), "every kind of review belongs to someone"


def review_roles(kind: ReviewKind, device: DeviceSpec | None) -> tuple[Role, ...]:
    """The roles that must act on a review of ``kind`` raised about ``device`` (if any)."""
    if device is not None and kind in _AT_CAMERA:
        if device.kind is DeviceKind.PLATE_CAMERA:
            return OFFICERS_AT.get(device.site, _OPERATORS[DeviceKind.PLATE_CAMERA])
        if kind is ReviewKind.OUT_OF_ORDER or kind is ReviewKind.DEVICE_FAULTED:
            return _OPERATORS[device.kind]
    return REVIEW_ROLES[kind]


def may_close(account_roles: set[Role] | frozenset[Role], review_roles: tuple[Role, ...]) -> bool:
    """Whether an account holding ``account_roles`` may close a review belonging to ``review_roles``."""
    return any(role in account_roles for role in review_roles) or not SUPERVISOR_ROLES.isdisjoint(account_roles)
