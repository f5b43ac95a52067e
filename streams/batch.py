"""The batch path: rebuild from history with the same pure functions, without going event by
event through Faust.

**What it writes** — exactly what the Faust worker writes: signal events with the same
deterministic ids, timeline snapshots, the state on the table changelog in the partition of the
key, dead letters (the worker's stage, reason and headers) — and at the end it commits the worker
group's offsets at the end of what it read, so a live worker started afterwards recovers the
table and carries on from there. Every citizen is assessed *once*, on the replay clock (their
latest ``datum``, or ``until``), so the definitive signals are those of the streaming path; the
intermediate changes a worker emits on the way are not (except for a citizen near the output
size limit, who is redone event by event: "Output size" below). Use it for a first load or a rebuild
(``schakel replay --batch``) with no worker of the group running; the live path stays the
worker.

**Partition by partition, memory bounded by the state.** Every record of a citizen — on the
four event topics, on ``schakel.klok`` and on the changelog — is keyed by the citizen's
pseudonym and so lies in the same partition number (Kafka's default partitioner, which every
Schakel producer uses). The run therefore takes one partition number at a time: it folds that
partition of the changelog into the citizens' states, applies their erasures, streams the
partition's records of the four event topics in chunks (:mod:`streams.batch_kafka`) into those
states, then assesses and writes out its citizens and drops them before the next partition.
Peak memory is the state of the citizens of one partition (their events, with wire bytes, as
the changelog holds them), never a list of every record read. Within a partition the states go
to the changelog last, once every other output of the partition was acknowledged (a producer
flush): a state there marks its records done for the next run, so a failed run must leave none
whose signals or snapshot did not arrive (``_finish``; erasure markers after their tombstones).

A record that lies in another partition than its citizen's key (a producer with another
partitioner) is not lost: it is set aside and, once every partition is done and written, applied
in a second round on top of that citizen's state as just written to the changelog — what a second
batch run over that record would do.

**Worker processes** (``jobs`` > 1, ``schakel replay --batch --jobs N``). Partition numbers
share nothing but what the run fixes up front (end offsets, committed offsets, erasures), so
the first round can run in ``jobs`` processes forked from this one (:mod:`streams.batch_jobs`),
the partition numbers dealt round robin. Kafka clients and their I/O threads do not survive a
fork: this process closes its own before and opens new ones after, and each worker process
opens its own reader and producer, does exactly the loop above over its partition numbers,
flushes its producer — an output the broker did not acknowledge fails the process — and sends
back its counts and misplaced records. This process then adds up the counts, runs the second
round over every misplaced record (in the order one process would have read them), flushes,
and only then commits the group's offsets: if any worker process fails, the run raises
:class:`~streams.batch_jobs.BatchJobFailed` and commits nothing (a new run redoes it; its
outputs carry the same ids), and no worker process outlives it. Each citizen is written by one
process only, so the outputs per key, and the result, are those of ``jobs=1``, which runs
everything in this process, as before. Peak memory: one partition's state per process. A
schema registry client inherited over the fork opens its own connections in the child
(:class:`~schemas.registry_client.ConfluentRegistry`).

**Erasures** are honoured as the worker honours them: the erasure records on the klok topic
from the group's committed position on are applied first (:func:`streams.state.erase`; the klok
offsets are not committed), and an event registered at or before its citizen's erasure marker
is dropped as erased. **History limit** and **duplicates** as in the worker: records are
inserted in the order they are read (offset order per topic partition).

**Output size**: the signals, dead letters and states of the streaming path, also at the
output limit. A citizen whose events' wire bytes reach a quarter of the limit after the
inserts is not assessed once but *redone* event by event with the worker's semantics, each
event that would make its outputs too large dead-lettered as the worker does
(:mod:`streams.batch_citizens`, which writes the signal events and dead letters).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from kafka import KafkaConsumer, TopicPartition
from kafka.structs import OffsetAndMetadata

from schemas import kafka_client
from schemas.exceptions import SerdeError
from schemas.pseudonym import is_pseudonym
from schemas.serde import RecordDeserializer, RecordSerializer
from schemas.wire import VERGETEN_SCHEMA, Wire
from streams.batch_citizens import BatchStats, CitizenWriter, Sender
from streams.batch_decode import FastIngest
from streams.batch_jobs import run_forked
from streams.batch_kafka import BATCH_BYTES, BulkProducer, PartitionReader, Record, Span
from streams.gc_tuning import fewer_collections
from streams.ingest import IngestError
from streams.offsets import end_offsets
from streams.outputs import CitizenOutputs
from streams.processor import partition_of
from streams.sizes import (
    batch_bytes,
    measured,
    output_limit,
    sized_outputs,
    topic_limits,
)
from streams.state import (
    CitizenState,
    Engine,
    HistoryLimitError,
    StoredEvent,
    close_replay,
    erase,
)

log = logging.getLogger("schakel.streams")


@dataclass(frozen=True)
class _Plan:
    """What one run reads, fixed before the first partition (:meth:`BatchRebuild._plan`)."""

    events: list[TopicPartition]
    changelog: list[TopicPartition]
    end: dict[TopicPartition, int]
    committed: dict[TopicPartition, int]
    erasures: dict[int, list[tuple[str, int | None]]]
    """(subject, Kafka timestamp) of the erasures not read yet, by partition number."""
    numbers: list[int]
    """Every partition number of the event topics, the changelog and the erasures."""


Held = dict[str, list[tuple[Any, HistoryLimitError]]]
"""Records of the first pass refused for the history limit, by citizen: dead-lettered by
:meth:`BatchRebuild._finish` unless that citizen is redone (module docstring, "Output
size")."""
Redo = Callable[[Collection[str]], dict[str, tuple[CitizenState | None, list[Any]]]]
"""For citizens of one partition to redo: each one's state before this run (``None``: none)
and its records of this run, in the order to apply them."""


class BatchRebuild:
    """One run of the batch path against ``bootstrap``, on the topics, changelog and consumer
    group of ``wire``; ``jobs``: worker processes of the first round (1: in this process;
    module docstring, "Worker processes")."""

    def __init__(
        self,
        bootstrap: str,
        *,
        wire: Wire,
        engine: Engine,
        serializer: RecordSerializer,
        deserializer: RecordDeserializer,
        partitions: int,
        source: str,
        history_limit: int,
        embedded: bool = True,
        jobs: int = 1,
        max_output_bytes: int | None = None,
    ) -> None:
        """``max_output_bytes``: the largest state or snapshot record an event may leave its
        citizen with; an event beyond it is dead-lettered
        (:class:`~streams.sizes.OutputTooLarge`), as by the worker; also the largest dead
        letter (one that would be larger is written without the original's value:
        :func:`schemas.binding.deadletter_record`). ``None``: what the broker's output
        topics allow (:func:`streams.sizes.output_limit`), asked at the start
        of each :meth:`run`."""
        if jobs < 1:
            raise ValueError(f"jobs must be at least 1, not {jobs}")
        self.jobs = jobs
        self.bootstrap = bootstrap
        self.embedded = embedded  # the embedded broker: end offsets corrected (streams.offsets)
        self.wire = wire
        self.engine = engine
        self.deserializer = deserializer
        self.partitions = partitions
        self.changelog = wire.changelog
        self.group = wire.group_id
        self.history_limit = history_limit
        self._ask_limit = max_output_bytes is None
        self.outputs = CitizenOutputs(wire, serializer, deserializer, source)
        """The records written for a citizen, encoded as the worker encodes them."""
        self.fast = FastIngest(deserializer, wire)
        self.citizens = CitizenWriter(
            wire=wire,
            engine=engine,
            outputs=self.outputs,
            fast=self.fast,
            history_limit=history_limit,
            partitions=partitions,
        )
        """Writes signal events and dead letters, and redoes a citizen near the limit."""
        if max_output_bytes is not None:
            self.max_output_bytes = max_output_bytes

    @property
    def max_output_bytes(self) -> int:
        """The largest state or snapshot record an event may leave its citizen with, and the
        largest dead letter (:attr:`CitizenWriter.limit
        <streams.batch_citizens.CitizenWriter.limit>`)."""
        return self.citizens.limit

    @max_output_bytes.setter
    def max_output_bytes(self, limit: int) -> None:
        self.citizens.limit = limit

    # --- reading --------------------------------------------------------------------------

    def _home(self, subject: str) -> int:
        return partition_of(subject, self.partitions)

    def _spans(
        self,
        tps: Iterable[TopicPartition],
        start: dict[TopicPartition, int],
        end: dict[TopicPartition, int],
    ) -> list[Span]:
        return [Span(tp.topic, tp.partition, start.get(tp, 0), end[tp]) for tp in tps]

    def _states(
        self, reader: PartitionReader, spans: Sequence[Span], only: set[str] | None = None
    ) -> dict[str, CitizenState]:
        """The table of ``spans`` (changelog partitions), folded from its changelog (latest value
        per key); ``only``: of those citizens."""
        latest: dict[str, bytes | None] = {}
        for chunk in reader.read(spans):
            for record in chunk:
                if record.key is None:
                    continue
                subject = record.key.decode()
                if only is None or subject in only:
                    latest[subject] = record.value
        return {k: self._decode_state(v) for k, v in latest.items() if v is not None}

    def _decode_state(self, payload: bytes) -> CitizenState:
        """:meth:`StateCodec.decode`, with the events decoded by :class:`FastIngest`."""
        return self.outputs.codec.decode(payload, self.fast.event)

    def _committed(self, tps: Sequence[TopicPartition]) -> dict[TopicPartition, int]:
        group = KafkaConsumer(
            bootstrap_servers=self.bootstrap,
            group_id=self.group,
            enable_auto_commit=False,
            **kafka_client.current().kafka_python(),
        )
        try:
            out = {}
            for tp in tps:
                offset = group.committed(tp)
                if offset is not None:
                    out[tp] = offset
            return out
        finally:
            group.close()

    def _erasures(
        self, reader: PartitionReader, spans: Sequence[Span]
    ) -> dict[int, list[tuple[str, int | None]]]:
        """The erasure records of the klok topic that the group has not read yet, as
        (subject, Kafka timestamp) in the order read, by the partition of the subject's key.
        Offsets of the klok topic are not committed: the worker reads its clock ticks as
        before, and an erasure read again changes nothing (:func:`streams.state.erase` is
        idempotent). An erasure whose subject is no pseudonym is skipped, like any other
        record of the klok topic the worker refuses: the worker dead-letters it
        (``bad-subject``) when it reads it."""
        out: dict[int, list[tuple[str, int | None]]] = defaultdict(list)
        for chunk in reader.read(spans):
            for record in chunk:
                if record.value is None:
                    continue
                try:
                    name, body = self.deserializer.decode(record.value)
                except SerdeError:
                    continue  # not an erasure; the worker dead-letters it when it reads it
                subject = body.get("subject")
                if name == VERGETEN_SCHEMA and is_pseudonym(subject):
                    out[self._home(subject)].append((subject, record.timestamp))
        return out

    # --- one run ----------------------------------------------------------------------------

    def run(self, until: date | None = None) -> BatchStats:
        """Rebuild from the group's committed offsets to the current end of the event topics
        (module docstring); ``until``: end the replay clock there (every citizen assessed),
        else at each citizen's latest ``datum`` (only citizens with new events). With
        ``jobs`` > 1 the first round runs in worker processes (:meth:`_in_processes`); if
        one fails this raises :class:`~streams.batch_jobs.BatchJobFailed` and commits
        nothing."""
        stats = BatchStats()
        if self._ask_limit:  # before any fork: the worker processes use the same
            limits = topic_limits(self.bootstrap, sized_outputs(self.wire))
            self.max_output_bytes = output_limit(limits.values())
        meta = KafkaConsumer(
            bootstrap_servers=self.bootstrap, group_id=None, **kafka_client.current().kafka_python()
        )
        reader = self._reader()
        producer = self._producer() if self.jobs == 1 else None
        self.outputs.prepare()
        try:
            plan = self._plan(meta, reader)
            if producer is not None:
                misplaced = self._first_round(
                    plan.numbers, plan, reader, producer, until=until, stats=stats
                )
            else:  # no Kafka client (nor its I/O threads) in this process across the fork
                reader.close()
                meta.close()
                misplaced = self._in_processes(plan, until, stats)
                if misplaced:  # the second round reads and writes here: clients anew
                    meta = KafkaConsumer(
                        bootstrap_servers=self.bootstrap,
                        group_id=None,
                        **kafka_client.current().kafka_python(),
                    )
                    reader = self._reader()
                    producer = self._producer()
            if misplaced:
                assert producer is not None  # made above
                self._second_round(
                    misplaced, meta=meta, reader=reader, producer=producer, until=until, stats=stats
                )
            if producer is not None:
                producer.flush()
            self._commit({tp: plan.end[tp] for tp in plan.events})
        finally:
            reader.close()
            meta.close()
        log.info(
            "batch.done",
            extra={"read": stats.read, "citizens": stats.citizens, "too_large": stats.too_large},
        )
        return stats

    def _producer(self) -> BulkProducer:
        """A producer whose batches stay within what the output topics take."""
        return BulkProducer(
            self.bootstrap, batch_bytes=batch_bytes(self.max_output_bytes, BATCH_BYTES)
        )

    def _reader(self) -> PartitionReader:
        return PartitionReader(
            self.bootstrap, embedded=self.embedded, group=f"{self.group}-batch-reader"
        )

    def _plan(self, meta: KafkaConsumer, reader: PartitionReader) -> _Plan:
        """What the run reads: the partitions, their end offsets and the group's committed
        ones, and the erasures not read yet (from the klok topic, with ``reader``)."""

        def tps_of(topic: str) -> list[TopicPartition]:
            found = meta.partitions_for_topic(topic) or ()
            return [TopicPartition(topic, p) for p in sorted(found)]

        events = [tp for t in self.wire.event_topics for tp in tps_of(t)]
        klok, changelog = tps_of(self.wire.klok), tps_of(self.changelog)
        end = end_offsets(meta, [*events, *klok, *changelog], embedded=self.embedded)
        committed = self._committed([*events, *klok])
        erasures = self._erasures(reader, self._spans(klok, committed, end))
        numbers = sorted({tp.partition for tp in [*events, *changelog]} | set(erasures))
        return _Plan(events, changelog, end, committed, erasures, numbers)

    def _first_round(
        self,
        numbers: Iterable[int],
        plan: _Plan,
        reader: PartitionReader,
        producer: Sender,
        *,
        until: date | None,
        stats: BatchStats,
    ) -> list[Record]:
        """Partition by partition (module docstring): fold the changelog, apply the erasures,
        ingest the event records, write out the citizens. Returns the misplaced records, in
        the order read."""
        misplaced: list[Record] = []
        with fewer_collections() as collections:
            for number in numbers:
                self._partition(
                    number, plan, reader, producer, until=until, stats=stats, misplaced=misplaced
                )
                collections.checkpoint()  # the partition's states are gone: collect now
        return misplaced

    def _partition(
        self,
        number: int,
        plan: _Plan,
        reader: PartitionReader,
        producer: Sender,
        *,
        until: date | None,
        stats: BatchStats,
        misplaced: list[Record],
    ) -> None:
        """One partition number of the first round; its states are dropped on return."""
        on = self._spans(
            [tp for tp in plan.events if tp.partition == number], plan.committed, plan.end
        )
        changelog = self._spans(
            [tp for tp in plan.changelog if tp.partition == number], {}, plan.end
        )
        states = self._states(reader, changelog)
        # as the worker: an erasure without a record timestamp holds from now (fixed here, so
        # that a redo applies the same marker)
        erasures = [(s, _now_ms() if at is None else at) for s, at in plan.erasures.get(number, ())]
        self._erase(states, erasures, producer)
        touched: set[str] = set()
        homes: dict[str, int] = {}
        held: Held = {}
        for chunk in reader.read(on):
            for record in chunk:
                stats.read += 1
                self._ingest(
                    record,
                    states,
                    touched,
                    producer,
                    stats,
                    held=held,
                    homes=homes,
                    misplaced=misplaced,
                )

        def redo(subjects: Collection[str]) -> dict[str, tuple[CitizenState | None, list[Any]]]:
            """Their states before this run and their records of this run, read again."""
            wanted = set(subjects)
            before = self._states(reader, changelog, only=wanted)
            for subject, at in erasures:
                if subject in wanted:
                    before[subject] = erase(before.get(subject), subject, at)
            return self.citizens.gathered(
                before, wanted, (r for chunk in reader.read(on) for r in chunk)
            )

        self._finish(
            states,
            touched if until is None else states,
            until,
            producer,
            stats,
            touched=touched,
            held=held,
            redo=redo,
        )

    def _in_processes(self, plan: _Plan, until: date | None, stats: BatchStats) -> list[Record]:
        """:meth:`_first_round` over ``jobs`` forked worker processes, the partition numbers
        dealt round robin; each process opens its own reader and producer and flushes it
        (:meth:`_share`). Adds their counts to ``stats`` and returns their misplaced records
        in the order one process would have read them (by partition number, stable)."""
        jobs = min(self.jobs, len(plan.numbers))
        shares = [plan.numbers[i::jobs] for i in range(jobs)]

        def share(numbers: list[int]) -> tuple[BatchStats, list[Record]]:
            return self._share(numbers, plan, until)

        misplaced: list[Record] = []
        for counts, records in run_forked(share, shares):
            stats.add(counts)
            misplaced.extend(records)
        misplaced.sort(key=lambda record: record.partition)
        return misplaced

    def _share(
        self, numbers: list[int], plan: _Plan, until: date | None
    ) -> tuple[BatchStats, list[Record]]:
        """One worker process's part (in the child): :meth:`_first_round` over ``numbers``
        with a reader and producer of its own, flushed (raises
        :class:`~streams.batch_kafka.BatchDeliveryError` if an output was not
        acknowledged)."""
        stats = BatchStats()
        reader = self._reader()
        producer = self._producer()
        try:
            misplaced = self._first_round(numbers, plan, reader, producer, until=until, stats=stats)
            producer.flush()
        finally:
            reader.close()
        return stats, misplaced

    def _erase(
        self,
        states: dict[str, CitizenState],
        erasures: Iterable[tuple[str, int | None]],
        producer: Sender,
    ) -> None:
        """Apply ``erasures`` to ``states``; for each citizen whose state became an erasure
        marker write a tombstone of its snapshot and, once every tombstone is acknowledged,
        the marker on the changelog: a run that fails in between finds no marker the next
        time, so it erases again, tombstone included (the marker first would make the next
        run take the erasure as done and leave the snapshot)."""
        erased: set[str] = set()
        for subject, at in erasures:
            # as the worker: an erasure without a record timestamp holds from now
            state = erase(states.get(subject), subject, _now_ms() if at is None else at)
            if state is not states.get(subject):
                states[subject] = state
                erased.add(subject)
        if not erased:
            return
        for subject in sorted(erased):
            tombstone = self.outputs.tombstone(subject)
            producer.send(self.wire.tijdlijnen, key=subject.encode(), value=None, headers=tombstone)
        producer.flush()
        self._write_states([states[subject] for subject in sorted(erased)], producer)

    def _write_states(self, written: Iterable[CitizenState], producer: Sender) -> None:
        """Each state on the changelog, in the partition of its key."""
        for state in written:
            producer.send(
                self.changelog,
                key=state.subject.encode(),
                value=self.outputs.codec.encode(state),
                partition=self._home(state.subject),
            )

    def _finish(
        self,
        states: dict[str, CitizenState],
        subjects: Iterable[str],
        until: date | None,
        producer: Sender,
        stats: BatchStats,
        *,
        touched: set[str],
        held: Held,
        redo: Redo,
    ) -> None:
        """Assess each of ``subjects`` once, write its signal changes and snapshot, and take
        it out of ``states`` (memory: what the assessment derived goes with it); then, once
        every output sent so far is acknowledged, write their states to the changelog.
        ``touched``: the citizens with an event accepted by this run's first pass; ``held``:
        its history-limit refusals, dead-lettered here.

        A citizen whose outputs the worker's size check would measure
        (:func:`streams.sizes.measured`) is not assessed once but redone event by event as
        the worker does it (module docstring, "Output size"): :meth:`CitizenWriter.redo
        <streams.batch_citizens.CitizenWriter.redo>` on its state
        before this run and its records of this run from ``redo`` (asked once, for every
        such citizen with records in this run; one without keeps its state, only the tick
        is applied), the first pass's counts of it taken back (:meth:`CitizenWriter.untally
        <streams.batch_citizens.CitizenWriter.untally>`) and its
        history-limit refusals decided anew.

        The states come last because a state on the changelog is what tells the next run that
        a record was done (it is then a duplicate and its citizen is not written again): had
        a state landed while a signal event or snapshot of the same run failed (an outage past
        the producer's delivery timeout), the run would fail, and the next one would find the
        records done and never write those outputs. With the order here a failed run leaves
        no state whose outputs are missing; the next run redoes them with the same ids."""
        order = sorted(subjects)
        near = [s for s in order if measured(states[s].payload_bytes, self.max_output_bytes)]
        read = [s for s in near if s in touched or s in held]
        again = redo(read) if read else {}
        done: list[CitizenState] = []
        for subject in order:
            state = states.pop(subject)
            key = subject.encode()
            if subject in near:
                before, records = again.get(subject, (state, []))
                self.citizens.untally(state, before, records, held.pop(subject, []), stats)
                state = self.citizens.redo(
                    subject, before, records, until=until, producer=producer, stats=stats
                )
                if not state.events:  # every event of it refused: nothing to show
                    continue
                clock = state.clock(None)
            elif not state.events:  # only an erasure marker: nothing to assess or show
                continue
            else:
                outcome = close_replay(state, self.engine, until=until)
                self.citizens.send_signals(
                    key, self.outputs.signals(outcome.changes), producer, stats
                )
                clock = outcome.clock
            snapshot, headers = self.outputs.snapshot(state, clock)
            producer.send(self.wire.tijdlijnen, key=key, value=snapshot, headers=headers)
            state.drop_derived()  # memory: kept until the states are written
            done.append(state)
            stats.citizens += 1
        for subject in sorted(held):  # refused for the history limit, by the worker too
            for record, exc in held[subject]:
                self.citizens.deadletter(record, exc, producer, stats)
        held.clear()
        if done:
            producer.flush()
            self._write_states(done, producer)

    def _second_round(
        self,
        misplaced: list[Record],
        *,
        meta: KafkaConsumer,
        reader: PartitionReader,
        producer: BulkProducer,
        until: date | None,
        stats: BatchStats,
    ) -> None:
        """Records that lay in another partition than their citizen's, applied on top of the
        states just written (module docstring)."""
        producer.flush()  # the first round's states are on the changelog
        by_home: dict[int, list[Record]] = defaultdict(list)
        for record in misplaced:
            subject, _ = self.fast.decode(record.value or b"", record.topic)
            by_home[self._home(subject)].append(record)
        changelog = [
            TopicPartition(self.changelog, p)
            for p in sorted(meta.partitions_for_topic(self.changelog) or ())
        ]
        end = end_offsets(meta, changelog, embedded=self.embedded)
        for home, records in sorted(by_home.items()):
            subjects = {self.fast.decode(r.value or b"", r.topic)[0] for r in records}
            spans = self._spans([tp for tp in changelog if tp.partition == home], {}, end)
            states = self._states(reader, spans, only=subjects)
            touched: set[str] = set()
            held: Held = {}
            for record in records:
                self._ingest(record, states, touched, producer, stats, held=held)

            def redo(
                wanted: Collection[str],
                spans: list[Span] = spans,
                records: list[Record] = records,
            ) -> dict[str, tuple[CitizenState | None, list[Any]]]:
                """Their states as the first round wrote them, and their records here."""
                before = self._states(reader, spans, only=set(wanted))
                return self.citizens.gathered(before, set(wanted), records)

            self._finish(
                states, touched, until, producer, stats, touched=touched, held=held, redo=redo
            )

    def _ingest(
        self,
        record: Any,
        states: dict[str, CitizenState],
        touched: set[str],
        producer: Sender,
        stats: BatchStats,
        *,
        held: Held,
        homes: dict[str, int] | None = None,
        misplaced: list[Record] | None = None,
    ) -> None:
        """Decode, check and insert one record of an event topic (the worker's
        ``Processor._event`` without the assessment and the size check: :meth:`_finish`
        redoes a citizen near the limit as the worker would); bad data is dead-lettered, a
        refusal for the history limit is kept in ``held`` for :meth:`_finish`. With
        ``homes`` and ``misplaced`` (first round): a record of a citizen not yet in ``states``
        whose key belongs to another partition is set aside in ``misplaced``."""
        topic, value = record.topic, record.value
        try:
            subject, event = self.fast.decode(value, topic)
            state = states.get(subject)
            if state is None:
                if homes is not None and misplaced is not None:
                    home = homes.get(subject)
                    if home is None:
                        home = homes[subject] = self._home(subject)
                    if home != record.partition:
                        misplaced.append(record)
                        stats.misplaced += 1
                        return
                state = CitizenState(subject=subject)
            if state.erased(record.timestamp):  # registered before the citizen's erasure
                stats.erased += 1
                return
            accepted = state.insert(StoredEvent(event, value), self.history_limit)
        except HistoryLimitError as exc:  # unless the citizen is redone (_finish)
            held.setdefault(subject, []).append((record, exc))
            return
        except IngestError as exc:  # invalid
            self.citizens.deadletter(record, exc, producer, stats)
            return
        states[subject] = state
        if accepted:
            stats.accepted += 1
            touched.add(subject)
        else:
            stats.duplicates += 1

    def _commit(self, end: dict[TopicPartition, int]) -> None:
        group = KafkaConsumer(
            bootstrap_servers=self.bootstrap,
            group_id=self.group,
            enable_auto_commit=False,
            **kafka_client.current().kafka_python(),
        )
        try:
            group.assign(list(end))
            group.commit(
                {tp: OffsetAndMetadata(offset, "", -1) for tp, offset in end.items() if offset > 0}
            )
        finally:
            group.close()


def _now_ms() -> int:
    return int(datetime.now(UTC).timestamp() * 1000)
