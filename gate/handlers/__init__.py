"""One handler per event type, routed by a dict (``HANDLERS``).

Each handler takes the core, the event (already shape-checked), ``now`` and the list of commands
to append to, and returns ``(visit_id, verdict)``: a ``Refusal`` when the event is not applied
(the core audits it and tells the sender), or a short note for the audit when it is.
A refused event changes nothing but may raise a manual review.

The handlers are grouped by who sends the event: ``declarations``, ``decisions`` (people at the
gate), ``devices`` (and the corridor), ``agv`` (the cross-border lane).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gate import events as ev
from gate.core import GateCore
from gate.handlers.agv import on_agv_arrived, on_agv_faulted, on_container_handed_over, on_manifest_acknowledged
from gate.handlers.common import Out, Verdict
from gate.handlers.decisions import (
    on_channel_raised,
    on_clearance_decided,
    on_fee_paid,
    on_loading_registered,
    on_manual_plate_entered,
    on_payment_confirmed,
    on_review_resolved,
    on_role_granted,
    on_role_revoked,
    on_staging_release_ordered,
)
from gate.handlers.declarations import on_declaration_amended, on_declaration_cancelled, on_declaration_submitted
from gate.handlers.devices import (
    on_barrier_moved,
    on_device_faulted,
    on_device_recovered,
    on_gps_ping,
    on_plate_read,
    on_positions_reported,
    on_scan_completed,
    on_vehicle_passed,
    on_weight_measured,
)


HANDLERS: dict[type, Callable[[GateCore, Any, float, Out], Verdict]] = {
    ev.DeclarationSubmitted: on_declaration_submitted,
    ev.DeclarationAmended: on_declaration_amended,
    ev.DeclarationCancelled: on_declaration_cancelled,
    ev.ClearanceDecided: on_clearance_decided,
    ev.ChannelRaised: on_channel_raised,
    ev.LoadingRegistered: on_loading_registered,
    ev.FeePaid: on_fee_paid,
    ev.PaymentConfirmed: on_payment_confirmed,
    ev.ManualPlateEntered: on_manual_plate_entered,
    ev.ReviewResolved: on_review_resolved,
    ev.ContainerHandedOver: on_container_handed_over,
    ev.StagingReleaseOrdered: on_staging_release_ordered,
    ev.RoleGranted: on_role_granted,
    ev.RoleRevoked: on_role_revoked,
    ev.PlateRead: on_plate_read,
    ev.WeightMeasured: on_weight_measured,
    ev.ScanCompleted: on_scan_completed,
    ev.BarrierOpened: on_barrier_moved,
    ev.BarrierClosed: on_barrier_moved,
    ev.VehiclePassed: on_vehicle_passed,
    ev.DeviceFaulted: on_device_faulted,
    ev.DeviceRecovered: on_device_recovered,
    ev.ManifestAcknowledged: on_manifest_acknowledged,
    ev.AgvArrived: on_agv_arrived,
    ev.AgvFaulted: on_agv_faulted,
    ev.GpsPing: on_gps_ping,
    ev.PositionsReported: on_positions_reported,
}
