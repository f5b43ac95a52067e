"""Exactly-once signals on Apache Kafka: a worker killed with SIGKILL at random points of a
backlog, and started again each time, leaves every signal event exactly once on the signal
topic for a ``read_committed`` reader: no event id twice (the id is a hash of regel, subject,
sleutel, kind and revision), and the signal stream alone gives the final signals of a
crash-free run (the pure engine's oracle), nothing missing. Nothing of the backlog is lost.

Kills: ``SCHAKEL_EOS_KILLS`` (default 5; ``make reliability``: 20). The points are drawn from
the seed, as counts of records taken by the group (its committed offsets plus what the
running worker took since), plus a random delay of up to half a second, so that the kill
falls anywhere within a transaction (the worker commits every second)."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaAdminClient, TopicPartition

from schakel.kafka_cluster import KafkaCluster
from schakel.sandbox import delete_namespace
from schemas.wire import Wire
from streams.offsets import committed_offsets
from tests.integration.reliability.trials import PARTITIONS, TIME_LIMIT, Trial, seeds, size
from tests.integration.streams.test_restart import oracle, processed

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(TIME_LIMIT)]


def committed(bootstrap: str, wire: Wire) -> int:
    """Records of the event topics the worker group has committed (summed offsets); a
    retriable error (a coordinator not known yet, or still loading its offsets after a leader
    change) is asked again (:func:`streams.offsets.committed_offsets`)."""
    tps = [TopicPartition(t, p) for t in wire.event_topics for p in range(PARTITIONS)]
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        return sum(committed_offsets(admin, wire.group_id, tps).values())
    finally:
        admin.close()


def final_statuses(signal_events: list[tuple[str, dict[str, Any]]]) -> set[tuple[str, ...]]:
    """(regel, subject, sleutel, status) of every signal as the signal stream tells it: the
    last event of each identity, in log order (a subject's events share one partition);
    withdrawn signals left out, as in the oracle."""
    status: dict[tuple[str, str, str], str] = {}
    kinds = {"gesignaleerd": "open", "opgelost": "opgelost", "ingetrokken": "ingetrokken"}
    for event_type, record in signal_events:
        identity = (record["data"]["regel"], record["subject"], record["data"]["sleutel"])
        status[identity] = kinds[event_type.rsplit(".", 1)[1]]
    return {(*identity, s) for identity, s in status.items() if s != "ingetrokken"}


@pytest.mark.parametrize("store", ["memory", "rocksdb"])
def test_worker_killed_at_random_points_signals_exactly_once(
    kafka3: KafkaCluster, tmp_path: Path, store: str
) -> None:
    """``store``: the table in memory (rebuilt from the changelog at every start) or in
    RocksDB (kept in the data directory, which a killed worker may leave ahead of its last
    committed transaction: Faust writes it before the transaction commits)."""
    (seed,) = seeds(1)
    trial = Trial(kafka3, seed, "eos", tmp_path)
    total = trial.publish()
    kills = size("SCHAKEL_EOS_KILLS", 5)
    points = sorted(trial.rng.sample(range(total // 20, total - total // 20), kills))
    print(f"exactly-once trial ({store}): seed {seed}, {total} events, kills after {points}")
    for point in points:
        base = committed(kafka3.bootstrap, trial.wire)
        worker = trial.worker(store).start()
        deadline = time.monotonic() + 300
        while base + processed(worker) < point:
            assert worker.process is not None and worker.process.poll() is None, (
                f"seed {seed}: worker exited: {worker.log.read_text()[-3000:]}"
            )
            assert time.monotonic() < deadline, f"seed {seed}: no progress to {point}"
            time.sleep(0.02)
        time.sleep(trial.rng.uniform(0, 0.5))
        worker.kill()
    worker = trial.worker(store).start()
    try:
        trial.drain(worker, timeout=600)
    finally:
        worker.stop()

    got = trial.check_nothing_lost()  # nothing lost, final state as the oracle's
    ids = Counter(record["id"] for _, record in got.signal_events)
    duplicates = {event_id: n for event_id, n in ids.items() if n > 1}
    _, expected = oracle(trial.events)
    told = final_statuses(got.signal_events)
    print(
        f"exactly-once trial ({store}): seed {seed}: {len(got.signal_events)} signal events read "
        f"read_committed, {len(duplicates)} duplicated, {len(expected - told)} missing, "
        f"{len(told - expected)} not in the oracle"
    )
    assert not duplicates, f"seed {seed}: signal events committed twice"
    assert told == expected, f"seed {seed}: the signal stream differs from the oracle"
    delete_namespace(kafka3.bootstrap, trial.wire)
