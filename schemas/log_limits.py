"""Log lines that must not flood the log: one event that anyone who reaches a port can cause at
the rate they send (no or an unknown token, a request the HTTP server cannot parse), or that
repeats on every request for as long as one condition lasts (a broker outage, a registry that
refuses the process), is logged as a :class:`RefusalLog`.

Contract: the first occurrence is logged at once; after it, at most one line every
:data:`REFUSAL_LOG_INTERVAL_S` seconds, the occurrences in between left out and counted. Each
line carries its own fields and ``weggelaten``: the occurrences since the line before that were
not logged (0 on the first). A flood costs a line a minute, not one a request; the occurrences
left out are counted in the next line, and in the metrics of whoever calls it, never lost
without a trace. Nothing is logged in the background: the count of a run that ended reaches
the log with the next occurrence. Time is :func:`time.monotonic`, read through
:func:`_monotonic` (tests replace it). Thread-safe.

Here, in the package both the workers (:mod:`streams`) and the adapters (:mod:`adapters`) may
import, so that both ports limit their lines alike.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

REFUSAL_LOG_INTERVAL_S = 60.0
"""Shortest time between two lines of one :class:`RefusalLog`."""


def _monotonic() -> float:
    return time.monotonic()


class RefusalLog:
    """The log line ``message`` of ``logger`` at ``level``, limited as the module docstring
    says: the first at once, then at most one every ``interval_s`` seconds, with
    ``weggelaten``."""

    def __init__(
        self,
        logger: logging.Logger,
        message: str,
        *,
        level: int = logging.WARNING,
        interval_s: float = REFUSAL_LOG_INTERVAL_S,
    ) -> None:
        self._logger = logger
        self._message = message
        self.level = level
        self.interval_s = interval_s
        self._last: float | None = None
        self._left_out = 0
        self._lock = threading.Lock()

    def __call__(self, **extra: Any) -> None:
        """One occurrence, with the fields of its line (logged, or left out and counted)."""
        now = _monotonic()
        with self._lock:
            if self._last is not None and now - self._last < self.interval_s:
                self._left_out += 1
                return
            left_out, self._left_out, self._last = self._left_out, 0, now
        self._logger.log(self.level, self._message, extra={**extra, "weggelaten": left_out})
