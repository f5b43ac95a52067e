"""Property-based fuzzing of every parser and of the webhook request handler: whatever the
input, nothing raises, every record carries exactly one of event / rejection, and no message
holds a BSN (a run of nine digits)."""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.base import Record
from adapters.csvsource import CellError, parse_amount_cents, parse_date, parse_decimal
from adapters.iwmo import IwmoSource
from adapters.jsonlines import JsonLinesSource
from adapters.sociale_dienst import COLUMNS, SocialeDienstSource
from adapters.vroegsignalering import VroegsignaleringSource
from adapters.webhook import WebhookApp, WebhookInbox
from adapters.wijkteam import WijkteamSource
from schemas.envelope import validate_input
from schemas.exceptions import InvalidEvent
from schemas.pseudonym import Pseudonymiser
from tests.unit.adapters.conftest import SAMPLES, SOURCE, make_harness, outbox_record

NINE_DIGITS = re.compile(r"(?<!\d)\d{9}(?!\d)")
VALID_BSNS = ["999990019", "999990020", "999990032", "999990044", "999990111"]
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PSEUDONYMISER = Pseudonymiser("fuzz")

SD_HEADER = ";".join(COLUMNS)
VS_HEADER = "signaal_id;bsn;partner;datum_signaal;bedrag;dagen_achterstand;dreiging"
cells = st.one_of(
    st.sampled_from(
        [
            "",
            "bijstand",
            "werk",
            "uitkering-toegekend",
            "traject-gestart",
            "2026-01-05",
            "30-02-2026",
            "1.234,56",
            "1.234",
            "12,5",
            "x;y",
            '"q"',
            "3",
            "é",
            *VALID_BSNS,
        ]
    ),
    st.text(max_size=12),
)


def check(records: Iterable[Record]) -> None:
    for record in records:
        assert (record.event is None) != (record.rejection is None)
        if record.rejection is not None:
            assert not NINE_DIGITS.search(str(record.rejection)), str(record.rejection)
            assert not NINE_DIGITS.search(str(record.location))
            continue
        try:
            validate_input(record.event, PSEUDONYMISER)
        except InvalidEvent as exc:
            assert not NINE_DIGITS.search(str(exc)), str(exc)


_DIR = tempfile.TemporaryDirectory(prefix="schakel-fuzz-")  # removed when the module goes


def _write(data: bytes, name: str) -> Path:
    """(Over)write one input file; every example reads it completely before the next one."""
    path = Path(_DIR.name) / name
    path.write_bytes(data)
    return path


@FUZZ
@given(st.binary(max_size=2000))
def test_csv_random_bytes(data: bytes) -> None:
    path = _write(data, "x.csv")
    check(SocialeDienstSource([path], source=SOURCE).records({}))
    check(VroegsignaleringSource([path], source=SOURCE).records({}))


@FUZZ
@given(
    st.lists(st.lists(cells, min_size=10, max_size=13), max_size=8),
    st.sampled_from(["utf-8", "cp1252", "utf-8-sig"]),
    st.sampled_from(["\n", "\r\n"]),
)
def test_csv_structured_rows(rows: list[list[str]], encoding: str, newline: str) -> None:
    for header in (SD_HEADER, VS_HEADER):
        text = newline.join([header, *(";".join(r) for r in rows)]) + newline
        path = _write(text.encode(encoding, errors="replace"), "x.csv")
        check(SocialeDienstSource([path], source=SOURCE).records({}))
        check(VroegsignaleringSource([path], source=SOURCE).records({}))


@FUZZ
@given(st.text(max_size=30))
def test_cell_parsers(text: str) -> None:
    for parse in (parse_date, parse_amount_cents, parse_decimal):
        try:
            parse(text, "c")
        except CellError as exc:
            assert not NINE_DIGITS.search(str(exc))


TEMPLATE = (SAMPLES / "iwmo" / "2026-01-20_WMO301_0002.xml").read_text()
SLOTS = [
    "414",
    "999990056",
    "26000021",
    "01",
    "2026-01-20",
    "2026-01-22",
    "2026-07-21",
    ">3<",
    ">2<",
    "9999",
]


@FUZZ
@given(st.binary(max_size=3000))
def test_iwmo_random_bytes(data: bytes) -> None:
    path = _write(data, "m.xml")
    check(IwmoSource(path, source=SOURCE, max_bytes=2048, pseudonymiser=PSEUDONYMISER).records({}))


@FUZZ
@given(st.lists(st.tuples(st.sampled_from(SLOTS), st.text(max_size=10)), max_size=5), st.booleans())
def test_iwmo_mutated_messages(changes: list[tuple[str, str]], drop: bool) -> None:
    text = TEMPLATE
    for slot, value in changes:
        escaped = value.replace("&", "&amp;").replace("<", "&lt;")
        text = text.replace(slot, f">{escaped}<" if slot.startswith(">") else escaped, 1)
    if drop:
        text = text.replace("<WMO301:Ingangsdatum>2026-01-22</WMO301:Ingangsdatum>", "", 1)
    path = _write(text.encode("utf-8", errors="replace"), "m.xml")
    records = list(
        IwmoSource(path, source=SOURCE, max_bytes=1 << 20, pseudonymiser=PSEUDONYMISER).records({})
    )
    assert records
    check(records)


@FUZZ
@given(
    st.lists(
        st.one_of(
            st.binary(max_size=200), st.sampled_from([b"{}", b"[]", b"null", b'{"type": 1}'])
        ),
        max_size=6,
    )
)
def test_jsonlines_random_lines(lines: list[bytes]) -> None:
    path = _write(b"\n".join(lines), "e.jsonl")
    check(JsonLinesSource([path]).records({}))
    check(WijkteamSource([path]).records({}))


@FUZZ
@given(st.text(max_size=200))
def test_outbox_row_parsing(text: str) -> None:
    check([outbox_record(1, text)])


WT = "urn:nld:oin:00000001234567890000:systeem:wijkteam"
header_names = st.sampled_from(
    [
        "content-type",
        "content-length",
        "authorization",
        "ce-specversion",
        "ce-id",
        "ce-source",
        "ce-type",
        "ce-time",
        "transfer-encoding",
        "x-other",
    ]
)
header_values = st.one_of(
    st.sampled_from(
        [
            "application/cloudevents+json",
            "application/json",
            "Bearer tok",
            "1.0",
            WT,
            "nl.wijkteams.casussen.geopend",
            "2026-01-01T00:00:00+01:00",
            "12",
            "-1",
            "chunked",
            *VALID_BSNS,
        ]
    ),
    st.text(max_size=20),
)
event_bodies = st.fixed_dictionaries(
    {},
    optional={
        "specversion": st.sampled_from(["1.0", "0.3", 1]),
        "id": st.one_of(st.text(max_size=10), st.sampled_from(VALID_BSNS)),
        "source": st.sampled_from([WT, "urn:x", ""]),
        "type": st.sampled_from(
            ["nl.wijkteams.casussen.geopend", "nl.wijkteams.zrm.vastgesteld", "nl.wmo.x", "x"]
        ),
        "time": st.sampled_from(["2026-01-01T00:00:00+01:00", "gisteren", VALID_BSNS[0]]),
        "data": st.one_of(
            st.fixed_dictionaries(
                {},
                optional={
                    "bsn": st.one_of(st.sampled_from(VALID_BSNS), st.text(max_size=11)),
                    "datum": st.sampled_from(["2026-01-01", "2026-02-30", VALID_BSNS[1]]),
                    "casus_id": st.one_of(st.text(max_size=9), st.integers()),
                    "scores": st.dictionaries(st.text(max_size=12), st.integers(-2, 7), max_size=3),
                },
            ),
            st.integers(),
        ),
    },
)


@FUZZ
@given(
    st.sampled_from(["POST", "GET", "PUT"]),
    st.sampled_from(["/events", "/", "/metrics", "/x?y=1"]),
    st.dictionaries(header_names, header_values, max_size=6),
    st.one_of(st.binary(max_size=300), event_bodies.map(lambda e: json.dumps(e).encode())),
    st.booleans(),
)
def test_webhook_handler(
    method: str, path: str, headers: dict[str, str], body: bytes, auth: bool
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        hx = make_harness(WebhookInbox(), Path(tmp))
        app = WebhookApp(hx.runner, {"tok": WT}, max_bytes=256, registry=hx.registry)
        if auth:
            headers = {**headers, "authorization": "Bearer tok", "content-length": str(len(body))}
        response = app.handle(method, path, headers, lambda n: body[: max(n, 0)])
        hx.runner.close()
        assert response.status in {200, 202, 400, 401, 403, 404, 405, 411, 413, 415}
        if path != "/metrics":
            assert not NINE_DIGITS.search(response.payload().decode()), response.body
        for line in hx.quarantine_lines():
            assert not NINE_DIGITS.search(json.loads(line)["melding"])
        if response.status == 202:
            assert len(hx.publisher.acked) == 1
        else:
            assert hx.publisher.acked == []
