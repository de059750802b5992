"""The people around the gate as Mesa agents: enterprises, drivers on the corridor, traffic police.

* ``agents.enterprises`` — the declarants: cargo, volume, error rate, declaring and amending habits.
* ``agents.corridor`` — drivers on the approach road (car-following, no overtaking, slowing at
  the back of a queue) and the places where trucks wait at the staging checkpoint.
* ``agents.police`` — the traffic police who apply the platform's hold/release advice.

These models never run a clock and never call the core: the twin (``twin.agents_people``)
steps or calls them from its SimPy processes, passes them their random streams, and reports
what they do to the core as events. Only ``gate``, ``mesa`` and ``numpy`` are imported here.
"""

from __future__ import annotations

from agents.corridor import ROAD, Arrival, Corridor, Driver
from agents.enterprises import Enterprise, EnterprisePopulation, Trip
from agents.police import POLICE_ACCOUNT, PatrolOrders, TrafficPolice

__all__ = ["ROAD", "POLICE_ACCOUNT", "Arrival", "Corridor", "Driver", "Enterprise", "EnterprisePopulation",
           "PatrolOrders", "TrafficPolice", "Trip"]
