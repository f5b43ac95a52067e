"""The publisher tells a record Kafka refuses for its size (permanent: that record is
quarantined) from an outage (transient: waited out) — the real :class:`Publisher` over a
fake kafka-python producer that makes kafka-python's own size check."""

from __future__ import annotations

import dataclasses
import threading
from typing import Any

import pytest
from kafka.errors import KafkaConnectionError, KafkaTimeoutError

from adapters import publisher as publisher_module
from adapters.exceptions import PublishError, RecordTooLarge
from adapters.publisher import MAX_REQUEST_BYTES
from schemas.envelope import Event, validate_input
from schemas.exceptions import PermanentError, TransientError
from schemas.pseudonym import Pseudonymiser
from schemas.registry import LocalRegistry
from schemas.serde import RecordDeserializer
from tests.unit.adapters.conftest import KEY, kafka_publisher

WT = "urn:nld:oin:00000001234567890000:systeem:wijkteam"


def event(n: int) -> Event:
    raw = {
        "specversion": "1.0",
        "id": f"wt-{n}",
        "source": WT,
        "type": "nl.wijkteams.casussen.geopend",
        "data": {"bsn": "999990111", "datum": "2026-01-10", "casus_id": f"W-{n}"},
    }
    return validate_input(raw, Pseudonymiser(KEY))


def oversized(n: int, chars: int) -> Event:
    """An event with an id of ``chars`` characters (past validation: what the publisher
    must cope with whatever validation lets through)."""
    return dataclasses.replace(event(n), id="x" * chars)


def test_a_record_larger_than_the_producer_accepts_is_refused_not_an_outage(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    publisher, broker = kafka_publisher(monkeypatch)
    assert broker.producers[0].config["max_request_size"] == MAX_REQUEST_BYTES
    publisher.send(event(1), tag="small")
    # the id travels in the value and in the ce_id header: 2 x 600 KB > 1 MiB
    with pytest.raises(RecordTooLarge) as refused:
        publisher.send(oversized(2, 600_000), tag="big")
    assert isinstance(refused.value, PermanentError)
    assert not isinstance(refused.value, TransientError)
    assert refused.value.reason == "too-large"
    assert "max_request_size" in str(refused.value)
    assert "xxxx" not in str(refused.value)  # never the content
    assert publisher.flush() == 1  # the event before it is published
    assert len(broker.acked) == 1
    assert len(broker.producers) == 1  # the producer's own check does not break it


def test_records_the_broker_refuses_for_their_size_are_named_by_their_tags(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    publisher, broker = kafka_publisher(monkeypatch)
    broker.limit = 2_000  # the topic's max.message.bytes
    publisher.send(event(1), tag="first")
    publisher.send(oversized(2, 5_000), tag="big")
    publisher.send(event(3), tag="third")  # failed by the stopped producer, sent again
    publisher.send(oversized(4, 5_000), tag="big too")
    publisher.send(event(5), tag="fifth")
    with pytest.raises(RecordTooLarge) as refused:
        publisher.flush()
    assert refused.value.tags == ("big", "big too")
    assert refused.value.reason == "too-large"
    assert sorted(key_id(value) for _, _, value in broker.acked) == ["wt-1", "wt-3", "wt-5"]
    assert all(p.closed for p in broker.producers[:-1])  # each stopped producer replaced
    assert not broker.producers[-1].closed
    publisher.send(event(6))
    assert publisher.flush() == 1  # nothing stayed queued; the new producer works
    assert len(broker.acked) == 4


def key_id(value: bytes) -> str:
    """The event id of a published Avro value."""
    return str(RecordDeserializer(LocalRegistry()).decode(value)[1]["id"])


@pytest.mark.parametrize("where", ["record", "flush"])
def test_an_outage_is_a_publish_error_even_when_a_record_is_too_large(
    monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    publisher, broker = kafka_publisher(monkeypatch)
    broker.limit = 2_000
    if where == "record":
        broker.outage = KafkaConnectionError("broker unreachable")
    else:
        broker.flush_times_out = True
    publisher.send(event(1), tag="first")
    publisher.send(oversized(2, 5_000), tag="big")
    with pytest.raises(PublishError) as failed:
        publisher.flush(0.05)
    assert isinstance(failed.value, TransientError)


def test_send_and_wait_tells_too_large_from_an_outage(monkeypatch: pytest.MonkeyPatch) -> None:
    publisher, broker = kafka_publisher(monkeypatch)
    publisher.send_and_wait(event(1))
    assert len(broker.acked) == 1
    with pytest.raises(RecordTooLarge, match="max_request_size"):
        publisher.send_and_wait(oversized(2, 600_000))
    broker.limit = 2_000
    with pytest.raises(RecordTooLarge, match=r"max\.message\.bytes"):
        publisher.send_and_wait(oversized(3, 5_000))
    publisher.send_and_wait(event(4))  # on a new producer: the refusal stopped the old one
    assert len(broker.acked) == 2
    broker.outage = KafkaConnectionError("broker unreachable")
    with pytest.raises(PublishError):
        publisher.send_and_wait(event(5))


def test_a_flush_told_to_stop_with_nothing_queued_is_no_outage(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Reproduction: a continuous adapter stopped (SIGTERM) while it polled an idle source
    logged ``adapter.outage`` ("stopped before the broker acknowledged"): its flush of
    nothing raised once told to stop. Queued records still end the flush as an outage."""
    publisher, _broker = kafka_publisher(monkeypatch)
    stop = threading.Event()
    stop.set()
    assert publisher.flush(60.0, cancel=stop) == 0
    publisher.send(event(1), tag="queued")
    with pytest.raises(PublishError, match="stopped before the broker acknowledged"):
        publisher.flush(60.0, cancel=stop)


def test_check_replaces_a_producer_that_met_an_outage_and_sends_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """:meth:`Publisher.check` (the webhook's readiness probe): a producer that met no outage
    is not asked; one that did is replaced, which fails (an outage) while the broker is still
    away and succeeds once it answers; no record is sent by checking."""
    publisher, broker = kafka_publisher(monkeypatch)
    publisher.check()
    assert len(broker.producers) == 1
    broker.outage = KafkaConnectionError("broker unreachable")
    with pytest.raises(PublishError):
        publisher.send_and_wait(event(1))
    make = publisher_module.KafkaProducer  # type: ignore[attr-defined]  # the fake factory

    def bootstrap(**config: Any) -> Any:  # a new producer asks the broker for metadata
        if broker.outage is not None:
            raise KafkaTimeoutError("Bootstrap timed out")
        return make(**config)

    monkeypatch.setattr(publisher_module, "KafkaProducer", bootstrap)
    with pytest.raises(PublishError):
        publisher.check()
    broker.outage = None
    publisher.check()
    assert len(broker.producers) == 2 and broker.producers[0].closed
    publisher.check()
    assert len(broker.producers) == 2
    assert broker.acked == []
    publisher.send_and_wait(event(2))  # on the producer the check made
    assert len(broker.acked) == 1 and len(broker.producers) == 2
