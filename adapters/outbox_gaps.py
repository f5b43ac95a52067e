"""The gaps in the outbox's ids that the outbox adapter passed, watched for rows that commit
late (:mod:`adapters.outbox`).

A gap is passed when it looks settled — no transaction holds a write lock on the table, or it
has been seen for the grace period — but that can be wrong: a transaction that took its id
with ``nextval()`` before its ``INSERT`` (an ORM allocating ids ahead, Hibernate's pooled
sequences) holds no lock yet, and one may stay open longer than the grace period. Its row
commits later with an id below the cursor, where ``WHERE id > last_id`` never looks again.
So every gap passed is remembered in the cursor with the time it was passed, and every run
first reads the rows that appeared in the gaps still watched; a gap is given up after
:data:`WATCH_S` (logged ``adapter.outbox_gap_given_up``: a row committed after that is not
read), and at most :data:`MAX_GAPS` are watched (the oldest given up first).

Rows found in a gap are read out of id order. Downstream that does not matter: a citizen's
signals do not depend on arrival order, and a record version's ``sequence`` is its outbox id,
so a late update still sorts before a later one of the same record.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

log = logging.getLogger("schakel.adapters")

WATCH_S = 7 * 86_400.0
"""How long a passed gap is watched (s): longer than any transaction or export should take."""
MAX_GAPS = 1_000
"""How many passed gaps are watched at most (each is one range in the cursor)."""
REGISTERED_AT = (
    "to_char(created_at::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
)
"""A row's ``created_at`` as RFC 3339 text in UTC (``2026-01-10T08:30:00.000000Z``), or NULL
(``created_at`` NULL or ``infinity``), as the outbox adapter selects it: text, so that no value
of the column can make psycopg fail on the batch (it refuses timestamps outside Python's
years). Whatever the session's time zone; a ``timestamp`` without time zone (not the documented
type) is taken to be in the session's time zone, as PostgreSQL casts it."""
LATE_ROWS = (
    f"SELECT o.id, {REGISTERED_AT}, o.event::text FROM schakel_outbox o "  # noqa: S608 - constants
    "JOIN unnest(%s::bigint[], %s::bigint[]) AS g(lo, hi) ON o.id BETWEEN g.lo AND g.hi "
    "ORDER BY o.id"
)
"""The rows that appeared in the watched gaps (the first and last ids of each, as arrays), as
:mod:`adapters.outbox` reads rows: id, ``created_at`` as RFC 3339 text in UTC, event."""

Gap = tuple[int, int, float]
"""A passed gap: its first and last id, and when it was passed (epoch seconds)."""


@dataclass(frozen=True)
class WatchedGaps:
    """The gaps watched, oldest first; immutable, so every record's cursor can share one."""

    gaps: tuple[Gap, ...] = ()

    @classmethod
    def load(cls, stored: object, now: float) -> WatchedGaps:
        """From a cursor's ``gaps`` (absent in cursors of before: none), without the gaps
        watched longer than :data:`WATCH_S` (each logged once per process)."""
        if not isinstance(stored, Sequence):
            return cls()
        kept: list[Gap] = []
        for item in stored:
            lo, hi, passed = int(item[0]), int(item[1]), float(item[2])
            if now - passed > WATCH_S:
                _given_up(lo, hi, "watched long enough")
            else:
                kept.append((lo, hi, passed))
        return cls(tuple(kept))

    def cursor(self) -> list[list[float]]:
        """The JSON form for a cursor."""
        return [[lo, hi, passed] for lo, hi, passed in self.gaps]

    def bounds(self) -> tuple[list[int], list[int]]:
        """The first and the last ids of the gaps, for :data:`LATE_ROWS`."""
        return [g[0] for g in self.gaps], [g[1] for g in self.gaps]

    def passed(self, lo: int, hi: int, now: float) -> WatchedGaps:
        """These gaps and the one from ``lo`` to ``hi`` passed ``now``."""
        gaps = [*self.gaps, (lo, hi, now)]
        while len(gaps) > MAX_GAPS:
            _given_up(gaps[0][0], gaps[0][1], "too many gaps watched")
            gaps.pop(0)
        return WatchedGaps(tuple(gaps))

    def found(self, row_id: int) -> WatchedGaps:
        """These gaps without ``row_id``, read late."""
        gaps: list[Gap] = []
        for lo, hi, passed in self.gaps:
            if lo <= row_id <= hi:
                gaps += [(a, b, passed) for a, b in ((lo, row_id - 1), (row_id + 1, hi)) if a <= b]
            else:
                gaps.append((lo, hi, passed))
        return WatchedGaps(tuple(gaps))


NO_GAPS = WatchedGaps()

_LOGGED: set[tuple[int, int]] = set()


def _given_up(lo: int, hi: int, why: str) -> None:
    if (lo, hi) in _LOGGED:
        return
    _LOGGED.add((lo, hi))
    log.warning(
        "adapter.outbox_gap_given_up",
        extra={"adapter": "outbox", "first_id": lo, "last_id": hi, "why": why},
    )
