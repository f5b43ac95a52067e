"""The adapters' publisher outlives a broker outage long enough to expire the batches it had
in flight (review I, F1), against one Apache Kafka node of its own that is killed (SIGKILL)
and started again on the same data.

Before: kafka-python 3.0's idempotent producer dropped its producer id when the outage expired
an in-flight batch and never asked for a new one: with the broker back, every flush timed out
for ever (a continuous CSV adapter published nothing more, the webhook answered 503 until
someone restarted it). The expiry is kafka-python's delivery timeout — 120 s in production,
shortened here to :data:`DELIVERY_MS` so that the test crosses it in seconds; the wedge is the
same (reproduced both ways).

Also here: a flush told to stop (``cancel``, the adapter's SIGTERM) gives up at once instead
of waiting out its 60 s, and closing a publisher that still holds unacknowledged records ends
its I/O thread without the traceback kafka-python printed at exit."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from kafka.admin import KafkaAdminClient, NewTopic

from adapters.exceptions import PublishError
from adapters.publisher import Publisher
from schakel.kafka_cluster import KafkaCluster
from schemas.registry import LocalRegistry
from schemas.serde import RecordSerializer
from schemas.wire import Wire
from tests.integration.reliability.trials import read_committed

pytestmark = pytest.mark.kafka

TOPIC = "outage-test"
DELIVERY_MS = 4_000
"""kafka-python's ``delivery_timeout_ms`` of the test's publisher: after this long a batch
the broker never acknowledged expires (production: 120,000)."""


@pytest.fixture
def kafka1(tmp_path: Path) -> Iterator[KafkaCluster]:
    """One node of its own (this test kills it), its data kept over the restart."""
    with KafkaCluster(1, workdir=tmp_path / "kafka") as cluster:
        admin = KafkaAdminClient(bootstrap_servers=cluster.bootstrap)
        try:
            admin.create_topics([NewTopic(TOPIC, 4, 1)])
        finally:
            admin.close()
        yield cluster


def publisher_for(bootstrap: str, *, expiring: bool) -> Publisher:
    """A publisher as the adapters make it; ``expiring``: with the short delivery timeout."""
    short = {"delivery_timeout_ms": DELIVERY_MS, "request_timeout_ms": 1_500}
    return Publisher(
        bootstrap,
        RecordSerializer(LocalRegistry()),
        client_id="outage-test",
        wire=Wire("outage-test"),
        options=short if expiring else None,
    )


def send(publisher: Publisher, label: str, n: int) -> None:
    for i in range(n):
        publisher.send_raw(TOPIC, f"k{i % 7}".encode(), f"{label}-{i}".encode())


def published(bootstrap: str) -> set[str]:
    return {record.value.decode() for record in read_committed(bootstrap, TOPIC)}


def test_the_publisher_sends_again_after_an_outage_expired_its_batches(
    kafka1: KafkaCluster,
) -> None:
    publisher = publisher_for(kafka1.bootstrap, expiring=True)
    try:
        send(publisher, "before", 50)
        assert publisher.flush(10) == 50

        # records in flight when the node dies: a sender keeps queueing meanwhile
        stop = threading.Event()

        def pump() -> None:
            i = 0
            while not stop.is_set():
                with contextlib.suppress(PublishError):
                    publisher.send_raw(TOPIC, b"k", b"lost-%d" % i)
                i += 1
                time.sleep(0.001)

        sender = threading.Thread(target=pump)
        sender.start()
        time.sleep(0.5)
        kafka1.stop_node(1, kill=True)
        time.sleep(0.5)
        stop.set()
        sender.join()
        with pytest.raises(PublishError):  # the batches expire: an outage, not a refusal
            publisher.flush(DELIVERY_MS / 1000 + 5)

        # while the broker is away, the producer cannot be replaced: an outage again
        with pytest.raises(PublishError):
            send(publisher, "while-down", 1)

        time.sleep(DELIVERY_MS / 1000 + 1)
        kafka1.start_node(1)

        # with the broker back, the publisher publishes again (a new producer)
        deadline = time.monotonic() + 90
        attempts: list[str] = []
        while True:
            send(publisher, f"after{len(attempts)}", 20)
            try:
                assert publisher.flush(5) == 20
                break
            except PublishError as exc:
                attempts.append(str(exc))
                assert time.monotonic() < deadline, (
                    f"nothing published in 90 s after the broker came back: {attempts[-3:]}"
                )
    finally:
        publisher.close()
    got = published(kafka1.bootstrap)
    assert {f"before-{i}" for i in range(50)} <= got
    assert {f"after{len(attempts)}-{i}" for i in range(20)} <= got


def test_a_cancelled_flush_and_closing_during_an_outage_end_at_once_and_quietly(
    kafka1: KafkaCluster,
) -> None:
    """``close`` during an outage: kafka-python's own close raised on the records still held
    and tried again when the producer was collected (``Exception ignored in __del__``, a
    traceback on every adapter's shutdown during an outage). Now the producer is closed for
    good: closing it again, as its ``__del__`` does, returns at once without an error. (The
    production delivery timeout, 120 s: nothing expires meanwhile.)"""
    publisher = publisher_for(kafka1.bootstrap, expiring=False)
    send(publisher, "before", 5)
    publisher.flush(10)
    kafka1.stop_node(1, kill=True)
    send(publisher, "held", 5)
    # a flush told to stop (the adapter's SIGTERM) gives up at once, not after its timeout
    cancel = threading.Event()
    threading.Timer(0.5, cancel.set).start()
    started = time.monotonic()
    with pytest.raises(PublishError):
        publisher.flush(60.0, cancel=cancel)
    assert time.monotonic() - started < 30, "the cancelled flush waited out its timeout"
    started = time.monotonic()  # the producer still holds the 5 records
    publisher.close(timeout=1.0)
    assert time.monotonic() - started < 20, "close waited for the broker"
    producer = publisher._producer  # the kafka-python producer, closed as its __del__ would
    producer.close(timeout=1, null_logger=False)
