"""A continuous adapter or the webhook started while the broker is down waits for it.

Before, creating the producer gave up after kafka-python's 30 s bootstrap timeout and the
process exited 75: in Kubernetes or systemd a restart loop with back-off, and a webhook that
refused connections instead of answering 503. Now it starts, keeps ``/metrics`` (the webhook
``/health`` and ``/ready``, 503 until its own check finds the broker), retries with the
runner's back-off and publishes everything exactly once when the broker comes, nothing
quarantined; SIGTERM during the wait ends it at once with exit code 0. ``--once`` and
``publish`` keep exiting 75 (``tests/e2e/test_unreachable_broker.py``)."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from schakel.broker import EmbeddedBroker, free_port
from schakel.topics import ensure_topics
from tests.integration.adapters.conftest import KEY
from tests.integration.adapters.test_outage import (
    BSNS,
    SOURCE,
    TOKEN,
    casus,
    ids_on_topic,
    quarantined,
    request,
    wait_ready,
    write_events,
)
from tests.processes import start, stop, stopping

KAFKA_BOOTSTRAP_TIMEOUT_S = 30.0
"""kafka-python's default ``bootstrap_timeout_ms``: when a continuous adapter gave up before."""
PAST_THE_OLD_GIVE_UP_S = KAFKA_BOOTSTRAP_TIMEOUT_S + 5.0
STOPPED_WITHIN_S = 10.0
"""SIGTERM during the wait: a producer attempt under way takes at most 5 s
(``RENEW_BOOTSTRAP_MS``), then the process ends."""


@pytest.fixture
def later() -> Iterator[EmbeddedBroker]:
    """An embedded broker on a port of its own, not started: the test starts it."""
    broker = EmbeddedBroker(free_port())
    try:
        yield broker
    finally:
        broker.stop()


def start_broker(broker: EmbeddedBroker) -> None:
    broker.start()
    ensure_topics(broker.bootstrap, partitions=2)


def variables(broker: EmbeddedBroker, data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCHAKEL_")}
    return {
        **env,
        "SCHAKEL_KAFKA_BOOTSTRAP": broker.bootstrap,
        "SCHAKEL_PSEUDONYM_KEY": KEY,
        "SCHAKEL_DATA_DIR": str(data_dir),
        "SCHAKEL_METRICS_PORT": "0",
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


def answers(port: int, path: str) -> int | None:
    """The status of ``GET path`` on ``port``, or ``None`` when nothing answers."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


def wait_until(condition: Callable[[], bool], process: Any, log: Path, within: float) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert process.poll() is None, log.read_text()[-3000:]
        assert time.monotonic() < deadline, log.read_text()[-3000:]
        time.sleep(0.2)


def stays_up(process: Any, log: Path, until: float, check: Callable[[], None]) -> None:
    """Assert ``process`` runs and ``check`` passes until the monotonic time ``until``."""
    while time.monotonic() < until:
        assert process.poll() is None, log.read_text()[-3000:]
        check()
        time.sleep(0.5)


def adapter_argv(events: Path) -> list[str]:
    return [sys.executable, "-m", "schakel", "adapter", "wijkteam", str(events), "--interval=0.5"]


def webhook_argv(port: int) -> list[str]:
    return [sys.executable, "-m", "schakel", "adapter", "wijkteam", "--serve", "--port", str(port)]


def test_a_continuous_adapter_waits_for_a_broker_that_is_not_there_yet(
    later: EmbeddedBroker, tmp_path: Path
) -> None:
    events = write_events(tmp_path / "casussen.jsonl")
    metrics = free_port()
    log = tmp_path / "adapter.log"
    env = variables(later, tmp_path / "var", SCHAKEL_METRICS_PORT=str(metrics))
    with stopping(start(adapter_argv(events), log, env=env)) as process:
        wait_until(lambda: answers(metrics, "/metrics") == 200, process, log, within=30)
        began = time.monotonic()  # before: exit 75 some 30 s from here
        wait_until(lambda: "adapter.outage" in log.read_text(), process, log, within=40)

        def serves_metrics() -> None:
            assert answers(metrics, "/metrics") == 200

        stays_up(process, log, began + PAST_THE_OLD_GIVE_UP_S, serves_metrics)
        start_broker(later)
        checkpoint = tmp_path / "var" / "checkpoints" / "wijkteam.json"
        wait_until(checkpoint.exists, process, log, within=60)
        assert stop(process, signal.SIGTERM, grace=30) == 0, log.read_text()[-3000:]
    assert ids_on_topic(later.bootstrap) == ["casus-1", "casus-2", "casus-3"]  # each once
    assert quarantined(tmp_path / "var") == []
    text = log.read_text()
    assert "Traceback" not in text and "run again when" not in text
    assert not any(bsn in text for bsn in BSNS)


def test_the_webhook_waits_for_a_broker_that_is_not_there_yet(
    later: EmbeddedBroker, tmp_path: Path
) -> None:
    port = free_port()
    log = tmp_path / "webhook.log"
    env = variables(later, tmp_path / "var", SCHAKEL_WEBHOOK_TOKENS=f"{SOURCE}={TOKEN}")
    with stopping(start(webhook_argv(port), log, env=env)) as process:
        wait_until(lambda: answers(port, "/health") == 200, process, log, within=40)
        began = time.monotonic()
        assert answers(port, "/ready") == 503  # not ready without a broker
        assert answers(port, "/metrics") == 200
        body = json.dumps(casus(1, BSNS[0], SOURCE)).encode()
        status, retry_after, answer = request(port, "POST", "/events", body)
        assert (status, retry_after, answer["error"]) == (503, "5", "unavailable")

        def unready() -> None:
            assert answers(port, "/ready") == 503

        stays_up(process, log, began + PAST_THE_OLD_GIVE_UP_S, unready)
        start_broker(later)
        wait_ready(port, log, within=30)  # its own check, no request in between
        status, _, answer = request(port, "POST", "/events", body)  # the sender retries
        assert (status, answer["duplicate"]) == (202, False)
        assert stop(process, signal.SIGTERM, grace=30) == 0, log.read_text()[-3000:]
    assert ids_on_topic(later.bootstrap) == ["casus-1"]
    assert quarantined(tmp_path / "var") == []
    text = log.read_text()
    assert text.count("adapter.webhook_unavailable") == 1, text
    assert text.count("adapter.webhook_available") == 1, text
    assert "Traceback" not in text


@pytest.mark.parametrize("kind", ["adapter", "webhook"])
def test_sigterm_while_waiting_for_the_broker_ends_at_once(
    kind: str, later: EmbeddedBroker, tmp_path: Path
) -> None:
    log = tmp_path / f"{kind}.log"
    port = free_port()
    if kind == "adapter":
        argv = adapter_argv(write_events(tmp_path / "casussen.jsonl"))
        env = variables(later, tmp_path / "var")
        waiting = "adapter.outage"
    else:
        argv = webhook_argv(port)
        env = variables(later, tmp_path / "var", SCHAKEL_WEBHOOK_TOKENS=f"{SOURCE}={TOKEN}")
        waiting = "adapter.webhook_unavailable"
    with stopping(start(argv, log, env=env)) as process:
        wait_until(lambda: waiting in log.read_text(), process, log, within=40)
        begun = time.monotonic()
        assert stop(process, signal.SIGTERM, grace=30) == 0, log.read_text()[-3000:]
        assert time.monotonic() - begun < STOPPED_WITHIN_S
    assert quarantined(tmp_path / "var") == []
    assert "Traceback" not in log.read_text()
