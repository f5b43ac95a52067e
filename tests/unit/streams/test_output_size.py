"""An event that would make its citizen's state or timeline snapshot larger than an output
record may be is refused — dead-lettered (stage ``accept``, reason ``too-large``), the state
as it was — by the worker and by the batch path (which redoes a citizen near the limit
event by event, as the worker does), so no output is ever refused by Kafka for its size
(streams/sizes.py; on Apache Kafka: tests/integration/streams/test_output_size.py). A clock
tick (the batch path: its end-of-replay tick) that would do so is not applied to that
citizen, and is to every other. At the limit both paths give the same signals and dead
letters.

Before: the event (tick, assessment) was applied and the oversized output handed to the
producer."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from schemas.binding import record_headers
from streams.codec import SNAPSHOT_SCHEMA, snapshot_record
from streams.processor import partition_of
from streams.sizes import (
    BROKER_DEFAULT_MAX_MESSAGE_BYTES,
    PRODUCER_MAX_REQUEST_BYTES,
    RECORD_OVERHEAD,
    OutputTooLarge,
    check_outputs,
    output_limit,
)
from streams.state import CitizenState, StoredEvent

from .records import OTHER_BSN, BatchIngest, Worker, early_warning, message, raw, tick

LIMIT = 6_000
"""The output limit of these tests: a citizen's state and snapshot pass it with the third
large event (each about 2.2 KB of wire bytes, its ``dataschema`` 2,000 characters long)."""
WIJKTEAM = "nl.wijkteams.casussen.geopend"


def large(n: int, bsn: str | None = None) -> dict[str, Any]:
    event = raw(f"wt-{n}", WIJKTEAM, datum="2026-01-10", casus_id=f"W-{n}")
    if bsn is not None:
        event["data"]["bsn"] = bsn
    event["dataschema"] = "https://schemas.example/" + "s" * 2000
    return event


def small(n: int, bsn: str | None = None) -> dict[str, Any]:
    event = raw(f"klein-{n}", WIJKTEAM, datum="2026-01-11", casus_id=f"K-{n}")
    if bsn is not None:
        event["data"]["bsn"] = bsn
    return event


def _dead(headers: list[tuple[str, bytes]]) -> tuple[bytes, bytes, bytes]:
    found = dict(headers)
    return found["schakel.fase"], found["schakel.fout.klasse"], found["schakel.bron.offset"]


def test_the_worker_dead_letters_the_event_that_would_make_an_output_too_large() -> None:
    worker = Worker()
    worker.processor.max_output_bytes = LIMIT
    messages = [message(e, n) for n, e in enumerate([large(1), large(2), large(3), small(4)])]
    messages.append(message(small(5, OTHER_BSN), 5))
    asyncio.run(worker.handle(*messages))

    (dead,) = worker.deadletters.sent
    assert _dead(dead["headers"]) == (b"accept", b"OutputTooLarge", b"2")
    message_text = dict(dead["headers"])["schakel.fout.melding"].decode()
    assert f"more than the {LIMIT} an output record may have" in message_text
    counted = worker.metrics.deadlettered.labels("accept", "too-large")._value.get()
    assert counted == 1
    # the citizen goes on without it (a small event after it is accepted), and so does another
    (citizen,) = [s for s in worker.table.values() if s.events and len(s.events) > 1]
    assert sorted(s.event.id for s in citizen.events) == ["klein-4", "wt-1", "wt-2"]
    assert len(worker.table) == 2
    # every snapshot written stays within the limit
    assert all(len(s["value"]) <= LIMIT for s in worker.snapshots.sent)


def test_the_batch_path_dead_letters_the_event_that_would_make_an_output_too_large() -> None:
    batch = BatchIngest()
    batch.rebuild.max_output_bytes = LIMIT
    batch.ingest(*[message(e, n) for n, e in enumerate([large(1), large(2), large(3), small(4)])])
    batch.finish()

    wire = batch.rebuild.wire
    (dead,) = [r for r in batch.producer.sent if r["topic"] == wire.deadletter_streams]
    assert _dead(dead["headers"]) == (b"accept", b"OutputTooLarge", b"2")
    assert (batch.stats.accepted, batch.stats.deadlettered) == (3, 1)
    (state,) = written_states(batch).values()
    assert sorted(s.event.id for s in state.events) == ["klein-4", "wt-1", "wt-2"]
    assert not state.has(message_event(large(3)))


def written_states(batch: BatchIngest) -> dict[str, CitizenState]:
    """The states the batch path wrote to the changelog, by pseudonym."""
    rebuild = batch.rebuild
    return {
        r["key"].decode(): rebuild._decode_state(r["value"])
        for r in batch.producer.sent
        if r["topic"] == rebuild.wire.changelog
    }


def message_event(event: dict[str, Any]) -> Any:
    """The timeline event of ``event`` as the batch path decodes it."""
    batch = BatchIngest()
    record = message(event, 0)
    return batch.rebuild.fast.decode(record.value, record.topic)[1]


def test_nothing_is_encoded_while_the_wire_bytes_are_far_below_the_limit() -> None:
    def never() -> int:
        raise AssertionError("encoded")

    check_outputs(249, 1000, state=never, snapshot=never)  # 249 * 4 < 1000
    sizes = iter([900, 1001])
    with pytest.raises(OutputTooLarge) as refused:
        check_outputs(250, 1000, state=lambda: next(sizes), snapshot=lambda: next(sizes))
    assert (refused.value.output, refused.value.size, refused.value.limit) == (
        "timeline snapshot",
        1001,
        1000,
    )


def test_the_limit_is_the_smallest_of_the_producer_and_the_topics() -> None:
    assert output_limit([None, None]) == PRODUCER_MAX_REQUEST_BYTES - RECORD_OVERHEAD
    assert output_limit([900, None]) == 900 - RECORD_OVERHEAD
    assert BROKER_DEFAULT_MAX_MESSAGE_BYTES > PRODUCER_MAX_REQUEST_BYTES


def test_the_wire_bytes_summed_stay_true_through_inserts_and_undos() -> None:
    """The size check reads ``payload_bytes`` per event instead of summing the history: it
    stays the sum of the events' wire bytes whatever is inserted, refused or undone."""
    batch = BatchIngest()
    records = [message(e, n) for n, e in enumerate([large(1), small(2), large(3), small(4)])]
    state = CitizenState(subject="s" * 32)
    for n, record in enumerate(records):
        event = batch.rebuild.fast.decode(record.value, record.topic)[1]
        saved = state.savepoint()
        assert state.insert(StoredEvent(event, record.value), history_limit=3)
        assert not state.insert(StoredEvent(event, record.value), history_limit=3)  # duplicate
        if n == 1:
            state.restore(saved, event)  # undone: as if never inserted
        assert state.payload_bytes == sum(len(s.payload) for s in state.events)
    assert [s.event.id for s in state.events] == ["wt-1", "wt-3", "klein-4"]
    # a state read back from its changelog record starts from the sum of its events
    copy = CitizenState(subject=state.subject, events=list(state.events))
    assert copy.payload_bytes == state.payload_bytes > 0


def outputs(worker: Worker, state: CitizenState) -> int:
    """The larger of ``state``'s changelog record and timeline snapshot as the flush writes
    them (key, value and headers)."""
    processor = worker.processor
    clock = state.clock(processor.today())
    try:
        processor.outputs.check(state, clock, 0)
    except OutputTooLarge as exc:
        state_size = exc.size if exc.output == "state" else 0
        record = snapshot_record(state, clock)
        value = processor.outputs.serializer.encode(
            processor.wire.tijdlijnen, SNAPSHOT_SCHEMA, record
        )
        headers = record_headers(
            SNAPSHOT_SCHEMA, value, source=processor.outputs.source, subject=state.subject
        )
        key = len(state.subject.encode())
        return max(state_size, key + len(value) + sum(len(k) + len(v) for k, v in headers))
    raise AssertionError("measured nothing")


def test_a_clock_tick_that_would_make_an_output_too_large_leaves_that_citizen_as_it_was() -> None:
    """A broadcast tick that opens a signal for two citizens of one partition, one of them so
    near the limit that the signal would take its snapshot past it: that one is left as it
    was before the tick (clock, signals, nothing sent), the other gets its signal, and the
    tick is dead-lettered once (stage ``accept``, reason ``too-large``), naming the first.

    Before: the tick was not size-checked; the flush handed Kafka the too large snapshot."""
    worker = Worker()
    near = [early_warning("2026-03-06"), large(1), large(2)]
    other = early_warning("2026-03-07", "T")
    other["data"]["bsn"] = OTHER_BSN
    asyncio.run(worker.handle(*(message(e, n) for n, e in enumerate([*near, other]))))
    assert worker.signals.sent == []  # 28 days have not passed on either citizen's clock
    (big,) = [s for s in worker.table.values() if len(s.events) == 3]
    (small_one,) = [s for s in worker.table.values() if len(s.events) == 1]
    partition = partition_of(big.subject, 4)
    assert partition_of(small_one.subject, 4) == partition
    limit = outputs(worker, big) + 40  # room for the next snapshot, not for a signal in it
    assert big.payload_bytes * 4 >= limit  # measured, not skipped (streams.sizes.EXACT_FROM)
    worker.processor.max_output_bytes = limit
    before = (big.klok, dict(big.signalen), dict(big.uitvoer), len(worker.snapshots.sent))

    asyncio.run(worker.handle(tick(date(2026, 4, 30), partition)))

    big = worker.table[big.subject]
    assert (big.klok, big.signalen, big.uitvoer, len(worker.snapshots.sent)) == (
        *before[:3],
        before[3] + 1,  # the other citizen's snapshot only
    )
    small_one = worker.table[small_one.subject]
    assert small_one.klok == date(2026, 4, 30) and len(small_one.signalen) == 1
    (signal,) = worker.signals.sent
    assert signal["key"] == small_one.subject.encode()
    (dead,) = worker.deadletters.sent
    headers = dict(dead["headers"])
    assert (headers["schakel.fase"], headers["schakel.fout.klasse"]) == (
        b"accept",
        b"TickTooLarge",
    )
    assert big.subject in headers["schakel.fout.melding"].decode()
    assert small_one.subject not in headers["schakel.fout.melding"].decode()
    assert worker.metrics.deadlettered.labels("accept", "too-large")._value.get() == 1
    assert all(len(s["value"]) <= limit for s in worker.snapshots.sent)
    # the limit raised, the tick re-published: the citizen catches up, the other is not told
    # twice
    worker.processor.max_output_bytes = 10 * limit
    asyncio.run(worker.handle(replace(tick(date(2026, 4, 30), partition), offset=1)))
    assert worker.table[big.subject].klok == date(2026, 4, 30)
    assert [s["key"] for s in worker.signals.sent] == [
        small_one.subject.encode(),
        big.subject.encode(),
    ]


def test_the_batch_path_leaves_a_citizen_out_of_an_end_tick_that_would_be_too_large() -> None:
    """The batch path's end of replay (``until``) for a citizen near the limit is the
    worker's broadcast tick: one that would take the citizen's snapshot past the limit (the
    signal it opens) is not applied to that citizen — its events are written, its clock and
    signals as after its last event, counted in ``too_large`` — and every other citizen is
    assessed and written as usual. There is no tick record to dead-letter.

    Before: the assessment was not size-checked; the too large snapshot was handed to the
    producer (which refused it, failing the run)."""
    batch = BatchIngest()
    near = [early_warning("2026-03-06"), large(1), large(2)]
    other = early_warning("2026-03-07", "T")
    other["data"]["bsn"] = OTHER_BSN
    batch.ingest(*(message(e, n) for n, e in enumerate([*near, other])))
    (big,) = [s for s in batch.states.values() if len(s.events) == 3]
    (small_one,) = [s for s in batch.states.values() if len(s.events) == 1]
    limit = outputs(Worker(), big) + 40  # the worker's measure: room for no signal
    assert big.payload_bytes * 4 >= limit
    rebuild = batch.rebuild
    rebuild.max_output_bytes = limit

    batch.finish(date(2026, 4, 30))

    by_topic: dict[str, list[dict[str, Any]]] = {}
    for record in batch.producer.sent:
        by_topic.setdefault(record["topic"], []).append(record)
    wire = rebuild.wire
    (signal,) = by_topic[wire.signalen]
    assert signal["key"] == small_one.subject.encode()
    assert len(by_topic[wire.tijdlijnen]) == 2
    assert all(len(s["value"]) <= limit for s in by_topic[wire.tijdlijnen])
    states = {
        r["key"].decode(): rebuild._decode_state(r["value"]) for r in by_topic[wire.changelog]
    }
    assert len(states[big.subject].events) == 3 and not states[big.subject].signalen
    assert states[big.subject].klok is None
    assert len(states[small_one.subject].signalen) == 1
    assert (batch.stats.too_large, batch.stats.citizens, batch.stats.signal_events) == (1, 2, 1)
    assert wire.deadletter_streams not in by_topic


def _told(state: CitizenState) -> list[tuple[Any, ...]]:
    """The signals as told to the world (not withdrawn)."""
    return sorted(
        (s.regel, s.sleutel, s.sinds, s.termijn, s.status, s.opgelost_op)
        for s in state.signalen.values()
        if s.status != "ingetrokken"
    )


def _letters(records: list[dict[str, Any]]) -> list[tuple[bytes, ...]]:
    """Source topic, partition, offset, stage and class of each dead letter."""
    names = ("topic", "partitie", "offset")
    return sorted(
        (
            *(dict(r["headers"])[f"schakel.bron.{n}"] for n in names),
            dict(r["headers"])["schakel.fase"],
            dict(r["headers"])["schakel.fout.klasse"],
        )
        for r in records
    )


@pytest.mark.parametrize("until", [None, date(2026, 6, 30)])
def test_at_the_limit_the_batch_path_gives_the_signals_and_dead_letters_of_the_worker(
    until: date | None,
) -> None:
    """A citizen whose events fit one by one as far as their size goes, but one of which
    (a second early warning, dated 2026-04-20) moves the clock past the 28 days of the
    first: the signal it opens, kept in the state (with its signal event, remembered) and
    shown in the snapshot, takes the citizen's outputs past the limit. The worker undoes and
    dead-letters that event and goes on with the next; the batch path redoes that citizen
    event by event and does the same: the same signal events, dead letters (source record,
    stage, class), state and snapshot as the worker's; another citizen, far from the limit,
    has the worker's signals too. With ``until`` the end-of-replay tick, which would open
    the first warning's signal, is not applied to the citizen at the limit by either (the
    worker dead-letters its tick record; the batch path, which has none, counts it).

    Before: the batch path checked each event with the signals as they were before the run,
    accepted that event, and then left out the citizen's one assessment (``too_large``): the
    event kept, no dead letter, and no signal."""
    near = [
        early_warning("2026-03-06"),
        large(1),
        large(2),
        early_warning("2026-04-20", "U"),
        small(5),
    ]
    other = [early_warning("2026-03-07", "T"), early_warning("2026-04-21", "V")]
    for event in other:
        event["data"]["bsn"] = OTHER_BSN
    messages = [message(e, n) for n, e in enumerate([*near, *other])]
    sizing = BatchIngest()  # the near citizen's first four events, without their signal
    sizing.ingest(*messages[:4])
    (four,) = sizing.states.values()
    limit = outputs(Worker(), four) + 40
    assert four.payload_bytes * 4 >= limit  # measured (streams.sizes.EXACT_FROM)

    worker = Worker()
    worker.processor.max_output_bytes = limit
    asyncio.run(worker.handle(*messages))
    if until is not None:
        partitions = sorted({partition_of(s, 4) for s in worker.table})
        asyncio.run(worker.handle(*(tick(until, p) for p in partitions)))
    batch = BatchIngest()
    batch.rebuild.max_output_bytes = limit
    batch.ingest(*messages)
    batch.finish(until)

    wire = batch.rebuild.wire
    sent = batch.producer.sent
    # dead letters: the event that opened the signal, by both
    by_worker = _letters(worker.deadletters.sent)
    events_only = [d for d in by_worker if d[0] != wire.klok.encode()]
    assert events_only == _letters([r for r in sent if r["topic"] == wire.deadletter_streams])
    topic = wire.topic_for("nl.wgs.vroegsignalen.ontvangen").encode()
    assert events_only == [(topic, b"0", b"3", b"accept", b"OutputTooLarge")]
    assert len(by_worker) == len(events_only) + (until is not None)  # + TickTooLarge
    assert batch.stats.deadlettered == 1
    assert batch.stats.too_large == (until is not None)
    # states and signals
    states = written_states(batch)
    assert set(states) == set(worker.table)
    for subject, state in worker.table.items():
        assert sorted(s.event.id for s in states[subject].events) == sorted(
            s.event.id for s in state.events
        )
        assert states[subject].clock(None) == state.clock(None)
        assert _told(states[subject]) == _told(state)
    (big,) = [s for s in worker.table.values() if len(s.events) == 4]
    assert sorted(s.event.id for s in big.events) == ["klein-5", "vS", "wt-1", "wt-2"]
    codec = batch.rebuild.outputs.codec
    assert codec.encode(states[big.subject]) == codec.encode(big)  # the worker's state
    key = big.subject.encode()
    snapshots = [r["value"] for r in sent if r["topic"] == wire.tijdlijnen and r["key"] == key]
    assert snapshots[-1:] == [r["value"] for r in worker.snapshots.sent if r["key"] == key][-1:]
    assert all(len(s) <= limit for s in snapshots)
    # signal events: the near citizen's are the worker's, byte for byte
    assert sorted(r["value"] for r in sent if r["topic"] == wire.signalen and r["key"] == key) == (
        sorted(r["value"] for r in worker.signals.sent if r["key"] == key)
    )
    (small_one,) = [s for s in worker.table.values() if s is not big]
    assert _told(small_one)  # the other citizen has a signal, on both paths
    assert (batch.stats.accepted, batch.stats.duplicates) == (6, 0)


def test_at_the_limit_the_history_limit_counts_the_events_the_worker_kept() -> None:
    """With a history limit of four: the worker refuses the third large event for its size,
    so the fifth event still fits the history and the sixth does not. The batch path's first
    pass, which does not measure, took the third and refused the fifth and sixth for the
    history; redoing the citizen it refuses what the worker refused — nothing more — and
    counts what the worker counts (a copy of the first event: a duplicate)."""
    events = [large(1), large(2), large(3), small(4), small(5), small(6), large(1)]
    messages = [message(e, n) for n, e in enumerate(events)]
    worker = Worker(history_limit=4)
    worker.processor.max_output_bytes = LIMIT
    asyncio.run(worker.handle(*messages))
    batch = BatchIngest(history_limit=4)
    batch.rebuild.max_output_bytes = LIMIT
    batch.ingest(*messages)
    batch.finish()

    wire = batch.rebuild.wire
    letters = _letters([r for r in batch.producer.sent if r["topic"] == wire.deadletter_streams])
    assert letters == _letters(worker.deadletters.sent)
    assert [(d[2], d[4]) for d in letters] == [
        (b"2", b"OutputTooLarge"),
        (b"5", b"HistoryLimitError"),
    ]
    (state,) = written_states(batch).values()
    (expected,) = worker.table.values()
    assert [s.event.id for s in state.events] == [s.event.id for s in expected.events]
    assert sorted(s.event.id for s in state.events) == ["klein-4", "klein-5", "wt-1", "wt-2"]
    assert (batch.stats.accepted, batch.stats.duplicates, batch.stats.deadlettered) == (4, 1, 2)
