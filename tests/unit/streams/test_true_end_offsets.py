"""``true_end_offsets`` confirms each reported end by reading the partition's last batch; a
partition whose batch the broker does not deliver in time is an error naming it, not its
reported end (short on the embedded broker) returned as if it were true."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from kafka import TopicPartition

from schemas.exceptions import TransientError
from streams import topicpage
from streams.offsets import EndOffsetsUnconfirmed, true_end_offsets
from streams.topicpage import TopicUnavailable, read_page

MOVING, STALLED, EMPTY = (TopicPartition("t", p) for p in range(3))


class Broker:
    """A consumer on a broker that reports every end as ``reported`` and, when polled,
    delivers the last batch (``batch`` records from the reported end − 1) of the partitions
    in ``delivers`` only."""

    def __init__(self, reported: Mapping[TopicPartition, int], delivers: set[TopicPartition]):
        self.reported = dict(reported)
        self.delivers = delivers
        self.positions: dict[TopicPartition, int] = {}
        self.polls = 0

    def end_offsets(self, tps: Sequence[TopicPartition]) -> dict[TopicPartition, int]:
        return {tp: self.reported[tp] for tp in tps}

    def assign(self, tps: Sequence[TopicPartition]) -> None:
        self.positions = dict.fromkeys(tps, 0)

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self.positions[tp] = offset

    def position(self, tp: TopicPartition) -> int:
        return self.positions[tp]

    def poll(self, **_: Any) -> dict[TopicPartition, list[Any]]:
        self.polls += 1
        for tp in self.delivers & self.positions.keys():
            self.positions[tp] = self.reported[tp] + 4  # a batch of five records
        return {}


def test_a_partition_whose_last_batch_is_read_gets_its_true_end() -> None:
    broker = Broker({MOVING: 2, EMPTY: 0}, {MOVING})
    found = true_end_offsets(broker, [MOVING, EMPTY])
    assert found == {MOVING: broker.reported[MOVING] + 4, EMPTY: 0}


def test_a_partition_the_broker_does_not_deliver_is_named_not_returned_short() -> None:
    """Before: after ``timeout`` the reported end (2, short) was returned as the end, and the
    caller read to it — a dead-letter count, a drain check or a recovery that stopped short
    without knowing."""
    broker = Broker({MOVING: 2, STALLED: 2, EMPTY: 0}, {MOVING})
    with pytest.raises(EndOffsetsUnconfirmed) as caught:
        true_end_offsets(broker, [MOVING, STALLED, EMPTY], timeout=0.3)
    assert isinstance(caught.value, TransientError)
    assert caught.value.partitions == [STALLED]
    assert "t:1" in str(caught.value) and "t:0" not in str(caught.value)
    assert broker.polls >= 1


def test_the_api_page_reader_answers_an_unconfirmed_end_as_a_topic_unavailable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The API answers :class:`TopicUnavailable` with 503 and anything else with 500: the
    page reader turns the unconfirmed end into the former."""

    class Consumer:
        def __init__(self, **_: Any) -> None:
            pass

        def partitions_for_topic(self, topic: str) -> set[int]:
            return {0}

        def beginning_offsets(self, tps: Sequence[TopicPartition]) -> dict[TopicPartition, int]:
            return dict.fromkeys(tps, 0)

        def close(self) -> None:
            pass

    def unconfirmed(consumer: Any, tps: Sequence[TopicPartition]) -> dict[TopicPartition, int]:
        raise EndOffsetsUnconfirmed(list(tps), 5.0)

    monkeypatch.setattr(topicpage, "KafkaConsumer", Consumer)
    monkeypatch.setattr(topicpage, "true_end_offsets", unconfirmed)
    with pytest.raises(TopicUnavailable, match=r"^schakel\.inzage: "):
        read_page("127.0.0.1:1", "schakel.inzage", 1, 10, committed=False)
