"""Transient failures are not bad data (issue 11 item 6, worker side): the schema registry
goes away in the middle of a run and comes back on the same address. The worker retries the
waiting records with backoff, says so on ``/ready`` (503) and in its metrics, and when the
registry is back processes every record: 0 lost, 0 dead letters."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from schakel.broker import EmbeddedBroker, free_port
from schakel.registry_server import RegistryServer
from schakel.registry_store import RegistryStore
from schakel.topics import ensure_topics
from schemas.wire import DEFAULT_WIRE
from tests.integration.streams.helpers import (
    AUTH,
    WorkerProcess,
    consume,
    publish,
    valid_scenario,
)
from tests.integration.streams.test_replay import CITIZEN_A, CITIZEN_B


@pytest.fixture
def broker() -> Iterator[EmbeddedBroker]:
    with EmbeddedBroker() as running:
        ensure_topics(running.bootstrap, partitions=4)
        yield running


def metric(text: str, name: str) -> float:
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith(name) and not line.startswith("#")
    )


def test_a_registry_outage_delays_records_and_loses_none(
    broker: EmbeddedBroker, tmp_path: Path
) -> None:
    wire = DEFAULT_WIRE
    port = free_port()
    registry = RegistryServer(RegistryStore.embedded(wire), port=port).start()
    worker = WorkerProcess(
        broker.bootstrap,
        tmp_path / "w",
        extra_env={
            "SCHAKEL_SCHEMA_REGISTRY_URL": f"http://127.0.0.1:{port}",
            "SCHAKEL_SCHEMA_REGISTRY_RETRIES": "0",
        },
    )
    try:
        worker.start()
        registry.stop()  # before the worker has looked up a single schema id
        events = valid_scenario()
        published = publish(broker.bootstrap, events, wire=wire)
        deadline = time.monotonic() + 30
        retries = 0.0
        while time.monotonic() < deadline and not retries:
            _, metrics = worker.get("/metrics")
            retries = metric(metrics, "schakel_worker_outage_retries_total")
            time.sleep(0.3)
        assert retries > 0, "the worker never met the outage"
        assert worker.get("/ready")[0] == 503  # waiting for the registry
        first = retries
        while time.monotonic() < deadline + 30 and retries < first + 2:
            time.sleep(0.3)  # two attempts more during the outage (checked, not assumed)
            retries = metric(worker.get("/metrics")[1], "schakel_worker_outage_retries_total")
        assert retries >= first + 2, f"the worker stopped retrying: {retries} retries"
        registry = RegistryServer(RegistryStore.embedded(wire), port=port).start()
        worker.drain(wire.event_topics, timeout=90)
        deadline = time.monotonic() + 30
        while worker.get("/ready")[0] != 200 and time.monotonic() < deadline:
            time.sleep(0.3)
        assert worker.get("/ready")[0] == 200
        _, metrics = worker.get("/metrics")
        assert metric(metrics, "schakel_worker_deadlettered_total") == 0
        assert metric(metrics, "schakel_worker_events_total") == published
        assert consume(broker.bootstrap, wire.deadletter_streams) == []
        for subject in (CITIZEN_A, CITIZEN_B):
            assert worker.get(f"/api/v1/burgers/{subject}/tijdlijn", AUTH)[0] == 200
    finally:
        worker.stop()
        registry.stop()
