"""What each topic page of the API reads: on Apache Kafka (every profile but ``embedded``)
the worker writes its dead letters inside its transactions, so ``GET /api/v1/deadletters``
reads committed records only (the dead letter of an aborted transaction is none; on a real
broker: tests/integration/streams/test_api_deadletters_committed.py); the embedded broker has
no usable transactions and is read uncommitted. The audit trail is written outside any
transaction (:mod:`streams.audit`) and ``GET /api/v1/inzage`` reads it as written in every
profile. Reproduction: the dead-letter page read uncommitted in every profile."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import streams.api
import streams.inzage_page
from schakel import dlq
from streams.topicpage import Page, read_committed
from streams.transactions import processing_guarantee

from .api_harness import serve
from .test_api_deadletters import BEHEERDER
from .test_api_inzage import AUDITOR

PROFILES = ("embedded", "kafka", "production")


def _asked(monkeypatch: pytest.MonkeyPatch, profile: str) -> dict[str, bool]:
    """endpoint → the ``committed`` its page asked :func:`streams.topicpage.read_page` for."""
    asked: dict[str, bool] = {}

    def reader(endpoint: str) -> Any:
        def read_page(*args: Any, committed: bool, **kwargs: Any) -> Page:
            asked[endpoint] = committed
            return Page(records=[], total=0)

        return read_page

    monkeypatch.setattr(streams.api, "read_page", reader("deadletters"))
    monkeypatch.setattr(streams.inzage_page, "read_page", reader("inzage"))

    async def run() -> None:
        async with serve(profile=profile) as api:
            for path, headers in (("deadletters", BEHEERDER), ("inzage", AUDITOR)):
                response = await api.client.get(f"/api/v1/{path}", headers=headers)
                assert response.status == 200, await response.text()

    asyncio.run(run())
    return asked


@pytest.mark.parametrize("profile", PROFILES)
def test_the_dead_letters_are_read_committed_where_the_worker_runs_exactly_once(
    monkeypatch: pytest.MonkeyPatch, profile: str
) -> None:
    exactly_once = processing_guarantee(profile) == "exactly_once"
    assert read_committed(profile) == exactly_once
    assert _asked(monkeypatch, profile) == {"deadletters": exactly_once, "inzage": False}


def test_schakel_dlq_reads_as_the_api_does() -> None:
    # one rule for the API's page and `schakel dlq` (and replay, demo): the same function
    assert dlq.read_committed is read_committed
