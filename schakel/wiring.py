"""Builds the contract objects a process needs from its settings (schemas/settings.py)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from adapters.publisher import Publisher
from schemas import kafka_client
from schemas.exceptions import PermanentError, TransientError
from schemas.pseudonym import Pseudonymiser
from schemas.registry import LocalRegistry, SchemaRegistry
from schemas.registry_client import ConfluentRegistry, RegistryConnection
from schemas.serde import RecordSerializer
from schemas.settings import CommonSettings, KeyedSettings
from streams.reachability import addresses, wait_answering

BROKER_FILE = "embedded-broker.json"
CONNECT_WAIT_S = 5.0
"""How long a one-shot command (``publish``, ``adapter --once``, ``dlq``, ``forget``, ``replay``
and ``demo`` with ``--bootstrap``) waits for its Kafka to accept a connection before it stops
with :class:`BrokerUnreachable` (:func:`reachable`)."""


class NoKafkaError(PermanentError, RuntimeError):
    """No Kafka configured and no embedded broker running."""


def registry(settings: CommonSettings) -> SchemaRegistry:
    """The configured registry (lookups only), else the local one with fingerprint ids."""
    if settings.schema_registry_url:
        return ConfluentRegistry(RegistryConnection.from_settings(settings))
    return LocalRegistry()


def pseudonymiser(
    settings: KeyedSettings, *, announce: bool = True, generate: bool = False
) -> Pseudonymiser:
    """The configured key's pseudonymiser; without a key :class:`SettingsError`, unless a
    self-contained run (``demo``, ``replay``) asks to ``generate`` one (then said on stderr)."""
    key, generated = settings.resolve_pseudonym_key(generate=generate)
    if generated and announce:
        print(
            "schakel: no SCHAKEL_PSEUDONYM_KEY set — generated a random key for this run "
            "(demo and replay only; pseudonyms will differ between runs)",
            file=sys.stderr,
        )
    return Pseudonymiser(key)


def broker_file(settings: CommonSettings) -> Path:
    return settings.data_dir / BROKER_FILE


def bootstrap(settings: CommonSettings) -> str:
    """The configured Kafka, else a running ``schakel broker`` of this data directory (which
    speaks plaintext: :data:`schemas.kafka_client.PLAINTEXT` is installed then)."""
    if settings.kafka_bootstrap:
        return settings.kafka_bootstrap
    path = broker_file(settings)
    try:
        info = json.loads(path.read_text())
        os.kill(int(info["pid"]), 0)
        kafka_client.configure(kafka_client.PLAINTEXT)
        return str(info["bootstrap"])
    except (OSError, ValueError, KeyError):
        raise NoKafkaError(
            "no Kafka configured (SCHAKEL_KAFKA_BOOTSTRAP) and no embedded broker running: "
            "start one with `schakel broker` or set SCHAKEL_KAFKA_BOOTSTRAP"
        ) from None


class BrokerUnreachable(TransientError):
    """Transient: the configured Kafka did not answer (exit 75, one line)."""


def reachable(bootstrap: str, *, named_by: str = "SCHAKEL_KAFKA_BOOTSTRAP") -> str:
    """``bootstrap``, once one of its addresses accepted a TCP connection; raises
    :class:`BrokerUnreachable` (naming ``named_by``, where the address came from) if none did
    within :data:`CONNECT_WAIT_S` seconds. For one-shot commands: an address where nothing
    listens fails in seconds, not after the Kafka client's own 30 s. A bootstrap with no
    ``host:port`` to try is left to the Kafka client. With a secured connection
    (:mod:`schemas.kafka_client`), a broker that refuses the credentials or the TLS raises
    :class:`~schemas.kafka_client.KafkaRefused` (exit 2) at once (:func:`accepted`). The one-shot
    commands and the worker's start call this; a continuous adapter and the webhook wait an
    outage out instead and call only :func:`accepted`."""
    if addresses(bootstrap) and not wait_answering(bootstrap, CONNECT_WAIT_S):
        raise BrokerUnreachable(
            f"Kafka at {bootstrap} did not answer (no connection within {CONNECT_WAIT_S:.0f} s); "
            f"is it running? ({named_by})"
        )
    return accepted(bootstrap)  # a refused password or certificate: say so now


def accepted(bootstrap: str) -> str:
    """``bootstrap``, unless Kafka there answers and refuses this process's credentials or
    TLS (:class:`~schemas.kafka_client.KafkaRefused`, exit 2: running on would retry a
    refusal for ever as if it were an outage). For a process that runs on (a continuous
    adapter, the webhook): a Kafka that does not answer is waited out later, as always; a
    plaintext connection is not asked about."""
    security = kafka_client.current()
    if security != kafka_client.PLAINTEXT and addresses(bootstrap):
        kafka_client.check_accepted(bootstrap, security, CONNECT_WAIT_S)
    return bootstrap


def publisher(
    settings: CommonSettings, bootstrap_servers: str, client_id: str, *, wait: bool = False
) -> Publisher:
    """The adapters' publisher of ``settings`` (``wait``: a broker down now is waited for,
    :class:`adapters.publisher.Publisher`)."""
    return Publisher(
        bootstrap_servers,
        RecordSerializer(registry(settings)),
        client_id=client_id,
        wire=settings.wire(),
        wait=wait,
    )
