"""A timeline request asked at a worker that does not own the citizen (docs/operations.md,
"HTTP API"): forwarded to the owner, which audits and answers; the answer passed on with its
``X-Inzage-Id`` and ``Retry-After``; no owner, or an owner that does not answer: the API's own
503 with ``Retry-After``. Two apps on test servers in one process (:mod:`.api_harness`), and
:func:`streams.routing.forward` against a plain aiohttp server."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer, make_mocked_request
from yarl import URL

import streams.api
from schakel.broker import free_port
from streams.routing import FORWARDED_HEADER, OwnerUnavailable, forward, owner_unavailable_log

from .api_harness import REGISSEUR, Api, serve

CITIZEN = "0123456789abcdef0123456789abcdef"
PATH = f"/api/v1/burgers/{CITIZEN}/tijdlijn"
BODY = {"subject": CITIZEN, "tijdlijn": []}


@pytest.fixture(autouse=True)
def _timeline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(streams.api, "timeline_json", lambda state, clock, periods: BODY)


def two_workers(check: Callable[[Api, Api], Any]) -> None:
    """``check(front, owner)``: ``owner`` holds :data:`CITIZEN`, ``front`` forwards to it."""

    async def run() -> None:
        async with (
            serve(states={CITIZEN: SimpleNamespace(events=[1])}) as owner,
            serve() as front,
        ):
            front.owner = lambda key: owner.url
            await check(front, owner)

    asyncio.run(run())


def test_a_forwarded_answer_is_the_owners_with_its_audit_id() -> None:
    async def check(front: Api, owner: Api) -> None:
        headers = {**REGISSEUR, "X-Doel": "casusoverleg café"}
        response = await front.client.get(PATH, headers=headers)
        assert response.status == 200
        assert await response.json() == BODY
        assert response.content_type == "application/json"
        # the owner's audit record is the read's only one, and the answer names it
        assert response.headers["X-Inzage-Id"] == "audit-1"
        assert front.audit.records == []
        assert owner.audit.records == [
            {
                "wie": "anna",
                "rol": "regisseur",
                "doel": "casusoverleg café",
                "wat": f"GET {PATH}",
                "subject": CITIZEN,
            }
        ]
        response = await front.client.head(
            PATH + "?doel=overleg", headers={"Authorization": REGISSEUR["Authorization"]}
        )
        assert (response.status, response.headers["X-Inzage-Id"]) == (200, "audit-2")
        assert owner.audit.records[-1]["wat"] == f"HEAD {PATH}"
        assert owner.audit.records[-1]["doel"] == "overleg"
        assert front.audit.records == []

    two_workers(check)


def test_the_owners_refusals_are_passed_on_with_retry_after() -> None:
    async def check(front: Api, owner: Api) -> None:
        owner.audit.fail = True
        response = await front.client.get(PATH, headers=REGISSEUR)
        assert response.status == 503
        assert response.headers["Retry-After"] == "5"
        assert await response.json() == {
            "fout": "inzage: het auditrecord kon niet worden vastgelegd"
        }
        owner.audit.fail = False
        # an unknown citizen at the owner: audited there, 404 passed on
        unknown = "f" * 32
        response = await front.client.get(f"/api/v1/burgers/{unknown}/tijdlijn", headers=REGISSEUR)
        assert response.status == 404
        assert [r["subject"] for r in owner.audit.records] == [unknown]
        assert front.audit.records == []

    two_workers(check)


def test_no_owner_is_the_apis_own_503() -> None:
    async def check(front: Api, owner: Api) -> None:
        def rebalancing(key: str) -> URL:
            raise KeyError(key)

        front.owner = rebalancing
        response = await front.client.get(PATH, headers=REGISSEUR)
        assert response.status == 503
        assert response.headers["Retry-After"] == "5"
        assert set(await response.json()) == {"fout"}
        assert front.audit.records == owner.audit.records == []

    two_workers(check)


def test_an_unreachable_owner_is_503_not_500() -> None:
    async def check(front: Api, owner: Api) -> None:
        front.owner = lambda key: URL(f"http://127.0.0.1:{free_port()}")  # nobody listens
        response = await front.client.get(PATH, headers=REGISSEUR)
        assert response.status == 503
        assert response.headers["Retry-After"] == "5"
        assert set(await response.json()) == {"fout"}
        assert front.audit.records == owner.audit.records == []

    two_workers(check)


def test_a_forwarded_request_is_not_forwarded_again() -> None:
    async def check(front: Api, owner: Api) -> None:
        # the front takes itself for not the owner (its view of the assignment is stale)
        response = await front.client.get(PATH, headers={**REGISSEUR, FORWARDED_HEADER: "1"})
        assert response.status == 503
        assert response.headers["Retry-After"] == "5"
        assert front.audit.records == owner.audit.records == []
        # the owner answers a forwarded request as any other
        response = await owner.client.get(PATH, headers={**REGISSEUR, FORWARDED_HEADER: "1"})
        assert response.status == 200

    two_workers(check)


def answering(status: int, headers: dict[str, str]) -> web.Response:
    """forward() of a GET to a plain server answering ``status`` with ``headers``."""

    async def handler(request: web.Request) -> web.Response:
        assert request.headers[FORWARDED_HEADER] == "1"
        return web.json_response({"ok": 1}, status=status, headers=headers)

    async def run() -> web.Response:
        app = web.Application()
        app.router.add_get(PATH, handler)
        async with TestServer(app) as owner, aiohttp.ClientSession() as session:
            request = make_mocked_request("GET", PATH + "?doel=x")
            return await forward(
                session,
                URL(str(owner.make_url("/"))),
                request,
                {},
                unavailable=owner_unavailable_log(),
            )

    return asyncio.run(run())


def test_a_2xx_without_an_audit_id_is_not_passed_on() -> None:
    with pytest.raises(OwnerUnavailable):
        answering(200, {})
    answer = answering(200, {"X-Inzage-Id": "a1", "X-Other": "x"})
    assert (answer.status, answer.headers["X-Inzage-Id"]) == (200, "a1")
    assert answer.headers["Content-Type"] == "application/json; charset=utf-8"
    assert "X-Other" not in answer.headers
    answer = answering(503, {"Retry-After": "7"})
    assert (answer.status, answer.headers["Retry-After"]) == (503, "7")
