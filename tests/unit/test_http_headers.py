"""The header values both HTTP servers answer with — the worker's (streams/webserver.py) and
the webhook's (adapters/webhook_server.py) — are written once, in schemas/http_headers.py (the
package both may import): the bearer challenge of a 401 was a literal in each, free to drift
apart."""

from __future__ import annotations

import re
from pathlib import Path

from adapters.webhook import WebhookApp, WebhookInbox
from adapters.webhook_server import _server_error, _to_aiohttp
from schemas.http_headers import SERVER, WWW_AUTHENTICATE
from streams.openapi import openapi_document
from streams.webserver import error_response
from tests.unit.adapters.conftest import make_harness
from tests.unit.adapters.test_webhook import TOKEN, WT, post

ROOT = Path(__file__).resolve().parents[2]


def test_the_challenge_and_the_server_name_are_written_once() -> None:
    written = sorted(
        str(path.relative_to(ROOT))
        for package in ("adapters", "schakel", "schemas", "streams")
        for path in (ROOT / package).rglob("*.py")
        if re.search(r"""Bearer realm=\\?["']""", path.read_text(encoding="utf-8"))
    )
    assert written == ["schemas/http_headers.py"]
    assert re.search(r"""["']server["']: ["']schakel["']""", _webhook_source()) is None


def _webhook_source() -> str:
    return "".join(
        (ROOT / "adapters" / name).read_text(encoding="utf-8")
        for name in ("webhook.py", "webhook_server.py")
    )


def test_both_servers_answer_a_401_with_the_one_challenge(tmp_path: Path) -> None:
    hx = make_harness(WebhookInbox(), tmp_path)
    app = WebhookApp(hx.runner, {TOKEN: WT}, max_bytes=4096, registry=hx.registry)
    webhook = _to_aiohttp(post(app, b"{}", token="geen-token"))
    worker = error_response(401)
    assert webhook.status == worker.status == 401
    assert webhook.headers["WWW-Authenticate"] == WWW_AUTHENTICATE
    assert worker.headers["WWW-Authenticate"] == WWW_AUTHENTICATE
    described = openapi_document()["paths"]["/api/v1/signalen"]["get"]["responses"]["401"]
    assert described["headers"]["WWW-Authenticate"]["schema"]["const"] == WWW_AUTHENTICATE
    for answer in (webhook, worker, _server_error(400)):
        assert answer.headers["Server"] == SERVER
