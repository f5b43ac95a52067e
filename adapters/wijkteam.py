"""``schakel adapter wijkteam events.jsonl``: bulk load of the wijkteam registration system.

CloudEvents JSON lines (structured mode, one per line — read by
:class:`~adapters.jsonlines.JsonLinesSource`) restricted to the ``nl.wijkteams.*`` types and
withdrawals of the system's own records; any other type is rejected (``unknown-type``) with
the line it is on. The live feed of the same system is the webhook (:mod:`adapters.webhook`,
``schakel adapter wijkteam --serve``), which applies the same restriction through
:func:`type_problem`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from adapters.base import Cursor, Record, Source
from adapters.exceptions import Rejection
from adapters.jsonlines import JsonLinesSource
from schemas.wire import VERWIJDERD

PREFIX = "nl.wijkteams."
DOMAIN = "wijkteams"


def type_problem(event: Mapping[str, Any]) -> Rejection | None:
    """A rejection if ``event`` has a string ``type`` outside ``nl.wijkteams.*`` (other
    problems with ``type`` are left to the catalogue validation). A withdrawal
    (``nl.schakel.bron.verwijderd``) of one of the system's own records, ``domein``
    ``wijkteams``, passes."""
    event_type = event.get("type")
    if event_type == VERWIJDERD and event.get("domein") == DOMAIN:
        return None
    if isinstance(event_type, str) and event_type and not event_type.startswith(PREFIX):
        return Rejection(
            f"type: only {PREFIX}* events are accepted from the wijkteam system",
            reason="unknown-type",
        )
    return None


class WijkteamSource(Source):
    """JSON lines of ``nl.wijkteams.*`` CloudEvents.

    Guarantees what :class:`~adapters.jsonlines.JsonLinesSource` guarantees (streamed,
    byte-offset cursor per file, one record per non-blank line), and that no event of
    another domain passes."""

    name = "wijkteam"

    def __init__(self, paths: Sequence[Path]) -> None:
        self._lines = JsonLinesSource(paths, name=self.name)

    def records(self, cursor: Cursor) -> Iterator[Record]:
        self._lines.observer = self.observer
        self._lines.watching = self.watching
        for record in self._lines.records(cursor):
            problem = type_problem(record.event) if record.event is not None else None
            if problem is None:
                yield record
            else:
                yield replace(record, event=None, rejection=problem)
