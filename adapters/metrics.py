"""Prometheus metrics of the adapters (scraped at ``/metrics`` of the adapter process, port
``SCHAKEL_METRICS_PORT``). Labels are bounded: adapter name, event type, reason code."""

from __future__ import annotations

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge


class AdapterMetrics:
    """The metric families of the adapters, registered once per registry."""

    def __init__(self, registry: CollectorRegistry = REGISTRY) -> None:
        self.read = Counter(
            "schakel_adapter_records_read_total",
            "Source records read by an adapter.",
            ["adapter"],
            registry=registry,
        )
        self.published = Counter(
            "schakel_adapter_records_published_total",
            "Events published and acknowledged by the broker.",
            ["adapter", "type"],
            registry=registry,
        )
        self.rejected = Counter(
            "schakel_adapter_records_rejected_total",
            "Source records quarantined, by reason code.",
            ["adapter", "reason"],
            registry=registry,
        )
        self.skipped = Counter(
            "schakel_adapter_records_skipped_total",
            "Source records read and deliberately not mapped, by kind (e.g. an iWmo message "
            "type Schakel does not use, such as WMO315); not quarantined.",
            ["adapter", "kind"],
            registry=registry,
        )
        self.duplicates = Counter(
            "schakel_adapter_duplicates_total",
            "Records skipped because an event with the same source and id was already "
            "published in this run.",
            ["adapter"],
            registry=registry,
        )
        self.last_success = Gauge(
            "schakel_adapter_last_success_timestamp_seconds",
            "Unix time of the last checkpoint written after a successful publish.",
            ["adapter"],
            registry=registry,
        )
        self.files_reread = Counter(
            "schakel_adapter_files_reread_total",
            "Files read again from the start because the part already consumed changed "
            "(cause: changed, shrunk, no-digest); their records are published again under "
            "the same event ids.",
            ["adapter", "cause"],
            registry=registry,
        )
        self.incomplete_lines = Gauge(
            "schakel_adapter_incomplete_lines",
            "Files whose last line had no newline at the end of the last run: that line is "
            "left for the next run (still being written, or an export without a final newline).",
            ["adapter"],
            registry=registry,
        )
        self.webhook_unauthenticated = Counter(
            "schakel_adapter_webhook_unauthenticated_total",
            "Webhook requests without a valid bearer token, by outcome (refused: answered "
            "401; rate-limited: answered 429 because the client address sent too many). "
            "Counted only: not quarantined, not dead-lettered.",
            ["adapter", "outcome"],
            registry=registry,
        )
        self.lag = Gauge(
            "schakel_adapter_lag_records",
            "Records read but not yet checkpointed.",
            ["adapter"],
            registry=registry,
        )


_DEFAULT: AdapterMetrics | None = None


def default_metrics() -> AdapterMetrics:
    """The metrics on the process-wide default registry (created on first use)."""
    global _DEFAULT  # noqa: PLW0603 - one registration per process
    if _DEFAULT is None:
        _DEFAULT = AdapterMetrics()
    return _DEFAULT
