"""A worker told to stop (SIGTERM, as Kubernetes and ``docker compose stop`` send it) ends
promptly, on both brokers: with its broker up, and with its broker gone (killed with SIGKILL
after the worker was ready), gracefully — exit 0, well before the deadline
(:data:`~schakel.stop_deadline.STOP_DEADLINE_S`; the deadline itself:
tests/unit/test_stop_deadline.py). The stop with the broker gone hung for 60 s (Faust's
consumer thread died in aiokafka's ``Fetcher.close`` without reporting itself shut down, and
mode waited out its 60 s ``shutdown_timeout``; measured 61 s on either broker): the
orchestrator's SIGKILL came first, without a word in the log. streams/fetcher_close.py
corrects that close."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from schakel.broker import EmbeddedBroker
from schakel.kafka_cluster import KafkaCluster
from schakel.stop_deadline import STOP_DEADLINE_S
from schakel.topics import ensure_topics
from tests.brokers import BROKERS, PARTITIONS, TestBroker
from tests.integration.streams.helpers import WorkerProcess, worker_on

GRACEFUL_S = STOP_DEADLINE_S
"""A graceful stop with the broker up: before the deadline (about 1.5 s measured, idle
worker, either broker)."""


@pytest.fixture(params=BROKERS)
def own_broker(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[TestBroker, Callable[[], None]]]:
    """A broker of the test's own (the test kills it) with every topic, and how to kill it:
    a fresh embedded broker, or a one-node Apache Kafka (the production code path)."""
    if request.param == "embedded":
        with EmbeddedBroker() as embedded:
            ensure_topics(embedded.bootstrap, partitions=PARTITIONS)
            yield TestBroker("embedded", embedded.bootstrap), embedded.kill
        return
    with KafkaCluster(1) as cluster:
        broker = TestBroker("kafka", cluster.bootstrap, "test-stop", cluster)
        ensure_topics(broker.bootstrap, partitions=PARTITIONS, wire=broker.wire)
        yield broker, lambda: cluster.stop_node(1, kill=True)


def _ready(worker: WorkerProcess) -> None:
    """Wait until the worker logged ``worker.ready`` (its table recovered, processing)."""
    deadline = time.monotonic() + 30
    while "worker.ready" not in worker.log.read_text() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert "worker.ready" in worker.log.read_text(), worker.log.read_text()[-3000:]


def _events(worker: WorkerProcess) -> dict[str, dict[str, object]]:
    """The worker's own log lines by event (the last of each)."""
    lines = [json.loads(line) for line in worker.log.read_text().splitlines() if line[:1] == "{"]
    return {str(line["event"]): line for line in lines if str(line["logger"]) == "schakel.worker"}


def test_sigterm_with_the_broker_gone_stops_the_worker_gracefully(
    own_broker: tuple[TestBroker, Callable[[], None]], tmp_path: Path
) -> None:
    """With aiokafka's fetcher closing cleanly (streams/fetcher_close.py) the stop finishes on
    its own, before the deadline: exit 0, and every line of the log is a JSON line (the raw
    traceback of the consumer thread is gone). Before: 61 s; with the deadline alone, exit 75
    after 8 s."""
    broker, kill_broker = own_broker
    worker = worker_on(broker, tmp_path / "worker").start(timeout=120)
    try:
        _ready(worker)
        kill_broker()
        time.sleep(2)  # its clients meet the dead broker (the stop must be graceful either way)
        started = time.monotonic()
        code = worker.stop()
        took = time.monotonic() - started
    finally:
        worker.stop()
    text = worker.log.read_text()
    assert code == 0, f"exit code {code} after {took:.1f} s: {text[-3000:]}"
    assert took < GRACEFUL_S, f"stopped after {took:.1f} s: {text[-3000:]}"
    raw = [line for line in text.splitlines() if line[:1] != "{"]
    assert raw == [], "\n".join(raw[:20])
    events = _events(worker)
    assert events["worker.stopping"]["signal"] == "SIGTERM"
    assert "worker.stop_timeout" not in events and "worker.stop_slow" not in events
    print(f"worker stop, {broker.kind} broker gone: exit {code} after {took:.1f} s")


def test_sigterm_with_the_broker_up_stops_gracefully(
    kafka_broker: TestBroker, tmp_path: Path
) -> None:
    worker = worker_on(kafka_broker, tmp_path / "worker").start(timeout=120)
    try:
        _ready(worker)
        started = time.monotonic()
        code = worker.stop()
        took = time.monotonic() - started
    finally:
        worker.stop()
    assert code == 0, f"exit code {code} after {took:.1f} s: {worker.log.read_text()[-3000:]}"
    assert took < GRACEFUL_S, f"a graceful stop took {took:.1f} s"
    events = _events(worker)
    assert events["worker.stopping"]["signal"] == "SIGTERM"
    assert "worker.stop_timeout" not in events and "worker.stop_slow" not in events
    print(f"worker stop, {kafka_broker.kind} broker up: exit 0 after {took:.1f} s")


def test_sigusr2_is_ignored_not_a_debugger(kafka_broker: TestBroker, tmp_path: Path) -> None:
    """mode's worker enters ``pdb`` in the event loop on SIGUSR2; the worker ignores it, logs
    it, and goes on answering (then stops gracefully as ever). Its stdin is an open pipe that
    never delivers, as a terminal (``docker run -it``) nobody types into: before, the debugger
    waited on it, and the worker's event loop with it (no API, no processing)."""
    worker = worker_on(kafka_broker, tmp_path / "worker", stdin=subprocess.PIPE)
    worker.start(timeout=120)
    try:
        _ready(worker)
        assert worker.process is not None
        worker.process.send_signal(signal.SIGUSR2)
        deadline = time.monotonic() + 10
        while "worker.signal_ignored" not in _events(worker) and time.monotonic() < deadline:
            time.sleep(0.2)
        status, _ = worker.get("/ready")
        code = worker.stop()
    finally:
        worker.stop()
    log = worker.log.read_text()[-3000:]
    assert status == 200, log
    assert code == 0, log
    assert _events(worker)["worker.signal_ignored"]["signal"] == "SIGUSR2"
