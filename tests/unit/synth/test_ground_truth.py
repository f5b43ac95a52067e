"""The planted signals cover every rule, agree exactly with the pure rule engine, and no
background citizen or near miss raises anything."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

import pytest

from schakel.synth import Municipality, build_municipality, versions
from schakel.synth.model import PERIOD_END, RULES, Fact, Person
from schakel.synth.nearmiss import NEAR_MISSES
from schakel.synth.planted import GAPS
from schakel.synth.truth import ground_truth
from schemas.envelope import jsonable, validate_input
from schemas.pseudonym import Pseudonymiser
from streams.ingest import to_timeline_event
from streams.model import Signal, TimelineEvent
from streams.rules import RuleSet, load_rules

KEY = "synth-test-key-0123456789abcdef01234"

Selection = Callable[[Iterable[Fact]], list[Fact]]


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return load_rules(None)


def timeline(
    person: Person, pseudonymise: Pseudonymiser, select: Selection = versions.current
) -> list[TimelineEvent]:
    """The person's facts as the pipeline sees them (validated catalogue events): by default
    the current version of every record (``events.md``, corrections and deletions)."""
    events = []
    for fact in select(person.facts):
        raw: dict[str, Any] = {
            "specversion": "1.0",
            "id": f"f{fact.seq}",
            "source": f"urn:test:{fact.domain}",
            "type": fact.type,
            "data": {"bsn": person.bsn, "datum": fact.datum.isoformat(), **jsonable(fact.data)},
        }
        events.append(to_timeline_event(validate_input(raw, pseudonymise)))
    return events


def evaluate(
    m: Municipality, rules: RuleSet, select: Selection = versions.current
) -> dict[tuple[str, str, str], Signal]:
    pseudonymise = Pseudonymiser(KEY)
    found = {}
    for person in m.people:
        events = timeline(person, pseudonymise, select)
        for signal in rules.evaluate(person.pid, events, PERIOD_END):
            found[(person.pid, signal.regel, signal.sleutel)] = signal
    return found


def test_every_rule_is_planted_open_and_resolved(municipality: Municipality) -> None:
    statuses = Counter((p.regel, p.status) for p in municipality.planted)
    for rule in RULES:
        assert statuses[(rule, "open")] >= 1, rule
        assert statuses[(rule, "opgelost")] >= 1, rule
    assert {n.regel for n in municipality.near_misses} == set(RULES)


def test_every_scenario_is_used_once_per_thousand(municipality: Municipality) -> None:
    profiles = Counter(p.profiel for p in municipality.people)
    for name in (*GAPS, *NEAR_MISSES):
        assert profiles[name] == 1, name
    assert len(municipality.people) == 1200


@pytest.mark.parametrize(("citizens", "seed"), [(1200, 11), (2000, 2026), (1000, 3)])
def test_engine_finds_exactly_the_planted_signals(citizens: int, seed: int, rules: RuleSet) -> None:
    m = build_municipality(citizens, seed)
    found = evaluate(m, rules)
    planted = {(p.persoon, p.regel, p.sleutel): p for p in m.planted}
    assert set(found) == set(planted), "precision or recall below 1.0 on the pure engine"
    for key, expected in planted.items():
        signal = found[key]
        assert (signal.sinds, signal.termijn, signal.status, signal.opgelost_op) == (
            expected.sinds,
            expected.termijn,
            expected.status,
            expected.opgelost_op,
        ), key


def test_near_misses_and_background_raise_nothing(
    municipality: Municipality, rules: RuleSet
) -> None:
    found = evaluate(municipality, rules)
    planted_people = {p.persoon for p in municipality.planted}
    assert not [key for key in found if key[0] not in planted_people]


def test_ground_truth_document(municipality: Municipality) -> None:
    truth = ground_truth(municipality, KEY)
    pseudonymise = Pseudonymiser(KEY)
    by_pid = {p.pid: p for p in municipality.people}
    assert truth["pseudoniemen"] is True
    assert len(truth["signalen"]) == len(municipality.planted)
    for entry in truth["signalen"]:
        assert entry["pseudoniem"] == pseudonymise(by_pid[entry["persoon"]].bsn)
        assert entry["status"] in ("open", "opgelost")
        assert (entry["opgelost_op"] is None) == (entry["status"] == "open")
        assert entry["sleutel"] == entry["sinds"] or entry["regel"] == RULES[2]
    bsns = {p.bsn for p in municipality.people}
    text = repr(truth)
    assert not any(number in text for number in bsns), "a BSN in the ground truth"
    without_key = ground_truth(municipality, None)
    assert without_key["pseudoniemen"] is False
    assert "pseudoniem" not in without_key["signalen"][0]


def test_planted_deadlines_lie_inside_the_period(municipality: Municipality) -> None:
    for planted in municipality.planted:
        assert planted.termijn is None or planted.termijn < PERIOD_END
        assert planted.opgelost_op is None or planted.opgelost_op <= PERIOD_END
