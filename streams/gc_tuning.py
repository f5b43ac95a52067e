"""Fewer cyclic garbage collections: while the batch path builds and assesses states, and in
the live worker.

The batch path holds the states of one partition's citizens (every event with its data and
wire bytes, the rules' derived states) and allocates a few hundred short-lived objects per
record and per assessment. With CPython's default thresholds (700, 10, 10) the collector runs
every few records, and its older generations walk that whole, growing, heap again and again:
measured on 4,000 citizens of 10 events in one process, the assessment alone ran at about half
the speed it reaches with :data:`THRESHOLDS`; the whole batch run gained less (about 5-10 %,
docs/benchmarks-history.md). Nothing in Schakel relies on the collector to free memory promptly:
reference counting frees almost everything at once; only reference cycles wait for it.

:func:`fewer_collections` freezes what exists when it starts (start-up objects, the rules:
never garbage during the run), collects the young generation far less often, and collects
fully at each :meth:`Collections.checkpoint` (the batch path calls it after each partition,
once that partition's states are dropped), so cyclic garbage is bounded by one partition's
work. On leaving it restores the previous thresholds and unfreezes.

The live worker runs for months and has no natural checkpoint: :func:`for_a_worker` freezes
the start-up objects and collects the young generation every 100,000 allocations instead of
700; middle collections follow every 50 young ones and full ones every 10 middle ones (and, as
always in CPython, only once the long-lived objects grew by a quarter), so cyclic garbage is
still collected while the worker runs. Measured with ``python -m benchmarks.streams --events
30000 --broker B --paths worker``, alternating with the commit before, three runs each
(``docs/benchmarks-history.md``): +14 % events/s on the embedded broker, +18 % on Apache Kafka, peak
RSS unchanged. At 1,000 events per citizen it changes nothing (the collector is not the cost
there).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

THRESHOLDS = (100_000, 50, 100_000)
"""Allocations before a young collection; young collections before a middle one; middle
collections before a full one (CPython's defaults: 700, 10, 10). The last is high on purpose:
full collections happen at :meth:`Collections.checkpoint`."""


WORKER_THRESHOLDS = (100_000, 50, 10)
"""The live worker's thresholds (:func:`for_a_worker`, module docstring)."""


def for_a_worker() -> None:
    """Tune the collector for the rest of a worker process (module docstring): freeze what
    exists now (imports, the rules, the app), then :data:`WORKER_THRESHOLDS`. Call it once
    the process is set up, before it reads records."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*WORKER_THRESHOLDS)


class Collections:
    """What :func:`fewer_collections` yields."""

    def checkpoint(self) -> None:
        """A full collection now (after a unit of work whose objects were dropped)."""
        gc.collect()


@contextmanager
def fewer_collections() -> Iterator[Collections]:
    """The collector tuned for a bulk run for the duration of the block (module docstring)."""
    previous = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
    try:
        yield Collections()
    finally:
        gc.set_threshold(*previous)
        gc.unfreeze()
