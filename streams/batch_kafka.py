"""The batch path's Kafka I/O: bulk reads of partitions up to known end offsets, and one
producer for every output, on confluent-kafka (librdkafka).

Measured on this project's 2-core machine (Apache Kafka, 200,000 records of the benchmark's
events): kafka-python's consumer reads 36,000–47,000 records/s, confluent-kafka's about
100,000/s; its producer queues a record in about a microsecond where kafka-python spends tens
(docs/benchmarks-history.md, "Batch path after optimisation"). kafka-python stays in use for what it
does once per run (metadata, end offsets, the group's offsets: :mod:`streams.offsets`).

Contracts:

- :meth:`PartitionReader.read` yields every record at an offset in ``[start, end)`` of the
  partitions given, in offset order per partition, in lists of up to :data:`READ_CHUNK`
  records, and never a record at or past ``end``. It returns once every partition has reached
  its end: a record at ``end - 1`` was read, or (Apache Kafka) the broker reported the end of
  the partition at ``end`` or later, which also covers a partition ending in transaction
  markers (an end reported *before* ``end``, as by a new leader whose high watermark still
  lags, does not end it). A partition that reached its end is paused: its later records are
  not fetched. A ``start`` below the partition's first offset (records deleted by retention)
  reads from its first offset: the records that still exist are never skipped. It raises
  :class:`BatchReadStalled` when no partition moves for :data:`STALL_SECONDS` (records past
  the end of a finished partition are no progress).
- It never asks librdkafka for more messages than the unread offsets of the unfinished
  partitions: librdkafka's ``consume`` waits until it has as many messages as asked or its
  timeout passed, so a read that asked for a whole chunk at the end of its spans waited out
  the timeout once per call — 2.5 s of a 12 s run of 100,000 events (docs/benchmarks.md,
  "The reader's last wait"). Offsets without a message (transaction markers, compacted
  records) can still make a call wait, for at most :data:`CONSUME_TIMEOUT`.
- :class:`BulkProducer` writes with ``acks=all`` and idempotence, keyed records to Kafka's
  default (Java murmur2) partition of their key, exactly as kafka-python's producer did.
  :meth:`BulkProducer.flush` raises :class:`BatchDeliveryError` if any record was not
  acknowledged, so a run never commits offsets past outputs that were lost.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import confluent_kafka
from confluent_kafka import KafkaError, KafkaException

from schemas import kafka_client
from schemas.exceptions import TransientError
from streams.exceptions import StreamsError
from streams.sizes import PRODUCER_MAX_REQUEST_BYTES

BATCH_BYTES = 1024 * 1024
"""librdkafka's ``batch.size`` of :class:`BulkProducer` unless the output topics take less."""
READ_CHUNK = 10_000
"""Records per :meth:`PartitionReader.read` chunk (and per librdkafka ``consume`` call)."""
STALL_SECONDS = 120.0
"""A read that receives nothing for this long while partitions are unfinished fails."""
CONSUME_TIMEOUT = 0.1
"""Seconds one librdkafka ``consume`` call waits for the messages it asked for."""


class BatchReadStalled(StreamsError, TransientError):
    """The broker delivered nothing for :data:`STALL_SECONDS` while partitions were not read
    to their end offsets (an outage): the run stops before committing anything."""


class BatchDeliveryError(StreamsError, TransientError):
    """Outputs of the run were not acknowledged by the broker; no offsets were committed, so a
    new run redoes the work (its outputs carry the same deterministic ids)."""


@dataclass(frozen=True, slots=True)
class Span:
    """Offsets ``[start, end)`` of one topic partition to read."""

    topic: str
    partition: int
    start: int
    end: int


class Record(NamedTuple):
    """One consumed record, as the batch path's ingest step needs it; picklable (a worker
    process sends its misplaced records back, :mod:`streams.batch_jobs`)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]] | None
    timestamp: int | None
    """The Kafka record timestamp (ms since the epoch), ``None`` when the broker has none."""


class PartitionReader:
    """Reads spans of partitions (module docstring). ``embedded``: the embedded broker, whose
    reported end of partition is wrong (:mod:`streams.offsets`), so only offsets count."""

    def __init__(self, bootstrap: str, *, embedded: bool, group: str) -> None:
        self._closed = False
        self._consumer = confluent_kafka.Consumer(
            {
                "bootstrap.servers": bootstrap,
                "group.id": group,  # required by librdkafka; never joined nor committed
                "enable.auto.commit": False,
                "enable.auto.offset.store": False,
                "isolation.level": "read_uncommitted",  # as the kafka-python reader before
                "enable.partition.eof": not embedded,
                # a start before the first offset still in the log: from there, never the end
                "auto.offset.reset": "earliest",
                "fetch.max.bytes": 64 * 1024 * 1024,
                "max.partition.fetch.bytes": 16 * 1024 * 1024,
                "queued.max.messages.kbytes": 64 * 1024,
                **kafka_client.current().librdkafka(),
            }
        )

    def read(self, spans: Sequence[Span]) -> Iterator[list[Record]]:
        """The records of ``spans`` (module docstring)."""
        todo = {(s.topic, s.partition): s.end for s in spans if s.start < s.end}
        if not todo:
            return
        unread = {where: s.start for s in spans if (where := (s.topic, s.partition)) in todo}
        # ``unread``: the next offset to read of each partition in ``todo``
        self._consumer.assign([confluent_kafka.TopicPartition(t, p, unread[t, p]) for t, p in todo])
        paused: set[tuple[str, int]] = set()
        try:
            moved = time.monotonic()
            while todo:
                wanted = max(1, min(READ_CHUNK, sum(e - unread[w] for w, e in todo.items())))
                messages = self._consumer.consume(num_messages=wanted, timeout=CONSUME_TIMEOUT)
                chunk = self._records(messages, todo, unread)
                ended = unread.keys() - todo.keys() - paused  # finished by these messages
                if ended:  # pause what ended: its later records are not wanted
                    self._consumer.pause([confluent_kafka.TopicPartition(*w) for w in ended])
                    paused |= ended
                if chunk:
                    yield chunk
                if chunk or ended:  # progress, timed after the caller's time with the chunk
                    moved = time.monotonic()
                elif time.monotonic() - moved > STALL_SECONDS:
                    raise BatchReadStalled(
                        f"no record for {STALL_SECONDS:.0f} s with {len(todo)} partition(s) "
                        "not read to their end"
                    )
        finally:
            if paused:  # a partition read again later starts unpaused
                with contextlib.suppress(KafkaException):
                    self._consumer.resume([confluent_kafka.TopicPartition(*w) for w in paused])
            self._consumer.unassign()

    def _records(
        self,
        messages: list[Any],
        todo: dict[tuple[str, int], int],
        unread: dict[tuple[str, int], int],
    ) -> list[Record]:
        chunk: list[Record] = []
        for message in messages:
            error = message.error()
            where = (message.topic(), message.partition())
            if error is not None:
                if error.code() != KafkaError._PARTITION_EOF:
                    raise KafkaException(error)
                end = todo.get(where)
                if end is not None and message.offset() >= end:
                    del todo[where]  # the end of the partition, at or past the span's end
                continue
            end = todo.get(where)
            if end is None:
                continue  # that partition is done: a record past its end
            offset = message.offset()
            if offset >= end:
                del todo[where]
                continue
            if offset + 1 >= end:
                del todo[where]
            unread[where] = offset + 1
            kind, stamp = message.timestamp()
            chunk.append(
                Record(
                    where[0],
                    where[1],
                    offset,
                    message.key(),
                    message.value(),
                    message.headers(),
                    None if kind == confluent_kafka.TIMESTAMP_NOT_AVAILABLE else stamp,
                )
            )
        return chunk

    def close(self) -> None:
        """Close the consumer (again: nothing)."""
        if not self._closed:
            self._closed = True
            self._consumer.close()


class BulkProducer:
    """One idempotent producer for every output of a run (module docstring)."""

    def __init__(
        self,
        bootstrap: str,
        *,
        batch_bytes: int = BATCH_BYTES,
        config: Mapping[str, Any] | None = None,
    ) -> None:
        """``batch_bytes``: librdkafka's ``batch.size``, at most the smallest
        ``max.message.bytes`` of the output topics (:func:`streams.sizes.batch_bytes`);
        ``config``: librdkafka settings over these (the benchmark's transactional loop)."""
        self._failures = _Failures()  # not self: no cycle, the producer ends with this object
        self._producer = confluent_kafka.Producer(
            {
                "bootstrap.servers": bootstrap,
                "acks": "all",
                "enable.idempotence": True,
                "message.max.bytes": PRODUCER_MAX_REQUEST_BYTES,  # its default, stated
                "partitioner": "murmur2_random",  # Java's (and kafka-python's) for keyed records
                "linger.ms": 20,
                "batch.size": batch_bytes,
                "queue.buffering.max.kbytes": 64 * 1024,  # bounded: a full queue waits
                "queue.buffering.max.messages": 1_000_000,
                "delivery.report.only.error": True,
                "on_delivery": self._failures.delivered,
                **kafka_client.current().librdkafka(),
                **(config or {}),
            }
        )
        self._sent = 0

    def send(
        self,
        topic: str,
        *,
        key: bytes | None = None,
        value: bytes | None = None,
        headers: Sequence[tuple[str, bytes]] | None = None,
        partition: int | None = None,
    ) -> None:
        """Queue one record (``partition``: that one, else the key's)."""
        options: dict[str, Any] = {"key": key, "value": value}
        if headers:
            options["headers"] = list(headers)
        if partition is not None:
            options["partition"] = partition
        while True:
            try:
                self._producer.produce(topic, **options)
                break
            except BufferError:  # the queue is full: let librdkafka send some first
                self._producer.poll(0.05)
        self._sent += 1
        if self._sent % 10_000 == 0:
            self._producer.poll(0)

    def flush(self, timeout: float = 300.0) -> None:
        """Wait until every queued record is acknowledged; raise :class:`BatchDeliveryError`
        if one was not (or the wait timed out)."""
        left = self._producer.flush(timeout)
        failures = self._failures
        if left or failures.count:
            raise BatchDeliveryError(
                f"{failures.count} output record(s) failed and {left} unacknowledged after "
                f"{timeout:.0f} s: {failures.error or 'timeout'}"
            )


class _Failures:
    """Delivery failures reported by librdkafka (only failures are reported)."""

    def __init__(self) -> None:
        self.count = 0
        self.error: str | None = None

    def delivered(self, error: Any, _message: Any) -> None:
        if error is not None:
            self.count += 1
            self.error = str(error)
