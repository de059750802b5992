"""The clearance core type-checks under ``mypy --strict`` (with the pydantic plugin from pyproject)."""

from __future__ import annotations

from pathlib import Path

from mypy import api

ROOT = Path(__file__).resolve().parents[2]


def test_the_core_is_clean_under_mypy_strict() -> None:
    stdout, stderr, status = api.run(
        ["--config-file", str(ROOT / "pyproject.toml"), "--strict", "--cache-dir", str(ROOT / ".mypy_cache"),
         str(ROOT / "gate")]
    )
    assert status == 0, f"mypy found problems in gate/:\n{stdout}{stderr}"
    assert stdout.startswith("Success: no issues found")
