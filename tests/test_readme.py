"""The README's example runs as printed."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

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
