"""The exception tree of :mod:`adapters`. Messages never contain a BSN or other personal data."""

from __future__ import annotations

from schemas.exceptions import PermanentError, SchakelError, TransientError


class AdapterError(SchakelError):
    """Base of every adapter error (a :class:`~schemas.exceptions.SchakelError`)."""


class Rejection(AdapterError, PermanentError):
    """A source record that cannot become a catalogue event.

    ``reason`` is a short stable code (metric label), the message says what to fix."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class PublishError(AdapterError, TransientError):
    """The broker did not acknowledge a record (or could not be reached); nothing after it is
    checkpointed. Transient: the same records are published again once the broker is back."""


class CheckpointError(AdapterError, PermanentError):
    """The checkpoint could not be read or written (a file the operator must fix)."""
