"""One citizen's timeline grouped by event type: what the views of every rule read.

A :class:`~streams.rules.states.FactView` sees only its rule's declared types; building one by
filtering the whole timeline is a Python loop over the history, for every rule, at every
assessment. A :class:`TypeIndex` is built once per assessment (the batch path, the full
engine) and shared by all rules' views; the live worker keeps it between assessments of a
citizen and puts a new event into the groups and merged type sets that hold its type
(:meth:`TypeIndex.update`): a copy of those tuples (memory copies, no Python loop over them),
and a view costs the number of its types.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, KeysView, Sequence
from datetime import date

from streams.model import TimelineEvent
from streams.rules.intervals import INF


def group_by_type(ordered: Iterable[TimelineEvent]) -> dict[str, tuple[TimelineEvent, ...]]:
    """``ordered`` grouped by event type, each group in the order of ``ordered``."""
    grouped: dict[str, list[TimelineEvent]] = {}
    for event in ordered:
        grouped.setdefault(event.type, []).append(event)
    return {k: tuple(v) for k, v in grouped.items()}


def _sort_key(event: TimelineEvent) -> tuple[date, int, float, str, str]:
    return event.sort_key


def _inserted(events: tuple[TimelineEvent, ...], event: TimelineEvent) -> tuple[TimelineEvent, ...]:
    """``events`` (timeline order) with ``event`` in its place; unchanged if it is there
    already (sort keys are unique per event), so inserting twice is inserting once."""
    key = event.sort_key
    if not events or events[-1].sort_key < key:  # the usual case: the latest event
        return (*events, event)
    at = bisect.bisect_right(events, key, key=_sort_key)
    if at and events[at - 1].sort_key == key:
        return events
    return (*events[:at], event, *events[at:])


def first_day(event: TimelineEvent) -> int:
    """The earliest day ``event`` speaks of: its ``datum``, or its ``ingangsdatum`` if earlier
    (a voorziening may start before it is assigned), as a day number."""
    day = event.datum.toordinal()
    start = event.data.get("ingangsdatum")
    if isinstance(start, date):
        day = min(day, start.toordinal())
    return day


def _first_day(events: Iterable[TimelineEvent]) -> int:
    """The earliest :func:`first_day` of ``events`` (``INF``: none)."""
    return min((first_day(e) for e in events), default=INF)


class TypeIndex:
    """One citizen's timeline by event type, for the views of every rule (:class:`FactView`).

    ``of(types)`` is the events of ``types`` in timeline order, computed once per set of types
    (from :attr:`timeline`) and kept. The live worker keeps an index between assessments of a
    citizen: after the timeline changed, :meth:`update` must be called before the index is
    read again (the timeline may be the caller's list, changed in place).
    """

    __slots__ = ("_groups", "_merged", "_origins", "timeline")

    def __init__(self, timeline: Sequence[TimelineEvent]) -> None:
        """``timeline``: the events in timeline order (read, not changed here)."""
        self.timeline = timeline
        self._groups = group_by_type(timeline)
        self._merged: dict[frozenset[str], tuple[TimelineEvent, ...]] = {}
        self._origins: dict[frozenset[str], int] = {}

    def update(
        self,
        timeline: Sequence[TimelineEvent],
        changed: frozenset[str],
        added: Sequence[TimelineEvent] | None = None,
    ) -> None:
        """Take the new ``timeline``, in which only events of ``changed`` types were added or
        removed since the last one (the events of every other type are the same).

        ``added``: the events inserted since, if that is all that happened (nothing removed);
        when their types are exactly ``changed`` they are put in their place in the groups and
        merged sets holding their type instead of regrouping the changed types from the whole
        timeline. An event of ``added`` already in the index is left as it is (a retry after a
        failed assessment inserts it once)."""
        self.timeline = timeline
        if not changed:
            return
        if added is not None and {e.type for e in added} == changed:
            for event in added:
                self._insert(event)
            return
        groups = self._groups
        for kind in changed:
            groups.pop(kind, None)
        groups.update(group_by_type([e for e in timeline if e.type in changed]))
        self._merged = {k: v for k, v in self._merged.items() if not k & changed}
        self._origins = {k: v for k, v in self._origins.items() if not k & changed}

    def _insert(self, event: TimelineEvent) -> None:
        kind = event.type
        self._groups[kind] = _inserted(self._groups.get(kind, ()), event)
        merged = self._merged
        for types in [k for k in merged if kind in k]:
            merged[types] = _inserted(merged[types], event)
        origins = self._origins
        for types in [k for k in origins if kind in k]:
            origins[types] = min(origins[types], _first_day((event,)))

    def origin(self, types: frozenset[str]) -> int:
        """The earliest ``datum`` or ``ingangsdatum`` on an event of ``types`` (``INF``:
        none); see :attr:`FactView.origin`."""
        found = self._origins.get(types)
        if found is None:
            found = self._origins[types] = _first_day(self.of(types))
        return found

    @property
    def present(self) -> KeysView[str]:
        """The types the timeline holds an event of."""
        return self._groups.keys()

    def group(self, kind: str) -> tuple[TimelineEvent, ...]:
        """The events of one type, in timeline order."""
        return self._groups.get(kind, ())

    def of(self, types: frozenset[str]) -> tuple[TimelineEvent, ...]:
        """The events of ``types``, in timeline order."""
        found = self._merged.get(types)
        if found is None:
            groups = self._groups
            present = [t for t in types if t in groups]
            if len(present) <= 1:
                found = groups[present[0]] if present else ()
            else:
                wanted = frozenset(present)
                found = tuple(e for e in self.timeline if e.type in wanted)
            self._merged[types] = found
        return found
