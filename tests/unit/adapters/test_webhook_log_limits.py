"""The webhook's log lines that repeat per request are limited
(:class:`schemas.log_limits.RefusalLog`: the first at once, then at most a line a minute with
``weggelaten``, the occurrences left out since the line before), as the worker's port limits
its own. Reproductions, before: a schema registry that refuses the webhook logged an ERROR line
``adapter.webhook_registry_refused`` per request for as long as it refused; a request aiohttp
cannot parse logged ``adapter.webhook_request_rejected`` per request (anyone can send them);
the first 429 of every client address logged ``adapter.webhook_rate_limited``, so a sender
with many addresses (an IPv6 range) wrote a line per 21 requests. Every request is still
answered and counted as before."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

import schemas.log_limits
from adapters.throttle import ClientLimiter
from adapters.webhook import WebhookApp, WebhookInbox
from schemas.log_limits import REFUSAL_LOG_INTERVAL_S
from tests.unit.adapters.conftest import Harness, make_harness
from tests.unit.adapters.test_messages import SERVER_ERRORS, TOKEN_PART, raw_request
from tests.unit.adapters.test_webhook import TOKEN, WT, post, structured
from tests.unit.adapters.test_webhook_errors import REGISTRY_SAYS, _registry_refuses
from tests.unit.adapters.test_webhook_server import Served, serve


@pytest.fixture
def now(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    clock = [1000.0]
    monkeypatch.setattr(schemas.log_limits, "_monotonic", lambda: clock[0])
    return clock


@pytest.fixture
def hx(tmp_path: Path) -> Harness:
    return make_harness(WebhookInbox(), tmp_path)


def lines(caplog: pytest.LogCaptureFixture, message: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.getMessage() == message]


def test_a_refusing_registry_is_an_error_line_a_minute_not_one_a_request(
    hx: Harness,
    now: list[float],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = WebhookApp(hx.runner, {TOKEN: WT}, max_bytes=4096, registry=hx.registry)
    _registry_refuses(monkeypatch, hx)
    with caplog.at_level(logging.INFO, logger="schakel.adapters"):
        statuses = [post(app, structured(id=f"wt-{n}")).status for n in range(20)]
        statuses.append(post(app, b"{oops").status)  # quarantining a refusal meets it too
        now[0] += REFUSAL_LOG_INTERVAL_S
        statuses.append(post(app, structured(id="wt-late")).status)
    assert statuses == [502] * 22  # every request answered
    found = lines(caplog, "adapter.webhook_registry_refused")
    assert [(r.error, r.detail, r.weggelaten) for r in found] == [  # type: ignore[attr-defined]
        ("RegistryUnauthorized", REGISTRY_SAYS, 0),
        ("RegistryUnauthorized", REGISTRY_SAYS, 20),
    ]
    assert {r.levelno for r in found} == {logging.ERROR}


def test_runs_of_429_from_many_addresses_are_a_line_a_minute(
    hx: Harness, now: list[float], caplog: pytest.LogCaptureFixture
) -> None:
    limiter = ClientLimiter(burst=1, per_second=0.001, clock=lambda: now[0])
    app = WebhookApp(hx.runner, {TOKEN: WT}, max_bytes=4096, registry=hx.registry, limiter=limiter)
    with caplog.at_level(logging.INFO, logger="schakel.adapters"):
        statuses = []
        for n in range(30):  # 30 addresses, each with a run of refusals
            client = f"2001:db8::{n:x}"
            statuses += [
                post(app, structured(), token="guess", client=client).status for _ in "abc"
            ]
        now[0] += REFUSAL_LOG_INTERVAL_S
        late = "2001:db8::ff"  # a minute later: the next line, with the 29 runs left out
        statuses += [post(app, structured(), token="guess", client=late).status for _ in "ab"]
    assert statuses == [401, 429, 429] * 30 + [401, 429]
    found = lines(caplog, "adapter.webhook_rate_limited")
    assert [r.weggelaten for r in found] == [0, 29]  # type: ignore[attr-defined]
    assert {r.levelno for r in found} == {logging.WARNING}


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    s = serve(tmp_path, body_timeout=0.5)
    s.gate.gate.set()
    try:
        yield s
    finally:
        s.server.shutdown()
        s.thread.join(10)


def test_a_flood_of_unparsable_requests_is_not_a_line_each(
    served: Served, now: list[float], caplog: pytest.LogCaptureFixture
) -> None:
    """Anyone who reaches the port can send them (logged at DEBUG, with no part of them)."""
    requests = [(data, status) for _, data, status in SERVER_ERRORS]
    with caplog.at_level(logging.DEBUG, logger="schakel.adapters"):
        answered = [raw_request(served.host, served.port, data)[0] for data, _ in requests * 3]
        now[0] += REFUSAL_LOG_INTERVAL_S
        answered.append(raw_request(served.host, served.port, requests[0][0])[0])
    assert answered == [status for _, status in requests * 3] + [requests[0][1]]
    found = lines(caplog, "adapter.webhook_request_rejected")
    assert [(r.status, r.weggelaten) for r in found] == [  # type: ignore[attr-defined]
        (requests[0][1], 0),
        (requests[0][1], len(requests) * 3 - 1),
    ]
    assert {r.levelno for r in found} == {logging.DEBUG}
    assert TOKEN_PART not in str([vars(r) for r in found])
