"""The body of the worker's agent: one record in, state and outputs updated.

Faust-facing but thin: decoding, the timeline and the rules are the pure functions of
:mod:`streams.ingest`, :mod:`streams.state` and :mod:`streams.rules`. Per record the worker
sends the signal changes at once (without waiting for each acknowledgement; at least once,
after a changelog write of the state that tells them: below) and marks the citizen *dirty*;
the whole-citizen outputs — the timeline snapshot and the new state on the table changelog —
are written by :meth:`Processor.flush`, once per dirty citizen, which the app calls at the
start of every offset commit (``streams.transactions``, the commit hook), before the offsets
to commit are chosen. So a citizen with many records in one commit interval costs one
snapshot and one changelog write, and an offset is never committed before the state and
snapshot of the records before it have been handed to the producer (Faust flushes the
producer before it commits; under exactly-once all of it is in one transaction).

Everything a record changes in the state — the event, the signals told, and the signal events
it emits (``uitvoer``) — is changed before the record's first ``await``, so a flush (which
may run while a record waits for a send, under at-least-once) never writes half a record. If
that part raises (a defect; or an outage, retried), the citizen's state is restored to what it
was before the record (:meth:`~streams.state.CitizenState.restore`): a dead-lettered record
leaves no trace, and re-published later it is processed as new. A stop does not cut a record
short once it changed the state: a stop that cancels the agent in the middle of a record
commits once more afterwards, so the record's signal events are all handed over before the
cancellation goes on (:meth:`Processor._send`), and that commit carries them with the state
that told them.

At least once (the embedded broker), a crash can therefore lose the outputs of records after
the last commit, which are then delivered again — not necessarily in the order of before:
each topic resumes at its own committed offset. So no signal event may reach the topic
before the state that told it: a step that emits any hands the citizen's state to the
changelog at once, and its signal events are held back until the broker acknowledged that
write (:meth:`Processor._send`, :mod:`streams.held`; the record does not wait). Otherwise a
signal raised on the facts known before a crash, its state lost, could be left standing on
the topic when the facts came again in another order that never raised it (seen in the kill
tests). If the state had reached the changelog, the record delivered again is a duplicate:
the signal events it caused are re-sent from the state (``uitvoer``, remembered by the
record's topic, partition and offset, so a copy re-published by an adapter does not trigger
this; each followed by the later events of the same signal) and the citizen's snapshot is
written again. If it had not, no signal event of the record had been sent either, and the
record is processed anew: its changes get the same deterministic ids when it comes in the
same order. Either way nothing is lost, and a copy that slips through carries the id of its
original.

Exactly once (Apache Kafka, ``resend_redelivered=False``), a record's signal events and the
state that holds it are committed in one transaction: a record the state already holds had
its signal events committed with it, and a delivery again (its offset not committed with it)
re-sends nothing — re-sending would commit them twice.

An outage is not bad data: a :class:`~schemas.exceptions.TransientError` (the schema registry
or the broker unreachable) while processing a record is retried with backoff until it passes.
The record waits (and, the agent having ``concurrency=1``, the worker's input with it); it is
never dead-lettered or skipped for it, and :attr:`Processor.unavailable` (``/ready``) is true
meanwhile. The schema ids of everything the worker writes are looked up before a record may
change the state, so a retry never meets a half-applied record. The producer not taking an
output (:class:`~streams.exceptions.OutputUnavailable`: its buffer still full after its
request timeout in a long broker outage, or a retriable Kafka error) is an outage too; for a
signal event it is waited out at that send, the record staying applied. A send that fails
for good undoes the record like a failing rule does, and dead-letters it — except a signal
event held back at least once, whose step is on the changelog already: that failure crashes
the worker at the next commit (:meth:`Processor._send`).

An event that would make its citizen's state or timeline snapshot larger than Kafka takes
(:mod:`streams.sizes`) is refused like one beyond the history limit — undone and
dead-lettered (:class:`~streams.sizes.OutputTooLarge`) before anything of it is written — so
the flush never hands Kafka a record it refuses. A clock tick is checked the same way,
citizen by citizen, since the signals it opens or resolves are kept in the state and shown in
the snapshot: a tick that would make a citizen's outputs too large is not applied to that
citizen — undone, its state, clock and signals as before the tick, nothing of it sent —
logged (``worker.tick_too_large``), and applied to every other citizen it reaches (a
broadcast tick is for a whole partition: one citizen at the limit must not hold back the
clocks of the others). Once the others are done the tick
is dead-lettered once (:class:`~streams.sizes.TickTooLarge`, stage ``accept``, reason
``too-large``, naming the citizens left as they were). Their clocks lag until a tick fits
(docs/operations.md, "Output records too large").
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from typing import Any, Literal

from aiokafka.errors import KafkaError, KafkaTimeoutError
from kafka.partitioner.default import murmur2

from schemas.binding import event_headers
from schemas.exceptions import SerdeError, TransientError
from schemas.pseudonym import is_pseudonym
from schemas.serde import RecordDeserializer, RecordSerializer
from schemas.settings import DEFAULT_TIMEZONE, zone_named
from schemas.wire import KLOK_SCHEMA, VERGETEN_SCHEMA, Wire
from streams.batch_decode import FastIngest
from streams.exceptions import OutputUnavailable
from streams.held import HeldSignals
from streams.ingest import IngestError, checked_subject, withheld_as
from streams.metrics import WorkerMetrics
from streams.model import TimelineEvent
from streams.outputs import CitizenOutputs
from streams.sizes import (
    PRODUCER_MAX_REQUEST_BYTES,
    RECORD_OVERHEAD,
    OutputTooLarge,
    TickTooLarge,
)
from streams.state import (
    CitizenState,
    Engine,
    Outcome,
    StoredEvent,
    advance_clock,
    apply_event,
    erase,
)

log = logging.getLogger("schakel.streams")

ClockMode = Literal["live", "replay"]
LIVE_ZONE = zone_named(DEFAULT_TIMEZONE)
"""Where the live clock's today is the date unless the worker says otherwise
(``SCHAKEL_TIMEZONE``, :attr:`schemas.settings.WorkerSettings.timezone`)."""
RETRY_FIRST_S = 0.5
"""First wait after a transient failure; doubled per attempt up to :data:`RETRY_MAX_S`."""
RETRY_MAX_S = 30.0
WARM_CITIZENS = 4096
"""How many recently changed citizens keep the rules' results between flushes (the rest
recompute every rule at their next event: the same result, more work)."""
Send = Callable[..., Awaitable[Any]]
Queue = Callable[..., Any]
"""A synchronous send: hands a record to the producer's buffer (Faust's ``send_soon``)."""
StoreState = Callable[[str, CitizenState, int], Awaitable[Any] | None]
"""Writes a citizen's state to the table (local store and changelog) in a given partition;
returns what completes when the broker has the changelog write (Faust's ``FutureMessage``),
or ``None`` for a table written at once (a plain dict)."""
DeleteState = Callable[[str, int], None]
"""Deletes a citizen's table entry (local store, and a tombstone on the changelog) in a given
partition."""


def partition_of(subject: str, partitions: int) -> int:
    """The partition a pseudonym key lands on (Kafka's default murmur2 partitioner)."""
    return int(murmur2(subject.encode("ascii")) & 0x7FFFFFFF) % partitions


@dataclass(frozen=True)
class Message:
    """What the processor needs of one consumed record."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: Iterable[tuple[str, bytes]]
    timestamp: int | None = None
    """The Kafka record timestamp (ms since the epoch): when the record was registered."""


class Processor:
    """Processes records of the event topics and of ``schakel.klok`` of ``wire`` for one
    worker."""

    def __init__(
        self,
        *,
        wire: Wire,
        table: Any,
        engine: Engine,
        serializer: RecordSerializer,
        deserializer: RecordDeserializer,
        send_signal: Send,
        send_snapshot: Send,
        queue_snapshot: Queue,
        send_deadletter: Send,
        metrics: WorkerMetrics,
        clock_mode: ClockMode,
        history_limit: int,
        partitions: int,
        source: str,
        on_due: Callable[[str, date], None] = lambda subject, due: None,
        store_state: StoreState | None = None,
        delete_state: DeleteState | None = None,
        resend_redelivered: bool = True,
        max_output_bytes: int = PRODUCER_MAX_REQUEST_BYTES - RECORD_OVERHEAD,
        zone: tzinfo = LIVE_ZONE,
    ) -> None:
        """``send_snapshot`` (awaited: erasure tombstones) and ``queue_snapshot`` (flush) write
        to the timeline topic; ``store_state`` writes the table (default: ``table[subject] =
        state``, for a plain dict); ``delete_state`` deletes a table entry (default:
        ``table.pop(subject, None)``); ``resend_redelivered``: a record delivered again re-sends
        the signal events it caused (at least once; not under exactly-once, module
        docstring); ``max_output_bytes``: the largest state or snapshot record (key, value and
        headers) an event may leave its citizen with (:func:`streams.sizes.output_limit`),
        and the largest dead letter: one that would be larger is written without the
        original's value (:func:`schemas.binding.deadletter_record`); ``zone``: where the
        live clock's today is the date (the worker's ``SCHAKEL_TIMEZONE``)."""
        self.wire = wire
        self.table = table
        self.engine = engine
        self.deserializer = deserializer
        self.ingest = FastIngest(deserializer, wire)
        """Decodes and checks input records: :func:`streams.ingest.decode_event`'s results
        and errors, with schemas and topic checks looked up once."""
        self.send_signal = send_signal
        self.send_snapshot = send_snapshot
        self.queue_snapshot = queue_snapshot
        self.store_state: StoreState = store_state or (
            lambda subject, state, partition: table.__setitem__(subject, state)
        )
        self.delete_state: DeleteState = delete_state or (
            lambda subject, partition: table.pop(subject, None)
        )
        self.send_deadletter = send_deadletter
        self.metrics = metrics
        self.clock_mode = clock_mode
        self.zone = zone
        self.history_limit = history_limit
        self.partitions = partitions
        self.on_due = on_due
        self.resend_redelivered = resend_redelivered
        self.max_output_bytes = max_output_bytes
        self.outputs = CitizenOutputs(wire, serializer, deserializer, source)
        """The records written for a citizen (signal events, snapshot, state), encoded as the
        batch path encodes them."""
        self._waiting = 0
        """How many waits for an outage are going on (the agent's, and the release of held
        signal events: :attr:`unavailable`)."""
        self.held = HeldSignals()
        """At least once: signal events held back until their state is on the changelog."""
        self.retry_first_s = RETRY_FIRST_S
        self.retry_max_s = RETRY_MAX_S
        self._prepared = False
        self._dirty: dict[str, tuple[CitizenState, date | None]] = {}
        """Citizens changed (or re-delivered) since the last flush, with their clock."""
        self._flushes = 0
        """How many flushes have run (:meth:`_undo_point`: did one run during a step?)."""
        self._warm: OrderedDict[str, CitizenState] = OrderedDict()
        """The last :data:`WARM_CITIZENS` citizens flushed, whose states keep the rules'
        results for their next event (:meth:`CitizenState.drop_derived` on the others)."""

    @property
    def unavailable(self) -> bool:
        """True while a record, or the release of held signal events, waits for an outage to
        end (``/ready`` answers 503)."""
        return self._waiting > 0

    def today(self) -> date | None:
        """Today's date in :attr:`zone` on the live clock; ``None`` on the replay clock."""
        return datetime.now(self.zone).date() if self.clock_mode == "live" else None

    async def handle(self, message: Message) -> None:
        """Process one record; never raises. Bad data is dead-lettered and counted; an outage
        (:class:`~schemas.exceptions.TransientError`) is retried with backoff until it passes
        (logged as ``worker.outage_retry``, counted in ``schakel_worker_outage_retries_total``)."""
        started = time.perf_counter()
        try:
            await self._waiting_out(lambda: self._process(message), message)
        finally:
            self.metrics.latency.observe(time.perf_counter() - started)

    async def _waiting_out(self, attempt: Callable[[], Awaitable[None]], message: Message) -> None:
        """Run ``attempt`` until it passes without a
        :class:`~schemas.exceptions.TransientError`: each one is logged
        (``worker.outage_retry``, with ``message``'s place), counted and waited out with
        backoff, :attr:`unavailable` true meanwhile. Other exceptions pass through."""
        wait = self.retry_first_s
        waiting = False
        try:
            while True:
                try:
                    await attempt()
                    return
                except TransientError as exc:
                    if not waiting:
                        waiting = True
                        self._waiting += 1
                    self.metrics.outage_retries.labels(type(exc).__name__).inc()
                    log.warning(
                        "worker.outage_retry",
                        extra={
                            "topic": message.topic,
                            "partition": message.partition,
                            "offset": message.offset,
                            "error": type(exc).__name__,
                            "retry_in_s": wait,
                        },
                    )
                    await asyncio.sleep(wait)
                    wait = min(wait * 2, self.retry_max_s)
        finally:
            if waiting:
                self._waiting -= 1

    def _prepare(self) -> None:
        """Look up the schema id of everything this worker writes (signals, snapshots, the
        state on the changelog), once: afterwards writing needs no registry, so a registry
        outage can only stop a record before it changed anything."""
        if self._prepared:
            return
        self.outputs.prepare()
        self._prepared = True

    async def _process(self, message: Message) -> None:
        """One attempt at one record: dead-letters bad data; raises a
        :class:`~schemas.exceptions.TransientError` for the caller to retry."""
        try:
            self._prepare()
            if message.topic == self.wire.klok:
                await self._klok(message)
            else:
                await self._event(message)
        except IngestError as exc:
            await self._deadletter(message, exc.stage, exc.reason, exc)
        except TransientError:
            raise  # an outage, not bad data: retried by handle()
        except Exception as exc:  # nothing may vanish: dead-letter whatever went wrong
            log.exception(
                "worker.process_failed",
                extra={
                    "topic": message.topic,
                    "partition": message.partition,
                    "offset": message.offset,
                },
            )
            await self._deadletter(message, "process", type(exc).__name__, exc)

    async def _deadletter(
        self, message: Message, stage: str, reason: str, exc: BaseException
    ) -> None:
        letter = self.outputs.deadletter(
            message,
            stage=stage,
            reason=reason,
            error=exc,
            limit=self.max_output_bytes,
            time=datetime.now(UTC).isoformat(timespec="milliseconds"),
        )
        await self._handed(
            self.send_deadletter, key=letter.key, value=letter.value, headers=letter.headers
        )
        self.metrics.deadlettered.labels(stage, reason).inc()

    def _state(self, subject: str) -> CitizenState | None:
        """The citizen's current state: the one changed since the last flush, else the
        table's."""
        dirty = self._dirty.get(subject)
        if dirty is not None:
            return dirty[0]
        state: CitizenState | None = self.table.get(subject)
        return state

    def _mark(self, state: CitizenState, clock: date | None) -> None:
        """Write this citizen's state and snapshot at the next :meth:`flush`."""
        self._dirty[state.subject] = (state, clock)

    def flush(self) -> int:
        """Write the state (table and changelog) and the timeline snapshot of every citizen
        changed since the last flush, once each; returns how many. Synchronous — it only hands
        records to the producer's buffer — so the caller can choose the offsets to commit right
        after it without a record being processed in between (the commit hook of
        :mod:`streams.transactions`). A citizen stays dirty until its writes were handed
        over: if one fails, the exception ends the commit and the rest stay for the next.

        A blank state (:attr:`~streams.state.CitizenState.blank`: no event, no erasure
        marker) is not stored: it is a citizen new with a record that was undone after an
        earlier flush had written it (:meth:`_undo_point`), so its table entry is deleted
        (a tombstone on the changelog) and its snapshot tombstoned, leaving no citizen
        without events behind. A state holding only an erasure marker is stored as usual."""
        self._flushes += 1
        dirty = list(self._dirty.items())
        warm = self._warm
        for subject, (state, clock) in dirty:
            partition = partition_of(subject, self.partitions)
            if state.blank:
                self._delete(subject, partition)
                continue
            self.store_state(subject, state, partition)
            value, headers = self.outputs.snapshot(state, clock)
            self.queue_snapshot(
                key=subject.encode(), value=value, headers=headers, partition=partition
            )
            del self._dirty[subject]  # synchronous: nothing changed it meanwhile
            warm.pop(subject, None)
            warm[subject] = state
        while len(warm) > WARM_CITIZENS:  # memory: the rules' results of the others go
            warm.popitem(last=False)[1].drop_derived()
        return len(dirty)

    def _delete(self, subject: str, partition: int) -> None:
        """:meth:`flush` of a blank state: the table entry deleted and the snapshot
        tombstoned, as if the citizen had never been written."""
        self.delete_state(subject, partition)
        headers = self.outputs.tombstone(subject)
        self.queue_snapshot(key=subject.encode(), value=None, headers=headers, partition=partition)
        del self._dirty[subject]
        self._warm.pop(subject, None)

    async def _event(self, message: Message) -> None:
        subject, event = self.ingest.decode(message.value, message.topic)
        state = self._state(subject)
        if state is not None and state.erased(message.timestamp):
            # registered before the citizen's erasure, read after it: erased, not processed
            self.metrics.erased.inc()
            log.info(
                "worker.erased_event_dropped",
                extra={
                    "topic": message.topic,
                    "partition": message.partition,
                    "offset": message.offset,
                },
            )
            return
        if state is None:
            state = CitizenState(subject=subject)
        trigger = f"{message.topic}:{message.partition}:{message.offset}"
        undo = self._undo_point(state, event)
        try:
            outcome = apply_event(
                state,
                StoredEvent(event, message.value),
                self.engine,
                today=self.today(),
                history_limit=self.history_limit,
            )
            sends = self._record(state, outcome, trigger) if outcome.accepted else []
        except BaseException:
            undo()  # dead-lettered (OutputTooLarge too) or retried: as if never read
            raise
        if not outcome.accepted:
            self.metrics.duplicates.inc()
            self._mark(state, outcome.clock)
            await self._resend(state, trigger, message)
            return
        await self._send(state, sends, message, undo)
        self.metrics.events.labels(event.type).inc()

    async def _klok(self, message: Message) -> None:
        try:
            name, record = self.deserializer.decode(message.value)
        except SerdeError as exc:
            raise IngestError(str(exc), stage="decode", reason=type(exc).__name__) from exc
        if name == VERGETEN_SCHEMA:
            subject = checked_subject(record["subject"], what="an erasure")
            await self._forget(subject, message.timestamp)
            return
        if name != KLOK_SCHEMA:  # an event, say: withheld as its own topic would withhold it
            raise IngestError(
                f"{name} on {message.topic}",
                stage="validate",
                reason="wrong-type",
                withhold=withheld_as(record),
            )
        tot: date = record["tot"]
        subject = record["subject"]
        if subject is not None:  # a citizen's tick
            subjects = [checked_subject(subject, what="a clock tick")]
        else:  # a broadcast: every citizen of this partition
            subjects = [  # (a key that is no pseudonym is no citizen's: an old erasure's)
                s
                for s in dict.fromkeys([*self.table.keys(), *self._dirty])
                if is_pseudonym(s) and partition_of(s, self.partitions) == message.partition
            ]
        self.metrics.clock_ticks.labels(record["modus"]).inc()
        trigger = f"{message.topic}:{message.partition}:{message.offset}"
        refused: list[tuple[str, OutputTooLarge]] = []
        for subject in subjects:
            state = self._state(subject)
            if state is None or not state.events:  # unknown, or only an erasure marker
                continue
            undo = self._undo_point(state)
            try:
                outcome = advance_clock(state, tot, self.engine, today=self.today())
                sends = self._record(state, outcome, trigger)
            except OutputTooLarge as exc:  # this citizen only: as before the tick
                undo()
                refused.append((subject, exc))
                log.warning(
                    "worker.tick_too_large",
                    extra={
                        "topic": message.topic,
                        "partition": message.partition,
                        "offset": message.offset,
                        "output": exc.output,
                        "size": exc.size,
                        "limit": exc.limit,
                    },
                )
                continue
            except BaseException:
                undo()
                raise
            if not outcome.changes:
                await self._resend(state, trigger, message)
            await self._send(state, sends, message, undo)
        if refused:  # the others done: the tick is dead-lettered once, naming these
            raise TickTooLarge(tot, refused, self.max_output_bytes)

    async def _forget(self, subject: str, at: int | None) -> None:
        """Right to erasure: replace the state by an erasure marker (``at``, the erasure
        record's Kafka timestamp; see :func:`streams.state.erase`) and tombstone the citizen's
        snapshot. Events registered up to ``at`` are dropped whenever they are read. The same
        erasure read again (redelivery) changes nothing but re-sends the tombstone if the
        citizen has no new timeline since. The marker is written to the table at once (not at
        the next flush), and a pending flush of the erased state is dropped."""
        # the citizen's signal events held back go first: none may follow the erasure
        await self.held.settled()
        previous = self._state(subject)
        if at is None:  # no record timestamp: the erasure holds from now
            at = int(datetime.now(UTC).timestamp() * 1000)
        state = erase(previous, subject, at)
        if state is previous and state.events:  # an older erasure read again: nothing to do
            return
        self._dirty.pop(subject, None)
        self.table[subject] = state
        headers = self.outputs.tombstone(subject)
        await self._handed(self.send_snapshot, key=subject.encode(), value=None, headers=headers)
        self.metrics.forgotten.inc()
        log.info("worker.citizen_forgotten")

    async def _resend(self, state: CitizenState, trigger: str, message: Message) -> None:
        """The same record (topic, partition, offset) delivered again: re-send the signal
        events it caused (same ids), in case the crash that caused the redelivery lost them
        after the state was written (at least once only: module docstring) — each followed by
        the later events of the same signal, from records after it. After a crash the topics
        resume each at its own offset, so such a later record may have come again (and been
        re-sent) before this copy: the signal's last event on the topic is then still its
        current status, and no event of it is missing. Behind any signal events still held
        back (:meth:`_hold`), to keep their order."""
        if not self.resend_redelivered or trigger not in state.uitvoer:
            return
        triggers = list(state.uitvoer)  # oldest first
        decoded = {
            other: [(self.deserializer(payload), payload) for payload in state.uitvoer[other]]
            for other in triggers[triggers.index(trigger) :]
        }
        touched = {(e.data["regel"], e.data["sleutel"]) for e, _ in decoded[trigger]}
        sends = [
            (event, payload)
            for events in decoded.values()
            for event, payload in events
            if (event.data["regel"], event.data["sleutel"]) in touched
        ]
        if self.held.pending:
            self._hold(state, None, sends, message)
            await self.held.room()
        else:
            await self._each(state.subject, sends, message)

    def _record(
        self, state: CitizenState, outcome: Outcome, trigger: str
    ) -> list[tuple[Any, bytes]]:
        """Encode the signal changes of one step, remember them (``uitvoer``) and mark the
        citizen dirty; returns the signal events to send (:meth:`_send`). Synchronous: the
        state is complete before the first send is awaited (module docstring), and a failure
        here leaves nothing sent, so the caller can restore the state. Raises
        :class:`~streams.sizes.OutputTooLarge` before anything is counted if the citizen's
        state or snapshot would now be larger than :attr:`max_output_bytes` (an event or a
        clock tick alike: the flush must never hand Kafka a record it refuses)."""
        sends = self.outputs.signals(outcome.changes)
        if sends:
            state.remember_output(trigger, [payload for _, payload in sends])
        self.outputs.check(state, outcome.clock, self.max_output_bytes)
        self._mark(state, outcome.clock)
        if outcome.due is not None:
            self.on_due(state.subject, outcome.due)
        for change in outcome.changes:
            counter = {
                "gesignaleerd": self.metrics.raised,
                "opgelost": self.metrics.resolved,
                "ingetrokken": self.metrics.withdrawn,
            }[change.kind]
            counter.labels(change.signal.regel).inc()
        return sends

    def _undo_point(
        self, state: CitizenState, event: TimelineEvent | None = None
    ) -> Callable[[], None]:
        """What undoes the step about to be applied to ``state`` (``event`` inserted, or a
        clock tick) if it fails before its outputs left: the state restored
        (:meth:`~streams.state.CitizenState.restore`) and its pending flush as it was before
        the step — or, if the step was written to the table meanwhile (by a flush while a
        send was awaited, or at least once before its signal events: :meth:`_send`), the
        restored state written again at the next flush. (A citizen new with the
        step is then blank, and that flush deletes its entry and tombstones its snapshot: no
        citizen without events is left behind; one holding an erasure marker keeps it.)"""
        saved = state.savepoint()
        pending = self._dirty.get(state.subject)
        flushes = self._flushes

        def undo() -> None:
            state.restore(saved, event)
            if self._flushes != flushes:
                self._mark(state, state.clock(self.today()))
            elif pending is None:
                self._dirty.pop(state.subject, None)
            else:
                self._dirty[state.subject] = pending

        return undo

    async def _send(
        self,
        state: CitizenState,
        sends: list[tuple[Any, bytes]],
        message: Message,
        undo: Callable[[], None],
    ) -> None:
        """Send the signal events of one step (from :meth:`_record`; ``undo`` from
        :meth:`_undo_point`).

        At least once (:attr:`resend_redelivered`), the citizen's state is handed to the
        changelog now and the signal events are held back until the broker acknowledged that
        write (:mod:`streams.held`; the module docstring says why); the record does not wait
        for it. (A table written at once — a plain dict — has nothing to wait for: sent now,
        as below, unless releases are still held.)

        Otherwise they are sent now. An outage is waited out at each send, the step staying
        applied (:meth:`_waiting_out`), so no signal event is lost or sent twice for it. The
        task cancelled meanwhile (a stop: Faust waits for the record in progress first, but
        not after a crash or while the consumer has no assignment; it then cancels the agent
        and commits once more) does not cut the step short: it is finished — every signal
        event handed over, the state telling them — and the cancellation raised after it
        (:func:`_to_its_end`); the record, not acknowledged, is delivered again and finds
        itself in the state. Undone instead, a signal event already handed over went into that
        last commit beside a state that never told it, and the record delivered again could
        take another course (another arrival order across the topics) that never withdrew it.

        Any other failure (a send refused for good, or cancelled from within) undoes the step
        and raises: a failed record is dead-lettered and leaves no trace, as when the rules
        fail, and re-published it emits the same changes with the same ids (one already
        handed over then reaches the topic twice, with one id). Held back, a step is on the
        changelog already and cannot be undone: a release that fails for good crashes the
        worker at the next commit (:mod:`streams.held`). A signal event is never larger than
        the state that remembers it (``uitvoer``, checked by :meth:`_record`), so the
        producer does not refuse one for its size."""
        if not sends:
            return
        if self.resend_redelivered:
            try:
                written = self._store_now(state)
            except BaseException:
                undo()
                raise
            if written is not None or self.held.pending:
                self._hold(state, written, sends, message)
                await self.held.room()
                return

        try:
            cancelled = await _to_its_end(self._each(state.subject, sends, message))
        except BaseException:
            undo()
            raise
        if cancelled:
            raise asyncio.CancelledError

    async def _each(self, subject: str, sends: list[tuple[Any, bytes]], message: Message) -> None:
        """Hand each signal event to the producer, an outage waited out at each."""
        key = subject.encode()
        for signal, payload in sends:
            headers = event_headers(signal)
            await self._waiting_out(
                lambda p=payload, h=headers: self._handed(  # type: ignore[misc]
                    self.send_signal, key=key, value=p, headers=h
                ),
                message,
            )

    def _store_now(self, state: CitizenState) -> Awaitable[Any] | None:
        """Hand ``state`` to the table now (at least once, before a step's signal events);
        returns what completes when the broker has its changelog write. The citizen stays
        dirty: its snapshot, and the state again, follow at the next flush."""
        self._flushes += 1  # the table holds this step now (:meth:`_undo_point`)
        return self.store_state(state.subject, state, partition_of(state.subject, self.partitions))

    def _hold(
        self,
        state: CitizenState,
        written: Awaitable[Any] | None,
        sends: list[tuple[Any, bytes]],
        message: Message,
    ) -> None:
        """Hold ``sends`` back until ``written`` (the changelog write of the state that tells
        them) is acknowledged: an outage meanwhile is waited out, the citizen's state written
        again each time; then hand them over (:meth:`_each`)."""
        subject = state.subject

        async def release() -> None:
            async def acknowledged() -> None:
                nonlocal written
                if written is None:
                    return
                try:
                    await self._handed(lambda w=written: w)
                except OutputUnavailable:  # not taken: the current state written again
                    written = self._store_now(self._state(subject) or state)
                    raise
                written = None

            await self._waiting_out(acknowledged, message)
            await self._each(subject, sends, message)

        self.held.hold(release)

    async def released(self) -> None:
        """Return once every signal event held back so far was handed to the producer (the
        offset commit awaits it: :mod:`streams.held`); raise a release's failure."""
        await self.held.released()

    @staticmethod
    async def _handed(send: Send, **record: Any) -> None:
        """Hand ``record`` to the producer with ``send``. A Kafka error that says the broker
        did not take it for now — the producer's buffer still full after its request timeout
        (aiokafka's ``KafkaTimeoutError``: a long broker outage) or a retriable one — is an
        outage (:class:`~streams.exceptions.OutputUnavailable`), not the record's fault."""
        try:
            await send(**record)
        except Exception as exc:
            cause = _outage_in(exc)
            if cause is None:
                raise
            raise OutputUnavailable(
                f"the producer did not take a record: {type(cause).__name__}: {cause}"
            ) from exc


async def _to_its_end(work: Coroutine[Any, Any, None]) -> bool:
    """Await ``work`` to its end, even if the awaiting task is cancelled meanwhile (once or
    more); returns whether it was, for the caller to raise the cancellation then. ``work``'s
    own failure — a cancellation from within it too — is raised as usual."""
    task = asyncio.ensure_future(work)  # the current event (Faust's context) goes with it
    cancelled = False
    while not task.done():
        try:
            await asyncio.wait((task,))
        except asyncio.CancelledError:
            cancelled = True
    task.result()
    return cancelled


def _outage_in(exc: BaseException | None) -> KafkaError | None:
    """The Kafka error behind ``exc`` — itself or what it was raised from (Faust raises its
    ``ProducerSendError`` from aiokafka's error) — if it says that the producer did not take a
    record for now: ``KafkaTimeoutError`` or a retriable error; else ``None``."""
    while exc is not None:
        if isinstance(exc, KafkaTimeoutError) or (isinstance(exc, KafkaError) and exc.retriable):
            return exc
        exc = exc.__cause__
    return None
