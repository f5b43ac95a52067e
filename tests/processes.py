"""Processes in the tests: the one way to start a long-running process and to stop it, and a
check that a process is gone.

:func:`start` gives the process a session (and so a process group) of its own; :func:`stop`
signals that whole group — SIGTERM unless told (SIGINT for Ctrl-C, SIGKILL for a crash) —
waits up to a grace period, then SIGKILLs the group, and always reaps the process. Both
signalling steps are the product's own (:func:`schakel.broker.end_process`).
:func:`stopping` wraps a started process so that it is stopped however the block ends."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from schakel.broker import end_process

ROOT = Path(__file__).resolve().parents[1]
"""The repository root: where a started process runs unless told (``python -m schakel``
then imports this checkout's code)."""


def start(
    argv: Sequence[str],
    output: Path | int,
    *,
    stderr: int = subprocess.STDOUT,
    env: Mapping[str, str] | None = None,
    cwd: Path = ROOT,
    stdin: int | None = subprocess.DEVNULL,
    text: bool = False,
) -> subprocess.Popen[Any]:
    """Start ``argv`` in a session of its own; stop it with :func:`stop`.

    ``output``: its standard output — a log file (a path: appended to) or
    ``subprocess.PIPE``; ``stderr``: into the same place unless told (``subprocess.PIPE``: a
    pipe of its own). ``env``: its whole environment (default: this process's). ``stdin``:
    nothing unless told. ``text``: the pipes in text mode (``Popen[str]``; otherwise
    ``Popen[bytes]``)."""
    with contextlib.ExitStack() as stack:
        out = stack.enter_context(output.open("ab")) if isinstance(output, Path) else output
        return subprocess.Popen(
            list(argv),
            stdin=stdin,
            stdout=out,
            stderr=stderr,
            env=None if env is None else dict(env),
            cwd=cwd,
            text=text,
            start_new_session=True,
        )


def stop(process: subprocess.Popen[Any], sig: int = signal.SIGTERM, grace: float = 30.0) -> int:
    """Send ``sig`` to the process group of ``process`` (started by :func:`start`) if it still
    runs, wait up to ``grace`` seconds, then SIGKILL the group; returns the exit code once the
    process is reaped (negative: the signal that ended it). Stopping an ended process only
    reaps it."""
    end_process(process, grace, sig)
    return int(process.returncode)


@contextlib.contextmanager
def stopping(
    process: subprocess.Popen[Any], sig: int = signal.SIGTERM, grace: float = 30.0
) -> Iterator[subprocess.Popen[Any]]:
    """``with stopping(start(...)) as process:`` — :func:`stop` at the end of the block
    (a no-op but the reaping if the block stopped it already)."""
    try:
        yield process
    finally:
        stop(process, sig, grace)


def gone(pid: int) -> bool:
    """Whether process ``pid`` no longer exists (ended and reaped)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False
