"""Shared machinery of the `;`-separated CSV exports (sociale-dienst, vroegsignalering).

Reading: files are streamed line by line in binary (never held in memory whole); the encoding
of a file is detected before its rows are read (:func:`detect_encoding`), over its complete
lines only (a last line still being written may stop inside a multi-byte character) — UTF-8 if
the file starts with a UTF-8 BOM (skipped, as bytes), if every byte sequence is valid UTF-8, or
if its valid multi-byte sequences are at least as many as its invalid bytes (a UTF-8 export
with a damaged line: sources.md allows UTF-8 or Windows-1252, and such a file is neither, so
its damaged lines are rejected rather than every ``é`` garbled); else Windows-1252 (cp1252).
A file that is not text (:func:`is_binary`: a UTF-16/UTF-32 BOM, a spreadsheet, PDF or gzip
signature, or NUL bytes making up a tenth of its first 64 KiB — UTF-16 without BOM) is
rejected as a whole (``encoding``). A row that cannot be decoded — bytes that are not valid
UTF-8 in a UTF-8 file, or one of the five bytes cp1252 leaves undefined — or that holds a NUL
byte (a stray one in a text export, wherever it is) is rejected on its own (``encoding``,
naming the line); the other rows are read.

Header: line 1 names the columns (line 2 after Excel's separator hint ``sep=;`` on line 1),
matched case-insensitively and in any order against the layouts the adapter accepts; the
matching layout decides how the rows are read. A header that matches no layout rejects the
whole file (``columns``, or ``delimiter`` if it is separated by another character) and names
the missing and the expected columns.

Rows: a row with another number of fields than the header is rejected (``columns`` /
``delimiter``); a row whose event id repeats an earlier row of the same file is rejected
(``duplicate``, the first row wins). The event id is built from the key columns' *normalised*
values (``versie`` ``01`` is 1, a date in either spelling, ``actie`` in any case), so the check
compares those, not the cells as written: two rows with one id would be two different events
of which the worker keeps the first and drops the second unseen. Only a row the runner took for
publishing claims its id: a row rejected for its content (a cell, the BSN's elfproef, …)
claims nothing, so a corrected row after it is read. Cells are trimmed; quoting
with ``"`` is allowed within a line (no line breaks inside cells). A file of zero bytes or
only blank lines is rejected once (``empty-file``); a file with only a header is a valid export
without rows.

Lines: read by the one line reader of :mod:`adapters.lines`. A last line without its newline is
read in a one-shot run (``--once``: the export is complete as it is); in continuous mode it may
still be being written and waits (logged ``adapter.line_incomplete``) for its newline, or for a
poll that finds the file unchanged since the poll that held it back. A file whose lines end with
a carriage return alone (classic Mac OS) is rejected as a whole (``delimiter``): the reader
splits lines at ``\\n`` and would see one unending line. Digits are ASCII digits only
(``re.ASCII``): ``٣`` or ``３`` is not a number.

Cursor: ``{"files": {path: {"offset", "line", "sha256"}}}`` — the byte offset and line number
after the last record and the SHA-256 of every byte before that offset
(:class:`adapters.lines.Position`). A file that only grew is read on from the offset; a file
whose consumed part changed in any way (the next night's export under the same name, rows
inserted in the middle, a truncated file) is read again from the start — logged
``adapter.file_reread`` and counted — and its rows keep their deterministic event ids, so
what was published before is a duplicate downstream.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import logging
import re
from abc import abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO, Any

from adapters.base import Cursor, Location, Record, Source, digest, mapping_defect
from adapters.exceptions import AdapterError, Rejection
from adapters.lines import (
    Line,
    Lines,
    Position,
    Settle,
    complete_end,
    grown,
    read_lines,
    report_incomplete,
    report_reread,
    resume,
    whole_file,
)
from schemas.envelope import BSN_IN_IDENTIFIER, BSN_IN_IDENTIFIER_RULE
from schemas.exceptions import TransientError
from schemas.pseudonym import holds_bsn

log = logging.getLogger("schakel.adapters")

DELIMITER = ";"
MAX_LINE_BYTES = 65_536
_CHUNK = 1 << 16
_NUL = b"\x00"
_OTHER_DELIMITERS = {",": "','", "\t": "a tab", "|": "'|'"}
_SEPARATOR_HINT = re.compile(r"[ \t]*sep=(.)[ \t]*", re.IGNORECASE)
"""Excel's separator hint, a line 1 ``sep=;`` before the header that some exports write so
that Excel opens the file with the right delimiter: the header is then on line 2. Spaces or
tabs around it are allowed; the character right after ``sep=`` is the separator it names,
a tab or a space too."""
_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})", re.ASCII)
_DUTCH = re.compile(r"(\d{2})-(\d{2})-(\d{4})", re.ASCII)
_INT = re.compile(r"\d{1,9}", re.ASCII)
_DECIMAL = re.compile(r"(\d{1,6})(?:[.,](\d{1,2}))?", re.ASCII)
AMOUNT_MAX_DIGITS = 12
"""Most digits the euros of an amount may have (less than a trillion euros): an amount with
more is rejected (``bad-amount``) before :func:`int` sees it — Python refuses to convert
more than 4,300 digits, and thousands dots do not count as digits."""
_AMOUNT_PLAIN = re.compile(r"(\d+)(?:,(\d{1,2}))?", re.ASCII)
_AMOUNT_GROUPED = re.compile(r"(\d{1,3}(?:\.\d{3})+),(\d{1,2})", re.ASCII)
_AMOUNT_AMBIGUOUS = re.compile(r"\d{1,3}(?:\.\d{3})+", re.ASCII)


class CellError(Rejection):
    """A cell that cannot be mapped; ``column`` becomes the location's path."""

    def __init__(self, column: str, message: str, *, reason: str) -> None:
        super().__init__(f"column {column}: {message}", reason=reason)
        self.column = column


@dataclass(frozen=True)
class CsvLayout:
    """One accepted header: its ``kind`` (passed to :meth:`CsvSource.map_row`), the columns
    in their documented order, and the columns that identify a row within a file (named in a
    ``duplicate`` rejection; the check itself compares the event ids :meth:`map_row` builds
    from them)."""

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


def no_bsn(value: str, column: str) -> str:
    """``value`` unless it holds a possible BSN (:func:`schemas.pseudonym.holds_bsn`); else
    :class:`CellError` (``bsn-in-identifier``, naming the column, never the value).

    For a cell that is published changed — zero-padded, converted to cents —, so that it is
    checked as written: once padded to ten or twelve digits or multiplied by 100 a BSN is no
    longer a run of exactly nine digits, and the catalogue check of the published value does
    not find it."""
    if holds_bsn(value):
        raise CellError(column, BSN_IN_IDENTIFIER_RULE, reason=BSN_IN_IDENTIFIER)
    return value


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
    Ambiguous (``1.234`` — thousands dots without a decimal comma) or invalid amounts, and
    amounts of more than :data:`AMOUNT_MAX_DIGITS` euro digits, raise :class:`CellError`
    (``bad-amount``); nothing else is raised, whatever ``value`` holds. An amount that holds
    a possible BSN — its euros as a number (``999990111``, ``999.990.111,00``) or all its
    digits in a row (``99999011,1``) — raises :class:`CellError` (``bsn-in-identifier``): a
    BSN shifted into the column by a mixed-up export is not recognised in the cents
    (``99999011100``). The amount is never echoed (it is personal data)."""
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
    digits = whole.replace(".", "")
    if len(digits) > AMOUNT_MAX_DIGITS:
        raise CellError(
            column,
            f"amount of more than {AMOUNT_MAX_DIGITS} digits before the decimal comma",
            reason="bad-amount",
        )
    euros = int(digits)
    no_bsn(str(euros), column)
    no_bsn(digits + (fraction or ""), column)
    return euros * 100 + int((fraction or "0").ljust(2, "0"))


def enum_value(value: str) -> str:
    """An enumeration cell in catalogue spelling (lower case); validated downstream."""
    return value.lower()


# ---------------------------------------------------------------- file reading


BINARY_NUL_SHARE = 0.1
"""Share of NUL bytes in the first 64 KiB from which a file is UTF-16 without BOM (every other
byte of Latin text is NUL) or binary, rather than text with a stray NUL in a line."""
_BINARY_MAGIC = (
    b"PK\x03\x04",  # zip: an .xlsx / .ods spreadsheet
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",  # OLE: an .xls spreadsheet
    b"%PDF-",
    b"\x1f\x8b",  # gzip
)
_ESCAPED = re.compile("[\udc80-\udcff]")
"""A byte that is not valid UTF-8, as the ``surrogateescape`` error handler decodes it."""
_MULTIBYTE = re.compile("[\x80-\udc7f\udd00-\U0010ffff]")
"""A character that took a valid multi-byte UTF-8 sequence."""


def is_binary(first: bytes) -> bool:
    """Whether the first bytes of a file (up to 64 KiB) are not a text export at all: a
    UTF-16/UTF-32 BOM, the signature of a spreadsheet, PDF or gzip file, or NUL bytes making
    up at least :data:`BINARY_NUL_SHARE` of them. One or a few NULs in a text export are not:
    they reject only their own line."""
    if first.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, *_BINARY_MAGIC)):
        return True
    return bool(first) and first.count(_NUL) >= BINARY_NUL_SHARE * len(first)


def detect_encoding(handle: IO[bytes], end: int | None = None) -> str | None:
    """The encoding of a CSV file, leaving ``handle`` at offset 0:

    - ``None`` for UTF-16 or binary content (:func:`is_binary` of the first 64 KiB);
    - ``utf-8-sig`` for a file that starts with a UTF-8 BOM, whatever follows: the BOM says
      how the file was written, so a later byte that is not valid UTF-8 makes that line a
      rejection (:class:`_Rows`), not the whole file Windows-1252 (which would turn the BOM
      into ``ï»¿`` before the header and every ``é`` into ``Ã©``);
    - else, judged over the first ``end`` bytes (the complete lines: not a last line still
      being written, which may stop inside a multi-byte character), in one streaming pass:
      ``utf-8`` if every byte sequence is valid UTF-8, or if valid multi-byte sequences
      (``é`` as two bytes) are at least as many as the bytes that are not valid UTF-8 — a
      UTF-8 export with a damaged line, whose bad lines are rejected on their own rather than
      every ``é`` of the file garbled into ``Ã©``; ``cp1252`` otherwise (a Windows-1252
      export: its ``é`` is one byte that is never valid UTF-8)."""
    handle.seek(0)
    first = handle.read(_CHUNK)
    handle.seek(0)
    if is_binary(first):
        return None
    if first.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    limit = handle.seek(0, 2) if end is None else end
    if _valid_utf8(handle, limit):  # the common case, at the speed of the C decoder
        handle.seek(0)
        return "utf-8"
    decoder = codecs.getincrementaldecoder("utf-8")(errors="surrogateescape")
    left = limit
    handle.seek(0)
    invalid = multibyte = 0
    while left > 0 and (chunk := handle.read(min(_CHUNK, left))):
        left -= len(chunk)
        text = decoder.decode(chunk, final=left <= 0)
        if not text.isascii():
            invalid += len(_ESCAPED.findall(text))
            multibyte += len(_MULTIBYTE.findall(text))
    text = decoder.decode(b"", final=True)
    invalid += len(_ESCAPED.findall(text))
    handle.seek(0)
    return "utf-8" if invalid <= multibyte else "cp1252"


def _valid_utf8(handle: IO[bytes], limit: int) -> bool:
    """Whether the first ``limit`` bytes of ``handle`` are valid UTF-8 (a strict streaming
    decode: no counting, so a valid export costs no more than decoding it)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    handle.seek(0)
    left = limit
    try:
        while left > 0 and (chunk := handle.read(min(_CHUNK, left))):
            left -= len(chunk)
            decoder.decode(chunk, final=left <= 0)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


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
    earlier *file* is recognised (event ids make it a duplicate downstream); that a row whose
    event the broker refused for its size (``too-large``, found at the flush, after later rows
    were read) does not claim its key."""

    layouts: tuple[CsvLayout, ...]

    def __init__(self, paths: Sequence[Path], *, source: str) -> None:
        if not paths:
            raise AdapterError(f"{self.name}: no input file given")
        self.paths = list(paths)
        self.source = source
        self._settle = Settle()

    @abstractmethod
    def map_row(self, layout: CsvLayout, row: Mapping[str, str]) -> dict[str, Any]:
        """The structured-mode CloudEvent (with ``data.bsn``) of one row; raise
        :class:`CellError` / :class:`Rejection` for a row that cannot be mapped."""

    def records(self, cursor: Cursor) -> Iterator[Record]:
        """The records of every file in turn. A file that cannot be opened (not delivered,
        no permission) is a failure of the source, not bad input: the other files are read,
        and then :class:`AdapterError` names the files that could not be opened — the runner
        checkpoints what was read before raising it, so nothing is sent again while the file
        is missing, and the file is read once it is there."""
        files: dict[str, Any] = {k: dict(v) for k, v in dict(cursor.get("files", {})).items()}
        unopened: list[str] = []
        for path in self.paths:
            try:
                handle = path.open("rb")
            except OSError as exc:
                unopened.append(f"{path}: {exc.strerror}")
                continue
            with handle:
                yield from self._read(handle, str(path), files)
        if unopened:
            read = " (the other files were read)" if len(unopened) < len(self.paths) else ""
            raise AdapterError(f"{self.name}: cannot open {'; '.join(unopened)}{read}")

    # -- one file

    def _read(self, handle: IO[bytes], key: str, files: dict[str, Any]) -> Iterator[Record]:
        start = self._resume(handle, key, files.get(key))
        if start is None:
            return

        def done(position: Position) -> Cursor:
            files[key] = position.cursor()
            return {"files": dict(files)}

        def reject_file(line: int, message: str, reason: str) -> Record:
            cursor = done(whole_file(handle, line))
            where = Location(key, line if reason in ("columns", "delimiter") else None)
            return Record(where, cursor, rejection=Rejection(message, reason=reason))

        final = self._settle.final(self, key, handle)  # read a last line without newline?
        encoding = detect_encoding(handle, self._settle.end(key) if final else complete_end(handle))
        if encoding is None:
            message = "the file is UTF-16 or binary; export it as UTF-8 or Windows-1252"
            yield reject_file(0, message, "encoding")
            return
        if _cr_only(handle):
            message = (
                "the lines end with a carriage return only (classic Mac OS); "
                "export the file with LF or CRLF line endings"
            )
            yield reject_file(1, message, "delimiter")
            return
        log.info(
            "adapter.encoding_detected",
            extra={"adapter": self.name, "file": key, "encoding": encoding},
        )
        # Every run reads from line 1: the header decides the layout, and the rows before
        # the resume offset rebuild the memory of the keys seen (duplicates across restarts).
        lines = read_lines(
            handle,
            Position(),
            hashlib.sha256(),
            max_bytes=MAX_LINE_BYTES,
            final=final,
            end=self._settle.end(key),
        )
        each = iter(lines)
        first = next(each, None)
        rows_encoding = "utf-8" if encoding == "utf-8-sig" else encoding
        raw_header = b"" if first is None else first.raw.removeprefix(codecs.BOM_UTF8)
        header = raw_header.decode(rows_encoding, errors="replace").strip()
        header_line, header_at = 1, 0
        line_one = raw_header.decode(rows_encoding, errors="replace").rstrip("\r\n")
        # the hint as written: stripped, a tab or a space after "sep=" would be lost
        if (hint := _SEPARATOR_HINT.fullmatch(line_one)) is not None and first is not None:
            if hint[1] != DELIMITER:
                other = _OTHER_DELIMITERS.get(hint[1], "another character")
                message = f"line 1: Excel's separator hint names {other}; expected 'sep=;'"
                yield reject_file(1, message, "delimiter")
                return
            header_line, header_at, first = 2, first.end, next(each, None)
            raw_header = b"" if first is None else first.raw
            header = raw_header.decode(rows_encoding, errors="replace").strip()
        if not header:
            self._settle.held(key, lines.incomplete)
            refusal = self._no_header(
                handle,
                key,
                first is None,
                start,
                lines.incomplete,
                line=header_line,
                offset=header_at,
            )
            if refusal is not None:
                yield reject_file(*refusal)
            return
        layout, order, problem = self._match_header(header, header_line)
        if layout is None:
            yield reject_file(header_line, problem, problem_reason(problem))
            return
        rows = _Rows(self, handle, rows_encoding, layout, order)
        yield from self._rows(rows, each, lines, start=start, key=key, done=done)
        self._settle.held(key, lines.incomplete)
        if lines.incomplete:
            report_incomplete(self, key, lines.incomplete)

    def _rows(
        self,
        rows: _Rows,
        each: Iterator[Line],
        lines: Lines,
        *,
        start: Position,
        key: str,
        done: Callable[[Position], Cursor],
    ) -> Iterator[Record]:
        """The records of the lines after the header; the lines before ``start`` (read by an
        earlier run) are only remembered for the duplicate check."""
        for line in each:
            begin = line.end - len(line.raw)
            if line.end <= start.offset:
                if not line.too_long:
                    rows.remember(line.raw, line.number, begin)
            elif begin < start.offset:
                # read before without its newline (the file had settled); it has grown since
                if line.too_long:  # quarantined once then (too-large); the same line still
                    continue
                if line.raw[start.offset - begin :].strip():
                    cursor = done(lines.position())
                    rejection = grown(line.number)
                    where = Location(key, line.number)
                    yield Record(where, cursor, rejection=rejection, digest=digest(line.raw))
                else:  # only its newline arrived
                    rows.remember(line.raw, line.number, begin)
            elif line.too_long:
                too_long = Rejection(f"line longer than {MAX_LINE_BYTES} bytes", reason="too-large")
                where = Location(key, line.number)
                cursor = done(lines.position())
                yield Record(where, cursor, rejection=too_long, digest=digest(line.raw))
            elif line.raw.strip():
                record = rows.record(line.raw, Location(key, line.number), done(lines.position()))
                yield record
                # only a row the runner took for publishing claims its key: a corrected row
                # after a rejected one is read, not refused as its duplicate
                if record.event is not None and self.observer.taken(record):
                    rows.claim(record.event, line.number)

    def _resume(self, handle: IO[bytes], key: str, stored: object) -> Position | None:
        """Where the last run stopped in this file (the start when its consumed part changed;
        logged and counted); ``None`` when nothing was added since."""
        start, _, cause = resume(handle, stored)
        if cause is not None:
            report_reread(self, key, cause)
        elif stored is not None and start.offset == handle.seek(0, 2):
            return None
        return start

    def _no_header(
        self,
        handle: IO[bytes],
        key: str,
        no_line: bool,
        start: Position,
        incomplete: int,
        *,
        line: int = 1,
        offset: int = 0,
    ) -> tuple[int, str, str] | None:
        """The rejection (line, message, reason) of a file without a header on its ``line``
        (1, or 2 after Excel's separator hint, which ends at ``offset``): ``empty-file`` once
        for a file blank from ``offset`` on, ``columns`` for a blank header line before
        content; ``None`` for a blank file already reported or a header still being written."""
        if _blank_rest(handle, offset):
            return (0, "empty file", "empty-file") if start.offset == 0 else None
        if no_line:
            report_incomplete(self, key, incomplete)
            return None
        return line, f"line {line} is blank; the header must be on line {line}", "columns"

    def _match_header(self, header: str, line: int = 1) -> tuple[CsvLayout | None, list[str], str]:
        names = [c.strip().strip('"').lower() for c in header.split(DELIMITER)]
        for layout in self.layouts:
            if len(names) == len(layout.columns) and set(names) == set(layout.columns):
                return layout, names, ""
        expected = " or ".join(layout.header for layout in self.layouts)
        if len(names) == 1 and (other := _other_delimiter(header)) is not None:
            return (
                None,
                [],
                f"line {line}: the header is separated by {other}; expected ';'-separated "
                f"columns {expected}",
            )
        best = min(self.layouts, key=lambda lay: len(set(lay.columns) - set(names)))
        missing = [c for c in best.columns if c not in names]
        detail = f" (missing: {', '.join(missing)})" if missing else " (extra or repeated columns)"
        # what is wrong before what is expected: a stored message is cut at 200 characters
        return (
            None,
            [],
            f"line {line}: the header does not match{detail}; expected columns {expected}",
        )


class _Rows:
    """The rows of one file with a known encoding and layout, and the keys claimed so far.

    A key (a row's event id) is claimed by the first row whose event the runner took for
    publishing (:meth:`~adapters.base.SourceObserver.taken`): a rejected row claims nothing.
    The rows before the resume offset were handled by an earlier run; which of them was taken
    is found out only when a later row repeats one's id (:meth:`_claimed`), by reading that
    row again and asking whether the runner accepts it
    (:meth:`~adapters.base.SourceObserver.acceptable`)."""

    def __init__(
        self,
        source: CsvSource,
        handle: IO[bytes],
        encoding: str,
        layout: CsvLayout,
        order: list[str],
    ) -> None:
        self.source = source
        self.handle = handle
        self.encoding = encoding
        self.layout = layout
        self.order = order
        self.seen: dict[str, int] = {}
        """Event id → the line of the row that claimed it."""
        self.earlier: dict[str, list[tuple[int, int]]] = {}
        """Event id → (line, byte offset) of the rows before the resume offset that map to it,
        not yet known to have been taken."""

    def remember(self, raw: bytes, line_no: int, offset: int) -> None:
        """Note a line before the resume offset (at byte ``offset``) under its event id; a line
        that maps to no event (rejected for its bytes, its fields or a cell) claims nothing."""
        event = self._event(raw, line_no)
        if event is not None:
            self.earlier.setdefault(event["id"], []).append((line_no, offset))

    def _event(self, raw: bytes, line_no: int) -> Mapping[str, Any] | None:
        """The event of a line with a string id, or ``None``."""
        try:
            fields = self._fields(raw, line_no)
            row = {name: value.strip() for name, value in zip(self.order, fields, strict=True)}
            event = self.source.map_row(self.layout, row)
        except TransientError:
            raise
        except Exception:  # a row that maps to no event claims no key
            return None
        return event if isinstance(event.get("id"), str) else None

    def _claimed(self, event_id: str) -> int | None:
        """The line of the row that claimed ``event_id``, if any."""
        first = self.seen.get(event_id)
        if first is not None:
            return first
        for line_no, offset in self.earlier.pop(event_id, ()):
            here = self.handle.tell()
            self.handle.seek(offset)
            raw = self.handle.readline(MAX_LINE_BYTES + 1)
            self.handle.seek(here)
            event = self._event(raw, line_no)
            if event is not None and self.source.observer.acceptable(event):
                self.seen[event_id] = line_no
                return line_no
        return None

    def claim(self, event: Mapping[str, Any], line_no: int) -> None:
        """The row at ``line_no``, whose ``event`` was taken for publishing, claims its id."""
        event_id = event.get("id")
        if isinstance(event_id, str):
            self.seen.setdefault(event_id, line_no)

    def _not_repeated(self, event: Mapping[str, Any], line: int) -> None:
        """Raise ``duplicate`` if an earlier row of the file claimed the event id of ``event``.

        The id is built from the *normalised* key values (``versie`` ``01`` is 1, a date in
        either spelling, ``actie`` in lower case), so rows whose key cells differ only in
        spelling are the same record: two of them would be two different events under one
        id, and the worker would keep the first and drop the second unseen."""
        event_id = event.get("id")
        if not isinstance(event_id, str):
            return
        first = self._claimed(event_id)
        if first is not None:
            raise Rejection(
                f"line {line}: {'+'.join(self.layout.key)} repeats line {first}; "
                "the first row wins",
                reason="duplicate",
            )

    def _fields(self, raw: bytes, line: int) -> list[str]:
        if _NUL in raw:  # a stray NUL in a text export (is_binary: too few to be UTF-16)
            raise Rejection(
                f"line {line} holds a NUL byte; export the file as text (UTF-8 or Windows-1252)",
                reason="encoding",
            )
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
        return fields

    def record(self, raw: bytes, location: Location, cursor: Cursor) -> Record:
        """The record of one non-blank line: an event or a rejection. Whatever the row holds,
        only an outage (:class:`~schemas.exceptions.TransientError`) is raised: any other
        exception of the mapping is a defect, met by this row alone — it becomes a rejection
        (``internal-error``, :func:`~adapters.base.mapping_defect`)."""
        sha = digest(raw)
        try:
            fields = self._fields(raw, location.line or 0)
            row = {name: value.strip() for name, value in zip(self.order, fields, strict=True)}
            event = self.source.map_row(self.layout, row)
            self._not_repeated(event, location.line or 0)
        except CellError as exc:
            where = Location(location.file, location.line, exc.column)
            return Record(where, cursor, digest=sha, rejection=exc)
        except Rejection as exc:
            return Record(location, cursor, digest=sha, rejection=exc)
        except TransientError:
            raise
        except Exception as exc:  # a defect met by this row: quarantined, logged, rows go on
            defect = mapping_defect(self.source.name, location, exc)
            return Record(location, cursor, digest=sha, rejection=defect)
        return Record(location, cursor, event=event, digest=sha)


def problem_reason(message: str) -> str:
    """Reason code of a header problem message from :meth:`CsvSource._match_header`."""
    return "delimiter" if "separated by" in message else "columns"


def _cr_only(handle: IO[bytes]) -> bool:
    """Whether the first line of ``handle`` holds a carriage return before its end: lines
    ended by CR alone (classic Mac OS), which the line reader would take for one unending
    line. Leaves the handle at offset 0."""
    handle.seek(0)
    first = handle.read(_CHUNK).split(b"\n", 1)[0]
    handle.seek(0)
    return b"\r" in first.rstrip(b"\r")


def _blank_rest(handle: IO[bytes], offset: int) -> bool:
    """Whether the file holds only whitespace from ``offset`` on (read in chunks)."""
    handle.seek(offset)
    while chunk := handle.read(_CHUNK):
        if chunk.strip():
            return False
    return True
