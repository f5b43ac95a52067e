"""Worker processes of the batch path (``BatchRebuild(jobs=N)``, ``schakel replay --batch
--jobs N``): one piece of work per process, forked from the caller, each result sent back.

Contracts of :func:`run_forked`:

- ``work(share)`` runs once per share, each in a process of its own started with the ``fork``
  method: the child inherits the caller's objects as they are at the call (nothing is pickled on
  the way in). What the work needs that is not fork-safe — a Kafka client, whose threads do not
  survive a fork — it must open itself, in the child; the caller should hold no such client
  across the call. Its return value is pickled back to the caller.
- It returns the results in the order of ``shares``, only once every child has sent its result
  and exited with code 0.
- Otherwise it raises :class:`BatchJobFailed` (:class:`BatchJobInterrupted`, transient, when the
  child's exception was a :class:`~schemas.exceptions.TransientError`: an outage): a child
  raised, exited or was killed before sending its result, or exited with another code. The
  message names the share and the child's exception.
- No child outlives the call: on any failure, or an exception in the caller (Ctrl-C), every
  child still running is terminated (SIGTERM, then SIGKILL) and reaped before it returns or
  raises.
"""

from __future__ import annotations

import logging
import multiprocessing
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Any, TypeVar

from schemas.exceptions import TransientError
from streams.exceptions import StreamsError

log = logging.getLogger("schakel.streams")

S = TypeVar("S")
R = TypeVar("R")
TERMINATE_WAIT = 10.0
"""Seconds a child gets to end after SIGTERM before it is killed."""


class BatchJobFailed(StreamsError):
    """A worker process of the batch path failed; the run stopped before committing offsets,
    so a new run redoes the work (its outputs carry the same deterministic ids)."""


class BatchJobInterrupted(BatchJobFailed, TransientError):
    """A worker process failed on an outage (a :class:`TransientError` in the child)."""


@dataclass(frozen=True)
class _Done:
    """What a child sends when its work returned."""

    result: Any


@dataclass(frozen=True)
class _Failure:
    """What a child sends instead of a result when its work raised."""

    kind: str
    message: str
    transient: bool


def _child(work: Callable[[Any], Any], share: Any, send: Connection) -> None:
    """The body of one child: run ``work(share)``, send a :class:`_Done` or a
    :class:`_Failure`."""
    try:
        message: _Done | _Failure = _Done(work(share))
    except BaseException as exc:  # everything reaches the parent, also Ctrl-C
        log.exception("batch.job_failed", extra={"share": repr(share)})
        message = _Failure(type(exc).__name__, str(exc), isinstance(exc, TransientError))
    send.send(message)
    send.close()
    if isinstance(message, _Failure):
        sys.exit(1)


def run_forked(work: Callable[[S], R], shares: Sequence[S]) -> list[R]:
    """``[work(share) for share in shares]``, one forked process per share (module
    docstring)."""
    context = multiprocessing.get_context("fork")
    children: list[tuple[BaseProcess, Connection]] = []
    try:
        for index, share in enumerate(shares):
            receive, send = context.Pipe(duplex=False)
            process = context.Process(
                target=_child, args=(work, share, send), name=f"schakel-batch-{index}", daemon=True
            )
            process.start()
            send.close()  # only the child holds its end: EOF here once it is gone
            children.append((process, receive))
        results: dict[int, R] = {}
        waiting = {receive: index for index, (_, receive) in enumerate(children)}
        while waiting:
            for ready in wait(list(waiting)):
                assert isinstance(ready, Connection)
                index = waiting.pop(ready)
                try:
                    message = ready.recv()
                except EOFError:  # exited or killed before sending anything
                    message = None
                if not isinstance(message, _Done):
                    failure = message if isinstance(message, _Failure) else None
                    raise _failed(shares[index], children[index][0], failure)
                results[index] = message.result
        for index, (child, _) in enumerate(children):
            child.join()
            if child.exitcode != 0:
                raise _failed(shares[index], child, None)
        return [results[index] for index in range(len(children))]
    finally:
        _end(children)


def _failed(share: Any, process: BaseProcess, failure: _Failure | None) -> BatchJobFailed:
    """The error of the child for ``share`` (reaped first, for its exit code)."""
    process.join(TERMINATE_WAIT)
    code = process.exitcode
    if failure is not None:
        kind = BatchJobInterrupted if failure.transient else BatchJobFailed
        return kind(f"batch worker process for {share!r} failed: {failure.kind}: {failure.message}")
    how = f"exit code {code}" if code is None or code >= 0 else f"killed by signal {-code}"
    return BatchJobFailed(f"batch worker process for {share!r} ended without a result ({how})")


def _end(children: Sequence[tuple[BaseProcess, Connection]]) -> None:
    """Terminate and reap every child still running; close the pipes."""
    for process, _ in children:
        if process.is_alive():
            process.terminate()
    for process, receive in children:
        process.join(TERMINATE_WAIT)
        if process.is_alive():
            process.kill()
            process.join()
        receive.close()
        process.close()
