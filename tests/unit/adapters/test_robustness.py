"""One bad record never stops a source (issue 11 item 4): whatever a record holds, the adapter
goes on — the record is quarantined with a reason and the records after it are published.

Reproductions: a BSN in full-width (``９９９９９０１１１``) or Arabic-Indic digits passed the
BSN check (``str.isdigit`` / ``\\d`` accept them) and then crashed on ``encode("ascii")``; a
JSON integer of more than 4,300 digits raised an uncaught ``ValueError``. Every adapter exited
without checkpoint or quarantine, on every rerun; the webhook dropped the connection."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from adapters.base import Source
from adapters.iwmo import IwmoSource
from adapters.iwmo import source as iwmo_source
from adapters.jsonlines import JsonLinesSource
from adapters.sociale_dienst import COLUMNS, SocialeDienstSource
from adapters.vroegsignalering import VroegsignaleringSource
from adapters.webhook import WebhookApp, WebhookInbox
from adapters.wijkteam import WijkteamSource
from schemas.exceptions import InvalidBsn, RegistryUnavailable
from schemas.pseudonym import validate_bsn
from tests.unit.adapters.conftest import (
    PSEUDONYMISER,
    SAMPLES,
    SOURCE,
    Harness,
    make_harness,
    outbox_record,
)

BSN = "999990111"
FULL_WIDTH = BSN.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
ARABIC_INDIC = BSN.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
HUGE = "9" * 5000
WT = "urn:nld:oin:00000001234567890000:systeem:wijkteam"
TOKEN = "robust-token"


@pytest.mark.parametrize("bsn", [FULL_WIDTH, ARABIC_INDIC, "９99990111"])
def test_a_bsn_is_nine_ascii_digits(bsn: str) -> None:
    assert bsn.isdigit()  # what the check relied on
    with pytest.raises(InvalidBsn, match="9 digits"):
        validate_bsn(bsn)


def event(n: int, bsn: str = BSN, **data: Any) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": f"wt-{n}",
        "source": WT,
        "type": "nl.wijkteams.casussen.geopend",
        "data": {"bsn": bsn, "datum": "2026-01-05", "casus_id": f"C-{n}", **data},
    }


# (description, raw JSON text of the bad line, expected reason)
BAD_JSON = [
    ("full-width BSN", json.dumps(event(2, FULL_WIDTH), ensure_ascii=False), "bsn"),
    ("Arabic-Indic BSN", json.dumps(event(2, ARABIC_INDIC)), "bsn"),
    ("5000-digit integer", json.dumps(event(2)).replace('"C-2"', HUGE), "malformed"),
    ("5000-digit integer in data.bsn", json.dumps(event(2)).replace(f'"{BSN}"', HUGE), "malformed"),
    ("lone surrogate", json.dumps(event(2)).replace('"C-2"', '"\\ud800"'), "bad-type"),
    ("line break in an identifier", json.dumps(event(2)).replace('"C-2"', '"C-\\r2"'), "bad-type"),
    ("ANSI escape in the id", json.dumps(event(2)).replace('"wt-2"', '"\\u001b[2J"'), "bad-type"),
    ("NaN", json.dumps(event(2)).replace('"C-2"', "NaN"), "malformed"),
    ("1e999", json.dumps(event(2)).replace('"C-2"', "1e999"), "malformed"),
]


def lines_file(tmp: Path, bad: str) -> Path:
    path = tmp / "events.jsonl"
    path.write_text(json.dumps(event(1)) + "\n" + bad + "\n" + json.dumps(event(3)) + "\n")
    return path


def assert_goes_on(hx: Harness, reason: str) -> None:
    stats = hx.runner.run_once()
    assert (stats.read, stats.published, stats.rejected) == (3, 2, 1), stats
    assert stats.by_reason == {reason: 1}
    assert hx.runner.checkpoint.load()  # a checkpoint was stored
    (entry,) = [json.loads(line) for line in hx.quarantine_lines()]
    assert entry["reden"] == reason
    assert BSN not in entry["melding"] and HUGE[:20] not in entry["melding"]


@pytest.mark.parametrize(("what", "bad", "reason"), BAD_JSON, ids=[c[0] for c in BAD_JSON])
@pytest.mark.parametrize("kind", ["publish", "wijkteam"])
def test_json_lines_adapters_go_on(
    tmp_path: Path, kind: str, what: str, bad: str, reason: str
) -> None:
    path = lines_file(tmp_path, bad)
    source: Source = JsonLinesSource([path]) if kind == "publish" else WijkteamSource([path])
    assert_goes_on(make_harness(source, tmp_path), reason)


class Rows(Source):
    """Outbox rows as the database hands them out (``event::text``), without a database."""

    name = "outbox"

    def __init__(self, texts: list[str]) -> None:
        self.texts = texts

    def records(self, cursor: Any) -> Any:
        for n, text in enumerate(self.texts, start=1):
            yield outbox_record(n, text)


@pytest.mark.parametrize(("what", "bad", "reason"), BAD_JSON, ids=[c[0] for c in BAD_JSON])
def test_outbox_goes_on(tmp_path: Path, what: str, bad: str, reason: str) -> None:
    rows = [json.dumps(event(1)), bad, json.dumps(event(3))]
    assert_goes_on(make_harness(Rows(rows), tmp_path), reason)


SD_HEADER = ";".join(COLUMNS)


def sd_row(n: int, bsn: str = BSN, trede: str = "") -> str:
    return f"{bsn};arbeidsvermogen-vastgesteld;2026-01-05;;;gedeeltelijk;{trede};;;;;R-{n}"


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (sd_row(2, FULL_WIDTH), "bsn"),
        (sd_row(2, ARABIC_INDIC), "bsn"),
        (sd_row(2, trede="٣"), "bad-number"),  # an Arabic-Indic 3 is not a trede
        (sd_row(2).replace("2026-01-05", "２０２６-01-05"), "bad-date"),
    ],
)
def test_sociale_dienst_goes_on(tmp_path: Path, bad: str, reason: str) -> None:
    path = tmp_path / "export.csv"
    path.write_text("\n".join([SD_HEADER, sd_row(1), bad, sd_row(3)]) + "\n", encoding="utf-8")
    assert_goes_on(make_harness(SocialeDienstSource([path], source=SOURCE), tmp_path), reason)


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (f"S-2;{FULL_WIDTH};energie;2026-01-05;12,50;30;geen", "bsn"),
        # a quoted cell may hold a CR (only LF ends a line): not in an identifier
        (f'"S-\r2";{BSN};energie;2026-01-05;12,50;30;geen', "bad-type"),
        (f'"S-\x0c2";{BSN};energie;2026-01-05;12,50;30;geen', "bad-type"),
    ],
)
def test_vroegsignalering_goes_on(tmp_path: Path, bad: str, reason: str) -> None:
    header = "signaal_id;bsn;partner;datum_signaal;bedrag;dagen_achterstand;dreiging"
    rows = [
        f"S-1;{BSN};energie;2026-01-05;12,50;30;geen",
        bad,
        f"S-3;{BSN};energie;2026-01-05;12,50;30;geen",
    ]
    path = tmp_path / "signalen.csv"
    path.write_bytes(("\n".join([header, *rows]) + "\n").encode("utf-8"))
    hx = make_harness(VroegsignaleringSource([path], source=SOURCE), tmp_path)
    assert_goes_on(hx, reason)


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("dagen_achterstand", 2**40, "out-of-range"),  # an Avro int holds 32 bits
        ("bedrag_cent", 2**70, "out-of-range"),  # an Avro long holds 64 bits
    ],
)
def test_numbers_that_do_not_fit_their_avro_type_are_rejected(
    tmp_path: Path, field: str, value: int, reason: str
) -> None:
    def signal(n: int, **over: Any) -> dict[str, Any]:
        data = {
            "bsn": BSN,
            "datum": "2026-01-05",
            "signaal_id": f"S-{n}",
            "partner": "energie",
            "bedrag_cent": 1250,
            "dagen_achterstand": 30,
            "dreiging": "geen",
            **over,
        }
        return {**event(n), "type": "nl.wgs.vroegsignalen.ontvangen", "data": data}

    path = tmp_path / "events.jsonl"
    lines = [signal(1), signal(2, **{field: value}), signal(3)]
    path.write_text("".join(json.dumps(e) + "\n" for e in lines))
    assert_goes_on(make_harness(JsonLinesSource([path]), tmp_path), reason)


@pytest.mark.parametrize(("what", "bad", "reason"), BAD_JSON, ids=[c[0] for c in BAD_JSON])
def test_webhook_answers_400_with_a_reason(
    tmp_path: Path, what: str, bad: str, reason: str
) -> None:
    hx = make_harness(WebhookInbox(), tmp_path)
    app = WebhookApp(hx.runner, {TOKEN: WT}, max_bytes=1 << 20, registry=hx.registry)
    body = bad.encode("utf-8")
    headers = {
        "authorization": f"Bearer {TOKEN}",
        "content-type": "application/cloudevents+json",
        "content-length": str(len(body)),
    }
    response = app.handle("POST", "/events", headers, lambda n: body[:n])
    assert response.status == 400
    answer = json.loads(response.payload())
    assert answer["reason"] == reason
    assert BSN not in response.payload().decode() and FULL_WIDTH not in answer["message"]
    assert hx.publisher.acked == []


# ---------------------------------------------------------------- parsers met by huge numbers


def test_iwmo_goes_on_after_a_toewijzing_nummer_of_4301_digits(tmp_path: Path) -> None:
    """Review B1: ``int()`` of 4,301 digits raised ``ValueError`` out of ``run_once``; the
    adapter died on that file at every restart and never read a later one."""
    template = (SAMPLES / "iwmo" / "2026-01-20_WMO301_0002.xml").read_text()
    assert template.count(">26000021<") == 1
    inbox = tmp_path / "in"
    inbox.mkdir()
    (inbox / "a_bad.xml").write_text(template.replace(">26000021<", f">{'9' * 4301}<"))
    (inbox / "b_good.xml").write_text(template.replace(">26000021<", ">26000099<"))
    hx = make_harness(
        IwmoSource(inbox, source=SOURCE, max_bytes=1 << 20, pseudonymiser=PSEUDONYMISER), tmp_path
    )
    stats = hx.runner.run_once()
    assert stats.by_reason == {"invalid": 1} and stats.published == stats.read - 1
    (entry,) = [json.loads(line) for line in hx.quarantine_lines()]
    assert entry["locatie"].endswith(
        "a_bad.xml Bericht/Client/ToegewezenProducten/ToegewezenProduct[1]/ToewijzingNummer"
    )
    assert "9999" not in entry["melding"]
    published = {e.data["toewijzing_nummer"] for e in hx.publisher.acked}
    assert "26000099" in published
    assert hx.runner.run_once().read == 0  # both files are done


def test_vroegsignalering_goes_on_after_an_amount_of_4303_digits(tmp_path: Path) -> None:
    """Review B2: ``"1" + ".000" * 1434 + ",00"`` raised ``ValueError`` out of ``run_once``."""
    header = "signaal_id;bsn;partner;datum_signaal;bedrag;dagen_achterstand;dreiging"
    huge = "1" + ".000" * 1434 + ",00"
    rows = [
        f"S-{n};{BSN};energie;2026-01-05;{amount};30;geen"
        for n, amount in ((1, "12,50"), (2, huge), (3, "1.234,56"))
    ]
    path = tmp_path / "signalen.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    assert_goes_on(
        make_harness(VroegsignaleringSource([path], source=SOURCE), tmp_path), "bad-amount"
    )


# ---------------------------------------------------------------- a defect met by one record


def _raise_on(marker: str, exc: Exception, original: Any) -> Any:
    def mapping(*args: Any, **kwargs: Any) -> Any:
        if marker in repr(args) + repr(kwargs):
            raise exc
        return original(*args, **kwargs)

    return mapping


def test_a_defect_met_by_one_csv_row_quarantines_that_row_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """An exception no parser should raise (a defect, here a ValueError quoting the BSN as
    ``int()`` does) is met by one row: that row is quarantined ``internal-error``, the defect
    logged with the row's location and the code that raised it, never its message; the
    other rows are published."""
    original = VroegsignaleringSource.map_row
    defect = ValueError(f"invalid literal for int() with base 10: '{BSN}'")
    monkeypatch.setattr(VroegsignaleringSource, "map_row", _raise_on("S-2", defect, original))
    header = "signaal_id;bsn;partner;datum_signaal;bedrag;dagen_achterstand;dreiging"
    rows = [f"S-{n};{BSN};energie;2026-01-05;12,50;30;geen" for n in (1, 2, 3)]
    path = tmp_path / "signalen.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    with caplog.at_level("ERROR", logger="schakel.adapters"):
        assert_goes_on(
            make_harness(VroegsignaleringSource([path], source=SOURCE), tmp_path), "internal-error"
        )
    (logged,) = [r for r in caplog.records if r.getMessage() == "adapter.mapping_defect"]
    assert logged.__dict__["location"].endswith("signalen.csv:3")
    assert logged.__dict__["error"] == "ValueError"
    assert logged.__dict__["raised_at"].startswith("test_robustness.py:")
    assert BSN not in caplog.text


def test_an_outage_met_while_mapping_a_row_stops_the_run_and_quarantines_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = VroegsignaleringSource.map_row
    outage = RegistryUnavailable("registry unreachable")
    monkeypatch.setattr(VroegsignaleringSource, "map_row", _raise_on("S-2", outage, original))
    header = "signaal_id;bsn;partner;datum_signaal;bedrag;dagen_achterstand;dreiging"
    rows = [f"S-{n};{BSN};energie;2026-01-05;12,50;30;geen" for n in (1, 2, 3)]
    path = tmp_path / "signalen.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    hx = make_harness(VroegsignaleringSource([path], source=SOURCE), tmp_path)
    with pytest.raises(RegistryUnavailable):
        hx.runner.run_once()
    assert hx.quarantine_lines() == [] and not hx.runner.checkpoint.load()


@pytest.mark.parametrize(
    ("where", "target"), [("product", "map_product"), ("message", "read_header")]
)
def test_a_defect_met_by_one_iwmo_product_or_message_quarantines_it_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str, target: str
) -> None:
    """The first call of the mapping (``map_product``: the first product of ``a_bad.xml``;
    ``read_header``: its header) meets a defect: that product or file is quarantined
    ``internal-error``, the other products and the next file are published."""
    template = (SAMPLES / "iwmo" / "2026-01-20_WMO301_0002.xml").read_text()
    inbox = tmp_path / "in"
    inbox.mkdir()
    (inbox / "a_bad.xml").write_text(template)
    (inbox / "b_good.xml").write_text(template.replace(">26000021<", ">26000099<"))
    products = len(
        list(
            IwmoSource(
                inbox / "b_good.xml", source=SOURCE, max_bytes=1 << 20, pseudonymiser=PSEUDONYMISER
            ).records({})
        )
    )
    original = getattr(iwmo_source, target)
    calls: list[int] = []

    def first_call_fails(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise KeyError("defect")
        return original(*args, **kwargs)

    monkeypatch.setattr(iwmo_source, target, first_call_fails)
    hx = make_harness(
        IwmoSource(inbox, source=SOURCE, max_bytes=1 << 20, pseudonymiser=PSEUDONYMISER), tmp_path
    )
    stats = hx.runner.run_once()
    assert stats.by_reason == {"internal-error": 1}
    (entry,) = [json.loads(line) for line in hx.quarantine_lines()]
    assert entry["reden"] == "internal-error"
    if where == "product":
        assert entry["locatie"].endswith(
            "a_bad.xml Bericht/Client/ToegewezenProducten/ToegewezenProduct[1]"
        )
        assert stats.published == 2 * products - 1
    else:
        assert entry["locatie"].endswith("a_bad.xml")
        assert stats.published == products
