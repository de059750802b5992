"""The README's example runs as printed, and the files it names exist."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

from twin.calibration import CALIBRATION_REPORT
from twin.compare import COMPARISON_REPORT
from twin.recovery import RECOVERY_REPORT
from twin.results import REPORT_FILE, SCENARIO_FILE
from twin.sweep import SWEEP_REPORT

README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_readme_example_feeds_events_and_prints_commands() -> None:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)
    example = next(b for b in blocks if "for command in core.handle(event, now)" in b)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(example, "README.md", "exec"), {})
    lines = printed.getvalue().splitlines()
    assert lines[0].startswith("0 AcceptDeclaration(declaration_id='D-0001'")
    assert any("RouteTo(" in line and "entry_lane" in line for line in lines)
    assert any("BORDER_GUARD_ENTRY" in line for line in lines)


#: Places the README names that a run makes, not the repository.
_MADE_BY_RUNS = ("out/", ".venv/")
#: Files every results folder holds, and the reports of compare, sweep and recovery, which the
#: README names by their own names.
_RESULTS_FILES = (REPORT_FILE, SCENARIO_FILE, COMPARISON_REPORT, SWEEP_REPORT, RECOVERY_REPORT, CALIBRATION_REPORT)


def test_every_file_the_readme_names_is_in_the_repository() -> None:
    root = README.parent
    named = set(re.findall(r"`([A-Za-z0-9_./*-]+)`", README.read_text(encoding="utf-8")))
    paths = [t for t in named if ("/" in t or re.search(r"\.(md|py|yaml|toml)$", t)) and not t.startswith(_MADE_BY_RUNS)
             and t not in _RESULTS_FILES]
    assert len(paths) > 10
    missing = sorted(t for t in paths if not any(root.glob(t)))
    assert not missing, f"the README names files the repository does not have: {missing}"
