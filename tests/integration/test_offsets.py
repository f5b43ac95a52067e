"""The embedded broker under-reports end offsets after multi-record batches; the helper finds
the real end."""

from __future__ import annotations

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic

from schakel.broker import EmbeddedBroker
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
