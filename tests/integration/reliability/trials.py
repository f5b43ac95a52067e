"""What the failover and exactly-once trials share: a backlog of at least 20,000 events (the
citizens of ``tests/integration/streams/test_restart.py``, in an order drawn from the trial's
seed), a worker in a namespace of its own on a three-node Apache Kafka cluster, the pure
engine's oracle of that backlog, and ``read_committed`` reads of the results.

Sizes, from the environment: ``SCHAKEL_FAILOVER_TRIALS`` (default 3),
``SCHAKEL_EOS_KILLS`` (worker kills, default 5) and ``SCHAKEL_BACKLOG`` (events
per backlog, default 1,200, so that ``make test`` stays short); ``make reliability`` runs 20
failover trials (10 of each kind) and 20 kills per table store on backlogs of 20,000 events.
Every trial prints its seed (``pytest -s`` shows it; a failing assertion names it too):
``SCHAKEL_TRIAL_SEED=<seed>`` repeats one trial's choices.
"""

from __future__ import annotations

import os
import random
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer, TopicPartition

from schakel.kafka_cluster import KafkaCluster
from schakel.replay import wait_drained
from schakel.topics import ensure_topics
from schemas.registry import LocalRegistry
from schemas.serde import RecordDeserializer
from schemas.wire import Wire
from streams.codec import snapshot_json
from tests.integration.streams.helpers import WorkerProcess, publish
from tests.integration.streams.test_restart import citizen_events, oracle, processed

PARTITIONS = 4
REPLICATION = 3
EVENTS_PER_CITIZEN = 5.8  # citizen_events: 4 + 1/3 + 1/2 + 1 on average


def size(variable: str, default: int) -> int:
    """A trial count or backlog size from the environment (``make reliability`` sets the
    full ones)."""
    return int(os.environ.get(variable, str(default)))


TIME_LIMIT = size("SCHAKEL_RELIABILITY_TIMEOUT", 900)
"""Seconds per test (several worker runs: more than the suite's 300 s on a loaded machine);
``make reliability`` sets 0, no limit."""


def backlog_size() -> int:
    return size("SCHAKEL_BACKLOG", 1200)


def seeds(count: int) -> list[int]:
    """``count`` seeds: ``SCHAKEL_TRIAL_SEED`` (repeat one trial) or fresh random ones."""
    fixed = os.environ.get("SCHAKEL_TRIAL_SEED")
    if fixed:
        return [int(fixed)] * count
    return [secrets.randbelow(2**31) for _ in range(count)]


def backlog(seed: int, at_least: int) -> list[dict[str, Any]]:
    """At least ``at_least`` input events: every citizen's events in order, the citizens
    shuffled by ``seed``."""
    order = list(range(int(at_least / EVENTS_PER_CITIZEN) + 1))
    random.Random(seed).shuffle(order)
    events = [e for i in order for e in citizen_events(i)]
    while len(events) < at_least:
        events.extend(citizen_events(len(order)))
        order.append(len(order))
    return events


Identity = tuple[str, str, str, str]


def read_committed(bootstrap: str, topic: str, timeout: float = 60.0) -> list[Any]:
    """Every committed record of ``topic`` (a ``read_committed`` consumer from the start to
    the last stable offset of each partition)."""
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        isolation_level="read_committed",
    )
    try:
        partitions = consumer.partitions_for_topic(topic)
        deadline = time.monotonic() + timeout
        while not partitions and time.monotonic() < deadline:
            time.sleep(0.1)
            partitions = consumer.partitions_for_topic(topic)
        tps = [TopicPartition(topic, p) for p in sorted(partitions or ())]
        consumer.assign(tps)
        end = consumer.end_offsets(tps)  # read_committed: the last stable offsets
        consumer.seek_to_beginning(*tps)
        records: list[Any] = []
        while any(consumer.position(tp) < end[tp] for tp in tps):
            assert time.monotonic() < deadline, f"{topic}: not read to its end in {timeout}s"
            for batch in consumer.poll(timeout_ms=500).values():
                records.extend(batch)
        return records
    finally:
        consumer.close()


@dataclass
class Outcome:
    """What a trial's namespace holds at the end (read ``read_committed``)."""

    timelines: dict[str, set[str]]
    """Subject → ids of the events in its latest timeline snapshot."""
    signals: set[Identity]
    """(regel, subject, sleutel, status) of every signal in the latest snapshots, withdrawn
    ones included."""
    signal_events: list[tuple[str, dict[str, Any]]]
    """(type, CloudEvent) of every record on the signal topic, in log order per partition."""


def outcome(bootstrap: str, wire: Wire) -> Outcome:
    deserialize = RecordDeserializer(LocalRegistry())
    latest: dict[str, dict[str, Any]] = {}
    for record in read_committed(bootstrap, wire.tijdlijnen):
        _, value = deserialize.decode(record.value)
        latest[value["subject"]] = snapshot_json(value)
    return Outcome(
        timelines={s: {e["id"] for e in snap["tijdlijn"]} for s, snap in latest.items()},
        signals={
            (s["regel"], s["subject"], s["sleutel"], s["status"])
            for snap in latest.values()
            for s in snap["alle_signalen"]
        },
        signal_events=[
            deserialize.decode(r.value) for r in read_committed(bootstrap, wire.signalen)
        ],
    )


@dataclass
class Trial:
    """One trial in namespace ``wire`` of ``cluster``: its topics (RF ``replication``, 3 by
    default, min ISR 2), its backlog, and a worker on it."""

    cluster: KafkaCluster
    seed: int
    kind: str
    work: Path
    replication: int = REPLICATION
    """Replicas of every topic (1 on a single node)."""

    def __post_init__(self) -> None:
        self.wire = Wire(f"{self.kind}-{self.seed:x}-{secrets.token_hex(2)}")
        self.events = backlog(self.seed, backlog_size())
        self.rng = random.Random(self.seed)
        ensure_topics(
            self.cluster.bootstrap,
            partitions=PARTITIONS,
            replication_factor=self.replication,
            wire=self.wire,
        )

    def publish(self) -> int:
        return publish(self.cluster.bootstrap, self.events, wire=self.wire)

    def worker(self, store: str = "memory") -> WorkerProcess:
        """A worker of this namespace (profile ``kafka``: exactly-once, idempotent producers;
        table store ``store``), not started; the same data directory every time."""
        return WorkerProcess(
            self.cluster.bootstrap,
            self.work / self.wire.namespace,
            extra_env={
                "SCHAKEL_PROFILE": "kafka",
                "SCHAKEL_NAMESPACE": self.wire.namespace,
                "SCHAKEL_PARTITIONS": str(PARTITIONS),
                "SCHAKEL_REPLICATION_FACTOR": str(self.replication),
                "SCHAKEL_LOG_FORMAT": "text",
                "SCHAKEL_STORE": store,
            },
        )

    def wait_processed(self, worker: WorkerProcess, at_least: int, timeout: float) -> int:
        """Block until the worker's /metrics count ``at_least`` processed records."""
        deadline = time.monotonic() + timeout
        done = processed(worker)
        while done < at_least:
            assert worker.process is not None and worker.process.poll() is None, (
                f"seed {self.seed}: worker exited: {worker.log.read_text()[-3000:]}"
            )
            assert time.monotonic() < deadline, f"seed {self.seed}: stuck at {done} records"
            time.sleep(0.05)
            done = processed(worker)
        return done

    def drain(self, worker: WorkerProcess, timeout: float = 300.0) -> None:
        assert worker.process is not None
        wait_drained(
            self.cluster.bootstrap,
            self.wire.event_topics,
            worker.process,
            worker.log,
            timeout,
            group=self.wire.group_id,
            embedded=False,
        )

    def check_nothing_lost(self) -> Outcome:
        """Every published event is in its citizen's final timeline and the final signals are
        those of a crash-free run; returns what was read."""
        timelines, expected = oracle(self.events)
        got = outcome(self.cluster.bootstrap, self.wire)
        lost = sum(len(ids - got.timelines.get(s, set())) for s, ids in timelines.items())
        assert lost == 0, f"seed {self.seed}: {lost} events lost"
        assert got.timelines == timelines, f"seed {self.seed}: timelines differ"
        # Withdrawn signals (ingetrokken) are left out: the event topics are four topics, and
        # the order in which the worker interleaves them differs from run to run (also
        # without a crash); a citizen whose late fact arrives after a later-dated one from
        # another topic gets a signal that is withdrawn again (docs/rules.md). The oracle
        # holds the definitive signals.
        definitive = {s for s in got.signals if s[3] != "ingetrokken"}
        assert definitive == expected, (
            f"seed {self.seed}: signals differ from the oracle: missing "
            f"{sorted(expected - definitive)[:5]}, not in the oracle "
            f"{sorted(definitive - expected)[:5]}"
        )
        assert len(expected) > len(timelines)  # the backlog raises plenty of signals
        return got
