"""R4 meervoudig-zonder-regie: 3+ domains active → regie holds on termijn (30 days).

Base: uitkering (participatiewet) from 2026-01-01, voorziening (wmo) from 2026-01-10, open
vroegsignaal (schulden) from 2026-01-15 → 3 domains from 2026-01-15; termijn 2026-02-14.
"""

from __future__ import annotations

from streams.model import TimelineEvent
from streams.rules import RuleSet

from .conftest import Events, d, only, signals_of

R4 = "meervoudig-zonder-regie"


def base(ev: Events) -> list[TimelineEvent]:
    return [ev.uitkering("2026-01-01"), ev.toegewezen("2026-01-10"), ev.vroegsignaal("2026-01-15")]


def test_raised_without_regie(rules: RuleSet, ev: Events) -> None:
    events = base(ev)
    assert signals_of(rules, R4, events, "2026-02-14") == []
    signal = only(rules, R4, events, "2026-02-15")
    assert signal.sinds == d("2026-01-15")
    assert signal.termijn == d("2026-02-14")
    assert signal.bewijs == ("e1", "e2", "e3")
    assert signal.uitleg == (
        "Sinds 2026-01-15 actief in 3 domeinen (participatiewet, wmo en schulden); geen regie "
        "(casusregisseur of integraal plan) op 2026-02-14."
    )


def test_a_condition_that_holds_through_termijn_itself_is_enough(
    rules: RuleSet, ev: Events
) -> None:
    """rules.md: the signal exists if the condition held on every day from ``sinds`` through
    ``termijn`` — the last day counts (review G, H1: ``>`` for ``>=`` went unnoticed)."""
    through = [*base(ev), ev.uitkering_einde("2026-02-14")]  # the last day of the uitkering
    signal = only(rules, R4, through, "2026-03-01")
    assert (signal.sinds, signal.termijn) == (d("2026-01-15"), d("2026-02-14"))
    assert (signal.status, signal.opgelost_op) == ("opgelost", d("2026-02-15"))
    a_day_short = [*base(ev), ev.uitkering_einde("2026-02-13")]
    assert signals_of(rules, R4, a_day_short, "2026-03-01") == []


def test_not_raised_with_only_two_domains(rules: RuleSet, ev: Events) -> None:
    events = base(ev)[:2]
    assert signals_of(rules, R4, events, "2026-12-31") == []


def test_regie_holding_on_termijn_prevents(rules: RuleSet, ev: Events) -> None:
    events = [*base(ev), ev.casus("2026-01-20"), ev.regie("2026-02-14")]
    assert signals_of(rules, R4, events, "2026-06-01") == []


def test_regie_that_ended_before_termijn_does_not_prevent(rules: RuleSet, ev: Events) -> None:
    events = [
        *base(ev),
        ev.casus("2026-01-20"),
        ev.regie("2026-01-25"),
        ev.casus_dicht("2026-02-10"),  # last open casus closes: regie ends 2026-02-10
    ]
    signal = only(rules, R4, events, "2026-02-15")
    assert signal.sinds == d("2026-01-15")
    assert signal.status == "open"


def test_regie_assigned_without_casus_holds_until_a_closure(rules: RuleSet, ev: Events) -> None:
    events = [*base(ev), ev.regie("2026-01-05")]
    assert signals_of(rules, R4, events, "2026-06-01") == []


def test_a_closure_of_a_casus_that_is_not_open_does_not_end_regie(
    rules: RuleSet, ev: Events
) -> None:
    # rules.md, regie: only a closure of the last open casus ends it
    events = [
        *base(ev),
        ev.regie("2026-01-05"),  # no casus open: holds until a last open casus closes
        ev.casus_dicht("2026-01-20", "C9"),  # not open: changes nothing
        ev.casus("2026-01-25", "C1"),
        ev.casus("2026-01-26", "C2"),
        ev.casus_dicht("2026-02-01", "C1"),  # C2 still open: changes nothing
    ]
    assert signals_of(rules, R4, events, "2026-06-01") == []
    closed = [*events, ev.casus_dicht("2026-02-10", "C2")]  # the last open casus: regie ends
    signal = only(rules, R4, closed, "2026-02-15")
    assert signal.sinds == d("2026-01-15")
    assert signal.status == "open"


def test_resolved_when_regie_is_assigned_late(rules: RuleSet, ev: Events) -> None:
    events = [*base(ev), ev.regie("2026-03-01")]
    signal = only(rules, R4, events, "2026-03-02")
    assert signal.status == "opgelost"
    assert signal.opgelost_op == d("2026-03-01")
    assert signal.reden == "regie gestart (nl.wijkteams.regie.toegewezen e4)"


def test_resolved_when_fewer_domains_are_active(rules: RuleSet, ev: Events) -> None:
    events = [*base(ev), ev.uitkering_einde("2026-03-05", reden="overig")]
    signal = only(rules, R4, events, "2026-03-06")
    assert signal.status == "opgelost"
    assert signal.opgelost_op == d("2026-03-06")
    assert signal.reden is not None
    assert "nl.participatiewet.uitkeringen.beeindigd e4" in signal.reden


def test_episode_restarts_after_a_gap(rules: RuleSet, ev: Events) -> None:
    events = [
        *base(ev),
        ev.opgevolgd("2026-01-20"),  # schulden inactive from 2026-01-21
        ev.casus("2026-02-01"),  # wijkteam: 3 domains again from 2026-02-01
    ]
    signal = only(rules, R4, events, "2026-03-10")
    assert signal.sinds == d("2026-02-01")
    assert signal.termijn == d("2026-03-03")
