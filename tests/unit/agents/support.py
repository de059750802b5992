"""Small agent models for the unit tests: a short corridor and a population, every knob at hand."""

from __future__ import annotations

from typing import Any

import numpy as np

from agents import Corridor, Driver, EnterprisePopulation
from gate.enums import GoodsCategory

AREA = "staging-1"


def corridor(**changes: Any) -> Corridor:
    """A 10 km road at 60 km/h, no speed spread, one staging area of two places, channelling on."""
    settings: dict[str, Any] = {
        "rng": np.random.default_rng(7), "road_km": 10.0, "speed_kmh": 60.0, "speed_cv": 0.0, "compliance": 1.0,
        "jam_spacing_m": 20.0, "min_gap_s": 2.0, "slow_zone_km": 0.5, "creep_share": 0.2, "segment_km": 5.0,
        "areas": {AREA: 2}, "channelling": True, "overflow_spill": 2, "release_batch": 3,
        "release_cooldown_s": 600.0,
    }
    settings.update(changes)
    return Corridor(**settings)


def waiting(model: Corridor, visit_id: str, obeys: bool, now: float = 0.0, called: bool = False) -> Driver:
    """A truck that stopped on the road at the checkpoint, as the twin puts it there."""
    driver = model.at_checkpoint(visit_id, f"14C{visit_id}", 50.0, obeys, now)
    driver.called = called
    model.place(driver, "road", now)
    return driver


def population(**changes: Any) -> EnterprisePopulation:
    """Fifty enterprises trading fruit and general cargo; fixed habits unless a test spreads them."""
    rng = np.random.default_rng(11)
    settings: dict[str, Any] = {
        "rng": rng, "count": 50,
        "cargo_mix": {GoodsCategory.PLANTS_FRUIT: 0.4, GoodsCategory.GENERAL: 0.6},
        "volume_skew": 0.8, "error_rate": 0.05, "error_concentration": 20.0,
        "lead_h": lambda: 3.0, "lead_cv": 0.0, "amend_h": lambda: float(rng.uniform(0.5, 4.0)), "amend_cv": 0.0,
        "pay_online_s": 900.0, "loading_registration_s": 600.0,
    }
    settings.update(changes)
    return EnterprisePopulation(**settings)
