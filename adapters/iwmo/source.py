"""``schakel adapter iwmo DIR``: iWmo 3.2 XML messages, one message per ``*.xml`` file.

What a file becomes:
- a WMO301, WMO305 or WMO307 of release 3.2 → one record per product (an event, see
  :mod:`adapters.iwmo.mapping`, or a rejection of that product alone);
- another message of the release (WMO315, 317, 319, 323, a retour message, …) → one
  *skipped* record labelled with the message type: counted, not quarantined;
- a file that cannot be opened → one rejection ``unreadable``, tried again at every run and
  quarantined again only once its size or modification time changed; an entry that is not a
  regular file (a folder or a pipe named ``*.xml``) is not a message and is passed over;
- anything else → one rejection for the file: larger than ``max_bytes`` (``too-large``), not
  safe or well-formed XML or too deeply nested (:mod:`adapters.iwmo.safexml`), another
  release, a header that breaks the release's rules (BerichtCode, BerichtVersie/Subversie,
  ``XsdVersie`` outside the XSD's bounds, identification), no BSN, no products, a second
  ``Client``, ``Bsn`` or products container (``invalid``: the XSD allows one);
- a message or product whose reading raises anything else — a defect of Schakel, not an
  answer to the input — → a rejection ``internal-error`` of that file or product alone,
  logged as ``adapter.mapping_defect`` (:func:`adapters.base.mapping_defect`).

Only the BSN and the catalogue fields are taken from a message; names, addresses, birth date,
``Commentaar``, ``Omvang`` and the like are never copied anywhere.

Record versions (:mod:`adapters.iwmo.versions`, ``events.md`` "Corrections and deletions"):
every product's event carries its ``bronsleutel`` and ``sequence``, so a correction
(StatusAanlevering 2, a later WMO301 of the same ToewijzingNummer) replaces the earlier
delivery of the same record downstream; a product that *withdraws* one (StatusAanlevering 3; a
WMO301 allocation with RedenWijziging 13/01 and Einddatum equal to Ingangsdatum) is published
as ``nl.schakel.bron.verwijderd`` with the same key and its own ``sequence``, ``datum`` the
day of withdrawal (:attr:`adapters.iwmo.mapping.Mapped.withdrawn_on`), on the Wmo topic.

Cursor: ``{"files": {name: "<sha256>:<size>:<mtime_ns>"}}`` of the processed files still in
the directory (files moved away are dropped from it); files are read in name order; a file
whose size or modification time changed is hashed again and, if its content changed, read
again (ids dedupe). Every checkpoint holds every file of the directory: archive processed
messages elsewhere to keep it small.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adapters.base import Cursor, Location, Record, Source, mapping_defect
from adapters.exceptions import AdapterError, Rejection
from adapters.iwmo import safexml
from adapters.iwmo.files import ProcessedFiles, fingerprint, stream_sha256
from adapters.iwmo.mapping import Mapped, map_product
from adapters.iwmo.message import (
    CLIENT,
    ElementMissing,
    ElementRejection,
    Message,
    Skipped,
    identify,
    read_header,
)
from schemas.exceptions import TransientError
from schemas.pseudonym import Pseudonymiser
from schemas.wire import VERWIJDERD

log = logging.getLogger("schakel.adapters")

UNREADABLE = "unreadable"
"""Instead of the SHA-256 in a cursor entry: the file could not be opened at that size and
modification time."""


def _regular(path: Path) -> bool:
    """A regular file (following links); a folder or a pipe is passed over, never opened."""
    try:
        return path.is_file()
    except OSError:
        return True  # not even known: opening it gives the reason (``unreadable``)


@dataclass(frozen=True)
class _Outcome:
    location: Location
    event: dict[str, Any] | None = None
    rejection: Rejection | None = None
    skipped: str | None = None


def versioned_event(mapped: Mapped) -> dict[str, Any]:
    """The event to publish for one mapped product: its catalogue event with ``bronsleutel``
    and ``sequence``, or, for a withdrawal, a ``nl.schakel.bron.verwijderd`` of the same
    record (same id, BSN and key; ``datum`` the day of withdrawal; routed to the Wmo topic)."""
    version = mapped.version
    attributes = {"bronsleutel": version.bronsleutel, "sequence": version.sequence}
    if not version.deletion:
        return {**mapped.event, **attributes}
    data = {"bsn": mapped.event["data"]["bsn"], "datum": mapped.withdrawn_on}
    return {**mapped.event, **attributes, "type": VERWIJDERD, "domein": "wmo", "data": data}


class IwmoSource(Source):
    """A directory of iWmo 3.2 messages (or one message file).

    Guarantees: every file yields at least one record (events, rejections or one skipped
    record), so each is recorded as processed; only BSN and the catalogue fields are taken
    from a message; no file is read into memory beyond ``max_bytes``, and no element tree
    grows beyond the limits of :mod:`adapters.iwmo.safexml`. Not guaranteed: that a file
    written non-atomically is read complete — deliver by write + rename (a partial file is
    quarantined as malformed and read again once it changed).

    ``pseudonymiser`` is the runner's (the same pseudonym key): it makes the keyed token
    published for a ToewijzingNummer that could be a BSN
    (:func:`adapters.iwmo.versions.published_nummer`); the source never sees the key."""

    name = "iwmo"

    def __init__(
        self, path: Path, *, source: str, max_bytes: int, pseudonymiser: Pseudonymiser
    ) -> None:
        self.path = path
        self.source = source
        self.max_bytes = max_bytes
        self._pseudonymiser = pseudonymiser

    def _files(self) -> list[Path]:
        if self.path.is_file():
            return [self.path]
        try:
            entries = list(self.path.iterdir())
        except OSError as exc:
            raise AdapterError(f"iwmo: cannot list {self.path}: {exc.strerror}") from exc
        return sorted(
            (
                p
                for p in entries
                if p.name.lower().endswith(".xml") and not p.name.startswith(".") and _regular(p)
            ),
            key=lambda p: p.name,
        )

    def records(self, cursor: Cursor) -> Iterator[Record]:
        files = self._files()
        names = {p.name for p in files}
        stored = dict(cursor.get("files", {}))
        processed = ProcessedFiles(
            {k: v for k, v in stored.items() if k in names and isinstance(v, str)}
        )
        for path in files:
            yield from self._file(path, processed)

    def _file(self, path: Path, processed: ProcessedFiles) -> Iterator[Record]:
        before = processed.get(path.name) or ""
        try:
            handle = path.open("rb")
        except FileNotFoundError:
            return  # moved away between listing and reading
        except OSError as exc:
            yield from self._unreadable(path, exc, before, processed)
            return
        with handle:
            stat = os.fstat(handle.fileno())
            if before.partition(":")[2] == f"{stat.st_size}:{stat.st_mtime_ns}" and not (
                before.startswith(UNREADABLE)
            ):
                return  # same size and modification time: not changed
            too_large = stat.st_size > self.max_bytes
            data = b"" if too_large else handle.read(self.max_bytes + 1)
            too_large = too_large or len(data) > self.max_bytes
            sha = stream_sha256(handle) if too_large else hashlib.sha256(data).hexdigest()
        entry = fingerprint(sha, stat.st_size, stat.st_mtime_ns)
        if before.partition(":")[0] == sha:
            processed.add(path.name, entry)  # touched, not changed
            return
        outcomes = list(self._message(str(path), data, too_large))
        processed.add(path.name, entry)
        last = len(outcomes) - 1
        done: Cursor = {"files": processed.view()}
        reading: Cursor = {"files": processed.view(without_last=True)}
        for index, out in enumerate(outcomes):
            # only the last record of a file marks it processed
            cursor = done if index == last else reading
            yield Record(
                out.location,
                cursor,
                event=out.event,
                rejection=out.rejection,
                skipped=out.skipped,
                digest=sha,
            )

    def _unreadable(
        self, path: Path, exc: OSError, before: str, processed: ProcessedFiles
    ) -> Iterator[Record]:
        """A file that cannot be opened (its permissions, say) is one rejection
        (``unreadable``) and the other files go on. It is tried again at every run, and
        quarantined again only once it changed (size or modification time): read as soon as
        it can be."""
        try:
            stat = path.stat()
        except OSError:
            return  # gone meanwhile
        entry = fingerprint(UNREADABLE, stat.st_size, stat.st_mtime_ns)
        if before == entry:
            return
        processed.add(path.name, entry)
        yield Record(
            Location(str(path)),
            {"files": processed.view()},
            rejection=Rejection(f"cannot open file: {exc.strerror}", reason="unreadable"),
        )

    def _message(self, file: str, data: bytes, too_large: bool) -> Iterator[_Outcome]:
        if too_large:
            text = f"file larger than {self.max_bytes} bytes (SCHAKEL_MAX_XML_BYTES)"
            yield _Outcome(Location(file), rejection=Rejection(text, reason="too-large"))
            return
        try:
            root = safexml.parse(data)
            kind = identify(root)
            if isinstance(kind, Skipped):
                log.info(
                    "adapter.message_skipped",
                    extra={"adapter": self.name, "file": file, "bericht": kind.name},
                )
                yield _Outcome(Location(file), skipped=kind.name)
                return
            message = Message(root, kind)
            header = read_header(message)
            base = f"{CLIENT}/{kind.products}"
            container = message.child(message.child(root, "Client", CLIENT), kind.products, base)
            products = message.children(container, kind.product)
        except Rejection as exc:
            yield _Outcome(Location(file, path=getattr(exc, "path", None)), rejection=exc)
            return
        except TransientError:
            raise
        except Exception as exc:  # a defect met by this file: quarantined, logged, files go on
            defect = mapping_defect(self.name, Location(file), exc)
            yield _Outcome(Location(file), rejection=defect)
            return
        if not products:
            missing = ElementMissing(f"{base}/{kind.product}")
            yield _Outcome(Location(file, path=missing.path), rejection=missing)
            return
        for position, product in enumerate(products, start=1):
            where = f"{base}/{kind.product}[{position}]"
            try:
                mapped = map_product(
                    message,
                    header,
                    product,
                    position=position,
                    where=where,
                    source=self.source,
                    pseudonymiser=self._pseudonymiser,
                )
            except ElementRejection as exc:
                yield _Outcome(Location(file, path=exc.path), rejection=exc)
                continue
            except TransientError:
                raise
            except Exception as exc:  # a defect met by this product: the others go on
                defect = mapping_defect(self.name, Location(file, path=where), exc)
                yield _Outcome(Location(file, path=where), rejection=defect)
                continue
            yield _Outcome(Location(file, path=where), event=versioned_event(mapped))
        log.debug(
            "adapter.message_read",
            extra={"adapter": self.name, "file": file, "bericht": kind.name},
        )
