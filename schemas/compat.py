"""Schema evolution checks with the Apache ``avro`` package's
``ReaderWriterCompatibilityChecker``: :func:`can_read` for one reader and writer (also what
the embedded registry checks in writable mode), and the offline check that the newest version
of every schema reads data written with every earlier committed version (BACKWARD_TRANSITIVE,
:func:`check_backward_transitive`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import avro.schema
from avro.compatibility import ReaderWriterCompatibilityChecker, SchemaCompatibilityType

from schemas.catalogue import Catalogue, catalogue


@dataclass(frozen=True)
class Incompatibility:
    """The newest version of ``name`` cannot read data of ``old_version``."""

    name: str
    new_version: int
    old_version: int
    detail: str

    def __str__(self) -> str:
        return (
            f"{self.name}: v{self.new_version} cannot read data written with "
            f"v{self.old_version}: {self.detail}"
        )


def _strip_extras(value: object) -> object:
    """The ``avro`` parser rejects nothing we add, but drop our ``schakel.*`` attributes so the
    check sees only Avro."""
    if isinstance(value, dict):
        return {k: _strip_extras(v) for k, v in value.items() if not k.startswith("schakel.")}
    if isinstance(value, list):
        return [_strip_extras(v) for v in value]
    return value


@dataclass(frozen=True)
class ReadCheck:
    """Whether a reader schema can read data written with a writer schema. ``kinds`` are the
    incompatibility types in upper case (``READER_FIELD_MISSING_DEFAULT_VALUE``, the names
    Confluent's registry reports); empty when compatible. ``detail`` names fields and paths."""

    kinds: tuple[str, ...]
    detail: str

    @property
    def compatible(self) -> bool:
        return not self.kinds


def can_read(reader: Any, writer: Any) -> ReadCheck:
    """Check with the Apache ``avro`` package whether ``reader`` reads ``writer``'s data
    (both Avro schemas as parsed JSON)."""
    checker = ReaderWriterCompatibilityChecker()  # type: ignore[no-untyped-call]  # avro ships no annotations
    result = checker.get_compatibility(
        avro.schema.parse(json.dumps(_strip_extras(reader))),
        avro.schema.parse(json.dumps(_strip_extras(writer))),
    )
    if result.compatibility is SchemaCompatibilityType.compatible:
        return ReadCheck((), "")
    kinds = tuple(sorted(str(k.value).upper() for k in result.incompatibilities))
    messages = ", ".join(sorted(map(str, result.messages))) or "incompatible"
    locations = ", ".join(sorted(map(str, result.locations)))
    return ReadCheck(kinds, f"{messages} at path '{locations}'" if locations else messages)


def check_backward_transitive(cat: Catalogue | None = None) -> list[Incompatibility]:
    """Every incompatibility between a schema's newest version and an earlier one."""
    cat = cat or catalogue()
    problems = []
    for name in cat.names:
        versions = cat.versions(name)
        newest = versions[-1]
        for old in versions[:-1]:
            check = can_read(newest.raw, old.raw)
            if not check.compatible:
                problems.append(Incompatibility(name, newest.version, old.version, check.detail))
    return problems
