"""The batch path's reader (:class:`streams.batch_kafka.PartitionReader`) on both brokers: it
yields exactly the offsets of its spans, in order per partition, and never a record past a
span's end; it asks librdkafka for no more messages than the spans can still give, so that the
last call of a read does not wait out the consume timeout; a partition read again is read
again (one that ended is paused during a read); records arriving past the end of a finished
partition do not hide a stalled one. On Apache Kafka a partition that ends in a transaction
marker is read to its end, and a span that starts before the records retention left reads
those that are left."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from typing import Any, ClassVar

import confluent_kafka
import pytest
from confluent_kafka.admin import AdminClient
from kafka import TopicPartition as KafkaTopicPartition

from schakel.kafka_cluster import KafkaCluster
from streams import batch_kafka
from streams.batch_kafka import (
    READ_CHUNK,
    BatchReadStalled,
    BulkProducer,
    PartitionReader,
    Record,
    Span,
)
from streams.offsets import settled_ends
from tests.brokers import TestBroker, kafka_namespace


class _Counting(confluent_kafka.Consumer):
    """librdkafka's consumer, noting how many messages each ``consume`` call asked for."""

    asked: ClassVar[list[int]] = []

    def consume(self, num_messages: int = 1, timeout: float = -1) -> Any:
        _Counting.asked.append(num_messages)
        return super().consume(num_messages=num_messages, timeout=timeout)


@pytest.fixture
def asked(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """What each ``consume`` call of the readers made in the test asked for."""
    monkeypatch.setattr(_Counting, "asked", [])
    monkeypatch.setattr(confluent_kafka, "Consumer", _Counting)  # as batch_kafka calls it
    return _Counting.asked


def _produce(bootstrap: str, topic: str, counts: dict[int, int]) -> None:
    """``counts[p]`` records on partition ``p`` of ``topic``, values ``p:offset``."""
    producer = BulkProducer(bootstrap)
    for partition, count in counts.items():
        for offset in range(count):
            producer.send(
                topic, key=b"k", value=f"{partition}:{offset}".encode(), partition=partition
            )
    producer.flush()


def _read(broker: TestBroker, spans: list[Span]) -> list[list[Record]]:
    reader = PartitionReader(
        broker.bootstrap, embedded=broker.kind == "embedded", group=f"{broker.namespace}-reader"
    )
    try:
        return list(reader.read(spans))
    finally:
        reader.close()


def test_a_read_yields_exactly_its_spans_and_asks_for_no_more_than_they_hold(
    kafka_broker: TestBroker, asked: list[int]
) -> None:
    topic = kafka_broker.wire.event_topics[0]
    _produce(kafka_broker.bootstrap, topic, {0: 25, 1: 3})  # p0 goes on past its span's end
    spans = [Span(topic, 0, 5, 20), Span(topic, 1, 0, 3), Span(topic, 2, 0, 0)]

    chunks = _read(kafka_broker, spans)

    offsets: dict[int, list[int]] = defaultdict(list)
    for chunk in chunks:
        assert 0 < len(chunk) <= READ_CHUNK
        for record in chunk:
            assert record.topic == topic
            assert record.value == f"{record.partition}:{record.offset}".encode()
            offsets[record.partition].append(record.offset)
    assert dict(offsets) == {0: list(range(5, 20)), 1: [0, 1, 2]}
    # 18 unread offsets: asking for more (a whole chunk) made the last call wait out its
    # timeout for messages that were never coming
    most = 18
    assert asked, "the reader did not consume"
    assert asked[0] == most
    assert all(1 <= n <= most for n in asked)


def test_a_partition_read_again_is_read_again(kafka_broker: TestBroker) -> None:
    """The first read pauses each partition that reached its end; the next read of it (the
    batch path reads a changelog partition again to redo a citizen) gets its records."""
    topic = kafka_broker.wire.event_topics[0]
    _produce(kafka_broker.bootstrap, topic, {0: 4, 1: 2})
    spans = [Span(topic, 0, 0, 4), Span(topic, 1, 0, 2)]
    reader = PartitionReader(
        kafka_broker.bootstrap,
        embedded=kafka_broker.kind == "embedded",
        group=f"{kafka_broker.namespace}-reader",
    )
    try:
        first = [(r.partition, r.offset) for chunk in reader.read(spans) for r in chunk]
        again = [(r.partition, r.offset) for chunk in reader.read(spans[:1]) for r in chunk]
    finally:
        reader.close()
    assert sorted(first) == [(0, 0), (0, 1), (0, 2), (0, 3), (1, 0), (1, 1)]
    assert again == [(0, 0), (0, 1), (0, 2), (0, 3)]


def test_records_past_a_finished_partitions_end_do_not_hide_a_stalled_one(
    kafka_broker: TestBroker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A span whose end is never reached (here: past the partition's last record) stalls the
    read, even while another partition, done, keeps receiving records."""
    monkeypatch.setattr(batch_kafka, "STALL_SECONDS", 2.0)
    topic = kafka_broker.wire.event_topics[0]
    _produce(kafka_broker.bootstrap, topic, {0: 3, 1: 2})
    stop = threading.Event()

    def keep_writing() -> None:  # records past the end of partition 0's span, for 15 s
        producer = BulkProducer(kafka_broker.bootstrap)
        until = time.monotonic() + 15
        while not stop.is_set() and time.monotonic() < until:
            producer.send(topic, key=b"k", value=b"later", partition=0)
            producer.flush()
            time.sleep(0.05)

    writer = threading.Thread(target=keep_writing, daemon=True)
    writer.start()
    started = time.monotonic()
    try:
        with pytest.raises(BatchReadStalled, match="1 partition"):
            _read(kafka_broker, [Span(topic, 0, 0, 3), Span(topic, 1, 0, 5)])
    finally:
        stop.set()
        writer.join(10)
    # while records flowed: stalled after its 2 s, not once the writer stopped
    assert time.monotonic() - started < 10


@pytest.mark.kafka
def test_a_partition_that_ends_in_a_transaction_marker_is_read_to_its_end(
    kafka_cluster: KafkaCluster,
) -> None:
    with kafka_namespace(kafka_cluster) as broker:
        topic = broker.wire.event_topics[0]
        producer = confluent_kafka.Producer(
            {"bootstrap.servers": broker.bootstrap, "transactional.id": f"{broker.namespace}-tx"}
        )
        producer.init_transactions(30)
        producer.begin_transaction()
        for offset in range(5):
            producer.produce(topic, key=b"k", value=f"0:{offset}".encode(), partition=0)
        producer.commit_transaction(30)  # offsets 0-4, then the commit marker at 5
        # the marker is written once no transaction is pending (it follows the commit's return)
        ends, pending = settled_ends(broker.bootstrap, [KafkaTopicPartition(topic, 0)])
        assert (ends, pending) == ({KafkaTopicPartition(topic, 0): 5}, [])

        chunks = _read(broker, [Span(topic, 0, 0, 6)])

    assert [r.offset for chunk in chunks for r in chunk] == [0, 1, 2, 3, 4]


@pytest.mark.kafka
def test_a_span_that_starts_before_the_records_left_reads_those_left(
    kafka_cluster: KafkaCluster,
) -> None:
    """Records deleted by retention (here: DeleteRecords) before a span's start: the reader
    reads from the first offset still there, never from the partition's end (librdkafka's
    default reset), which would skip every record left and let the run commit past them."""
    with kafka_namespace(kafka_cluster) as broker:
        topic = broker.wire.event_topics[0]
        _produce(broker.bootstrap, topic, {0: 6})
        admin = AdminClient({"bootstrap.servers": broker.bootstrap})
        for future in admin.delete_records([confluent_kafka.TopicPartition(topic, 0, 4)]).values():
            future.result(30)  # offsets 0-3 gone: the log starts at 4

        chunks = _read(broker, [Span(topic, 0, 0, 6)])

    assert [r.value for chunk in chunks for r in chunk] == [b"0:4", b"0:5"]
