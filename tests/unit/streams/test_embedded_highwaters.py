"""The worker's table recovery on the embedded broker (``streams.embedded.highwaters``): an
end the broker does not confirm is asked again — in a thread, so the consumer thread's event
loop (its heartbeats) goes on — and raised only after ``RECOVERY_PATIENCE_S``. Before, one
stalled probe blocked the loop and its first ``EndOffsetsUnconfirmed`` crashed the worker
(exit 1) on a loaded machine."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from typing import Any

import pytest
from kafka import TopicPartition

import streams.embedded
from streams.offsets import EndOffsetsUnconfirmed

PARTITIONS = [TopicPartition("schakel-tijdlijn-changelog", 0)]


def test_an_unconfirmed_end_is_asked_again_off_the_event_loop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    threads: list[threading.Thread] = []
    answers: list[Any] = [EndOffsetsUnconfirmed(PARTITIONS, 5.0), {PARTITIONS[0]: 7}]

    def probe(bootstrap: str, partitions: Sequence[Any], measure: Any) -> Any:
        threads.append(threading.current_thread())
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    monkeypatch.setattr(streams.embedded, "probe_ends", probe)
    monkeypatch.setattr(streams.embedded, "RETRY_PAUSE_S", 0.01)
    ends = asyncio.run(streams.embedded.highwaters("127.0.0.1:1", PARTITIONS))
    assert ends == {PARTITIONS[0]: 7}
    assert len(threads) == 2 and threading.main_thread() not in threads


def test_an_end_unconfirmed_past_the_patience_is_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[int] = []

    def probe(bootstrap: str, partitions: Sequence[Any], measure: Any) -> Any:
        asked.append(1)
        raise EndOffsetsUnconfirmed(PARTITIONS, 5.0)

    monkeypatch.setattr(streams.embedded, "probe_ends", probe)
    monkeypatch.setattr(streams.embedded, "RETRY_PAUSE_S", 0.01)
    monkeypatch.setattr(streams.embedded, "RECOVERY_PATIENCE_S", 0.2)
    with pytest.raises(EndOffsetsUnconfirmed):
        asyncio.run(streams.embedded.highwaters("127.0.0.1:1", PARTITIONS))
    assert len(asked) > 1
