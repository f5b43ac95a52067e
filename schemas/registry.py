"""Schema registries: where a Confluent wire-format schema id comes from.

- :class:`LocalRegistry` (embedded / local mode, no server): the id of a schema is derived
  from the schema alone (:func:`local_schema_id`, the rule in ``docs/schemas.md``). Every
  process that has the same ``.avsc`` files derives the same ids without talking to anyone; a
  collision between two committed schemas is detected when the registry is built.
- :class:`schemas.registry_client.ConfluentRegistry` (production): a Confluent-compatible
  schema registry reached over its REST API with confluent-kafka's client.

Writers only *look up* ids (:meth:`SchemaRegistry.lookup`); registering schemas is the deploy
job's (``schakel schemas register``, :meth:`ConfluentRegistry.register`). Subjects follow
TopicRecordNameStrategy: ``<topic>-<record full name>`` (:func:`subject_name`), every schema on
the one topic that carries it (:func:`catalogue_subjects`).
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any

from fastavro.schema import fingerprint, to_parsing_canonical_form

from schemas.catalogue import Catalogue, SchemaVersion, catalogue
from schemas.exceptions import RegistryError, UnknownSchemaId
from schemas.wire import DEFAULT_WIRE, Wire

COMPATIBILITY = "BACKWARD_TRANSITIVE"
"""The compatibility level of every Schakel subject (events.md, "Storage on Kafka")."""


def subject_name(topic: str, record_name: str) -> str:
    """TopicRecordNameStrategy: ``<topic>-<record full name>``."""
    return f"{topic}-{record_name}"


def catalogue_subjects(
    wire: Wire = DEFAULT_WIRE, cat: Catalogue | None = None
) -> dict[str, list[SchemaVersion]]:
    """Every subject Schakel writes in ``wire``'s namespace → the committed versions of its
    schema, oldest first: each catalogue schema under every topic that carries it
    (:meth:`schemas.wire.Wire.topics_for`: one, four for ``nl.schakel.bron.verwijderd``)."""
    cat = cat or catalogue()
    return {
        subject_name(topic, name): list(cat.versions(name))
        for name in cat.names
        for topic in wire.topics_for(name)
    }


def local_schema_id(schema: Mapping[str, Any]) -> int:
    """The embedded-mode id of a schema: the 64-bit CRC-64-AVRO (Rabin) fingerprint of its
    Parsing Canonical Form, as the 8 bytes the Avro specification writes (little-endian:
    Java's ``SchemaNormalization.parsingFingerprint``, the bytes after ``C3 01`` in Avro's
    single-object encoding); the first 4 of those bytes read as a big-endian unsigned integer,
    shifted right by one bit (a positive Java ``int``); ``0`` becomes ``1``."""
    canonical = to_parsing_canonical_form(dict(schema))
    fingerprint_bytes = bytes.fromhex(fingerprint(canonical, "CRC-64-AVRO"))
    value = int.from_bytes(fingerprint_bytes[:4], "big") >> 1
    return value or 1


class SchemaRegistry(ABC):
    """Maps schemas to ids and back. Implementations are thread-safe and cache."""

    @abstractmethod
    def lookup(self, subject: str, schema: Mapping[str, Any]) -> int:
        """The id of ``schema`` registered under ``subject``. Never registers anything in a
        production registry.

        Raises :class:`~schemas.exceptions.RegistryNotFound` if it is not registered there,
        :class:`~schemas.exceptions.RegistryUnavailable` if the registry cannot be reached,
        another :class:`~schemas.exceptions.RegistryError` if it refuses."""

    @abstractmethod
    def schema(self, schema_id: int) -> Mapping[str, Any]:
        """The schema (JSON) for an id. Raises :class:`UnknownSchemaId` if the registry has
        none, :class:`~schemas.exceptions.RegistryError` if it cannot answer."""


class LocalRegistry(SchemaRegistry):
    """In-process registry with fingerprint ids, pre-loaded with every committed version.

    :meth:`lookup` of a schema that is not committed adds it (ids are a function of the schema,
    so no other process can disagree); subjects are recorded as they are looked up."""

    def __init__(self, cat: Catalogue | None = None) -> None:
        self._by_id: dict[int, Mapping[str, Any]] = {}
        self._subjects: dict[str, list[int]] = {}
        self._lock = threading.Lock()
        cat = cat or catalogue()
        for name in cat.names:
            for version in cat.versions(name):
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

    def lookup(self, subject: str, schema: Mapping[str, Any]) -> int:
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
        """The subjects looked up so far → their ids."""
        with self._lock:
            return {k: list(v) for k, v in self._subjects.items()}
