"""Periods of start/end states, from one state's events: the building blocks of
:mod:`streams.rules.states`.

A :class:`Segment` is a stretch of days on which a state holds, with the events that
established and ended it. States without an id (uitkering, schuldhulptraject) toggle in
timeline order (:func:`toggle`); the per-id states traject and casus pair a day's starts and
ends by date, never by registration ``time`` (:func:`paired_days`, ``rules.md`` "Timeline
order, values, days").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from streams.model import TimelineEvent
from streams.rules.intervals import INF


def ref(event: TimelineEvent) -> str:
    """How an event is named in ``reden`` texts: its type and id."""
    return f"{event.type} {event.id}"


@dataclass(frozen=True, slots=True)
class Segment:
    """A stretch of days ``start``…``end`` (ordinals, inclusive) on which a state holds."""

    start: int
    end: int
    started_by: tuple[TimelineEvent, ...]
    """The events that establish this stretch (its evidence); the last one started it."""
    ended_by: str | None = None
    """What ended it, e.g. ``nl.wmo.voorzieningen.gestopt 17`` or ``einddatum van …``."""
    label: str | None = None
    """A distinguishing value: the productcategorie of a voorziening, the soort of a traject."""


def toggle(
    events: Iterable[TimelineEvent], start_type: str, end_type: str, label_field: str | None
) -> list[Segment]:
    """A state started by ``start_type`` and ended (inclusive) by the next ``end_type``, in
    timeline order (uitkering, schuldhulptraject: states without an id)."""
    out: list[Segment] = []
    opened: TimelineEvent | None = None
    for event in events:
        if event.type == start_type:
            if opened is None:
                opened = event
        elif event.type == end_type and opened is not None:
            out.append(segment_of(opened, event.datum.toordinal(), ref(event), label_field))
            opened = None
    if opened is not None:
        out.append(segment_of(opened, INF, None, label_field))
    return out


@dataclass(frozen=True, slots=True)
class Step:
    """One start or end of one id's period that takes effect (see :func:`paired_days`)."""

    opens: bool
    event: TimelineEvent


def paired_days(
    group: Iterable[TimelineEvent], start_type: str, end_type: str
) -> list[tuple[TimelineEvent, tuple[Step, ...]]]:
    """The starts and ends of *one* id (a traject or a casus), paired by date, never by time.

    ``rules.md``: a start and an end dated on the same day — if the state held on the day
    before, the end closes that period and the start opens a new one (no gap); otherwise the
    start opens it and the end closes it that day. Generalised to any number of each on a day:
    they alternate, beginning with an end if the state held on the day before and with a start
    otherwise, until the kind needed next runs out; what remains would start a held state or end
    a state that does not hold, and changes nothing. Registration ``time`` only decides which of
    several same-kind events of a day is used first (evidence, labels).

    Returns, per day with events (in date order), the first of that day's events in timeline
    order and the steps that take effect, in effect order.
    """
    days: dict[date, tuple[list[TimelineEvent], list[TimelineEvent], TimelineEvent]] = {}
    for event in group:  # timeline order: dates ascend, time orders a day's events
        if event.type not in (start_type, end_type):
            continue
        starts, ends, _ = days.setdefault(event.datum, ([], [], event))
        (starts if event.type == start_type else ends).append(event)
    out: list[tuple[TimelineEvent, tuple[Step, ...]]] = []
    holding = False
    for starts, ends, first in days.values():
        # alternate lead, follow, lead, …: an end leads if the state held the day before
        leads_open = not holding
        lead, follow = (starts, ends) if leads_open else (ends, starts)
        pairs = min(len(lead), len(follow))
        steps: list[Step] = []
        for index in range(pairs):
            steps += [Step(leads_open, lead[index]), Step(not leads_open, follow[index])]
        if len(lead) > pairs:
            steps.append(Step(leads_open, lead[pairs]))
        if steps:
            holding = steps[-1].opens
        out.append((first, tuple(steps)))
    return out


def paired(
    group: Iterable[TimelineEvent], start_type: str, end_type: str, label_field: str | None
) -> list[Segment]:
    """The periods of one id from :func:`paired_days` (each end day inclusive)."""
    out: list[Segment] = []
    opened: TimelineEvent | None = None
    for _first, steps in paired_days(group, start_type, end_type):
        for step in steps:
            if step.opens:
                opened = step.event
            elif opened is not None:
                out.append(
                    segment_of(opened, step.event.datum.toordinal(), ref(step.event), label_field)
                )
                opened = None
    if opened is not None:
        out.append(segment_of(opened, INF, None, label_field))
    return out


def segment_of(
    opened: TimelineEvent, end: int, ended_by: str | None, label_field: str | None
) -> Segment:
    label = str(opened.data.get(label_field)) if label_field else None
    return Segment(opened.datum.toordinal(), end, (opened,), ended_by, label)


def per_key(events: Iterable[TimelineEvent], field: str) -> dict[str, list[TimelineEvent]]:
    groups: dict[str, list[TimelineEvent]] = {}
    for event in events:
        groups.setdefault(str(event.data.get(field)), []).append(event)
    return groups
