"""The telematics feed between the driver apps and the core, as the twin and the load test model it.

A fleet-tracking server collects the positions the apps send and hands them to the core every
``period`` seconds, as one ``PositionsReported`` batch from ``FEED_DEVICE``.
"""

from __future__ import annotations

import math

#: The device id the feed's batches come from.
FEED_DEVICE = "telematics"


def next_delivery(sent: float, period: float) -> float:
    """The feed's first delivery at or after ``sent`` (deliveries fall on multiples of ``period``)."""
    delivery = math.ceil(sent / period) * period
    return delivery if delivery >= sent else delivery + period  # a quotient rounded down
