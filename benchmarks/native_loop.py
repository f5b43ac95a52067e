"""A benchmark-only contender (not a Schakel runtime): Schakel's own
:class:`streams.processor.Processor` driven by a plain confluent-kafka loop, without Faust.

``python -m benchmarks.native_loop MODE BOOTSTRAP COUNT OUT IN_NAMESPACE OUT_NAMESPACE``

MODE ``alo`` (at least once, as the worker on the embedded broker) or ``eos`` (one
transactional producer, the consumed offsets sent in its transaction: Apache Kafka only).

Reads the four event topics and the clock topic of IN_NAMESPACE from the beginning, in a
consumer group of its own (OUT_NAMESPACE's), ``enable.auto.commit=false``. Every record is
handed to a :class:`~streams.processor.Processor` built as ``streams.app.create_app`` builds
the worker's (same rules, Avro serde on the local registry, replay clock, history limit,
source, size limit), with a plain dict as its table; its outputs go, through one
confluent-kafka producer, to the topics of OUT_NAMESPACE: signal events, timeline snapshots
(queued at the flush) and the state (encoded with the worker table's codec,
:class:`streams.codec.StateCodec`) on that namespace's changelog, in the citizen's partition.
Every :data:`COMMIT_INTERVAL_S` (the worker's ``broker_commit_interval``): ``processor.flush()``,
then the producer flushed (``alo``) and the consumed offsets committed synchronously, or the
offsets sent to the transaction and the transaction committed (``eos``).

Writes to OUT ``{"seconds": …}``: from just before the first record is handled to just after
the COUNT-th was handled (as the worker is timed: its event counters), plus
``seconds_committed`` (until the final flush and commit returned), ``commits``, ``cpu_seconds``
and ``max_rss_bytes``.

Not done here, unlike ``schakel worker``: the HTTP API and read model, recovering the table
from the changelog at start, rebalance handling (one member, never revoked), the live clock's
timer, metrics served over HTTP, lag gauges, dead letters beyond what the Processor does.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import confluent_kafka
from confluent_kafka import KafkaError, KafkaException

from benchmarks.contenders import cpu_seconds, peak_rss
from schakel.topics import ensure_topics
from schemas.registry import LocalRegistry
from schemas.serde import RecordDeserializer, RecordSerializer
from schemas.settings import WorkerSettings
from schemas.wire import Wire
from streams.batch_kafka import BulkProducer
from streams.codec import StateCodec
from streams.gc_tuning import for_a_worker
from streams.metrics import WorkerMetrics
from streams.processor import Message, Processor
from streams.rules import load_rules
from streams.sizes import output_limit, sized_outputs, topic_limits
from streams.state import CitizenState

COMMIT_INTERVAL_S = 1.0
FIRST_EVENT = "native_loop: first event"
"""Printed (stdout) when the first record is about to be handled."""
POLL_BATCH = 500
LINGER_MS = 10  # the worker's producer_linger (streams.app.PRODUCER_LINGER_S)


class _TxProducer(BulkProducer):
    """The batch path's producer, transactional (``eos``): one transaction per interval."""

    def __init__(self, bootstrap: str, transactional_id: str) -> None:
        super().__init__(
            bootstrap, config={"transactional.id": transactional_id, "linger.ms": LINGER_MS}
        )
        self._producer.init_transactions(60)
        self._producer.begin_transaction()

    def commit(self, offsets: list[Any], group: Any) -> None:
        self._producer.send_offsets_to_transaction(offsets, group, 60)
        self._producer.commit_transaction(60)
        if self._failures.count:
            raise RuntimeError(f"{self._failures.count} output(s) failed: {self._failures.error}")
        self._producer.begin_transaction()


def _processor(
    bootstrap: str,
    settings: WorkerSettings,
    *,
    inputs: Wire,
    outputs: Wire,
    producer: Any,
    mode: str,
) -> Processor:
    """A Processor as the worker's (``streams.app.create_app``), on a dict table, sending to
    the topics of ``outputs``. Its ``wire`` is the input namespace's (it checks that an
    event's type belongs to the topic it was read from); the output topic names only matter
    to the serializer as registry subjects, and the local registry's ids do not depend on
    them."""
    registry = LocalRegistry()
    serializer = RecordSerializer(registry)
    deserializer = RecordDeserializer(registry)
    codec = StateCodec(serializer, deserializer, outputs.changelog)
    table: dict[str, CitizenState] = {}
    send = producer.send

    async def send_signal(**record: Any) -> None:
        send(outputs.signalen, **record)

    async def send_snapshot(**record: Any) -> None:
        send(outputs.tijdlijnen, **record)

    def queue_snapshot(**record: Any) -> None:
        send(outputs.tijdlijnen, **record)

    async def send_deadletter(**record: Any) -> None:
        send(outputs.deadletter_streams, **record)

    def store_state(subject: str, state: CitizenState, partition: int) -> None:
        table[subject] = state
        send(
            outputs.changelog, key=subject.encode(), value=codec.encode(state), partition=partition
        )

    def delete_state(subject: str, partition: int) -> None:
        table.pop(subject, None)
        send(outputs.changelog, key=subject.encode(), value=None, partition=partition)

    output_bytes = output_limit(topic_limits(bootstrap, sized_outputs(outputs)).values())
    return Processor(
        wire=inputs,
        table=table,
        engine=load_rules(settings.rules_dir),
        serializer=serializer,
        deserializer=deserializer,
        send_signal=send_signal,
        send_snapshot=send_snapshot,
        queue_snapshot=queue_snapshot,
        send_deadletter=send_deadletter,
        metrics=WorkerMetrics(),
        clock_mode="replay",
        history_limit=settings.history_limit,
        partitions=settings.partitions,
        source=settings.source_urn("schakel"),
        store_state=store_state,
        delete_state=delete_state,
        resend_redelivered=mode == "alo",
        max_output_bytes=output_bytes,
    )


def _message(record: Any) -> Message:
    kind, stamp = record.timestamp()
    return Message(
        topic=record.topic(),
        partition=record.partition(),
        offset=record.offset(),
        key=record.key(),
        value=record.value(),
        headers=record.headers() or [],
        timestamp=None if kind == confluent_kafka.TIMESTAMP_NOT_AVAILABLE else stamp,
    )


class Loop:
    """The consumer, the processor and the producer of one run (module docstring)."""

    def __init__(self, mode: str, bootstrap: str, *, inputs: Wire, outputs: Wire) -> None:
        settings = WorkerSettings()
        ensure_topics(bootstrap, partitions=settings.partitions, wire=outputs)
        self.mode = mode
        self.producer: Any
        if mode == "alo":
            self.producer = BulkProducer(bootstrap)
        elif mode == "eos":
            self.producer = _TxProducer(bootstrap, f"{outputs.group_id}-native")
        else:
            raise SystemExit(f"mode: alo or eos, not {mode}")
        self.processor = _processor(
            bootstrap, settings, inputs=inputs, outputs=outputs, producer=self.producer, mode=mode
        )
        self.consumer = confluent_kafka.Consumer(
            {
                "bootstrap.servers": bootstrap,
                "group.id": outputs.group_id,
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
                "isolation.level": "read_committed",
                "session.timeout.ms": 10_000,
            }
        )
        self.consumer.subscribe([*inputs.event_topics, inputs.klok])
        self.group = self.consumer.consumer_group_metadata() if mode == "eos" else None
        self.positions: dict[tuple[str, int], int] = {}
        self.commits = 0

    def commit(self) -> None:
        """Flush the processor (snapshots and states of the dirty citizens), then make the
        outputs durable and commit the consumed offsets (``alo``), or commit both in the
        transaction (``eos``)."""
        self.processor.flush()
        offsets = [confluent_kafka.TopicPartition(t, p, o) for (t, p), o in self.positions.items()]
        if self.mode == "alo":
            self.producer.flush()  # raises if an output was not acknowledged
            if offsets:
                self.consumer.commit(offsets=offsets, asynchronous=False)
        else:
            self.producer.commit(offsets, self.group)
        self.commits += 1

    async def run(self, count: int) -> dict[str, Any]:
        """Handle ``count`` records, committing every :data:`COMMIT_INTERVAL_S`; the
        figures written to OUT."""
        handled = 0
        first: float | None = None
        cpu_first = 0.0
        last_commit = time.monotonic()
        while handled < count:
            for record in self.consumer.consume(num_messages=POLL_BATCH, timeout=0.2):
                error = record.error()
                if error is not None:
                    if error.code() == KafkaError._PARTITION_EOF:
                        continue
                    raise KafkaException(error)
                if first is None:
                    first = time.perf_counter()
                    cpu_first = cpu_seconds(os.getpid())
                    print(FIRST_EVENT, flush=True)  # for benchmarks.profile
                message = _message(record)
                await self.processor.handle(message)
                self.positions[(message.topic, message.partition)] = message.offset + 1
                handled += 1
                if handled >= count:
                    break
            if time.monotonic() - last_commit >= COMMIT_INTERVAL_S:
                self.commit()
                last_commit = time.monotonic()
        assert first is not None
        done = time.perf_counter()
        cpu_done = cpu_seconds(os.getpid())
        self.commit()
        return {
            "mode": self.mode,
            "events": handled,
            "seconds": done - first,
            "seconds_committed": time.perf_counter() - first,
            "commits": self.commits,
            "cpu_seconds": cpu_done - cpu_first,
            "max_rss_bytes": peak_rss(os.getpid()),
        }


async def main(mode: str, bootstrap: str, count: int, out: str, namespaces: list[str]) -> None:
    loop = Loop(mode, bootstrap, inputs=Wire(namespaces[0]), outputs=Wire(namespaces[1]))
    for_a_worker()  # the worker's collector settings (schakel worker calls it too)
    try:
        figures = await loop.run(count)
    finally:
        loop.consumer.close()
    Path(out).write_text(json.dumps(figures))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5:7]))
