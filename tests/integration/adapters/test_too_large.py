"""A record the broker refuses for its size is quarantined and the source goes on — against
Apache Kafka, whose topics enforce ``max.message.bytes`` (the idempotent producer keeps
publishing after the refusal).

Before: kafka-python's ``MessageSizeTooLargeError`` became a ``PublishError``, an outage; the
run was repeated from the checkpoint for ever and nothing after the record was published."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient
from prometheus_client import CollectorRegistry

from adapters.checkpoint import FileCheckpoint
from adapters.jsonlines import JsonLinesSource
from adapters.metrics import AdapterMetrics
from adapters.publisher import Publisher
from adapters.quarantine import Quarantine
from adapters.runner import Runner
from schakel.kafka_cluster import KafkaCluster
from schakel.topics import ensure_topics, new_topics
from schemas.pseudonym import Pseudonymiser
from schemas.registry import LocalRegistry
from schemas.serde import RecordSerializer
from schemas.wire import Wire
from tests.integration.adapters.conftest import KEY, read_topic

pytestmark = pytest.mark.kafka

EVENT_TYPE = "nl.wijkteams.casussen.geopend"
WT = "urn:nld:oin:00000001234567890000:systeem:wijkteam"
TOPIC_LIMIT = 900
"""``max.message.bytes`` of the test's event topic: a record batch of one ordinary event
fits (about 400 bytes), one event with a 256-character id and casus_id (about 1,150) does
not — both valid input."""


def line(n: int, *, big: bool = False) -> str:
    event: dict[str, Any] = {
        "specversion": "1.0",
        "id": ("i" * 250 + f"{n:06d}") if big else f"wt-{n}",
        "source": WT,
        "type": EVENT_TYPE,
        "data": {
            "bsn": "999990111",
            "datum": "2026-01-10",
            "casus_id": ("c" * 256) if big else f"W-{n}",
        },
    }
    return json.dumps(event) + "\n"


def limit_topic(bootstrap: str, topic: str) -> None:
    """Set ``max.message.bytes`` of ``topic`` and wait until the broker reports it."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        limit = {"max.message.bytes": str(TOPIC_LIMIT)}
        admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, topic, configs=limit)])
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            asked = ConfigResource(ConfigResourceType.TOPIC, topic, configs=None)
            described = admin.describe_configs([asked])
            value = described.get("topic", {}).get(topic, {}).get("max.message.bytes")
            if str(TOPIC_LIMIT) in str(value):
                return
            time.sleep(0.5)
        raise AssertionError(f"max.message.bytes of {topic} not applied: {described}")
    finally:
        admin.close()


@pytest.fixture
def namespace(kafka_cluster: KafkaCluster) -> Iterator[Wire]:
    """A fresh namespace on the session's Apache Kafka, its topics deleted afterwards (no
    consumer group is made: deleting groups fails on a cluster that never had one)."""
    wire = Wire(f"test-{secrets.token_hex(5)}")
    ensure_topics(kafka_cluster.bootstrap, partitions=4, wire=wire)
    yield wire
    admin = KafkaAdminClient(bootstrap_servers=kafka_cluster.bootstrap)
    try:
        admin.delete_topics(sorted(new_topics(wire, partitions=4, replication_factor=1)))
    finally:
        admin.close()


def test_a_record_the_broker_refuses_for_its_size_is_quarantined_and_the_source_goes_on(
    kafka_cluster: KafkaCluster, namespace: Wire, tmp_path: Path
) -> None:
    bootstrap, wire = kafka_cluster.bootstrap, namespace
    topic = wire.topic_for(EVENT_TYPE)
    limit_topic(bootstrap, topic)
    path = tmp_path / "e.jsonl"
    path.write_text(line(1) + line(2, big=True) + line(3) + line(4))
    publisher = Publisher(bootstrap, RecordSerializer(LocalRegistry()), client_id="test", wire=wire)
    runner = Runner(
        JsonLinesSource([path]),
        publisher=publisher,
        pseudonymiser=Pseudonymiser(KEY),
        checkpoint=FileCheckpoint(tmp_path / "checkpoint.json"),
        quarantine=Quarantine("publish", tmp_path / "quarantaine.jsonl", publisher),
        metrics=AdapterMetrics(CollectorRegistry()),
    )
    try:
        stats = runner.run_once()
        assert (stats.read, stats.published, stats.rejected) == (4, 3, 1), stats
        assert stats.by_reason == {"too-large": 1}
        (entry,) = [
            json.loads(x) for x in (tmp_path / "quarantaine.jsonl").read_text().splitlines()
        ]
        assert (entry["locatie"], entry["reden"]) == (f"{path}:2", "too-large")
        # the producer goes on after the refusal: later records are published too
        with path.open("a") as handle:
            handle.write(line(5) + line(6))
        assert runner.run_once().published == 2
    finally:
        runner.close()
        publisher.close()
    published = sorted(m.record["id"] for m in read_topic(bootstrap, topic))
    assert published == ["wt-1", "wt-3", "wt-4", "wt-5", "wt-6"]
    (dead,) = read_topic(bootstrap, wire.deadletter_adapters)
    assert dead.record["reden"] == "too-large"
