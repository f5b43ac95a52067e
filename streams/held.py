"""Signal events held back until the state that tells them is on the changelog (at least
once, the embedded broker).

Why: at least once, a crash loses the outputs since the last commit and the records are
delivered again — each topic from its own committed offset, so not necessarily in the order of
before. A signal event sent before the changelog write of the state that raised it could then
be left standing on the topic: the new state never knew it, and the facts, taken in another
order, may never raise it again (the kill tests saw it). So the worker hands a step's state to
the changelog at once and its signal events wait here until the broker acknowledged that write
(:meth:`streams.processor.Processor._send`); the record itself does not wait, and the next one
is processed meanwhile.

Contract:

- held releases run one at a time, in the order held: a citizen's signal events reach the
  producer in the order the worker decided them;
- :meth:`HeldSignals.released` returns once everything held before the call was handed to the
  producer. The offset commit awaits it after it chose its offsets
  (:mod:`streams.transactions`), so no offset is committed before the signal events of the
  records before it were handed over;
- a release that fails (not an outage: those the release waits out itself) is a defect: it
  is logged, nothing held after it is released, and every later :meth:`released` raises it —
  the commit then crashes the worker, which restarts from its last commit;
- at most :data:`MAX_HELD` releases wait: :meth:`room` holds the agent back beyond that.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections import deque
from collections.abc import Awaitable, Callable

log = logging.getLogger("schakel.streams")

MAX_HELD = 1000
"""Releases that may wait before the agent waits for room (a broker outage: the records stop
there as they would at a send)."""

Release = Callable[[], Awaitable[None]]


class HeldSignals:
    """A queue of releases (module docstring), run in order by one task of its own."""

    def __init__(self, limit: int = MAX_HELD) -> None:
        self.limit = limit
        self._queue: deque[tuple[Release, asyncio.Future[None]]] = deque()
        self._task: asyncio.Task[None] | None = None
        self._failed: Exception | None = None

    @property
    def pending(self) -> bool:
        """Whether a release is still waiting (or failed)."""
        return bool(self._queue) or self._failed is not None

    def hold(self, release: Release) -> None:
        """Run ``release`` after every release held before it (it waits for the state's
        acknowledgement and hands the signal events over). Synchronous: the step is complete
        when this returns, whatever cancels the caller afterwards."""
        loop = asyncio.get_running_loop()
        self._queue.append((release, loop.create_future()))
        if self._failed is None and (self._task is None or self._task.done()):
            # its own context: not the record's (Faust's current event) it was started from
            self._task = loop.create_task(self._run(), context=contextvars.Context())

    async def room(self) -> None:
        """Wait while more than :attr:`limit` releases wait."""
        while len(self._queue) > self.limit and self._failed is None:
            await asyncio.wait({self._queue[0][1]})

    async def released(self) -> None:
        """Return once every release held before this call is done; raise the failure of one
        (module docstring)."""
        await self.settled()
        if self._failed is not None:
            raise self._failed

    async def settled(self) -> None:
        """Return once every release held before this call is done or failed (raises only if
        the caller is cancelled)."""
        if self._queue and self._failed is None:
            await asyncio.wait({self._queue[-1][1]})

    async def _run(self) -> None:
        while self._queue:
            release, done = self._queue[0]
            try:
                await release()
            except asyncio.CancelledError:  # the loop ends: what waits is not handed over
                self._failed = RuntimeError("signal events held back were never handed over")
                for _, each in self._queue:
                    each.cancel()
                self._queue.clear()
                raise
            except Exception as exc:
                log.exception("worker.signal_release_failed")
                self._failed = exc
                for _, each in self._queue:
                    each.set_exception(exc)
                    each.exception()  # retrieved: :meth:`released` raises it
                self._queue.clear()
                return
            self._queue.popleft()
            done.set_result(None)
