"""The batch path: rebuild from history with the same pure functions, without going event by
event through Faust.

Reads the event topics in bulk (``poll`` of up to 100 000 records), decodes and deduplicates
into one :class:`~streams.state.CitizenState` per citizen, then assesses every citizen *once*
at the end on the replay clock (their latest ``datum``, or ``until``). It writes exactly what
the Faust worker writes — signal events with the same deterministic ids, timeline snapshots,
the state on the table changelog in the partition of the key, dead letters — and finally
commits the worker group's offsets at the end of what it read, so a live worker started
afterwards recovers the table and carries on from there.

Erasures are honoured as the worker honours them: the erasure records on the klok topic from
the group's committed position on are applied first (:func:`streams.state.erase`), and an
event registered at or before its citizen's erasure marker is dropped as erased.

Use it for a first load or a rebuild (``schakel replay --batch``), with no worker of the group
running; the live path stays the Faust worker."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.structs import OffsetAndMetadata

from schemas.binding import deadletter_record_headers, event_headers, record_headers
from schemas.exceptions import SerdeError
from schemas.serde import RecordDeserializer, RecordSerializer
from schemas.wire import VERGETEN_SCHEMA, Wire
from streams.codec import SNAPSHOT_SCHEMA, StateCodec, snapshot_record
from streams.ingest import IngestError, decode_event
from streams.offsets import end_offsets
from streams.processor import partition_of
from streams.signals import signal_event
from streams.state import CitizenState, Engine, StoredEvent, close_replay, erase

log = logging.getLogger("schakel.streams")


@dataclass
class BatchStats:
    read: int = 0
    accepted: int = 0
    duplicates: int = 0
    deadlettered: int = 0
    erased: int = 0
    citizens: int = 0
    signal_events: int = 0


class BatchRebuild:
    """One run of the batch path against ``bootstrap``, on the topics, changelog and consumer
    group of ``wire``."""

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
    ) -> None:
        self.bootstrap = bootstrap
        self.embedded = embedded  # the embedded broker: end offsets corrected (streams.offsets)
        self.wire = wire
        self.engine = engine
        self.serializer = serializer
        self.deserializer = deserializer
        self.partitions = partitions
        self.changelog = wire.changelog
        self.group = wire.group_id
        self.source = source
        self.history_limit = history_limit
        self.codec = StateCodec(serializer, deserializer, self.changelog)

    def _consumer(self) -> KafkaConsumer:
        return KafkaConsumer(
            bootstrap_servers=self.bootstrap,
            group_id=None,
            enable_auto_commit=False,
            max_poll_records=100_000,
            fetch_max_bytes=64 * 1024 * 1024,
            max_partition_fetch_bytes=16 * 1024 * 1024,
        )

    def _read_all(
        self,
        consumer: KafkaConsumer,
        tps: Sequence[TopicPartition],
        start: dict[TopicPartition, int],
    ) -> tuple[list[Any], dict[TopicPartition, int]]:
        end = end_offsets(consumer, tps, embedded=self.embedded)
        consumer.assign(list(tps))
        for tp in tps:
            consumer.seek(tp, start.get(tp, 0))
        records: list[Any] = []
        while any(consumer.position(tp) < end[tp] for tp in tps):
            for batch in consumer.poll(timeout_ms=500).values():
                records.extend(batch)
        return records, end

    def _states(self, consumer: KafkaConsumer) -> dict[str, CitizenState]:
        """The current table, folded from its changelog (latest value per key)."""
        tps = [
            TopicPartition(self.changelog, p)
            for p in sorted(consumer.partitions_for_topic(self.changelog) or ())
        ]
        records, _ = self._read_all(consumer, tps, {})
        latest: dict[str, bytes | None] = {}
        for record in records:
            latest[record.key.decode()] = record.value
        return {k: self.codec.decode(v) for k, v in latest.items() if v is not None}

    def _committed(self, tps: Sequence[TopicPartition]) -> dict[TopicPartition, int]:
        group = KafkaConsumer(
            bootstrap_servers=self.bootstrap, group_id=self.group, enable_auto_commit=False
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

    def _erasures(self, consumer: KafkaConsumer, states: dict[str, CitizenState]) -> set[str]:
        """Apply the erasure records of the klok topic that the group has not read yet to
        ``states``; return the citizens whose state became an erasure marker. Offsets of the
        klok topic are not committed: the worker reads its clock ticks as before, and an
        erasure read again changes nothing (:func:`streams.state.erase` is idempotent)."""
        klok = self.wire.klok
        tps = [TopicPartition(klok, p) for p in sorted(consumer.partitions_for_topic(klok) or ())]
        records, _ = self._read_all(consumer, tps, self._committed(tps))
        erased: set[str] = set()
        for record in records:
            try:
                name, body = self.deserializer.decode(record.value)
            except SerdeError:
                continue  # not an erasure; the worker dead-letters it when it reads it
            if name != VERGETEN_SCHEMA:
                continue
            subject = body["subject"]
            state = erase(states.get(subject), subject, record.timestamp)
            if state is not states.get(subject):
                states[subject] = state
                erased.add(subject)
        return erased

    def _write_erasure(self, state: CitizenState, producer: KafkaProducer) -> None:
        """The erasure marker on the changelog and a tombstone for the snapshot."""
        key = state.subject.encode()
        tombstone = record_headers(
            SNAPSHOT_SCHEMA, f"tombstone:{state.subject}", source=self.source, subject=state.subject
        )
        producer.send(self.wire.tijdlijnen, key=key, value=None, headers=tombstone)
        producer.send(
            self.changelog,
            key=key,
            value=self.codec.encode(state),
            partition=partition_of(state.subject, self.partitions),
        )

    def run(self, until: date | None = None) -> BatchStats:
        stats = BatchStats()
        consumer = self._consumer()
        producer = KafkaProducer(
            bootstrap_servers=self.bootstrap,
            acks="all",
            enable_idempotence=True,
            linger_ms=20,
            batch_size=512 * 1024,
        )
        try:
            states = self._states(consumer)
            for subject in sorted(self._erasures(consumer, states)):
                self._write_erasure(states[subject], producer)
            tps = [
                TopicPartition(t, p)
                for t in self.wire.event_topics
                for p in sorted(consumer.partitions_for_topic(t) or ())
            ]
            start = self._committed(tps)
            records, end = self._read_all(consumer, tps, start)
            touched: set[str] = set()
            for record in records:
                stats.read += 1
                self._ingest(record, states, touched, producer, stats)
            for subject in sorted(touched if until is None else states):
                state = states[subject]
                if not state.events:  # only an erasure marker: nothing to assess or show
                    continue
                outcome = close_replay(state, self.engine, until=until)
                key = subject.encode()
                for change in outcome.changes:
                    event = signal_event(change, self.source)
                    value = self.serializer(event, self.wire.signalen)
                    producer.send(
                        self.wire.signalen, key=key, value=value, headers=event_headers(event)
                    )
                    stats.signal_events += 1
                snapshot = self.serializer.encode(
                    self.wire.tijdlijnen, SNAPSHOT_SCHEMA, snapshot_record(state, outcome.clock)
                )
                producer.send(
                    self.wire.tijdlijnen,
                    key=key,
                    value=snapshot,
                    headers=record_headers(
                        SNAPSHOT_SCHEMA, snapshot, source=self.source, subject=subject
                    ),
                )
                producer.send(
                    self.changelog,
                    key=key,
                    value=self.codec.encode(state),
                    partition=partition_of(subject, self.partitions),
                )
                stats.citizens += 1
            producer.flush()
            self._commit(end)
        finally:
            producer.close()
            consumer.close()
        log.info("batch.done", extra={"read": stats.read, "citizens": stats.citizens})
        return stats

    def _ingest(
        self,
        record: Any,
        states: dict[str, CitizenState],
        touched: set[str],
        producer: KafkaProducer,
        stats: BatchStats,
    ) -> None:
        topic, value = record.topic, record.value
        try:
            subject, event = decode_event(self.deserializer, value, topic, self.wire)
            state = states.get(subject) or CitizenState(subject=subject)
            if state.erased(record.timestamp):  # registered before the citizen's erasure
                stats.erased += 1
                return
            accepted = state.insert(StoredEvent(event, value), self.history_limit)
        except IngestError as exc:  # invalid, or refused by the history limit (HistoryLimitError)
            headers = deadletter_record_headers(
                record.headers or (),
                topic=topic,
                partition=record.partition,
                offset=record.offset,
                stage=exc.stage,
                error=exc,
                source=self.source,
                key=record.key,
                time=None,
            )
            producer.send(
                self.wire.deadletter_streams,
                key=record.key,
                value=value,
                headers=headers,
            )
            stats.deadlettered += 1
            return
        states[subject] = state
        if accepted:
            stats.accepted += 1
            touched.add(subject)
        else:
            stats.duplicates += 1

    def _commit(self, end: dict[TopicPartition, int]) -> None:
        group = KafkaConsumer(
            bootstrap_servers=self.bootstrap, group_id=self.group, enable_auto_commit=False
        )
        try:
            group.assign(list(end))
            group.commit(
                {tp: OffsetAndMetadata(offset, "", -1) for tp, offset in end.items() if offset > 0}
            )
        finally:
            group.close()
