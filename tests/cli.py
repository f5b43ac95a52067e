"""Run the ``schakel`` command as a user does: ``python -m schakel …`` from the repository root,
output captured as text, the exit code left to the test."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping

from tests.processes import ROOT, start, stopping

__all__ = ["ROOT", "run_cli"]


def run_cli(
    *args: str, env: Mapping[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """``schakel *args`` with ``env`` (default: this process's environment); past ``timeout``
    seconds it is stopped (:func:`tests.processes.stop`: its whole process group) and
    ``subprocess.TimeoutExpired`` raised."""
    argv = [sys.executable, "-m", "schakel", *args]
    process = start(
        argv,
        subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=os.environ if env is None else env,
        cwd=ROOT,
        text=True,
    )
    with process, stopping(process):
        stdout, stderr = process.communicate(timeout=timeout)
    return subprocess.CompletedProcess(argv, process.returncode, stdout, stderr)
