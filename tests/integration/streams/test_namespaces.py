"""Topic namespaces on one broker: a deployment in namespace ``gemeente-a`` keeps running (and
the default namespace holds events of another) while ``schakel replay --bootstrap`` runs in
namespaces of its own on the same broker; the replay gives the hand-computed signals and
touches nothing of the others (not a topic, a record or a committed offset), and its own
topics are gone afterwards unless it was told to keep them.

The broker is the embedded one, so the replays run with ``SCHAKEL_PROFILE=embedded`` set
explicitly (its workarounds on); on Apache Kafka ``--bootstrap`` runs with profile ``kafka``."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition

from schakel.broker import EmbeddedBroker
from schakel.replay import wait_drained
from schakel.sandbox import delete_namespace
from schakel.topics import ensure_topics
from schemas.wire import DEFAULT_WIRE, Wire
from streams.offsets import committed_offsets, true_end_offsets
from tests.cli import run_cli
from tests.integration.streams.helpers import (
    AUTH,
    KEY,
    SCENARIO,
    WorkerProcess,
    publish,
    valid_scenario,
)
from tests.integration.streams.test_replay import EXPECTED

DEPLOYMENT = Wire("gemeente-a")


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, WorkerProcess]]:
    """A broker with a worker in namespace ``gemeente-a`` that has processed the scenario, and
    the scenario's events in the default namespace too."""
    with EmbeddedBroker() as broker:
        for wire in (DEPLOYMENT, DEFAULT_WIRE):
            ensure_topics(broker.bootstrap, partitions=4, wire=wire)
        worker = WorkerProcess(
            broker.bootstrap,
            tmp_path_factory.mktemp("gemeente-a"),
            extra_env={"SCHAKEL_NAMESPACE": DEPLOYMENT.namespace, "SCHAKEL_PSEUDONYM_KEY": KEY},
        ).start()
        try:
            valid = valid_scenario()
            publish(broker.bootstrap, valid, wire=DEPLOYMENT)
            publish(broker.bootstrap, valid)  # default namespace: nobody processes these
            assert worker.process is not None
            wait_drained(
                broker.bootstrap,
                DEPLOYMENT.event_topics,
                worker.process,
                worker.log,
                60,
                group=DEPLOYMENT.group_id,
            )
            yield broker.bootstrap, worker
        finally:
            worker.stop()


def state_of(bootstrap: str, *wires: Wire) -> dict[str, Any]:
    """Every topic on the broker, and the end offsets and committed group offsets of the
    topics of ``wires``."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    try:
        state: dict[str, Any] = {"topics": sorted(admin.list_topics()), "ends": {}, "committed": {}}
        for wire in wires:
            tps = [
                TopicPartition(t, p)
                for t in sorted(wire.topics())
                for p in sorted(consumer.partitions_for_topic(t) or ())
            ]
            ends = true_end_offsets(consumer, tps)
            state["ends"] |= {f"{tp.topic}:{tp.partition}": ends[tp] for tp in tps}
            committed = committed_offsets(admin, wire.group_id, tps)
            state["committed"] |= {f"{tp.topic}:{tp.partition}": o for tp, o in committed.items()}
        return state
    finally:
        consumer.close()
        admin.close()


OTHERS = (DEPLOYMENT, DEFAULT_WIRE)
"""What a replay must not touch."""


def changes(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """What differs between two :func:`state_of` results."""
    out = [f"topics: {sorted(set(before['topics']) ^ set(after['topics']))}"]
    for part in ("ends", "committed"):
        for key in sorted(set(before[part]) | set(after[part])):
            if before[part].get(key) != after[part].get(key):
                out.append(f"{part} {key}: {before[part].get(key)} -> {after[part].get(key)}")
    return out


def replay(bootstrap: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "SCHAKEL_PSEUDONYM_KEY": KEY,
        "SCHAKEL_LOG_FORMAT": "text",
        "SCHAKEL_PROFILE": "embedded",  # the shared broker is an embedded one
    }
    env.pop("SCHAKEL_NAMESPACE", None)
    env.pop("SCHAKEL_KAFKA_BOOTSTRAP", None)
    argv = ["replay", "--bootstrap", bootstrap, *args, str(SCENARIO), "--until", "2026-06-30"]
    return run_cli(*argv, "--json", env=env, timeout=300)


def comparable(stdout: str) -> list[dict[str, Any]]:
    signals = json.loads(stdout)["signalen"]
    return [{k: v for k, v in s.items() if k != "uitleg"} for s in signals]


def signals_of(worker: WorkerProcess) -> list[tuple[str, str, str]]:
    deadline = time.monotonic() + 30
    while True:
        status, body = worker.get("/api/v1/signalen", AUTH)
        if (status == 200 and body["totaal"] >= 3) or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert status == 200, body
    return sorted((s["regel"], s["subject"], s["sleutel"]) for s in body["signalen"])


def test_a_replay_in_a_fresh_namespace_leaves_the_other_namespaces_untouched(
    deployment: tuple[str, WorkerProcess],
) -> None:
    bootstrap, worker = deployment
    signals_before = signals_of(worker)  # an API read: audited on gemeente-a.schakel.inzage
    before = state_of(bootstrap, *OTHERS)
    assert len(signals_before) == 3 and sum(before["committed"].values()) > 0

    result = replay(bootstrap)
    assert result.returncode == 3, result.stderr[-3000:]  # the bad line
    assert comparable(result.stdout) == EXPECTED
    found = re.search(
        r"namespace (replay-[0-9a-f]{8}) \(topics replay-[0-9a-f]{8}\.\*", result.stderr
    )
    assert found, result.stderr[-2000:]
    assert "profile embedded" in result.stderr

    after = state_of(bootstrap, *OTHERS)
    assert after == before, changes(before, after)
    assert not [t for t in after["topics"] if t.startswith(f"{found.group(1)}.")]
    assert signals_of(worker) == signals_before


def test_a_namespace_in_use_is_refused_before_anything_is_written(
    deployment: tuple[str, WorkerProcess],
) -> None:
    bootstrap, _ = deployment
    before = state_of(bootstrap, *OTHERS)
    result = replay(bootstrap, "--namespace", DEPLOYMENT.namespace)
    assert result.returncode == 2
    assert "namespace gemeente-a is in use" in result.stderr
    assert state_of(bootstrap, *OTHERS) == before


def test_a_kept_namespace_holds_the_replay_and_only_it(
    deployment: tuple[str, WorkerProcess],
) -> None:
    bootstrap, _ = deployment
    before = state_of(bootstrap, *OTHERS)
    kept = Wire("proef-2025")
    result = replay(bootstrap, "--namespace", kept.namespace, "--keep-topics", "--batch")
    try:
        assert result.returncode == 3, result.stderr[-3000:]  # the bad line
        assert comparable(result.stdout) == EXPECTED
        replayed = state_of(bootstrap, kept)
        assert set(kept.topics()) <= set(replayed["topics"])
        assert sum(e for t, e in replayed["ends"].items() if "schakel.signalen" in t) > 0
        assert sum(replayed["committed"].values()) > 0  # the batch path committed its group
        assert state_of(bootstrap, *OTHERS) == {**before, "topics": replayed["topics"]}
    finally:
        delete_namespace(bootstrap, kept)
    assert state_of(bootstrap, *OTHERS) == before
