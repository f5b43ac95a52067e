"""The worker's collector settings (:func:`streams.gc_tuning.for_a_worker`) hold in the
running worker: over a backlog of 2,000 events its young generation is collected a handful of
times (about 135 times with CPython's defaults, measured), read from its own ``/metrics``
(``python_gc_collections_total``)."""

from __future__ import annotations

from pathlib import Path

from schakel.broker import EmbeddedBroker
from schakel.topics import ensure_topics
from schemas.wire import DEFAULT_WIRE
from tests.integration.reliability.trials import backlog
from tests.integration.streams.helpers import WorkerProcess, publish


def collections(worker: WorkerProcess) -> dict[str, float]:
    """Collections so far per generation, from the worker's /metrics."""
    status, text = worker.get("/metrics")
    assert status == 200
    prefix = 'python_gc_collections_total{generation="'
    return {
        line[len(prefix)]: float(line.rsplit(" ", 1)[1])
        for line in str(text).splitlines()
        if line.startswith(prefix)
    }


def test_the_worker_collects_its_young_generation_rarely(tmp_path: Path) -> None:
    with EmbeddedBroker() as broker:
        ensure_topics(broker.bootstrap, partitions=4)
        worker = WorkerProcess(broker.bootstrap, tmp_path).start()
        try:
            before = collections(worker)
            total = publish(broker.bootstrap, backlog(3, 2000))
            worker.drain(DEFAULT_WIRE.event_topics, timeout=120)
            after = collections(worker)
        finally:
            worker.stop()
    assert total >= 2000
    young = after["0"] - before["0"]
    print(f"worker gc: {young:.0f} young collections over {total} events ({before} → {after})")
    assert young <= 10
