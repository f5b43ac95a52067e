"""On Apache Kafka, a record another producer wrote on an event topic, too large for its dead
letter to fit what the producer and the dead-letter topic take, is dead-lettered without its
value (header ``schakel.bron.weggelaten``: the value's size; the location headers say where
the original is), and the worker and the batch path go on with the records after it
(schemas/binding.py ``deadletter_record``; the unit tests:
tests/unit/schemas/test_deadletter_fit.py).

Before, on the worker: the dead letter with its headers passed the producer's 1,000,000 bytes,
aiokafka refused it (``MessageSizeTooLargeError``), the agent crashed and was restarted, the
record's offset was committed and no dead letter existed: the record was lost without a
trace. On the batch path librdkafka refused it in ``produce`` (``KafkaException``
``MSG_SIZE_TOO_LARGE``): every run stopped there and none could ever finish."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaProducer

from tests.brokers import TestBroker, open_broker
from tests.integration.streams.helpers import (
    consume,
    latest_snapshots,
    limit_topic,
    publish,
    rebuild,
    valid_scenario,
    worker_on,
)

pytestmark = pytest.mark.kafka

SCENARIO_EVENTS = valid_scenario()
EXPECTED_SCENARIO = [["pw-1", "wmo-3"], ["wgs-1", "wgs-2", "wmo-1", "wmo-2"]]
FOREIGN_TYPE = "nl.wijkteams.casussen.geopend"
DEADLETTER_LIMIT = 200_000
"""``max.message.bytes`` of the dead-letter topic in the ``topic-limit`` cases."""
SIZES = {"producer-limit": 999_801, "topic-limit": 300_000}
"""The foreign record's value: with the dead-letter headers past the producer's 1,000,000
bytes, or past :data:`DEADLETTER_LIMIT` (and within what the event topics take)."""


@pytest.fixture
def kafka(request: pytest.FixtureRequest) -> Iterator[TestBroker]:
    """A fresh namespace on the session's Apache Kafka."""
    with open_broker("kafka", request) as broker:
        yield broker


def prepare(broker: TestBroker, case: str) -> int:
    """The dead-letter topic limited for ``case``; returns the foreign value's size."""
    if case == "topic-limit":
        limit_topic(broker.bootstrap, broker.wire.deadletter_streams, DEADLETTER_LIMIT)
    return SIZES[case]


def publish_with_foreign(broker: TestBroker, size: int) -> None:
    """Half the scenario, a foreign undecodable record of ``size`` value bytes on the event
    topic of :data:`FOREIGN_TYPE`, the other half."""
    wire = broker.wire
    publish(broker.bootstrap, SCENARIO_EVENTS[:3], wire=wire)
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap, max_request_size=1_048_000)
    try:
        producer.send(
            wire.topic_for(FOREIGN_TYPE),
            key=b"k" * 32,
            value=b"\x00" + b"x" * (size - 1),
            headers=[("h", b"v" * 40)],
        ).get(30)
    finally:
        producer.close()
    publish(broker.bootstrap, SCENARIO_EVENTS[3:], wire=wire)


def assert_omitted(broker: TestBroker, size: int) -> None:
    """Exactly one dead letter, of the foreign record, without its value."""
    records = consume(broker.bootstrap, broker.wire.deadletter_streams)
    assert len(records) == 1, f"{len(records)} dead letters"
    (record,) = records
    headers: dict[str, Any] = dict(record.headers)
    assert record.value is None
    assert headers["schakel.bron.weggelaten"] == str(size).encode()
    assert headers["schakel.bron.topic"] == broker.wire.topic_for(FOREIGN_TYPE).encode()
    assert headers["schakel.bron.partitie"].isdigit()
    assert headers["schakel.bron.offset"] == b"0"
    assert headers["schakel.bron.tijdstip"].isdigit()
    assert headers["schakel.fase"] == b"decode"
    assert record.key == b"k" * 32 and headers["h"] == b"v" * 40


def snapshot_ids(broker: TestBroker) -> list[list[str]]:
    """The ids of the events in each citizen's latest committed snapshot."""
    latest = latest_snapshots(broker.bootstrap, broker.wire).values()
    return sorted(sorted(e["id"] for e in snapshot["events"]) for snapshot in latest)


@pytest.mark.parametrize("case", ["producer-limit", "topic-limit"])
def test_the_worker_dead_letters_a_too_large_foreign_record_without_its_value(
    kafka: TestBroker, tmp_path: Path, case: str
) -> None:
    size = prepare(kafka, case)
    worker = worker_on(kafka, tmp_path).start()
    try:
        publish_with_foreign(kafka, size)
        worker.drain(kafka.wire.event_topics)
        assert worker.get("/ready")[0] == 200
    finally:
        worker.stop()
    assert "Crashed" not in worker.log.read_text()
    assert_omitted(kafka, size)
    assert snapshot_ids(kafka) == EXPECTED_SCENARIO


@pytest.mark.parametrize("case", ["producer-limit", "topic-limit"])
def test_the_batch_path_dead_letters_a_too_large_foreign_record_without_its_value(
    kafka: TestBroker, case: str
) -> None:
    size = prepare(kafka, case)
    publish_with_foreign(kafka, size)
    stats = rebuild(kafka).run()
    assert stats.deadlettered == 1
    assert_omitted(kafka, size)
    assert snapshot_ids(kafka) == EXPECTED_SCENARIO
