"""The batch path (``schakel replay --batch``: :class:`streams.batch.BatchRebuild`) gives
exactly the definitive signals of the streaming path (the Faust worker), on a generated
municipality (:mod:`schakel.synth`) with corrections, deletions, late facts, duplicates and
bad records (issue 14 item 2).

The same input records are published in the same order into two namespaces of one broker, in
two rounds: facts in a shuffled order (most arrive after facts dated later: late facts, and
some versions before the version they replace), then the rest with duplicates, two bad records
and the end-of-replay clock. The worker processes one namespace as they arrive; the batch path
runs on the other after each round (the second run starts from the states the first wrote on
the changelog). Then every citizen's latest timeline snapshot — events, clock and the signals
told and not withdrawn — and the dead letters must be the same on both. The same again in a
third namespace with the batch path's first round in two worker processes (``jobs=2``): the
same counts, snapshots and dead letters.
"""

from __future__ import annotations

import random
from datetime import date
from pathlib import Path
from typing import Any

from kafka import KafkaProducer

from schakel.replay import broadcast_until
from schakel.sandbox import delete_namespace
from schakel.synth import build_municipality, versions
from schakel.synth.cloudevents import cloudevent
from schakel.topics import ensure_topics
from schemas.binding import original_headers
from schemas.envelope import validate_input
from schemas.pseudonym import Pseudonymiser
from schemas.registry import LocalRegistry
from schemas.serde import RecordDeserializer, RecordSerializer
from schemas.wire import (
    HEADER_ERROR_CLASS,
    HEADER_ERROR_REASON,
    HEADER_SOURCE_OFFSET,
    HEADER_SOURCE_PARTITION,
    HEADER_STAGE,
    Wire,
)
from streams.batch import BatchRebuild
from streams.processor import partition_of
from streams.rules import load_rules
from tests.brokers import PARTITIONS, TestBroker
from tests.integration.streams.helpers import (
    KEY,
    consume,
    latest_snapshots,
    publish,
    signal_events,
    worker_on,
)

CITIZENS, SEED = 200, 14
OIN = "00000001234567890000"


def _version(event: dict[str, Any], fact: Any) -> dict[str, Any]:
    """The record-version attributes an iWmo adapter gives the fact (``bronsleutel`` = its
    record, ``sequence`` in the order of its versions); a deletion becomes
    ``nl.schakel.bron.verwijderd``, dated the day it was sent."""
    order = versions.order(fact)
    event["bronsleutel"] = "iwmo:" + ":".join(versions.record_key(fact))
    event["sequence"] = f"{order[0].isoformat()}/{order[1]}/{order[-1]:08d}"
    if versions.is_deletion(fact):
        event["type"] = versions.VERWIJDERD
        event["domein"] = "wmo"
        event["data"] = {"bsn": event["data"]["bsn"], "datum": versions.sent(fact).isoformat()}
    return event


def municipality() -> tuple[list[dict[str, Any]], date]:
    """The municipality's facts as input CloudEvents, and its end-of-replay clock."""
    m = build_municipality(CITIZENS, SEED)
    rng = random.Random(SEED)
    versioned = {versions.TOEGEWEZEN, versions.GESTART, versions.GESTOPT}
    out = []
    for person in m.people:
        for fact in person.facts:
            source = f"urn:nld:oin:{OIN}:systeem:{fact.domain}"
            event = cloudevent(person, fact, source, rng, m.until)
            out.append(_version(event, fact) if fact.type in versioned else event)
    return out, m.until


def _bad_records(bootstrap: str, wire: Wire, sample: dict[str, Any]) -> None:
    """A payload that is no Avro, and a valid Wmo event on the wgs topic (explicit partitions,
    so both namespaces get them at the same place)."""
    event = validate_input(sample, Pseudonymiser(KEY))
    assert event.subject is not None
    wmo = wire.topic_for(event.type)
    wgs = next(t for t in wire.event_topics if t.endswith("wgs.events"))
    value = RecordSerializer(LocalRegistry())(event, wmo)
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    producer.send(wmo, key=event.subject.encode(), value=b"not avro", partition=1)
    producer.send(wgs, key=event.subject.encode(), value=value, partition=2)
    producer.flush()
    producer.close()


def snapshots(bootstrap: str, wire: Wire) -> dict[str, Any]:
    """Per citizen, from their latest snapshot: events, clock, and the signals told and not
    withdrawn."""
    out = {}
    for subject, snapshot in latest_snapshots(bootstrap, wire).items():
        out[subject] = {
            "klok": snapshot["klok"],
            "events": [(e["source"], e["id"], e["type"], e["datum"]) for e in snapshot["events"]],
            "signalen": sorted(
                (s["regel"], s["sleutel"], s["sinds"], s["termijn"], s["status"],
                 s["opgelost_op"], tuple(s["bewijs"]), s["uitleg"], s["reden"])
                for s in snapshot["signalen"]
                if s["status"] != "ingetrokken"
            ),
        }  # fmt: skip
    return out


def _deadletters(bootstrap: str, wire: Wire) -> list[tuple[Any, ...]]:
    out = []
    for record in consume(bootstrap, wire.deadletter_streams):
        headers = dict(record.headers)
        out.append(
            (
                headers[HEADER_SOURCE_PARTITION],
                headers[HEADER_SOURCE_OFFSET],
                headers[HEADER_STAGE],
                headers[HEADER_ERROR_CLASS],
                headers[HEADER_ERROR_REASON],  # the refusal's code: the same on both paths
                record.value,
                sorted(original_headers(record.headers)),
            )
        )
    return sorted(out)


def batch_rebuild(broker: TestBroker, wire: Wire, jobs: int = 1) -> BatchRebuild:
    """The batch path on the topics of ``wire`` (``jobs``: worker processes)."""
    return BatchRebuild(
        broker.bootstrap,
        wire=wire,
        engine=load_rules(),
        serializer=RecordSerializer(LocalRegistry()),
        deserializer=RecordDeserializer(LocalRegistry()),
        partitions=PARTITIONS,
        source="urn:schakel:test",
        history_limit=2000,
        embedded=broker.kind == "embedded",
        jobs=jobs,
    )


def test_the_batch_path_gives_the_signals_of_the_worker_on_a_generated_municipality(
    kafka_broker: TestBroker, tmp_path: Path
) -> None:
    broker, streaming = kafka_broker, kafka_broker.wire
    batch = Wire(f"{streaming.namespace or 'eq'}-batch")
    forked = Wire(f"{streaming.namespace or 'eq'}-batch2")  # jobs=2
    for wire in (batch, forked):
        ensure_topics(broker.bootstrap, partitions=PARTITIONS, wire=wire)
    events, until = municipality()
    random.Random(SEED).shuffle(events)
    first, rest = events[: len(events) * 3 // 5], events[len(events) * 3 // 5 :]
    rest += random.Random(SEED + 1).sample(events, 40)  # duplicates: accepted once
    rebuild, rebuild2 = batch_rebuild(broker, batch), batch_rebuild(broker, forked, jobs=2)
    sample = next(e for e in events if e["type"] == "nl.wmo.meldingen.ontvangen")
    worker = worker_on(broker, tmp_path / "w").start()
    try:
        for wire in (streaming, batch, forked):
            publish(broker.bootstrap, first, wire=wire)
        worker.drain(streaming.event_topics, timeout=120)
        one, one2 = rebuild.run(), rebuild2.run()
        assert (one.read, one.accepted, one.duplicates, one.deadlettered) == (
            len(first),
            len(first),
            0,
            0,
        )
        for wire in (streaming, batch, forked):
            publish(broker.bootstrap, rest, wire=wire)
            _bad_records(broker.bootstrap, wire, sample)
        worker.drain(streaming.event_topics, timeout=120)
        broadcast_until(broker.bootstrap, until, PARTITIONS, streaming)
        worker.drain([streaming.klok], timeout=120)
        two, two2 = rebuild.run(until), rebuild2.run(until)
    finally:
        worker.stop()
    try:
        assert two.read == len(rest) + 2
        assert (two.duplicates, two.deadlettered, two.misplaced) == (40, 2, 0)
        assert one.accepted + two.accepted == len(events)
        assert (one2, two2) == (one, two)  # every count, also citizens and signal events
        by_worker, by_batch, by_batch2 = (
            snapshots(broker.bootstrap, streaming),
            snapshots(broker.bootstrap, batch),
            snapshots(broker.bootstrap, forked),
        )
        assert len(by_worker) == CITIZENS
        assert by_batch == by_worker
        assert by_batch2 == by_worker
        told = [s for citizen in by_batch.values() for s in citizen["signalen"]]
        assert {s[4] for s in told} == {"open", "opgelost"}  # the comparison has substance
        assert len({s[0] for s in told}) >= 4  # signals of several rules
        withdrawn = [
            record
            for kind, record in signal_events(broker.bootstrap, streaming)
            if kind.endswith("ingetrokken")
        ]
        assert withdrawn  # late facts changed what the worker had told on the way
        deadletters = _deadletters(broker.bootstrap, streaming)
        assert len(deadletters) == 2
        assert _deadletters(broker.bootstrap, batch) == deadletters
        assert _deadletters(broker.bootstrap, forked) == deadletters
    finally:
        for wire in (batch, forked):
            delete_namespace(broker.bootstrap, wire)


def test_a_record_in_another_partition_than_its_citizens_is_applied_too(
    kafka_broker: TestBroker,
) -> None:
    """The batch path reads one partition at a time; a record that a producer with another
    partitioner put in another partition than its citizen's key (one before and one after the
    key's partition) is applied in a second round: the result is that of the same records in
    the right partitions; also when the first round runs in two worker processes (``wrong2``:
    they send their misplaced records back to the second round)."""
    broker = kafka_broker
    right, wrong, wrong2 = (
        Wire(f"{broker.namespace or 'mp'}-{n}") for n in ("right", "wrong", "wrong2")
    )
    events, until = municipality()
    events = events[:300]
    pseudonymise = Pseudonymiser(KEY)
    validated = [validate_input(e, pseudonymise) for e in events]
    homes = [partition_of(v.subject or "", PARTITIONS) for v in validated]
    moved = {  # the first event of a citizen in partition 1 and of one in partition 2
        next(i for i, h in enumerate(homes) if h == 1): 0,
        next(i for i, h in enumerate(homes) if h == 2): 3,
    }
    serializer = RecordSerializer(LocalRegistry())
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap, acks="all")
    stats = []
    try:
        for wire in (right, wrong, wrong2):
            ensure_topics(broker.bootstrap, partitions=PARTITIONS, wire=wire)
            for i, event in enumerate(validated):
                topic = wire.topic_for(event.type, event.domein)
                partition = homes[i] if wire is right else moved.get(i, homes[i])
                key = (event.subject or "").encode()
                value = serializer(event, topic)
                producer.send(topic, key=key, value=value, partition=partition)
            producer.flush()
            stats.append(batch_rebuild(broker, wire, jobs=2 if wire is wrong2 else 1).run(until))
        assert [s.misplaced for s in stats] == [0, 2, 2]
        assert stats[0].accepted == stats[1].accepted == len(validated)
        assert stats[2] == stats[1]
        expected = snapshots(broker.bootstrap, right)
        assert len(expected) > 10
        assert snapshots(broker.bootstrap, wrong) == expected
        assert snapshots(broker.bootstrap, wrong2) == expected
    finally:
        producer.close()
        for wire in (right, wrong, wrong2):
            delete_namespace(broker.bootstrap, wire)
