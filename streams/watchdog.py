"""A worker whose producer failed for good stops, instead of stalling while it says it is ready.

Faust sends every output through its producer's buffer, a background service: an exception
there (aiokafka's own refusal of a record, a fatal producer error) crashes that service and
nothing else. The worker then goes on consuming, hands records to a buffer no one empties,
commits nothing more on any partition — and ``/ready`` and ``/health`` still answer 200
(reproduced with a state larger than the producer's request limit, before
:mod:`streams.sizes` refused such events). Nothing of the stall is lost (nothing was
committed), but nothing moves either, and nobody is told.

:func:`watch_producer` checks the producer and its buffer every :data:`CHECK_INTERVAL_S`; once
either has crashed it logs ``worker.producer_crashed`` (the error's class) and ends the process
with :data:`EXIT_PRODUCER_CRASHED` at once — no graceful stop, which would wait on the dead
buffer. That is a kill as far as Kafka is concerned: under exactly-once the open transaction
is aborted, at least once the records since the last commit are read again; the restarted
worker (the orchestrator's restart policy) goes on from the last commit with a new producer.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

log = logging.getLogger("schakel.streams")

CHECK_INTERVAL_S = 1.0
"""How often the producer is checked."""
EXIT_PRODUCER_CRASHED = 70
"""Exit code of a worker whose producer crashed (``EX_SOFTWARE``)."""


def crash_of(producer: Any) -> BaseException | None:
    """Why ``producer`` (Faust's) or its buffer crashed; ``None`` while both run."""
    for service in (producer, getattr(producer, "buffer", None)):
        crashed = getattr(service, "_crashed", None)
        if crashed is not None and crashed.is_set():
            reason: BaseException | None = getattr(service, "crash_reason", None)
            return reason or RuntimeError(f"{type(service).__name__} crashed")
    return None


def check(producer: Any, stop: Callable[[int], object]) -> None:
    """Stop with :data:`EXIT_PRODUCER_CRASHED` (``stop``: :func:`os._exit`) if ``producer``
    crashed (:func:`crash_of`), after logging ``worker.producer_crashed``."""
    reason = crash_of(producer)
    if reason is None:
        return
    log.critical(
        "worker.producer_crashed",
        extra={"error": type(reason).__name__, "exit": EXIT_PRODUCER_CRASHED},
    )
    for handler in logging.getLogger().handlers:
        handler.flush()
    stop(EXIT_PRODUCER_CRASHED)


def watch_producer(app: Any, stop: Callable[[int], object] = os._exit) -> None:
    """Register the check on ``app`` (a Faust app), every :data:`CHECK_INTERVAL_S`."""

    @app.timer(interval=CHECK_INTERVAL_S)  # type: ignore[untyped-decorator]  # Faust is untyped
    async def producer_alive() -> None:
        check(app.producer, stop)
