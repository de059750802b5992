"""Fixtures for the scenario tests."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.unit.scenarios.support import MINIMAL


@pytest.fixture
def minimal() -> dict[str, Any]:
    """A fresh deep copy of a small valid scenario, as parsed YAML would give it."""
    return copy.deepcopy(MINIMAL)


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str], Path]:
    """Write YAML text to a file in ``tmp_path`` and return its path."""
    counter = iter(range(1_000_000))

    def _write(text: str) -> Path:
        path = tmp_path / f"scenario_{next(counter)}.yaml"
        path.write_text(text, encoding="utf-8")
        return path

    return _write
