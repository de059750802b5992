"""Fixtures: runs of the synthetic gate in ``synthetic_gate``, shared by the results tests."""

from __future__ import annotations

import pytest

from tests.unit.twin_results.synthetic_gate import make_run
from twin.results import RunResult


@pytest.fixture(scope="session")
def one_scanner_run() -> RunResult:
    return make_run("one-scanner", [11, 12, 13, 14, 15])


@pytest.fixture(scope="session")
def two_scanner_run() -> RunResult:
    return make_run("two-scanners", [11, 12, 13, 14, 15], scanners=2)
