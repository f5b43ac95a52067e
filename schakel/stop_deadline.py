"""``schakel worker``: a worker told to stop (SIGTERM, SIGINT), or stopping after a crash,
ends within :data:`STOP_DEADLINE_S`, also when its broker is gone.

Faust's graceful stop waits on its Kafka clients. With the broker gone it hung for 60 s
(measured: 61 s on either broker, SIGTERM 2 s after the broker was killed): aiokafka
0.14's consumer, stopping, cancels its fetch task while that task sleeps its retry backoff
after a failed fetch, and awaits it without catching the cancellation; the
``CancelledError`` ends Faust's consumer thread before it reports itself shut down, and mode
waits out its ``shutdown_timeout`` (60 s) for that report. Kubernetes kills a pod 30 s after
SIGTERM by default, ``docker compose stop`` after 10 s: the worker was killed without a word.

:class:`StoppingWorker` starts a deadline when the first stop signal arrives (in a thread of
its own: a blocked event loop cannot hold it up). A stop that finishes in time ends as before
(exit 0). A stop still running at the deadline while the broker answers a TCP connection is
slow, not stuck: it gets :data:`STOP_PATIENCE_S` in all (``worker.stop_slow``). Otherwise the
worker logs ``worker.stop_timeout`` (the signal, the time waited, whether the broker answered)
and ends the process with :data:`EXIT_STOP_TIMEOUT` at once. That is a kill as far as Kafka is
concerned, and no worse than the orchestrator's SIGKILL that would follow: the last commit
stands. Under exactly-once the open transaction is aborted (by its timeout, or by the next
owner of the partition fencing the transactional id), so none of its outputs reaches a
``read_committed`` reader and its records are processed again; at least once the records since
the last commit are delivered again and re-emit their signal events under the same ids
(:mod:`streams.processor`). With the broker gone nothing could have been committed anyway.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable
from typing import Any

import faust

from schakel.logs import tell_held_back

log = logging.getLogger("schakel.worker")

STOP_DEADLINE_S = 8.0
"""Seconds a stop signal leaves the worker to stop gracefully. A graceful stop takes about 1 s
(an idle worker, either broker). The deadline and the reachability check logged with it (at
most 1 s per bootstrap address) end before ``docker compose stop``'s default 10 s and well
before Kubernetes' default grace period of 30 s (the Helm chart and Compose give the worker
60 s), so the worker's own last line is written before any SIGKILL."""
STOP_PATIENCE_S = 45.0
"""Seconds a stop gets in all when, at :data:`STOP_DEADLINE_S`, the broker still answers: a
worker that is still committing a large flush to a live broker is left to finish (a graceful
stop commits; a kill makes the next owner process the records again), logged as
``worker.stop_slow``. Below the 60 s the Helm chart and Compose give the worker."""
EXIT_STOP_TIMEOUT = 75
"""Exit code of a worker whose graceful stop outlasted :data:`STOP_DEADLINE_S` (``EX_TEMPFAIL``,
as for an outage that outlasted the retries: typically the broker was gone)."""


class StopDeadline:
    """Ends the process with :data:`EXIT_STOP_TIMEOUT` ``seconds`` after :meth:`start` if
    the broker does not answer then, ``patience`` seconds after it if it does, unless the
    process ended before. ``reachable`` says whether the broker answers (logged);
    ``stop`` is :func:`os._exit` (tests pass their own)."""

    def __init__(
        self,
        seconds: float = STOP_DEADLINE_S,
        *,
        patience: float = STOP_PATIENCE_S,
        reachable: Callable[[], bool | None] = lambda: None,
        stop: Callable[[int], object] = os._exit,
    ) -> None:
        self.seconds = seconds
        self.patience = patience
        self._waited = seconds
        self.reachable = reachable
        self.stop = stop
        self._timer: threading.Timer | None = None
        self._signal = ""

    def start(self, signal_name: str) -> None:
        """Start the deadline (once: a second signal does not move it) and log
        ``worker.stopping``."""
        if self._timer is not None:
            return
        self._signal = signal_name
        log.info("worker.stopping", extra={"signal": signal_name, "deadline_s": self.seconds})
        self._timer = threading.Timer(self.seconds, self.expire)
        self._timer.name = "schakel-stop-deadline"
        self._timer.daemon = True
        self._timer.start()

    def expire(self) -> None:
        """The deadline passed. The broker answering, and :attr:`patience` not yet spent: log
        ``worker.stop_slow`` and wait for the rest of it. Otherwise log
        ``worker.stop_timeout`` and end the process."""
        reachable = self.reachable()
        if reachable and self._waited < self.patience:
            log.warning(
                "worker.stop_slow",
                extra={
                    "signal": self._signal,
                    "waited_s": self._waited,
                    "patience_s": self.patience,
                },
            )
            self._timer = threading.Timer(self.patience - self._waited, self.expire)
            self._timer.name = "schakel-stop-deadline"
            self._timer.daemon = True
            self._waited = self.patience
            self._timer.start()
            return
        log.error(
            "worker.stop_timeout",
            extra={
                "signal": self._signal,
                "deadline_s": self._waited,
                "broker_reachable": reachable,
                "exit": EXIT_STOP_TIMEOUT,
            },
        )
        tell_held_back()  # the library lines held back, before the last line
        for handler in logging.getLogger().handlers:
            handler.flush()
        self.stop(EXIT_STOP_TIMEOUT)


class StoppingWorker(faust.Worker):  # type: ignore[misc]  # Faust is untyped
    """Faust's worker whose stop on SIGTERM or SIGINT has a :class:`StopDeadline`."""

    def __init__(self, *args: Any, deadline: StopDeadline, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.deadline = deadline

    def _on_sigterm(self) -> None:
        self.deadline.start(signal.SIGTERM.name)
        super()._on_sigterm()

    def _on_sigint(self) -> None:
        self.deadline.start(signal.SIGINT.name)
        super()._on_sigint()

    def stop_and_shutdown(self) -> None:
        """The stop that every run of the worker ends in (mode's ``execute_from_commandline``
        calls it when its start returns or raises). After a stop signal the deadline already
        runs and is not moved. Any other way in gets the deadline too, logged as
        ``worker.stopping`` with ``signal`` ``crash`` (a service crashed: e.g. a send that
        failed for good at a commit, ``streams.transactions``) or ``exit``: such a stop waits
        on the same Kafka clients as one on SIGTERM, and with the broker gone it hung as
        long."""
        self.deadline.start("crash" if self.crash_reason is not None else "exit")
        super().stop_and_shutdown()

    def _on_sigusr2(self) -> None:
        """Ignored, and logged (``worker.signal_ignored``). mode's worker enters ``pdb`` on
        SIGUSR2, in the event loop: a stray signal stopped the worker's processing, its API
        and its heartbeats (in a container without a terminal the debugger meets an empty
        stdin and raises ``BdbQuit`` in whatever runs next). SIGUSR1 still writes the stacks
        of all tasks to stderr, for diagnosis."""
        log.warning("worker.signal_ignored", extra={"signal": signal.SIGUSR2.name})
