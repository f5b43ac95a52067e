"""``schakel dlq show`` tells what a dead letter was written without (docs/operations.md,
"Dead letters runbook"): the original's value, and its key and headers when they were left
out too — sizes and the original's location only, never content. The dead letters are those
of the API's test (made as the worker makes them, schemas/binding.py ``deadletter_record``);
the CLI end to end: tests/e2e/test_dlq.py."""

from __future__ import annotations

from schakel.dlq import _streams
from schemas.binding import record_bytes
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
