"""The clock: what is known when, future facts, and next_due for the live timer."""

from __future__ import annotations

from streams.rules import RuleSet

from .conftest import SUBJECT, Events, d, only, signals_of

R1 = "werkpotentieel-zonder-verwijzing"
R2 = "tussen-wal-en-schip"


def test_signal_known_from_termijn_plus_one(rules: RuleSet, ev: Events) -> None:
    events = [ev.arbeidsvermogen("2026-01-05"), ev.toegewezen("2026-01-10")]
    assert signals_of(rules, R1, events, "2026-03-07") == []
    assert only(rules, R1, events, "2026-03-08").termijn == d("2026-03-07")


def test_future_einddatum_resolves_only_once_the_clock_passes_it(
    rules: RuleSet, ev: Events
) -> None:
    events = [ev.arbeidsvermogen("2026-01-05"), ev.toegewezen("2026-01-10", eind="2026-04-30")]
    assert only(rules, R1, events, "2026-04-30").status == "open"
    signal = only(rules, R1, events, "2026-05-01")
    assert signal.status == "opgelost"
    assert signal.opgelost_op == d("2026-05-01")
    assert signal.reden is not None
    assert "einddatum" in signal.reden


def test_events_dated_after_the_clock_have_not_happened(rules: RuleSet, ev: Events) -> None:
    events = [
        ev.arbeidsvermogen("2026-01-05"),
        ev.toegewezen("2026-01-10"),
        ev.pw_verwijzing("2026-03-20"),
    ]
    assert only(rules, R1, events, "2026-03-10").status == "open"
    assert only(rules, R1, events, "2026-03-20").status == "opgelost"
    in_time = [*events, ev.wt_verwijzing("2026-02-01")]
    assert signals_of(rules, R1, in_time, "2026-01-31") == []  # nothing known yet
    assert signals_of(rules, R1, in_time, "2026-06-01") == []


def test_future_ingangsdatum_has_not_started(rules: RuleSet, ev: Events) -> None:
    events = [
        ev.arbeidsvermogen("2026-01-05"),
        ev.toegewezen("2026-01-10", ingang="2026-03-01"),
    ]
    assert signals_of(rules, R1, events, "2026-03-10") == []
    assert only(rules, R1, events, "2026-04-27").sinds == d("2026-03-01")


def test_next_due_is_termijn_plus_one(rules: RuleSet, ev: Events) -> None:
    events = [ev.arbeidsvermogen("2026-01-05"), ev.toegewezen("2026-01-10")]
    assert rules.next_due(events, d("2026-01-10")) == d("2026-03-08")
    assert rules.next_due(events, d("2026-03-07")) == d("2026-03-08")
    assert rules.next_due(events, d("2026-03-08")) is None


def test_next_due_for_a_future_einddatum(rules: RuleSet, ev: Events) -> None:
    events = [ev.arbeidsvermogen("2026-01-05"), ev.toegewezen("2026-01-10", eind="2026-04-30")]
    assert rules.next_due(events, d("2026-03-10")) == d("2026-05-01")
    assert rules.next_due(events, d("2026-05-01")) is None


def test_next_due_for_a_future_dated_event(rules: RuleSet, ev: Events) -> None:
    events = [
        ev.arbeidsvermogen("2026-01-05"),
        ev.toegewezen("2026-01-10"),
        ev.pw_verwijzing("2026-03-20"),
    ]
    assert rules.next_due(events, d("2026-03-10")) == d("2026-03-20")


def test_next_due_none_when_nothing_can_change(rules: RuleSet, ev: Events) -> None:
    assert rules.next_due([], d("2026-01-01")) is None
    events = [ev.wmo_afgewezen("2026-01-01"), ev.pw_afgewezen("2026-02-01")]
    assert rules.next_due(events, d("2026-02-01")) is None  # R2 is known at once, no termijn


def test_next_due_ignores_event_types_no_rule_reads(rules: RuleSet, ev: Events) -> None:
    from streams.rules import catalogue as c

    events = [ev(c.WMO_MELDING_ONTVANGEN, "2026-06-01")]
    assert rules.next_due(events, d("2026-01-01")) is None


def test_r2_is_known_on_its_sinds(rules: RuleSet, ev: Events) -> None:
    events = [ev.wmo_afgewezen("2026-01-01"), ev.pw_afgewezen("2026-02-01")]
    assert signals_of(rules, R2, events, "2026-01-31") == []
    assert only(rules, R2, events, "2026-02-01").status == "open"


def test_every_signal_is_open_or_opgelost(rules: RuleSet, ev: Events) -> None:
    events = [
        ev.arbeidsvermogen("2026-01-05"),
        ev.toegewezen("2026-01-10"),
        ev.vroegsignaal("2026-01-12"),
        ev.wmo_afgewezen("2026-01-01"),
        ev.pw_afgewezen("2026-01-02"),
        ev.pw_verwijzing("2026-05-01"),
    ]
    found = rules.evaluate(SUBJECT, events, d("2026-06-01"))
    # R1 and R2 resolved, R3 open (review G, L4: the test passed with no signal at all)
    assert {s.status for s in found} == {"open", "opgelost"}
    assert len(found) == 3, found
    assert all(s.subject == SUBJECT for s in found)
    assert all((s.status == "opgelost") == (s.opgelost_op is not None) for s in found)
