"""A step that fails is undone: :meth:`CitizenState.restore` after :func:`apply_event` leaves a
state that behaves exactly like one that never saw the event — in any arrival order, with
versions and deletions, whatever the rules' kept results were."""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streams.model import TimelineEvent
from streams.rules import load_rules
from streams.state import CitizenState, StoredEvent, apply_event
from tests.unit.rules.strategies import dated_by_day, retimed

from .test_versions import version_sets

RULES = load_rules()
LIMIT = 1000


def _view(state: CitizenState) -> tuple[object, ...]:
    return (
        [s.event.identity for s in state.events],
        state.timeline,
        state.latest_datum(),
        state.klok,
        state.signalen,
        state.revisies,
        state.uitvoer,
        state._versioned,  # how the timeline is derived (a count, not observable otherwise)
    )


def _check(events: list[TimelineEvent], failing: int) -> None:
    undone, reference = CitizenState(subject="p"), CitizenState(subject="p")
    for index, event in enumerate(events):
        stored = StoredEvent(event, b"")
        if index == failing:
            saved = undone.savepoint()
            apply_event(undone, stored, RULES, today=None, history_limit=LIMIT)
            undone.restore(saved, event)
            assert not undone.has(event) or reference.has(event)  # a duplicate stays
            assert _view(undone) == _view(reference)
            continue
        assert apply_event(undone, stored, RULES, today=None, history_limit=LIMIT) == apply_event(
            reference, stored, RULES, today=None, history_limit=LIMIT
        )
        assert _view(undone) == _view(reference)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=dated_by_day(), seed=st.integers(0, 2**32 - 1), failing=st.integers(0, 30))
def test_an_undone_event_leaves_no_trace_in_any_arrival_order(
    events: list[TimelineEvent], seed: int, failing: int
) -> None:
    rng = random.Random(seed)
    varied = [retimed(e, rng) for e in events]
    rng.shuffle(varied)
    _check(varied, failing)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=version_sets(), seed=st.integers(0, 2**32 - 1), failing=st.integers(0, 12))
def test_an_undone_version_or_deletion_leaves_no_trace(
    events: list[TimelineEvent], seed: int, failing: int
) -> None:
    random.Random(seed).shuffle(events)
    _check(events, failing)
