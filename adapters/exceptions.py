"""The exception tree of :mod:`adapters`. Messages never contain a BSN or other personal data."""

from __future__ import annotations


class AdapterError(Exception):
    """Base of every adapter error."""


class Rejection(AdapterError):
    """A source record that cannot become a catalogue event.

    ``reason`` is a short stable code (metric label), the message says what to fix."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class PublishError(AdapterError):
    """The broker did not acknowledge a record; nothing after it is checkpointed."""


class CheckpointError(AdapterError):
    """The checkpoint could not be read or written."""
