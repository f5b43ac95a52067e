"""A schema id the registry refuses to tell the worker (403 of a per-subject access rule on
another producer's schema, or 404) makes that one row of the auditor's page ``onleesbaar``
with its offset, never a failure of the whole page: it answered 502 before. A refusal of the
worker's own credentials (401, a TLS handshake: status 0) still fails the page (502)."""

from __future__ import annotations

import asyncio
import logging
from types import SimpleNamespace
from typing import Any

import pytest

import streams.inzage_page
from schemas.exceptions import RegistryNotFound, RegistryRefused, RegistryUnauthorized
from schemas.log_limits import RefusalLog
from streams.api import refusal_status
from streams.topicpage import Page

REFUSED = b"\x00\x00\x01\x86\xa0rest"
"""A record whose schema id (100000) the registry refuses to tell."""
OTHER = b"\x00\x00\x00\x00\x07rest"


def page(monkeypatch: pytest.MonkeyPatch, refusal: RegistryRefused) -> dict[str, Any]:
    records = [
        SimpleNamespace(value=REFUSED, timestamp=0, offset=7),
        SimpleNamespace(value=OTHER, timestamp=0, offset=8),
    ]

    def read_page(bootstrap: str, topic: str, page: int, per_page: int, **_: Any) -> Page:
        return Page(records=records, total=2)

    def deserializer(value: bytes) -> None:
        if value == REFUSED:
            raise refusal
        # else it decodes to nothing that is an audit record: onleesbaar too

    monkeypatch.setattr(streams.inzage_page, "read_page", read_page)
    listing = streams.inzage_page.listing(
        "b",
        "schakel.inzage",
        deserializer,  # type: ignore[arg-type]
        1,
        50,
        unavailable=streams.inzage_page.registry_unavailable_log(),
    )
    return asyncio.run(listing)


@pytest.mark.parametrize(
    "refusal",
    [
        RegistryUnauthorized("schema id 100000: HTTP 403", status=403, error_code=40301),
        RegistryNotFound("schema id 100000: HTTP 404", status=404, error_code=40403),
    ],
    ids=["403", "404"],
)
def test_a_refused_schema_id_is_an_unreadable_row(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, refusal: RegistryRefused
) -> None:
    monkeypatch.setattr(
        streams.inzage_page,
        "ROW_REFUSED",
        RefusalLog(streams.inzage_page.log, "api.registry_row_refused"),
    )
    with caplog.at_level(logging.WARNING, logger="schakel.api"):
        answer = page(monkeypatch, refusal)
    rows = answer["inzage"]
    assert [(row["offset"], row["onleesbaar"]) for row in rows] == [(7, True), (8, True)]
    assert rows[0]["id"] is None and rows[0]["wie"] is None
    assert answer["totaal"] == 2
    # said once (a review: every row refused was a page of unreadable rows without a word)
    said = [r for r in caplog.records if r.getMessage() == "api.registry_row_refused"]
    assert len(said) == 1 and getattr(said[0], "status", None) == refusal.status


@pytest.mark.parametrize(
    "refusal",
    [
        RegistryUnauthorized("schema id 100000: HTTP 401", status=401, error_code=40101),
        RegistryUnauthorized("schema id 100000: TLS handshake failed", status=0, error_code=-1),
    ],
    ids=["401", "tls"],
)
def test_a_refusal_of_the_workers_credentials_still_fails_the_page(
    monkeypatch: pytest.MonkeyPatch, refusal: RegistryRefused
) -> None:
    with pytest.raises(RegistryUnauthorized) as raised:
        page(monkeypatch, refusal)
    assert raised.value is refusal
    assert refusal_status(raised.value) == 502
