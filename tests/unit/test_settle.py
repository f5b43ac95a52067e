""":func:`streams.offsets.settle`: table recovery under exactly-once asks for its highwaters
once no transaction is pending on the changelog partitions (a partition's last stable offset
has reached its high watermark), and not for longer than its patience. The ends are
stand-ins here; ``tests/integration/test_offsets.py`` waits for a real pending transaction on
Apache Kafka."""

from __future__ import annotations

import time

from streams.offsets import settle


def test_waits_until_every_partition_is_stable() -> None:
    asked: list[int] = []
    high = {"p0": 7, "p1": 4}

    def stable() -> dict[str, int]:
        asked.append(1)
        # p0's markers land after the third question; p1 was settled all along
        return {"p0": 7 if len(asked) > 3 else 3, "p1": 4}

    assert settle(stable, lambda: high, patience=10, pause=0.001) == []
    assert len(asked) == 4


def test_an_empty_partition_is_settled() -> None:
    assert settle(lambda: {}, lambda: {"p0": 0}, patience=10, pause=0.001) == []


def test_a_transaction_that_does_not_end_is_given_up_after_the_patience() -> None:
    started = time.monotonic()
    pending = settle(lambda: {"p0": 3, "p1": 4}, lambda: {"p0": 7, "p1": 4}, patience=0.2)
    assert pending == ["p0"]
    assert 0.2 <= time.monotonic() - started < 2
