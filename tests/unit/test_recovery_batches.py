"""The delivery guard of ``streams/recovery.py`` (Faust's ``Consumer.getmany`` replaced) on a
consumer shaped like Faust's: each input partition is delivered without holes from the offset
it was sought to; records Faust would drop (flow stopped, generation changed, partition not
active) make their partition be sought back so they are fetched again; a record past the
expected offset does too, unless the same jump comes again right after that seek (a real
gap); changelogs pass untouched. And the memory store's clean-up of keys whose partition
moved away."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from types import SimpleNamespace
from typing import Any

from faust.types import TP

from streams.recovery import _deliver_each_partition_in_order

EVENTS, OTHER, CHANGELOG = TP("events", 0), TP("events", 1), TP("w-changelog", 0)
Batch = list[tuple[TP, int]]


class FetchingConsumer:
    """Faust's ``Consumer`` as far as ``getmany`` uses it: each call takes the next fetched
    batch; ``seek`` and ``perform_seek`` are recorded. ``during`` runs before the record at
    that position of the batch is looked at (to stop the flow, say)."""

    def __init__(self, batches: list[Batch], expected: dict[TP, int]) -> None:
        self.batches = batches
        self.sought: list[tuple[TP, int]] = []
        self.performed_seeks = 0
        self.flow_active = True
        self.should_stop = False
        self.active: set[TP] | None = None
        self._buffered_partitions: set[TP] = set()
        self.during: dict[int, Callable[[], None]] = {}
        self.app = SimpleNamespace(
            tables=SimpleNamespace(changelog_topics={CHANGELOG.topic}),
            consumer_generation_id=1,
            monitor=SimpleNamespace(track_tp_end_offset=lambda tp, offset: None),
        )
        self.scheduler = SimpleNamespace(iterate=self._iterate)
        self.__dict__["_schakel_expected"] = dict(expected)

    def _iterate(self, records: Batch) -> Any:
        for position, (tp, offset) in enumerate(records):
            self.during.get(position, lambda: None)()
            yield tp, SimpleNamespace(offset=offset)

    async def _wait_next_records(self, timeout: float) -> tuple[Batch, set[TP] | None]:
        return self.batches.pop(0), self.active

    def assignment(self) -> set[TP]:
        return {EVENTS, OTHER, CHANGELOG}

    def highwater(self, tp: TP) -> int:
        return 100

    def _to_message(self, tp: TP, record: Any) -> Any:
        return record

    async def perform_seek(self) -> None:
        self.performed_seeks += 1

    async def seek(self, partition: TP, offset: int) -> None:
        self.sought.append((partition, offset))

    def getmany(self, timeout: float) -> AsyncIterator[tuple[TP, Any]]:
        raise AssertionError("replaced by the guard")


_deliver_each_partition_in_order(FetchingConsumer)


def deliver(consumer: FetchingConsumer) -> list[Batch]:
    async def fetch_all() -> list[Batch]:
        delivered = []
        while consumer.batches:
            delivered.append(
                [(tp, message.offset) async for tp, message in consumer.getmany(timeout=1.0)]
            )
        return delivered

    return asyncio.run(fetch_all())


def test_a_hole_is_fetched_again_and_other_partitions_carry_on() -> None:
    consumer = FetchingConsumer(
        [
            [(EVENTS, 8), (OTHER, 3), (EVENTS, 9), (OTHER, 4)],  # 4..7 were dropped upstream
            [(EVENTS, 4), (EVENTS, 5), (EVENTS, 6), (EVENTS, 7), (EVENTS, 8)],
        ],
        {EVENTS: 4, OTHER: 3},
    )
    assert deliver(consumer) == [[(OTHER, 3), (OTHER, 4)], [(EVENTS, o) for o in range(4, 9)]]
    assert consumer.sought == [(EVENTS, 4)]


def test_the_same_jump_right_after_the_seek_is_a_real_gap() -> None:
    consumer = FetchingConsumer([[(EVENTS, 8)], [(EVENTS, 8), (EVENTS, 9)]], {EVENTS: 4})
    assert deliver(consumer) == [[], [(EVENTS, 8), (EVENTS, 9)]]
    assert consumer.sought == [(EVENTS, 4)]


def test_records_before_the_expected_offset_are_skipped_and_changelogs_pass() -> None:
    consumer = FetchingConsumer(
        [[(EVENTS, 4), (CHANGELOG, 40), (EVENTS, 6), (CHANGELOG, 2), (EVENTS, 7)]], {EVENTS: 6}
    )
    assert deliver(consumer) == [[(CHANGELOG, 40), (EVENTS, 6), (CHANGELOG, 2), (EVENTS, 7)]]
    assert consumer.sought == []


def test_the_rest_of_a_batch_cut_off_by_a_stopped_flow_is_fetched_again() -> None:
    consumer = FetchingConsumer(
        [[(EVENTS, 0), (OTHER, 0), (EVENTS, 1), (CHANGELOG, 7), (OTHER, 1), (CHANGELOG, 8)]],
        {EVENTS: 0, OTHER: 0},
    )
    consumer.during[2] = lambda: setattr(consumer, "flow_active", False)
    assert deliver(consumer) == [[(EVENTS, 0), (OTHER, 0)]]
    # inputs where each must continue; a changelog (table recovery) from its first dropped
    assert sorted(consumer.sought) == [(EVENTS, 1), (OTHER, 1), (CHANGELOG, 7)]


def test_a_changed_generation_also_sends_the_rest_back() -> None:
    consumer = FetchingConsumer([[(EVENTS, 0), (EVENTS, 1)]], {EVENTS: 0})
    consumer.during[1] = lambda: setattr(consumer.app, "consumer_generation_id", 2)
    assert deliver(consumer) == [[(EVENTS, 0)]]
    assert consumer.sought == [(EVENTS, 1)]


def test_a_record_of_a_partition_not_active_is_fetched_again_later() -> None:
    """The last record of a partition (the single erasure record of a clock partition, say):
    dropped by Faust, nothing after it would show the hole."""
    consumer = FetchingConsumer([[(EVENTS, 0), (OTHER, 0)]], {})
    consumer.active = {EVENTS}
    assert deliver(consumer) == [[(EVENTS, 0)]]
    assert consumer.sought == [(OTHER, 0)]


def test_with_the_flow_stopped_nothing_is_delivered_and_faust_seeks_back() -> None:
    consumer = FetchingConsumer([[(EVENTS, 0)]], {EVENTS: 0})
    consumer.flow_active = False
    assert deliver(consumer) == [[]]
    assert consumer.performed_seeks == 1


def test_with_the_flow_stopped_a_changelog_is_fetched_again_from_its_first_record() -> None:
    """A fetch begun before a rebalance can end after table recovery has sought a changelog
    but before the flow resumes, and hand back that changelog's records (aiokafka waits for
    the new assignment inside the fetch, and returns every partition's records while Faust's
    set of active partitions is empty). Faust's seek back to the committed offsets does not
    move a changelog (no committed offset): without this seek, recovery waited for ever for
    the records thrown away here."""
    consumer = FetchingConsumer(
        [[(EVENTS, 3), (CHANGELOG, 0), (OTHER, 5), (CHANGELOG, 1), (CHANGELOG, 2)]],
        {EVENTS: 3, OTHER: 5},
    )
    consumer.flow_active = False
    assert deliver(consumer) == [[]]
    assert consumer.performed_seeks == 1  # the inputs: back to their committed offsets
    assert consumer.sought == [(CHANGELOG, 0)]


def test_with_the_flow_stopped_a_changelog_no_longer_assigned_is_left_alone() -> None:
    consumer = FetchingConsumer([[(TP("w-changelog", 3), 4)]], {})
    consumer.flow_active = False
    assert deliver(consumer) == [[]]
    assert consumer.sought == []


def test_a_seek_sets_where_the_partition_continues() -> None:
    consumer = FetchingConsumer([[(EVENTS, 2)], [(EVENTS, 0), (EVENTS, 1)]], {EVENTS: 2})

    async def scenario() -> list[int]:
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
