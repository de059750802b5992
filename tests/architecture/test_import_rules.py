"""The import rules of ARCHITECTURE.md, checked on the source itself.

Each room may import only what its row allows. The check parses every module with ``ast``
(so a string that merely mentions a package does not count) and also forbids wall-clock reads
and the global random module inside the core.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

FORBIDDEN: dict[str, set[str]] = {
    "gate": {"simpy", "mesa", "streamlit", "matplotlib", "numpy", "pandas", "random", "twin", "agents",
             "hardware_emulators", "scenarios", "dashboard", "time", "asyncio", "socket", "threading"},
    "hardware_emulators": {"mesa", "streamlit", "twin", "agents", "dashboard", "scenarios"},
    "agents": {"simpy", "streamlit", "twin", "dashboard", "hardware_emulators"},
    "scenarios": {"simpy", "mesa", "streamlit", "twin", "dashboard", "agents", "hardware_emulators"},
    "twin": {"streamlit", "dashboard"},
}

#: Calls that read the wall clock; the core gets time only as ``now``.
CLOCK_CALLS = {("datetime", "now"), ("datetime", "utcnow"), ("datetime", "today"), ("date", "today"),
               ("time", "time"), ("time", "monotonic"), ("time", "perf_counter")}


def _modules(room: str) -> list[Path]:
    return sorted((ROOT / room).rglob("*.py"))


def _imported_roots(tree: ast.AST) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("room", sorted(FORBIDDEN))
def test_each_room_imports_only_what_the_architecture_allows(room: str) -> None:
    offences = []
    for path in _modules(room):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for name in sorted(_imported_roots(tree) & FORBIDDEN[room]):
            offences.append(f"{path.relative_to(ROOT)} imports {name}")
    assert not offences, "\n".join(offences)


def test_the_core_never_reads_the_wall_clock() -> None:
    offences = []
    for path in _modules("gate"):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                owner = node.func.value
                owner_name = owner.id if isinstance(owner, ast.Name) else getattr(owner, "attr", None)
                if (owner_name, node.func.attr) in CLOCK_CALLS:
                    offences.append(f"{path.relative_to(ROOT)}:{node.lineno} calls {owner_name}.{node.func.attr}()")
    assert not offences, "\n".join(offences)


def test_the_checker_catches_a_forbidden_import(tmp_path: Path) -> None:
    tree = ast.parse("import simpy\nfrom mesa.agent import Agent\nfrom . import sibling\n")
    assert _imported_roots(tree) & FORBIDDEN["gate"] == {"simpy", "mesa"}
