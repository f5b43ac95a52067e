"""Error messages never echo what was sent (issue 11 item 11): a reason names the field and the
rule broken, never the value, and is at most 200 characters — in quarantine files, dead
letters and webhook answers. Server-level errors of the webhook (bad request line, oversized
URL or header) are short JSON too, without any part of the request.

Reproductions: an unknown ``type`` and a ZRM score key holding a name were echoed into the
400 answer, the quarantine file and the dead-letter topic; a 500 KB ``type`` gave a 500 KB
quarantine line; http.server's own error pages are HTML that quote the request line."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from adapters.jsonlines import JsonLinesSource
from adapters.webhook import WebhookApp, WebhookInbox
from adapters.webhook_server import WebhookServer
from schemas.envelope import MAX_MESSAGE_CHARS, validate_input
from schemas.exceptions import InvalidEvent
from schemas.pseudonym import Pseudonymiser
from schemas.registry import LocalRegistry
from schemas.serde import RecordDeserializer
from tests.unit.adapters.conftest import Harness, make_harness
from tests.unit.adapters.test_webhook import TOKEN, WT, post, structured

NAME = "Jan de Vries"
SECRET_TYPE = "nl.wijkteams.geheim." + "x" * 500_000


def zrm(**scores: Any) -> dict[str, Any]:
    return structured(
        type="nl.wijkteams.zrm.vastgesteld",
        data={"bsn": "999990111", "datum": "2026-01-10", "scores": scores},
    )


CASES = [
    ("unknown type", structured(type="nl.wijkteams.jan-de-vries"), "jan-de-vries", "type"),
    ("500 KB type", structured(type=SECRET_TYPE), "x" * 50, "type"),
    ("schakel type", structured(type="nl.schakel.jan-de-vries"), "jan-de-vries", "type"),
    ("score key holding a name", zrm(**{NAME: 3}), NAME, "data.scores"),
    (
        "many bad score keys",
        zrm(**{f"{NAME} {n}": 3 for n in range(500)}),
        NAME,
        "data.scores",
    ),
]


@pytest.mark.parametrize(("what", "event", "sent", "field"), CASES, ids=[c[0] for c in CASES])
def test_validation_errors_name_the_field_not_the_value(
    what: str, event: dict[str, Any], sent: str, field: str
) -> None:
    with pytest.raises(InvalidEvent) as err:
        validate_input(event, Pseudonymiser("k"))
    assert sent not in str(err.value)
    assert sent not in err.value.field
    assert err.value.field.startswith(field)
    assert len(str(err.value)) <= MAX_MESSAGE_CHARS


def test_a_score_out_of_range_still_names_its_domain() -> None:
    with pytest.raises(InvalidEvent) as err:
        validate_input(zrm(financien=9), Pseudonymiser("k"))
    assert err.value.field == "data.scores.financien"
    assert "less than or equal to 5" in str(err.value)


@pytest.mark.parametrize(("what", "event", "sent", "field"), CASES, ids=[c[0] for c in CASES])
def test_quarantine_and_dead_letter_hold_no_value_and_are_short(
    tmp_path: Path, what: str, event: dict[str, Any], sent: str, field: str
) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text(json.dumps(event) + "\n")
    hx = make_harness(JsonLinesSource([path]), tmp_path)
    assert hx.runner.run_once().rejected == 1
    (line,) = hx.quarantine_lines()
    assert sent not in line
    assert len(line) < 1024
    assert len(json.loads(line)["melding"]) <= MAX_MESSAGE_CHARS
    ((_topic, _key, value),) = hx.publisher.raw
    _name, dead_letter = RecordDeserializer(LocalRegistry()).decode(value)
    assert sent not in json.dumps(dead_letter) and len(value) < 1024


@pytest.mark.parametrize(("what", "event", "sent", "field"), CASES, ids=[c[0] for c in CASES])
def test_webhook_400_holds_no_value_and_is_short(
    tmp_path: Path, what: str, event: dict[str, Any], sent: str, field: str
) -> None:
    hx = make_harness(WebhookInbox(), tmp_path)
    app = WebhookApp(hx.runner, {TOKEN: WT}, max_bytes=1 << 20, registry=hx.registry)
    response = post(app, event)
    assert response.status == 400
    body = response.payload().decode()
    assert sent not in body
    assert len(body) < 512
    assert len(response.body["message"]) <= MAX_MESSAGE_CHARS
    assert response.body["field"].startswith(field)


# ---------------------------------------------------------------- server-level errors


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, int, Harness]]:
    hx = make_harness(WebhookInbox(), tmp_path)
    app = WebhookApp(hx.runner, {TOKEN: WT}, max_bytes=4096, registry=hx.registry)
    srv = WebhookServer(app, "127.0.0.1", 0)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    host, port = srv.address
    try:
        yield host, port, hx
    finally:
        srv.shutdown()
        thread.join(10)


def raw_request(host: str, port: int, data: bytes) -> tuple[int, dict[str, str], bytes]:
    with socket.create_connection((host, port), timeout=10) as conn:
        conn.sendall(data)
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines)}
    return int(status_line.split()[1]), headers, body


TOKEN_PART = "Bearer-geheim-0123456789"
SERVER_ERRORS = [
    ("bad request version", f"POST /events HTTP/1.1{TOKEN_PART}\r\n\r\n".encode(), 400),
    ("bad request line", f"POST /events {TOKEN_PART} x y\r\n\r\n".encode(), 400),
    ("URL too long", f"GET /{TOKEN_PART}{'a' * 70_000} HTTP/1.1\r\n\r\n".encode(), 414),
    (
        "header too long",
        f"POST /events HTTP/1.1\r\nAuthorization: {TOKEN_PART}{'a' * 70_000}\r\n\r\n".encode(),
        431,
    ),
    (
        "too many headers",
        b"POST /events HTTP/1.1\r\n"
        + b"".join(f"X-{n}: {TOKEN_PART}\r\n".encode() for n in range(120))
        + b"\r\n",
        431,
    ),
]


@pytest.mark.parametrize(
    ("what", "request_bytes", "status"), SERVER_ERRORS, ids=[c[0] for c in SERVER_ERRORS]
)
def test_server_level_errors_are_short_json_without_the_request(
    server: tuple[str, int, Harness], what: str, request_bytes: bytes, status: int
) -> None:
    host, port, _hx = server
    got, headers, body = raw_request(host, port, request_bytes)
    assert got == status
    assert headers["content-type"] == "application/json"
    answer = json.loads(body)
    assert set(answer) == {"error", "message"}
    assert TOKEN_PART.encode() not in body
    assert b"Bearer" not in body
    assert len(body) < 256
