"""``schakel adapter iwmo DIR``: iWmo 3.2 XML messages, one message per ``*.xml`` file.

- WMO301 (BerichtCode 414) → one ``nl.wmo.voorzieningen.toegewezen`` per ToegewezenProduct
  (``datum`` = Toewijzingsdatum);
- WMO305 (418) → ``nl.wmo.voorzieningen.gestart`` per StartProduct (``datum`` = Begindatum);
- WMO307 (420) → ``nl.wmo.voorzieningen.gestopt`` per StopProduct (``datum`` = Einddatum,
  ``reden_beeindiging`` = RedenBeeindiging).

Elements are matched on local name *and* namespace (the message namespace
``http://www.istandaarden.nl/iwmo/3_2/<msg>/schema`` or the basisschema namespace); every
other element (names, addresses, birth date, Commentaar, Omvang, …) is ignored and never
copied anywhere. Parsing is hardened (defusedxml: no DTD, no entities, no external
resources); a file above ``max_xml_bytes`` is quarantined after a streaming hash, without
being read whole. A message-level problem (not XML, DTD, other release, missing header or BSN)
rejects the file once; a product-level problem rejects that product only.

Event id: ``derive_id(source, Afzender, Identificatie, Dagtekening, BerichtCode,
ToewijzingNummer, Product/Code)`` (an Identificatie is unique per sender). No ``time``.

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
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from xml.etree.ElementTree import Element, ParseError

import defusedxml
import defusedxml.ElementTree as SafeET

from adapters.base import Cursor, Location, Record, Source, derive_id
from adapters.exceptions import AdapterError, Rejection

log = logging.getLogger("schakel.adapters")

RELEASE = "3_2"
NS_ROOT = "http://www.istandaarden.nl/iwmo/"
BASIS = f"{NS_ROOT}{RELEASE}/basisschema/schema"
_NS = re.compile(r"http://www\.istandaarden\.nl/iwmo/(\d+_\d+)/(\w+)/schema")
_CHUNK = 1 << 16


@dataclass(frozen=True)
class MessageKind:
    """One supported iWmo message and how its products map to an event type."""

    name: str
    code: str
    products: str
    product: str
    event_type: str

    @property
    def namespace(self) -> str:
        return f"{NS_ROOT}{RELEASE}/{self.name.lower()}/schema"


KINDS = {
    kind.namespace: kind
    for kind in (
        MessageKind(
            "WMO301",
            "414",
            "ToegewezenProducten",
            "ToegewezenProduct",
            "nl.wmo.voorzieningen.toegewezen",
        ),
        MessageKind(
            "WMO305", "418", "StartProducten", "StartProduct", "nl.wmo.voorzieningen.gestart"
        ),
        MessageKind(
            "WMO307", "420", "StopProducten", "StopProduct", "nl.wmo.voorzieningen.gestopt"
        ),
    )
}


class ElementMissing(Rejection):
    """A required element is absent or empty; ``path`` is its element path."""

    def __init__(self, path: str) -> None:
        super().__init__(f"{path}: required element is missing or empty", reason="missing-field")
        self.path = path


class _Message:
    """Namespace-aware access to the elements of one parsed message."""

    def __init__(self, root: Element, kind: MessageKind) -> None:
        self.root = root
        self.kind = kind
        self._spaces = (kind.namespace, BASIS)

    def child(self, parent: Element, name: str) -> Element | None:
        for space in self._spaces:
            found = parent.find(f"{{{space}}}{name}")
            if found is not None:
                return found
        return None

    def children(self, parent: Element, name: str) -> list[Element]:
        out: list[Element] = []
        for space in self._spaces:
            out += parent.findall(f"{{{space}}}{name}")
        return out

    def text(self, parent: Element, names: str, base: str, *, required: bool = True) -> str:
        """Text of the descendant ``names`` (``A/B``) of ``parent`` at element path ``base``."""
        node: Element | None = parent
        for name in names.split("/"):
            node = self.child(node, name) if node is not None else None
        value = (node.text or "").strip() if node is not None else ""
        if not value and required:
            raise ElementMissing(f"{base}/{names}")
        return value


@dataclass(frozen=True)
class _Header:
    afzender: str
    identificatie: str
    dagtekening: str
    bsn: str


class ProcessedFiles:
    """Append-only log of processed files (name → ``sha256:size:mtime_ns``).

    :meth:`view` is an O(1) snapshot for a record's cursor; it is materialised only when
    read (the runner reads only the cursors it checkpoints, in increasing log order, so
    materialising advances one shared dictionary instead of rebuilding it)."""

    def __init__(self, initial: Mapping[str, str]) -> None:
        self._log: list[tuple[str, str]] = []
        self._latest: dict[str, str] = dict(initial)
        self._base = dict(initial)
        self._built: dict[str, str] = dict(initial)
        self._built_upto = 0

    def get(self, name: str) -> str | None:
        return self._latest.get(name)

    def add(self, name: str, value: str) -> None:
        self._log.append((name, value))
        self._latest[name] = value

    def view(self, *, without_last: bool = False) -> _FilesView:
        """The processed files now (``without_last``: before the last :meth:`add`)."""
        return _FilesView(self, len(self._log) - int(without_last))

    def snapshot(self, upto: int) -> dict[str, str]:
        """A new dict of the files after the first ``upto`` log entries."""
        if upto < self._built_upto:  # an older snapshot: rebuild (not the runner's pattern)
            out = dict(self._base)
            out.update(self._log[:upto])
            return out
        self._built.update(self._log[self._built_upto : upto])
        self._built_upto = upto
        return dict(self._built)


class _FilesView(Mapping[str, str]):
    def __init__(self, files: ProcessedFiles, upto: int) -> None:
        self._files, self._upto = files, upto
        self._dict: dict[str, str] | None = None

    def _materialise(self) -> dict[str, str]:
        if self._dict is None:
            self._dict = self._files.snapshot(self._upto)
        return self._dict

    def __getitem__(self, key: str) -> str:
        return self._materialise()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._materialise())

    def __len__(self) -> int:
        return len(self._materialise())


def _fingerprint(sha: str, size: int, mtime_ns: int) -> str:
    return f"{sha}:{size}:{mtime_ns}"


def _stream_sha256(handle: IO[bytes]) -> str:
    sha = hashlib.sha256()
    handle.seek(0)
    while chunk := handle.read(_CHUNK):
        sha.update(chunk)
    return sha.hexdigest()


class IwmoSource(Source):
    """A directory of iWmo 3.2 messages (or one message file).

    Guarantees: every file yields at least one record (events and/or rejections), so each is
    recorded as processed; only BSN and the catalogue fields are taken from a message; no
    file is read into memory beyond ``max_bytes``. Not guaranteed: that a file written
    non-atomically is read complete — deliver by write + rename (a partial file is
    quarantined as malformed and read again once it changed)."""

    name = "iwmo"

    def __init__(self, path: Path, *, source: str, max_bytes: int) -> None:
        self.path = path
        self.source = source
        self.max_bytes = max_bytes

    def _files(self) -> list[Path]:
        if self.path.is_file():
            return [self.path]
        try:
            entries = list(self.path.iterdir())
        except OSError as exc:
            raise AdapterError(f"iwmo: cannot list {self.path}: {exc.strerror}") from exc
        return sorted(
            (p for p in entries if p.name.lower().endswith(".xml") and not p.name.startswith(".")),
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
        try:
            handle = path.open("rb")
        except FileNotFoundError:
            return  # moved away between listing and reading
        except OSError as exc:
            raise AdapterError(f"iwmo: cannot open {path}: {exc.strerror}") from exc
        with handle:
            stat = os.fstat(handle.fileno())
            before = processed.get(path.name) or ""
            if before.partition(":")[2] == f"{stat.st_size}:{stat.st_mtime_ns}":
                return  # same size and modification time: not changed
            too_large = stat.st_size > self.max_bytes
            data = b"" if too_large else handle.read(self.max_bytes + 1)
            too_large = too_large or len(data) > self.max_bytes
            sha = _stream_sha256(handle) if too_large else hashlib.sha256(data).hexdigest()
        entry = _fingerprint(sha, stat.st_size, stat.st_mtime_ns)
        if before.partition(":")[0] == sha:
            processed.add(path.name, entry)  # touched, not changed
            return
        records = list(self._message(path, data, sha, too_large))
        processed.add(path.name, entry)
        last = len(records) - 1
        done: Cursor = {"files": processed.view()}
        reading: Cursor = {"files": processed.view(without_last=True)}
        for index, (location, event, rejection) in enumerate(records):
            # only the last record of a file marks it processed
            cursor = done if index == last else reading
            yield Record(location, cursor, event=event, rejection=rejection, digest=sha)

    def _message(
        self, path: Path, data: bytes, sha: str, too_large: bool
    ) -> Iterator[tuple[Location, dict[str, Any] | None, Rejection | None]]:
        file = str(path)
        if too_large:
            yield (
                Location(file),
                None,
                Rejection(
                    f"file larger than {self.max_bytes} bytes (SCHAKEL_MAX_XML_BYTES)",
                    reason="too-large",
                ),
            )
            return
        try:
            message, header = self._parse(data)
        except Rejection as exc:
            yield Location(file, path=getattr(exc, "path", None)), None, exc
            return
        kind = message.kind
        client = message.child(message.root, "Client")
        base = f"Bericht/Client/{kind.products}"
        container = message.child(client, kind.products) if client is not None else None
        products = message.children(container, kind.product) if container is not None else []
        if not products:
            missing = ElementMissing(f"{base}/{kind.product}")
            yield Location(file, path=missing.path), None, missing
            return
        for index, product in enumerate(products, start=1):
            where = f"{base}/{kind.product}[{index}]"
            try:
                event = self._event(message, header, product, where)
            except ElementMissing as exc:
                yield Location(file, path=exc.path), None, exc
                continue
            yield Location(file, path=where), event, None
        log.debug(
            "adapter.message_read",
            extra={"adapter": self.name, "file": file, "bericht": kind.name, "sha256": sha},
        )

    def _parse(self, data: bytes) -> tuple[_Message, _Header]:
        try:
            root = SafeET.fromstring(
                data, forbid_dtd=True, forbid_entities=True, forbid_external=True
            )
        except (defusedxml.DTDForbidden, defusedxml.EntitiesForbidden) as exc:
            raise Rejection(
                "the file declares a DTD or entities; iWmo messages must not (refused for safety)",
                reason="dtd-forbidden",
            ) from exc
        except (defusedxml.ExternalReferenceForbidden, defusedxml.NotSupportedError) as exc:
            raise Rejection(
                "the file refers to an external resource (refused for safety)",
                reason="dtd-forbidden",
            ) from exc
        except ParseError as exc:
            line, column = exc.position
            raise Rejection(
                f"not well-formed XML (line {line}, column {column})", reason="malformed"
            ) from exc
        except ValueError as exc:  # e.g. an unknown encoding declaration
            raise Rejection("not readable XML: unsupported encoding", reason="encoding") from exc
        kind = self._kind(root)
        message = _Message(root, kind)
        head = message.child(root, "Header")
        if head is None:
            raise ElementMissing("Bericht/Header")
        hp = "Bericht/Header"
        code = message.text(head, "BerichtCode", hp)
        if code != kind.code:
            raise _PathRejection(
                f"{hp}/BerichtCode",
                f"{hp}/BerichtCode: {code[:8]!r} does not match the {kind.name} namespace "
                f"(expected {kind.code})",
                "unknown-value",
            )
        version = (
            message.text(head, "BerichtVersie", hp),
            message.text(head, "BerichtSubversie", hp),
        )
        if version != ("3", "2"):
            raise _PathRejection(
                f"{hp}/BerichtVersie",
                f"{hp}: BerichtVersie/BerichtSubversie {version[0][:4]}.{version[1][:4]} is not "
                "supported; only iWmo release 3.2 (3/2)",
                "wrong-version",
            )
        client = message.child(root, "Client")
        if client is None:
            raise ElementMissing("Bericht/Client")
        header = _Header(
            afzender=message.text(head, "Afzender", hp),
            identificatie=message.text(head, "BerichtIdentificatie/Identificatie", hp),
            dagtekening=message.text(head, "BerichtIdentificatie/Dagtekening", hp),
            bsn=message.text(client, "Bsn", "Bericht/Client"),
        )
        return message, header

    @staticmethod
    def _kind(root: Element) -> MessageKind:
        space, _, local = (
            root.tag[1:].partition("}") if root.tag.startswith("{") else ("", "", root.tag)
        )
        kind = KINDS.get(space)
        if kind is not None and local == "Bericht":
            return kind
        match = _NS.fullmatch(space)
        if local != "Bericht" or match is None:
            raise Rejection(
                "not an iWmo 3.2 message: expected root element Bericht in namespace "
                f"{NS_ROOT}{RELEASE}/wmo301/schema (or wmo305, wmo307)",
                reason="wrong-version",
            )
        release, msg = match.groups()
        if release != RELEASE:
            raise Rejection(
                f"iWmo release {release.replace('_', '.')} is not supported; only release 3.2 "
                f"(namespace {NS_ROOT}{RELEASE}/…/schema)",
                reason="wrong-version",
            )
        raise Rejection(
            f"{msg.upper()[:8]} messages are not mapped by Schakel; this directory should hold "
            "WMO301, WMO305 and WMO307 messages only",
            reason="unsupported-message",
        )

    def _event(
        self, message: _Message, header: _Header, product: Element, where: str
    ) -> dict[str, Any]:
        kind = message.kind
        nummer = message.text(product, "ToewijzingNummer", where)
        categorie = message.text(product, "Product/Categorie", where)
        code = message.text(product, "Product/Code", where, required=False)
        data: dict[str, Any] = {
            "bsn": header.bsn,
            "toewijzing_nummer": nummer,
            "productcategorie": categorie,
        }
        if kind.code == "414":
            data["datum"] = message.text(product, "Toewijzingsdatum", where)
            data["ingangsdatum"] = message.text(product, "Ingangsdatum", where)
            einddatum = message.text(product, "Einddatum", where, required=False)
            if einddatum:
                data["einddatum"] = einddatum
        elif kind.code == "418":
            data["datum"] = message.text(product, "Begindatum", where)
        else:
            data["datum"] = message.text(product, "Einddatum", where)
            data["reden_beeindiging"] = message.text(product, "RedenBeeindiging", where)
        return {
            "specversion": "1.0",
            "id": derive_id(
                self.source,
                header.afzender,
                header.identificatie,
                header.dagtekening,
                kind.code,
                nummer,
                code,
            ),
            "source": self.source,
            "type": kind.event_type,
            "data": data,
        }


class _PathRejection(Rejection):
    def __init__(self, path: str, message: str, reason: str) -> None:
        super().__init__(message, reason=reason)
        self.path = path
