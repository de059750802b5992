"""Finding, reading and validating scenarios; identity (hash) and variations (overrides).

``load_scenario`` accepts a library name (``harvest_peak``, or the alias ``default``) or a
path to a YAML file, and either returns a validated ``Scenario`` or raises ``ScenarioError``
listing every problem - never a traceback from deeper down.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from scenarios.errors import ScenarioError, ScenarioIssue, issues_from_validation, shown
from scenarios.partial import cross_field_issues
from scenarios.recorded import expand_recorded_bytes, expand_recorded_file
from scenarios.schema import Run, Scenario
from scenarios.yaml_reader import read_yaml

LIBRARY_DIR = Path(__file__).resolve().parent / "library"
#: Names that resolve to a library scenario without a file of their own.
ALIASES: dict[str, str] = {"default": "huu_nghi_2025"}
DEFAULT_SCENARIO = "default"
_SUFFIXES = (".yaml", ".yml")


def library_names() -> list[str]:
    """The scenarios in the library (one per file; aliases such as ``default`` not included)."""
    return sorted(path.stem for path in LIBRARY_DIR.glob("*.yaml"))


def _available() -> str:
    return ", ".join(sorted([*library_names(), *ALIASES]))


def library_path(name: str) -> Path:
    """The file of library scenario ``name`` (aliases resolved); ``ScenarioError`` if unknown."""
    target = ALIASES.get(name, name)
    if target not in library_names():
        raise ScenarioError(name, [ScenarioIssue("", f"no library scenario of this name; available: {_available()}")])
    return LIBRARY_DIR / f"{target}.yaml"


def _resolve(source: str | Path) -> tuple[Path, str]:
    """The file to read and how to name it in messages (library files relative to the project)."""
    if isinstance(source, Path):
        return source, str(source)
    looks_like_path = source.endswith(_SUFFIXES) or "/" in source or "\\" in source
    if not looks_like_path and (source in ALIASES or source in library_names() or not Path(source).exists()):
        path = library_path(source)  # raises, listing the library, for an unknown name
        return path, str(path.relative_to(LIBRARY_DIR.parent.parent))
    return Path(source), source


def scenario_file(source: str | Path) -> str:
    """The file a library name or a path stands for, as messages name it; ``ScenarioError`` if unknown.

    A library scenario's file is named relative to the project (``scenarios/library/harvest_peak.yaml``),
    a path as given.
    """
    return _resolve(source)[1]


def load_scenario(source: str | Path) -> Scenario:
    """The validated scenario of a library name or a YAML file; ``ScenarioError`` otherwise."""
    path, file = _resolve(source)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(file, [ScenarioIssue("", f"cannot read the file: not UTF-8 text ({exc.reason} at byte {exc.start})")]) from None
    except OSError as exc:
        raise ScenarioError(file, [ScenarioIssue("", f"cannot read the file: {exc.strerror or exc}")]) from None
    data = read_yaml(text, file)
    return validate_scenario(data, file, base_dir=path.parent)


def _kind_of_value(data: Any) -> str:
    if isinstance(data, bool):
        return "true/false"
    if isinstance(data, (int, float)):
        return "a number"
    if isinstance(data, str):
        return "text"
    if isinstance(data, (list, tuple)):
        return "a list"
    return f"a {type(data).__name__}"


def validate_scenario(data: Any, file: str = "<scenario>", base_dir: Path | None = None) -> Scenario:
    """A ``Scenario`` from already-parsed data (a mapping of sections); ``ScenarioError`` otherwise.

    ``file`` names the origin of the data in messages. A recorded-arrivals file
    (``demand.recorded.file``) is read relative to ``base_dir`` (the scenario file's folder;
    the working folder when None) into the scenario (``scenarios.recorded``).
    """
    if data is None:
        raise ScenarioError(file, [ScenarioIssue("", "is empty; expected a mapping of sections (name, layout, demand, ...)")])
    if not isinstance(data, Mapping):
        raise ScenarioError(
            file,
            [ScenarioIssue("", f"must be a mapping of sections (name, layout, demand, ...), not {_kind_of_value(data)}", shown(data))],
        )
    bad_keys = [key for key in data if not isinstance(key, str)]
    if bad_keys:
        raise ScenarioError(file, [ScenarioIssue(shown(key), "section names must be text") for key in bad_keys])
    data, recorded_issues = expand_recorded_file(data, base_dir if base_dir is not None else Path.cwd())
    if recorded_issues:
        raise ScenarioError(file, recorded_issues)
    try:
        return Scenario.model_validate(dict(data))
    except ValidationError as exc:
        # Every error at once: the field errors, then what the checks across fields find in
        # the parts that validated.
        issues = issues_from_validation(exc, Scenario) + cross_field_issues(Scenario, dict(data), exc)
        raise ScenarioError(file, issues) from None


def canonical_json(scenario: Scenario) -> str:
    """The scenario as canonical JSON: sorted keys, no whitespace, every default written out but
    ``demand.recorded`` when there is no record (so a scenario without one keeps the hash it had
    before scenarios could hold one, and results written then still name it)."""
    data = scenario.model_dump(mode="json")
    if data["demand"].get("recorded") is None:
        del data["demand"]["recorded"]
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def scenario_hash(scenario: Scenario) -> str:
    """SHA-256 (hex) of the canonical JSON: equal scenarios have equal hashes, any change changes it."""
    return hashlib.sha256(canonical_json(scenario).encode("utf-8")).hexdigest()


def _plain(value: Any) -> Any:
    return value.model_dump(mode="json") if isinstance(value, BaseModel) else value


def with_overrides(scenario: Scenario, /, **changes: Any) -> Scenario:
    """A copy of ``scenario`` with ``changes`` applied and validated again.

    A key is a top-level section (``demand=...``), a field of ``run`` given by its own name
    (``seed=7``, ``replications=5``, ``horizon_h=6``, ``warmup_h=1``), or a dotted path into
    the sections (``**{"demand.trucks_per_day": 2500}``; ``__`` may stand for the dot:
    ``demand__trucks_per_day=2500``). A bad key or value raises ``ScenarioError``.
    """
    # JSON mode: enum keys become their text, so a change to "demand.direction_mix.export"
    # replaces the existing entry instead of adding a second one under another key type.
    data = scenario.model_dump(mode="json")
    file = f"{scenario.name} (overrides)"
    issues: list[ScenarioIssue] = []
    for key, value in changes.items():
        dotted = key.replace("__", ".")
        if "." not in dotted and dotted not in Scenario.model_fields and dotted in Run.model_fields:
            dotted = f"run.{dotted}"
        parts = dotted.split(".")
        node: Any = data
        for depth, part in enumerate(parts[:-1]):
            child = node.get(part) if isinstance(node, dict) else None
            if isinstance(child, list):
                issues.append(ScenarioIssue(key, f"{'.'.join(parts[: depth + 1])!r} is a list: give the whole list "
                                                 f"({'.'.join(parts[: depth + 1])}=[...])"))
                break
            if not isinstance(child, dict):
                issues.append(ScenarioIssue(key, f"no section {'.'.join(parts[: depth + 1])!r} to change"))
                break
            node = child
        else:
            last = parts[-1]
            if isinstance(node, dict) and node is data and last not in Scenario.model_fields:
                issues.append(ScenarioIssue(key, "unknown field; expected a section, a run field or a dotted path"))
                continue
            node[last] = _plain(value)
    if issues:
        raise ScenarioError(file, issues)
    return validate_scenario(data, file)


def split_setting(pair: str) -> tuple[str, str] | None:
    """``KEY=VALUE`` as its dotted key (``__`` read as a dot) and its value's text; None when
    there is no ``=`` or no key."""
    key, sep, text = pair.partition("=")
    key = key.strip().replace("__", ".")
    return (key, text) if sep and key else None


def read_setting(key: str, text: str, where: str) -> tuple[Any, list[ScenarioIssue]]:
    """The value of the change of ``key`` read as YAML, as in a scenario file, or its problems
    (each naming the key and the text given)."""
    try:
        return read_yaml(text, where), []
    except ScenarioError as err:
        return None, [ScenarioIssue(key, f"{issue.reason} (in {text!r})") for issue in err.errors]


def parse_settings(pairs: Sequence[str], where: str) -> dict[str, Any]:
    """``KEY=VALUE`` pairs (``layout.entry_lanes=3``) as changes for ``with_overrides``, each
    value read as YAML, as in a scenario file. ``ScenarioError`` (file ``where``) naming every
    malformed pair and value at once."""
    changes: dict[str, Any] = {}
    issues: list[ScenarioIssue] = []
    for pair in pairs:
        split = split_setting(pair)
        if split is None:
            issues.append(ScenarioIssue(pair.strip(), "give KEY=VALUE, e.g. layout.entry_lanes=3"))
            continue
        key, text = split
        value, problems = read_setting(key, text, where)
        changes.pop(key, None)  # given again: the last one stands, in the place it was last given
        if problems:
            issues += problems
        else:
            changes[key] = value
    if issues:
        raise ScenarioError(where, issues)
    return changes


#: The run settings a command or a form can give beside the changes (``--hours``, ``--reps``,
#: ``--seed``; the dashboard's fields).
RUN_SETTINGS = ("horizon_h", "replications", "seed")


def run_settings_in(pairs: Sequence[str], where: str) -> list[tuple[str, str]]:
    """``(key, setting)`` for each change among ``pairs`` that sets one of ``RUN_SETTINGS``:
    ``run.seed``, ``run__seed``, the bare ``seed``, or a whole ``run={...}`` naming it. Keys are
    read as ``parse_settings`` reads them, and a malformed pair raises its ``ScenarioError``."""
    found: list[tuple[str, str]] = []
    for key, value in parse_settings(pairs, where).items():
        if key == "run" and isinstance(value, Mapping):
            found += [(key, setting) for setting in RUN_SETTINGS if setting in value]
        else:
            found += [(key, setting) for setting in RUN_SETTINGS if key in (setting, f"run.{setting}")]
    return found


_NOT_IN_NAME = re.compile(r"[^A-Za-z0-9_.-]+")


def variant_name(name: str, changes: Mapping[str, Any], tag: str = "") -> str:
    """A scenario name for ``name`` with ``changes``: each change's last key and, when it is a
    plain number or word, its value (``harvest_peak-entry_lanes-3-scanners``), then ``-tag``
    when given; at most 64 characters, the tag kept whole."""
    parts = [name]
    for key, value in changes.items():
        parts.append(key.replace("__", ".").split(".")[-1])
        if isinstance(value, (int, float, str)) and not isinstance(value, bool) and len(str(value)) <= 12:
            parts.append(str(value))
    suffix = f"-{tag}" if tag else ""
    text = _NOT_IN_NAME.sub("_", "-".join(parts)).strip("_-.")
    return text[: 64 - len(suffix)].rstrip("_-.") + suffix


def with_settings(scenario: Scenario, pairs: Sequence[str]) -> Scenario:
    """``scenario`` with ``KEY=VALUE`` changes applied (``parse_settings``), unchanged when
    ``pairs`` is empty. The result is named as a variant of the scenario (``variant_name``,
    tagged with the first hex digits of its hash, so that different variants never share a name
    and their results are never taken for the scenario's own), unless ``name=`` gives one.
    ``ScenarioError`` for a malformed pair, a bad key or value."""
    if not pairs:
        return scenario
    where = f"{scenario.name} (changes)"
    changes = parse_settings(pairs, where)
    try:
        changed = with_overrides(scenario, **changes)
    except ScenarioError as err:
        raise ScenarioError(where, err.errors) from None
    if "name" in changes:
        return changed
    tag = scenario_hash(changed)[:6]
    return with_overrides(changed, name=variant_name(scenario.name, changes, tag))


def with_recorded_trucks(scenario: Scenario, raw: bytes, file_name: str) -> Scenario:
    """``scenario`` with its arrivals replaced by the recorded trucks of a CSV (``raw``, the
    contents of ``file_name``: ``scenarios.recorded``), named as a variant of it; ``ScenarioError``
    naming every problem of the file, or of the scenario with it."""
    data = scenario.model_dump(mode="json")
    data["demand"]["recorded"] = {"file": file_name}
    where = f"{scenario.name} (recorded trucks)"
    expanded, issues = expand_recorded_bytes(data, raw)
    if issues:
        raise ScenarioError(where, issues)
    changed = validate_scenario(expanded, where)
    tag = scenario_hash(changed)[:6]
    return with_overrides(changed, name=variant_name(scenario.name, {"recorded": ""}, tag))


#: Where the changes of a variant begin: "+" before a dotted key and "=".
_VARIANT_SPLIT = re.compile(r"\+(?=[A-Za-z_][A-Za-z0-9_.-]*=)")


def split_variant(spec: str) -> tuple[str, list[str]]:
    """``SCENARIO+KEY=VALUE+KEY=VALUE`` as the scenario (a library name or a file) and its
    ``KEY=VALUE`` changes; a plain scenario has none."""
    if Path(spec).is_file():  # a scenario file whose path happens to hold "+key="
        return spec, []
    source, *changes = _VARIANT_SPLIT.split(spec)
    return source, changes


def load_variant(spec: str, settings: Sequence[str] = ()) -> Scenario:
    """A scenario, or a variant of one written ``SCENARIO+KEY=VALUE+...``, with ``settings``
    (more ``KEY=VALUE`` changes) applied first; named as a variant when anything changed."""
    source, changes = split_variant(spec)
    return with_settings(load_scenario(source), [*settings, *changes])


def scenario_yaml(scenario: Scenario, comment: str = "") -> str:
    """The scenario as a YAML file that reads back (``load_scenario``) as an equal scenario with
    the same ``scenario_hash``: every field written out, defaults included, in the schema's order
    (a recorded truck without the values its record leaves out, which read back as None).

    Text that YAML 1.1 would read as something else (``NO`` as false, ``12:30`` as 750) is
    quoted. Lists and mappings of plain values are written on one line each (a recorded truck
    is one line). ``comment`` (one or more lines) goes at the top, each line as a YAML comment.
    """
    data = scenario.model_dump(mode="json")
    recorded = data["demand"].get("recorded")
    if recorded is not None:
        recorded["trucks"] = [{key: value for key, value in truck.items() if value is not None}
                              for truck in recorded["trucks"]]
    body = yaml.dump(data, Dumper=_DUMPER, sort_keys=False, allow_unicode=True, default_flow_style=None, width=100)
    heading = "".join(f"# {line}".rstrip() + "\n" for line in comment.splitlines())
    return heading + body


#: libyaml's emitter where PyYAML has it (a month of recorded trucks writes in a second, not ten).
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
