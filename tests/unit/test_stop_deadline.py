"""The worker's stop deadline (schakel/stop_deadline.py): started once by the first stop
signal, it logs ``worker.stopping``; when it passes, ``worker.stop_timeout`` (with whether the
broker answers) and the process ends with exit code 75. The worker end to end, with its broker
killed: tests/integration/streams/test_worker_stop.py."""

from __future__ import annotations

import logging
import threading

import pytest

from schakel.stop_deadline import EXIT_STOP_TIMEOUT, StopDeadline


def test_the_deadline_logs_and_ends_the_process(caplog: pytest.LogCaptureFixture) -> None:
    ended = threading.Event()
    codes: list[int] = []

    def stop(code: int) -> None:
        codes.append(code)
        ended.set()

    deadline = StopDeadline(0.05, reachable=lambda: False, stop=stop)
    with caplog.at_level(logging.INFO, logger="schakel.worker"):
        deadline.start("SIGTERM")
        deadline.start("SIGINT")  # a second signal does not move the deadline
        assert ended.wait(5)
    assert codes == [EXIT_STOP_TIMEOUT] == [75]
    records = {r.getMessage(): r for r in caplog.records if r.name == "schakel.worker"}
    assert records["worker.stopping"].__dict__["signal"] == "SIGTERM"
    timeout = records["worker.stop_timeout"]
    assert timeout.levelno == logging.ERROR
    assert timeout.__dict__["signal"] == "SIGTERM"
    assert timeout.__dict__["broker_reachable"] is False
    assert timeout.__dict__["exit"] == EXIT_STOP_TIMEOUT
    assert [r.getMessage() for r in caplog.records].count("worker.stopping") == 1


def test_nothing_happens_before_a_stop_signal() -> None:
    codes: list[int] = []
    StopDeadline(0.01, stop=codes.append)
    threading.Event().wait(0.1)
    assert codes == []


def test_a_slow_stop_with_the_broker_answering_gets_the_patience(
    caplog: pytest.LogCaptureFixture,
) -> None:
    ended = threading.Event()
    codes: list[int] = []
    answers = iter([True, True])

    def stop(code: int) -> None:
        codes.append(code)
        ended.set()

    deadline = StopDeadline(0.05, patience=0.3, reachable=lambda: next(answers), stop=stop)
    with caplog.at_level(logging.INFO, logger="schakel.worker"):
        deadline.start("SIGTERM")
        assert not ended.wait(0.2)  # the broker answered at the deadline: still waiting
        assert ended.wait(5)
    assert codes == [EXIT_STOP_TIMEOUT]
    events = [r.getMessage() for r in caplog.records if r.name == "schakel.worker"]
    assert events == ["worker.stopping", "worker.stop_slow", "worker.stop_timeout"]
    timeout = next(r for r in caplog.records if r.getMessage() == "worker.stop_timeout")
    assert timeout.__dict__["deadline_s"] == 0.3
