"""``deploy/create_topics.py`` — the ``topics`` step of the Helm chart's setup Job and of
Compose — run as the Job runs it (``python create_topics.py``, its settings in the
environment) on a real broker, in a namespace without topics, on both brokers: it creates every
topic with the partition count, cleanup policy and replication the topic table of
docs/events.md gives (written out below, not read from :mod:`schemas.wire`), and only those;
a second run changes nothing and exits 0; a run with another ``SCHAKEL_PARTITIONS`` exits 1
naming every topic whose count differs, and changes nothing either.

The embedded broker (Tansu) answers DescribeConfigs for a topic with the configuration it was
created with only when every configuration is asked for (``config_filter="all"``): it reports
them as ``DEFAULT_CONFIG``, so kafka-python's default filter (``modified``) gets none."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from kafka import KafkaAdminClient
from kafka.admin import ConfigResource, ConfigResourceType

from schakel.broker import EmbeddedBroker
from schakel.kafka_cluster import KafkaCluster
from tests.brokers import BROKERS, TestBroker
from tests.processes import ROOT

SCRIPT = ROOT / "deploy" / "create_topics.py"
PARTITIONS = 3
"""``SCHAKEL_PARTITIONS`` of the Job: neither the tests' 4 nor the embedded broker's default
for a topic it creates on its own (4), so such a topic would show."""
CO_PARTITIONED = "SCHAKEL_PARTITIONS"
EXPECTED: dict[str, tuple[str | int, str]] = {
    "schakel.participatiewet.events": (CO_PARTITIONED, "delete"),
    "schakel.wmo.events": (CO_PARTITIONED, "delete"),
    "schakel.wijkteam.events": (CO_PARTITIONED, "delete"),
    "schakel.wgs.events": (CO_PARTITIONED, "delete"),
    "schakel.klok": (CO_PARTITIONED, "delete"),
    "schakel.signalen": (CO_PARTITIONED, "delete"),
    "schakel.tijdlijnen": (CO_PARTITIONED, "compact"),
    "schakel.inzage": (1, "delete"),
    "schakel.deadletter.streams": (1, "delete"),
    "schakel.deadletter.adapters": (1, "delete"),
    "schakel.deadletter.herhaald": (1, "compact"),
    "schakel-worker-burgers-changelog": (CO_PARTITIONED, "compact"),
}
"""docs/events.md, "Topics": default name → (partitions, cleanup policy)."""


def expected(namespace: str, partitions: int) -> dict[str, tuple[int, str]]:
    """:data:`EXPECTED` in ``namespace`` with ``partitions`` for the co-partitioned topics."""
    return {
        f"{namespace}.{name}": (partitions if count == CO_PARTITIONED else int(count), cleanup)
        for name, (count, cleanup) in EXPECTED.items()
    }


@pytest.fixture(params=BROKERS)
def empty_namespace(request: pytest.FixtureRequest) -> Iterator[TestBroker]:
    """A namespace without topics: on the session's embedded broker (which holds the default
    namespace's topics), or on the session's Apache Kafka (its topics deleted afterwards)."""
    namespace = f"topics-{secrets.token_hex(5)}"
    if request.param == "embedded":
        embedded: EmbeddedBroker = request.getfixturevalue("broker")
        yield TestBroker("embedded", embedded.bootstrap, namespace)
        return
    cluster: KafkaCluster = request.getfixturevalue("kafka_cluster")
    yield TestBroker("kafka", cluster.bootstrap, namespace, cluster)
    admin = KafkaAdminClient(bootstrap_servers=cluster.bootstrap)
    try:
        created = [t for t in admin.list_topics() if t.startswith(f"{namespace}.")]
        if created:
            admin.delete_topics(created)
    finally:
        admin.close()


def run_job(
    broker: TestBroker, partitions: int, environment: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``python deploy/create_topics.py`` with the Job's settings for ``broker``'s namespace
    (replication factor 1); this checkout's packages on the path, as the image installs them.
    ``environment``: the rest of its environment, e.g. the ``SCHAKEL_KAFKA_*`` security
    settings (default: this process's)."""
    base = broker.env() if environment is None else {**environment, **broker.settings_env}
    path = os.pathsep.join(p for p in (str(ROOT), base.get("PYTHONPATH")) if p)
    env = {
        **base,
        "SCHAKEL_PARTITIONS": str(partitions),
        "SCHAKEL_REPLICATION_FACTOR": "1",
        "PYTHONPATH": path,
    }
    return subprocess.run(
        [sys.executable, str(SCRIPT)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def on_broker(bootstrap: str, namespace: str) -> dict[str, dict[str, Any]]:
    """Every topic of ``namespace`` as the broker describes it: its id, partition count,
    replicas per partition, cleanup policy and ``min.insync.replicas``."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        names = sorted(t for t in admin.list_topics() if t.startswith(f"{namespace}."))
        if not names:
            return {}
        described = {t["name"]: t for t in admin.describe_topics(names)}
        asked = [ConfigResource(ConfigResourceType.TOPIC, name) for name in names]
        configs = admin.describe_configs(asked, config_filter="all")["topic"]
    finally:
        admin.close()

    def value(name: str, key: str) -> str | None:
        found = configs.get(name, {}).get(key)
        return None if found is None else str(found["value"])

    return {
        name: {
            "id": described[name]["topic_id"],
            "partitions": len(described[name]["partitions"]),
            "replicas": {len(p["replica_nodes"]) for p in described[name]["partitions"]},
            "cleanup.policy": value(name, "cleanup.policy"),
            "min.insync.replicas": value(name, "min.insync.replicas"),
        }
        for name in names
    }


def created_as_declared(
    job: subprocess.CompletedProcess[str], bootstrap: str, namespace: str
) -> dict[str, dict[str, Any]]:
    """The topics of ``namespace`` (:func:`on_broker`, asked at ``bootstrap``) once ``job``
    (a first run, :data:`PARTITIONS`) succeeded: exactly :func:`expected`, each once, and the
    job's one line saying so."""
    assert job.returncode == 0, job.stderr
    assert job.stdout.strip() == (
        f"create_topics: {len(EXPECTED)} topics present in namespace {namespace} "
        f"({PARTITIONS} partitions per co-partitioned topic, replication factor 1)"
    )
    want = expected(namespace, PARTITIONS)
    created = on_broker(bootstrap, namespace)
    assert {n: (t["partitions"], t["cleanup.policy"]) for n, t in created.items()} == want
    assert len({t["id"] for t in created.values() if t["id"]}) == len(want)
    return created


def test_the_topics_job_creates_the_declared_topics_once(empty_namespace: TestBroker) -> None:
    broker, namespace = empty_namespace, empty_namespace.namespace
    assert on_broker(broker.bootstrap, namespace) == {}

    first = run_job(broker, PARTITIONS)
    created = created_as_declared(first, broker.bootstrap, namespace)
    for name, topic in created.items():
        assert topic["replicas"] == {1}, name
        assert topic["min.insync.replicas"] == "1", name

    again = run_job(broker, PARTITIONS)
    assert again.returncode == 0, again.stderr
    assert again.stdout == first.stdout
    assert on_broker(broker.bootstrap, namespace) == created  # the same topics, not new ones

    other = run_job(broker, PARTITIONS + 2)  # SCHAKEL_PARTITIONS changed after the start
    assert other.returncode == 1
    problems = [p for p in other.stderr.splitlines() if p.startswith("create_topics: ")]
    differing = [n for n, (count, _) in EXPECTED.items() if count == CO_PARTITIONED]
    assert len(problems) == len(differing) == 8, other.stderr
    for name in differing:
        line = (
            f"create_topics: {namespace}.{name}: "
            f"{PARTITIONS} partitions, expected {PARTITIONS + 2} "
        )
        assert any(p.startswith(line) for p in problems), (name, other.stderr)
    assert other.stdout == ""
    assert on_broker(broker.bootstrap, namespace) == created
