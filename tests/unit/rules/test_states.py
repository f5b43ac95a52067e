"""Derived states of rules.md, checked directly as sets of days."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from streams.model import TimelineEvent
from streams.rules import INPUT_TYPES
from streams.rules import catalogue as c
from streams.rules.conditions import Atom, Domains
from streams.rules.intervals import INF
from streams.rules.states import FactView, segments

from .conftest import Events, d


def days(
    name: str, events: list[TimelineEvent], labels: frozenset[str] | None = None
) -> list[tuple[str, str | None]]:
    """The state's runs as (first, last) ISO dates; an open end is ``None``."""
    view = FactView(sorted(events, key=lambda e: e.sort_key), frozenset(INPUT_TYPES))
    return [
        (date.fromordinal(a).isoformat(), None if b >= INF else date.fromordinal(b).isoformat())
        for a, b in Atom(name, labels).intervals(view)
    ]


def test_voorziening_starts_at_earlier_of_ingangsdatum_and_first_gestart(ev: Events) -> None:
    events = [ev.toegewezen("2026-01-05", ingang="2026-01-20"), ev.gestart("2026-01-15")]
    assert days("voorziening", events) == [("2026-01-15", None)]


def test_voorziening_ends_on_einddatum_or_gestopt_whichever_first(ev: Events) -> None:
    by_end = [ev.toegewezen("2026-01-05", eind="2026-03-31"), ev.gestopt("2026-04-10")]
    assert days("voorziening", by_end) == [("2026-01-05", "2026-03-31")]
    by_stop = [ev.toegewezen("2026-01-05", eind="2026-03-31"), ev.gestopt("2026-02-10")]
    assert days("voorziening", by_stop) == [("2026-01-05", "2026-02-10")]


def test_temporary_stop_suspends_from_the_day_after_until_next_gestart(ev: Events) -> None:
    events = [
        ev.toegewezen("2026-01-05"),
        ev.gestopt("2026-02-01", reden="20"),
        ev.gestart("2026-02-10"),
    ]
    assert days("voorziening", events) == [("2026-01-05", "2026-02-01"), ("2026-02-10", None)]


def test_temporary_stop_without_restart_stays_suspended(ev: Events) -> None:
    events = [ev.toegewezen("2026-01-05"), ev.gestopt("2026-02-01", reden="20")]
    assert days("voorziening", events) == [("2026-01-05", "2026-02-01")]


def test_final_stop_is_final_even_with_a_later_gestart(ev: Events) -> None:
    events = [
        ev.toegewezen("2026-01-05"),
        ev.gestopt("2026-02-01", reden="19"),
        ev.gestart("2026-02-10"),
    ]
    assert days("voorziening", events) == [("2026-01-05", "2026-02-01")]


def test_later_toegewezen_with_same_number_replaces_dates(ev: Events) -> None:
    events = [
        ev.toegewezen("2026-01-05", nummer="T1", eind="2026-12-31"),
        ev.toegewezen("2026-01-20", nummer="T1", ingang="2026-02-01", eind="2026-03-31"),
        ev.toegewezen("2026-01-05", nummer="T2", ingang="2026-06-01", eind="2026-06-30"),
    ]
    assert days("voorziening", events) == [
        ("2026-02-01", "2026-03-31"),
        ("2026-06-01", "2026-06-30"),
    ]


def test_voorziening_filtered_on_productcategorie(ev: Events) -> None:
    events = [
        ev.toegewezen("2026-01-05", nummer="T1", categorie="02", eind="2026-01-31"),
        ev.toegewezen("2026-01-10", nummer="T2", categorie="07"),
    ]
    assert days("voorziening", events, frozenset({"07"})) == [("2026-01-10", None)]


def test_a_voorziening_without_productcategorie_has_no_label(ev: Events) -> None:
    """events.md: ``productcategorie`` is absent for an allocation without a product (a
    budget). Review E: it became the label ``"None"`` (``productcategorie None`` in an
    explanation), and a ``gestart`` naming the category was not read when a ``toegewezen``
    existed. Now: the latest ``toegewezen``'s, else the first ``gestart`` naming one, else
    none."""
    budget = ev.toegewezen("2026-01-05", nummer="T1", categorie=None)  # type: ignore[arg-type]
    view = FactView([budget], frozenset(INPUT_TYPES))
    assert [s.label for s in segments(view, "voorziening")] == [None]
    assert days("voorziening", [budget], frozenset({"None"})) == []
    started = ev.gestart("2026-01-10", nummer="T1", categorie="07")
    assert days("voorziening", [budget, started], frozenset({"07"})) == [("2026-01-05", None)]
    named = ev.toegewezen("2026-01-05", nummer="T2", categorie="02")
    other = ev.gestart("2026-01-10", nummer="T2", categorie="07")
    assert days("voorziening", [named, other], frozenset({"07"})) == []  # the toegewezen's


def test_werkpotentieel_latest_assessment_decides_per_day(ev: Events) -> None:
    events = [
        ev.onderzoek("2026-01-05", werkwens=True),
        ev.arbeidsvermogen("2026-02-01", "volledig"),  # still positive: same period
        ev.arbeidsvermogen("2026-03-01", "geen"),  # negative from this day
        ev.onderzoek("2026-04-01", potentieel="gedeeltelijk"),
    ]
    assert days("werkpotentieel", events) == [("2026-01-05", "2026-02-28"), ("2026-04-01", None)]


def test_werkwens_only_counts_the_wmo_onderzoek(ev: Events) -> None:
    events = [
        ev.onderzoek("2026-01-05", werkwens=True),
        ev.arbeidsvermogen("2026-02-01", "geen"),
        ev.onderzoek("2026-03-01", werkwens=False, potentieel="volledig"),
    ]
    assert days("werkwens", events) == [("2026-01-05", "2026-02-28")]


def test_toggled_states(ev: Events) -> None:
    uitkering = [
        ev.uitkering("2026-01-01"),
        ev.uitkering("2026-01-15"),  # already holding: no change
        ev.uitkering_einde("2026-02-01"),
        ev.uitkering_einde("2026-02-05"),  # not holding: no change
        ev.uitkering("2026-03-01"),
    ]
    assert days("uitkering", uitkering) == [("2026-01-01", "2026-02-01"), ("2026-03-01", None)]
    trajecten = [
        ev.traject("2026-01-01", "A"),
        ev.traject("2026-01-10", "B"),
        ev.traject_einde("2026-01-20", "A"),
        ev.traject_einde("2026-02-01", "B"),
    ]
    assert days("traject", trajecten) == [("2026-01-01", "2026-02-01")]


def test_vroegsignaal_open_until_first_opgevolgd_inclusive(ev: Events) -> None:
    events = [
        ev.vroegsignaal("2026-01-05", "S1"),
        ev.vroegsignaal("2026-01-07", "S1"),  # a later copy changes nothing
        ev.opgevolgd("2026-01-20", "S1"),
        ev.opgevolgd("2026-01-25", "S1"),
    ]
    assert days("vroegsignaal", events) == [("2026-01-05", "2026-01-20")]


def test_regie_holds_until_the_last_open_casus_closes(ev: Events) -> None:
    events = [
        ev.casus("2026-01-01", "C1"),
        ev.casus("2026-01-05", "C2"),
        ev.regie("2026-01-10"),
        ev.casus_dicht("2026-02-01", "C1"),  # C2 still open
        ev.casus_dicht("2026-03-01", "C2"),  # last one: regie ends (inclusive)
    ]
    assert days("regie", events) == [("2026-01-10", "2026-03-01")]


def test_regie_assigned_without_open_casus_holds_until_next_closure(ev: Events) -> None:
    events = [
        ev.regie("2026-01-10"),
        ev.casus("2026-02-01", "C1"),
        ev.casus_dicht("2026-04-01", "C1"),
    ]
    assert days("regie", events) == [("2026-01-10", "2026-04-01")]


def test_regie_a_closure_of_a_casus_that_is_not_open_changes_nothing(ev: Events) -> None:
    events = [
        ev.casus("2026-01-01", "C1"),
        ev.regie("2026-01-10"),
        ev.casus_dicht("2026-01-20", "C9"),  # never opened
        ev.casus_dicht("2026-02-01", "C1"),  # the last open casus: regie ends
        ev.casus_dicht("2026-02-10", "C1"),  # already closed: nothing
    ]
    assert days("regie", events) == [("2026-01-10", "2026-02-01")]
    # and with no casus open at all, a stray closure does not end a regie either
    stray = [ev.regie("2026-01-10"), ev.casus_dicht("2026-01-20", "C9")]
    assert days("regie", stray) == [("2026-01-10", None)]


def test_regie_assigned_without_open_casus_waits_for_the_last_open_casus(ev: Events) -> None:
    events = [
        ev.regie("2026-01-10"),  # no casus open
        ev.casus_dicht("2026-01-15", "C1"),  # C1 is not open: nothing
        ev.casus("2026-02-01", "C1"),
        ev.casus("2026-02-05", "C2"),
        ev.casus_dicht("2026-03-01", "C1"),  # C2 still open: regie holds
        ev.casus_dicht("2026-04-01", "C2"),  # closes the last open casus: regie ends
    ]
    assert days("regie", events) == [("2026-01-10", "2026-04-01")]


def test_regie_assigned_again_while_holding_changes_nothing_after_end_is_new(ev: Events) -> None:
    events = [
        ev.casus("2026-01-01", "C1"),
        ev.regie("2026-01-10", rol="casusregisseur"),
        ev.regie("2026-01-20", rol="integraal-plan"),  # regie holds: nothing
        ev.casus_dicht("2026-02-01", "C1"),
        ev.regie("2026-03-01", rol="integraal-plan"),  # a new period, until a last closure
        ev.casus("2026-03-05", "C2"),
        ev.casus_dicht("2026-03-20", "C2"),
    ]
    assert days("regie", events) == [
        ("2026-01-10", "2026-02-01"),
        ("2026-03-01", "2026-03-20"),
    ]
    assert days("regie", events, frozenset({"casusregisseur"})) == [("2026-01-10", "2026-02-01")]


def test_domains_active(ev: Events) -> None:
    events = [
        ev.uitkering("2026-01-01"),
        ev.toegewezen("2026-01-10"),
        ev.vroegsignaal("2026-01-15"),
        ev.opgevolgd("2026-02-01"),
        ev.schuldhulp("2026-02-01"),  # schulden stays active without a gap
        ev.casus("2026-03-01"),
        ev.uitkering_einde("2026-03-10"),
    ]
    view = FactView(events, frozenset(INPUT_TYPES))
    runs = Domains(3).intervals(view)
    assert runs == ((d("2026-01-15").toordinal(), INF),)
    assert Domains(4).intervals(view) == (
        (d("2026-03-01").toordinal(), d("2026-03-10").toordinal()),
    )
    assert Domains(3).active_on(view, d("2026-03-05").toordinal()) == [
        "participatiewet",
        "wmo",
        "wijkteam",
        "schulden",
    ]


def test_view_hides_undeclared_types(ev: Events) -> None:
    events = [ev.toegewezen("2026-01-05"), ev.pw_verwijzing("2026-01-06")]
    view = FactView(events, frozenset({events[0].type}))
    assert view.of(events[1].type) == ()
    assert [e.id for e in view.events] == ["e1"]


# --- same-day start and end of one traject / casus: paired by date, never by time ---------

_MORNING = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
_EVENING = datetime(2026, 3, 10, 17, 0, tzinfo=UTC)
_TIMES = pytest.mark.parametrize(
    ("start_time", "end_time"),
    [(None, None), (None, _MORNING), (_MORNING, None), (_MORNING, _EVENING), (_EVENING, _MORNING)],
    ids=["no-times", "end-timed", "start-timed", "start-first", "end-first"],
)
"""(time of the start, time of the end): every way the two can sort on their common date."""

_PAIRS: dict[str, tuple[str, str, dict[str, Any], dict[str, Any]]] = {
    "casus": (c.CASUS_GEOPEND, c.CASUS_GESLOTEN, {"casus_id": "X"}, {"casus_id": "X"}),
    "traject": (
        c.TRAJECT_GESTART,
        c.TRAJECT_BEEINDIGD,
        {"traject_id": "X", "soort": "re-integratie", "uren_per_week": None},
        {"traject_id": "X", "reden": "afgerond"},
    ),
}
"""State → (start type, end type, start data, end data) of one id."""


def _start(ev: Events, state: str, day: str, time: datetime | None = None) -> TimelineEvent:
    start_type, _end_type, data, _end_data = _PAIRS[state]
    return ev(start_type, day, time=time, **data)


def _end(ev: Events, state: str, day: str, time: datetime | None = None) -> TimelineEvent:
    _start_type, end_type, _start_data, data = _PAIRS[state]
    return ev(end_type, day, time=time, **data)


def _start_end(
    ev: Events, state: str, day: str, start_time: datetime | None, end_time: datetime | None
) -> list[TimelineEvent]:
    return [_start(ev, state, day, start_time), _end(ev, state, day, end_time)]


@pytest.mark.parametrize("state", sorted(_PAIRS))
@_TIMES
def test_same_day_start_and_end_hold_on_that_one_day(
    ev: Events, state: str, start_time: datetime | None, end_time: datetime | None
) -> None:
    # rules.md: not held the day before → the start opens it, the end closes it that same day
    # (issue 15: a gesloten sorting before its geopend left the casus open for ever)
    events = _start_end(ev, state, "2026-03-10", start_time, end_time)
    assert days(state, events) == [("2026-03-10", "2026-03-10")]


@pytest.mark.parametrize("state", sorted(_PAIRS))
@_TIMES
def test_same_day_end_and_start_of_a_held_period_continue_without_gap(
    ev: Events, state: str, start_time: datetime | None, end_time: datetime | None
) -> None:
    events = [
        _start(ev, state, "2026-01-01"),
        *_start_end(ev, state, "2026-03-10", start_time, end_time),
    ]
    assert days(state, events) == [("2026-01-01", None)]
    view = FactView(sorted(events, key=lambda e: e.sort_key), frozenset(INPUT_TYPES))
    # the end closes the first period on 2026-03-10 and the start opens a new one that day
    assert [(s.start, s.end) for s in segments(view, state)] == [
        (d("2026-01-01").toordinal(), d("2026-03-10").toordinal()),
        (d("2026-03-10").toordinal(), INF),
    ]


@pytest.mark.parametrize("state", sorted(_PAIRS))
def test_an_id_that_starts_again_after_it_ended_is_a_new_period(ev: Events, state: str) -> None:
    events = [
        _start(ev, state, "2026-01-01"),
        _end(ev, state, "2026-02-01"),
        _end(ev, state, "2026-02-05"),  # not held: no change
        _start(ev, state, "2026-03-01"),
        _start(ev, state, "2026-03-05"),  # held: no change
    ]
    assert days(state, events) == [("2026-01-01", "2026-02-01"), ("2026-03-01", None)]


@_TIMES
def test_regie_sees_a_same_day_casus_the_way_the_casus_state_does(
    ev: Events, start_time: datetime | None, end_time: datetime | None
) -> None:
    # regie from 2026-01-05; the only casus opens and closes on 2026-03-10: that closure
    # closes the last open casus, whatever the registration times
    events = [ev.regie("2026-01-05"), *_start_end(ev, "casus", "2026-03-10", start_time, end_time)]
    assert days("regie", events) == [("2026-01-05", "2026-03-10")]
