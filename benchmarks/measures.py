"""Measurements that read what a worker wrote: state bytes per citizen (its changelog) and
event→signal latency at a fixed offered load (a paced producer, the signal topic)."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer, TopicPartition

from adapters.publisher import Publisher
from benchmarks.brokers import Broker
from benchmarks.contenders import WorkerRun
from benchmarks.workload import signalling_event
from schemas.registry import LocalRegistry
from schemas.serde import RecordDeserializer, RecordSerializer
from schemas.wire import Wire
from streams.offsets import true_end_offsets


def read_topic(bootstrap: str, topic: str) -> list[tuple[bytes | None, bytes | None, int]]:
    """(key, value, timestamp ms) of every record of ``topic``, from the beginning."""
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        max_partition_fetch_bytes=16 * 1024 * 1024,
        fetch_max_bytes=64 * 1024 * 1024,
    )
    try:
        tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        end = true_end_offsets(consumer, tps)  # it assigns only the partitions with records
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        out: list[tuple[bytes | None, bytes | None, int]] = []
        deadline = time.monotonic() + 300
        while any(consumer.position(tp) < end[tp] for tp in tps) and time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=500).values():
                out.extend((r.key, r.value, r.timestamp) for r in batch)
        return out
    finally:
        consumer.close()


@dataclass(frozen=True)
class StateSize:
    """The worker table's changelog: the latest value per citizen, and all bytes written."""

    citizens: int
    bytes_per_citizen: float
    changelog_bytes_per_event: float


def state_size(broker: Broker, wire: Wire, events: int) -> StateSize:
    """Sizes of the changelog of ``wire`` after a worker processed ``events`` events."""
    latest: dict[bytes | None, int] = {}
    written = 0
    for key, value, _ in read_topic(broker.bootstrap, wire.changelog):
        size = len(value or b"")
        written += size
        if value is None:
            latest.pop(key, None)
        else:
            latest[key] = size
    citizens = len(latest)
    return StateSize(
        citizens,
        sum(latest.values()) / citizens if citizens else 0.0,
        written / events if events else 0.0,
    )


@dataclass(frozen=True)
class Signals:
    """The signal events on a namespace's signal topic: how many per type, and their ids."""

    per_type: dict[str, int]
    ids: frozenset[str]
    records: int


def signals(broker: Broker, wire: Wire) -> Signals:
    """Every signal event on the signal topic of ``wire`` (decoded: type and CloudEvents id)."""
    deserializer = RecordDeserializer(LocalRegistry())
    per_type: Counter[str] = Counter()
    ids: set[str] = set()
    records = 0
    for _, value, _ in read_topic(broker.bootstrap, wire.signalen):
        if value is None:
            continue
        event = deserializer(value)
        per_type[event.type] += 1
        ids.add(event.id)
        records += 1
    return Signals(dict(sorted(per_type.items())), frozenset(ids), records)


def same_signals(reference: Signals, other: Signals) -> dict[str, Any]:
    """Whether ``other`` holds the signal events of ``reference`` (counts per type, ids)."""
    return {
        "match": reference.per_type == other.per_type and reference.ids == other.ids,
        "per_type": {"reference": reference.per_type, "other": other.per_type},
        "records": {"reference": reference.records, "other": other.records},
        "ids_only_in_reference": len(reference.ids - other.ids),
        "ids_only_in_other": len(other.ids - reference.ids),
    }


@dataclass(frozen=True)
class Latency:
    """Event→signal latency at ``offered`` events/s: ``sent`` events over ``seconds``, of
    which ``signalled`` got their signal before the end of the wait."""

    offered: float
    sent: int
    signalled: int
    seconds: float
    p50_ms: float
    p99_ms: float
    processed_per_s: float = 0.0
    """What the worker processed per second while the events were sent."""
    behind_at_end: int = 0
    """How many of them the worker had not processed when the last was sent."""
    p50_first_ms: float = 0.0
    """The p50 latency of the first tenth of the events sent."""
    p50_last_ms: float = 0.0
    """The p50 latency of the last tenth of the events sent."""

    @property
    def kept_up(self) -> bool:
        """Whether the worker kept up with the offered load: the latency of the last tenth of
        the events is at most :data:`KEPT_UP_MS` above that of the first tenth. If not, a
        backlog grew through the run, and p50 / p99 measure how far behind the worker was,
        not the delay of one event."""
        return self.p50_last_ms <= self.p50_first_ms + KEPT_UP_MS


KEPT_UP_MS = 1000.0
"""How much the latency may grow from the first tenth of a latency run to the last for the
worker to count as keeping up (commit intervals and fetch waits make it vary by about this
much; a backlog grows by seconds)."""


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0.0


def latency(
    broker: Broker, wire: Wire, work: Path, *, rate: float, seconds: float, wait: float = 240.0
) -> Latency:
    """A live worker (``--clock live``) on ``wire``; once a first event got its signal, a
    producer sends ``rate`` events/s for ``seconds``, each an early warning of a new citizen
    that opens a signal on arrival. Latency = the signal record's timestamp − the wall time
    just before the event was handed to the publisher (adapters' path: Avro, acks=all,
    linger included). Waits up to ``wait`` s after the last send for the signals."""
    publisher = Publisher(
        broker.bootstrap, RecordSerializer(LocalRegistry()), client_id="bench-lat", wire=wire
    )
    run = WorkerRun(broker, wire, work, clock="live")
    today = date.today()
    sent_at: dict[str, float] = {}
    try:
        warm = signalling_event(0, today)
        publisher.send(warm)
        publisher.flush()
        deadline = time.monotonic() + 180
        while run.processed() < 1:
            if time.monotonic() > deadline:
                raise RuntimeError("the latency worker processed nothing in 180 s")
            time.sleep(0.2)
        total = int(rate * seconds)
        paced = [signalling_event(i, today) for i in range(1, total + 1)]
        before = run.processed()
        started = time.perf_counter()
        for i, event in enumerate(paced):
            pause = started + i / rate - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            assert event.subject is not None
            sent_at[event.subject] = time.time() * 1000
            publisher.send(event)
        publisher.flush()
        duration = time.perf_counter() - started
        processed = run.processed() - before
        deadline = time.monotonic() + wait
        while run.processed() < total + 1 and time.monotonic() < deadline:
            time.sleep(0.5)
        time.sleep(2)  # the last signals' produce
    finally:
        run.stop()
        publisher.close()
    first_signal: dict[str, int] = {}
    for key, _, timestamp in read_topic(broker.bootstrap, wire.signalen):
        subject = (key or b"").decode()
        if subject in sent_at and subject not in first_signal:
            first_signal[subject] = timestamp
    latencies = [first_signal[s] - sent_at[s] for s in sent_at if s in first_signal]  # sent order
    tenth = max(1, len(latencies) // 10)
    return Latency(
        rate,
        len(sent_at),
        len(latencies),
        duration,
        _percentile(latencies, 0.50),
        _percentile(latencies, 0.99),
        processed_per_s=processed / duration,
        behind_at_end=max(0, total - int(processed)),
        p50_first_ms=_percentile(latencies[:tenth], 0.50),
        p50_last_ms=_percentile(latencies[-tenth:], 0.50),
    )
