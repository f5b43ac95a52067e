"""A broker away when a process starts: a continuous adapter and the webhook wait for it
(their publisher is made with ``wait``: no producer until the broker answers, an outage
meanwhile), a one-shot run gives up at once (exit 75, "run again later"). Over real processes
and the embedded broker: ``tests/integration/adapters/test_broker_at_start.py``."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from kafka.errors import KafkaTimeoutError
from prometheus_client import CollectorRegistry

from adapters import publisher as publisher_module
from adapters import runner as runner_module
from adapters.exceptions import PublishError
from adapters.jsonlines import JsonLinesSource
from adapters.publisher import RENEW_BOOTSTRAP_MS, Publisher
from adapters.runner import RunStats
from adapters.webhook import WebhookApp, WebhookInbox
from schemas.registry import LocalRegistry
from schemas.serde import RecordSerializer
from schemas.wire import DEFAULT_WIRE
from tests.unit.adapters.conftest import (
    FakeKafkaBroker,
    FakeKafkaProducer,
    _runner,
    read_lines,
)
from tests.unit.adapters.test_runner import wt_line
from tests.unit.adapters.test_webhook import TOKEN, WT, post, ready, structured


@dataclass
class Bootstrap:
    """kafka-python's producer over a :class:`FakeKafkaBroker` that is ``down`` (making a
    producer fails as kafka-python's does when it cannot bootstrap) until told; ``attempts``
    holds the configuration of every producer asked for."""

    broker: FakeKafkaBroker = field(default_factory=FakeKafkaBroker)
    down: bool = True
    attempts: list[dict[str, Any]] = field(default_factory=list)

    def __call__(self, **config: Any) -> FakeKafkaProducer:
        self.attempts.append(config)
        if self.down:
            raise KafkaTimeoutError("Unable to bootstrap from fake:9092")
        producer = FakeKafkaProducer(self.broker, **config)
        self.broker.producers.append(producer)
        return producer


@pytest.fixture
def kafka(monkeypatch: pytest.MonkeyPatch) -> Bootstrap:
    bootstrap = Bootstrap()
    monkeypatch.setattr(publisher_module, "KafkaProducer", bootstrap)
    return bootstrap


def publisher(*, wait: bool) -> Publisher:
    serializer = RecordSerializer(LocalRegistry())
    return Publisher("fake:9092", serializer, client_id="test", wire=DEFAULT_WIRE, wait=wait)


def test_without_wait_a_broker_away_at_the_start_is_raised(kafka: Bootstrap) -> None:
    """``--once``, ``publish``: the constructor raises the outage (exit 75, run again later)."""
    with pytest.raises(PublishError, match="cannot connect to Kafka at fake:9092"):
        publisher(wait=False)
    (config,) = kafka.attempts
    assert "bootstrap_timeout_ms" not in config  # kafka-python's own 30 s, as before


def test_with_wait_the_publisher_starts_without_a_producer_and_makes_it_later(
    kafka: Bootstrap, caplog: pytest.LogCaptureFixture
) -> None:
    waiting = publisher(wait=True)
    assert isinstance(waiting.unconnected, PublishError)
    assert kafka.attempts[0]["bootstrap_timeout_ms"] == RENEW_BOOTSTRAP_MS  # 5 s, not 30 s
    with pytest.raises(PublishError):
        waiting.check()  # still away: an outage, tried again
    assert len(kafka.attempts) == 2 and kafka.broker.producers == []
    waiting.close()  # no producer to close: nothing raised
    kafka.down = False
    with caplog.at_level("INFO", logger="schakel.adapters"):
        waiting.check()
    assert waiting.unconnected is None and len(kafka.broker.producers) == 1
    assert "adapter.producer_renewed" not in caplog.text  # a first producer, none replaced
    waiting.send_raw("schakel.test", b"k", b"v")
    assert waiting.flush() == 1
    assert kafka.broker.acked == [("schakel.test", b"k", b"v")]
    assert len(kafka.broker.producers) == 1  # not made again


def test_a_continuous_adapter_waits_for_the_broker_and_quarantines_nothing_for_it(
    kafka: Bootstrap, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "e.jsonl"
    path.write_text("\n".join([wt_line(1), '{"bad": 1}', wt_line(3)]) + "\n")
    source = JsonLinesSource([path])
    runner, quarantine = _runner(source, tmp_path, publisher(wait=True), CollectorRegistry())
    monkeypatch.setattr(runner_module, "OUTAGE_FIRST_WAIT_S", 0.001)
    stop = threading.Event()
    runs = {"n": 0}
    original = runner.run_once

    def once() -> RunStats:
        runs["n"] += 1
        if runs["n"] == 3:  # the broker is there
            kafka.down = False
        try:
            return original()
        except PublishError:
            assert runner.checkpoint.load() == {}
            assert read_lines(quarantine) == []  # nothing written for a failed run
            raise
        finally:
            if runs["n"] >= 3:
                stop.set()

    runner.run_once = once  # type: ignore[method-assign]
    total = runner.run_forever(0.001, stop)
    assert (total.read, total.published, total.rejected) == (3, 2, 1)
    events = [value for topic, _, value in kafka.broker.acked if topic.endswith(".events")]
    assert len(events) == 2  # each once
    reasons = [json.loads(line)["reden"] for line in read_lines(quarantine)]
    assert reasons == ["missing-field"]  # the bad line, once
    assert runner.checkpoint.load()


def test_the_webhook_starts_unready_and_its_probe_makes_it_ready(
    kafka: Bootstrap, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    registry = CollectorRegistry()
    with caplog.at_level("INFO", logger="schakel.adapters"):
        runner, _ = _runner(WebhookInbox(), tmp_path, publisher(wait=True), registry)
        app = WebhookApp(runner, {TOKEN: WT}, max_bytes=4096, registry=registry)
        assert app.unavailable and ready(app) == 503
        assert post(app, structured()).status == 503  # the sender retries
        assert app.probe() is False
        kafka.down = False
        assert app.probe() is True
        assert ready(app) == 200
        assert post(app, structured()).status == 202
    assert [r.getMessage() for r in caplog.records if "webhook_" in r.getMessage()] == [
        "adapter.webhook_unavailable",
        "adapter.webhook_available",
    ]
    assert [topic for topic, _, _ in kafka.broker.acked] == ["schakel.wijkteam.events"]
