"""The native files parse with the real adapters' sources into exactly the generated facts,
and the deliberately bad records are rejected (the outbox rows through the generic JSON-lines
source here; through PostgreSQL and the outbox adapter in tests/e2e/test_demo.py)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from adapters.registry import open_source
from schakel.synth import Municipality, versions
from schakel.synth.model import Fact
from schemas.envelope import Event, jsonable, validate_input
from schemas.exceptions import InvalidEvent
from schemas.pseudonym import Pseudonymiser
from schemas.settings import load_settings

from .conftest import KEY

Fingerprint = tuple[str | None, str, str]


def fingerprint(event: Event) -> Fingerprint:
    """What must survive the round trip: who, what type, which data (ids differ)."""
    data = {k: v for k, v in event.data.items() if v is not None}
    return event.subject, event.type, json.dumps(jsonable(data), sort_keys=True)


def read_source(
    directory: Path,
    source: dict[str, Any],
    tmp: Path,
) -> tuple[list[Event], Counter[str]]:
    """Every record of one manifest source through its adapter's source and validation."""
    name, spec = source["adapter"], source["spec"]
    if name == "outbox":
        rows = (directory / spec).read_text(encoding="utf-8").splitlines()
        events_file = tmp / "outbox-events.jsonl"
        events_file.write_text(
            "".join(json.dumps(json.loads(r)["event"]) + "\n" for r in rows), encoding="utf-8"
        )
        name, spec = "publish", str(events_file)
    else:
        spec = ",".join(str(directory / part) for part in spec.split(","))
    pseudonymise = Pseudonymiser(KEY)
    accepted: list[Event] = []
    rejected: Counter[str] = Counter()
    source_ = open_source(name, spec, load_settings(), pseudonymiser=pseudonymise)
    try:
        for record in source_.records({}):
            if record.rejection is not None:
                rejected[record.rejection.reason] += 1
                continue
            try:
                accepted.append(validate_input(record.event, pseudonymise))
            except InvalidEvent as exc:
                rejected[exc.reason] += 1
    finally:
        source_.close()
    return accepted, rejected


def withdrawal(fact: Fact) -> dict[str, Any] | None:
    """The data of the ``nl.schakel.bron.verwijderd`` a deletion becomes (``datum``: the day
    sent for a WMO305/307, the Toewijzingsdatum for a WMO301), else ``None``."""
    if not versions.is_deletion(fact):
        return None
    return {"datum": fact.native.get("verzonden", fact.datum)}


@pytest.fixture(scope="module")
def parsed(
    written: tuple[Path, dict[str, Any]],
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, tuple[list[Event], Counter[str]]]:
    directory, manifest = written
    tmp = tmp_path_factory.mktemp("parsed")
    return {s["adapter"]: read_source(directory, s, tmp) for s in manifest["bronnen"]}


def test_every_source_is_in_the_manifest(written: tuple[Path, dict[str, Any]]) -> None:
    _, manifest = written
    adapters = [s["adapter"] for s in manifest["bronnen"]]
    assert adapters == ["iwmo", "sociale-dienst", "wijkteam", "vroegsignalering", "outbox"]


def test_counts_match_the_manifest(
    written: tuple[Path, dict[str, Any]], parsed: dict[str, tuple[list[Event], Counter[str]]]
) -> None:
    _, manifest = written
    for source in manifest["bronnen"]:
        accepted, rejected = parsed[source["adapter"]]
        assert len(accepted) == source["gebeurtenissen"], source["adapter"]
        assert sum(rejected.values()) == source["afgekeurd"] >= 3, source["adapter"]


def test_round_trip_gives_exactly_the_facts(
    municipality: Municipality,
    parsed: dict[str, tuple[list[Event], Counter[str]]],
) -> None:
    pseudonymise = Pseudonymiser(KEY)
    expected = {
        (
            pseudonymise(p.bsn),
            versions.published_type(f),
            json.dumps(jsonable(withdrawal(f) or {"datum": f.datum, **f.data}), sort_keys=True),
        )
        for p in municipality.people
        for f in p.facts
    }
    got = {fingerprint(e) for events, _ in parsed.values() for e in events}
    assert got == expected


def test_bad_records_are_rejected_for_the_right_reasons(
    parsed: dict[str, tuple[list[Event], Counter[str]]],
) -> None:
    reasons = {name: set(rejected) for name, (_, rejected) in parsed.items()}
    for name, found in reasons.items():
        assert "bsn" in found, name
        assert "bad-date" in found, name
    assert "wrong-version" in reasons["iwmo"]
    assert "bad-amount" in reasons["vroegsignalering"]
    assert "unknown-type" in reasons["outbox"]


def test_formats_are_as_real_exports_are(written: tuple[Path, dict[str, Any]]) -> None:
    directory, _ = written
    old = (directory / "sociale-dienst" / "participatiewet-tm-2025.csv").read_bytes()
    new = (directory / "sociale-dienst" / "participatiewet-2026.csv").read_bytes()
    assert b"\r\n" in old and not old.startswith(b"\xef\xbb\xbf")
    with pytest.raises(UnicodeDecodeError):
        old.decode("utf-8")
    assert old.decode("cp1252").count("\r\n") > 10
    assert new.startswith(b"\xef\xbb\xbf")
    signalen = (directory / "vroegsignalering" / "signalen.csv").read_text(encoding="utf-8")
    assert any(
        "." in row.split(";")[4] and "," in row.split(";")[4] for row in signalen.splitlines()[1:]
    )
    message = next((directory / "iwmo").glob("*_WMO301_*.xml")).read_text(encoding="utf-8")
    for element in (
        "http://www.istandaarden.nl/iwmo/3_2/wmo301/schema",
        "http://www.istandaarden.nl/iwmo/3_2/basisschema/schema",
        "<wmo301:Naam>",
        "<wmo301:Geboortedatum>",
        "<wmo301:Omvang>",
        "<wmo301:XsdVersie>",
    ):
        assert element in message


def test_no_personal_data_beyond_the_catalogue(
    municipality: Municipality, parsed: dict[str, tuple[list[Event], Counter[str]]]
) -> None:
    names = {p.identity.achternaam for p in municipality.people}
    for events, _ in parsed.values():
        for event in events:
            text = json.dumps(event.to_json())
            assert not any(f'"{name}"' in text for name in names)
            assert "bsn" not in event.data
