"""Reading the reports' Markdown back: their tables, sections and links."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote


def _cells(line: str) -> list[str]:
    """The cells of a Markdown table line, escaped pipes read back as pipes."""
    inner = line.strip()
    assert inner.startswith("|") and inner.endswith("|"), line
    return [cell.strip().replace("\\|", "|") for cell in re.split(r"(?<!\\)\|", inner[1:-1])]


def tables(report: str) -> dict[str, list[dict[str, str]]]:
    """Every table of a report by the section (``## ...``) it is in, as rows by header; every row
    has as many cells as its header."""
    found: dict[str, list[dict[str, str]]] = {}
    section, lines = "", report.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        if line.startswith("## "):
            section = line[3:]
        if line.startswith("|"):
            header = _cells(line)
            assert re.fullmatch(r"\|(:---|---:)(\|(:---|---:))*\|", lines[index + 1]), lines[index + 1]
            rows = []
            index += 2
            while index < len(lines) and lines[index].startswith("|"):
                cells = _cells(lines[index])
                assert len(cells) == len(header), lines[index]
                rows.append(dict(zip(header, cells, strict=True)))
                index += 1
            assert section not in found, f"two tables in {section}"
            found[section] = rows
            continue
        index += 1
    return found


def section(report: str, title: str) -> str:
    """The text of the section ``## title...`` of a report ("" when there is none)."""
    parts = re.split(r"^## ", report, flags=re.MULTILINE)
    return next((part for part in parts[1:] if part.startswith(title)), "")


def links(report: str) -> list[str]:
    """The targets of the report's links and images, as paths."""
    return [unquote(target) for target in re.findall(r"\]\(([^)\s]+)\)", report)]


def assert_links_exist(report: str, out: Path) -> list[str]:
    targets = links(report)
    assert targets
    for target in targets:
        assert not target.startswith("/") and ".." not in target, target
        assert (out / target).is_file(), target
    return targets
