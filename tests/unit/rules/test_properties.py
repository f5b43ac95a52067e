"""Property tests over generated timelines: order independence, idempotency and next_due."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streams.model import TimelineEvent
from streams.rules import RuleSet, load_rules

from .conftest import SUBJECT, Events

RULES = load_rules()
DAY0 = date(2026, 1, 1)
SPAN = 300

_day = st.integers(0, SPAN)
_opt_day = st.none() | _day


def _iso(offset: int) -> str:
    return (DAY0 + timedelta(days=offset)).isoformat()


# Each entry: (factory method, strategy of its keyword arguments besides the date).
_KINDS: list[tuple[str, st.SearchStrategy[dict[str, Any]]]] = [
    (
        "toegewezen",
        st.fixed_dictionaries(
            {
                "nummer": st.sampled_from(["T1", "T2"]),
                "categorie": st.sampled_from(["02", "07"]),
                "ingang": _opt_day,
                "eind": _opt_day,
            }
        ),
    ),
    ("gestart", st.fixed_dictionaries({"nummer": st.sampled_from(["T1", "T2"])})),
    (
        "gestopt",
        st.fixed_dictionaries(
            {"nummer": st.sampled_from(["T1", "T2"]), "reden": st.sampled_from(["19", "20"])}
        ),
    ),
    (
        "onderzoek",
        st.fixed_dictionaries(
            {"werkwens": st.booleans(), "potentieel": st.sampled_from(["geen", "volledig"])}
        ),
    ),
    ("arbeidsvermogen", st.fixed_dictionaries({"uitkomst": st.sampled_from(["geen", "volledig"])})),
    ("pw_verwijzing", st.just({})),
    ("wt_verwijzing", st.fixed_dictionaries({"naar": st.sampled_from(["werk-en-inkomen", "wmo"])})),
    (
        "traject",
        st.fixed_dictionaries(
            {
                "traject_id": st.sampled_from(["A", "B"]),
                "soort": st.sampled_from(["beschut-werk", "overig"]),
            }
        ),
    ),
    ("traject_einde", st.fixed_dictionaries({"traject_id": st.sampled_from(["A", "B"])})),
    ("uitkering", st.just({})),
    ("uitkering_einde", st.fixed_dictionaries({"reden": st.sampled_from(["werk", "overig"])})),
    ("wmo_afgewezen", st.just({})),
    ("pw_afgewezen", st.just({})),
    ("casus", st.fixed_dictionaries({"casus_id": st.sampled_from(["C1", "C2"])})),
    ("casus_dicht", st.fixed_dictionaries({"casus_id": st.sampled_from(["C1", "C2"])})),
    ("regie", st.just({})),
    (
        "vroegsignaal",
        st.fixed_dictionaries(
            {
                "signaal_id": st.sampled_from(["S1", "S2"]),
                "dreiging": st.sampled_from(["geen", "afsluiting"]),
            }
        ),
    ),
    ("opgevolgd", st.fixed_dictionaries({"signaal_id": st.sampled_from(["S1", "S2"])})),
    ("schuldhulp", st.just({})),
    ("schuldhulp_einde", st.just({})),
]

_SPEC = st.one_of(
    [
        st.tuples(st.just(name), _day, kwargs, st.none() | st.integers(0, 86_399))
        for name, kwargs in _KINDS
    ]
)


def build(specs: list[tuple[str, int, dict[str, Any], int | None]]) -> list[TimelineEvent]:
    """Turn generated specs into events with ids e1, e2, … in generation order."""
    factory = Events()
    out: list[TimelineEvent] = []
    for name, offset, kwargs, seconds in specs:
        args = {
            k: _iso(v) if k in ("ingang", "eind") and v is not None else v
            for k, v in kwargs.items()
        }
        event = getattr(factory, name)(_iso(offset), **args)
        if seconds is not None:
            moment = datetime.combine(event.datum, datetime.min.time(), tzinfo=UTC)
            event = TimelineEvent(
                event.id,
                event.source,
                event.type,
                event.datum,
                moment + timedelta(seconds=seconds),
                event.data,
            )
        out.append(event)
    return out


timelines = st.lists(_SPEC, min_size=1, max_size=30).map(build)
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
