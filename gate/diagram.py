"""Draw the location state machine from ``gate.transitions`` as a Mermaid diagram.

``python -m gate.diagram > docs/transitions.md`` regenerates the docs; a test checks the
committed file is current, so the drawing cannot drift from the table.
"""

from __future__ import annotations

from gate.transitions import GUARDS, TRANSITIONS


def mermaid() -> str:
    """The table as a Mermaid ``stateDiagram-v2`` (repeats, i.e. self-loops, are left out)."""
    lines = ["stateDiagram-v2", "    [*] --> outside: DeclarationSubmitted"]
    for source, row in TRANSITIONS.items():
        for trigger, target in row.items():
            if target is source:
                continue
            guard = GUARDS.get((source, trigger))
            label = trigger.value + (f" [{guard}]" if guard else "")
            lines.append(f"    {source.value} --> {target.value}: {label}")
    lines.append("    departed --> [*]")
    lines.append("    refused --> [*]")
    return "\n".join(lines)


def markdown() -> str:
    """The page ``docs/transitions.md``: the diagram, the repeats, and the rule for illegal pairs."""
    repeats = sorted(
        f"{source.value} / {trigger.value}"
        for source, row in TRANSITIONS.items()
        for trigger, target in row.items()
        if target is source
    )
    return (
        "# Visit locations\n\n"
        "Generated from `gate/transitions.py` by `python -m gate.diagram`; do not edit by hand.\n\n"
        "```mermaid\n" + mermaid() + "\n```\n\n"
        "Repeats (accepted, no effect): " + ", ".join(repeats) + ".\n\n"
        "Any pair not drawn is illegal: the location stays, the event is refused and audited, "
        "and a manual review is raised where a person must act.\n"
    )


if __name__ == "__main__":
    print(markdown(), end="")
