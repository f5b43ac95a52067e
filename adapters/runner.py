"""The one publishing path every adapter runs through.

For each record of a :class:`~adapters.base.Source`: validate the CloudEvent and pseudonymise
it (:func:`schemas.envelope.validate_input`), queue it on the producer, or quarantine it. Every
``batch_size`` records, and at the end, the producer is flushed (acks=all) and only then is
the cursor of the last record stored. A crash anywhere loses nothing: what was not
checkpointed is read again, and its deterministic ids make the copies duplicates downstream.

Bad input is not an outage. A record the producer or the broker refuses for its size
(:class:`~adapters.exceptions.RecordTooLarge`) is quarantined like any rejected record
(``too-large``) and the source goes on; an outage of the broker or the schema registry (a
:class:`~schemas.exceptions.TransientError`) stops the run without a checkpoint, and the run is
repeated from the checkpoint once it is over.

Push sources (the wijkteam webhook) use :meth:`Runner.submit` instead: the same validation,
metrics and quarantine, but one record at a time, returning only after the broker
acknowledged it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from adapters.base import INTERNAL_ERROR, Cursor, Location, Record, Source, SourceObserver
from adapters.checkpoint import FileCheckpoint
from adapters.exceptions import AdapterError, CheckpointError, QuarantineError, RecordTooLarge
from adapters.metrics import AdapterMetrics, default_metrics
from adapters.publisher import Publisher
from adapters.quarantine import Quarantine
from schemas.envelope import Event, short_message, validate_input
from schemas.exceptions import InvalidEvent, SerdeError, TransientError
from schemas.pseudonym import Pseudonymiser

log = logging.getLogger("schakel.adapters")
OUTAGE_FIRST_WAIT_S = 1.0
"""Continuous mode: first wait after an outage; doubled per failed run up to
:data:`OUTAGE_MAX_WAIT_S` (or the poll interval, if longer)."""
OUTAGE_MAX_WAIT_S = 30.0

FLUSH_TIMEOUT_S = 60.0
"""How long a run waits for the broker's acknowledgement of a batch before it takes the
broker for unreachable (an outage; continuous mode: ended at once by its stop)."""

RejectHook = Callable[[Location, str, str], None]
"""Told of each rejected record — (location, reason code, message) — when its quarantine line
is written: once per record, never for an attempt an outage made the runner drop."""


@dataclass
class RunStats:
    """What one run did."""

    read: int = 0
    published: int = 0
    rejected: int = 0
    skipped: int = 0
    duplicates: int = 0
    by_reason: dict[str, int] = field(default_factory=dict)

    def add(self, other: RunStats) -> None:
        """Add the counts of ``other`` to these."""
        self.read += other.read
        self.published += other.published
        self.rejected += other.rejected
        self.skipped += other.skipped
        self.duplicates += other.duplicates
        for reason, count in other.by_reason.items():
            self.by_reason[reason] = self.by_reason.get(reason, 0) + count


@dataclass(frozen=True)
class Outcome:
    """What :meth:`Runner.submit` did with one record.

    ``status`` is ``published`` (acknowledged by the broker), ``duplicate`` (the same
    ``source`` + ``id`` was already published by this runner) or ``rejected`` (quarantined;
    ``reason``, ``field`` and ``message`` say why — never with a BSN)."""

    status: Literal["published", "duplicate", "rejected"]
    event: Event | None = None
    reason: str = ""
    field: str = ""
    message: str = ""


class _Observer(SourceObserver):
    """Turns what a source reports into the runner's metrics, and tells a source what became
    of its records (:meth:`taken`, :meth:`acceptable`)."""

    def __init__(
        self, metrics: AdapterMetrics, adapter: str, accepts: Callable[[Mapping[str, Any]], bool]
    ) -> None:
        self._metrics = metrics
        self._adapter = adapter
        self._accepts = accepts
        self.incomplete: list[str] = []
        """The files whose last line the current run held back (:meth:`line_incomplete`)."""
        self.last_taken: Record | None = None
        """The last record whose event was queued for publishing."""

    def taken(self, record: Record) -> bool:
        return record is self.last_taken

    def acceptable(self, event: Mapping[str, Any]) -> bool:
        return self._accepts(event)

    def file_reread(self, cause: str) -> None:
        self._metrics.files_reread.labels(self._adapter, cause).inc()

    def line_incomplete(self, file: str) -> None:
        self.incomplete.append(file)


def plain(value: Any) -> Any:
    """A JSON-ready copy of a cursor: every mapping becomes a ``dict`` (sources may hand out
    lazy read-only views as cursors to avoid copying large positions per record)."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


class Runner:
    """Runs one source through validation, publishing, checkpointing and quarantine.

    Guarantees: a cursor is stored only after the broker acknowledged every event and
    dead-letter record up to it and the quarantine file was fsynced; every record yielded by
    the source is published, quarantined or — if the source marks it ``skipped`` — counted
    as skipped by kind; never silently dropped; a record is quarantined — and told to
    ``on_reject`` (:data:`RejectHook`) — once, even when an outage makes the run read it again
    (:class:`~adapters.quarantine.Quarantine`); an event
    is counted as published once the broker acknowledged it.
    Not guaranteed: exactly-once delivery — after a crash the records since the last
    checkpoint are published again with the same ids."""

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
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.source = source
        self.publisher = publisher
        self.pseudonymiser = pseudonymiser
        self.checkpoint = checkpoint
        self.quarantine = quarantine
        self.metrics = metrics or default_metrics()
        self.batch_size = batch_size
        self._seen: set[tuple[str, str]] | None = set() if dedupe_in_run else None
        self._on_reject = on_reject
        self._lock = threading.Lock()
        self._sent: list[tuple[Record, str]] = []
        self._stopping: threading.Event | None = None  # run_forever's stop: ends a flush early
        """The records queued on the producer since the last flush, with their event type."""
        name = source.name
        self._m_read = self.metrics.read.labels(name)
        self._m_published: dict[str, Any] = {}
        self._observer = _Observer(self.metrics, name, self._accepts)
        source.observer = self._observer

    def _count_published(self, event_type: str) -> None:
        child = self._m_published.get(event_type)
        if child is None:
            child = self._m_published[event_type] = self.metrics.published.labels(
                self.source.name, event_type
            )
        child.inc()

    def _reject(self, record: Record, reason: str, message: str, stats: RunStats) -> None:
        message = short_message(message)  # never more than MAX_MESSAGE_CHARS, stored or sent
        self.quarantine.put(record.location, reason, message, self._keyed(record.digest))
        stats.rejected += 1
        stats.by_reason[reason] = stats.by_reason.get(reason, 0) + 1
        log.warning(
            "adapter.record_rejected",
            extra={"adapter": self.source.name, "location": str(record.location), "reason": reason},
        )

    def _keyed(self, digest: str | None) -> str | None:
        """What the quarantine keeps of a rejected record: a keyed digest of its SHA-256
        (:meth:`~schemas.pseudonym.Pseudonymiser.token`, kind ``record``), never the plain
        hash. A source row holds little besides the BSN that is not known or published (its
        twin's fields, the event's dates), and only about 10^8 numbers pass the elfproef: a
        plain SHA-256 could be matched by trying them all, tying the BSN to the citizen's
        pseudonym. Under the key, the same record still gives the same value (a record
        rejected again is recognised), and only whoever holds the key can try."""
        return None if digest is None else self.pseudonymiser.token("record", digest)

    def _validate(self, record: Record) -> Event | InvalidEvent:
        if record.rejection is not None:
            return InvalidEvent(str(record.rejection), reason=record.rejection.reason)
        try:
            return validate_input(record.event, self.pseudonymiser)
        except InvalidEvent as exc:
            return exc
        except Exception as exc:
            # validate_input is pure (no I/O, so no outage to hide): a defect met by one record
            # must not stop the source; the record is quarantined and the defect logged
            log.error(
                "adapter.validation_defect",
                extra={"adapter": self.source.name, "error": type(exc).__name__},
            )
            return InvalidEvent(
                "the record could not be validated (a defect of Schakel; see the adapter log)",
                reason=INTERNAL_ERROR,
            )

    def _accepts(self, event: Mapping[str, Any]) -> bool:
        """Whether ``event`` passes validation (:meth:`_validate`, without logging)."""
        try:
            validate_input(event, self.pseudonymiser)
        except TransientError:  # none from a pure check today; never taken for a bad row
            raise
        except Exception:  # InvalidEvent, or a defect _validate would log for the record
            return False
        return True

    def _unencodable(self, exc: SerdeError) -> InvalidEvent:
        log.error(
            "adapter.unencodable",
            extra={"adapter": self.source.name, "error": type(exc.__cause__).__name__},
        )
        return InvalidEvent(
            "the validated event does not encode with its Avro schema", reason="unencodable"
        )

    def _handle(self, record: Record, stats: RunStats) -> None:
        stats.read += 1
        self._m_read.inc()
        if record.skipped:
            stats.skipped += 1
            self.metrics.skipped.labels(self.source.name, record.skipped).inc()
            return
        result = self._validate(record)
        if isinstance(result, InvalidEvent):
            self._reject(record, result.reason, str(result), stats)
            return
        event = result
        if self._seen is not None:
            identity = (event.source, event.id)
            if identity in self._seen:
                stats.duplicates += 1
                self.metrics.duplicates.labels(self.source.name).inc()
                return
            self._seen.add(identity)
        try:
            self.publisher.send(event, tag=record)
        except SerdeError as exc:
            invalid = self._unencodable(exc)
            self._reject(record, invalid.reason, str(invalid), stats)
            return
        except RecordTooLarge as exc:  # the producer refused it: this record, not an outage
            self._reject(record, exc.reason, str(exc), stats)
            return
        self._sent.append((record, event.type))
        self._observer.last_taken = record

    def _flush(self, stats: RunStats) -> None:
        """Wait for the broker's acknowledgement of everything queued. The events it
        acknowledged are counted as published; those it refused for their size are
        quarantined (``too-large``) and their dead letters awaited in turn. An outage is
        raised (:class:`~adapters.exceptions.PublishError`)."""
        sent, self._sent = self._sent, []
        refused = self._flush_producer()
        for record, event_type in sent:
            if id(record) in refused:
                self._reject(record, "too-large", refused[id(record)], stats)
            else:
                stats.published += 1
                self._count_published(event_type)
        if refused:
            self._flush_producer()  # the dead letters of the refused events

    def _flush_producer(self, timeout: float | None = None) -> dict[int, str]:
        """Flush the producer; return the refused records by ``id()`` of their tag (the
        :class:`~adapters.base.Record`), each with the message. A refused record without a
        tag is a dead letter: its entry is in the quarantine file, the refusal is logged."""
        try:
            self.publisher.flush(
                FLUSH_TIMEOUT_S if timeout is None else timeout, cancel=self._stopping
            )
        except RecordTooLarge as exc:
            tags = [tag for tag in exc.tags if tag is not None]
            if len(tags) < len(exc.tags):
                log.error(
                    "adapter.deadletter_refused",
                    extra={"adapter": self.source.name, "records": len(exc.tags) - len(tags)},
                )
            return {id(tag): str(exc) for tag in tags}
        return {}

    def _write_quarantine(self) -> None:
        """Write the quarantine lines held (fsynced), count them as rejected and tell the
        ``on_reject`` hook of each: once per record, as the line is written once."""
        for written in self.quarantine.flush():
            self.metrics.rejected.labels(self.source.name, written.reason).inc()
            if self._on_reject is not None:
                self._on_reject(written.location, written.reason, written.message)

    def _forget_held(self) -> None:
        """After a failed run or submit: drop the quarantine lines and acknowledgements still
        awaited; their records are read (or sent) again."""
        self._sent = []
        self.quarantine.discard()

    def _commit(
        self, cursor: Cursor | None, uncommitted: int, stats: RunStats, *, success: bool = True
    ) -> None:
        self._flush(stats)
        self._write_quarantine()
        if cursor is not None:
            self.checkpoint.save(plain(cursor))
        if success:
            self.metrics.last_success.labels(self.source.name).set(time.time())
        self.metrics.lag.labels(self.source.name).set(0)
        log.debug("adapter.checkpoint", extra={"adapter": self.source.name, "records": uncommitted})

    def run_once(self) -> RunStats:
        """Read everything available after the stored cursor, publish, checkpoint, return.

        Raises what the source, the publisher or the checkpoint raise (an
        :class:`~adapters.exceptions.AdapterError`, an outage of the schema registry). After an
        outage or a failure of the publisher or the checkpoint nothing after the last
        successful checkpoint is stored — no quarantine line either — so the next run reads it
        again and quarantines each of its bad records once. A failure of the source itself (a
        permanent :class:`~adapters.exceptions.AdapterError` it raises: a file that cannot be
        opened) is raised only after the records it yielded before were flushed and
        checkpointed: what the broker acknowledged is not sent again by every later run that
        meets the same failure (``last_success`` is not set for such a run)."""
        stats = RunStats()
        cursor: Cursor | None = None
        uncommitted = 0
        lag = self.metrics.lag.labels(self.source.name)
        self._observer.incomplete = []
        failure: AdapterError | None = None
        try:
            records = iter(self.source.records(self.checkpoint.load()))
            while True:
                try:
                    record = next(records)
                except StopIteration:
                    break
                except (TransientError, CheckpointError, QuarantineError):
                    raise
                except AdapterError as exc:  # the source failed: keep what it yielded before
                    failure = exc
                    break
                self._handle(record, stats)
                cursor = record.cursor
                uncommitted += 1
                if uncommitted >= self.batch_size:
                    lag.set(uncommitted)
                    self._commit(cursor, uncommitted, stats)
                    uncommitted = 0
            self._commit(cursor, uncommitted, stats, success=failure is None)
        except BaseException:
            self._forget_held()
            raise
        if failure is not None:
            raise failure
        self.metrics.incomplete_lines.labels(self.source.name).set(len(self.held_back))
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

    @property
    def held_back(self) -> list[str]:
        """The files whose last line, without its newline, the last :meth:`run_once` held back
        because the file may still be being written (:attr:`~adapters.base.Source.watching`;
        :class:`adapters.lines.Settle`): not read yet, the checkpoint before it. Empty after
        a one-shot run, which reads every line."""
        return list(self._observer.incomplete)

    def run_forever(self, interval: float, stop: threading.Event) -> RunStats:
        """Continuous mode: :meth:`run_once`, then wait ``interval`` seconds, until ``stop``.

        An outage (a :class:`~schemas.exceptions.TransientError`: the broker, the schema
        registry or the source — :class:`~adapters.exceptions.SourceUnavailable`, a database
        down — unreachable; also a broker away since the start, when the publisher was made
        with ``wait`` and has no producer yet) is waited out with backoff
        (``adapter.outage``) and the run repeated from the checkpoint: nothing is quarantined
        or skipped for it — unless ``stop`` was set meanwhile (the flush gave up waiting for it:
        ``adapter.stopped_unacknowledged``, no outage; those records are read again at the
        next start). Another failing run (an :class:`~adapters.exceptions.AdapterError`) is
        logged (``adapter.run_failed``) and retried after ``interval``; a checkpoint or
        quarantine file that cannot be written stops the loop (raised). The source reads its
        files as files that may still be being written
        (:attr:`~adapters.base.Source.watching`). Once
        ``stop`` is set, a flush still waiting for the broker gives up at once: those records,
        after the checkpoint, are read again by the next start."""
        total = RunStats()
        self.source.watching = True
        self._stopping = stop
        try:
            self._poll(interval, stop, total)
        finally:
            self.source.watching = False
            self._stopping = None
        return total

    def _poll(self, interval: float, stop: threading.Event, total: RunStats) -> None:
        backoff = OUTAGE_FIRST_WAIT_S
        while not stop.is_set():
            wait = interval
            try:
                total.add(self.run_once())
                backoff = OUTAGE_FIRST_WAIT_S
            except TransientError as exc:
                if stop.is_set():  # told to stop while it waited: no outage, nothing to retry
                    log.info(
                        "adapter.stopped_unacknowledged",
                        extra={"adapter": self.source.name, "error": type(exc).__name__},
                    )
                    break
                log.warning(
                    "adapter.outage",
                    extra={
                        "adapter": self.source.name,
                        "error": type(exc).__name__,
                        "detail": str(exc),  # which registry or broker (never a password)
                        "retry_in_s": backoff,
                    },
                )
                wait = backoff
                backoff = min(backoff * 2, max(interval, OUTAGE_MAX_WAIT_S))
            except (CheckpointError, QuarantineError):
                raise
            except AdapterError as exc:
                log.error(
                    "adapter.run_failed",
                    extra={
                        "adapter": self.source.name,
                        "error": type(exc).__name__,
                        "detail": str(exc),
                    },
                )
            stop.wait(wait)

    def submit(self, record: Record, *, timeout: float = 30.0) -> Outcome:
        """Validate, publish and wait for the broker's acknowledgement of one record.

        For push sources (webhook). Thread-safe. A rejected record is quarantined (file
        fsynced, dead letter acknowledged) before this returns. Duplicates are recognised only
        when the runner was built with ``dedupe_in_run`` (a bounded memory is the caller's
        business). A record Kafka refuses for its size is rejected (``too-large``). Raises a
        :class:`~schemas.exceptions.TransientError` for an outage —
        :class:`~adapters.exceptions.PublishError` (the broker did not acknowledge the event
        or a dead letter) or :class:`~schemas.exceptions.RegistryUnavailable` — the caller
        must then not confirm the record to its sender, who retries; no quarantine line is
        written for that attempt."""
        self._m_read.inc()
        result = self._validate(record)
        if isinstance(result, InvalidEvent):
            return self._submit_rejected(record, result, timeout)
        event = result
        try:
            self.publisher.send_and_wait(event, timeout)
        except SerdeError as exc:
            return self._submit_rejected(record, self._unencodable(exc), timeout)
        except RecordTooLarge as exc:  # refused for its size: this record, not an outage
            return self._submit_rejected(record, InvalidEvent(str(exc), reason=exc.reason), timeout)
        self._count_published(event.type)
        self.metrics.last_success.labels(self.source.name).set(time.time())
        return Outcome("published", event=event)

    def _submit_rejected(self, record: Record, invalid: InvalidEvent, timeout: float) -> Outcome:
        with self._lock:
            try:
                self._reject(record, invalid.reason, str(invalid), RunStats())
                self._flush_producer(timeout)
                self._write_quarantine()
            except BaseException:
                self._forget_held()  # the sender is told to retry: quarantined then
                raise
        return Outcome(
            "rejected",
            reason=invalid.reason,
            field=invalid.field,
            message=short_message(str(invalid)),
        )

    def count_duplicate(self) -> None:
        """Count a record recognised as already published by a push source."""
        self._m_read.inc()
        self.metrics.duplicates.labels(self.source.name).inc()

    def close(self) -> None:
        self.source.close()
        self.quarantine.close()
