"""R6 terugval-zonder-nazorg: a new uitkering at most 180 days after leaving for work.

Base: uitkering from 2025-06-01, ended for work on 2025-09-01; new uitkering on 2026-02-28,
which is 30 + 31 + 30 + 31 + 31 + 27 = 180 days later → termijn 2026-02-28 + 28 = 2026-03-28.
"""

from __future__ import annotations

from streams.model import TimelineEvent
from streams.rules import RuleSet

from .conftest import Events, d, only, signals_of

R6 = "terugval-zonder-nazorg"


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
