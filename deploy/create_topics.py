"""One-shot topic creation for the Compose deployment (service ``topics``).

Creates every topic of the namespace ``SCHAKEL_NAMESPACE`` as :mod:`schemas.wire` declares it
(event, clock, output and dead-letter topics and the worker table's changelog) with
``SCHAKEL_PARTITIONS`` / ``SCHAKEL_REPLICATION_FACTOR`` before any adapter or worker starts
(the broker runs with ``auto.create.topics.enable=false``, so no topic can appear with the
broker's default partition count), then checks that every topic has the partition count it
must have. Idempotent: run it again after every upgrade.

Why not only ``schakel worker``, which creates topics too (the changelog compacted): adapters
may start first, and this one-shot also checks the partition counts of existing topics.

Connects to Kafka as every Schakel process does (``SCHAKEL_KAFKA_SECURITY_PROTOCOL``, TLS files,
SASL user name and password: :mod:`schemas.kafka_client`), after the same checks: a misspelt
security setting (:func:`schemas.environment.unknown_variables`) and a TLS file without TLS are
refused. A secured Kafka that answers but refuses the credentials or the TLS (a wrong password,
no or another client certificate, a CA that does not verify the broker) is a configuration
error, said within seconds in one line naming the settings to check
(:func:`schakel.wiring.accepted`), before any topic is created; a Kafka that does not answer is
a broker error once kafka-python's bootstrap gives up (30 s).

Exit codes: 0 all topics present and correct, 1 broker error or wrong partition count,
2 configuration error (also: Kafka refused the connection).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from typing import Any

from kafka.errors import KafkaError

from schakel import wiring
from schakel.cli import one_line
from schakel.topics import ensure_topics
from schemas import kafka_client
from schemas.environment import kafka_files_without_tls, unknown_variables
from schemas.exceptions import SettingsError
from schemas.settings import CommonSettings, load_process_settings
from schemas.wire import TopicSpec

WAIT_MS = 30_000


def partition_problems(
    described: Iterable[Mapping[str, Any]], topics: Mapping[str, TopicSpec], partitions: int
) -> list[str]:
    """What is wrong with ``topics`` (name → declaration) as the broker describes them
    (empty: nothing)."""
    found = {str(t.get("name")): len(t.get("partitions") or ()) for t in described}
    problems = []
    for name, spec in topics.items():
        want = spec.partitions(partitions)
        have = found.get(name)
        if have is None:
            problems.append(f"{name}: missing")
        elif have != want:
            problems.append(
                f"{name}: {have} partitions, expected {want} "
                "(SCHAKEL_PARTITIONS cannot change once the topics exist; see deploy/README.md)"
            )
    return problems


def main() -> int:
    try:
        settings = load_process_settings(CommonSettings)  # it talks only to Kafka
        # as every schakel process: a misspelt security setting would leave its default
        if misspelt := [v for v in unknown_variables(CommonSettings) if v.refused]:
            raise misspelt[0].refusal()
        if unencrypted := kafka_files_without_tls(settings):
            raise unencrypted
        kafka_client.configure(kafka_client.KafkaSecurity.from_settings(settings))
        if not settings.kafka_bootstrap:
            raise SettingsError("SCHAKEL_KAFKA_BOOTSTRAP is required")
        # a refused password or certificate: KafkaRefused now, not kafka-python's
        # "Unable to bootstrap" after 30 s, which reads as an outage
        bootstrap = wiring.accepted(settings.kafka_bootstrap)
    except SettingsError as exc:  # one line, a BSN in a path masked (as schakel's own)
        print(f"create_topics: {one_line(exc)}", file=sys.stderr)
        return 2
    wire = settings.wire()
    topics = wire.topics()
    try:
        ensure_topics(
            bootstrap,
            partitions=settings.partitions,
            replication_factor=settings.replication_factor,
            wire=wire,
        )
        with kafka_client.admin(bootstrap, "schakel-create-topics") as admin:
            admin.wait_for_topics(list(topics), timeout_ms=WAIT_MS)
            described = admin.describe_topics(list(topics))
    except KafkaError as exc:
        print(f"create_topics: {exc}", file=sys.stderr)  # str() names the class already
        return 1
    problems = partition_problems(described, topics, settings.partitions)
    for problem in problems:
        print(f"create_topics: {problem}", file=sys.stderr)
    if problems:
        return 1
    where = f" in namespace {wire.namespace}" if wire.namespace else ""
    print(
        f"create_topics: {len(topics)} topics present{where} "
        f"({settings.partitions} partitions per co-partitioned topic, "
        f"replication factor {settings.replication_factor})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
