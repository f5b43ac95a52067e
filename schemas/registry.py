"""Schema registries: where a Confluent wire-format schema id comes from.

- :class:`LocalRegistry` (embedded / local mode, no server): the id of a schema is the first
  31 bits of the CRC-64-AVRO (Rabin) fingerprint of its Parsing Canonical Form. Every process
  that has the same ``.avsc`` files therefore derives the same ids without talking to anyone;
  a collision between two committed schemas is detected when the registry is built.
- :class:`HttpRegistry` (production): a Confluent-compatible schema registry over its REST API
  (``POST /subjects/{subject}/versions``, ``GET /schemas/ids/{id}``), with ids cached.

Subjects follow TopicRecordNameStrategy: ``<topic>-<record full name>``.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any

from fastavro.schema import fingerprint, to_parsing_canonical_form

from schemas.catalogue import Catalogue, catalogue
from schemas.exceptions import RegistryError, UnknownSchemaId


def subject_name(topic: str, record_name: str) -> str:
    """TopicRecordNameStrategy."""
    return f"{topic}-{record_name}"


def local_schema_id(schema: Mapping[str, Any]) -> int:
    """Deterministic id of a schema: 31 bits of its canonical-form Rabin fingerprint (≥ 1)."""
    canonical = to_parsing_canonical_form(dict(schema))
    value = int(fingerprint(canonical, "CRC-64-AVRO"), 16) >> 33
    return value or 1


class SchemaRegistry(ABC):
    """Maps schemas to ids and back. Implementations are thread-safe and cache."""

    @abstractmethod
    def register(self, subject: str, schema: Mapping[str, Any]) -> int:
        """Register ``schema`` under ``subject`` (idempotent) and return its id.

        Raises :class:`RegistryError` if the registry refuses (e.g. incompatible)."""

    @abstractmethod
    def schema(self, schema_id: int) -> Mapping[str, Any]:
        """The schema (JSON) for an id. Raises :class:`UnknownSchemaId`."""


class LocalRegistry(SchemaRegistry):
    """In-process registry with fingerprint ids, pre-loaded with every committed version."""

    def __init__(self, cat: Catalogue | None = None) -> None:
        self._by_id: dict[int, Mapping[str, Any]] = {}
        self._subjects: dict[str, list[int]] = {}
        self._lock = threading.Lock()
        for name in (cat or catalogue()).names:
            for version in (cat or catalogue()).versions(name):
                self._add(version.raw)

    def _add(self, schema: Mapping[str, Any]) -> int:
        schema_id = local_schema_id(schema)
        known = self._by_id.get(schema_id)
        if known is not None and to_parsing_canonical_form(
            dict(known)
        ) != to_parsing_canonical_form(dict(schema)):
            raise RegistryError(f"schema id collision on {schema_id}: rename or re-version")
        self._by_id[schema_id] = schema
        return schema_id

    def register(self, subject: str, schema: Mapping[str, Any]) -> int:
        with self._lock:
            schema_id = self._add(schema)
            ids = self._subjects.setdefault(subject, [])
            if schema_id not in ids:
                ids.append(schema_id)
            return schema_id

    def schema(self, schema_id: int) -> Mapping[str, Any]:
        try:
            return self._by_id[schema_id]
        except KeyError:
            raise UnknownSchemaId(
                f"schema id {schema_id} is not a committed Schakel schema"
            ) from None

    def subjects(self) -> dict[str, list[int]]:
        return {k: list(v) for k, v in self._subjects.items()}


class HttpRegistry(SchemaRegistry):
    """A Confluent-compatible schema registry reached over HTTP."""

    def __init__(self, url: str, *, timeout: float = 10.0) -> None:
        self._url = url.rstrip("/")
        self._timeout = timeout
        self._ids: dict[tuple[str, str], int] = {}
        self._schemas: dict[int, Mapping[str, Any]] = {}
        self._lock = threading.Lock()

    def _call(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(  # noqa: S310 - operator-configured registry URL
            self._url + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/vnd.schemaregistry.v1+json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:  # noqa: S310
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace")[:500]
            if exc.code == 404 and path.startswith("/schemas/ids/"):
                raise UnknownSchemaId(f"schema registry has no schema with id {path[13:]}") from exc
            raise RegistryError(
                f"schema registry {method} {path}: HTTP {exc.code} {detail}"
            ) from exc
        except (urllib.error.URLError, OSError) as exc:
            raise RegistryError(f"schema registry {self._url} unreachable: {exc}") from exc

    def register(self, subject: str, schema: Mapping[str, Any]) -> int:
        text = json.dumps(schema, separators=(",", ":"), sort_keys=True)
        with self._lock:
            cached = self._ids.get((subject, text))
        if cached is not None:
            return cached
        answer = self._call("POST", f"/subjects/{subject}/versions", {"schema": text})
        schema_id = int(answer["id"])
        with self._lock:
            self._ids[(subject, text)] = schema_id
            self._schemas[schema_id] = schema
        return schema_id

    def schema(self, schema_id: int) -> Mapping[str, Any]:
        with self._lock:
            cached = self._schemas.get(schema_id)
        if cached is not None:
            return cached
        answer = self._call("GET", f"/schemas/ids/{schema_id}")
        schema: Mapping[str, Any] = json.loads(answer["schema"])
        with self._lock:
            self._schemas[schema_id] = schema
        return schema
