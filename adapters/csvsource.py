"""Shared machinery of the `;`-separated CSV exports (sociale-dienst, vroegsignalering).

Reading: files are streamed line by line in binary (never held in memory whole); the encoding
of a file is detected with one streaming pass before its rows are read — UTF-8 (a BOM is
allowed and skipped) if every byte sequence is valid UTF-8, else Windows-1252 (cp1252). A file
with a UTF-16 BOM or NUL bytes is rejected as a whole (``encoding``).

Header: line 1 names the columns, matched case-insensitively and in any order against the
layouts the adapter accepts; the matching layout decides how the rows are read. A header that
matches no layout rejects the whole file (``columns``, or ``delimiter`` if it is separated by
another character) and names the expected columns.

Rows: a row with another number of fields than the header is rejected (``columns`` /
``delimiter``); a row whose key columns repeat an earlier row of the same file is rejected
(``duplicate``, the first row wins). Cells are trimmed; quoting with ``"`` is allowed within a
line (no line breaks inside cells). A file of zero bytes or only blank lines is rejected once
(``empty-file``); a file with only a header is a valid export without rows.

Cursor: ``{"files": {path: {"offset", "line", "head", "head_len"}}}`` — the byte offset and
line number after the last record, and a SHA-256 of the first ``head_len`` bytes of the file,
so that a file replaced by a new export (same name, other content) is read from the start
again while a file that only grew is read on from the offset.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import logging
import re
from abc import abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO, Any

from adapters.base import Cursor, Location, Record, Source, digest
from adapters.exceptions import AdapterError, Rejection

log = logging.getLogger("schakel.adapters")

DELIMITER = ";"
MAX_LINE_BYTES = 65_536
HEAD_BYTES = 4096
_CHUNK = 1 << 16
_OTHER_DELIMITERS = {",": "','", "\t": "a tab", "|": "'|'"}
_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_DUTCH = re.compile(r"(\d{2})-(\d{2})-(\d{4})")
_INT = re.compile(r"\d{1,9}")
_DECIMAL = re.compile(r"(\d{1,6})(?:[.,](\d{1,2}))?")
_AMOUNT_PLAIN = re.compile(r"(\d{1,12})(?:,(\d{1,2}))?")
_AMOUNT_GROUPED = re.compile(r"(\d{1,3}(?:\.\d{3})+),(\d{1,2})")
_AMOUNT_AMBIGUOUS = re.compile(r"\d{1,3}(?:\.\d{3})+")


class CellError(Rejection):
    """A cell that cannot be mapped; ``column`` becomes the location's path."""

    def __init__(self, column: str, message: str, *, reason: str) -> None:
        super().__init__(f"column {column}: {message}", reason=reason)
        self.column = column


@dataclass(frozen=True)
class CsvLayout:
    """One accepted header: its ``kind`` (passed to :meth:`CsvSource.map_row`), the columns
    in their documented order, and the columns that identify a row within a file."""

    kind: str
    columns: tuple[str, ...]
    key: tuple[str, ...]

    @property
    def header(self) -> str:
        return DELIMITER.join(self.columns)


# ---------------------------------------------------------------- cell parsers (pure)


def parse_date(value: str, column: str) -> str:
    """``YYYY-MM-DD`` or ``DD-MM-YYYY`` → ``YYYY-MM-DD``; an existing date or
    :class:`CellError` (``bad-date``). The value is never echoed."""
    match = _ISO.fullmatch(value)
    if match is not None:
        year, month, day = match.groups()
    else:
        match = _DUTCH.fullmatch(value)
        if match is None:
            raise CellError(
                column, "expected a date as YYYY-MM-DD or DD-MM-YYYY", reason="bad-date"
            )
        day, month, year = match.groups()
    try:
        return date(int(year), int(month), int(day)).isoformat()
    except ValueError:
        raise CellError(column, "not an existing calendar date", reason="bad-date") from None


def parse_int(value: str, column: str) -> int:
    """A whole number of at most 9 digits or :class:`CellError` (``bad-number``)."""
    if not _INT.fullmatch(value):
        raise CellError(column, "expected a whole number (digits only)", reason="bad-number")
    return int(value)


def parse_decimal(value: str, column: str) -> float:
    """A number with an optional decimal comma or dot and at most two decimals
    (``12,5``, ``12.5``, ``12``) or :class:`CellError` (``bad-number``)."""
    match = _DECIMAL.fullmatch(value)
    if match is None:
        raise CellError(
            column,
            "expected a number such as 12 or 12,5 (at most two decimals)",
            reason="bad-number",
        )
    whole, fraction = match.groups()
    return float(f"{whole}.{fraction or '0'}")


def parse_amount_cents(value: str, column: str) -> int:
    """Euros with a decimal comma and optional thousands dots → cents:
    ``1.234,56`` → 123456, ``1234,5`` → 123450, ``12`` → 1200, an optional leading ``€``.
    Ambiguous (``1.234`` — thousands dots without a decimal comma) or invalid amounts raise
    :class:`CellError` (``bad-amount``). The amount is never echoed (it is personal data)."""
    text = value.removeprefix("€").strip()
    match = _AMOUNT_PLAIN.fullmatch(text) or _AMOUNT_GROUPED.fullmatch(text)
    if match is None:
        if _AMOUNT_AMBIGUOUS.fullmatch(text):
            raise CellError(
                column,
                "ambiguous amount: thousands dots without a decimal comma; "
                "write it as 1234,00 or 1.234,00",
                reason="bad-amount",
            )
        raise CellError(
            column,
            "expected euros with a decimal comma, e.g. 1234,56 or 1.234,56",
            reason="bad-amount",
        )
    whole, fraction = match.groups()
    return int(whole.replace(".", "")) * 100 + int((fraction or "0").ljust(2, "0"))


def enum_value(value: str) -> str:
    """An enumeration cell in catalogue spelling (lower case); validated downstream."""
    return value.lower()


# ---------------------------------------------------------------- file reading


@dataclass
class _FileState:
    offset: int
    line: int
    head: str
    head_len: int

    def cursor(self) -> dict[str, Any]:
        return {
            "offset": self.offset,
            "line": self.line,
            "head": self.head,
            "head_len": self.head_len,
        }


def detect_encoding(handle: IO[bytes]) -> str | None:
    """``utf-8-sig``, ``utf-8`` or ``cp1252`` by one streaming pass; ``None`` for UTF-16 or
    binary content. Leaves ``handle`` at offset 0."""
    handle.seek(0)
    first = handle.read(_CHUNK)
    if first.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in first:
        handle.seek(0)
        return None
    decoder = codecs.getincrementaldecoder("utf-8")()
    chunk = first
    encoding = "utf-8-sig" if first.startswith(codecs.BOM_UTF8) else "utf-8"
    try:
        while chunk:
            decoder.decode(chunk)
            chunk = handle.read(_CHUNK)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        encoding = "cp1252"
    handle.seek(0)
    return encoding


def _split(text: str) -> list[str]:
    if '"' not in text:
        return text.split(DELIMITER)
    return next(csv.reader([text], delimiter=DELIMITER, strict=True))


def _other_delimiter(text: str) -> str | None:
    for char, name in _OTHER_DELIMITERS.items():
        if char in text:
            return name
    return None


class CsvSource(Source):
    """A `;`-separated export read in the order of ``paths``.

    Guarantees: every non-blank line after the header yields exactly one record (an event or
    a rejection naming file, line and column); an unusable file yields one rejection; the
    cursor after a record lets a restart continue behind it. Subclasses only map a row to a
    CloudEvent (:meth:`map_row`). Not guaranteed: that a duplicate of a row read in an
    earlier *file* is recognised (event ids make it a duplicate downstream)."""

    layouts: tuple[CsvLayout, ...]

    def __init__(self, paths: Sequence[Path], *, source: str) -> None:
        if not paths:
            raise AdapterError(f"{self.name}: no input file given")
        self.paths = list(paths)
        self.source = source

    @abstractmethod
    def map_row(self, layout: CsvLayout, row: Mapping[str, str]) -> dict[str, Any]:
        """The structured-mode CloudEvent (with ``data.bsn``) of one row; raise
        :class:`CellError` / :class:`Rejection` for a row that cannot be mapped."""

    def records(self, cursor: Cursor) -> Iterator[Record]:
        files: dict[str, Any] = {k: dict(v) for k, v in dict(cursor.get("files", {})).items()}
        for path in self.paths:
            yield from self._file(path, files)

    # -- one file

    def _file(self, path: Path, files: dict[str, Any]) -> Iterator[Record]:
        key = str(path)
        try:
            handle = path.open("rb")
        except OSError as exc:
            raise AdapterError(f"{self.name}: cannot open {key}: {exc.strerror}") from exc
        with handle:
            yield from self._read(handle, key, files)

    def _start(self, handle: IO[bytes], key: str, files: dict[str, Any]) -> _FileState | None:
        """The state to continue from; ``None`` when nothing was added since the cursor."""
        size = handle.seek(0, 2)
        handle.seek(0)
        head_len = min(size, HEAD_BYTES)
        fresh = _FileState(0, 0, hashlib.sha256(handle.read(head_len)).hexdigest(), head_len)
        stored = files.get(key)
        if stored is None:
            return fresh
        old_len = int(stored.get("head_len", 0))
        handle.seek(0)
        same = (
            old_len <= size
            and hashlib.sha256(handle.read(old_len)).hexdigest() == stored.get("head")
            and int(stored.get("offset", 0)) <= size
        )
        if not same:
            log.info("adapter.file_replaced", extra={"adapter": self.name, "file": key})
            return fresh
        if int(stored["offset"]) == size:
            return None
        return _FileState(int(stored["offset"]), int(stored["line"]), fresh.head, fresh.head_len)

    def _read(self, handle: IO[bytes], key: str, files: dict[str, Any]) -> Iterator[Record]:
        state = self._start(handle, key, files)
        if state is None:
            return
        resume_at = state.offset
        size = handle.seek(0, 2)

        def done(line: int, offset: int = size) -> Cursor:
            state.offset, state.line = offset, line
            files[key] = state.cursor()
            return {"files": dict(files)}

        encoding = detect_encoding(handle)
        if encoding is None:
            message = "the file is UTF-16 or binary; export it as UTF-8 or Windows-1252"
            yield self._reject_file(key, done(0), message, "encoding")
            return
        log.info(
            "adapter.encoding_detected",
            extra={"adapter": self.name, "file": key, "encoding": encoding},
        )
        header_raw = handle.readline(MAX_LINE_BYTES + 1)
        header = header_raw.decode(encoding, errors="replace").lstrip("\ufeff").strip()
        if not header:
            if not _blank_rest(handle):
                message = "line 1 is blank; the header must be on line 1"
                yield self._reject_file(key, done(1), message, "columns")
            elif resume_at == 0:
                yield self._reject_file(key, done(0), "empty file", "empty-file")
            return
        layout, order, problem = self._match_header(header)
        if layout is None:
            yield self._reject_file(key, done(1), problem, problem_reason(problem))
            return
        rows = _Rows(self, "utf-8" if encoding == "utf-8-sig" else encoding, layout, order)
        offset, line_no = len(header_raw), 1
        while raw := handle.readline(MAX_LINE_BYTES + 1):
            line_no += 1
            offset += len(raw)
            too_long = len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n")
            if too_long:
                offset += _skip_line(handle)
            if offset <= resume_at:
                rows.remember(raw, line_no)
            elif too_long:
                yield Record(
                    Location(key, line_no),
                    done(line_no, offset),
                    rejection=Rejection(
                        f"line longer than {MAX_LINE_BYTES} bytes", reason="too-large"
                    ),
                    digest=digest(raw),
                )
            elif raw.strip():
                yield rows.record(raw, Location(key, line_no), done(line_no, offset))

    def _reject_file(self, key: str, cursor: Cursor, message: str, reason: str) -> Record:
        return Record(
            Location(key, 1 if reason in ("columns", "delimiter") else None),
            cursor,
            rejection=Rejection(message, reason=reason),
        )

    def _match_header(self, header: str) -> tuple[CsvLayout | None, list[str], str]:
        names = [c.strip().strip('"').lower() for c in header.split(DELIMITER)]
        for layout in self.layouts:
            if len(names) == len(layout.columns) and set(names) == set(layout.columns):
                return layout, names, ""
        expected = " or ".join(layout.header for layout in self.layouts)
        if len(names) == 1 and (other := _other_delimiter(header)) is not None:
            return (
                None,
                [],
                f"line 1: the header is separated by {other}; expected ';'-separated "
                f"columns {expected}",
            )
        best = min(self.layouts, key=lambda lay: len(set(lay.columns) - set(names)))
        missing = [c for c in best.columns if c not in names]
        detail = f" (missing: {', '.join(missing)})" if missing else " (extra or repeated columns)"
        return None, [], f"line 1: the header does not match; expected columns {expected}{detail}"


class _Rows:
    """The rows of one file with a known encoding and layout, and the keys seen so far."""

    def __init__(
        self, source: CsvSource, encoding: str, layout: CsvLayout, order: list[str]
    ) -> None:
        self.source = source
        self.encoding = encoding
        self.layout = layout
        self.order = order
        self.key_idx = [order.index(c) for c in layout.key]
        self.seen: dict[tuple[str, ...], int] = {}

    def remember(self, raw: bytes, line_no: int) -> None:
        """Rebuild the duplicate memory from a line before the resume offset."""
        try:
            fields = _split(raw.decode(self.encoding).rstrip("\r\n"))
        except (UnicodeDecodeError, csv.Error):
            return
        if len(fields) == len(self.order):
            self.seen.setdefault(tuple(fields[i].strip() for i in self.key_idx), line_no)

    def _fields(self, raw: bytes, line: int) -> list[str]:
        try:
            text = raw.decode(self.encoding).rstrip("\r\n")
        except UnicodeDecodeError:
            raise Rejection(
                f"line {line} holds bytes that are not valid {self.encoding}; "
                "export the file as UTF-8",
                reason="encoding",
            ) from None
        try:
            fields = _split(text)
        except csv.Error:
            raise Rejection(f"line {line}: unbalanced quotes", reason="malformed") from None
        if len(fields) != len(self.order):
            other = _other_delimiter(text) if len(fields) == 1 else None
            if other is not None:
                raise Rejection(
                    f"line {line}: fields are separated by {other}, expected ';'",
                    reason="delimiter",
                )
            raise Rejection(
                f"line {line}: {len(fields)} fields, expected {len(self.order)} "
                f"({self.layout.header})",
                reason="columns",
            )
        row_key = tuple(fields[i].strip() for i in self.key_idx)
        if all(row_key):
            first = self.seen.setdefault(row_key, line)
            if first != line:
                raise Rejection(
                    f"line {line}: {'+'.join(self.layout.key)} repeats line {first}; "
                    "the first row wins",
                    reason="duplicate",
                )
        return fields

    def record(self, raw: bytes, location: Location, cursor: Cursor) -> Record:
        """The record of one non-blank line: an event or a rejection."""
        sha = digest(raw)
        try:
            fields = self._fields(raw, location.line or 0)
            row = {name: value.strip() for name, value in zip(self.order, fields, strict=True)}
            event = self.source.map_row(self.layout, row)
        except CellError as exc:
            where = Location(location.file, location.line, exc.column)
            return Record(where, cursor, digest=sha, rejection=exc)
        except Rejection as exc:
            return Record(location, cursor, digest=sha, rejection=exc)
        return Record(location, cursor, event=event, digest=sha)


def problem_reason(message: str) -> str:
    """Reason code of a header problem message from :meth:`CsvSource._match_header`."""
    return "delimiter" if "separated by" in message else "columns"


def _blank_rest(handle: IO[bytes]) -> bool:
    """Whether the rest of the file holds only whitespace (read in chunks)."""
    while chunk := handle.read(_CHUNK):
        if chunk.strip():
            return False
    return True


def _skip_line(handle: IO[bytes]) -> int:
    """Skip the rest of an over-long line without holding it; return the bytes skipped."""
    skipped = 0
    while True:
        chunk = handle.readline(_CHUNK)
        skipped += len(chunk)
        if not chunk or chunk.endswith(b"\n"):
            return skipped
