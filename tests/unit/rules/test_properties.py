"""Property tests over generated timelines: order independence, idempotency, next_due, and
registration time never mattering where rules.md pairs by date."""

from __future__ import annotations

import random
from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streams.model import Signal, TimelineEvent
from streams.rules import RuleSet, load_rules

from .conftest import SUBJECT
from .strategies import SPAN, dated_by_day, retimed, timelines

RULES = load_rules()
_SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _clock(events: list[TimelineEvent]) -> date:
    return max(e.datum for e in events)


@_SETTINGS
@given(events=timelines, seed=st.integers(0, 2**32 - 1), extra_days=st.integers(0, 200))
def test_result_does_not_depend_on_input_order(
    events: list[TimelineEvent], seed: int, extra_days: int
) -> None:
    clock = _clock(events) + timedelta(days=extra_days)
    shuffled = list(events)
    random.Random(seed).shuffle(shuffled)
    assert RULES.evaluate(SUBJECT, shuffled, clock) == RULES.evaluate(SUBJECT, events, clock)
    assert RULES.next_due(shuffled, clock) == RULES.next_due(events, clock)


@_SETTINGS
@given(events=timelines, seed=st.integers(0, 2**32 - 1))
def test_redelivery_changes_nothing(events: list[TimelineEvent], seed: int) -> None:
    rng = random.Random(seed)
    again = events + rng.sample(events, k=rng.randint(0, len(events)))
    rng.shuffle(again)
    clock = _clock(events)
    assert RULES.evaluate(SUBJECT, again, clock) == RULES.evaluate(SUBJECT, events, clock)


@_SETTINGS
@given(events=timelines, back=st.integers(0, SPAN))
def test_events_after_the_clock_are_ignored(events: list[TimelineEvent], back: int) -> None:
    clock = _clock(events) - timedelta(days=back)
    past = [e for e in events if e.datum <= clock]
    assert RULES.evaluate(SUBJECT, events, clock) == RULES.evaluate(SUBJECT, past, clock)


def _check_no_change_before_due(rules: RuleSet, events: list[TimelineEvent], clock: date) -> None:
    now = rules.evaluate(SUBJECT, events, clock)
    due = rules.next_due(events, clock)
    if due is not None:
        assert due > clock
    horizon = (due - clock).days if due is not None else 400
    probes = sorted({1, 2, horizon - 1, *range(1, min(horizon, 60))} - {0})
    for offset in probes:
        if 0 < offset < horizon:
            later = clock + timedelta(days=offset)
            assert rules.evaluate(SUBJECT, events, later) == now, (later, due)


@_SETTINGS
@given(events=timelines, back=st.integers(0, 120))
def test_nothing_changes_before_next_due(events: list[TimelineEvent], back: int) -> None:
    clock = _clock(events) - timedelta(days=back)
    _check_no_change_before_due(RULES, events, clock)


def _definitive(signals: list[Signal]) -> list[tuple[object, ...]]:
    return [(s.regel, s.sleutel, s.sinds, s.termijn, s.status, s.opgelost_op) for s in signals]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=dated_by_day(), seed=st.integers(0, 2**32 - 1), extra_days=st.integers(0, 200))
def test_shuffling_and_adding_or_removing_time_never_change_the_signals(
    events: list[TimelineEvent], seed: int, extra_days: int
) -> None:
    """Issue 15: shuffling a citizen's events and adding, removing or changing their `time`
    never changes the definitive signals — on timelines where rules.md gives `time` no meaning
    (see :func:`~tests.unit.rules.strategies.dated_by_day`): same-day starts and ends of one
    traject or casus, every other event on a day of its own."""
    rng = random.Random(seed)
    clock = _clock(events) + timedelta(days=extra_days)
    varied = [retimed(e, rng) for e in events]
    rng.shuffle(varied)
    expected = _definitive(RULES.evaluate(SUBJECT, events, clock))
    assert _definitive(RULES.evaluate(SUBJECT, varied, clock)) == expected
    assert RULES.next_due(varied, clock) == RULES.next_due(events, clock)
