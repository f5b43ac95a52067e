"""``schakel dlq show`` tells what a dead letter was written without (docs/operations.md,
"Dead letters runbook"): the original's value, and its key and headers when they were left
out too — sizes and the original's location only, never content. The dead letters are made
as the worker makes them (schemas/binding.py ``deadletter_record``); the CLI end to end:
tests/e2e/test_dlq.py."""

from __future__ import annotations

from types import SimpleNamespace

from schakel.dlq import _streams
from schemas.binding import deadletter_record, record_bytes

BSN = "111222333"
KEY = BSN.encode() * 4
VALUE = f"geen avro van {BSN} ".encode() * 500
ORIGINAL = [("herkomst", BSN.encode() * 20)]


def shown(limit: int) -> str:
    """What ``dlq show`` prints as the value of the dead letter made to fit ``limit``."""
    key, value, headers = deadletter_record(
        ORIGINAL,
        key=KEY,
        value=VALUE,
        limit=limit,
        topic="schakel.wmo.events",
        partition=2,
        offset=7,
        stage="decode",
        error=ValueError("geen Avro"),
        source="urn:schakel:test",
        time=None,
        timestamp=1764547200123,
    )
    record = SimpleNamespace(key=key, value=value, headers=headers, timestamp=1764547200456)
    text = _streams(record).shown_value()
    assert BSN not in text and "geen avro" not in text
    return text


def test_a_dead_letter_says_what_of_the_original_it_was_written_without() -> None:
    whole = shown(100_000)
    assert "omitted" not in whole and f"{len(VALUE)} bytes" in whole
    no_value = shown(len(VALUE))  # the key and headers fit, the value does not
    assert f"original's {len(VALUE)} bytes" in no_value
    assert "schakel.wmo.events/2/7" in no_value and "key and headers" not in no_value
    nothing = shown(200)  # the key and headers do not fit either
    rest = record_bytes(KEY, None, ORIGINAL)
    assert f"its key and headers, {rest} bytes, were left out too" in nothing
    assert "schakel.wmo.events/2/7" in nothing
