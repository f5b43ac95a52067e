"""Decoding for the worker and the batch path: Confluent wire bytes straight into a
:class:`TimelineEvent` (the module's name is from when only the batch path used it).

:class:`FastIngest` gives exactly what :func:`streams.ingest.decode_event` gives — the same
``(subject, event)`` for a good record, the same :class:`~streams.ingest.IngestError` (stage,
reason, message) for a bad one — but per record it skips what the worker's path repeats:

- the Avro schema is resolved once per 5-byte wire header (magic + schema id) and read by the
  reader generated for it (:mod:`schemas.avro_read`), or for what that refuses, or a writer
  schema that is not the newest, by fastavro with a schema it has already parsed (its public
  ``schemaless_reader`` parses again on every call);
- the topic checks (input type, the topic carries it) and the data model are looked up once per
  ``(topic, type)``; the other checks (the envelope rules an adapter applies,
  :func:`schemas.envelope.validate_record`; the subject; the data model; no BSN in ``data``)
  are the same functions ``decode_event`` calls;
- no intermediate :class:`~schemas.envelope.Event` is built.

Whatever is unusual — an unknown schema id, a body that does not decode, any check that fails —
is handed to :func:`~streams.ingest.decode_event` itself, so errors (and their order) are the
worker's by construction; the fast path only ever *accepts* what ``decode_event`` accepts.
"""

from __future__ import annotations

import importlib
import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from sys import intern
from typing import Any

import fastavro
from pydantic import BaseModel, ValidationError

from schemas.avro_read import Read
from schemas.catalogue import SchemaVersion
from schemas.envelope import no_personal_data_in_data, validate_record
from schemas.exceptions import InvalidEvent, SerdeError
from schemas.models import data_model
from schemas.pseudonym import is_pseudonym
from schemas.serde import MAGIC, RecordDeserializer
from schemas.wire import VERWIJDERD, Wire
from streams.ingest import decode_event, to_timeline_event
from streams.model import TimelineEvent

_HEADER_SIZE = 5

_READ_DATA: Callable[..., Any] | None = getattr(
    importlib.import_module("fastavro._read"), "_read_data", None
)
"""fastavro's compiled reader of one datum, without the schema parsing its public
``schemaless_reader`` repeats per call (fastavro 1.13, pinned); ``None`` on another build,
which then uses the public reader."""


@dataclass(frozen=True, slots=True)
class _Schema:
    """How to read the records of one writer schema id."""

    read: Callable[[bytes], Any]
    latest: SchemaVersion
    enums: tuple[str, ...]
    """The data fields that are enums: their symbols are translated as
    :func:`schemas.catalogue.from_avro` does (``geen_recht`` → ``geen-recht``)."""


def _reader_of(writer: Any, reader: Any, generated: Read | None) -> Callable[[bytes], Any]:
    """A function reading one datum after the 5-byte header: ``generated``
    (:mod:`schemas.avro_read`), and fastavro (schemas parsed once) for what it refuses."""
    named: dict[str, dict[str, Any]] = {"writer": {}, "reader": {}}
    parsed_writer = fastavro.parse_schema(writer, named["writer"])
    parsed_reader = None if reader is None else fastavro.parse_schema(reader, named["reader"])
    options: dict[str, Any] = {}
    read_data = _READ_DATA

    def slow(payload: bytes) -> Any:
        body = io.BytesIO(payload)
        body.seek(_HEADER_SIZE)
        if read_data is None:  # pragma: no cover
            return fastavro.schemaless_reader(body, parsed_writer, parsed_reader)
        return read_data(body, parsed_writer, named, parsed_reader, options)

    if generated is None:
        return slow

    def fast(payload: bytes) -> Any:
        try:
            return generated(payload, _HEADER_SIZE)
        except Exception:  # refused: fastavro reads it, or raises what it raises
            return slow(payload)

    return fast


class FastIngest:
    """:func:`streams.ingest.decode_event` for many records (module docstring). Not
    thread-safe; one per batch run."""

    def __init__(self, deserializer: RecordDeserializer, wire: Wire) -> None:
        self._deserializer = deserializer
        self._wire = wire
        self._schemas: dict[bytes, _Schema | None] = {}
        self._types: dict[tuple[str, str], type[BaseModel] | None] = {}

    def decode(self, payload: bytes | None, topic: str) -> tuple[str, TimelineEvent]:
        """``(subject, event)`` of one record of ``topic``; raises what
        :func:`~streams.ingest.decode_event` raises for it."""
        found = self._fast(payload, topic)
        if found is None:
            return decode_event(self._deserializer, payload, topic, self._wire)
        return found

    def event(self, payload: bytes) -> TimelineEvent:
        """The event of a payload kept in a state (``StateCodec.decode``: not validated again),
        as ``to_timeline_event(deserializer(payload))`` gives it."""
        found = self._record(payload)
        if found is not None:
            try:
                return self._timeline_event(found[1])
            except (ValueError, _NoDatum):
                pass  # to_timeline_event raises what it raises for it
        return to_timeline_event(self._deserializer(payload))

    def _schema(self, payload: bytes | None) -> _Schema | None:
        if payload is None:
            return None  # a tombstone: decode_event says so
        header = payload[:_HEADER_SIZE]
        if header in self._schemas:
            return self._schemas[header]
        if len(header) < _HEADER_SIZE or header[0] != MAGIC:
            return None  # decode_event says why
        schema_id = int.from_bytes(header[1:], "big")
        try:
            writer, reader, latest = self._deserializer.reader(schema_id)
            generated = self._deserializer.generated_reader(schema_id)
        except SerdeError:
            self._schemas[header] = None
            return None
        # anything else (an unreachable registry) is not cached: decode_event raises it
        schema = None
        if latest.is_event:
            schema = _Schema(
                _reader_of(writer, reader, generated), latest, tuple(latest.enum_fields)
            )
        self._schemas[header] = schema
        return schema

    def _record(self, payload: bytes | None) -> tuple[_Schema, dict[str, Any]] | None:
        """The schema and record (catalogue spelling) of ``payload``; ``None`` if it is not
        read here (``decode_event`` reads it, or says why it cannot)."""
        schema = self._schema(payload)
        if schema is None:
            return None
        try:
            record = schema.read(payload)  # type: ignore[arg-type]  # not None: it has a schema
        except Exception:  # corrupt input raises many types; decode_event says which
            return None
        if not isinstance(record, dict):
            return None
        if schema.enums:  # from_avro on the data record, in place: the record is ours
            data = record["data"]
            for name in schema.enums:
                value = data.get(name)
                if isinstance(value, str):
                    data[name] = value.replace("_", "-")
        return schema, record

    def _model(self, topic: str, event_type: str) -> type[BaseModel] | None:
        """The data model of ``event_type`` if a record of it on ``topic`` passes the type and
        topic checks of ``decode_event``; ``None`` otherwise."""
        key = (topic, event_type)
        if key in self._types:
            return self._types[key]
        model = None
        if not (
            event_type.startswith("nl.schakel.") and event_type != VERWIJDERD
        ) and topic in self._wire.topics_for(event_type):
            try:
                model = data_model(event_type)
            except KeyError:
                model = None  # decode_event raises what it raises for it
        self._types[key] = model
        return model

    def _fast(self, payload: bytes | None, topic: str) -> tuple[str, TimelineEvent] | None:
        found = self._record(payload)
        if found is None:
            return None
        schema, record = found
        event_type = record["type"]
        if event_type != schema.latest.name:
            return None
        model = self._model(topic, event_type)
        subject = record.get("subject")
        if model is None or not is_pseudonym(subject):
            return None
        try:
            validate_record(record)
            data = record["data"]
            model.model_validate(data)
            no_personal_data_in_data(data)
            event = self._timeline_event(record)
        except (InvalidEvent, ValidationError, ValueError, _NoDatum):
            return None
        return subject, event

    @staticmethod
    def _timeline_event(record: Mapping[str, Any]) -> TimelineEvent:
        """``to_timeline_event(Event.from_record(record))``, without the Event."""
        data = record["data"]
        datum = data.get("datum")
        if not isinstance(datum, date):
            raise _NoDatum
        time = record.get("time")
        return TimelineEvent(
            id=record["id"],
            source=intern(record["source"]),  # one copy of each, not one per event
            type=intern(record["type"]),
            datum=datum,
            time=datetime.fromisoformat(time) if time else None,
            data=dict(data),
            bronsleutel=record.get("bronsleutel"),
            sequence=record.get("sequence"),
        )


class _NoDatum(Exception):
    """``data.datum`` is missing: :func:`~streams.ingest.to_timeline_event` raises for it."""
