"""Helpers for stream integration tests: a worker subprocess, publishing, reading topics."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient

from adapters.publisher import Publisher
from schakel.broker import free_port
from schakel.replay import wait_drained
from schemas.envelope import validate_input
from schemas.pseudonym import Pseudonymiser
from schemas.registry import LocalRegistry
from schemas.serde import RecordDeserializer, RecordSerializer
from schemas.wire import DEFAULT_WIRE, Wire
from streams.batch import BatchRebuild
from streams.offsets import true_end_offsets
from streams.rules import load_rules
from tests.brokers import TestBroker
from tests.processes import start, stop

ROOT = Path(__file__).resolve().parents[3]
SCENARIO = ROOT / "examples" / "scenario.jsonl"
KEY = "test-pseudonym-key-0123456789abcdef"
TOKENS = "anna:regisseur:token-anna,bert:beheerder:token-bert,carla:auditor:token-carla"
AUTH = {"Authorization": "Bearer token-anna", "X-Doel": "casusoverleg"}
"""A regisseur with a purpose: may read signals and timelines."""


class WorkerProcess:
    """``python -m schakel worker`` against a test broker."""

    def __init__(
        self,
        bootstrap: str,
        data_dir: Path,
        *,
        clock: str = "replay",
        extra_env: Mapping[str, str] | None = None,
        wire: Wire = DEFAULT_WIRE,
        profile: str = "embedded",
        stdin: int | None = subprocess.DEVNULL,
    ) -> None:
        """``stdin``: the worker's standard input (``subprocess.PIPE``: an open one that
        never delivers, as a terminal nobody types into)."""
        self.stdin = stdin
        self.bootstrap = bootstrap
        self.data_dir = data_dir
        self.clock = clock
        self.wire = wire
        self.profile = profile
        self.port = free_port()
        self.log = data_dir / f"worker-{self.port}.log"
        self.extra_env = dict(extra_env or {})
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> WorkerProcess:
        env = dict(os.environ)
        env.update(
            {
                "SCHAKEL_KAFKA_BOOTSTRAP": self.bootstrap,
                "SCHAKEL_PROFILE": self.profile,
                "SCHAKEL_NAMESPACE": self.wire.namespace,
                "SCHAKEL_DATA_DIR": str(self.data_dir),
                "SCHAKEL_WEB_PORT": str(self.port),
                "SCHAKEL_API_TOKENS": TOKENS,
                "SCHAKEL_TIMER_INTERVAL_S": "1",
                "PYTHONUNBUFFERED": "1",
                **self.extra_env,
            }
        )
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.process = start(
            [sys.executable, "-m", "schakel", "worker", "--clock", self.clock],
            self.log,
            env=env,
            cwd=ROOT,
            stdin=self.stdin,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"worker exited: {self.log.read_text()[-3000:]}")
            status, _ = self.get("/ready")
            if status == 200:
                return self
            time.sleep(0.2)
        raise AssertionError(f"worker not ready in {timeout}s: {self.log.read_text()[-3000:]}")

    def get(self, path: str, headers: Mapping[str, str] | None = None) -> tuple[int, Any]:
        request = urllib.request.Request(self.url + path, headers=dict(headers or {}))
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                body = response.read()
                status = response.status
        except urllib.error.HTTPError as exc:
            body, status = exc.read(), exc.code
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return 0, None
        try:
            return status, json.loads(body)
        except ValueError:
            return status, body.decode("utf-8", "replace")

    def drain(self, topics: Iterable[str], timeout: float = 60.0) -> None:
        assert self.process is not None
        wait_drained(
            self.bootstrap,
            list(topics),
            self.process,
            self.log,
            timeout,
            group=self.wire.group_id,
            embedded=self.profile == "embedded",
        )

    def stop(self) -> int | None:
        """SIGTERM, SIGKILL after 30 s (Kubernetes' default grace period); the exit code
        (negative: the signal that ended it), ``None`` if the worker never started."""
        return None if self.process is None else stop(self.process, grace=30)

    def kill(self) -> None:
        """SIGKILL (a crash: no shutdown, no final commit)."""
        assert self.process is not None
        stop(self.process, signal.SIGKILL, grace=5)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def valid_scenario() -> list[dict[str, Any]]:
    """The events of :data:`SCENARIO` without its one invalid line (``bad-1``), fresh each call."""
    return [e for e in read_jsonl(SCENARIO) if e["id"] != "bad-1"]


def publish(
    bootstrap: str,
    raw_events: Iterable[Mapping[str, Any]],
    key: str = KEY,
    *,
    wire: Wire = DEFAULT_WIRE,
) -> int:
    """Validate and publish input CloudEvents (the adapter path, without files) on the event
    topics of ``wire``."""
    publisher = Publisher(bootstrap, RecordSerializer(LocalRegistry()), client_id="test", wire=wire)
    pseudonymise = Pseudonymiser(key)
    count = 0
    for raw in raw_events:
        publisher.send(validate_input(raw, pseudonymise))
        count += 1
    publisher.flush()
    publisher.close()
    return count


def consume(bootstrap: str, topic: str, timeout_ms: int = 2000) -> list[Any]:
    """Every committed record of ``topic`` from the beginning (kafka-python ConsumerRecords;
    ``read_committed``: on Apache Kafka the worker writes in transactions)."""
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        isolation_level="read_committed",
    )
    tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
    consumer.assign(tps)
    end = true_end_offsets(consumer, tps)
    consumer.assign(tps)
    consumer.seek_to_beginning(*tps)
    records: list[Any] = []
    deadline = time.monotonic() + timeout_ms / 1000 + 10
    while any(consumer.position(tp) < end[tp] for tp in tps) and time.monotonic() < deadline:
        for batch in consumer.poll(timeout_ms=500).values():
            records.extend(batch)
    consumer.close()
    return records


def latest_snapshots(bootstrap: str, wire: Wire = DEFAULT_WIRE) -> dict[str, dict[str, Any]]:
    """Each citizen's latest committed timeline snapshot (decoded), by pseudonym; a citizen
    whose latest record is a tombstone has none."""
    deserialize = RecordDeserializer(LocalRegistry())
    latest: dict[bytes, bytes | None] = {}
    for record in consume(bootstrap, wire.tijdlijnen):
        latest[record.key] = record.value
    return {
        key.decode(): deserialize.decode(value)[1]
        for key, value in latest.items()
        if value is not None
    }


def signal_events(bootstrap: str, wire: Wire = DEFAULT_WIRE) -> list[tuple[str, dict[str, Any]]]:
    """(type, record) of every event on the signal topic of ``wire``."""
    deserialize = RecordDeserializer(LocalRegistry())
    return [deserialize.decode(r.value) for r in consume(bootstrap, wire.signalen)]


def worker_on(broker: TestBroker, data_dir: Path, **options: Any) -> WorkerProcess:
    """A :class:`WorkerProcess` pointed at ``broker``: its bootstrap, profile and namespace."""
    return WorkerProcess(
        broker.bootstrap, data_dir, wire=broker.wire, profile=broker.profile, **options
    )


def limit_topic(bootstrap: str, topic: str, limit: int) -> None:
    """Set ``max.message.bytes`` of ``topic`` and wait until the broker reports it. A topic
    just created may not describe its configs yet (kafka-python's admin then says
    ``Unrecognized configs``): tried again for up to 30 s."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        configs = {"max.message.bytes": str(limit)}
        deadline = time.monotonic() + 30
        while True:
            try:
                resource = ConfigResource(ConfigResourceType.TOPIC, topic, configs=configs)
                admin.alter_configs([resource])
                break
            except ValueError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        while time.monotonic() < deadline:
            asked = ConfigResource(ConfigResourceType.TOPIC, topic, configs=None)
            value = admin.describe_configs([asked]).get("topic", {}).get(topic, {})
            if str(limit) in str(value.get("max.message.bytes")):
                return
            time.sleep(0.5)
        raise AssertionError(f"max.message.bytes of {topic} not applied")
    finally:
        admin.close()


def rebuild(broker: TestBroker) -> BatchRebuild:
    """The batch path over ``broker``'s namespace (4 partitions, the built-in rules)."""
    return BatchRebuild(
        broker.bootstrap,
        wire=broker.wire,
        engine=load_rules(),
        serializer=RecordSerializer(LocalRegistry()),
        deserializer=RecordDeserializer(LocalRegistry()),
        partitions=4,
        source="urn:schakel:test",
        history_limit=2000,
        embedded=False,
    )
