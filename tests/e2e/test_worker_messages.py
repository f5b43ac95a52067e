"""``schakel worker`` tells the operator what it does (issue 13 item 5): against an unreachable
broker one line and exit 75 (no traceback); on a running broker, at INFO, where it serves and
when it is ready. Every line it writes, Faust's and the Kafka client's included, is one JSON
object (``SCHAKEL_LOG_FORMAT=json``, the default), without terminal escapes."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from schakel.broker import EmbeddedBroker, free_port
from tests.cli import run_cli
from tests.integration.streams.helpers import WorkerProcess


def test_an_unreachable_broker_is_one_line_and_exit_75(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCHAKEL_")}
    env.update({"SCHAKEL_DATA_DIR": str(tmp_path), "SCHAKEL_KAFKA_BOOTSTRAP": "127.0.0.1:1"})
    # its API port is checked first (exit 2 if taken): not the default, which a demo may hold
    env["SCHAKEL_WEB_PORT"] = str(free_port())
    result = run_cli("worker", env=env, timeout=120)
    assert result.returncode == 75, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("schakel: BrokerUnreachable: Kafka at 127.0.0.1:1 did not answer")


def test_the_worker_says_where_it_serves_and_when_it_is_ready(
    fresh_broker: EmbeddedBroker, tmp_path: Path
) -> None:
    worker = WorkerProcess(fresh_broker.bootstrap, tmp_path).start()
    try:
        deadline = time.monotonic() + 30
        while "worker.ready" not in worker.log.read_text() and time.monotonic() < deadline:
            time.sleep(0.5)
    finally:
        worker.stop()
    text = worker.log.read_text()
    assert "\x1b" not in text  # no terminal spinner
    for line in text.splitlines():
        entry = json.loads(line)
        assert {"time", "level", "logger", "event"} <= set(entry), line
    starting = next(line for line in text.splitlines() if '"worker.starting"' in line)
    assert '"level": "info"' in starting and f"127.0.0.1:{worker.port}" in starting
    ready = next(line for line in text.splitlines() if '"worker.ready"' in line)
    assert f"127.0.0.1:{worker.port}/ready" in ready
