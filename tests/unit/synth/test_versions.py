"""Planted iWmo corrections and deletions (record versions): the generator plants every kind,
deterministically; the written messages carry them as the standard does; the real adapter's
record keys and sequences resolve them to the same current facts as the generator; and some
of them decide whether a signal exists."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from schakel.synth import Municipality, build_municipality, versions
from schakel.synth.municipality import per_scenario
from schakel.synth.nearmiss import NEAR_MISSES
from schakel.synth.planted import GAPS
from schemas.envelope import Event, jsonable
from schemas.pseudonym import Pseudonymiser
from schemas.wire import VERWIJDERD
from streams.rules import RuleSet, load_rules

from .conftest import KEY
from .test_ground_truth import evaluate
from .test_native_files import read_source

VERSION_GAPS = ("r1-stop-gecorrigeerd", "r1-stop-verwijderd")
VERSION_NEAR_MISSES = ("nm-r1-stop-gecorrigeerd", "nm-r1-toewijzing-ingetrokken")
"""The scenarios whose signal a correction or deletion decides."""


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return load_rules(None)


def test_default_demo_seed_plants_every_kind() -> None:
    m = build_municipality(2000, 2026)
    assert versions.counts(m.facts) == {
        "correctie-wmo305": 29,
        "correctie-wmo307": 5,
        "verwijdering-wmo305": 2,
        "verwijdering-wmo307": 5,
        "intrekking-wmo301": 2,
    }
    assert versions.counts(m.facts) == versions.counts(build_municipality(2000, 2026).facts)


@pytest.mark.parametrize(("citizens", "seed"), [(1200, 11), (2000, 2026), (3000, 5)])
def test_every_kind_is_planted_per_scenario(citizens: int, seed: int) -> None:
    m = build_municipality(citizens, seed)
    copies = per_scenario(citizens)
    found = versions.counts(m.facts)
    # the planted scenarios alone: two 307 corrections, one 307 and one 305 deletion, one
    # 301 withdrawal per copy; wmo-basis adds background corrections and deletions
    assert found["correctie-wmo307"] >= 2 * copies
    assert found["verwijdering-wmo307"] >= copies
    assert found["verwijdering-wmo305"] >= copies
    assert found["intrekking-wmo301"] == copies
    assert found["correctie-wmo305"] >= 1
    by_profile = Counter(
        p.profiel for p in m.people for f in p.facts if versions.kind(f) is not None
    )
    assert set(by_profile) <= {*VERSION_GAPS, *VERSION_NEAR_MISSES, "wmo-basis"}


def test_written_messages_carry_the_versions(written: tuple[Path, dict[str, Any]]) -> None:
    directory, manifest = written
    statuses: Counter[tuple[str, str]] = Counter()
    withdrawn = 0
    for path in sorted((directory / "iwmo").glob("*.xml")):
        root = ET.parse(path).getroot()
        kind = path.name.split("_")[1]
        for element in root.iter():
            name = element.tag.rpartition("}")[2]
            if name == "StatusAanlevering":
                statuses[(kind, element.text or "")] += 1
            if name == "ToegewezenProduct":
                fields = {c.tag.rpartition("}")[2]: c.text for c in element}
                if fields.get("RedenWijziging") == "13":
                    assert fields["Einddatum"] == fields["Ingangsdatum"]
                    withdrawn += 1
    counted = manifest["correcties"]
    assert statuses[("WMO305", "2")] == counted["correctie-wmo305"] > 0
    assert statuses[("WMO307", "2")] == counted["correctie-wmo307"] > 0
    assert statuses[("WMO305", "3")] == counted["verwijdering-wmo305"] > 0
    assert statuses[("WMO307", "3")] == counted["verwijdering-wmo307"] > 0
    assert withdrawn == counted["intrekking-wmo301"] > 0
    assert manifest["gebeurtenissen_per_type"][VERWIJDERD] == (
        counted["verwijdering-wmo305"]
        + counted["verwijdering-wmo307"]
        + counted["intrekking-wmo301"]
    )


def _current(events: list[Event]) -> list[Event]:
    """The spec's resolution (``events.md``): per (source, bronsleutel) the highest
    ``sequence``, ties by the higher id; a current deletion removes the record."""
    records: dict[tuple[str, str], Event] = {}
    loose: list[Event] = []
    for event in events:
        if event.bronsleutel is None:
            loose.append(event)
            continue
        key = (event.source, event.bronsleutel)
        best = records.get(key)
        if best is None or (event.sequence or "", event.id) > (best.sequence or "", best.id):
            records[key] = event
    return loose + [e for e in records.values() if e.type != VERWIJDERD]


def test_adapter_versions_resolve_to_the_generators_current_facts(
    municipality: Municipality,
    written: tuple[Path, dict[str, Any]],
    tmp_path: Path,
) -> None:
    directory, manifest = written
    iwmo = next(s for s in manifest["bronnen"] if s["adapter"] == "iwmo")
    events, _ = read_source(directory, iwmo, tmp_path)
    assert sum(e.type == VERWIJDERD for e in events) > 0
    pseudonymise = Pseudonymiser(KEY)

    def fingerprint(subject: str | None, type_: str, data: dict[str, Any]) -> str:
        return json.dumps([subject, type_, jsonable(data)], sort_keys=True)

    got = Counter(
        fingerprint(e.subject, e.type, {k: v for k, v in e.data.items() if v is not None})
        for e in _current(events)
    )
    expected = Counter(
        fingerprint(pseudonymise(p.bsn), f.type, {"datum": f.datum, **f.data})
        for p in municipality.people
        for f in versions.current(p.facts)
        if f.type in (versions.TOEGEWEZEN, versions.GESTART, versions.GESTOPT)
    )
    assert got == expected


def test_some_versions_decide_whether_a_signal_exists(
    municipality: Municipality, rules: RuleSet
) -> None:
    now = evaluate(municipality, rules, versions.current)
    before = evaluate(municipality, rules, versions.first_deliveries)
    profiles = {p.pid: p.profiel for p in municipality.people}
    flipped = {key[0] for key in set(now) ^ set(before)} | {
        key[0] for key in set(now) & set(before) if now[key] != before[key]
    }
    assert sorted(profiles[pid] for pid in flipped) == sorted([*VERSION_GAPS, *VERSION_NEAR_MISSES])
    planted = {(p.persoon, p.regel, p.sleutel) for p in municipality.planted}
    for key in now.keys() - before.keys():
        assert profiles[key[0]] in VERSION_GAPS and key in planted
    for key in before.keys() - now.keys():
        assert profiles[key[0]] in VERSION_NEAR_MISSES
    assert all(name in GAPS for name in VERSION_GAPS)
    assert all(name in NEAR_MISSES for name in VERSION_NEAR_MISSES)


def test_a_version_is_always_strictly_later(municipality: Municipality) -> None:
    for person in municipality.people:
        records: dict[tuple[str, ...], list[Any]] = {}
        for fact in person.facts:
            records.setdefault(versions.record_key(fact), []).append(fact)
        for facts in records.values():
            keys = [versions.order(f) for f in facts]
            days = [k[0] for k in keys]
            assert len(set(days)) == len(days), "two versions of one record on one day"
