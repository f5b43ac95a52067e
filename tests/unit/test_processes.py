"""The tests' process helper (tests/processes.py): a stop reaches the whole process group,
SIGKILL follows when the grace period runs out, and an ended process keeps its exit code."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.processes import gone, start, stop, stopping


def ended(pid: int) -> bool:
    """Gone, or a zombie nobody reaped yet (an orphan's parent is not this process)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return gone(pid) or stat.rsplit(")", 1)[1].split()[0] == "Z"


def test_stop_signals_the_whole_group(tmp_path: Path) -> None:
    pidfile = tmp_path / "grandchild.pid"
    script = f"sleep 60 & echo $! > {pidfile}; wait"
    process = start(["sh", "-c", script], subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while not (pidfile.exists() and pidfile.read_text().strip()):
        assert time.monotonic() < deadline, "the shell did not start its child"
        time.sleep(0.05)
    grandchild = int(pidfile.read_text())
    assert stop(process, grace=10) == -signal.SIGTERM
    deadline = time.monotonic() + 10
    while not ended(grandchild):
        assert time.monotonic() < deadline, "the grandchild outlived the stop"
        time.sleep(0.05)


def test_a_process_that_ignores_the_signal_is_killed_after_the_grace() -> None:
    code = (
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "print('ready', flush=True); time.sleep(60)"
    )
    with start([sys.executable, "-c", code], subprocess.PIPE, text=True) as process:
        assert process.stdout is not None and process.stdout.readline() == "ready\n"
        started = time.monotonic()
        assert stop(process, grace=0.5) == -signal.SIGKILL
        assert time.monotonic() - started < 10


def test_an_ended_process_keeps_its_exit_code() -> None:
    with stopping(start(["sh", "-c", "exit 3"], subprocess.DEVNULL)) as process:
        assert process.wait(10) == 3
    assert stop(process) == 3 and process.returncode == 3
