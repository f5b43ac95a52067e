"""What the embedded schema registry knows: subjects, versions, ids and compatibility levels,
with the Confluent Schema Registry's semantics for the subset it implements (served over HTTP
by :mod:`schakel.registry_server`).

Two ways to fill it:

- :meth:`RegistryStore.embedded`: every subject Schakel writes
  (:func:`schemas.registry.catalogue_subjects`), every committed version under its catalogue
  version number, with the *embedded-mode ids* (:func:`schemas.registry.local_schema_id`, the
  ids in the records a Schakel process without a registry writes) and ``BACKWARD_TRANSITIVE``.
- an empty store that :meth:`RegistryStore.register` fills like a real registry: ids handed
  out in order from 1 (an identical schema under another subject keeps its id), versions per
  subject from 1, each new version checked against the subject's compatibility level.

In an embedded store a subject of another topic namespace (``N.<topic>-<record>``, see
:mod:`schemas.wire`) is answered as the subject ``<topic>-<record>`` of the store's namespace:
the schemas and ids are the same in every namespace, so one ``schakel broker`` serves the
replays run on it in namespaces of their own. ``GET /subjects`` lists the store's own.

Schemas are compared as JSON with sorted keys, so key order and whitespace do not matter.
Thread-safe.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from typing import Any

import avro.errors
import avro.schema

from schemas.catalogue import Catalogue
from schemas.compat import can_read
from schemas.registry import COMPATIBILITY, catalogue_subjects, local_schema_id
from schemas.registry_client import canonical_text
from schemas.wire import DEFAULT_WIRE, NAMESPACE_PATTERN, Wire

LEVELS = frozenset(
    {
        "NONE",
        "BACKWARD",
        "BACKWARD_TRANSITIVE",
        "FORWARD",
        "FORWARD_TRANSITIVE",
        "FULL",
        "FULL_TRANSITIVE",
    }
)


_NAMESPACE = re.compile(NAMESPACE_PATTERN)


class Refusal(Exception):
    """An error answer of the Confluent API: HTTP ``status``, Confluent ``error_code``."""

    def __init__(self, status: int, error_code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error_code = error_code
        self.message = message


@dataclass(frozen=True)
class Registered:
    """One version of one subject."""

    subject: str
    version: int
    schema_id: int
    text: str

    def to_json(self) -> dict[str, Any]:
        """The Confluent answer for a subject version (``schemaType`` omitted for Avro)."""
        return {
            "subject": self.subject,
            "version": self.version,
            "id": self.schema_id,
            "schema": self.text,
        }


def parse_schema(text: object) -> tuple[Any, str]:
    """(schema, comparison text) of a submitted Avro schema; :class:`Refusal` 422/42201 if it
    is not JSON or not a valid Avro schema."""
    if not isinstance(text, str):
        raise Refusal(422, 42201, "Invalid schema: the request has no schema string")
    try:
        schema = json.loads(text)
        avro.schema.parse(text)
    except (ValueError, avro.errors.AvroException) as exc:
        raise Refusal(422, 42201, f"Invalid schema: {type(exc).__name__}") from None
    return schema, json.dumps(schema, separators=(",", ":"), sort_keys=True)


class RegistryStore:
    """Subjects → versions, ids → schemas, compatibility levels (see the module docstring)."""

    def __init__(self, *, compatibility: str = "BACKWARD") -> None:
        self._lock = threading.Lock()
        self._subjects: dict[str, list[Registered]] = {}
        self._by_id: dict[int, str] = {}
        self._ids: dict[str, int] = {}
        self._levels: dict[str, str] = {}
        self._global = compatibility
        self._namespace: str | None = None
        """Embedded: the namespace of the subjects it holds (aliases, module docstring)."""

    @classmethod
    def embedded(cls, wire: Wire = DEFAULT_WIRE, cat: Catalogue | None = None) -> RegistryStore:
        """Every subject Schakel writes in ``wire``'s namespace, with embedded-mode ids."""
        store = cls(compatibility=COMPATIBILITY)
        store._namespace = wire.namespace
        for subject, versions in catalogue_subjects(wire, cat).items():
            store._levels[subject] = COMPATIBILITY
            for version in versions:
                text = canonical_text(version.raw)
                schema_id = local_schema_id(version.raw)
                store._subjects.setdefault(subject, []).append(
                    Registered(subject, version.version, schema_id, text)
                )
                store._by_id[schema_id] = text
                store._ids[text] = schema_id
        return store

    # --- reads -----------------------------------------------------------------------------

    def subjects(self) -> list[str]:
        with self._lock:
            return sorted(self._subjects)

    def _own(self, subject: str) -> str:
        """``subject``, or for a subject of another namespace the store's own equivalent."""
        if subject in self._subjects or self._namespace is None:
            return subject
        namespace, _, rest = subject.partition(".")
        own = f"{self._namespace}.{rest}" if self._namespace else rest
        if namespace and own in self._subjects and _NAMESPACE.fullmatch(namespace):
            return own
        return subject

    def _versions(self, subject: str) -> list[Registered]:
        versions = self._subjects.get(self._own(subject))
        if not versions:
            raise Refusal(404, 40401, f"Subject '{subject}' not found.")
        if subject not in self._subjects:  # an alias: answer under the name asked for
            return [Registered(subject, r.version, r.schema_id, r.text) for r in versions]
        return versions

    def versions(self, subject: str) -> list[int]:
        with self._lock:
            return [r.version for r in self._versions(subject)]

    def version(self, subject: str, version: str) -> Registered:
        """``version`` is a number, ``latest`` or ``-1``."""
        with self._lock:
            versions = self._versions(subject)
            if version in ("latest", "-1"):
                return versions[-1]
            if not (version.isascii() and version.isdigit()) or int(version) < 1:
                raise Refusal(422, 42202, f"The specified version '{version}' is not valid.")
            for registered in versions:
                if registered.version == int(version):
                    return registered
        raise Refusal(404, 40402, f"Version {version} not found.")

    def schema(self, schema_id: int) -> str:
        with self._lock:
            text = self._by_id.get(schema_id)
        if text is None:
            raise Refusal(404, 40403, "Schema not found")
        return text

    def usages(self, schema_id: int) -> list[Registered]:
        """Every subject version that has ``schema_id``."""
        self.schema(schema_id)
        with self._lock:
            return [
                r
                for versions in self._subjects.values()
                for r in versions
                if r.schema_id == schema_id
            ]

    def lookup(self, subject: str, text: object) -> Registered:
        """The version of ``subject`` whose schema is ``text``."""
        _, wanted = parse_schema(text)
        with self._lock:
            for registered in self._versions(subject):
                if registered.text == wanted:
                    return registered
        raise Refusal(404, 40403, "Schema not found")

    def compatibility(self, subject: str | None = None, *, fallback: bool = True) -> str:
        """The subject's own level; without one, the global level if ``fallback`` else 404."""
        with self._lock:
            if subject is None:
                return self._global
            level = self._levels.get(self._own(subject))
        if level is not None:
            return level
        if fallback:
            return self._global
        raise Refusal(
            404, 40408, f"Subject '{subject}' does not have subject-level compatibility configured"
        )

    # --- writes ----------------------------------------------------------------------------

    def set_compatibility(self, subject: str | None, level: object) -> str:
        if not isinstance(level, str) or level.upper() not in LEVELS:
            raise Refusal(422, 42203, "Invalid compatibility level")
        with self._lock:
            if subject is None:
                self._global = level.upper()
            else:
                self._levels[subject] = level.upper()
        return level.upper()

    def register(self, subject: str, text: object) -> Registered:
        """Add ``text`` as the next version of ``subject`` (or return the version that already
        has it). :class:`Refusal` 409 if the subject's level forbids it."""
        schema, wanted = parse_schema(text)
        level = self.compatibility(subject)
        with self._lock:
            earlier = self._subjects.get(subject, [])
            for registered in earlier:
                if registered.text == wanted:
                    return registered
            self._check(subject, level, schema, earlier)
            schema_id = self._ids.get(wanted) or max(self._by_id, default=0) + 1
            registered = Registered(
                subject, earlier[-1].version + 1 if earlier else 1, schema_id, wanted
            )
            self._subjects.setdefault(subject, []).append(registered)
            self._by_id[schema_id] = wanted
            self._ids[wanted] = schema_id
            return registered

    @staticmethod
    def _check(subject: str, level: str, schema: Any, earlier: list[Registered]) -> None:
        if level == "NONE" or not earlier:
            return
        against = earlier if level.endswith("_TRANSITIVE") else earlier[-1:]
        for old in against:
            old_schema = json.loads(old.text)
            checks = []
            if level.startswith(("BACKWARD", "FULL")):
                checks.append(can_read(schema, old_schema))
            if level.startswith(("FORWARD", "FULL")):
                checks.append(can_read(old_schema, schema))
            for check in checks:
                if not check.compatible:
                    details = ", ".join(
                        f"{{errorType:'{kind}', description:'{check.detail}'}}"
                        for kind in check.kinds
                    )
                    # Confluent's message quotes the old schema; clients must not repeat it
                    raise Refusal(
                        409,
                        409,
                        f"Schema being registered is incompatible with an earlier schema for "
                        f'subject "{subject}", details: [{details}, {{oldSchemaVersion: '
                        f"{old.version}}}, {{oldSchema: '{old.text}'}}, "
                        f"{{compatibility: '{level}'}}]",
                    )
