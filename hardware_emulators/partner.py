"""The link to the partner side's platform: manifests out, acknowledgements back.

A manifest sent while the link is up is acknowledged (``ManifestAcknowledged``) after one
latency draw, unless the message or its acknowledgement is lost (probability ``p_loss``) or
the link goes down before the acknowledgement arrives. A manifest sent while the link is down
is never delivered. In every failed case nothing is reported: the core notices the silence
and resends (``SendManifest.attempt``), as it would with a real partner system.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import simpy

from gate.commands import SendManifest
from gate.events import ManifestAcknowledged
from hardware_emulators.base import (
    EmulatedDevice,
    OutageLike,
    ProcessGenerator,
    Sampler,
    draw_duration,
    require_probability,
)


class PartnerLink(EmulatedDevice):
    """The manifest exchange with the partner side (implements ``gate.ports.PartnerLinkPort``).

    Args:
        env: the simulation environment.
        device_id: the link's id in the gate configuration.
        rng: the link's random stream (message loss).
        latency_s: round-trip time from sending a manifest to its acknowledgement.
        p_loss: probability a manifest or its acknowledgement is lost.
        mtbf_s, mttr_s, outages: the link's faults (see ``FaultModel``).
    """

    def __init__(
        self,
        env: simpy.Environment,
        device_id: str,
        rng: np.random.Generator,
        latency_s: Sampler,
        *,
        p_loss: float = 0.0,
        mtbf_s: float | None = None,
        mttr_s: Sampler | None = None,
        outages: Iterable[OutageLike] = (),
    ) -> None:
        super().__init__(env, device_id, rng, mtbf_s=mtbf_s, mttr_s=mttr_s, outages=outages)
        self._latency_s = latency_s
        self.p_loss = require_probability(device_id, "p_loss", p_loss)
        #: Manifests sent, acknowledged, lost in transit, and not delivered because the link was down.
        self.sent = 0
        self.acknowledged = 0
        self.lost = 0
        self.undelivered = 0
        #: Manifests awaiting their acknowledgement now.
        self.in_flight = 0

    def send_manifest(self, command: SendManifest) -> None:
        """Send a mission's manifest to the partner side."""
        if command.device_id != self.device_id:
            raise ValueError(f"{self.device_id}: received a command addressed to {command.device_id!r}")
        self.sent += 1
        if self.is_down:
            self.undelivered += 1
            return
        # The loss draw is made at send time, one per manifest, so the draws do not depend on
        # when acknowledgements come back.
        lost = float(self._rng.random()) < self.p_loss
        self.env.process(self._exchange(command, lost))

    def _exchange(self, command: SendManifest, lost: bool) -> ProcessGenerator:
        faults_at_send = self.fault_count
        self.in_flight += 1
        try:
            yield self.env.timeout(draw_duration(self.device_id, "latency_s", self._latency_s))
        finally:
            self.in_flight -= 1
        if lost:
            self.lost += 1
        elif self.is_down or self.fault_count != faults_at_send:
            # The link went down while the manifest was out: the exchange died with it.
            self.undelivered += 1
        else:
            self.acknowledged += 1
            self._emit(ManifestAcknowledged(device_id=self.device_id, mission_id=command.mission_id))
