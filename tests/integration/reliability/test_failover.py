"""Broker failover on a three-node cluster (RF 3, min ISR 2, idempotent acks=all producers):
the node that leads a partition is killed with SIGKILL in the middle of a backlog while a
worker processes it, and started again. Nothing may be lost, and the final signals must be
those of a crash-free run (the pure engine's oracle).

Two kinds of trial, taking turns: the killed node leads a partition of an event topic (what
the worker consumes), or a partition of the table changelog (what it writes its state to,
inside its transactions). Trials: ``SCHAKEL_FAILOVER_TRIALS`` (default 3: two of the first
kind, one of the second; ``make reliability``: 20, ten of each)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from schakel.kafka_cluster import KafkaCluster
from schakel.sandbox import delete_namespace
from tests.integration.reliability.trials import PARTITIONS, TIME_LIMIT, Trial, seeds, size
from tests.integration.streams.test_restart import processed

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(TIME_LIMIT)]


def test_partition_leader_killed_mid_backlog(kafka3: KafkaCluster, tmp_path: Path) -> None:
    for number, seed in enumerate(seeds(size("SCHAKEL_FAILOVER_TRIALS", 3))):
        led = ("events", "changelog")[number % 2]
        trial = Trial(kafka3, seed, f"fo-{led[:2]}", tmp_path)
        total = trial.publish()
        partition = trial.rng.randrange(PARTITIONS)
        topic = (
            trial.rng.choice(trial.wire.event_topics) if led == "events" else trial.wire.changelog
        )
        kill_at = int(total * trial.rng.uniform(0.25, 0.6))
        worker = trial.worker().start()
        try:
            trial.wait_processed(worker, kill_at, timeout=300)
            node = kafka3.leader(topic, partition)
            kafka3.stop_node(node, kill=True)
            done = processed(worker)
            assert done < total, f"seed {seed}: the backlog was done before the kill"
            # two of three nodes (min ISR 2) for a few seconds
            down = time.monotonic()
            while processed(worker) < done + total // 10 and time.monotonic() - down < 5:
                time.sleep(0.2)
            during = processed(worker) - done
            kafka3.start_node(node)
            trial.drain(worker, timeout=600)
        finally:
            worker.stop()
        print(
            f"failover trial: seed {seed}, node {node} (leader of {topic}/{partition}) "
            f"killed after {done}/{total} events, {during} processed while it was down"
        )
        trial.check_nothing_lost()
        delete_namespace(kafka3.bootstrap, trial.wire)
