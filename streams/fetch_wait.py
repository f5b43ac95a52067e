"""The worker's fetch wait: short, on every broker (Faust hard-codes 1.5 s).

A Kafka consumer's fetch asks the broker for new records of its partitions and says how long
the broker may wait for some to arrive (``fetch_max_wait_ms``; faust-streaming 0.15.3
hard-codes 1,500 ms for the worker's consumer). Apache Kafka answers as soon as a record
arrives. The embedded broker (Tansu) answers only when the wait has passed, also when records
arrived meanwhile: every record waited about 0.4 s before the worker saw it (event → signal
p50 406 ms at 50 events/s, 621 ms at 300/s; ``docs/benchmarks-history.md``, "The fetch wait"). With
:data:`FETCH_MAX_WAIT_MS` it is 44 ms and 63 ms.

On Apache Kafka no difference was measured (p50 23–25 ms at 300/s either way). The short wait
is kept there too: aiokafka 0.14 has one fetch in flight per broker and leaves out of it every
partition whose records of the last answer were not all taken yet, so when every busy
partition is in that state at once, new records wait behind a fetch of idle partitions for up
to the wait (Apache Kafka's own consumers wait 500 ms by default). The price of a short wait is
an empty fetch that often while the worker is idle: on the embedded broker 5.5 % of a core for
Tansu and 1.9 % for the worker instead of 0.7 % and 0.8 %.

:class:`ShortFetchThread` gives the worker's consumer that wait
(:class:`streams.transactions.CommitBetweenRecords` creates it, on every profile).
"""

from __future__ import annotations

from typing import Any

from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

FETCH_MAX_WAIT_MS = 100
"""The worker's fetch wait (ms)."""


class ShortFetchThread(AIOKafkaConsumerThread):  # type: ignore[misc]
    """Faust's aiokafka consumer thread whose worker consumer waits at most
    :data:`FETCH_MAX_WAIT_MS` for a fetch."""

    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        # aiokafka 0.14 takes the wait from this attribute when it starts the fetcher;
        # Faust passes no setting of its own for it (tests/unit/streams/test_fetch_wait.py)
        consumer._fetch_max_wait_ms = FETCH_MAX_WAIT_MS
        return consumer
