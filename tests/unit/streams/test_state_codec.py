"""Review B6: what the stream core and ``schakel dlq`` raise for records they cannot read is
the project's error, never a plain ``ValueError``:

- a table changelog record of another schema, or whose stored event has a ``time`` that does
  not parse, was a ``ValueError`` out of ``StateCodec.decode`` (worker and batch path);
- ``to_timeline_event`` raised ``ValueError`` for such a ``time``;
- ``schakel dlq list`` raised ``ValueError`` on ``int(partition)`` for a record another
  producer wrote on the dead-letter topic; a corrupt ``replayed-*.json`` was a traceback."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schakel import dlq
from schakel.cli import main
from schemas.binding import deadletter_id
from schemas.envelope import Event
from schemas.registry import LocalRegistry
from schemas.serde import RecordDeserializer, RecordSerializer
from schemas.wire import (
    DEFAULT_WIRE,
    HEADER_CE_ID,
    HEADER_SOURCE_OFFSET,
    HEADER_SOURCE_PARTITION,
    HEADER_SOURCE_TIMESTAMP,
    HEADER_SOURCE_TOPIC,
)
from streams.codec import StateCodec
from streams.exceptions import StateDecodeError
from streams.ingest import IngestError, to_timeline_event
from streams.state import CitizenState, StoredEvent

from .records import BatchIngest

REGISTRY = LocalRegistry()
SERIALIZER = RecordSerializer(REGISTRY)
CODEC = StateCodec(SERIALIZER, RecordDeserializer(REGISTRY), DEFAULT_WIRE.changelog)
SUBJECT = "a" * 32


def melding(time: str | None) -> Event:
    """A Wmo melding with ``time`` as given (not validated)."""
    return Event(
        id="e1",
        source="urn:test",
        type="nl.wmo.meldingen.ontvangen",
        subject=SUBJECT,
        time=time,
        data={"datum": date(2026, 1, 5)},
    )


def stored_event(time: str | None) -> bytes:
    """An event as the worker stores it, with ``time`` as given (not validated)."""
    event = melding(time)
    return SERIALIZER(event, DEFAULT_WIRE.topic_for(event.type, event.domein))


def state_with(payload: bytes) -> bytes:
    good = to_timeline_event(RecordDeserializer(REGISTRY)(stored_event(None)))
    return CODEC.encode(CitizenState(subject=SUBJECT, events=[StoredEvent(good, payload)]))


def both_decoders() -> list[Any]:
    """The worker's ``StateCodec.decode`` and the batch path's changelog fold."""
    return [CODEC.decode, BatchIngest().rebuild._decode_state]


@given(st.text(max_size=40))
def test_a_time_that_does_not_parse_is_an_ingest_error(time: str) -> None:
    event = melding(time)
    try:
        to_timeline_event(event)
    except IngestError as exc:
        assert (exc.stage, exc.reason) == ("validate", "bad-time")


def test_a_state_whose_stored_event_has_a_bad_time_is_a_state_decode_error() -> None:
    payload = state_with(stored_event("gisteren"))
    for decode in both_decoders():
        with pytest.raises(StateDecodeError, match="time is not an RFC 3339 timestamp"):
            decode(payload)
    good = state_with(stored_event("2026-01-05T09:00:00+01:00"))
    for decode in both_decoders():
        assert decode(good).events[0].event.time is not None


def test_a_changelog_record_of_another_schema_is_a_state_decode_error() -> None:
    klok = SERIALIZER.encode(
        DEFAULT_WIRE.changelog,
        "nl.schakel.intern.klok",
        {"subject": None, "tot": date(2026, 1, 5), "modus": "replay"},
    )
    for decode in both_decoders():
        with pytest.raises(StateDecodeError, match=r"expected nl\.schakel\.intern\.toestand"):
            decode(klok)


# ---------------------------------------------------------------- schakel dlq

header_values = st.one_of(
    st.binary(max_size=8),
    st.sampled_from([b"", b"0", b"7", b"x", "²".encode(), "٣".encode(), b"-1", b"+3", b"9" * 5000]),
)


@given(
    st.dictionaries(
        st.sampled_from(
            [
                HEADER_SOURCE_TOPIC,
                HEADER_SOURCE_PARTITION,
                HEADER_SOURCE_OFFSET,
                HEADER_SOURCE_TIMESTAMP,
                HEADER_CE_ID,
            ]
        ),
        header_values,
    ),
    st.binary(max_size=16),
)
def test_any_record_on_the_dead_letter_topic_is_listed(
    headers: dict[str, bytes], value: bytes
) -> None:
    """A dead letter with headers missing or not numbers — a record another producer wrote
    there — is listed with ``?`` for them, under an id that is the same every time."""
    record = SimpleNamespace(key=None, value=value, headers=list(headers.items()), timestamp=5)
    letter = dlq._streams(record)
    assert letter.id == dlq._streams(record).id and len(letter.id) > 0
    topic, partition, offset = letter.location.rsplit("/", 2)
    assert topic == (headers.get(HEADER_SOURCE_TOPIC, b"").decode("utf-8", "replace") or "?")
    for name, shown in ((HEADER_SOURCE_PARTITION, partition), (HEADER_SOURCE_OFFSET, offset)):
        raw = headers.get(name, b"")
        number = raw.isascii() and raw.isdigit() and len(raw) <= 19
        assert shown == (str(int(raw)) if number else "?")
    assert letter.timestamp is None or letter.timestamp >= 0


def test_a_dead_letter_of_the_worker_keeps_its_id_and_location() -> None:
    headers = [
        (HEADER_SOURCE_TOPIC, b"schakel.wmo.events"),
        (HEADER_SOURCE_PARTITION, b"2"),
        (HEADER_SOURCE_OFFSET, b"17"),
    ]
    letter = dlq._streams(SimpleNamespace(key=None, value=b"x", headers=headers, timestamp=1))
    assert letter.location == "schakel.wmo.events/2/17"
    assert letter.id == deadletter_id("schakel.wmo.events", 2, 17)


@pytest.mark.parametrize("content", [b"{kapot", b"\xff\xfe", b'{"a": 1}', b"[1, 2]", b"3"])
def test_a_corrupt_replayed_file_is_one_line_with_exit_2(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    content: bytes,
) -> None:
    monkeypatch.setenv("SCHAKEL_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SCHAKEL_KAFKA_BOOTSTRAP", "127.0.0.1:1")
    monkeypatch.setattr(dlq, "dead_letters", lambda settings, bootstrap: [])
    monkeypatch.setattr(dlq, "_read", lambda bootstrap, topic, **_: [])  # no replay yet
    state = tmp_path / "dlq" / "replayed-default.json"  # an earlier version's record
    state.parent.mkdir()
    state.write_bytes(content)
    assert main(["dlq", "replay"]) == 2
    out, err = capsys.readouterr()
    assert not out and err.count("\n") == 1
    assert err.startswith(f"schakel: DlqError: {state}: not a JSON list of replayed")
    state.write_text(json.dumps(["id-1"]))
    assert main(["dlq", "replay"]) == 0


def test_replay_passes_over_a_dead_letter_without_a_source_topic(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    foreign = dlq._streams(SimpleNamespace(key=None, value=b"x", headers=[], timestamp=1))
    headers = [
        (HEADER_SOURCE_TOPIC, b"schakel.wmo.events"),
        (HEADER_SOURCE_PARTITION, b"0"),
        (HEADER_SOURCE_OFFSET, b"3"),
    ]
    ours = dlq._streams(SimpleNamespace(key=b"k", value=b"v", headers=headers, timestamp=1))
    sent: list[str] = []

    class Producer:
        def __init__(self, **_: Any) -> None: ...

        def send(self, topic: str, **kwargs: Any) -> Any:
            sent.append(topic)
            return SimpleNamespace(get=lambda timeout: None)

        def flush(self) -> None: ...

        def close(self) -> None: ...

    monkeypatch.setattr(dlq, "KafkaProducer", Producer)
    monkeypatch.setattr(dlq, "dead_letters", lambda settings, bootstrap: [foreign, ours])
    monkeypatch.setattr(dlq, "_read", lambda bootstrap, topic, **_: [])
    settings = SimpleNamespace(data_dir=tmp_path, wire=lambda: DEFAULT_WIRE, profile="embedded")
    assert dlq.replay(settings, "127.0.0.1:1")[:2] == (1, 0)  # type: ignore[arg-type]
    assert sent == ["schakel.wmo.events", DEFAULT_WIRE.deadletter_replayed]  # then recorded
    assert f"{foreign.id} names no source topic" in capsys.readouterr().err


def test_the_replayed_ids_are_those_recorded_on_kafka_and_in_an_earlier_versions_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``schakel.deadletter.herhaald`` (a tombstone takes an id off again) and the file of an
    earlier version together; without the topic, only the file, and no replay can be recorded."""
    marks = [
        SimpleNamespace(key=b"id-a", value=b"2026-12-01T10:00:00+00:00"),
        SimpleNamespace(key=b"id-b", value=b"2026-12-01T10:00:00+00:00"),
        SimpleNamespace(key=b"id-a", value=None),  # a tombstone
        SimpleNamespace(key=None, value=b"written by someone else"),
    ]
    topics: dict[str, list[Any] | None] = {DEFAULT_WIRE.deadletter_replayed: marks}
    monkeypatch.setattr(dlq, "_read", lambda bootstrap, topic, **_: topics[topic])
    settings = SimpleNamespace(data_dir=tmp_path, wire=lambda: DEFAULT_WIRE, profile="embedded")
    assert dlq.replayed(settings, "b:1") == ({"id-b"}, True)  # type: ignore[arg-type]
    legacy = tmp_path / "dlq" / "replayed-default.json"
    legacy.parent.mkdir()
    legacy.write_text(json.dumps(["id-c"]))
    assert dlq.replayed(settings, "b:1") == ({"id-b", "id-c"}, True)  # type: ignore[arg-type]
    topics[DEFAULT_WIRE.deadletter_replayed] = None  # no such topic
    assert dlq.replayed(settings, "b:1") == ({"id-c"}, False)  # type: ignore[arg-type]
