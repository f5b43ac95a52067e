"""``schakel replay``'s wait for the worker: a broker that stalls while the end offsets are
asked (``EndOffsetsUnconfirmed``) means "not drained yet", not the end of the replay."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from kafka import TopicPartition

from schakel import replay
from streams.offsets import EndOffsetsUnconfirmed


def test_an_unconfirmed_end_is_asked_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    answers: list[Any] = [EndOffsetsUnconfirmed([TopicPartition("t", 0)], 5.0), {}]

    def behind(*_: Any, **__: Any) -> dict[Any, Any]:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        drained: dict[Any, Any] = answer
        return drained

    monkeypatch.setattr(replay, "_behind", behind)
    worker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        replay.wait_drained("127.0.0.1:1", ["t"], worker, tmp_path / "log", timeout=20)
    finally:
        worker.kill()
        worker.wait()
    assert answers == []  # asked twice: the stall did not end the wait
