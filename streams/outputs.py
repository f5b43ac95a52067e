"""What the stream core writes for one citizen, encoded one way for the worker and the batch
path: signal events, the timeline snapshot and its tombstone, the state on the changelog, and
the size check that keeps the state and snapshot under the output limit; and the dead letter
of a record refused.

The live worker (:class:`streams.processor.Processor`) and the batch path
(:class:`streams.batch.BatchRebuild`) must write byte for byte the same records (the equality
test of batch against streaming compares them), so both take them from one
:class:`CitizenOutputs`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any, Protocol

from schemas.binding import DeadLetterRecord, deadletter_record, record_headers
from schemas.personal import personal_data_in
from schemas.pseudonym import holds_bsn
from schemas.serde import RecordDeserializer, RecordSerializer
from schemas.wire import WITHHELD_BSN, WITHHELD_PERSONAL_DATA, Wire
from streams.codec import SNAPSHOT_SCHEMA, STATE_SCHEMA, StateCodec, snapshot_record
from streams.signals import SIGNAL_TYPES, SignalChange, encoded_signals
from streams.sizes import check_outputs
from streams.state import CitizenState

Headers = list[tuple[str, bytes]]


class Refused(Protocol):
    """A record of an input topic that is dead-lettered (the worker's Faust message, the batch
    path's record)."""

    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...
    @property
    def key(self) -> bytes | None: ...
    @property
    def value(self) -> bytes | None: ...
    @property
    def headers(self) -> Iterable[tuple[str, bytes]] | None: ...
    @property
    def timestamp(self) -> int | None: ...


class CitizenOutputs:
    """The records of one citizen on the output topics of ``wire``, with ``source`` as the
    CloudEvents source of what is written."""

    def __init__(
        self,
        wire: Wire,
        serializer: RecordSerializer,
        deserializer: RecordDeserializer,
        source: str,
    ) -> None:
        self.wire = wire
        self.serializer = serializer
        self.source = source
        self.codec = StateCodec(serializer, deserializer, wire.changelog)
        """The state on the changelog (encode and decode)."""

    def prepare(self) -> None:
        """Look up the schema id of everything written (signal events, snapshots, the state
        on the changelog), once, before anything is: afterwards writing needs no registry, so
        a registry outage can only stop a record before it changed anything."""
        for name in SIGNAL_TYPES:
            self.serializer.prepare(self.wire.signalen, name)
        self.serializer.prepare(self.wire.tijdlijnen, SNAPSHOT_SCHEMA)
        self.serializer.prepare(self.wire.changelog, STATE_SCHEMA)

    def signals(self, changes: Iterable[SignalChange]) -> list[tuple[Any, bytes]]:
        """The signal events of one step's ``changes`` and their payloads, in order: what is
        sent and remembered (``uitvoer``)."""
        return encoded_signals(
            changes, self.source, lambda event: self.serializer(event, self.wire.signalen)
        )

    def snapshot(self, state: CitizenState, clock: date | None) -> tuple[bytes, Headers]:
        """The citizen's timeline snapshot at ``clock`` and its headers."""
        value = self.serializer.encode(
            self.wire.tijdlijnen, SNAPSHOT_SCHEMA, snapshot_record(state, clock)
        )
        return value, record_headers(
            SNAPSHOT_SCHEMA, value, source=self.source, subject=state.subject
        )

    def tombstone(self, subject: str) -> Headers:
        """The headers of the snapshot's tombstone (an erasure, or a citizen undone)."""
        return record_headers(
            SNAPSHOT_SCHEMA, f"tombstone:{subject}", source=self.source, subject=subject
        )

    def deadletter(
        self,
        record: Refused,
        *,
        stage: str,
        reason: str,
        error: BaseException,
        limit: int,
        time: str | None,
    ) -> DeadLetterRecord:
        """The dead letter of ``record`` for ``error`` at ``stage``, with ``reason`` — the
        label of the worker's metric: an :class:`~streams.ingest.IngestError`'s reason, else
        the error's class — as its code (:data:`schemas.wire.HEADER_ERROR_REASON`), made to
        fit ``limit``
        (:func:`schemas.binding.deadletter_record`; ``time``: when, ISO 8601, or ``None``),
        for the streams dead-letter topic. Nothing of the original is kept if ``error`` says
        it holds a possible BSN or personal data in an identifier or subject
        (:attr:`streams.ingest.IngestError.withhold`), or as :func:`_withheld_raw` finds in
        the raw record: a possible BSN anywhere in it; an e-mail address or an IBAN in its key
        or a header that is an identifier, or — if it did not decode at all (``stage``
        ``decode``: no field can be told from another) — anywhere in its value. A decoded
        record's value is judged by its identifiers alone (``error``): a functional mailbox in
        a ``mailto:`` source is no citizen's."""
        withhold = getattr(error, "withhold", None) or _withheld_raw(
            record, personal=stage == "decode"
        )
        return deadletter_record(
            record.headers or (),
            key=record.key,
            value=record.value,
            limit=limit,
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            stage=stage,
            error=error,
            reason=reason,
            source=self.source,
            time=time,
            timestamp=record.timestamp,
            withhold=withhold,
        )

    def check(self, state: CitizenState, clock: date | None, limit: int) -> None:
        """:func:`streams.sizes.check_outputs` for ``state``: its changelog record (keyed by
        the pseudonym) and its timeline snapshot at ``clock`` with its headers, as they would
        be written; raises :class:`~streams.sizes.OutputTooLarge` if one would pass
        ``limit``."""
        key = len(state.subject.encode())

        def state_size() -> int:
            return key + len(self.codec.encode(state))

        def snapshot_size() -> int:
            value, headers = self.snapshot(state, clock)
            return key + len(value) + sum(len(k) + len(v) for k, v in headers)

        check_outputs(state.payload_bytes, limit, state=state_size, snapshot=snapshot_size)


_NO_IDENTIFIER_HEADERS = frozenset({"ce_source", "ce_dataschema", "ce_type"})
"""Headers that name a system, a format or a type, not a record: a functional mailbox in a
``mailto:`` source is no citizen's (as :func:`schemas.envelope.validate_input` treats them)."""


def _withheld_raw(record: Any, *, personal: bool) -> bytes | None:
    """What to withhold of the raw ``record`` (a Kafka message: ``key``, ``value``,
    ``headers``): :data:`~schemas.wire.WITHHELD_BSN` if its key, its value read as UTF-8 text
    (an Avro string is its UTF-8 bytes; the numbers around it are binary) or a header value
    holds a possible BSN (:func:`schemas.pseudonym.holds_bsn`); else
    :data:`~schemas.wire.WITHHELD_PERSONAL_DATA` if its key or a header value other than
    :data:`_NO_IDENTIFIER_HEADERS` — or, if ``personal`` (the record did not decode: no field
    can be told from another), its value — holds an e-mail address or an IBAN
    (:func:`schemas.personal.personal_data_in`); else ``None`` (the dead letter copies the
    record). Conservative: it decides whether a dead letter may copy the record, and nine
    ASCII digits that pass the elfproef seldom arise from binary by chance."""
    headers = list(record.headers or ())
    parts = [record.key, record.value, *(v for _, v in headers)]
    if any(isinstance(part, bytes) and holds_bsn(_text(part)) for part in parts):
        return WITHHELD_BSN
    asked = [record.key, *(v for k, v in headers if k not in _NO_IDENTIFIER_HEADERS)]
    if personal:
        asked.append(record.value)
    if any(isinstance(part, bytes) and personal_data_in(_text(part)) for part in asked):
        return WITHHELD_PERSONAL_DATA
    return None


def _text(part: bytes) -> str:
    return part.decode("utf-8", "replace")
