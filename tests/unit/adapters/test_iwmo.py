"""iWmo 3.2: golden mapping, hardened parsing, versions, per-product rejection, cursor."""

from __future__ import annotations

import os
import shutil
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from adapters.base import derive_id
from adapters.iwmo import IwmoSource
from adapters.runner import plain
from tests.unit.adapters.conftest import BAD, SAMPLES, SOURCE, events, outcomes

D = SAMPLES / "iwmo"
MAX = 10_485_760
TOEGEWEZEN = "nl.wmo.voorzieningen.toegewezen"
GESTART = "nl.wmo.voorzieningen.gestart"
GESTOPT = "nl.wmo.voorzieningen.gestopt"


def source(path: Path, max_bytes: int = MAX) -> IwmoSource:
    return IwmoSource(path, source=SOURCE, max_bytes=max_bytes)


def ce(ident: tuple[str, ...], event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": derive_id(SOURCE, *ident),
        "source": SOURCE,
        "type": event_type,
        "data": data,
    }


GOLDEN = [
    ce(
        ("9999", "TW-2025-0004", "2025-09-01", "414", "25000412", "02A01"),
        TOEGEWEZEN,
        {
            "bsn": "999990093",
            "toewijzing_nummer": "25000412",
            "productcategorie": "02",
            "datum": "2025-09-01",
            "ingangsdatum": "2025-09-08",
            "einddatum": "2026-08-31",
        },
    ),
    ce(
        ("9999", "TW-2026-0003", "2026-01-05", "414", "26000031", "07A02"),
        TOEGEWEZEN,
        {
            "bsn": "999990068",
            "toewijzing_nummer": "26000031",
            "productcategorie": "07",
            "datum": "2026-01-05",
            "ingangsdatum": "2026-01-06",
        },
    ),
    ce(
        ("9999", "TW-2026-0001", "2026-01-08", "414", "26000011", "02A03"),
        TOEGEWEZEN,
        {
            "bsn": "999990019",
            "toewijzing_nummer": "26000011",
            "productcategorie": "02",
            "datum": "2026-01-08",
            "ingangsdatum": "2026-01-10",
            "einddatum": "2026-12-31",
        },
    ),
    ce(
        ("9999", "TW-2026-0002", "2026-01-20", "414", "26000021", "01A01"),
        TOEGEWEZEN,
        {
            "bsn": "999990056",
            "toewijzing_nummer": "26000021",
            "productcategorie": "01",
            "datum": "2026-01-20",
            "ingangsdatum": "2026-01-22",
        },
    ),
    ce(
        ("9999", "TW-2026-0002", "2026-01-20", "414", "26000022", ""),
        TOEGEWEZEN,
        {
            "bsn": "999990056",
            "toewijzing_nummer": "26000022",
            "productcategorie": "02",
            "datum": "2026-01-20",
            "ingangsdatum": "2026-01-22",
            "einddatum": "2026-07-21",
        },
    ),
    ce(
        ("98765432", "SZ-000871", "2026-01-23", "418", "26000021", "01A01"),
        GESTART,
        {
            "bsn": "999990056",
            "toewijzing_nummer": "26000021",
            "productcategorie": "01",
            "datum": "2026-01-22",
        },
    ),
    ce(
        ("98765432", "SZ-000871", "2026-01-23", "418", "26000022", ""),
        GESTART,
        {
            "bsn": "999990056",
            "toewijzing_nummer": "26000022",
            "productcategorie": "02",
            "datum": "2026-01-23",
        },
    ),
    ce(
        ("98765432", "SZ-000912", "2026-03-02", "420", "25000412", "02A01"),
        GESTOPT,
        {
            "bsn": "999990093",
            "toewijzing_nummer": "25000412",
            "productcategorie": "02",
            "datum": "2026-02-28",
            "reden_beeindiging": "19",
        },
    ),
]


def test_golden_mapping_of_the_sample_messages() -> None:
    assert events(source(D).records({})) == GOLDEN
    assert {r for _, r in outcomes(source(D).records({}))} == {"ok"}


def test_every_rejection_kind() -> None:
    got = outcomes(source(BAD / "iwmo").records({}), base=BAD / "iwmo")
    product = "Bericht/Client/ToegewezenProducten/ToegewezenProduct"
    assert got == [
        (f"bad-bsn.xml {product}[1]", "bsn"),
        (f"badly-formatted-date.xml {product}[1]", "bad-date"),
        ("billion-laughs.xml", "dtd-forbidden"),
        ("external-dtd.xml", "dtd-forbidden"),
        (f"impossible-date.xml {product}[1]", "bad-date"),
        ("malformed.xml", "malformed"),
        (f"missing-element.xml {product}[1]", "ok"),
        (f"missing-element.xml {product}[2]/Ingangsdatum", "missing-field"),
        (f"missing-element.xml {product}[3]", "ok"),
        ("no-namespace.xml", "wrong-version"),
        # the catalogue's iwmo-code check reports a code out of range (01–18)
        (f"unknown-code.xml {product}[1]", got[10][1]),
        ("unsupported-message.xml", "unsupported-message"),
        ("wrong-release.xml", "wrong-version"),
        ("wrong-subversie.xml Bericht/Header/BerichtVersie", "wrong-version"),
        ("xxe.xml", "dtd-forbidden"),
    ]
    assert got[10][1] in {"invalid", "unknown-value", "out-of-range"}


def test_rejection_messages() -> None:
    by_file = {
        Path(r.location.file).name: str(r.rejection)
        for r in source(BAD / "iwmo").records({})
        if r.rejection is not None
    }
    assert by_file["wrong-release.xml"].startswith("iWmo release 3.1 is not supported")
    assert "3.1 is not supported" in by_file["wrong-subversie.xml"]
    assert by_file["missing-element.xml"] == (
        "Bericht/Client/ToegewezenProducten/ToegewezenProduct[2]/Ingangsdatum: "
        "required element is missing or empty"
    )
    assert by_file["malformed.xml"].startswith("not well-formed XML (line 13")
    assert "WMO302" in by_file["unsupported-message.xml"]


def test_no_entity_is_expanded_and_nothing_is_fetched(tmp_path: Path) -> None:
    """The XXE sample refers to /etc/passwd; the external DTD to a closed port: both are
    refused before any resolution (a fetch would hang or leak file content)."""
    for name in ("xxe.xml", "external-dtd.xml", "billion-laughs.xml"):
        (record,) = source(BAD / "iwmo" / name).records({})
        assert record.event is None
        assert record.rejection is not None
        assert "root:" not in str(record.rejection)


def test_missing_header_elements_and_bsn(tmp_path: Path) -> None:
    text = (D / "2026-01-08_WMO301_0001.xml").read_text()
    cases = {
        "no-bsn.xml": (
            text.replace("<WMO301:Bsn>999990019</WMO301:Bsn>", ""),
            "Bericht/Client/Bsn",
        ),
        "no-afzender.xml": (
            text.replace("<WMO301:Afzender>9999</WMO301:Afzender>", ""),
            "Bericht/Header/Afzender",
        ),
        "no-ident.xml": (
            text.replace("<WMO301:Identificatie>TW-2026-0001</WMO301:Identificatie>", ""),
            "Bericht/Header/BerichtIdentificatie/Identificatie",
        ),
        "no-products.xml": (
            text.split("<WMO301:ToegewezenProducten>")[0] + "</WMO301:Client></WMO301:Bericht>",
            "Bericht/Client/ToegewezenProducten/ToegewezenProduct",
        ),
    }
    for name, (content, path) in cases.items():
        (tmp_path / name).write_text(content)
        (record,) = source(tmp_path / name).records({})
        assert record.rejection is not None, name
        assert record.rejection.reason == "missing-field"
        assert record.location.path == path


def test_code_must_match_the_namespace(tmp_path: Path) -> None:
    text = (D / "2026-01-08_WMO301_0001.xml").read_text().replace(">414<", ">418<")
    (tmp_path / "m.xml").write_text(text)
    (record,) = source(tmp_path / "m.xml").records({})
    assert record.rejection is not None
    assert record.rejection.reason == "unknown-value"
    assert "expected 414" in str(record.rejection)


def test_elements_in_the_basisschema_namespace_are_accepted(tmp_path: Path) -> None:
    basis = "http://www.istandaarden.nl/iwmo/3_2/basisschema/schema"
    text = (D / "2026-01-08_WMO301_0001.xml").read_text()
    text = text.replace(
        "<WMO301:Bsn>999990019</WMO301:Bsn>", f'<ist:Bsn xmlns:ist="{basis}">999990019</ist:Bsn>'
    )
    (tmp_path / "m.xml").write_text(text)
    assert events(source(tmp_path / "m.xml").records({}))[0]["data"]["bsn"] == "999990019"


def test_elements_in_a_foreign_namespace_are_not_read(tmp_path: Path) -> None:
    text = (D / "2026-01-08_WMO301_0001.xml").read_text()
    text = text.replace(
        "<WMO301:Bsn>999990019</WMO301:Bsn>", '<x:Bsn xmlns:x="urn:other">999990019</x:Bsn>'
    )
    (tmp_path / "m.xml").write_text(text)
    (record,) = source(tmp_path / "m.xml").records({})
    assert record.rejection is not None
    assert record.location.path == "Bericht/Client/Bsn"


def _copy_samples(tmp_path: Path) -> Path:
    d = tmp_path / "in"
    shutil.copytree(D, d)
    return d


def test_cursor_marks_a_file_only_after_its_last_product(tmp_path: Path) -> None:
    d = _copy_samples(tmp_path)
    records = list(source(d).records({}))
    two_products = [r for r in records if "0002" in r.location.file and "WMO301" in r.location.file]
    first, last = two_products
    assert "2026-01-20_WMO301_0002.xml" not in plain(first.cursor)["files"]
    assert "2026-01-20_WMO301_0002.xml" in plain(last.cursor)["files"]
    again = list(source(d).records(plain(first.cursor)))
    assert again[0].location.file.endswith("2026-01-20_WMO301_0002.xml")
    assert len(again) == len(records) - 3


def test_processed_files_are_skipped_changed_files_read_again_removed_pruned(
    tmp_path: Path,
) -> None:
    d = _copy_samples(tmp_path)
    records = list(source(d).records({}))
    cursor = plain(records[-1].cursor)
    assert sorted(cursor["files"]) == sorted(p.name for p in d.iterdir())
    assert list(source(d).records(cursor)) == []
    # touched, unchanged content: not read again
    target = d / "2026-01-08_WMO301_0001.xml"
    os.utime(target, ns=(1, 1))
    assert list(source(d).records(cursor)) == []
    # changed content: read again, same ids for the same products
    target.write_text(target.read_text().replace("Beukenlaan", "Eikenlaan"))
    (again,) = source(d).records(cursor)
    assert again.event == GOLDEN[2]
    # removed files leave the cursor
    (d / "2025-09-01_WMO301_0004.xml").unlink()
    new = list(source(d).records(plain(again.cursor)))
    assert new == []
    only = source(d)
    (last,) = [r for r in only.records({}) if "WMO307" in r.location.file]
    assert "2025-09-01_WMO301_0004.xml" not in plain(last.cursor)["files"]


def test_other_files_are_ignored(tmp_path: Path) -> None:
    d = tmp_path / "in"
    d.mkdir()
    (d / "README.txt").write_text("not a message")
    (d / ".partial.xml").write_text("<half")
    shutil.copy(D / "2026-01-08_WMO301_0001.xml", d / "a.XML")
    assert len(list(source(d).records({}))) == 1


def test_large_file_is_quarantined_without_being_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "huge.xml"
    text = (D / "2026-01-08_WMO301_0001.xml").read_text()
    head, tail = text.split("<WMO301:Commentaar>", 1)
    with path.open("w") as handle:
        handle.write(head + "<WMO301:Commentaar>")
        for _ in range(400):
            handle.write("x" * 65_536)
        handle.write(tail)
    tracemalloc.start()
    try:
        (record,) = source(path, max_bytes=1_048_576).records({})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert record.rejection is not None
    assert record.rejection.reason == "too-large"
    assert "1048576" in str(record.rejection)
    assert record.digest is not None
    assert peak < 2_000_000  # the 26 MB file was hashed in chunks, never held


def test_unreadable_directory_is_a_source_failure(tmp_path: Path) -> None:
    from adapters.exceptions import AdapterError

    with pytest.raises(AdapterError, match="cannot list"):
        list(source(tmp_path / "absent").records({}))
