"""The worker's fetch wait: short, on every broker, so records waiting on one topic are not
held up by a fetch that waits on others.

A Kafka consumer's fetch asks the broker for new records of its partitions and says how long
the broker may wait for some to arrive (``fetch_max_wait_ms``; faust-streaming 0.15.3
hard-codes 1,500 ms for the worker's consumer). aiokafka 0.14 has one fetch in flight per
broker, and leaves out of it every partition whose records of the last answer were not all
taken yet. So while the worker processes what one topic brought, the next fetch asks only for
the other partitions — on a worker that reads five topics, often partitions where nothing
comes — and the broker holds that fetch for the whole wait; the records that meanwhile arrive
on the busy topic are fetched only after it. Measured (``docs/benchmarks.md``, "The fetch
wait"): on Apache Kafka, at 300 new citizens per second on one topic, the worker waited for
records 63 % of the time with hundreds waiting on the broker, processed 222–282 a second and
fell ever further behind, at 44 % of a core. The embedded broker (Tansu) holds *every* fetch
for the whole wait, also when records arrived meanwhile: there each record waited about 0.4 s
before the worker saw it, also at low load.

:class:`ShortFetchThread` gives the worker's consumer a wait of :data:`FETCH_MAX_WAIT_MS`
(:class:`streams.transactions.CommitBetweenRecords` creates it, on every profile). The price is
an empty fetch that often while the worker is idle: on the embedded broker 5.5 % of a core for
Tansu and 1.9 % for the worker instead of 0.7 % and 0.8 %; Apache Kafka's own consumers wait
500 ms by default.
"""

from __future__ import annotations

from typing import Any

from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

FETCH_MAX_WAIT_MS = 100
"""The worker's fetch wait (ms): how long a record may wait behind a fetch of other
partitions, at most."""


class ShortFetchThread(AIOKafkaConsumerThread):  # type: ignore[misc]
    """Faust's aiokafka consumer thread whose worker consumer waits at most
    :data:`FETCH_MAX_WAIT_MS` for a fetch."""

    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        # aiokafka 0.14 takes the wait from this attribute when it starts the fetcher;
        # Faust passes no setting of its own for it (tests/unit/streams/test_fetch_wait.py)
        consumer._fetch_max_wait_ms = FETCH_MAX_WAIT_MS
        return consumer
