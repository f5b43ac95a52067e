"""Record versions: which of a citizen's accepted events are in their timeline — pure.

``events.md`` ("Corrections and deletions by a source") and ``rules.md`` ("Identity"): events
with the same (``source``, ``bronsleutel``) are versions of one source record. Only the
*current* version — the highest ``sequence``, ties broken by the higher ``id`` — counts; a
current ``nl.schakel.bron.verwijderd`` removes the record; an event without ``bronsleutel``
is its own record. Versions are resolved before anything else: the rules never see a
superseded version nor a ``verwijderd``.

Contract: :func:`current_versions` and :func:`timeline_of` are functions of the *set* of
events given (each (``source``, ``id``) at most once, as :class:`streams.state.CitizenState`
guarantees), never of their order: the maximum of a total order is the same whatever order it
is taken in, and the result is returned in timeline order (``TimelineEvent.sort_key``,
itself a total order because (``source``, ``id``) is unique). So the streaming path (one
event at a time) and the batch path (all at once) see the same timeline.

What is *kept* is a separate question: :class:`~streams.state.CitizenState` keeps every
accepted version (with its wire bytes, so that a restored state is identical and a
redelivery of a superseded version is still recognised by its (``source``, ``id``)).
"""

from __future__ import annotations

from collections.abc import Iterable

from schemas.wire import VERWIJDERD
from streams.model import TimelineEvent


def current_versions(events: Iterable[TimelineEvent]) -> list[TimelineEvent]:
    """The current version of every record among ``events`` (deletions included), in the
    order of ``events`` (timeline order when given in timeline order)."""
    ordered = list(events)
    best: dict[tuple[str, str], TimelineEvent] = {}
    for event in ordered:
        record = event.record
        held = best.get(record)
        if held is None or event.version_key > held.version_key:
            best[record] = event
    return [e for e in ordered if best[e.record] is e]


def timeline_of(events: Iterable[TimelineEvent]) -> list[TimelineEvent]:
    """The facts of the timeline: the current versions that are not a deletion, in the order
    of ``events``. A record whose current version is ``verwijderd`` is absent."""
    return [e for e in current_versions(events) if e.type != VERWIJDERD]


def is_versioned(event: TimelineEvent) -> bool:
    """Whether ``event`` may change which events are current (it is a version of a record
    that may have others: it has a ``bronsleutel``)."""
    return event.bronsleutel is not None
