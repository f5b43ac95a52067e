"""``GET /api/v1/deadletters`` shows why a dead letter was refused: ``reden``, the refusal's
code as the header ``schakel.fout.reden`` holds it (the label of the worker's metric:
``wrong-type``, ``history-limit``, … or the error's class), beside ``klasse``. Reproduction:
the row had ``klasse`` only, so an operator could not tell a ``wrong-type`` from a
``history-limit`` refusal, both ``IngestError``, without reading the topic.

``null`` for a dead letter without the header (written before it existed); any producer may
write to the topic, so a header that holds no code (a possible BSN, free text, bytes that are
no UTF-8, too long) is ``?``, as ``schakel dlq`` shows it
(:func:`schemas.wire.reason_code`) — never the text as written."""

from __future__ import annotations

import re
from typing import Any

import pytest

from schemas.wire import HEADER_ERROR_REASON
from streams.openapi import openapi_document

from .test_api_deadletters import BSN, dead_letter, listed


def _with_reason(offset: int, reason: bytes | None) -> Any:
    """A dead letter the worker wrote, its ``schakel.fout.reden`` replaced by ``reason``
    (``None``: a null value, as Kafka allows)."""
    letter = dead_letter(offset, limit=100_000)
    letter.headers = [(n, reason if n == HEADER_ERROR_REASON else v) for n, v in letter.headers]
    return letter


def _validated(rows: list[dict[str, Any]]) -> None:
    """Every row's ``reden`` is what the OpenAPI document describes: required, a string that
    matches its pattern, or null."""
    schema = openapi_document()["components"]["schemas"]["Deadletters"]
    item = schema["properties"]["deadletters"]["items"]
    reden = item["properties"]["reden"]
    assert "reden" in item["required"] and reden["type"] == ["string", "null"]
    for row in rows:
        assert row["reden"] is None or re.search(reden["pattern"], row["reden"]), row["reden"]


def test_a_dead_letter_shows_its_refusal_code_beside_its_class(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    worker = dead_letter(20, limit=100_000)  # written as the worker writes: reason ValueError
    assert (HEADER_ERROR_REASON, b"ValueError") in worker.headers
    codes = [_with_reason(21, b"wrong-type"), _with_reason(22, b"history_limit")]
    rows = listed([*codes[::-1], worker], monkeypatch)
    assert [(row["klasse"], row["reden"]) for row in rows] == [
        ("ValueError", "history_limit"),
        ("ValueError", "wrong-type"),
        ("ValueError", "ValueError"),
    ]
    _validated(rows)


def test_a_dead_letter_without_the_header_has_no_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    older = dead_letter(30, limit=100_000)  # written before the header existed
    older.headers = [(n, v) for n, v in older.headers if n != HEADER_ERROR_REASON]
    null = _with_reason(31, None)  # a null value counts as absent, as for every header
    rows = listed([null, older], monkeypatch)
    assert [row["reden"] for row in rows] == [None, None]
    assert all(row["klasse"] == "ValueError" for row in rows)
    _validated(rows)


@pytest.mark.parametrize(
    "written",
    [
        f"Fout{BSN}".encode(),  # a code in form, but with a possible BSN
        BSN.encode(),
        b"geen code: tekst",
        "verkeerd-type-\u00e9".encode(),  # not ASCII
        b"\xff\xfewrong-type",  # no UTF-8
        b"a" * 65,  # too long
        b"-wrong-type",  # no letter first
        b"",
    ],
)
def test_a_header_that_holds_no_code_is_shown_as_unknown(
    monkeypatch: pytest.MonkeyPatch, written: bytes
) -> None:
    (row,) = listed([_with_reason(40, written)], monkeypatch)  # asserts no BSN in the answer
    assert row["reden"] == "?"
    _validated([row])
