"""Prometheus metrics of the stream workers (``/metrics`` on the worker's web port). Labels are
bounded: event type, rule id, stage, reason code, topic, partition — never a pseudonym."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    ProcessCollector,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector


class _OpenSignals(Collector):
    def __init__(self, source: Callable[[], Mapping[str, int]]) -> None:
        self._source = source

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "schakel_worker_signals_open",
            "Open signals per rule in the read model (all citizens).",
            labels=["regel"],
        )
        for regel, count in sorted(self._source().items()):
            family.add_metric([regel], count)
        yield family


class WorkerMetrics:
    """The metric families of one worker, on their own registry, with the process's own
    (``process_*``: CPU seconds, resident memory, open files; ``python_gc_*``: collections
    per generation, see :mod:`streams.gc_tuning`)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        ProcessCollector(registry=r)
        GCCollector(registry=r)
        self.events = Counter(
            "schakel_worker_events_total",
            "Events accepted onto a timeline, per type.",
            ["type"],
            registry=r,
        )
        self.duplicates = Counter(
            "schakel_worker_duplicates_total",
            "Events dropped as duplicates of (source, id).",
            registry=r,
        )
        self.deadlettered = Counter(
            "schakel_worker_deadlettered_total",
            "Records sent to the dead-letter topic, by stage and reason.",
            ["stage", "reason"],
            registry=r,
        )
        self.raised = Counter(
            "schakel_worker_signals_raised_total",
            "nl.schakel.signalen.gesignaleerd emitted, per rule.",
            ["regel"],
            registry=r,
        )
        self.resolved = Counter(
            "schakel_worker_signals_resolved_total",
            "nl.schakel.signalen.opgelost emitted, per rule.",
            ["regel"],
            registry=r,
        )
        self.withdrawn = Counter(
            "schakel_worker_signals_withdrawn_total",
            "nl.schakel.signalen.ingetrokken emitted, per rule.",
            ["regel"],
            registry=r,
        )
        self.clock_ticks = Counter(
            "schakel_worker_clock_ticks_total",
            "Clock ticks processed (live timer / end of replay).",
            ["modus"],
            registry=r,
        )
        self.forgotten = Counter(
            "schakel_worker_citizens_forgotten_total",
            "Citizens whose state was deleted on request (erasure).",
            registry=r,
        )
        self.erased = Counter(
            "schakel_worker_erased_events_dropped_total",
            "Input events dropped because they were registered at or before an erasure of "
            "their citizen (not stored, not dead-lettered).",
            registry=r,
        )
        self.outage_retries = Counter(
            "schakel_worker_outage_retries_total",
            "Attempts at a record that met an outage (schema registry or broker unreachable) "
            "and are retried with backoff, by error class; the record is never dead-lettered.",
            ["error"],
            registry=r,
        )
        self.latency = Histogram(
            "schakel_worker_processing_seconds",
            "Time to process one record (decode, timeline, rules, emit).",
            registry=r,
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
        )
        self.lag = Gauge(
            "schakel_worker_consumer_lag_records",
            "Records behind the high watermark, per input topic partition.",
            ["topic", "partition"],
            registry=r,
        )
        self.broker_reachable = Gauge(
            "schakel_worker_broker_reachable",
            "1 while the broker answers (a TCP connection to a bootstrap address every 5 s), "
            "0 after two checks in a row found none (then /ready answers 503).",
            registry=r,
        )
        self.broker_reachable.set(1)
        self.api_requests = Counter(
            "schakel_api_requests_total",
            "API requests answered, by endpoint and status code.",
            ["endpoint", "status"],
            registry=r,
        )

    def watch_open_signals(self, source: Callable[[], Mapping[str, int]]) -> None:
        self.registry.register(_OpenSignals(source))
