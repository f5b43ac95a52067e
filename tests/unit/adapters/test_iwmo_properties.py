"""Property tests of the iWmo adapter (issue 11, item 4): whatever a file holds — arbitrary
bytes, arbitrary XML in the iWmo vocabulary, or a valid message with arbitrary edits — no
exception escapes the source or the runner, one bad record never stops the others, and every
file ends as published events, quarantined records (each with a reason) or one skipped
record; no BSN appears in a reason, a location or the quarantine."""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.base import Record
from adapters.iwmo import IwmoSource
from adapters.iwmo.versions import NUMMER_MAX, published_nummer
from adapters.runner import RunStats
from schakel.synth.bsn import check_digit
from schemas.envelope import validate_input
from schemas.exceptions import InvalidEvent
from schemas.pseudonym import Pseudonymiser, could_be_bsn
from tests.unit.adapters.conftest import KEY, SOURCE, make_harness
from tests.unit.adapters.iwmo_support import allocation, build, start, stop

NINE_DIGITS = re.compile(r"(?<!\d)\d{9}(?!\d)")
PROPERTY = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PSEUDONYMISER = Pseudonymiser(KEY)
NS = "http://www.istandaarden.nl/iwmo/{release}/{msg}/schema"


def check_records(records: list[Record]) -> None:
    """Every record is exactly one of event / rejection / skipped; no BSN in what is said."""
    assert records, "every file yields at least one record"
    for record in records:
        kinds = [record.event is not None, record.rejection is not None, bool(record.skipped)]
        assert kinds.count(True) == 1, record
        assert not NINE_DIGITS.search(str(record.location)), str(record.location)
        if record.rejection is not None:
            assert record.rejection.reason
            assert not NINE_DIGITS.search(str(record.rejection)), str(record.rejection)
        elif record.event is not None:
            try:
                validate_input(record.event, PSEUDONYMISER)
            except InvalidEvent as exc:
                assert exc.reason
                assert not NINE_DIGITS.search(str(exc)), str(exc)


def run_files(contents: Iterable[bytes]) -> RunStats:
    """Write the files to a fresh inbox and run them through the source and the runner."""
    with tempfile.TemporaryDirectory(prefix="schakel-iwmo-") as tmp:
        inbox = Path(tmp) / "inbox"
        inbox.mkdir()
        files = list(contents)
        for n, data in enumerate(files):
            (inbox / f"{n:03d}.xml").write_bytes(data)
        source = IwmoSource(inbox, source=SOURCE, max_bytes=1 << 16, pseudonymiser=PSEUDONYMISER)
        records = list(source.records({}))
        per_file = {Path(r.location.file).name for r in records}
        assert len(per_file) == len(files)  # no file is silently dropped
        check_records(records)
        hx = make_harness(
            IwmoSource(inbox, source=SOURCE, max_bytes=1 << 16, pseudonymiser=PSEUDONYMISER),
            Path(tmp),
        )
        stats = hx.runner.run_once()
        hx.runner.close()
        assert stats.read == len(records)
        assert stats.read == stats.published + stats.rejected + stats.skipped + stats.duplicates
        lines = [json.loads(line) for line in hx.quarantine_lines()]
        assert len(lines) == stats.rejected
        for line in lines:
            assert line["reden"] and line["melding"]
            assert not NINE_DIGITS.search(line["melding"] + line["locatie"])
        assert hx.runner.run_once().read == 0  # everything was checkpointed
        return stats


@PROPERTY
@given(st.lists(st.binary(max_size=3000), min_size=1, max_size=3))
def test_arbitrary_bytes(files: list[bytes]) -> None:
    run_files(files)


NAMES = [
    "Bericht",
    "Header",
    "BerichtCode",
    "BerichtVersie",
    "BerichtSubversie",
    "Afzender",
    "Ontvanger",
    "BerichtIdentificatie",
    "Identificatie",
    "Dagtekening",
    "XsdVersie",
    "BerichtXsdVersie",
    "BasisschemaXsdVersie",
    "Client",
    "Bsn",
    "ToegewezenProducten",
    "ToegewezenProduct",
    "StartProducten",
    "StartProduct",
    "StopProducten",
    "StopProduct",
    "ToewijzingNummer",
    "Product",
    "Categorie",
    "Toewijzingsdatum",
    "Toewijzingstijd",
    "Ingangsdatum",
    "Einddatum",
    "Begindatum",
    "RedenBeeindiging",
    "RedenWijziging",
    "StatusAanlevering",
]
TEXTS = st.one_of(
    st.sampled_from(
        [
            "414",
            "418",
            "420",
            "3",
            "2",
            "1.0.0",
            "9999",
            "98765432",
            "M-1",
            "2026-01-08",
            "2026-02-30",
            "12:00:00",
            "999990019",
            "123456782",
            "000101",
            "02",
            "19",
            "20",
            "13",
            "1",
            "3",
            "",
        ]
    ),
    st.text(max_size=12),
)
SPACES = st.sampled_from(
    [
        NS.format(release="3_2", msg="wmo301"),
        NS.format(release="3_2", msg="wmo305"),
        NS.format(release="3_2", msg="wmo307"),
        NS.format(release="3_2", msg="wmo315"),
        NS.format(release="3_2", msg="basisschema"),
        NS.format(release="3_1", msg="wmo301"),
        "urn:other",
        "",
    ]
)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@st.composite
def elements(draw: Any, depth: int = 0) -> str:
    name = draw(st.sampled_from(NAMES))
    space = draw(SPACES)
    tag = f"n{depth}:{name}" if space else name
    xmlns = f' xmlns:n{depth}="{space}"' if space else ""
    if depth >= 5 or draw(st.booleans()):
        return f"<{tag}{xmlns}>{_escape(draw(TEXTS))}</{tag}>"
    children = draw(st.lists(elements(depth + 1), max_size=4))
    return f"<{tag}{xmlns}>{''.join(children)}</{tag}>"


@PROPERTY
@given(st.lists(elements(), min_size=1, max_size=3))
def test_arbitrary_xml_in_the_iwmo_vocabulary(documents: list[str]) -> None:
    run_files(doc.encode("utf-8") for doc in documents)


JAN8, JAN10, JAN12 = date(2026, 1, 8), date(2026, 1, 10), date(2026, 1, 12)
VALID = [
    build([allocation("101", JAN8, JAN10), allocation("000102", JAN8, JAN10, categorie=None)]),
    build([start("101", JAN10), start("102", JAN10, "3"), start("102", JAN12, "2")]),
    build([stop("101", JAN10, JAN12, "20"), stop("101", JAN10, JAN12, "19", "3")]),
]
TAG = re.compile(rb"<(/?)([\w]+):(\w+)")


@st.composite
def edited(draw: Any) -> bytes:
    """A valid message with a few arbitrary edits of element texts, names or whole elements."""
    data: bytes = draw(st.sampled_from(VALID))
    for _ in range(draw(st.integers(1, 4))):
        values = re.findall(rb">([^<>]+)<", data)
        action = draw(st.sampled_from(["text", "drop", "rename", "truncate"]))
        if action == "text" and values:
            old = draw(st.sampled_from(values))
            new = _escape(draw(TEXTS)).encode("utf-8")
            data = data.replace(b">" + old + b"<", b">" + new + b"<", 1)
        elif action == "drop":
            name = draw(st.sampled_from(NAMES)).encode()
            data = re.sub(rb"<(\w+):" + name + rb">[^<]*</\1:" + name + rb">", b"", data, count=1)
        elif action == "rename":
            a, b = draw(st.sampled_from(NAMES)).encode(), draw(st.sampled_from(NAMES)).encode()
            data = data.replace(b":" + a + b">", b":" + b + b">")
        else:
            data = data[: draw(st.integers(0, len(data)))]
    return data


@PROPERTY
@given(st.lists(edited(), min_size=1, max_size=3))
def test_valid_messages_with_arbitrary_edits(files: list[bytes]) -> None:
    run_files(files)


def test_one_bad_file_never_stops_the_others() -> None:
    good = [build([start("101", JAN10), start("102", JAN12)], ident=f"S-{n}") for n in range(3)]
    stats = run_files(
        [b"<half", good[0], b"\x00\xff", good[1].replace(b">418<", b">999<"), good[2]]
    )
    assert (stats.read, stats.published, stats.rejected) == (7, 4, 3)


NINE_DIGITS_THAT_COULD_BE_A_BSN = (
    st.integers(10_000_000, 99_999_999)
    .map(lambda first8: (str(first8), check_digit(str(first8))))
    .filter(lambda pair: pair[1] is not None)
    .map(lambda pair: int(f"{pair[0]}{pair[1]}"))
)
"""Nine-digit LDT_Nummers that pass the elfproef (one in eleven of 100000000–999999999)."""


def _one_record(data: bytes) -> Record:
    """The one record IwmoSource reads from a file holding ``data``."""
    with tempfile.TemporaryDirectory(prefix="schakel-iwmo-") as tmp:
        path = Path(tmp) / "m.xml"
        path.write_bytes(data)
        (record,) = IwmoSource(
            path, source=SOURCE, max_bytes=1 << 16, pseudonymiser=PSEUDONYMISER
        ).records({})
    return record


@PROPERTY
@given(
    number=st.one_of(st.integers(0, NUMMER_MAX), NINE_DIGITS_THAT_COULD_BE_A_BSN),
    zeros=st.integers(0, 3),
    kind=st.sampled_from(["WMO301", "WMO305", "WMO307"]),
)
def test_any_xsd_valid_toewijzing_nummer_is_published(number: int, zeros: int, kind: str) -> None:
    """Review t10: every LDT_Nummer (0–999999999, any leading zeros) is read and published,
    never refused as ``bsn-in-identifier``: one that could be a BSN as its keyed token."""
    nummer = "0" * zeros + str(number)
    product = {
        "WMO301": allocation(nummer, JAN8, JAN10),
        "WMO305": start(nummer, JAN10),
        "WMO307": stop(nummer, JAN10, JAN12, "20"),
    }[kind]
    data = build([product])  # checked against the official XSD
    record = _one_record(data)
    assert record.event is not None, record.rejection
    event = validate_input(record.event, PSEUDONYMISER)  # what the runner does: not refused
    assert event.data["toewijzing_nummer"] == published_nummer(str(number), PSEUDONYMISER)
    bsn_like = number >= 100_000_000 and could_be_bsn(str(number))
    assert (event.data["toewijzing_nummer"] == str(number)) == (not bsn_like)
    stats = run_files([data])
    assert (stats.published, stats.rejected) == (1, 0)


DAYS = st.dates(date(2000, 1, 1), date(2040, 12, 31))


@PROPERTY
@given(ingang=DAYS, eind=DAYS, reden=st.sampled_from([None, "01", "02", "13"]))
def test_an_allocation_is_published_exactly_when_it_does_not_end_before_it_begins(
    ingang: date, eind: date, reden: str | None
) -> None:
    """Any two XSD-valid dates: an Einddatum before the Ingangsdatum is rejected (``invalid``,
    at the Einddatum), an equal one with RedenWijziging 01/13 is a withdrawal, every other
    allocation is published as it is."""
    native = {"reden_wijziging": reden} if reden else {}
    record = _one_record(build([allocation("101", JAN8, ingang, eind, **native)]))
    if eind < ingang:
        assert record.rejection is not None and record.rejection.reason == "invalid"
        assert (record.location.path or "").endswith("/ToegewezenProduct[1]/Einddatum")
        return
    assert record.event is not None, record.rejection
    event = validate_input(record.event, PSEUDONYMISER)
    withdrawn = eind == ingang and reden in ("01", "13")
    assert (event.type == "nl.schakel.bron.verwijderd") == withdrawn
    if not withdrawn:
        assert (event.data["ingangsdatum"], event.data["einddatum"]) == (ingang, eind)


@PROPERTY
@given(begin=DAYS, eind=DAYS, status=st.sampled_from(["1", "2", "3", "9"]))
def test_a_stop_is_published_exactly_when_it_does_not_end_before_it_begins(
    begin: date, eind: date, status: str
) -> None:
    """A StopProduct whose Einddatum is before its Begindatum is rejected, unless it withdraws
    the record (StatusAanlevering 3: only its key is used)."""
    record = _one_record(build([stop("101", begin, eind, "19", status)]))
    if eind < begin and status != "3":
        assert record.rejection is not None and record.rejection.reason == "invalid"
        assert (record.location.path or "").endswith("/StopProduct[1]/Einddatum")
        return
    assert record.event is not None, record.rejection
    validate_input(record.event, PSEUDONYMISER)


XML_SPACES = st.text(alphabet=" \t\r\n", max_size=4)
OTHER_SPACES = [c for c in map(chr, range(0x20, 0x3001)) if c.isspace() and c not in " \t\r\n"]
"""Every space Python's ``str.strip()`` removes that is an XML character but no XML white
space: U+0085, U+00A0, U+1680, U+2000–U+200A, U+2028, U+2029, U+202F, U+205F, U+3000."""
_VALUES = {  # element of the built StopProduct → its text there (dates, number, codes)
    "Begindatum": "2026-01-10",
    "Einddatum": "2026-01-12",
    "ToewijzingNummer": "101",
    "RedenBeeindiging": "19",
    "StatusAanlevering": "1",
    "Categorie": "02",
    "Dagtekening": "2026-01-08",
    "Ontvanger": "9999",
}


@PROPERTY
@given(
    element=st.sampled_from(sorted(_VALUES)),
    before=XML_SPACES,
    after=XML_SPACES,
    other=st.none() | st.sampled_from(OTHER_SPACES),
    at_start=st.booleans(),
)
def test_only_xml_white_space_around_a_value_is_ignored(
    element: str, before: str, after: str, other: str | None, at_start: bool
) -> None:
    """Any XML white space around a date, number or code of a WMO307 gives the event of the
    message without it; one other Unicode space (non-breaking, em, ideographic, …) anywhere in
    that padding makes the value XSD-invalid, and the record is rejected at that element —
    never published, never showing the value."""
    plain = build([stop("101", JAN10, JAN12, "19", "1")])
    value = _VALUES[element]
    if other is not None:
        before, after = (other + before, after) if at_start else (before, after + other)
    pattern = re.compile(rf"(<[a-z0-9]+:{element}>){re.escape(value)}(</)".encode())
    padded, count = pattern.subn(
        lambda m: m[1] + (before + value + after).encode() + m[2], plain, count=1
    )
    assert count == 1
    record = _one_record(padded)
    if other is None:
        assert record.event is not None, record.rejection
        assert record.event == _one_record(plain).event
        return
    assert record.rejection is not None and record.event is None
    assert (record.location.path or "").endswith(f"/{element}"), record.location
    assert other not in str(record.rejection)
