"""R2 tussen-wal-en-schip: two rejections at most 90 days apart while no support holds.

2026-01-01 → 2026-04-01 is 31 + 28 + 31 = 90 days; → 2026-04-02 is 91 days.
"""

from __future__ import annotations

from streams.rules import RuleSet

from .conftest import Events, d, only, signals_of

R2 = "tussen-wal-en-schip"


def test_raised_at_once_for_rejections_90_days_apart(rules: RuleSet, ev: Events) -> None:
    events = [ev.wmo_afgewezen("2026-01-01"), ev.pw_afgewezen("2026-04-01")]
    signal = only(rules, R2, events, "2026-04-01")  # known at once: no termijn
    assert signal.sinds == d("2026-04-01")
    assert signal.sleutel == "2026-04-01"
    assert signal.termijn is None
    assert signal.status == "open"
    assert signal.bewijs == ("e1", "e2")
    assert signal.uitleg == (
        "Op 2026-01-01 een Wmo-aanvraag afgewezen (geen-beperking) en op 2026-04-01 een "
        "aanvraag bij werk & inkomen afgewezen (geen-recht), 90 dagen na elkaar; sinds "
        "2026-04-01 geen Wmo-voorziening, uitkering, traject, open casus of schuldhulptraject."
    )


def test_not_raised_for_rejections_91_days_apart(rules: RuleSet, ev: Events) -> None:
    events = [ev.wmo_afgewezen("2026-01-01"), ev.pw_afgewezen("2026-04-02")]
    assert signals_of(rules, R2, events, "2026-12-31") == []


def test_order_of_the_two_rejections_does_not_matter(rules: RuleSet, ev: Events) -> None:
    events = [ev.pw_afgewezen("2026-01-01"), ev.wmo_afgewezen("2026-01-01")]
    assert only(rules, R2, events, "2026-01-01").sinds == d("2026-01-01")


def test_not_raised_while_support_holds_on_sinds(rules: RuleSet, ev: Events) -> None:
    events = [
        ev.uitkering("2026-03-01"),
        ev.wmo_afgewezen("2026-03-10"),
        ev.pw_afgewezen("2026-03-20"),
    ]
    assert signals_of(rules, R2, events, "2026-12-31") == []


def test_support_that_ended_before_sinds_does_not_prevent(rules: RuleSet, ev: Events) -> None:
    events = [
        ev.casus("2026-01-01"),
        ev.casus_dicht("2026-03-15"),
        ev.wmo_afgewezen("2026-03-10"),
        ev.pw_afgewezen("2026-03-20"),
    ]
    assert only(rules, R2, events, "2026-03-20").sinds == d("2026-03-20")


def test_resolved_on_the_first_day_support_holds(rules: RuleSet, ev: Events) -> None:
    events = [
        ev.wmo_afgewezen("2026-01-01"),
        ev.pw_afgewezen("2026-04-01"),
        ev.toegewezen("2026-05-01"),
    ]
    assert only(rules, R2, events, "2026-04-30").status == "open"
    signal = only(rules, R2, events, "2026-05-10")
    assert signal.status == "opgelost"
    assert signal.opgelost_op == d("2026-05-01")
    assert signal.reden is not None
    assert "nl.wmo.voorzieningen.toegewezen e3" in signal.reden


def test_not_raised_again_while_an_earlier_signal_is_open(rules: RuleSet, ev: Events) -> None:
    events = [
        ev.wmo_afgewezen("2026-01-01"),
        ev.pw_afgewezen("2026-04-01"),
        ev.wmo_afgewezen("2026-05-01"),  # pairs with 2026-04-01, but signal 1 is still open
    ]
    found = signals_of(rules, R2, events, "2026-06-01")
    assert [s.sleutel for s in found] == ["2026-04-01"]


def test_raised_again_after_the_earlier_one_was_resolved(rules: RuleSet, ev: Events) -> None:
    events = [
        ev.wmo_afgewezen("2026-01-01"),
        ev.pw_afgewezen("2026-04-01"),
        ev.uitkering("2026-04-10"),
        ev.uitkering_einde("2026-04-20", reden="overig"),
        ev.wmo_afgewezen("2026-05-01"),
    ]
    found = signals_of(rules, R2, events, "2026-06-01")
    assert [(s.sleutel, s.status, s.opgelost_op) for s in found] == [
        ("2026-04-01", "opgelost", d("2026-04-10")),
        ("2026-05-01", "open", None),
    ]
    assert found[1].bewijs == ("e2", "e5")


def test_late_support_dated_on_sinds_withdraws(rules: RuleSet, ev: Events) -> None:
    events = [ev.wmo_afgewezen("2026-01-01"), ev.pw_afgewezen("2026-04-01")]
    assert len(signals_of(rules, R2, events, "2026-04-05")) == 1
    late = [*events, ev.schuldhulp("2026-03-01")]
    assert signals_of(rules, R2, late, "2026-04-05") == []
