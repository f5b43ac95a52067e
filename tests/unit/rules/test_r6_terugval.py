"""R6 terugval-zonder-nazorg: a new uitkering at most 180 days after leaving for work.

Base: uitkering from 2025-06-01, ended for work on 2025-09-01; new uitkering on 2026-02-28,
which is 30 + 31 + 30 + 31 + 31 + 27 = 180 days later → termijn 2026-02-28 + 28 = 2026-03-28.
"""

from __future__ import annotations

from datetime import UTC, datetime

from streams.model import TimelineEvent
from streams.rules import RuleSet

from .conftest import Events, d, only, signals_of

R6 = "terugval-zonder-nazorg"


def _at(hour: int) -> datetime:
    return datetime(2026, 4, 16, hour, tzinfo=UTC)


def base(ev: Events, again: str = "2026-02-28", reden: str = "werk") -> list[TimelineEvent]:
    return [
        ev.uitkering("2025-06-01"),
        ev.uitkering_einde("2025-09-01", reden=reden),
        ev.uitkering(again, regeling="ioaw"),
    ]


def test_raised_at_180_days(rules: RuleSet, ev: Events) -> None:
    events = base(ev)
    assert signals_of(rules, R6, events, "2026-03-28") == []
    signal = only(rules, R6, events, "2026-03-29")
    assert signal.sinds == d("2026-02-28")
    assert signal.termijn == d("2026-03-28")
    assert signal.sleutel == "2026-02-28"
    assert signal.bewijs == ("e2", "e3")
    assert signal.uitleg == (
        "Op 2026-02-28 opnieuw een uitkering (ioaw), 180 dagen na uitstroom naar werk op "
        "2025-09-01; geen traject, casus of verwijzing uiterlijk 2026-03-28."
    )


def test_not_raised_at_181_days(rules: RuleSet, ev: Events) -> None:
    assert signals_of(rules, R6, base(ev, again="2026-03-01"), "2026-12-31") == []


def test_not_raised_when_leaving_was_not_for_work(rules: RuleSet, ev: Events) -> None:
    assert signals_of(rules, R6, base(ev, reden="verhuizing"), "2026-12-31") == []


def test_preceding_event_must_be_the_beeindigd(rules: RuleSet, ev: Events) -> None:
    events = [*base(ev), ev.uitkering("2026-03-01")]  # preceded by a toegekend: no new start
    assert [s.sleutel for s in signals_of(rules, R6, events, "2026-12-31")] == ["2026-02-28"]


def test_any_nazorg_on_the_deadline_day_is_in_time(rules: RuleSet, ev: Events) -> None:
    events = [*base(ev), ev.wt_verwijzing("2026-03-28", naar="overig")]
    assert signals_of(rules, R6, events, "2026-12-31") == []


def test_nazorg_before_sinds_does_not_count(rules: RuleSet, ev: Events) -> None:
    events = [*base(ev), ev.pw_verwijzing("2026-02-27")]
    assert len(signals_of(rules, R6, events, "2026-03-29")) == 1


def test_not_raised_when_the_uitkering_ends_before_termijn(rules: RuleSet, ev: Events) -> None:
    events = [*base(ev), ev.uitkering_einde("2026-03-10", reden="werk")]
    assert signals_of(rules, R6, events, "2026-12-31") == []


def test_resolved_by_a_late_casus(rules: RuleSet, ev: Events) -> None:
    events = [*base(ev), ev.casus("2026-04-02")]
    signal = only(rules, R6, events, "2026-04-02")
    assert signal.status == "opgelost"
    assert signal.opgelost_op == d("2026-04-02")
    assert signal.reden == "nl.wijkteams.casussen.geopend e4"


def test_resolved_when_the_uitkering_ends(rules: RuleSet, ev: Events) -> None:
    events = [*base(ev), ev.uitkering_einde("2026-04-05", reden="overig")]
    assert only(rules, R6, events, "2026-04-05").status == "open"
    signal = only(rules, R6, events, "2026-04-06")
    assert signal.status == "opgelost"
    assert signal.opgelost_op == d("2026-04-06")


# --- "that new uitkering holds": the instance the start opened, to its next beeindigd ---------
# (issue 15, class 1: a re-grant on the same or the next day used to continue the condition)


def terugval(ev: Events) -> list[TimelineEvent]:
    """Uitkering ended for work on 2026-01-31, granted again on 2026-02-10 (e3): R6 from
    2026-02-10, termijn 2026-03-10."""
    return [
        ev.uitkering("2026-01-01"),
        ev.uitkering_einde("2026-01-31", reden="werk"),
        ev.uitkering("2026-02-10"),
    ]


def test_a_regrant_the_next_day_does_not_continue_the_condition(rules: RuleSet, ev: Events) -> None:
    # the minimal case of the issue: ends 04-16 after work, granted again 04-17, ends again
    events = [
        *terugval(ev),
        ev.uitkering_einde("2026-04-16", reden="werk"),  # e4
        ev.uitkering("2026-04-17"),  # e5: a new terugval, but its uitkering ends before termijn
        ev.uitkering_einde("2026-04-20", reden="overig"),
    ]
    (signal,) = signals_of(rules, R6, events, "2026-04-20")
    assert (signal.sinds, signal.status, signal.opgelost_op) == (
        d("2026-02-10"),
        "opgelost",
        d("2026-04-17"),
    )
    assert signal.reden == (
        "conditie vervallen op 2026-04-17: uitkering beëindigd "
        "(nl.participatiewet.uitkeringen.beeindigd e4)"
    )


def test_a_regrant_on_the_same_day_does_not_continue_the_condition(
    rules: RuleSet, ev: Events
) -> None:
    events = [
        *terugval(ev),
        ev("nl.participatiewet.uitkeringen.beeindigd", "2026-04-16", reden="werk", time=_at(9)),
        ev(
            "nl.participatiewet.uitkeringen.toegekend",
            "2026-04-16",
            regeling="bijstand",
            time=_at(10),
        ),
    ]
    found = signals_of(rules, R6, events, "2026-06-30")
    assert [(s.sleutel, s.status, s.opgelost_op) for s in found] == [
        ("2026-02-10", "opgelost", d("2026-04-17")),  # its uitkering ended on 04-16
        ("2026-04-16", "open", None),  # the new terugval, from the same-day re-grant
    ]


def test_no_signal_when_its_own_uitkering_ends_before_termijn(rules: RuleSet, ev: Events) -> None:
    # ended (not for work, so no new terugval) before termijn and granted again the next day:
    # the uitkering that started the episode did not hold through termijn
    events = [
        *terugval(ev),
        ev.uitkering_einde("2026-03-01", reden="overig"),
        ev.uitkering("2026-03-02"),
    ]
    assert signals_of(rules, R6, events, "2026-06-30") == []


def test_a_toegekend_while_the_uitkering_holds_starts_nothing(rules: RuleSet, ev: Events) -> None:
    events = [*terugval(ev), ev.uitkering("2026-02-20"), ev.uitkering_einde("2026-03-20")]
    (signal,) = signals_of(rules, R6, events, "2026-03-21")
    assert (signal.sinds, signal.status, signal.opgelost_op) == (
        d("2026-02-10"),
        "opgelost",
        d("2026-03-21"),
    )
