"""R5 dagbesteding-zonder-werkstap: dagbesteding (07) + werkwens → werkstap within 90 days.

Base: dagbesteding from 2026-01-01, onderzoek with werkwens on 2026-01-15 → sinds 2026-01-15,
termijn 2026-01-15 + 90 days = 2026-04-15 (16 + 28 + 31 + 15).
"""

from __future__ import annotations

from streams.model import TimelineEvent
from streams.rules import RuleSet

from .conftest import Events, d, only, signals_of

R5 = "dagbesteding-zonder-werkstap"


def base(ev: Events, categorie: str = "07") -> list[TimelineEvent]:
    return [
        ev.toegewezen("2026-01-01", categorie=categorie),
        ev.onderzoek("2026-01-15", werkwens=True),
    ]


def test_raised_after_90_days_without_werkstap(rules: RuleSet, ev: Events) -> None:
    events = base(ev)
    assert signals_of(rules, R5, events, "2026-04-15") == []
    signal = only(rules, R5, events, "2026-04-16")
    assert signal.sinds == d("2026-01-15")
    assert signal.termijn == d("2026-04-15")
    assert signal.bewijs == ("e1", "e2")
    assert signal.uitleg == (
        "Sinds 2026-01-15 dagbesteding (Wmo) én een werkwens (Wmo-onderzoek, sinds 2026-01-15); "
        "geen werkstap (beschut werk, participatieplaats, sociale coöperatie, "
        "loonkostensubsidie of re-integratie) uiterlijk 2026-04-15."
    )


def test_not_raised_for_another_productcategorie(rules: RuleSet, ev: Events) -> None:
    assert signals_of(rules, R5, base(ev, categorie="02"), "2026-12-31") == []


def test_not_raised_without_werkwens(rules: RuleSet, ev: Events) -> None:
    events = [
        ev.toegewezen("2026-01-01", categorie="07"),
        ev.onderzoek("2026-01-15", werkwens=False, potentieel="volledig"),
    ]
    assert signals_of(rules, R5, events, "2026-12-31") == []


def test_werkstap_on_the_deadline_day_is_in_time(rules: RuleSet, ev: Events) -> None:
    events = [*base(ev), ev.traject("2026-04-15", soort="beschut-werk")]
    assert signals_of(rules, R5, events, "2026-12-31") == []


def test_traject_of_another_soort_is_no_werkstap(rules: RuleSet, ev: Events) -> None:
    events = [*base(ev), ev.traject("2026-02-01", soort="overig")]
    assert len(signals_of(rules, R5, events, "2026-04-16")) == 1


def test_werkstap_traject_holding_on_sinds_prevents(rules: RuleSet, ev: Events) -> None:
    events = [*base(ev), ev.traject("2025-12-01", soort="participatieplaats")]
    assert signals_of(rules, R5, events, "2026-12-31") == []


def test_latest_onderzoek_without_werkwens_ends_the_condition(rules: RuleSet, ev: Events) -> None:
    events = [*base(ev), ev.onderzoek("2026-03-01", werkwens=False)]
    assert signals_of(rules, R5, events, "2026-12-31") == []


def test_resolved_by_a_late_werkstap(rules: RuleSet, ev: Events) -> None:
    events = [*base(ev), ev.traject("2026-05-01", soort="loonkostensubsidie")]
    signal = only(rules, R5, events, "2026-05-02")
    assert signal.status == "opgelost"
    assert signal.opgelost_op == d("2026-05-01")
    assert signal.reden == "nl.participatiewet.trajecten.gestart e3"


def test_resolved_by_a_temporary_stop(rules: RuleSet, ev: Events) -> None:
    events = [*base(ev), ev.gestopt("2026-05-10", reden="20", categorie="07")]
    assert only(rules, R5, events, "2026-05-10").status == "open"
    signal = only(rules, R5, events, "2026-05-11")
    assert signal.status == "opgelost"
    assert signal.opgelost_op == d("2026-05-11")
