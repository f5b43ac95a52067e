"""Loading rule files: the built-ins, then a municipality's own directory.

``load_rules(extra_dir)`` reads ``streams/rules/builtin/*.yaml`` and then every ``*.yaml`` /
``*.yml`` in ``extra_dir`` (in file-name order):

- a file whose ``id`` is a built-in's id *overrides* it: its top-level keys replace the
  built-in's, except ``parameters``, which are merged one by one (a partial file with just
  ``id`` and ``parameters`` changes numbers only; ``actief: false`` switches the rule off);
- a file with a new ``id`` adds a rule.

Every resulting rule is validated strictly; the first problem raises
:class:`~streams.exceptions.RuleConfigError` naming the file, the rule id and the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import yaml

from streams.exceptions import RuleConfigError, RuleFileError
from streams.rules.compiler import MAX_NESTING, compile_rule
from streams.rules.definitions import Rule
from streams.rules.engine import RuleSet

BUILTIN_DIR: Final = Path(__file__).parent / "builtin"
BUILTIN_IDS: Final = (
    "werkpotentieel-zonder-verwijzing",
    "tussen-wal-en-schip",
    "vroegsignaal-zonder-opvolging",
    "meervoudig-zonder-regie",
    "dagbesteding-zonder-werkstap",
    "terugval-zonder-nazorg",
)
"""The built-in rules R1–R6 of ``rules.md``, in that order."""

_SUFFIXES: Final = (".yaml", ".yml")

MAX_INTEGER: Final = 2**63 - 1
"""Largest integer (in magnitude) a rule file may hold: an Avro ``long``, far beyond any day
count, number or code of a rule. Python converts no integer of more than 4,300 digits to
text (``ValueError``), so a larger one could not even be named in an error message."""


class _Refused(yaml.MarkedYAMLError):
    """What :class:`_RuleLoader` refuses, at the position of the node concerned."""

    def __init__(self, problem: str, mark: yaml.Mark) -> None:
        super().__init__(problem=problem, problem_mark=mark)
        self.where = f"line {mark.line + 1}, column {mark.column + 1}"
        self.detail = problem


class _RuleLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` for rule files, refusing at the node's position (line, column):

    - anchors and aliases (``&a`` / ``*a``, also ``<<: *a``): a few hundred bytes of aliases
      expand to billions of nodes (the rule compiler walks the tree, so an alias "bomb" of 507
      bytes took more than a minute), and ``&a [*a]`` is a list that contains itself;
    - lists and mappings nested deeper than :data:`MAX_NESTING`;
    - a scalar Python cannot convert — a date that does not exist (``2026-02-30``), an
      integer of more than 4,300 digits — or an integer beyond :data:`MAX_INTEGER`."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise _Refused(
                "anchors and aliases (&name, *name) are not allowed in a rule file; "
                "write the value out",
                event.start_mark,
            )
        nested = isinstance(event, yaml.SequenceStartEvent | yaml.MappingStartEvent)
        if nested:
            if self._depth >= MAX_NESTING:
                raise _Refused(f"nested deeper than {MAX_NESTING} levels", event.start_mark)
            self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            if nested:
                self._depth -= 1

    def construct_object(self, node: Any, deep: bool = False) -> Any:
        too_large = f"an integer beyond ±{MAX_INTEGER} (64 bits)"
        try:
            value = super().construct_object(node, deep)
        except ValueError:  # raised by Python's date() or int() for this scalar
            kind = node.tag.rpartition(":")[2]
            problem = {
                "int": too_large,
                "timestamp": "not an existing date or time (such as 2026-02-30)",
            }.get(kind, f"a {kind} value that cannot be read")
            raise _Refused(problem, node.start_mark) from None
        if isinstance(value, int) and not -MAX_INTEGER <= value <= MAX_INTEGER:
            raise _Refused(too_large, node.start_mark)
        return value


def read_rule_file(path: Path) -> dict[str, Any]:
    """Parse one rule file into a mapping that has a string ``id``.

    Whatever the file holds, only :class:`~streams.exceptions.RuleFileError` naming the file
    is raised: unreadable, not UTF-8, not valid YAML, or YAML a rule file may not hold
    (:class:`_RuleLoader`: anchors and aliases, nesting deeper than :data:`MAX_NESTING`, a
    scalar Python cannot convert) — each with its line and column where known."""
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_RuleLoader)  # noqa: S506
    except OSError as exc:
        raise RuleFileError(path.name, None, None, f"cannot read file: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise RuleFileError(path.name, None, None, "not UTF-8 text") from exc
    except _Refused as exc:
        raise RuleFileError(path.name, None, None, f"{exc.where}: {exc.detail}") from exc
    except yaml.YAMLError as exc:
        raise RuleFileError(path.name, None, None, f"not valid YAML{_yaml_problem(exc)}") from exc
    except RecursionError as exc:  # a safety net: MAX_NESTING is checked before PyYAML recurses
        message = f"nested too deeply (at most {MAX_NESTING} levels)"
        raise RuleFileError(path.name, None, None, message) from exc
    if not isinstance(raw, dict):
        raise RuleFileError(path.name, None, None, "a rule file must be a YAML mapping")
    if not isinstance(raw.get("id"), str):
        raise RuleFileError(path.name, None, "id", "required: the rule id (a string)")
    return raw


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """Where and what, on one line: ``" (line 3, column 5): mapping values are not allowed
    here"``."""
    mark = getattr(exc, "problem_mark", None)
    where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
    problem = getattr(exc, "problem", None) or type(exc).__name__
    return f"{where}: {' '.join(str(problem).split())}"


def _kind(value: object) -> type | None:
    for kind in (bool, int, str, list):  # bool first: it is a subclass of int
        if isinstance(value, kind):
            return kind
    return None


def _same_kind(a: object, b: object) -> bool:
    return _kind(a) is not None and _kind(a) is _kind(b)


def merge_override(
    builtin: Mapping[str, Any], override: Mapping[str, Any], source: str
) -> dict[str, Any]:
    """Apply an override file to a built-in definition (see the module docstring).

    A parameter the built-in does not have, or a value of another kind (number, yes/no, text,
    list), is an error.
    """
    merged = dict(builtin)
    base_params: Mapping[str, Any] = builtin.get("parameters") or {}
    rule_id = str(builtin["id"])
    for key, value in override.items():
        if key != "parameters":
            merged[key] = value
            continue
        if not isinstance(value, Mapping):
            raise RuleFileError(source, rule_id, "parameters", "must be a mapping of name to value")
        params = dict(base_params)
        for name, new in value.items():
            if name not in base_params:
                known = ", ".join(sorted(base_params))
                raise RuleFileError(
                    source, rule_id, f"parameters.{name}", f"unknown parameter (known: {known})"
                )
            if not _same_kind(base_params[name], new):
                raise RuleFileError(
                    source,
                    rule_id,
                    f"parameters.{name}",
                    f"expected a value like {base_params[name]!r}, got {new!r}",
                )
            params[name] = new
        merged["parameters"] = params
    return merged


def _builtin_files() -> dict[str, tuple[Path, dict[str, Any]]]:
    found: dict[str, tuple[Path, dict[str, Any]]] = {}
    for path in sorted(BUILTIN_DIR.glob("*.yaml")):
        raw = read_rule_file(path)
        if raw["id"] != path.stem:
            raise RuleFileError(path.name, raw["id"], "id", "must equal the file name")
        found[raw["id"]] = (path, raw)
    return found


def _extra_files(extra_dir: Path) -> list[tuple[Path, dict[str, Any]]]:
    if not extra_dir.is_dir():
        raise RuleConfigError(f"{extra_dir}: rules directory does not exist")
    files = sorted(p for p in extra_dir.iterdir() if p.suffix in _SUFFIXES and p.is_file())
    out: list[tuple[Path, dict[str, Any]]] = []
    seen: dict[str, Path] = {}
    for path in files:
        raw = read_rule_file(path)
        if raw["id"] in seen:
            raise RuleFileError(
                path.name, raw["id"], "id", f"the same id is already used by {seen[raw['id']].name}"
            )
        seen[raw["id"]] = path
        out.append((path, raw))
    return out


def load_rules(extra_dir: Path | None = None) -> RuleSet:
    """The built-in rules, overridden, disabled or extended by the files in ``extra_dir``.

    Returns a :class:`RuleSet` of the active rules: built-ins in R1–R6 order, then added rules
    in file-name order. Raises :class:`~streams.exceptions.RuleConfigError` (usually the
    :class:`~streams.exceptions.RuleFileError` subclass) on any invalid file.
    """
    builtins = _builtin_files()
    order: list[str] = [i for i in BUILTIN_IDS if i in builtins]
    order += sorted(set(builtins) - set(BUILTIN_IDS))
    overrides: dict[str, tuple[Path, dict[str, Any]]] = {}
    added: list[tuple[Path, dict[str, Any]]] = []
    for path, raw in _extra_files(extra_dir) if extra_dir is not None else []:
        if raw["id"] in builtins:
            overrides[raw["id"]] = (path, raw)
        else:
            added.append((path, raw))
    active: list[Rule] = []
    disabled: list[str] = []
    for rule_id in order:
        path, raw = builtins[rule_id]
        source = path.name
        bron: tuple[Path, ...] = (path,)
        if rule_id in overrides:
            over_path, over_raw = overrides[rule_id]
            source = f"{over_path.name} (override of built-in '{rule_id}')"
            raw = merge_override(raw, over_raw, source)
            bron = (path, over_path)
        rule, actief = compile_rule(raw, source, bron)
        if actief:
            active.append(rule)
        else:
            disabled.append(rule.id)
    for path, raw in added:
        rule, actief = compile_rule(raw, path.name, (path,))
        if actief:
            active.append(rule)
        else:
            disabled.append(rule.id)
    return RuleSet(active, disabled)
