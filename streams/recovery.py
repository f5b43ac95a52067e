"""Corrections to faust-streaming 0.15.3's rebalance and recovery (every profile).

:func:`seek_before_resume` installs them all (and :func:`use_committed_highwaters` the one
for exactly-once on Apache Kafka); each has its own docstring below:

* seek the stream partitions before resuming them (this docstring, below);
* deliver every input partition without holes from where it was sought, and seek back what
  Faust drops (:func:`_deliver_each_partition_in_order`), changelogs included, also while
  the flow is stopped (:func:`_seek_changelogs_back`); log the gaps Faust still acks on an
  input topic (:func:`_report_input_gaps`);
* forget, after a rebalance, every key of a partition that moved away
  (:func:`_track_key_partitions`);
* run Faust's livelock check only on partitions that have a fetch position
  (:func:`_verify_only_positioned_partitions`);
* under exactly-once, recover each changelog to its last committed record
  (:func:`use_committed_highwaters`).

After a rebalance, faust-streaming (as installed, 0.15.3) ends table recovery in
``Recovery.on_recovery_completed`` by *first* resuming the stream partitions and *then*
awaiting ``consumer.perform_seek()`` (one OffsetFetch per partition), and only after that
calling ``app.flow_control.resume()``. That last call clears every agent queue (mode's
``FlowControlEvent.resume``). So records fetched while the seek is in flight are put in the
agent's queue and thrown away a moment later, unacked, while the fetch position has already
moved past them:

* if the group had committed offsets, the partition's next commit waits forever for the lost
  offsets (Faust only commits a contiguous run of acked offsets): the worker keeps
  processing but its committed offsets stop advancing, and a later restart reprocesses
  everything since;
* if it had none yet (``perform_seek`` does not seek then), the records are simply skipped.

Seen after a worker was killed with SIGKILL mid-backlog and restarted: the rejoin is a
rebalance with a fetcher that is already running. Upstream faust-streaming fixed the same
ordering once for apps without tables (pull request #217: seek, then resume); this applies
that order to the path an app with tables takes. :func:`seek_before_resume` replaces the
method with one that seeks while the stream partitions are still paused, then resumes the
partitions and the flow with no ``await`` in between, so nothing can be fetched into a queue
that is about to be cleared.

The seek itself has a hole too: aiokafka's ``seek_to_committed`` does not move a partition
that has no committed offset (or offset 0). Records Faust fetched and dropped during the
rebalance (its fetcher drops what arrives while the flow is stopped, counting on this seek)
are then never fetched again: a worker that restarts before its group's first commit skipped
them all. The replacement seeks such stream partitions to their beginning, which is what
``consumer_auto_offset_reset="earliest"`` (our setting) means for a group without offsets."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any

from aiokafka.errors import IllegalStateError, KafkaError

log = logging.getLogger("schakel.streams")


async def _on_recovery_completed(self: Any, generation_id: int = 0) -> None:
    app = self.app
    consumer = app.consumer
    self.log.info("Restore complete!")
    await app.on_rebalance_complete.send()
    self._set_recovery_ended()
    finishing = [
        asyncio.ensure_future(
            table.on_recovery_completed(
                self.actives_for_table[table], self.standbys_for_table[table]
            )
        )
        for table in self.tables.values()
    ]
    if finishing:
        await asyncio.wait(finishing)
    if app.consumer_generation_id != generation_id:
        self.log.warning("Recovery rebalancing again (generation %s)", generation_id)
        return
    assignment = consumer.assignment()
    if assignment:
        # the stream partitions are still paused: nothing is fetched while we seek
        self.log.info("Seek stream partitions to committed offsets.")
        await self._wait(consumer.perform_seek(), timeout=app.conf.broker_request_timeout)
        if app.consumer_generation_id != generation_id:
            self.log.warning("Recovery rebalancing again (generation %s)", generation_id)
            return
    self.completed.set()
    # no await from here until the flow runs: resuming the flow clears the agent queues
    consumer.resume_partitions({tp for tp in assignment if not self._is_changelog_tp(tp)})
    app.flow_control.resume()
    consumer.resume_flow()
    await app._fetcher.maybe_start()
    self.tables.on_actives_ready()
    if not app.assignor.assigned_standbys():
        self.tables.on_standbys_ready()
    app.on_rebalance_end()
    self.log.info("Worker ready")


async def _seek_committed_or_beginning(thread: Any, consumer: Any) -> Mapping[Any, Any]:
    """Seek every assigned input partition to its committed offset, or to its beginning if it
    has none; tell Faust's consumer (``thread.consumer``) which offset each must deliver
    next (:func:`_deliver_each_partition_in_order`). Returns the committed offsets (``None``
    where there is none), as aiokafka's ``seek_to_committed`` does."""
    committed: Mapping[Any, Any] = await consumer.seek_to_committed()
    inputs = [tp for tp in committed if not thread.consumer._is_changelog_tp(tp)]
    uncommitted = [tp for tp in inputs if not committed[tp]]
    if uncommitted:
        await consumer.seek_to_beginning(*uncommitted)
    nexts = _expected(thread.consumer)
    for tp in inputs:
        nexts[tp] = committed[tp] or await consumer.position(tp)
    return committed


async def _seek_to_committed(self: Any) -> Mapping[Any, Any]:
    consumer = self._ensure_consumer()
    result: Mapping[Any, Any] = await self.call_thread(_seek_committed_or_beginning, self, consumer)
    return result


def _expected(consumer: Any) -> dict[Any, int]:
    """The offset each input partition of Faust's ``consumer`` must deliver next."""
    return consumer.__dict__.setdefault("_schakel_expected", {})  # type: ignore[no-any-return]


def _admit(consumer: Any, tp: Any, offset: int) -> bool | None:
    """Whether the record at ``offset`` of input partition ``tp`` is delivered (True), skipped
    as delivered before (False), or is past a hole (None: the partition must be sought back
    to its expected offset). Advances the expected offset of a delivered record."""
    nexts = _expected(consumer)
    resought: dict[Any, int] = consumer.__dict__.setdefault("_schakel_resought", {})
    want = nexts.get(tp)
    if want is not None and offset < want:
        return False
    if want is not None and offset > want and resought.get(tp) != want:
        log.warning(
            "consumer.refetch",
            extra={"topic": tp.topic, "partition": tp.partition, "from_offset": want},
        )
        resought[tp] = want  # the same jump right after the seek back is a real gap
        return None
    resought.pop(tp, None)
    nexts[tp] = offset + 1
    return True


async def _seek_changelogs_back(consumer: Any, records: Any) -> None:
    """Seek each assigned changelog partition in ``records`` — fetched, but dropped because
    the flow is stopped — back to its first record there, so that table recovery fetches
    them again.

    Faust answers records that arrive while the flow is stopped by seeking back to the
    committed offsets, which moves no changelog partition (nothing commits one). Such
    records can arrive after table recovery has sought the changelogs and before it
    resumes the flow: a fetch begun before the rebalance waits inside aiokafka for the new
    assignment, then returns the records of *every* assigned partition (aiokafka's answer
    to Faust's set of active partitions when it is empty: all paused), the changelogs' from
    where recovery had just sought them. Recovery then waited for ever for records that had
    been fetched and thrown away ("No event received for active tp" on a changelog) and the
    worker processed nothing more: seen in CI as every partition's committed offset stuck
    after the second worker of the rebalance test left. Reproduced by widening that window
    (a pause between recovery's seek and its resume). A seek refused because a rebalance is
    under way is logged; the next recovery seeks the changelogs anyway."""
    changelogs = consumer.app.tables.changelog_topics if consumer.app.tables else ()
    firsts: dict[Any, int] = {}
    for tp, record in consumer.scheduler.iterate(records):
        if tp.topic in changelogs:
            firsts.setdefault(tp, record.offset)
    assigned = consumer.assignment()
    for tp, first in firsts.items():
        if tp in assigned:
            try:
                await consumer.seek(tp, first)
            except (IllegalStateError, KafkaError) as exc:
                log.warning("consumer.seek_failed", extra={"error": type(exc).__name__})


def _deliver_each_partition_in_order(consumer_class: Any) -> None:
    """Make Faust deliver every input partition without holes from where it was sought.

    Faust's ``Consumer.getmany`` drops records it has taken from aiokafka — the rest of a
    batch when the flow stops or the generation changes, records of a partition it does not
    count as active — without moving the partition back; further down, its fetch loop drops
    deliveries cut off by a rebalance. When a later record of the partition gets through,
    Faust takes the jump for a gap (compaction, transaction markers), acknowledges the
    offsets in between as processed, and drops the same records when they are fetched again
    (they are below its read offset): never processed, their offsets committed. Seen as
    events missing from timelines after a worker joined or left mid-backlog, and as a worker
    that never read the last record of a partition (nothing after it to show the hole).

    Here ``getmany`` is Faust's with two changes. The consumer knows the offset each input
    partition must deliver next (set by every seek — the committed offset, or the beginning
    for a partition without one — and advanced by each record delivered). A partition whose
    records are dropped is sought back to that offset, so they are fetched again. A record
    past it is not delivered: the partition is sought back likewise and the rest of its
    batch skipped; should the same record still come first after that seek, the offsets in
    between hold no records (a real gap) and it is delivered. A record before it was
    delivered already and is skipped. A changelog partition whose records are dropped (table
    recovery reads them through the same loop) is sought back to the first dropped record,
    also when the whole batch is dropped because the flow is stopped
    (:func:`_seek_changelogs_back`); otherwise changelogs are left to Faust's table
    recovery."""
    faust_seek = consumer_class.seek

    async def seek(self: Any, partition: Any, offset: int) -> None:
        await faust_seek(self, partition, offset)
        _expected(self)[partition] = offset

    async def getmany(self: Any, timeout: float) -> AsyncIterator[Any]:
        records, active = await self._wait_next_records(timeout)
        generation = self.app.consumer_generation_id
        if records is None or self.should_stop:
            return
        if not self.flow_active:  # Faust's own answer: back to the committed offsets
            await _seek_changelogs_back(self, records)
            try:
                await self.perform_seek()
            except (IllegalStateError, KafkaError) as exc:  # a rebalance under way
                log.warning("consumer.seek_failed", extra={"error": type(exc).__name__})
            return
        changelogs = self.app.tables.changelog_topics if self.app.tables else ()
        dropped: dict[Any, int] = {}
        for tp, record in self.scheduler.iterate(records):
            if tp in dropped:
                continue
            if (
                not self.flow_active
                or self.app.consumer_generation_id != generation
                or not (active is None or tp in active or tp in self._buffered_partitions)
            ):
                dropped[tp] = record.offset  # Faust drops these without seeking back
                continue
            if tp.topic not in changelogs:
                admitted = _admit(self, tp, record.offset)
                if admitted is None:
                    dropped[tp] = record.offset
                if not admitted:
                    continue
            self.app.monitor.track_tp_end_offset(tp, self.highwater(tp))
            yield tp, self._to_message(tp, record)
        assigned, nexts = self.assignment(), _expected(self)
        for tp, first in dropped.items():  # fetched again from where they must continue
            if tp in assigned:  # a changelog from its first dropped record (recovery)
                await self.seek(tp, first if tp.topic in changelogs else nexts.get(tp, first))

    consumer_class.getmany = getmany
    consumer_class.seek = seek


def _track_key_partitions(collection_class: Any) -> None:
    """Faust's memory store forgets, after a rebalance, the keys of partitions it no longer
    owns — but only keys it read from the changelog: it records no partition for a key the
    worker itself wrote. A worker kept the states of citizens whose partition moved to
    another worker; had that worker erased a citizen (``schakel forget``) and compaction
    removed the tombstone before the partition came back, the old state would come back with
    it. Here every key written or deleted through the table records its partition in the
    store (``Collection._maybe_set_key_ttl``/``_maybe_del_key_ttl`` receive it, for windowed
    tables), so the store's own clean-up after recovery covers every key."""
    faust_set = collection_class._maybe_set_key_ttl
    faust_del = collection_class._maybe_del_key_ttl

    def _maybe_set_key_ttl(self: Any, key: Any, partition: int) -> None:
        partitions = getattr(self.data, "_key_partition", None)
        if partitions is not None:
            partitions[key] = partition
        faust_set(self, key, partition)

    def _maybe_del_key_ttl(self: Any, key: Any, partition: int) -> None:
        partitions = getattr(self.data, "_key_partition", None)
        if partitions is not None:
            partitions.pop(key, None)
        faust_del(self, key, partition)

    collection_class._maybe_set_key_ttl = _maybe_set_key_ttl
    collection_class._maybe_del_key_ttl = _maybe_del_key_ttl


def _report_input_gaps(consumer_class: Any) -> None:
    """Faust takes a jump in a partition's offsets for a gap that holds no records
    (compaction, transaction markers) and acknowledges the offsets in between. On a changelog
    that is routine; on an input topic (plain producers, no compaction) it means records were
    skipped — as with the defects above — so it is logged as a warning (topic, partition and
    offsets only)."""
    faust_add_gap = consumer_class._add_gap

    async def _add_gap(self: Any, tp: Any, offset_from: int, offset_to: int) -> None:
        if not self.app.tables or tp.topic not in self.app.tables.changelog_topics:
            log.warning(
                "consumer.input_gap",
                extra={
                    "topic": tp.topic,
                    "partition": tp.partition,
                    "from_offset": offset_from,
                    "to_offset": offset_to,
                },
            )
        await faust_add_gap(self, tp, offset_from, offset_to)

    consumer_class._add_gap = _add_gap


def _verify_only_positioned_partitions(thread_class: Any) -> None:
    """Faust's livelock detector (every 2.5 commit intervals, outside rebalances) reads each
    assigned partition's fetch position through aiokafka's ``TopicPartitionState.position``,
    which *asserts* that there is one. A partition has none from its assignment until the
    fetcher has sought it, and again while it awaits an offset reset (``seek_to_beginning``,
    an out-of-range fetch): the detector's ``AssertionError`` then crashed the whole worker
    (seen once in CI, in the first worker right after the second had left the group). A
    partition without a position is not stalled, it is being sought: the check skips it."""
    faust_verify = thread_class.verify_event_path

    def verify_event_path(self: Any, now: float, tp: Any) -> None:
        from aiokafka.structs import TopicPartition

        subscription = self._ensure_consumer()._fetcher._subscriptions.subscription
        assignment = subscription.assignment if subscription is not None else None
        if assignment is not None:
            state = assignment.state_value(TopicPartition(tp.topic, tp.partition))
            if state is not None and not state.has_valid_position:
                return
        faust_verify(self, now, tp)

    thread_class.verify_event_path = verify_event_path


def seek_before_resume() -> None:
    """Install the corrections of the module docstring that apply to every profile
    (idempotent): seek before resuming, delivery without holes, gaps on input topics logged,
    keys of partitions moved away forgotten, the livelock check only on partitions with a
    fetch position."""
    from faust.tables.base import Collection
    from faust.tables.recovery import Recovery
    from faust.transport.consumer import Consumer
    from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

    if getattr(Recovery, "_schakel_seek_before_resume", False):
        return
    Recovery.on_recovery_completed = _on_recovery_completed
    AIOKafkaConsumerThread.seek_to_committed = _seek_to_committed
    _deliver_each_partition_in_order(Consumer)
    _track_key_partitions(Collection)
    _report_input_gaps(Consumer)
    _verify_only_positioned_partitions(AIOKafkaConsumerThread)
    Recovery._schakel_seek_before_resume = True


def use_committed_highwaters(bootstrap: str) -> None:
    """Make Faust's table recovery under exactly-once read each changelog partition to its
    last committed record (idempotent; Apache Kafka profiles).

    Faust 0.15.3 takes the "highwater" of a changelog partition under transactions from
    ``AIOKafkaConsumer.last_stable_offset``: a value cached from the last fetch response,
    ``None`` for a partition not fetched since it was assigned — which after a rebalance it
    has not been (its partitions are paused). Faust then takes the changelog for empty and
    recovers nothing: a worker that takes over a partition keeps whatever it held for it
    before (or nothing) and carries on from the committed offsets, losing every state change
    the previous owner made — seen as events missing from timelines after a hand-over. Here
    the highwater is asked of the broker (``read_committed``) and moved back to the last
    record (:func:`streams.offsets.committed_record_ends`), so that recovery neither stops
    early nor waits for a transaction marker that never arrives as a record.

    It is asked once no transaction is pending on the partition
    (:func:`streams.offsets.settled_ends`). Faust recovers a partition the worker *keeps* in
    a rebalance again, from where its last recovery ended, applying the worker's own writes
    since; the rebalance follows right on the worker's commit at the revoke
    (:mod:`streams.transactions`, defect 4), whose markers Kafka writes after
    ``commit_transaction`` has returned. Read before they were, the changelog ends one commit
    early and recovery puts back the states of the commit before, while the outputs and
    offsets of the last one stand. A partition still pending after the wait (a transaction
    that hangs) is logged (``worker.recovery_unsettled``) and recovered to its last stable
    record as before."""
    from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

    from streams.offsets import SETTLE_PATIENCE_S, settled_ends

    if getattr(AIOKafkaConsumerThread, "_schakel_committed_highwaters", False):
        return
    faust_highwaters = AIOKafkaConsumerThread._highwaters

    def read_ends(partitions: list[Any]) -> dict[Any, int]:
        ends, pending = settled_ends(bootstrap, partitions)
        if pending:
            log.warning(
                "worker.recovery_unsettled",
                extra={
                    "partitions": sorted(f"{tp.topic}:{tp.partition}" for tp in pending),
                    "waited_s": SETTLE_PATIENCE_S,
                },
            )
        return ends

    async def _highwaters(self: Any, partitions: list[Any]) -> Mapping[Any, int]:
        if not self.consumer.in_transaction:
            return await faust_highwaters(self, partitions)  # type: ignore[no-any-return]
        # blocking reads off the consumer thread's loop: its heartbeats keep running
        return await asyncio.get_running_loop().run_in_executor(None, read_ends, list(partitions))

    AIOKafkaConsumerThread._highwaters = _highwaters
    AIOKafkaConsumerThread._schakel_committed_highwaters = True
