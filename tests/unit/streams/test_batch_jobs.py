"""The worker processes of the batch path (:func:`streams.batch_jobs.run_forked`): results in
the order of the shares, each from a forked process of its own; any child that raises, exits
or is killed without a result makes the call raise; no child outlives the call, also when the
caller itself fails."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from schemas.exceptions import TransientError
from streams import batch_jobs
from streams.batch_citizens import BatchStats
from streams.batch_jobs import BatchJobFailed, BatchJobInterrupted, run_forked
from streams.batch_kafka import BatchDeliveryError, Record
from tests.processes import gone


class Outage(TransientError):
    pass


def _pids(directory: Path, count: int, timeout: float = 20.0) -> list[int]:
    """The pids the children wrote to ``directory`` (waits until ``count`` are there)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        files = sorted(directory.glob("*.pid"))
        if len(files) == count and all(f.read_text() for f in files):
            return [int(f.read_text()) for f in files]
        time.sleep(0.05)
    raise AssertionError(f"{count} children did not start")


def _note_pid(directory: Path, share: Any) -> None:
    (directory / f"{share}.pid").write_text(str(os.getpid()))


def test_each_share_runs_in_a_forked_process_and_results_come_back_in_order() -> None:
    parent = os.getpid()
    record = Record("t", 1, 7, b"k", b"v", [("h", b"x")], None)

    def work(share: int) -> tuple[int, int, BatchStats, list[Record]]:
        time.sleep(0.2 if share == 0 else 0)  # the first share ends last
        return share * 10, os.getpid(), BatchStats(read=share), [record]

    results = run_forked(work, [0, 1, 2])
    assert [r[0] for r in results] == [0, 10, 20]
    pids = {r[1] for r in results}
    assert len(pids) == 3 and parent not in pids
    assert [r[2].read for r in results] == [0, 1, 2]
    assert results[0][3] == [record]  # records and stats survive the trip back
    assert run_forked(work, []) == []


def test_the_stats_of_the_processes_add_up() -> None:
    total = BatchStats(read=1, accepted=2, misplaced=1)
    total.add(BatchStats(read=10, accepted=20, duplicates=3, citizens=4, misplaced=2))
    assert total == BatchStats(read=11, accepted=22, duplicates=3, citizens=4, misplaced=3)


def test_a_child_that_raises_fails_the_call_and_the_others_are_terminated(
    tmp_path: Path,
) -> None:
    def work(share: str) -> str:
        _note_pid(tmp_path, share)
        if share == "bad":
            _pids(tmp_path, 3)  # the others are running
            raise ValueError("partition 2 is broken")
        time.sleep(120)
        return share

    started = time.monotonic()
    with pytest.raises(BatchJobFailed) as failed:
        run_forked(work, ["slow-a", "bad", "slow-b"])
    assert time.monotonic() - started < 60  # the sleeping children did not run out their time
    assert not isinstance(failed.value, TransientError)
    assert "'bad'" in str(failed.value)
    assert "ValueError: partition 2 is broken" in str(failed.value)
    assert all(gone(pid) for pid in _pids(tmp_path, 3))


@pytest.mark.parametrize(
    "error",
    [Outage("registry unreachable"), BatchDeliveryError("3 output record(s) failed")],
    ids=["outage", "unacknowledged"],
)
def test_a_transient_error_in_a_child_is_transient_in_the_caller(error: Exception) -> None:
    def work(share: int) -> int:
        if share == 1:
            raise error
        return share

    with pytest.raises(BatchJobInterrupted) as failed:
        run_forked(work, [0, 1])
    assert isinstance(failed.value, TransientError)
    assert type(error).__name__ in str(failed.value)


@pytest.mark.parametrize(
    ("how", "expected"),
    [("exit", "exit code 3"), ("kill", "killed by signal 9")],
)
def test_a_child_that_ends_without_a_result_fails_the_call(how: str, expected: str) -> None:
    def work(share: int) -> int:
        if share == 1:
            if how == "exit":
                os._exit(3)
            os.kill(os.getpid(), signal.SIGKILL)
        return share

    with pytest.raises(BatchJobFailed, match=expected):
        run_forked(work, [0, 1])


def test_no_child_outlives_a_failure_of_the_caller(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def work(share: int) -> int:
        _note_pid(tmp_path, share)
        time.sleep(120)
        return share

    def interrupted(*_: Any, **__: Any) -> list[Any]:
        _pids(tmp_path, 2)
        raise KeyboardInterrupt

    monkeypatch.setattr(batch_jobs, "wait", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_forked(work, [0, 1])
    pids = _pids(tmp_path, 2)
    assert all(gone(pid) for pid in pids)
