"""The one publishing path every adapter runs through.

For each record of a :class:`~adapters.base.Source`: validate the CloudEvent and pseudonymise
it (:func:`schemas.envelope.validate_input`), queue it on the producer, or quarantine it. Every
``batch_size`` records, and at the end, the producer is flushed (acks=all) and only then is
the cursor of the last record stored. A crash anywhere loses nothing: what was not
checkpointed is read again, and its deterministic ids make the copies duplicates downstream.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from adapters.base import Cursor, Location, Record, Source
from adapters.checkpoint import FileCheckpoint
from adapters.metrics import AdapterMetrics, default_metrics
from adapters.publisher import Publisher
from adapters.quarantine import Quarantine
from schemas.envelope import validate_input
from schemas.exceptions import InvalidEvent
from schemas.pseudonym import Pseudonymiser

log = logging.getLogger("schakel.adapters")

RejectHook = Callable[[Location, str, str], None]


@dataclass
class RunStats:
    """What one run did."""

    read: int = 0
    published: int = 0
    rejected: int = 0
    duplicates: int = 0
    by_reason: dict[str, int] = field(default_factory=dict)


class Runner:
    """Runs one source through validation, publishing, checkpointing and quarantine."""

    def __init__(
        self,
        source: Source,
        *,
        publisher: Publisher,
        pseudonymiser: Pseudonymiser,
        checkpoint: FileCheckpoint,
        quarantine: Quarantine,
        metrics: AdapterMetrics | None = None,
        batch_size: int = 1000,
        dedupe_in_run: bool = False,
        on_reject: RejectHook | None = None,
    ) -> None:
        self.source = source
        self.publisher = publisher
        self.pseudonymiser = pseudonymiser
        self.checkpoint = checkpoint
        self.quarantine = quarantine
        self.metrics = metrics or default_metrics()
        self.batch_size = batch_size
        self._seen: set[tuple[str, str]] | None = set() if dedupe_in_run else None
        self._on_reject = on_reject

    def _reject(self, record: Record, reason: str, message: str, stats: RunStats) -> None:
        self.quarantine.put(record.location, reason, message, record.digest)
        stats.rejected += 1
        stats.by_reason[reason] = stats.by_reason.get(reason, 0) + 1
        self.metrics.rejected.labels(self.source.name, reason).inc()
        log.warning(
            "adapter.record_rejected",
            extra={"adapter": self.source.name, "location": str(record.location), "reason": reason},
        )
        if self._on_reject is not None:
            self._on_reject(record.location, reason, message)

    def _handle(self, record: Record, stats: RunStats) -> None:
        name = self.source.name
        stats.read += 1
        self.metrics.read.labels(name).inc()
        if record.rejection is not None:
            self._reject(record, record.rejection.reason, str(record.rejection), stats)
            return
        try:
            event = validate_input(record.event, self.pseudonymiser)
        except InvalidEvent as exc:
            self._reject(record, exc.reason, str(exc), stats)
            return
        if self._seen is not None:
            identity = (event.source, event.id)
            if identity in self._seen:
                stats.duplicates += 1
                self.metrics.duplicates.labels(name).inc()
                return
            self._seen.add(identity)
        self.publisher.send(event)
        stats.published += 1
        self.metrics.published.labels(name, event.type).inc()

    def _commit(self, cursor: Cursor | None, uncommitted: int) -> None:
        self.publisher.flush()
        self.quarantine.flush()
        if cursor is not None:
            self.checkpoint.save(cursor)
        self.metrics.last_success.labels(self.source.name).set(time.time())
        self.metrics.lag.labels(self.source.name).set(0)
        log.debug("adapter.checkpoint", extra={"adapter": self.source.name, "records": uncommitted})

    def run_once(self) -> RunStats:
        """Read everything available after the stored cursor, publish, checkpoint, return."""
        stats = RunStats()
        cursor: Cursor | None = None
        uncommitted = 0
        for record in self.source.records(self.checkpoint.load()):
            self._handle(record, stats)
            cursor = record.cursor
            uncommitted += 1
            self.metrics.lag.labels(self.source.name).set(uncommitted)
            if uncommitted >= self.batch_size:
                self._commit(cursor, uncommitted)
                uncommitted = 0
        self._commit(cursor, uncommitted)
        log.info(
            "adapter.run_done",
            extra={
                "adapter": self.source.name,
                "read": stats.read,
                "published": stats.published,
                "rejected": stats.rejected,
            },
        )
        return stats

    def run_forever(self, interval: float, stop: threading.Event) -> RunStats:
        """Continuous mode: :meth:`run_once`, then wait ``interval`` seconds, until ``stop``."""
        total = RunStats()
        while not stop.is_set():
            stats = self.run_once()
            total.read += stats.read
            total.published += stats.published
            total.rejected += stats.rejected
            stop.wait(interval)
        return total

    def close(self) -> None:
        self.source.close()
        self.quarantine.close()
