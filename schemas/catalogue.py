"""The catalogue: every committed ``.avsc`` under ``schemas/avro/<name>/v<N>.avsc``, parsed once.

A schema whose record has a ``data`` field is a CloudEvent type of ``events.md`` (record full
name == CloudEvent ``type``); the others are Schakel's own records (dead letters, state).
Avro enum symbols cannot contain ``-``: the catalogue spelling ``geen-recht`` is stored as the
symbol ``geen_recht``; :func:`to_avro` and :func:`from_avro` translate.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from typing import Any

import fastavro

AVRO_DIR = Path(__file__).parent / "avro"
_VERSION_FILE = re.compile(r"v(\d+)\.avsc")
SCHAKEL_PREFIX = "nl.schakel."


@dataclass(frozen=True)
class SchemaVersion:
    """One committed version of one schema."""

    name: str
    version: int
    path: Path
    raw: Mapping[str, Any]
    parsed: Any
    enum_fields: frozenset[str]
    """Fields of the data record (or of the record itself, for non-events) that are enums."""

    @property
    def text(self) -> str:
        """The schema as canonical JSON text (what a registry stores)."""
        return json.dumps(self.raw, separators=(",", ":"), sort_keys=True)

    @cached_property
    def is_event(self) -> bool:
        """Whether this is a CloudEvent type (its record has a ``data`` field). Kept: asked
        on every encode and decode."""
        return any(f["name"] == "data" for f in self.raw["fields"])


def _is_enum(avro_type: Any) -> bool:
    if isinstance(avro_type, list):
        return any(_is_enum(t) for t in avro_type)
    return isinstance(avro_type, dict) and avro_type.get("type") == "enum"


def _enum_fields(raw: Mapping[str, Any]) -> frozenset[str]:
    fields = raw["fields"]
    for f in fields:
        if f["name"] == "data":
            fields = f["type"]["fields"]
            break
    return frozenset(f["name"] for f in fields if _is_enum(f["type"]))


class Catalogue:
    """All schema versions, keyed by record full name (== CloudEvent type for events)."""

    def __init__(self, root: Path = AVRO_DIR) -> None:
        versions: dict[str, list[SchemaVersion]] = {}
        for path in sorted(root.glob("*/v*.avsc")):
            match = _VERSION_FILE.fullmatch(path.name)
            if match is None:
                continue
            raw = json.loads(path.read_text(encoding="utf-8"))
            name = f"{raw['namespace']}.{raw['name']}" if "namespace" in raw else raw["name"]
            if name != path.parent.name:
                raise ValueError(f"{path}: record full name {name!r} differs from its folder")
            version = SchemaVersion(
                name=name,
                version=int(match.group(1)),
                path=path,
                raw=raw,
                parsed=fastavro.parse_schema(raw, _write_hint=False),
                enum_fields=_enum_fields(raw),
            )
            versions.setdefault(name, []).append(version)
        self._versions = {
            name: tuple(sorted(vs, key=lambda v: v.version)) for name, vs in versions.items()
        }

    @cached_property
    def names(self) -> tuple[str, ...]:
        return tuple(sorted(self._versions))

    @cached_property
    def event_types(self) -> tuple[str, ...]:
        """Every CloudEvent type, input and Schakel-produced."""
        return tuple(n for n in self.names if self.latest(n).is_event)

    @cached_property
    def input_types(self) -> frozenset[str]:
        """The types a source system may send (everything but ``nl.schakel.*``)."""
        return frozenset(t for t in self.event_types if not t.startswith(SCHAKEL_PREFIX))

    def versions(self, name: str) -> tuple[SchemaVersion, ...]:
        return self._versions[name]

    def latest(self, name: str) -> SchemaVersion:
        return self._versions[name][-1]

    def __contains__(self, name: object) -> bool:
        return name in self._versions


@cache
def catalogue() -> Catalogue:
    """The catalogue of the installed ``schemas/avro`` folder, loaded once per process."""
    return Catalogue()


def _translate(record: Mapping[str, Any], fields: frozenset[str], old: str, new: str) -> Any:
    if not fields:
        return record
    out = dict(record)
    for name in fields:
        value = out.get(name)
        if isinstance(value, str):
            out[name] = value.replace(old, new)
    return out


def _translated(
    schema: SchemaVersion, record: Mapping[str, Any], old: str, new: str
) -> dict[str, Any]:
    if schema.is_event:
        out = dict(record)
        out["data"] = _translate(record["data"], schema.enum_fields, old, new)
        return out
    return dict(_translate(record, schema.enum_fields, old, new))


def to_avro(schema: SchemaVersion, record: Mapping[str, Any]) -> dict[str, Any]:
    """Catalogue spelling → Avro enum symbols (``geen-recht`` → ``geen_recht``)."""
    return _translated(schema, record, "-", "_")


def from_avro(schema: SchemaVersion, record: Mapping[str, Any]) -> dict[str, Any]:
    """Avro enum symbols → catalogue spelling."""
    return _translated(schema, record, "_", "-")
