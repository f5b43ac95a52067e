"""streams/fetch_wait.py: the worker's consumer waits at most :data:`FETCH_MAX_WAIT_MS` for a
fetch, on both profiles (Tansu holds every fetch for its whole wait, Faust asks for 1.5 s). The
effect, measured: docs/benchmarks-history.md, "The fetch wait"."""

from __future__ import annotations

import asyncio
import inspect

import pytest
from aiokafka import AIOKafkaConsumer

from streams.fetch_wait import FETCH_MAX_WAIT_MS, ShortFetchThread
from streams.transactions import AtLeastOnceApp, TransactionalApp


def _fetch_wait(app_class: type) -> tuple[type, int]:
    """The consumer thread class and the fetch wait of the worker consumer ``app_class``
    creates (not started: no broker needed)."""

    async def build() -> tuple[type, int]:
        app = app_class(
            "test-fetch-wait", broker="kafka://127.0.0.1:1", autodiscover=False, web_enabled=False
        )
        thread = app.consumer._thread
        consumer = thread._create_worker_consumer(app.transport)
        try:
            return type(thread), consumer._fetch_max_wait_ms
        finally:
            await consumer.stop()
            thread.thread_loop.close()  # the consumer thread's own loop, never started

    return asyncio.run(build())


@pytest.mark.parametrize("app_class", [AtLeastOnceApp, TransactionalApp])
def test_the_worker_waits_briefly_for_a_fetch_on_every_profile(app_class: type) -> None:
    thread, wait = _fetch_wait(app_class)
    assert issubclass(thread, ShortFetchThread)
    assert wait == FETCH_MAX_WAIT_MS == 100


def test_aiokafka_takes_the_wait_from_the_attribute_set_when_it_starts() -> None:
    """The correction sets ``_fetch_max_wait_ms`` after Faust built the consumer: it works
    only while aiokafka reads it at ``start`` (a newer aiokafka may not: this fails then)."""
    assert "fetch_max_wait_ms=self._fetch_max_wait_ms" in inspect.getsource(AIOKafkaConsumer.start)
