"""Transient failures are not bad data (issue 11 item 6, adapter side): with the schema
registry unreachable, ``--once`` exits 75 (EX_TEMPFAIL) with one line and nothing
quarantined; a continuous adapter waits and goes on; the webhook answers 503 with
``Retry-After`` and ``/ready`` turns 503 until the registry is back. Afterwards every record
is published once: 0 lost, 0 quarantined.

The webhook's ``/ready`` turns 200 again by itself once the registry or the broker is back,
without a request: in Kubernetes an unready pod gets no request (its Service leaves it out), so
readiness that waited for one never came back."""

from __future__ import annotations

import http.client
import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from schakel.broker import EmbeddedBroker, free_port
from schakel.registry_server import RegistryServer
from schakel.registry_store import RegistryStore
from schakel.topics import ensure_topics
from schemas.wire import DEFAULT_WIRE
from tests.cli import run_cli
from tests.integration.adapters.conftest import KEY, read_topic
from tests.processes import start, stopping

TOKEN = "wijkteam-token-for-tests"
BSNS = ("111222333", "123456782", "999990093")


@pytest.fixture
def kafka() -> Iterator[EmbeddedBroker]:
    with EmbeddedBroker() as running:
        ensure_topics(running.bootstrap, partitions=2)
        yield running


class Registry:
    """The HTTP schema registry on a fixed port, stopped and started again on it."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server: RegistryServer | None = None

    def start(self) -> None:
        store = RegistryStore.embedded(DEFAULT_WIRE)
        self.server = RegistryServer(store, port=self.port).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None


@pytest.fixture
def registry() -> Iterator[Registry]:
    running = Registry()
    try:
        yield running
    finally:
        running.stop()


def casus(number: int, bsn: str, source: str = "urn:test:wijkteam") -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": f"casus-{number}",
        "source": source,
        "type": "nl.wijkteams.casussen.geopend",
        "data": {"bsn": bsn, "datum": "2026-01-10", "casus_id": f"W-{number}"},
    }


def write_events(path: Path) -> Path:
    path.write_text("".join(json.dumps(casus(n, b)) + "\n" for n, b in enumerate(BSNS, 1)))
    return path


def ids_on_topic(bootstrap: str) -> list[str]:
    topic = DEFAULT_WIRE.topic_for("nl.wijkteams.casussen.geopend")
    return sorted(str(m.record["id"]) for m in read_topic(bootstrap, topic, settle=0.5))


def env(kafka: EmbeddedBroker, registry: Registry, data_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "SCHAKEL_KAFKA_BOOTSTRAP": kafka.bootstrap,
        "SCHAKEL_SCHEMA_REGISTRY_URL": registry.url,
        "SCHAKEL_SCHEMA_REGISTRY_RETRIES": "0",
        "SCHAKEL_PSEUDONYM_KEY": KEY,
        "SCHAKEL_DATA_DIR": str(data_dir),
        "PYTHONUNBUFFERED": "1",
    }


def quarantined(data_dir: Path) -> list[str]:
    folder = data_dir / "quarantaine"
    if not folder.is_dir():
        return []
    return [line for f in folder.iterdir() for line in f.read_text().splitlines() if line]


def test_once_exits_75_in_one_line_and_loses_nothing(
    kafka: EmbeddedBroker, registry: Registry, tmp_path: Path
) -> None:
    events = write_events(tmp_path / "casussen.jsonl")
    variables = env(kafka, registry, tmp_path / "var")
    result = run_cli("publish", str(events), env=variables)  # the registry is down
    assert result.returncode == 75, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "RegistryUnavailable" in lines[0], result.stderr
    assert "Traceback" not in result.stderr
    assert quarantined(tmp_path / "var") == []
    registry.start()
    result = run_cli("publish", str(events), env=variables)
    assert result.returncode == 0, result.stderr
    assert ids_on_topic(kafka.bootstrap) == ["casus-1", "casus-2", "casus-3"]
    assert quarantined(tmp_path / "var") == []


def test_a_continuous_adapter_waits_out_the_outage(
    kafka: EmbeddedBroker, registry: Registry, tmp_path: Path
) -> None:
    events = write_events(tmp_path / "casussen.jsonl")
    command = [sys.executable, "-m", "schakel", "adapter", "wijkteam", str(events)]
    variables = env(kafka, registry, tmp_path / "var")
    log = tmp_path / "adapter.log"
    with stopping(start([*command, "--interval", "0.5"], log, env=variables)) as process:
        deadline = time.monotonic() + 40
        while (tmp_path / "adapter.log").read_text().count("adapter.outage") < 2:
            assert process.poll() is None, (tmp_path / "adapter.log").read_text()
            assert time.monotonic() < deadline, (tmp_path / "adapter.log").read_text()
            time.sleep(0.3)  # several runs meet the outage, the adapter stays up
        registry.start()
        deadline = time.monotonic() + 40
        while ids_on_topic(kafka.bootstrap) != ["casus-1", "casus-2", "casus-3"]:
            assert time.monotonic() < deadline, (tmp_path / "adapter.log").read_text()
            time.sleep(0.5)
        assert process.poll() is None
        assert quarantined(tmp_path / "var") == []


def request(
    port: int, method: str, path: str, body: bytes = b"", *, timeout: float = 30.0
) -> tuple[int, Any, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        headers = {"Content-Type": "application/cloudevents+json"}
        headers["Authorization"] = f"Bearer {TOKEN}"
        conn.request(method, path, body=body or None, headers=headers)
        response = conn.getresponse()
        return response.status, response.getheader("retry-after"), json.loads(response.read())
    finally:
        conn.close()


SOURCE = "urn:test:wijkteam"


def webhook_argv(port: int) -> list[str]:
    return [sys.executable, "-m", "schakel", "adapter", "wijkteam", "--serve", "--port", str(port)]


def webhook_env(kafka: EmbeddedBroker, registry: Registry, data_dir: Path) -> dict[str, str]:
    return {**env(kafka, registry, data_dir), "SCHAKEL_WEBHOOK_TOKENS": f"{SOURCE}={TOKEN}"}


def wait_ready(port: int, log: Path, within: float = 30.0) -> float:
    """Poll ``/ready`` until it answers 200 (a connection refused while the process starts
    counts as not ready); fail after ``within`` seconds; return the seconds it took."""
    begun = time.monotonic()
    while True:
        try:
            if request(port, "GET", "/ready", timeout=5)[0] == 200:
                return time.monotonic() - begun
        except OSError:
            pass
        assert time.monotonic() - begun < within, log.read_text()
        time.sleep(0.2)


def test_the_webhook_answers_503_and_is_not_ready_during_the_outage(
    kafka: EmbeddedBroker, registry: Registry, tmp_path: Path
) -> None:
    port = free_port()
    variables = webhook_env(kafka, registry, tmp_path / "var")
    body = json.dumps(casus(1, BSNS[0], SOURCE)).encode()
    with stopping(start(webhook_argv(port), tmp_path / "webhook.log", env=variables)):
        wait_ready(port, tmp_path / "webhook.log")
        status, retry_after, answer = request(port, "POST", "/events", body)
        assert (status, retry_after, answer["error"]) == (503, "5", "unavailable")
        status, retry_after, _ = request(port, "GET", "/ready")
        assert (status, retry_after) == (503, "5")
        assert request(port, "GET", "/health")[0] == 200  # alive, only not ready
        registry.start()
        status, _, answer = request(port, "POST", "/events", body)  # the sender retries
        assert (status, answer["duplicate"]) == (202, False)
        assert request(port, "GET", "/ready")[0] == 200
        assert ids_on_topic(kafka.bootstrap) == ["casus-1"]
        assert quarantined(tmp_path / "var") == []


def test_the_webhook_is_ready_again_without_a_request_once_the_registry_is_back(
    kafka: EmbeddedBroker, registry: Registry, tmp_path: Path
) -> None:
    """The registry down: two events answered 503, ``/ready`` 503, one log line for the
    outage. The registry back and no request sent: ``/ready`` turns 200 within seconds (the
    webhook asks the registry itself), one log line for the end, and nothing was published or
    quarantined by asking; the next event is accepted."""
    port = free_port()
    log = tmp_path / "webhook.log"
    variables = webhook_env(kafka, registry, tmp_path / "var")
    with stopping(start(webhook_argv(port), log, env=variables)):
        wait_ready(port, log)
        for number in (1, 2):
            body = json.dumps(casus(number, BSNS[number], SOURCE)).encode()
            assert request(port, "POST", "/events", body)[0] == 503
        assert request(port, "GET", "/ready")[0] == 503
        registry.start()
        wait_ready(port, log, within=30)  # no request in between
        text = log.read_text()
        assert text.count("adapter.webhook_unavailable") == 1, text
        assert text.count("adapter.webhook_available") == 1, text
        assert ids_on_topic(kafka.bootstrap) == []
        assert quarantined(tmp_path / "var") == []
        body = json.dumps(casus(3, BSNS[0], SOURCE)).encode()
        assert request(port, "POST", "/events", body)[0] == 202
        assert ids_on_topic(kafka.bootstrap) == ["casus-3"]


def test_the_webhook_is_ready_again_without_a_request_once_the_broker_is_back(
    kafka: EmbeddedBroker, registry: Registry, tmp_path: Path
) -> None:
    """The broker frozen (SIGSTOP: connections open, nothing answered): an event is answered
    503 (after the 30 s the webhook waits for the acknowledgement) and ``/ready`` 503. The
    broker continued and no request sent: ``/ready`` turns 200 within seconds (the webhook
    asks the broker itself, with a new producer), and the next event is accepted."""
    registry.start()
    port = free_port()
    log = tmp_path / "webhook.log"
    variables = webhook_env(kafka, registry, tmp_path / "var")
    with stopping(start(webhook_argv(port), log, env=variables)):
        wait_ready(port, log)
        kafka.pause()
        try:
            body = json.dumps(casus(1, BSNS[0], SOURCE)).encode()
            assert request(port, "POST", "/events", body, timeout=90)[0] == 503
            assert request(port, "GET", "/ready")[0] == 503
        finally:
            kafka.resume()
        wait_ready(port, log, within=30)  # no request in between
        text = log.read_text()
        assert text.count("adapter.webhook_unavailable") == 1, text
        assert text.count("adapter.webhook_available") == 1, text
        body = json.dumps(casus(2, BSNS[1], SOURCE)).encode()
        assert request(port, "POST", "/events", body)[0] == 202
        assert "casus-2" in ids_on_topic(kafka.bootstrap)
        assert quarantined(tmp_path / "var") == []
