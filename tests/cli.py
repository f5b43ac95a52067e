"""Run the ``schakel`` command as a user does: ``python -m schakel …`` from the repository root,
output captured as text, the exit code left to the test."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_cli(
    *args: str, env: Mapping[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """``schakel *args`` with ``env`` (default: this process's environment)."""
    return subprocess.run(
        [sys.executable, "-m", "schakel", *args],
        env=dict(os.environ if env is None else env),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
