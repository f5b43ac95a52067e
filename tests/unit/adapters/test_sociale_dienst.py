"""sociale-dienst: golden mapping of the sample export and every rejection kind."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from adapters.base import derive_id
from adapters.sociale_dienst import COLUMNS, SocialeDienstSource
from tests.unit.adapters.conftest import (
    BAD,
    PSEUDONYMISER,
    SAMPLES,
    SOURCE,
    events,
    make_harness,
    outcomes,
)

HEADER = ";".join(COLUMNS) + "\n"


def source(*paths: Path) -> SocialeDienstSource:
    return SocialeDienstSource(list(paths), source=SOURCE)


def ce(registratie_id: str, event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": derive_id(SOURCE, registratie_id),
        "source": SOURCE,
        "type": event_type,
        "data": data,
        # every row a version of its record; an export without versie: the lowest sequence
        "bronsleutel": derive_id(SOURCE, registratie_id),
        "sequence": "0000000000",
    }


P = "nl.participatiewet."


def test_golden_mapping_of_the_sample_export() -> None:
    got = events(source(SAMPLES / "sociale-dienst" / "export.csv").records({}))
    assert got == [
        ce(
            "PW-2025-004711",
            P + "uitkeringen.toegekend",
            {"bsn": "999990019", "datum": "2025-11-01", "regeling": "bijstand"},
        ),
        ce(
            "PW-2026-000105",
            P + "arbeidsvermogen.vastgesteld",
            {"bsn": "999990019", "datum": "2026-01-05", "uitkomst": "gedeeltelijk", "trede": 3},
        ),
        ce(
            "PW-2026-000310",
            P + "aanvragen.afgewezen",
            {"bsn": "999990020", "datum": "2026-03-10", "reden": "zorg-passender"},
        ),
        ce(
            "PW-2026-000112",
            P + "uitkeringen.toegekend",
            {"bsn": "999990056", "datum": "2026-01-12", "regeling": "bijstand"},
        ),
        ce(
            "PW-2025-002201",
            P + "uitkeringen.toegekend",
            {"bsn": "999990081", "datum": "2025-06-01", "regeling": "bijstand"},
        ),
        ce(
            "PW-2026-000115",
            P + "uitkeringen.beeindigd",
            {"bsn": "999990081", "datum": "2026-01-15", "reden": "werk"},
        ),
        ce(
            "PW-2026-000401",
            P + "uitkeringen.toegekend",
            {"bsn": "999990081", "datum": "2026-04-01", "regeling": "bijstand"},
        ),
        ce(
            "PW-2025-003901",
            P + "uitkeringen.toegekend",
            {"bsn": "999990093", "datum": "2025-10-01", "regeling": "ioaw"},
        ),
        ce(
            "PW-2026-000121",
            P + "verwijzingen.ontvangen",
            {"bsn": "999990093", "datum": "2026-01-21", "van": "wijkteam"},
        ),
        ce(
            "PW-2026-000201",
            P + "trajecten.gestart",
            {
                "bsn": "999990093",
                "datum": "2026-02-01",
                "traject_id": "TR-2026-0017",
                "soort": "re-integratie",
                "uren_per_week": 16.5,
            },
        ),
        ce(
            "PW-2026-000630",
            P + "trajecten.beeindigd",
            {
                "bsn": "999990093",
                "datum": "2026-06-30",
                "traject_id": "TR-2026-0017",
                "reden": "werk",
            },
        ),
    ]
    assert {
        r for _, r in outcomes(source(SAMPLES / "sociale-dienst" / "export.csv").records({}))
    } == {"ok"}


def test_irrelevant_columns_are_ignored_and_enums_case_insensitive(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text(
        HEADER
        + "999990111;Uitkering-Toegekend;2026-01-05;BIJSTAND;werk;geen;9;wmo;T-1;overig;x;R-1\n"
    )
    (event,) = events(source(path).records({}))
    assert event["type"] == P + "uitkeringen.toegekend"
    assert event["data"] == {"bsn": "999990111", "datum": "2026-01-05", "regeling": "bijstand"}


def test_reordered_header_columns_are_matched_by_name(tmp_path: Path) -> None:
    columns = HEADER.strip().split(";")
    path = tmp_path / "x.csv"
    path.write_text(
        ";".join(reversed(columns)) + "\nR-1;;;;;;;werk;;2026-01-05;uitkering-beeindigd;999990111\n"
    )
    (event,) = events(source(path).records({}))
    assert event["data"] == {"bsn": "999990111", "datum": "2026-01-05", "reden": "werk"}


def test_rejections_name_file_line_and_column() -> None:
    d = BAD / "sociale-dienst"
    got = outcomes(source(*sorted(d.glob("*.csv"))).records({}), base=d)
    assert got == [
        ("bad-bsn.csv:2", "bsn"),
        ("bad-bsn.csv:3", "bsn"),
        ("bad-date.csv:2 datum", "bad-date"),
        ("bad-date.csv:3 datum", "bad-date"),
        ("bad-date.csv:4", "ok"),
        ("duplicate.csv:2", "ok"),
        ("duplicate.csv:3", "duplicate"),
        ("duplicate.csv:4", "ok"),
        ("empty.csv", "empty-file"),
        ("undecodable.csv:2", "ok"),
        ("undecodable.csv:3", "encoding"),
        ("unknown-value.csv:2 gebeurtenis", "unknown-value"),
        ("unknown-value.csv:3", "unknown-value"),
        ("unknown-value.csv:4 trede", "bad-number"),
        ("utf16.csv", "encoding"),
        ("utf8-bom.csv:2", "ok"),
        ("windows-1252.csv:2", "ok"),
        ("wrong-columns.csv:2", "ok"),
        ("wrong-columns.csv:3", "columns"),
        ("wrong-columns.csv:4", "delimiter"),
        ("wrong-delimiter.csv:1", "delimiter"),
        ("wrong-header.csv:1", "columns"),
    ]


def test_rejection_messages_tell_what_to_fix_without_values() -> None:
    d = BAD / "sociale-dienst"
    messages = {
        str(r.location).replace(f"{d}/", ""): str(r.rejection)
        for r in source(*sorted(d.glob("*.csv"))).records({})
        if r.rejection is not None
    }
    assert messages["wrong-header.csv:1"] == (
        "line 1: the header does not match (missing: registratie_id); expected columns "
        "bsn;gebeurtenis;datum;regeling;reden;uitkomst;trede;van;traject_id;soort;"
        "uren_per_week;registratie_id or "  # or the export with a version column (issue 12)
        "bsn;gebeurtenis;datum;regeling;reden;uitkomst;trede;van;traject_id;soort;"
        "uren_per_week;registratie_id;versie"
    )
    assert messages["wrong-columns.csv:3"].startswith("line 3: 11 fields, expected 12 (bsn;")
    assert (
        messages["duplicate.csv:3"] == "line 3: registratie_id repeats line 2; the first row wins"
    )
    assert messages["empty.csv"] == "empty file"
    assert messages["bad-date.csv:2 datum"] == "column datum: not an existing calendar date"
    assert "2026/01/06" not in messages["bad-date.csv:3 datum"]
    assert "zeven" not in messages["unknown-value.csv:4 trede"]
    assert "uitkering-verhoogd" not in messages["unknown-value.csv:2 gebeurtenis"]


def test_a_header_rejection_keeps_what_is_wrong_within_the_stored_message(tmp_path: Path) -> None:
    """Stored messages are cut at 200 characters; the two expected headers of the export take
    more than that, so the part that says what is wrong (the missing columns, or extra ones)
    comes first — it used to come last and never reached the quarantine file."""
    path = tmp_path / "export.csv"
    header = ";".join(COLUMNS).replace("registratie_id", "regnr")
    path.write_text(f"{header}\n999990111;uitkering-toegekend;2026-01-05;bijstand;;;;;;;;R-1\n")
    hx = make_harness(source(path), tmp_path)
    hx.runner.run_once()
    [(where, reason, message)] = hx.rejected
    assert (where, reason) == (f"{path}:1", "columns")
    assert message.startswith("line 1: the header does not match (missing: registratie_id); ")
    path.write_text(";".join(COLUMNS) + ";bsn\n")
    hx = make_harness(source(path), tmp_path / "again")
    hx.runner.run_once()
    assert "(extra or repeated columns)" in hx.rejected[0][2]


def test_windows_1252_and_bom_decode_to_the_same_event() -> None:
    d = BAD / "sociale-dienst"
    (cp1252,) = events(source(d / "windows-1252.csv").records({}))
    (bom,) = events(source(d / "utf8-bom.csv").records({}))
    assert cp1252 == bom
    assert cp1252["data"]["traject_id"] == "TR-ré-01"
    assert cp1252["data"]["uren_per_week"] == 12.5


def test_rows_without_registratie_id_are_rejected(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text(HEADER + "999990111;uitkering-toegekend;2026-01-05;bijstand;;;;;;;;\n")
    (record,) = source(path).records({})
    assert record.rejection is not None
    assert record.rejection.reason == "missing-field"
    assert record.location.path == "registratie_id"


def test_header_only_file_is_a_valid_export_without_rows(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text(HEADER)
    assert list(source(path).records({})) == []


# --- a row id about the citizen (review-privacy) ------------------------------------------------
# A system that numbers its rows by citizen (``999990111-3``) used to get ``derive_id(source,
# registratie_id)`` as the event id and bronsleutel: a plain SHA-256 of the source URN (in the
# event) and the BSN, undone by trying the 10^8 numbers that pass the elfproef — the BSN tied
# to the event, its pseudonym and every signal whose bewijs names it.

ROW_BSN = "999990111"


def _row(registratie_id: str) -> str:
    return f"{ROW_BSN};uitkering-toegekend;2026-01-05;bijstand;;;;;;;;{registratie_id}"


def _published(tmp_path: Path, registratie_id: str, **kwargs: Any) -> Any:
    path = tmp_path / "export.csv"
    path.write_text(HEADER + _row(registratie_id) + "\n")
    hx = make_harness(SocialeDienstSource([path], source=SOURCE, **kwargs), tmp_path)
    return hx, hx.runner.run_once()


@pytest.mark.parametrize(
    "registratie_id",
    [f"{ROW_BSN}-3", ROW_BSN, "aanvraag/j.jansen@example.nl", "NL91ABNA0417164300"],
)
def test_a_row_id_about_the_citizen_is_not_published_as_a_plain_hash(
    tmp_path: Path, registratie_id: str
) -> None:
    hx, stats = _published(tmp_path, registratie_id, pseudonymiser=PSEUDONYMISER)
    assert stats.published == 1
    (event,) = hx.publisher.acked
    plain = derive_id(SOURCE, registratie_id)  # what anyone can compute without the key
    assert plain not in (event.id, event.bronsleutel)
    token = "rk-" + PSEUDONYMISER.token("registratie", registratie_id)
    assert (event.id, event.bronsleutel) == (derive_id(SOURCE, token), derive_id(SOURCE, token))


def test_a_row_id_about_the_citizen_keeps_its_versions_together(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    header = ";".join((*COLUMNS, "versie")) + "\n"
    path.write_text(header + _row(f"{ROW_BSN}-3") + ";1\n" + _row(f"{ROW_BSN}-3") + ";2\n")
    src = SocialeDienstSource([path], source=SOURCE, pseudonymiser=PSEUDONYMISER)
    hx = make_harness(src, tmp_path)
    assert hx.runner.run_once().published == 2
    first, second = hx.publisher.acked
    assert first.bronsleutel == second.bronsleutel and first.id != second.id
    assert derive_id(SOURCE, f"{ROW_BSN}-3", "1") != first.id


@pytest.mark.parametrize(
    ("registratie_id", "reason"),
    [(f"{ROW_BSN}-3", "bsn-in-identifier"), ("j.jansen@example.nl", "personal-data-in-identifier")],
)
def test_without_a_key_a_row_id_about_the_citizen_is_refused(
    tmp_path: Path, registratie_id: str, reason: str
) -> None:
    hx, stats = _published(tmp_path, registratie_id)
    assert (stats.published, stats.by_reason) == (0, {reason: 1})
    (entry,) = hx.quarantine_lines()
    assert "registratie_id" in entry and registratie_id not in entry


def test_an_ordinary_row_id_keeps_its_id(tmp_path: Path) -> None:
    hx, _ = _published(tmp_path, "PW-2025-004711", pseudonymiser=PSEUDONYMISER)
    (event,) = hx.publisher.acked
    assert event.id == derive_id(SOURCE, "PW-2025-004711")
