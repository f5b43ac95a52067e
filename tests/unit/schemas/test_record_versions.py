"""The record-version envelope (events.md, "Corrections and deletions"): ``bronsleutel`` and
``sequence`` on input, ``nl.schakel.bron.verwijderd``, and their trip through Avro."""

from __future__ import annotations

from typing import Any

import pytest

from schemas.envelope import validate_input
from schemas.exceptions import InvalidEvent, UnknownEventType
from schemas.pseudonym import Pseudonymiser
from schemas.registry import LocalRegistry
from schemas.serde import RecordDeserializer, RecordSerializer
from schemas.wire import DEFAULT_WIRE, VERWIJDERD

BSN = "111222333"
KEY = Pseudonymiser("k")


def raw(event_type: str = "nl.wmo.meldingen.ontvangen", **extra: Any) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": "e-1",
        "source": "urn:nld:oin:1:systeem:test",
        "type": event_type,
        "data": {"datum": "2026-01-10", "bsn": BSN},
        **extra,
    }


def test_bronsleutel_and_sequence_are_kept_and_round_trip_through_avro() -> None:
    event = validate_input(raw(bronsleutel="melding-7", sequence="00000000000000000042"), KEY)
    assert (event.bronsleutel, event.sequence) == ("melding-7", "00000000000000000042")
    assert event.to_json()["bronsleutel"] == "melding-7"
    registry = LocalRegistry()
    payload = RecordSerializer(registry)(event, DEFAULT_WIRE.topic_for(event.type))
    back = RecordDeserializer(registry)(payload)
    assert (back.bronsleutel, back.sequence) == ("melding-7", "00000000000000000042")


def test_an_event_without_them_is_its_own_record() -> None:
    event = validate_input(raw(), KEY)
    assert event.bronsleutel is None and event.sequence is None
    assert "bronsleutel" not in event.to_json()


@pytest.mark.parametrize(
    ("extra", "field", "reason"),
    [
        ({"bronsleutel": "k"}, "sequence", "missing-field"),
        ({"bronsleutel": "", "sequence": "1"}, "bronsleutel", "bad-type"),
        ({"bronsleutel": "k", "sequence": 7}, "sequence", "bad-type"),
        ({"bronsleutel": "client-111222333", "sequence": "1"}, "bronsleutel", "bsn-in-identifier"),
    ],
)
def test_bad_version_attributes_name_the_field_and_the_rule(
    extra: dict[str, Any], field: str, reason: str
) -> None:
    with pytest.raises(InvalidEvent) as info:
        validate_input(raw(**extra), KEY)
    assert (info.value.field, info.value.reason) == (field, reason)
    assert BSN not in str(info.value)


def test_verwijderd_is_accepted_with_key_sequence_and_domain_and_routed_by_domain() -> None:
    event = validate_input(raw(VERWIJDERD, bronsleutel="k", sequence="2", domein="wijkteams"), KEY)
    assert event.type == VERWIJDERD and event.subject == KEY(BSN)
    assert dict(event.data) == {"datum": event.datum}
    assert DEFAULT_WIRE.topic_for(event.type, event.domein) == "schakel.wijkteam.events"
    cases = [
        ({"sequence": "2", "domein": "wmo"}, "bronsleutel"),
        ({"bronsleutel": "k", "domein": "wmo"}, "sequence"),
        ({"bronsleutel": "k", "sequence": "2"}, "domein"),
    ]
    for attributes, field in cases:
        with pytest.raises(InvalidEvent) as info:
            validate_input(raw(VERWIJDERD, **attributes), KEY)
        assert (info.value.field, info.value.reason) == (field, "missing-field")
    with pytest.raises(InvalidEvent) as info:
        validate_input(raw(VERWIJDERD, bronsleutel="k", sequence="2", domein="zorg"), KEY)
    assert (info.value.field, info.value.reason) == ("domein", "unknown-value")


def test_other_schakel_types_are_still_refused_on_input() -> None:
    with pytest.raises(UnknownEventType):
        validate_input(raw("nl.schakel.signalen.opgelost"), KEY)
