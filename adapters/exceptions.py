"""The exception tree of :mod:`adapters`. Messages never contain a BSN or other personal data."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from schemas.exceptions import PermanentError, SchakelError, TransientError


class AdapterError(SchakelError):
    """Base of every adapter error (a :class:`~schemas.exceptions.SchakelError`)."""


class Rejection(AdapterError, PermanentError):
    """A source record that cannot become a catalogue event.

    ``reason`` is a short stable code (metric label), the message says what to fix."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class RecordTooLarge(Rejection):
    """Kafka refused a record for its size: the producer (larger than its
    ``max_request_size``) or the broker (larger than the topic's ``max.message.bytes``).
    Permanent for that record — sending it again gets the same answer — so it is quarantined
    (reason ``too-large``) and the source goes on; never a reason to wait, unlike an outage.

    ``tags`` are the tags given to :meth:`~adapters.publisher.Publisher.send` of the records
    a flush found refused (empty when :meth:`send` itself refused the record it was given)."""

    def __init__(self, message: str, *, tags: Sequence[Any] = ()) -> None:
        super().__init__(message, reason="too-large")
        self.tags = tuple(tags)


class PublishError(AdapterError, TransientError):
    """The broker did not acknowledge a record (or could not be reached); nothing after it is
    checkpointed. Transient: the same records are published again once the broker is back."""


class SourceUnavailable(AdapterError, TransientError):
    """The source system did not answer (the outbox's database unreachable, or its connection
    lost): an outage, not bad input. Transient: a continuous adapter waits it out with backoff
    (``adapter.outage``), ``--once`` exits 75; nothing after the last checkpoint was stored,
    so the next run reads it again."""


class CheckpointError(AdapterError, PermanentError):
    """The checkpoint could not be read or written (a file the operator must fix)."""


class QuarantineError(AdapterError, PermanentError):
    """The quarantine file could not be written (its disk full, its directory not writable: a
    file the operator must fix). Like a :class:`CheckpointError` it stops the adapter — before
    the checkpoint, so the records of the run are read again once it is fixed — and the file
    is left as it was before the failed write, never with half a line."""
