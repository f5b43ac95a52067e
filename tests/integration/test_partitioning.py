"""Issue 13 item 4: Schakel partitions keys like the Java client — murmur2 of the key bytes,
made positive (``& 0x7fffffff``), modulo the partition count (:func:`streams.processor.
partition_of`; kafka-python's default partitioner in the adapters). A librdkafka producer
(confluent-kafka) agrees only with ``partitioner=murmur2_random``; with its default
(``consistent_random``: CRC32 of the key) most keys land elsewhere. docs/adapters.md says so."""

from __future__ import annotations

import zlib
from collections.abc import Iterator

import pytest
from confluent_kafka import Producer
from kafka import KafkaAdminClient, KafkaProducer
from kafka.admin import NewTopic

from schakel.broker import EmbeddedBroker
from schemas.pseudonym import Pseudonymiser, elfproef
from streams.processor import partition_of

# org.apache.kafka.common.utils.UtilsTest.testMurmur2: key → Java's (signed) murmur2
JAVA_MURMUR2 = (
    (b"21", -973932308),
    (b"foobar", -790332482),
    (b"a-little-bit-long-string", -985981536),
    (b"a-little-bit-longer-string", -1486304829),
    (b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971),
    (b"abc", 479470107),
)
PARTITIONS = (4, 7)


def pseudonyms(count: int) -> list[str]:
    """``count`` pseudonym keys of synthetic BSNs (test range, elfproef-valid)."""
    pseudonymise = Pseudonymiser("partitioning-test-key")
    bsns = (str(n) for n in range(999990000, 1_000_000_000) if elfproef(str(n)))
    return [pseudonymise(next(bsns)) for _ in range(count)]


def test_partition_of_is_the_java_clients_rule() -> None:
    for key, java_hash in JAVA_MURMUR2:
        for partitions in (1, *PARTITIONS, 12, 256):
            expected = (java_hash & 0x7FFFFFFF) % partitions
            assert partition_of(key.decode(), partitions) == expected, (key, partitions)


@pytest.fixture
def topics(broker: EmbeddedBroker, unique: str) -> Iterator[dict[int, str]]:
    """A fresh topic per partition count in :data:`PARTITIONS`."""
    names = {n: f"test.partitioning.{n}.{unique}" for n in PARTITIONS}
    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap)
    admin.create_topics(
        [NewTopic(t, num_partitions=n, replication_factor=1) for n, t in names.items()]
    )
    admin.close()
    yield names


def librdkafka_partitions(
    bootstrap: str, topic: str, keys: list[str], **conf: str
) -> dict[str, int]:
    """key → the partition a confluent-kafka producer (librdkafka) wrote it to."""
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", **conf})
    landed: dict[str, int] = {}

    def delivered(error: object, message: object) -> None:
        assert error is None, error
        landed[message.key().decode()] = message.partition()  # type: ignore[attr-defined]

    for key in keys:
        producer.produce(topic, key=key.encode(), value=b"-", on_delivery=delivered)
    assert producer.flush(30) == 0
    return landed


def test_a_librdkafka_producer_agrees_only_with_murmur2_random(
    broker: EmbeddedBroker, topics: dict[int, str]
) -> None:
    keys = pseudonyms(12)
    for partitions, topic in topics.items():
        schakel = {key: partition_of(key, partitions) for key in keys}

        java_like = librdkafka_partitions(
            broker.bootstrap, topic, keys, partitioner="murmur2_random"
        )
        assert java_like == schakel, partitions

        default = librdkafka_partitions(broker.bootstrap, topic, keys)  # consistent_random
        assert default == {k: zlib.crc32(k.encode()) % partitions for k in keys}  # CRC32
        agree = sum(default[k] == schakel[k] for k in keys)
        assert agree <= len(keys) // 2, (partitions, agree)  # most land elsewhere (2 of 12)

        # Schakel's own producers (kafka-python's default partitioner) agree with partition_of
        producer = KafkaProducer(bootstrap_servers=broker.bootstrap, acks="all")
        sent = {k: producer.send(topic, key=k.encode(), value=b"-") for k in keys}
        assert {k: f.get(30).partition for k, f in sent.items()} == schakel
        producer.close()
