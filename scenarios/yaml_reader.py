"""Reading scenario YAML without YAML 1.1's silent surprises.

PyYAML follows YAML 1.1, which quietly turns some plain text into other types. For scenario
files this loader changes three things:

- **Times.** An unquoted ``12:30`` is a base-60 number in YAML 1.1 (750). A clock time read
  as a number would be a wrong value nobody notices, so every scalar YAML 1.1 would read as
  base 60 is an error naming its line and column and asking for quotes (``"12:30"``).
  (``07:00`` is text in YAML 1.1 already and is accepted.)
- **Booleans.** Only ``true`` / ``false`` are booleans (as in YAML 1.2); ``yes``, ``no``, ``on``
  and ``off`` stay text, so a country code ``NO`` (Norway) is never read as false. Boolean
  fields still accept ``yes``/``no``/``on``/``off`` because the schema parses them.
- **Octal.** An unquoted ``017`` is the octal number 15 in YAML 1.1; it is an error too.
  A leading zero before digits that cannot be octal (``0870``) reads as the decimal number,
  as in YAML 1.2 (YAML 1.1 would leave it as text).
- **Duplicate keys.** A key given twice in one mapping is an error (YAML 1.1 keeps the last
  one silently).

``read_yaml`` returns the data or raises ``ScenarioError`` with every such problem.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from scenarios.errors import ScenarioError, ScenarioIssue

_SEXAGESIMAL_TAG = "tag:gatetwin,2025:sexagesimal"
# Exactly what PyYAML's YAML 1.1 resolver reads as base 60: an integer must not start with 0
# (so 07:00 stays text), a float may.
_SEXAGESIMAL = re.compile(
    r"^[-+]?(?:[1-9][0-9_]*(?::[0-5]?[0-9])+|[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*)$"
)
_OCTAL_TAG = "tag:gatetwin,2025:octal"
_OCTAL = re.compile(r"^[-+]?0[0-7_]+$")
_ZERO_DECIMAL_TAG = "tag:gatetwin,2025:zero-decimal"
_ZERO_DECIMAL = re.compile(r"^[-+]?0[0-9_]*[89][0-9_]*$")
_BOOL_12 = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_BOOL_TAG = "tag:yaml.org,2002:bool"


def _yaml11_value(text: str) -> float:
    """What YAML 1.1 would have made of a base-60 scalar, to show in the error."""
    sign = -1 if text.startswith("-") else 1
    digits = text.lstrip("+-").replace("_", "")
    value = 0.0
    for part in digits.split(":"):
        value = value * 60 + float(part)
    return sign * value


#: libyaml's parser when PyYAML was built with it (ten times faster), else the pure-Python one;
#: both resolve plain scalars through the Python resolver table replaced below.
_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _ScenarioLoader(_BaseLoader):  # type: ignore[valid-type,misc]
    """A safe loader with the changes listed in the module docstring; records problems."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.found: list[tuple[int, int, ScenarioIssue]] = []
        #: The field path of each node of the document, by ``id`` (see ``node_paths``).
        self.paths: dict[int, str] = {}

    def note(self, node: Node, reason: str) -> None:
        """Record a problem at ``node``'s field path and position."""
        mark = node.start_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}"
        path = self.paths.get(id(node))
        self.found.append((mark.line, mark.column, ScenarioIssue(f"{path} ({where})" if path else where, reason)))

    @property
    def issues(self) -> list[ScenarioIssue]:
        """The problems found, in the order they appear in the file."""
        return [issue for _, _, issue in sorted(self.found, key=lambda item: item[:2])]

    def construct_sexagesimal(self, node: ScalarNode) -> str:
        text = str(self.construct_scalar(node))
        value = _yaml11_value(text)
        shown = f"{value:g}" if value != int(value) else str(int(value))
        self.note(node, f'unquoted {text} would be read by YAML 1.1 as the number {shown}; write times in quotes: "{text}"')
        return text

    def construct_octal(self, node: ScalarNode) -> str:
        text = str(self.construct_scalar(node))
        value = int(text.replace("_", ""), 8)
        self.note(
            node, f'unquoted {text} would be read by YAML 1.1 as the octal number {value}; drop the leading zero, or quote it: "{text}"'
        )
        return text

    def construct_zero_decimal(self, node: ScalarNode) -> int:
        return int(str(self.construct_scalar(node)).replace("_", ""), 10)

    def construct_mapping(self, node: Node, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, MappingNode):
            seen: dict[Any, ScalarNode] = {}
            for key_node, _ in node.value:
                if not isinstance(key_node, ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    hash(key)
                except TypeError:
                    continue
                if key in seen:
                    first = seen[key].start_mark.line + 1
                    self.note(key_node, f"key {key!r} appears twice in one mapping (first on line {first})")
                else:
                    seen[key] = key_node
        mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)
        return mapping


def _install_resolvers() -> None:
    resolvers: dict[Any, list[tuple[str, re.Pattern[str]]]] = {}
    for first, entries in yaml.resolver.Resolver.yaml_implicit_resolvers.items():
        kept = []
        for tag, pattern in entries:
            if tag == _BOOL_TAG:
                continue  # replaced by the YAML 1.2 booleans below
            kept.append((tag, pattern))
        resolvers[first] = kept
    # Resolvers are tried in order: the base-60 and octal checks must come before int and float.
    for first in "-+0123456789":
        resolvers.setdefault(first, []).insert(0, (_SEXAGESIMAL_TAG, _SEXAGESIMAL))
        resolvers[first].insert(0, (_OCTAL_TAG, _OCTAL))
        resolvers[first].insert(0, (_ZERO_DECIMAL_TAG, _ZERO_DECIMAL))
    for first in "tTfF":
        resolvers.setdefault(first, []).insert(0, (_BOOL_TAG, _BOOL_12))
    _ScenarioLoader.yaml_implicit_resolvers = resolvers
    _ScenarioLoader.add_constructor(_SEXAGESIMAL_TAG, _ScenarioLoader.construct_sexagesimal)
    _ScenarioLoader.add_constructor(_OCTAL_TAG, _ScenarioLoader.construct_octal)
    _ScenarioLoader.add_constructor(_ZERO_DECIMAL_TAG, _ScenarioLoader.construct_zero_decimal)


_install_resolvers()


#: Deepest nesting of lists and mappings a scenario value may have (a scenario needs six).
MAX_DEPTH = 64


def misshapen(root: Node) -> tuple[Node, str] | None:
    """A node under ``root`` that no scenario value can be, with why: one that holds itself
    (``&a [*a]``: an alias inside the value its anchor names), or one nested more than
    ``MAX_DEPTH`` lists and mappings deep; None when there is none. Aliases of values beside
    them (``a: &x 1`` and ``b: *x``) are fine."""
    # Depth first, without recursion: (node, entering) pairs; a node is an ancestor while entered.
    ancestors: set[int] = set()
    finished: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, True)]
    while stack:
        node, entering = stack.pop()
        if not entering:
            ancestors.discard(id(node))
            finished.add(id(node))
            continue
        if id(node) in ancestors:
            return node, "YAML alias inside the value it names ({where}): a value cannot contain itself"
        if id(node) in finished or not isinstance(node, (MappingNode, SequenceNode)):
            continue
        if len(ancestors) >= MAX_DEPTH:
            return node, f"nested more than {MAX_DEPTH} lists and mappings deep ({{where}}): no scenario value is"
        ancestors.add(id(node))
        stack.append((node, False))
        children = ([child for pair in node.value for child in pair] if isinstance(node, MappingNode)
                    else list(node.value))
        stack.extend((child, True) for child in reversed(children))
    return None


def node_paths(root: Node) -> dict[int, str]:
    """The field path (``agencies.customs.shifts.0.1``) of every node under ``root``, by ``id``;
    a key's node has the path of its value. A node reached twice (an alias) keeps its first path."""
    paths: dict[int, str] = {}
    stack: list[tuple[Node, tuple[str, ...]]] = [(root, ())]
    while stack:
        node, path = stack.pop()
        if isinstance(node, MappingNode):
            for key_node, value_node in node.value:
                key = str(key_node.value) if isinstance(key_node, ScalarNode) else "?"
                child = (*path, key)
                paths.setdefault(id(key_node), ".".join(child))
                if id(value_node) not in paths:
                    paths[id(value_node)] = ".".join(child)
                    stack.append((value_node, child))
        elif isinstance(node, SequenceNode):
            for index, item in enumerate(node.value):
                if id(item) not in paths:
                    child = (*path, str(index))
                    paths[id(item)] = ".".join(child)
                    stack.append((item, child))
    return paths


def read_yaml(text: str, file: str) -> Any:
    """Parse ``text`` (the contents of ``file``) as YAML; raise ``ScenarioError`` on any problem.

    A problem the loader finds in a value (an unquoted time, an octal number, a key given twice)
    names the value's field path as well as its line and column.
    """
    loader = _ScenarioLoader(text)
    try:
        root = loader.get_single_node()
        if root is not None:
            loader.paths = node_paths(root)
            found = misshapen(root)
            if found is not None:
                node, reason = found
                where = f"line {node.start_mark.line + 1}, column {node.start_mark.column + 1}"
                raise ScenarioError(file, [ScenarioIssue(loader.paths.get(id(node), "") or where,
                                                         reason.format(where=where))])
        data = loader.construct_document(root) if root is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = ": ".join(part for part in (exc.context, exc.problem) if part)
        raise ScenarioError(file, [ScenarioIssue(where, f"YAML syntax error: {problem}")]) from None
    except yaml.YAMLError as exc:
        raise ScenarioError(file, [ScenarioIssue("", f"YAML error: {exc}")]) from None
    finally:
        loader.dispose()
    if loader.issues:
        raise ScenarioError(file, loader.issues)
    return data
