"""The inputs of ``schakel replay`` (and the files of ``schakel publish``), checked before
anything starts: each problem is one line for the operator and exit code 2
(``docs/operations.md``, exit codes). The line holds the path as given: its caller masks it
(:func:`schemas.pseudonym.mask_bsn`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from adapters.registry import FACTORIES

DIRECTORY_ADAPTERS = frozenset({"iwmo"})
"""Adapters that read a directory (or one file); the others read files only."""
NO_PATH_ADAPTERS = frozenset({"outbox"})
"""Adapters whose input is not a path (a database DSN)."""


def input_problem(inputs: Sequence[tuple[str, str]], *, label: str | None = None) -> str | None:
    """What is wrong with the replay inputs ``(adapter, spec)`` (a plain file is ``publish``),
    or ``None``: an unknown adapter, a ``--from`` without ``ADAPTER:PATH``, a path that does
    not exist, or a directory where the adapter reads files. ``label`` names the input in the
    line (default: ``FILE``, or ``--from ADAPTER``)."""
    for name, spec in inputs:
        what = label or ("FILE" if name == "publish" else f"--from {name}")
        if name not in FACTORIES or not name:
            known = ", ".join(sorted(n for n in FACTORIES if n != "publish"))
            return f"--from: unknown adapter (use ADAPTER:PATH; adapters: {known})"
        if name in NO_PATH_ADAPTERS:
            continue
        paths = [p.strip() for p in spec.split(",") if p.strip()]
        if not paths:
            return f"{what}: give a path, as ADAPTER:PATH[,PATH…]"
        for text in paths:
            path = Path(text)
            if not path.exists():
                return f"{what}: {text}: no such file or directory"
            if path.is_dir() and name not in DIRECTORY_ADAPTERS:
                return f"{what}: {text}: is a directory; a file is expected"
    return None
