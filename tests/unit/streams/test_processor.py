"""The agent body without Faust or Kafka: a dict as table, lists as topics."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

import pytest

from schemas.registry import LocalRegistry
from schemas.serde import RecordSerializer
from streams.processor import Message, Processor

from .records import Sink, Worker, message, raw


@pytest.fixture
def setup() -> tuple[Processor, Sink, Sink, Sink, dict[str, Any]]:
    worker = Worker(history_limit=100)
    return worker.processor, worker.signals, worker.snapshots, worker.deadletters, worker.table


R2 = [
    raw("w", "nl.wmo.aanvragen.afgewezen", datum="2026-01-01", reden="overig"),
    raw("p", "nl.participatiewet.aanvragen.afgewezen", datum="2026-02-01", reden="overig"),
]


def test_a_signal_is_sent_once_and_a_republished_copy_sends_nothing(
    setup: tuple[Processor, Sink, Sink, Sink, dict[str, Any]],
) -> None:
    processor, signals, snapshots, _, table = setup
    asyncio.run(processor.handle(message(R2[0], 0)))
    asyncio.run(processor.handle(message(R2[1], 1)))
    assert len(signals.sent) == 1  # R2 exists at once
    (state,) = table.values()
    assert [e.event.id for e in state.events] == ["w", "p"]
    # an adapter re-publishes the same event: new offset, a duplicate, no new signal event
    asyncio.run(processor.handle(message(R2[1], 7)))
    assert len(signals.sent) == 1
    assert processor.metrics.duplicates._value.get() == 1
    assert len(snapshots.sent) == 3


def test_the_same_record_redelivered_after_a_crash_resends_its_signals(
    setup: tuple[Processor, Sink, Sink, Sink, dict[str, Any]],
) -> None:
    processor, signals, _, _, _ = setup
    asyncio.run(processor.handle(message(R2[0], 0)))
    asyncio.run(processor.handle(message(R2[1], 1)))
    first = signals.sent[-1]["value"]
    # the state reached the changelog but (say) the signal did not: same offset again
    asyncio.run(processor.handle(message(R2[1], 1)))
    assert [s["value"] for s in signals.sent] == [first, first]  # identical bytes, same id


def test_undecodable_and_invalid_records_are_dead_lettered(
    setup: tuple[Processor, Sink, Sink, Sink, dict[str, Any]],
) -> None:
    processor, _, _, deadletters, table = setup
    asyncio.run(processor.handle(Message("schakel.wmo.events", 2, 5, None, b"junk", [])))
    wrong_topic = message(R2[1], 3)  # a participatiewet event on the wmo topic
    asyncio.run(processor.handle(Message("schakel.wmo.events", 0, 3, None, wrong_topic.value, [])))
    assert [dict(d["headers"])["schakel.fase"] for d in deadletters.sent] == [
        b"decode",
        b"validate",
    ]
    assert table == {}


def test_end_of_replay_tick_moves_the_clock_of_the_partitions_citizens(
    setup: tuple[Processor, Sink, Sink, Sink, dict[str, Any]],
) -> None:
    from streams.processor import partition_of

    processor, signals, _, _, table = setup
    start = raw(
        "v",
        "nl.wgs.vroegsignalen.ontvangen",
        datum="2026-03-06",
        signaal_id="S",
        partner="water",
        bedrag_cent=100,
        dagen_achterstand=30,
        dreiging="geen",
    )
    asyncio.run(processor.handle(message(start, 0)))
    assert signals.sent == []  # 28 days have not passed on the citizen's own clock
    (subject,) = table
    tick = RecordSerializer(LocalRegistry()).encode(
        "schakel.klok",
        "nl.schakel.intern.klok",
        {"subject": None, "tot": date(2026, 4, 30), "modus": "replay"},
    )
    asyncio.run(
        processor.handle(Message("schakel.klok", partition_of(subject, 4), 0, None, tick, []))
    )
    assert len(signals.sent) == 1
    assert table[subject].klok == date(2026, 4, 30)
