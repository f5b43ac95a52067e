"""Fixtures of the stream integration tests: a worker on the live clock with the scenario
loaded, shared by the API test modules — ``live`` on the embedded broker, ``live_on_both`` on
each broker in turn (tests/brokers.py)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.brokers import BROKERS, TestBroker, open_broker
from tests.integration.streams.helpers import (
    AUTH,
    WorkerProcess,
    publish,
    valid_scenario,
    worker_on,
)


@contextlib.contextmanager
def live_worker(broker: TestBroker, data_dir: Path) -> Iterator[WorkerProcess]:
    """A worker on the live clock that has processed the scenario (all three signals in the
    read model); stopped at the end."""
    worker = worker_on(broker, data_dir, clock="live").start()
    try:
        valid = valid_scenario()
        publish(broker.bootstrap, valid, wire=broker.wire)
        worker.drain(broker.wire.event_topics)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            status, body = worker.get("/api/v1/signalen", AUTH)
            if status == 200 and body["totaal"] >= 3:
                break
            time.sleep(0.3)
        yield worker
    finally:
        worker.stop()


@pytest.fixture(scope="session")
def live(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[tuple[TestBroker, WorkerProcess]]:
    """The embedded broker and its live worker (default namespace)."""
    with (
        open_broker("embedded", request) as broker,
        live_worker(broker, tmp_path_factory.mktemp("worker")) as worker,
    ):
        yield broker, worker


@pytest.fixture(scope="session", params=BROKERS)
def live_on_both(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[tuple[TestBroker, WorkerProcess]]:
    """``live`` on each broker in turn: the embedded one, then Apache Kafka (a namespace of
    its own, profile ``kafka``)."""
    with (
        open_broker(request.param, request) as broker,
        live_worker(broker, tmp_path_factory.mktemp("worker")) as worker,
    ):
        yield broker, worker
