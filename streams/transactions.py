"""The worker's Kafka transport on Apache Kafka: idempotent producers, and exactly-once
processing through Faust's transactions with the four defects that make them unsafe fixed.

Which profile gets what (docs/operations.md, "Delivery guarantees"):

- ``embedded`` (Tansu): Faust's own transport, ``at_least_once``. The broker has no usable
  transactions; a record re-processed after a crash re-emits its signal changes under the
  same deterministic event id (:func:`streams.signals.signal_event_id`).
- ``kafka`` / ``production`` (Apache Kafka): :class:`TransactionalApp` —
  ``processing_guarantee="exactly_once"``. Every producer is idempotent with ``acks=all``.
  The outputs of a record (signal changes, the timeline snapshot, the changelog write of the
  citizen's state, a dead letter) and the consumer offset past it are committed in one Kafka
  transaction per input partition; a worker killed at any point leaves either all of them or
  none for a ``read_committed`` reader (the worker's own table recovery reads the changelog
  ``read_committed``; so does the read model).

What Faust 0.15.3 gets wrong, and what this module does about it
-----------------------------------------------------------------
1. *Transaction chosen by the output's partition and topic group.* Faust's
   ``TransactionManager.send`` picks the transactional producer
   ``{app}-{topic group of the output topic}-{output partition}``. Output topics that the
   worker does not consume (signals, timelines, dead letters) have no topic group: every send
   fails with ``KeyError``. A single-partition output (dead letters) would in any case land in
   the transaction of partition 0, which another worker may own. Here a record produced while
   processing an input record joins the transaction of *that input partition*; a record sent
   outside processing (a live clock tick, a changelog write that carries its partition) joins
   the transaction of the co-partitioned partition it is written to.
2. *Commit while a record is half processed.* Faust commits on a timer task, concurrently
   with the agent: a transaction could carry part of a record's outputs while its offset is
   not yet acknowledged (a crash then re-emits those outputs: duplicates). The agent runs
   each record inside :meth:`ExactlyOnceManager.processing` (also acknowledging the record
   there), and a commit waits for it: a transaction holds whole records only. The offsets
   to commit are chosen after that wait, among every partition with acknowledged records
   (Faust lists the partitions before it: the first record of a partition, acknowledged
   while the commit waited, had its outputs committed without its offset, and a restarted
   worker sent its signal events a second time).
3. *Commit before the changelog writes are produced.* Table writes wait in Faust's producer
   buffer; Faust's transactional commit does not drain it (its at-least-once commit does), so
   a state change could fall into the next transaction, after the offset that caused it was
   committed: lost on a crash. :class:`TrackedBuffer` counts what was queued and what was
   handed to the producer, and a commit waits until the two are equal.

4. *A rebalance forgets what was processed since the last commit.* At a revoke Faust drops
   the acknowledged offsets of the revoked partitions — with the eager protocol, every
   assigned one — and only then commits: nothing. The outputs of those records stayed in
   the open transactions of the partitions the worker kept; table recovery then read the
   changelog to its last commit and put back the states of then; the records, delivered
   again, were processed once more, and the first outputs were committed with the second
   (a signal raised on one arrival order and committed, its state replaced by one that
   never told it: never withdrawn). :meth:`CommitBetweenRecords.on_partitions_revoked`
   commits them first. Recovery also waits for the markers of that commit
   (:func:`streams.recovery.use_committed_highwaters`).

Not guaranteed: exactly-once for consumers reading ``read_uncommitted`` (they also see
aborted records); for the audit trail (its own producer, acknowledged before an API answer);
or across a change of the partition count.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any

import faust
from faust.exceptions import ProducerSendError
from faust.transport.consumer import TransactionManager
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.transport.producer import ProducerBuffer
from faust.types import TP, FutureMessage

from streams.fetch_wait import ShortFetchThread
from streams.webserver import WorkerApp

IDEMPOTENT = {"acks": "all", "enable_idempotence": True}
"""Producer settings of every worker producer on Apache Kafka: a write is acknowledged once
every in-sync replica has it (``min.insync.replicas=2`` of 3), and a retry after a lost
acknowledgement (a leader that died) is not written twice."""


class TrackedBuffer(ProducerBuffer):  # type: ignore[misc]  # Faust's classes are untyped
    """Faust's producer buffer that knows when everything queued has been handed to the
    producer (defect 3 in the module docstring)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.queued = 0
        self.handed = 0
        self.caught_up = asyncio.Event()
        self.caught_up.set()

    def put(self, fut: FutureMessage) -> None:
        self.queued += 1
        self.caught_up.clear()
        super().put(fut)

    async def _send_pending(self, fut: FutureMessage) -> None:
        try:
            await super()._send_pending(fut)
        finally:
            self.handed += 1
            if self.handed >= self.queued:
                self.caught_up.set()

    async def drain(self) -> None:
        """Return once every record queued so far has been handed to the producer."""
        while self.handed < self.queued:
            await self.caught_up.wait()


class TrackedProducer(faust_aiokafka.Producer):  # type: ignore[misc]
    """aiokafka producer of Faust with a :class:`TrackedBuffer` (Faust's own ``flush`` gives
    up on its buffer after 0.1 s without a send: a commit could then pass records still
    queued in it)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        buffer = TrackedBuffer(loop=self.loop, beacon=self.beacon)
        buffer.app = self.app
        self.buffer = buffer


class IdempotentProducer(TrackedProducer):
    """:class:`TrackedProducer` with :data:`IDEMPOTENT` settings (Faust sets them only for
    its transactional producers)."""

    def _settings_extra(self) -> Mapping[str, Any]:
        return IDEMPOTENT


class ExactlyOnceManager(TransactionManager):  # type: ignore[misc]
    """Faust's transaction manager with defects 1 and 2 fixed (module docstring)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self._processing = asyncio.Lock()

    @contextlib.asynccontextmanager
    async def processing(self, event: Any) -> AsyncIterator[None]:
        """Process one input record: no commit starts until the block has ended, and the
        record is acknowledged at its end (its offset then belongs to the next commit,
        together with its outputs)."""
        async with self._processing:
            yield
            event.ack()

    @contextlib.asynccontextmanager
    async def between_records(self) -> AsyncIterator[None]:
        """Hold off the next record for the block (a commit)."""
        async with self._processing:
            yield

    async def _flush_buffer(self) -> None:
        buffer = self.producer.buffer
        if isinstance(buffer, TrackedBuffer):
            await buffer.drain()

    async def _start_transactions(self, tids: Iterable[str]) -> None:
        """Start a transactional producer per assigned partition and begin its transaction
        (a partition kept in a rebalance keeps its open one). Faust logs a failure here and
        carries on, and the partition's outputs then fail to
        send; here the failure propagates and the worker stops (a restart retries)."""
        producer = self.producer
        for transactional_id in tids:
            if transactional_id not in producer._transaction_producers:
                started = producer._new_producer(transactional_id=transactional_id)
                await started.start()
                producer._transaction_producers[transactional_id] = started
                producer._trn_locks[transactional_id] = asyncio.Lock()
            async with producer._trn_locks[transactional_id]:
                transaction = producer._transaction_producers[transactional_id]
                if not transaction._txn_manager.is_in_transaction():  # kept in a rebalance
                    await transaction.begin_transaction()

    def _transactional_id(self, topic: str, partition: int) -> str:
        group = self.app.assignor.group_for_topic(topic)
        return f"{self.app.conf.id}-{group}-{partition}"

    async def send(  # noqa: PLR0917 - Faust's signature
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        partition: int | None,
        timestamp: float | None,
        headers: Any,
        *,
        transactional_id: str | None = None,
    ) -> Any:
        event = faust.current_event()
        target = self.consumer.key_partition(topic, key, partition)
        if event is not None:  # an output of the record being processed
            tp = event.message.tp
            transactional_id = self._transactional_id(tp.topic, tp.partition)
        elif target is not None and topic in self.app.tables.changelog_topics:
            # a table write, sent by Faust's buffer task: the partition of its record
            transactional_id = self._transactional_id(topic, target)
        elif target is not None and topic in getattr(self.app, "co_partitioned_outputs", ()):
            # a timeline snapshot written by the commit hook (below) in the partition of its
            # citizen: that partition's transaction (the group of the table's changelog)
            changelog = next(iter(self.app.tables.changelog_topics))
            transactional_id = self._transactional_id(changelog, target)
        else:  # a live clock tick: not part of processing (see the module docstring)
            transactional_id = None
        return await self.producer.send(
            topic, key, value, target, timestamp, headers, transactional_id=transactional_id
        )

    async def commit(self, offsets: Mapping[TP, int], start_new_transaction: bool = True) -> bool:
        """Commit the offsets of every partition in its transaction, all partitions at once
        (Faust commits one after the other, with the agent waiting), between two records."""
        by_transaction: dict[str, dict[TP, int]] = defaultdict(dict)
        for tp, offset in offsets.items():
            by_transaction[self._transactional_id(tp.topic, tp.partition)][tp] = offset
        await self._flush_buffer()  # under the lock: CommitBetweenRecords._commit_tps
        await asyncio.gather(
            *(
                self._commit_one(transactional_id, tp_offsets, start_new_transaction)
                for transactional_id, tp_offsets in by_transaction.items()
            )
        )
        return True

    async def _commit_one(
        self, transactional_id: str, offsets: Mapping[TP, int], start_new_transaction: bool
    ) -> None:
        producer = self.producer
        lock = producer._trn_locks.get(transactional_id)
        if lock is None:  # revoked in a rebalance: processed again by the new owner
            self.log.warning("commit.no_transaction", extra={"id": transactional_id})
            return
        async with lock:
            transaction = producer._transaction_producers[transactional_id]
            await transaction.send_offsets_to_transaction(offsets, self.app.conf.id)
            await transaction.commit_transaction()
            if start_new_transaction:
                await transaction.begin_transaction()


class CommitBetweenRecords(faust_aiokafka.Consumer):  # type: ignore[misc]
    """Faust's consumer whose commit (choosing the offsets to commit, and committing them in
    the transactions) runs between two records under exactly-once: Faust chooses the offsets
    first and commits later, and a record processed in between would have its outputs in
    the committed transaction but not its offset (defect 2 in the module docstring); and
    which commits before a rebalance makes Faust forget what to commit (defect 4). Its
    consumer waits briefly for a fetch (:mod:`streams.fetch_wait`), on every profile."""

    def _new_consumer_thread(self) -> ShortFetchThread:
        return ShortFetchThread(self, loop=self.loop, beacon=self.beacon)

    async def on_partitions_revoked(self, revoked: set[TP]) -> None:
        """Under exactly-once, stop the flow, let the record in progress end and commit every
        acknowledged offset with its outputs (Faust's ``wait_empty``), then hand over to
        Faust, which first drops the acknowledged offsets of the revoked partitions (defect 4
        in the module docstring). A commit that fails here (a producer fenced: the member was
        dropped from the group and another owns the partition now) crashes the worker, as at
        any other commit — its states are ahead of what was committed — and Faust's own part
        still runs. At least once, the signal events held back (:mod:`streams.held`) are
        released after Faust's part, before the rebalance goes on."""
        if (
            revoked
            and self.in_transaction
            and isinstance(self.transactions, ExactlyOnceManager)
            and not self.app.should_stop
            and self.assignment()
        ):
            self.stop_flow()
            self.app.flow_control.suspend()
            try:
                await self.wait_empty()
            except Exception as exc:  # raised into Faust's rebalance, it skipped Faust's part
                await self.crash(exc)
        await super().on_partitions_revoked(revoked)
        if revoked and not self.in_transaction:
            # at least once: Faust's commit at the revoke may only have waited for a commit
            # already running, whose release covered less; what is held back goes out before
            # another worker takes the partitions (else it could follow what that one sends)
            try:
                await signals_released(self.app)
            except Exception as exc:
                await self.crash(exc)

    async def _commit_tps(self, tps: Iterable[TP], start_new_transaction: bool) -> bool:
        transactions = self.transactions if self.in_transaction else None
        if isinstance(transactions, ExactlyOnceManager):
            async with transactions.between_records():
                before_commit(self.app)
                # Faust listed the partitions with acknowledged records before the commit
                # waited for the record in progress; one acknowledged meanwhile (the first
                # record of a partition since the worker started) was missing, and its
                # outputs went into the committed transaction without its offset.
                tps = list(self._filter_tps_with_pending_acks())
                return bool(await super()._commit_tps(tps, start_new_transaction))
        return await self._commit_at_least_once(tps, start_new_transaction)

    async def _commit_at_least_once(self, tps: Iterable[TP], start_new_transaction: bool) -> bool:
        """Faust's ``_commit_tps`` with the commit hook run right before the offsets are
        chosen (synchronously: no record runs in between), the signal events held back for
        those records released (:func:`signals_released`; a failure there crashes the
        worker, nothing committed), and every record queued so far handed to the producer
        before the offsets are committed (Faust's own producer flush, which the commit then
        awaits, gives up on its buffer after 0.1 s)."""
        before_commit(self.app)
        offsets = self._filter_committable_offsets(tps)
        try:  # the signal events of those records, held back for their state, handed over
            await signals_released(self.app)
        except Exception as exc:
            await self.crash(exc)
            return False
        buffer = self.app.producer.buffer
        if isinstance(buffer, TrackedBuffer):
            await buffer.drain()
        if not offsets:
            return False
        try:
            await self._handle_attached(offsets)
        except ProducerSendError as exc:
            await self.crash(exc)
            return False
        return bool(
            await self._commit_offsets(offsets, start_new_transaction=start_new_transaction)
        )


def before_commit(app: Any) -> None:
    """Run the app's commit hook (``app.before_commit``, set by the worker to
    :meth:`streams.processor.Processor.flush`): the outputs written once per commit interval
    are handed to the producer before the offsets to commit are chosen, so no offset is
    committed before the state and snapshot of the records before it (the producer is
    flushed, or the transaction's buffer drained, before the commit itself)."""
    hook = getattr(app, "before_commit", None)
    if hook is not None:
        hook()


async def signals_released(app: Any) -> None:
    """Await the app's release hook (``app.signals_released``, set by the worker to
    :meth:`streams.processor.Processor.released`): at least once, signal events wait for the
    changelog write of their state (:mod:`streams.held`), and an offset may be committed only
    once the signal events of the records before it were handed to the producer."""
    hook = getattr(app, "signals_released", None)
    if hook is not None:
        await hook()


class TransactionalTransport(faust_aiokafka.Transport):  # type: ignore[misc]
    """Faust's aiokafka transport with :class:`IdempotentProducer`,
    :class:`CommitBetweenRecords` and :class:`ExactlyOnceManager`."""

    Consumer = CommitBetweenRecords
    Producer = IdempotentProducer
    TransactionManager = ExactlyOnceManager


class AtLeastOnceTransport(faust_aiokafka.Transport):  # type: ignore[misc]
    """Faust's own aiokafka transport with the commit hook of :class:`CommitBetweenRecords`
    and a :class:`TrackedProducer` (the embedded profile: at-least-once, no idempotent
    producer)."""

    Consumer = CommitBetweenRecords
    Producer = TrackedProducer


class AtLeastOnceApp(WorkerApp):
    """The worker app on the embedded broker: Faust's transport plus the commit hook."""

    def _new_transport(self) -> Any:
        return AtLeastOnceTransport(self.conf.broker_consumer, self)

    def _new_producer_transport(self) -> Any:
        return AtLeastOnceTransport(self.conf.broker_producer, self)


class TransactionalApp(WorkerApp):
    """The worker app on Apache Kafka (module docstring): idempotent producers, and
    exactly-once processing when configured with ``processing_guarantee="exactly_once"``."""

    def _new_transport(self) -> Any:
        return TransactionalTransport(self.conf.broker_consumer, self)

    def _new_producer_transport(self) -> Any:
        return TransactionalTransport(self.conf.broker_producer, self)


def processing_guarantee(profile: str) -> str:
    """Faust's ``processing_guarantee`` for a settings profile (module docstring)."""
    return "at_least_once" if profile == "embedded" else "exactly_once"


def record_scope(app: faust.App, event: Any) -> contextlib.AbstractAsyncContextManager[None]:
    """The scope the agent processes ``event`` in: :meth:`ExactlyOnceManager.processing`
    under exactly-once, else nothing (Faust acknowledges the record after the body)."""
    transactions = app.consumer.transactions if app.in_transaction else None
    if isinstance(transactions, ExactlyOnceManager):
        return transactions.processing(event)
    return contextlib.nullcontext()
