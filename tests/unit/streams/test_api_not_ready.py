"""What the API answers before the worker can tell (docs/api.md): a pseudonym its table does
not hold while the worker is not ready (``/ready`` 503: the table being restored after a
start, or a partition just assigned) is answered 503 with ``Retry-After`` — it may not be
restored yet — not an audited 404 "unknown"; the signal list answers 503 until the read model
has caught up, not a part of the list. A 503 is not audited, like the API's other 503s:
nothing was read. Apps on test servers (:mod:`.api_harness`)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

import streams.api

from .api_harness import REGISSEUR, serve

KNOWN = "0123456789abcdef0123456789abcdef"
NOT_YET = "fedcba9876543210fedcba9876543210"
BODY = {"subject": KNOWN, "tijdlijn": []}


@pytest.fixture(autouse=True)
def _timeline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(streams.api, "timeline_json", lambda state, clock, periods: BODY)


def test_a_citizen_not_restored_yet_is_503_not_an_audited_404() -> None:
    ready = [False]

    async def run() -> None:
        async with serve(
            states={KNOWN: SimpleNamespace(events=[1])}, ready=lambda: ready[0]
        ) as api:
            assert (await api.client.get("/ready")).status == 503
            response = await api.client.get(
                f"/api/v1/burgers/{NOT_YET}/tijdlijn", headers=REGISSEUR
            )
            assert response.status == 503
            assert response.headers["Retry-After"] == "5"
            assert await response.json() == {"fout": "pseudoniem: de werker is nog niet gereed"}
            assert api.audit.records == []
            # a citizen the table holds is answered (and audited) meanwhile
            response = await api.client.get(f"/api/v1/burgers/{KNOWN}/tijdlijn", headers=REGISSEUR)
            assert (response.status, await response.json()) == (200, BODY)
            assert [r["subject"] for r in api.audit.records] == [KNOWN]
            # ready: the table holds every citizen of its partitions; unknown is unknown
            ready[0] = True
            response = await api.client.get(
                f"/api/v1/burgers/{NOT_YET}/tijdlijn", headers=REGISSEUR
            )
            assert response.status == 404
            assert await response.json() == {"fout": "pseudoniem: onbekend"}
            assert [r["subject"] for r in api.audit.records] == [KNOWN, NOT_YET]

    asyncio.run(run())


def test_the_signal_list_is_503_until_the_read_model_has_caught_up() -> None:
    async def statuses(caught_up: bool) -> tuple[int, str | None, int]:
        async with serve(caught_up=caught_up) as api:
            response = await api.client.get("/api/v1/signalen", headers=REGISSEUR)
            return response.status, response.headers.get("Retry-After"), len(api.audit.records)

    assert asyncio.run(statuses(caught_up=False)) == (503, "5", 0)
    assert asyncio.run(statuses(caught_up=True)) == (200, None, 1)
