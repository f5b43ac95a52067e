"""Record versions from the other sources (events.md "Corrections and deletions"; issue 12
item 4): the outbox maps ``operatie`` and ``bronsleutel`` to versions with the outbox id as
``sequence``; JSON lines (and the webhook, which validates the same way) pass ``bronsleutel``
and ``sequence`` through as CloudEvents extension attributes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from adapters.exceptions import Rejection
from adapters.jsonlines import JsonLinesSource
from adapters.outbox import versioned_row
from adapters.sociale_dienst import SocialeDienstSource
from schemas.wire import DEFAULT_WIRE, VERWIJDERD
from tests.unit.adapters.conftest import SOURCE, make_harness

BSN = "999990020"


def casus(event_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": event_id,
        "source": "urn:nld:oin:00000001234567890000:systeem:wijkteam",
        "type": "nl.wijkteams.casussen.geopend",
        "data": {"bsn": BSN, "datum": "2026-02-01", "casus_id": "C-1"},
        **extra,
    }


def test_an_outbox_row_without_key_is_its_own_record() -> None:
    assert versioned_row(7, casus("e-1")) == casus("e-1")
    assert versioned_row(7, casus("e-1", operatie="insert")) == casus("e-1")


def test_an_outbox_insert_or_update_is_a_version_ordered_by_the_outbox_id() -> None:
    first = versioned_row(9, casus("e-1", operatie="insert", bronsleutel="casus-C-1"))
    later = versioned_row(10, casus("e-2", operatie="update", bronsleutel="casus-C-1"))
    assert first["sequence"] == "00000000000000000009"
    assert later["sequence"] == "00000000000000000010" > first["sequence"]  # 10 after 9
    assert "operatie" not in later and later["type"] == "nl.wijkteams.casussen.geopend"


def test_an_outbox_delete_becomes_verwijderd_on_the_domain_topic() -> None:
    gone = versioned_row(11, casus("e-3", operatie="delete", bronsleutel="casus-C-1"))
    assert gone["type"] == VERWIJDERD and gone["domein"] == "wijkteams"
    assert gone["data"] == {"bsn": BSN, "datum": "2026-02-01"}
    assert gone["sequence"] == "00000000000000000011"


@pytest.mark.parametrize(
    ("extra", "reason", "names"),
    [
        ({"operatie": "upsert", "bronsleutel": "k"}, "unknown-value", "event.operatie"),
        ({"operatie": "update"}, "missing-field", "event.bronsleutel"),
        ({"operatie": "delete"}, "missing-field", "event.bronsleutel"),
    ],
)
def test_outbox_operations_that_cannot_be_versions_are_rejected_with_the_rule(
    extra: dict[str, Any], reason: str, names: str
) -> None:
    with pytest.raises(Rejection) as info:
        versioned_row(3, casus("e-1", **extra))
    assert info.value.reason == reason and str(info.value).startswith(names)


def test_json_lines_pass_bronsleutel_and_sequence_and_deletions_through(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    lines = [
        casus("e-1", bronsleutel="casus-C-1", sequence="0001"),
        casus("e-2", bronsleutel="casus-C-1", sequence="0002"),
        {
            **casus("e-3", bronsleutel="casus-C-1", sequence="0003", domein="wijkteams"),
            "type": VERWIJDERD,
        },
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    hx = make_harness(JsonLinesSource([path]), tmp_path)
    stats = hx.runner.run_once()
    assert (stats.published, stats.rejected) == (3, 0)
    published = hx.publisher.acked
    assert [(e.bronsleutel, e.sequence) for e in published] == [
        ("casus-C-1", "0001"),
        ("casus-C-1", "0002"),
        ("casus-C-1", "0003"),
    ]
    assert published[2].type == VERWIJDERD
    assert DEFAULT_WIRE.topic_for(VERWIJDERD, published[2].domein) == "schakel.wijkteam.events"


HEADER = "bsn;gebeurtenis;datum;regeling;reden;uitkomst;trede;van;traject_id;soort;uren_per_week"


def export(path: Path, rows: list[str], *, versie: bool) -> Path:
    columns = HEADER + ";registratie_id" + (";versie" if versie else "")
    path.write_text("\n".join([columns, *rows]) + "\n", encoding="utf-8")
    return path


def test_a_versioned_csv_export_makes_a_changed_row_a_new_version(tmp_path: Path) -> None:
    row = f"{BSN};aanvraag-afgewezen;2026-02-01;;overig;;;;;;;PW-7"
    changed = f"{BSN};aanvraag-afgewezen;2026-02-09;;geen-recht;;;;;;;PW-7"
    first = export(tmp_path / "a.csv", [row + ";1"], versie=True)
    second = export(tmp_path / "b.csv", [changed + ";2", row + ";"], versie=True)
    hx = make_harness(SocialeDienstSource([first, second], source=SOURCE), tmp_path)
    stats = hx.runner.run_once()
    assert (stats.published, stats.rejected) == (2, 1)  # the row without versie is rejected
    old, new = hx.publisher.acked
    assert old.bronsleutel == new.bronsleutel and old.id != new.id
    assert (old.sequence, new.sequence) == ("0000000001", "0000000002")
    assert "PW-7" not in (old.bronsleutel or "")  # a digest of the row id, not the row id
    assert [r[1] for r in hx.rejected] == ["missing-field"]


def test_without_a_version_column_a_re_exported_row_keeps_its_id(tmp_path: Path) -> None:
    row = f"{BSN};aanvraag-afgewezen;2026-02-01;;overig;;;;;;;PW-7"
    changed = f"{BSN};aanvraag-afgewezen;2026-02-09;;geen-recht;;;;;;;PW-7"
    first = export(tmp_path / "a.csv", [row], versie=False)
    second = export(tmp_path / "b.csv", [changed], versie=False)
    hx = make_harness(SocialeDienstSource([first, second], source=SOURCE), tmp_path)
    hx.runner.run_once()
    old, new = hx.publisher.acked
    assert old.id == new.id  # the first accepted copy wins downstream
    assert old.bronsleutel == new.bronsleutel is not None
    assert old.sequence == new.sequence == "0000000000"


def test_an_export_that_adds_versie_later_supersedes_the_rows_read_before(
    tmp_path: Path,
) -> None:
    """A municipality turns corrections on after go-live: night 1 without ``versie``, night 2
    with it. The corrected row replaces the earlier one in the timeline (before, both stayed:
    the earlier row had no ``bronsleutel`` and was its own record for good)."""
    from streams.ingest import to_timeline_event
    from streams.versions import timeline_of

    row = f"{BSN};uitkering-toegekend;2026-01-05;bijstand;;;;;;;;R-1"
    changed = f"{BSN};uitkering-toegekend;2026-01-10;bijstand;;;;;;;;R-1"
    night1 = export(tmp_path / "a.csv", [row], versie=False)
    night2 = export(tmp_path / "b.csv", [changed + ";2"], versie=True)
    hx = make_harness(SocialeDienstSource([night1, night2], source=SOURCE), tmp_path)
    hx.runner.run_once()
    events = [to_timeline_event(e) for e in hx.publisher.acked]  # as the worker reads them
    assert len(events) == 2
    (current,) = timeline_of(events)
    assert str(current.datum) == "2026-01-10"


@pytest.mark.parametrize("versie", ["999990111", "9999.90.111"])
def test_a_versie_that_holds_a_bsn_is_rejected_before_it_is_padded(
    tmp_path: Path, versie: str
) -> None:
    """Zero-padded to 10 digits, 999990111 would be published as 0999990111 in ``sequence``
    and ``ce_sequence``, where the check of the published value does not find it."""
    row = f"{BSN};aanvraag-afgewezen;2026-02-01;;overig;;;;;;;PW-7"
    path = export(tmp_path / "a.csv", [f"{row};{versie}", f"{row};2"], versie=True)
    hx = make_harness(SocialeDienstSource([path], source=SOURCE), tmp_path)
    stats = hx.runner.run_once()
    assert (stats.published, stats.by_reason) == (1, {"bsn-in-identifier": 1})
    assert [e.sequence for e in hx.publisher.acked] == ["0000000002"]
    (entry,) = [json.loads(line) for line in hx.quarantine_lines()]
    assert entry["locatie"].endswith("a.csv:2 versie")
    assert entry["melding"].startswith("column versie: holds a number that passes the BSN")
    assert "999990111" not in json.dumps(entry)
