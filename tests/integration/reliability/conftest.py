"""The three-node Apache Kafka cluster of the reliability tests: started once for the package
(20–40 s on two cores), every trial in a topic namespace of its own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from schakel.kafka_cluster import KafkaCluster


@pytest.fixture(scope="package")
def kafka3() -> Iterator[KafkaCluster]:
    """Three combined broker+controller nodes; topics get replication factor 3 and
    ``min.insync.replicas=2`` (:func:`schakel.kafka_cluster.broker_settings`)."""
    with KafkaCluster(3) as cluster:
        yield cluster
