"""Partner link: acknowledgements after the latency, losses at p_loss, silence while down."""

from __future__ import annotations

import numpy as np
import simpy

from gate.commands import SendManifest
from gate.events import ManifestAcknowledged
from hardware_emulators import PartnerLink, constant
from tests.unit.emulators.support import EventLog, within


def _manifest(i: int, attempt: int = 1) -> SendManifest:
    return SendManifest(device_id="partner", mission_id=f"m{i}", visit_id=f"v{i}", container_no="MSKU1234565", attempt=attempt)


def test_a_manifest_is_acknowledged_after_the_latency(env: simpy.Environment, rng: np.random.Generator, log: EventLog) -> None:
    link = PartnerLink(env, "partner", rng, constant(8.0))
    link.connect(log)
    link.send_manifest(_manifest(1))
    env.run()
    assert log.entries == [(8.0, ManifestAcknowledged("partner", "m1"))]


def test_messages_are_lost_at_p_loss(env: simpy.Environment, rng: np.random.Generator, log: EventLog) -> None:
    link = PartnerLink(env, "partner", rng, constant(8.0), p_loss=0.1)
    link.connect(log)
    for i in range(10_000):
        link.send_manifest(_manifest(i))
    env.run()
    assert within(len(log.of(ManifestAcknowledged)) / 10_000, 0.9, 10_000)
    assert link.acknowledged + link.lost == link.sent == 10_000


def test_a_link_that_is_down_acknowledges_nothing(env: simpy.Environment, rng: np.random.Generator, log: EventLog) -> None:
    link = PartnerLink(env, "partner", rng, constant(8.0), outages=[(100.0, 50.0)])
    link.connect(log)

    def traffic() -> simpy.events.ProcessGenerator:
        yield env.timeout(95)
        link.send_manifest(_manifest(1))  # out before the outage, answer due inside it
        yield env.timeout(10)
        link.send_manifest(_manifest(2))  # sent while down
        yield env.timeout(50)
        link.send_manifest(_manifest(3, attempt=2))  # after the repair

    env.process(traffic())
    env.run()
    assert log.of(ManifestAcknowledged) == [(163.0, ManifestAcknowledged("partner", "m3"))]
    assert (link.sent, link.undelivered, link.acknowledged) == (3, 2, 1)
