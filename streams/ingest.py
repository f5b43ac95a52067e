"""Ingest: decode a record from an event topic and check it before it may touch a timeline.

Every failure is an :class:`IngestError` naming the stage (``decode`` or ``validate``) and a
bounded reason code; the worker dead-letters the original bytes with that information."""

from __future__ import annotations

import re
from datetime import datetime

from pydantic import ValidationError

from schemas.envelope import Event, describe_validation_error
from schemas.exceptions import PermanentError, SerdeError
from schemas.models import data_model
from schemas.serde import RecordDeserializer
from schemas.wire import VERWIJDERD, Wire
from streams.exceptions import StreamsError
from streams.model import TimelineEvent

_PSEUDONYM = re.compile(r"[0-9a-f]{32}")


class IngestError(StreamsError, PermanentError):
    """A record that cannot be accepted; ``stage`` and ``reason`` are metric labels."""

    def __init__(self, message: str, *, stage: str, reason: str) -> None:
        super().__init__(message)
        self.stage = stage
        self.reason = reason


def to_timeline_event(event: Event) -> TimelineEvent:
    """The timeline event of a decoded ``event``. Raises :class:`IngestError` (stage
    ``validate``) when ``data.datum`` is missing (``missing-field``) or ``time`` is not an
    RFC 3339 timestamp (``bad-time``) — nothing else, whatever the event holds."""
    datum = event.datum
    if datum is None:  # guaranteed by the schemas; a guard for hand-made events
        raise IngestError("data.datum is missing", stage="validate", reason="missing-field")
    try:
        time = datetime.fromisoformat(event.time) if event.time else None
    except ValueError:
        raise IngestError(
            "time is not an RFC 3339 timestamp", stage="validate", reason="bad-time"
        ) from None
    return TimelineEvent(
        id=event.id,
        source=event.source,
        type=event.type,
        datum=datum,
        time=time,
        data=dict(event.data),
        bronsleutel=event.bronsleutel,
        sequence=event.sequence,
    )


def decode_event(
    deserialize: RecordDeserializer, payload: bytes, topic: str, wire: Wire
) -> tuple[str, TimelineEvent]:
    """Decode and validate one record of ``topic``, an event topic of ``wire``: (subject,
    event). The Kafka key is not trusted; the pseudonym in ``subject`` is."""
    try:
        event = deserialize(payload)
    except SerdeError as exc:
        raise IngestError(str(exc), stage="decode", reason=type(exc).__name__) from exc
    if event.type.startswith("nl.schakel.") and event.type != VERWIJDERD:
        raise IngestError(
            f"{event.type} is not an input event", stage="validate", reason="wrong-type"
        )
    if event.bronsleutel is not None and not event.sequence:
        raise IngestError(
            "sequence: required with bronsleutel", stage="validate", reason="missing-field"
        )
    if event.type == VERWIJDERD and event.bronsleutel is None:
        raise IngestError(
            f"bronsleutel: required on {VERWIJDERD}", stage="validate", reason="missing-field"
        )
    expected_topics = wire.topics_for(event.type)
    if not expected_topics:
        raise IngestError(
            f"no topic carries {event.type!r}", stage="validate", reason="unknown-type"
        )
    if topic not in expected_topics:
        raise IngestError(
            f"{event.type} does not belong on {topic}", stage="validate", reason="wrong-topic"
        )
    if event.subject is None or not _PSEUDONYM.fullmatch(event.subject):
        raise IngestError(
            "subject must be a 32-hex-character pseudonym", stage="validate", reason="bad-subject"
        )
    try:
        model = data_model(event.type)
    except KeyError:  # a type field no schema declares, on the topic of its domain
        raise IngestError(
            "type: not a catalogue type", stage="validate", reason="unknown-type"
        ) from None
    try:
        model.model_validate(event.data)
    except ValidationError as exc:
        invalid = describe_validation_error(exc, "data")
        raise IngestError(str(invalid), stage="validate", reason=invalid.reason) from exc
    return event.subject, to_timeline_event(event)
