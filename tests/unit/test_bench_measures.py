"""benchmarks/measures.py ``read_topic`` (the benchmarks' changelog and signal counts) reads
a topic with an empty partition. Its consumer is kafka-python's own, its assignment real,
with the broker's answers stood in for (no broker): measuring the true end offsets
(:func:`streams.offsets.true_end_offsets`) replaces the assignment with the partitions that
hold records, and ``seek_to_beginning`` of another raised ``ValueError('Unassigned
partition')``. The dead-letter reader had the same fault, tested on a real broker in
``tests/integration/streams/test_run_dead_letters.py``."""

from __future__ import annotations

from typing import Any

import pytest
from kafka import KafkaConsumer, TopicPartition

from benchmarks import measures

TOPIC = "schakel.signalen"
EMPTY, FULL = TopicPartition(TOPIC, 0), TopicPartition(TOPIC, 1)


def answered(**options: Any) -> KafkaConsumer:
    """A consumer that never connects: partition 0 of :data:`TOPIC` empty, 1 ends at 3."""
    consumer = KafkaConsumer(
        bootstrap_servers="127.0.0.1:1",  # nobody answers there: every answer is stood in
        api_version=(2, 8),
        group_id=None,
        enable_auto_commit=False,
    )
    ends = {EMPTY: 0, FULL: 3}
    stub: dict[str, Any] = {
        "partitions_for_topic": lambda topic: {0, 1},
        "end_offsets": lambda tps, *a, **k: {tp: ends[tp] for tp in tps},
        "poll": lambda *a, **k: {},
        "position": lambda tp, *a, **k: ends[tp],
    }
    for name, answer in stub.items():
        setattr(consumer, name, answer)
    return consumer


def test_a_topic_with_an_empty_partition_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[KafkaConsumer] = []

    def consumer(**options: Any) -> KafkaConsumer:
        made.append(answered(**options))
        return made[-1]

    monkeypatch.setattr(measures, "KafkaConsumer", consumer)
    assert measures.read_topic("127.0.0.1:1", TOPIC) == []
    (used,) = made
    assert used.assignment() == {EMPTY, FULL}  # closed: its assignment stays as it was
