"""Create the topics of a namespace explicitly, as :mod:`schemas.wire` declares them (the
embedded broker would auto-create them with 4 partitions, Apache Kafka in the deployment does
not auto-create at all, and Faust needs a source topic and its table changelog to match)."""

from __future__ import annotations

import contextlib
from typing import Any

from kafka import KafkaAdminClient
from kafka.errors import TopicAlreadyExistsError

from schemas import kafka_client
from schemas.wire import DEFAULT_WIRE, Wire


def new_topics(
    wire: Wire, *, partitions: int, replication_factor: int
) -> dict[str, dict[str, Any]]:
    """Every topic of ``wire`` as it must be created (name → ``num_partitions``,
    ``replication_factor``, ``configs``, as ``KafkaAdminClient.create_topics`` takes them):
    ``partitions`` for the co-partitioned ones, else 1; replication and topic configuration
    from the declaration."""
    return {
        name: {
            "num_partitions": spec.partitions(partitions),
            "replication_factor": replication_factor,
            "configs": spec.configs(replication_factor),
        }
        for name, spec in wire.topics().items()
    }


def ensure_topics(
    bootstrap: str,
    *,
    partitions: int,
    replication_factor: int = 1,
    wire: Wire = DEFAULT_WIRE,
) -> None:
    """Create every topic of the namespace ``wire`` (events, clock, outputs, dead letters and
    the worker table's changelog) that does not exist yet (idempotent). Existing topics are
    left as they are: ``deploy/create_topics.py`` checks their partition counts."""
    admin = KafkaAdminClient(
        bootstrap_servers=bootstrap,
        client_id="schakel-admin",
        **kafka_client.current().kafka_python(),
    )
    try:
        existing = set(admin.list_topics())
        declared = new_topics(wire, partitions=partitions, replication_factor=replication_factor)
        wanted = {name: spec for name, spec in declared.items() if name not in existing}
        if wanted:
            with contextlib.suppress(TopicAlreadyExistsError):
                admin.create_topics(wanted)
    finally:
        admin.close()
