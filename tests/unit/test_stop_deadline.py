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


@pytest.mark.parametrize(("crashed", "named"), [(True, "crash"), (False, "exit")])
def test_a_stop_without_a_signal_gets_the_deadline_too(
    crashed: bool, named: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A crash (or the start ending) goes into mode's ``stop_and_shutdown`` without a stop
    signal; that stop waits on the Kafka clients like one on SIGTERM (here: for ever)."""
    import faust

    from schakel.stop_deadline import StoppingWorker

    ended = threading.Event()
    codes: list[int] = []

    def stop(code: int) -> None:
        codes.append(code)
        ended.set()

    monkeypatch.setattr(faust.Worker, "stop_and_shutdown", lambda self: ended.wait(10))
    app = faust.App("stop-deadline-test", broker="kafka://127.0.0.1:9", autodiscover=False)
    deadline = StopDeadline(0.05, reachable=lambda: False, stop=stop)
    runner = StoppingWorker(app, deadline=deadline, quiet=True, redirect_stdouts=False)
    if crashed:
        runner.crash_reason = RuntimeError("a send failed for good")
    with caplog.at_level(logging.INFO, logger="schakel.worker"):
        runner.stop_and_shutdown()  # returns once the deadline ended the (stand-in) process
    assert codes == [EXIT_STOP_TIMEOUT]
    stopping = next(r for r in caplog.records if r.getMessage() == "worker.stopping")
    assert stopping.__dict__["signal"] == named
