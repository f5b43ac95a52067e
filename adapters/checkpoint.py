"""Durable checkpoints: a JSON file per adapter instance, replaced atomically (write to a
temporary file, fsync, rename, fsync the directory)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from adapters.base import Cursor
from adapters.exceptions import CheckpointError


class FileCheckpoint:
    """Stores one cursor in ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> Cursor:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise CheckpointError(f"cannot read checkpoint {self.path}: {exc.strerror}") from exc
        try:
            value: Any = json.loads(text)
        except json.JSONDecodeError as exc:
            raise CheckpointError(f"checkpoint {self.path} is corrupt: {exc.msg}") from exc
        if not isinstance(value, dict):
            raise CheckpointError(f"checkpoint {self.path} is not a JSON object")
        return value

    def save(self, cursor: Cursor) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(self.path.suffix + ".tmp")
        try:
            with tmp.open("w", encoding="utf-8") as handle:
                handle.write(json.dumps(cursor, sort_keys=True))
                handle.flush()
                os.fsync(handle.fileno())
            tmp.replace(self.path)
            fd = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            raise CheckpointError(f"cannot write checkpoint {self.path}: {exc.strerror}") from exc
