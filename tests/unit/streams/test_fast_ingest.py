"""``FastIngest`` (the worker's and the batch path's decoder) is ``decode_event``, exactly.

For good records, damaged bytes and records that decode but fail a check, on every event
topic: the same ``(subject, event)`` or the same ``IngestError`` (stage, reason, message).
"""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from benchmarks.workload import events
from schemas.envelope import Event
from schemas.exceptions import SerdeError
from schemas.registry import LocalRegistry
from schemas.serde import RecordDeserializer, RecordSerializer
from schemas.wire import DEFAULT_WIRE
from streams.batch_decode import FastIngest
from streams.ingest import IngestError, decode_event
from tests.unit.schemas.samples import FOREIGN_SCHEMAS, ForeignRegistry, wire_payload

REGISTRY = LocalRegistry()
SERIALIZER = RecordSerializer(REGISTRY)
EVENTS = list(events(24, 12))  # every type of the workload's mix, two citizens
TOPICS = list(DEFAULT_WIRE.event_topics)


def _payload(event: Event) -> bytes:
    return SERIALIZER(event, DEFAULT_WIRE.topic_for(event.type, event.domein))


PAYLOADS = [_payload(e) for e in EVENTS]


def _outcome(decode: Any, payload: bytes, topic: str) -> tuple[str, Any]:
    try:
        return "ok", decode(payload, topic)
    except IngestError as exc:
        return "error", (exc.stage, exc.reason, str(exc), exc.withhold)


def _same(payload: bytes, topic: str, fast: FastIngest) -> None:
    deserializer = RecordDeserializer(REGISTRY)
    expected = _outcome(lambda p, t: decode_event(deserializer, p, t, DEFAULT_WIRE), payload, topic)
    assert _outcome(fast.decode, payload, topic) == expected
    # a second time: what FastIngest remembers per schema and type changes nothing
    assert _outcome(fast.decode, payload, topic) == expected


def _fast() -> FastIngest:
    return FastIngest(RecordDeserializer(REGISTRY), DEFAULT_WIRE)


def test_every_good_record_decodes_as_decode_event_decodes_it() -> None:
    fast = _fast()
    for event, payload in zip(EVENTS, PAYLOADS, strict=True):
        topic = DEFAULT_WIRE.topic_for(event.type, event.domein)
        outcome = _outcome(fast.decode, payload, topic)
        assert outcome[0] == "ok", outcome
        _same(payload, topic, fast)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    index=st.integers(0, len(PAYLOADS) - 1),
    topic=st.sampled_from(TOPICS),
    cut=st.integers(0, 400),
    flips=st.lists(st.tuples(st.integers(0, 400), st.integers(0, 255)), max_size=3),
    tail=st.binary(max_size=8),
)
def test_damaged_bytes_give_the_same_result_or_error(
    index: int, topic: str, cut: int, flips: list[tuple[int, int]], tail: bytes
) -> None:
    payload = bytearray(PAYLOADS[index][: max(cut, 0)] if cut < 400 else PAYLOADS[index])
    for at, value in flips:
        if payload:
            payload[at % len(payload)] = value
    _same(bytes(payload) + tail, topic, _fast())


@settings(max_examples=200, deadline=None)
@given(raw=st.binary(max_size=64), topic=st.sampled_from(TOPICS))
def test_arbitrary_bytes_give_the_same_error(raw: bytes, topic: str) -> None:
    _same(raw, topic, _fast())


_BSN = "123456782"
_TEXT = ["", " ", "x" * 257, "a\nb", f"ev-{_BSN}", "1234\t56\t782", "１２３４５６７８２"]
"""Values an adapter refuses in an identifier or attribute (review (ingest) item 4)."""
_CHANGES: dict[str, Any] = {
    "subject": st.sampled_from([None, "", "ABC", "0" * 31, "g" * 32, "a" * 33, _BSN, "é"]),
    "time": st.sampled_from(
        [
            None,
            "",
            "not a time",
            "2026-01-01T10:00:00+01:00",
            "2026-01-01T10:00:00",
            "2026-01-01",
            "2026-W01-1",
            "0001-01-01T00:00:00+14:00",
            f"2026-01-01T10:00:00.{_BSN}Z",
        ]
    ),
    "bronsleutel": st.sampled_from([None, "rec-1", *_TEXT]),
    "sequence": st.sampled_from([None, "", "7", *_TEXT]),
    "specversion": st.sampled_from(["1.0", "0.3", ""]),
    "id": st.sampled_from(["e-1", *_TEXT]),
    "source": st.sampled_from(["urn:x", *_TEXT]),
    "datacontenttype": st.sampled_from([None, "application/json", *_TEXT]),
    "dataschema": st.sampled_from([None, "urn:s", *_TEXT]),
    "type": st.sampled_from(
        [
            "nl.schakel.signalen.gesignaleerd",
            "nl.schakel.bron.verwijderd",
            "nl.wmo.meldingen.ontvangen",
            "nl.participatiewet.uitkeringen.toegekend",
        ]
    ),
}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    index=st.integers(0, len(EVENTS) - 1),
    topic=st.sampled_from(TOPICS),
    changes=st.fixed_dictionaries({}, optional=_CHANGES),
    drop=st.sets(st.sampled_from(["datum", "toewijzing_nummer", "signaal_id", "casus_id"])),
    identifier=st.sampled_from([None, "ok-1", *_TEXT]),
)
def test_records_that_fail_a_check_give_the_same_error(
    index: int, topic: str, changes: dict[str, Any], drop: set[str], identifier: str | None
) -> None:
    """Records that decode but break a check of ``decode_event`` (type, topic, subject,
    versions, time, the envelope rules of the adapters, data model, a BSN in data), written
    with the type's schema where it has one; ``identifier``: the value of the data's
    identifiers."""
    event = EVENTS[index]
    data = {k: v for k, v in event.data.items() if k not in drop}
    if identifier is not None:
        for name in ("toewijzing_nummer", "signaal_id", "casus_id"):
            if name in data:
                data[name] = identifier
    changed = dataclasses.replace(event, data=data, **changes)
    record = changed.to_record()
    payload = None
    for schema in (changed.type, event.type):
        try:
            payload = SERIALIZER.encode(topic, schema, record)
            break
        except SerdeError:
            continue  # the record does not fit that schema (a required field dropped)
    assume(payload is not None)
    assert payload is not None
    _same(payload, topic, _fast())


@pytest.mark.parametrize("schema", FOREIGN_SCHEMAS, ids=repr)
def test_a_foreign_schema_is_a_decode_error_of_both_decoders(schema: Any) -> None:
    """Review B3: a schema id resolving to a schema that is no catalogue record raised
    ``ValueError``, ``KeyError`` or fastavro's errors instead of an ``IngestError``."""
    registry = ForeignRegistry({7: schema})
    fast = FastIngest(RecordDeserializer(registry), DEFAULT_WIRE)
    deserializer = RecordDeserializer(registry)
    for topic in TOPICS:
        expected = _outcome(
            lambda p, t: decode_event(deserializer, p, t, DEFAULT_WIRE), wire_payload(7), topic
        )
        assert expected[0] == "error" and expected[1][:2] == ("decode", "ForeignSchema")
        assert _outcome(fast.decode, wire_payload(7), topic) == expected


@pytest.mark.parametrize("day", [date(9999, 12, 30), date(1, 1, 2), date(999, 12, 31)])
def test_a_date_the_rules_cannot_reach_is_a_validation_error_of_both_decoders(day: date) -> None:
    """An event written to the topic by another producer with a date outside
    :data:`schemas.models.FIRST_DATE` … ``LAST_DATE`` (the rules' arithmetic would overflow)
    is refused at stage ``validate`` — dead-lettered — by both decoders."""
    event = EVENTS[0]
    changed = dataclasses.replace(event, data={**event.data, "datum": day})
    topic = DEFAULT_WIRE.topic_for(event.type, event.domein)
    payload = SERIALIZER.encode(topic, event.type, changed.to_record())
    with pytest.raises(IngestError) as refused:
        decode_event(RecordDeserializer(REGISTRY), payload, topic, DEFAULT_WIRE)
    assert refused.value.stage == "validate" and "date outside" in str(refused.value)
    _same(payload, topic, _fast())
