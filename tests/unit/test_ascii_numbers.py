"""Numbers read from text are ASCII digits: ``str.isdigit`` and ``int()`` also take ``²``,
``٣`` (Arabic-Indic), ``１`` (full-width), ``1_0`` and `` 2 ``; where a check said
``isdigit()`` and then ``int()`` failed, the answer was a 500 or a crash. Each place answers
what it answers for any other bad number."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

from schakel.registry_server import _schema_id
from schakel.registry_store import Refusal, RegistryStore
from streams.reachability import addresses
from tests.unit.streams.api_harness import REGISSEUR, serve

ODD = ["²", "٣", "１", "1_0", " 2 ", "+1"]


@pytest.mark.parametrize("odd", ODD)
def test_a_broker_address_needs_an_ascii_port(odd: str) -> None:
    assert addresses(f"kafka-1:{odd},kafka-2:9092") == [("kafka-2", 9092)]


@pytest.mark.parametrize("odd", ODD)
def test_the_registry_server_knows_no_schema_of_an_odd_id(odd: str) -> None:
    with pytest.raises(Refusal) as refused:
        _schema_id(SimpleNamespace(match_info={"id": odd}))  # type: ignore[arg-type]
    assert refused.value.status == 404
    assert _schema_id(SimpleNamespace(match_info={"id": "12"})) == 12  # type: ignore[arg-type]


@pytest.mark.parametrize("odd", ODD)
def test_the_registry_store_refuses_an_odd_version(odd: str) -> None:
    store = RegistryStore()
    store.register("s-value", '{"type": "record", "name": "r", "fields": []}')
    with pytest.raises(Refusal) as refused:
        store.version("s-value", odd)
    assert refused.value.status == 422
    assert store.version("s-value", "1").version == 1


@pytest.mark.parametrize("odd", ODD)
def test_the_api_refuses_odd_page_numbers(odd: str) -> None:
    async def run() -> list[int]:
        async with serve(signals=[]) as api:
            statuses = []
            for query in (f"pagina={odd}", f"per_pagina={odd}", "pagina=1&per_pagina=10"):
                response = await api.client.get(f"/api/v1/signalen?{query}", headers=REGISSEUR)
                statuses.append(response.status)
            return statuses

    assert asyncio.run(run()) == [400, 400, 200]
