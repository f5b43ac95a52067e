"""Confluent wire format: magic byte ``0`` + 4-byte big-endian schema id + Avro binary.

Serializers are small callables; every schema is parsed once and cached by id. Decoding
resolves the writer's schema to the newest committed version of the same record (the reader
schema), which is how BACKWARD-compatible evolution is read.
"""

from __future__ import annotations

import io
import struct
import threading
from collections.abc import Mapping
from typing import Any

import fastavro
from fastavro.schema import to_parsing_canonical_form

from schemas.avro_read import Read, compile_reader
from schemas.avro_write import Write, compile_writer
from schemas.catalogue import Catalogue, SchemaVersion, catalogue, from_avro, to_avro
from schemas.envelope import Event
from schemas.exceptions import (
    ForeignSchema,
    SerdeError,
    Tombstone,
    UndecodablePayload,
    UnknownMagicByte,
)
from schemas.registry import SchemaRegistry, subject_name

MAGIC = 0
_HEADER = struct.Struct(">bI")
_REFUSED: Any = object()


def _read_generated(read: Read | None, payload: bytes) -> Any:
    """The datum of a wire-format ``payload`` read by the generated reader ``read``, or
    :data:`_REFUSED` when there is none or it refuses the payload (fastavro reads it then)."""
    if read is None:
        return _REFUSED
    try:
        return read(payload, _HEADER.size)
    except Exception:  # refused: fastavro reads it (and says why)
        return _REFUSED


def _record_schema(schema_id: int, raw: object) -> tuple[Any, str]:
    """``raw``, the schema the registry holds under ``schema_id``, parsed for reading, with
    its full name; :class:`ForeignSchema` if it is no named Avro record or does not parse —
    whatever it holds, nothing else is raised."""
    if (
        not isinstance(raw, Mapping)
        or raw.get("type") != "record"
        or not isinstance(raw.get("name"), str)
        or not isinstance(raw.get("namespace", ""), str)
    ):
        raise ForeignSchema(
            f"schema id {schema_id} is not a Schakel record schema (not a named Avro record)"
        )
    try:
        writer = fastavro.parse_schema(dict(raw), _write_hint=False)
    except Exception as exc:  # fastavro raises many types for a schema it cannot parse
        raise ForeignSchema(
            f"schema id {schema_id} is not a Schakel record schema "
            f"(it does not parse: {type(exc).__name__})"
        ) from exc
    name = f"{raw['namespace']}.{raw['name']}" if raw.get("namespace") else raw["name"]
    return writer, name


class RecordSerializer:
    """Encodes records of catalogue schemas for a topic, looking each schema's id up once (it
    never registers: in production that is the deploy job's, ``schakel schemas register``)."""

    def __init__(self, registry: SchemaRegistry, cat: Catalogue | None = None) -> None:
        self._registry = registry
        self._catalogue = cat or catalogue()
        self._ids: dict[tuple[str, str], int] = {}
        self._writers: dict[str, tuple[Any, Write | None]] = {}
        self._lock = threading.Lock()

    def _writer(self, schema: SchemaVersion) -> tuple[Any, Write | None]:
        """``schema`` parsed once for writing, with fastavro's mark of a parsed schema (without
        it, ``schemaless_writer`` parses the schema again on every call), and its generated
        writer (:mod:`schemas.avro_write`; ``None`` if it has none): the same bytes."""
        writer = self._writers.get(schema.name)
        if writer is None:
            parsed = fastavro.parse_schema(dict(schema.raw))
            writer = self._writers[schema.name] = (parsed, compile_writer(parsed))
        return writer

    def _schema_id(self, topic: str, schema: SchemaVersion) -> int:
        key = (topic, schema.name)
        schema_id = self._ids.get(key)
        if schema_id is None:
            schema_id = self._registry.lookup(subject_name(topic, schema.name), schema.raw)
            with self._lock:
                self._ids[key] = schema_id
        return schema_id

    def prepare(self, topic: str, name: str) -> int:
        """Look up (and keep) the schema id of the newest version of ``name`` for ``topic`` now,
        so that encoding it later needs no registry. Raises what the registry raises (e.g.
        :class:`~schemas.exceptions.RegistryUnavailable`, transient)."""
        try:
            schema = self._catalogue.latest(name)
        except KeyError:
            raise SerdeError(f"no schema named {name!r} in the catalogue") from None
        return self._schema_id(topic, schema)

    def encode(self, topic: str, name: str, record: Mapping[str, Any]) -> bytes:
        """Encode ``record`` (catalogue spelling) with the newest version of schema ``name``."""
        try:
            schema = self._catalogue.latest(name)
        except KeyError:
            raise SerdeError(f"no schema named {name!r} in the catalogue") from None
        header = _HEADER.pack(MAGIC, self._schema_id(topic, schema))
        parsed, generated = self._writer(schema)
        try:
            datum = to_avro(schema, record)
            if generated is not None:
                out = bytearray(header)
                try:
                    generated(out, datum)
                    return bytes(out)
                except Exception:  # noqa: S110 - not a plain record: fastavro decides
                    pass
            buffer = io.BytesIO()
            buffer.write(header)
            fastavro.schemaless_writer(buffer, parsed, datum)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise SerdeError(f"record does not fit schema {name}: {exc}") from exc
        return buffer.getvalue()

    def __call__(self, event: Event, topic: str) -> bytes:
        """Encode a catalogue event for ``topic``."""
        return self.encode(topic, event.type, event.to_record())


class RecordDeserializer:
    """Decodes Confluent wire-format payloads into records (catalogue spelling)."""

    def __init__(self, registry: SchemaRegistry, cat: Catalogue | None = None) -> None:
        self._registry = registry
        self._catalogue = cat or catalogue()
        self._readers: dict[int, tuple[Any, Any, SchemaVersion]] = {}
        self._generated: dict[int, Read | None] = {}
        self._refused: dict[int, str] = {}
        """Schema ids that are no Schakel record schema → why (a schema id never changes)."""
        self._lock = threading.Lock()

    def _reader(self, schema_id: int) -> tuple[Any, Any, SchemaVersion]:
        cached = self._readers.get(schema_id)
        if cached is not None:
            return cached
        refused = self._refused.get(schema_id)
        if refused is not None:
            raise ForeignSchema(refused)
        raw = self._registry.schema(schema_id)
        try:
            writer, name = _record_schema(schema_id, raw)
            if name not in self._catalogue:
                raise ForeignSchema(  # its name not echoed: anyone may register anything
                    f"schema id {schema_id} is a record schema the catalogue does not hold"
                )
        except ForeignSchema as exc:
            with self._lock:
                self._refused[schema_id] = str(exc)
            raise
        latest = self._catalogue.latest(name)
        same = to_parsing_canonical_form(dict(raw)) == to_parsing_canonical_form(dict(latest.raw))
        entry = (writer, None if same else latest.parsed, latest)
        generated = compile_reader(writer) if same else None
        with self._lock:
            self._generated[schema_id] = generated
            self._readers[schema_id] = entry
        return entry

    def generated_reader(self, schema_id: int) -> Read | None:
        """The generated reader of ``schema_id`` (:mod:`schemas.avro_read`) when its writer is
        the newest version (no schema resolution), else ``None``; raises what :meth:`decode`
        raises for that id. What it refuses, fastavro reads."""
        self._reader(schema_id)
        return self._generated[schema_id]

    def reader(self, schema_id: int) -> tuple[Any, Any, SchemaVersion]:
        """What :meth:`decode` reads ``schema_id`` with, looked up once: (writer schema, reader
        schema or ``None`` when the writer is the newest version, newest catalogue version).
        Raises what :meth:`decode` raises for that id (for bulk readers such as the batch
        path, which decode many records of one schema)."""
        return self._reader(schema_id)

    def decode(self, payload: bytes | None) -> tuple[str, dict[str, Any]]:
        """Return (record full name, record). Raises a :class:`SerdeError` subclass for a bad
        payload — :class:`~schemas.exceptions.Tombstone` for none (a Kafka record's ``null``
        value), :class:`~schemas.exceptions.ForeignSchema` when its schema id resolves to
        anything but a catalogue record schema —, and what the registry raises when it cannot
        answer (:class:`~schemas.exceptions.RegistryUnavailable`, transient)."""
        if payload is None:
            raise Tombstone("the record has no value (a tombstone): nothing to decode")
        if len(payload) < _HEADER.size:
            raise UnknownMagicByte(
                f"payload of {len(payload)} bytes is too short for the Confluent wire format"
            )
        magic, schema_id = _HEADER.unpack_from(payload)
        if magic != MAGIC:
            raise UnknownMagicByte(f"unknown magic byte {magic}: not Confluent wire format")
        writer, reader, latest = self._reader(schema_id)
        record = _read_generated(self._generated[schema_id], payload)
        if record is _REFUSED:
            try:
                body = io.BytesIO(payload[_HEADER.size :])
                record = fastavro.schemaless_reader(body, writer, reader)
            except Exception as exc:  # fastavro raises many types on corrupt input
                raise UndecodablePayload(
                    f"payload with schema id {schema_id} does not decode: {type(exc).__name__}"
                ) from exc
        if not isinstance(record, dict):
            raise UndecodablePayload(f"payload with schema id {schema_id} is not a record")
        return latest.name, from_avro(latest, record)

    def event_record(self, payload: bytes | None) -> tuple[str, dict[str, Any]]:
        """:meth:`decode` of a catalogue event: (schema full name, record); a record of a
        schema that is no CloudEvent type is :class:`UndecodablePayload`."""
        name, record = self.decode(payload)
        if not self._catalogue.latest(name).is_event:
            raise UndecodablePayload(f"{name} is not a CloudEvent type")
        return name, record

    def __call__(self, payload: bytes) -> Event:
        """Decode a catalogue event."""
        return Event.from_record(self.event_record(payload)[1])
