"""The iWmo adapter's cursor: which message files were processed, by content fingerprint.

``{"files": {name: "<sha256>:<size>:<mtime_ns>"}}`` of the processed files still in the
directory. :class:`ProcessedFiles` keeps it as an append-only log so a record's cursor is an
O(1) view instead of a copy of every file name per record.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from typing import IO

CHUNK = 1 << 16
"""Bytes read at a time when hashing a file too large to read whole."""


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


def fingerprint(sha: str, size: int, mtime_ns: int) -> str:
    """The cursor entry of one file."""
    return f"{sha}:{size}:{mtime_ns}"


def stream_sha256(handle: IO[bytes]) -> str:
    """SHA-256 of a whole file, read in chunks from its start."""
    sha = hashlib.sha256()
    handle.seek(0)
    while chunk := handle.read(CHUNK):
        sha.update(chunk)
    return sha.hexdigest()
