"""A worker whose producer (or its buffer) crashed stops with exit code 70 instead of
stalling with ``/ready`` 200 (streams/watchdog.py). The services here are real ``mode``
services crashed the way Faust's are (``Service.crash``), so the check reads what Faust
sets, not a stand-in's attributes."""

from __future__ import annotations

import asyncio
import logging

import pytest
from mode import Service

from streams.watchdog import EXIT_PRODUCER_CRASHED, check, crash_of


class Buffer(Service):  # type: ignore[misc]  # mode is untyped here
    pass


class Producer(Service):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__()
        self.buffer = Buffer()


def crashed(service: Service, error: BaseException) -> None:
    asyncio.run(service.crash(error))


def test_a_running_producer_is_left_alone() -> None:
    stops: list[int] = []
    check(Producer(), stops.append)
    assert stops == []


@pytest.mark.parametrize("which", ["buffer", "producer"])
def test_a_crashed_producer_or_buffer_stops_the_worker(
    which: str, caplog: pytest.LogCaptureFixture
) -> None:
    producer = Producer()
    error = ValueError("MessageSizeTooLargeError: record of 999990111 bytes")
    crashed(producer.buffer if which == "buffer" else producer, error)
    assert crash_of(producer) is error
    stops: list[int] = []
    with caplog.at_level(logging.CRITICAL, logger="schakel.streams"):
        check(producer, stops.append)
    assert stops == [EXIT_PRODUCER_CRASHED] == [70]
    (record,) = [r for r in caplog.records if r.getMessage() == "worker.producer_crashed"]
    assert record.__dict__["error"] == "ValueError"
    ours = [r for r in caplog.records if r.name == "schakel.streams"]
    assert all("999990111" not in str(r.__dict__) for r in ours)  # the class, not the message


def test_something_that_is_not_a_service_is_never_taken_for_crashed() -> None:
    assert crash_of(object()) is None
    assert crash_of(None) is None
