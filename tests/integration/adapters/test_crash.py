"""kill -9 of every adapter process between publishing and checkpointing, then a restart:
the distinct event ids on the topic are exactly the expected ones (nothing lost), and every
duplicate copy is byte-identical to the first (same id → dropped downstream)."""

from __future__ import annotations

import http.client
import json
import os
import random
import signal
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path

from adapters.registry import open_source
from benchmarks.adapters import (
    outbox_events,
    wijkteam_events,
    write_iwmo,
    write_jsonlines,
    write_sociale_dienst,
    write_vroegsignalering,
)
from schakel.broker import free_port
from schemas.pseudonym import Pseudonymiser
from schemas.settings import Settings
from tests.integration.adapters.conftest import (
    KEY,
    Message,
    PostgresServer,
    events_of,
    insert_rows,
    popen,
)
from tests.processes import stop

TOPICS = {
    "iwmo": "schakel.wmo.events",
    "sociale-dienst": "schakel.participatiewet.events",
    "vroegsignalering": "schakel.wgs.events",
    "wijkteam": "schakel.wijkteam.events",
    "outbox": "schakel.wmo.events",
}


def cli_env(settings: Settings, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCHAKEL_")}
    env.update(
        SCHAKEL_KAFKA_BOOTSTRAP=settings.kafka_bootstrap or "",
        SCHAKEL_DATA_DIR=str(settings.data_dir),
        SCHAKEL_PSEUDONYM_KEY=KEY,
        SCHAKEL_OIN=settings.oin,
        SCHAKEL_METRICS_PORT="0",
        SCHAKEL_LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
        **extra,
    )
    return env


def adapter_cmd(name: str, spec: str, batch: int = 10) -> list[str]:
    return [
        sys.executable,
        "-m",
        "schakel",
        "adapter",
        name,
        spec,
        "--once",
        "--batch-size",
        str(batch),
    ]


def wait_for(
    condition: Callable[[], bool], process: object, what: str, timeout: float = 60.0
) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert getattr(process, "poll")() is None, f"the adapter ended before {what}"  # noqa: B009
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.005)


def kill_mid_run(argv: Sequence[str], env: dict[str, str], checkpoint: Path, log: Path) -> None:
    """Start the adapter, let it store its first checkpoint(s), then SIGKILL it while it is
    still publishing (between one acknowledged checkpoint and the next)."""
    with popen(argv, env, log) as process:
        wait_for(checkpoint.exists, process, "the first checkpoint")
        time.sleep(random.uniform(0.0, 0.15))
        assert process.poll() is None, "the adapter finished before it could be killed"
        assert stop(process, signal.SIGKILL, grace=10) == -signal.SIGKILL


def run_to_end(argv: Sequence[str], env: dict[str, str], log: Path) -> None:
    with popen(argv, env, log) as process:
        code = process.wait(120)
    assert code == 0, log.read_text()[-3000:]


def assert_exactly(messages: list[Message], expected: set[str]) -> None:
    copies: dict[str, list[bytes]] = defaultdict(list)
    for m in messages:
        copies[m.record["id"]].append(m.value)
    assert set(copies) == expected  # nothing lost, nothing foreign
    for values in copies.values():
        assert len(set(values)) == 1  # duplicates are the same event
    assert len(messages) >= len(expected)


def expected_ids(name: str, spec: str, settings: Settings) -> set[str]:
    source = open_source(name, spec, settings, pseudonymiser=Pseudonymiser(KEY))
    try:
        return {str(r.event["id"]) for r in source.records({}) if r.event is not None}
    finally:
        source.close()


def crash_and_restart(name: str, spec: str, settings: Settings, tmp_path: Path, count: int) -> None:
    env = cli_env(settings)
    checkpoint = settings.data_dir / "checkpoints" / f"{name}.json"
    log = tmp_path / f"{name}.log"
    kill_mid_run(adapter_cmd(name, spec), env, checkpoint, log)
    stored = checkpoint.read_text()
    run_to_end(adapter_cmd(name, spec), env, log)
    assert checkpoint.read_text() != stored  # the restart continued where it was killed
    expected = expected_ids(name, spec, settings)
    assert len(expected) == count
    prefix = f"urn:nld:oin:{settings.oin}:"
    assert_exactly(events_of(settings.kafka_bootstrap or "", TOPICS[name], prefix), expected)


def test_kill_sociale_dienst(adapter_settings: Settings, tmp_path: Path) -> None:
    path = write_sociale_dienst(tmp_path / "export.csv", 3000)
    crash_and_restart("sociale-dienst", str(path), adapter_settings, tmp_path, 3000)


def test_kill_vroegsignalering(adapter_settings: Settings, tmp_path: Path) -> None:
    signalen, acties = write_vroegsignalering(tmp_path, 3000)
    crash_and_restart("vroegsignalering", f"{signalen},{acties}", adapter_settings, tmp_path, 3000)


def test_kill_iwmo(adapter_settings: Settings, tmp_path: Path) -> None:
    directory = write_iwmo(tmp_path / "iwmo", 3000, per_file=7)
    crash_and_restart("iwmo", str(directory), adapter_settings, tmp_path, 3000)


def test_kill_wijkteam_bulk(adapter_settings: Settings, tmp_path: Path) -> None:
    source = f"urn:nld:oin:{adapter_settings.oin}:systeem:wijkteam"
    path = write_jsonlines(tmp_path / "events.jsonl", wijkteam_events(3000, source))
    crash_and_restart("wijkteam", str(path), adapter_settings, tmp_path, 3000)


def test_kill_outbox_poller(adapter_settings: Settings, tmp_path: Path, outbox_db: str) -> None:
    source = f"urn:nld:oin:{adapter_settings.oin}:systeem:wmo-zaaksysteem"
    events = list(outbox_events(3000, source))
    insert_rows(outbox_db, events)
    env = cli_env(adapter_settings)
    checkpoint = adapter_settings.data_dir / "checkpoints" / "outbox.json"
    log = tmp_path / "outbox.log"
    kill_mid_run(adapter_cmd("outbox", outbox_db), env, checkpoint, log)
    killed_at = json.loads(checkpoint.read_text())["last_id"]
    assert 0 < killed_at < 3000
    run_to_end(adapter_cmd("outbox", outbox_db), env, log)
    assert json.loads(checkpoint.read_text()) == {"last_id": 3000}
    messages = events_of(adapter_settings.kafka_bootstrap or "", TOPICS["outbox"], source)
    assert_exactly(messages, {e["id"] for e in events})


def test_a_database_crash_is_waited_out(
    adapter_settings: Settings, tmp_path: Path, outbox_db: str, postgres: PostgresServer
) -> None:
    """The source system's PostgreSQL is killed (``pg_ctl stop -m immediate``) while a
    continuous outbox adapter reads it, and started again: the adapter waits the outage out
    (``adapter.outage``, never a quarantine line, never the DSN's password), reconnects, and
    publishes every row committed before and after the crash — across the gap of up to 32 ids
    a sequence skips in crash recovery."""
    source = f"urn:nld:oin:{adapter_settings.oin}:systeem:wmo-zaaksysteem"
    events = list(outbox_events(3000, source))
    insert_rows(outbox_db, events[:2000])
    dsn = outbox_db + " password=geheim-wachtwoord"  # trust auth ignores it; never shown
    checkpoint = adapter_settings.data_dir / "checkpoints" / "outbox.json"
    log = tmp_path / "outbox.log"
    argv = [*adapter_cmd("outbox", dsn)[:-3], "--interval", "0.2", "--batch-size", "10"]
    assert "--once" not in argv
    try:
        with popen(argv, cli_env(adapter_settings), log) as process:
            wait_for(checkpoint.exists, process, "the first checkpoint")
            postgres.crash()
            wait_for(lambda: log.read_text().count("adapter.outage") >= 2, process, "2 outages")
            postgres.start()
            insert_rows(outbox_db, events[2000:])
            wait_for(
                lambda: json.loads(checkpoint.read_text())["last_id"] > 3000,
                process,
                "the rows inserted after the restart",
                timeout=120,
            )
            assert stop(process, signal.SIGTERM, grace=30) == 0
    finally:
        if not postgres.running():
            postgres.start()  # the other tests of this process share the server
    output = log.read_text()
    assert "adapter.outage" in output and "outbox" in output
    assert "geheim-wachtwoord" not in output and "Traceback" not in output
    assert "stopped before the broker acknowledged" not in output  # the stop is no outage
    assert not list((adapter_settings.data_dir / "quarantaine").glob("*"))
    messages = events_of(adapter_settings.kafka_bootstrap or "", TOPICS["outbox"], source)
    assert_exactly(messages, {e["id"] for e in events})


def test_kill_webhook_server(adapter_settings: Settings, tmp_path: Path) -> None:
    """Senders retry until 202; the server is killed -9 in the middle and restarted."""
    source = f"urn:nld:oin:{adapter_settings.oin}:systeem:wijkteam"
    port = free_port()
    env = cli_env(
        adapter_settings, SCHAKEL_WEBHOOK_TOKENS=f"{source}=tok", SCHAKEL_WEBHOOK_PORT=str(port)
    )
    argv = [
        sys.executable,
        "-m",
        "schakel",
        "adapter",
        "wijkteam",
        "--serve",
        "--host",
        "127.0.0.1",
    ]
    events = list(wijkteam_events(200, source))
    accepted: list[str] = []
    done = threading.Event()

    def post(event: dict[str, object]) -> int:
        body = json.dumps(event).encode()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            conn.request(
                "POST",
                "/events",
                body=body,
                headers={
                    "Content-Type": "application/cloudevents+json",
                    "Authorization": "Bearer tok",
                },
            )
            return conn.getresponse().status
        except OSError:
            return 0  # no answer: not confirmed, retry
        finally:
            conn.close()

    def sender() -> None:
        for event in events:
            while post(event) != 202:
                time.sleep(0.02)
            accepted.append(str(event["id"]))
        done.set()

    log = tmp_path / "webhook.log"
    thread = threading.Thread(target=sender, daemon=True)
    with popen(argv, env, log) as first:
        thread.start()
        wait_for(lambda: len(accepted) >= 40, first, "40 accepted events")
        time.sleep(random.uniform(0.0, 0.05))
        assert stop(first, signal.SIGKILL, grace=10) == -signal.SIGKILL
    confirmed_before_kill = set(accepted)
    with popen(argv, env, log) as second:
        assert done.wait(120), "the senders did not get every event accepted after the restart"
        assert stop(second, grace=20) == 0
    messages = events_of(adapter_settings.kafka_bootstrap or "", TOPICS["wijkteam"], source)
    on_topic = {m.record["id"] for m in messages}
    assert confirmed_before_kill <= on_topic  # every 202 was durable
    assert_exactly(messages, {str(e["id"]) for e in events})
