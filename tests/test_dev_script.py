"""``./dev bench``: the benchmark folder alone, unless a test path under tests/ is named."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _collected(*args: str) -> list[str]:
    done = subprocess.run(["bash", str(ROOT / "dev"), "bench", *args, "--collect-only", "-q", "-p", "no:cacheprovider"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr + done.stdout
    return [line for line in done.stdout.splitlines() if "::" in line]


def test_an_options_value_that_names_a_folder_is_not_taken_for_a_test_path(tmp_path: Path) -> None:
    collected = _collected("--benchmark-storage", str(tmp_path))  # tmp_path exists: it looks like a path
    assert collected and all(node.startswith("tests/benchmarks/") for node in collected), collected[:3]


def test_a_test_path_named_is_run_instead_of_the_whole_folder() -> None:
    collected = _collected("tests/benchmarks/test_memory.py")
    assert collected and all(node.startswith("tests/benchmarks/test_memory.py::") for node in collected)
