"""Wire-level helpers for the worker (processor) and batch-ingest tests: real Avro records,
a dict as table, lists as topics — no broker."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import date
from types import SimpleNamespace
from typing import Any

from schemas.envelope import validate_input
from schemas.pseudonym import Pseudonymiser
from schemas.registry import LocalRegistry
from schemas.serde import RecordDeserializer, RecordSerializer
from schemas.wire import DEFAULT_WIRE
from streams.batch import BatchRebuild, Held
from streams.batch_citizens import BatchStats
from streams.ingest import IngestError
from streams.metrics import WorkerMetrics
from streams.processor import Message, Processor
from streams.rules import load_rules
from streams.state import CitizenState

RULES = load_rules()
BSN = "111222333"
OTHER_BSN = "123456782"


class Sink:
    """A topic: an awaitable send (the worker's) and ``send`` (the batch path's producer)."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.flushed: list[int] = []
        """How many records had been sent at each :meth:`flush` (the batch path's)."""

    async def __call__(self, **kwargs: Any) -> None:
        self.sent.append(_sendable(kwargs))

    def send(self, topic: str, **kwargs: Any) -> None:
        self.sent.append({"topic": topic, **_sendable(kwargs)})

    def flush(self) -> None:
        self.flushed.append(len(self.sent))

    def queue(self, **kwargs: Any) -> None:
        """The worker's synchronous send (Faust's ``send_soon``, used by its flush)."""
        self.sent.append(_sendable(kwargs))


def _sendable(record: dict[str, Any]) -> dict[str, Any]:
    """``record`` if a Kafka client would send it: a key or a value (aiokafka's producer
    asserts it; a withheld dead letter with neither crashed the worker's agent)."""
    assert record.get("key") is not None or record.get("value") is not None, record
    return record


def raw(
    event_id: str, event_type: str, *, bsn: str = BSN, source: str = "urn:test", **data: Any
) -> dict[str, Any]:
    """A CloudEvent as a source sends it."""
    return {
        "specversion": "1.0",
        "id": event_id,
        "source": source,
        "type": event_type,
        "data": {"bsn": bsn, **data},
    }


def message(event: dict[str, Any], offset: int, partition: int = 0) -> Message:
    """The record an adapter publishes for ``event``, as consumed at ``offset``."""
    validated = validate_input(event, Pseudonymiser("k"))
    topic = DEFAULT_WIRE.topic_for(validated.type, validated.domein)
    payload = RecordSerializer(LocalRegistry())(validated, topic)
    return Message(topic, partition, offset, b"k", payload, [])


def early_warning(datum: str, signaal_id: str = "S") -> dict[str, Any]:
    """An early warning (vroegsignaal) received on ``datum``: 28 days later, not followed
    up, it opens a signal."""
    return raw(
        f"v{signaal_id}",
        "nl.wgs.vroegsignalen.ontvangen",
        datum=datum,
        signaal_id=signaal_id,
        partner="water",
        bedrag_cent=100,
        dagen_achterstand=30,
        dreiging="geen",
    )


def tick(tot: date, partition: int) -> Message:
    """A clock tick (``schakel.klok``) for every citizen of ``partition``, up to ``tot``."""
    value = RecordSerializer(LocalRegistry()).encode(
        "schakel.klok",
        "nl.schakel.intern.klok",
        {"subject": None, "tot": tot, "modus": "replay"},
    )
    return Message("schakel.klok", partition, 0, None, value, [])


def processed(processor: Processor, message: Message) -> None:
    """``message`` processed and then committed: the processor's commit hook (its
    :meth:`~Processor.flush`) has run, as Faust runs it at the next offset commit."""
    asyncio.run(processor.handle(message))
    processor.flush()


class Worker:
    """A :class:`Processor` on a dict table, with its output topics as :class:`Sink`;
    :meth:`handle` flushes after every record (a commit after each)."""

    def __init__(self, history_limit: int = 2000, registry: LocalRegistry | None = None) -> None:
        registry = registry or LocalRegistry()
        self.signals, self.snapshots, self.deadletters = Sink(), Sink(), Sink()
        self.table: dict[str, CitizenState] = {}
        self.metrics = WorkerMetrics()
        self.processor = Processor(
            wire=DEFAULT_WIRE,
            table=self.table,
            engine=RULES,
            serializer=RecordSerializer(registry),
            deserializer=RecordDeserializer(registry),
            send_signal=self.signals,
            send_snapshot=self.snapshots,
            queue_snapshot=self.snapshots.queue,
            send_deadletter=self.deadletters,
            metrics=self.metrics,
            clock_mode="replay",
            history_limit=history_limit,
            partitions=4,
            source="urn:schakel",
        )

    async def handle(self, *messages: Message) -> None:
        for each in messages:
            await self.processor.handle(each)
            self.processor.flush()


class BatchIngest:
    """The ingest step of :class:`BatchRebuild` (decode, dedupe, limit, dead letters)."""

    def __init__(self, history_limit: int = 2000, registry: LocalRegistry | None = None) -> None:
        registry = registry or LocalRegistry()
        self.rebuild = BatchRebuild(
            "127.0.0.1:1",  # never contacted: only the ingest step runs
            wire=DEFAULT_WIRE,
            engine=RULES,
            serializer=RecordSerializer(registry),
            deserializer=RecordDeserializer(registry),
            partitions=4,
            source="urn:schakel",
            history_limit=history_limit,
        )
        self.producer = Sink()
        self.stats = BatchStats()
        self.states: dict[str, CitizenState] = {}
        self.touched: set[str] = set()
        self.held: Held = {}
        self.records: list[Any] = []

    def ingest(self, *messages: Message) -> None:
        for each in messages:
            record = SimpleNamespace(
                topic=each.topic,
                partition=each.partition,
                offset=each.offset,
                key=each.key,
                value=each.value,
                headers=list(each.headers),
                timestamp=each.timestamp,
            )
            self.records.append(record)
            self.rebuild._ingest(
                record, self.states, self.touched, self.producer, self.stats, held=self.held
            )

    def finish(self, until: date | None = None, subjects: Iterable[str] | None = None) -> None:
        """:meth:`BatchRebuild._finish` of what was ingested (``subjects``: as a partition of
        the first round finishes them), a citizen to redo from no state before and with its
        records ingested, in the order ingested."""

        def redo(wanted: Iterable[str]) -> dict[str, tuple[CitizenState | None, list[Any]]]:
            out: dict[str, tuple[CitizenState | None, list[Any]]] = {s: (None, []) for s in wanted}
            for record in self.records:
                try:
                    subject, _ = self.rebuild.fast.decode(record.value, record.topic)
                except IngestError:
                    continue
                if subject in out:
                    out[subject][1].append(record)
            return out

        if subjects is None:
            subjects = self.touched if until is None else list(self.states)
        self.rebuild._finish(
            self.states,
            subjects,
            until,
            self.producer,
            self.stats,
            touched=self.touched,
            held=self.held,
            redo=redo,
        )
