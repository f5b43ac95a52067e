"""The post-rebalance seek of ``streams/recovery.py`` against a real broker and aiokafka: a
partition with a committed offset goes back to it, one without goes back to its beginning
(aiokafka alone leaves it where it is), and changelog partitions are left to Faust."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from aiokafka import AIOKafkaConsumer, TopicPartition
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka import TopicPartition as KafkaTopicPartition
from kafka.admin import NewTopic
from kafka.structs import OffsetAndMetadata

from schakel.broker import EmbeddedBroker
from streams.recovery import _seek_committed_or_beginning


def test_seek_goes_to_committed_or_to_the_beginning(broker: EmbeddedBroker, unique: str) -> None:
    topic, changelog, group = f"seek-{unique}", f"seek-{unique}-changelog", f"g-{unique}"
    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap)
    admin.create_topics([NewTopic(topic, 2, 1), NewTopic(changelog, 1, 1)], validate_only=False)
    admin.close()
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap)
    for name, partitions in ((topic, 2), (changelog, 1)):
        for partition in range(partitions):
            for i in range(5):
                producer.send(name, f"r{i}".encode(), partition=partition)
    producer.flush()
    producer.close()
    committer = KafkaConsumer(
        bootstrap_servers=broker.bootstrap, group_id=group, enable_auto_commit=False
    )
    committer.commit({KafkaTopicPartition(topic, 1): OffsetAndMetadata(3, "", -1)})
    committer.close()

    uncommitted, committed, log = (
        TopicPartition(topic, 0),
        TopicPartition(topic, 1),
        TopicPartition(changelog, 0),
    )
    thread = SimpleNamespace(
        consumer=SimpleNamespace(_is_changelog_tp=lambda tp: tp.topic == changelog)
    )

    async def scenario() -> tuple[dict[TopicPartition, int | None], dict[TopicPartition, int]]:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=broker.bootstrap,
            group_id=group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        )
        await consumer.start()
        try:
            consumer.assign([uncommitted, committed, log])
            for tp in (uncommitted, committed, log):
                consumer.seek(tp, 5)  # as if everything had been fetched and dropped
            result = dict(await _seek_committed_or_beginning(thread, consumer))
            positions = {tp: await consumer.position(tp) for tp in (uncommitted, committed, log)}
            return result, positions
        finally:
            await consumer.stop()

    result, positions = asyncio.run(scenario())
    assert result[committed] == 3
    assert not result[uncommitted]
    assert positions == {uncommitted: 0, committed: 3, log: 5}
