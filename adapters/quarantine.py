"""Quarantine: every rejected record is written to a local JSON-lines file and to the
dead-letter topic, with adapter, location, reason code and message — never the record itself
(it holds personal data), only a keyed digest of it (``record_sha256``: the runner's
:meth:`~adapters.runner.Runner._keyed`, under the pseudonym key) so an operator can match it."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from adapters.base import Location, printable
from adapters.exceptions import QuarantineError, RecordTooLarge
from adapters.publisher import Publisher
from schemas.binding import component_source, record_headers
from schemas.exceptions import SchakelError, SerdeError
from schemas.pseudonym import mask_bsn

log = logging.getLogger("schakel.adapters")

QUARANTAINE_SCHEMA = "nl.schakel.intern.quarantaine"


@dataclass(frozen=True)
class Written:
    """A quarantine entry :meth:`Quarantine.flush` wrote: the rejected record's location,
    reason code and message as given to :meth:`Quarantine.put` (unmasked: the file's line
    masks BSNs)."""

    location: Location
    reason: str
    message: str


class Quarantine:
    """Writes quarantine entries of one adapter.

    :meth:`put` first encodes and queues an entry's dead letter, then holds its file line;
    :meth:`flush` appends the lines held to the file and fsyncs it (the runner calls it after
    the producer's flush, before the checkpoint); :meth:`discard` drops them. So a line is
    written once per rejected record: when the schema registry or the broker is down, ``put``
    or the producer's flush raises the outage, the runner discards what it held and reads the
    same records again from its checkpoint once the outage is over.

    Every text of an entry is valid UTF-8 (:func:`adapters.base.printable`). A dead letter
    that cannot be built for one entry (a defect of Schakel) or that Kafka refuses for its size
    is logged (``adapter.deadletter_defect``, ``adapter.deadletter_refused``) and the entry
    still written to the file; an outage or a configuration error of the registry is raised."""

    def __init__(self, adapter: str, path: Path, publisher: Publisher | None) -> None:
        self.adapter = adapter
        self.path = path
        self._publisher = publisher
        self._fd: int | None = None
        self._held: list[tuple[str, Written]] = []
        """(file line, entry) of the entries put since the last :meth:`flush`."""

    def put(
        self, location: Location, reason: str, message: str, digest: str | None
    ) -> dict[str, Any]:
        """Queue the dead letter of one rejected record and hold its file line until
        :meth:`flush`. Raises what the registry or the producer raise for an outage
        (:class:`~schemas.exceptions.TransientError`); nothing is held then."""
        entry: dict[str, Any] = {
            "adapter": printable(self.adapter),
            "locatie": printable(mask_bsn(str(location))),
            "reden": printable(reason),
            "melding": printable(mask_bsn(message)),
            "record_sha256": digest,
            "tijd": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        if self._publisher is not None:
            self._dead_letter(self._publisher, entry)
        line = json.dumps(entry, ensure_ascii=False) + "\n"
        self._held.append((line, Written(location, reason, message)))
        return entry

    def _dead_letter(self, publisher: Publisher, entry: dict[str, Any]) -> None:
        topic = publisher.wire.deadletter_adapters
        try:
            value = publisher.serializer.encode(topic, QUARANTAINE_SCHEMA, entry)
            identity = "\n".join(
                str(entry[k]) for k in ("adapter", "locatie", "reden", "record_sha256")
            )
            headers = record_headers(
                QUARANTAINE_SCHEMA,
                identity,
                source=component_source(f"adapter:{self.adapter}"),
                time=str(entry["tijd"]),
            )
        except SerdeError as exc:  # the entry does not fit its schema: a defect
            self._defect(exc)
            return
        except SchakelError:
            raise  # an outage (waited out) or the registry's configuration (reported)
        except Exception as exc:  # a defect met by this one entry
            self._defect(exc)
            return
        try:
            publisher.send_raw(topic, self.adapter.encode(), value, headers)
        except RecordTooLarge:
            log.error("adapter.deadletter_refused", extra={"adapter": self.adapter})

    def _defect(self, exc: Exception) -> None:
        log.error(
            "adapter.deadletter_defect",
            extra={"adapter": self.adapter, "error": type(exc).__name__},
        )

    def flush(self) -> list[Written]:
        """Append the lines held to the file and fsync it; return the entries written (in the
        order put), each once: a line dropped by :meth:`discard` is never returned.

        All or nothing: if the lines cannot all be written and synced (a full disk), the file
        is cut back to its size before and :class:`~adapters.exceptions.QuarantineError`
        (naming the file) raised; the lines are dropped, as by :meth:`discard`, for their
        records are read again after the checkpoint before them."""
        held, self._held = self._held, []
        if not held:
            return []
        data = "".join(line for line, _ in held).encode("utf-8", errors="backslashreplace")
        try:
            fd = self._open()
        except OSError as exc:
            raise self._error(exc) from exc
        size = os.fstat(fd).st_size
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        except OSError as exc:
            try:
                os.ftruncate(fd, size)
                os.fsync(fd)
            except OSError:
                log.error("adapter.quarantine_not_cut_back", extra={"adapter": self.adapter})
            raise self._error(exc) from exc
        return [written for _, written in held]

    def _open(self) -> int:
        if self._fd is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
        return self._fd

    def _error(self, exc: OSError) -> QuarantineError:
        return QuarantineError(
            mask_bsn(f"cannot write the quarantine file {self.path}: {exc.strerror or exc}")
        )

    def discard(self) -> None:
        """Drop the lines held since the last :meth:`flush` (their records are read again)."""
        self._held = []

    def close(self) -> None:
        self.flush()
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
