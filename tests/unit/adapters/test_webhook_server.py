"""The webhook's aiohttp shell (:mod:`adapters.webhook_server`) over real sockets, with the
in-memory publisher: the event loop is not blocked by a publish that waits for the broker,
202 comes only after the acknowledgement, the body is read only when and as far as needed,
and shutdown finishes a request in progress. The answers themselves are tested in
``test_webhook.py`` (no server) and ``test_messages.py`` (aiohttp's own refusals)."""

from __future__ import annotations

import gzip
import http.client
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from adapters.webhook import STRUCTURED, WebhookApp, WebhookInbox
from adapters.webhook_server import WebhookServer
from schemas.envelope import Event
from tests.unit.adapters.conftest import FakePublisher, Harness, make_harness
from tests.unit.adapters.test_messages import raw_request
from tests.unit.adapters.test_webhook import TOKEN, WT, structured


class Gate:
    """Makes the harness's publisher acknowledge an event only once ``gate`` is set (a slow
    broker)."""

    def __init__(self, publisher: FakePublisher) -> None:
        self.gate = threading.Event()
        self.entered = threading.Event()
        self._send_and_wait = publisher.send_and_wait
        publisher.send_and_wait = self.send_and_wait  # type: ignore[method-assign]

    def send_and_wait(self, event: Event, timeout: float = 30.0) -> None:
        self.entered.set()
        assert self.gate.wait(30), "the test never opened the gate"
        self._send_and_wait(event, timeout)


@dataclass
class Served:
    host: str
    port: int
    hx: Harness
    gate: Gate
    server: WebhookServer
    thread: threading.Thread

    def post(self, event: dict[str, Any], token: str = TOKEN) -> tuple[int, dict[str, Any]]:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            conn.request(
                "POST",
                "/events",
                body=json.dumps(event).encode(),
                headers={"Content-Type": STRUCTURED, "Authorization": f"Bearer {token}"},
            )
            response = conn.getresponse()
            return response.status, json.loads(response.read())
        finally:
            conn.close()

    def get(self, path: str) -> int:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=5)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            return response.status
        finally:
            conn.close()


def serve(tmp_path: Path, **options: Any) -> Served:
    hx = make_harness(WebhookInbox(), tmp_path)
    gate = Gate(hx.publisher)
    app = WebhookApp(hx.runner, {TOKEN: WT}, max_bytes=4096, registry=hx.registry)
    server = WebhookServer(app, "127.0.0.1", 0, **options)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = server.address
    return Served(host, port, hx, gate, server, thread)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    s = serve(tmp_path, body_timeout=0.5)
    try:
        yield s
    finally:
        s.gate.gate.set()
        s.server.shutdown()
        s.thread.join(10)
        assert not s.thread.is_alive()


def _in_thread(target: Any) -> tuple[threading.Thread, list[Any]]:
    result: list[Any] = []
    thread = threading.Thread(target=lambda: result.append(target()), daemon=True)
    thread.start()
    return thread, result


def test_the_loop_serves_while_a_publish_waits_and_202_follows_the_ack(served: Served) -> None:
    gate, publisher = served.gate, served.hx.publisher
    poster, answer = _in_thread(lambda: served.post(structured()))
    assert gate.entered.wait(10)
    started = time.monotonic()
    assert served.get("/health") == 200  # not blocked by the publish in progress
    assert time.monotonic() - started < 2
    time.sleep(0.2)
    assert answer == [] and publisher.acked == []  # no 202 before the acknowledgement
    gate.gate.set()
    poster.join(10)
    assert answer == [(202, {"status": "accepted", "duplicate": False})]
    assert len(publisher.acked) == 1


def test_a_large_content_length_is_413_without_waiting_for_the_body(served: Served) -> None:
    head = (
        "POST /events HTTP/1.1\r\nHost: x\r\n"
        f"Authorization: Bearer {TOKEN}\r\nContent-Type: {STRUCTURED}\r\n"
        "Content-Length: 1000000000\r\n\r\n"
    ).encode()
    started = time.monotonic()
    status, headers, body = raw_request(served.host, served.port, head)  # no body sent
    assert time.monotonic() - started < 5
    assert (status, json.loads(body)["reason"]) == (413, "too-large")
    assert headers["connection"] == "close"


def test_expect_100_continue_is_answered_before_the_body(served: Served) -> None:
    served.gate.gate.set()
    payload = json.dumps(structured(id="wt-100")).encode()
    head = (
        "POST /events HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
        f"Authorization: Bearer {TOKEN}\r\nContent-Type: {STRUCTURED}\r\n"
        f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n"
    ).encode()
    with socket.create_connection((served.host, served.port), timeout=10) as conn:
        conn.sendall(head)
        assert conn.recv(1024).startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
        conn.sendall(payload)
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 202 ")


def test_a_body_that_stops_short_is_400_after_the_body_timeout(served: Served) -> None:
    head = (
        "POST /events HTTP/1.1\r\nHost: x\r\n"
        f"Authorization: Bearer {TOKEN}\r\nContent-Type: {STRUCTURED}\r\n"
        "Content-Length: 100\r\n\r\n"
    ).encode()
    with socket.create_connection((served.host, served.port), timeout=10) as conn:
        conn.sendall(head + b'{"specversion": ')  # and then nothing
        started = time.monotonic()
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            chunk = conn.recv(65536)
            if not chunk:
                break
            answer += chunk
    assert 0.3 < time.monotonic() - started < 10
    head_part, _, body = answer.partition(b"\r\n\r\n")
    assert head_part.startswith(b"HTTP/1.1 400 ")
    assert json.loads(body)["message"] == "the body is shorter than Content-Length"
    assert len(served.hx.quarantine_lines()) == 1


def test_a_compressed_body_is_not_decompressed(served: Served) -> None:
    bomb = gzip.compress(json.dumps(structured(data={"x": "0" * 3_000_000})).encode())
    assert len(bomb) < 4096  # within SCHAKEL_MAX_REQUEST_BYTES as sent
    conn = http.client.HTTPConnection(served.host, served.port, timeout=10)
    conn.request(
        "POST",
        "/events",
        body=bomb,
        headers={
            "Content-Type": STRUCTURED,
            "Content-Encoding": "gzip",
            "Authorization": f"Bearer {TOKEN}",
        },
    )
    response = conn.getresponse()
    answer = json.loads(response.read())
    conn.close()
    assert (response.status, answer["reason"]) == (400, "encoding")  # gzip bytes, not JSON
    assert served.hx.publisher.acked == []


def test_a_defect_is_500_short_json(served: Served, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(f"defect while reading {TOKEN}")

    monkeypatch.setattr(served.server.app, "handle", broken)
    status, answer = served.post(structured())
    assert (status, answer["error"]) == (500, "internal-error")
    assert TOKEN not in json.dumps(answer)


def test_shutdown_finishes_the_request_in_progress(tmp_path: Path) -> None:
    s = serve(tmp_path)
    poster, answer = _in_thread(lambda: s.post(structured()))
    assert s.gate.entered.wait(10)
    stopper, _ = _in_thread(s.server.shutdown)
    time.sleep(0.3)
    assert stopper.is_alive()  # waits for the request in progress
    s.gate.gate.set()
    poster.join(10)
    stopper.join(15)
    s.thread.join(5)
    assert answer == [(202, {"status": "accepted", "duplicate": False})]
    assert not stopper.is_alive() and not s.thread.is_alive()
    with pytest.raises(OSError):
        socket.create_connection((s.host, s.port), timeout=2).close()


def test_shutdown_before_serving_releases_the_socket(tmp_path: Path) -> None:
    hx = make_harness(WebhookInbox(), tmp_path)
    server = WebhookServer(WebhookApp(hx.runner, {TOKEN: WT}, max_bytes=64), "127.0.0.1", 0)
    host, port = server.address
    server.shutdown()
    server.serve_forever()  # returns at once: already shut down
    with pytest.raises(OSError):
        socket.create_connection((host, port), timeout=2).close()
