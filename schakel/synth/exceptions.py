"""The one exception tree of :mod:`schakel.synth`."""

from __future__ import annotations

from schemas.exceptions import PermanentError


class SynthError(PermanentError, RuntimeError):
    """Generating, writing or scoring a synthetic municipality failed (bad arguments, an
    unwritable directory, a missing or malformed ground truth, a database that would not
    start). The message says what to fix; it never holds a BSN."""


class PostgresUnavailable(SynthError):
    """The PostgreSQL server binaries are missing or the throwaway server did not start."""
