"""The erasure marker (issue 11 item 1), without a broker: whatever the order in which the
worker reads a citizen's backlog and the erasure record, the events registered before the
erasure never come back; later ones start a new timeline; the marker survives the changelog."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

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
