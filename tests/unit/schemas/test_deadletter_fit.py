"""A streams dead letter always fits the output limit (schemas/binding.py ``deadletter_record``,
shared by the worker and the batch path): at the limit it keeps the original's value, one byte
more and the value is left out with ``schakel.bron.weggelaten`` giving its size, and a key and
headers too large themselves are left out as well. The Kafka test:
tests/integration/streams/test_deadletter_size.py."""

from __future__ import annotations

from typing import Any

from schemas.binding import (
    HEADER_FRAMING,
    deadletter_record,
    deadletter_record_headers,
    omitted_size,
    original_headers,
    record_bytes,
)
from schemas.wire import HEADER_SOURCE_OMITTED, HEADER_SOURCE_OMITTED_REST, WITHHELD_BSN

TOPIC = "gemeente-a.schakel.wijkteam.events"
ORIGINAL = [("ce_id", b"id-1"), ("h", b"v" * 40)]
KEY = b"k" * 32
VALUE = b"\x00" + b"x" * 9_999


def letter(limit: int, *, key: bytes | None = KEY, value: bytes | None = VALUE, **kw: Any) -> Any:
    return deadletter_record(
        kw.pop("original", ORIGINAL),
        key=key,
        value=value,
        limit=limit,
        topic=TOPIC,
        partition=2,
        offset=41,
        stage="decode",
        error=ValueError("not Avro"),
        reason="ValueError",
        source="urn:schakel:test",
        time="2026-12-01T10:00:00.000+00:00",
        timestamp=1764547200123,
        **kw,
    )


def full_size() -> int:
    """What the whole dead letter counts: the record with every header."""
    headers = deadletter_record_headers(
        ORIGINAL,
        topic=TOPIC,
        partition=2,
        offset=41,
        stage="decode",
        error=ValueError("not Avro"),
        reason="ValueError",
        source="urn:schakel:test",
        key=KEY,
        time="2026-12-01T10:00:00.000+00:00",
        timestamp=1764547200123,
    )
    return record_bytes(KEY, VALUE, headers)


def test_record_bytes_counts_key_value_and_each_header_with_its_framing() -> None:
    assert record_bytes(None, None, []) == 0
    assert record_bytes(b"ab", b"cde", [("n\u00e9", b"xy")]) == 2 + 3 + 3 + 2 + HEADER_FRAMING


def test_a_dead_letter_exactly_at_the_limit_keeps_its_value() -> None:
    limit = full_size()
    kept = letter(limit)
    assert (kept.key, kept.value) == (KEY, VALUE)
    assert record_bytes(*kept) == limit
    assert omitted_size(kept.headers) is None
    assert original_headers(kept.headers) == ORIGINAL  # what a replay re-publishes


def test_one_byte_more_and_the_value_is_left_out_with_its_size() -> None:
    limit = full_size() - 1
    cut = letter(limit)
    assert cut.value is None and cut.key == KEY
    assert record_bytes(*cut) <= limit
    headers = dict(cut.headers)
    assert headers[HEADER_SOURCE_OMITTED] == str(len(VALUE)).encode()
    assert omitted_size(cut.headers) == len(VALUE)
    assert HEADER_SOURCE_OMITTED_REST not in headers
    # where to read the original, and the original's own headers, remain
    assert headers["schakel.bron.topic"] == TOPIC.encode()
    assert (headers["schakel.bron.partitie"], headers["schakel.bron.offset"]) == (b"2", b"41")
    assert headers["schakel.bron.tijdstip"] == b"1764547200123"
    assert original_headers(cut.headers) == ORIGINAL


def test_a_near_1_mb_foreign_record_fits_the_producers_limit_without_its_value() -> None:
    limit = 1_000_000 - 512  # streams.sizes.output_limit with the default topics
    cut = letter(limit, value=b"\x00" + b"x" * 999_800)
    assert cut.value is None and omitted_size(cut.headers) == 999_801
    assert record_bytes(*cut) < 5_000


def test_a_key_and_headers_too_large_themselves_are_left_out_too() -> None:
    big_key, big_headers = b"k" * 600_000, [("h", b"v" * 500_000)]
    cut = letter(1_000_000 - 512, key=big_key, value=b"v", original=big_headers)
    assert (cut.key, cut.value) == (None, b"")  # a record needs a key or a value
    assert record_bytes(*cut) < 5_000
    headers = dict(cut.headers)
    assert omitted_size(cut.headers) == 1
    rest = 600_000 + 1 + 500_000 + HEADER_FRAMING
    assert headers[HEADER_SOURCE_OMITTED_REST] == str(rest).encode()
    assert "h" not in headers and headers["schakel.bron.offset"] == b"41"


def test_a_value_the_header_does_not_state_as_a_number_still_counts_as_omitted() -> None:
    assert omitted_size([(HEADER_SOURCE_OMITTED, b"veel")]) == 0
    assert omitted_size([("schakel.bron.topic", b"t")]) is None


def test_a_withheld_dead_letter_keeps_nothing_of_the_original_however_small() -> None:
    """Review (ingest) item 1/4: a record holding a possible BSN where none may be is
    dead-lettered without its key, value and headers (no BSN reaches the dead-letter topic),
    their sizes and where it lies kept."""
    written = letter(10**9, key=b"123456782", value=b"\x00tiny", withhold=WITHHELD_BSN)
    assert written.key is None and written.value == b""
    headers = dict(written.headers)
    assert headers[HEADER_SOURCE_OMITTED] == b"5"
    assert HEADER_SOURCE_OMITTED_REST in headers
    assert "h" not in headers and "schakel.bron.ce_id" not in headers
    assert all(b"123456782" not in value for _, value in written.headers)
