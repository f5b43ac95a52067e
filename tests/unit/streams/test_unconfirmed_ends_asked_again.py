"""A stall of the embedded broker while an end offset is confirmed
(``EndOffsetsUnconfirmed``, 5 s per ask) is waited out where a whole run depends on it:
``ReadModel.catch_up`` (replay's and the demo's signals) asks again within its ``timeout``,
and the dead-letter reader asks with its own patience, not the probe's 5 s (a review: a 6 s
hiccup after a whole replay ended it with exit 75)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from kafka import TopicPartition

import schakel.dlq
from schemas.wire import DEFAULT_WIRE
from streams.offsets import EndOffsetsUnconfirmed
from streams.readmodel import ReadModel

TP = TopicPartition(DEFAULT_WIRE.tijdlijnen, 0)


class Consumer:
    def position(self, tp: TopicPartition) -> int:
        return 0

    def close(self) -> None:
        pass


def test_catch_up_asks_again_for_an_unconfirmed_end(monkeypatch: pytest.MonkeyPatch) -> None:
    model = ReadModel("127.0.0.1:1", None, DEFAULT_WIRE)  # type: ignore[arg-type]
    answers: list[Any] = [EndOffsetsUnconfirmed([TP], 5.0), {TP: 0}]

    def end(tps: list[TopicPartition]) -> dict[TopicPartition, int]:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        ends: dict[TopicPartition, int] = answer
        return ends

    monkeypatch.setattr(model, "_consumer", lambda: (Consumer(), [TP]))
    monkeypatch.setattr(model, "_end", end)
    assert model.catch_up(timeout=10) == 0
    assert answers == []


def test_catch_up_raises_an_end_unconfirmed_past_its_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    model = ReadModel("127.0.0.1:1", None, DEFAULT_WIRE)  # type: ignore[arg-type]

    def end(tps: list[TopicPartition]) -> dict[TopicPartition, int]:
        raise EndOffsetsUnconfirmed([TP], 5.0)

    monkeypatch.setattr(model, "_consumer", lambda: (Consumer(), [TP]))
    monkeypatch.setattr(model, "_end", end)
    with pytest.raises(EndOffsetsUnconfirmed):
        model.catch_up(timeout=0)


def test_the_dead_letter_reader_waits_with_its_own_patience(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked: list[float] = []

    class Reader:
        def partitions_for_topic(self, topic: str) -> set[int]:
            return {0}

        def close(self) -> None:
            pass

    def measure(consumer: Any, tps: Sequence[TopicPartition], timeout: float = 5.0) -> Any:
        asked.append(timeout)
        raise EndOffsetsUnconfirmed(list(tps), timeout)

    monkeypatch.setattr(schakel.dlq, "_consumer", lambda bootstrap, **_: Reader())
    monkeypatch.setattr(schakel.dlq, "true_end_offsets", measure)
    with pytest.raises(EndOffsetsUnconfirmed):
        schakel.dlq.ends("127.0.0.1:1", "schakel.deadletter.streams")
    assert asked == [schakel.dlq.READ_PATIENCE_S]
