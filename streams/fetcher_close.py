"""Correction to aiokafka 0.14's ``Fetcher.close`` (every profile): its own cancelled tasks
end the close, not the consumer.

A worker stopped while its broker was gone hung for 60 s: ``Fetcher.close`` cancels the
fetch task and its pending fetch requests and awaits them, but only the fetch task's
``CancelledError`` is caught. A fetch request that was sleeping its retry backoff after a
failed request (``NodeNotReadyError``) raises ``CancelledError`` out of ``close``, through
``AIOKafkaConsumer.stop``, and ends Faust's consumer thread before it reports itself shut
down: mode waits its ``shutdown_timeout`` (60 s) for that report, and a raw traceback (not a
JSON log line) goes to stderr. :func:`close_fetcher_cleanly` makes ``close`` await each
pending task it cancelled with that task's own ``CancelledError`` caught — not one aimed at
the closing task itself (:meth:`asyncio.Task.cancelling`), which still propagates.
The stop deadline (``schakel/stop_deadline.py``) still bounds whatever else may hang."""

from __future__ import annotations

import asyncio
from typing import Any


async def _closed(self: Any) -> None:
    """``Fetcher.close`` of aiokafka 0.14, with the pending tasks' cancellation caught."""
    self._closed = True
    self._fetch_task.cancel()
    await _reaped(self._fetch_task)
    for waiter in self._fetch_waiters:  # fail all pending fetchone/fetchall calls
        self._notify(waiter)
    for task in self._pending_tasks:
        task.cancel()
        await _reaped(task)


async def _reaped(task: asyncio.Future[Any]) -> None:
    """Await ``task``, which was just cancelled: its ``CancelledError`` is the expected end;
    one aimed at the task running this (being cancelled itself) is raised."""
    try:
        await task
    except asyncio.CancelledError:
        current = asyncio.current_task()
        if current is not None and current.cancelling():
            raise


def close_fetcher_cleanly() -> None:
    """Install the correction (idempotent)."""
    from aiokafka.consumer.fetcher import Fetcher

    if getattr(Fetcher, "_schakel_close_cleanly", False):
        return
    Fetcher.close = _closed
    Fetcher._schakel_close_cleanly = True
