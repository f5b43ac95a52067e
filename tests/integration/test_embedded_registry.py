"""Issue 13 item 2: in embedded mode a standard consumer reads Schakel's topics with no
Schakel code. ``schakel broker`` serves a read-only Confluent-compatible registry next to the
embedded broker; a ``schakel replay`` runs on that broker (``--bootstrap``, a namespace of its
own, topics kept); a worker answers one API read (an audit record); then confluent-kafka's
``Consumer`` with its ``AvroDeserializer`` and ``SchemaRegistryClient`` decodes every record of
every Avro topic — events, clock, signals, timelines, audit, quarantine and the worker's
changelog — by asking the registry for the ids in the records."""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext

from schakel.registry_server import RegistryServer
from schakel.registry_store import RegistryStore
from schemas.catalogue import catalogue
from schemas.registry import catalogue_subjects, local_schema_id
from schemas.wire import Wire
from tests.cli import ROOT, run_cli
from tests.integration.streams.helpers import WorkerProcess, consume
from tests.processes import start, stopping

SAMPLES = ROOT / "samples"
NAMESPACE = "registry-it"
KEY = "registry-test-key-0123456789abcdef"


def clean_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCHAKEL_")}
    env.update(
        {"SCHAKEL_DATA_DIR": str(data_dir), "SCHAKEL_PSEUDONYM_KEY": KEY, "PYTHONUNBUFFERED": "1"}
    )
    env.update(extra)
    return env


@pytest.fixture
def schakel_broker(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """``schakel broker`` as a user runs it; yields its info file (bootstrap, registry URL)."""
    data_dir = tmp_path / "var"
    output = tmp_path / "broker.out"
    argv = [sys.executable, "-m", "schakel", "broker"]
    with stopping(start(argv, output, env=clean_env(data_dir))) as process:
        info_file = data_dir / "embedded-broker.json"
        deadline = time.monotonic() + 60
        while not info_file.exists() and time.monotonic() < deadline:
            assert process.poll() is None, output.read_text()
            time.sleep(0.2)
        info: dict[str, Any] = json.loads(info_file.read_text())
        info["output"] = output
        yield info


def get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def consume_standard(
    bootstrap: str, topic: str, registry: str, expected: int, **conf: Any
) -> dict[tuple[int, int], Any]:
    """Every record of ``topic`` decoded by confluent-kafka alone, by (partition, offset)
    (``conf``: deserializer options)."""
    deserialize = AvroDeserializer(SchemaRegistryClient({"url": registry}), conf=conf or None)
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"standard-{topic}",
            "enable.auto.commit": False,
        }
    )
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        consumer.assign([TopicPartition(topic, p, 0) for p in partitions])  # from the start
        decoded: dict[tuple[int, int], Any] = {}
        deadline = time.monotonic() + 30
        while len(decoded) < expected and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is None or message.error():
                continue
            context = SerializationContext(topic, MessageField.VALUE, message.headers())
            partition, offset = message.partition(), message.offset()
            assert partition is not None and offset is not None
            decoded[(partition, offset)] = deserialize(message.value(), context)
        return decoded
    finally:
        consumer.close()


def test_a_standard_consumer_reads_every_topic_of_a_replay(
    schakel_broker: dict[str, Any], tmp_path: Path
) -> None:
    bootstrap, registry = schakel_broker["bootstrap"], schakel_broker["schema_registry"]
    assert registry.startswith("http://127.0.0.1:")
    assert (
        f"schema registry (read-only, Confluent API) on {registry}"
        in schakel_broker["output"].read_text()
    )
    subjects = get(f"{registry}/subjects")
    assert subjects == sorted(catalogue_subjects())

    vroeg = SAMPLES / "vroegsignalering"
    env = clean_env(tmp_path / "replay", SCHAKEL_PROFILE="embedded")
    replay = run_cli(
        "replay",
        "--bootstrap",
        bootstrap,
        "--namespace",
        NAMESPACE,
        "--keep-topics",
        "--from",
        f"iwmo:{SAMPLES / 'iwmo'}",
        "--from",
        f"sociale-dienst:{SAMPLES / 'sociale-dienst' / 'export.csv'}",
        "--from",
        f"vroegsignalering:{vroeg / 'signalen.csv'},{vroeg / 'acties.csv'}",
        "--from",
        f"wijkteam:{SAMPLES / 'wijkteam' / 'events.jsonl'}",
        "--from",
        f"sociale-dienst:{SAMPLES / 'bad' / 'sociale-dienst' / 'bad-bsn.csv'}",
        "--until",
        "2026-06-30",
        env=env,
        timeout=300,
    )
    assert replay.returncode == 3, replay.stderr[-3000:]  # 3: the rejected bad-bsn rows
    assert (
        "replay: schema registry (read-only, Confluent API) on http://127.0.0.1:" in replay.stderr
    )

    wire = Wire(NAMESPACE)
    worker = WorkerProcess(
        bootstrap,
        tmp_path / "worker",
        extra_env={"SCHAKEL_NAMESPACE": NAMESPACE, "SCHAKEL_PROFILE": "embedded"},
    ).start()
    try:
        headers = {"Authorization": "Bearer token-anna", "X-Doel": "registry-test"}
        status, _ = worker.get("/api/v1/signalen", headers)
        assert status == 200
        deadline = time.monotonic() + 30
        while not consume(bootstrap, wire.inzage) and time.monotonic() < deadline:
            time.sleep(0.5)
    finally:
        worker.stop()

    cat = catalogue()
    seen: dict[str, int] = {}
    for topic, spec in wire.topics().items():
        if spec.value != "avro":
            continue  # the streams dead letters keep raw copies, not Avro of their own
        raw = consume(bootstrap, topic)
        assert raw, f"{topic} has no records"
        plain = consume_standard(bootstrap, topic, registry, len(raw))
        latest = consume_standard(
            bootstrap,
            topic,
            registry,
            len(raw),
            **{"use.latest.version": True, "subject.name.strategy.type": "TOPIC_RECORD"},
        )
        assert len(plain) == len(latest) == len(raw), topic
        for message in raw:
            record = plain[(message.partition, message.offset)]
            schema_id = int.from_bytes(message.value[1:5], "big")
            name = next(
                n
                for n in cat.names
                if spec.carries_schema(n)
                and any(local_schema_id(v.raw) == schema_id for v in cat.versions(n))
            )
            fields = {f["name"] for f in cat.latest(name).raw["fields"]}
            assert isinstance(record, dict) and set(record) == fields, (topic, name)
            if "subject" in record and spec.key == "pseudonym" and message.key is not None:
                assert record["subject"] == message.key.decode()
        assert latest == plain, topic
        seen[spec.name] = len(raw)
    assert set(seen) == {s.name for s in wire.topics().values() if s.value == "avro"}


def test_the_embedded_api_answers_like_a_confluent_registry() -> None:
    subjects = catalogue_subjects()
    subject = "schakel.wmo.events-nl.wmo.voorzieningen.toegewezen"
    with RegistryServer(RegistryStore.embedded()) as server:
        url = server.url
        assert get(f"{url}/subjects") == sorted(subjects)
        versions = [v.version for v in subjects[subject]]
        assert len(versions) >= 2 and get(f"{url}/subjects/{subject}/versions") == versions
        newest = subjects[subject][-1]
        answer = get(f"{url}/subjects/{subject}/versions/latest")
        assert answer["id"] == local_schema_id(newest.raw) and answer["version"] == versions[-1]
        assert json.loads(get(f"{url}/schemas/ids/{answer['id']}")["schema"]) == newest.raw
        assert get(f"{url}/schemas/ids/{answer['id']}/versions") == [
            {"subject": subject, "version": versions[-1]}
        ]
        assert get(f"{url}/config") == {"compatibilityLevel": "BACKWARD_TRANSITIVE"}
        assert get(f"{url}/config/{subject}") == {"compatibilityLevel": "BACKWARD_TRANSITIVE"}
        assert get(f"{url}/mode") == {"mode": "READONLY"}
        # a subject of another namespace is answered like the subject it names
        client = SchemaRegistryClient({"url": url})
        other = client.get_latest_version(f"utrecht.{subject}")
        assert (other.schema_id, other.subject) == (answer["id"], f"utrecht.{subject}")
        with pytest.raises(urllib.error.HTTPError) as missing:
            get(f"{url}/schemas/ids/1")
        assert missing.value.code == 404
        assert json.loads(missing.value.read()) == {
            "error_code": 40403,
            "message": "Schema not found",
        }
