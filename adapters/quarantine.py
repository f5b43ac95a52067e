"""Quarantine: every rejected record is written to a local JSON-lines file and to the
dead-letter topic, with adapter, location, reason code and message — never the record itself
(it holds personal data), only its SHA-256 so an operator can match it."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from adapters.base import Location
from adapters.publisher import Publisher
from schemas.binding import component_source, record_headers
from schemas.pseudonym import mask_bsn

QUARANTAINE_SCHEMA = "nl.schakel.intern.quarantaine"


class Quarantine:
    """Writes quarantine entries of one adapter; :meth:`flush` makes them durable."""

    def __init__(self, adapter: str, path: Path, publisher: Publisher | None) -> None:
        self.adapter = adapter
        self.path = path
        self._publisher = publisher
        self._handle: IO[str] | None = None

    def put(
        self, location: Location, reason: str, message: str, digest: str | None
    ) -> dict[str, Any]:
        entry = {
            "adapter": self.adapter,
            "locatie": mask_bsn(str(location)),
            "reden": reason,
            "melding": mask_bsn(message),
            "record_sha256": digest,
            "tijd": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        if self._handle is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._handle = self.path.open("a", encoding="utf-8")
        self._handle.write(json.dumps(entry, ensure_ascii=False) + "\n")
        if self._publisher is not None:
            topic = self._publisher.wire.deadletter_adapters
            value = self._publisher.serializer.encode(topic, QUARANTAINE_SCHEMA, entry)
            identity = "\n".join(
                str(entry[k]) for k in ("adapter", "locatie", "reden", "record_sha256")
            )
            headers = record_headers(
                QUARANTAINE_SCHEMA,
                identity,
                source=component_source(f"adapter:{self.adapter}"),
                time=str(entry["tijd"]),
            )
            self._publisher.send_raw(topic, self.adapter.encode(), value, headers)
        return entry

    def flush(self) -> None:
        if self._handle is not None:
            self._handle.flush()
            os.fsync(self._handle.fileno())

    def close(self) -> None:
        if self._handle is not None:
            self.flush()
            self._handle.close()
            self._handle = None
