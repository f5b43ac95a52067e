"""Fixtures of the adapter integration tests: a throwaway PostgreSQL 15 server, settings that
point at the session broker with a unique OIN (so each test's ``source`` URNs and thus its
events are its own), and a reader that decodes every record of a topic.

The PostgreSQL server is started with ``initdb`` + ``pg_ctl`` in a fresh directory on a free
port. ``initdb`` refuses to run as root: as root (CI) the server runs as the unprivileged
user ``SCHAKEL_TEST_PG_USER`` (default ``nobody``) through ``runuser``/``setpriv``. If it
cannot start, the fixture fails the test — it never skips.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from kafka import KafkaConsumer, TopicPartition
from psycopg.types.json import Jsonb

from schakel.broker import EmbeddedBroker, free_port
from schemas.registry import LocalRegistry
from schemas.serde import RecordDeserializer
from schemas.settings import Settings
from tests.processes import start, stopping

KEY = "integration-test-key-0123456789abcdef"
OUTBOX_DDL = (
    "CREATE TABLE schakel_outbox ("
    " id bigserial PRIMARY KEY,"
    " created_at timestamptz NOT NULL DEFAULT now(),"
    " event jsonb NOT NULL)"
)


# ---------------------------------------------------------------- PostgreSQL


def _pg_bin(name: str) -> str:
    found = sorted(
        (str(p) for p in Path("/usr/lib/postgresql").glob(f"*/bin/{name}")), reverse=True
    )
    for candidate in ("/usr/lib/postgresql/15/bin/" + name, *found, shutil.which(name)):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    pytest.fail(f"PostgreSQL binary {name!r} not found (install postgresql-15)")


def _as_user(user: str | None, argv: Sequence[str]) -> list[str]:
    if user is None:
        return list(argv)
    if shutil.which("runuser"):
        return ["runuser", "-u", user, "--", *argv]
    if shutil.which("setpriv"):
        entry = pwd.getpwnam(user)
        return [
            "setpriv",
            f"--reuid={entry.pw_uid}",
            f"--regid={entry.pw_gid}",
            "--clear-groups",
            *argv,
        ]
    pytest.fail("running as root but neither runuser nor setpriv is available to drop privileges")


@dataclass(frozen=True)
class PostgresServer:
    """A running server: ``dsn(db)`` connects as the superuser ``postgres`` over TCP.
    :meth:`crash` kills it as a power cut would (``pg_ctl stop -m immediate``: no shutdown
    checkpoint, connections dropped) and :meth:`start` starts it again on the same port and
    data, recovering from its WAL."""

    port: int
    data: Path
    log: Path
    user: str | None

    def dsn(self, dbname: str = "postgres") -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={dbname} connect_timeout=10"

    def _pg_ctl(self, what: str, *argv: str) -> None:
        done = subprocess.run(
            _as_user(self.user, [_pg_bin("pg_ctl"), "-D", str(self.data), *argv]),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if done.returncode != 0:
            tail = self.log.read_text()[-2000:] if self.log.exists() else ""
            pytest.fail(
                f"PostgreSQL {what} failed ({done.returncode}): {done.stderr[-2000:]}\n{tail}"
            )

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.data.parent} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c full_page_writes=off -c synchronous_commit=off -c max_connections=50"
        )
        self._pg_ctl("start", "-o", options, "-l", str(self.log), "-w", "-t", "60", "start")

    def crash(self) -> None:
        self._pg_ctl("crash", "-m", "immediate", "-w", "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    user = os.environ.get("SCHAKEL_TEST_PG_USER", "nobody") if os.geteuid() == 0 else None
    base = Path(tempfile.mkdtemp(prefix="schakel-pg-"))
    if user is not None:
        entry = pwd.getpwnam(user)
        os.chown(base, entry.pw_uid, entry.pw_gid)
    server = PostgresServer(free_port(), base / "data", base / "server.log", user)
    initdb = [
        _pg_bin("initdb"),
        *("-D", str(server.data), "-A", "trust", "-U", "postgres", "-E", "UTF8"),
        *("--locale=C", "--no-sync"),
    ]
    done = subprocess.run(
        _as_user(user, initdb), capture_output=True, text=True, timeout=120, check=False
    )
    if done.returncode != 0:
        pytest.fail(f"PostgreSQL initdb failed ({done.returncode}): {done.stderr[-2000:]}")
    server.start()
    try:
        with psycopg.connect(server.dsn()) as conn:
            conn.execute("SELECT 1")
        yield server
    finally:
        subprocess.run(
            _as_user(user, [_pg_bin("pg_ctl"), "-D", str(server.data), "-m", "immediate", "stop"]),
            capture_output=True,
            timeout=60,
            check=False,
        )
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def outbox_db(postgres: PostgresServer, unique: str) -> Iterator[str]:
    """A fresh database with an empty ``schakel_outbox``; yields its DSN."""
    name = f"outbox_{unique}"
    with psycopg.connect(postgres.dsn(), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    dsn = postgres.dsn(name)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(OUTBOX_DDL)
    yield dsn
    with psycopg.connect(postgres.dsn(), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def insert_rows(dsn: str, events: Sequence[dict[str, Any]]) -> None:
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO schakel_outbox (event) VALUES (%s)",
            [(Jsonb(e),) for e in events],
        )


# ---------------------------------------------------------------- broker and settings


def unique_oin() -> str:
    return "9" + "".join(secrets.choice("0123456789") for _ in range(19))


@pytest.fixture
def adapter_settings(broker: EmbeddedBroker, tmp_path: Path) -> Settings:
    """Settings of one test: the session broker, its own data dir and OIN."""
    return Settings(
        kafka_bootstrap=broker.bootstrap,
        data_dir=tmp_path / "var",
        pseudonym_key=KEY,
        oin=unique_oin(),
        metrics_port=0,
    )


@dataclass(frozen=True)
class Message:
    """One record of a topic, raw and decoded."""

    topic: str
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]
    record: dict[str, Any]


_DESERIALIZER = RecordDeserializer(LocalRegistry())


def read_topic(
    bootstrap: str, topic: str, timeout: float = 30.0, settle: float = 1.0
) -> list[Message]:
    """Every record of ``topic`` from the beginning, decoded: read up to the end offsets and
    then on until nothing arrived for ``settle`` seconds — the embedded broker (Tansu 0.6.0)
    reports as end offset the base offset of the last record batch + 1, not the real end."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        partitions = [
            TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        end = consumer.end_offsets(partitions)
        out: list[Message] = []
        deadline = time.monotonic() + timeout
        last = time.monotonic()
        while (
            any(consumer.position(tp) < end[tp] for tp in partitions)
            or time.monotonic() - last < settle
        ):
            if time.monotonic() > deadline:
                raise AssertionError(f"could not read {topic} to its end in {timeout}s")
            for records in consumer.poll(timeout_ms=200).values():
                last = time.monotonic()
                for r in records:
                    _, decoded = _DESERIALIZER.decode(r.value)
                    out.append(Message(topic, r.key, r.value, list(r.headers), decoded))
        return out
    finally:
        consumer.close()


def events_of(bootstrap: str, topic: str, source_prefix: str) -> list[Message]:
    """The events on ``topic`` whose ``source`` starts with ``source_prefix``."""
    return [
        m
        for m in read_topic(bootstrap, topic)
        if str(m.record.get("source", "")).startswith(source_prefix)
    ]


def assert_no_bsn(messages: Sequence[Message], bsns: set[str]) -> None:
    for m in messages:
        blob = (m.key or b"") + m.value + b"".join(k.encode() + v for k, v in m.headers)
        for bsn in bsns:
            assert bsn.encode() not in blob, f"BSN found in a record on {m.topic}"


def popen(
    argv: Sequence[str], env: dict[str, str], log: Path
) -> contextlib.AbstractContextManager[subprocess.Popen[bytes]]:
    """``argv`` started (:func:`tests.processes.start`, output appended to ``log``); killed
    with SIGKILL at the end of the block if it still runs."""
    return stopping(start(argv, log, env=env), signal.SIGKILL, grace=10)
