"""The one line reader of the line-based sources (CSV exports, JSON lines) and the file
position they checkpoint.

**Complete lines.** A line ends with ``\\n`` (so ``\\r\\n`` too). The bytes after the last
newline of a file are a last line without its newline. Whether it is read depends on whether the
file is complete (``final``, decided per file by :class:`Settle`):

- in a one-shot run (``schakel adapter --once``, replay) the file is complete as it is, and its
  last line is read like any other — an export whose last row has no newline loses nothing;
- in continuous mode (and for ``schakel publish``, whose JSON lines another process may still
  be writing: :attr:`~adapters.base.Source.watching`) the line may still be being written: it
  is not returned, the position stays
  before it, and :attr:`Lines.incomplete` says how many bytes it had — the next poll reads it once
  its newline has arrived, or once the file has not changed (size and modification time) since
  the poll that held it back: a writer that finished without a final newline. That memory is
  the :class:`Settle` of the source, so it lasts as long as the source: ``schakel publish``
  polls a second time within its run (``--settle``, :func:`schakel.adapter_cmd.main_publish`).

A line longer than ``max_bytes`` is returned cut at ``max_bytes + 1`` bytes with ``too_long`` set;
the rest of it is skipped without being held in memory and does not count as a line of its own.
A line read without its newline that the file later continues (a writer that paused longer than a
poll interval) is marked ``continued`` when reading on: its first part was handled already.

**Position** (:class:`Position`, stored in the checkpoint as ``{"offset", "line", "sha256"}``):
the byte offset after the last consumed line, that line's number, and the SHA-256 of *every*
byte before ``offset`` — the whole consumed prefix. :func:`resume` hashes that prefix again
before reading on: a file whose consumed part changed in any way (replaced by the next export,
rows inserted or edited in the middle, truncated) is read again from the start — the cause is
returned so the source can log and count it — and never read on from a stale offset. Hashing
costs one sequential read of the consumed part per run (SHA-256, roughly 1 GB/s).
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import IO, Any

from adapters.base import Source
from adapters.exceptions import Rejection

log = logging.getLogger("schakel.adapters")

_CHUNK = 1 << 16
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()

Hasher = Any  # hashlib's object type is private (``_hashlib.HASH``)


@dataclass(frozen=True)
class Position:
    """Where a line source stands in one file (see the module doc)."""

    offset: int = 0
    line: int = 0
    sha256: str = EMPTY_SHA256

    def cursor(self) -> dict[str, Any]:
        """The JSON form stored in a checkpoint."""
        return {"offset": self.offset, "line": self.line, "sha256": self.sha256}

    @classmethod
    def from_cursor(cls, value: object) -> Position | None:
        """The position stored by :meth:`cursor`; ``None`` if ``value`` is not one (absent,
        or written by a version without the prefix digest)."""
        if not isinstance(value, Mapping):
            return None
        offset, line, sha = value.get("offset"), value.get("line"), value.get("sha256")
        if not (isinstance(offset, int) and isinstance(line, int) and isinstance(sha, str)):
            return None
        if offset < 0 or line < 0:
            return None
        return cls(offset, line, sha)


def hash_prefix(handle: IO[bytes], length: int) -> tuple[Hasher, int]:
    """SHA-256 state over the first ``length`` bytes of ``handle`` (read in chunks) and how
    many bytes there were (less than ``length`` if the file is shorter). Leaves the handle
    after them."""
    hasher = hashlib.sha256()
    handle.seek(0)
    left = length
    while left > 0:
        chunk = handle.read(min(_CHUNK, left))
        if not chunk:
            break
        hasher.update(chunk)
        left -= len(chunk)
    return hasher, length - left


def resume(handle: IO[bytes], stored: object) -> tuple[Position, Hasher, str | None]:
    """Where to read on in ``handle`` after the checkpointed ``stored`` position.

    Returns the start position, the SHA-256 state of the bytes before it, and ``None`` — or,
    when the file must be read from the start, the start of the file and the cause:
    ``no-digest`` (a checkpoint without prefix digest, from an earlier version), ``shrunk``
    (the file is shorter than the consumed part) or ``changed`` (the consumed part differs).
    ``stored`` ``None`` (a file never read) starts at the beginning without a cause."""
    if stored is None:
        return Position(), hashlib.sha256(), None
    position = Position.from_cursor(stored)
    if position is None:
        return Position(), hashlib.sha256(), "no-digest"
    hasher, length = hash_prefix(handle, position.offset)
    if length < position.offset:
        return Position(), hashlib.sha256(), "shrunk"
    if hasher.hexdigest() != position.sha256:
        return Position(), hashlib.sha256(), "changed"
    return position, hasher, None


def complete_end(handle: IO[bytes]) -> int:
    """The offset after the last newline of ``handle`` (0 if it has none): the end of its
    complete lines. Reads backwards from the end in chunks; leaves the handle at offset 0."""
    end = handle.seek(0, 2)
    while end > 0:
        start = max(0, end - _CHUNK)
        handle.seek(start)
        newline = handle.read(end - start).rfind(b"\n")
        if newline >= 0:
            handle.seek(0)
            return start + newline + 1
        end = start
    handle.seek(0)
    return 0


def whole_file(handle: IO[bytes], line: int) -> Position:
    """The position after every byte of ``handle`` (a file consumed as a whole, e.g. rejected
    once for its encoding or header)."""
    hasher, length = hash_prefix(handle, handle.seek(0, 2))
    return Position(length, line, hasher.hexdigest())


@dataclass(frozen=True)
class Line:
    """One line: its bytes (newline included — none for the last line of a complete file that
    lacks it —, cut after ``max_bytes + 1`` bytes when ``too_long``), its 1-based number, the
    byte offset after it, and whether it ``continued`` a last line read without its newline
    before (then it has that line's number)."""

    raw: bytes
    number: int
    end: int
    too_long: bool
    continued: bool = False


class Lines:
    """The lines of ``handle`` after ``start`` (whose prefix digest is ``hasher``); with
    ``final`` the last line without its newline too (see the module doc).

    Iterate once. While the iterator is suspended after a line, :meth:`position` is the
    position after that line. When iteration ends, :attr:`incomplete` is the number of bytes
    after the last newline that were left unread (0: the file ends with a newline, or
    ``final``)."""

    def __init__(
        self,
        handle: IO[bytes],
        start: Position,
        hasher: Hasher,
        *,
        max_bytes: int,
        final: bool = False,
        end: int | None = None,
    ) -> None:
        self._handle = handle
        self._hasher = hasher
        self._offset = start.offset
        self._line = start.line
        self.max_bytes = max_bytes
        self.final = final
        self.end = end
        """With ``final``: the file's size when it was judged complete; a last line without
        its newline that reaches beyond it was begun since, and is held back."""
        self.incomplete = 0

    def position(self) -> Position:
        """The position after the last line returned."""
        return Position(self._offset, self._line, self._hasher.hexdigest())

    def __iter__(self) -> Iterator[Line]:
        handle = self._handle
        continued = False
        if self._offset > 0:  # read on after a last line consumed without its newline?
            handle.seek(self._offset - 1)
            continued = handle.read(1) != b"\n"
        handle.seek(self._offset)
        while raw := handle.readline(self.max_bytes + 1):
            size = len(raw)
            too_long = False
            if raw.endswith(b"\n"):
                self._hasher.update(raw)
            elif size > self.max_bytes:  # the rest of an over-long line is skipped
                hasher = self._hasher.copy()
                hasher.update(raw)
                skipped, complete = _skip_rest(handle, hasher)
                size += skipped
                if not (complete or self.final):
                    self._stop(size)
                    return
                self._hasher, too_long = hasher, True
            elif self.final and (self.end is None or self._offset + size <= self.end):
                # the last line of a complete file, without its newline — not one begun after
                # the file was judged complete (``end``: its size then)
                self._hasher.update(raw)
            else:
                self._stop(size)
                return
            self._offset += size
            if not continued:
                self._line += 1
            yield Line(raw, self._line, self._offset, too_long, continued)
            continued = False

    def _stop(self, incomplete: int) -> None:
        """End at a last line without its newline: nothing of it is consumed."""
        self.incomplete = incomplete
        self._handle.seek(self._offset)


def _skip_rest(handle: IO[bytes], hasher: Hasher) -> tuple[int, bool]:
    """Skip (and hash) the rest of an over-long line; return the bytes skipped and whether
    its newline was found before the end of the file."""
    skipped = 0
    while chunk := handle.readline(_CHUNK):
        hasher.update(chunk)
        skipped += len(chunk)
        if chunk.endswith(b"\n"):
            return skipped, True
    return skipped, False


read_lines = Lines
"""The lines of ``handle`` after ``start`` (:class:`Lines`, under the name its callers use)."""


class Settle:
    """Per source, when a file's last line without its newline is to be read (``final``).

    Outside continuous mode (:attr:`~adapters.base.Source.watching` false) always: the run
    reads the files as they are. In continuous mode once the file has not changed — the same
    size and modification time — since the poll that held that line back (:meth:`held`): the
    writer has finished, without a final newline. A writer that pauses mid-line for longer
    than a poll interval is not told apart from one that finished; what it writes after is
    then a ``continued`` line (:class:`Line`)."""

    def __init__(self) -> None:
        self._held: dict[str, tuple[int, int]] = {}
        self._now: dict[str, tuple[int, int]] = {}

    def final(self, source: Source, file: str, handle: IO[bytes]) -> bool:
        """Whether the last line of ``file`` (open as ``handle``) is read, newline or not —
        up to :meth:`end`: a line begun after this was asked is held back."""
        stat = os.fstat(handle.fileno())
        self._now[file] = now = (stat.st_size, stat.st_mtime_ns)
        if not source.watching:
            return True
        return self._held.get(file) == now

    def end(self, file: str) -> int | None:
        """The size of ``file`` when :meth:`final` was asked (``None``: not asked)."""
        now = self._now.get(file)
        return None if now is None else now[0]

    def held(self, file: str, incomplete: int) -> None:
        """After reading ``file``: whether its last line (``incomplete`` bytes) was held back."""
        now = self._now.pop(file, None)
        if incomplete and now is not None:
            self._held[file] = now
        else:
            self._held.pop(file, None)


def report_reread(source: Source, file: str, cause: str) -> None:
    """Log and count that ``file`` is read again from the start (see :func:`resume`)."""
    log.warning("adapter.file_reread", extra={"adapter": source.name, "file": file, "cause": cause})
    source.observer.file_reread(cause)


def report_incomplete(source: Source, file: str, size: int) -> None:
    """Log and count that ``file`` ends with ``size`` bytes of a line without its newline."""
    log.warning(
        "adapter.line_incomplete", extra={"adapter": source.name, "file": file, "bytes": size}
    )
    source.observer.line_incomplete(file)


def grown(line: int) -> Rejection:
    """The rejection (``malformed``) of a line that grew after it was read without its newline
    (:attr:`Line.continued`): its first part was handled then, the rest is not read."""
    return Rejection(
        f"line {line} was read before without its newline (the file looked complete) and has "
        "grown since; the rest of it is not read (write each line whole, newline included)",
        reason="malformed",
    )
