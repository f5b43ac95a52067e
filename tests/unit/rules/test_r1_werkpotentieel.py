"""R1 werkpotentieel-zonder-verwijzing: voorziening + werkpotentieel → verwijzing within 56 days.

Base case (hand-computed): werkpotentieel positive from 2026-01-05, voorziening (begeleiding)
from 2026-01-10 → sinds 2026-01-10, termijn 2026-01-10 + 56 days = 2026-03-07.
"""

from __future__ import annotations

from streams.model import TimelineEvent
from streams.rules import RuleSet

from .conftest import Events, d, only, signals_of

R1 = "werkpotentieel-zonder-verwijzing"


def base(ev: Events) -> list[TimelineEvent]:
    return [ev.arbeidsvermogen("2026-01-05"), ev.toegewezen("2026-01-10", categorie="02")]


def test_raised_after_termijn_with_explanation(rules: RuleSet, ev: Events) -> None:
    signal = only(rules, R1, base(ev), "2026-03-08")
    assert signal.sinds == d("2026-01-10")
    assert signal.termijn == d("2026-03-07")
    assert signal.sleutel == "2026-01-10"
    assert signal.status == "open"
    assert signal.opgelost_op is None
    assert signal.bewijs == ("e1", "e2")
    assert signal.uitleg == (
        "Sinds 2026-01-10 een Wmo-voorziening (begeleiding) én werkpotentieel (vastgesteld "
        "2026-01-05); geen verwijzing naar werk & inkomen uiterlijk 2026-03-07."
    )


def test_not_known_on_termijn_itself(rules: RuleSet, ev: Events) -> None:
    assert signals_of(rules, R1, base(ev), "2026-03-07") == []


def test_verwijzing_on_the_deadline_day_is_in_time(rules: RuleSet, ev: Events) -> None:
    events = [*base(ev), ev.pw_verwijzing("2026-03-07")]
    assert signals_of(rules, R1, events, "2026-06-01") == []


def test_verwijzing_from_the_werkpotentieel_date_counts(rules: RuleSet, ev: Events) -> None:
    events = [*base(ev), ev.pw_verwijzing("2026-01-05")]
    assert signals_of(rules, R1, events, "2026-06-01") == []


def test_verwijzing_before_the_werkpotentieel_date_does_not_count(
    rules: RuleSet, ev: Events
) -> None:
    events = [*base(ev), ev.pw_verwijzing("2026-01-04")]
    assert only(rules, R1, events, "2026-03-08").sinds == d("2026-01-10")


def test_wijkteam_verwijzing_counts_only_naar_werk_en_inkomen(rules: RuleSet, ev: Events) -> None:
    to_wmo = [*base(ev), ev.wt_verwijzing("2026-02-01", naar="wmo")]
    assert len(signals_of(rules, R1, to_wmo, "2026-03-08")) == 1
    to_work = [*base(ev), ev.wt_verwijzing("2026-02-01", naar="werk-en-inkomen")]
    assert signals_of(rules, R1, to_work, "2026-03-08") == []


def test_traject_gestart_in_window_prevents(rules: RuleSet, ev: Events) -> None:
    events = [*base(ev), ev.traject("2026-02-15")]
    assert signals_of(rules, R1, events, "2026-06-01") == []


def test_traject_holding_on_sinds_prevents(rules: RuleSet, ev: Events) -> None:
    holding = [*base(ev), ev.traject("2025-11-01")]
    assert signals_of(rules, R1, holding, "2026-06-01") == []
    ended = [*base(ev), ev.traject("2025-11-01"), ev.traject_einde("2025-12-31")]
    assert len(signals_of(rules, R1, ended, "2026-03-08")) == 1


def test_no_signal_when_the_condition_breaks_before_termijn(rules: RuleSet, ev: Events) -> None:
    events = [*base(ev), ev.onderzoek("2026-02-01", werkwens=False, potentieel="geen")]
    assert signals_of(rules, R1, events, "2026-06-01") == []


def test_resolved_by_a_late_verwijzing(rules: RuleSet, ev: Events) -> None:
    events = [*base(ev), ev.pw_verwijzing("2026-03-20")]
    assert only(rules, R1, events, "2026-03-19").status == "open"
    signal = only(rules, R1, events, "2026-04-01")
    assert signal.status == "opgelost"
    assert signal.opgelost_op == d("2026-03-20")
    assert signal.reden == "nl.participatiewet.verwijzingen.ontvangen e3"


def test_resolved_when_the_voorziening_stops(rules: RuleSet, ev: Events) -> None:
    events = [*base(ev), ev.gestopt("2026-03-15", reden="19")]
    assert only(rules, R1, events, "2026-03-15").status == "open"
    signal = only(rules, R1, events, "2026-03-16")
    assert signal.status == "opgelost"
    assert signal.opgelost_op == d("2026-03-16")
    assert signal.reden is not None
    assert "nl.wmo.voorzieningen.gestopt e3" in signal.reden


def test_resolution_is_the_earliest_resolving_fact(rules: RuleSet, ev: Events) -> None:
    events = [*base(ev), ev.pw_verwijzing("2026-03-25"), ev.gestopt("2026-03-15")]
    assert only(rules, R1, events, "2026-04-01").opgelost_op == d("2026-03-16")


def test_late_event_dated_in_time_withdraws_the_signal(rules: RuleSet, ev: Events) -> None:
    assert len(signals_of(rules, R1, base(ev), "2026-04-01")) == 1
    late = [*base(ev), ev.wt_verwijzing("2026-02-20")]  # arrives later, dated in time
    assert signals_of(rules, R1, late, "2026-04-01") == []


def test_later_toegewezen_moves_sinds(rules: RuleSet, ev: Events) -> None:
    events = [
        *base(ev),
        ev.toegewezen("2026-01-20", ingang="2026-02-01", categorie="02"),  # same number T1
    ]
    signal = only(rules, R1, events, "2026-04-01")
    assert signal.sinds == d("2026-02-01")
    assert signal.termijn == d("2026-03-29")


def test_temporary_stop_and_restart_start_a_new_episode(rules: RuleSet, ev: Events) -> None:
    suspended = [*base(ev), ev.gestopt("2026-02-01", reden="20")]
    assert signals_of(rules, R1, suspended, "2026-06-01") == []
    restarted = [*suspended, ev.gestart("2026-02-10")]
    signal = only(rules, R1, restarted, "2026-06-01")
    assert signal.sinds == d("2026-02-10")
    assert signal.termijn == d("2026-04-07")


def test_final_stop_is_not_undone_by_gestart(rules: RuleSet, ev: Events) -> None:
    events = [*base(ev), ev.gestopt("2026-02-01", reden="19"), ev.gestart("2026-02-10")]
    assert signals_of(rules, R1, events, "2026-06-01") == []


def test_two_episodes_give_two_signals(rules: RuleSet, ev: Events) -> None:
    events = [
        *base(ev),
        ev.gestopt("2026-03-15", reden="20"),
        ev.gestart("2026-04-01"),
    ]
    found = signals_of(rules, R1, events, "2026-06-01")
    assert [(s.sleutel, s.status, s.opgelost_op) for s in found] == [
        ("2026-01-10", "opgelost", d("2026-03-16")),
        ("2026-04-01", "open", None),
    ]
    assert found[1].termijn == d("2026-05-27")
