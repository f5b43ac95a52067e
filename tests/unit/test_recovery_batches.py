"""The stale-batch guard of ``streams/recovery.py`` on a consumer class shaped like Faust's:
a batch that was being delivered when a seek happened is not delivered further (its records
are fetched again from the sought position), and one fetched after the seek is whole."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from streams.recovery import _drop_batches_older_than_a_seek


class BatchConsumer:
    """Faust's ``Consumer`` as far as the guard sees it: ``getmany`` yields a fetched batch
    record by record; ``perform_seek`` and ``seek`` move the position."""

    def __init__(self, batches: list[list[int]]) -> None:
        self.batches = batches
        self.seeks: list[object] = []

    async def getmany(self, timeout: float) -> AsyncIterator[tuple[str, int]]:
        for offset in self.batches.pop(0):
            yield "tp", offset

    async def perform_seek(self) -> None:
        self.seeks.append("committed")

    async def seek(self, partition: str, offset: int) -> None:
        self.seeks.append((partition, offset))


_drop_batches_older_than_a_seek(BatchConsumer)


def test_a_batch_stops_at_a_seek_and_the_next_is_whole() -> None:
    consumer = BatchConsumer([[4, 5, 6, 7, 8, 9], [4, 5, 6]])

    async def scenario() -> tuple[list[int], list[int]]:
        first: list[int] = []
        async for _, offset in consumer.getmany(timeout=1.0):
            first.append(offset)
            if offset == 5:  # a rebalance while the batch is delivered
                await consumer.perform_seek()
        second = [offset async for _, offset in consumer.getmany(timeout=1.0)]
        return first, second

    first, second = asyncio.run(scenario())
    assert first == [4, 5]  # 6..9 were fetched before the seek: not delivered
    assert second == [4, 5, 6]
    assert consumer.seeks == ["committed"]  # Faust's own seek still ran


def test_a_single_partition_seek_also_ends_the_batch() -> None:
    consumer = BatchConsumer([[1, 2, 3]])

    async def scenario() -> list[int]:
        seen: list[int] = []
        async for _, offset in consumer.getmany(timeout=1.0):
            seen.append(offset)
            await consumer.seek("tp", 0)
        return seen

    assert asyncio.run(scenario()) == [1]
    assert consumer.seeks == [("tp", 0)]


def test_a_key_written_by_the_worker_is_forgotten_when_its_partition_moves() -> None:
    """Faust's memory store drops, after recovery, the keys of partitions not assigned any
    more; with the patch that includes keys the worker wrote itself (Faust knew only the
    partitions of keys read from the changelog)."""
    import faust
    from faust.types import TP

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
