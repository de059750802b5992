"""Shared fixtures for the emulator tests: a SimPy environment, a seeded stream, an event log."""

from __future__ import annotations

import numpy as np
import pytest
import simpy

from tests.unit.emulators.support import EventLog


@pytest.fixture
def env() -> simpy.Environment:
    return simpy.Environment()


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20250508)


@pytest.fixture
def log(env: simpy.Environment) -> EventLog:
    return EventLog(env)
