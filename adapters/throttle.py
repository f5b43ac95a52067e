"""Limits on what an unauthenticated caller may cost: a token bucket per client address.

The webhook asks :meth:`ClientLimiter.allow` for every request without a valid token. Each
such request takes one token from its client's bucket; a bucket holds at most ``burst``
tokens and refills at ``per_second``. An empty bucket means: answer 429 with the returned
``Retry-After`` instead of 401. Requests with a valid token never take tokens, so a sender
behind the same address (a reverse proxy) is not locked out by someone guessing tokens.

Memory is bounded: at most ``max_clients`` buckets, the least recently used dropped first
(a dropped client starts again with a full bucket).
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

DEFAULT_BURST = 20
DEFAULT_PER_SECOND = 1.0
DEFAULT_MAX_CLIENTS = 10_000


@dataclass
class _Bucket:
    tokens: float
    updated: float
    limited: bool = False


class ClientLimiter:
    """Token buckets per client address (thread-safe)."""

    def __init__(
        self,
        *,
        burst: int = DEFAULT_BURST,
        per_second: float = DEFAULT_PER_SECOND,
        max_clients: int = DEFAULT_MAX_CLIENTS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if burst < 1 or per_second <= 0 or max_clients < 1:
            raise ValueError("burst and max_clients must be at least 1, per_second positive")
        self.burst = burst
        self.per_second = per_second
        self.max_clients = max_clients
        self._clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        self._lock = threading.Lock()

    def allow(self, client: str) -> tuple[int, bool]:
        """Take one token of ``client``'s bucket.

        Returns ``(0, False)`` when the request may be answered normally, else the whole
        seconds until the next token (for ``Retry-After``, at least 1) and whether this is the
        first refused request of a run of refusals (log it once, not per request)."""
        now = self._clock()
        with self._lock:
            bucket = self._buckets.get(client)
            if bucket is None:
                bucket = self._buckets[client] = _Bucket(float(self.burst), now)
                while len(self._buckets) > self.max_clients:
                    self._buckets.popitem(last=False)
            else:
                self._buckets.move_to_end(client)
                elapsed = max(0.0, now - bucket.updated)
                bucket.tokens = min(float(self.burst), bucket.tokens + elapsed * self.per_second)
                bucket.updated = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                bucket.limited = False
                return 0, False
            first = not bucket.limited
            bucket.limited = True
            wait = math.ceil((1.0 - bucket.tokens) / self.per_second)
            return max(1, wait), first
