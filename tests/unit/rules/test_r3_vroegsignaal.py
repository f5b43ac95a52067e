"""R3 vroegsignaal-zonder-opvolging: per signaal_id, opvolging within 28 days or 3 working days.

2026-01-05 is a Monday: + 28 days = 2026-02-02. 2026-01-09 is a Friday: + 3 working days =
Wednesday 2026-01-14.
"""

from __future__ import annotations

from dataclasses import replace

from streams.model import TimelineEvent
from streams.rules import RuleSet, load_rules
from streams.state import CitizenState, StoredEvent, apply_event

from .conftest import Events, d, only, signals_of

R3 = "vroegsignaal-zonder-opvolging"


def test_raised_after_28_days_without_opvolging(rules: RuleSet, ev: Events) -> None:
    events = [ev.vroegsignaal("2026-01-05", "S1")]
    assert signals_of(rules, R3, events, "2026-02-02") == []
    signal = only(rules, R3, events, "2026-02-03")
    assert signal.sleutel == "S1"
    assert signal.sinds == d("2026-01-05")
    assert signal.termijn == d("2026-02-02")
    assert signal.status == "open"
    assert signal.bewijs == ("e1",)
    assert signal.uitleg == (
        "Op 2026-01-05 een vroegsignaal (S1) van energie ontvangen (60 dagen achterstand, "
        "dreiging: geen); geen opvolging en geen schuldhulptraject uiterlijk 2026-02-02 "
        "(28 dagen)."
    )


def test_opgevolgd_on_the_deadline_day_is_in_time(rules: RuleSet, ev: Events) -> None:
    events = [ev.vroegsignaal("2026-01-05", "S1"), ev.opgevolgd("2026-02-02", "S1")]
    assert signals_of(rules, R3, events, "2026-06-01") == []


def test_opgevolgd_for_another_signaal_does_not_count(rules: RuleSet, ev: Events) -> None:
    events = [ev.vroegsignaal("2026-01-05", "S1"), ev.opgevolgd("2026-01-10", "S2")]
    assert only(rules, R3, events, "2026-02-03").sleutel == "S1"


def test_each_signaal_id_has_its_own_signal(rules: RuleSet, ev: Events) -> None:
    events = [
        ev.vroegsignaal("2026-01-05", "S1"),
        ev.vroegsignaal("2026-01-05", "S2", partner="water"),
        ev.opgevolgd("2026-01-10", "S2"),
    ]
    assert [s.sleutel for s in signals_of(rules, R3, events, "2026-03-01")] == ["S1"]


def test_schuldhulptraject_prevents(rules: RuleSet, ev: Events) -> None:
    started_in_window = [ev.vroegsignaal("2026-01-05"), ev.schuldhulp("2026-01-20")]
    assert signals_of(rules, R3, started_in_window, "2026-06-01") == []
    holding_on_sinds = [ev.vroegsignaal("2026-01-05"), ev.schuldhulp("2025-11-01")]
    assert signals_of(rules, R3, holding_on_sinds, "2026-06-01") == []
    ended_before = [
        ev.vroegsignaal("2026-01-05"),
        ev.schuldhulp("2025-11-01"),
        ev.schuldhulp_einde("2026-01-04"),
    ]
    assert len(signals_of(rules, R3, ended_before, "2026-02-03")) == 1


def test_resolved_by_a_late_opgevolgd(rules: RuleSet, ev: Events) -> None:
    events = [ev.vroegsignaal("2026-01-05", "S1"), ev.opgevolgd("2026-02-10", "S1")]
    assert only(rules, R3, events, "2026-02-09").status == "open"
    signal = only(rules, R3, events, "2026-02-10")
    assert signal.status == "opgelost"
    assert signal.opgelost_op == d("2026-02-10")
    assert signal.reden == "nl.wgs.vroegsignalen.opgevolgd e2"


def test_later_copies_of_the_same_signaal_id_change_nothing(rules: RuleSet, ev: Events) -> None:
    first = [ev.vroegsignaal("2026-01-05", "S1", dreiging="geen")]
    copies = [
        *first,
        ev.vroegsignaal("2026-01-08", "S1", dreiging="huisuitzetting"),
        ev.vroegsignaal("2026-02-20", "S1", dreiging="afsluiting"),
    ]
    assert signals_of(rules, R3, copies, "2026-03-01") == signals_of(rules, R3, first, "2026-03-01")
    assert only(rules, R3, copies, "2026-03-01").termijn == d("2026-02-02")


def test_three_working_days_across_a_weekend_when_dreiging(rules: RuleSet, ev: Events) -> None:
    events = [ev.vroegsignaal("2026-01-09", "S1", dreiging="huisuitzetting")]  # a Friday
    assert signals_of(rules, R3, events, "2026-01-14") == []
    signal = only(rules, R3, events, "2026-01-15")
    assert signal.termijn == d("2026-01-14")  # Wednesday
    assert signal.uitleg.endswith("uiterlijk 2026-01-14 (3 werkdagen).")
    in_time = [*events, ev.opgevolgd("2026-01-14", "S1")]
    assert signals_of(rules, R3, in_time, "2026-03-01") == []


def test_three_working_days_within_a_week(rules: RuleSet, ev: Events) -> None:
    events = [ev.vroegsignaal("2026-01-05", "S1", dreiging="afsluiting")]  # a Monday
    assert only(rules, R3, events, "2026-01-09").termijn == d("2026-01-08")  # Thursday


def test_opgevolgd_dated_before_the_signal_counts(rules: RuleSet, ev: Events) -> None:
    # "an opgevolgd for that signaal_id dated up to termijn": the window has no lower bound.
    events = [ev.vroegsignaal("2026-01-05", "S1"), ev.opgevolgd("2026-01-04", "S1")]
    assert signals_of(rules, R3, events, "2026-06-01") == []


def _told(events: list[TimelineEvent], today: str) -> list[tuple[str, str, str, str]]:
    """The live worker's signal changes, event after event: (event id, kind, sinds, termijn)."""
    state = CitizenState(subject="pseudo-1")
    out: list[tuple[str, str, str, str]] = []
    for event in events:
        outcome = apply_event(
            state, StoredEvent(event, b""), load_rules(), today=d(today), history_limit=100
        )
        out += [
            (event.id, c.kind, str(c.signal.sinds), str(c.signal.termijn)) for c in outcome.changes
        ]
    return out


def test_a_late_earlier_copy_withdraws_the_signal_and_raises_it_anew(ev: Events) -> None:
    """The identity (the ``signaal_id``) stays; ``sinds`` and ``termijn`` move to the late
    first copy (with its ``dreiging``): events.md, "one whose ``sinds`` moved is withdrawn and
    raised anew"."""
    first = ev.vroegsignaal("2026-01-12", "S1", id="a")
    late = ev.vroegsignaal("2026-01-05", "S1", dreiging="afsluiting", id="b")
    assert _told([first, late], "2026-04-01") == [
        ("a", "gesignaleerd", "2026-01-12", "2026-02-09"),
        ("b", "ingetrokken", "2026-01-12", "2026-02-09"),
        ("b", "gesignaleerd", "2026-01-05", "2026-01-08"),
    ]


def test_a_corrected_date_withdraws_the_signal_and_raises_it_anew(ev: Events) -> None:
    first = replace(ev.vroegsignaal("2026-01-05", "S1", id="v1"), bronsleutel="K", sequence="1")
    fixed = replace(ev.vroegsignaal("2026-01-12", "S1", id="v2"), bronsleutel="K", sequence="2")
    assert _told([first, fixed], "2026-04-01") == [
        ("v1", "gesignaleerd", "2026-01-05", "2026-02-02"),
        ("v2", "ingetrokken", "2026-01-05", "2026-02-02"),
        ("v2", "gesignaleerd", "2026-01-12", "2026-02-09"),
    ]
