"""Realistic visits for load-testing the clearance core, generated ahead of the measurement.

* ``twin.visitgen.declarations``: pre-arrival declarations (``sample_declaration``), the traffic
  ``Mix`` and the gate the load test runs against (``loadtest_gate_config``).
* ``twin.visitgen.world``: the reactive ``GateWorld`` that plays devices and officers around a
  recording core and yields the ``(event, now)`` stream a load test replays (``RecordedStream``).

Every random choice comes from numpy Generators spawned from one ``SeedSequence``: a seed gives
the same stream bit for bit.
"""

from __future__ import annotations

from twin.visitgen.declarations import (
    AGV_FLEET,
    DEFAULT_DECLARANTS,
    NAMED_MIXES,
    PARTNER_LINK,
    Declarant,
    Draws,
    Mix,
    invalid_declaration_payload,
    loadtest_gate_config,
    misread_plate,
    parse_mix,
    sample_container_number,
    sample_declarants,
    sample_declaration,
    sample_plate,
)
from twin.visitgen.world import (
    EVENT_KINDS,
    KIND_CODE,
    Act,
    GateWorld,
    Incident,
    RecordedStream,
    Truck,
    WorldStats,
)

__all__ = [
    "AGV_FLEET", "DEFAULT_DECLARANTS", "EVENT_KINDS", "KIND_CODE", "NAMED_MIXES", "PARTNER_LINK", "Act", "Declarant",
    "Draws", "GateWorld", "Incident", "Mix", "RecordedStream", "Truck", "WorldStats", "invalid_declaration_payload",
    "loadtest_gate_config", "misread_plate", "parse_mix", "sample_container_number", "sample_declarants",
    "sample_declaration", "sample_plate",
]
