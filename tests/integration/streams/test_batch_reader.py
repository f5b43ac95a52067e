"""The batch path's reader (:class:`streams.batch_kafka.PartitionReader`) on both brokers: it
yields exactly the offsets of its spans, in order per partition, and never a record past a
span's end; it asks librdkafka for no more messages than the spans can still give, so that the
last call of a read does not wait out the consume timeout; on Apache Kafka a partition that
ends in a transaction marker is read to its end."""

from __future__ import annotations

from collections import defaultdict
from typing import Any, ClassVar

import confluent_kafka
import pytest

from schakel.kafka_cluster import KafkaCluster
from streams.batch_kafka import READ_CHUNK, BulkProducer, PartitionReader, Record, Span
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
    # 18 unread offsets, and on Apache Kafka an end-of-partition event for each of the two
    # partitions: asking for more (a whole chunk) made the last call wait out its timeout
    most = 18 if kafka_broker.kind == "embedded" else 20
    assert asked, "the reader did not consume"
    assert asked[0] == most
    assert all(1 <= n <= most for n in asked)


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

        chunks = _read(broker, [Span(topic, 0, 0, 6)])

    assert [r.offset for chunk in chunks for r in chunk] == [0, 1, 2, 3, 4]
