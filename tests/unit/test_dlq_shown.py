"""``schakel dlq show`` tells what a dead letter was written without (docs/operations.md,
"Dead letters runbook"): the original's value, and its key and headers when they were left
out too — sizes and the original's location only, never content. The dead letters are those
of the API's test (made as the worker makes them, schemas/binding.py ``deadletter_record``);
the CLI end to end: tests/e2e/test_dlq.py."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from schakel.dlq import _adapters, _streams, sendable
from schemas.binding import original_headers, record_bytes
from schemas.registry import LocalRegistry
from schemas.serde import RecordDeserializer
from schemas.wire import (
    HEADER_CE_ID,
    HEADER_ERROR_CLASS,
    HEADER_SOURCE_OFFSET,
    HEADER_SOURCE_PARTITION,
    HEADER_SOURCE_TOPIC,
    HEADER_STAGE,
    WITHHELD,
)
from tests.unit.streams.test_api_deadletters import BSN, KEY, ORIGINAL, VALUE, dead_letter

LOCATION = "schakel.wmo.events/0/7"


def shown(limit: int) -> str:
    """What ``dlq show`` prints as the value of the dead letter made to fit ``limit``."""
    text = _streams(dead_letter(7, limit)).shown_value()
    assert BSN not in text and "geen avro" not in text
    return text


def test_a_dead_letter_says_what_of_the_original_it_was_written_without() -> None:
    whole = shown(100_000)
    assert "omitted" not in whole and f"{len(VALUE)} bytes" in whole
    no_value = shown(len(VALUE))  # the key and headers fit, the value does not
    assert f"original's {len(VALUE)} bytes" in no_value
    assert LOCATION in no_value and "key and headers" not in no_value
    nothing = shown(200)  # the key and headers do not fit either
    rest = record_bytes(KEY, None, ORIGINAL)
    assert f"its key and headers, {rest} bytes, were left out too" in nothing
    assert LOCATION in nothing


def test_a_header_with_a_null_value_is_listed_shown_and_replayed() -> None:
    # Kafka allows a header with a null value; the dead letter keeps the original's headers
    letter = dead_letter(7, 100_000)
    letter.headers = [("traceparent", None), *letter.headers]
    letter.headers = [(n, None if n == HEADER_STAGE else v) for n, v in letter.headers]
    found = _streams(letter)
    assert (found.stage, found.reason, found.location) == ("", "ValueError", LOCATION)
    assert LOCATION in found.line() and BSN not in found.shown_value()
    # re-published with the header kept, empty: kafka-python's send refuses a None value
    headers = sendable(original_headers(found.headers))
    assert ("traceparent", b"") in headers
    assert all(isinstance(value, bytes) for _, value in headers)


@pytest.mark.parametrize("why", WITHHELD)
def test_a_withheld_dead_letter_says_why_not_that_it_was_too_large(why: bytes) -> None:
    """A review found ``dlq show`` calling it a record that did not fit: an operator would
    raise size limits for nothing."""
    found = _streams(dead_letter(7, 100_000, withhold=why))
    assert found.withheld
    text = found.shown_value()
    assert "possible BSN" in text and "correct it at the source" in text
    assert "did not fit" not in text and LOCATION in text
    assert "withheld" in found.line() and BSN not in found.line()
    assert not _streams(dead_letter(7, 100)).withheld


def test_what_another_producer_wrote_is_shown_masked() -> None:
    """Any producer may write to the dead-letter topic: a BSN in its stage, reason or source
    topic header is not printed by ``dlq list`` / ``show`` (review C item 4)."""
    headers = [
        (HEADER_STAGE, f"stage-{BSN}".encode()),
        (HEADER_ERROR_CLASS, f"Fout{BSN}".encode()),
        (HEADER_SOURCE_TOPIC, f"burger-{BSN}".encode()),
    ]
    record = SimpleNamespace(key=None, value=b"x", headers=headers, timestamp=1)
    found = _streams(record)
    for text in (found.line(), found.stage, found.reason, found.location, found.shown_value()):
        assert BSN not in text
    assert found.topic == f"burger-{BSN}"  # where a replay sends it: as written


def test_an_id_holding_a_bsn_is_not_shown_but_derived() -> None:
    """``dlq list`` / ``show`` print the id as written (Schakel's are digests); another
    producer's id that could be a BSN is replaced by the id derived from the dead letter's
    place (streams) or content (adapters), the same at every listing, so ``show ID`` and
    ``replay ID`` still find it."""
    own = _streams(dead_letter(7, 100_000))
    written = dict(own.headers)[HEADER_CE_ID].decode()
    assert own.id == written and BSN not in written  # Schakel's own: as written
    place = [
        (HEADER_SOURCE_TOPIC, b"schakel.wmo.events"),
        (HEADER_SOURCE_PARTITION, b"0"),
        (HEADER_SOURCE_OFFSET, b"7"),
    ]
    for ident in (BSN, f"dl-{BSN}"):
        record = SimpleNamespace(
            key=None, value=b"x", headers=[(HEADER_CE_ID, ident.encode()), *place], timestamp=1
        )
        found = _streams(record)
        assert BSN not in found.id and BSN not in found.line()
        assert found.id == _streams(record).id
        quarantined = _adapters(
            SimpleNamespace(key=None, value=b"", headers=[(HEADER_CE_ID, ident.encode())]),
            RecordDeserializer(LocalRegistry()),
        )
        assert BSN not in quarantined.id and BSN not in quarantined.line()
