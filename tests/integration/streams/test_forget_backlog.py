"""Erasure with a backlog (issue 11 item 1): events registered before a ``schakel forget`` never
bring the citizen back — whatever the order in which the worker reads the event topics and
``schakel.klok``, on both brokers, and across a restart that rebuilds the table from its
changelog. An event registered after the erasure is new processing: a new timeline."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from kafka import KafkaProducer

from schemas.envelope import validate_input
from schemas.pseudonym import Pseudonymiser
from schemas.registry import LocalRegistry
from schemas.serde import RecordDeserializer, RecordSerializer
from streams.batch import BatchRebuild
from streams.rules import load_rules
from tests.brokers import TestBroker
from tests.cli import run_cli
from tests.integration.streams.helpers import AUTH, KEY, consume, publish, worker_on
from tests.integration.streams.test_replay import CITIZEN_A, CITIZEN_B

BSN_A, BSN_B = "111222333", "123456782"
SOURCE = "urn:nld:oin:00000001234567890000:systeem:wmo"


def afwijzing(bsn: str, number: int, datum: str = "2026-02-01") -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": f"afw-{bsn[-3:]}-{number}",
        "source": SOURCE,
        "type": "nl.wmo.aanvragen.afgewezen",
        "data": {"bsn": bsn, "datum": datum, "reden": "werk-passender"},
    }


def backlog() -> list[dict[str, Any]]:
    return [afwijzing(bsn, n, f"2026-02-0{n}") for bsn in (BSN_A, BSN_B) for n in (1, 2, 3)]


def forget(broker: TestBroker, tmp_path: Path, *bsns: str) -> None:
    bsn_file = tmp_path / "vergeet.txt"
    bsn_file.write_text("".join(f"{b}\n" for b in bsns))
    result = run_cli(
        "forget", "--bsn-file", str(bsn_file), env=broker.env({"SCHAKEL_PSEUDONYM_KEY": KEY})
    )
    assert result.returncode == 0, result.stderr


def publish_at(broker: TestBroker, raw: dict[str, Any], timestamp_ms: int) -> None:
    """Publish one input event with the given Kafka record timestamp (the time it was
    registered), as an adapter that published it then would have."""
    event = validate_input(raw, Pseudonymiser(KEY))
    topic = broker.wire.topic_for(event.type)
    value = RecordSerializer(LocalRegistry())(event, topic)
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap, acks="all")
    assert event.subject is not None
    producer.send(topic, key=event.subject.encode(), value=value, timestamp_ms=timestamp_ms)
    producer.flush()
    producer.close()


def erased_dropped(metrics: str) -> float:
    for line in metrics.splitlines():
        if line.startswith("schakel_worker_erased_events_dropped_total "):
            return float(line.split()[1])
    raise AssertionError("schakel_worker_erased_events_dropped_total not exported")


def last_value_is_tombstone(broker: TestBroker, topic: str, subject: str) -> bool:
    records = [r for r in consume(broker.bootstrap, topic) if r.key == subject.encode()]
    return bool(records) and records[-1].value is None


def test_erasure_with_a_backlog_does_not_bring_the_citizens_back(
    kafka_broker: TestBroker, tmp_path: Path
) -> None:
    broker, wire = kafka_broker, kafka_broker.wire
    # the worker is stopped: 3 events each for 2 citizens, then forget both
    assert publish(broker.bootstrap, backlog(), wire=wire) == 6
    forget(broker, tmp_path, BSN_A, BSN_B)
    worker = worker_on(broker, tmp_path / "w").start()
    try:
        worker.drain([*wire.event_topics, wire.klok])
        for subject in (CITIZEN_A, CITIZEN_B):
            assert worker.get(f"/api/v1/burgers/{subject}/tijdlijn", AUTH)[0] == 404, subject
            assert last_value_is_tombstone(broker, wire.tijdlijnen, subject), subject
        _, body = worker.get("/api/v1/signalen", AUTH)
        assert {s["subject"] for s in body["signalen"]} & {CITIZEN_A, CITIZEN_B} == set()
        # a new fact about the same person after the erasure is new processing
        publish(broker.bootstrap, [afwijzing(BSN_A, 9, "2026-03-01")], wire=wire)
        worker.drain(wire.event_topics)
        status, body = worker.get(f"/api/v1/burgers/{CITIZEN_A}/tijdlijn", AUTH)
        assert status == 200
        assert [e["id"] for e in body["tijdlijn"]] == ["afw-333-9"]
        assert worker.get(f"/api/v1/burgers/{CITIZEN_B}/tijdlijn", AUTH)[0] == 404
    finally:
        worker.stop()


def test_the_erasure_holds_across_a_restart(kafka_broker: TestBroker, tmp_path: Path) -> None:
    """The erasure marker survives on the table changelog: a worker that rebuilds its table
    (fresh data directory, killed predecessor) still drops an event registered before the
    erasure that it reads only now, and counts it."""
    broker, wire = kafka_broker, kafka_broker.wire
    worker = worker_on(broker, tmp_path / "w1").start()
    try:
        publish(broker.bootstrap, backlog(), wire=wire)
        worker.drain(wire.event_topics)
        assert worker.get(f"/api/v1/burgers/{CITIZEN_A}/tijdlijn", AUTH)[0] == 200
        before_erasure = int(time.time() * 1000)
        time.sleep(0.05)
        forget(broker, tmp_path, BSN_A)
        worker.drain([wire.klok])
        assert worker.get(f"/api/v1/burgers/{CITIZEN_A}/tijdlijn", AUTH)[0] == 404
    finally:
        worker.kill()
    worker = worker_on(broker, tmp_path / "w2").start()
    try:
        # registered before the erasure, read only now (a slow topic, a late partition)
        publish_at(broker, afwijzing(BSN_A, 7, "2026-02-07"), before_erasure)
        publish(broker.bootstrap, [afwijzing(BSN_B, 8, "2026-02-08")], wire=wire)
        worker.drain(wire.event_topics)
        assert worker.get(f"/api/v1/burgers/{CITIZEN_A}/tijdlijn", AUTH)[0] == 404
        status, body = worker.get(f"/api/v1/burgers/{CITIZEN_B}/tijdlijn", AUTH)
        assert status == 200 and len(body["tijdlijn"]) == 4
        _, metrics = worker.get("/metrics")
        assert erased_dropped(metrics) == 1
        assert last_value_is_tombstone(broker, wire.tijdlijnen, CITIZEN_A)
    finally:
        worker.stop()


def test_the_batch_path_honours_the_erasure(kafka_broker: TestBroker, tmp_path: Path) -> None:
    """``replay --batch`` (BatchRebuild) reads the erasure records on the klok topic too: the
    backlog of a forgotten citizen is dropped, the marker lands on the changelog, and a worker
    that carries on afterwards knows nothing of the citizen."""
    broker, wire = kafka_broker, kafka_broker.wire
    publish(broker.bootstrap, backlog(), wire=wire)
    forget(broker, tmp_path, BSN_A)
    registry = LocalRegistry()
    stats = BatchRebuild(
        broker.bootstrap,
        wire=wire,
        engine=load_rules(),
        serializer=RecordSerializer(registry),
        deserializer=RecordDeserializer(registry),
        partitions=4,
        source="urn:test:schakel",
        history_limit=10_000,
    ).run()
    assert (stats.read, stats.erased, stats.accepted, stats.deadlettered) == (6, 3, 3, 0)
    assert last_value_is_tombstone(broker, wire.tijdlijnen, CITIZEN_A)
    worker = worker_on(broker, tmp_path / "w").start()
    try:
        worker.drain([*wire.event_topics, wire.klok])
        assert worker.get(f"/api/v1/burgers/{CITIZEN_A}/tijdlijn", AUTH)[0] == 404
        status, body = worker.get(f"/api/v1/burgers/{CITIZEN_B}/tijdlijn", AUTH)
        assert status == 200 and len(body["tijdlijn"]) == 3
    finally:
        worker.stop()
