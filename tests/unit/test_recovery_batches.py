"""The delivery guard of ``streams/recovery.py`` on a consumer class shaped like Faust's: each
input partition is delivered without holes from the offset it was sought to; a record past
it makes the partition be sought back (the records in between are fetched again), unless
the same jump comes again right after that seek (a real gap); changelogs pass untouched.
And the memory store's clean-up of keys whose partition moved away."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

from faust.types import TP

from streams.recovery import _deliver_each_partition_in_order

EVENTS, OTHER, CHANGELOG = TP("events", 0), TP("events", 1), TP("w-changelog", 0)


class FetchingConsumer:
    """Faust's ``Consumer`` as far as the guard sees it: ``getmany`` yields one fetched batch
    record by record; ``seek`` moves a partition."""

    def __init__(self, batches: list[list[tuple[TP, int]]]) -> None:
        self.batches = batches
        self.sought: list[tuple[TP, int]] = []
        self.app = SimpleNamespace(tables=SimpleNamespace(changelog_topics={CHANGELOG.topic}))

    async def getmany(self, timeout: float) -> AsyncIterator[tuple[TP, Any]]:
        for tp, offset in self.batches.pop(0):
            yield tp, SimpleNamespace(offset=offset)

    async def seek(self, partition: TP, offset: int) -> None:
        self.sought.append((partition, offset))


_deliver_each_partition_in_order(FetchingConsumer)


def deliver(consumer: FetchingConsumer, expected: dict[TP, int]) -> list[list[tuple[TP, int]]]:
    consumer.__dict__["_schakel_expected"] = dict(expected)

    async def fetch_all() -> list[list[tuple[TP, int]]]:
        delivered = []
        while consumer.batches:
            delivered.append(
                [(tp, message.offset) async for tp, message in consumer.getmany(timeout=1.0)]
            )
        return delivered

    return asyncio.run(fetch_all())


def test_a_hole_after_a_seek_is_fetched_again_and_other_partitions_carry_on() -> None:
    consumer = FetchingConsumer(
        [
            [(EVENTS, 8), (OTHER, 3), (EVENTS, 9), (OTHER, 4)],  # 4..7 were dropped upstream
            [(EVENTS, 4), (EVENTS, 5), (EVENTS, 6), (EVENTS, 7), (EVENTS, 8)],
        ]
    )
    delivered = deliver(consumer, {EVENTS: 4, OTHER: 3})
    assert delivered == [[(OTHER, 3), (OTHER, 4)], [(EVENTS, o) for o in range(4, 9)]]
    assert consumer.sought == [(EVENTS, 4)]


def test_the_same_jump_right_after_the_seek_is_a_real_gap() -> None:
    consumer = FetchingConsumer([[(EVENTS, 8)], [(EVENTS, 8), (EVENTS, 9)]])
    assert deliver(consumer, {EVENTS: 4}) == [[], [(EVENTS, 8), (EVENTS, 9)]]
    assert consumer.sought == [(EVENTS, 4)]


def test_records_before_the_expected_offset_are_skipped_and_changelogs_pass() -> None:
    consumer = FetchingConsumer(
        [[(EVENTS, 4), (CHANGELOG, 40), (EVENTS, 6), (CHANGELOG, 2), (EVENTS, 7)]]
    )
    assert deliver(consumer, {EVENTS: 6}) == [
        [(CHANGELOG, 40), (EVENTS, 6), (CHANGELOG, 2), (EVENTS, 7)]
    ]
    assert consumer.sought == []


def test_a_seek_sets_where_the_partition_continues() -> None:
    consumer = FetchingConsumer([[(EVENTS, 2)], [(EVENTS, 0), (EVENTS, 1)]])

    async def scenario() -> list[int]:
        consumer.__dict__["_schakel_expected"] = {EVENTS: 2}
        seen = [m.offset async for _, m in consumer.getmany(timeout=1.0)]
        await consumer.seek(EVENTS, 0)  # e.g. back to the beginning
        seen += [m.offset async for _, m in consumer.getmany(timeout=1.0)]
        return seen

    assert asyncio.run(scenario()) == [2, 0, 1]


def test_a_key_written_by_the_worker_is_forgotten_when_its_partition_moves() -> None:
    """Faust's memory store drops, after recovery, the keys of partitions not assigned any
    more; with the patch that includes keys the worker wrote itself (Faust knew only the
    partitions of keys read from the changelog)."""
    import faust

    from streams.recovery import seek_before_resume

    seek_before_resume()
    app = faust.App("recovery-keys-test", store="memory://")
    table = app.Table("t", partitions=4)
    store = table.data
    store.data.update({"stays": 1, "moves": 2})
    table._maybe_set_key_ttl("stays", 1)  # what Table.on_key_set calls with the partition
    table._maybe_set_key_ttl("moves", 2)
    changelog = table._changelog_topic_name()
    asyncio.run(store.on_recovery_completed({TP(changelog, 0), TP(changelog, 1)}, set()))
    assert dict(store.data) == {"stays": 1}
