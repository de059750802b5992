"""Settings for the whole test session."""

from __future__ import annotations

import gc

import pytest


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Whatever the tests left alive goes with the process: keep the full garbage collection
    pytest runs as it closes from walking all of it. In a pytest-xdist worker that ran the large
    scenarios that walk took long enough for the controller to interrupt the worker (an ignored
    KeyboardInterrupt printed at the end of a passing run)."""
    gc.freeze()
