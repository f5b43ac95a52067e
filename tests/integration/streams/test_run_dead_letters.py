"""The dead letters of one run (``schakel replay``, :func:`schakel.dlq.streams_dead_letters`
with the offsets :func:`schakel.dlq.ends` took at its start): those written before the run
do not count, copies of one dead letter count once. A replay's namespace is fresh anyway (a
new embedded broker, or one the sandbox found unused), so through the command line nothing
can be there before; this is the guard that keeps the count right if one were.

The reader (``schakel.dlq._read``, also behind ``schakel dlq list``) reads to the end offsets
it took or fails loudly: a broker that stops answering for a while (frozen with SIGSTOP, a
real embedded broker) loses no dead letter, one that stays away raises
:class:`~schakel.dlq.DeadLetterReadError`; and on Apache Kafka, where the worker writes dead
letters in transactions, the dead letter of an aborted transaction is none."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from typing import Any

import pytest
from kafka import KafkaAdminClient, KafkaProducer
from kafka.admin import NewTopic

from schakel import dlq
from schakel.broker import EmbeddedBroker
from schakel.dlq import DeadLetterReadError, ends, streams_dead_letters
from schakel.kafka_cluster import KafkaCluster
from schemas.wire import DEFAULT_WIRE as WIRE
from schemas.wire import Wire
from tests.brokers import TestBroker, kafka_namespace
from tests.cli import run_cli
from tests.unit.streams.test_api_deadletters import BSN, dead_letter


def write(bootstrap: str, offsets: list[int]) -> None:
    """The dead letters of the records at ``offsets`` of ``schakel.wmo.events``, in one batch
    (the embedded broker reports the end of a batch as its base offset + 1: :func:`ends`
    must not)."""
    producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=50)
    for offset in offsets:
        record = dead_letter(offset, 100_000)
        producer.send(
            WIRE.deadletter_streams, key=record.key, value=record.value, headers=record.headers
        )
    producer.flush()
    producer.close()


def test_only_the_dead_letters_written_after_the_start_count(fresh_broker: EmbeddedBroker) -> None:
    bootstrap = fresh_broker.bootstrap
    assert ends(bootstrap, WIRE.deadletter_streams) == {0: 0}
    write(bootstrap, [1, 2, 3])  # before the run
    since = ends(bootstrap, WIRE.deadletter_streams)
    assert since == {0: 3}
    write(bootstrap, [4, 5, 5])  # the run: the dead letter of offset 5 twice (a redelivery)
    run = streams_dead_letters(bootstrap, WIRE, since, committed=False)
    assert [d.location for d in run] == ["schakel.wmo.events/0/4", "schakel.wmo.events/0/5"]
    everything = streams_dead_letters(bootstrap, WIRE, committed=False)
    assert [d.location.rsplit("/", 1)[1] for d in everything] == ["1", "2", "3", "4", "5"]
    # a namespace without the topic: nothing, and no topic created by asking
    other = Wire("nergens")
    assert ends(bootstrap, other.deadletter_streams) == {}
    assert streams_dead_letters(bootstrap, other, {}, committed=False) == []


def test_a_dead_letter_topic_with_an_empty_partition_is_read(
    fresh_broker: EmbeddedBroker,
) -> None:
    """A dead-letter topic of two partitions (created so by hand, or by a broker's default),
    with records in partition 1 only. Before: measuring the true end offsets assigned the
    reader only the partition with records, and seeking the empty one raised
    ``ValueError('Unassigned partition')`` — a traceback from ``schakel dlq list``, replay
    and demo."""
    bootstrap, wire = fresh_broker.bootstrap, Wire("twee")
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        admin.create_topics([NewTopic(wire.deadletter_streams, 2, 1)])
    finally:
        admin.close()
    producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=50)
    for offset in (1, 2, 3):
        record = dead_letter(offset, 100_000)
        producer.send(
            wire.deadletter_streams,
            key=record.key,
            value=record.value,
            headers=record.headers,
            partition=1,
        )
    producer.flush()
    producer.close()
    assert ends(bootstrap, wire.deadletter_streams) == {0: 0, 1: 3}
    found = streams_dead_letters(bootstrap, wire, committed=False, patience=10)
    assert [d.location.rsplit("/", 1)[1] for d in found] == ["1", "2", "3"]
    since = {0: 0, 1: 2}  # only what came after the second
    later = streams_dead_letters(bootstrap, wire, since, committed=False, patience=10)
    assert [d.location.rsplit("/", 1)[1] for d in later] == ["3"]


@pytest.fixture
def frozen_once(
    fresh_broker: EmbeddedBroker, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, float]]:
    """The reader's consumer finds the broker frozen (SIGSTOP: connections open, nothing
    answered) right after it took its offsets — before its first poll — for ``["s"]``
    seconds (set by the test); continued (SIGCONT) then, and in any case at the end."""
    made = dlq._consumer
    frozen = {"s": 0.0}
    timers: list[threading.Timer] = []

    def consumer(bootstrap: str, **options: Any) -> Any:
        found = made(bootstrap, **options)
        begin = found.beginning_offsets

        def then_frozen(tps: Any) -> Any:
            offsets = begin(tps)
            fresh_broker.pause()
            timers.append(threading.Timer(frozen["s"], fresh_broker.resume))
            timers[-1].start()
            return offsets

        found.beginning_offsets = then_frozen
        return found

    monkeypatch.setattr(dlq, "_consumer", consumer)
    try:
        yield frozen
    finally:
        for timer in timers:
            timer.cancel()
        fresh_broker.resume()


def test_a_broker_that_stops_answering_for_a_while_loses_no_dead_letter(
    fresh_broker: EmbeddedBroker, frozen_once: dict[str, float]
) -> None:
    # before: the first poll that returned nothing (after 1 s) ended the read — no dead
    # letter listed, and a replay counted 0 and exited 0
    write(fresh_broker.bootstrap, [1, 2, 3])
    frozen_once["s"] = 3.0
    found = streams_dead_letters(fresh_broker.bootstrap, WIRE, committed=False, patience=20)
    assert [d.location.rsplit("/", 1)[1] for d in found] == ["1", "2", "3"]


def test_a_broker_that_stays_away_is_an_error_not_a_short_list(
    fresh_broker: EmbeddedBroker, frozen_once: dict[str, float]
) -> None:
    write(fresh_broker.bootstrap, [1, 2, 3])
    frozen_once["s"] = 30.0  # longer than the patience; continued at the end
    with pytest.raises(DeadLetterReadError) as raised:
        streams_dead_letters(fresh_broker.bootstrap, WIRE, committed=False, patience=2)
    message = str(raised.value)
    assert WIRE.deadletter_streams in message
    assert "partition 0 at offset 0 of 3" in message and "0 record(s) read" in message
    assert BSN not in message and "geen avro" not in message.lower()


ABORTED_TWICE = ((1, True), (2, False), (3, True), (4, False))
"""(offset of the original, committed?): four dead letters, those of offsets 2 and 4 in
aborted transactions; the topic ends with an abort marker after an aborted batch."""


def in_transactions(broker: TestBroker, outcomes: Iterable[tuple[int, bool]]) -> None:
    """For each (offset, commit) of ``outcomes``, the dead letter of the record at that offset
    of ``schakel.wmo.events`` written to ``broker``'s streams dead-letter topic in a
    transaction of its own, committed or aborted — as the worker writes dead letters under
    exactly-once (Apache Kafka)."""
    producer = KafkaProducer(
        bootstrap_servers=broker.bootstrap, transactional_id=f"test-dlq-{broker.namespace}"
    )
    try:
        producer.init_transactions()
        for offset, commit in outcomes:
            record = dead_letter(offset, 100_000)
            producer.begin_transaction()
            producer.send(
                broker.wire.deadletter_streams,
                key=record.key,
                value=record.value,
                headers=record.headers,
            )
            producer.flush()
            if commit:
                producer.commit_transaction()
            else:
                producer.abort_transaction()
    finally:
        producer.close()


@pytest.mark.kafka
def test_the_dead_letter_of_an_aborted_transaction_is_none(kafka_cluster: KafkaCluster) -> None:
    """The worker writes dead letters inside its transactions on Apache Kafka: one of an
    aborted transaction (the record is processed again) must not be listed or counted.
    Before, the reader read uncommitted and showed both; the topic now ends with an abort
    marker after an aborted batch, which the read must pass to reach its end."""
    with kafka_namespace(kafka_cluster) as broker:
        bootstrap, wire = broker.bootstrap, broker.wire
        since = ends(bootstrap, wire.deadletter_streams)
        in_transactions(broker, ABORTED_TWICE)

        def offsets(committed: bool) -> list[str]:
            found = streams_dead_letters(bootstrap, wire, since, committed=committed, patience=15)
            return [d.location.rsplit("/", 1)[1] for d in found]

        assert offsets(committed=True) == ["1", "3"]
        assert offsets(committed=False) == ["1", "2", "3", "4"]  # what was read before
        # `schakel dlq list` in the profile of Apache Kafka reads committed
        listed = run_cli("dlq", "list", env=broker.env())
        assert listed.returncode == 0, listed.stderr
        assert "dlq: 2 dead letter(s)" in listed.stderr
        rows = [line.split()[4].rsplit("/", 1)[1] for line in listed.stdout.splitlines()]
        assert rows == ["1", "3"]


@pytest.mark.kafka
def test_a_transaction_left_open_is_waited_for_then_an_error(kafka_cluster: KafkaCluster) -> None:
    """A dead letter of a transaction still open is neither committed nor aborted: the read
    waits for it (a worker's commit returns before its markers are written), and one that
    stays open past the patience is an error naming the topic — not a list without it."""
    with kafka_namespace(kafka_cluster) as broker:
        bootstrap, wire = broker.bootstrap, broker.wire
        producer = KafkaProducer(
            bootstrap_servers=bootstrap, transactional_id=f"test-open-{broker.namespace}"
        )
        producer.init_transactions()
        record = dead_letter(7, 100_000)
        producer.begin_transaction()
        producer.send(
            wire.deadletter_streams, key=record.key, value=record.value, headers=record.headers
        )
        producer.flush()
        try:
            with pytest.raises(DeadLetterReadError) as raised:
                streams_dead_letters(bootstrap, wire, committed=True, patience=2)
            message = str(raised.value)
            assert wire.deadletter_streams in message and "partition(s) 0" in message
            assert BSN not in message
            committer = threading.Timer(1.0, producer.commit_transaction)
            committer.start()  # committed while the read waits
            found = streams_dead_letters(bootstrap, wire, committed=True, patience=20)
            committer.join()
            assert [d.location.rsplit("/", 1)[1] for d in found] == ["7"]
        finally:
            producer.close()
