"""Process checks shared by the tests."""

from __future__ import annotations

import os


def gone(pid: int) -> bool:
    """Whether process ``pid`` no longer exists (ended and reaped)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False
