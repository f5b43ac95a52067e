"""The exactly-once commit of :mod:`streams.transactions` on Faust's real consumer (not
started: no broker; the transactional commit itself is recorded instead of sent)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from aiokafka.errors import ProducerFenced
from faust.types import TP

from streams.transactions import CommitBetweenRecords, ExactlyOnceManager, TransactionalApp

FIRST = TP("schakel.wmo.events", 1)
SECOND = TP("schakel.wmo.events", 3)


@dataclass(eq=False)
class Record:
    """What Faust's ``Consumer.ack`` reads of a message."""

    tp: TP
    offset: int
    acked: bool = False

    @property
    def topic(self) -> str:
        return str(self.tp.topic)


@dataclass
class Event:
    """What :meth:`ExactlyOnceManager.processing` acknowledges at the end of a record."""

    consumer: Any
    message: Record

    def ack(self) -> None:
        self.consumer.ack(self.message)


def exactly_once() -> tuple[TransactionalApp, CommitBetweenRecords, ExactlyOnceManager]:
    """The worker's app on Apache Kafka, not started, with transactions on (what ``faust
    worker`` sets), and its consumer and transaction manager."""
    app = TransactionalApp(
        "schakel-test", broker="kafka://127.0.0.1:1", processing_guarantee="exactly_once"
    )
    app.in_worker = True
    consumer = app.consumer
    assert isinstance(consumer, CommitBetweenRecords)
    transactions = consumer.transactions
    assert isinstance(transactions, ExactlyOnceManager)
    return app, consumer, transactions


class WatchedLock(asyncio.Lock):
    """The processing lock of :class:`~streams.transactions.ExactlyOnceManager`, telling when
    someone waits for it (``contended``): a test's way to know the commit got there."""

    def __init__(self) -> None:
        super().__init__()
        self.contended = asyncio.Event()

    async def acquire(self) -> Literal[True]:
        if self.locked():
            self.contended.set()
        return await super().acquire()


def test_a_commit_waiting_for_a_record_commits_its_offset_with_its_outputs() -> None:
    """The first record of a partition, processed while a commit waits for it, has its
    offset in that commit: its outputs are in the transaction that commits (found by the
    exactly-once kill test: a restarted worker sent those signal events a second time)."""

    async def scenario() -> list[dict[TP, int]]:
        app, consumer, transactions = exactly_once()
        committed: list[dict[TP, int]] = []

        async def commit(offsets: Mapping[TP, int], start_new_transaction: bool = True) -> bool:
            committed.append(dict(offsets))
            return True

        transactions.commit = commit  # type: ignore[method-assign]  # recorded, not sent
        consumer.assignment = lambda: {FIRST, SECOND}
        app.topics.acks_enabled_for = lambda topic: True
        consumer.ack(Record(FIRST, 7))  # processed earlier

        started, release = asyncio.Event(), asyncio.Event()
        lock = transactions._processing = WatchedLock()

        async def first_record_of_second() -> None:
            async with transactions.processing(Event(consumer, Record(SECOND, 15))):
                started.set()
                await release.wait()  # its outputs are being sent

        record = asyncio.create_task(first_record_of_second())
        await started.wait()
        commit_task = asyncio.create_task(consumer.commit())
        await asyncio.wait_for(lock.contended.wait(), 10)  # the commit waits (was: a sleep)
        release.set()
        await asyncio.gather(record, commit_task)
        return committed

    assert asyncio.run(scenario()) == [{FIRST: 8, SECOND: 16}]


def test_a_rebalance_commits_what_was_processed_before_faust_forgets_it() -> None:
    """Faust drops the acknowledged offsets of every revoked partition (with the eager
    protocol: every assigned one) before its own commit at the revoke, so that commit
    committed nothing: the outputs of the records since the last commit stayed in the open
    transactions of the partitions the worker kept, table recovery then put back the states
    of the last commit, the records were delivered again and processed once more — and the
    first outputs were committed with the second (a signal raised, committed and never
    withdrawn: the rebalance test on Apache Kafka, once in CI). Now they are committed before
    Faust forgets them, the flow stopped first."""

    async def scenario() -> tuple[list[dict[TP, int]], list[str]]:
        app, consumer, transactions = exactly_once()
        committed: list[dict[TP, int]] = []
        steps: list[str] = []

        async def commit(offsets: Mapping[TP, int], start_new_transaction: bool = True) -> bool:
            committed.append(dict(offsets))
            steps.append("committed")
            return True

        async def faust_revoke(revoked: set[TP]) -> None:  # the app's part: commits again
            steps.append("faust")
            await consumer.commit()

        transactions.commit = commit  # type: ignore[method-assign]
        consumer._on_partitions_revoked = faust_revoke
        consumer.assignment = lambda: {FIRST, SECOND}
        app.topics.acks_enabled_for = lambda topic: True
        app.flow_control.resume()  # a running worker's
        consumer.ack(Record(FIRST, 7))  # processed since the last commit
        consumer.ack(Record(SECOND, 3))
        await consumer.on_partitions_revoked({FIRST, SECOND})
        assert not app.flow_control.is_active()  # no record starts meanwhile
        return committed, steps

    committed, steps = asyncio.run(scenario())
    assert committed == [{FIRST: 8, SECOND: 4}]
    assert steps == ["committed", "faust"]


def test_a_commit_that_fails_at_the_revoke_crashes_the_worker_and_faust_goes_on() -> None:
    """The commit at the revoke fenced (the member was dropped from the group and another
    owns the partition now): the worker crashes, as at any other commit (its states are ahead
    of what was committed), and Faust's part of the revoke still runs; raised into Faust's
    rebalance instead, the error skipped it."""

    async def scenario() -> tuple[BaseException | None, list[str]]:
        app, consumer, transactions = exactly_once()
        steps: list[str] = []

        async def fenced(offsets: Mapping[TP, int], start_new_transaction: bool = True) -> bool:
            raise ProducerFenced()

        async def faust_revoke(revoked: set[TP]) -> None:
            steps.append("faust")

        transactions.commit = fenced  # type: ignore[method-assign]
        consumer._on_partitions_revoked = faust_revoke
        consumer.assignment = lambda: {FIRST}
        app.topics.acks_enabled_for = lambda topic: True
        app.flow_control.resume()
        consumer.ack(Record(FIRST, 7))
        await consumer.on_partitions_revoked({FIRST})
        return consumer.crash_reason, steps

    reason, steps = asyncio.run(scenario())
    assert isinstance(reason, ProducerFenced)
    assert steps == ["faust"]
