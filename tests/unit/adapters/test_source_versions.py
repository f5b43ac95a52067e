"""Record versions from the other sources (events.md "Corrections and deletions"; issue 12
item 4): the outbox maps ``operatie`` and ``bronsleutel`` to versions with the outbox id as
``sequence``; JSON lines (and the webhook, which validates the same way) pass ``bronsleutel``
and ``sequence`` through as CloudEvents extension attributes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from adapters.base import Cursor, Record, Source
from adapters.exceptions import Rejection
from adapters.jsonlines import JsonLinesSource
from adapters.outbox import versioned_row
from adapters.sociale_dienst import SocialeDienstSource
from schemas.envelope import validate_input
from schemas.wire import DEFAULT_WIRE, VERWIJDERD
from tests.unit.adapters.conftest import PSEUDONYMISER, SOURCE, make_harness, outbox_record

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
    assert versioned_row(7, casus("e-1"), PSEUDONYMISER) == casus("e-1")
    assert versioned_row(7, casus("e-1", operatie="insert"), PSEUDONYMISER) == casus("e-1")


def test_an_outbox_insert_or_update_is_a_version_ordered_by_the_outbox_id() -> None:
    first = versioned_row(
        9, casus("e-1", operatie="insert", bronsleutel="casus-C-1"), PSEUDONYMISER
    )
    later = versioned_row(
        10, casus("e-2", operatie="update", bronsleutel="casus-C-1"), PSEUDONYMISER
    )
    assert first["sequence"] == "00000000000000000009"
    assert later["sequence"] == "00000000000000000010" > first["sequence"]  # 10 after 9
    assert "operatie" not in later and later["type"] == "nl.wijkteams.casussen.geopend"


def test_an_outbox_delete_becomes_verwijderd_on_the_domain_topic() -> None:
    gone = versioned_row(
        11, casus("e-3", operatie="delete", bronsleutel="casus-C-1"), PSEUDONYMISER
    )
    assert gone["type"] == VERWIJDERD and gone["domein"] == "wijkteams"
    assert gone["data"] == {"bsn": BSN, "datum": "2026-02-01"}
    assert gone["sequence"] == "00000000000000000011"


@pytest.mark.parametrize(
    "key",
    [
        "999990111/aanvraag-1",
        "999990111",
        "casus 9999 90 111",
        "aanvraag/j.jansen@example.nl",
        "schuld NL91ABNA0417164300",
    ],
)
def test_an_outbox_key_that_holds_personal_data_is_published_as_its_keyed_token(
    tmp_path: Path, key: str
) -> None:
    """Review A2 (events.md: "never a BSN or other personal data in clear: hash it with the
    pseudonym key when the source key contains one"): such rows were refused
    (``bsn-in-identifier``; with an e-mail address or IBAN they were published as they were).
    Every version of the record — insert, update, delete — carries the same token, and the
    key is published nowhere."""
    rows = [
        casus("e-1", operatie="insert", bronsleutel=key),
        casus("e-2", operatie="update", bronsleutel=key),
        casus("e-3", operatie="delete", bronsleutel=key),
    ]
    texts = [json.dumps(row) for row in rows]
    hx = make_harness(OutboxRows(texts), tmp_path)
    stats = hx.runner.run_once()
    assert (stats.published, stats.by_reason) == (3, {})
    token = "bk-" + PSEUDONYMISER.token("bronsleutel", key)
    assert [e.bronsleutel for e in hx.publisher.acked] == [token] * 3
    assert [e.type for e in hx.publisher.acked][-1] == VERWIJDERD
    for _, _, value in hx.publisher.raw:
        assert key.rsplit(maxsplit=1)[-1].rsplit("/", maxsplit=1)[-1].encode() not in value


def test_an_outbox_key_without_a_bsn_is_published_as_it_is() -> None:
    row = versioned_row(5, casus("e-1", bronsleutel="aanvraag-4711"), PSEUDONYMISER)
    assert row["bronsleutel"] == "aanvraag-4711"
    assert versioned_row(5, casus("e-1", bronsleutel=12), PSEUDONYMISER)["bronsleutel"] == 12


def test_an_outbox_event_without_time_gets_the_rows_created_at() -> None:
    """Review A3 (events.md: "an adapter that lacks it uses the moment it read the record"):
    the row's ``created_at`` is when the source registered the change, so reading the row
    again gives the same event (and the row's own id); only a row without one gets the
    moment it was read. A sender's ``time`` is kept."""
    row = casus("e-1")
    text = json.dumps(row)
    created = "2026-02-01T08:30:00.123456Z"
    first = outbox_record(4, text, created, wall=1_000.0).event
    again = outbox_record(4, text, created, wall=2_000.0).event
    assert first is not None and again is not None
    assert first == again and (first["id"], first["time"]) == ("e-1", created)
    assert validate_input(first, PSEUDONYMISER).time == created
    unknown = outbox_record(4, text, None, wall=1_767_225_600.0).event
    assert unknown is not None and unknown["time"] == "2026-01-01T00:00:00.000000+00:00"
    given = outbox_record(4, json.dumps(casus("e-2", time="2026-02-01T09:00:00+01:00")), created)
    assert given.event is not None and given.event["time"] == "2026-02-01T09:00:00+01:00"


class OutboxRows(Source):
    """Outbox rows as PostgreSQL hands them out (``event::text``), without a server."""

    name = "outbox"

    def __init__(self, texts: list[str]) -> None:
        self.texts = texts

    def records(self, cursor: Cursor) -> Iterator[Record]:
        for n, text in enumerate(self.texts, start=1):
            yield outbox_record(n, text)


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
        versioned_row(3, casus("e-1", **extra), PSEUDONYMISER)
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
