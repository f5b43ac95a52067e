"""``GET /api/v1/inzage`` over what is on ``schakel.inzage`` (docs/api.md): any producer may
write to the topic, so a record that is no audit record — not Confluent wire format, or
another event type — is listed as ``onleesbaar`` with its time only, never with its content
and never as an answer of 500 for the whole page (which would keep the auditor from the
trail); in an audit record, a subject that is no pseudonym is ``[ongeldig]`` and a possible
BSN in its text is masked. Records made as the worker makes them (:class:`AuditTrail`), read
from a stand-in for the topic (:mod:`.api_harness`)."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import struct
from types import SimpleNamespace
from typing import Any, cast

import fastavro
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import streams.inzage_page
from schemas.catalogue import catalogue
from schemas.envelope import Event, validate_input
from schemas.exceptions import RegistryUnavailable
from schemas.pseudonym import Pseudonymiser
from schemas.registry import LocalRegistry, local_schema_id
from schemas.serde import RecordDeserializer, RecordSerializer
from schemas.settings import ApiToken
from streams.audit import AUDIT_TYPE, AuditTrail
from streams.inzage_page import audit_row
from streams.purpose import InvalidPurpose, clean_purpose
from streams.topicpage import Page

from .api_harness import serve

AUDITOR = {"Authorization": "Bearer token-carla", "X-Doel": "controle van de inzage"}
BSN = "123456782"
PSEUDONYM = "a111222333bbbbbbbbbbbbbbbbbbbbbb"
"""A pseudonym with nine digits in it that could be a BSN: kept as it is, in ``subject`` and
in ``wat`` (a pseudonym is no BSN)."""
REGISTRY = LocalRegistry()
SERIALIZE = RecordSerializer(REGISTRY)
TRAIL = AuditTrail("localhost:1", "schakel.inzage", SERIALIZE, "urn:schakel:test")
ANNA = ApiToken("anna", "regisseur", "token-anna")
TIMESTAMP = 1764547200456
"""The Kafka timestamp of every record: 2025-12-01T00:00:00.456Z."""


def on_topic(value: bytes, offset: int) -> Any:
    return SimpleNamespace(offset=offset, timestamp=TIMESTAMP, key=b"k", value=value, headers=[])


def audit_record(event: Event) -> bytes:
    return SERIALIZE(event, "schakel.inzage")


def listed(values: list[bytes], monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    records = [on_topic(value, offset) for offset, value in enumerate(values)]
    monkeypatch.setattr(
        streams.inzage_page,
        "read_page",
        lambda *args, **kwargs: Page(records=records, total=len(records)),
    )

    async def run() -> Any:
        async with serve(deserializer=RecordDeserializer(REGISTRY)) as api:
            response = await api.client.get("/api/v1/inzage", headers=AUDITOR)
            assert response.status == 200, await response.text()
            assert response.headers["X-Inzage-Id"] == "audit-1"
            return await response.json()

    body = asyncio.run(run())
    assert BSN not in str(body)
    return list(body["inzage"])


def test_an_audit_record_is_listed_as_the_worker_wrote_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    event = TRAIL.event(
        ANNA, "casusoverleg", f"GET /api/v1/burgers/{PSEUDONYM}/tijdlijn", PSEUDONYM
    )
    listing = TRAIL.event(ANNA, "casusoverleg", "GET /api/v1/signalen?pagina=1", None)
    # an id is random hex: nine digits in it that could be a BSN are kept as they are too
    listing = dataclasses.replace(listing, id="c111222333dddddddddddddddddddddd")
    rows = listed([audit_record(event), audit_record(listing)], monkeypatch)
    assert rows == [
        {
            "id": event.id,
            "subject": PSEUDONYM,
            "wie": "anna",
            "rol": "regisseur",
            "doel": "casusoverleg",
            "wat": f"GET /api/v1/burgers/{PSEUDONYM}/tijdlijn",
            "tijd": event.data["tijd"],
            "onleesbaar": False,
            "offset": 0,
        },
        {
            "id": listing.id,
            "subject": None,
            "wie": "anna",
            "rol": "regisseur",
            "doel": "casusoverleg",
            "wat": "GET /api/v1/signalen?pagina=1",
            "tijd": listing.data["tijd"],
            "onleesbaar": False,
            "offset": 1,
        },
    ]


def test_what_is_no_audit_record_is_listed_unreadable_without_its_content(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    raw = {
        "specversion": "1.0",
        "id": "wmo-3",
        "source": "urn:nld:oin:00000001234567890000:systeem:wmo",
        "type": "nl.wmo.aanvragen.afgewezen",
        "data": {"bsn": BSN, "datum": "2026-02-01", "reden": "werk-passender"},
    }
    foreign = validate_input(raw, Pseudonymiser("test-pseudonym-key-0123456789abcdef"))
    values = [
        f"geen avro {BSN}".encode(),  # not the Confluent wire format
        SERIALIZE(foreign, "schakel.wmo.events"),  # a citizen's event on the wrong topic
    ]
    unreadable = {
        "id": None,
        "subject": None,
        "wie": None,
        "rol": None,
        "doel": None,
        "wat": None,
        "tijd": "2025-12-01T00:00:00.456+00:00",
        "onleesbaar": True,
    }
    # its offset says where it is, for whoever may read the topic itself
    assert listed(values, monkeypatch) == [
        {**unreadable, "offset": 0},
        {**unreadable, "offset": 1},
    ]


def test_a_forged_audit_record_shows_no_bsn(monkeypatch: pytest.MonkeyPatch) -> None:
    forged = TRAIL.event(
        ApiToken(f"mallory {BSN}", "regisseur", "x"),
        f"overleg over {BSN}",
        f"GET /api/v1/burgers/{BSN}/tijdlijn",
        BSN,
    )
    (row,) = listed([audit_record(forged)], monkeypatch)
    assert row["subject"] == "[ongeldig]"
    assert row["wie"] == "mallory *********"
    assert row["doel"] == "overleg over *********"
    assert row["wat"] == "GET /api/v1/burgers/*********/tijdlijn"
    assert row["onleesbaar"] is False


def test_an_audit_record_is_listed_as_recorded_whatever_digits_it_holds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Masking must not change a genuine record: nine digits that cannot be a BSN (they fail
    the elfproef) are stored as typed in a purpose (:func:`clean_purpose`), may be in a
    client's name or a rule id, and are shown as recorded; so is a record of schema v1 (written
    by a Schakel before the auditor role)."""
    doel = clean_purpose("zaak 123456789 en 1234.56.789 bespreken")
    assert doel == "zaak 123456789 en 1234.56.789 bespreken"  # what the worker stores
    client = ApiToken("wijkteam 100-200-300", "regisseur", "x")
    wat = "GET /api/v1/signalen?regel=r-123-456-789&pagina=1&per_pagina=50"
    event = TRAIL.event(client, doel, wat, None)
    old = TRAIL.event(ANNA, doel, f"GET /api/v1/burgers/{PSEUDONYM}/tijdlijn", PSEUDONYM)
    (v1,) = [v for v in catalogue().versions(AUDIT_TYPE) if v.version == 1]
    rows = listed([audit_record(event), written_with(v1, old)], monkeypatch)
    assert [
        {name: row[name] for name in ("id", "subject", "wie", "rol", "doel", "wat", "tijd")}
        for row in rows
    ] == [
        {"id": event.id, "subject": None, **event.data},
        {"id": old.id, "subject": PSEUDONYM, **old.data},
    ]


def written_with(version: Any, event: Event) -> bytes:
    """``event`` in the wire format of an older schema ``version`` (its id in the registry)."""
    out = io.BytesIO()
    out.write(struct.pack(">bI", 0, local_schema_id(version.raw)))
    fastavro.schemaless_writer(out, fastavro.parse_schema(dict(version.raw)), event.to_record())
    return out.getvalue()


def test_a_bsn_in_a_token_of_a_forged_record_is_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    """32 hex digits are kept as they are only where the worker writes them (the id, a
    pseudonym in ``wat``): in a purpose or a client's name they are text like any other, and
    a BSN among them is masked."""
    token = f"{BSN}abcdefabcdefabcdefabcde"  # 32 hex digits
    forged = TRAIL.event(ApiToken(f"mallory {token}", "regisseur", "x"), f"over {token}", "x", None)
    (row,) = listed([audit_record(forged)], monkeypatch)
    assert row["doel"] == "over *********abcdefabcdefabcdefabcde"
    assert row["wie"] == "mallory *********abcdefabcdefabcdefabcde"


def test_a_bsn_split_by_invisible_characters_is_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    """A spelling the purpose's masking does not read (a run of four zero-width spaces is no
    separator of a group) but :func:`holds_bsn` does: masked all the same."""
    hidden = "123\u200b\u200b\u200b\u200b456782"
    forged = TRAIL.event(ApiToken("mallory", "regisseur", "x"), f"over {hidden}", "x", None)
    (row,) = listed([audit_record(forged)], monkeypatch)
    assert BSN not in "".join(c for c in row["doel"] if c.isdigit())


def test_a_registry_outage_is_503_not_500(monkeypatch: pytest.MonkeyPatch) -> None:
    """The schema of a record cannot be looked up (the registry unreachable): an outage, 503
    with ``Retry-After`` as every read during one, not audited (nothing was read), and the
    registry's address not in the answer."""
    records = [on_topic(b"\x00\x00\x00\x00\x07rest", 0)]
    monkeypatch.setattr(
        streams.inzage_page,
        "read_page",
        lambda *args, **kwargs: Page(records=records, total=len(records)),
    )

    def unreachable(payload: bytes) -> Event:
        raise RegistryUnavailable("schema registry https://register.intern:8081: unreachable")

    async def run() -> None:
        async with serve(deserializer=cast(RecordDeserializer, unreachable)) as api:
            response = await api.client.get("/api/v1/inzage", headers=AUDITOR)
            assert response.status == 503, await response.text()
            assert response.headers["Retry-After"] == "5"
            assert "register.intern" not in await response.text()
            assert api.audit.records == []

    asyncio.run(run())


def test_records_are_decoded_beside_the_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    """Decoding may ask the registry (a blocking HTTP request, retried for up to a minute):
    never on the event loop, which also serves every other request, the stream and the
    consumer's heartbeats."""
    records = [on_topic(audit_record(TRAIL.event(ANNA, "casusoverleg", "x", None)), 0)]
    monkeypatch.setattr(
        streams.inzage_page,
        "read_page",
        lambda *args, **kwargs: Page(records=records, total=len(records)),
    )
    decode = RecordDeserializer(REGISTRY)
    on_loop: list[bool] = []

    def deserializer(payload: bytes) -> Event:
        try:
            asyncio.get_running_loop()
            on_loop.append(True)
        except RuntimeError:
            on_loop.append(False)
        return decode(payload)

    async def run() -> None:
        async with serve(deserializer=cast(RecordDeserializer, deserializer)) as api:
            response = await api.client.get("/api/v1/inzage", headers=AUDITOR)
            assert response.status == 200

    asyncio.run(run())
    assert on_loop == [False]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.text(alphabet="0123456789 -./:,_abNL@'", max_size=12),
            st.integers(100_000_000, 999_999_999).map(str),  # nine digits: a BSN or not
        ),
        max_size=6,
    )
)
def test_every_purpose_the_worker_stores_is_shown_as_stored(typed: list[str]) -> None:
    """Whatever a coordinator types, the purpose stored (:func:`clean_purpose`) holds nothing
    the audit trail page would mask: it is shown unchanged."""
    try:
        doel = clean_purpose(f"overleg {' '.join(typed)}")
    except InvalidPurpose:
        assume(False)
        return
    value = audit_record(TRAIL.event(ANNA, doel, "GET /api/v1/signalen", None))
    assert audit_row(RecordDeserializer(REGISTRY), on_topic(value, 0))["doel"] == doel
