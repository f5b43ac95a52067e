"""Property tests through the runner (issue 11 item 4): arbitrary bytes, text and JSON thrown
at every adapter except iWmo (its fuzzing is in ``test_fuzz.py``) — CSV sociale dienst,
vroegsignalering, JSON lines (``publish``), wijkteam bulk, outbox rows and the webhook.

Whatever the input:
- no exception escapes ``Runner.run_once`` / ``WebhookApp.handle`` (a record boundary);
- every record read is either published (acknowledged) or quarantined with a reason — the
  counts add up, and no record is quarantined as an internal defect or as an event that
  validated but did not encode;
- no BSN-looking string of the input (a maximal run of nine digits, any script) appears in a
  quarantine entry, a dead letter or a webhook answer, and no published event holds a possible
  BSN outside its pseudonym (``holds_bsn``).

Builds on the strategies and helpers of ``test_fuzz.py``; examples are moderate in number and
without deadline so that ``make test`` stays fast on two cores.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Iterator
from itertools import product
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.base import Record, Source
from adapters.csvsource import is_binary
from adapters.jsonlines import JsonLinesSource
from adapters.sociale_dienst import SocialeDienstSource
from adapters.vroegsignalering import VroegsignaleringSource
from adapters.webhook import WebhookApp, WebhookInbox
from adapters.wijkteam import WijkteamSource
from schemas.pseudonym import holds_bsn
from tests.unit.adapters.conftest import SOURCE, Harness, make_harness, outbox_record
from tests.unit.adapters.test_fuzz import SD_HEADER, VALID_BSNS, VS_HEADER, WT, cells

RUNS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
BSN_LIKE = re.compile(r"(?<!\d)\d{9}(?!\d)")  # Unicode digits: full-width, Arabic-Indic, …
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
STRANGE_BSNS = [VALID_BSNS[0].translate(FULL_WIDTH), VALID_BSNS[1].translate(ARABIC_INDIC)]
BAD_OUTCOMES = {"internal-error", "unencodable"}

TYPES = [
    "nl.wijkteams.casussen.geopend",
    "nl.wijkteams.zrm.vastgesteld",
    "nl.wgs.vroegsignalen.ontvangen",
    "nl.participatiewet.trajecten.gestart",
    "nl.wmo.voorzieningen.toegewezen",
    "nl.schakel.signalen.gesignaleerd",
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=2**31 - 2, max_value=2**64),
    st.floats(),
    st.text(max_size=16),
    st.sampled_from([*VALID_BSNS, *STRANGE_BSNS, "2026-01-05", "2026-02-30", "\ud800"]),
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=10,
)
data_objects = st.fixed_dictionaries(
    {},
    optional={
        "bsn": st.one_of(st.sampled_from([*VALID_BSNS, *STRANGE_BSNS]), json_values),
        "datum": st.one_of(st.sampled_from(["2026-01-05", "05-01-2026"]), json_values),
        "casus_id": json_values,
        "signaal_id": json_values,
        "traject_id": json_values,
        "toewijzing_nummer": json_values,
        "scores": st.dictionaries(
            st.one_of(st.sampled_from(["financien", "werk-opleiding"]), st.text(max_size=12)),
            st.one_of(st.integers(-2, 7), json_values),
            max_size=3,
        ),
        "partner": st.sampled_from(["energie", "Energie", "x"]),
        "bedrag_cent": json_values,
        "dagen_achterstand": json_values,
        "dreiging": st.sampled_from(["geen", "x"]),
        "soort": st.sampled_from(["re-integratie", "x"]),
        "uren_per_week": json_values,
        "ingangsdatum": st.sampled_from(["2026-01-05", "x"]),
    },
)
events = st.fixed_dictionaries(
    {},
    optional={
        "specversion": st.sampled_from(["1.0", "1.0", "0.3", 1]),
        "id": st.one_of(st.text(max_size=12), st.sampled_from(VALID_BSNS), json_values),
        "source": st.one_of(st.sampled_from([WT, SOURCE]), json_values),
        "type": st.one_of(st.sampled_from(TYPES), st.text(max_size=30), json_values),
        "time": st.one_of(st.sampled_from(["2026-01-01T00:00:00+01:00", "x"]), json_values),
        "subject": json_values,
        "datacontenttype": json_values,
        "dataschema": json_values,
        "data": st.one_of(data_objects, json_values),
    },
)


def event_text(value: Any, ascii_only: bool) -> str:
    return json.dumps(value, ensure_ascii=ascii_only)


# one input line: an event, any JSON, arbitrary text or bytes, or a crafted parser edge case
raw_lines = st.one_of(
    st.builds(event_text, events, st.booleans()),
    st.builds(event_text, json_values, st.just(True)),
    st.text(max_size=60),
    st.binary(max_size=60),
    st.sampled_from(
        [
            '{"specversion": "1.0", "data": {"casus_id": ' + "7" * 5000 + "}}",
            '{"data": {"uren_per_week": NaN}}',
            '{"data": {"uren_per_week": 1e999}}',
            '{"id": "\\udc80"}',
            "[" * 100_000,
            "",
        ]
    ),
)


def as_bytes(line: str | bytes) -> bytes:
    return line if isinstance(line, bytes) else line.encode("utf-8", errors="surrogatepass")


def bsn_like(data: bytes) -> set[str]:
    """Every maximal run of nine digits (any script) in the input, as text."""
    text = data.decode("utf-8", errors="replace")
    return set(BSN_LIKE.findall(text)) | set(BSN_LIKE.findall(data.decode("cp1252", "replace")))


def lines_read(data: bytes, *, watching: bool, skip: int = 0) -> int:
    """The non-blank lines after the first ``skip`` that a run reads: in continuous mode
    (``watching``) the complete ones; in a one-shot run the last line without its newline
    too."""
    segments = data.split(b"\n")[skip:]
    if watching:
        segments = segments[:-1]
    return sum(1 for segment in segments if segment.strip())


def harness(source: Source, tmp: Path, *, watching: bool) -> Harness:
    """:func:`make_harness`, the source reading its files as in continuous mode or not."""
    source.watching = watching
    return make_harness(source, tmp)


def check_run(hx: Harness, expected_records: int, secrets: set[str]) -> None:
    stats = hx.runner.run_once()  # must not raise
    assert stats.read == expected_records
    assert stats.read == stats.published + stats.rejected + stats.duplicates
    assert len(hx.publisher.acked) == stats.published
    entries = [json.loads(line) for line in hx.quarantine_lines()]
    assert len(entries) == stats.rejected
    assert all(e["reden"] and e["reden"] not in BAD_OUTCOMES for e in entries), entries
    for event in hx.publisher.acked:  # identifiers and attributes hold no possible BSN
        published = {k: v for k, v in event.to_json().items() if k != "subject"}
        assert not holds_bsn(json.dumps(published, ensure_ascii=False))
    dead_letters = [value for _topic, _key, value in hx.publisher.raw]
    assert len(dead_letters) == stats.rejected
    quarantined = "\n".join(hx.quarantine_lines())
    for secret in secrets:
        assert secret not in quarantined
        assert all(secret.encode() not in value for value in dead_letters)


_DIR = tempfile.TemporaryDirectory(prefix="schakel-fuzz-runner-")


def fresh(name: str) -> Path:
    """An empty directory per example (checkpoints and quarantine must not carry over)."""
    return Path(tempfile.mkdtemp(prefix=name, dir=_DIR.name))


@RUNS
@given(st.lists(raw_lines, max_size=6), st.booleans())
def test_json_lines_adapters_never_stop(lines: list[str | bytes], final_newline: bool) -> None:
    data = b"\n".join(as_bytes(line) for line in lines) + (b"\n" if final_newline else b"")
    secrets = bsn_like(data)
    for make in (JsonLinesSource, WijkteamSource):
        for watching in (True, False):
            tmp = fresh("jsonl")
            path = tmp / "events.jsonl"
            path.write_bytes(data)
            expected = lines_read(data, watching=watching)
            check_run(harness(make([path]), tmp, watching=watching), expected, secrets)


class OutboxRows(Source):
    """Outbox rows as PostgreSQL hands them out (``event::text``), without a server."""

    name = "outbox"

    def __init__(self, texts: list[str]) -> None:
        self.texts = texts

    def records(self, cursor: Any) -> Iterator[Record]:
        for n, text in enumerate(self.texts, start=1):
            yield outbox_record(n, text)


@RUNS
@given(st.lists(raw_lines.map(lambda v: as_bytes(v).decode("utf-8", "replace")), max_size=6))
def test_outbox_never_stops(texts: list[str]) -> None:
    tmp = fresh("outbox")
    secrets = bsn_like("\n".join(texts).encode())
    check_run(make_harness(OutboxRows(texts), tmp), len(texts), secrets)


csv_cells = st.one_of(
    cells,
    st.sampled_from(
        [
            *STRANGE_BSNS,
            "9" * 5000,
            "٣",
            "２０２６-01-05",
            "1e999",
            "NaN",
            "arbeidsvermogen-vastgesteld",
            "gedeeltelijk",
            "energie",
        ]
    ),
)


@RUNS
@given(
    st.lists(st.lists(csv_cells, min_size=4, max_size=13), max_size=6),
    st.sampled_from([SD_HEADER, VS_HEADER, "signaal_id;bsn;datum;actie"]),
    st.sampled_from(["utf-8", "cp1252"]),
    st.booleans(),
)
def test_csv_adapters_never_stop(
    rows: list[list[str]], header: str, encoding: str, final_newline: bool
) -> None:
    text = "\n".join([header, *(";".join(r) for r in rows)]) + ("\n" if final_newline else "")
    data = text.encode(encoding, errors="replace")
    secrets = bsn_like(data)
    sociale_dienst = header == SD_HEADER
    for make, watching in product((SocialeDienstSource, VroegsignaleringSource), (True, False)):
        tmp = fresh("csv")
        path = tmp / "export.csv"
        path.write_bytes(data)
        matches = sociale_dienst == (make is SocialeDienstSource)
        expected = lines_read(data, watching=watching, skip=1)
        # a header of the other adapter rejects the whole file once (once line 1 is read)
        other = 1 if b"\n" in data or not watching else 0
        if is_binary(data[:65_536]):  # UTF-16 or binary: rejected as a whole, once
            expected = other = 1  # (a stray NUL rejects only its line)
        source = make([path], source=SOURCE)
        check_run(harness(source, tmp, watching=watching), expected if matches else other, secrets)


WEBHOOK_STATUSES = {202, 400, 401, 403, 411, 413, 415, 429}


@RUNS
@given(
    st.one_of(raw_lines, st.binary(max_size=200)),
    st.sampled_from(["application/cloudevents+json", "application/json", "text/plain", ""]),
    st.dictionaries(
        st.sampled_from(["ce-specversion", "ce-id", "ce-source", "ce-type", "ce-time"]),
        st.one_of(st.sampled_from(["1.0", WT, TYPES[0], *VALID_BSNS]), st.text(max_size=12)),
        max_size=5,
    ),
)
def test_webhook_always_answers(body: str | bytes, content_type: str, ce: dict[str, str]) -> None:
    tmp = fresh("webhook")
    hx = make_harness(WebhookInbox(), tmp)
    app = WebhookApp(hx.runner, {"tok": WT}, max_bytes=1 << 20, registry=hx.registry)
    raw = as_bytes(body)
    headers = {"authorization": "Bearer tok", "content-length": str(len(raw)), **ce}
    if content_type:
        headers["content-type"] = content_type
    response = app.handle("POST", "/events", headers, lambda n: raw[:n])  # must not raise
    hx.runner.close()
    assert response.status in WEBHOOK_STATUSES
    answer = json.loads(response.payload())
    assert len(response.payload()) <= 1024
    if response.status == 202:
        assert len(hx.publisher.acked) == 1
    else:
        assert hx.publisher.acked == []
        assert answer["reason"] and answer["reason"] not in BAD_OUTCOMES
    answered = response.payload().decode()
    quarantined = "\n".join(hx.quarantine_lines())
    for secret in bsn_like(raw) | bsn_like(json.dumps(ce, ensure_ascii=False).encode()):
        assert secret not in answered
        assert secret not in quarantined
