"""The adapter contract.

A :class:`Source` yields :class:`Record` s from a position (its *cursor*). The runner
(:mod:`adapters.runner`) validates each record's CloudEvent, publishes it, and — only after
the broker acknowledged everything up to a record — stores that record's cursor durably. On
restart the source is asked for records after the stored cursor. Records between the last
checkpoint and a crash are therefore read again: that is safe because their event ids are
derived deterministically from the source record, and the stream workers accept an event once
per (``source``, ``id``).
"""

from __future__ import annotations

import hashlib
import logging
import os
import traceback
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from adapters.exceptions import Rejection
from schemas.pseudonym import MIN_RANDOM_LETTERS, holds_bsn

log = logging.getLogger("schakel.adapters")

INTERNAL_ERROR = "internal-error"
"""Reason of a record quarantined because Schakel met a defect of its own with it."""

Cursor = Mapping[str, Any]
"""A JSON-serialisable position in a source; opaque to everything but the source itself."""


def printable(text: str) -> str:
    """``text`` in a form that can always be written as UTF-8; valid text is returned as is.

    A file name that is not valid UTF-8 reaches Python with its bad bytes as surrogate escapes
    (``os.fsdecode``: ``b"bericht_\\xe9.xml"`` becomes ``"bericht_\\udce9.xml"``), which a UTF-8
    file, the Avro writer or a Kafka header refuse; each such byte is shown as its hex escape
    (``\\xe9``), so the entry still names the file. Any other lone surrogate (a JSON
    ``\\ud800`` escape) is shown as ``\\ud800``."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        pass
    else:
        return text
    try:
        raw = os.fsencode(text)
    except UnicodeEncodeError:  # a surrogate that no undecodable byte gives
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return raw.decode("utf-8", "backslashreplace")


@dataclass(frozen=True)
class Location:
    """Where a record is in its source: file (or table), line, and element path / column.

    ``str(location)`` is the one spelling of a location in quarantine entries, dead letters,
    log lines and answers: always valid UTF-8 (:func:`printable`), whatever bytes the file
    name holds."""

    file: str
    line: int | None = None
    path: str | None = None

    def __str__(self) -> str:
        text = self.file
        if self.line is not None:
            text += f":{self.line}"
        if self.path:
            text += f" {self.path}"
        return printable(text)


@dataclass(frozen=True)
class Record:
    """One record read from a source.

    Exactly one of ``event`` (a structured-mode CloudEvent in input form, with ``data.bsn``),
    ``rejection`` and ``skipped`` is set. ``skipped`` marks a record the source reads but
    deliberately does not map (another iWmo message type in the inbox): its value is a label of
    bounded cardinality (the message type), counted in a metric, never quarantined.
    ``cursor`` is the source position *after* this record.
    ``digest`` is a SHA-256 of the raw record, kept in quarantine instead of its content.
    """

    location: Location
    cursor: Cursor
    event: Mapping[str, Any] | None = None
    rejection: Rejection | None = None
    digest: str | None = None
    skipped: str | None = None


class SourceObserver:
    """What a source reports besides its records; the runner turns it into metrics. The
    default does nothing (a source must also log what it reports)."""

    def file_reread(self, cause: str) -> None:
        """A file is read again from the start because its consumed part changed (``cause``:
        ``changed``, ``shrunk``, ``no-digest``; see :func:`adapters.lines.resume`)."""

    def line_incomplete(self, file: str) -> None:
        """``file`` ends with a line without its newline that this run held back (continuous
        mode and ``schakel publish``: the file may still be being written): it is read by a
        later run."""

    def taken(self, record: Record) -> bool:
        """Whether the runner took the event of ``record`` — the record the source yielded
        last, asked once the yield returned — for publishing: it passed validation and was
        queued (not quarantined). Without a runner: ``True``."""
        return True

    def acceptable(self, event: Mapping[str, Any]) -> bool:
        """Whether the runner would take ``event`` (it passes validation), for a source that
        rebuilds what an earlier run took. Without a runner: ``True``."""
        return True


class Source(ABC):
    """A readable input of one adapter.

    ``records`` is called by the runner with the last durably stored cursor (empty on the
    first run). It yields every record after that position, in source order, and returns at
    the end of what is available now (one-shot; continuous mode calls it again after the
    poll interval). It must not raise for bad input — a bad record is yielded with a
    ``rejection`` — only for failures of the source itself (unreadable directory, lost
    database connection), which stop the run without a checkpoint.
    It does *not* guarantee that a record is yielded once: after a crash the records since
    the last checkpoint are yielded again.
    """

    name: str
    """Adapter name, as in ``schakel adapter <name>`` and in metric labels."""

    observer: SourceObserver = SourceObserver()
    """Set by the runner before :meth:`records` is called."""

    watching: bool = False
    """Whether a file may still be being written while it is read, so that a last line without
    its newline waits (:class:`adapters.lines.Settle`): set by the runner in continuous mode
    (:meth:`~adapters.runner.Runner.run_forever`), and by ``schakel publish`` (which polls a
    second time if a line was held back; :meth:`~adapters.runner.Runner.held_back`). ``False`` in a
    one-shot run (``schakel adapter --once``, replay), which reads the files as they are."""

    @abstractmethod
    def records(self, cursor: Cursor) -> Iterator[Record]:
        """Yield the records after ``cursor``."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources (connections, servers). Called once at the end of a run."""


def derive_id(*parts: object) -> str:
    """A deterministic event id from the parts that identify a source record (e.g. source
    system, record key, version): the same record always yields the same id.

    The id is the first 32 hex digits of a SHA-256 of the parts. A hex digest is a random
    token that :func:`schemas.pseudonym.holds_bsn` does not search — unless it has fewer than
    four letters, and then about one in two hundred would hold nine digits in a row that pass
    the elfproef, which the catalogue check refuses in any identifier. Such a hash (about one
    in fifty thousand) is replaced, deterministically, by the hash of the parts plus a counter;
    every other id is what it always was."""
    text = "\x1f".join(str(p) for p in parts)
    candidate = hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]
    counter = 0
    while _may_hold_bsn(candidate):
        counter += 1
        candidate = hashlib.sha256(f"{text}\x1f{counter}".encode()).hexdigest()[:32]
    return candidate


_DROP_DIGITS = str.maketrans("", "", "0123456789")


def _may_hold_bsn(hex_id: str) -> bool:
    """:func:`holds_bsn` for a hex digest, with its rule for random tokens as a fast path:
    a digest with at least ``MIN_RANDOM_LETTERS`` letters is never searched."""
    letters = len(hex_id.translate(_DROP_DIGITS))
    return letters < MIN_RANDOM_LETTERS and holds_bsn(hex_id)


def digest(raw: bytes | str) -> str:
    """SHA-256 hex of a raw record (kept in quarantine instead of the record itself)."""
    data = raw.encode("utf-8") if isinstance(raw, str) else raw
    return hashlib.sha256(data).hexdigest()


def mapping_defect(adapter: str, location: Location, exc: Exception) -> Rejection:
    """The rejection (reason :data:`INTERNAL_ERROR`) of the one record at ``location`` whose
    parsing or mapping raised ``exc`` — an exception no parser should raise for any input, so a
    defect of Schakel: the record is quarantined and the source goes on with the next one.

    The defect is logged at error level (``adapter.mapping_defect``) with the adapter, the
    record's location, the exception's class and the place in Schakel's code that raised it
    (``file:line`` of the innermost frame), never the exception's message, which may quote the
    record (``int()`` does). For pure code only, where the record's position is known; a
    caller lets a :class:`~schemas.exceptions.TransientError` (an outage) through instead."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f"{PurePath(frames[-1].filename).name}:{frames[-1].lineno}" if frames else "?"
    log.error(
        "adapter.mapping_defect",
        extra={
            "adapter": adapter,
            "location": str(location),
            "error": type(exc).__name__,
            "raised_at": where,
        },
    )
    return Rejection(
        "the record could not be read (a defect of Schakel; see the adapter log)",
        reason=INTERNAL_ERROR,
    )
