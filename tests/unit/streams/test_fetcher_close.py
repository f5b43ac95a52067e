"""streams/fetcher_close.py: aiokafka's ``Fetcher.close`` awaits the tasks it cancelled with
their own cancellation caught (a fetch request asleep in its retry backoff ended the close with
``CancelledError`` before), while a cancellation of the closing task itself still propagates.
The worker end to end, its broker gone: tests/integration/streams/test_worker_stop.py."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest
from aiokafka.consumer.fetcher import Fetcher

from streams.fetcher_close import _closed, _reaped, close_fetcher_cleanly


def test_the_correction_is_installed_once() -> None:
    close_fetcher_cleanly()
    close_fetcher_cleanly()
    assert Fetcher.close is _closed


def test_a_close_with_a_request_asleep_in_its_backoff_ends_cleanly() -> None:
    async def run() -> tuple[list[bool], bool]:
        sleeping = [asyncio.ensure_future(asyncio.sleep(60)) for _ in range(2)]
        notified: list[bool] = []
        fetcher = SimpleNamespace(
            _closed=False,
            _fetch_task=asyncio.ensure_future(asyncio.sleep(60)),
            _fetch_waiters={object()},
            _notify=lambda waiter: notified.append(True),
            _pending_tasks=set(sleeping),
        )
        await asyncio.sleep(0)  # the tasks are asleep
        await _closed(fetcher)
        return notified, all(task.cancelled() for task in sleeping) and fetcher._closed

    notified, done = asyncio.run(run())
    assert notified == [True] and done


def test_a_cancellation_of_the_closing_task_itself_propagates() -> None:
    async def run() -> None:
        pending = asyncio.ensure_future(asyncio.sleep(60))

        async def closing() -> None:
            pending.cancel()
            await _reaped(pending)  # its own cancellation: caught
            await _reaped(asyncio.ensure_future(asyncio.sleep(60)))  # cancelled from outside

        task = asyncio.ensure_future(closing())
        await asyncio.sleep(0.01)
        task.cancel()
        await task

    with pytest.raises(asyncio.CancelledError):
        asyncio.run(run())
