"""Structured logging: one JSON object per line with a stable ``event`` name and the bound
context passed as ``extra`` (adapter, topic, partition, offset, …). Never log a BSN: messages
pass through :func:`schemas.pseudonym.mask_bsn` as a last line of defence.

Every process logs through the one handler :func:`setup_logging` installs on the root logger
(the worker keeps it: Faust is told not to install its own). The Kafka clients and Faust log
a broker outage many times a second (every reconnect, metadata refresh and fetch, for every
connection); :class:`RepeatFilter` lets the first line of each kind through and then at most
one per :data:`REPEAT_WINDOW_S`, carrying how many were left out. Schakel's own events are
never held back."""

from __future__ import annotations

import atexit
import json
import logging
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime

from schemas.pseudonym import mask_bsn

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": mask_bsn(record.getMessage()),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = _masked(value)
        if record.exc_info and record.exc_info[0] is not None:
            entry["exception"] = record.exc_info[0].__name__
            entry["detail"] = mask_bsn(str(record.exc_info[1]))
        return json.dumps(entry, ensure_ascii=False, default=str)


def _masked(value: object) -> object:
    """A log line's context value with every number that could be a BSN masked
    (:func:`~schemas.pseudonym.mask_bsn`): a string; a number, whose digits could be one (an
    outbox row id, an offset), then written as the masked text; the items of a list, tuple
    or dict; anything else as its text (what ``json.dumps`` would write for it)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return mask_bsn(value)
    if isinstance(value, int | float):
        text = repr(value)
        masked = mask_bsn(text)
        return value if masked == text else masked
    if isinstance(value, list | tuple):
        return [_masked(v) for v in value]
    if isinstance(value, dict):
        return {mask_bsn(str(k)): _masked(v) for k, v in value.items()}
    return mask_bsn(str(value))


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        extras = " ".join(
            f"{k}={v}"
            for k, v in vars(record).items()
            if k not in _STANDARD and not k.startswith("_")
        )
        return mask_bsn(f"{record.levelname.lower():7} {record.getMessage()} {extras}".rstrip())


REPEAT_WINDOW_S = 30.0
"""At most one line per kind of library message in this many seconds (:class:`RepeatFilter`)."""

OWN_LOGGERS = "schakel"
"""Loggers under this name are Schakel's: never held back by :class:`RepeatFilter`."""


class RepeatFilter(logging.Filter):
    """Hold back repeats of a library's log message (not Schakel's own: :data:`OWN_LOGGERS`).

    A *kind* is the logger, the level and the message template (``record.msg`` before its
    arguments are filled in: "Unable connect to node with id %s: %s" is one kind for every
    node and error). The first record of a kind passes; later ones pass at most once per
    ``window`` seconds, and the one that passes carries ``repeated``: how many of its kind
    were held back since the previous one. At most ``kinds`` kinds are remembered (the least
    recent is forgotten). ``clock`` is for tests."""

    def __init__(
        self,
        window: float = REPEAT_WINDOW_S,
        *,
        kinds: int = 512,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.window = window
        self.kinds = kinds
        self.clock = clock
        self._seen: OrderedDict[tuple[str, int, str], tuple[float, int]] = OrderedDict()
        self._lock = threading.Lock()  # the Kafka clients log from their own threads

    def filter(self, record: logging.LogRecord) -> bool:
        name = record.name
        if name == OWN_LOGGERS or name.startswith(OWN_LOGGERS + "."):
            return True
        kind = (name, record.levelno, str(record.msg))
        with self._lock:
            now = self.clock()
            seen = self._seen.get(kind)
            if seen is not None and now - seen[0] < self.window:
                self._seen[kind] = (seen[0], seen[1] + 1)
                return False
            if seen is not None and seen[1]:
                record.repeated = seen[1]
            self._seen[kind] = (now, 0)
            self._seen.move_to_end(kind)
            while len(self._seen) > self.kinds:
                self._seen.popitem(last=False)
            return True

    def held_back(self, *, all_kinds: bool = False) -> list[tuple[str, int, str, int]]:
        """``(logger, level, template, count)`` of each kind with records held back whose
        window has passed (every kind with any when ``all_kinds``: the process ends); their
        counts start again from 0. What a flood that stopped left out is otherwise never
        told: the next record of its kind, which would carry it, does not come."""
        out = []
        with self._lock:
            now = self.clock()
            for kind, (since, count) in self._seen.items():
                if count and (all_kinds or now - since >= self.window):
                    out.append((*kind, count))
                    self._seen[kind] = (since, 0)
        return out

    def report(self, *, all_kinds: bool = False) -> None:
        """Log :meth:`held_back` as ``log.repeated`` lines of Schakel's own (never held back):
        the library's logger and message template and how many of its records were left out."""
        for name, level, template, count in self.held_back(all_kinds=all_kinds):
            logging.getLogger(f"{OWN_LOGGERS}.logs").log(
                level,
                "log.repeated",
                extra={"source_logger": name, "template": template, "repeated": count},
            )


class _Reporter:
    """The thread that calls :meth:`RepeatFilter.report` once per window, and at exit."""

    def __init__(self) -> None:
        self.filter: RepeatFilter | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._changed = threading.Event()

    def watch(self, repeats: RepeatFilter) -> None:
        """Report for ``repeats`` from now on (a process sets up its logging once; tests more
        often: the thread then takes the new filter and its window at once)."""
        with self._lock:
            self.filter = repeats
            self._changed.set()
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="schakel-logs", daemon=True)
                self._thread.start()
                atexit.register(self._at_exit)

    def _run(self) -> None:
        while True:
            repeats = self.filter
            window = repeats.window if repeats is not None else REPEAT_WINDOW_S
            if self._changed.wait(window):
                self._changed.clear()
                continue
            if repeats is not None:
                repeats.report()

    def _at_exit(self) -> None:
        if self.filter is not None:
            self.filter.report(all_kinds=True)


_REPORTER = _Reporter()


def tell_held_back() -> None:
    """Log every count the process's :class:`RepeatFilter` holds back now, window or not: for
    a command about to end with one last line of its own (which must stay the last)."""
    if _REPORTER.filter is not None:
        _REPORTER.filter.report(all_kinds=True)


LIBRARY_LOGGERS = (
    "kafka",
    "aiokafka",
    "faust",
    "mode",
    "streams",  # mode's services log under their module's name: streams.transactions, …
    "aiohttp.access",
    "httpx",
    "httpx2",  # the registry client's HTTP requests, one line each
    "httpcore",
)
"""Loggers of libraries (and of Faust/mode services): WARNING or above, whatever the level."""


def setup_logging(
    level: str = "INFO", fmt: str = "json", *, window: float = REPEAT_WINDOW_S
) -> None:
    """Log to stderr, one line per record (JSON, or ``text``), through a
    :class:`RepeatFilter` of ``window`` seconds whose held-back counts a background thread
    reports once the window has passed (and at exit); :data:`LIBRARY_LOGGERS` at WARNING or
    above."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    repeats = RepeatFilter(window)
    handler.addFilter(repeats)
    _REPORTER.watch(repeats)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in LIBRARY_LOGGERS:
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
