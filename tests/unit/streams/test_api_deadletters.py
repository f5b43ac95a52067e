"""``GET /api/v1/deadletters`` says which dead letters were written without the original's
value (docs/api.md): ``weggelaten``, the value's size (header ``schakel.bron.weggelaten``), and
``weggelaten_overig``, the size of the key and headers left out too
(``schakel.bron.weggelaten.overig``), ``null`` for what a dead letter has — sizes only, never
content. The dead letters are made as the worker makes them (schemas/binding.py
``deadletter_record``) and read from a stand-in for the topic (:mod:`.api_harness`); on a live
worker: tests/integration/streams/test_api_roles.py."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

import streams.api
from schemas.binding import deadletter_record, record_bytes
from schemas.wire import (
    HEADER_ERROR_CLASS,
    HEADER_SOURCE_OFFSET,
    HEADER_SOURCE_PARTITION,
    HEADER_SOURCE_TOPIC,
    HEADER_STAGE,
    WITHHELD,
)
from streams.topicpage import Page

from .api_harness import serve

BEHEERDER = {"Authorization": "Bearer token-bert", "X-Doel": "controle van de dead letters"}
BSN = "111222333"
KEY = BSN.encode() * 4
VALUE = b"\x07" + f"geen avro van {BSN} ".encode() * 500
ORIGINAL = [("herkomst", BSN.encode() * 20)]


def dead_letter(offset: int, limit: int, *, withhold: bytes | None = None) -> Any:
    """The dead letter of the record at offset ``offset`` of ``schakel.wmo.events``, made to
    fit ``limit`` (``withhold``: as for a record that holds a possible BSN), as the consumer
    hands it to :func:`streams.topicpage.read_page`."""
    key, value, headers = deadletter_record(
        ORIGINAL,
        key=KEY,
        value=VALUE,
        limit=limit,
        topic="schakel.wmo.events",
        partition=0,
        offset=offset,
        stage="decode",
        error=ValueError(f"geen Avro: {BSN}"),
        reason="ValueError",
        source="urn:schakel:test",
        time=None,
        timestamp=1764547200123,
        withhold=withhold,
    )
    return SimpleNamespace(
        offset=offset, timestamp=1764547200456, key=key, value=value, headers=headers
    )


def listed(records: list[Any], monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The rows of the dead-letter list over ``records`` (newest first)."""
    monkeypatch.setattr(
        streams.api, "read_page", lambda *args, **kwargs: Page(records=records, total=len(records))
    )

    async def run() -> Any:
        async with serve() as api:
            response = await api.client.get("/api/v1/deadletters", headers=BEHEERDER)
            assert response.status == 200
            return await response.json()

    body = asyncio.run(run())
    assert BSN not in str(body) and "geen avro" not in str(body)
    return list(body["deadletters"])


def test_a_dead_letter_without_the_originals_value_is_listed_with_its_size(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    whole = dead_letter(10, limit=100_000)
    no_value = dead_letter(11, limit=len(VALUE))  # key and headers fit, the value does not
    nothing = dead_letter(12, limit=200)  # the key and headers do not fit either
    assert (whole.value, no_value.value, no_value.key, nothing.key) == (VALUE, None, KEY, None)
    rows = listed([nothing, no_value, whole], monkeypatch)
    assert [row["bron"]["offset"] for row in rows] == ["12", "11", "10"]
    assert [(row["weggelaten"], row["weggelaten_overig"]) for row in rows] == [
        (len(VALUE), record_bytes(KEY, None, ORIGINAL)),
        (len(VALUE), None),
        (None, None),
    ]
    assert all((row["fase"], row["klasse"]) == ("decode", "ValueError") for row in rows)
    assert [row["achtergehouden"] for row in rows] == [False, False, False]


@pytest.mark.parametrize("why", WITHHELD)
def test_a_withheld_dead_letter_is_listed_as_withheld_not_too_large(
    monkeypatch: pytest.MonkeyPatch, why: bytes
) -> None:
    withheld = dead_letter(15, limit=100_000, withhold=why)  # it would have fitted
    assert (withheld.key, withheld.value) == (None, b"")
    (row,) = listed([withheld], monkeypatch)
    assert row["achtergehouden"] is True
    assert row["weggelaten"] == len(VALUE)


def test_a_header_with_a_null_value_is_taken_as_absent(monkeypatch: pytest.MonkeyPatch) -> None:
    # Kafka allows a header with a null value; the dead letter keeps the original's headers as
    # they were, and the topic's reader hands such a value over as None
    letter = dead_letter(13, limit=100_000)
    letter.headers = [("traceparent", None), *letter.headers]
    assert ("traceparent", None) in letter.headers
    # a dead letter some other producer wrote, its stage header null
    other = dead_letter(14, limit=100_000)
    other.headers = [(n, None if n == HEADER_STAGE else v) for n, v in other.headers]
    rows = listed([other, letter], monkeypatch)
    assert [row["bron"]["offset"] for row in rows] == ["14", "13"]
    assert [(row["fase"], row["klasse"]) for row in rows] == [
        (None, "ValueError"),
        ("decode", "ValueError"),
    ]


def test_what_another_producer_wrote_is_listed_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any producer may write to the dead-letter topic: a BSN in a header the list shows
    (source topic, partition, offset, stage, error class) is masked, as by ``schakel dlq``."""
    headers = [
        (HEADER_SOURCE_TOPIC, f"burger-{BSN}".encode()),
        (HEADER_SOURCE_PARTITION, BSN.encode()),
        (HEADER_SOURCE_OFFSET, BSN.encode()),
        (HEADER_STAGE, f"stage-{BSN}".encode()),
        (HEADER_ERROR_CLASS, f"Fout{BSN}".encode()),
    ]
    record = SimpleNamespace(
        offset=3, timestamp=1764547200456, key=None, value=b"x", headers=headers
    )
    (row,) = listed([record], monkeypatch)  # asserts no BSN in the answer
    assert row["bron"]["topic"].startswith("burger-") and row["fase"].startswith("stage-")
