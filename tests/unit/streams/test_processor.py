"""The agent body without Faust or Kafka: a dict as table, lists as topics."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, date, datetime, tzinfo
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import faust
import pytest
from aiokafka.errors import (
    KafkaTimeoutError,
    MessageSizeTooLargeError,
    NotLeaderForPartitionError,
)
from faust.exceptions import ProducerSendError

import streams.processor as processor_module
from schemas.registry import LocalRegistry
from schemas.serde import RecordDeserializer, RecordSerializer
from schemas.wire import DEFAULT_WIRE, HEADER_ERROR_MESSAGE, HEADER_STAGE, VERGETEN_SCHEMA
from streams.app import _processor, _table
from streams.codec import StateCodec
from streams.metrics import WorkerMetrics
from streams.processor import Message, Processor, partition_of
from streams.state import CitizenState, erase
from tests.unit.schemas.samples import FOREIGN_SCHEMAS, ForeignRegistry, wire_payload

from .records import (
    OTHER_BSN,
    RULES,
    BatchIngest,
    Sink,
    Worker,
    early_warning,
    message,
    processed,
    raw,
    tick,
)


@pytest.fixture
def setup() -> tuple[Processor, Sink, Sink, Sink, dict[str, Any]]:
    worker = Worker(history_limit=100)
    return worker.processor, worker.signals, worker.snapshots, worker.deadletters, worker.table


R2 = [
    raw("w", "nl.wmo.aanvragen.afgewezen", datum="2026-01-01", reden="overig"),
    raw("p", "nl.participatiewet.aanvragen.afgewezen", datum="2026-02-01", reden="overig"),
]

R2_OTHER = [
    raw(
        e["id"] + "-b",
        e["type"],
        bsn=OTHER_BSN,
        **{k: v for k, v in e["data"].items() if k != "bsn"},
    )
    for e in R2
]
"""R2 for another citizen."""


def test_a_signal_is_sent_once_and_a_republished_copy_sends_nothing(
    setup: tuple[Processor, Sink, Sink, Sink, dict[str, Any]],
) -> None:
    processor, signals, snapshots, _, table = setup
    processed(processor, message(R2[0], 0))
    processed(processor, message(R2[1], 1))
    assert len(signals.sent) == 1  # R2 exists at once
    (state,) = table.values()
    assert [e.event.id for e in state.events] == ["w", "p"]
    # an adapter re-publishes the same event: new offset, a duplicate, no new signal event
    processed(processor, message(R2[1], 7))
    assert len(signals.sent) == 1
    assert processor.metrics.duplicates._value.get() == 1
    assert len(snapshots.sent) == 3


def test_the_same_record_redelivered_after_a_crash_resends_its_signals(
    setup: tuple[Processor, Sink, Sink, Sink, dict[str, Any]],
) -> None:
    processor, signals, _, _, _ = setup
    processed(processor, message(R2[0], 0))
    processed(processor, message(R2[1], 1))
    first = signals.sent[-1]["value"]
    # the state reached the changelog but (say) the signal did not: same offset again
    processed(processor, message(R2[1], 1))
    assert [s["value"] for s in signals.sent] == [first, first]  # identical bytes, same id


def test_at_least_once_no_signal_event_leaves_before_its_state() -> None:
    """At least once, a record's signal events are handed to the producer only once the
    broker acknowledged the changelog write of the state that tells them; the record does not
    wait for it, and the offset commit waits for the release (:meth:`Processor.released`).
    Sent before, a crash could leave a signal on the topic that no state knows: the records,
    delivered again in another order across the topics, may never raise it (seen in the kill
    tests). An outage while waiting for the acknowledgement is waited out: the state is
    written again, nothing dead-lettered."""
    worker = Worker()
    worker.processor.retry_first_s = 0.001

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        writes: list[tuple[asyncio.Future[None], list[str]]] = []

        def store_state(subject: str, state: CitizenState, partition: int) -> Any:
            assert partition == partition_of(subject, 4)
            writes.append((loop.create_future(), [e.event.id for e in state.events]))
            return writes[-1][0]

        worker.processor.store_state = store_state
        await worker.processor.handle(message(R2[0], 0))
        assert writes == []  # no signal event: the state waits for the flush
        await worker.processor.handle(message(R2[1], 1))  # the record does not wait
        assert [events for _, events in writes] == [["w", "p"]]
        assert worker.signals.sent == []  # not before the broker has the state
        releasing = asyncio.create_task(worker.processor.released())  # the commit's wait
        await asyncio.sleep(0.01)
        assert not releasing.done()
        writes[0][0].set_exception(KafkaTimeoutError())  # a broker outage
        while len(writes) < 2:
            await asyncio.sleep(0.001)
        assert [events for _, events in writes] == [["w", "p"], ["w", "p"]]
        assert worker.signals.sent == [] and not releasing.done()
        writes[1][0].set_result(None)
        await releasing
        assert len(worker.signals.sent) == 1 and worker.deadletters.sent == []

    asyncio.run(scenario())


def acknowledged_later(worker: Worker) -> list[asyncio.Future[None]]:
    """Make ``worker``'s table writes complete only when the test says so (like Faust's
    changelog writes, acknowledged by the broker later); returns their futures in order."""
    loop = asyncio.get_running_loop()
    writes: list[asyncio.Future[None]] = []

    def store_state(subject: str, state: CitizenState, partition: int) -> Any:
        writes.append(loop.create_future())
        worker.table[subject] = state
        return writes[-1]

    worker.processor.store_state = store_state
    return writes


def test_ready_says_unavailable_while_a_release_waits_out_an_outage() -> None:
    """``/ready`` (:attr:`Processor.unavailable`) says unavailable while held signal events
    wait for a broker outage to end, though the agent processes other records meanwhile
    (each of whose waits used to clear the one flag)."""
    worker = Worker()
    worker.processor.retry_first_s = 0.05

    async def scenario() -> None:
        writes = acknowledged_later(worker)
        await worker.processor.handle(message(R2[0], 0))
        await worker.processor.handle(message(R2[1], 1))  # held behind writes[0]
        writes[0].set_exception(KafkaTimeoutError())
        await asyncio.sleep(0.01)
        assert worker.processor.unavailable and len(writes) == 2  # written again, waiting
        await worker.processor.handle(message(R2_OTHER[0], 2))  # the agent goes on
        assert worker.processor.unavailable
        writes[1].set_result(None)
        await worker.processor.released()
        assert not worker.processor.unavailable and len(worker.signals.sent) == 1

    asyncio.run(scenario())


def test_at_least_once_signal_events_keep_their_order_behind_a_held_one() -> None:
    """A later step's signal events, and a redelivered record's re-sent ones, wait behind
    those held before them (in the order the worker decided them); a release that fails for
    good (a defect) makes every later :meth:`Processor.released` raise, so the commit
    crashes the worker instead of committing offsets whose signal events were never sent."""
    worker = Worker()
    other = R2_OTHER

    async def scenario() -> None:
        writes = acknowledged_later(worker)
        for offset, event in enumerate([R2[0], R2[1], other[0], other[1]]):
            await worker.processor.handle(message(event, offset))
        assert len(writes) == 2 and worker.signals.sent == []
        await worker.processor.handle(message(R2[1], 1))  # redelivered: its re-send waits too
        writes[1].set_result(None)  # the second citizen's state first: still nothing
        await asyncio.sleep(0.01)
        assert worker.signals.sent == []
        writes[0].set_result(None)
        await worker.processor.released()
        keys = [s["key"] for s in worker.signals.sent]
        assert len(set(keys)) == 2 and keys == [keys[0], keys[1], keys[0]]
        assert worker.signals.sent[0]["value"] == worker.signals.sent[2]["value"]

        await worker.processor.handle(message(early_warning("2026-01-01"), 2))
        subject = next(iter(worker.table))
        await worker.processor.handle(tick(date(2026, 4, 30), partition_of(subject, 4)))
        writes[-1].set_exception(RuntimeError("a defect"))  # not an outage: never sent
        writes_before = len(writes)
        with pytest.raises(RuntimeError, match="a defect"):
            await worker.processor.released()
        with pytest.raises(RuntimeError, match="a defect"):
            await worker.processor.released()  # for good: the commit crashes the worker
        assert len(writes) == writes_before

    asyncio.run(scenario())


def test_an_erasure_waits_for_the_signal_events_held_before_it() -> None:
    """At least once, a citizen's erasure is processed only once the signal events held
    back before it were handed over: none may follow the erasure (a reader of the signal
    topic would bring the erased citizen back)."""
    worker = Worker()
    order: list[str] = []

    async def signal(**record: Any) -> None:
        order.append("signal")
        await worker.signals(**record)

    async def snapshot(**record: Any) -> None:
        order.append("tombstone" if record["value"] is None else "snapshot")
        await worker.snapshots(**record)

    worker.processor.send_signal, worker.processor.send_snapshot = signal, snapshot

    async def scenario() -> None:
        writes = acknowledged_later(worker)
        await worker.processor.handle(message(early_warning("2026-01-01"), 0))
        worker.processor.flush()  # a commit: the citizen in the table
        (subject,) = worker.table
        writes.clear()
        await worker.processor.handle(tick(date(2026, 4, 30), partition_of(subject, 4)))
        assert len(writes) == 1 and order == []  # raised, held back
        value = RecordSerializer(LocalRegistry()).encode(
            DEFAULT_WIRE.klok, VERGETEN_SCHEMA, {"subject": subject, "tijd": "2026-05-01T10:00:00"}
        )
        erasing = asyncio.create_task(
            worker.processor.handle(Message(DEFAULT_WIRE.klok, 0, 1, b"k", value, [], 1))
        )
        await asyncio.sleep(0.01)
        assert not erasing.done() and order == []
        writes[0].set_result(None)
        await erasing
        assert order == ["signal", "tombstone"]

    asyncio.run(scenario())


def test_a_redelivered_record_resends_its_signals_up_to_their_current_status() -> None:
    """At least once, a record delivered again after a crash re-sends its signal events,
    each followed by the later events of the same signal: after a crash the topics resume
    each at its own offset, so a later record (another topic) may come again first. Seen in
    the kill tests: a record raised signals, a later one resolved two; both came again, the
    later first. Re-sending only the raise put it after the resolution (the topic's last word
    was wrong); leaving it out left a resolved signal never raised on the topic."""
    worker = Worker()
    asyncio.run(worker.handle(message(early_warning("2026-01-01"), 0)))
    (subject,) = worker.table
    raising = tick(date(2026, 4, 30), partition_of(subject, 4))
    asyncio.run(worker.handle(raising))
    follow_up = raw(
        "o", "nl.wgs.vroegsignalen.opgevolgd", datum="2026-01-10", signaal_id="S", actie="gesprek"
    )
    resolving = message(follow_up, 1)
    asyncio.run(worker.handle(resolving))  # late, in time: withdrawn
    decode = worker.processor.deserializer

    def sent() -> list[tuple[str, str]]:
        return [
            (event.type.rsplit(".", 1)[1], event.id)
            for event in (decode(s["value"]) for s in worker.signals.sent)
        ]

    first = sent()
    assert [kind for kind, _ in first] == ["gesignaleerd", "ingetrokken"]
    asyncio.run(worker.handle(resolving))  # the later record came again first
    asyncio.run(worker.handle(raising))  # then the earlier one
    assert sent() == [*first, first[1], *first]  # same ids; the topic's last word holds


def test_under_exactly_once_a_redelivered_record_sends_nothing_again(
    setup: tuple[Processor, Sink, Sink, Sink, dict[str, Any]],
) -> None:
    processor, signals, _, _, _ = setup
    processor.resend_redelivered = False  # its signal events were committed with the state
    processed(processor, message(R2[0], 0))
    processed(processor, message(R2[1], 1))
    assert len(signals.sent) == 1
    processed(processor, message(R2[1], 1))  # offset not committed with it: delivered again
    assert len(signals.sent) == 1
    assert processor.metrics.duplicates._value.get() == 1


def test_undecodable_and_invalid_records_are_dead_lettered(
    setup: tuple[Processor, Sink, Sink, Sink, dict[str, Any]],
) -> None:
    processor, _, _, deadletters, table = setup
    processed(processor, Message("schakel.wmo.events", 2, 5, None, b"junk", []))
    wrong_topic = message(R2[1], 3)  # a participatiewet event on the wmo topic
    processed(processor, Message("schakel.wmo.events", 0, 3, None, wrong_topic.value, []))
    assert [dict(d["headers"])["schakel.fase"] for d in deadletters.sent] == [
        b"decode",
        b"validate",
    ]
    assert table == {}


def test_end_of_replay_tick_moves_the_clock_of_the_partitions_citizens(
    setup: tuple[Processor, Sink, Sink, Sink, dict[str, Any]],
) -> None:

    processor, signals, _, _, table = setup
    processed(processor, message(early_warning("2026-03-06"), 0))
    assert signals.sent == []  # 28 days have not passed on the citizen's own clock
    (subject,) = table
    processed(processor, tick(date(2026, 4, 30), partition_of(subject, 4)))
    assert len(signals.sent) == 1
    assert table[subject].klok == date(2026, 4, 30)


@pytest.mark.parametrize("at_least_once", [True, False])
def test_outputs_of_a_citizen_are_written_once_per_flush_and_signals_at_once(
    at_least_once: bool,
) -> None:
    """Snapshot and state at the flush, signal events while processing. At least once, a
    record that emits signal events writes the state that tells them first (and waits for
    the broker's acknowledgement:
    ``test_at_least_once_no_signal_event_leaves_before_its_state``)."""
    worker = Worker()
    worker.processor.resend_redelivered = at_least_once
    writes: list[str] = []

    def store_state(subject: str, state: CitizenState, partition: int) -> None:
        writes.append(subject)
        worker.table[subject] = state

    worker.processor.store_state = store_state
    for offset, event in enumerate(R2):
        asyncio.run(worker.processor.handle(message(event, offset)))
    assert len(worker.signals.sent) == 1  # sent while processing, not at the flush
    assert worker.snapshots.sent == []  # not yet
    early = list(worker.table)  # at least once: the state before the signal event
    assert len(early) == len(writes) == (1 if at_least_once else 0) and writes == early
    assert worker.processor.flush() == 1
    (state,) = worker.table.values()
    assert writes == [*early, state.subject] and len(worker.snapshots.sent) == 1
    assert [e.event.id for e in state.events] == ["w", "p"]
    assert worker.snapshots.sent[0]["partition"] == partition_of(state.subject, 4)
    assert worker.processor.flush() == 0  # nothing changed since


def test_a_flush_while_a_record_awaits_its_sends_writes_the_whole_record() -> None:
    """Under at-least-once Faust may commit while a record waits for a send: the state
    flushed then already holds the record's event and the signal events it emits."""
    worker = Worker()
    flushed: list[CitizenState] = []

    async def send_and_commit(**kwargs: Any) -> None:
        worker.processor.flush()  # the commit hook runs at this await
        flushed.extend(worker.table.values())
        worker.signals.sent.append(kwargs)

    worker.processor.send_signal = send_and_commit
    asyncio.run(worker.handle(message(R2[0], 0)))
    asyncio.run(worker.processor.handle(message(R2[1], 1)))
    (state,) = flushed
    assert [e.event.id for e in state.events] == ["w", "p"]
    assert state.uitvoer["schakel.participatiewet.events:0:1"] == [worker.signals.sent[0]["value"]]


def test_a_failed_write_at_the_flush_leaves_the_citizen_dirty() -> None:
    worker = Worker()
    other = R2_OTHER
    for offset, event in enumerate([*R2, *other]):
        asyncio.run(worker.processor.handle(message(event, offset)))
    written: list[str] = []

    def store_state(subject: str, state: CitizenState, partition: int) -> None:
        if written:
            raise RuntimeError("broker gone")
        written.append(subject)

    worker.processor.store_state = store_state
    with pytest.raises(RuntimeError):
        worker.processor.flush()  # the commit fails; the second citizen stays dirty
    worker.processor.store_state = lambda subject, state, partition: written.append(subject)
    assert worker.processor.flush() == 1
    assert len(set(written)) == 2


class _FailingOnce:
    """The rules, except that the next assessment fails (a defect, not bad data)."""

    def __init__(self) -> None:
        self.types = RULES.types
        self.armed = False

    def assess(self, *args: Any) -> Any:
        return RULES.assess(*args)

    def assess_changed(self, *args: Any, **kwargs: Any) -> Any:
        found = RULES.assess_changed(*args, **kwargs)  # the kept results are updated first
        if self.armed:
            self.armed = False
            raise RuntimeError("defect in a rule")
        return found


def test_a_record_whose_processing_fails_leaves_the_citizen_as_it_was() -> None:
    """Dead-lettered (stage ``process``) and nothing of it kept: the event is not in the
    state, no signal is recorded as told, and the record re-published later is processed
    as new, with the same outputs as if it had come right the first time."""
    worker, reference = Worker(), Worker()
    engine = _FailingOnce()
    worker.processor.engine = engine
    asyncio.run(worker.handle(message(R2[0], 0)))
    asyncio.run(reference.handle(message(R2[0], 0)))
    (state,) = worker.table.values()
    before = ([e.event.id for e in state.events], dict(state.signalen), dict(state.uitvoer))
    engine.armed = True
    asyncio.run(worker.handle(message(R2[1], 1)))  # would raise R2
    assert len(worker.deadletters.sent) == 1 and not worker.signals.sent
    (state,) = worker.table.values()
    assert ([e.event.id for e in state.events], state.signalen, state.uitvoer) == before
    asyncio.run(worker.handle(message(R2[1], 2)))  # re-published from the dead letters
    asyncio.run(reference.handle(message(R2[1], 1)))
    decode = worker.processor.deserializer
    sent = [decode(s["value"]) for s in worker.signals.sent]
    expected_sent = [decode(s["value"]) for s in reference.signals.sent]
    assert [(e.id, e.data) for e in sent] == [(e.id, e.data) for e in expected_sent]
    assert len(worker.signals.sent) == 1
    (state,) = worker.table.values()
    (expected,) = reference.table.values()
    assert [e.event.id for e in state.events] == [e.event.id for e in expected.events]
    assert state.signalen == expected.signalen


def _from_faust(cause: Exception) -> Exception:
    """``cause`` as Faust's producer raises it: a ``ProducerSendError`` raised from it."""
    wrapped: Exception = ProducerSendError(f"Error while sending: {cause!r}")
    wrapped.__cause__ = cause
    return wrapped


@pytest.mark.parametrize(
    "outage",
    [
        _from_faust(KafkaTimeoutError("buffer full")),
        _from_faust(NotLeaderForPartitionError()),
        KafkaTimeoutError("buffer full"),
    ],
    ids=["faust-timeout", "faust-retriable", "aiokafka-timeout"],
)
def test_an_outage_at_a_signal_send_is_waited_out_with_the_record_kept(
    outage: Exception,
) -> None:
    """The producer not taking a signal event (its buffer full after a long broker outage,
    or a retriable error) is an outage: waited out at that send, nothing dead-lettered, the
    record applied once and its signal event sent once — also under exactly-once, where a
    record delivered again re-sends nothing."""
    worker = Worker()
    worker.processor.retry_first_s = 0.001
    worker.processor.resend_redelivered = False
    failures = [outage, outage]

    async def send(**kwargs: Any) -> None:
        if failures:
            raise failures.pop()
        worker.signals.sent.append(kwargs)

    worker.processor.send_signal = send
    asyncio.run(worker.handle(message(R2[0], 0), message(R2[1], 1)))
    assert not worker.deadletters.sent and not failures
    assert len(worker.signals.sent) == 1
    (state,) = worker.table.values()
    assert [e.event.id for e in state.events] == ["w", "p"]
    assert list(state.uitvoer) == ["schakel.participatiewet.events:0:1"]
    metrics = worker.metrics
    assert metrics.outage_retries.labels("OutputUnavailable")._value.get() == 2
    assert metrics.duplicates._value.get() == 0
    assert (
        sum(
            metrics.events.labels(t)._value.get()
            for t in ("nl.wmo.aanvragen.afgewezen", "nl.participatiewet.aanvragen.afgewezen")
        )
        == 2
    )
    assert not worker.processor.unavailable


@pytest.mark.parametrize("at_least_once", [True, False])
@pytest.mark.parametrize("flush_meanwhile", [False, True])
def test_a_failed_signal_send_dead_letters_the_record_and_leaves_no_trace(
    flush_meanwhile: bool, at_least_once: bool
) -> None:
    """A send that fails for good (not an outage): the record is dead-lettered and undone,
    also when a flush wrote it to the table while its send was awaited, or (at least once)
    it was written before its signal events: the flush after writes the state without it;
    re-published, it gives what a first success gives."""
    worker, reference = Worker(), Worker()
    worker.processor.resend_redelivered = at_least_once
    asyncio.run(worker.handle(message(R2[0], 0)))
    asyncio.run(reference.handle(message(R2[0], 0)))
    (state,) = worker.table.values()
    before = ([e.event.id for e in state.events], dict(state.signalen), dict(state.uitvoer))
    written: list[list[str]] = []  # the events of each state written to the changelog

    def store_state(subject: str, state: CitizenState, partition: int) -> None:
        written.append([e.event.id for e in state.events])
        worker.table[subject] = state

    async def refused(**kwargs: Any) -> None:
        if flush_meanwhile:
            worker.processor.flush()
        raise _from_faust(MessageSizeTooLargeError())

    worker.processor.store_state = store_state
    worker.processor.send_signal = refused
    asyncio.run(worker.handle(message(R2[1], 1)))  # flushes after the record
    early = [["w", "p"]] if at_least_once else []  # before its signal event
    meanwhile = [["w", "p"]] if flush_meanwhile else []
    rewritten = [["w"]] if early or meanwhile else []  # undone: written again without it
    assert written == early + meanwhile + rewritten
    (letter,) = worker.deadletters.sent
    assert dict(letter["headers"])[HEADER_STAGE] == b"process"
    (state,) = worker.table.values()
    assert ([e.event.id for e in state.events], state.signalen, state.uitvoer) == before
    worker.processor.send_signal = worker.signals
    asyncio.run(worker.handle(message(R2[1], 2)))  # re-published from the dead letters
    asyncio.run(reference.handle(message(R2[1], 1)))
    decode = worker.processor.deserializer
    sent = [decode(s["value"]) for s in worker.signals.sent]
    expected = [decode(s["value"]) for s in reference.signals.sent]
    assert [(e.id, e.data) for e in sent] == [(e.id, e.data) for e in expected] != []
    assert worker.table[state.subject].signalen == reference.table[state.subject].signalen


@pytest.mark.parametrize("at_least_once", [True, False])
@pytest.mark.parametrize("flush_meanwhile", [False, True])
def test_a_new_citizens_failed_send_writes_nothing_of_it(
    flush_meanwhile: bool, at_least_once: bool
) -> None:
    """The first record of a citizen, undone: nothing is written for the citizen — unless a
    flush wrote it while its send was awaited, or (at least once) it was written before its
    signal events; then the next flush deletes the table entry and tombstones the snapshot
    (the changelog and the timeline topic keep no trace of the record, nor a citizen without
    events)."""
    worker = Worker()
    worker.processor.resend_redelivered = at_least_once
    written_before = flush_meanwhile or at_least_once
    worker.processor.clock_mode = "live"
    written: list[list[str]] = []
    deleted: list[tuple[str, int]] = []

    def store_state(subject: str, state: CitizenState, partition: int) -> None:
        written.append([e.event.id for e in state.events])

    async def refused(**kwargs: Any) -> None:
        if flush_meanwhile:
            worker.processor.flush()
        raise RuntimeError("refused")

    worker.processor.store_state = store_state
    worker.processor.delete_state = lambda subject, partition: deleted.append((subject, partition))
    worker.processor.send_signal = refused
    # on the live clock, long after its day and never followed up: a signal at once
    asyncio.run(worker.handle(message(early_warning("2026-01-01"), 0)))
    assert len(worker.deadletters.sent) == 1
    assert written == [["vS"]] * (at_least_once + flush_meanwhile)
    snapshots = [s["value"] is None for s in worker.snapshots.sent]
    assert snapshots == [False] * flush_meanwhile + [True] * written_before
    subject = worker.deadletters.sent[0]["key"]
    if written_before:
        ((gone, partition),) = deleted
        tombstone = worker.snapshots.sent[-1]
        assert (tombstone["key"], tombstone["partition"]) == (gone.encode(), partition)
        assert partition == partition_of(gone, 4)
    else:
        assert deleted == []
    assert subject == b"k" and worker.processor.flush() == 0


def test_a_new_citizen_whose_only_record_is_undone_after_a_flush_leaves_no_entry() -> None:
    """Under at-least-once a flush may write a new citizen while its first record awaits a
    send; if that send then fails for good, the record is undone and dead-lettered. The
    table (so the changelog) and the timeline topic must then hold nothing of the citizen —
    a tombstone each — not a citizen without events. A citizen holding only an erasure
    marker keeps it through the same.

    Before: the undo left a state without events, which the next flush stored (table and
    changelog) and showed as an empty snapshot."""
    worker = Worker()
    worker.processor.clock_mode = "live"
    first = message(early_warning("2026-01-01"), 0)  # live: long overdue, a signal at once

    async def refused(**kwargs: Any) -> None:
        worker.processor.flush()  # the commit hook runs while the send is awaited
        raise RuntimeError("refused for good")

    worker.processor.send_signal = refused
    asyncio.run(worker.handle(first))
    assert len(worker.deadletters.sent) == 1
    assert worker.table == {}
    (subject,) = {s["key"] for s in worker.snapshots.sent}
    assert worker.snapshots.sent[-1]["value"] is None  # the snapshot written meanwhile: gone
    # a citizen erased earlier, whose new first record is undone likewise: the marker stays
    marker = erase(None, subject.decode(), 1_000)
    worker.table[marker.subject] = marker
    asyncio.run(worker.handle(replace(first, offset=1)))  # registered after the erasure
    assert len(worker.deadletters.sent) == 2
    assert worker.table == {marker.subject: marker}
    assert marker.blank is False and marker.events == [] and marker.vergeten_tot == 1_000
    assert worker.snapshots.sent[-1]["value"] is not None  # its (empty) snapshot, as before


def test_a_record_cancelled_during_its_send_is_undone() -> None:
    """A send cancelled from within (the producer's own task cancelled: the record not
    handed over): the record is undone, so its delivery again is processed as new and sends
    its signal event — also under exactly-once, where a record the state already holds
    re-sends nothing. (A cancellation of the agent from outside finishes the step instead:
    the next test.)"""
    worker = Worker()
    worker.processor.resend_redelivered = False
    asyncio.run(worker.handle(message(R2[0], 0)))

    async def cancelled(**kwargs: Any) -> None:
        raise asyncio.CancelledError

    worker.processor.send_signal = cancelled
    with pytest.raises(asyncio.CancelledError):
        asyncio.run(worker.processor.handle(message(R2[1], 1)))
    worker.processor.send_signal = worker.signals
    asyncio.run(worker.handle(message(R2[1], 1)))  # delivered again
    assert len(worker.signals.sent) == 1 and not worker.deadletters.sent
    (state,) = worker.table.values()
    assert [e.event.id for e in state.events] == ["w", "p"]


def test_a_record_cancelled_after_a_send_was_handed_over_is_finished() -> None:
    """The agent cancelled from outside (a stop) while the second of a step's two signal
    events waits for the producer, the first one already handed over: the step is finished
    — both handed over, the state telling both — and only then does the cancellation go on.
    Undone, as before, the handed-over signal event reached the stop's last commit (Faust
    commits after stopping the agent) beside a state that never told it; the step taken again
    by the partition's next owner, its facts in another order, could then leave that signal
    neither definitive nor withdrawn (the rebalance test on Apache Kafka, once in CI)."""
    worker = Worker()
    worker.processor.resend_redelivered = False
    warnings = [early_warning("2026-03-06", "S1"), early_warning("2026-03-07", "S2")]
    asyncio.run(worker.handle(*(message(w, n) for n, w in enumerate(warnings))))
    (subject,) = worker.table
    the_tick = tick(date(2026, 4, 30), partition_of(subject, 4))

    async def scenario() -> None:
        taken = asyncio.Event()
        waiting = asyncio.Event()

        async def send(**kwargs: Any) -> None:
            if worker.signals.sent:  # the second: the producer takes it later
                waiting.set()
                await taken.wait()
            worker.signals.sent.append(kwargs)

        worker.processor.send_signal = send
        task = asyncio.create_task(worker.processor.handle(the_tick))
        await waiting.wait()
        task.cancel()
        await asyncio.sleep(0)  # the cancellation delivered while the send waits
        taken.set()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(scenario())
    assert len(worker.signals.sent) == 2
    worker.processor.flush()  # the stop's last commit
    (state,) = worker.table.values()
    told = {dict(s["headers"])["ce_id"] for s in worker.signals.sent}
    assert len(told) == 2
    assert len(state.signalen) == 2  # the state holds what was handed over
    worker.processor.send_signal = worker.signals
    asyncio.run(worker.handle(the_tick))  # delivered again (its offset was not committed)
    assert len(worker.signals.sent) == 2  # exactly once: nothing more


def test_an_outage_at_the_second_send_of_a_step_sends_the_first_once() -> None:
    """A clock tick that opens two signals of a citizen, the producer not taking the second
    for a while: each signal event is sent once (the step is not repeated from its start)."""
    worker = Worker()
    worker.processor.retry_first_s = 0.001
    worker.processor.resend_redelivered = False
    warnings = [early_warning("2026-03-06", "S1"), early_warning("2026-03-07", "S2")]
    asyncio.run(worker.handle(*(message(w, n) for n, w in enumerate(warnings))))
    assert worker.signals.sent == []
    failures = [KafkaTimeoutError("buffer full")] * 2

    async def send(**kwargs: Any) -> None:
        if len(worker.signals.sent) == 1 and failures:
            raise failures.pop()
        worker.signals.sent.append(kwargs)

    worker.processor.send_signal = send
    (subject,) = worker.table
    asyncio.run(worker.handle(tick(date(2026, 4, 30), partition_of(subject, 4))))
    assert not failures and not worker.deadletters.sent
    ids = [dict(s["headers"])["ce_id"] for s in worker.signals.sent]
    assert len(ids) == 2 == len(set(ids))


@pytest.mark.parametrize("schema", FOREIGN_SCHEMAS, ids=repr)
def test_a_record_of_a_foreign_schema_is_dead_lettered_at_decode_on_both_paths(
    schema: Any,
) -> None:
    """Review B3: a schema id that resolves (in a registry shared with other producers) to a
    schema that is no catalogue record raised ``ValueError``/``KeyError``/fastavro's errors
    past ``decode_event``: the worker dead-lettered it as stage ``process``, and the batch
    path aborted the whole run. Both dead-letter it at stage ``decode`` and go on."""
    registry = ForeignRegistry({7: schema})
    foreign = Message("schakel.wmo.events", 0, 0, None, wire_payload(7), [])
    good = message(R2[0], 1)
    worker = Worker(registry=registry)
    asyncio.run(worker.handle(foreign, good))
    (letter,) = worker.deadletters.sent
    headers = dict(letter["headers"])
    assert headers[HEADER_STAGE] == b"decode"
    assert headers[HEADER_ERROR_MESSAGE].startswith(b"schema id 7 ")
    assert [len(s.events) for s in worker.table.values()] == [1]
    batch = BatchIngest(registry=registry)
    batch.ingest(foreign, good)
    assert (batch.stats.deadlettered, batch.stats.accepted) == (1, 1)
    (letter,) = batch.producer.sent
    assert dict(letter["headers"])[HEADER_STAGE] == b"decode"


def test_the_workers_table_delete_drops_the_key_and_tombstones_the_changelog() -> None:
    """``delete_state`` as the app wires it (streams/app.py): what Faust's own ``del
    table[key]`` does, in the citizen's partition — the key out of the local store and a
    tombstone (value ``None``) on the changelog, which recovery and compaction drop."""
    registry = LocalRegistry()
    serializer, deserializer = RecordSerializer(registry), RecordDeserializer(registry)
    app = faust.App("delete-test", broker="kafka://127.0.0.1:1", store="memory://")
    table = _table(app, DEFAULT_WIRE, 4, StateCodec(serializer, deserializer, "changelog"))
    changelog: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    table.send_changelog = lambda *args, **kwargs: changelog.append((args, kwargs))
    timeline = SimpleNamespace(send=None, send_soon=None, get_topic_name=lambda: "tijdlijnen")
    processor = _processor(
        app,
        table,
        timeline,
        wire=DEFAULT_WIRE,
        engine=RULES,
        serializer=serializer,
        deserializer=deserializer,
        send_signal=Sink(),
        send_deadletter=Sink(),
        metrics=WorkerMetrics(),
        clock_mode="replay",
        history_limit=10,
        partitions=4,
        source="urn:schakel",
    )
    subject = "a" * 32
    processor.store_state(subject, CitizenState(subject=subject), 2)
    assert subject in table.data
    processor.delete_state(subject, 2)
    assert subject not in table.data
    assert changelog[-1] == ((2, subject), {"value": None, "value_serializer": "raw"})
    processor.delete_state(subject, 2)  # not there (any more): a tombstone all the same
    assert len(changelog) == 3


class _LateEvening(datetime):
    """``datetime`` at 23:30 UTC on 1 March 2026: 00:30 on 2 March in the Netherlands."""

    @classmethod
    def now(cls, tz: tzinfo | None = None) -> _LateEvening:
        instant = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
        moved = instant if tz is None else instant.astimezone(tz)
        return cls(*moved.timetuple()[:6], tzinfo=moved.tzinfo)


def test_the_live_clock_s_today_is_the_date_in_its_time_zone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A review found the live clock on the UTC date: for an hour or two after midnight in the
    Netherlands a deadline had not passed yet and the API showed yesterday's ``klok``."""
    monkeypatch.setattr(processor_module, "datetime", _LateEvening)
    processor = Worker().processor
    assert processor.today() is None  # the replay clock has no today
    processor.clock_mode = "live"
    assert processor.today() == date(2026, 3, 2)  # the default zone: Europe/Amsterdam
    processor.zone = ZoneInfo("UTC")
    assert processor.today() == date(2026, 3, 1)
