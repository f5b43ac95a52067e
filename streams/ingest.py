"""Ingest: decode a record from an event topic and check it before it may touch a timeline.

Every failure is an :class:`IngestError` naming the stage (``decode`` or ``validate``) and a
bounded reason code; the worker dead-letters the original bytes with that information."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from schemas.envelope import (
    Event,
    describe_validation_error,
    no_personal_data_in_data,
    validate_record,
)
from schemas.exceptions import InvalidEvent, PermanentError, SerdeError
from schemas.models import data_model
from schemas.personal import personal_data_in
from schemas.pseudonym import holds_bsn, is_pseudonym
from schemas.serde import RecordDeserializer
from schemas.wire import VERWIJDERD, WITHHELD_BSN, WITHHELD_PERSONAL_DATA, Wire
from streams.exceptions import StreamsError
from streams.model import TimelineEvent

BAD_SUBJECT = "bad-subject"
"""Reason of a record whose ``subject`` is not a pseudonym (:func:`~schemas.pseudonym.
is_pseudonym`): on an event topic, or a clock tick or erasure on ``schakel.klok``."""


class IngestError(StreamsError, PermanentError):
    """A record that cannot be accepted; ``stage`` and ``reason`` are metric labels.
    ``withhold`` (``None``, or a value of :data:`schemas.wire.WITHHELD`): the record holds a
    possible BSN where none may be, or an e-mail address or an IBAN in an identifier, so its
    dead letter keeps nothing of it — no key, value or headers
    (:func:`schemas.binding.deadletter_record`), only where it lies and why."""

    def __init__(
        self, message: str, *, stage: str, reason: str, withhold: bytes | None = None
    ) -> None:
        super().__init__(message)
        self.stage = stage
        self.reason = reason
        self.withhold = withhold


_ATTRIBUTES = (
    "id",
    "source",
    "type",
    "time",
    "datacontenttype",
    "dataschema",
    "bronsleutel",
    "sequence",
)
_IDENTIFIERS = ("id", "bronsleutel", "sequence")
"""The attributes that are identifiers (:func:`schemas.envelope.validate_record`): checked
for an e-mail address or an IBAN too, not only for a possible BSN."""


def withheld_as(record: Mapping[str, Any]) -> bytes | None:
    """Whether, and why, the dead letter of a decoded event record keeps nothing of it
    (:attr:`IngestError.withhold`): :data:`~schemas.wire.WITHHELD_BSN` if it holds a possible
    BSN (:func:`~schemas.pseudonym.holds_bsn`) where none may be — in a CloudEvents attribute,
    in a ``subject`` that is no pseudonym, or in any string or whole number of ``data``;
    else :data:`~schemas.wire.WITHHELD_PERSONAL_DATA` if an identifier (``id``,
    ``bronsleutel``, ``sequence``, a string in ``data``) or a ``subject`` that is no pseudonym
    holds an e-mail address or an IBAN
    (:func:`schemas.personal.personal_data_in`); else ``None``."""
    for name in _ATTRIBUTES:
        value = record.get(name)
        if isinstance(value, str) and holds_bsn(value):
            return WITHHELD_BSN
    subject = record.get("subject")
    if isinstance(subject, str) and not is_pseudonym(subject) and holds_bsn(subject):
        return WITHHELD_BSN
    data = record.get("data")
    if isinstance(data, Mapping) and _refused(data, personal=False):
        return WITHHELD_BSN
    for name in (*_IDENTIFIERS, "subject"):  # (a pseudonym holds neither: 32 hex digits)
        value = record.get(name)
        if isinstance(value, str) and personal_data_in(value) is not None:
            return WITHHELD_PERSONAL_DATA
    if isinstance(data, Mapping) and _refused(data, personal=True):
        return WITHHELD_PERSONAL_DATA
    return None


def _refused(data: Mapping[str, Any], *, personal: bool) -> bool:
    """Whether :func:`~schemas.envelope.no_personal_data_in_data` refuses ``data``."""
    try:
        no_personal_data_in_data(data, personal=personal)
    except InvalidEvent:
        return True
    return False


def checked_subject(subject: object, *, what: str) -> str:
    """``subject`` of a record read from Kafka if it is a pseudonym, else :class:`IngestError`
    (stage ``validate``, reason :data:`BAD_SUBJECT`; withheld if it holds a possible BSN, an
    e-mail address or an IBAN). ``what``: the record, for the message (the value is never
    echoed)."""
    if is_pseudonym(subject):
        return subject
    withhold = None
    if isinstance(subject, str):
        if holds_bsn(subject):
            withhold = WITHHELD_BSN
        elif personal_data_in(subject) is not None:
            withhold = WITHHELD_PERSONAL_DATA
    raise IngestError(
        f"subject of {what}: must be a pseudonym (32 lowercase hexadecimal characters)",
        stage="validate",
        reason=BAD_SUBJECT,
        withhold=withhold,
    )


def to_timeline_event(event: Event) -> TimelineEvent:
    """The timeline event of a decoded ``event``. Raises :class:`IngestError` (stage
    ``validate``) when ``data.datum`` is missing (``missing-field``) or ``time`` does not
    parse (``bad-time``) — nothing else, whatever the event holds. The RFC 3339 check of
    ``time`` is :func:`decode_event`'s (:func:`schemas.envelope.validate_record`); this also
    reads an event kept in a state, which was checked when it was read."""
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
    deserialize: RecordDeserializer, payload: bytes | None, topic: str, wire: Wire
) -> tuple[str, TimelineEvent]:
    """Decode and validate one record of ``topic``, an event topic of ``wire``: (subject,
    event). The Kafka key is not trusted; the pseudonym in ``subject`` is.

    Stage ``decode``: no value (``Tombstone``), bytes that do not decode, a schema that is no
    catalogue event (the :class:`~schemas.exceptions.SerdeError`'s class is the reason).
    Stage ``validate``, in this order: ``type`` not the record's Avro schema or not an input
    type (``wrong-type``); the envelope rules an adapter applies
    (:func:`schemas.envelope.validate_record`: ``bad-version``, ``bad-type``, ``too-large``,
    ``bad-time``, ``bsn-in-identifier``, ``personal-data-in-identifier``, ``missing-field``);
    the topic (``unknown-type``, ``wrong-topic``); ``subject`` (``bad-subject``); ``data``
    (the model's reasons, then ``bsn-in-identifier``, ``personal-data-in-identifier``). No
    message echoes a value of the record. A record refused at ``validate`` that holds a
    possible BSN, or personal data in an identifier, is :attr:`~IngestError.withhold`
    (:func:`withheld_as`)."""
    try:
        name, record = deserialize.event_record(payload)
    except SerdeError as exc:
        raise IngestError(str(exc), stage="decode", reason=type(exc).__name__) from exc
    try:
        return _checked(name, record, topic, wire)
    except IngestError as exc:
        exc.withhold = exc.withhold or withheld_as(record)
        raise


def _checked(
    name: str, record: Mapping[str, Any], topic: str, wire: Wire
) -> tuple[str, TimelineEvent]:
    """:func:`decode_event`'s checks of a decoded record of schema ``name``."""
    event_type = record["type"]
    if event_type != name:
        raise IngestError(
            f"type: does not match the record's schema ({name})",
            stage="validate",
            reason="wrong-type",
        )
    if event_type.startswith("nl.schakel.") and event_type != VERWIJDERD:
        raise IngestError(
            f"{event_type} is not an input event", stage="validate", reason="wrong-type"
        )
    try:
        validate_record(record)
    except InvalidEvent as exc:
        raise IngestError(str(exc), stage="validate", reason=exc.reason) from None
    expected_topics = wire.topics_for(event_type)
    if not expected_topics:
        raise IngestError(f"no topic carries {event_type}", stage="validate", reason="unknown-type")
    if topic not in expected_topics:
        raise IngestError(
            f"{event_type} does not belong on {topic}", stage="validate", reason="wrong-topic"
        )
    subject = checked_subject(record.get("subject"), what="the event")
    try:
        model = data_model(event_type)
    except KeyError:  # a type field no schema declares, on the topic of its domain
        raise IngestError(
            "type: not a catalogue type", stage="validate", reason="unknown-type"
        ) from None
    try:
        model.model_validate(record["data"])
    except ValidationError as exc:
        invalid = describe_validation_error(exc, "data")
        raise IngestError(str(invalid), stage="validate", reason=invalid.reason) from exc
    try:
        no_personal_data_in_data(record["data"])
    except InvalidEvent as exc:
        raise IngestError(str(exc), stage="validate", reason=exc.reason) from None
    return subject, to_timeline_event(Event.from_record(record))
