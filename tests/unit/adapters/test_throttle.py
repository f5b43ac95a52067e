"""The webhook's token buckets per client address (:class:`adapters.throttle.ClientLimiter`):
a bucket never holds more than ``burst`` tokens however long its client was quiet, and at most
``max_clients`` buckets are kept, the least recently used dropped first (review G, H3: the cap,
the LRU order and the bound were untested)."""

from __future__ import annotations

from adapters.throttle import ClientLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def allowed(limiter: ClientLimiter, client: str, n: int) -> int:
    """How many of ``n`` requests of ``client`` got a token."""
    return sum(limiter.allow(client)[0] == 0 for _ in range(n))


def test_a_quiet_client_gets_at_most_a_full_bucket() -> None:
    clock = Clock()
    limiter = ClientLimiter(burst=5, per_second=1.0, clock=clock)
    assert allowed(limiter, "a", 10) == 5
    clock.now += 3600  # an hour quiet: 3,600 tokens earned, 5 kept
    assert allowed(limiter, "a", 100) == 5
    assert limiter.allow("a") == (1, False)  # still refused, not the first refusal of the run


def test_the_least_recently_used_client_is_dropped_first() -> None:
    clock = Clock()
    limiter = ClientLimiter(burst=2, per_second=0.001, max_clients=2, clock=clock)
    assert allowed(limiter, "a", 3) == 2  # a: empty
    assert allowed(limiter, "b", 3) == 2  # b: empty
    assert allowed(limiter, "a", 1) == 0  # a used last: b is the least recently used
    assert allowed(limiter, "c", 1) == 1  # a third client: b's bucket is dropped
    assert allowed(limiter, "a", 1) == 0  # a kept its empty bucket
    assert allowed(limiter, "b", 3) == 2  # b starts again with a full bucket


def test_at_most_max_clients_buckets_are_kept() -> None:
    limiter = ClientLimiter(burst=1, per_second=0.001, max_clients=3, clock=Clock())
    for client in ("a", "b", "c", "d", "e"):
        assert allowed(limiter, client, 2) == 1
    assert len(limiter._buckets) == 3
    assert allowed(limiter, "e", 1) == 0  # kept: empty
    assert allowed(limiter, "a", 1) == 1  # dropped: full again
