"""Fixtures of the adapter unit tests: an in-memory publisher (no broker), runners with their
own metrics registry, and helpers to read a source through validation."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaProducer
from kafka.errors import KafkaError, KafkaTimeoutError, MessageSizeTooLargeError, UnknownError
from kafka.record.default_records import DefaultRecordBatchBuilder
from prometheus_client import CollectorRegistry

from adapters import publisher as publisher_module
from adapters.base import Record, Source
from adapters.checkpoint import FileCheckpoint
from adapters.exceptions import PublishError
from adapters.metrics import AdapterMetrics
from adapters.outbox import OutboxSource
from adapters.publisher import Headers, Publisher
from adapters.quarantine import Quarantine
from adapters.runner import Runner
from schemas.envelope import Event, validate_input
from schemas.exceptions import InvalidEvent
from schemas.pseudonym import Pseudonymiser
from schemas.registry import LocalRegistry
from schemas.serde import RecordSerializer
from schemas.wire import DEFAULT_WIRE

ROOT = Path(__file__).resolve().parents[3]
SAMPLES = ROOT / "samples"
BAD = SAMPLES / "bad"
SOURCE = "urn:nld:oin:00000001234567890000:systeem:test"
KEY = "unit-test-key-0123456789abcdef0123456"
PSEUDONYMISER = Pseudonymiser(KEY)


def outbox_record(
    row_id: int, text: str | None, registered: str | None = None, *, wall: float = 0.0
) -> Record:
    """Outbox row ``row_id`` (``event::text``, ``created_at`` as the source selects it) as the
    outbox source makes it a record, without a database (nothing connects before
    :meth:`OutboxSource.records`); ``wall`` is the moment it is read (epoch seconds)."""
    source = OutboxSource("postgresql://unused", pseudonymiser=PSEUDONYMISER, wall=lambda: wall)
    return source._record(row_id, text, registered=registered)


"""The runners' pseudonymiser (:func:`make_harness`), for sources that need it (iWmo)."""


class FakePublisher(Publisher):
    """Records what would be published; ``fail`` makes acknowledgements fail."""

    def __init__(self) -> None:
        self._serializer = RecordSerializer(LocalRegistry())
        self.wire = DEFAULT_WIRE
        self.queued: list[Event] = []
        self.acked: list[Event] = []
        self.raw: list[tuple[str, bytes | None, bytes]] = []
        self.flushes = 0
        self.fail = False

    def send(self, event: Event, *, tag: Any = None) -> Any:
        self._serializer(event, "schakel.test")  # must encode with its schema
        self.queued.append(event)

    def send_raw(
        self, topic: str, key: bytes | None, value: bytes, headers: Headers = (), *, tag: Any = None
    ) -> Any:
        self.raw.append((topic, key, value))

    def send_and_wait(self, event: Event, timeout: float = 30.0) -> None:
        if self.fail:
            raise PublishError("broker did not acknowledge: test")
        self.send(event)
        self.flush()

    def check(self) -> None:
        if self.fail:
            raise PublishError("broker did not answer: test")

    def flush(self, timeout: float = 60.0, cancel: threading.Event | None = None) -> int:
        if self.fail:
            raise PublishError("broker did not acknowledge: test")
        self.flushes += 1
        count = len(self.queued)
        self.acked += self.queued
        self.queued = []
        return count

    def close(self, timeout: float = 5.0) -> None:
        pass


class FakeFuture:
    """A kafka-python record future, resolved by :meth:`FakeKafkaProducer.flush` (``get``
    before it flushes, as kafka-python's sender thread would send the record)."""

    def __init__(self, producer: FakeKafkaProducer) -> None:
        self._producer = producer
        self.error: KafkaError | None = None
        self.done = False

    def get(self, timeout: float | None = None) -> None:
        if not self.done:
            with contextlib.suppress(KafkaError):
                self._producer.flush(timeout)
        if not self.done:
            raise KafkaTimeoutError(f"Timeout after waiting for {timeout} secs.")
        if self.error is not None:
            raise self.error


@dataclass
class FakeKafkaBroker:
    """What the :class:`FakeKafkaProducer` s of a test publish to, and how it answers: a
    record whose value is larger than ``limit`` bytes (the topic's ``max.message.bytes``) is
    refused with ``MESSAGE_TOO_LARGE``; while ``outage`` is set every other record fails
    with it (e.g. ``KafkaConnectionError``); while ``flush_times_out`` is set the producer's
    ``flush`` times out (broker unreachable), after waiting its ``timeout`` as kafka-python's
    does (a test shortens the timeouts it reaches)."""

    limit: int | None = None
    outage: KafkaError | None = None
    flush_times_out: bool = False
    acked: list[tuple[str, bytes | None, bytes]] = field(default_factory=list)
    producers: list[FakeKafkaProducer] = field(default_factory=list)


class FakeKafkaProducer:
    """Stands in for kafka-python's ``KafkaProducer`` under the real :class:`Publisher`
    (:func:`kafka_publisher`), without a broker, and behaves as kafka-python 3.0 does:

    - ``send`` makes kafka-python's own size check (its record size estimate against the
      ``max_request_size`` the publisher configures: ``MessageSizeTooLargeError``);
    - the broker's refusal of a record for its size is fatal to the (idempotent) producer:
      every later record fails with the same ``MessageSizeTooLargeError``;
    - ``flush`` raises ``UnknownError("Future not done")`` when a record was refused during
      it (kafka-python's flush meeting a batch it split)."""

    def __init__(self, broker: FakeKafkaBroker, **config: Any) -> None:
        self.broker = broker
        self.config = dict(KafkaProducer.DEFAULT_CONFIG, **config)
        self.fatal: KafkaError | None = None
        self.closed = False
        self._queued: list[tuple[FakeFuture, tuple[str, bytes | None, bytes]]] = []

    def send(
        self,
        topic: str,
        key: bytes | None = None,
        value: bytes = b"",
        headers: list[tuple[str, bytes]] | None = None,
    ) -> FakeFuture:
        size = DefaultRecordBatchBuilder.estimate_size_in_bytes(key, value, headers or [])
        KafkaProducer._ensure_valid_record_size(self, size)  # kafka-python's own check
        future = FakeFuture(self)
        self._queued.append((future, (topic, key, value)))
        return future

    def flush(self, timeout: float | None = None) -> None:
        broker = self.broker
        if broker.flush_times_out:  # as kafka-python's: only after waiting ``timeout``
            time.sleep(timeout or 0.0)
            raise KafkaTimeoutError("Timeout waiting for future")
        queued, self._queued = self._queued, []
        refused = False
        for future, record in queued:
            future.done = True
            if self.fatal is not None:
                future.error = self.fatal
            elif broker.limit is not None and len(record[2]) > broker.limit:
                future.error = self.fatal = MessageSizeTooLargeError()
                refused = True
            elif broker.outage is not None:
                future.error = broker.outage
            else:
                broker.acked.append(record)
        if refused:
            raise UnknownError("Future not done")

    def close(self, timeout: float | None = None) -> None:
        self.closed = True


def kafka_publisher(monkeypatch: pytest.MonkeyPatch) -> tuple[Publisher, FakeKafkaBroker]:
    """The real :class:`Publisher` over :class:`FakeKafkaProducer` s (built with the
    publisher's own configuration) of one :class:`FakeKafkaBroker`."""
    broker = FakeKafkaBroker()

    def factory(**config: Any) -> FakeKafkaProducer:
        producer = FakeKafkaProducer(broker, **config)
        broker.producers.append(producer)
        return producer

    monkeypatch.setattr(publisher_module, "KafkaProducer", factory)
    publisher = Publisher(
        "fake:9092", RecordSerializer(LocalRegistry()), client_id="test", wire=DEFAULT_WIRE
    )
    return publisher, broker


@dataclass
class Harness:
    """A runner over a source with a fake publisher, files under ``tmp``."""

    runner: Runner
    publisher: FakePublisher
    registry: CollectorRegistry
    quarantine_path: Path
    rejected: list[tuple[str, str, str]] = field(default_factory=list)

    def quarantine_lines(self) -> list[str]:
        return read_lines(self.quarantine_path)


@dataclass
class KafkaHarness:
    """A runner over a source with the real :class:`Publisher` over a
    :class:`FakeKafkaProducer`, files under ``tmp``."""

    runner: Runner
    publisher: Publisher
    broker: FakeKafkaBroker
    registry: CollectorRegistry
    quarantine_path: Path

    def quarantine_lines(self) -> list[str]:
        return read_lines(self.quarantine_path)


def read_lines(path: Path) -> list[str]:
    """The lines of a UTF-8 file; none if it does not exist."""
    if not path.exists():
        return []
    return path.read_text(encoding="utf-8").splitlines()


def _runner(
    source: Source,
    tmp: Path,
    publisher: Publisher,
    registry: CollectorRegistry,
    *,
    batch_size: int = 1000,
    dedupe: bool = False,
    on_reject: Any = None,
) -> tuple[Runner, Path]:
    qpath = tmp / "quarantaine" / f"{source.name}.jsonl"
    runner = Runner(
        source,
        publisher=publisher,
        pseudonymiser=Pseudonymiser(KEY),
        checkpoint=FileCheckpoint(tmp / "checkpoints" / f"{source.name}.json"),
        quarantine=Quarantine(source.name, qpath, publisher),
        metrics=AdapterMetrics(registry),
        batch_size=batch_size,
        dedupe_in_run=dedupe,
        on_reject=on_reject,
    )
    return runner, qpath


def make_harness(
    source: Source, tmp: Path, *, batch_size: int = 1000, dedupe: bool = False
) -> Harness:
    registry = CollectorRegistry()
    publisher = FakePublisher()
    rejected: list[tuple[str, str, str]] = []
    runner, qpath = _runner(
        source,
        tmp,
        publisher,
        registry,
        batch_size=batch_size,
        dedupe=dedupe,
        on_reject=lambda loc, reason, msg: rejected.append((str(loc), reason, msg)),
    )
    return Harness(runner, publisher, registry, qpath, rejected)


def make_kafka_harness(
    source: Source, tmp: Path, monkeypatch: pytest.MonkeyPatch, *, batch_size: int = 1000
) -> KafkaHarness:
    """:func:`make_harness` with the real publisher over a :class:`FakeKafkaProducer`."""
    registry = CollectorRegistry()
    publisher, broker = kafka_publisher(monkeypatch)
    runner, qpath = _runner(source, tmp, publisher, registry, batch_size=batch_size)
    return KafkaHarness(runner, publisher, broker, registry, qpath)


@pytest.fixture
def harness(tmp_path: Path) -> Any:
    def build(source: Source, **kwargs: Any) -> Harness:
        return make_harness(source, tmp_path, **kwargs)

    return build


def events(records: Iterable[Record]) -> list[dict[str, Any]]:
    """The input-form CloudEvents of the records that carry one."""
    return [dict(r.event) for r in records if r.event is not None]


def outcomes(records: Iterable[Record], base: Path = SAMPLES) -> list[tuple[str, str]]:
    """(location relative to ``base``, reason or 'ok') per record after validation."""
    out = []
    pseudonymiser = Pseudonymiser(KEY)
    prefix = f"{base}/"
    for record in records:
        where = str(record.location).replace(prefix, "")
        if record.rejection is not None:
            out.append((where, record.rejection.reason))
            continue
        try:
            validate_input(record.event, pseudonymiser)
        except InvalidEvent as exc:
            out.append((where, exc.reason))
        else:
            out.append((where, "ok"))
    return out
