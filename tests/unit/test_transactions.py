"""The exactly-once commit of :mod:`streams.transactions` on Faust's real consumer (not
started: no broker; the transactional commit itself is recorded instead of sent)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

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


def test_a_commit_waiting_for_a_record_commits_its_offset_with_its_outputs() -> None:
    """The first record of a partition, processed while a commit waits for it, has its
    offset in that commit: its outputs are in the transaction that commits (found by the
    exactly-once kill test: a restarted worker sent those signal events a second time)."""

    async def scenario() -> list[dict[TP, int]]:
        app = TransactionalApp(
            "schakel-test", broker="kafka://127.0.0.1:1", processing_guarantee="exactly_once"
        )
        app.in_worker = True  # what ``faust worker`` sets: transactions are on
        consumer = app.consumer
        assert isinstance(consumer, CommitBetweenRecords)
        transactions = consumer.transactions
        assert isinstance(transactions, ExactlyOnceManager)
        committed: list[dict[TP, int]] = []

        async def commit(offsets: Mapping[TP, int], start_new_transaction: bool = True) -> bool:
            committed.append(dict(offsets))
            return True

        transactions.commit = commit  # type: ignore[method-assign]  # recorded, not sent
        consumer.assignment = lambda: {FIRST, SECOND}
        app.topics.acks_enabled_for = lambda topic: True
        consumer.ack(Record(FIRST, 7))  # processed earlier

        started, release = asyncio.Event(), asyncio.Event()

        async def first_record_of_second() -> None:
            async with transactions.processing(Event(consumer, Record(SECOND, 15))):
                started.set()
                await release.wait()  # its outputs are being sent

        record = asyncio.create_task(first_record_of_second())
        await started.wait()
        commit_task = asyncio.create_task(consumer.commit())
        await asyncio.sleep(0.05)  # the commit has chosen its partitions and now waits
        release.set()
        await asyncio.gather(record, commit_task)
        return committed

    assert asyncio.run(scenario()) == [{FIRST: 8, SECOND: 16}]
