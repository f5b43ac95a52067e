"""Fixtures of the stream integration tests: one live worker with the scenario loaded, shared
by the API test modules."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from schakel.broker import EmbeddedBroker
from schakel.topics import ensure_topics
from tests.integration.streams.helpers import (
    AUTH,
    SCENARIO,
    WorkerProcess,
    publish,
    read_jsonl,
)


@pytest.fixture(scope="session")
def live(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[EmbeddedBroker, WorkerProcess]]:
    """A broker and a worker on the live clock that has processed the scenario (all three
    signals in the read model)."""
    with EmbeddedBroker() as broker:
        ensure_topics(broker.bootstrap, partitions=4)
        worker = WorkerProcess(
            broker.bootstrap, tmp_path_factory.mktemp("worker"), clock="live"
        ).start()
        try:
            valid = [e for e in read_jsonl(SCENARIO) if e["id"] != "bad-1"]
            publish(broker.bootstrap, valid)
            worker.drain(
                ["schakel.wmo.events", "schakel.participatiewet.events", "schakel.wgs.events"]
            )
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                status, body = worker.get("/api/v1/signalen", AUTH)
                if status == 200 and body["totaal"] >= 3:
                    break
                time.sleep(0.3)
            yield broker, worker
        finally:
            worker.stop()
