"""Any producer may write to ``schakel.inzage`` and ``schakel.deadletter.streams``, with any
Kafka timestamp (a CreateTime up to the year 292 million; a broker before Kafka 4 takes it).
A time that is no date Python can show — before the year 1 or after 9999 — is ``tijd: null``
in its row, never a 500 for the whole page (``datetime.fromtimestamp`` raised ``ValueError``);
and a time that is one is shown to the millisecond, as written (a float division lost it)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any, cast

import pytest

import streams.api
import streams.inzage_page
from schemas.envelope import Event
from schemas.exceptions import UnknownMagicByte
from schemas.serde import RecordDeserializer
from streams.inzage_page import record_time
from streams.topicpage import Page

from .api_harness import serve

AUDITOR = {"Authorization": "Bearer token-carla", "X-Doel": "controle van de inzage"}
BEHEERDER = {"Authorization": "Bearer token-bert", "X-Doel": "controle van de dead letters"}
OUT_OF_RANGE = (2**62, 253402300800000, -62135596800001, -(2**63))
"""Kafka timestamps (ms) that are no date from the year 1 to 9999."""


def unreadable(payload: bytes) -> Event:
    raise UnknownMagicByte("not Confluent wire format")


@pytest.mark.parametrize(
    ("path", "module", "headers", "rows"),
    [
        ("/api/v1/inzage", streams.inzage_page, AUDITOR, "inzage"),
        ("/api/v1/deadletters", streams.api, BEHEERDER, "deadletters"),
    ],
)
def test_a_kafka_time_that_is_no_date_is_null_not_a_500(
    monkeypatch: pytest.MonkeyPatch, path: str, module: Any, headers: dict[str, str], rows: str
) -> None:
    records = [
        SimpleNamespace(offset=n, timestamp=ms, key=None, value=b"x", headers=[])
        for n, ms in enumerate((1764547200456, *OUT_OF_RANGE))
    ]
    monkeypatch.setattr(module, "read_page", lambda *args, **kwargs: Page(records, len(records)))

    async def run() -> Any:
        async with serve(deserializer=cast(RecordDeserializer, unreadable)) as api:
            response = await api.client.get(path, headers=headers)
            assert response.status == 200, await response.text()
            return await response.json()

    body = asyncio.run(run())
    times = [row["tijd"] for row in body[rows]]
    assert times == ["2025-12-01T00:00:00.456+00:00", *(None for _ in OUT_OF_RANGE)]


@pytest.mark.parametrize(
    ("ms", "shown"),
    [
        (253402300799999, "9999-12-31T23:59:59.999+00:00"),
        (-62135596800000, "0001-01-01T00:00:00.000+00:00"),
        (-1, "1969-12-31T23:59:59.999+00:00"),
        (0, "1970-01-01T00:00:00.000+00:00"),
    ],
)
def test_a_kafka_time_is_shown_to_the_millisecond(ms: int, shown: str) -> None:
    assert record_time(SimpleNamespace(timestamp=ms)) == shown
