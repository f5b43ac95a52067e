"""The webhook's answers to what is not the sender's fault, each labelled for what it is and
free of the request: an exception escaping the request handling is a 500 ``internal-error``
logged as ``adapter.webhook_defect`` (aiohttp's own error path labelled it ``bad-request`` and
logged it at DEBUG as a rejected request), and a schema registry that refuses the webhook —
wrong credentials or certificates, a permanent misconfiguration — is a 502 ``misconfigured``,
logged with the registry's message (it was a 500 ``internal-error`` logged as a defect, by
class only, which left the operator to guess). An outage stays a 503 ``unavailable``
(``test_webhook.py``)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
from aiohttp.http import HttpVersion11
from aiohttp.web_request import BaseRequest

from adapters.webhook import Response, WebhookApp, WebhookInbox
from adapters.webhook_server import WebhookServer, _server_error
from schemas.exceptions import RegistryUnauthorized
from tests.unit.adapters.conftest import Harness, make_harness
from tests.unit.adapters.test_webhook import BSN, TOKEN, WT, post, ready, structured
from tests.unit.adapters.test_webhook_server import Served, serve

REGISTRY_SAYS = (
    "schema registry https://register.intern:8081: subject 'schakel.wijkteams-value' lookup: "
    "HTTP 401, error code 40101: credentials refused: check SCHAKEL_SCHEMA_REGISTRY_AUTH or _TOKEN"
)


@pytest.fixture
def hx(tmp_path: Path) -> Harness:
    return make_harness(WebhookInbox(), tmp_path)


@pytest.fixture
def app(hx: Harness) -> WebhookApp:
    return WebhookApp(hx.runner, {TOKEN: WT}, max_bytes=4096, registry=hx.registry)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    s = serve(tmp_path, body_timeout=0.5)
    s.gate.gate.set()  # the broker acknowledges at once
    try:
        yield s
    finally:
        s.server.shutdown()
        s.thread.join(10)


def _no_input(answer: Mapping[str, Any]) -> None:
    text = json.dumps(answer)
    for submitted in (BSN, TOKEN, "W-1", "wt-1"):
        assert submitted not in text


@pytest.mark.parametrize("status", [500, 504])
def test_the_servers_own_5xx_is_no_bad_request(status: int) -> None:
    """aiohttp's error path answers 500 for an exception escaping the handling, 504 for a
    timeout escaping it: the server's failure, not the request's."""
    answer = json.loads(_server_error(status).body)  # type: ignore[arg-type]
    assert answer["error"] == "internal-error"


def test_a_defect_past_the_request_handling_is_500_internal_error_and_logged(
    served: Served, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """An answer that cannot be written (a defect in the handling): aiohttp's error path
    answers; it must say what happened and log it as a defect, not as a rejected request."""
    unwritable = Response(202, {"status": object()})  # not JSON: fails as the answer is made
    monkeypatch.setattr(served.server.app, "handle", lambda *args, **kwargs: unwritable)
    with caplog.at_level(logging.DEBUG, logger="schakel.adapters"):
        status, answer = served.post(structured())
    assert (status, answer["error"]) == (500, "internal-error")
    _no_input(answer)
    (defect,) = [r for r in caplog.records if r.getMessage() == "adapter.webhook_defect"]
    assert defect.levelno == logging.ERROR
    assert defect.__dict__["error"] == "TypeError"
    assert not [r for r in caplog.records if r.getMessage() == "adapter.webhook_request_rejected"]


def _registry_refuses(monkeypatch: pytest.MonkeyPatch, hx: Harness) -> None:
    def refused(topic: str, name: str, record: Mapping[str, Any]) -> bytes:
        raise RegistryUnauthorized(REGISTRY_SAYS, status=401, error_code=40101)

    monkeypatch.setattr(hx.publisher.serializer, "encode", refused)


@pytest.mark.parametrize(
    ("body", "mended"),
    [
        (structured(), 202),  # publishing the event
        (b"{oops", 400),  # quarantining a refusal (its dead letter is encoded too)
    ],
)
def test_a_registry_that_refuses_the_webhook_is_502_misconfigured(
    app: WebhookApp,
    hx: Harness,
    *,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    body: Any,
    mended: int,
) -> None:
    _registry_refuses(monkeypatch, hx)
    with caplog.at_level(logging.INFO, logger="schakel.adapters"):
        response = post(app, body)
    assert (response.status, response.body["error"]) == (502, "misconfigured")
    assert "retry-after" not in response.headers
    _no_input(response.body)
    assert "register.intern" not in json.dumps(response.body)
    assert hx.publisher.acked == [] and hx.quarantine_lines() == []  # nothing stored
    (line,) = [r for r in caplog.records if r.getMessage() == "adapter.webhook_registry_refused"]
    assert line.levelno == logging.ERROR
    assert (line.__dict__["error"], line.__dict__["detail"]) == (
        "RegistryUnauthorized",
        REGISTRY_SAYS,
    )
    assert not [r for r in caplog.records if r.getMessage() == "adapter.webhook_defect"]
    monkeypatch.undo()  # mended: the sender's retry is answered
    assert post(app, body).status == mended
    assert ready(app) == 200


def test_a_registry_that_refuses_the_webhook_is_502_over_the_socket_too(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    _registry_refuses(monkeypatch, served.hx)
    status, answer = served.post(structured())
    assert (status, answer["error"]) == (502, "misconfigured")
    _no_input(answer)


def test_a_sender_gone_before_the_continue_is_a_short_body_not_a_defect(tmp_path: Path) -> None:
    """A sender that asked ``Expect: 100-continue`` and closed the connection: writing the
    ``100 Continue`` fails as any read of a gone sender does — a short body (400 for a sender
    still there), not an exception through :meth:`WebhookApp.handle` logged as a defect."""
    hx = make_harness(WebhookInbox(), tmp_path)
    server = WebhookServer(WebhookApp(hx.runner, {TOKEN: WT}, max_bytes=64), "127.0.0.1", 0)

    class Gone:
        async def write(self, data: bytes) -> None:
            raise ConnectionResetError("Cannot write to closing transport")

    request = SimpleNamespace(
        version=HttpVersion11, headers={"expect": "100-continue"}, writer=Gone(), content=None
    )
    try:
        body = asyncio.run(server._read(cast(BaseRequest, request), 10))
    finally:
        server.shutdown()
    assert body == b""
