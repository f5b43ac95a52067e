"""No BSN in identifiers (issue 11 item 10): a record whose identifiers or attributes hold a
number that passes the elfproef is rejected with a reason (``bsn-in-identifier``) naming the
field — it used to reach Kafka and API answers in an event ``id``, ``casus_id``,
``dataschema`` or ``datacontenttype``.

What counts (:func:`schemas.pseudonym.holds_bsn`): a maximal run of exactly nine digits of any
script passing the elfproef (not all zeros), or its printed spelling ``dddd.dd.ddd`` or grouped
spelling ``ddd-ddd-ddd`` / ``ddd ddd ddd`` / ``ddd.ddd.ddd``."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.base import derive_id
from adapters.jsonlines import JsonLinesSource
from adapters.sociale_dienst import COLUMNS, SocialeDienstSource
from adapters.vroegsignalering import VroegsignaleringSource
from adapters.webhook import WebhookApp, WebhookInbox
from schemas.envelope import validate_input
from schemas.exceptions import InvalidEvent
from schemas.pseudonym import Pseudonymiser, elfproef, holds_bsn
from tests.unit.adapters.conftest import SOURCE, make_harness
from tests.unit.adapters.test_webhook import WT, structured

BSN = "999990111"  # the citizen's own, in data.bsn
OTHER = "999990020"  # another valid BSN, typed into an identifier
PSEUDONYMISER = Pseudonymiser("identifiers")


def wijkteam(**over: Any) -> dict[str, Any]:
    """The webhook tests' event; ``data_<name>`` overrides a data field."""
    event = structured(**{k: v for k, v in over.items() if not k.startswith("data_")})
    data = {k.removeprefix("data_"): v for k, v in over.items() if k.startswith("data_")}
    event["data"] = {**event["data"], **data}
    return event


def rejected(event: dict[str, Any]) -> InvalidEvent:
    with pytest.raises(InvalidEvent) as err:
        validate_input(event, PSEUDONYMISER)
    return err.value


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"id": f"casus-{OTHER}"}, "id"),
        ({"id": OTHER}, "id"),
        ({"source": f"urn:nld:oin:00000001234567890000:systeem:{OTHER}"}, "source"),
        ({"time": f"2026-01-10T09:05:00.{OTHER}+01:00"}, "time"),
        ({"datacontenttype": f"application/json; x={OTHER}"}, "datacontenttype"),
        ({"dataschema": f"https://schemas.example/{OTHER}.json"}, "dataschema"),
        ({"data_casus_id": f"W-{OTHER}"}, "data.casus_id"),
        ({"data_casus_id": int(OTHER)}, "data.casus_id"),  # a JSON number is an id too
        ({"data_casus_id": "9999.90.020"}, "data.casus_id"),  # printed spelling
        ({"data_casus_id": "casus 9999 90 020"}, "data.casus_id"),  # after a word
        ({"data_casus_id": "W 9999.90.020."}, "data.casus_id"),  # before a full stop
        ({"data_casus_id": "W ９９９９９００２０"}, "data.casus_id"),  # full-width digits
        ({"data_casus_id": "casus van 999-990-020"}, "data.casus_id"),  # grouped spelling
        ({"data_casus_id": "999 990 020"}, "data.casus_id"),
        ({"id": "W-999.990.020."}, "id"),
        ({"data_casus_id": BSN}, "data.casus_id"),  # the citizen's own BSN, copied
        # an invisible zero-width space or soft hyphen inside: shown as 999990020
        ({"data_casus_id": "W-999\u200b990020"}, "data.casus_id"),
        ({"id": "casus-99999\u00ad0020"}, "id"),
        ({"data_casus_id": "casus 999\u2013990\u2013020"}, "data.casus_id"),  # en dashes
    ],
)
def test_a_bsn_in_an_identifier_is_rejected(over: dict[str, Any], field: str) -> None:
    error = rejected(wijkteam(**over))
    assert (error.reason, error.field) == ("bsn-in-identifier", field)
    assert OTHER not in str(error) and BSN not in str(error)
    assert "9999.90.020" not in str(error) and "999-990-020" not in str(error)


@pytest.mark.parametrize(
    ("over", "why"),
    [
        ({"source": "urn:nld:oin:00000001999990020000:systeem:wmo"}, "a 20-digit OIN"),
        ({"data_casus_id": f"0{OTHER}"}, "ten digits: not a BSN"),
        ({"data_casus_id": "W-123456789"}, "fails the elfproef"),
        ({"data_casus_id": "000000000"}, "all zeros"),
        ({"data_casus_id": "T-2026-10007"}, "digits split by '-' (year + number)"),
        ({"data_casus_id": "12 9999 90 020"}, "a longer group of digits"),
        ({"data_casus_id": "9999 90 020 7"}, "a longer group of digits"),
        ({"data_casus_id": "1-999-990-020"}, "a longer group of digits"),
        ({"data_casus_id": "999-990-020-1"}, "a longer group of digits"),
        ({"data_casus_id": "999/990/020"}, "digits split by '/'"),
        ({"data_casus_id": "2026-01-05/301/00000001"}, "an iWmo-like sequence"),
        ({"id": "2026-01-10T09:05:00"}, "a timestamp"),
        ({"subject": OTHER}, "an input subject never leaves: the pseudonym replaces it"),
    ],
)
def test_what_is_not_taken_for_a_bsn(over: dict[str, Any], why: str) -> None:
    event = validate_input(wijkteam(**over), PSEUDONYMISER)  # accepted
    if "subject" in over:
        assert OTHER not in json.dumps(event.to_json()), why


def test_the_year_number_example_would_pass_the_elfproef_if_joined() -> None:
    assert elfproef("202610007")  # so the test above is not vacuous


def sd_row(n: int, traject_id: str) -> str:
    return f"{BSN};traject-gestart;2026-01-05;;;;;;{traject_id};re-integratie;;R-{n}"


@pytest.mark.parametrize(
    ("found", "reason"),
    [(OTHER, "bsn-in-identifier"), ("j.jansen@example.nl", "personal-data-in-identifier")],
)
def test_csv_rows_with_a_bsn_or_personal_data_in_an_identifier_are_quarantined(
    tmp_path: Path, found: str, reason: str
) -> None:
    path = tmp_path / "export.csv"
    rows = [sd_row(1, "T-1"), sd_row(2, f"T-{found}"), sd_row(3, "T-3")]
    path.write_text("\n".join([";".join(COLUMNS), *rows]) + "\n")
    hx = make_harness(SocialeDienstSource([path], source=SOURCE), tmp_path)
    stats = hx.runner.run_once()
    assert (stats.published, stats.by_reason) == (2, {reason: 1})
    (entry,) = [json.loads(line) for line in hx.quarantine_lines()]
    assert "data.traject_id" in entry["melding"] and found not in json.dumps(entry)
    for _, _, value in hx.publisher.raw:
        assert found.encode() not in value


def test_a_bsn_shifted_into_a_number_column_is_quarantined(tmp_path: Path) -> None:
    """A mixed-up export column: the BSN lands in dagen_achterstand, a whole number."""
    path = tmp_path / "signalen.csv"
    header = "signaal_id;bsn;partner;datum_signaal;bedrag;dagen_achterstand;dreiging"
    path.write_text(f"{header}\nS-1;{BSN};energie;2026-01-05;12,50;{OTHER};geen\n")
    hx = make_harness(VroegsignaleringSource([path], source=SOURCE), tmp_path)
    assert hx.runner.run_once().by_reason == {"bsn-in-identifier": 1}
    assert OTHER not in "\n".join(hx.quarantine_lines())


def test_vroegsignaal_id_holding_a_bsn_is_quarantined(tmp_path: Path) -> None:
    path = tmp_path / "acties.csv"
    path.write_text(f"signaal_id;bsn;datum;actie\nV{OTHER};{BSN};2026-01-05;gesprek\n")
    hx = make_harness(VroegsignaleringSource([path], source=SOURCE), tmp_path)
    assert hx.runner.run_once().by_reason == {"bsn-in-identifier": 1}


def test_json_lines_event_id_holding_a_bsn_is_quarantined(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text(json.dumps(wijkteam(id=f"id-{OTHER}")) + "\n")
    hx = make_harness(JsonLinesSource([path]), tmp_path)
    assert hx.runner.run_once().by_reason == {"bsn-in-identifier": 1}
    assert hx.publisher.acked == []


def test_webhook_answers_400_naming_the_field(tmp_path: Path) -> None:
    hx = make_harness(WebhookInbox(), tmp_path)
    app = WebhookApp(hx.runner, {"tok": WT}, max_bytes=4096, registry=hx.registry)
    body = b'{"k": 1}'
    headers = {
        "authorization": "Bearer tok",
        "content-type": "application/json",
        "content-length": str(len(body)),
        "ce-specversion": "1.0",
        "ce-id": f"x-{OTHER}",
        "ce-source": WT,
        "ce-type": "nl.wijkteams.casussen.geopend",
    }
    response = app.handle("POST", "/events", headers, lambda n: body[:n])
    assert response.status == 400
    assert (response.body["reason"], response.body["field"]) == ("bsn-in-identifier", "id")
    assert OTHER not in response.payload().decode()


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(max_size=20), max_size=4))
def test_derived_ids_never_hold_a_bsn(parts: list[str]) -> None:
    assert not holds_bsn(derive_id(*parts))
    assert derive_id(*parts) == derive_id(*parts)


def test_derived_ids_are_unchanged_unless_they_would_hold_a_bsn() -> None:
    for n in range(5000):
        plain = hashlib.sha256(f"src\x1fR-{n}".encode()).hexdigest()[:32]
        assert (derive_id("src", f"R-{n}") == plain) is not holds_bsn(plain)
    # a digest with fewer than four letters is searched like any text; this one would hold a
    # BSN, so its id is derived again
    parts = next(
        ("src", f"R-{n}")
        for n in range(10**6)
        if holds_bsn(hashlib.sha256(f"src\x1fR-{n}".encode()).hexdigest()[:32])
    )
    assert not holds_bsn(derive_id(*parts))


@pytest.mark.parametrize(
    ("token", "alone"),
    [
        ("f81d4fae-7dec-11d0-a765-00a0c91e6bf6", ""),
        ("36ebc848-8d60-4d98-9438-a999990111bc", "a999990111bc"),  # a UUID
        ("4119a833601aed2a8b01c999990111bd", "c999990111bd"),  # a 32-hex digest
    ],
)
def test_random_tokens_are_not_searched(token: str, alone: str) -> None:
    """The digits of a UUID or a hex digest are random: one in two hundred would otherwise
    be refused. The same digits outside such a token are found."""
    assert not holds_bsn(token)
    assert not holds_bsn(f"id:{token}")
    validate_input(wijkteam(id=token, data_casus_id=token), PSEUDONYMISER)
    if alone:
        assert holds_bsn(alone)


@pytest.mark.parametrize(
    "text",
    [
        "a999990111",  # letters next to the digits do not hide them
        "BSN999990111",
        "x-999990111-y",
        "0000-999990111",
    ],
)
def test_a_bsn_next_to_letters_is_still_found(text: str) -> None:
    assert holds_bsn(text)


@pytest.mark.parametrize("bedrag", [OTHER, f"{OTHER},00", "99999002,0"])
def test_a_bsn_shifted_into_the_amount_column_is_quarantined(tmp_path: Path, bedrag: str) -> None:
    """Converted to cents (99999002000) the BSN is no run of nine digits: the cell is checked."""
    path = tmp_path / "signalen.csv"
    header = "signaal_id;bsn;partner;datum_signaal;bedrag;dagen_achterstand;dreiging"
    path.write_text(f"{header}\nS-1;{BSN};energie;2026-01-05;{bedrag};30;geen\n")
    hx = make_harness(VroegsignaleringSource([path], source=SOURCE), tmp_path)
    assert hx.runner.run_once().by_reason == {"bsn-in-identifier": 1}
    assert hx.publisher.acked == []
    (entry,) = [json.loads(line) for line in hx.quarantine_lines()]
    assert entry["locatie"].endswith("signalen.csv:2 bedrag")
    assert OTHER not in json.dumps(entry)


EMAIL_ADDRESS = "j.jansen@example.nl"
ACCOUNT = "NL91ABNA0417164300"


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"id": f"melding-{EMAIL_ADDRESS}"}, "id"),
        ({"data_casus_id": EMAIL_ADDRESS}, "data.casus_id"),
        ({"data_casus_id": f"schuld/{ACCOUNT}"}, "data.casus_id"),
        ({"data_casus_id": "nl91 abna 0417 1643 00"}, "data.casus_id"),  # printed, lower case
        ({"bronsleutel": f"klant {EMAIL_ADDRESS}", "sequence": "1"}, "bronsleutel"),
        ({"bronsleutel": "rec-1", "sequence": ACCOUNT}, "sequence"),
        # dataref points at this event's own payload (a per-record URL), so it is an
        # identifier: it reached Kafka as the ce_dataref header unchecked (review-privacy)
        ({"dataref": f"https://crm.example.nl/klanten/{EMAIL_ADDRESS}/dossier"}, "dataref"),
        ({"dataref": f"https://schuld.example.nl/rekening/{ACCOUNT}"}, "dataref"),
    ],
)
def test_an_email_address_or_iban_in_an_identifier_is_rejected(
    over: dict[str, Any], field: str
) -> None:
    """``events.md``/``sources.md``: no personal data of the source in clear. An identifier
    holding an e-mail address or an IBAN is refused with its own reason, naming the field and
    the kind of data, never the value."""
    error = rejected(wijkteam(**over))
    assert (error.reason, error.field) == ("personal-data-in-identifier", field)
    message = str(error).lower()
    assert "jansen" not in message and "abna" not in message and "0417" not in message
    kind = "an e-mail address" if "@" in json.dumps(over) else "an IBAN"
    assert str(error).startswith(f"{field}: holds {kind};")


@pytest.mark.parametrize(
    ("dataref", "reason"),
    [
        (
            "https://crm.example.nl/klanten/j.jansen%40example.nl/dossier",
            "personal-data-in-identifier",
        ),
        ("https://crm.example.nl/k/999%2D990%2D111/dossier", "bsn-in-identifier"),
    ],
)
def test_a_percent_encoded_dataref_is_asked_decoded_too(dataref: str, reason: str) -> None:
    """A review: ``encodeURIComponent`` writes ``@`` as ``%40``, and the check saw no e-mail
    address (nor a BSN spelled with ``%2D``)."""
    error = rejected(wijkteam(dataref=dataref))
    assert (error.reason, error.field) == (reason, "dataref")
    assert "jansen" not in str(error) and "990" not in str(error)


def test_a_bsn_in_an_identifier_is_still_named_as_a_bsn_when_personal_data_is_there_too() -> None:
    error = rejected(wijkteam(data_casus_id=f"{EMAIL_ADDRESS} {OTHER}"))
    assert error.reason == "bsn-in-identifier"


@pytest.mark.parametrize(
    "over",
    [
        {"source": "mailto:wijkteam-noord@gemeente.example.nl"},  # names a system, no citizen
        {"data_casus_id": "casus@gemeente"},  # no top-level domain: no e-mail address
        {"data_casus_id": "NL92ABNA0417164300"},  # a wrong check digit: no IBAN
        {"data_casus_id": f"dossier{ACCOUNT}"},  # glued to a word: not looked for
    ],
)
def test_what_is_not_taken_for_personal_data(over: dict[str, Any]) -> None:
    validate_input(wijkteam(**over), PSEUDONYMISER)  # accepted
