"""The embedded broker under-reports end offsets after multi-record batches; the helper finds
the real end."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from aiokafka import AIOKafkaProducer
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic
from kafka.structs import OffsetAndMetadata

from schakel.broker import EmbeddedBroker
from schakel.kafka_cluster import KafkaCluster
from streams.offsets import (
    EndOffsetsUnconfirmed,
    committed_offsets,
    committed_record_ends,
    settled_ends,
    true_end_offsets,
)


def five_in_one_batch(bootstrap: str, topic: str, partitions: int) -> KafkaProducer:
    """Create ``topic`` and send five records to its partition 0 in one batch (lingering):
    the embedded broker reports the end of such a partition short. The producer, still open
    (``flush`` or ``close`` writes the batch)."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)])
    admin.close()
    producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=50)
    for i in range(5):
        producer.send(topic, f"r{i}".encode(), partition=0)
    return producer


def test_true_end_offsets_after_a_multi_record_batch(broker: EmbeddedBroker, unique: str) -> None:
    topic = f"offsets-{unique}"
    producer = five_in_one_batch(broker.bootstrap, topic, 2)
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


@pytest.mark.kafka
def test_on_kafka_recovery_reads_to_the_last_committed_record(
    kafka_cluster: KafkaCluster, unique: str
) -> None:
    """The highwater the worker's table recovery waits for under exactly-once
    (``streams.recovery.use_committed_highwaters``): the offset after the last record a
    ``read_committed`` reader sees — not the end offset, which lies past the commit marker,
    nor past an aborted transaction's records and markers."""
    topic = f"tail-{unique}"
    kafka_cluster.ask(lambda admin: admin.create_topics([NewTopic(topic, 3, 1)]))

    async def transactions() -> None:
        producer = AIOKafkaProducer(
            bootstrap_servers=kafka_cluster.bootstrap, transactional_id=f"tx-{unique}"
        )
        await producer.start()
        async with producer.transaction():  # partition 0: records 0-2, marker 3
            for i in range(3):
                await producer.send(topic, f"r{i}".encode(), partition=0)
        # partition 1: 200 committed records (more than the first window), then an
        # aborted transaction of 100 records and its marker
        async with producer.transaction():
            for i in range(200):
                await producer.send(topic, f"c{i}".encode(), partition=1)
        await producer.begin_transaction()
        for i in range(100):
            await producer.send(topic, f"a{i}".encode(), partition=1)
        await producer.abort_transaction()
        await producer.stop()

    asyncio.run(transactions())
    consumer = KafkaConsumer(
        bootstrap_servers=kafka_cluster.bootstrap,
        group_id=None,
        enable_auto_commit=False,
        isolation_level="read_committed",
    )
    tps = [TopicPartition(topic, p) for p in range(3)]
    ends = consumer.end_offsets(tps)
    assert (ends[tps[0]], ends[tps[1]], ends[tps[2]]) == (4, 302, 0)
    assert committed_record_ends(consumer, tps) == {tps[0]: 3, tps[1]: 200, tps[2]: 0}
    consumer.close()


@pytest.mark.kafka
def test_on_kafka_recovery_waits_for_a_pending_transaction_to_end(
    kafka_cluster: KafkaCluster, unique: str
) -> None:
    """The highwaters of the worker's table recovery (``settled_ends``) are read once no
    transaction is pending on the changelog: the end of a partition whose transaction ends
    while recovery asks includes that transaction's records. Read at once (as before), it
    ended before them — what a worker that keeps a partition in a rebalance met when the
    markers of its own last commit were not written yet, and recovery put back older states.
    A transaction that does not end in time is reported, and the end is the stable one."""
    topic = f"settle-{unique}"
    kafka_cluster.ask(lambda admin: admin.create_topics([NewTopic(topic, 2, 1)]))
    tps = [TopicPartition(topic, p) for p in range(2)]
    opened, ended = threading.Event(), threading.Event()

    async def transactions() -> None:
        producer = AIOKafkaProducer(
            bootstrap_servers=kafka_cluster.bootstrap, transactional_id=f"tx-{unique}"
        )
        await producer.start()
        async with producer.transaction():  # partition 0: records 0-1, committed
            for i in range(2):
                await producer.send(topic, f"c{i}".encode(), partition=0)
        await producer.begin_transaction()  # partition 0: records 3-5, pending for 2 s
        for i in range(3):
            await (await producer.send(topic, f"p{i}".encode(), partition=0))
        opened.set()
        await asyncio.sleep(2)
        await producer.commit_transaction()
        ended.set()
        await producer.stop()

    writer = threading.Thread(target=lambda: asyncio.run(transactions()), daemon=True)
    writer.start()
    assert opened.wait(30)
    stable = KafkaConsumer(
        bootstrap_servers=kafka_cluster.bootstrap,
        group_id=None,
        enable_auto_commit=False,
        isolation_level="read_committed",
    )
    assert committed_record_ends(stable, tps) == {tps[0]: 2, tps[1]: 0}  # as before: early
    stable.close()
    ends, pending = settled_ends(kafka_cluster.bootstrap, tps, patience=30)
    assert ended.is_set() and pending == []
    assert ends == {tps[0]: 6, tps[1]: 0}  # 2 records, a marker, 3 records
    writer.join(30)

    async def hanging() -> None:  # a transaction left open: not waited for beyond patience
        producer = AIOKafkaProducer(
            bootstrap_servers=kafka_cluster.bootstrap, transactional_id=f"hang-{unique}"
        )
        await producer.start()
        await producer.begin_transaction()
        await (await producer.send(topic, b"h", partition=1))
        await producer.stop()

    asyncio.run(hanging())
    started = time.monotonic()
    ends, pending = settled_ends(kafka_cluster.bootstrap, tps, patience=1)
    assert 1 <= time.monotonic() - started < 15
    assert pending == [tps[1]]
    assert ends == {tps[0]: 6, tps[1]: 0}


def test_committed_offsets_are_the_groups_commits_and_only_those(
    broker: EmbeddedBroker, unique: str
) -> None:
    topic = f"committed-{unique}"
    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap)
    admin.create_topics([NewTopic(topic, num_partitions=2, replication_factor=1)])
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap)
    for i in range(3):
        producer.send(topic, f"r{i}".encode(), partition=0).get(10)
    producer.close()
    group = f"group-{unique}"
    done, untouched = TopicPartition(topic, 0), TopicPartition(topic, 1)
    try:
        assert committed_offsets(admin, group, [done, untouched]) == {}
        consumer = KafkaConsumer(
            bootstrap_servers=broker.bootstrap, group_id=group, enable_auto_commit=False
        )
        consumer.assign([done])
        consumer.commit({done: OffsetAndMetadata(2, "", -1)})
        consumer.close()
        assert committed_offsets(admin, group, [done, untouched]) == {done: 2}
    finally:
        admin.close()


def test_a_broker_frozen_while_the_end_is_probed_is_an_error_not_a_short_end(
    fresh_broker: EmbeddedBroker, unique: str
) -> None:
    """The embedded broker reports the end of a partition whose last batch holds five
    records as that batch's base offset + 1; the probe that reads the batch finds the broker
    frozen (SIGSTOP, right after it answered ListOffsets). Before: after 5 s the short
    reported end came back as the end. Now the partition is named; the same question asked
    once the broker is back gets the true end."""
    topic = f"frozen-{unique}"
    five_in_one_batch(fresh_broker.bootstrap, topic, 1).close()
    tp = TopicPartition(topic, 0)
    consumer = KafkaConsumer(bootstrap_servers=fresh_broker.bootstrap, group_id=None)
    reported = consumer.end_offsets([tp])[tp]
    assert reported < 5  # short: what the probe is there for
    asked = consumer.end_offsets

    def then_frozen(tps: list[TopicPartition]) -> dict[TopicPartition, int]:
        offsets: dict[TopicPartition, int] = asked(tps)
        fresh_broker.pause()
        return offsets

    consumer.end_offsets = then_frozen
    try:
        started = time.monotonic()
        with pytest.raises(EndOffsetsUnconfirmed, match=f"{topic}:0") as caught:
            true_end_offsets(consumer, [tp], timeout=2.0)
        assert time.monotonic() - started < 10
        assert caught.value.partitions == [tp]
    finally:
        fresh_broker.resume()
    consumer.end_offsets = asked
    assert true_end_offsets(consumer, [tp]) == {tp: 5}
    consumer.close()
