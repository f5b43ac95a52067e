"""``schakel dlq list | show ID | replay``: the dead letters of a namespace, for an operator.

Both dead-letter topics are read from the start: ``schakel.deadletter.streams`` (records the
workers could not decode or accept: the original bytes) and ``schakel.deadletter.adapters``
(quarantined source records: adapter, location, reason, digest; never the record). Every dead
letter is shown by its id (``ce_id``, :mod:`schemas.binding`: deterministic, so the copies of
one dead letter share it), kind, stage, reason (a streams dead letter's error class and refusal
code, ``IngestError/wrong-type``: :attr:`DeadLetter.cause`) and source location
(topic/partition/offset, or the adapter's file/line/element path) with at most the size and a
SHA-256 prefix of the value: never its content, never a BSN (every text shown — stage, reason,
location, message — is masked, :func:`~schemas.pseudonym.mask_bsn`, and a code that is none
shown as ``?``, since any producer may write to a dead-letter topic; the id is shown as
written, a digest for every dead letter Schakel writes, so that it can be given to ``show`` and
``replay`` — unless it holds a possible BSN, as only another producer could write it: then the
dead letter goes by the id Schakel derives for a dead letter without one, from its place or
content).

``replay`` re-processes after the cause was fixed — ``replay ID`` only that dead letter (an
unknown id: exit 2, as ``show``), ``replay`` every one not replayed before (``list`` takes no
ID: exit 2):

- a streams dead letter: its original key, value and headers are re-published to the topic
  it came from (``schakel.bron.topic``) with its original Kafka timestamp
  (``schakel.bron.tijdstip``; for a dead letter written without it, the dead letter's own
  timestamp, a later bound): the worker processes it like any record (an event already in the
  citizen's timeline with the same ``source`` + ``id`` changes nothing), and a citizen erased
  since (``schakel forget``) stays erased — the worker drops every event registered before
  the erasure, the replayed one included;
- an adapter dead letter keeps no content (by design: it may hold personal data), so it is
  not re-sent: the summary names the adapter and location to correct at the source and read
  again (``schakel adapter NAME --once`` with a fresh ``--instance``, or the next export).

Idempotent: each id re-published is recorded on Kafka, on the compacted topic
``schakel.deadletter.herhaald`` (key the id, value when), after the broker acknowledged the
re-published record (acks=all), and a later ``replay`` skips it — wherever it runs: an
operator's laptop, a pod that is gone afterwards, another pod. (Before, the record was a file
in ``SCHAKEL_DATA_DIR``: a replay from another machine or a fresh pod sent everything again,
and a dead letter that failed again came back once more per replay. Such a file,
``dlq/replayed-<namespace>.json``, is still read; it is no longer written.) A crash between
the acknowledgement and the record re-sends it once more, which the worker recognises as the
same event. Without that topic (the namespace's topics not created by this version: a worker
of this version creates it at its start, as ``deploy/create_topics.py``, the Helm chart's
registration Job and the Compose service ``topics`` do) ``replay`` re-publishes nothing
and says so (exit 2).

Counted: the summary line ``dlq replay: N re-published, M already replayed, O
without value (not re-published), K adapter record(s) to re-read at the source``. A record
another producer wrote on the streams dead-letter topic is listed with ``?`` for the source
partition or offset it does not name, and, without a source topic, not re-published (said on
stderr).

A streams dead letter written without the original's value (it would not have fitted what
Kafka takes: :func:`schemas.binding.deadletter_record`, header ``schakel.bron.weggelaten``
with the value's size) is listed and shown as such, with the location to read the original
from while the source topic's retention keeps it; ``replay`` never re-publishes it (an empty
value is not the record): it names it and that location on stderr, one line each, and counts
it as ``without value``. Exit codes: 0 done, 2 an unknown id (``show``, ``replay``), an ID
given to ``list``, a replay state file of an earlier version that is not a JSON list of ids,
``replay`` without ``schakel.deadletter.herhaald`` (:class:`DlqError`), or a namespace without
its dead-letter topics (:class:`~schakel.topics.MissingTopics`, for every action: a mistyped
namespace is not shown as one without dead letters); 75 a topic that could not be read to its
end (:class:`DeadLetterReadError`).

Every topic is read to the end offsets it had when asked, or not at all (:func:`_read`): a
broker slow or briefly away is waited for while the read makes progress, one that answers
nothing for :data:`READ_PATIENCE_S` is an error, never a short list. Where the worker runs
exactly-once (:func:`~streams.topicpage.read_committed`, as the API's page: on Apache Kafka)
the topics are read ``read_committed``, so the dead letter of an aborted transaction is
neither listed, counted nor replayed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from schakel import wiring
from schakel.topics import require_topics
from schemas import kafka_client
from schemas.binding import (
    content_id,
    deadletter_id,
    omitted_size,
    original_headers,
    replayed_headers,
)
from schemas.exceptions import PermanentError, SerdeError, TransientError
from schemas.pseudonym import holds_bsn, mask_bsn
from schemas.serde import RecordDeserializer
from schemas.settings import CommonSettings
from schemas.wire import (
    HEADER_CE_ID,
    HEADER_ERROR_CLASS,
    HEADER_ERROR_MESSAGE,
    HEADER_ERROR_REASON,
    HEADER_SOURCE_OFFSET,
    HEADER_SOURCE_OMITTED_REST,
    HEADER_SOURCE_PARTITION,
    HEADER_SOURCE_TIMESTAMP,
    HEADER_SOURCE_TOPIC,
    HEADER_SOURCE_WITHHELD,
    HEADER_STAGE,
    WITHHELD,
    Wire,
    reason_code,
)
from streams.offsets import settle, true_end_offsets
from streams.topicpage import read_committed as read_committed  # noqa: PLC0414 (re-exported)


@dataclass
class DeadLetter:
    """One dead letter as an operator sees it (no content) plus what a replay needs."""

    id: str
    kind: str  # "streams" or "adapters"
    stage: str
    reason: str
    location: str
    size: int
    digest: str
    message: str = ""
    code: str = ""
    """Streams: the refusal's code (``schakel.fout.reden``: ``wrong-type``, ``history-limit``,
    …, or the error's class; :data:`~schemas.wire.HEADER_ERROR_REASON`), ``?`` for a header
    that holds no code; ``""`` for a dead letter without it (written before it existed, or by
    another producer) and for an adapter's (its reason is one)."""
    topic: str | None = None  # streams: where to re-publish
    partition: int | None = None
    """Streams: the partition the original was read from (``schakel.bron.partitie``)."""
    key: bytes | None = None
    value: bytes | None = field(default=None, repr=False)
    headers: list[tuple[str, bytes]] = field(default_factory=list, repr=False)
    timestamp: int | None = None
    """Streams: the Kafka timestamp (ms) to re-publish with (module docstring)."""
    omitted: int | None = None
    """Streams: the size of the original's value when the dead letter was written without it
    (too large: ``schakel.bron.weggelaten``); ``None`` when it has the value."""
    omitted_rest: int | None = None
    """Streams: the size of the original's key and headers when they were left out too
    (``schakel.bron.weggelaten.overig``); ``None`` when the dead letter has them."""
    withheld: bool = False
    """Streams: nothing of the original was copied because it holds a possible BSN, or an
    e-mail address or an IBAN in an identifier (``schakel.bron.achtergehouden``), not for its
    size; the reason column says which."""

    @property
    def cause(self) -> str:
        """Why, as ``list``, ``show`` and ``replay``'s count show it: the error's class and,
        when the dead letter has a code that says more, the code
        (``IngestError/wrong-type``); else the class (or an adapter's reason) alone."""
        if self.code and self.code != self.reason:
            return f"{self.reason}/{self.code}"
        return self.reason

    def line(self) -> str:
        if self.withheld:
            shown = (
                "withheld: holds a possible BSN or other personal data (correct it at the source)"
            )
        elif self.omitted is None:
            shown = f"{self.size} B sha256:{self.digest}"
        else:
            shown = f"value omitted ({self.omitted} B; the original at its location)"
        return f"{self.id}  {self.kind:8} {self.stage:9} {self.cause:24} {self.location}  {shown}"

    def shown_value(self) -> str:
        """The ``value`` line of ``dlq show``: size and digest, or why there is none and
        where the original is."""
        if self.withheld:
            return (
                f"withheld: the original ({self.omitted} bytes) holds a possible BSN or other "
                "personal data where none may be, so nothing of it was copied; correct it at the "
                "source (it is at "
                f"{self.location}, topic/partition/offset, while the topic's retention keeps it)"
            )
        if self.omitted is None:
            return f"{self.size} bytes, sha256 {self.digest}…"
        rest = (
            ""
            if self.omitted_rest is None
            else f" (its key and headers, {self.omitted_rest} bytes, were left out too)"
        )
        return (
            f"omitted: the original's {self.omitted} bytes did not fit a dead letter{rest}; "
            f"read it at {self.location} (topic/partition/offset) while the topic's "
            "retention keeps it"
        )


READ_PATIENCE_S = 30.0
"""How long a read of a dead-letter topic (:func:`_read`) waits while it makes no progress —
no position moves towards the end offsets it took (a broker slow, paused or briefly away) —
or while a transaction on the topic stays open (``read_committed``), before it gives up with
:class:`DeadLetterReadError`."""
_POLL_MS = 1000
"""One fetch's wait in :func:`_read`; a poll that returns nothing is no end (the patience
above is)."""


class DeadLetterReadError(TransientError):
    """A dead-letter topic could not be read to the end offsets taken when asked: the broker
    stopped answering (no progress for :data:`READ_PATIENCE_S`), or a transaction on the topic
    stayed open that long. Raised instead of a short list (``dlq list`` showing fewer dead
    letters than there are, ``replay`` counting too few); the message names the topic and how
    far the read got per partition, never a record (exit 75: try again)."""


def _consumer(bootstrap: str, *, committed: bool = False) -> KafkaConsumer:
    """A group-less consumer that never creates a topic by asking for it (a broker that creates
    topics on a metadata request would make a compacted topic an ordinary one);
    ``read_committed`` if ``committed`` (:func:`read_committed`)."""
    return KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        allow_auto_create_topics=False,
        isolation_level="read_committed" if committed else "read_uncommitted",
        **kafka_client.current().kafka_python(),
    )


def _partitions(consumer: KafkaConsumer, topic: str) -> list[TopicPartition] | None:
    """The partitions of ``topic``; ``None`` if it does not exist."""
    partitions = consumer.partitions_for_topic(topic)
    if not partitions:  # None, or (the embedded broker) no partition: no topic
        return None
    return [TopicPartition(topic, p) for p in sorted(partitions)]


def ends(bootstrap: str, topic: str) -> dict[int, int]:
    """The end offset of each partition of ``topic`` now (partition → offset; empty if the
    topic does not exist): the ``since`` of :func:`streams_dead_letters` that reads only what
    is written after this call. Every record written before counts as before, committed or
    not (read uncommitted: the high watermark)."""
    consumer = _consumer(bootstrap)
    try:
        tps = _partitions(consumer, topic) or []
        measured = true_end_offsets(consumer, tps, timeout=READ_PATIENCE_S)
        return {tp.partition: end for tp, end in measured.items()}
    finally:
        consumer.close()


def _read(
    bootstrap: str,
    topic: str,
    since: Mapping[int, int] | None = None,
    *,
    committed: bool,
    patience: float = READ_PATIENCE_S,
) -> list[Any] | None:
    """Every record of ``topic`` from the start — or, for a partition in ``since``
    (partition → offset, :func:`ends`), from that offset — to its end as it was when asked;
    ``None`` if the topic does not exist (never created by asking, :func:`_consumer`).

    ``committed`` (:func:`read_committed`): only committed records — none of an aborted
    transaction — to the end once no transaction on the topic is open (:func:`_settled`).
    Read to those end offsets, however long the broker takes, as long as the read makes
    progress; after ``patience`` seconds without any, :class:`DeadLetterReadError` — never
    a short list."""
    consumer = _consumer(bootstrap, committed=committed)
    try:
        tps = _partitions(consumer, topic)
        if tps is None:
            return None
        if committed:
            _settled(bootstrap, topic, tps, consumer, patience)
        # it assigns only the partitions with records; a stall is waited for as long as a read
        end = true_end_offsets(consumer, tps, timeout=patience)
        consumer.assign(tps)
        begin = consumer.beginning_offsets(tps)
        for tp in tps:  # never before the log's start: that would read from its end instead
            consumer.seek(tp, max(begin[tp], (since or {}).get(tp.partition, 0)))
        return _to_the_end(consumer, topic, tps, end, patience)
    finally:
        consumer.close()


def _to_the_end(
    consumer: KafkaConsumer,
    topic: str,
    tps: Sequence[TopicPartition],
    end: Mapping[TopicPartition, int],
    patience: float,
) -> list[Any]:
    """The records from ``consumer``'s positions on ``tps`` up to ``end``. A poll that
    returns nothing is no end — the broker may be slow, or briefly away — only the positions
    reaching ``end`` are (kafka-python moves them past a transaction marker and an aborted
    batch, which return no record); :class:`DeadLetterReadError` once none has moved for
    ``patience`` seconds."""
    records: list[Any] = []
    reached = {tp: consumer.position(tp) for tp in tps}
    moved = time.monotonic()
    while any(reached[tp] < end[tp] for tp in tps):
        for tp, batch in consumer.poll(timeout_ms=_POLL_MS).items():
            records.extend(r for r in batch if r.offset < end[tp])  # not what came since
        now = {tp: consumer.position(tp) for tp in tps}
        if now != reached:
            reached, moved = now, time.monotonic()
        elif time.monotonic() - moved >= patience:
            behind = ", ".join(
                f"partition {tp.partition} at offset {reached[tp]} of {end[tp]}"
                for tp in tps
                if reached[tp] < end[tp]
            )
            raise DeadLetterReadError(
                f"{topic}: no progress reading the dead letters for {patience:.0f}s "
                f"({behind}; {len(records)} record(s) read before); the broker is slow or "
                "unavailable — nothing is shown or counted from a partial read; try again"
            )
    return records


def _settled(
    bootstrap: str,
    topic: str,
    tps: Sequence[TopicPartition],
    committed: KafkaConsumer,
    patience: float,
) -> None:
    """Wait until every transaction open on ``tps`` when asked has ended: the end a
    ``read_committed`` reader is given (the last stable offset, from ``committed``) has
    reached the high watermark as it was then. Otherwise a dead letter the worker committed
    just before would be left out — a commit returns before its markers are written
    (:func:`streams.offsets.settle`). Transactions begun since are not waited for (their
    dead letters are not committed yet; a worker that writes dead letters all the time never
    leaves the topic without one open). Raises :class:`DeadLetterReadError` if one stays
    open ``patience`` seconds."""
    probe = _consumer(bootstrap)  # read_uncommitted: the high watermark
    try:
        high = dict(probe.end_offsets(list(tps)))
    finally:
        probe.close()
    pending = settle(
        lambda: committed.end_offsets(list(tps)), lambda: high, patience=patience, pause=0.1
    )
    if pending:
        raise DeadLetterReadError(
            f"{topic}: a transaction on partition(s) "
            f"{', '.join(str(tp.partition) for tp in sorted(pending))} was still open after "
            f"{patience:.0f}s, so its dead letters cannot be told committed or aborted; "
            "nothing was read — try again (a writer that died mid-transaction is cut off by "
            "its transaction timeout)"
        )


_INT64 = re.compile(r"\d{1,19}", re.ASCII)
"""A Kafka partition, offset or timestamp as a header holds it: ASCII digits, at most 19 (an
int64); anything else in a header is not one."""


class DlqError(PermanentError):
    """The replay state cannot be used (the file of an earlier version is corrupt, or the topic
    that records replays does not exist); the message names the file or topic and what to
    do."""


def _text(headers: dict[str, bytes | None], name: str) -> str:
    """The header ``name`` as text; ``""`` if it is missing or has a null value (Kafka allows
    one, and a streams dead letter keeps the original's headers as they were)."""
    return (headers.get(name) or b"").decode("utf-8", "replace")


def _number(headers: dict[str, bytes | None], name: str) -> int | None:
    """The header ``name`` as a number, or ``None`` if it is missing or no number."""
    text = _text(headers, name)
    return int(text) if _INT64.fullmatch(text) else None


def _streams(record: Any) -> DeadLetter:
    """A record of the streams dead-letter topic; a record some other producer wrote there
    (headers missing or not numbers) is listed too, with ``?`` for what it lacks."""
    headers = dict(record.headers or ())
    topic = _text(headers, HEADER_SOURCE_TOPIC)
    partition = _number(headers, HEADER_SOURCE_PARTITION)
    offset = _number(headers, HEADER_SOURCE_OFFSET)
    value = record.value or b""
    ident = _text(headers, HEADER_CE_ID)
    if not ident or holds_bsn(ident):  # never shown: the id derived as for one without it
        ident = (
            deadletter_id(topic, partition, offset)
            if partition is not None and offset is not None
            else content_id("nl.schakel.intern.deadletter", topic, value)
        )
    shown = ["?" if n is None else str(n) for n in (partition, offset)]
    code = _text(headers, HEADER_ERROR_REASON)  # never shown unless a code (any may write it)
    return DeadLetter(
        id=ident,
        kind="streams",
        stage=mask_bsn(_text(headers, HEADER_STAGE)),
        reason=mask_bsn(_text(headers, HEADER_ERROR_CLASS)),
        code=reason_code(code) if code else "",
        location=mask_bsn(f"{topic or '?'}/{shown[0]}/{shown[1]}"),
        size=len(value),
        digest=hashlib.sha256(value).hexdigest()[:16],
        message=mask_bsn(_text(headers, HEADER_ERROR_MESSAGE)),
        topic=topic,
        partition=partition,
        key=record.key,
        value=value,
        headers=list(record.headers or ()),
        timestamp=_registered(headers, record.timestamp),
        omitted=omitted_size(record.headers or ()),
        omitted_rest=omitted_size(record.headers or (), HEADER_SOURCE_OMITTED_REST),
        withheld=headers.get(HEADER_SOURCE_WITHHELD) in WITHHELD,
    )


def _registered(headers: dict[str, bytes | None], own: int | None) -> int | None:
    """When the original record was registered: its ``schakel.bron.tijdstip``, else the dead
    letter's own timestamp ``own`` (written after the original was read: a later bound)."""
    registered = _number(headers, HEADER_SOURCE_TIMESTAMP)
    if registered is not None:
        return registered
    return own if own is not None and own >= 0 else None


def _adapters(record: Any, deserializer: RecordDeserializer) -> DeadLetter:
    headers = dict(record.headers or ())
    try:
        _, entry = deserializer.decode(record.value or b"")
    except SerdeError:
        entry = {}
    identity = "\n".join(
        str(entry.get(k)) for k in ("adapter", "locatie", "reden", "record_sha256")
    )
    ident = _text(headers, HEADER_CE_ID)
    if not ident or holds_bsn(ident):  # never shown: the id derived as for one without it
        ident = content_id("nl.schakel.intern.quarantaine", identity)
    return DeadLetter(
        id=ident,
        kind="adapters",
        stage=mask_bsn(f"adapter:{entry.get('adapter', '?')}"),
        reason=mask_bsn(str(entry.get("reden", "?"))),
        location=mask_bsn(str(entry.get("locatie", "?"))),
        size=len(record.value or b""),
        digest=str(entry.get("record_sha256") or "")[:16],
        message=mask_bsn(str(entry.get("melding", ""))),
    )


def dead_letters(settings: CommonSettings, bootstrap: str) -> list[DeadLetter]:
    """Every dead letter of the namespace, one per id (copies of one dead letter merged), in
    topic order. Raises :class:`~schakel.wiring.BrokerUnreachable` if Kafka does not answer
    (:func:`~schakel.wiring.reachable`), and :class:`~schakel.topics.MissingTopics` if a
    dead-letter topic does not exist in the namespace: a mistyped ``SCHAKEL_NAMESPACE`` is
    not told as a namespace without dead letters. Read ``read_committed`` where the worker
    writes under exactly-once (:func:`read_committed`), and to the end or not at all
    (:class:`DeadLetterReadError`)."""
    wiring.reachable(bootstrap)
    wire: Wire = settings.wire()
    require_topics(
        bootstrap,
        wire,
        [wire.deadletter_streams, wire.deadletter_adapters],
        consequence="no dead letter was read",
    )
    deserializer = RecordDeserializer(wiring.registry(settings))
    committed = read_committed(settings.profile)
    adapters = [
        _adapters(r, deserializer)
        for r in _read(bootstrap, wire.deadletter_adapters, committed=committed) or ()
    ]
    streams = streams_dead_letters(bootstrap, wire, committed=committed)
    return _one_per_id([*streams, *adapters])


def streams_dead_letters(
    bootstrap: str,
    wire: Wire,
    since: Mapping[int, int] | None = None,
    *,
    committed: bool,
    patience: float = READ_PATIENCE_S,
) -> list[DeadLetter]:
    """The dead letters of the streams dead-letter topic of ``wire``, one per id, in topic
    order: every one, or with ``since`` (:func:`ends`, taken earlier) only those written
    after it; none if the topic does not exist. ``committed``: none of an aborted
    transaction (:func:`read_committed` of the profile). Raises
    :class:`DeadLetterReadError` rather than return fewer than there are (:func:`_read`)."""
    records = _read(
        bootstrap, wire.deadletter_streams, since, committed=committed, patience=patience
    )
    return _one_per_id(_streams(r) for r in records or ())


def _one_per_id(letters: Iterable[DeadLetter]) -> list[DeadLetter]:
    """``letters`` with the copies of one dead letter (the same id) merged: the first kept."""
    found: dict[str, DeadLetter] = {}
    for letter in letters:
        found.setdefault(letter.id, letter)
    return list(found.values())


def _state_file(settings: CommonSettings) -> Path:
    """The file in which versions before ``schakel.deadletter.herhaald`` recorded the ids they
    re-published (still read: :func:`replayed`)."""
    return settings.data_dir / "dlq" / f"replayed-{settings.wire().namespace or 'default'}.json"


def replayed(settings: CommonSettings, bootstrap: str) -> tuple[set[str], bool]:
    """The ids of the streams dead letters re-published before — those recorded on
    ``schakel.deadletter.herhaald`` (a tombstone takes an id off again), and those in the data
    directory's file of earlier versions (:func:`_state_file`) — and whether that topic
    exists (``replay`` cannot record what it sends without it)."""
    records = _read(
        bootstrap, settings.wire().deadletter_replayed, committed=read_committed(settings.profile)
    )
    ids: set[str] = set()
    for record in records or ():
        if record.key is None:
            continue
        ident = record.key.decode("utf-8", "replace")
        if record.value is None:
            ids.discard(ident)
        else:
            ids.add(ident)
    return ids | _load_replayed(_state_file(settings)), records is not None


def _load_replayed(path: Path) -> set[str]:
    """The ids replayed before, from ``path`` (none if it does not exist). Raises
    :class:`DlqError` if it is not a JSON list of ids (its content is never shown)."""
    if not path.exists():
        return set()
    try:
        ids = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:  # not UTF-8, not JSON
        ids = None
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise DlqError(
            f"{path}: not a JSON list of replayed dead-letter ids; repair it, or remove it "
            "(the next `dlq replay` then re-publishes every streams dead letter again)"
        )
    return set(ids)


def replay(
    settings: CommonSettings, bootstrap: str, letters: Sequence[DeadLetter] | None = None
) -> tuple[int, int, list[DeadLetter], list[DeadLetter]]:
    """Re-publish those of ``letters`` (default: every dead letter of the namespace,
    :func:`dead_letters`) that are streams dead letters not replayed before; return
    (re-published, already replayed, adapter dead letters to re-read at the source, streams
    dead letters written without the original's value: not re-published, each named on stderr
    with where the original is)."""
    if letters is None:
        letters = dead_letters(settings, bootstrap)
    done, recordable = replayed(settings, bootstrap)
    todo = [d for d in letters if d.kind == "streams" and d.id not in done]
    for letter in [d for d in todo if not d.topic]:  # written there by another producer
        print(f"dlq replay: {letter.id} names no source topic; not re-published", file=sys.stderr)
    todo = [d for d in todo if d.topic]
    omitted = [d for d in todo if d.omitted is not None]
    for letter in omitted:  # an empty value is not the record: never re-published
        why = (
            "it holds a possible BSN or other personal data: correct it at the source"
            if letter.withheld
            else f"read the original at {letter.location} while retention keeps it"
        )
        print(
            f"dlq replay: {letter.id} was written without its value ({letter.omitted} B); not "
            f"re-published: {why}",
            file=sys.stderr,
        )
    todo = [d for d in todo if d.omitted is None]
    skipped = sum(1 for d in letters if d.kind == "streams" and d.id in done)
    if todo and not recordable:
        raise DlqError(
            f"topic {settings.wire().deadletter_replayed} does not exist, so a replay could not "
            "be recorded; create the namespace's topics first (a worker of this version does at "
            "its start, as do deploy/create_topics.py, the Helm chart's registration Job and "
            "the Compose service `topics`); nothing was re-published"
        )
    if todo:
        producer = KafkaProducer(
            bootstrap_servers=bootstrap,
            acks="all",
            enable_idempotence=True,
            **kafka_client.current().kafka_python(),
        )
        try:
            futures = [
                producer.send(
                    d.topic,
                    key=d.key,
                    value=d.value,
                    headers=sendable(original_headers(d.headers)),
                    timestamp_ms=d.timestamp,
                    partition=_partition(producer, d),
                )
                for d in todo
            ]
            producer.flush()
            for future in futures:
                future.get(timeout=30)
            # only once every re-published record was acknowledged: what is recorded was sent
            when = datetime.now(UTC).isoformat(timespec="seconds")
            marks = [
                producer.send(
                    settings.wire().deadletter_replayed,
                    key=d.id.encode(),
                    value=when.encode(),
                    headers=replayed_headers(d.id, when),
                )
                for d in todo
            ]
            producer.flush()
            for future in marks:
                future.get(timeout=30)
        finally:
            producer.close()
    return len(todo), skipped, [d for d in letters if d.kind == "adapters"], omitted


def sendable(headers: Iterable[tuple[str, bytes | None]]) -> list[tuple[str, bytes]]:
    """``headers`` as the producer takes them: a null value (Kafka allows one; the original
    may have had it) as an empty one — kafka-python refuses ``None`` in ``send`` and writes
    no null header value either, so the header is kept with an empty value."""
    return [(name, b"" if value is None else value) for name, value in headers]


def _partition(producer: KafkaProducer, letter: DeadLetter) -> int | None:
    """Where to re-publish ``letter``: a record with a key where the key sends it (the
    producer's partitioner, as the original's producer did: the worker finds a citizen by its
    key); a record without one — a broadcast clock tick, which is for the citizens of the
    partition it was written to — back to the partition it was read from, if the topic still
    has it (else ``None``: the producer picks one)."""
    if letter.key is not None or letter.partition is None or letter.topic is None:
        return None
    partitions = producer.partitions_for(letter.topic)
    return letter.partition if letter.partition in partitions else None


def run(args: argparse.Namespace, settings: CommonSettings) -> int:
    """``list`` (no ID: exit 2), ``show ID`` (an unknown id: exit 2), ``replay [ID]`` (only
    that dead letter, an unknown id: exit 2; without ID every one not replayed before)."""
    if args.action == "list" and args.id is not None:
        print(
            "schakel dlq list: takes no ID (it lists every dead letter); `dlq show ID` shows one",
            file=sys.stderr,
        )
        return 2
    if args.action == "show" and not args.id:
        print("schakel dlq show: give the ID of a dead letter (see `dlq list`)", file=sys.stderr)
        return 2
    bootstrap = wiring.bootstrap(settings)
    letters = dead_letters(settings, bootstrap)
    if args.action == "list":
        for letter in letters:
            print(letter.line())
        print(f"dlq: {len(letters)} dead letter(s)", file=sys.stderr)
        return 0
    if args.id is not None:
        letters = [d for d in letters if d.id == args.id]
        if not letters:
            print(f"schakel dlq {args.action}: no dead letter with this id", file=sys.stderr)
            return 2
    if args.action == "show":
        _show(letters[0], settings, bootstrap)
        return 0
    sent, skipped, adapters, omitted = replay(settings, bootstrap, letters)
    for letter in adapters:
        print(f"re-read at the source: {letter.stage} {letter.location} ({letter.reason})")
    print(
        f"dlq replay: {sent} re-published, {skipped} already replayed, "
        f"{len(omitted)} without value (not re-published), "
        f"{len(adapters)} adapter record(s) to re-read at the source"
    )
    return 0


def _show(d: DeadLetter, settings: CommonSettings, bootstrap: str) -> None:
    """``dlq show``'s lines for ``d``."""
    for name, value in (
        ("id", d.id),
        ("kind", d.kind),
        ("stage", d.stage),
        ("reason", d.cause),
        ("message", d.message),
        ("location", d.location),
        ("value", d.shown_value()),
        ("replayed", "yes" if d.id in replayed(settings, bootstrap)[0] else "no"),
    ):
        print(f"{name:9} {value}")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["list", "show", "replay"])
    parser.add_argument(
        "id",
        nargs="?",
        help="the dead letter's id (from list): show: required; replay: only this dead letter "
        "(default: every one not replayed before); list: not given",
    )
