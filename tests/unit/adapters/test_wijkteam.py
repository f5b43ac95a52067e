"""wijkteam bulk load (JSON lines restricted to nl.wijkteams.*) and the JSON-lines fixes."""

from __future__ import annotations

import json
from pathlib import Path

from adapters.jsonlines import MAX_LINE_BYTES, JsonLinesSource
from adapters.wijkteam import WijkteamSource
from tests.unit.adapters.conftest import BAD, SAMPLES, events, outcomes

WT = "urn:nld:oin:00000001234567890000:systeem:wijkteam"


def test_golden_bulk_load_passes_events_unchanged() -> None:
    path = SAMPLES / "wijkteam" / "events.jsonl"
    expected = [json.loads(line) for line in path.read_text().splitlines()]
    got = events(WijkteamSource([path]).records({}))
    assert got == expected
    assert [e["type"] for e in got] == [
        "nl.wijkteams.casussen.geopend",
        "nl.wijkteams.regie.toegewezen",
        "nl.wijkteams.verwijzingen.gedaan",
        "nl.wijkteams.casussen.geopend",
        "nl.wijkteams.zrm.vastgesteld",
        "nl.wijkteams.verwijzingen.gedaan",
        "nl.wijkteams.casussen.gesloten",
    ]
    assert {r for _, r in outcomes(WijkteamSource([path]).records({}))} == {"ok"}


def test_other_domains_are_rejected_with_a_clear_reason() -> None:
    path = BAD / "wijkteam" / "other-type.jsonl"
    (record,) = WijkteamSource([path]).records({})
    assert record.event is None
    assert record.rejection is not None
    assert record.rejection.reason == "unknown-type"
    assert (
        str(record.rejection)
        == "type: only nl.wijkteams.* events are accepted from the wijkteam system"
    )
    assert record.location.line == 1


def test_unknown_wijkteam_types_are_left_to_the_catalogue(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    path.write_text(
        json.dumps(
            {"specversion": "1.0", "id": "1", "source": WT, "type": "nl.wijkteams.foo", "data": {}}
        )
        + "\n"
        + "[1, 2]\n{not json\n"
    )
    assert outcomes(WijkteamSource([path]).records({}), base=tmp_path) == [
        ("e.jsonl:1", "unknown-type"),
        ("e.jsonl:2", "malformed"),
        ("e.jsonl:3", "malformed"),
    ]


def test_over_long_line_is_one_rejection_and_the_next_line_is_read(tmp_path: Path) -> None:
    """Bug fix: the rest of an over-long line used to be read as a line of its own."""
    good = json.dumps(
        {
            "specversion": "1.0",
            "id": "2",
            "source": WT,
            "type": "nl.wijkteams.casussen.geopend",
            "data": {"bsn": "999990111", "datum": "2026-01-01", "casus_id": "C"},
        }
    )
    path = tmp_path / "e.jsonl"
    path.write_text('{"x": "' + "a" * (MAX_LINE_BYTES + 10) + '"}\n' + good + "\n")
    got = outcomes(JsonLinesSource([path]).records({}), base=tmp_path)
    assert got == [("e.jsonl:1", "too-large"), ("e.jsonl:2", "ok")]


def test_deeply_nested_json_is_malformed_not_a_crash(tmp_path: Path) -> None:
    """Bug fix: json.loads raises RecursionError on deep nesting."""
    path = tmp_path / "e.jsonl"
    path.write_text("[" * 200_000 + "]" * 200_000 + "\n")
    assert outcomes(JsonLinesSource([path]).records({}), base=tmp_path) == [
        ("e.jsonl:1", "malformed")
    ]
