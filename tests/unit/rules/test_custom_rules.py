"""The three rule shapes of rules.md, configured by YAML only."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime
from pathlib import Path

from streams.model import TimelineEvent
from streams.rules import RuleSet, load_rules
from streams.rules import catalogue as c
from streams.rules.engine import candidates
from streams.rules.states import FactView

from .conftest import Events, d, only, signals_of


def load(tmp_path: Path, text: str) -> RuleSet:
    (tmp_path / "eigen.yaml").write_text(textwrap.dedent(text), encoding="utf-8")
    return load_rules(tmp_path)


HERHAALDE_AFWIJZING = """
id: herhaalde-wmo-afwijzing
titel: Herhaalde Wmo-afwijzing zonder wijkteam
doel: Twee Wmo-afwijzingen kort na elkaar zonder open casus.
grondslag: Wmo 2015 art. 2.3.2.
leest:
  - nl.wmo.aanvragen.afgewezen
  - nl.wijkteams.casussen.geopend
  - nl.wijkteams.casussen.gesloten
parameters:
  venster: 60
vorm: paar
paar:
  eerste: {gebeurtenis: nl.wmo.aanvragen.afgewezen}
  tweede: {gebeurtenis: nl.wmo.aanvragen.afgewezen}
  binnen_dagen: $venster
conditie:
  niet: casus
uitleg: Afgewezen op {eerste_datum} en {tweede_datum} ({dagen_tussen} dagen); geen casus.
"""


def test_pair_of_the_same_type(tmp_path: Path, ev: Events) -> None:
    rules = load(tmp_path, HERHAALDE_AFWIJZING)
    rule = "herhaalde-wmo-afwijzing"
    single = [ev.wmo_afgewezen("2026-01-01")]
    assert signals_of(rules, rule, single, "2026-12-31") == []
    events = [*single, ev.wmo_afgewezen("2026-03-02"), ev.casus("2026-03-10")]
    signal = only(rules, rule, events, "2026-03-09")
    assert signal.sinds == d("2026-03-02")
    assert signal.bewijs == ("e1", "e2")
    assert signal.uitleg == "Afgewezen op 2026-01-01 en 2026-03-02 (60 dagen); geen casus."
    resolved = only(rules, rule, events, "2026-03-10")
    assert resolved.opgelost_op == d("2026-03-10")
    assert resolved.reden == (
        "conditie vervallen op 2026-03-10: open casus bij het wijkteam gestart "
        "(nl.wijkteams.casussen.geopend e3)"
    )
    too_far = [ev.wmo_afgewezen("2026-01-01"), ev.wmo_afgewezen("2026-03-03")]
    assert signals_of(rules, rule, too_far, "2026-12-31") == []


REGIE_ZONDER_PLAN = """
id: casus-zonder-regie
titel: Open casus zonder regie
doel: Een casus die langer dan 10 werkdagen openstaat zonder regie.
grondslag: Wmo 2015 art. 2.1.2.
leest:
  - nl.wijkteams.casussen.geopend
  - nl.wijkteams.casussen.gesloten
  - nl.wijkteams.regie.toegewezen
parameters:
  werkdagen: 10
vorm: episode
conditie:
  alle:
    - casus
    - niet: regie
termijn:
  werkdagen: $werkdagen
verwacht: []
uitleg: Sinds {sinds} een open casus zonder regie ({periode}, uiterlijk {termijn}).
"""


def test_episode_with_negation_and_working_days(tmp_path: Path, ev: Events) -> None:
    rules = load(tmp_path, REGIE_ZONDER_PLAN)
    rule = "casus-zonder-regie"
    events = [ev.casus("2026-01-05"), ev.regie("2026-01-26")]  # Monday; regie three weeks later
    signal = only(rules, rule, events, "2026-01-20")
    assert signal.termijn == d("2026-01-19")  # 10 working days after Monday 5 January
    assert signal.uitleg == (
        "Sinds 2026-01-05 een open casus zonder regie (10 werkdagen, uiterlijk 2026-01-19)."
    )
    resolved = only(rules, rule, events, "2026-02-01")
    assert resolved.opgelost_op == d("2026-01-26")
    assert resolved.reden is not None
    assert "regie gestart (nl.wijkteams.regie.toegewezen e2)" in resolved.reden


OPVOLGING_PER_PARTNER = """
id: huisuitzetting-zonder-gesprek
titel: Dreigende huisuitzetting zonder gesprek
doel: Bij dreigende huisuitzetting volgt een gesprek.
grondslag: Wgs art. 4a.
leest:
  - nl.wgs.vroegsignalen.ontvangen
  - nl.wgs.vroegsignalen.opgevolgd
parameters:
  dagen: 14
vorm: gebeurtenis
start:
  gebeurtenis: nl.wgs.vroegsignalen.ontvangen
  velden: {dreiging: huisuitzetting}
  sleutel: signaal_id
termijn:
  dagen: $dagen
verwacht:
  - gebeurtenis: nl.wgs.vroegsignalen.opgevolgd
    velden: {actie: gesprek}
    zelfde: [signaal_id]
uitleg: Signaal {start_signaal_id} van {start_partner} op {sinds}; geen gesprek uiterlijk {termijn}.
"""


def test_event_start_with_filters_and_key(tmp_path: Path, ev: Events) -> None:
    rules = load(tmp_path, OPVOLGING_PER_PARTNER)
    rule = "huisuitzetting-zonder-gesprek"
    events = [
        ev.vroegsignaal("2026-01-05", "S1", dreiging="huisuitzetting", partner="woningcorporatie"),
        ev.vroegsignaal("2026-01-05", "S2", dreiging="geen"),
        ev.opgevolgd("2026-01-10", "S1", actie="contactpoging"),  # not a gesprek
    ]
    signal = only(rules, rule, events, "2026-01-20")
    assert signal.sleutel == "S1"
    assert signal.termijn == d("2026-01-19")
    assert signal.uitleg == (
        "Signaal S1 van woningcorporatie op 2026-01-05; geen gesprek uiterlijk 2026-01-19."
    )
    talked = [*events, ev.opgevolgd("2026-01-19", "S1", actie="gesprek")]
    assert signals_of(rules, rule, talked, "2026-02-01") == []


def test_same_day_order_follows_time_not_input(rules: RuleSet, ev: Events) -> None:
    morning = datetime(2026, 2, 1, 9, tzinfo=UTC)
    evening = datetime(2026, 2, 1, 17, tzinfo=UTC)

    def assessments(negative_at: datetime, positive_at: datetime) -> list[TimelineEvent]:
        return [
            ev.toegewezen("2026-01-10"),
            ev.arbeidsvermogen("2026-01-05"),
            ev(
                c.WMO_ONDERZOEK_AFGEROND,
                "2026-02-01",
                time=negative_at,
                werkwens=False,
                arbeidspotentieel="geen",
            ),
            ev(
                c.ARBEIDSVERMOGEN_VASTGESTELD,
                "2026-02-01",
                time=positive_at,
                uitkomst="volledig",
                trede=None,
            ),
        ]

    r1 = "werkpotentieel-zonder-verwijzing"
    # The positive assessment is the later one that day: werkpotentieel never breaks.
    positive_last = assessments(negative_at=morning, positive_at=evening)
    assert [s.sinds for s in signals_of(rules, r1, positive_last[::-1], "2026-03-08")] == [
        d("2026-01-10")
    ]
    # The negative one is later: werkpotentieel ends on 2026-01-31, the episode is too short.
    negative_last = assessments(negative_at=evening, positive_at=morning)
    assert signals_of(rules, r1, negative_last, "2026-03-08") == []
    assert signals_of(rules, r1, negative_last[::-1], "2026-03-08") == []


ALLEEN_NIET = """
id: geen-casus-na-afsluiting
titel: Geen casus
doel: Een conditie die alleen uit een ontkenning bestaat.
grondslag: Wmo 2015 art. 2.1.2.
leest:
  - nl.wijkteams.casussen.geopend
  - nl.wijkteams.casussen.gesloten
parameters:
  dagen: 10
vorm: episode
conditie:
  niet: casus
termijn:
  dagen: $dagen
verwacht: []
uitleg: Sinds {sinds} geen casus (uiterlijk {termijn}).
"""


def test_a_condition_of_only_a_negation_needs_a_visible_fact(tmp_path: Path, ev: Events) -> None:
    """``niet`` holds only from the first fact the rule can see on: a citizen with none of its
    types has no signal of it (this raised ValueError, a date out of range, for every such
    citizen: the worker dead-lettered their records) and the other rules are unaffected."""
    rules = load(tmp_path, ALLEEN_NIET)
    rule = "geen-casus-na-afsluiting"
    unrelated = [ev.wmo_afgewezen("2026-01-01"), ev.pw_afgewezen("2026-01-20")]
    assert signals_of(rules, rule, unrelated, "2026-12-31") == []
    assert signals_of(rules, "tussen-wal-en-schip", unrelated, "2026-12-31")  # R2 still there
    closed = [*unrelated, ev.casus("2026-02-01"), ev.casus_dicht("2026-03-01")]
    found = only(rules, rule, closed, "2026-12-31")
    assert found.sinds == d("2026-03-02")  # the day after the casus closed


def test_no_rule_has_a_candidate_without_a_visible_fact(tmp_path: Path) -> None:
    (tmp_path / "regie.yaml").write_text(textwrap.dedent(REGIE_ZONDER_PLAN), encoding="utf-8")
    rules = load(tmp_path, ALLEEN_NIET)  # the built-in rules and two added ones
    assert len(rules.rules) == 8
    for rule in rules.rules:
        assert candidates(rule, FactView([], rule.leest, {})) == [], rule.id


ZONDER_SLEUTEL = OPVOLGING_PER_PARTNER.replace("  sleutel: signaal_id\n", "").replace(
    "huisuitzetting-zonder-gesprek", "gesprek-per-dag"
)


def test_a_start_without_signal_leaves_its_day_to_a_later_start(tmp_path: Path, ev: Events) -> None:
    """Without ``sleutel`` one signal per day (its sleutel is ``sinds``): the first start of
    the day that gives a signal — one followed up in time does not use the day up (the second
    start was never tried: no signal at all)."""
    rules = load(tmp_path, ZONDER_SLEUTEL)
    rule = "gesprek-per-dag"
    s1 = ev.vroegsignaal("2026-01-05", "S1", dreiging="huisuitzetting")
    s2 = ev.vroegsignaal("2026-01-05", "S2", dreiging="huisuitzetting")
    talked = ev.opgevolgd("2026-01-08", "S1", actie="gesprek")
    for events in ([s1, s2, talked], [talked, s2, s1]):
        signal = only(rules, rule, events, "2026-01-20")
        assert signal.sleutel == "2026-01-05"
        assert signal.uitleg is not None and "S2" in signal.uitleg
    # both followed up: no signal; neither: one signal for the day (the first start's)
    both = [s1, s2, talked, ev.opgevolgd("2026-01-09", "S2", actie="gesprek")]
    assert signals_of(rules, rule, both, "2026-01-20") == []
    signal = only(rules, rule, [s1, s2], "2026-01-20")
    assert signal.uitleg is not None and "S1" in signal.uitleg
