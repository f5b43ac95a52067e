"""True end offsets of topic partitions, and the offsets a consumer group committed.

The embedded broker (Tansu 0.6.0) answers ListOffsets(latest) with *base offset of the last
record batch + 1*: after a batch of five records it reports an end offset of 1, not 5. Reads
are unaffected. To know the real end, seek to the reported end − 1 (inside the last batch),
read that batch, and take the position after it. On Apache Kafka this returns exactly what
``end_offsets`` returns (also when the partition ends with a transaction marker), at the cost
of one fetch: callers that know the broker is Apache Kafka use ``end_offsets`` itself."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.errors import KafkaError

from schemas import kafka_client
from schemas.exceptions import TransientError
from streams.exceptions import StreamsError

RETRY_S = 0.5
"""Wait between two questions after a retriable error (:func:`committed_offsets`)."""


class EndOffsetsUnconfirmed(StreamsError, TransientError):
    """The broker did not deliver the last batch of ``partitions`` within ``timeout``
    seconds (:func:`true_end_offsets`): their end offsets are unknown — the reported ones are
    short on the embedded broker — so none is returned. Transient (a broker stalled, busy or
    briefly away): ask again; the message names the topic-partitions, never a record."""

    def __init__(self, partitions: Sequence[TopicPartition], timeout: float) -> None:
        self.partitions = sorted(partitions)
        self.timeout = timeout
        names = ", ".join(f"{tp.topic}:{tp.partition}" for tp in self.partitions)
        super().__init__(
            f"{names}: the broker did not deliver the last record batch within {timeout:g}s, "
            "so the end offset is unconfirmed (the embedded broker can report it short); "
            "the broker is slow or unavailable — try again"
        )


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
    its assignment is replaced), each one confirmed by reading the partition's last batch.

    Raises :class:`EndOffsetsUnconfirmed`, naming them, when the last batch of some
    partitions is not delivered within ``timeout`` seconds (the broker stalled): their
    reported end may be short, and no caller is served by a short end — a drain check
    (``schakel.replay``) would call a worker done too early, the read model
    (``streams.readmodel``) or a batch run (``streams.batch``) would stop short, the
    dead-letter reader (``schakel.dlq``) would count too few (or, for ``since``, too many),
    the API's page of a topic (``streams.topicpage``, 503) would be shifted, and the worker's
    table recovery (``streams.embedded``) would leave out the state of the last batch. On
    Apache Kafka, whose reported end is right, the probe only confirms it: a broker that does
    not deliver within ``timeout`` is an error there too (the caller's read would stall as
    well)."""
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
    if waiting:
        raise EndOffsetsUnconfirmed(list(waiting), timeout)
    for tp in todo:
        result[tp] = max(reported[tp], consumer.position(tp))
    return result


def committed_record_ends(
    consumer: KafkaConsumer, tps: Sequence[TopicPartition], timeout: float = 10.0
) -> dict[TopicPartition, int]:
    """For each partition, the offset after its last *record* visible to a ``read_committed``
    reader (``consumer`` must be group-less and ``read_committed``; its assignment is
    replaced); 0 for a partition with no such record.

    On Apache Kafka with transactions the end a ``read_committed`` reader is given (the last
    stable offset) lies past the commit marker of the last transaction, an offset that holds
    no record. A reader that waits for the record at "end − 1" (Faust's table recovery) would
    wait for nothing; this returns the offset it can wait for. Each partition's tail is read
    backwards in growing windows until a record is found (normally the last window of 64
    offsets: one commit writes one marker per partition)."""
    begin: dict[TopicPartition, int] = consumer.beginning_offsets(list(tps))
    stable: dict[TopicPartition, int] = consumer.end_offsets(list(tps))
    result = dict.fromkeys(tps, 0)
    window = 64
    todo = {tp: stable[tp] for tp in tps if stable[tp] > begin[tp]}
    deadline = time.monotonic() + timeout
    while todo:
        starts = {tp: max(begin[tp], end - window) for tp, end in todo.items()}
        consumer.assign(list(todo))
        for tp, start in starts.items():
            consumer.seek(tp, start)
        waiting = set(todo)
        while waiting:
            if time.monotonic() > deadline:
                raise TimeoutError(f"reading the tail of {sorted(map(str, waiting))} timed out")
            for tp, records in consumer.poll(timeout_ms=200, max_records=100_000).items():
                for record in records:
                    if record.offset < todo[tp]:
                        result[tp] = max(result[tp], record.offset + 1)
            waiting = {tp for tp in waiting if consumer.position(tp) < todo[tp]}
        # done: a record found, or the window reached the beginning (no record at all)
        todo = {tp: end for tp, end in todo.items() if not result[tp] and starts[tp] > begin[tp]}
        window *= 8
    return result


SETTLE_PATIENCE_S = 30.0
"""How long :func:`settled_ends` waits for the transactions pending on a partition to end
(a third of Faust's ``broker_request_timeout``, which bounds the recovery step it runs in)."""


def settle(
    stable_ends: Callable[[], Mapping[Any, int]],
    high_ends: Callable[[], Mapping[Any, int]],
    *,
    patience: float = SETTLE_PATIENCE_S,
    pause: float = 0.05,
) -> list[Any]:
    """Wait until no transaction is pending on the partitions: each one's last stable offset
    (``stable_ends``, the end a ``read_committed`` reader is given) has reached its high
    watermark (``high_ends``). Returns the partitions still pending after ``patience``
    seconds (empty: all settled).

    On Apache Kafka, ``commit_transaction`` returns once the commit is decided, before its
    markers are written to the partitions; until then the last stable offset stays before the
    transaction's first record, and a ``read_committed`` reader sees the partition as it was
    before that commit."""
    deadline = time.monotonic() + patience
    while True:
        stable, high = stable_ends(), high_ends()
        pending = [tp for tp, end in high.items() if stable.get(tp, 0) < end]
        if not pending or time.monotonic() >= deadline:
            return pending
        time.sleep(pause)


def settled_ends(
    bootstrap: str, partitions: Sequence[Any], *, patience: float = SETTLE_PATIENCE_S
) -> tuple[dict[Any, int], list[Any]]:
    """:func:`committed_record_ends` of Faust's ``partitions`` once no transaction is pending
    on them (:func:`settle`), and the partitions still pending after ``patience`` seconds;
    keyed as given. What the worker's table recovery under exactly-once takes as its
    highwaters (``streams.recovery``): read before the markers of the worker's own last
    commit were written, the changelog of a partition it kept in a rebalance ended before
    that commit, and recovery put back the states as they were one commit earlier."""
    tps = [TopicPartition(tp.topic, tp.partition) for tp in partitions]
    settings = kafka_client.current().kafka_python()
    probes = [
        KafkaConsumer(
            bootstrap_servers=bootstrap,
            group_id=None,
            enable_auto_commit=False,
            client_id="schakel-highwater",
            isolation_level=level,
            **settings,
        )
        for level in ("read_committed", "read_uncommitted")
    ]
    stable, high = probes
    try:
        pending = settle(
            lambda: stable.end_offsets(tps), lambda: high.end_offsets(tps), patience=patience
        )
        ends = committed_record_ends(stable, tps)
    finally:
        for probe in probes:
            probe.close()
    by_tp = {TopicPartition(tp.topic, tp.partition): tp for tp in partitions}
    return {by_tp[tp]: end for tp, end in ends.items()}, [by_tp[tp] for tp in pending]


def probe_ends(
    bootstrap: str,
    partitions: Sequence[Any],
    measure: Callable[[KafkaConsumer, Sequence[TopicPartition]], dict[TopicPartition, int]],
    *,
    read_committed: bool = False,
) -> dict[Any, int]:
    """The ends of Faust's ``partitions`` (objects with ``topic`` and ``partition``) as
    ``measure`` (:func:`true_end_offsets`, :func:`committed_record_ends`) finds them, through
    a short-lived group-less consumer (``read_committed`` if asked); keyed as given. What the
    worker's table recovery asks for its highwaters (``streams.embedded``,
    ``streams.recovery``)."""
    probe = KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        client_id="schakel-highwater",
        isolation_level="read_committed" if read_committed else "read_uncommitted",
        **kafka_client.current().kafka_python(),
    )
    try:
        ends = measure(probe, [TopicPartition(tp.topic, tp.partition) for tp in partitions])
    finally:
        probe.close()
    return {tp: ends[TopicPartition(tp.topic, tp.partition)] for tp in partitions}


def committed_offsets(
    admin: KafkaAdminClient, group: str, tps: Sequence[TopicPartition], *, patience: float = 60.0
) -> dict[TopicPartition, int]:
    """The offsets ``group`` has committed on ``tps``; a partition without one is absent.

    A retriable Kafka error (the group's coordinator not known yet, or still loading its
    offsets after a leader change) is an outage, not an answer: the question is asked again
    every :data:`RETRY_S` seconds for up to ``patience`` seconds, then the error is raised.
    Any other error is raised at once."""
    deadline = time.monotonic() + patience
    while True:
        try:
            found = admin.list_group_offsets({group: list(tps)}).get(group, {})
        except KafkaError as exc:
            if not exc.retriable or time.monotonic() >= deadline:
                raise
            time.sleep(RETRY_S)
            continue
        return {tp: meta.offset for tp, meta in found.items() if meta.offset >= 0}
