"""Create the declared topics explicitly (the embedded broker would auto-create them with 4
partitions, and Faust needs a source topic and its table changelog to match)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError

from schemas.topics import ALL_TOPICS, TopicSpec


def ensure_topics(
    bootstrap: str,
    *,
    partitions: int,
    replication_factor: int = 1,
    topics: Iterable[TopicSpec] = ALL_TOPICS,
    extra: Iterable[str] = (),
) -> None:
    """Create every declared topic that does not exist yet (idempotent).

    Co-partitioned topics get ``partitions``; the others one partition each (they are read
    in full by every consumer). ``extra`` names table changelogs: co-partitioned and
    compacted (their latest value per key is the state)."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="schakel-admin")
    try:
        existing = set(admin.list_topics())
        wanted = [
            NewTopic(
                name=spec.name,
                num_partitions=partitions if spec.co_partitioned else 1,
                replication_factor=replication_factor,
                topic_configs={"cleanup.policy": spec.cleanup_policy},
            )
            for spec in topics
            if spec.name not in existing
        ]
        wanted += [
            NewTopic(
                name=name,
                num_partitions=partitions,
                replication_factor=replication_factor,
                topic_configs={"cleanup.policy": "compact"},
            )
            for name in extra
            if name not in existing
        ]
        if wanted:
            with contextlib.suppress(TopicAlreadyExistsError):
                admin.create_topics(wanted)
    finally:
        admin.close()
