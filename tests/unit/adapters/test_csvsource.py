"""The shared CSV machinery: cell parsers, encodings, header matching, cursor and streaming."""

from __future__ import annotations

import io
import tempfile
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from adapters.csvsource import (
    AMOUNT_MAX_DIGITS,
    MAX_LINE_BYTES,
    CellError,
    detect_encoding,
    is_binary,
    parse_amount_cents,
    parse_date,
    parse_decimal,
    parse_int,
)
from adapters.runner import plain
from adapters.sociale_dienst import COLUMNS, SocialeDienstSource
from adapters.vroegsignalering import VroegsignaleringSource
from schemas.pseudonym import elfproef
from tests.unit.adapters.conftest import SOURCE, events, make_harness, outcomes

HEADER = ";".join(COLUMNS) + "\n"


def row(n: int, bsn: str = "999990111") -> str:
    return f"{bsn};uitkering-toegekend;2026-01-05;bijstand;;;;;;;;R-{n}\n"


def source(path: Path) -> SocialeDienstSource:
    return SocialeDienstSource([path], source=SOURCE)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2026-01-05", "2026-01-05"), ("05-01-2026", "2026-01-05"), ("29-02-2024", "2024-02-29")],
)
def test_dates_in_both_spellings(text: str, expected: str) -> None:
    assert parse_date(text, "datum") == expected


@pytest.mark.parametrize("text", ["2026-02-30", "31-04-2026", "2026-13-01", "00-01-2026"])
def test_impossible_dates(text: str) -> None:
    with pytest.raises(CellError, match="not an existing calendar date") as err:
        parse_date(text, "datum")
    assert err.value.reason == "bad-date"
    assert text not in str(err.value)


@pytest.mark.parametrize("text", ["2026/01/05", "5-1-2026", "20260105", "2026-1-5", "jan 5"])
def test_badly_formatted_dates(text: str) -> None:
    with pytest.raises(CellError, match="expected a date as YYYY-MM-DD or DD-MM-YYYY"):
        parse_date(text, "datum")


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("1.234,56", 123456),
        ("1234,56", 123456),
        ("1234,5", 123450),
        ("12", 1200),
        ("0,07", 7),
        ("€ 1.234,56", 123456),
        ("1.234.567,00", 123456700),
    ],
)
def test_decimal_comma_amounts(text: str, cents: int) -> None:
    assert parse_amount_cents(text, "bedrag") == cents


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("1.234", "ambiguous"),
        ("12.345.678", "ambiguous"),
        ("12.34", "expected euros"),
        ("1,234.56", "expected euros"),
        ("12,345", "expected euros"),
        ("-10,00", "expected euros"),
        ("1.23,45", "expected euros"),
        ("", "expected euros"),
    ],
)
def test_invalid_or_ambiguous_amounts(text: str, why: str) -> None:
    with pytest.raises(CellError, match=why) as err:
        parse_amount_cents(text, "bedrag")
    assert err.value.reason == "bad-amount"


def test_numbers() -> None:
    assert parse_int("42", "x") == 42
    assert parse_decimal("12,5", "x") == 12.5
    assert parse_decimal("12.25", "x") == 12.25
    assert parse_decimal("40", "x") == 40.0
    for bad in ("4 2", "-1", "1e3", "twaalf"):
        with pytest.raises(CellError):
            parse_int(bad, "x")
    for bad in ("12,555", "1.234,5", "x"):
        with pytest.raises(CellError):
            parse_decimal(bad, "x")


def test_encoding_detection() -> None:
    assert detect_encoding(io.BytesIO("é;x\n".encode())) == "utf-8"
    assert detect_encoding(io.BytesIO(b"\xef\xbb\xbfa;b\n")) == "utf-8-sig"
    assert detect_encoding(io.BytesIO("é;x\n".encode("cp1252"))) == "cp1252"
    assert detect_encoding(io.BytesIO("a;b\n".encode("utf-16"))) is None
    assert detect_encoding(io.BytesIO(b"a\x00b")) is None
    assert detect_encoding(io.BytesIO(b"a;b\n" * 100 + b"c\x00;d\n")) == "utf-8"
    # only the first ``end`` bytes (the complete lines) decide
    assert detect_encoding(io.BytesIO("é;x\n".encode() + b"\xc3"), end=4) == "utf-8"
    assert detect_encoding(io.BytesIO("é;x\n".encode() + b"\xc3")) == "utf-8"  # 1 ≤ 1
    # a multi-byte character split over the detection chunks is still UTF-8
    big = io.BytesIO(b"a" * 65_535 + "é\n".encode())
    assert detect_encoding(big) == "utf-8"
    assert big.tell() == 0


def test_cursor_continues_after_the_last_record(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text(HEADER + row(1) + row(2) + row(3))
    records = list(source(path).records({}))
    assert [r.location.line for r in records] == [2, 3, 4]
    after_two = plain(records[1].cursor)
    rest = list(source(path).records(after_two))
    assert [r.location.line for r in rest] == [4]
    assert list(source(path).records(plain(records[-1].cursor))) == []


def test_grown_file_is_read_on_and_replaced_file_from_the_start(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text(HEADER + row(1))
    (first,) = source(path).records({})
    with path.open("a") as handle:
        handle.write(row(2))
    grown = list(source(path).records(plain(first.cursor)))
    assert [r.location.line for r in grown] == [3]
    path.write_text(HEADER + row(7) + row(8) + row(9))  # next night's export, same name
    replaced = list(source(path).records(plain(grown[-1].cursor)))
    assert [r.location.line for r in replaced] == [2, 3, 4]


def test_duplicates_are_recognised_across_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text(HEADER + row(1) + row(2) + row(1))
    records = list(source(path).records({}))
    resumed = list(source(path).records(plain(records[1].cursor)))
    assert [(r.location.line, r.rejection.reason if r.rejection else "ok") for r in resumed] == [
        (4, "duplicate")
    ]


VERSIE_HEADER = HEADER.rstrip("\n") + ";versie\n"
ACTIES_HEADER = "signaal_id;bsn;datum;actie\n"


@pytest.mark.parametrize(
    ("header", "first", "second"),
    [
        (  # versie 1 and 01 are version 1 of R-1: one event id
            VERSIE_HEADER,
            "999990111;uitkering-toegekend;2026-01-05;bijstand;;;;;;;;R-1;1\n",
            "999990123;uitkering-beeindigd;2026-02-05;;werk;;;;;;;R-1;01\n",
        ),
        (  # a date in either spelling and actie in any case: one event id
            ACTIES_HEADER,
            "S-1;999990111;2026-01-05;gesprek\n",
            "S-1;999990123;05-01-2026;Gesprek\n",
        ),
    ],
    ids=["versie", "acties"],
)
def test_a_key_spelled_otherwise_is_still_a_duplicate(
    tmp_path: Path, header: str, first: str, second: str
) -> None:
    """Review A: the duplicate check compared the raw cells, the event id is built from the
    normalised values; both rows were published under one id and the worker dropped the
    second unseen. The second is now quarantined as a duplicate of the first."""
    path = tmp_path / "x.csv"
    path.write_text(header + first + second)
    paths = [path]
    src = (
        VroegsignaleringSource(paths, source=SOURCE)
        if header == ACTIES_HEADER
        else SocialeDienstSource(paths, source=SOURCE)
    )
    hx = make_harness(src, tmp_path)
    stats = hx.runner.run_once()
    assert (stats.published, stats.by_reason) == (1, {"duplicate": 1})
    assert hx.rejected[0][:2] == (f"{path}:3", "duplicate")
    assert hx.rejected[0][2].startswith("line 3: ") and "repeats line 2" in hx.rejected[0][2]


def test_a_key_spelled_otherwise_is_a_duplicate_across_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    rows = [f"999990111;uitkering-toegekend;2026-01-05;bijstand;;;;;;;;R-1;{v}\n" for v in "12"]
    path.write_text(VERSIE_HEADER + "".join(rows))
    records = list(source(path).records({}))
    with path.open("a") as handle:
        handle.write("999990111;uitkering-toegekend;2026-01-05;bijstand;;;;;;;;R-1;002\n")
    resumed = list(source(path).records(plain(records[-1].cursor)))
    assert [(r.location.line, r.rejection.reason if r.rejection else "ok") for r in resumed] == [
        (4, "duplicate")
    ]


BAD_BSN_ROW = "999990118;uitkering-toegekend;2026-01-05;bijstand;;;;;;;;R-7\n"  # elfproef fails
BAD_DATE_ROW = "999990111;uitkering-toegekend;2026-02-30;bijstand;;;;;;;;R-7\n"
GOOD_ROW = "999990111;uitkering-toegekend;2026-01-05;bijstand;;;;;;;;R-7\n"


@pytest.mark.parametrize(
    ("rejected", "where", "reason"),
    [(BAD_BSN_ROW, ":2", "bsn"), (BAD_DATE_ROW, ":2 datum", "bad-date")],
    ids=["runner", "cell"],
)
def test_a_rejected_row_claims_no_key(
    tmp_path: Path, rejected: str, where: str, reason: str
) -> None:
    """Review B: the key was claimed before the row was validated, so the corrected row after
    a rejected one was refused as its duplicate and no version of the record was published.
    Rejected by the runner (the BSN's elfproef) or by the source (a cell), it claims nothing."""
    path = tmp_path / "x.csv"
    path.write_text(HEADER + rejected + GOOD_ROW + GOOD_ROW)
    hx = make_harness(source(path), tmp_path)
    stats = hx.runner.run_once()
    assert stats.published == 1
    assert [(where, reason) for where, reason, _ in hx.rejected] == [
        (f"{path}{where}", reason),
        (f"{path}:4", "duplicate"),
    ]
    assert hx.rejected[1][2] == "line 4: registratie_id repeats line 3; the first row wins"


def test_a_rejected_row_claims_no_key_across_a_restart(tmp_path: Path) -> None:
    """The reproduction: the corrected row is appended after the run that rejected the first;
    the next run reads on and publishes it. A row the first run published still claims its
    key: a third copy is a duplicate of it."""
    path = tmp_path / "x.csv"
    path.write_text(HEADER + BAD_BSN_ROW)
    hx = make_harness(source(path), tmp_path)
    assert hx.runner.run_once().by_reason == {"bsn": 1}
    with path.open("a") as handle:
        handle.write(GOOD_ROW)
    second = hx.runner.run_once()
    assert (second.published, second.rejected) == (1, 0)
    with path.open("a") as handle:
        handle.write(GOOD_ROW)
    third = hx.runner.run_once()
    assert (third.published, third.by_reason) == (0, {"duplicate": 1})
    assert hx.rejected[-1][2] == "line 4: registratie_id repeats line 3; the first row wins"


def test_blank_lines_are_skipped_and_crlf_accepted(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes((HEADER + row(1) + "\n  \n" + row(2)).replace("\n", "\r\n").encode())
    got = events(source(path).records({}))
    assert [e["data"]["datum"] for e in got] == ["2026-01-05", "2026-01-05"]


def test_quoted_cells_are_unquoted(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text(
        HEADER + '"999990111";"uitkering-toegekend";"2026-01-05";"bijstand";;;;;;;;"R;1"\n'
    )
    (event,) = events(source(path).records({}))
    assert event["data"]["regeling"] == "bijstand"
    path.write_text(HEADER + '"999990111;uitkering-toegekend;2026-01-05;bijstand;;;;;;;;R-1\n')
    assert outcomes(source(path).records({}), base=tmp_path) == [("x.csv:2", "malformed")]


def test_whitespace_only_file_is_empty_and_reported_once(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("\n \r\n")
    (record,) = source(path).records({})
    assert record.rejection is not None
    assert record.rejection.reason == "empty-file"
    assert list(source(path).records(plain(record.cursor))) == []


def test_blank_first_line_before_a_header(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("\n" + HEADER + row(1))
    assert outcomes(source(path).records({}), base=tmp_path) == [("x.csv:1", "columns")]


def test_a_bad_file_is_reported_once(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text(HEADER.replace(";", ",") + row(1))
    (record,) = source(path).records({})
    assert list(source(path).records(plain(record.cursor))) == []


def test_missing_file_is_a_source_failure(tmp_path: Path) -> None:
    from adapters.exceptions import AdapterError

    with pytest.raises(AdapterError, match="cannot open"):
        list(source(tmp_path / "absent.csv").records({}))


def test_huge_file_is_streamed_with_bounded_memory(tmp_path: Path) -> None:
    """A 40 MB line and 20 000 rows: read through the source, never held whole."""
    path = tmp_path / "big.csv"
    with path.open("w") as handle:
        handle.write(HEADER)
        handle.write("x" * 40_000_000 + "\n")
        for n in range(20_000):
            handle.write(row(n))
    tracemalloc.start()
    try:
        count = 0
        first = None
        for record in source(path).records({}):
            count += 1
            first = first or record
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 20_001
    assert first is not None and first.rejection is not None
    assert first.rejection.reason == "too-large"
    assert str(MAX_LINE_BYTES) in str(first.rejection)
    assert peak < 12_000_000  # far below the 41 MB file: the over-long line was skipped


@pytest.mark.parametrize(
    "text",
    [
        "999990111",  # euros: 99999011100 cents, no run of nine digits
        "999990111,00",
        "999.990.111,00",
        "€ 0999990111",  # leading zero: the euros as a number
        "99999011,1",  # all digits in a row: 9999901110 cents
        "9.999.901,11",  # 999990111 cents: the catalogue check of bedrag_cent found it too
    ],
)
def test_an_amount_that_holds_a_bsn_is_rejected(text: str) -> None:
    with pytest.raises(CellError) as err:
        parse_amount_cents(text, "bedrag")
    assert (err.value.reason, err.value.column) == ("bsn-in-identifier", "bedrag")
    assert "999990111" not in str(err.value) and "99999011" not in str(err.value)


@settings(max_examples=200)
@given(
    first8=st.text("0123456789", min_size=8, max_size=8),
    spelling=st.sampled_from(["{b}", "{b},00", "{b},5", "{g},00", "{b7},{b2}", "{b8},{b1}"]),
)
def test_no_amount_that_holds_a_bsn_is_accepted(first8: str, spelling: str) -> None:
    """However a BSN lands in the bedrag column — as euros, with thousands dots, or with its
    last digits after the decimal comma — the cell is refused, never published as cents."""
    bsn = next((first8 + d for d in "0123456789" if elfproef(first8 + d)), None)
    assume(bsn is not None and bsn[0] != "0")  # 0xxxxxxxx euros are an 8-digit number
    assert bsn is not None
    grouped = f"{bsn[:3]}.{bsn[3:6]}.{bsn[6:]}"
    text = spelling.format(b=bsn, g=grouped, b7=bsn[:7], b2=bsn[7:], b8=bsn[:8], b1=bsn[8:])
    with pytest.raises(CellError) as err:
        parse_amount_cents(text, "bedrag")
    assert err.value.reason == "bsn-in-identifier"


def test_a_utf8_bom_decides_the_encoding_whatever_follows() -> None:
    bom_then_bad_byte = io.BytesIO(b"\xef\xbb\xbfa;b\n" + b"c;d\n" * 20_000 + b"caf\xe9;x\n")
    assert detect_encoding(bom_then_bad_byte) == "utf-8-sig"
    assert bom_then_bad_byte.tell() == 0


TR_ROW = "999990111;traject-gestart;2026-02-01;;;;;;{traject};re-integratie;;X{n}\n"


def test_a_bom_file_with_one_invalid_byte_rejects_only_that_line(tmp_path: Path) -> None:
    """It used to be read as Windows-1252: the BOM became ``ï»¿`` before the header and the
    whole file was rejected for a header that does not match."""
    good = [TR_ROW.format(traject=f"TR-ré-{n}", n=n) for n in range(1, 10)]
    bad = TR_ROW.format(traject="T-caf\udce9", n=99)  # one Windows-1252 byte
    path = tmp_path / "bom.csv"
    path.write_bytes(
        b"\xef\xbb\xbf" + (HEADER + "".join(good)).encode() + bad.encode("utf-8", "surrogateescape")
    )
    records = list(source(path).records({}))
    assert outcomes(records, base=tmp_path)[-2:] == [
        ("bom.csv:10", "ok"),
        ("bom.csv:11", "encoding"),
    ]
    assert [e["data"]["traject_id"] for e in events(records)] == [
        f"TR-ré-{n}" for n in range(1, 10)
    ]
    assert str(records[-1].rejection).startswith("line 11 holds bytes that are not valid utf-8")


@settings(max_examples=25, deadline=None)
@given(
    rows=st.lists(st.integers(0, 2), min_size=1, max_size=6),
    where=st.integers(0, 40),
)
def test_a_nul_byte_anywhere_rejects_its_line_alone(rows: list[int], where: int) -> None:
    """A NUL after the first 64 KiB used to be published inside a cell. Each row with one
    (kind 1: inside a cell, kind 2: inside a quoted cell) is rejected with reason ``encoding``
    and its line number; the others are read. (Within the first 64 KiB:
    :func:`test_a_nul_in_the_first_64_kib_rejects_its_line_alone`.)"""
    filler = "".join(row(n) for n in range(1200))  # past the first 64 KiB
    tail = []
    for n, kind in enumerate(rows):
        text = TR_ROW.format(traject=f"T-{n}", n=n)
        if kind:
            cut = min(where, len(text) - 1)
            text = text[:cut] + "\x00" + text[cut:]
            if kind == 2:
                text = text.replace(f"T-{n}", f'"T-\x00{n}"')
        tail.append(text)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.csv"
        path.write_bytes((HEADER + filler + "".join(tail)).encode())
        assert len(HEADER + filler) > 65_536
        records = list(source(path).records({}))
    assert len(records) == 1200 + len(rows)
    for n, (kind, record) in enumerate(zip(rows, records[1200:], strict=True)):
        assert record.location.line == 1202 + n
        if kind:
            assert record.rejection is not None
            assert record.rejection.reason == "encoding"
            assert str(record.rejection).startswith(f"line {1202 + n} holds a NUL byte")
        else:
            assert record.event is not None
    for event in events(records):
        assert not any("\x00" in str(value) for value in event["data"].values())


def test_a_nul_in_the_first_64_kib_rejects_its_line_alone(tmp_path: Path) -> None:
    """Review D: one NUL byte in the first 64 KiB rejected the whole export as "UTF-16 or
    binary" (every good row lost into one rejection), while after 64 KiB it rejected only its
    own line. It now rejects its own line wherever it is."""
    nul_row = TR_ROW.format(traject="T\x007", n=99)
    path = tmp_path / "x.csv"
    path.write_text(HEADER + row(1) + nul_row + "".join(row(n) for n in range(2, 50)))
    records = list(source(path).records({}))
    assert len(records) == 50
    assert outcomes(records, base=tmp_path)[:3] == [
        ("x.csv:2", "ok"),
        ("x.csv:3", "encoding"),
        ("x.csv:4", "ok"),
    ]
    assert str(records[1].rejection) == (
        "line 3 holds a NUL byte; export the file as text (UTF-8 or Windows-1252)"
    )


@pytest.mark.parametrize(
    "content",
    [
        (HEADER + row(1)).encode("utf-16-le"),  # UTF-16 without BOM: every other byte NUL
        (HEADER + row(1)).encode("utf-16-be"),
        (HEADER + row(1)).encode("utf-16"),  # with BOM
        (HEADER + row(1)).encode("utf-32"),
        b"PK\x03\x04\x14\x00\x06\x00" + bytes(range(256)) * 4,  # an .xlsx given as export
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 40,  # an .xls
    ],
    ids=["utf16le", "utf16be", "utf16-bom", "utf32", "xlsx", "xls"],
)
def test_utf16_and_binary_files_are_still_rejected_as_a_whole(
    tmp_path: Path, content: bytes
) -> None:
    assert is_binary(content[:65_536])
    path = tmp_path / "x.csv"
    path.write_bytes(content)
    (record,) = source(path).records({})
    assert record.rejection is not None
    assert record.rejection.reason == "encoding"
    assert str(record.rejection) == (
        "the file is UTF-16 or binary; export it as UTF-8 or Windows-1252"
    )


def test_a_half_written_multibyte_character_does_not_decide_the_encoding(tmp_path: Path) -> None:
    """Review E: the encoding was detected over the whole file, the last line still being
    written included; a UTF-8 export caught inside ``ë`` was read as Windows-1252, and the
    rows already complete published ``TR-ZoÃ«-1`` — no longer the ``TR-Zoë-1`` of the rows
    read once the file was complete. Only complete lines decide the encoding."""
    rows = [
        "999990111;traject-gestart;2026-01-05;;;;;;TR-Zoë-1;re-integratie;;R1\n",
        "999990111;traject-beeindigd;2026-03-05;;werk;;;;TR-Zoë-1;;;R2\n",
    ]
    full = (HEADER + "".join(rows)).encode()
    cut = len((HEADER + rows[0]).encode()) + rows[1].encode().index("ë".encode()) + 1
    path = tmp_path / "x.csv"
    path.write_bytes(full[:cut])
    hx = make_harness(source(path), tmp_path)
    hx.runner.source.watching = True  # continuous mode: the half-written line waits
    hx.runner.run_once()
    path.write_bytes(full)
    hx.runner.run_once()
    assert [e.data["traject_id"] for e in hx.publisher.acked] == ["TR-Zoë-1", "TR-Zoë-1"]


def test_one_bad_byte_in_a_utf8_export_rejects_its_line_not_the_encoding(tmp_path: Path) -> None:
    """Review E: a UTF-8 export without BOM with one byte that is not valid UTF-8 was read
    whole as Windows-1252, every ``é`` published as ``Ã©``. sources.md allows UTF-8 or
    Windows-1252 — such a file is neither — so its valid UTF-8 decides and the damaged line is
    rejected (``encoding``), as in a file with a BOM. A Windows-1252 export, whose accented
    letters are never valid UTF-8, is still read as Windows-1252."""
    good = [TR_ROW.format(traject=f"TR-ré-{n}", n=n) for n in range(1, 4)]
    bad = TR_ROW.format(traject="T-caf\udce9", n=99).encode("utf-8", "surrogateescape")
    path = tmp_path / "x.csv"
    path.write_bytes((HEADER + "".join(good)).encode() + bad)
    records = list(source(path).records({}))
    assert outcomes(records, base=tmp_path) == [
        ("x.csv:2", "ok"),
        ("x.csv:3", "ok"),
        ("x.csv:4", "ok"),
        ("x.csv:5", "encoding"),
    ]
    assert [e["data"]["traject_id"] for e in events(records)] == ["TR-ré-1", "TR-ré-2", "TR-ré-3"]
    cp1252 = tmp_path / "cp.csv"
    cp1252.write_bytes((HEADER + "".join(good)).encode("cp1252"))
    assert detect_encoding(cp1252.open("rb")) == "cp1252"


# Digit runs of any length, far beyond the 4,300 digits Python's int() converts.
long_digits = st.builds(
    lambda digits, times: digits * times,
    st.text("0123456789", min_size=1, max_size=10),
    st.integers(min_value=1, max_value=700),
)


@given(digits=long_digits, groups=st.integers(min_value=0, max_value=1500))
def test_amounts_of_any_length_are_cents_or_a_cell_error(digits: str, groups: int) -> None:
    """Review B2: ``"1" + ".000" * 1434 + ",00"`` raised ``ValueError`` (4,303 digits), which
    stopped the vroegsignalering adapter. An amount is cents if its euros have at most
    AMOUNT_MAX_DIGITS digits, else ``bad-amount`` — never another exception, never the value
    echoed; the whole-number and decimal parsers likewise raise only ``bad-number``."""
    grouped = "1" + ".000" * groups + ",00"
    if groups <= (AMOUNT_MAX_DIGITS - 1) // 3:
        assert parse_amount_cents(grouped, "bedrag") == 10 ** (3 * groups) * 100
    else:
        with pytest.raises(CellError, match="more than 12 digits") as err:
            parse_amount_cents(grouped, "bedrag")
        assert err.value.reason == "bad-amount" and ".000.000" not in str(err.value)
    for text in (digits, digits + ",00"):
        try:
            cents = parse_amount_cents(text, "bedrag")
        except CellError as exc:
            assert exc.reason in {"bad-amount", "bsn-in-identifier"}
            assert len(digits) > AMOUNT_MAX_DIGITS or exc.reason == "bsn-in-identifier"
            assert digits not in str(exc) or len(digits) < 3
        else:
            assert len(digits) <= AMOUNT_MAX_DIGITS and cents == int(digits) * 100
    for parse in (parse_int, parse_decimal):
        try:
            parse(digits, "x")
        except CellError as exc:
            assert exc.reason == "bad-number" and len(digits) > 6


def test_an_over_long_last_line_that_grows_is_quarantined_once(tmp_path: Path) -> None:
    """A one-shot run reads an over-long last line without its newline (``too-large``); when
    the file goes on, that same line was quarantined a second time (found by a review)."""
    path = tmp_path / "x.csv"
    path.write_bytes((HEADER + row(1)).encode() + b"x" * 70_000)
    hx = make_harness(SocialeDienstSource([path], source=SOURCE), tmp_path)
    hx.runner.run_once()
    with path.open("ab") as handle:
        handle.write(b"yyy\n" + row(2).encode())
    stats = hx.runner.run_once()
    assert (stats.published, stats.rejected) == (1, 0)
    assert [r[:2] for r in hx.rejected] == [(f"{path}:3", "too-large")]


@pytest.mark.parametrize("hint", ["\ufeffsep=;\r\n", "sep=; \n", " SEP=;\t\r\n"])
def test_excels_separator_hint_before_the_header_is_passed_over(tmp_path: Path, hint: str) -> None:
    """Some exports write Excel's separator hint ``sep=;`` on line 1 so that Excel opens them
    with the right delimiter; the header follows on line 2. Such a file used to be rejected
    whole (``columns``, every column named as missing) and none of its rows was read. Spaces
    around the hint are allowed (a review found ``sep=; `` rejected again)."""
    path = tmp_path / "export.csv"
    bad = row(2).replace("2026-01-05", "2026-02-30")
    path.write_bytes((hint + HEADER + row(1) + bad).encode())
    hx = make_harness(source(path), tmp_path)
    stats = hx.runner.run_once()
    assert (stats.published, stats.by_reason) == (1, {"bad-date": 1})
    assert hx.rejected[0][0] == f"{path}:4 datum"  # line numbers as in the file


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sep=,\n" + HEADER + row(1), ("delimiter", "line 1: Excel's separator hint names ','")),
        ("sep=\t\n" + HEADER + row(1), ("delimiter", "line 1: Excel's separator hint names a tab")),
        ("sep=;\n" + HEADER.replace("datum", "dag"), ("columns", "line 2: the header does not")),
        ("sep=;\n\n" + HEADER, ("columns", "line 2 is blank; the header must be on line 2")),
        ("sep=;\n", ("empty-file", "empty file")),
    ],
)
def test_a_separator_hint_that_is_not_followed_by_a_header_is_one_clear_rejection(
    tmp_path: Path, text: str, expected: tuple[str, str]
) -> None:
    path = tmp_path / "export.csv"
    path.write_text(text)
    hx = make_harness(source(path), tmp_path)
    stats = hx.runner.run_once()
    assert stats.published == 0
    [(_, reason, message)] = hx.rejected
    assert (reason, message[: len(expected[1])]) == expected
