"""Derived state of a citizen for display (timeline API and snapshot): the periods of every
state of ``rules.md`` as (name, label, first day, last day or None), computed by the same
functions the rules use (:mod:`streams.rules.states`), over all events up to the clock."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from streams.model import TimelineEvent
from streams.rules.intervals import INF
from streams.rules.states import STATES, FactView, segments

SHOWN = (
    "voorziening",
    "uitkering",
    "traject",
    "casus",
    "vroegsignaal",
    "schuldhulptraject",
    "werkpotentieel",
    "regie",
)

Period = tuple[str, str | None, date, date | None]


def periods(events: Sequence[TimelineEvent], clock: date) -> list[Period]:
    """Every period of the shown states, in (name, start) order."""
    types = frozenset().union(*(STATES[name].types for name in SHOWN))
    visible = sorted((e for e in events if e.datum <= clock), key=lambda e: e.sort_key)
    view = FactView(visible, types)
    out: list[Period] = []
    for name in SHOWN:
        for segment in segments(view, name):
            end = None if segment.end >= INF else date.fromordinal(segment.end)
            out.append((name, segment.label, date.fromordinal(segment.start), end))
    return out
