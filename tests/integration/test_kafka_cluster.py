"""The Apache Kafka launcher (schakel/kafka_cluster.py): one node with the declared broker
settings that both client libraries use, a cluster of three that survives a kill -9 of a
partition leader, and a start that fails without leaving a process behind; the tests' Kafka
namespace (tests/brokers.py) is torn down on a fresh node too."""

from __future__ import annotations

import asyncio
import time

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType, NewTopic

from schakel.kafka_cluster import KafkaCluster, KafkaStartError, broker_settings
from schakel.sandbox import namespace_in_use
from tests.brokers import kafka_namespace
from tests.processes import gone

pytestmark = pytest.mark.kafka


def test_one_node_runs_with_the_declared_settings(kafka_cluster: KafkaCluster) -> None:
    resource = ConfigResource(ConfigResourceType.BROKER, "1")
    described = kafka_cluster.ask(
        lambda admin: admin.describe_configs([resource], config_filter="all")
    )
    actual = {name: c["value"] for name, c in described["broker"]["1"].items()}
    expected = broker_settings(1)
    assert {k: actual.get(k) for k in expected} == expected
    assert kafka_cluster.live_brokers() == {1}


def test_both_client_libraries_idempotent_and_transactional(
    kafka_cluster: KafkaCluster, unique: str
) -> None:
    topic = f"launcher-{unique}"
    kafka_cluster.ask(lambda admin: admin.create_topics([NewTopic(topic, 2, 1)]))
    producer = KafkaProducer(
        bootstrap_servers=kafka_cluster.bootstrap, acks="all", enable_idempotence=True
    )
    for i in range(100):
        producer.send(topic, key=str(i).encode(), value=b"kafka-python")
    producer.flush()
    producer.close()

    async def aio() -> list[bytes]:
        idempotent = AIOKafkaProducer(
            bootstrap_servers=kafka_cluster.bootstrap, acks="all", enable_idempotence=True
        )
        await idempotent.start()
        await idempotent.send_and_wait(topic, b"aiokafka", key=b"k")
        await idempotent.stop()
        transactional = AIOKafkaProducer(
            bootstrap_servers=kafka_cluster.bootstrap, transactional_id=f"tx-{unique}"
        )
        await transactional.start()
        async with transactional.transaction():
            await transactional.send(topic, b"committed", key=b"k")
        await transactional.begin_transaction()
        await transactional.send(topic, b"aborted", key=b"k")
        await transactional.abort_transaction()
        await transactional.stop()
        consumer = AIOKafkaConsumer(
            topic,
            bootstrap_servers=kafka_cluster.bootstrap,
            group_id=f"g-{unique}",
            auto_offset_reset="earliest",
            isolation_level="read_committed",
        )
        await consumer.start()
        values: list[bytes] = []
        deadline = time.monotonic() + 30
        while len(values) < 102 and time.monotonic() < deadline:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                values.extend(r.value for r in records)
        await consumer.commit()
        await consumer.stop()
        return values

    values = asyncio.run(aio())
    assert sorted(set(values)) == [b"aiokafka", b"committed", b"kafka-python"]
    assert len(values) == 102  # the aborted record is not visible to read_committed
    consumer = KafkaConsumer(bootstrap_servers=kafka_cluster.bootstrap, group_id=None)
    tps = [TopicPartition(topic, p) for p in (0, 1)]
    # end offsets count the two transaction markers and the aborted record
    assert sum(consumer.end_offsets(tps).values()) == 100 + 1 + 2 + 2
    consumer.close()


def test_three_nodes_survive_a_kill_of_the_leader() -> None:
    cluster = KafkaCluster(3)
    with cluster:
        assert cluster.live_brokers() == {1, 2, 3}
        topic = "failover"
        cluster.ask(
            lambda admin: admin.create_topics(
                [NewTopic(topic, 1, 3, topic_configs={"min.insync.replicas": "2"})]
            )
        )
        deadline = time.monotonic() + 30
        # a fresh admin client may ask a node that has not learnt of the topic yet: -1 too
        while (first := cluster.leader(topic, 0)) == -1 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert first != -1, "no leader within 30 s"
        producer = KafkaProducer(
            bootstrap_servers=cluster.bootstrap,
            acks="all",
            enable_idempotence=True,
            retries=2**31 - 1,
            delivery_timeout_ms=120_000,
        )
        for i in range(200):
            producer.send(topic, value=str(i).encode())
        producer.flush()
        pid = cluster.nodes[first].process.pid  # type: ignore[union-attr]  # running
        cluster.stop_node(first, kill=True)
        assert gone(pid)
        for i in range(200, 400):  # acks=all with one of three down: two in sync suffice
            producer.send(topic, value=str(i).encode())
        producer.flush()
        producer.close()
        second = cluster.leader(topic, 0)
        assert second not in (first, -1)
        with pytest.raises(KafkaStartError, match=f"node {first} is not running"):
            cluster.wait_ready(5, [first])
        cluster.start_node(first)
        assert cluster.live_brokers() == {1, 2, 3}
        consumer = KafkaConsumer(
            bootstrap_servers=cluster.bootstrap, group_id=None, auto_offset_reset="earliest"
        )
        consumer.assign([TopicPartition(topic, 0)])
        values: list[int] = []
        deadline = time.monotonic() + 30
        while len(values) < 400 and time.monotonic() < deadline:
            for records in consumer.poll(500).values():
                values.extend(int(r.value) for r in records)
        consumer.close()
        assert values == list(range(400))  # nothing lost, nothing doubled, in order
        pids = [n.process.pid for n in cluster.nodes.values() if n.process is not None]
        assert len(pids) == 3
    assert all(gone(pid) for pid in pids)
    assert not cluster.workdir.exists()


def test_a_start_that_fails_leaves_nothing() -> None:
    cluster = KafkaCluster(1, settings={"num.io.threads": "none"})
    with pytest.raises(KafkaStartError, match=r"StorageTool failed: .*num\.io\.threads"):
        cluster.start()
    assert all(node.process is None for node in cluster.nodes.values())
    assert not cluster.workdir.exists()


def test_a_namespace_is_torn_down_on_a_node_that_never_had_a_consumer_group() -> None:
    # the session's node always has a group by then; a fresh one has no group coordinator
    # until asked (CoordinatorNotAvailable, then NotCoordinator): the teardown raised on it
    with KafkaCluster(1) as cluster:
        with kafka_namespace(cluster) as broker:
            assert namespace_in_use(broker.bootstrap, broker.wire)
        assert namespace_in_use(broker.bootstrap, broker.wire) == []
