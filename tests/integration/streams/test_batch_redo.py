"""On Apache Kafka: a batch run whose outputs the broker did not take fails, and the next run
writes everything a run that never failed writes (streams/batch.py, ``_finish``).

Reproduction: the signal topic refused every record (``max.message.bytes`` below a signal
event: what an outage past the producer's delivery timeout does to some records). The run
failed with ``BatchDeliveryError`` — but the citizens' states had reached the changelog, so
the next run, the topic healthy again, found every record a duplicate and wrote no signal
event at all: the signals were lost for good."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from streams.batch_kafka import BatchDeliveryError
from tests.brokers import TestBroker, open_broker
from tests.integration.streams.helpers import (
    limit_topic,
    publish,
    rebuild,
    signal_events,
    valid_scenario,
)

pytestmark = pytest.mark.kafka

EVENTS = valid_scenario()
KAFKA_DEFAULT = 1_048_588


@pytest.fixture
def kafka(request: pytest.FixtureRequest) -> Iterator[TestBroker]:
    with open_broker("kafka", request) as broker:
        yield broker


def signal_ids(broker: TestBroker) -> set[str]:
    return {record["id"] for _, record in signal_events(broker.bootstrap, broker.wire)}


def test_signals_refused_in_one_run_are_written_by_the_next(
    kafka: TestBroker, request: pytest.FixtureRequest
) -> None:
    with open_broker("kafka", request) as clean:  # the same events, a run that never failed
        publish(clean.bootstrap, EVENTS, wire=clean.wire)
        expected = rebuild(clean).run()
        wanted = signal_ids(clean)
    assert wanted and expected.signal_events == len(wanted)

    publish(kafka.bootstrap, EVENTS, wire=kafka.wire)
    limit_topic(kafka.bootstrap, kafka.wire.signalen, 64)  # no signal event fits
    with pytest.raises(BatchDeliveryError, match=r"MSG_SIZE_TOO_LARGE|too large"):
        rebuild(kafka).run()
    assert not signal_ids(kafka)

    limit_topic(kafka.bootstrap, kafka.wire.signalen, KAFKA_DEFAULT)
    again = rebuild(kafka).run()
    assert signal_ids(kafka) == wanted
    assert (again.signal_events, again.citizens) == (expected.signal_events, expected.citizens)
