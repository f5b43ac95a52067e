"""Where ``schakel replay`` and ``schakel demo`` run their pipeline: a fresh embedded broker
(the default), or a fresh topic namespace on an existing Kafka (``--bootstrap HOST:PORT``).

On an existing Kafka the run gets a namespace of its own (``--namespace``, else a generated
``replay-<8 hex>`` / ``demo-<8 hex>``; see the naming rule in :mod:`schemas.wire`). Before
anything is written the namespace is checked to be unused — no topic and no consumer group
whose name starts with ``<namespace>.`` — so the run can touch nothing of a running deployment
or of another run. Its topics are created from the declarations, and at the end the topics and
consumer groups of that namespace are deleted again, unless the caller keeps them.

The profile of the run: ``--bootstrap`` means Apache Kafka, so the ``embedded`` default becomes
``kafka`` (none of the embedded broker's workarounds); ``production`` stays ``production``. A
``SCHAKEL_PROFILE=embedded`` set explicitly says the address is an embedded broker started with
``schakel broker``, and keeps its workarounds.
"""

from __future__ import annotations

import contextlib
import secrets
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import kafka.errors
from kafka import KafkaAdminClient
from kafka.errors import KafkaError

from schakel import wiring
from schakel.broker import EmbeddedBroker
from schakel.topics import ensure_topics
from schemas import kafka_client
from schemas.exceptions import PermanentError
from schemas.settings import Settings
from schemas.wire import Wire
from streams.offsets import RETRY_S


class SandboxError(PermanentError, RuntimeError):
    """The run cannot use the Kafka it was given (the message says why)."""


class NamespaceInUse(SandboxError):
    """The namespace chosen for a run already has topics or consumer groups on the cluster."""


@dataclass(frozen=True)
class Target:
    """The Kafka a run uses and the settings of the run (its namespace and profile)."""

    bootstrap: str
    settings: Settings

    @property
    def wire(self) -> Wire:
        return self.settings.wire()

    @property
    def embedded(self) -> bool:
        """Whether the embedded broker's workarounds apply (``SCHAKEL_PROFILE=embedded``)."""
        return self.settings.profile == "embedded"


def generated_namespace(kind: str) -> str:
    """A fresh namespace for a run: ``<kind>-<8 random hex digits>``."""
    return f"{kind}-{secrets.token_hex(4)}"


def run_settings(settings: Settings, bootstrap: str, namespace: str) -> Settings:
    """The settings of a run on an existing Kafka: its bootstrap, its namespace and the
    profile it must run with (module docstring)."""
    Wire(namespace)  # validates
    profile = settings.profile
    if profile == "embedded" and "profile" not in settings.model_fields_set:
        profile = "kafka"
    return settings.model_copy(
        update={"kafka_bootstrap": bootstrap, "namespace": namespace, "profile": profile}
    )


def _prefix(wire: Wire) -> str:
    if not wire.namespace:
        raise NamespaceInUse("a run on an existing Kafka needs a namespace of its own")
    return f"{wire.namespace}."


def _members(admin: KafkaAdminClient, prefix: str) -> tuple[list[str], list[str]]:
    """(topics, consumer groups) whose names start with ``prefix``."""
    topics = sorted(t for t in admin.list_topics() if t.startswith(prefix))
    groups = sorted(
        str(g["group_id"]) for g in admin.list_groups() if str(g["group_id"]).startswith(prefix)
    )
    return topics, groups


def namespace_in_use(bootstrap: str, wire: Wire) -> list[str]:
    """Topics and consumer groups on the cluster that belong to the namespace of ``wire``."""
    with kafka_client.admin(bootstrap, "schakel-sandbox") as admin:
        topics, groups = _members(admin, _prefix(wire))
    return topics + [f"group {g}" for g in groups]


GROUP_PATIENCE_S = 10.0
"""How long :func:`delete_namespace` asks again while a group's coordinator is not there yet."""


def delete_namespace(bootstrap: str, wire: Wire) -> list[str]:
    """Delete every topic and consumer group of the namespace of ``wire``; return the groups
    that could not be deleted (a group with live members: stop the workers first). The run's
    own group is deleted by name even if the broker does not list groups. A retriable error of
    the group coordinator — a cluster that never had a consumer group has none until asked,
    then one still starting — is asked again for up to :data:`GROUP_PATIENCE_S` seconds, then
    returned as not deleted; the topics are deleted in any case. Raises :class:`KafkaError` if
    a topic could not be deleted."""
    with kafka_client.admin(bootstrap, "schakel-sandbox") as admin:
        topics, groups = _members(admin, _prefix(wire))
        if topics:
            admin.delete_topics(topics)
        left = _delete_groups(admin, sorted({*groups, wire.group_id}))
    return [f"group {g} ({error})" for g, error in sorted(left.items())]


def _delete_groups(admin: KafkaAdminClient, groups: list[str]) -> dict[str, str]:
    """Delete ``groups``; return those not deleted with the name of their error (a group that
    does not exist counts as deleted)."""
    deadline = time.monotonic() + GROUP_PATIENCE_S
    left: dict[str, str] = {}
    while True:
        try:
            results: dict[str, str] = admin.delete_groups(groups)
        except KafkaError as exc:
            if not exc.retriable:
                raise
            results = dict.fromkeys(groups, type(exc).__name__)
        for group, error in results.items():
            if error in ("OK", "GroupIdNotFoundError"):
                left.pop(group, None)
            else:
                left[group] = error
        groups = sorted(g for g in results if g in left and _retriable(left[g]))
        if not groups or time.monotonic() >= deadline:
            return left
        time.sleep(RETRY_S)


def _retriable(error: str) -> bool:
    """Whether the Kafka error named ``error`` is retriable."""
    kind = getattr(kafka.errors, error, None)
    return (
        isinstance(kind, type)
        and issubclass(kind, KafkaError)
        and getattr(kind, "retriable", False) is True
    )


@contextlib.contextmanager
def target(
    settings: Settings,
    *,
    kind: str,
    bootstrap: str | None,
    namespace: str | None,
    keep: bool,
    workdir: Path,
) -> Iterator[Target]:
    """The Kafka of one run, with every topic of its namespace created.

    ``bootstrap`` None: a fresh embedded broker (log in ``workdir``) in the namespace of
    ``settings``, stopped at the end. Otherwise the existing Kafka at ``bootstrap`` in the
    fresh namespace ``namespace`` (generated from ``kind`` if None; announced on stderr);
    raises :class:`NamespaceInUse` if it is not fresh. Its topics and groups are deleted at the
    end unless ``keep``."""
    if bootstrap is None:  # the embedded broker speaks plaintext, to this process and its worker
        kafka_client.configure(kafka_client.PLAINTEXT)
        plain = settings.model_copy(update={"kafka_security_protocol": "PLAINTEXT"})
        with EmbeddedBroker(log_file=workdir / "broker.log") as broker:
            ensure_topics(broker.bootstrap, partitions=settings.partitions, wire=settings.wire())
            yield Target(broker.bootstrap, plain)
        return
    run = run_settings(settings, bootstrap, namespace or generated_namespace(kind))
    wire = run.wire()
    wiring.reachable(bootstrap, named_by="--bootstrap")
    try:
        used = namespace_in_use(bootstrap, wire)
    except KafkaError as exc:
        raise SandboxError(
            f"Kafka at {bootstrap} cannot be reached or cannot list its topics and groups "
            f"({type(exc).__name__})"
        ) from exc
    if used:
        raise NamespaceInUse(
            f"namespace {wire.namespace} is in use on {bootstrap} ({len(used)} topics or "
            "groups, e.g. " + ", ".join(used[:3]) + "): choose another --namespace, or leave it "
            "out for a generated one"
        )
    print(
        f"schakel {kind}: Kafka {bootstrap}, namespace {wire.namespace} "
        f"(topics {wire.namespace}.*, profile {run.profile})",
        file=sys.stderr,
        flush=True,
    )
    try:
        ensure_topics(
            bootstrap,
            partitions=run.partitions,
            replication_factor=run.replication_factor,
            wire=wire,
        )
        yield Target(bootstrap, run)
    finally:
        if keep:
            print(
                f"schakel {kind}: namespace {wire.namespace} kept on {bootstrap}", file=sys.stderr
            )
        else:
            try:
                left = delete_namespace(bootstrap, wire)
            except KafkaError as exc:  # the run's result stands; say what is left behind
                left = [f"topics {wire.namespace}.* ({type(exc).__name__})"]
            if left:
                print(
                    f"schakel {kind}: could not delete all of namespace {wire.namespace} on "
                    f"{bootstrap}: {', '.join(left)}; delete them by hand",
                    file=sys.stderr,
                )
