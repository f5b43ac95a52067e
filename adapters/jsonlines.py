"""Generic CloudEvents JSON lines (``schakel publish FILE.jsonl``; also the wijkteam bulk load):
any catalogue event in structured mode, one per line. The cursor is the byte offset and line
number after the last record, per file; files are streamed, never held in memory whole."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import IO

from adapters.base import Cursor, Location, Record, Source, digest
from adapters.exceptions import Rejection

MAX_LINE_BYTES = 1_048_576


class JsonLinesSource(Source):
    """Reads one or more JSON-lines files in the order given."""

    name = "publish"

    def __init__(self, paths: Sequence[Path], *, name: str = "publish") -> None:
        self.paths = list(paths)
        self.name = name

    def records(self, cursor: Cursor) -> Iterator[Record]:
        files = dict(cursor.get("files", {}))
        for path in self.paths:
            key = str(path)
            state = files.get(key, {"offset": 0, "line": 0})
            offset, line_no = int(state["offset"]), int(state["line"])
            try:
                handle = path.open("rb")
            except OSError as exc:
                files[key] = state
                yield Record(
                    location=Location(key),
                    cursor={"files": dict(files)},
                    rejection=Rejection(f"cannot open file: {exc.strerror}", reason="unreadable"),
                )
                continue
            with handle:
                handle.seek(offset)
                for raw in iter(partial(handle.readline, MAX_LINE_BYTES + 1), b""):
                    line_no += 1
                    offset += len(raw)
                    if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
                        offset += _skip_line(handle)  # the rest is not a line of its own
                    files[key] = {"offset": offset, "line": line_no}
                    location = Location(key, line_no)
                    if not raw.strip():
                        continue
                    yield self._record(raw, location, {"files": dict(files)})

    @staticmethod
    def _record(raw: bytes, location: Location, cursor: Cursor) -> Record:
        sha = digest(raw)
        if len(raw) > MAX_LINE_BYTES:
            return Record(
                location,
                cursor,
                digest=sha,
                rejection=Rejection(f"line longer than {MAX_LINE_BYTES} bytes", reason="too-large"),
            )
        if raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return Record(
                location,
                cursor,
                digest=sha,
                rejection=Rejection("line is not valid UTF-8", reason="encoding"),
            )
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            return Record(
                location,
                cursor,
                digest=sha,
                rejection=Rejection(
                    f"not valid JSON at column {exc.colno}: {exc.msg}", reason="malformed"
                ),
            )
        except RecursionError:
            return Record(
                location,
                cursor,
                digest=sha,
                rejection=Rejection("JSON nested too deeply", reason="malformed"),
            )
        if not isinstance(value, dict):
            return Record(
                location,
                cursor,
                digest=sha,
                rejection=Rejection(
                    "line must hold one JSON object (a structured-mode CloudEvent)",
                    reason="malformed",
                ),
            )
        return Record(location, cursor, event=value, digest=sha)


def _skip_line(handle: IO[bytes]) -> int:
    """Skip the rest of an over-long line without holding it; return the bytes skipped."""
    skipped = 0
    while chunk := handle.readline(65_536):
        skipped += len(chunk)
        if chunk.endswith(b"\n"):
            break
    return skipped
