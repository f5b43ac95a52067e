"""The CloudEvents Kafka binding headers (:mod:`schemas.binding`): one builder, no BSN in a
header, the NL GOV extensions kept from a webhook request, dead letters restorable."""

from __future__ import annotations

from cloudevents.v1.kafka import KafkaMessage, from_binary

from adapters.webhook import parse_event
from schemas.binding import (
    DEADLETTER_TYPE,
    cloudevent_headers,
    deadletter_record_headers,
    event_headers,
    original_headers,
)
from schemas.envelope import validate_input
from schemas.pseudonym import Pseudonymiser

PSEUDONYMISE = Pseudonymiser("unit-key")
SOURCE = "urn:nld:oin:00000001234567890000:systeem:wijkteam"


def test_a_binary_mode_webhook_request_keeps_sequence_and_dataref() -> None:
    headers = {
        "ce-specversion": "1.0",
        "ce-id": "wt-1",
        "ce-source": SOURCE,
        "ce-type": "nl.wijkteams.casussen.geopend",
        "ce-sequence": "00000003",
        "ce-dataref": "https%3A%2F%2Fwijkteam.example.nl%2Fc%2F1",
        "content-type": "application/json",
    }
    body = b'{"bsn": "999990093", "datum": "2026-01-10", "casus_id": "W-1"}'
    event = validate_input(parse_event(headers, body), PSEUDONYMISE)
    out = dict(event_headers(event))
    assert out["ce_sequence"] == b"00000003"
    assert out["ce_dataref"] == b"https://wijkteam.example.nl/c/1"
    assert out["ce_subject"] == PSEUDONYMISE("999990093").encode()
    assert out["content-type"] == b"application/avro"
    read = from_binary(KafkaMessage(out, None, b"\x00"), data_unmarshaller=lambda d: d)
    assert (read["id"], read["sequence"]) == ("wt-1", "00000003")


def test_no_bsn_reaches_a_header() -> None:
    headers = cloudevent_headers(
        id="x-999990093", source=SOURCE, type="t", subject="999990093", time=None
    )
    names = dict(headers)
    assert "ce_subject" not in names  # only a pseudonym is a subject
    assert b"999990093" not in b"".join(v for _, v in headers)


def test_a_dead_letter_describes_itself_and_keeps_the_original_headers() -> None:
    original = [("ce_id", b"wt-1"), ("ce_type", b"nl.x"), ("content-type", b"application/avro")]
    original.append(("traceparent", b"00-ab"))
    key = PSEUDONYMISE("999990093").encode()
    headers = deadletter_record_headers(
        original,
        topic="schakel.wmo.events",
        partition=1,
        offset=7,
        stage="decode",
        error=ValueError("bad 999990093"),
        reason="ValueError",
        source="urn:schakel:worker",
        key=key,
        time=None,
        timestamp=1764547200123,
    )
    names = [n for n, _ in headers]
    assert len(names) == len(set(names))
    own = dict(headers)
    assert own["ce_type"] == DEADLETTER_TYPE.encode()
    assert own["content-type"] == b"application/octet-stream"
    assert own["ce_subject"] == key
    assert b"999990093" not in b"".join(v for _, v in headers)
    assert own["schakel.bron.tijdstip"] == b"1764547200123"
    assert original_headers(headers) == original  # not the dead letter's own headers
