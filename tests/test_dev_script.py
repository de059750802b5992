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


def _test_output(*args: str) -> str:
    """What ``./dev test ARGS`` prints running this file's first test."""
    done = subprocess.run(["bash", str(ROOT / "dev"), "test", *args, "-p", "no:cacheprovider",
                           "tests/test_dev_script.py::test_a_test_path_named_is_run_instead_of_the_whole_folder"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr + done.stdout
    return done.stdout


def _workers(output: str) -> bool:
    """Whether pytest-xdist's workers ran the tests."""
    return "created: " in output or "bringing up nodes" in output


def test_the_tests_run_in_a_worker_per_cpu_unless_the_args_say_otherwise() -> None:
    assert _workers(_test_output())  # -n auto
    assert "created: 1/1 worker" in _test_output("-n1")  # the workers asked for, not one per CPU
    for args in (("-n", "0"), ("-p", "no:xdist")):  # in this process
        output = _test_output(*args)
        assert not _workers(output) and "1 passed" in output, (args, output)
