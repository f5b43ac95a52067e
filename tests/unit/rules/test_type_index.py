"""The events by type that the views of every rule share (:class:`TypeIndex`), and the
interval sweep of R4: kept or updated, they must equal what is computed from scratch."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from streams.model import TimelineEvent
from streams.rules import intervals as iv
from streams.rules.index import TypeIndex
from streams.rules.states import FactView

from .strategies import timelines


def _ordered(events: list[TimelineEvent]) -> list[TimelineEvent]:
    return sorted(events, key=lambda e: e.sort_key)


def _same(kept: TypeIndex, timeline: list[TimelineEvent]) -> None:
    fresh = TypeIndex(timeline)
    kinds = sorted({e.type for e in timeline} | {"nl.onbekend"})
    for kind in kinds:
        assert kept.group(kind) == fresh.group(kind) == tuple(e for e in timeline if e.type == kind)
    for size in (1, 2, 3, len(kinds)):
        for start in range(len(kinds)):
            types = frozenset(kinds[start : start + size])
            expected = tuple(e for e in timeline if e.type in types)
            assert kept.of(types) == fresh.of(types) == expected
            assert kept.origin(types) == fresh.origin(types) == FactView(expected, types).origin


@given(timelines, st.data())
def test_an_index_updated_with_inserted_events_equals_a_fresh_one(
    events: list[TimelineEvent], data: st.DataObject
) -> None:
    """Events inserted in any order (late ones in the middle of a group included), after the
    merged sets were asked for, land in timeline order in every group and merged set."""
    events = list({e.identity: e for e in events}.values())
    later = data.draw(st.sets(st.sampled_from(range(len(events)))))
    first = _ordered([e for i, e in enumerate(events) if i not in later])
    index = TypeIndex(first)
    _same(index, first)  # fills the merged sets and origins that the update must keep exact
    added = data.draw(st.permutations([e for i, e in enumerate(events) if i in later]))
    timeline = _ordered(events)
    index.update(timeline, frozenset(e.type for e in added), added)
    _same(index, timeline)


@given(timelines, st.data())
def test_an_index_regroups_changed_types_when_it_is_not_told_what_was_added(
    events: list[TimelineEvent], data: st.DataObject
) -> None:
    """Without ``added`` (events removed, or not known), the changed types are regrouped and
    every merged set that holds one of them is recomputed."""
    events = _ordered(list({e.identity: e for e in events}.values()))
    index = TypeIndex(events)
    _same(index, events)
    removed = data.draw(st.sets(st.sampled_from(range(len(events)))))
    timeline = [e for i, e in enumerate(events) if i not in removed]
    index.update(timeline, frozenset(events[i].type for i in removed))
    _same(index, timeline)


_intervals = st.lists(
    st.tuples(st.integers(0, 40), st.integers(0, 12) | st.just(iv.INF)).map(
        lambda t: (t[0], iv.INF if t[1] == iv.INF else t[0] + t[1])
    ),
    max_size=5,
).map(iv.normalize)


@given(st.lists(_intervals, max_size=6), st.integers(1, 4))
def test_at_least_holds_exactly_on_the_days_that_enough_parts_hold(
    parts: list[iv.Intervals], minimum: int
) -> None:
    days = range(-1, 80)
    expected = iv.normalize((d, d) for d in days if sum(iv.holds(p, d) for p in parts) >= minimum)
    found = iv.at_least(parts, minimum)
    assert iv.intersect(found, ((-1, 79),)) == expected
    # beyond the days counted, a run holding at day 79 holds to the end iff enough parts do
    tail = sum(1 for p in parts if p and p[-1][1] >= iv.INF) >= minimum
    assert iv.holds(found, iv.INF - 1) == tail
