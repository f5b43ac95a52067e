"""The iWmo 3.2 rules the adapter follows (``sources.md`` §1), on XSD-valid messages built with
the generator's renderer (and deliberately invalid ones, which the XSD refuses too):
ToewijzingNummer as a number, allocations without a Product, code lists, XsdVersie, other
message types, StatusAanlevering and withdrawn allocations, record versions per product."""

from __future__ import annotations

import codecs
import json
import re
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from adapters.base import Record, derive_id
from adapters.iwmo import IwmoSource, safexml
from adapters.iwmo.mapping import Mapped, map_product
from adapters.iwmo.message import Message, MessageKind, identify, read_header
from adapters.iwmo.versions import message_sequence, published_nummer, sequence_identificatie
from schemas import iwmo_codes as codes
from schemas.envelope import Event, validate_input
from schemas.exceptions import InvalidEvent
from schemas.pseudonym import Pseudonymiser, could_be_bsn, elfproef, holds_bsn
from schemas.wire import VERWIJDERD
from tests.unit.adapters.conftest import KEY, PSEUDONYMISER, SOURCE, events, make_harness
from tests.unit.adapters.iwmo_support import (
    AANBIEDER,
    GEMEENTE,
    GESTART,
    TOEGEWEZEN,
    allocation,
    build,
    start,
    stop,
    write,
    xsd_errors,
)

JAN8, JAN10, JAN12 = date(2026, 1, 8), date(2026, 1, 10), date(2026, 1, 12)


def read(tmp_path: Path, data: bytes, name: str = "m.xml") -> list[Record]:
    path = write(tmp_path, name, data)
    return list(
        IwmoSource(path, source=SOURCE, max_bytes=1 << 20, pseudonymiser=PSEUDONYMISER).records({})
    )


def rejection(records: list[Record]) -> tuple[str, str, str]:
    (record,) = records
    assert record.rejection is not None
    return record.rejection.reason, record.location.path or "", str(record.rejection)


def mapped(data: bytes) -> list[Mapped]:
    """Every product of one message through the mapping (raises what the adapter rejects)."""
    root = safexml.parse(data)
    kind = identify(root)
    assert isinstance(kind, MessageKind)
    message = Message(root, kind)
    header = read_header(message)
    container = message.child(message.child(root, "Client", "c"), kind.products, "p")
    return [
        map_product(
            message,
            header,
            product,
            position=n,
            where=f"p[{n}]",
            source=SOURCE,
            pseudonymiser=PSEUDONYMISER,
        )
        for n, product in enumerate(message.children(container, kind.product), start=1)
    ]


# ---------------------------------------------------------------- ToewijzingNummer


def test_toewijzing_nummer_is_a_number(tmp_path: Path) -> None:
    padded = build([allocation("000101", JAN8, JAN10)])
    plain = build([allocation("101", JAN8, JAN10)])
    (a,) = events(read(tmp_path, padded, "a.xml"))
    (b,) = events(read(tmp_path, plain, "b.xml"))
    assert a["data"]["toewijzing_nummer"] == b["data"]["toewijzing_nummer"] == "101"
    assert a["id"] == b["id"]  # the same message with or without zeros is the same delivery
    (started,) = events(read(tmp_path, build([start("0000101", JAN12)]), "c.xml"))
    assert started["data"]["toewijzing_nummer"] == "101"


def test_a_toewijzing_nummer_that_is_no_number_is_rejected(tmp_path: Path) -> None:
    data = build([allocation("101", JAN8, JAN10)]).replace(b">101<", b">10A<")
    assert xsd_errors(data)
    reason, path, message = rejection(read(tmp_path, data))
    assert (reason, path) == (
        "invalid",
        "Bericht/Client/ToegewezenProducten/ToegewezenProduct[1]/ToewijzingNummer",
    )
    assert "basisschema LDT_Nummer" in message
    assert "10A" not in message


@settings(max_examples=30, deadline=None)
@given(
    zeros=st.integers(min_value=0, max_value=5000),
    digits=st.text("0123456789", min_size=1, max_size=12),
    times=st.integers(min_value=1, max_value=600),
)
def test_a_toewijzing_nummer_of_any_length_is_taken_exactly_when_the_xsd_takes_it(
    zeros: int, digits: str, times: int
) -> None:
    """Review B1: a ToewijzingNummer of 4,301 digits raised ``ValueError`` out of the source.
    Whatever its length, the product is published if the official XSD accepts the number and
    otherwise rejected alone (``invalid``, naming the element), never raised."""
    nummer = "0" * zeros + digits * times
    data = build([allocation("101", JAN8, JAN10)]).replace(b">101<", f">{nummer}<".encode())
    with tempfile.TemporaryDirectory() as tmp:
        (record,) = read(Path(tmp), data)
    if xsd_errors(data):
        assert record.rejection is not None
        assert (record.rejection.reason, record.location.path) == (
            "invalid",
            "Bericht/Client/ToegewezenProducten/ToegewezenProduct[1]/ToewijzingNummer",
        )
    else:
        assert record.event is not None
        number = (digits * times).lstrip("0") or "0"
        assert record.event["data"]["toewijzing_nummer"] == published_nummer(number, PSEUDONYMISER)
        validate_input(record.event, PSEUDONYMISER)  # never bsn-in-identifier


# ToewijzingNummers of nine digits that pass the elfproef: year-prefixed numbering (2026xxxxx)
NINE = next(str(n) for n in range(202600000, 202700000) if could_be_bsn(str(n)))
NOT_NINE = str(int(NINE) + 1)  # the next number: another check digit, no BSN
assert not could_be_bsn(NOT_NINE)


def one_allocation(nummer: str) -> list[tuple[str, bytes]]:
    """An allocation ``nummer`` (WMO301), its start (WMO305) and its stop (WMO307), XSD-valid;
    the stop spells the number with a leading zero."""
    return [
        ("a-301.xml", build([allocation(nummer, JAN8, JAN10)], ident="T-1")),
        ("b-305.xml", build([start(nummer, JAN10)], ident="S-1")),
        ("c-307.xml", build([stop(f"0{nummer}", JAN10, JAN12, "20")], ident="E-1")),
    ]


def publish(tmp_path: Path, files: list[tuple[str, bytes]], key: str = KEY) -> list[Event]:
    """``files`` through an iWmo source with the pseudonym key ``key`` and the runner; every
    product must be published (none rejected)."""
    inbox = tmp_path / "inbox"
    for name, data in files:
        write(inbox, name, data)
    source = IwmoSource(inbox, source=SOURCE, max_bytes=1 << 20, pseudonymiser=Pseudonymiser(key))
    hx = make_harness(source, tmp_path)
    stats = hx.runner.run_once()
    hx.runner.close()
    assert (stats.published, stats.rejected, hx.quarantine_lines()) == (len(files), 0, [])
    return list(hx.publisher.acked)


def test_a_toewijzing_nummer_that_could_be_a_bsn_is_published_as_its_token(
    tmp_path: Path,
) -> None:
    """Review t10: a ToewijzingNummer of nine digits that passes the elfproef (one in eleven
    from 100000000 up, an XSD-valid LDT_Nummer) was refused as ``bsn-in-identifier``
    (naming ``bronsleutel``): the allocation, its start and its stop were lost. Now the number
    is published as its keyed token (``events.md``: a source key holding a BSN-like value is
    hashed with the pseudonym key), the same in all three messages, so they still join."""
    allocated, started, stopped = publish(tmp_path, one_allocation(NINE))
    token = allocated.data["toewijzing_nummer"]
    assert re.fullmatch(r"tw-[0-9a-f]{32}", token)
    assert token == f"tw-{PSEUDONYMISER.token('toewijzing', NINE)}"
    assert started.data["toewijzing_nummer"] == stopped.data["toewijzing_nummer"] == token
    assert allocated.bronsleutel == f"iwmo:wmo301:{GEMEENTE}:{token}"
    assert started.bronsleutel == f"iwmo:wmo305:{GEMEENTE}:{token}:2026-01-10"
    assert stopped.bronsleutel == f"iwmo:wmo307:{GEMEENTE}:{token}:2026-01-10:tijdelijk"
    assert not holds_bsn(token)
    assert token.removeprefix("tw-") != PSEUDONYMISER(NINE)  # not the pseudonym of that BSN
    for event in (allocated, started, stopped):
        assert event.bronsleutel is not None and not holds_bsn(event.bronsleutel)
        assert NINE not in json.dumps(event.data, default=str) + event.bronsleutel
    # the ids are derived from the number as before (a hash: nothing to hide)
    assert allocated.id == derive_id(SOURCE, GEMEENTE, "T-1", "2026-01-08", "414", 1, NINE)
    assert stopped.id == derive_id(SOURCE, AANBIEDER, "E-1", "2026-01-08", "420", 1, NINE)
    assert started.sequence == "2026-01-08/000000000S-1/000001"


def test_a_toewijzing_nummer_that_cannot_be_a_bsn_is_published_as_it_is(tmp_path: Path) -> None:
    allocated, started, stopped = publish(tmp_path, one_allocation(NOT_NINE))
    assert [e.data["toewijzing_nummer"] for e in (allocated, started, stopped)] == [NOT_NINE] * 3
    assert allocated.bronsleutel == f"iwmo:wmo301:{GEMEENTE}:{NOT_NINE}"
    assert stopped.bronsleutel == f"iwmo:wmo307:{GEMEENTE}:{NOT_NINE}:2026-01-10:tijdelijk"


def test_the_token_of_a_toewijzing_nummer_depends_on_the_pseudonym_key(tmp_path: Path) -> None:
    files = one_allocation(NINE)[:1]
    (first,) = publish(tmp_path / "a", files)
    (again,) = publish(tmp_path / "b", files)
    (other,) = publish(tmp_path / "c", files, key="another-key")
    assert first.data["toewijzing_nummer"] == again.data["toewijzing_nummer"]
    assert first.bronsleutel == again.bronsleutel
    assert other.data["toewijzing_nummer"] != first.data["toewijzing_nummer"]
    assert other.bronsleutel != first.bronsleutel
    assert other.id == first.id


# ---------------------------------------------------------------- without a Product


def test_a_budget_allocation_without_a_product_is_a_voorziening_of_unknown_category(
    tmp_path: Path,
) -> None:
    data = build([allocation("202", JAN8, JAN10, categorie=None, budget=150000)])
    assert b"<wmo301:Product>" not in data and b"<wmo301:Budget>150000<" in data
    (record,) = read(tmp_path, data)
    assert record.event is not None
    assert "productcategorie" not in record.event["data"]
    event = validate_input(record.event, Pseudonymiser(KEY))
    assert event.type == TOEGEWEZEN
    assert event.data["productcategorie"] is None
    # and it travels: the runner publishes it with the v2 schema (productcategorie optional)
    hx = make_harness(
        IwmoSource(
            tmp_path / "m.xml", source=SOURCE, max_bytes=1 << 20, pseudonymiser=PSEUDONYMISER
        ),
        tmp_path,
    )
    assert hx.runner.run_once().published == 1


# ---------------------------------------------------------------- code lists


@pytest.mark.parametrize("code", list(codes.CODE_LISTS["LDT_RedenBeeindiging"]))
def test_every_reden_beeindiging_of_the_list_is_read(tmp_path: Path, code: str) -> None:
    (event,) = events(read(tmp_path, build([stop("101", JAN10, JAN12, code)])))
    assert event["data"]["reden_beeindiging"] == code


@pytest.mark.parametrize("code", list(codes.CODE_LISTS["LDT_ProductCategorie"]))
def test_every_productcategorie_of_the_list_is_read(tmp_path: Path, code: str) -> None:
    (event,) = events(read(tmp_path, build([start("101", JAN10, categorie=code)])))
    assert event["data"]["productcategorie"] == code


@pytest.mark.parametrize(
    ("product", "element", "code_list"),
    [
        (
            stop("101", JAN10, JAN12, "01"),
            "StopProducten/StopProduct[1]/RedenBeeindiging",
            "RedenBeeindiging",
        ),
        (
            stop("101", JAN10, JAN12, "99"),
            "StopProducten/StopProduct[1]/RedenBeeindiging",
            "RedenBeeindiging",
        ),
        (
            start("101", JAN10, categorie="7"),
            "StartProducten/StartProduct[1]/Product/Categorie",
            "ProductCategorie",
        ),
        (
            start("101", JAN10, categorie="19"),
            "StartProducten/StartProduct[1]/Product/Categorie",
            "ProductCategorie",
        ),
        (
            start("101", JAN10, "4"),
            "StartProducten/StartProduct[1]/StatusAanlevering",
            "StatusAanlevering",
        ),
        (
            stop("101", JAN10, JAN12, status="0"),
            "StopProducten/StopProduct[1]/StatusAanlevering",
            "StatusAanlevering",
        ),
        (
            allocation("101", JAN8, JAN10, reden_wijziging="15"),
            "ToegewezenProducten/ToegewezenProduct[1]/RedenWijziging",
            "RedenWijziging",
        ),
    ],
)
def test_a_code_outside_its_list_is_rejected_naming_element_and_list(
    tmp_path: Path, product: Any, element: str, code_list: str
) -> None:
    data = build([product], xsd_valid=False)
    reason, path, message = rejection(read(tmp_path, data))
    assert reason == "unknown-value"
    assert path == f"Bericht/Client/{element}"
    allowed = ", ".join(codes.CODE_LISTS[f"LDT_{code_list}"])
    assert message == (
        f"{path}: not a code of the iWmo 3.2 code list {code_list} "
        f"(basisschema LDT_{code_list}: {allowed})"
    )


def test_status_aanlevering_is_required(tmp_path: Path) -> None:
    data = build([start("101", JAN10)]).replace(
        b"<wmo305:StatusAanlevering>1</wmo305:StatusAanlevering>", b""
    )
    assert xsd_errors(data)
    reason, path, _ = rejection(read(tmp_path, data))
    assert (reason, path) == (
        "missing-field",
        "Bericht/Client/StartProducten/StartProduct[1]/StatusAanlevering",
    )


# ---------------------------------------------------------------- release and XsdVersie


@pytest.mark.parametrize("version", ["1.0.1", "1.1.0", "2.0.0", "0.9.9"])
@pytest.mark.parametrize("element", ["BerichtXsdVersie", "BasisschemaXsdVersie"])
def test_a_message_of_other_xsd_versions_is_rejected_naming_it(
    tmp_path: Path, version: str, element: str
) -> None:
    data = build([start("101", JAN10)]).replace(
        f"<iwmo:{element}>1.0.0<".encode(), f"<iwmo:{element}>{version}<".encode()
    )
    assert xsd_errors(data) == []  # the XSD's types cannot tell: the bounds are in its appinfo
    reason, path, message = rejection(read(tmp_path, data))
    assert (reason, path) == ("wrong-version", f"Bericht/Header/XsdVersie/{element}")
    what = "WMO305" if element == "BerichtXsdVersie" else "basisschema"
    assert message.startswith(f"{path}: {version} is not a version of the {what} XSD of iWmo 3.2")


def test_an_xsd_versie_that_is_no_version_is_rejected(tmp_path: Path) -> None:
    data = build([start("101", JAN10)]).replace(
        b">1.0.0</iwmo:BerichtXsdVersie", b">1.0</iwmo:BerichtXsdVersie"
    )
    assert xsd_errors(data)
    reason, _, message = rejection(read(tmp_path, data))
    assert reason == "invalid"
    assert "LDT_Versie" in message


def test_a_message_of_another_release_is_rejected_naming_the_release(tmp_path: Path) -> None:
    data = build([start("101", JAN10)]).replace(b"/3_2/", b"/3_1/")
    assert xsd_errors(data)
    reason, _, message = rejection(read(tmp_path, data))
    assert reason == "wrong-version"
    assert message.startswith("iWmo release 3.1 is not supported; only release 3.2")


# ---------------------------------------------------------------- repeated elements

_CLIENT = re.compile(rb"<wmo305:Client>.*</wmo305:Client>", re.S)
_CONTAINER = re.compile(rb"<wmo305:StartProducten>.*</wmo305:StartProducten>", re.S)
_BSN = b"<wmo305:Bsn>999990019</wmo305:Bsn>"


def _repeated(data: bytes, pattern: re.Pattern[bytes], change: tuple[bytes, bytes]) -> bytes:
    """``data`` with the part ``pattern`` matches written twice, the copy with ``change``."""
    match = pattern.search(data)
    assert match is not None
    part = match.group(0)
    return data.replace(part, part + part.replace(*change), 1)


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda d: _repeated(d, _CONTAINER, (b">202<", b">303<")), "Bericht/Client/StartProducten"),
        (lambda d: _repeated(d, _CLIENT, (b">202<", b">303<")), "Bericht/Client"),
        (lambda d: d.replace(_BSN, _BSN + _BSN.replace(b"019", b"111")), "Bericht/Client/Bsn"),
    ],
    ids=["products", "client", "bsn"],
)
def test_a_message_with_a_repeated_single_element_is_rejected_not_read_in_part(
    tmp_path: Path, change: Any, path: str
) -> None:
    """The XSD allows one Client, one Bsn, one products container. A message with two (not
    XSD-valid) used to be read from the first alone: the products of the second container or
    Client were neither published nor quarantined, and of two BSNs the first was taken. Which
    one is meant cannot be told, so the message is rejected (``invalid``) at the repeated
    element."""
    data = change(build([start("101", JAN10), start("202", JAN12)]))
    assert xsd_errors(data)
    path_of_file = write(tmp_path / "in", "m.xml", data)
    hx = make_harness(
        IwmoSource(path_of_file, source=SOURCE, max_bytes=1 << 20, pseudonymiser=PSEUDONYMISER),
        tmp_path,
    )
    stats = hx.runner.run_once()
    assert (stats.published, stats.by_reason) == (0, {"invalid": 1})
    [(where, _, message)] = hx.rejected
    assert where == f"{path_of_file} {path}"
    assert message.startswith(f"{path}: occurs more than once")


def test_a_product_with_a_repeated_element_is_rejected_alone(tmp_path: Path) -> None:
    begin = b"<wmo305:Begindatum>2026-01-12</wmo305:Begindatum>"
    data = build([start("101", JAN10), start("202", JAN12)])
    data = data.replace(begin, begin + begin.replace(b"-12<", b"-13<"))
    assert xsd_errors(data)
    first, second = read(tmp_path, data)
    assert first.event is not None
    assert second.rejection is not None and second.rejection.reason == "invalid"
    assert second.location.path == "Bericht/Client/StartProducten/StartProduct[2]/Begindatum"


# ---------------------------------------------------------------- other message types


def test_other_message_types_of_the_release_are_skipped_not_quarantined(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    retour = (
        b'<?xml version="1.0"?><wmo302:Bericht '
        b'xmlns:wmo302="http://www.istandaarden.nl/iwmo/3_2/wmo302/schema"/>'
    )
    write(inbox, "a-retour.xml", retour)
    write(inbox, "b-start.xml", build([start("101", JAN10)]))
    write(inbox, "c-retour.xml", retour)
    hx = make_harness(
        IwmoSource(inbox, source=SOURCE, max_bytes=1 << 20, pseudonymiser=PSEUDONYMISER), tmp_path
    )
    stats = hx.runner.run_once()
    assert (stats.read, stats.published, stats.rejected, stats.skipped) == (3, 1, 0, 2)
    assert hx.quarantine_lines() == []
    assert (
        hx.registry.get_sample_value(
            "schakel_adapter_records_skipped_total", {"adapter": "iwmo", "kind": "WMO302"}
        )
        == 2
    )
    assert hx.runner.run_once().read == 0  # checkpointed like any other file
    old = build([start("101", JAN10)]).replace(b"wmo305", b"wmo315").replace(b"/3_2/", b"/3_1/")
    reason, _, _ = rejection(read(tmp_path, old, "old.xml"))
    assert reason == "wrong-version"  # another release is rejected, whatever its type


# ---------------------------------------------------------------- versions and deletions


def test_status_aanlevering_1_2_9_are_versions_3_is_a_deletion(tmp_path: Path) -> None:
    data = build(
        [
            start("101", JAN10, "1"),
            start("102", JAN10, "2"),
            start("103", JAN10, "3"),
            start("104", JAN10, "9"),
        ]
    )
    records = read(tmp_path, data)
    assert all(r.rejection is None for r in records)
    published = events(records)
    assert [e["type"] for e in published] == [GESTART, GESTART, VERWIJDERD, GESTART]
    assert [e["data"].get("toewijzing_nummer") for e in published] == ["101", "102", None, "104"]
    gone = published[2]
    assert gone["bronsleutel"] == "iwmo:wmo305:9999:103:2026-01-10"
    assert gone["sequence"] == "2026-01-08/000000M-0001/000003"
    assert gone["domein"] == "wmo" and gone["data"]["datum"] == "2026-01-08"  # Dagtekening
    assert records[2].location.path == "Bericht/Client/StartProducten/StartProduct[3]"
    for event in published:  # every one is a valid input event with its version attributes
        valid = validate_input(event, Pseudonymiser(KEY))
        assert valid.bronsleutel and valid.sequence
        assert "bsn" not in json.dumps(valid.to_json())


def test_a_deletion_and_its_replacement_in_one_message(tmp_path: Path) -> None:
    data = build(
        [stop("101", JAN10, JAN12, "19", "3"), stop("101", JAN10, date(2026, 1, 20), "19", "1")]
    )
    versions = [m.version for m in mapped(data)]
    assert versions[0].bronsleutel == versions[1].bronsleutel
    assert versions[0].deletion and not versions[1].deletion
    assert versions[0].sequence < versions[1].sequence  # the replacement wins
    records = read(tmp_path, data)
    gone, event = events(records)
    assert gone["type"] == VERWIJDERD and event["data"]["datum"] == "2026-01-20"
    assert gone["bronsleutel"] == event["bronsleutel"] and gone["sequence"] < event["sequence"]


def test_versions_follow_the_standards_uniqueness_rules() -> None:
    first = mapped(build([stop("101", JAN10, JAN12, "20")], ident="S-1", dagtekening=JAN12))
    final = mapped(
        build(
            [stop("101", JAN10, date(2026, 2, 1), "19")], ident="S-2", dagtekening=date(2026, 2, 2)
        )
    )
    corrected = mapped(
        build(
            [stop("101", JAN10, date(2026, 2, 3), "23", "2")],
            ident="S-3",
            dagtekening=date(2026, 2, 4),
        )
    )
    assert first[0].version.bronsleutel.endswith(":tijdelijk")
    assert final[0].version.bronsleutel == corrected[0].version.bronsleutel
    assert final[0].version.sequence < corrected[0].version.sequence
    assert first[0].version.bronsleutel == "iwmo:wmo307:9999:101:2026-01-10:tijdelijk"
    (s,) = mapped(build([start("000101", JAN10)]))
    assert s.version.bronsleutel == "iwmo:wmo305:9999:101:2026-01-10"
    assert s.version.sequence == "2026-01-08/000000M-0001/000001"


def test_an_allocation_withdrawn_from_its_first_day_is_a_deletion(tmp_path: Path) -> None:
    withdrawn = allocation(
        "101", JAN8, JAN10, JAN10, reden_wijziging="13", toewijzingstijd="15:00:00"
    )
    shortened = allocation("102", JAN8, JAN10, date(2026, 3, 1), reden_wijziging="13")
    one_day = allocation("103", JAN8, JAN10, JAN10)
    data = build([withdrawn, shortened, one_day])
    (w, s, o) = mapped(data)
    assert w.version.deletion and not s.version.deletion and not o.version.deletion
    assert w.version.bronsleutel == "iwmo:wmo301:9999:101"
    assert w.version.sequence.startswith("2026-01-08T15:00:00.000000/2026-01-08/")
    assert w.withdrawn_on == "2026-01-08"
    records = read(tmp_path, data)
    gone, *kept = events(records)
    assert [e["data"]["toewijzing_nummer"] for e in kept] == ["102", "103"]
    assert [e["type"] for e in kept] == [TOEGEWEZEN, TOEGEWEZEN]
    assert gone["type"] == VERWIJDERD and gone["bronsleutel"] == "iwmo:wmo301:9999:101"
    assert gone["data"]["datum"] == "2026-01-08"  # the Toewijzingsdatum of the withdrawal


# ---------------------------------------------------------------- periods: no end before the start

ALLOCATIONS = "Bericht/Client/ToegewezenProducten/ToegewezenProduct"
STOPS = "Bericht/Client/StopProducten/StopProduct"


@pytest.mark.parametrize("reden", [None, "01", "13"])
def test_an_allocation_that_ends_before_it_starts_is_rejected_alone(
    tmp_path: Path, reden: str | None
) -> None:
    """An Einddatum before the Ingangsdatum is a voorziening with a negative period: the XSD
    does not compare the two dates, iWmo does (Einddatum on or after Ingangsdatum). It is no
    withdrawal either, whatever its RedenWijziging: that needs the two dates equal."""
    native = {"reden_wijziging": reden} if reden else {}
    backwards = allocation("101", JAN8, JAN12, JAN10, **native)
    kept = allocation("102", JAN8, JAN10, JAN12)
    data = build([backwards, kept])  # XSD-valid
    first, second = read(tmp_path, data)
    assert first.rejection is not None and first.event is None
    assert first.rejection.reason == "invalid"
    assert first.location.path == f"{ALLOCATIONS}[1]/Einddatum"
    assert str(first.rejection) == (
        f"{ALLOCATIONS}[1]/Einddatum: before the Ingangsdatum of the same ToegewezenProduct; "
        "an allocation ends on or after the day it begins (iWmo: Einddatum >= Ingangsdatum)"
    )
    assert "2026" not in str(first.rejection)  # the dates are not echoed
    (event,) = events([second])
    assert event["data"]["toewijzing_nummer"] == "102"


def test_an_allocation_ending_on_the_day_it_begins_is_published_or_withdrawn(
    tmp_path: Path,
) -> None:
    """Equal dates are no error: a one-day voorziening, or with RedenWijziging 01/13 a
    withdrawal (``sources.md`` §1)."""
    data = build(
        [
            allocation("101", JAN8, JAN10, JAN10),
            allocation("102", JAN8, JAN10, JAN10, reden_wijziging="01"),
            allocation("103", JAN8, JAN10, JAN10, reden_wijziging="13"),
            allocation("104", JAN8, JAN10),  # no Einddatum: open-ended
        ]
    )
    records = read(tmp_path, data)
    assert all(r.rejection is None for r in records)
    assert [e["type"] for e in events(records)] == [TOEGEWEZEN, VERWIJDERD, VERWIJDERD, TOEGEWEZEN]


def test_a_stop_that_ends_before_its_begindatum_is_rejected_alone(tmp_path: Path) -> None:
    data = build(
        [
            stop("101", JAN12, JAN10, "19"),
            stop("102", JAN10, JAN10, "19"),  # stopped on the day it began: no error
            stop("103", JAN10, JAN12, "20"),
        ]
    )
    first, *rest = read(tmp_path, data)
    assert first.rejection is not None and first.rejection.reason == "invalid"
    assert first.location.path == f"{STOPS}[1]/Einddatum"
    assert str(first.rejection) == (
        f"{STOPS}[1]/Einddatum: before the Begindatum of the same StopProduct; care ends on "
        "or after the day it began (iWmo: Einddatum >= Begindatum)"
    )
    assert [e["data"]["toewijzing_nummer"] for e in events(rest)] == ["102", "103"]
    assert all(r.rejection is None for r in rest)


def test_a_deletion_of_a_stop_that_ended_before_it_began_is_published(tmp_path: Path) -> None:
    """StatusAanlevering 3 withdraws the record by its key (ToewijzingNummer, Begindatum, kind
    of stop); none of its other dates is published. Such a stop published before the check
    existed can still be withdrawn by its sender."""
    (event,) = events(read(tmp_path, build([stop("101", JAN12, JAN10, "19", "3")])))
    assert event["type"] == VERWIJDERD
    assert event["bronsleutel"] == "iwmo:wmo307:9999:101:2026-01-12:definitief"


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        (b"<wmo301:Toewijzingstijd>09:00:00</wmo301:Toewijzingstijd>", b"", "missing-field"),
        (b">09:00:00</wmo301:Toewijzingstijd>", b">9 uur</wmo301:Toewijzingstijd>", "invalid"),
        (b"<wmo301:Afzender>9999<", b"<wmo301:Afzender>999<", "invalid"),
        (b">M-0001</iwmo:Identificatie>", b">M-0001-2026-A</iwmo:Identificatie>", "invalid"),
    ],
)
def test_what_versions_are_made_of_is_checked(
    tmp_path: Path, old: bytes, new: bytes, reason: str
) -> None:
    data = build([allocation("101", JAN8, JAN10, toewijzingstijd="09:00:00")])
    assert old in data
    broken = data.replace(old, new)
    assert xsd_errors(broken)
    assert rejection(read(tmp_path, broken))[0] == reason


def test_a_start_without_a_product_has_no_category(tmp_path: Path) -> None:
    data = build([start("101", JAN10)])
    data = data.replace(
        data[data.index(b"<wmo305:Product>") : data.index(b"</wmo305:Product>") + 17], b""
    )
    assert xsd_errors(data) == []
    (event,) = events(read(tmp_path, data))
    assert event["type"] == GESTART
    assert "productcategorie" not in event["data"]


# ---------------------------------------------------------------- no BSN in the sequence


def _spelled(first8: str, separator: str) -> str | None:
    """The number ``first8`` + check digit that passes the elfproef, printed with
    ``separator`` (``dddd.dd.ddd``) or plain; ``None`` if no check digit makes one."""
    bsn = next((first8 + d for d in "0123456789" if elfproef(first8 + d)), None)
    if bsn is None or bsn == "000000000":
        return None
    return f"{bsn[:4]}{separator}{bsn[4:6]}{separator}{bsn[6:]}" if separator else bsn


def _published_with_token(tmp_path: Path, ident: str) -> tuple[Path, Any, str]:
    """A message of one product with Identificatie ``ident`` run once (published, nothing
    refused): its path, the harness and the keyed token its ``sequence`` shows instead."""
    path = write(tmp_path / "in", "m.xml", build([start("101", JAN10)], ident=ident))
    hx = make_harness(
        IwmoSource(path, source=SOURCE, max_bytes=1 << 20, pseudonymiser=PSEUDONYMISER), tmp_path
    )
    stats = hx.runner.run_once()
    assert (stats.published, stats.by_reason) == (1, {})
    token = sequence_identificatie(ident, PSEUDONYMISER)
    assert re.fullmatch(r"~[a-p]{11}", token)
    return path, hx, token


@pytest.mark.parametrize("ident", ["999990056", "100000009", "9999 90 056", "M9999.90.056"])
def test_an_identificatie_that_holds_a_bsn_is_read_with_its_token_in_the_sequence(
    tmp_path: Path, ident: str
) -> None:
    """Review A1: a sender that numbers its messages with nine digits writes one that could
    be a BSN about once in eleven (LDT_IdentificatieBericht is any text of 1–12 characters):
    the message used to be refused whole (``bsn-in-identifier``). It is read; its sequence
    holds the Identificatie's keyed token instead, and the digits are published nowhere —
    neither as sent nor padded (``000999990056``)."""
    path, hx, token = _published_with_token(tmp_path, ident)
    (record,) = IwmoSource(
        path, source=SOURCE, max_bytes=1 << 20, pseudonymiser=PSEUDONYMISER
    ).records({})
    assert record.event is not None
    assert record.event["sequence"] == f"2026-01-08/{token}/000001"
    # the id is derived from the Identificatie as sent, as before (a hash)
    assert record.event["id"] == derive_id(SOURCE, AANBIEDER, ident, "2026-01-08", "418", 1, "101")
    digits = ident.replace(" ", "").replace(".", "").removeprefix("M")
    for text in (v.decode("latin-1") for _, _, v in hx.publisher.raw):
        assert digits not in text and ident not in text


def test_an_identificatie_that_padding_would_make_a_bsn_is_replaced(tmp_path: Path) -> None:
    """``1000007-AB`` holds seven digits; left-padded to 12 characters they become the nine
    digits ``001000007``, which pass the elfproef: that sequence used to be refused by the
    catalogue check (``bsn-in-identifier`` on ``sequence``), losing every product."""
    assert not holds_bsn("1000007-AB") and holds_bsn("001000007-AB")
    (record,) = read(tmp_path, build([start("101", JAN10)], ident="1000007-AB"))
    assert record.event is not None, record.rejection
    event = validate_input(record.event, PSEUDONYMISER)
    shown = sequence_identificatie("1000007-AB", PSEUDONYMISER)
    assert event.sequence == f"2026-01-08/{shown}/000001"
    assert "1000007" not in json.dumps(event.to_json())


@pytest.mark.parametrize("ident", ["AB\tCD", "AB\x85CD", "AB\ufdd0CD", "a@example.nl"])
def test_an_identificatie_the_catalogue_refuses_in_a_sequence_is_read_with_its_token(
    tmp_path: Path, ident: str
) -> None:
    """LDT_IdentificatieBericht is 1–12 characters of any text but a line break (pattern
    ``.*[^\\s].*``): a tab, a C1 control character or a noncharacter is XSD-valid, and so is
    an e-mail address of 12 characters. In the ``sequence`` the catalogue refuses each
    (``bad-type`` on ``sequence``; ``personal-data-in-identifier``), so every product of such a
    message used to be quarantined, with a message that named ``sequence``, not the
    Identificatie. It is read, the sequence holding the Identificatie's keyed token, as for
    one that could be a BSN."""
    path, _, token = _published_with_token(tmp_path, ident)
    data = path.read_bytes()
    (record,) = read(tmp_path / "again", data)
    assert record.event is not None
    assert record.event["sequence"] == f"2026-01-08/{token}/000001"
    assert record.event["id"] == derive_id(SOURCE, AANBIEDER, ident, "2026-01-08", "418", 1, "101")


_IDENT_CHARS = "0123456789 .-/AMx"
IDENTIFICATIES = st.one_of(
    st.text(alphabet=_IDENT_CHARS, min_size=1, max_size=12),
    st.builds(  # digit runs of seven to nine with something around them: often a possible BSN
        lambda before, digits, after: (before + digits + after)[:12],
        st.text(alphabet=_IDENT_CHARS, max_size=3),
        st.text(alphabet="0123456789", min_size=7, max_size=9),
        st.text(alphabet=_IDENT_CHARS, max_size=3),
    ),
).filter(str.strip)


@settings(max_examples=300, deadline=None)
@given(ident=IDENTIFICATIES, position=st.integers(1, 999))
def test_no_sequence_holds_a_possible_bsn(ident: str, position: int) -> None:
    """Whatever the Identificatie, no sequence holds a possible BSN, padded or not; one that
    holds none, as sent and padded, is kept as it is (the spec's order)."""
    ident = ident.strip()
    shown = sequence_identificatie(ident, PSEUDONYMISER)
    sequence = message_sequence("2026-01-08", shown, position)
    assert not holds_bsn(sequence)
    if holds_bsn(ident) or holds_bsn(ident.rjust(12, "0")):
        assert shown != ident and not any(c.isdigit() for c in shown)
        assert sequence_identificatie(ident, Pseudonymiser(KEY)) == shown  # deterministic
    else:
        assert shown == ident


@settings(max_examples=40, deadline=None)
@given(
    first8=st.text("0123456789", min_size=8, max_size=8),
    separator=st.sampled_from(["", ".", " "]),
)
def test_every_identificatie_that_could_be_a_bsn_is_read(first8: str, separator: str) -> None:
    ident = _spelled(first8, separator)
    assume(ident is not None)
    assert ident is not None
    with tempfile.TemporaryDirectory() as tmp:
        (record,) = read(Path(tmp), build([start("101", JAN10)], ident=ident))
    assert record.event is not None, record.rejection
    event = validate_input(record.event, PSEUDONYMISER)
    assert ident.replace(separator, "") not in str(event.sequence)


def test_an_identificatie_of_nine_digits_that_is_no_bsn_is_padded(tmp_path: Path) -> None:
    assert not elfproef("123456789")
    (event,) = events(read(tmp_path, build([start("101", JAN10)], ident="123456789")))
    assert event["sequence"] == "2026-01-08/000123456789/000001"


# ---------------------------------------------------------------- encodings

NON_ASCII = "M-\u00e9\u00eb1"
"""An Identificatie with letters beyond ASCII (any text of 1–12 characters is XSD-valid): the
event id is derived from it, so a wrong reading of the bytes would show in the id."""


def _encoded(encoding: str, declared: str | None, *, bom: bytes = b"") -> bytes:
    """A valid WMO301 as ``encoding``, its XML declaration naming ``declared`` (none if
    ``None``)."""
    text = build([allocation("101", JAN8, JAN10)], ident=NON_ASCII).decode("utf-8")
    head, body = text.split("\n", 1)
    assert head == '<?xml version="1.0" encoding="UTF-8"?>'
    if declared is not None:
        body = f'<?xml version="1.0" encoding="{declared}"?>\n{body}'
    return bom + body.encode(encoding)


@pytest.mark.parametrize(
    ("encoding", "declared"),
    [
        ("utf-8", None),
        ("utf-8-sig", "UTF-8"),  # with a UTF-8 byte order mark
        ("utf-16", "UTF-16"),  # with a byte order mark (Python writes one)
        ("utf-16", None),
        ("utf-16-be", "UTF-16"),  # without one, declared
        ("iso-8859-1", "ISO-8859-1"),
        ("cp1252", "windows-1252"),
        ("iso-8859-15", "ISO-8859-15"),
    ],
)
def test_a_message_in_another_encoding_the_parser_reads_is_read_alike(
    tmp_path: Path, encoding: str, declared: str | None
) -> None:
    """UTF-8 and UTF-16 with or without byte order mark, and a single-byte encoding its XML
    declaration names: the same events as the UTF-8 message, ids included."""
    data = _encoded(encoding, declared)
    assert xsd_errors(data) == []  # lxml reads it too, and it is valid
    original = events(read(tmp_path / "utf8", _encoded("utf-8", "UTF-8")))
    assert events(read(tmp_path / "other", data)) == original


UTF32_REASON = (
    "not readable XML: the file is in the UTF-32 encoding, which Schakel does not read; an "
    "iWmo message is read in UTF-8, UTF-16 or a single-byte encoding its XML declaration names"
)
EBCDIC_REASON = (
    "not readable XML: the file is in an EBCDIC encoding, which Schakel does not read; an "
    "iWmo message is read in UTF-8, UTF-16 or a single-byte encoding its XML declaration names"
)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_encoded("utf-32", "UTF-32"), UTF32_REASON),  # with a byte order mark
        (_encoded("utf-32", None), UTF32_REASON),
        (_encoded("utf-32-le", None), UTF32_REASON),  # without one
        (_encoded("utf-32-be", "UTF-32"), UTF32_REASON),
        (_encoded("utf-32-be", None), UTF32_REASON),
        (_encoded("cp037", "IBM037"), EBCDIC_REASON),
        (_encoded("cp500", "cp500"), EBCDIC_REASON),
        (_encoded("cp037", None), EBCDIC_REASON),
        (
            _encoded("utf-16", "UTF-8"),
            "not readable XML: the file is in the UTF-16 encoding, but its XML declaration "
            "names another encoding",
        ),
        (
            _encoded("utf-16-le", "UTF-8"),
            "not readable XML: the file is in the UTF-16 encoding, but its XML declaration "
            "names another encoding",
        ),
        (
            _encoded("utf-8", "ISO-8859-1", bom=codecs.BOM_UTF8),  # read as ISO-8859-1: 'Ã©'
            "not readable XML: the file starts with a UTF-8 byte order mark, but its XML "
            "declaration names another encoding",
        ),
        (
            _encoded("utf-8", "UTF-16"),
            "not readable XML: its XML declaration names an encoding the file is not in "
            "(line 1, column 30)",
        ),
        (
            _encoded("iso-8859-1", None),
            "not readable XML: bytes that are not valid UTF-8 (no encoding is declared, so "
            "UTF-8 is meant) at line 9; a file in another encoding, such as windows-1252, must "
            "name it in its XML declaration",
        ),
        (
            _encoded("cp1252", "UTF-8"),
            "not readable XML: bytes that are not valid UTF-8 (the declared encoding) at line "
            "10; a file in another encoding, such as windows-1252, must name it in its XML "
            "declaration",
        ),
        (
            _encoded("cp1252", "windows-1252").replace(b"M-\xe9", b"M-\x81"),  # 0x81: unused
            "not readable XML: bytes that are not valid in the encoding its XML declaration "
            "names at line 10",
        ),
        (
            _encoded("gb18030", "GB18030"),
            "not readable XML: its XML declaration names an encoding Schakel does not read (an "
            "unknown name, or a multi-byte encoding other than UTF-8 and UTF-16)",
        ),
    ],
)
def test_a_message_in_an_encoding_schakel_does_not_read_is_rejected_as_encoding(
    tmp_path: Path, data: bytes, message: str
) -> None:
    """Review: UTF-32 and EBCDIC files, and files whose bytes contradict their declaration,
    were rejected as ``malformed`` ("not well-formed XML (line 1, column 1)"), which sends the
    sender looking for a broken tag. Now ``encoding``, saying which encoding, never the
    content."""
    reason, path, text = rejection(read(tmp_path, data))
    assert (reason, path, text) == ("encoding", "", message)
    with pytest.raises(Exception) as raised:
        safexml.parse(data)
    assert getattr(raised.value, "reason", None) == "encoding"


@pytest.mark.parametrize(
    "data",
    [
        b"\x00\x00\x00<\x00\x00\x00a\x00\x00\x00/\x00\x00\x00>",  # UTF-32BE, no declaration
        b"<\x00\x00\x00a\x00\x00\x00/\x00\x00\x00>\x00\x00\x00",  # UTF-32LE
        b"\x00\x00\xfe\xff\x00\x00\x00<",  # UTF-32BE byte order mark
        b"\xff\xfe\x00\x00<\x00\x00\x00",  # UTF-32LE byte order mark
        b"\x4c\x81\x61\x6e",  # '<a/>' in EBCDIC
        b"\x4c\x6f\xa7\x94\x93",  # '<?xml' in EBCDIC
        b"\x4c\x5a\x60\x60",  # '<!--' in EBCDIC
        b"\x40\x40\x4c\x81\x61\x6e",  # spaces, then '<a/>', in EBCDIC
    ],
)
def test_utf32_and_ebcdic_are_told_by_their_first_bytes(data: bytes) -> None:
    with pytest.raises(Exception) as raised:
        safexml.parse(data)
    assert getattr(raised.value, "reason", None) == "encoding"


@pytest.mark.parametrize(
    "data",
    [
        b"<a>",  # not closed
        b"Lorem ipsum",  # text ('Lo' is '<?' in EBCDIC, but no 'xml' follows)
        b"L\x5a",  # 'LZ' ('<!' in EBCDIC, but no '--' follows)
        b"<a></b>",
        b"",
        b'<?xml version="1.0" encoding="UTF-8"?>\n<a>\xc3\xa9<b></a>',  # valid UTF-8, bad tags
    ],
)
def test_xml_that_is_only_malformed_stays_malformed(data: bytes) -> None:
    with pytest.raises(Exception) as raised:
        safexml.parse(data)
    assert getattr(raised.value, "reason", None) == "malformed"


def _reason_and_text(data: bytes) -> tuple[str, str]:
    with pytest.raises(Exception) as raised:
        safexml.parse(data)
    return getattr(raised.value, "reason", ""), str(raised.value)


def test_a_malformed_file_with_a_bad_byte_after_the_error_is_malformed_at_the_error() -> None:
    """Review: the parse failed at a mismatched tag on line 3, but the whole body was decoded
    and a bad byte on line 504 made it ``encoding`` "at line 504": the file's first fault was
    misnamed and misplaced. Only the bytes where the parser stopped are now looked at."""
    data = b'<?xml version="1.0"?>\n<a>\n<b></c>\n' + b"x\n" * 500 + b"\xe9\n</a>"
    assert _reason_and_text(data) == ("malformed", "not well-formed XML (line 3, column 5)")


def test_a_bad_byte_is_told_at_expats_line_also_with_carriage_returns() -> None:
    """The line of a bad byte is the parser's (which counts a lone CR as a line end too)."""
    data = b'<?xml version="1.0"?>\r<a>\r<b>M-\xe9</b></a>'
    reason, text = _reason_and_text(data)
    assert reason == "encoding"
    assert " at line 3;" in text


@pytest.mark.parametrize(
    "data",
    [
        "Léa".encode(),  # 'L' (0x4C, '<' in EBCDIC) then 0xC3 ('C' in EBCDIC)
        "Lösung: zie bijlage\n".encode(),
        "Léandre Dupont\n".encode("latin-1"),  # 0xE9: 'Z' in EBCDIC
        "@@Lé\n".encode(),  # 0x40: an EBCDIC space
    ],
)
def test_text_that_starts_like_ebcdic_by_chance_is_not_called_ebcdic(data: bytes) -> None:
    """Review: any file starting with 'L' and a byte in an EBCDIC letter range — "Lé…" in
    UTF-8 or Latin-1 — was called "in an EBCDIC encoding". Such text is no XML at all; it is
    now told EBCDIC only when its first bytes read as EBCDIC text (no control characters) and
    are not UTF-8."""
    reason, text = _reason_and_text(data)
    assert "EBCDIC" not in text
    assert reason in {"malformed", "encoding"}


def test_a_utf8_bom_before_a_long_declaration_of_another_encoding_is_refused() -> None:
    """Review: the declaration was looked for in the first 200 bytes only; a declaration padded
    with white space (valid XML) escaped the byte-order-mark check and was read as ISO-8859-1."""
    data = (
        codecs.BOM_UTF8
        + b'<?xml version="1.0"'
        + b" " * 300
        + b'encoding="ISO-8859-1"?><a>\xc3\xa9</a>'
    )
    assert _reason_and_text(data)[0] == "encoding"


def test_a_bad_byte_is_told_against_a_long_declaration_of_its_encoding() -> None:
    """A declaration beyond 200 bytes was not seen, so a byte not valid in windows-1252 was
    reported as not valid UTF-8 with 'no encoding is declared'."""
    data = b'<?xml version="1.0"' + b" " * 300 + b'encoding="windows-1252"?>\n<a>M\x81</a>'
    reason, text = _reason_and_text(data)
    assert reason == "encoding"
    assert "declaration names" in text and "UTF-8" not in text


def test_a_bad_byte_in_a_large_file_is_found_without_decoding_the_file() -> None:
    """Review: the whole body (up to SCHAKEL_MAX_XML_BYTES, which has no upper bound) was
    decoded to find the bad byte, holding a second copy of the file. Now only the bytes where
    the parser stopped are decoded."""
    import tracemalloc

    data = b'<?xml version="1.0"?>\n<a>\xe9' + b"<b>x</b>" * 1_000_000 + b"</a>"
    tracemalloc.start()
    try:
        reason, _ = _reason_and_text(data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert reason == "encoding"
    assert peak < len(data) // 4


# ---------------------------------------------------------------- white space

UNICODE_SPACES = ["\u00a0", "\u2003", "\u3000", "\u0085", "\u2028", "\u202f", "\ufeff"]
"""Characters Python's ``str.strip()`` removes (or, U+FEFF, that looks like nothing) but XML
Schema's whitespace facet does not: only space, tab, CR and LF are XML white space."""


def _with_text(data: bytes, element: str, value: str, new: str) -> bytes:
    """``data`` with the text ``value`` of the first ``element`` (local name) replaced."""
    pattern = re.compile(rf"(<[a-z0-9]+:{element}>){re.escape(value)}(</)".encode())
    out, count = pattern.subn(lambda m: m[1] + new.encode() + m[2], data, count=1)
    assert count == 1, element
    return out


TYPED_ELEMENTS = [
    # element, its text in the built WMO301, reason, path the rejection names
    ("Ingangsdatum", "2026-01-10", "bad-date", "ToegewezenProduct[1]/Ingangsdatum"),
    ("Toewijzingsdatum", "2026-01-08", "bad-date", "ToegewezenProduct[1]/Toewijzingsdatum"),
    ("Dagtekening", "2026-01-08", "bad-date", "BerichtIdentificatie/Dagtekening"),
    ("ToewijzingNummer", "101", "invalid", "ToegewezenProduct[1]/ToewijzingNummer"),
    ("Toewijzingstijd", "13:09:00", "invalid", "ToegewezenProduct[1]/Toewijzingstijd"),
    ("Categorie", "02", "unknown-value", "ToegewezenProduct[1]/Product/Categorie"),
    ("Afzender", "9999", "invalid", "Header/Afzender"),
    ("BerichtCode", "414", "unknown-value", "Header/BerichtCode"),
    ("BerichtVersie", "3", "wrong-version", "Header/BerichtVersie"),
    ("BerichtXsdVersie", "1.0.0", "invalid", "XsdVersie/BerichtXsdVersie"),
]


@pytest.mark.parametrize("pad", [("\u00a0", ""), ("", "\u00a0"), ("\u2003", ""), ("", "\u2003")])
@pytest.mark.parametrize("case", TYPED_ELEMENTS, ids=[case[0] for case in TYPED_ELEMENTS])
def test_a_unicode_space_around_a_typed_value_is_rejected_at_its_element(
    tmp_path: Path, case: tuple[str, str, str, str], pad: tuple[str, str]
) -> None:
    """Known gap: ``Message.text`` used ``str.strip()``, which also strips a non-breaking space,
    an em space, …; XML Schema's whitespace collapse concerns only space, tab, CR and LF, so
    ``\\u00a02026-01-10`` is no xs:date (and no xs:string type of the basisschema allows a
    space around a code, a gemeentecode or a BSN either) — yet it was published. Now it is
    rejected like any other XSD-invalid value of that element: its reason, its path, never
    the value."""
    element, value, reason, path = case
    data = build([allocation("101", JAN8, JAN10)])
    bad = _with_text(data, element, value, pad[0] + value + pad[1])
    assert xsd_errors(bad) != []
    reason_found, path_found, text = rejection(read(tmp_path, bad))
    assert (reason_found, path_found.endswith(path)) == (reason, True), (path_found, text)
    assert (pad[0] or pad[1]) not in text  # the value is never shown


@pytest.mark.parametrize("space", ["\u00a0", "\u2003", "\u3000"])
def test_a_bsn_with_a_unicode_space_is_rejected_as_bsn(tmp_path: Path, space: str) -> None:
    """LDT_BurgerServicenummer is ``[0-9]{9}``: with a non-breaking space it is no BSN. The
    adapter leaves BSN checks to the catalogue (reason ``bsn``, per product, as for every bad
    BSN); ``str.strip()`` used to make it a good one."""
    data = build([allocation("101", JAN8, JAN10)])
    bad = _with_text(data, "Bsn", "999990019", space + "999990019")
    assert xsd_errors(bad) != []
    (record,) = read(tmp_path, bad)
    assert record.event is not None
    with pytest.raises(InvalidEvent) as raised:
        validate_input(record.event, PSEUDONYMISER)
    assert raised.value.reason == "bsn"


@pytest.mark.parametrize("space", [" ", "\t", "\r\n", "\n  "])
@pytest.mark.parametrize("element", ["Ingangsdatum", "ToewijzingNummer", "Toewijzingstijd"])
def test_xml_white_space_around_a_date_number_or_time_is_still_read(
    tmp_path: Path, element: str, space: str
) -> None:
    """xs:date, xs:integer and xs:time collapse XML white space: such a message is XSD-valid
    and gives the same event as without it."""
    data = build([allocation("101", JAN8, JAN10)])
    value = {"Ingangsdatum": "2026-01-10", "ToewijzingNummer": "101", "Toewijzingstijd": "13:09:00"}
    padded = _with_text(data, element, value[element], space + value[element] + space)
    assert xsd_errors(padded) == []
    assert events(read(tmp_path / "a", padded)) == events(read(tmp_path / "b", data))


@pytest.mark.parametrize("space", UNICODE_SPACES)
def test_an_identificatie_with_a_unicode_space_at_an_end_is_read_as_sent(
    tmp_path: Path, space: str
) -> None:
    """LDT_IdentificatieBericht is an xs:string (white space preserved) of 1–12 characters with
    one that is not XML white space: ``\\u00a0M-0001`` is valid, and another Identificatie than
    ``M-0001`` — it was stripped to it, so two messages of one sender got the same event ids
    (the second one dropped as a duplicate)."""
    plain = build([allocation("101", JAN8, JAN10)], ident="M-0001")
    spaced = build([allocation("101", JAN8, JAN10)], ident=space + "M-0001")
    assert xsd_errors(spaced) == []
    (record,) = read(tmp_path / "b", spaced)
    assert record.event is not None, record.rejection
    (original,) = events(read(tmp_path / "a", plain))
    assert record.event["id"] != original["id"]
    assert record.event["id"] == derive_id(
        SOURCE, GEMEENTE, space + "M-0001", "2026-01-08", "414", 1, "101"
    )
    validate_input(record.event, PSEUDONYMISER)
