"""An outage of the whole broker is waited out (one Apache Kafka node, as the Compose
deployment runs it): the node is killed with SIGKILL in the middle of a backlog while a worker
processes it (exactly-once profile), stays down for ``OUTAGE_S`` seconds and is started again
on the same data. The worker keeps running, goes on by itself, loses nothing, dead-letters
nothing, and its final signals are those of a crash-free run (the pure engine's oracle).
Meanwhile ``/ready`` answers 503 (its broker probe found no node), 200 again afterwards.

Its log stays readable meanwhile: every line one JSON object, and the Kafka client's
reconnect errors (several a second per connection: 7,516 lines in 20 s, measured) collapsed by
:class:`schakel.logs.RepeatFilter` to one line per kind per 30 s."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from schakel.kafka_cluster import KafkaCluster
from tests.integration.reliability.trials import TIME_LIMIT, Trial, read_committed, seeds
from tests.integration.streams.test_restart import processed

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(TIME_LIMIT)]

OUTAGE_S = 20.0


@pytest.fixture
def kafka1(tmp_path: Path) -> Iterator[KafkaCluster]:
    """One node of its own (this test stops it), its data kept over the restart."""
    with KafkaCluster(1, workdir=tmp_path / "kafka") as cluster:
        yield cluster


def test_the_worker_waits_out_a_broker_outage(kafka1: KafkaCluster, tmp_path: Path) -> None:
    (seed,) = seeds(1)
    trial = Trial(kafka1, seed, "down", tmp_path, replication=1)
    total = trial.publish()
    worker = trial.worker()
    worker.extra_env["SCHAKEL_LOG_FORMAT"] = "json"  # what production runs
    worker.start()
    try:
        done = trial.wait_processed(worker, total // 4, timeout=300)
        kafka1.stop_node(1, kill=True)
        down = time.monotonic()
        ready_during: set[int] = set()
        while time.monotonic() - down < OUTAGE_S:
            assert worker.process is not None and worker.process.poll() is None, (
                f"seed {seed}: the worker exited during the outage: "
                f"{worker.log.read_text()[-3000:]}"
            )
            ready_during.add(worker.get("/ready")[0])
            time.sleep(0.5)
        assert processed(worker) < total, f"seed {seed}: the backlog was done before the outage"
        # the broker probe (every 5 s, two failed checks) tells the outage from an idle input
        assert 503 in ready_during, f"/ready answered only {ready_during} with the broker gone"
        kafka1.start_node(1)
        trial.drain(worker, timeout=300)
        assert worker.process is not None and worker.process.poll() is None
        deadline = time.monotonic() + 60
        while worker.get("/ready")[0] != 200 and time.monotonic() < deadline:
            time.sleep(0.5)
        assert worker.get("/ready")[0] == 200, "not ready again after the broker came back"
        assert "schakel_worker_broker_reachable 1.0" in worker.get("/metrics")[1]
    finally:
        worker.stop()
    print(f"broker outage: seed {seed}, {total} events, broker down after {done}")

    trial.check_nothing_lost()
    assert read_committed(kafka1.bootstrap, trial.wire.deadletter_streams) == []

    lines = [json.loads(line) for line in worker.log.read_text().splitlines()]
    library = Counter(
        (entry["logger"], entry["event"].split(":")[0])
        for entry in lines
        if not entry["logger"].startswith("schakel")
    )
    print(f"broker outage: {len(lines)} log lines, library kinds: {library.most_common(5)}")
    assert len(lines) < 300, f"{len(lines)} log lines in a {OUTAGE_S:.0f} s outage"
