"""A schema registry that refuses the worker (wrong credentials or certificates: a
:class:`~schemas.exceptions.RegistryRefused`, permanent) is a misconfiguration, neither the
caller's fault nor an outage: every ``/api/v1`` endpoint answers 502 with a ``fout`` of its own
and no ``Retry-After`` (retrying does not help until an operator fixes it), not audited
(nothing was read), without the registry's answer, a schema or a record's content; it is
logged as ``api.registry_refused``, the first at once and then at most a line a minute
(:class:`schemas.log_limits.RefusalLog`). It used to be a 500 with a traceback in the log on
the auditor's page, and on every other endpoint a 503 ``Retry-After: 5`` as if the registry
were away. The registry here is a real HTTP server that answers every request 401, reached
with the worker's registry client."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import Any

import pytest

import schemas.log_limits
import streams.api
import streams.audit
import streams.inzage_page
from schemas.exceptions import PermanentError, RegistryUnauthorized, TransientError
from schemas.registry_client import ConfluentRegistry, RegistryConnection
from schemas.serde import RecordDeserializer, RecordSerializer
from streams.audit import AuditRefused, AuditTrail
from streams.exceptions import StreamsError
from streams.topicpage import Page

from .api_harness import REGISSEUR, TOKENS, serve

AUDITOR = {"Authorization": "Bearer token-carla", "X-Doel": "controle van de inzage"}
PSEUDONYM = "a111222333bbbbbbbbbbbbbbbbbbbbbb"
REGISTRY_SAYS = "user schakel-worker is not allowed here"
"""The registry's own message: not for the API's caller."""
RECORD = b"\x00\x00\x00\x00\x07inhoud van het record 123456782"
"""A record on ``schakel.inzage`` whose schema id (7) the registry will not tell."""


class _Refusing(BaseHTTPRequestHandler):
    def _refuse(self) -> None:
        body = json.dumps({"error_code": 40101, "message": REGISTRY_SAYS}).encode()
        self.send_response(401)
        self.send_header("Content-Type", "application/vnd.schemaregistry.v1+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self._refuse()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self._refuse()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def registry() -> Iterator[ConfluentRegistry]:
    """The worker's registry client on a registry that refuses its credentials."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Refusing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield ConfluentRegistry(RegistryConnection(url=url, basic_auth="schakel:fout", retries=0))
    finally:
        server.shutdown()
        server.server_close()


def _refused(response_status: int, headers: Any, body: Any) -> None:
    """The answer to a request the refusing registry kept from being answered."""
    assert response_status == 502, body
    assert "Retry-After" not in headers
    assert "X-Inzage-Id" not in headers
    assert set(body) == {"fout"}
    assert body["fout"].startswith("schemaregister:")
    text = json.dumps(body)
    for secret in (REGISTRY_SAYS, "127.0.0.1", "40101", "inhoud", "123456782", "schakel:fout"):
        assert secret not in text


def test_the_auditors_page_answers_502_when_the_registry_refuses_the_worker(
    registry: ConfluentRegistry,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    records = [SimpleNamespace(offset=0, timestamp=0, key=None, value=RECORD, headers=[])]
    monkeypatch.setattr(streams.inzage_page, "read_page", lambda *args, **kwargs: Page(records, 1))
    now = [1000.0]
    monkeypatch.setattr(schemas.log_limits, "_monotonic", lambda: now[0])

    async def run() -> None:
        async with serve(deserializer=RecordDeserializer(registry)) as api:
            for later in (0.0, 1.0, schemas.log_limits.REFUSAL_LOG_INTERVAL_S):
                now[0] += later
                response = await api.client.get("/api/v1/inzage", headers=AUDITOR)
                _refused(response.status, response.headers, await response.json())
            assert api.audit.records == []  # nothing was read: not audited

    with caplog.at_level(logging.INFO):
        asyncio.run(run())
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]  # no traceback
    lines = [r for r in caplog.records if r.getMessage() == "api.registry_refused"]
    # once, then a minute later with the one left out in between
    assert [(r.endpoint, r.reden, r.weggelaten) for r in lines] == [  # type: ignore[attr-defined]
        ("inzage", "RegistryUnauthorized", 0),
        ("inzage", "RegistryUnauthorized", 1),
    ]
    for line in lines:
        assert line.levelno == logging.WARNING
        assert "inhoud" not in str(vars(line))


def test_every_audited_answer_is_502_when_the_registry_refuses_the_audit_record(
    registry: ConfluentRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The audit record's schema id cannot be looked up: no answer (no audit record, no
    answer), on the timeline — a known citizen, an unknown one, a segment that is no
    pseudonym — and on the lists alike."""
    monkeypatch.setattr(streams.api, "timeline_json", lambda state, clock, periods: {})
    trail = AuditTrail("localhost:1", "schakel.inzage", RecordSerializer(registry), "urn:x")
    beheerder = {**REGISSEUR, "Authorization": "Bearer token-bert"}
    asked = [
        (f"/api/v1/burgers/{PSEUDONYM}/tijdlijn", REGISSEUR),
        (f"/api/v1/burgers/{'c' * 32}/tijdlijn", REGISSEUR),  # unknown: an audited 404
        ("/api/v1/burgers/123456782/tijdlijn", REGISSEUR),  # no pseudonym: an audited 404
        ("/api/v1/signalen", REGISSEUR),
        ("/api/v1/configuratie", beheerder),
    ]

    async def run() -> None:
        states = {PSEUDONYM: SimpleNamespace(events=[object()])}
        async with serve(trail=trail, states=states) as api:
            for path, headers in asked:
                response = await api.client.get(path, headers=headers)
                _refused(response.status, response.headers, await response.json())

    asyncio.run(run())


def test_the_audit_trail_takes_a_refusal_for_permanent_and_asks_again_a_minute_later(
    registry: ConfluentRegistry,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Reproduction: the trail turned the registry's refusal into the transient
    ``AuditUnavailable`` (a 503 with ``Retry-After`` unless the API looked behind it at
    ``__cause__``), logged ``audit.unavailable`` on every request and asked the registry again
    on every request. Now it raises the permanent ``AuditRefused``, logs nothing itself (the
    API logs ``api.registry_refused`` a line a minute), and asks the registry again only once
    :data:`streams.audit.REFUSED_RETRY_S` has passed."""
    asked: list[str] = []
    lookup = registry.lookup

    def counted(subject: str, schema: Any) -> int:
        asked.append(subject)
        return lookup(subject, schema)

    monkeypatch.setattr(registry, "lookup", counted)
    now = [1000.0]
    monkeypatch.setattr(streams.audit, "_monotonic", lambda: now[0])
    trail = AuditTrail("localhost:1", "schakel.inzage", RecordSerializer(registry), "urn:x")
    anna = TOKENS["token-anna"]

    async def run() -> list[BaseException]:
        raised: list[BaseException] = []
        for later in (0.0, 1.0, streams.audit.REFUSED_RETRY_S - 2.0, 1.0):
            now[0] += later
            with pytest.raises(PermanentError) as refused:
                await trail.record(anna, "casusoverleg", "GET /api/v1/signalen", None)
            raised.append(refused.value)
        return raised

    with caplog.at_level(logging.INFO):
        raised = asyncio.run(run())
    assert all(isinstance(exc, AuditRefused) for exc in raised)
    assert not any(isinstance(exc, TransientError) for exc in raised)
    assert all(isinstance(exc, StreamsError) for exc in raised)
    assert len(asked) == 2  # the first request, then the first a minute after it
    assert not [r for r in caplog.records if r.getMessage() == "audit.unavailable"]
    for exc in raised:
        assert isinstance(exc, AuditRefused)
        assert isinstance(exc.refusal, RegistryUnauthorized) and exc.refusal.status == 401


def test_a_refused_audit_record_is_502_logged_a_line_a_minute(
    registry: ConfluentRegistry,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [1000.0]
    monkeypatch.setattr(schemas.log_limits, "_monotonic", lambda: now[0])
    monkeypatch.setattr(streams.audit, "_monotonic", lambda: now[0])
    trail = AuditTrail("localhost:1", "schakel.inzage", RecordSerializer(registry), "urn:x")

    async def run() -> None:
        async with serve(trail=trail) as api:
            for later in (0.0, 1.0, schemas.log_limits.REFUSAL_LOG_INTERVAL_S):
                now[0] += later
                response = await api.client.get("/api/v1/signalen", headers=REGISSEUR)
                _refused(response.status, response.headers, await response.json())

    with caplog.at_level(logging.INFO):
        asyncio.run(run())
    assert not [r for r in caplog.records if r.getMessage() == "audit.unavailable"]
    lines = [r for r in caplog.records if r.getMessage() == "api.registry_refused"]
    assert [(r.endpoint, r.reden, r.weggelaten) for r in lines] == [  # type: ignore[attr-defined]
        ("signalen", "RegistryUnauthorized", 0),
        ("signalen", "RegistryUnauthorized", 1),
    ]
