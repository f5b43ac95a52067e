"""The programs Schakel starts that are not Schakel processes — the embedded broker (Tansu),
the demo's PostgreSQL server (initdb, pg_ctl) and Apache Kafka (``make kafka``, the test
clusters) — get no ``SCHAKEL_*`` variable: none of
them reads one, and among them are the pseudonym key, the API tokens and the outbox DSN.
Each is replaced here by a script that prints the variables it was given."""

from __future__ import annotations

import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from schakel import broker, kafka_cluster
from schakel.broker import BrokerStartError, EmbeddedBroker
from schakel.synth.exceptions import PostgresUnavailable
from schakel.synth.postgres import TempPostgres

SECRETS = {
    "SCHAKEL_PSEUDONYM_KEY": "sleutel-geheim-0123456789abcdef0123",
    "SCHAKEL_API_TOKENS": "anna:regisseur:api-geheim",
    "SCHAKEL_OUTBOX_DSN": "postgresql://lezer:dsn-geheim@db/bron",
    "schakel_webhook_tokens": "urn:nld:oin:1:systeem:wijkteam=webhook-geheim",
    "SCHAKEL_NAMESPACE": "ns",
}
SCRIPT = """#!/bin/sh
echo "started"
env | grep -i '^schakel_\\|^lc_all=\\|^x_unrelated='
exit 3
"""


@pytest.fixture
def bin_dir(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A directory anyone may read (the PostgreSQL server runs as ``postgres`` under root)."""
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("X_UNRELATED", "kept")
    with tempfile.TemporaryDirectory(prefix="schakel-child-env-") as tmp:
        path = Path(tmp)
        path.chmod(0o755)
        yield path


def script(path: Path) -> Path:
    path.write_text(SCRIPT)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH | 0o444)
    return path


def test_the_embedded_broker_gets_no_schakel_variable(
    bin_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = script(bin_dir / "tansu")
    monkeypatch.setattr(broker, "broker_binary", lambda: str(fake))
    log = bin_dir / "broker.log"
    with pytest.raises(BrokerStartError, match="exited with code 3"):
        EmbeddedBroker(log_file=log).start(timeout=10)
    output = log.read_text()
    assert "started" in output and "X_UNRELATED=kept" in output
    assert "geheim" not in output
    assert "schakel_" not in output.lower()


def test_the_demo_postgres_server_gets_no_schakel_variable(bin_dir: Path) -> None:
    script(bin_dir / "initdb")
    script(bin_dir / "pg_ctl")
    with pytest.raises(PostgresUnavailable, match="initdb failed") as info:
        TempPostgres(bin_dir).start()
    output = str(info.value)
    assert "started" in output and "LC_ALL=C" in output and "X_UNRELATED=kept" in output
    assert "geheim" not in output
    assert "schakel_" not in output.lower()


KAFKA_SCRIPT = """#!/bin/sh
case "$*" in *kafka.tools.StorageTool*)
  env | grep -i '^schakel_\\|^x_unrelated=' > "$(dirname "$0")/format.env"; exit 0;;
esac
echo "started"
env | grep -i '^schakel_\\|^x_unrelated='
exit 3
"""


def test_kafka_gets_no_schakel_variable(bin_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Both JVMs of a node: the storage tool that formats it and the node itself."""
    java = bin_dir / "java"
    java.write_text(KAFKA_SCRIPT)
    java.chmod(0o755)
    monkeypatch.setattr(kafka_cluster, "kafka_classpath", lambda libs, version: "none")
    cluster = kafka_cluster.KafkaCluster(1, java=str(java), workdir=bin_dir / "kafka")
    with pytest.raises(kafka_cluster.KafkaStartError):
        cluster.start(timeout=10)
    cluster.stop()
    formatted = (bin_dir / "format.env").read_text()
    started = cluster.nodes[1].log.read_text()
    assert "X_UNRELATED=kept" in formatted and "X_UNRELATED=kept" in started
    for output in (formatted, started):
        assert "geheim" not in output and "schakel_" not in output.lower()
