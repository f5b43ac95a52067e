"""The worker's incremental assessment equals a full one, step by step (issue 14 item 3).

:func:`streams.state.apply_event` recomputes only the rules that read the type of the new
event (:meth:`streams.rules.RuleSet.assess_changed`), keeps the timeline and latest ``datum``
in step with the events, and reuses rendered texts. Every emitted change — kind, event id
(revision), signal with ``uitleg`` and ``reden`` — and every due day must be exactly what a
full recompute of every rule over a freshly derived timeline gives, after each event and each
clock tick, in any arrival order, with corrections and deletions, and whether or not the
worker dropped the kept results in between (its flush does)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streams.model import Signal, TimelineEvent
from streams.rules import RuleSet, load_rules
from streams.rules.index import TypeIndex
from streams.state import CitizenState, Outcome, StoredEvent, advance_clock, apply_event
from streams.versions import timeline_of
from tests.unit.rules.strategies import dated_by_day, retimed

from .test_versions import version_sets

RULES = load_rules()
SUBJECT = "pseudo-1"


class FullEngine:
    """The rules without the incremental path: every rule over the timeline derived anew
    from the state's events (what the worker did before)."""

    def __init__(self, rules: RuleSet, state: CitizenState) -> None:
        self.rules = rules
        self.types = rules.types
        self.state = state

    def assess(
        self, subject: str, events: Sequence[TimelineEvent], clock: date
    ) -> tuple[list[Signal], date | None]:
        return self.rules.assess(subject, events, clock)

    def assess_changed(
        self,
        subject: str,
        events: Sequence[TimelineEvent],
        clock: date,
        cache: dict[str, Any],
        changed: frozenset[str] | None,
        *,
        added: Sequence[TimelineEvent] | None = None,
    ) -> tuple[list[Signal], date | None]:
        fresh = timeline_of(s.event for s in self.state.events)
        assert list(events) == fresh  # the kept timeline is the derived one
        return self.rules.assess(subject, fresh, clock)


def same(fast: Outcome, full: Outcome) -> None:
    assert (fast.accepted, fast.clock, fast.due) == (full.accepted, full.clock, full.due)
    assert [(c.kind, c.event_id, c.signal, c.datum, c.reden) for c in fast.changes] == [
        (c.kind, c.event_id, c.signal, c.datum, c.reden) for c in full.changes
    ]


def check(events: list[TimelineEvent], rng: random.Random, today: date | None) -> None:
    fast = CitizenState(subject=SUBJECT)
    full = CitizenState(subject=SUBJECT)
    engine = FullEngine(RULES, full)
    latest = max(e.datum for e in events)
    for each in events:
        stored = StoredEvent(each, b"")
        same(
            apply_event(fast, stored, RULES, today=today, history_limit=1000),
            apply_event(full, stored, engine, today=today, history_limit=1000),
        )
        # the latest datum of every accepted version: the replay clock never goes back
        assert fast.latest_datum() == max(s.event.datum for s in fast.events)
        if rng.random() < 0.2:  # a tick between records
            tick = latest + timedelta(days=rng.randint(-30, 60))
            same(
                advance_clock(fast, tick, RULES, today=today),
                advance_clock(full, tick, engine, today=today),
            )
        if rng.random() < 0.1:  # the worker flushed: the kept results are dropped
            fast.drop_derived()
    assert fast.signalen == full.signalen and fast.revisies == full.revisies


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=dated_by_day(), seed=st.integers(0, 2**32 - 1), live=st.booleans())
def test_incremental_equals_full_in_any_arrival_order(
    events: list[TimelineEvent], seed: int, live: bool
) -> None:
    rng = random.Random(seed)
    varied = [retimed(e, rng) for e in events]
    rng.shuffle(varied)
    if varied:
        check(varied, rng, date(2027, 1, 1) if live else None)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=version_sets(), seed=st.integers(0, 2**32 - 1))
def test_incremental_equals_full_with_corrections_and_deletions(
    events: list[TimelineEvent], seed: int
) -> None:
    rng = random.Random(seed)
    rng.shuffle(events)
    if events:
        check(events, rng, None)


class FailingOnce:
    """The rules, every incremental result checked against a full assessment; the
    ``fail_at``-th assessment fails after the rules' kept results were updated (as a failure
    in the signals' diff or an explanation would leave them)."""

    def __init__(self, fail_at: int) -> None:
        self.types = RULES.types
        self.fail_at = fail_at
        self.calls = 0

    def assess(
        self, subject: str, events: Sequence[TimelineEvent], clock: date
    ) -> tuple[list[Signal], date | None]:
        return RULES.assess(subject, events, clock)

    def assess_changed(
        self,
        subject: str,
        events: Sequence[TimelineEvent],
        clock: date,
        cache: dict[str, Any],
        changed: frozenset[str] | None,
        *,
        added: Sequence[TimelineEvent] | None = None,
    ) -> tuple[list[Signal], date | None]:
        found = RULES.assess_changed(subject, events, clock, cache, changed, added=added)
        self.calls += 1
        if self.calls == self.fail_at:
            raise RuntimeError("assessment failed")
        assert found == RULES.assess(subject, events, clock)
        (kept,) = [v for v in cache.values() if isinstance(v, TypeIndex)]
        fresh = TypeIndex(events)
        assert all(kept.group(e.type) == fresh.group(e.type) for e in events)
        return found


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=dated_by_day(), seed=st.integers(0, 2**32 - 1), fail_at=st.integers(1, 20))
def test_a_failed_assessment_leaves_nothing_half_done_for_the_next(
    events: list[TimelineEvent], seed: int, fail_at: int
) -> None:
    """The record whose assessment failed is dead-lettered by the worker, but its event stays in
    the citizen's state; the next assessments must still equal the full engine's."""
    rng = random.Random(seed)
    varied = [retimed(e, rng) for e in events]
    rng.shuffle(varied)
    engine = FailingOnce(fail_at)
    state = CitizenState(subject=SUBJECT)
    for each in varied:
        try:
            apply_event(state, StoredEvent(each, b""), engine, today=None, history_limit=1000)
        except RuntimeError:
            assert engine.calls == fail_at
    engine.fail_at = 0  # the end of the replay: checked, never failing
    if varied:
        advance_clock(state, max(e.datum for e in varied) + timedelta(days=400), engine, today=None)
