"""Fixtures of the adapter unit tests: an in-memory publisher (no broker), runners with their
own metrics registry, and helpers to read a source through validation."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from adapters.base import Record, Source
from adapters.checkpoint import FileCheckpoint
from adapters.exceptions import PublishError
from adapters.metrics import AdapterMetrics
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
KEY = "unit-test-key"


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

    def send(self, event: Event) -> Any:
        self._serializer(event, "schakel.test")  # must encode with its schema
        self.queued.append(event)

    def send_raw(self, topic: str, key: bytes | None, value: bytes, headers: Headers = ()) -> Any:
        self.raw.append((topic, key, value))

    def send_and_wait(self, event: Event, timeout: float = 30.0) -> None:
        if self.fail:
            raise PublishError("broker did not acknowledge: test")
        self.send(event)
        self.flush()

    def flush(self, timeout: float = 60.0) -> int:
        if self.fail:
            raise PublishError("broker did not acknowledge: test")
        self.flushes += 1
        count = len(self.queued)
        self.acked += self.queued
        self.queued = []
        return count

    def close(self) -> None:
        pass


@dataclass
class Harness:
    """A runner over a source with a fake publisher, files under ``tmp``."""

    runner: Runner
    publisher: FakePublisher
    registry: CollectorRegistry
    quarantine_path: Path
    rejected: list[tuple[str, str, str]] = field(default_factory=list)

    def quarantine_lines(self) -> list[str]:
        if not self.quarantine_path.exists():
            return []
        return self.quarantine_path.read_text(encoding="utf-8").splitlines()


def make_harness(
    source: Source, tmp: Path, *, batch_size: int = 1000, dedupe: bool = False
) -> Harness:
    registry = CollectorRegistry()
    publisher = FakePublisher()
    qpath = tmp / "quarantaine" / f"{source.name}.jsonl"
    rejected: list[tuple[str, str, str]] = []
    runner = Runner(
        source,
        publisher=publisher,
        pseudonymiser=Pseudonymiser(KEY),
        checkpoint=FileCheckpoint(tmp / "checkpoints" / f"{source.name}.json"),
        quarantine=Quarantine(source.name, qpath, publisher),
        metrics=AdapterMetrics(registry),
        batch_size=batch_size,
        dedupe_in_run=dedupe,
        on_reject=lambda loc, reason, msg: rejected.append((str(loc), reason, msg)),
    )
    return Harness(runner, publisher, registry, qpath, rejected)


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
