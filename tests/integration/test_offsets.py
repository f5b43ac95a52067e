"""The embedded broker under-reports end offsets after multi-record batches; the helper finds
the real end."""

from __future__ import annotations

import asyncio
import time

import pytest
from aiokafka import AIOKafkaProducer
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic

from schakel.broker import EmbeddedBroker
from schakel.kafka_cluster import KafkaCluster
from streams.offsets import true_end_offsets


def test_true_end_offsets_after_a_multi_record_batch(broker: EmbeddedBroker, unique: str) -> None:
    topic = f"offsets-{unique}"
    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap)
    admin.create_topics([NewTopic(topic, num_partitions=2, replication_factor=1)])
    admin.close()
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap, linger_ms=50)
    for i in range(5):
        producer.send(topic, f"r{i}".encode(), partition=0)
    producer.flush()
    producer.send(topic, b"single", partition=0).get(10)
    producer.close()
    consumer = KafkaConsumer(bootstrap_servers=broker.bootstrap, group_id=None)
    tp = TopicPartition(topic, 0)
    assert true_end_offsets(consumer, [tp]) == {tp: 6}
    reported = consumer.end_offsets([tp])[tp]
    assert reported <= 6  # 2 on Tansu 0.6.0 (base of the last batch + 1), 6 on Kafka
    empty = TopicPartition(topic, 1)
    assert true_end_offsets(consumer, [tp, empty]) == {tp: 6, empty: 0}
    consumer.close()


@pytest.mark.kafka
def test_on_kafka_the_reported_end_stands_also_after_a_transaction(
    kafka_cluster: KafkaCluster, unique: str
) -> None:
    topic = f"offsets-{unique}"
    kafka_cluster.ask(lambda admin: admin.create_topics([NewTopic(topic, 1, 1)]))

    async def transaction() -> None:
        producer = AIOKafkaProducer(
            bootstrap_servers=kafka_cluster.bootstrap, transactional_id=f"tx-{unique}"
        )
        await producer.start()
        async with producer.transaction():
            for i in range(3):
                await producer.send(topic, f"r{i}".encode())
        await producer.stop()

    asyncio.run(transaction())
    consumer = KafkaConsumer(bootstrap_servers=kafka_cluster.bootstrap, group_id=None)
    tp = TopicPartition(topic, 0)
    assert consumer.end_offsets([tp]) == {tp: 4}  # three records and the commit marker
    started = time.monotonic()
    assert true_end_offsets(consumer, [tp]) == {tp: 4}
    assert time.monotonic() - started < 2  # the marker is skipped, not waited for
    consumer.close()
