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
from types import SimpleNamespace
from typing import Any

import pytest

import streams.api
from schemas.envelope import Event, validate_input
from schemas.pseudonym import Pseudonymiser
from schemas.registry import LocalRegistry
from schemas.serde import RecordDeserializer, RecordSerializer
from schemas.settings import ApiToken
from streams.audit import AuditTrail
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
        streams.api, "read_page", lambda *args: Page(records=records, total=len(records))
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
    assert listed(values, monkeypatch) == [unreadable, unreadable]


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
