"""On Apache Kafka (exactly-once), an event that would make its citizen's timeline snapshot or
state larger than Kafka takes is dead-lettered (``OutputTooLarge``, stage ``accept``) and the
worker goes on with every other event and citizen; the batch path does the same
(streams/sizes.py; the unit tests: tests/unit/streams/test_output_size.py). A clock tick that
would do so is not applied to that citizen, and is to every other.

Before, on the worker: a snapshot the broker refused (its topic's ``max.message.bytes``) was
dropped with a warning, the transaction committed without it, and every later snapshot of that
partition failed with ``OutOfOrderSequenceNumber`` and was dropped too; a state over the
producer's 1,000,000 bytes (a citizen with a long history of large events) crashed the
producer's buffer task, after which the worker committed nothing more on any partition while
``/ready`` said 200. On the batch path the broker's refusal failed the run as an outage
(``BatchDeliveryError``) and the run after it wrote no snapshot for those citizens; the
producer's refusal stopped every run with a ``KafkaException``."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from schakel.replay import broadcast_until
from schakel.sandbox import delete_namespace
from schakel.topics import ensure_topics
from schemas.registry import LocalRegistry
from schemas.serde import RecordDeserializer, RecordSerializer
from schemas.settings import CommonSettings
from schemas.wire import Wire
from streams.batch import BatchRebuild
from streams.rules import load_rules
from streams.sizes import RECORD_OVERHEAD
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
from tests.integration.streams.test_batch_equality import snapshots as eq_snapshots
from tests.unit.streams.records import BatchIngest, Worker, message
from tests.unit.streams.test_output_size import outputs

pytestmark = pytest.mark.kafka

SNAPSHOT_LIMIT = 4200
"""``max.message.bytes`` of the snapshot topic in the first tests: the snapshot of the large
citizen passes it with its fifth event (about 800 bytes each), the scenario's stay far below."""
LARGE_BSN = "999990111"
SCENARIO_EVENTS = valid_scenario()


def large(n: int) -> dict[str, Any]:
    """A valid event with long identifiers (within the adapters' bounds)."""
    return {
        "specversion": "1.0",
        "id": f"groot-{n}-" + "i" * 240,
        "source": "urn:bron:" + "s" * 240,
        "type": "nl.wijkteams.casussen.geopend",
        "data": {"bsn": LARGE_BSN, "datum": "2026-01-10", "casus_id": "c" * 256},
    }


def huge(n: int) -> dict[str, Any]:
    """A valid event as large as the adapters allow (about 14 KB on the wire, 4-byte UTF-8
    characters): some 70 of them make a state larger than 1,000,000 bytes."""
    clef = "\U0001d11e"
    tail = "-" + "".join("abcdefghij"[int(d)] for d in f"{n:04d}")
    return {
        **large(n),
        "id": clef * 250 + tail,
        "source": "urn:" + clef * 252,
        "datacontenttype": "application/" + clef * 244,
        "dataschema": "https://x/" + clef * 2038,
        "dataref": "https://x/" + clef * 2038,
        "bronsleutel": clef * 250 + tail,
        "sequence": clef * 250 + tail,
        "data": {"bsn": LARGE_BSN, "datum": "2026-01-10", "casus_id": clef * 256},
    }


@pytest.fixture
def kafka(request: pytest.FixtureRequest) -> Iterator[TestBroker]:
    """A fresh namespace on the session's Apache Kafka."""
    with open_broker("kafka", request) as broker:
        yield broker


def snapshot_ids(broker: TestBroker) -> dict[str, list[str]]:
    """The ids of the events in each citizen's latest committed snapshot."""
    latest = latest_snapshots(broker.bootstrap, broker.wire)
    return {subject: sorted(e["id"] for e in s["events"]) for subject, s in latest.items()}


def dead_letters(broker: TestBroker) -> list[dict[str, bytes]]:
    return [dict(r.headers) for r in consume(broker.bootstrap, broker.wire.deadletter_streams)]


def assert_refused(dead: dict[str, bytes], topic: str) -> None:
    assert (dead["schakel.fase"], dead["schakel.fout.klasse"]) == (b"accept", b"OutputTooLarge")
    assert dead["schakel.bron.topic"] == topic.encode()


def split(latest: dict[str, list[str]]) -> tuple[list[str], list[list[str]]]:
    """The ids of the events in the large citizen's snapshot, and those of the scenario's two
    citizens."""
    scenario = {e["id"] for e in SCENARIO_EVENTS}
    (large_ids,) = [ids for ids in latest.values() if not set(ids) <= scenario]
    return large_ids, sorted(ids for ids in latest.values() if set(ids) <= scenario)


EXPECTED_SCENARIO = [["pw-1", "wmo-3"], ["wgs-1", "wgs-2", "wmo-1", "wmo-2"]]


def run_worker(kafka: TestBroker, tmp_path: Path, middle: list[dict[str, Any]]) -> None:
    """A worker over the scenario's first three events, ``middle``, and the rest; it must
    process all of them (drained) and still be ready."""
    wire = kafka.wire
    worker = worker_on(kafka, tmp_path).start()
    try:
        publish(kafka.bootstrap, SCENARIO_EVENTS[:3], wire=wire)
        publish(kafka.bootstrap, middle, wire=wire)
        publish(kafka.bootstrap, SCENARIO_EVENTS[3:], wire=wire)
        worker.drain(wire.event_topics)
        assert worker.get("/ready")[0] == 200
    finally:
        worker.stop()


def test_the_worker_dead_letters_an_event_whose_snapshot_the_topic_would_refuse(
    kafka: TestBroker, tmp_path: Path
) -> None:
    wire = kafka.wire
    limit_topic(kafka.bootstrap, wire.tijdlijnen, SNAPSHOT_LIMIT)
    run_worker(kafka, tmp_path, [large(n) for n in range(6)])
    refused = dead_letters(kafka)
    assert len(refused) == 2  # the fifth and the sixth large event
    for dead in refused:
        assert_refused(dead, wire.topic_for("nl.wijkteams.casussen.geopend"))
    # the large citizen's snapshot with the four events that fit; the others complete,
    # also the one whose snapshots share the large citizen's partition
    kept, scenario = split(snapshot_ids(kafka))
    assert [i.split("-")[1] for i in kept] == ["0", "1", "2", "3"]
    assert scenario == EXPECTED_SCENARIO


def test_the_worker_dead_letters_an_event_whose_state_would_pass_the_producers_limit(
    kafka: TestBroker, tmp_path: Path
) -> None:
    wire = kafka.wire
    run_worker(kafka, tmp_path, [huge(n) for n in range(80)])
    refused = dead_letters(kafka)
    assert refused
    for dead in refused:
        assert_refused(dead, wire.topic_for("nl.wijkteams.casussen.geopend"))
    states = [r for r in consume(kafka.bootstrap, wire.changelog) if r.value is not None]
    assert max(len(r.value) for r in states) < 1_000_000
    kept, scenario = split(snapshot_ids(kafka))
    assert len(kept) + len(refused) == 80
    assert scenario == EXPECTED_SCENARIO


@pytest.mark.parametrize("case", ["topic-limit", "producer-limit"])
def test_the_batch_path_dead_letters_an_event_whose_outputs_kafka_would_refuse(
    kafka: TestBroker, case: str
) -> None:
    wire = kafka.wire
    if case == "topic-limit":
        limit_topic(kafka.bootstrap, wire.tijdlijnen, SNAPSHOT_LIMIT)
        events = [large(n) for n in range(6)]
    else:
        events = [huge(n) for n in range(80)]
    publish(kafka.bootstrap, SCENARIO_EVENTS + events, wire=wire)
    stats = rebuild(kafka).run()
    refused = dead_letters(kafka)
    assert stats.deadlettered == len(refused) > 0
    for dead in refused:
        assert_refused(dead, wire.topic_for("nl.wijkteams.casussen.geopend"))
    kept, scenario = split(snapshot_ids(kafka))
    assert scenario == EXPECTED_SCENARIO
    assert len(kept) + len(refused) == len(events)


TICK_NEIGHBOUR_BSN = "100000058"
"""A citizen in the large citizen's partition (under the tests' pseudonym key)."""


def early_warning(bsn: str, signaal_id: str) -> dict[str, Any]:
    """An early warning received on 2026-03-06: not followed up, the clock at 2026-04-03 or
    later opens a signal."""
    return {
        "specversion": "1.0",
        "id": f"vs-{signaal_id}",
        "source": "urn:bron:wgs",
        "type": "nl.wgs.vroegsignalen.ontvangen",
        "data": {
            "bsn": bsn,
            "datum": "2026-03-06",
            "signaal_id": signaal_id,
            "partner": "water",
            "bedrag_cent": 100,
            "dagen_achterstand": 30,
            "dreiging": "geen",
        },
    }


def tick_topic_limit(events: list[dict[str, Any]]) -> int:
    """A ``max.message.bytes`` for the snapshot topic that the outputs of the citizen of
    ``events`` fit, with 40 bytes to spare, but not with a signal added: measured in process
    by the worker's own code with the source the worker writes (the outputs' sizes depend on
    the pseudonym's length, not on its key)."""
    worker = Worker()
    worker.processor.outputs.source = CommonSettings().source_urn("schakel")
    asyncio.run(worker.handle(*(message(e, n) for n, e in enumerate(events))))
    (state,) = worker.table.values()
    assert not state.signalen
    return outputs(worker, state) + 40 + RECORD_OVERHEAD


def test_the_worker_leaves_a_citizen_out_of_a_tick_that_would_take_its_snapshot_too_far(
    kafka: TestBroker, tmp_path: Path
) -> None:
    """A broadcast end-of-replay tick that opens three signals for a citizen whose snapshot
    is 40 bytes under the limit (the snapshot topic's, less the allowance for Kafka's
    framing; three signals take it past the topic's own limit too): that citizen is left as
    it was (its snapshot without the signals, every event in it), the tick is applied to
    every other citizen — one in the same partition gets its signal — and the tick of that
    partition is dead-lettered once (``TickTooLarge``, stage ``accept``). The worker goes on,
    ready.

    Before: the tick was applied; the broker refused the large citizen's snapshot
    (``MessageSizeTooLargeError``, dropped with a warning) and the neighbour's snapshot after
    it in the same partition failed with ``OutOfOrderSequenceNumber``: its signal never
    reached the timeline topic."""
    wire = kafka.wire
    warnings = [early_warning(LARGE_BSN, f"groot-{n}") for n in range(3)]
    near = [*warnings, large(0), large(1), large(2)]
    limit_topic(kafka.bootstrap, wire.tijdlijnen, tick_topic_limit(near))
    worker = worker_on(kafka, tmp_path).start()
    try:
        publish(
            kafka.bootstrap,
            [*SCENARIO_EVENTS, *near, early_warning(TICK_NEIGHBOUR_BSN, "buur")],
            wire=wire,
        )
        worker.drain(wire.event_topics)
        broadcast_until(kafka.bootstrap, date(2026, 6, 30), 4, wire)
        worker.drain([wire.klok])
        assert worker.get("/ready")[0] == 200
    finally:
        worker.stop()
    (dead,) = dead_letters(kafka)
    assert (dead["schakel.fase"], dead["schakel.fout.klasse"]) == (b"accept", b"TickTooLarge")
    assert dead["schakel.bron.topic"] == wire.klok.encode()
    latest = latest_snapshots(kafka.bootstrap, wire)
    by_warning = {
        e["id"]: s for s in latest.values() for e in s["events"] if e["id"].startswith("vs-")
    }
    kept, neighbour = by_warning["vs-groot-0"], by_warning["vs-buur"]
    assert (len(kept["events"]), kept["signalen"]) == (6, [])
    assert kept["subject"].encode() in dead["schakel.fout.melding"]
    assert len(neighbour["signalen"]) == 1
    assert neighbour["klok"] == date(2026, 6, 30)
    scenario = {e["id"] for e in SCENARIO_EVENTS}
    assert (
        sorted(
            sorted(e["id"] for e in s["events"])
            for s in latest.values()
            if {e["id"] for e in s["events"]} <= scenario
        )
        == EXPECTED_SCENARIO
    )


def test_the_batch_path_leaves_out_an_end_tick_that_would_take_a_snapshot_too_far(
    kafka: TestBroker,
) -> None:
    """The batch path's end of replay, on the same citizens as the worker's tick above
    (``run(until)``): the large citizen, near the limit and so redone as the worker does it,
    is left out of the tick (its snapshot with every event and no signal, counted in
    ``too_large``; the batch path has no tick record to dead-letter), every other citizen is
    assessed — the neighbour in its partition gets its signal.

    Before: the assessment was applied and the broker refused the snapshot; the run failed."""
    wire = kafka.wire
    warnings = [early_warning(LARGE_BSN, f"groot-{n}") for n in range(3)]
    near = [*warnings, large(0), large(1), large(2)]
    limit_topic(kafka.bootstrap, wire.tijdlijnen, tick_topic_limit(near))
    publish(
        kafka.bootstrap,
        [*SCENARIO_EVENTS, *near, early_warning(TICK_NEIGHBOUR_BSN, "buur")],
        wire=wire,
    )
    stats = rebuild(kafka).run(date(2026, 6, 30))
    assert (stats.too_large, stats.deadlettered) == (1, 0)
    assert dead_letters(kafka) == []
    latest = latest_snapshots(kafka.bootstrap, wire)
    by_warning = {
        e["id"]: s for s in latest.values() for e in s["events"] if e["id"].startswith("vs-")
    }
    kept, neighbour = by_warning["vs-groot-0"], by_warning["vs-buur"]
    assert (len(kept["events"]), kept["signalen"]) == (6, [])
    assert len(neighbour["signalen"]) == 1


def padded_warning(n: int, datum: str) -> dict[str, Any]:
    """An early warning of the large citizen, its ``dataschema`` 2,000 characters long."""
    event = early_warning(LARGE_BSN, f"groot-{n}")
    event["data"]["datum"] = datum
    event["dataschema"] = "https://schemas.example/" + "s" * 2000
    return event


def test_at_the_limit_the_batch_path_dead_letters_and_signals_as_the_worker(
    kafka: TestBroker, tmp_path: Path
) -> None:
    """The same records in two namespaces, one processed by the worker (then the broadcast
    end-of-replay tick), the other by the batch path (``run(until)``), the snapshot topic
    limited so that the large citizen's outputs fit its first three events, but not the
    signals the third one opens (two early warnings 45 days old on its date; every event of
    the citizen on one topic partition, so both paths read them in one order). Both
    dead-letter that third event (``OutputTooLarge``, its topic, partition and offset) and
    accept the fourth; both leave the citizen out of the tick (the worker dead-letters its
    tick record, ``TickTooLarge``; the batch path counts it); every citizen's snapshot —
    events, clock and the signals told — is the same on both.

    Before: the batch path checked each event with the signals as they were before the run,
    so it accepted the third event and left out the citizen's one assessment (no dead letter
    for it; a snapshot with an event the worker refused)."""
    streaming, batch = kafka.wire, Wire(f"{kafka.wire.namespace or 'lim'}-batch")
    ensure_topics(kafka.bootstrap, partitions=4, wire=batch)
    near = [
        padded_warning(0, "2026-03-06"),
        padded_warning(1, "2026-03-06"),
        padded_warning(2, "2026-04-20"),
        early_warning(LARGE_BSN, "klein"),  # 2026-03-06, small
    ]
    source = CommonSettings().source_urn("schakel")
    sizing = BatchIngest()  # the first three, without their signals
    sizing.ingest(*(message(e, n) for n, e in enumerate(near[:3])))
    (three,) = sizing.states.values()
    worker_measure = Worker()
    worker_measure.processor.outputs.source = source
    limit = outputs(worker_measure, three) + 40 + RECORD_OVERHEAD
    records = [*SCENARIO_EVENTS, *near, early_warning(TICK_NEIGHBOUR_BSN, "buur")]
    until = date(2026, 6, 30)
    try:
        for wire in (streaming, batch):
            limit_topic(kafka.bootstrap, wire.tijdlijnen, limit)
            publish(kafka.bootstrap, records, wire=wire)
        worker = worker_on(kafka, tmp_path).start()
        try:
            worker.drain(streaming.event_topics)
            broadcast_until(kafka.bootstrap, until, 4, streaming)
            worker.drain([streaming.klok])
        finally:
            worker.stop()
        stats = BatchRebuild(
            kafka.bootstrap,
            wire=batch,
            engine=load_rules(),
            serializer=RecordSerializer(LocalRegistry()),
            deserializer=RecordDeserializer(LocalRegistry()),
            partitions=4,
            source=source,
            history_limit=2000,
            embedded=False,
        ).run(until)

        def letters(wire: Wire) -> list[tuple[Any, ...]]:
            out = []
            for record in consume(kafka.bootstrap, wire.deadletter_streams):
                h = dict(record.headers)
                topic = h["schakel.bron.topic"].decode()
                place = "klok" if topic == wire.klok else wire.event_topics.index(topic)
                found = ("bron.partitie", "bron.offset", "fase", "fout.klasse")
                out.append((place, *(h[f"schakel.{n}"] for n in found)))
            return sorted(out, key=repr)

        wgs = streaming.event_topics.index(streaming.topic_for("nl.wgs.vroegsignalen.ontvangen"))
        by_worker = letters(streaming)
        refused = [d for d in by_worker if d[0] == wgs]
        assert len(refused) == 1 and refused[0][3:] == (b"accept", b"OutputTooLarge")
        assert [d[3:] for d in by_worker if d[0] == "klok"] == [(b"accept", b"TickTooLarge")]
        assert letters(batch) == refused
        assert (stats.deadlettered, stats.too_large) == (1, 1)
        on_worker = eq_snapshots(kafka.bootstrap, streaming)
        assert eq_snapshots(kafka.bootstrap, batch) == on_worker
        (kept,) = [s for s in on_worker.values() if any("groot-0" in e[1] for e in s["events"])]
        assert sorted(e[1] for e in kept["events"]) == ["vs-groot-0", "vs-groot-1", "vs-klein"]
        assert (kept["klok"], kept["signalen"]) == (date(2026, 3, 6), [])
        assert sum(len(s["signalen"]) for s in on_worker.values()) >= 2  # the neighbour's too
    finally:
        delete_namespace(kafka.bootstrap, batch)
