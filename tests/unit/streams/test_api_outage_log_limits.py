"""Two lines the API logged on every request for as long as one condition lasted, now limited
as the other per-request lines are (:class:`schemas.log_limits.RefusalLog`: the first at once,
then at most a line a minute with ``weggelaten``, the occurrences left out):

- ``api.owner_unavailable``: a timeline request for a citizen whose worker does not answer
  (stopped, unreachable) is answered 503 by the worker asked; every such request logged a
  WARNING (20 requests, 20 lines).
- ``api.registry_unavailable``: during a schema-registry outage every read of the auditor's
  page that met a record to decode logged a WARNING.

Every request is still answered 503 with ``Retry-After`` and counted in the metrics; the lines
name no registry address, no token and no path (it holds the pseudonym)."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Iterator
from typing import Any, cast

import pytest
from yarl import URL

import schemas.log_limits
import streams.inzage_page
from schemas.envelope import Event
from schemas.exceptions import RegistryUnavailable
from schemas.serde import RecordDeserializer
from streams.topicpage import Page

from .api_harness import REGISSEUR, Api, serve
from .test_api_inzage import AUDITOR, on_topic
from .test_api_routing import CITIZEN, PATH, two_workers

REQUESTS = 21
"""Requests in one outage: 20 within a minute, the 21st a minute later."""


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The clock of :class:`~schemas.log_limits.RefusalLog`, moved by the test."""
    now = [1000.0]
    monkeypatch.setattr(schemas.log_limits, "_monotonic", lambda: now[0])
    return now


@pytest.fixture
def refusing_port() -> Iterator[int]:
    """A port on 127.0.0.1 bound but not listening for the test's length: a connection to it
    is refused at once (a worker that is gone), and no other process can take it meanwhile."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


def _lines(caplog: pytest.LogCaptureFixture, message: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.getMessage() == message]


def test_an_unreachable_owner_is_one_line_a_minute_not_one_a_request(
    clock: list[float], refusing_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    gone = URL(f"http://127.0.0.1:{refusing_port}")
    statuses: list[int] = []

    async def check(front: Api, owner: Api) -> None:
        front.owner = lambda key: gone
        for n in range(REQUESTS):
            if n == REQUESTS - 1:  # a minute later: the next line, with those left out
                clock[0] += schemas.log_limits.REFUSAL_LOG_INTERVAL_S
            response = await front.client.get(PATH, headers=REGISSEUR)
            assert response.headers["Retry-After"] == "5"
            statuses.append(response.status)

    with caplog.at_level(logging.INFO):
        two_workers(check)
    assert statuses == [503] * REQUESTS
    lines = _lines(caplog, "api.owner_unavailable")
    assert [(r.owner, r.reason, r.weggelaten) for r in lines] == [  # type: ignore[attr-defined]
        (str(gone), "ClientConnectorError", 0),
        (str(gone), "ClientConnectorError", REQUESTS - 2),
    ]
    assert {r.levelno for r in lines} == {logging.WARNING}
    # (the test server's access log names the path; the worker's server keeps none)
    assert not any(CITIZEN in str(vars(r)) for r in caplog.records if r.name.startswith("schakel"))


def test_a_registry_outage_is_one_line_a_minute_on_the_auditors_page(
    clock: list[float], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    records = [on_topic(b"\x00\x00\x00\x00\x07rest", 0)]
    monkeypatch.setattr(
        streams.inzage_page, "read_page", lambda *args, **kwargs: Page(records, len(records))
    )

    def unreachable(payload: bytes) -> Event:
        raise RegistryUnavailable("schema registry https://register.intern:8081: unreachable")

    async def run() -> list[int]:
        statuses = []
        async with serve(deserializer=cast(RecordDeserializer, unreachable)) as api:
            for n in range(REQUESTS):
                if n == REQUESTS - 1:
                    clock[0] += schemas.log_limits.REFUSAL_LOG_INTERVAL_S
                response = await api.client.get("/api/v1/inzage", headers=AUDITOR)
                assert response.headers["Retry-After"] == "5"
                statuses.append(response.status)
            assert api.audit.records == []
        return statuses

    with caplog.at_level(logging.INFO):
        assert asyncio.run(run()) == [503] * REQUESTS
    lines = _lines(caplog, "api.registry_unavailable")
    fields: list[Any] = [(r.endpoint, r.weggelaten) for r in lines]  # type: ignore[attr-defined]
    assert fields == [("inzage", 0), ("inzage", REQUESTS - 2)]
    assert {r.levelno for r in lines} == {logging.WARNING}
    assert not any("register.intern" in str(vars(r)) for r in lines)
