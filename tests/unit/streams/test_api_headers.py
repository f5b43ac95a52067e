"""What every answer of the worker's port says about itself (docs/api.md, "Every answer"):
``Cache-Control: no-store`` — a citizen's timeline, the signal list and the audit trail are
personal data, which no browser, proxy or shared cache may keep — and
``X-Content-Type-Options: nosniff``, on answers and refusals alike, forwarded ones included;
an audited 404 names its audit record in ``X-Inzage-Id`` as a 200 does; a 401 names the
scheme to authenticate with (``WWW-Authenticate: Bearer realm="schakel"``, RFC 6750 §3), a
forwarded one too; no answer names the server software and its version (aiohttp's
``Server: Python/3.11 aiohttp/3.x``), neither the app's nor aiohttp's own refusals; a refused
token is logged (``api.unauthenticated``) without the token, and neither it nor a flood of
requests aiohttp cannot parse is a log line each. Apps on test servers served through the
worker's runner (:mod:`.api_harness`), over real sockets where aiohttp itself answers."""

from __future__ import annotations

import asyncio
import logging
from types import SimpleNamespace
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from yarl import URL

import schemas.log_limits
import streams.api
from streams.webserver import error_response

from .api_harness import REGISSEUR, Api, serve

KNOWN = "0123456789abcdef0123456789abcdef"
UNKNOWN = "fedcba9876543210fedcba9876543210"
BSN = "123456782"
BEHEERDER = {"Authorization": "Bearer token-bert", "X-Doel": "beheer van de koppeling"}
NOT_STORED = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
CHALLENGE = 'Bearer realm="schakel"'
UNPARSABLE = b"GET /api/v1/\x01 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
"""A request line aiohttp refuses before any view runs (a control character in the URL)."""


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
            assert response.headers["Server"] == "schakel"  # no software, no version

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
    monkeypatch.setattr(schemas.log_limits, "_monotonic", lambda: now[0])

    async def run() -> list[int]:
        async with serve() as api:
            statuses = []
            for authorization in (None, f"Bearer {secret}", f"Basic {secret}", "later"):
                headers = {"X-Doel": "casusoverleg"}
                if authorization == "later":  # the next line may be written
                    now[0] += schemas.log_limits.REFUSAL_LOG_INTERVAL_S
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


async def _raw(api: Api, request: bytes) -> bytes:
    """The head of the answer to ``request`` sent as bytes (aiohttp's parser sees them)."""
    server = api.client.server
    reader, writer = await asyncio.open_connection(server.host, server.port)
    try:
        writer.write(request)
        await writer.drain()
        answer = await reader.read()
    finally:
        writer.close()
    return answer.partition(b"\r\n\r\n")[0]


def test_a_401_asks_for_a_bearer_token_and_echoes_nothing() -> None:
    async def run() -> None:
        async with serve(states={KNOWN: SimpleNamespace(events=[1])}) as api:
            for authorization in (None, "Bearer onbekend-token", "Basic YTpi", "Bearer"):
                headers = {"X-Doel": "casusoverleg"}
                if authorization is not None:
                    headers["Authorization"] = authorization
                response = await api.client.get(_tijdlijn(KNOWN), headers=headers)
                assert response.status == 401
                assert response.headers.getall("WWW-Authenticate") == [CHALLENGE]
            # only a 401 challenges
            for headers in (REGISSEUR, {"Authorization": "Bearer token-bert", "X-Doel": "x"}):
                response = await api.client.get(_tijdlijn(KNOWN), headers=headers)
                assert response.status in (200, 403)
                assert "WWW-Authenticate" not in response.headers

    asyncio.run(run())
    assert error_response(401).headers["WWW-Authenticate"] == CHALLENGE
    assert "WWW-Authenticate" not in error_response(403).headers


def test_a_forwarded_401_asks_for_a_bearer_token_too() -> None:
    """The owner of the citizen (another worker, another version, other tokens) answers 401;
    the answer passed on challenges as this worker's own would."""

    async def refuse(request: web.Request) -> web.Response:
        return web.json_response({"fout": "Authorization: onbekend"}, status=401)

    async def run() -> None:
        owner_app = web.Application()
        owner_app.router.add_get(_tijdlijn(KNOWN), refuse)
        owner = TestServer(owner_app)
        await owner.start_server()
        try:
            async with serve() as front:
                front.owner = lambda key: URL(str(owner.make_url("/")))
                response = await front.client.get(_tijdlijn(KNOWN), headers=REGISSEUR)
                assert response.status == 401
                assert response.headers.getall("WWW-Authenticate") == [CHALLENGE]
        finally:
            await owner.close()

    asyncio.run(run())


SOFTWARE_REQUESTS: list[tuple[str, str, dict[str, str], int]] = [
    ("GET", _tijdlijn(KNOWN), REGISSEUR, 200),
    ("HEAD", _tijdlijn(KNOWN), REGISSEUR, 200),
    ("GET", "/api/v1/signalen", {}, 401),
    ("GET", "/api/v1/signalen?status=x", REGISSEUR, 400),
    ("POST", _tijdlijn(KNOWN), REGISSEUR, 405),
    ("GET", "/api/v1/onbekend", REGISSEUR, 404),
    ("GET", "/api/v1/openapi.json", {}, 200),
    ("GET", "/metrics", {}, 200),
    ("HEAD", "/metrics", {}, 200),
    ("GET", "/health", {}, 200),
    ("GET", "/ready", {}, 200),
    ("GET", "/", {}, 200),
    ("GET", "/web/app.js", {}, 200),
    ("GET", "/web/style.css", {}, 200),
    ("GET", "/web/onbekend.js", {}, 404),
    ("GET", "/elders", {}, 404),
]
"""(method, path, headers, the status expected): every kind of answer the app gives."""


def _neutral(server: str | None) -> bool:
    return server is None or not any(name in server.lower() for name in ("python", "aiohttp"))


def test_no_answer_names_the_server_software() -> None:
    async def run() -> None:
        async with serve(states={KNOWN: SimpleNamespace(events=[1])}, ui=True) as api:
            for method, path, headers, status in SOFTWARE_REQUESTS:
                response = await api.client.request(method, path, headers=headers)
                assert response.status == status, (method, path)
                assert _neutral(response.headers.get("Server")), (method, path)
            # what aiohttp answers itself, before any view runs
            head = await _raw(api, UNPARSABLE)
            assert head.startswith(b"HTTP/1.0 400") or head.startswith(b"HTTP/1.1 400"), head
            assert b"python" not in head.lower() and b"aiohttp" not in head.lower(), head
            assert b"\r\nServer: schakel" in head, head

    asyncio.run(run())


def test_a_flood_of_unparsable_requests_is_not_a_log_line_each(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Anyone who reaches the port can send them at any rate: the first is logged at once,
    the others in the same minute are counted in the next line (``weggelaten``)."""
    now = [1000.0]
    monkeypatch.setattr(schemas.log_limits, "_monotonic", lambda: now[0])

    async def run() -> list[bytes]:
        async with serve() as api:
            heads = [await _raw(api, UNPARSABLE) for _ in range(20)]
            now[0] += schemas.log_limits.REFUSAL_LOG_INTERVAL_S
            heads.append(await _raw(api, UNPARSABLE))
            return heads

    with caplog.at_level(logging.INFO, logger="schakel.http"):
        heads = asyncio.run(run())
    assert all(b" 400 " in head.split(b"\r\n")[0] for head in heads)  # every one answered
    lines: list[Any] = [r for r in caplog.records if r.getMessage() == "http.request_rejected"]
    assert [(r.status, r.weggelaten) for r in lines] == [(400, 0), (400, 19)]
