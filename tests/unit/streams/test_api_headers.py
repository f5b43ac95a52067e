"""What every answer of the worker's port says about itself (docs/api.md, "Every answer"):
``Cache-Control: no-store`` — a citizen's timeline, the signal list and the audit trail are
personal data, which no browser, proxy or shared cache may keep — and
``X-Content-Type-Options: nosniff``, on answers and refusals alike, forwarded ones included;
an audited 404 names its audit record in ``X-Inzage-Id`` as a 200 does; a refused token is
logged (``api.unauthenticated``) without the token. Apps on test servers
(:mod:`.api_harness`)."""

from __future__ import annotations

import asyncio
import logging
from types import SimpleNamespace

import pytest

import streams.api
import streams.webserver
from streams.webserver import error_response

from .api_harness import REGISSEUR, serve

KNOWN = "0123456789abcdef0123456789abcdef"
UNKNOWN = "fedcba9876543210fedcba9876543210"
BSN = "123456782"
BEHEERDER = {"Authorization": "Bearer token-bert", "X-Doel": "beheer van de koppeling"}
NOT_STORED = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


@pytest.fixture(autouse=True)
def _timeline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        streams.api, "timeline_json", lambda state, clock, periods: {"subject": KNOWN}
    )


def _tijdlijn(segment: str) -> str:
    return f"/api/v1/burgers/{segment}/tijdlijn"


REQUESTS: list[tuple[str, str, dict[str, str], int]] = [
    ("GET", _tijdlijn(KNOWN), REGISSEUR, 200),
    ("HEAD", _tijdlijn(KNOWN), REGISSEUR, 200),
    ("GET", "/api/v1/signalen", REGISSEUR, 200),
    ("GET", "/api/v1/configuratie", BEHEERDER, 200),
    ("GET", _tijdlijn(UNKNOWN), REGISSEUR, 404),
    ("GET", _tijdlijn(BSN), REGISSEUR, 404),
    ("GET", "/api/v1/signalen?status=x", REGISSEUR, 400),
    ("GET", _tijdlijn(KNOWN), {"Authorization": REGISSEUR["Authorization"]}, 400),
    ("GET", _tijdlijn(KNOWN), {}, 401),
    ("GET", _tijdlijn(KNOWN), BEHEERDER, 403),
    ("POST", _tijdlijn(KNOWN), REGISSEUR, 405),
    ("GET", "/api/v1/onbekend", REGISSEUR, 404),
    ("GET", "/api/v1/openapi.json", {}, 200),
    ("GET", "/metrics", {}, 200),
    ("GET", "/health", {}, 200),
    ("GET", "/ready", {}, 200),
    ("GET", "/elders", {}, 404),
]
"""(method, path, headers, the status expected): every kind of answer the port gives."""


def test_no_answer_of_the_port_may_be_stored_or_sniffed() -> None:
    async def run() -> None:
        async with serve(states={KNOWN: SimpleNamespace(events=[1])}) as api:
            for method, path, headers, status in REQUESTS:
                response = await api.client.request(method, path, headers=headers)
                assert response.status == status, (method, path)
                for name, value in NOT_STORED.items():
                    assert response.headers.get(name) == value, (method, path, name)
            # no audit record, no answer: the 503 is not kept either
            api.audit.fail = True
            response = await api.client.get(_tijdlijn(KNOWN), headers=REGISSEUR)
            assert response.status == 503
            assert {name: response.headers.get(name) for name in NOT_STORED} == NOT_STORED

    asyncio.run(run())
    # what aiohttp refuses before a view runs is answered through error_response
    for name, value in NOT_STORED.items():
        assert error_response(400).headers.get(name) == value


def test_a_forwarded_timeline_is_not_stored_either() -> None:
    async def run() -> None:
        async with (
            serve(states={KNOWN: SimpleNamespace(events=[1])}) as owner,
            serve() as front,
        ):
            front.owner = lambda key: owner.url
            response = await front.client.get(_tijdlijn(KNOWN), headers=REGISSEUR)
            assert response.status == 200
            assert response.headers["X-Inzage-Id"] == "audit-1"
            assert {name: response.headers.get(name) for name in NOT_STORED} == NOT_STORED

    asyncio.run(run())


def test_an_audited_404_names_its_audit_record() -> None:
    async def run() -> None:
        async with serve() as api:
            for segment in (UNKNOWN, BSN):
                response = await api.client.get(_tijdlijn(segment), headers=REGISSEUR)
                assert response.status == 404
                assert response.headers.get("X-Inzage-Id") == f"audit-{len(api.audit.records)}"
            assert [r["subject"] for r in api.audit.records] == [UNKNOWN, None]
            # a refusal is not audited and names no record
            for headers in ({}, BEHEERDER, {"Authorization": REGISSEUR["Authorization"]}):
                response = await api.client.get(_tijdlijn(UNKNOWN), headers=headers)
                assert response.status in (400, 401, 403)
                assert "X-Inzage-Id" not in response.headers
            assert len(api.audit.records) == 2

    asyncio.run(run())


def test_a_refused_token_is_logged_without_the_token(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Logged without the token or the path, and not a line per request (anyone who reaches
    the port can send them): the first at once, the next a minute later with the number of
    those left out in between (``weggelaten``)."""
    secret = "geheim-token-dat-niet-in-de-log-mag"
    now = [1000.0]
    monkeypatch.setattr(streams.webserver, "_monotonic", lambda: now[0])

    async def run() -> list[int]:
        async with serve() as api:
            statuses = []
            for authorization in (None, f"Bearer {secret}", f"Basic {secret}", "later"):
                headers = {"X-Doel": "casusoverleg"}
                if authorization == "later":  # the next line may be written
                    now[0] += streams.webserver.REFUSAL_LOG_INTERVAL_S
                    headers["Authorization"] = f"Bearer {secret}"
                elif authorization is not None:
                    headers["Authorization"] = authorization
                response = await api.client.get(_tijdlijn(BSN), headers=headers)
                statuses.append(response.status)
            return statuses

    with caplog.at_level(logging.INFO, logger="schakel.api"):
        assert asyncio.run(run()) == [401, 401, 401, 401]
    refused = [r for r in caplog.records if r.getMessage() == "api.unauthenticated"]
    assert [(r.endpoint, r.reden, r.weggelaten) for r in refused] == [  # type: ignore[attr-defined]
        ("tijdlijn", "ontbreekt", 0),
        ("tijdlijn", "onbekend", 2),
    ]
    for record in refused:
        assert record.levelno == logging.WARNING
        text = str(vars(record))
        assert secret[:8] not in text and BSN not in text
