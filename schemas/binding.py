"""CloudEvents on the wire: the Kafka protocol binding in binary content mode.

Every record Schakel writes is a binary-mode CloudEvent: the value is the data (Avro,
Confluent wire format; a streams dead letter: the bytes as read) and the attributes are
headers (names in :mod:`schemas.wire`): ``ce_specversion``, ``ce_id``, ``ce_source``,
``ce_type``, ``ce_subject`` (the pseudonym, where the record has one), ``ce_time`` (where
known), the extensions ``ce_sequence``, ``ce_bronsleutel`` (record versions) and the NL GOV
profile v1.1 ``ce_dataref`` (where the event has them) and ``content-type``.
:func:`cloudevent_headers` builds them, for every producer path (adapters, worker, audit
trail, ``schakel forget``, replay, dead letters); nothing else writes ``ce_*`` headers.

What each kind of record carries:

=========================  ================================================================
catalogue events, signals  the event's own attributes (:func:`event_headers`)
and audit records
timelines, clock ticks,    ``ce_type`` = the Avro record name (``nl.schakel.intern.…``),
erasure requests,          ``ce_id`` = a digest of the identifying content (the same record
quarantine records         written again has the same id), ``ce_source`` = the writer
                           (:func:`record_headers`)
streams dead letters       ``ce_type`` = :data:`DEADLETTER_TYPE`, ``ce_id`` =
                           :func:`deadletter_id` of the source position, ``content-type:
                           application/octet-stream``; the original's CloudEvents headers
                           under ``schakel.bron.`` (:func:`deadletter_record_headers`);
                           without the original's value when it would not fit
                           (:func:`deadletter_record`)
=========================  ================================================================

**No BSN in a header.** ``ce_subject`` is written only for a pseudonym (32 lowercase
hexadecimal characters); any other attribute value that holds a possible BSN
(:func:`schemas.pseudonym.holds_bsn`) is masked. Values are validated at the adapter boundary
already, so in practice masking never changes a header.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import NamedTuple

from schemas.envelope import SPECVERSION, Event
from schemas.pseudonym import holds_bsn, is_pseudonym, mask_bsn
from schemas.wire import (
    CE_EXTENSIONS,
    CE_HEADER_PREFIX,
    CONTENT_TYPE_AVRO,
    CONTENT_TYPE_RAW,
    HEADER_CE_ID,
    HEADER_CE_SOURCE,
    HEADER_CE_SPECVERSION,
    HEADER_CE_SUBJECT,
    HEADER_CE_TIME,
    HEADER_CE_TYPE,
    HEADER_CONTENT_TYPE,
    HEADER_ORIGINAL_PREFIX,
    HEADER_SOURCE_OMITTED,
    HEADER_SOURCE_OMITTED_REST,
    HEADER_SOURCE_WITHHELD,
    deadletter_headers,
)

Headers = list[tuple[str, bytes]]

DEADLETTER_TYPE = "nl.schakel.intern.deadletter"
"""``ce_type`` of a record on the streams dead-letter topic."""
REPLAYED_TYPE = "nl.schakel.intern.herhaald"
"""``ce_type`` of a record on ``schakel.deadletter.herhaald``: ``schakel dlq replay``
re-published the dead letter its key names (value: when, as text)."""


def component_source(component: str) -> str:
    """``ce_source`` of a record written by a Schakel component that has no configured source
    URN at hand (``urn:schakel:<component>``, e.g. ``urn:schakel:replay``)."""
    return f"urn:schakel:{component}"


def _clean(value: str) -> bytes:
    """A header value as bytes, a possible BSN masked."""
    return (mask_bsn(value) if holds_bsn(value) else value).encode("utf-8")


_clean_repeated = lru_cache(maxsize=256)(_clean)
""":func:`_clean` for ``ce_source`` and ``ce_type``, the same on most records (a component's
URN, a catalogue type): the BSN check is the costliest part of building headers. Not for
values that differ per record (``ce_id``, ``ce_time``, extensions), which are not kept."""


def as_pseudonym(value: bytes | str | None) -> str | None:
    """``value`` if it is a pseudonym (32 lowercase hex characters), else ``None``."""
    if isinstance(value, bytes):
        try:
            value = value.decode("ascii")
        except UnicodeDecodeError:
            return None
    return value if is_pseudonym(value) else None


def cloudevent_headers(
    *,
    id: str,
    source: str,
    type: str,
    subject: str | None = None,
    time: str | None = None,
    content_type: str = CONTENT_TYPE_AVRO,
    extensions: Mapping[str, str] | None = None,
) -> Headers:
    """The binary-mode headers of one record: the required attributes, ``ce_subject`` only for
    a pseudonym, ``ce_time`` if known (RFC 3339), ``ce_<name>`` for each extension of
    :data:`schemas.wire.CE_EXTENSIONS` given, and ``content-type``."""
    headers: Headers = [
        (HEADER_CE_SPECVERSION, SPECVERSION.encode()),
        (HEADER_CE_ID, _clean(id)),
        (HEADER_CE_SOURCE, _clean_repeated(source)),
        (HEADER_CE_TYPE, _clean_repeated(type)),
    ]
    pseudonym = as_pseudonym(subject)
    if pseudonym is not None:
        headers.append((HEADER_CE_SUBJECT, pseudonym.encode()))
    if time:
        headers.append((HEADER_CE_TIME, _clean(time)))
    for name in CE_EXTENSIONS:
        value = (extensions or {}).get(name)
        if isinstance(value, str) and value:
            headers.append((f"{CE_HEADER_PREFIX}{name}", _clean(value)))
    headers.append((HEADER_CONTENT_TYPE, content_type.encode()))
    return headers


def event_headers(event: Event) -> Headers:
    """The headers of a catalogue event (input event, signal or audit record): its own
    attributes, ``sequence`` and ``bronsleutel`` (envelope fields) and the extensions it kept
    from the input (``Event.extra``: ``dataref``)."""
    extensions = {k: v for k, v in event.extra.items() if isinstance(v, str)}
    for name, value in (("sequence", event.sequence), ("bronsleutel", event.bronsleutel)):
        if value is not None:
            extensions[name] = value
    return cloudevent_headers(
        id=event.id,
        source=event.source,
        type=event.type,
        subject=event.subject,
        time=event.time,
        extensions=extensions,
    )


def content_id(*parts: bytes | str) -> str:
    """A deterministic ``ce_id``: the first 32 hex characters of the SHA-256 of ``parts``
    (each length-prefixed, so that the split between them counts)."""
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "big") + data)
    return digest.hexdigest()[:32]


def record_headers(
    record_name: str,
    identity: bytes | str,
    *,
    source: str,
    subject: str | None = None,
    time: str | None = None,
) -> Headers:
    """The headers of one of Schakel's own Avro records (not a catalogue event): ``ce_type``
    is its schema's record name and ``ce_id`` the :func:`content_id` of ``identity`` (what
    makes the record this record, e.g. its encoded value)."""
    return cloudevent_headers(
        id=content_id(record_name, identity),
        source=source,
        type=record_name,
        subject=subject,
        time=time,
    )


def replayed_headers(deadletter: str, when: str) -> Headers:
    """The headers of the record that says ``schakel dlq replay`` re-published dead letter
    ``deadletter`` (its id) at ``when`` (RFC 3339): ``ce_time`` is ``when``, the value is
    ``when`` as text."""
    return cloudevent_headers(
        id=content_id(REPLAYED_TYPE, deadletter, when),
        source=component_source("dlq"),
        type=REPLAYED_TYPE,
        time=when,
        content_type="text/plain",
    )


def deadletter_id(topic: str, partition: int, offset: int) -> str:
    """The ``ce_id`` of the dead letter of the record at ``topic``/``partition``/``offset``:
    the same for every copy the worker writes of it (a redelivery after a crash)."""
    return content_id(topic, str(partition), str(offset))


def is_cloudevent_header(name: str) -> bool:
    """Whether a header name belongs to the CloudEvents binding (``ce_*``, ``content-type``)."""
    lowered = name.lower()
    return lowered.startswith(CE_HEADER_PREFIX) or lowered == HEADER_CONTENT_TYPE


def deadletter_record_headers(
    original: Iterable[tuple[str, bytes]],
    *,
    topic: str,
    partition: int,
    offset: int,
    stage: str,
    error: BaseException,
    reason: str,
    source: str,
    key: bytes | None,
    time: str | None,
    timestamp: int | None,
) -> Headers:
    """The headers of a streams dead letter of the record at ``topic``/``partition``/
    ``offset`` refused for ``reason`` (a code, :data:`schemas.wire.HEADER_ERROR_REASON`),
    registered at ``timestamp`` (its Kafka timestamp, ms): the original headers
    (its CloudEvents ones renamed to ``schakel.bron.<name>``, restored by
    :func:`original_headers`), the :data:`schemas.wire.DEADLETTER_HEADERS`, and the dead
    letter's own CloudEvents headers (``ce_subject`` the key when it is a pseudonym)."""
    return [
        *_renamed(original),
        *deadletter_headers(
            topic, partition, offset, stage, error, reason=reason, timestamp=timestamp
        ),
        *cloudevent_headers(
            id=deadletter_id(topic, partition, offset),
            source=source,
            type=DEADLETTER_TYPE,
            subject=as_pseudonym(key),
            time=time,
            content_type=CONTENT_TYPE_RAW,
        ),
    ]


def _renamed(original: Iterable[tuple[str, bytes]]) -> Headers:
    """The original record's headers as its dead letter keeps them (CloudEvents ones renamed
    to ``schakel.bron.<name>``)."""
    return [
        (f"{HEADER_ORIGINAL_PREFIX}{name}" if is_cloudevent_header(name) else name, value)
        for name, value in original
    ]


HEADER_FRAMING = 10
"""Bytes a record spends on one header besides its name and value: the two length varints
(at most 5 bytes each). Counted per header by :func:`record_bytes` because a record from
another producer may have any number of headers; the record's own framing and the batch
header are in the output limit's allowance (``streams.sizes.RECORD_OVERHEAD``)."""


def record_bytes(
    key: bytes | None, value: bytes | None, headers: Iterable[tuple[str, bytes]]
) -> int:
    """The size a record counts against an output limit: its key, value, and each header's
    name (UTF-8) and value plus :data:`HEADER_FRAMING`."""
    size = len(key or b"") + len(value or b"")
    return size + sum(len(n.encode()) + len(v or b"") + HEADER_FRAMING for n, v in headers)


class DeadLetterRecord(NamedTuple):
    """A streams dead letter as it is written: key, value (``None``: omitted), headers."""

    key: bytes | None
    value: bytes | None
    headers: Headers


def deadletter_record(
    original: Iterable[tuple[str, bytes]],
    *,
    key: bytes | None,
    value: bytes | None,
    limit: int,
    topic: str,
    partition: int,
    offset: int,
    stage: str,
    error: BaseException,
    reason: str,
    source: str,
    time: str | None,
    timestamp: int | None,
    withhold: bytes | None = None,
) -> DeadLetterRecord:
    """The streams dead letter of the record at ``topic``/``partition``/``offset``, refused at
    ``stage`` for ``reason`` (headers: :func:`deadletter_record_headers`), made to fit
    ``limit`` (:func:`record_bytes` at most ``limit``: the output limit of the writing path,
    ``streams.sizes.output_limit``), so that no producer or broker refuses it and no rejected
    record goes unrecorded.

    - Fits with everything (``record_bytes`` == ``limit`` included): key, value and headers.
    - Else the value is left out (``None``) and :data:`schemas.wire.HEADER_SOURCE_OMITTED`
      gives its size; the location and timestamp headers say where to read the original.
    - Else (a key and headers larger than the limit themselves) the key and the original's
      headers are left out too, :data:`schemas.wire.HEADER_SOURCE_OMITTED_REST` giving their
      size; the value is then empty (``b""``), as a record needs a key or a value. The dead
      letter's own headers (location, stage, reason, error message of at most
      ``MAX_ERROR_MESSAGE`` characters, CloudEvents) always remain: a few KB at most, which
      any ``limit`` a broker is configured with is assumed to exceed.

    ``withhold`` (a value of :data:`schemas.wire.WITHHELD`: the record holds a possible BSN
    where none may be — in its key, an identifier, an attribute, a ``subject`` that is no
    pseudonym or ``data`` — or an e-mail address or an IBAN in an identifier): as in the last
    case whatever its size — nothing of the original is copied, so none of it reaches the
    dead-letter topic, and :data:`schemas.wire.HEADER_SOURCE_WITHHELD` says why (the value); the
    original is read from its topic while retention keeps it, and ``schakel dlq replay``
    skips the dead letter (it must be corrected at its source)."""
    if key is None and value is None:
        # a keyless tombstone: a Kafka client sends no record with neither key nor value
        # (aiokafka's producer asserts it), so its dead letter holds an empty value
        value = b""
    kept = _renamed(original)
    own = deadletter_record_headers(
        (),
        topic=topic,
        partition=partition,
        offset=offset,
        stage=stage,
        error=error,
        reason=reason,
        source=source,
        key=key,
        time=time,
        timestamp=timestamp,
    )
    if not withhold and record_bytes(key, value, [*kept, *own]) <= limit:
        return DeadLetterRecord(key, value, [*kept, *own])
    omitted = [(HEADER_SOURCE_OMITTED, str(len(value or b"")).encode())]
    if not withhold and record_bytes(key, None, [*kept, *own, *omitted]) <= limit:
        return DeadLetterRecord(key, None, [*kept, *own, *omitted])
    rest = (HEADER_SOURCE_OMITTED_REST, str(record_bytes(key, None, kept)).encode())
    why = [(HEADER_SOURCE_WITHHELD, withhold)] if withhold else []
    # an empty value, not none: a Kafka client refuses a record with neither key nor value
    # (aiokafka's producer asserts it: the worker's agent crashed on such a dead letter)
    return DeadLetterRecord(None, b"", [*own, *omitted, rest, *why])


def omitted_size(
    headers: Iterable[tuple[str, bytes]], header: str = HEADER_SOURCE_OMITTED
) -> int | None:
    """The size of the value a dead letter was written without
    (:data:`schemas.wire.HEADER_SOURCE_OMITTED`), or ``None`` if it has its value. A header
    that holds no number counts as 0 bytes omitted: the value is missing all the same. With
    ``header`` :data:`schemas.wire.HEADER_SOURCE_OMITTED_REST`: the size of the key and
    original headers left out too, or ``None`` if the dead letter has them."""
    for name, value in headers:
        if name == header:
            text = (value or b"").decode("ascii", "replace")
            return int(text) if text.isdigit() and len(text) <= 19 else 0
    return None


def original_headers(headers: Iterable[tuple[str, bytes]]) -> Headers:
    """The headers the original record had, from those of its streams dead letter: the
    dead letter's own CloudEvents headers and ``schakel.*`` headers dropped, the renamed
    ``schakel.bron.<ce header>`` restored."""
    out: Headers = []
    for name, value in headers:
        if name.startswith(HEADER_ORIGINAL_PREFIX):
            inner = name[len(HEADER_ORIGINAL_PREFIX) :]
            if is_cloudevent_header(inner):
                out.append((inner, value))
        elif not name.startswith("schakel.") and not is_cloudevent_header(name):
            out.append((name, value))
    return out
