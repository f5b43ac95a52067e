"""iWmo 3.2: golden mapping of the samples, every rejection kind of samples/bad/iwmo with its
message, namespaces, cursor, size limit. (Rules of the standard: test_iwmo_rules.py; XSD
validity: test_iwmo_xsd.py; the official examples: test_iwmo_official.py.)"""

from __future__ import annotations

import json
import os
import shutil
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from adapters.iwmo import IwmoSource
from adapters.runner import plain
from tests.unit.adapters.conftest import (
    BAD,
    PSEUDONYMISER,
    SAMPLES,
    SOURCE,
    events,
    make_harness,
    outcomes,
)
from tests.unit.adapters.iwmo_support import expected_event, xsd_errors

D = SAMPLES / "iwmo"
MAX = 10_485_760
TOEGEWEZEN = "nl.wmo.voorzieningen.toegewezen"
GESTART = "nl.wmo.voorzieningen.gestart"
GESTOPT = "nl.wmo.voorzieningen.gestopt"


def source(path: Path, max_bytes: int = MAX) -> IwmoSource:
    return IwmoSource(path, source=SOURCE, max_bytes=max_bytes, pseudonymiser=PSEUDONYMISER)


def ce(ident: tuple[object, ...], event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    return expected_event(SOURCE, ident, event_type, data)


GOLDEN = [
    ce(
        ("9999", "TW-2025-0004", "2025-09-01", "414", 1, "25000412"),
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
        ("9999", "TW-2026-0003", "2026-01-05", "414", 1, "26000031"),
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
        ("9999", "TW-2026-0001", "2026-01-08", "414", 1, "26000011"),
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
        ("9999", "TW-2026-0002", "2026-01-20", "414", 1, "26000021"),
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
        ("9999", "TW-2026-0002", "2026-01-20", "414", 2, "26000022"),
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
        ("98765432", "SZ-000871", "2026-01-23", "418", 1, "26000021"),
        GESTART,
        {
            "bsn": "999990056",
            "toewijzing_nummer": "26000021",
            "productcategorie": "01",
            "datum": "2026-01-22",
        },
    ),
    ce(
        ("98765432", "SZ-000871", "2026-01-23", "418", 2, "26000022"),
        GESTART,
        {
            "bsn": "999990056",
            "toewijzing_nummer": "26000022",
            "productcategorie": "02",
            "datum": "2026-01-23",
        },
    ),
    ce(
        ("98765432", "SZ-000912", "2026-03-02", "420", 1, "25000412"),
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
# The record version of each (events.md, "Corrections and deletions"; sources.md §1): the
# allocations keyed by ToewijzingNummer, ordered by Toewijzingsdatum + Toewijzingstijd; starts
# by ToewijzingNummer + Begindatum, stops also by temporary or definitive; sequence from
# Dagtekening + Identificatie (zero-padded) + position.
GOLDEN_VERSIONS = [
    ("iwmo:wmo301:9999:25000412", "2025-09-01T09:12:00.000000/2025-09-01/TW-2025-0004/000001"),
    ("iwmo:wmo301:9999:26000031", "2026-01-05T10:05:00.000000/2026-01-05/TW-2026-0003/000001"),
    ("iwmo:wmo301:9999:26000011", "2026-01-08T14:30:00.000000/2026-01-08/TW-2026-0001/000001"),
    ("iwmo:wmo301:9999:26000021", "2026-01-20T11:00:00.000000/2026-01-20/TW-2026-0002/000001"),
    ("iwmo:wmo301:9999:26000022", "2026-01-20T11:00:00.000000/2026-01-20/TW-2026-0002/000002"),
    ("iwmo:wmo305:9999:26000021:2026-01-22", "2026-01-23/000SZ-000871/000001"),
    ("iwmo:wmo305:9999:26000022:2026-01-23", "2026-01-23/000SZ-000871/000002"),
    ("iwmo:wmo307:9999:25000412:2025-09-08:definitief", "2026-03-02/000SZ-000912/000001"),
]
GOLDEN = [
    {**event, "bronsleutel": key, "sequence": sequence}
    for event, (key, sequence) in zip(GOLDEN, GOLDEN_VERSIONS, strict=True)
]


def test_golden_mapping_of_the_sample_messages() -> None:
    assert events(source(D).records({})) == GOLDEN
    assert {r for _, r in outcomes(source(D).records({}))} == {"ok"}


PRODUCT = "Bericht/Client/ToegewezenProducten/ToegewezenProduct"


def test_every_rejection_kind() -> None:
    got = outcomes(source(BAD / "iwmo").records({}), base=BAD / "iwmo")
    assert got == [
        (f"bad-bsn.xml {PRODUCT}[1]", "bsn"),
        (f"badly-formatted-date.xml {PRODUCT}[1]/Toewijzingsdatum", "bad-date"),
        ("billion-laughs.xml", "dtd-forbidden"),
        ("external-dtd.xml", "dtd-forbidden"),
        (f"impossible-date.xml {PRODUCT}[1]/Ingangsdatum", "bad-date"),
        ("malformed.xml", "malformed"),
        (f"missing-element.xml {PRODUCT}[1]", "ok"),
        (f"missing-element.xml {PRODUCT}[2]/Ingangsdatum", "missing-field"),
        (f"missing-element.xml {PRODUCT}[3]", "ok"),
        ("no-namespace.xml", "wrong-version"),
        (
            "no-toewijzingnummer.xml Bericht/Client/StartProducten/StartProduct[1]"
            "/ToewijzingNummer",
            "missing-field",
        ),
        ("too-deep.xml", "too-deep"),
        (f"unknown-code.xml {PRODUCT}[1]/Product/Categorie", "unknown-value"),
        (
            "unknown-reden.xml Bericht/Client/StopProducten/StopProduct[1]/RedenBeeindiging",
            "unknown-value",
        ),
        ("unsupported-message.xml", "unsupported-message"),
        ("wrong-release.xml", "wrong-version"),
        ("wrong-subversie.xml Bericht/Header/BerichtVersie", "wrong-version"),
        ("wrong-xsdversie.xml Bericht/Header/XsdVersie/BerichtXsdVersie", "wrong-version"),
        ("xxe.xml", "dtd-forbidden"),
    ]


def test_rejection_messages_name_the_element_and_the_rule_never_the_value() -> None:
    by_file = {
        Path(r.location.file).name: str(r.rejection)
        for r in source(BAD / "iwmo").records({})
        if r.rejection is not None
    }
    assert by_file["wrong-release.xml"].startswith("iWmo release 3.1 is not supported")
    assert "BerichtSubversie 3.1 is not supported" in by_file["wrong-subversie.xml"]
    assert by_file["wrong-xsdversie.xml"] == (
        "Bericht/Header/XsdVersie/BerichtXsdVersie: 1.2.0 is not a version of the WMO301 XSD "
        "of iWmo 3.2 (accepted: 1.0.0, the XSD's BerichtXsdMinVersie to BerichtXsdMaxVersie)"
    )
    assert by_file["missing-element.xml"] == (
        f"{PRODUCT}[2]/Ingangsdatum: required element is missing or empty"
    )
    assert by_file["malformed.xml"].startswith("not well-formed XML (line 44")
    assert by_file["unknown-code.xml"] == (
        f"{PRODUCT}[1]/Product/Categorie: not a code of the iWmo 3.2 code list "
        "ProductCategorie (basisschema LDT_ProductCategorie: 01, 02, 03, 04, 05, 06, 07, 08, 09, "
        "10, 11, 12, 13, 14, 15, 16, 17, 18)"
    )
    reden = by_file["unknown-reden.xml"]
    assert reden.startswith("Bericht/Client/StopProducten/StopProduct[1]/RedenBeeindiging: ")
    assert "code list RedenBeeindiging (basisschema LDT_RedenBeeindiging: 02, 19, 20" in reden
    assert "01" not in reden  # the value sent is not echoed
    assert by_file["impossible-date.xml"].endswith(
        "not an existing date as YYYY-MM-DD (basisschema LDT_Datum)"
    )
    assert "2026-02-30" not in by_file["impossible-date.xml"]
    assert "Schakel needs it" in by_file["no-toewijzingnummer.xml"]


def test_no_entity_is_expanded_and_nothing_is_fetched(tmp_path: Path) -> None:
    """The XXE sample refers to /etc/passwd; the external DTD to a closed port: both are
    refused before any resolution (a fetch would hang or leak file content)."""
    for name in ("xxe.xml", "external-dtd.xml", "billion-laughs.xml"):
        (record,) = source(BAD / "iwmo" / name).records({})
        assert record.event is None
        assert record.rejection is not None
        assert "root:" not in str(record.rejection)


SAMPLE = (D / "2026-01-08_WMO301_0001.xml").read_text()


def test_missing_header_elements_and_bsn(tmp_path: Path) -> None:
    cases = {
        "no-bsn.xml": (
            SAMPLE.replace("<wmo301:Bsn>999990019</wmo301:Bsn>", ""),
            "Bericht/Client/Bsn",
        ),
        "no-afzender.xml": (
            SAMPLE.replace("<wmo301:Afzender>9999</wmo301:Afzender>", ""),
            "Bericht/Header/Afzender",
        ),
        "no-ident.xml": (
            SAMPLE.replace("<iwmo:Identificatie>TW-2026-0001</iwmo:Identificatie>", ""),
            "Bericht/Header/BerichtIdentificatie/Identificatie",
        ),
        "no-xsdversie.xml": (
            SAMPLE.replace("<iwmo:BerichtXsdVersie>1.0.0</iwmo:BerichtXsdVersie>", ""),
            "Bericht/Header/XsdVersie/BerichtXsdVersie",
        ),
        "no-products.xml": (
            SAMPLE.split("<wmo301:ToegewezenProducten>")[0] + "</wmo301:Client></wmo301:Bericht>",
            f"{PRODUCT}",
        ),
    }
    for name, (content, path) in cases.items():
        assert xsd_errors(content.encode()), f"{name} must break the XSD too"
        (tmp_path / name).write_text(content)
        (record,) = source(tmp_path / name).records({})
        assert record.rejection is not None, name
        assert record.rejection.reason == "missing-field"
        assert record.location.path == path


def test_code_must_match_the_namespace(tmp_path: Path) -> None:
    text = SAMPLE.replace(">414<", ">418<")
    assert xsd_errors(text.encode())
    (tmp_path / "m.xml").write_text(text)
    (record,) = source(tmp_path / "m.xml").records({})
    assert record.rejection is not None
    assert record.rejection.reason == "unknown-value"
    assert "expected 414" in str(record.rejection)


def test_elements_in_either_namespace_are_accepted(tmp_path: Path) -> None:
    """Matching is on namespace + local name, not prefix: the Bsn in the basisschema
    namespace, the Identificatie in the message namespace, another prefix for the message."""
    text = SAMPLE.replace(
        "<wmo301:Bsn>999990019</wmo301:Bsn>", "<iwmo:Bsn>999990019</iwmo:Bsn>"
    ).replace("iwmo:Identificatie>", "wmo301:Identificatie>")
    text = text.replace("wmo301:", "W:").replace("xmlns:wmo301=", "xmlns:W=")
    (tmp_path / "m.xml").write_text(text)
    (event,) = events(source(tmp_path / "m.xml").records({}))
    assert event["data"]["bsn"] == "999990019"
    assert event == GOLDEN[2]


def test_elements_in_a_foreign_namespace_are_not_read(tmp_path: Path) -> None:
    text = SAMPLE.replace(
        "<wmo301:Bsn>999990019</wmo301:Bsn>", '<x:Bsn xmlns:x="urn:other">999990019</x:Bsn>'
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
    head, tail = SAMPLE.split("<wmo301:Commentaar>", 1)
    with path.open("w") as handle:
        handle.write(head + "<wmo301:Commentaar>")
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


def test_a_folder_or_a_pipe_named_xml_is_passed_over(tmp_path: Path) -> None:
    """Neither stops the source (a pipe would block the read forever): the messages around
    them are read and checkpointed."""
    d = tmp_path / "in"
    d.mkdir()
    shutil.copy(D / "2026-01-08_WMO301_0001.xml", d / "a.xml")
    (d / "b_archief.xml").mkdir()
    os.mkfifo(d / "c_pipe.xml")
    shutil.copy(D / "2026-01-08_WMO301_0001.xml", d / "d.xml")
    hx = make_harness(source(d), tmp_path)
    stats = hx.runner.run_once()
    assert (stats.read, stats.published, stats.rejected) == (2, 2, 0), stats
    assert sorted(hx.runner.checkpoint.load()["files"]) == ["a.xml", "d.xml"]


def test_a_file_that_cannot_be_opened_is_one_rejection_and_read_once_it_can(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """(As root, as in CI, no permission bit refuses a read: ``open`` is made to refuse.)"""
    d = tmp_path / "in"
    d.mkdir()
    for name in ("a.xml", "b.xml", "c.xml"):
        shutil.copy(D / "2026-01-08_WMO301_0001.xml", d / name)
    shutil.copy(D / "2026-01-20_WMO301_0002.xml", d / "b.xml")
    real_open = Path.open

    def refusing(self: Path, *args: Any, **kwargs: Any) -> Any:
        if self.name == "b.xml":
            raise PermissionError(13, "Permission denied")
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", refusing)
    hx = make_harness(source(d), tmp_path)
    stats = hx.runner.run_once()
    assert (stats.read, stats.published, stats.rejected) == (3, 2, 1), stats
    assert stats.by_reason == {"unreadable": 1}
    (entry,) = [json.loads(line) for line in hx.quarantine_lines()]
    assert entry["reden"] == "unreadable"
    assert "Permission denied" in entry["melding"]
    again = hx.runner.run_once()  # still refused, unchanged: not quarantined again
    assert (again.read, again.rejected) == (0, 0), again
    monkeypatch.setattr(Path, "open", real_open)  # the operator fixed the permissions
    fixed = hx.runner.run_once()
    assert (fixed.read, fixed.published, fixed.rejected) == (2, 2, 0), fixed
    assert len(hx.quarantine_lines()) == 1
