"""Create the topics of a namespace explicitly, as :mod:`schemas.wire` declares them (the
embedded broker would auto-create them with 4 partitions, Apache Kafka in the deployment does
not auto-create at all, and Faust needs a source topic and its table changelog to match); and
check, for a command that works in a namespace it does not create (``forget``, ``dlq``), that
the topics it needs are there (:func:`require_topics`)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from typing import Any

from kafka.errors import TopicAlreadyExistsError

from schemas import kafka_client
from schemas.exceptions import PermanentError
from schemas.wire import DEFAULT_WIRE, Wire


class MissingTopics(PermanentError):
    """Topics a command needs do not exist in its namespace (most often a mistyped
    ``SCHAKEL_NAMESPACE``, or a namespace whose topics were never created); the message names
    the topics and the namespace."""


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
    with kafka_client.admin(bootstrap, "schakel-admin") as admin:
        existing = set(admin.list_topics())
        declared = new_topics(wire, partitions=partitions, replication_factor=replication_factor)
        wanted = {name: spec for name, spec in declared.items() if name not in existing}
        if wanted:
            with contextlib.suppress(TopicAlreadyExistsError):
                admin.create_topics(wanted)


def missing_topics(bootstrap: str, names: Iterable[str]) -> list[str]:
    """Those of ``names`` that do not exist on the Kafka at ``bootstrap``, in the order given.

    Asked with the admin client's list of every topic: never by asking for the topics
    themselves, which a broker that creates topics on a metadata request would create (as
    ordinary topics, with its default partitions and cleanup: a compacted topic created so
    would stay uncompacted, and no worker would read it)."""
    with kafka_client.admin(bootstrap, "schakel-admin") as admin:
        existing = set(admin.list_topics())
    return [name for name in names if name not in existing]


def require_topics(bootstrap: str, wire: Wire, names: Iterable[str], *, consequence: str) -> None:
    """Raise :class:`MissingTopics` unless every topic of ``names`` (topics of ``wire``'s
    namespace) exists (:func:`missing_topics`); nothing is created or written. Its one line
    names the missing topics, the namespace, what to check, and ``consequence`` (what the
    command did not do, e.g. ``nothing was forgotten``)."""
    missing = missing_topics(bootstrap, names)
    if missing:
        namespace = (
            f"namespace {wire.namespace!r} (SCHAKEL_NAMESPACE)"
            if wire.namespace
            else "the default namespace (SCHAKEL_NAMESPACE empty)"
        )
        raise MissingTopics(
            f"{namespace} has no topic {', '.join(missing)} on "
            f"{bootstrap}: check SCHAKEL_NAMESPACE and SCHAKEL_KAFKA_BOOTSTRAP, or create the "
            "namespace's topics first (a worker does at its start, as do "
            f"deploy/create_topics.py and the Helm chart's registration Job); {consequence}"
        )
