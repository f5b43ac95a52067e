"""True end offsets of topic partitions.

The embedded broker (Tansu 0.6.0) answers ListOffsets(latest) with *base offset of the last
record batch + 1*: after a batch of five records it reports an end offset of 1, not 5. Reads
are unaffected. To know the real end, seek to the reported end − 1 (inside the last batch),
read that batch, and take the position after it. On Apache Kafka this returns exactly what
``end_offsets`` returns (also when the partition ends with a transaction marker), at the cost
of one fetch: callers that know the broker is Apache Kafka use ``end_offsets`` itself."""

from __future__ import annotations

import time
from collections.abc import Sequence

from kafka import KafkaConsumer, TopicPartition


def end_offsets(
    consumer: KafkaConsumer, tps: Sequence[TopicPartition], *, embedded: bool
) -> dict[TopicPartition, int]:
    """The offset after the last record of each partition: as Apache Kafka reports it, or on
    the embedded broker (``embedded``) corrected by :func:`true_end_offsets`."""
    if embedded:
        return true_end_offsets(consumer, tps)
    return dict(consumer.end_offsets(list(tps)))


def true_end_offsets(
    consumer: KafkaConsumer, tps: Sequence[TopicPartition], timeout: float = 5.0
) -> dict[TopicPartition, int]:
    """The offset after the last record of each partition (``consumer`` must be group-less;
    its assignment is replaced)."""
    reported: dict[TopicPartition, int] = consumer.end_offsets(list(tps))
    todo = [tp for tp in tps if reported[tp] > 0]
    result = {tp: reported[tp] for tp in tps}
    if not todo:
        return result
    consumer.assign(todo)
    for tp in todo:
        consumer.seek(tp, reported[tp] - 1)
    waiting = set(todo)
    deadline = time.monotonic() + timeout
    while waiting and time.monotonic() < deadline:
        consumer.poll(timeout_ms=200, max_records=1_000_000)
        # past the reported end: the last batch was read (or, on Kafka, a transaction marker
        # at the end was skipped, which returns no record)
        waiting = {tp for tp in waiting if consumer.position(tp) < reported[tp]}
    for tp in todo:
        result[tp] = max(reported[tp], consumer.position(tp))
    return result
