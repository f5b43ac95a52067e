"""Generic CloudEvents JSON lines (``schakel publish FILE.jsonl``; also the wijkteam bulk load):
any catalogue event in structured mode, one per line.

Files are streamed through the one line reader (:mod:`adapters.lines`): a last line without its
newline is read by a one-shot run and, in continuous mode (and ``schakel publish``, which polls
twice, ``--settle`` apart), once the file is unchanged since the poll that held it back
(:class:`adapters.lines.Settle`); the cursor per file is
the position after the last consumed line with the SHA-256 of everything before it, so a file
rewritten in place is read again from the start instead of on from a stale offset.
Each line is parsed by :func:`json_object`, which turns every parser failure into a rejection.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from adapters.base import Cursor, Location, Record, Source, digest
from adapters.exceptions import Rejection
from adapters.lines import (
    Position,
    Settle,
    grown,
    read_lines,
    report_incomplete,
    report_reread,
    resume,
)

MAX_LINE_BYTES = 1_048_576
MAX_INT_DIGITS = 64
"""Longest integer a JSON input may hold: no catalogue number comes near it, and Python's
``int`` refuses more than 4,300 digits with a ``ValueError`` (issue 11 item 4)."""


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise ValueError("integer too long")
    return int(text)


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999 overflows to infinity
        raise ValueError("NaN and Infinity are not JSON")
    return value


def _no_constant(_name: str) -> Any:
    raise ValueError("NaN and Infinity are not JSON")


_DECODER = json.JSONDecoder(
    parse_int=_bounded_int, parse_float=_finite_float, parse_constant=_no_constant
)


def json_object(raw: bytes | str, what: str) -> dict[str, Any]:
    """The JSON object in ``raw`` (UTF-8, an optional BOM is skipped) or :class:`Rejection`.

    Every failure of the parser becomes a rejection (reason ``encoding``, ``malformed`` or
    ``too-large``) whose message names ``what`` and the rule broken, never the content:
    invalid UTF-8, invalid JSON (line and column; a second value after a carriage return
    says the lines may end with a carriage return only), nesting too deep, an integer of more than
    :data:`MAX_INT_DIGITS` digits, ``NaN``/``Infinity``, or a value that is not an object."""
    if isinstance(raw, bytes):
        try:
            raw = raw.removeprefix(b"\xef\xbb\xbf").decode("utf-8")
        except UnicodeDecodeError:
            raise Rejection(f"{what}: not valid UTF-8", reason="encoding") from None
    try:
        value = _DECODER.decode(raw)
    except json.JSONDecodeError as exc:
        hint = ""
        if exc.msg == "Extra data" and "\r" in raw[: exc.pos]:
            # a second value after a carriage return: lines ended by CR alone (classic Mac OS)
            # are one line to a reader that splits at LF
            hint = (
                " after a carriage return: do the lines end with a carriage return only? "
                "Export with LF or CRLF line endings"
            )
        raise Rejection(
            f"{what}: not valid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}{hint}",
            reason="malformed",
        ) from None
    except RecursionError:
        raise Rejection(f"{what}: JSON nested too deeply", reason="malformed") from None
    except ValueError as exc:
        problem = "NaN or Infinity" if "NaN" in str(exc) else "an integer of too many digits"
        raise Rejection(
            f"{what}: holds {problem} (at most {MAX_INT_DIGITS} digits, no NaN/Infinity)",
            reason="malformed",
        ) from None
    if not isinstance(value, dict):
        raise Rejection(f"{what}: must be a JSON object", reason="malformed")
    return value


class JsonLinesSource(Source):
    """Reads one or more JSON-lines files in the order given.

    Guarantees: every non-blank line read yields exactly one record (an event or a
    rejection with its line); a last line without its newline is read as the module docstring
    says, never one begun after the file was judged complete; a file whose consumed
    part changed is read again from the start (logged ``adapter.file_reread``). A file that
    cannot be opened is one rejection (``unreadable``), the other files go on."""

    name = "publish"

    def __init__(self, paths: Sequence[Path], *, name: str = "publish") -> None:
        self.paths = list(paths)
        self.name = name
        self._settle = Settle()

    def records(self, cursor: Cursor) -> Iterator[Record]:
        files = dict(cursor.get("files", {}))
        for path in self.paths:
            yield from self._file(path, files)

    def _file(self, path: Path, files: dict[str, Any]) -> Iterator[Record]:
        key = str(path)
        try:
            handle = path.open("rb")
        except OSError as exc:
            files.setdefault(key, Position().cursor())
            yield Record(
                location=Location(key),
                cursor={"files": dict(files)},
                rejection=Rejection(f"cannot open file: {exc.strerror}", reason="unreadable"),
            )
            return
        with handle:
            start, hasher, cause = resume(handle, files.get(key))
            if cause is not None:
                report_reread(self, key, cause)
            final = self._settle.final(self, key, handle)  # read a last line without newline?
            lines = read_lines(
                handle,
                start,
                hasher,
                max_bytes=MAX_LINE_BYTES,
                final=final,
                end=self._settle.end(key),
            )
            for line in lines:
                if not line.raw.strip():
                    continue
                files[key] = lines.position().cursor()
                if line.continued:  # read without its newline before; it has grown since
                    where, cursor = Location(key, line.number), {"files": dict(files)}
                    yield Record(
                        where, cursor, digest=digest(line.raw), rejection=grown(line.number)
                    )
                    continue
                yield self._record(line.raw, line.too_long, Location(key, line.number), files)
            self._settle.held(key, lines.incomplete)
            if lines.incomplete:
                report_incomplete(self, key, lines.incomplete)

    @staticmethod
    def _record(raw: bytes, too_long: bool, location: Location, files: dict[str, Any]) -> Record:
        cursor = {"files": dict(files)}
        sha = digest(raw)
        if too_long:
            rejection = Rejection(f"line longer than {MAX_LINE_BYTES} bytes", reason="too-large")
            return Record(location, cursor, digest=sha, rejection=rejection)
        try:
            event = json_object(raw, "line")
        except Rejection as exc:
            return Record(location, cursor, digest=sha, rejection=exc)
        return Record(location, cursor, event=event, digest=sha)
