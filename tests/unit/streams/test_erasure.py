"""The erasure marker (issue 11 item 1), without a broker: whatever the order in which the
worker reads a citizen's backlog and the erasure record, the events registered before the
erasure never come back; later ones start a new timeline; the marker survives the changelog."""

from __future__ import annotations

import itertools
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from schakel import dlq
from schemas.envelope import validate_input
from schemas.pseudonym import Pseudonymiser
from schemas.registry import LocalRegistry
from schemas.serde import RecordDeserializer, RecordSerializer
from schemas.wire import DEFAULT_WIRE, VERGETEN_SCHEMA
from streams.codec import StateCodec
from streams.metrics import WorkerMetrics
from streams.processor import Message, Processor
from streams.rules import load_rules
from streams.state import CitizenState, erase

from .records import processed

KEY = "k"
BSN = "111222333"
SUBJECT = Pseudonymiser(KEY)(BSN)
REGISTRY = LocalRegistry()
SERIALIZER = RecordSerializer(REGISTRY)
ERASED_AT = 1_000_000


class Sink:
    """A stand-in for the worker's outputs (snapshot, signal and dead-letter sends): it keeps
    what was sent. These tests check the processor's decisions without a broker; the same
    orders through a real worker and broker are in ``tests/integration/streams/test_forget*.py``."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    async def __call__(self, **kwargs: Any) -> None:
        self.sent.append(kwargs)

    def queue(self, **kwargs: Any) -> None:
        self.sent.append(kwargs)


def processor(table: dict[str, CitizenState]) -> tuple[Processor, Sink, Sink, WorkerMetrics]:
    snapshots, deadletters, metrics = Sink(), Sink(), WorkerMetrics()
    return (
        Processor(
            wire=DEFAULT_WIRE,
            table=table,
            engine=load_rules(),
            serializer=SERIALIZER,
            deserializer=RecordDeserializer(REGISTRY),
            send_signal=Sink(),
            send_snapshot=snapshots,
            queue_snapshot=snapshots.queue,
            send_deadletter=deadletters,
            metrics=metrics,
            clock_mode="replay",
            history_limit=100,
            partitions=4,
            source="urn:test",
        ),
        snapshots,
        deadletters,
        metrics,
    )


def event(number: int, registered: int) -> Message:
    raw = {
        "specversion": "1.0",
        "id": f"afw-{number}",
        "source": "urn:test",
        "type": "nl.wmo.aanvragen.afgewezen",
        "data": {"bsn": BSN, "datum": f"2026-02-0{number}", "reden": "werk-passender"},
    }
    validated = validate_input(raw, Pseudonymiser(KEY))
    topic = DEFAULT_WIRE.topic_for(validated.type)
    return Message(topic, 0, number, b"k", SERIALIZER(validated, topic), [], registered)


def erasure(registered: int, offset: int = 0) -> Message:
    value = SERIALIZER.encode(
        DEFAULT_WIRE.klok, VERGETEN_SCHEMA, {"subject": SUBJECT, "tijd": "2026-11-30T10:00:00"}
    )
    return Message(DEFAULT_WIRE.klok, 0, offset, b"k", value, [], registered)


BACKLOG = [event(n, ERASED_AT - 10 + n) for n in (1, 2, 3)]


@pytest.mark.parametrize("position", range(4))
def test_every_order_of_backlog_and_erasure_ends_erased(position: int) -> None:
    order = [*BACKLOG[:position], erasure(ERASED_AT), *BACKLOG[position:]]
    table: dict[str, CitizenState] = {}
    worker, snapshots, deadletters, metrics = processor(table)
    for message in order:
        processed(worker, message)
    state = table[SUBJECT]
    assert (state.events, state.signalen, state.vergeten_tot) == ([], {}, ERASED_AT)
    assert deadletters.sent == []
    assert metrics.erased._value.get() == 3 - position
    assert snapshots.sent[-1]["value"] is None  # the snapshot is a tombstone
    # a redelivery of the whole backlog and the erasure (after a crash) changes nothing
    for message in order:
        processed(worker, message)
    assert table[SUBJECT].events == []


def test_a_later_event_starts_a_new_timeline_which_a_reread_erasure_leaves_alone() -> None:
    table: dict[str, CitizenState] = {}
    worker, _, _, _ = processor(table)
    for message in [*BACKLOG, erasure(ERASED_AT), event(4, ERASED_AT + 1)]:
        processed(worker, message)
    assert [e.id for e in table[SUBJECT].timeline] == ["afw-4"]
    processed(worker, erasure(ERASED_AT))  # the same erasure read again
    assert [e.id for e in table[SUBJECT].timeline] == ["afw-4"]
    processed(worker, erasure(ERASED_AT + 5, offset=1))  # a second erasure
    assert table[SUBJECT].events == [] and table[SUBJECT].vergeten_tot == ERASED_AT + 5


def test_erase_keeps_the_latest_marker() -> None:
    for first, second in itertools.permutations([10, 20]):
        state = erase(erase(None, SUBJECT, first), SUBJECT, second)
        assert state.vergeten_tot == 20
    assert erase(None, SUBJECT, 10).erased(10) and not erase(None, SUBJECT, 10).erased(11)
    assert not CitizenState(subject=SUBJECT).erased(5)
    assert not erase(None, SUBJECT, 10).erased(None)


def test_the_marker_survives_the_changelog_encoding() -> None:
    codec = StateCodec(SERIALIZER, RecordDeserializer(REGISTRY), DEFAULT_WIRE.changelog)
    restored = codec.decode(codec.encode(erase(None, SUBJECT, ERASED_AT)))
    assert (restored.subject, restored.events, restored.vergeten_tot) == (SUBJECT, [], ERASED_AT)
    assert codec.decode(codec.encode(CitizenState(subject=SUBJECT))).vergeten_tot is None


def test_a_dead_letter_replayed_after_the_erasure_stays_erased(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A record dead-lettered before ``schakel forget`` and re-published by ``schakel dlq
    replay`` after it keeps its registration time, so the worker drops it as erased: the
    citizen does not come back (the broker would stamp a plain re-publish with the time of
    the replay, after the erasure)."""
    table: dict[str, CitizenState] = {}
    worker, _, deadletters, metrics = processor(table)
    worker.history_limit = 1
    processed(worker, event(1, ERASED_AT - 20))
    processed(worker, event(2, ERASED_AT - 10))  # over the history limit: a dead letter
    (letter,) = deadletters.sent
    processed(worker, erasure(ERASED_AT))
    assert table[SUBJECT].events == []

    # the dead letter as `schakel dlq` reads it: the broker stamped it when it was written
    read = SimpleNamespace(
        key=letter["key"], value=letter["value"], headers=letter["headers"], timestamp=ERASED_AT - 5
    )
    found = dlq._streams(read)
    assert found.timestamp == ERASED_AT - 10  # the original's, not the dead letter's
    sent: list[tuple[str, dict[str, Any]]] = []

    class Producer:
        def __init__(self, **_: Any) -> None: ...

        def send(self, topic: str, **kwargs: Any) -> Any:
            sent.append((topic, kwargs))
            return SimpleNamespace(get=lambda timeout: None)

        def flush(self) -> None: ...

        def close(self) -> None: ...

    monkeypatch.setattr(dlq, "KafkaProducer", Producer)
    monkeypatch.setattr(dlq, "dead_letters", lambda settings, bootstrap: [found])
    monkeypatch.setattr(dlq, "_read", lambda bootstrap, topic, **_: [])  # nothing replayed yet
    settings = SimpleNamespace(data_dir=tmp_path, wire=lambda: DEFAULT_WIRE, profile="embedded")
    assert dlq.replay(settings, "127.0.0.1:1")[:2] == (1, 0)  # type: ignore[arg-type]
    (topic, kwargs), (recorded, _) = sent  # re-published, then recorded as replayed
    assert recorded == DEFAULT_WIRE.deadletter_replayed
    assert kwargs["timestamp_ms"] == ERASED_AT - 10
    replayed = Message(
        topic, 0, 99, kwargs["key"], kwargs["value"], kwargs["headers"], kwargs["timestamp_ms"]
    )
    worker.history_limit = 100  # the cause of the dead letter fixed
    processed(worker, replayed)
    assert table[SUBJECT].events == [] and metrics.erased._value.get() == 1
    # a later-registered copy would have come back: what the timestamp prevents
    processed(worker, Message(topic, 0, 100, replayed.key, replayed.value, [], ERASED_AT + 1))
    assert [e.id for e in table[SUBJECT].timeline] == ["afw-2"]


def test_a_dead_letter_without_the_original_time_replays_with_its_own() -> None:
    """Dead letters written before ``schakel.bron.tijdstip`` existed: the dead letter's own
    timestamp, a bound after the original's; none at all (-1 from kafka-python): none."""
    headers = [("schakel.bron.topic", b"t"), ("schakel.bron.partitie", b"0")]
    headers.append(("schakel.bron.offset", b"3"))
    for own, expected in ((ERASED_AT, ERASED_AT), (-1, None), (None, None)):
        read = SimpleNamespace(key=b"k", value=b"v", headers=headers, timestamp=own)
        assert dlq._streams(read).timestamp == expected
