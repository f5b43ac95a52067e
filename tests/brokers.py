"""The brokers the integration tests run against, behind one small interface.

``embedded``: a fresh Tansu broker per use (:class:`schakel.broker.EmbeddedBroker`), the default
namespace, profile ``embedded`` (its workarounds on). ``kafka``: the session's Apache Kafka
(fixture ``kafka_cluster``, :mod:`schakel.kafka_cluster`) in a fresh namespace per use, profile
``kafka`` (no workaround: the production code path); the namespace's topics and consumer
groups are deleted afterwards. Either way every topic of the namespace exists before the test
starts. Processes started by a test get the broker through :meth:`TestBroker.env`.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Literal

import pytest

from schakel.broker import EmbeddedBroker
from schakel.kafka_cluster import KafkaCluster
from schakel.sandbox import delete_namespace
from schakel.topics import ensure_topics
from schemas.wire import Wire

Kind = Literal["embedded", "kafka"]
BROKERS = ("embedded", pytest.param("kafka", marks=pytest.mark.kafka))
"""Parameters of a fixture that runs its tests on both brokers (the Kafka run is marked
``kafka``)."""
PARTITIONS = 4


@dataclass(frozen=True)
class TestBroker:
    """A broker prepared for one test (or one module's fixture)."""

    __test__ = False  # not a test class

    kind: Kind
    bootstrap: str
    namespace: str = ""
    cluster: KafkaCluster | None = None

    @property
    def profile(self) -> str:
        """``SCHAKEL_PROFILE`` of the processes: ``embedded`` or ``kafka``."""
        return "embedded" if self.kind == "embedded" else "kafka"

    @property
    def wire(self) -> Wire:
        """The topic names of this test's namespace."""
        return Wire(self.namespace)

    @property
    def settings_env(self) -> dict[str, str]:
        """The ``SCHAKEL_*`` variables that point a Schakel process at this broker."""
        return {
            "SCHAKEL_PROFILE": self.profile,
            "SCHAKEL_KAFKA_BOOTSTRAP": self.bootstrap,
            "SCHAKEL_NAMESPACE": self.namespace,
        }

    def env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """This process's environment with :attr:`settings_env` and ``extra``."""
        return {**os.environ, **self.settings_env, **(extra or {})}


@contextlib.contextmanager
def open_broker(kind: str, request: pytest.FixtureRequest) -> Iterator[TestBroker]:
    """A :class:`TestBroker` of ``kind`` with every topic of its namespace created."""
    if kind == "embedded":
        with EmbeddedBroker() as embedded:
            ensure_topics(embedded.bootstrap, partitions=PARTITIONS)
            yield TestBroker("embedded", embedded.bootstrap)
        return
    with kafka_namespace(request.getfixturevalue("kafka_cluster")) as broker:
        yield broker


@contextlib.contextmanager
def kafka_namespace(cluster: KafkaCluster) -> Iterator[TestBroker]:
    """A fresh namespace on ``cluster`` with every topic created; its topics and consumer
    groups are deleted afterwards (also on a cluster that never had a consumer group)."""
    broker = TestBroker("kafka", cluster.bootstrap, f"test-{secrets.token_hex(5)}", cluster)
    ensure_topics(broker.bootstrap, partitions=PARTITIONS, wire=broker.wire)
    try:
        yield broker
    finally:
        # a group whose worker was killed keeps its member until the session times out; a
        # group left behind in a namespace nobody uses again harms nothing
        deadline = time.monotonic() + 15
        while delete_namespace(broker.bootstrap, broker.wire) and time.monotonic() < deadline:
            time.sleep(1)
