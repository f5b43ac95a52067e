"""The whole pipeline as production runs it: Apache Kafka (exactly-once), a schema registry
Schakel did not write (Apicurio Registry, session fixture ``apicurio_registry``) and
``SCHAKEL_PROFILE=production`` in every process, so the schema ids on the wire are Apicurio's,
never the ids Schakel derives for the embedded mode.

In one fresh namespace of the session's Kafka node: the deploy job's ``schakel schemas
register``; ``schakel publish`` of the replay tests' scenario (``examples/scenario.jsonl``:
two citizens and one line with an invalid BSN, which is quarantined); a worker on the replay
clock (RocksDB store, the production default) until it has processed every event; one
audited API read (a timeline). Then confluent-kafka's ``Consumer`` with its
``AvroDeserializer`` and a ``SchemaRegistryClient`` of Apicurio — no Schakel code — decodes
every record of every Avro topic, and the signals on the signal topic are those the replay
tests expect of the scenario on the embedded broker. A second test runs ``schakel replay
--until`` the same way and reads its namespace so too."""

from __future__ import annotations

import json
import os
import re
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from schakel.kafka_cluster import KafkaCluster
from schakel.sandbox import delete_namespace
from schemas.catalogue import catalogue
from schemas.registry import local_schema_id
from schemas.wire import Wire
from streams.signals import SIGNAL_TYPES
from tests.apicurio import ApicurioRegistry
from tests.brokers import TestBroker, kafka_namespace
from tests.cli import run_cli
from tests.integration.streams.helpers import (
    AUTH,
    KEY,
    SCENARIO,
    WorkerProcess,
    consume,
    valid_scenario,
)
from tests.integration.streams.test_replay import CITIZEN_A, EXPECTED
from tests.integration.test_embedded_registry import consume_standard
from tests.integration.test_registry_apicurio import PRINTED

pytestmark = [pytest.mark.kafka, pytest.mark.apicurio]

BSNS = ("111222333", "123456782", "123456789")
"""Every BSN in the scenario: the two citizens' and the bad line's (which fails the elfproef)."""
LOCAL_IDS = frozenset(
    local_schema_id(version.raw)
    for name in catalogue().names
    for version in catalogue().versions(name)
)
"""The ids Schakel derives for its schemas when no registry is configured (embedded mode)."""
BSN = re.compile(rb"(?<![0-9])(?:" + b"|".join(b.encode() for b in BSNS) + rb")(?![0-9])")
"""One of :data:`BSNS` as a number of its own (the OIN in every ``source``,
``00000001234567890000``, holds the bad line's digits)."""


def production_env(
    broker: TestBroker, registry: str, data_dir: Path, **extra: str
) -> dict[str, str]:
    """A command's environment as a production deployment sets it, and nothing else of
    Schakel's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCHAKEL_")}
    env.update(
        {
            "SCHAKEL_PROFILE": "production",
            "SCHAKEL_KAFKA_BOOTSTRAP": broker.bootstrap,
            "SCHAKEL_SCHEMA_REGISTRY_URL": registry,
            "SCHAKEL_NAMESPACE": broker.namespace,
            "SCHAKEL_DATA_DIR": str(data_dir),
            "PYTHONUNBUFFERED": "1",
            **extra,
        }
    )
    return env


@pytest.fixture
def namespace(kafka_cluster: KafkaCluster) -> Iterator[TestBroker]:
    with kafka_namespace(kafka_cluster) as broker:
        yield broker


def read_once(url: str) -> tuple[int, Any, str | None]:
    """(status, JSON body, ``X-Inzage-Id``) of one API request with :data:`AUTH`."""
    request = urllib.request.Request(url, headers=AUTH)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read()), answer.headers.get("X-Inzage-Id")
    except urllib.error.HTTPError as refused:
        return refused.code, None, refused.headers.get("X-Inzage-Id")


def committed(bootstrap: str, topic: str, least: int, timeout: float = 30) -> list[Any]:
    """The committed records of ``topic`` once there are at least ``least`` (or the deadline
    passed: then what there is)."""
    deadline = time.monotonic() + timeout
    records = consume(bootstrap, topic)
    while len(records) < least and time.monotonic() < deadline:
        time.sleep(0.5)
        records = consume(bootstrap, topic)
    return records


def signals_told(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The signals the signal events tell, read as events.md says (``gesignaleerd`` raises
    one, ``opgelost`` resolves it, ``ingetrokken`` withdraws it; a citizen's events are on one
    partition, in order), in the shape of the replay's ``--json`` output without ``uitleg``
    and in its order."""
    told: dict[tuple[str, str, str], dict[str, Any]] = {}
    for record in records:
        data, subject = record["data"], record["subject"]
        identity = (data["regel"], subject, data["sleutel"])
        if record["type"] == "nl.schakel.signalen.gesignaleerd":
            told[identity] = {
                "regel": data["regel"],
                "subject": subject,
                "sleutel": data["sleutel"],
                "sinds": data["sinds"].isoformat(),
                "status": "open",
                "termijn": data["termijn"] and data["termijn"].isoformat(),
                "bewijs": data["bewijs"],
                "opgelost_op": None,
            }
        elif record["type"] == "nl.schakel.signalen.opgelost":
            told[identity].update(status="opgelost", opgelost_op=data["datum"].isoformat())
        else:
            told.pop(identity)
    return sorted(told.values(), key=lambda s: (s["regel"], s["subject"], s["sinds"], s["sleutel"]))


def register(broker: TestBroker, registry: str, data_dir: Path) -> dict[tuple[str, int], int]:
    """The deploy job, ``schakel schemas register``, for the namespace of ``broker``: the id
    Apicurio gave each (subject, version), as the job prints them."""
    registered = run_cli("schemas", "register", env=production_env(broker, registry, data_dir))
    assert registered.returncode == 0, registered.stderr
    ids = {
        (m[1], int(m[2])): int(m[3])
        for m in map(PRINTED.match, registered.stdout.splitlines())
        if m
    }
    assert ids
    assert LOCAL_IDS.isdisjoint(ids.values())  # Apicurio numbers schemas its own way
    return ids


def read_everything(
    broker: TestBroker, registry: str, ids: dict[tuple[str, int], int]
) -> dict[str, list[tuple[Any, dict[str, Any]]]]:
    """Every record of every Avro topic of the namespace that has any, decoded by
    confluent-kafka alone through ``registry`` — by the id in the record, and again by the
    latest version of its ``<topic>-<record>`` subject — as (kafka-python record, decoded
    value) by topic. Asserts on the way: no BSN in any value, key or header of any topic;
    every id is one Apicurio gave a subject of that topic, none a locally derived one; and
    the worker dead-lettered nothing."""
    wire = broker.wire
    decoded: dict[str, list[tuple[Any, dict[str, Any]]]] = {}
    for topic, spec in wire.topics().items():
        raw = consume(broker.bootstrap, topic)
        for message in raw:
            for part in (
                message.value or b"",
                message.key or b"",
                *(v for _, v in message.headers),
            ):
                assert not BSN.search(part), topic
        if topic == wire.deadletter_streams:
            assert not raw, [dict(m.headers).get("schakel.fout.melding") for m in raw]
        if spec.value != "avro" or not raw:
            continue  # the streams' dead letters are raw copies, with no framing of their own
        for message in raw:
            schema_id = int.from_bytes(message.value[1:5], "big")
            assert schema_id not in LOCAL_IDS, (topic, schema_id)
            assert any(
                subject.startswith(f"{topic}-") and given == schema_id
                for (subject, _), given in ids.items()
            ), (topic, schema_id)
        plain = consume_standard(broker.bootstrap, topic, registry, len(raw))
        latest = consume_standard(
            broker.bootstrap,
            topic,
            registry,
            len(raw),
            **{"use.latest.version": True, "subject.name.strategy.type": "TOPIC_RECORD"},
        )
        assert len(plain) == len(raw), topic
        assert latest == plain, topic
        rows = []
        for message in raw:
            record = plain[(message.partition, message.offset)]
            assert isinstance(record, dict), topic
            assert not BSN.search(repr(record).encode()), topic
            rows.append((message, record))
        decoded[topic] = rows
    return decoded


def test_production_pipeline_on_kafka_and_apicurio(
    namespace: TestBroker, apicurio_registry: ApicurioRegistry, tmp_path: Path
) -> None:
    broker, registry, wire = namespace, apicurio_registry.url, namespace.wire

    # 1. the deploy job registers every committed schema version
    ids = register(broker, registry, tmp_path)

    # 2. an adapter publishes the scenario; its bad line is quarantined
    published = run_cli(
        "publish",
        str(SCENARIO),
        env=production_env(broker, registry, tmp_path / "adapter", SCHAKEL_PSEUDONYM_KEY=KEY),
    )
    assert published.returncode == 3, published.stderr  # 3: a line was rejected
    assert not BSN.search((published.stdout + published.stderr).encode())

    # 3. a worker processes the events, exactly-once on the production profile (RocksDB)
    worker = WorkerProcess(
        broker.bootstrap,
        tmp_path / "worker",
        clock="replay",
        wire=wire,
        profile="production",
        extra_env={"SCHAKEL_SCHEMA_REGISTRY_URL": registry},
    ).start()
    try:
        worker.drain(wire.event_topics)
        assert len(committed(broker.bootstrap, wire.signalen, len(EXPECTED))) >= len(EXPECTED)

        # 5. one audited read of a timeline (a 503 is not audited: asked again)
        timeline_url = f"{worker.url}/api/v1/burgers/{CITIZEN_A}/tijdlijn"
        deadline = time.monotonic() + 30
        status, timeline, audit_id = read_once(timeline_url)
        while status == 503 and time.monotonic() < deadline:
            time.sleep(0.5)
            status, timeline, audit_id = read_once(timeline_url)
        assert status == 200, timeline
        assert timeline["subject"] == CITIZEN_A
        assert {e["id"] for e in timeline["tijdlijn"]} == {"wmo-1", "wmo-2", "wgs-1", "wgs-2"}
        assert len(committed(broker.bootstrap, wire.inzage, 1)) == 1
    finally:
        worker.stop()
    # the production profile's store: RocksDB (rocksdict), one database per partition
    assert list((tmp_path / "worker").glob("**/tables/burgers-*.db/rocksdict-config.json"))

    # 4. a standard consumer reads every record of every Avro topic through Apicurio
    decoded = read_everything(broker, registry, ids)
    assert set(decoded) == {
        *(wire.topic_for(event["type"]) for event in valid_scenario()),
        wire.signalen,
        wire.tijdlijnen,
        wire.inzage,
        wire.deadletter_adapters,
        wire.changelog,
    }

    # the signals are those the replay tests expect of this scenario on the embedded broker
    signals = decoded[wire.signalen]
    assert {r["type"] for _, r in signals} <= set(SIGNAL_TYPES)
    assert all(message.key.decode() == record["subject"] for message, record in signals)
    assert signals_told([record for _, record in signals]) == EXPECTED

    # the bad line: one quarantine record, without the line or its BSN
    ((_, quarantined),) = decoded[wire.deadletter_adapters]
    assert (quarantined["adapter"], quarantined["reden"]) == ("publish", "bsn")
    assert quarantined["locatie"].endswith("scenario.jsonl:7")

    # the audit record of the one read
    ((_, audit),) = decoded[wire.inzage]
    assert audit["id"] == audit_id and audit["subject"] == CITIZEN_A
    assert (audit["data"]["wie"], audit["data"]["doel"]) == ("anna", "casusoverleg")


def test_replay_until_a_date_on_kafka_and_apicurio(
    kafka_cluster: KafkaCluster, apicurio_registry: ApicurioRegistry, tmp_path: Path
) -> None:
    """``schakel replay --until`` in a namespace whose schemas the deploy job registered: its
    closing clock tick, one per partition, carries Apicurio's id too, so the worker reads it
    instead of dead-lettering it (it carried the locally derived id, which Apicurio does not
    know: the replay ended with its ``--until`` silently dropped)."""
    wire = Wire(f"test-{secrets.token_hex(5)}")
    broker = TestBroker("kafka", kafka_cluster.bootstrap, wire.namespace, kafka_cluster)
    registry = apicurio_registry.url
    ids = register(broker, registry, tmp_path)
    try:
        result = run_cli(
            "replay",
            str(SCENARIO),
            "--bootstrap",
            broker.bootstrap,
            "--namespace",
            wire.namespace,
            "--keep-topics",
            "--until",
            "2026-06-30",
            "--json",
            env=production_env(broker, registry, tmp_path, SCHAKEL_PSEUDONYM_KEY=KEY),
            timeout=120,
        )
        assert result.returncode == 3, result.stderr[-3000:]  # 3: the rejected bad line
        signals = json.loads(result.stdout)["signalen"]
        assert [{k: v for k, v in s.items() if k != "uitleg"} for s in signals] == EXPECTED
        decoded = read_everything(broker, registry, ids)
        ticks = [record for _, record in decoded.get(wire.klok, [])]
        assert len(ticks) == 4  # one per partition
        assert all(t["tot"] == date(2026, 6, 30) and t["modus"] == "replay" for t in ticks)
    finally:
        delete_namespace(broker.bootstrap, wire)
