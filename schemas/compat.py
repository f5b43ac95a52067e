"""Offline schema evolution check: the newest version of every schema must be able to read
data written with every earlier committed version (BACKWARD_TRANSITIVE), checked with the
Apache ``avro`` package's ``ReaderWriterCompatibilityChecker``."""

from __future__ import annotations

import json
from dataclasses import dataclass

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


def check_backward_transitive(cat: Catalogue | None = None) -> list[Incompatibility]:
    """Every incompatibility between a schema's newest version and an earlier one."""
    cat = cat or catalogue()
    checker = ReaderWriterCompatibilityChecker()  # type: ignore[no-untyped-call]  # avro ships no annotations
    problems = []
    for name in cat.names:
        versions = cat.versions(name)
        newest = versions[-1]
        reader = avro.schema.parse(json.dumps(_strip_extras(dict(newest.raw))))
        for old in versions[:-1]:
            writer = avro.schema.parse(json.dumps(_strip_extras(dict(old.raw))))
            result = checker.get_compatibility(reader, writer)
            if result.compatibility is not SchemaCompatibilityType.compatible:
                detail = (
                    "; ".join(
                        f"{m} at {loc}"
                        for m, loc in zip(result.messages, result.locations, strict=False)
                    )
                    or "incompatible"
                )
                problems.append(Incompatibility(name, newest.version, old.version, detail))
    return problems
