"""A one-shot command pointed at an address where no Kafka listens fails soon and says so: one
line ``schakel: BrokerUnreachable: Kafka at …``, exit 75, no traceback, within
:data:`schakel.wiring.CONNECT_WAIT_S` (5 s) plus the start of Python (kafka-python's own wait
was 30 s, and ``dlq`` and ``forget`` ended in a traceback with exit 1). ``schakel worker``:
tests/e2e/test_worker_messages.py."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tests.cli import ROOT, run_cli

CLOSED = "127.0.0.1:1"
EVENTS = str(ROOT / "samples" / "wijkteam" / "events.jsonl")
EXPORT = str(ROOT / "samples" / "sociale-dienst" / "export.csv")
BOUND_S = 20.0
"""``CONNECT_WAIT_S`` (5 s) plus 15 s for starting Python and the command on a busy machine."""

COMMANDS = {
    "publish": ["publish", EVENTS],
    "adapter-once": ["adapter", "sociale-dienst", EXPORT, "--once"],
    "dlq-list": ["dlq", "list"],
    "dlq-show": ["dlq", "show", "0123456789ab"],
    "dlq-replay": ["dlq", "replay"],
    "forget": ["forget", "--bsn-file", "{bsns}"],
    "replay-bootstrap": ["replay", EVENTS, "--bootstrap", CLOSED],
}


@pytest.mark.parametrize("name", list(COMMANDS))
def test_a_one_shot_command_fails_soon_in_one_line(name: str, tmp_path: Path) -> None:
    bsns = tmp_path / "bsns.txt"
    bsns.write_text("111222333\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCHAKEL_")}
    env.update(
        {
            "SCHAKEL_DATA_DIR": str(tmp_path / "data"),
            "SCHAKEL_PSEUDONYM_KEY": "test-key-0123456789abcdef0123456789",
            **({} if name == "replay-bootstrap" else {"SCHAKEL_KAFKA_BOOTSTRAP": CLOSED}),
        }
    )
    args = [a.format(bsns=bsns) for a in COMMANDS[name]]
    started = time.monotonic()
    result = run_cli(*args, env=env, timeout=120)
    took = time.monotonic() - started
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    assert result.returncode == 75, result.stderr[-2000:]
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"schakel: BrokerUnreachable: Kafka at {CLOSED} did not answer"), last
    assert took < BOUND_S, f"{name} took {took:.1f}s"
