"""The limit on log lines that anyone can cause, or that repeat per request while one
condition lasts (:class:`schemas.log_limits.RefusalLog`): the first line at once, then at most
one a minute with ``weggelaten``, the occurrences left out since the line before."""

from __future__ import annotations

import logging
import threading

import pytest

import schemas.log_limits
from schemas.log_limits import REFUSAL_LOG_INTERVAL_S, RefusalLog

log = logging.getLogger("schakel.test.log_limits")


@pytest.fixture
def now(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    clock = [1000.0]
    monkeypatch.setattr(schemas.log_limits, "_monotonic", lambda: clock[0])
    return clock


def lines(caplog: pytest.LogCaptureFixture, message: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.getMessage() == message]


def test_the_first_at_once_then_a_line_a_minute_with_the_number_left_out(
    now: list[float], caplog: pytest.LogCaptureFixture
) -> None:
    refused = RefusalLog(log, "test.refused")
    with caplog.at_level(logging.DEBUG, logger=log.name):
        for n in range(50):
            refused(n=n)
        now[0] += REFUSAL_LOG_INTERVAL_S - 0.001  # not yet a minute
        refused(n=50)
        now[0] += 0.001
        refused(n=51)
        refused(n=52)
        now[0] += 10 * REFUSAL_LOG_INTERVAL_S  # long after: at once, with the one left out
        refused(n=53)
    found = lines(caplog, "test.refused")
    assert [(r.n, r.weggelaten) for r in found] == [(0, 0), (51, 50), (53, 1)]  # type: ignore[attr-defined]
    assert {r.levelno for r in found} == {logging.WARNING}


@pytest.mark.parametrize("level", [logging.DEBUG, logging.ERROR])
def test_the_level_is_the_callers(
    level: int, now: list[float], caplog: pytest.LogCaptureFixture
) -> None:
    refused = RefusalLog(log, "test.level", level=level)
    with caplog.at_level(logging.DEBUG, logger=log.name):
        refused()
        refused()
    assert [(r.levelno, r.weggelaten) for r in lines(caplog, "test.level")] == [(level, 0)]  # type: ignore[attr-defined]


def test_two_logs_are_limited_apart(now: list[float], caplog: pytest.LogCaptureFixture) -> None:
    first, second = RefusalLog(log, "test.first"), RefusalLog(log, "test.second")
    with caplog.at_level(logging.INFO, logger=log.name):
        first()
        second()
    assert len(lines(caplog, "test.first")) == len(lines(caplog, "test.second")) == 1


def test_every_occurrence_is_logged_or_counted_across_threads(
    now: list[float], caplog: pytest.LogCaptureFixture
) -> None:
    refused = RefusalLog(log, "test.threads")

    def flood() -> None:
        for _ in range(500):
            refused()

    with caplog.at_level(logging.INFO, logger=log.name):
        threads = [threading.Thread(target=flood) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        now[0] += REFUSAL_LOG_INTERVAL_S
        refused()
    found = lines(caplog, "test.threads")
    assert [r.weggelaten for r in found] == [0, 1999]  # type: ignore[attr-defined]
