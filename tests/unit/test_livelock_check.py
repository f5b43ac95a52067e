"""Faust's livelock check on a partition without a fetch position (awaiting its first seek or
an offset reset): skipped instead of crashing the worker with aiokafka's AssertionError."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest
from aiokafka.consumer.subscription_state import TopicPartitionState
from aiokafka.structs import TopicPartition
from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread
from faust.types import TP

from streams.recovery import _verify_only_positioned_partitions

TOPIC_PARTITION = TP("schakel.wmo.events", 2)


def _thread(state: TopicPartitionState, checked: list[Any]) -> Any:
    """What ``verify_event_path`` reads of a consumer thread, around one partition state."""
    assignment = SimpleNamespace(
        state_value=lambda tp: state if tp == TopicPartition("schakel.wmo.events", 2) else None
    )
    consumer = SimpleNamespace(
        _fetcher=SimpleNamespace(
            _subscriptions=SimpleNamespace(subscription=SimpleNamespace(assignment=assignment))
        )
    )
    app = SimpleNamespace(
        monitor=SimpleNamespace(stream_inbound_time={}),
        topics=SimpleNamespace(acks_enabled_for=lambda topic: True),
    )

    def aiokafka_path(now: float, tp: Any) -> bool:
        checked.append(tp)
        return False  # nothing logged: Faust goes on with its own checks

    return SimpleNamespace(
        _ensure_consumer=lambda: consumer,
        _verify_aiokafka_event_path=aiokafka_path,
        consumer=SimpleNamespace(app=app),
        time_started=0.0,
        tp_stream_timeout_secs=300.0,
        log=SimpleNamespace(error=lambda *a, **k: None),
        _log_slow_processing_stream=lambda *a, **k: None,
    )


class _Thread(AIOKafkaConsumerThread):  # type: ignore[misc]
    """A class of its own to patch (the test does not depend on what the app installed)."""


_verify_only_positioned_partitions(_Thread)


def _state() -> TopicPartitionState:
    """A partition state as aiokafka makes it (it needs a running event loop)."""

    async def make() -> TopicPartitionState:
        return TopicPartitionState(assignment=None)

    return asyncio.run(make())


def test_a_partition_awaiting_its_position_is_skipped() -> None:
    state = _state()
    state.highwater = 120  # fetched before: a reset after an out-of-range fetch, say
    with pytest.raises(AssertionError):
        _ = state.position  # what Faust's check reads: this crashed the worker
    checked: list[Any] = []
    assert _Thread.verify_event_path(_thread(state, checked), 10.0, TOPIC_PARTITION) is None
    assert checked == []  # not checked at all


def test_a_partition_with_a_position_is_checked_as_before() -> None:
    state = _state()
    state.highwater = 120
    state.seek(100)
    checked: list[Any] = []
    _Thread.verify_event_path(_thread(state, checked), 10.0, TOPIC_PARTITION)
    assert checked == [TOPIC_PARTITION]  # Faust's own check ran
