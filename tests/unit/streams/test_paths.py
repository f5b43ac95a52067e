"""The minimal cases of issue 15 on both paths of the stream core: per record as the worker
does it (stream) and in one go as ``replay --batch`` does it (batch), checked against the
engine itself (:func:`tests.unit.streams.paths.both`)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streams.model import TimelineEvent
from streams.rules import catalogue as c
from streams.rules import load_rules
from streams.state import CitizenState, HistoryLimitError, StoredEvent, apply_event
from tests.unit.rules.conftest import Events, d
from tests.unit.rules.strategies import dated_by_day, retimed

from .paths import Path, both, run

RULES = load_rules()
R1 = "werkpotentieel-zonder-verwijzing"
R2 = "tussen-wal-en-schip"
R4 = "meervoudig-zonder-regie"
R5 = "dagbesteding-zonder-werkstap"
R6 = "terugval-zonder-nazorg"


def orders(events: list[TimelineEvent]) -> list[list[TimelineEvent]]:
    """The events in the given order, reversed, and shuffled (arrival order is free)."""
    shuffled = list(events)
    random.Random(15).shuffle(shuffled)
    return [events, events[::-1], shuffled]


# --- class 1: R6, "that new uitkering holds" --------------------------------------------


def test_r6_regrant_the_next_day_resolves_on_both_paths() -> None:
    ev = Events()
    events = [
        ev.uitkering("2026-01-01"),
        ev.uitkering_einde("2026-01-31", reden="werk"),
        ev.uitkering("2026-02-10"),  # R6 from 2026-02-10, termijn 2026-03-10
        ev.uitkering_einde("2026-04-16", reden="werk"),
        ev.uitkering("2026-04-17"),  # re-granted the next day
        ev.uitkering_einde("2026-04-20", reden="overig"),  # and ended again
    ]
    for arrival in orders(events):
        assert both(RULES, arrival) == [
            (R6, "2026-02-10", d("2026-02-10"), d("2026-03-10"), "opgelost", d("2026-04-17"))
        ]


def test_r6_no_signal_when_its_own_uitkering_ends_before_termijn_on_both_paths() -> None:
    ev = Events()
    events = [
        ev.uitkering("2026-01-01"),
        ev.uitkering_einde("2026-01-31", reden="werk"),
        ev.uitkering("2026-02-10"),
        ev.uitkering_einde("2026-03-01", reden="overig"),
        ev.uitkering("2026-03-02"),
    ]
    for arrival in orders(events):
        assert both(RULES, arrival, until=date(2026, 6, 30)) == []


# --- class 2: same-day start and end of one casus / traject --------------------------------


def test_casus_opened_and_closed_on_one_day_is_no_support_later_on_both_paths() -> None:
    ev = Events()
    events = [
        ev(c.CASUS_GEOPEND, "2026-01-10", casus_id="C1", time=datetime(2026, 1, 10, 9, tzinfo=UTC)),
        ev(c.CASUS_GESLOTEN, "2026-01-10", casus_id="C1"),  # no time: sorts before its geopend
        ev.wmo_afgewezen("2026-02-01"),
        ev.pw_afgewezen("2026-02-15"),
    ]
    for arrival in orders(events):
        assert both(RULES, arrival) == [(R2, "2026-02-15", d("2026-02-15"), None, "open", None)]


def test_traject_ended_and_restarted_on_one_day_holds_without_gap_on_both_paths() -> None:
    ev = Events()
    events = [
        ev.traject("2026-01-01", "TR1", soort="re-integratie"),
        ev.traject("2026-03-10", "TR1", soort="re-integratie"),  # no time: sorts first
        ev(
            c.TRAJECT_BEEINDIGD,
            "2026-03-10",
            traject_id="TR1",
            reden="afgerond",
            time=datetime(2026, 3, 10, 16, tzinfo=UTC),
        ),
        ev.toegewezen("2026-03-15", categorie="07"),
        ev.onderzoek("2026-03-15", werkwens=True),
    ]
    for arrival in orders(events):
        # a werkstap-traject holds on sinds (2026-03-15): no R5 signal; R1 likewise
        assert both(RULES, arrival, until=date(2026, 7, 1)) == []


# --- class 3: regie ends only when the last open casus closes --------------------------------


def test_regie_and_a_closure_of_a_casus_that_is_not_open_on_both_paths() -> None:
    ev = Events()
    events = [
        ev.uitkering("2026-01-01"),
        ev.toegewezen("2026-01-10"),
        ev.schuldhulp("2026-01-15"),  # 3 domains from 2026-01-15; termijn 2026-02-14
        ev.regie("2026-01-05"),  # no casus open
        ev.casus_dicht("2026-01-20", "C9"),  # not open: changes nothing
        ev.casus("2026-01-25", "C1"),
        ev.casus("2026-01-26", "C2"),
        ev.casus_dicht("2026-02-01", "C1"),  # C2 still open: changes nothing
    ]
    for arrival in orders(events):
        assert both(RULES, arrival, until=date(2026, 6, 1)) == []
    closed = [*events, ev.casus_dicht("2026-02-10", "C2")]  # the last open one: regie ends
    for arrival in orders(closed):
        assert [t[:5] for t in both(RULES, arrival, until=date(2026, 3, 1))] == [
            (R4, "2026-01-15", d("2026-01-15"), d("2026-02-14"), "open")
        ]


# --- class 4: the history limit never changes a signal ----------------------------------------


def twelve(ev: Events) -> list[TimelineEvent]:
    """The reproduction of the issue: 12 events, R1's episode starts in the first two
    (voorziening from 2026-01-10, werkwens from 2026-01-05; termijn 2026-03-07)."""
    first = [ev.onderzoek("2026-01-05", werkwens=True), ev.toegewezen("2026-01-10")]
    return [*first, *(ev.gestart(f"2026-{month:02d}-{day:02d}") for month, day in _WEEKLY)]


_WEEKLY = [(1, 20), (1, 27), (2, 3), (2, 10), (2, 17), (2, 24), (3, 3), (3, 10), (3, 17), (3, 24)]
R1_OPEN = (R1, "2026-01-10", d("2026-01-10"), d("2026-03-07"), "open", None)


def test_history_limit_refuses_new_events_and_keeps_every_accepted_one_on_both_paths() -> None:
    events = twelve(Events())
    on_stream = run("stream", RULES, events, limit=10)
    on_batch = run("batch", RULES, events, limit=10)
    # before: the stream kept R1 from before the drop, the batch lost it (oldest facts dropped)
    assert on_stream.told == on_batch.told == [R1_OPEN]
    assert on_stream.refused == on_batch.refused == ["e11", "e12"]  # refused, not dropping e1
    assert [s.event.id for s in on_batch.state.events][:2] == ["e1", "e2"]
    assert both(RULES, events, limit=10) == both(RULES, events) == [R1_OPEN]


@pytest.mark.parametrize("path", ["stream", "batch"])
def test_a_full_timeline_still_recognises_every_accepted_id(path: Path) -> None:
    events = twelve(Events())
    full = run(path, RULES, events, limit=10)
    first = events[0]
    assert full.state.insert(StoredEvent(first, b""), 10) is False  # a duplicate, not refused
    restored = CitizenState(subject=full.state.subject, events=list(full.state.events))
    assert restored.has(first)  # also after a restart (the codec rebuilds the same way)
    with pytest.raises(HistoryLimitError) as refused:
        restored.insert(StoredEvent(events[-1], b""), 10)
    assert (refused.value.stage, refused.value.reason) == ("accept", "history-limit")
    assert "SCHAKEL_HISTORY_LIMIT" in str(refused.value)
    # a refused event used up no id: with a higher limit it is accepted when re-published
    assert restored.insert(StoredEvent(events[-1], b""), 12) is True


def test_a_raised_limit_and_republished_refusals_give_the_unlimited_result() -> None:
    events = twelve(Events())
    limited = run("stream", RULES, events, limit=10)
    for event in [e for e in events if e.id in limited.refused]:  # re-published
        apply_event(limited.state, StoredEvent(event, b""), RULES, today=None, history_limit=12)
    unlimited = run("stream", RULES, events)
    assert limited.state.timeline == unlimited.state.timeline
    assert limited.told == unlimited.told == [R1_OPEN]


# --- class 5: duplicates: the first accepted copy in arrival order wins -----------------------


def test_the_first_accepted_copy_in_arrival_order_wins_on_both_paths() -> None:
    ev = Events()
    early = ev.pw_afgewezen("2026-02-15")
    late_copy = TimelineEvent(
        early.id,
        early.source,
        early.type,
        d("2026-06-01"),
        None,
        {**early.data, "datum": d("2026-06-01")},
    )
    wmo = ev.wmo_afgewezen("2026-02-01")
    # the copy dated later arrives second: the first one stands (R2 on 2026-02-15)
    assert both(RULES, [wmo, early, late_copy]) == [
        (R2, "2026-02-15", d("2026-02-15"), None, "open", None)
    ]
    # arriving first, the later-dated copy stands instead, though it sorts later on the
    # timeline: 2026-06-01 is more than 90 days after the Wmo rejection, so no R2
    assert both(RULES, [wmo, late_copy, early]) == []


# --- property: arrival order and registration time change nothing on either path -------------


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=dated_by_day(), seed=st.integers(0, 2**32 - 1))
def test_both_paths_agree_whatever_the_arrival_order_and_time(
    events: list[TimelineEvent], seed: int
) -> None:
    rng = random.Random(seed)
    varied = [retimed(e, rng) for e in events]
    rng.shuffle(varied)
    assert both(RULES, varied) == both(RULES, events)
