"""One page of a single-partition topic, newest record first: how the API reads the audit
trail (``schakel.inzage``) and the streams dead letters (``schakel.deadletter.streams``), both
declared with one partition, so offsets are the order of writing.

Synchronous (kafka-python, a group-less consumer per call): the API runs it in a thread.

Committed or not (:func:`read_committed`): a topic the worker writes inside its transactions
(the dead letters, under exactly-once) is read ``read_committed`` — a record of an aborted
transaction is none — to the last stable offset: a record of a transaction still open appears
once it is committed. Offsets then also count transaction markers and aborted records, so a
page (a range of offsets) can hold fewer records than ``per_page``, even none, and
:attr:`Page.total` is more than the records listed. The audit trail is written outside any
transaction (its own producer, :mod:`streams.audit`) and read as written."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaError

from schemas import kafka_client
from schemas.exceptions import TransientError
from streams.exceptions import StreamsError
from streams.offsets import EndOffsetsUnconfirmed, true_end_offsets


class TopicUnavailable(StreamsError, TransientError):
    """Transient: the topic could not be read (broker unreachable, no metadata, timeout)."""


@dataclass(frozen=True)
class Page:
    """``records`` (kafka-python ``ConsumerRecord``), newest first; ``total``: records on the
    topic (end offset − first retained offset)."""

    records: list[Any]
    total: int


def read_committed(profile: str) -> bool:
    """Whether a topic the worker writes inside its transactions — its dead letters
    (``schakel.deadletter.streams``: the API's page, ``schakel dlq``, ``schakel replay``), and
    the replay records and adapter dead letters ``schakel dlq`` reads with them — is read
    ``read_committed`` in a deployment of ``profile``: wherever the worker runs exactly-once
    (every profile but ``embedded``, :func:`streams.transactions.processing_guarantee`), the
    dead letter of an aborted transaction — a record the worker processed again afterwards —
    is no dead letter. The embedded broker has no usable transactions: read uncommitted
    there, as the read model does."""
    return profile != "embedded"


def _partition(consumer: KafkaConsumer, topic: str, deadline: float) -> TopicPartition:
    partitions = consumer.partitions_for_topic(topic)
    while not partitions and time.monotonic() < deadline:
        time.sleep(0.1)
        partitions = consumer.partitions_for_topic(topic)
    if not partitions:
        raise TopicUnavailable(f"{topic}: geen metadata van de broker")
    return TopicPartition(topic, 0)


def read_page(
    bootstrap: str,
    topic: str,
    page: int,
    per_page: int,
    *,
    committed: bool,
    timeout_s: float = 10.0,
) -> Page:
    """The records at offsets ``[(page-1)·per_page, page·per_page)`` counted back from the end
    of partition 0 of ``topic``; ``committed``: only committed records, the end the last
    stable offset (module docstring, :func:`read_committed`). Raises
    :class:`TopicUnavailable` when the broker does not deliver them within ``timeout_s``, or
    its end cannot be confirmed (:class:`~streams.offsets.EndOffsetsUnconfirmed`)."""
    deadline = time.monotonic() + timeout_s
    try:
        consumer = KafkaConsumer(
            bootstrap_servers=bootstrap,
            group_id=None,
            enable_auto_commit=False,
            client_id="schakel-api-lezer",
            isolation_level="read_committed" if committed else "read_uncommitted",
            **kafka_client.current().kafka_python(),
        )
    except KafkaError as exc:
        raise TopicUnavailable(f"{topic}: broker niet bereikbaar") from exc
    try:
        tp = _partition(consumer, topic, deadline)
        begin = consumer.beginning_offsets([tp])[tp]
        end = true_end_offsets(consumer, [tp])[tp]
        high = end - (page - 1) * per_page
        low = max(begin, high - per_page)
        records: list[Any] = []
        if high > low:
            consumer.assign([tp])
            consumer.seek(tp, low)
            while consumer.position(tp) < high:
                if time.monotonic() > deadline:
                    raise TopicUnavailable(f"{topic}: lezen duurde te lang")
                for batch in consumer.poll(timeout_ms=200, max_records=per_page).values():
                    records.extend(r for r in batch if low <= r.offset < high)
        return Page(records=records[::-1], total=max(0, end - begin))
    except EndOffsetsUnconfirmed as exc:  # the broker stalled: an outage (503), not a defect
        raise TopicUnavailable(f"{topic}: het einde van het topic is niet bevestigd") from exc
    except KafkaError as exc:
        raise TopicUnavailable(f"{topic}: lezen mislukt") from exc
    finally:
        consumer.close()
