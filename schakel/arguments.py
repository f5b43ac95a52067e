"""Numbers on the command line, checked as the settings they stand in for are checked.

Each function here returns an ``argparse`` *type*: a converter that refuses a value outside
its bounds with :class:`argparse.ArgumentTypeError`, so argparse prints one line naming the
option and exits 2 before anything starts (``docs/operations.md``, exit codes). The line
names the option and the rule, never what was typed: it may have been pasted from where a BSN
stands.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

PORT_MAX = 65535


def whole_number(minimum: int, maximum: int | None = None) -> Callable[[str], int]:
    """A whole number from ``minimum`` (to ``maximum``, when given)."""
    bounds = f"at least {minimum}" if maximum is None else f"from {minimum} to {maximum}"

    def convert(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum or (maximum is not None and value > maximum):
            raise argparse.ArgumentTypeError(f"must be a whole number {bounds}")
        return value

    return convert


def seconds(
    *, most: float, above: float | None = None, least: float | None = None
) -> Callable[[str], float]:
    """A finite number of seconds, at most ``most`` and either above ``above`` or at least
    ``least`` (exactly one of them). Without the bounds a negative value or ``nan`` waited not
    at all, and ``inf`` or a huge value ended in an ``OverflowError`` at the first wait."""
    if above is not None and least is None:
        low, inclusive, bounds = above, False, f"above {above:g}, at most {most:g}"
    elif least is not None and above is None:
        low, inclusive, bounds = least, True, f"from {least:g} to {most:g}"
    else:
        raise TypeError("seconds(): give exactly one of above= and least=")

    def convert(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        in_range = (low <= value if inclusive else low < value) and value <= most
        if not (math.isfinite(value) and in_range):
            raise argparse.ArgumentTypeError(f"must be a number of seconds {bounds}")
        return value

    return convert


def port_number(*, any_free: bool) -> Callable[[str], int]:
    """A TCP port, 1–65535; with ``any_free`` also 0, which binds to any free port (the
    process prints the one it got). Without the bound, ``--port 70000`` was a traceback."""
    return whole_number(0 if any_free else 1, PORT_MAX)
