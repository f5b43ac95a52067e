"""What the worker's HTTP port serves: only the API, the web page, ``/metrics``, ``/health`` and
``/ready`` — none of Faust's built-in views (``faust/web/apps/*``, mounted by
``faust.web.base.Web``) — and errors as short JSON that never echo the request."""

from __future__ import annotations

import json
import socket

import pytest

from schakel.broker import EmbeddedBroker
from tests.integration.streams.helpers import AUTH, WorkerProcess
from tests.integration.streams.test_replay import CITIZEN_A, CITIZEN_B

FAUST_PATHS = [
    # faust.web.apps.router, mounted at /router
    "/router/",
    "/router/topics",
    "/router/burgers/",
    f"/router/burgers/{CITIZEN_A}/",
    # faust.web.apps.tables, mounted at /table
    "/table/",
    "/table/burgers/",
    f"/table/burgers/{CITIZEN_A}/",
    f"/table/burgers/{'0' * 32}/",
    # faust.web.apps.graph, mounted at /graph
    "/graph/",
    # faust.web.apps.stats, mounted at "" (its index "/" is the web page here)
    "/assignment/",
    # faust.web.apps.metrics, mounted at /performance
    "/performance/",
]
"""Every route of Faust's built-in blueprints (``DEFAULT_``, ``DEBUG_``, ``OPTIONAL_`` and
``PRODUCTION_BLUEPRINTS`` in ``faust/web/base.py``), with and without a token."""

LEAKS = (CITIZEN_A, CITIZEN_B, "burgers", "schakel-worker", "CitizenState", "Traceback")


@pytest.mark.parametrize("path", FAUST_PATHS)
def test_faust_builtin_views_are_not_served(
    live: tuple[EmbeddedBroker, WorkerProcess], path: str
) -> None:
    _, worker = live
    for headers in ({}, AUTH):
        status, body = worker.get(path, headers)
        assert status == 404, (path, status, body)
        assert isinstance(body, dict) and set(body) == {"fout"}, body
        assert not any(leak in str(body) for leak in LEAKS), body


def test_builtin_views_leave_no_state_in_the_worker_log(
    live: tuple[EmbeddedBroker, WorkerProcess],
) -> None:
    _, worker = live
    before = worker.log.stat().st_size
    for path in FAUST_PATHS:
        worker.get(path, AUTH)
    assert worker.get("/health")[0] == 200  # the requests above have been handled
    with worker.log.open("rb") as log:
        log.seek(before)
        added = log.read().decode("utf-8", "replace")
    assert CITIZEN_A not in added
    assert "CitizenState" not in added and "tijdlijn" not in added


def test_only_the_promised_paths_answer(live: tuple[EmbeddedBroker, WorkerProcess]) -> None:
    _, worker = live
    for path in ("/", "/web/app.js", "/web/style.css", "/metrics", "/health", "/ready"):
        assert worker.get(path)[0] == 200, path
    assert worker.get("/api/v1/signalen", AUTH)[0] == 200
    for path in ("/web/index.html", "/web/../app.py", "/api/v2/signalen", "/metrics/x"):
        status, body = worker.get(path)
        assert status == 404, path
        assert isinstance(body, dict) and set(body) == {"fout"}, body


FAKE_TOKEN = "FAKETOKEN-6b1f0c2e9d8a7b3c4e5f6a7b8c9d0e1f"
"""Stands for a real token in a request the server rejects before any view runs."""

RAW_REQUESTS = {
    "oversized header": (
        "GET /api/v1/signalen HTTP/1.1\r\nHost: localhost\r\n"
        f"Authorization: Bearer {FAKE_TOKEN}{'x' * 9000}\r\nX-Doel: controle\r\n\r\n"
    ),
    "oversized header name": (
        f"GET /api/v1/signalen HTTP/1.1\r\nHost: localhost\r\nX-{FAKE_TOKEN}{'x' * 9000}: 1\r\n\r\n"
    ),
    "oversized URL": (
        f"GET /api/v1/signalen?token={FAKE_TOKEN}{'x' * 9000} HTTP/1.1\r\nHost: localhost\r\n\r\n"
    ),
    "malformed request line": f"GET /api/v1/signalen?t={FAKE_TOKEN} HTTP/1.1 extra\r\n\r\n",
    "bad method": f"G{FAKE_TOKEN}\x01T / HTTP/1.1\r\nHost: localhost\r\n\r\n",
    "control character in header": (
        f"GET / HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {FAKE_TOKEN}\x01\r\n\r\n"
    ),
    "bad header line": f"GET / HTTP/1.1\r\nHost: localhost\r\nBearer {FAKE_TOKEN}\r\n\r\n",
}


def _raw(port: int, request: str) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request.encode("latin-1"))
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


TOKEN_PARTS = [FAKE_TOKEN[i : i + 8] for i in range(len(FAKE_TOKEN) - 7)]
"""Every 8-character piece of the fake token."""


@pytest.mark.parametrize("name", sorted(RAW_REQUESTS))
def test_server_errors_are_short_json_without_the_request(
    live: tuple[EmbeddedBroker, WorkerProcess], name: str
) -> None:
    _, worker = live
    before = worker.log.stat().st_size
    answer = _raw(worker.port, RAW_REQUESTS[name])
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *headers = head.decode("latin-1").split("\r\n")
    assert status_line.split()[1].startswith("4"), status_line
    assert "content-type: application/json; charset=utf-8" in (h.lower() for h in headers)
    assert set(json.loads(body)) == {"fout"}
    assert len(body) <= 300
    text = answer.decode("latin-1")
    assert not any(part in text for part in TOKEN_PARTS), text
    assert worker.get("/health")[0] == 200  # the worker logged what it does about it
    with worker.log.open("rb") as log:
        log.seek(before)
        added = log.read().decode("utf-8", "replace")
    assert not any(part in added for part in TOKEN_PARTS), added[-2000:]


def test_wrong_method_is_json(live: tuple[EmbeddedBroker, WorkerProcess]) -> None:
    _, worker = live
    answer = _raw(
        worker.port,
        "DELETE /api/v1/signalen HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    )
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 405")
    assert set(json.loads(body)) == {"fout"}
