"""vroegsignalering: golden mapping of signals and actions, amounts, file recognition."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from adapters.base import Record, derive_id
from adapters.exceptions import AdapterError
from adapters.runner import plain
from adapters.vroegsignalering import ACTIES, SIGNALEN, VroegsignaleringSource
from tests.unit.adapters.conftest import BAD, SAMPLES, SOURCE, events, outcomes

D = SAMPLES / "vroegsignalering"
ONTVANGEN = "nl.wgs.vroegsignalen.ontvangen"
OPGEVOLGD = "nl.wgs.vroegsignalen.opgevolgd"


def source(*paths: Path) -> VroegsignaleringSource:
    return VroegsignaleringSource(list(paths), source=SOURCE)


def ce(event_id: str, event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": event_id,
        "source": SOURCE,
        "type": event_type,
        "data": data,
    }


def signaal(signaal_id: str, bsn: str, partner: str, *rest: Any) -> dict[str, Any]:
    datum, cent, dagen, dreiging = rest
    return ce(
        derive_id(SOURCE, "signaal", signaal_id),
        ONTVANGEN,
        {
            "bsn": bsn,
            "datum": datum,
            "signaal_id": signaal_id,
            "partner": partner,
            "bedrag_cent": cent,
            "dagen_achterstand": dagen,
            "dreiging": dreiging,
        },
    )


def actie(signaal_id: str, bsn: str, datum: str, what: str) -> dict[str, Any]:
    return ce(
        derive_id(SOURCE, "actie", signaal_id, datum, what),
        OPGEVOLGD,
        {"bsn": bsn, "datum": datum, "signaal_id": signaal_id, "actie": what},
    )


EXPECTED_SIGNALEN = [
    signaal(
        "VS-2026-0001", "999990032", "woningcorporatie", "2026-02-02", 123456, 62, "huisuitzetting"
    ),
    signaal("VS-2026-0002", "999990044", "energie", "2026-02-05", 41230, 45, "geen"),
    signaal("VS-2026-0003", "999990056", "zorgverzekeraar", "2026-02-10", 18600, 120, "geen"),
]
EXPECTED_ACTIES = [
    actie("VS-2026-0002", "999990044", "2026-02-09", "contactpoging"),
    actie("VS-2026-0002", "999990044", "2026-02-16", "gesprek"),
    actie("VS-2026-0003", "999990056", "2026-02-12", "contactpoging"),
]


def test_golden_mapping_of_both_exports() -> None:
    got = events(source(D / "signalen.csv", D / "acties.csv").records({}))
    assert got == EXPECTED_SIGNALEN + EXPECTED_ACTIES
    assert {r for _, r in outcomes(source(D / "signalen.csv", D / "acties.csv").records({}))} == {
        "ok"
    }


def test_either_file_alone_and_recognised_by_header() -> None:
    assert events(source(D / "signalen.csv").records({})) == EXPECTED_SIGNALEN
    assert events(source(D / "acties.csv").records({})) == EXPECTED_ACTIES
    assert (
        events(source(D / "acties.csv", D / "signalen.csv").records({}))
        == EXPECTED_ACTIES + EXPECTED_SIGNALEN
    )


def test_bad_amounts_and_duplicates() -> None:
    d = BAD / "vroegsignalering"
    got = outcomes(source(d / "bad-amount.csv", d / "duplicate.csv").records({}), base=d)
    assert got == [
        ("bad-amount.csv:2 bedrag", "bad-amount"),
        ("bad-amount.csv:3 bedrag", "bad-amount"),
        ("bad-amount.csv:4 bedrag", "bad-amount"),
        ("bad-amount.csv:5", "ok"),
        ("duplicate.csv:2", "ok"),
        ("duplicate.csv:3", "duplicate"),
    ]
    messages = [str(r.rejection) for r in source(d / "bad-amount.csv").records({}) if r.rejection]
    assert messages[0].startswith("column bedrag: ambiguous amount")
    assert not any("12.34" in m for m in messages)
    assert not any("twaalf" in m for m in messages)


def test_unknown_header_names_both_layouts(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("signaal_id;bsn;datum\nS-1;999990111;2026-01-01\n")
    (record,) = source(path).records({})
    assert record.rejection is not None
    assert record.rejection.reason == "columns"
    assert f"{SIGNALEN.header} or {ACTIES.header}" in str(record.rejection)


def test_required_cells_and_unknown_enums(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text(
        "signaal_id;bsn;partner;datum_signaal;bedrag;dagen_achterstand;dreiging\n"
        "S-1;999990111;;2026-01-01;10,00;3;geen\n"
        "S-2;999990111;telecom;2026-01-01;10,00;3;geen\n"
        "S-3;999990111;water;2026-01-01;10,00;drie;geen\n"
        ";999990111;water;2026-01-01;10,00;3;geen\n"
    )
    assert outcomes(source(path).records({}), base=tmp_path) == [
        ("s.csv:2 partner", "missing-field"),
        ("s.csv:3", "unknown-value"),
        ("s.csv:4 dagen_achterstand", "bad-number"),
        ("s.csv:5 signaal_id", "missing-field"),
    ]


def test_cursor_covers_both_files() -> None:
    records = list(source(D / "signalen.csv", D / "acties.csv").records({}))
    last_signal = plain(records[2].cursor)
    assert set(last_signal["files"]) == {str(D / "signalen.csv")}
    rest = events(source(D / "signalen.csv", D / "acties.csv").records(last_signal))
    assert rest == EXPECTED_ACTIES


def test_a_missing_export_is_a_failure_after_the_other_is_read(tmp_path: Path) -> None:
    """Review F: the actions export not delivered (given first here) stopped the source before
    the signals were read; they are now read, and then the failure names the missing file."""
    missing = tmp_path / "acties.csv"
    records = source(missing, D / "signalen.csv").records({})
    got: list[Record] = []
    with pytest.raises(AdapterError, match=f"cannot open {missing}: No such file"):
        got.extend(records)
    assert events(got) == EXPECTED_SIGNALEN
