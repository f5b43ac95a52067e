"""The live worker's reuse of each start's and episode's outcome (:class:`Memo`) equals a full
assessment after every added event, whatever the order the events arrive in.

:func:`streams.rules.incremental.assess_changed` keeps, per rule, what each start or episode
gave and forgets only the outcomes that may depend on a day from which the facts the rule reads
changed: an added event's date (or ``ingangsdatum``), or the first segment of a derived state
that differs. A late fact inside a window, on a deadline or before a resolution, a voorziening
relabelled or ended by a later assignment: the strategy crowds every kind of event into a few
months so that such meetings are common, then checks every signal with its ``uitleg`` and
``reden`` and every due day against :meth:`RuleSet.assess`.
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streams.model import TimelineEvent
from streams.rules import engine, incremental, load_rules
from tests.unit.rules.conftest import Events
from tests.unit.rules.strategies import DAY0, crowded, retimed

RULES = load_rules()
SUBJECT = "pseudo-1"


@pytest.fixture(autouse=True, scope="module")
def memo_for_every_rule() -> Iterator[None]:
    """The memo from the first event on (the worker: from 64 events of a rule's types), so
    that short generated timelines exercise it."""
    kept = incremental.MEMO_FROM
    incremental.MEMO_FROM = 0
    yield
    incremental.MEMO_FROM = kept


def _arrive(order: list[TimelineEvent], rng: random.Random) -> None:
    """Assess after each event of ``order`` and compare."""
    cache: dict[str, Any] = {}
    timeline: list[TimelineEvent] = []
    keys: list[tuple[date, int, float, str, str]] = []
    seen: set[tuple[str, str]] = set()
    for event in order:
        if event.identity in seen:
            continue
        seen.add(event.identity)
        at = bisect.bisect_right(keys, event.sort_key)
        keys.insert(at, event.sort_key)
        timeline.insert(at, event)
        clock = max(e.datum for e in timeline) + timedelta(days=rng.choice((0, 0, 3, 30, 90)))
        fast = RULES.assess_changed(
            SUBJECT, timeline, clock, cache, frozenset({event.type}), added=(event,)
        )
        assert fast == RULES.assess(SUBJECT, timeline, clock)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=crowded(span=120, max_size=40), seed=st.integers(0, 2**32 - 1))
def test_reused_outcomes_equal_a_full_assessment(events: list[TimelineEvent], seed: int) -> None:
    rng = random.Random(seed)
    order = [retimed(e, rng) for e in events]
    rng.shuffle(order)
    _arrive(order, rng)


def test_an_added_event_recomputes_only_the_starts_it_can_change(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The point of the memo: a citizen's cost per event does not grow with their history.
    Sixty early warnings five days apart, each followed up within the term of 28 days, arrive
    oldest first; after each event only the warnings whose term it falls in are assessed
    again (at most six), not all of them."""
    factory = Events()
    events: list[TimelineEvent] = []
    for n in range(60):
        day = DAY0 + timedelta(days=5 * n)
        events.append(factory.vroegsignaal(day.isoformat(), signaal_id=f"S{n}"))
        events.append(factory.opgevolgd((day + timedelta(days=3)).isoformat(), signaal_id=f"S{n}"))
    assessed: list[str] = []
    original = engine._event_start

    def counted(*args: Any) -> Any:
        assessed.append(args[3].data["signaal_id"])
        return original(*args)

    monkeypatch.setattr(engine, "_event_start", counted)
    cache: dict[str, Any] = {}
    per_event = []
    for at, event in enumerate(events, start=1):
        assessed.clear()
        timeline = events[:at]
        clock = event.datum
        fast = RULES.assess_changed(
            SUBJECT, timeline, clock, cache, frozenset({event.type}), added=(event,)
        )
        per_event.append(len(assessed))
        assert fast == RULES.assess(SUBJECT, timeline, clock)
    assert max(per_event) == 28 // 5 + 1, per_event
    assert per_event[-10:] == [6] * 10  # the 51st to 60th warning: as many as the 6th
