"""The contract: every catalogue type has a schema, validates, pseudonymises and round-trips."""

from __future__ import annotations

import json
import struct
from datetime import date
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from schemas.catalogue import catalogue
from schemas.envelope import Event, validate_input
from schemas.exceptions import (
    ForeignSchema,
    InvalidBsn,
    InvalidEvent,
    SerdeError,
    UndecodablePayload,
    UnknownEventType,
    UnknownMagicByte,
    UnknownSchemaId,
)
from schemas.models import data_model
from schemas.pseudonym import Pseudonymiser
from schemas.registry import LocalRegistry
from schemas.serde import RecordDeserializer, RecordSerializer
from schemas.wire import DEFAULT_WIRE
from tests.unit.schemas.samples import (
    FOREIGN_SCHEMAS,
    SAMPLES,
    ForeignRegistry,
    envelope,
    wire_payload,
)

BSN = "111222333"
CATALOGUE_TYPES = [
    # events.md, in catalogue order
    "nl.participatiewet.uitkeringen.toegekend",
    "nl.participatiewet.uitkeringen.beeindigd",
    "nl.participatiewet.aanvragen.afgewezen",
    "nl.participatiewet.arbeidsvermogen.vastgesteld",
    "nl.participatiewet.verwijzingen.ontvangen",
    "nl.participatiewet.trajecten.gestart",
    "nl.participatiewet.trajecten.beeindigd",
    "nl.wmo.meldingen.ontvangen",
    "nl.wmo.onderzoeken.afgerond",
    "nl.wmo.aanvragen.afgewezen",
    "nl.wmo.voorzieningen.toegewezen",
    "nl.wmo.voorzieningen.gestart",
    "nl.wmo.voorzieningen.gestopt",
    "nl.wijkteams.casussen.geopend",
    "nl.wijkteams.casussen.gesloten",
    "nl.wijkteams.zrm.vastgesteld",
    "nl.wijkteams.verwijzingen.gedaan",
    "nl.wijkteams.regie.toegewezen",
    "nl.wgs.vroegsignalen.ontvangen",
    "nl.wgs.vroegsignalen.opgevolgd",
    "nl.wgs.trajecten.gestart",
    "nl.wgs.trajecten.beeindigd",
    "nl.schakel.bron.verwijderd",
    "nl.schakel.signalen.gesignaleerd",
    "nl.schakel.signalen.opgelost",
    "nl.schakel.signalen.ingetrokken",
    "nl.schakel.inzage.geregistreerd",
]


def test_every_catalogue_type_has_a_schema_and_nothing_else_is_an_event() -> None:
    assert sorted(catalogue().event_types) == sorted(CATALOGUE_TYPES)
    assert set(SAMPLES) == set(CATALOGUE_TYPES)
    optional_category = {  # v2: productcategorie optional (allocations without a Product)
        f"nl.wmo.voorzieningen.{t}" for t in ("toegewezen", "gestart", "gestopt")
    }
    auditor_role = {"nl.schakel.inzage.geregistreerd"}  # v2: role auditor
    for event_type in CATALOGUE_TYPES:
        input_type = not event_type.startswith("nl.schakel.")
        # + 1 for every input type: the record-version envelope fields bronsleutel, sequence
        newest = 1 + (event_type in optional_category | auditor_role) + input_type
        assert catalogue().latest(event_type).path.name == f"v{newest}.avsc"
        fields = {f["name"] for f in catalogue().latest(event_type).raw["fields"]}
        versioned = input_type or event_type == "nl.schakel.bron.verwijderd"
        assert ({"bronsleutel", "sequence"} <= fields) == versioned


@pytest.mark.parametrize("event_type", CATALOGUE_TYPES)
def test_sample_round_trips_through_the_wire_format(event_type: str) -> None:
    registry = LocalRegistry()
    data = data_model(event_type).model_validate(SAMPLES[event_type]).model_dump()
    event = Event(
        id="e-1",
        source="urn:x",
        type=event_type,
        subject="ab" * 16,
        data=data,
        time="2026-01-01T10:00:00+01:00",
    )
    payload = RecordSerializer(registry)(event, DEFAULT_WIRE.topic_for(event_type, "wmo"))
    assert payload[0] == 0
    assert RecordDeserializer(registry)(payload) == event


@pytest.mark.parametrize("event_type", [t for t in CATALOGUE_TYPES if "schakel" not in t])
def test_input_is_validated_and_pseudonymised(event_type: str) -> None:
    raw = envelope(event_type, {**SAMPLES[event_type], "bsn": BSN, "naam": "J. Jansen"})
    event = validate_input(raw, Pseudonymiser("k"))
    assert event.subject == Pseudonymiser("k")(BSN)
    assert "bsn" not in event.data
    assert "naam" not in event.data  # unknown fields are dropped, not passed on
    assert BSN not in json.dumps(event.to_json())
    assert isinstance(event.data["datum"], date)


def test_pydantic_models_agree_with_the_avro_fields() -> None:
    for event_type in CATALOGUE_TYPES:
        schema = catalogue().latest(event_type)
        (data,) = [f for f in schema.raw["fields"] if f["name"] == "data"]
        avro_fields = {f["name"]: "default" in f for f in data["type"]["fields"]}
        model_fields = {
            name: not field.is_required()
            for name, field in data_model(event_type).model_fields.items()
        }
        assert model_fields == avro_fields, event_type


@pytest.mark.parametrize(
    ("data", "reason", "field"),
    [
        ({"datum": "2026-02-30", "regeling": "bijstand"}, "bad-date", "data.datum"),
        ({"datum": "10-01-2026", "regeling": "bijstand"}, "bad-date", "data.datum"),
        ({"datum": "2026-01-10", "regeling": "wajong"}, "unknown-value", "data.regeling"),
        ({"datum": "2026-01-10"}, "missing-field", "data.regeling"),
        ({"regeling": "bijstand"}, "missing-field", "data.datum"),
    ],
)
def test_invalid_data_is_rejected_with_field_and_reason(
    data: dict[str, Any], reason: str, field: str
) -> None:
    raw = envelope("nl.participatiewet.uitkeringen.toegekend", {**data, "bsn": BSN})
    with pytest.raises(InvalidEvent) as info:
        validate_input(raw, Pseudonymiser("k"))
    assert info.value.reason == reason
    assert info.value.field == field
    assert BSN not in str(info.value)


def test_identifiers_and_iwmo_codes_are_normalised() -> None:
    raw = envelope(
        "nl.wmo.voorzieningen.gestopt",
        {
            "bsn": BSN,
            "datum": "2026-05-01",
            "toewijzing_nummer": 4711,
            "productcategorie": 7,
            "reden_beeindiging": "20",
        },
    )
    event = validate_input(raw, Pseudonymiser("k"))
    assert event.data["toewijzing_nummer"] == "4711"
    assert event.data["productcategorie"] == "07"
    raw["data"]["productcategorie"] = "19"
    with pytest.raises(InvalidEvent, match="productcategorie"):
        validate_input(raw, Pseudonymiser("k"))


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            {"id": "1", "source": "s", "type": "nl.wmo.meldingen.ontvangen", "data": {}},
            "specversion",
        ),
        (envelope("nl.wmo.onbekend", {"datum": "2026-01-01", "bsn": BSN}), "not in the event"),
        (envelope("nl.schakel.signalen.opgelost", {}), "produced by Schakel"),
        (
            envelope(
                "nl.wmo.meldingen.ontvangen",
                {"datum": "2026-01-01", "bsn": BSN},
                time="2026-01-01 10:00",
            ),
            "RFC 3339",
        ),
        ({**envelope("nl.wmo.meldingen.ontvangen", {}), "id": ""}, "id"),
        (["not", "an", "object"], "JSON object"),
    ],
)
def test_envelope_errors(raw: Any, message: str) -> None:
    with pytest.raises(InvalidEvent, match=message):
        validate_input(raw, Pseudonymiser("k"))


def test_unknown_type_is_its_own_error() -> None:
    with pytest.raises(UnknownEventType):
        validate_input(
            envelope("nl.wmo.x", {"datum": "2026-01-01", "bsn": BSN}), Pseudonymiser("k")
        )


@pytest.mark.parametrize(
    "bad", ["123456789", "12345678", "1234567890", "000000000", "12345678a", 111222333]
)
def test_bad_bsn_in_input_is_rejected_without_echo(bad: Any) -> None:
    raw = envelope("nl.wmo.meldingen.ontvangen", {"datum": "2026-01-01", "bsn": bad})
    with pytest.raises(InvalidBsn) as info:
        validate_input(raw, Pseudonymiser("k"))
    assert str(bad) not in str(info.value)
    assert info.value.field == "data.bsn"


def test_serde_errors_are_typed() -> None:
    registry = LocalRegistry()
    deserialize = RecordDeserializer(registry)
    with pytest.raises(UnknownMagicByte):
        deserialize(b"\x01\x00\x00\x00\x01abc")
    with pytest.raises(UnknownMagicByte):
        deserialize(b"\x00")
    with pytest.raises(UnknownSchemaId):
        deserialize(struct.pack(">bI", 0, 1) + b"abc")
    event = Event(
        id="1",
        source="s",
        type="nl.wmo.meldingen.ontvangen",
        subject="a" * 32,
        data={"datum": date(2026, 1, 1)},
    )
    payload = RecordSerializer(registry)(event, "t")
    with pytest.raises(UndecodablePayload):
        deserialize(payload[:6])


def test_local_registry_ids_are_stable_across_instances() -> None:
    event = Event(
        id="1",
        source="s",
        type="nl.wmo.meldingen.ontvangen",
        subject="a" * 32,
        data={"datum": date(2026, 1, 1)},
    )
    first = RecordSerializer(LocalRegistry())(event, "t")
    second = RecordSerializer(LocalRegistry())(event, "t")
    assert first[:5] == second[:5]


def _gestart(**data: Any) -> dict[str, Any]:
    base = {"bsn": BSN, "datum": "2026-05-01", "toewijzing_nummer": "4711"}
    return envelope("nl.wmo.voorzieningen.gestart", {**base, **data})


_OTHER_DIGITS = st.characters(categories=["Nd"]).filter(lambda c: c not in "0123456789")


@settings(max_examples=200)
@given(st.text(st.sampled_from("0123456789") | _OTHER_DIGITS, min_size=1, max_size=2))
def test_an_iwmo_code_is_ascii_digits(code: str) -> None:
    """``０٧`` is no iWmo code: with Unicode ``\\d`` it was accepted and published as it is."""
    assume(not code.isascii())
    with pytest.raises(InvalidEvent) as info:
        validate_input(_gestart(productcategorie=code), Pseudonymiser("k"))
    assert (info.value.reason, info.value.field) == ("bad-type", "data.productcategorie")


@settings(max_examples=200)
@given(
    st.text(st.sampled_from("0123456789") | _OTHER_DIGITS, min_size=8, max_size=8),
)
def test_a_date_is_ascii_digits_and_told_so(digits: str) -> None:
    """A date in full-width or Arabic-Indic digits is badly formatted, not a date that does
    not exist (the message used to say so)."""
    assume(not digits.isascii())
    text = f"{digits[:4]}-{digits[4:6]}-{digits[6:]}"
    with pytest.raises(InvalidEvent) as info:
        validate_input(_gestart(datum=text), Pseudonymiser("k"))
    assert (info.value.reason, info.value.field) == ("bad-date", "data.datum")
    assert "expected a date as YYYY-MM-DD" in str(info.value)
    assert "not an existing calendar date" not in str(info.value)


@pytest.mark.parametrize(("field", "value"), [("productcategorie", "０٧"), ("datum", "٢٠٢٦-01-10")])
def test_digits_of_other_scripts_are_refused(field: str, value: str) -> None:
    with pytest.raises(InvalidEvent, match=f"data.{field}: expected"):
        validate_input(_gestart(**{field: value}), Pseudonymiser("k"))


@pytest.mark.parametrize("schema", FOREIGN_SCHEMAS, ids=repr)
def test_a_schema_id_of_a_foreign_schema_is_a_serde_error(schema: Any) -> None:
    """Review B3: ``"string"`` gave ``ValueError``, an array ``KeyError``, a record without a
    name fastavro's ``SchemaParseException`` — past every ``except SerdeError``."""
    deserialize = RecordDeserializer(ForeignRegistry({7: schema}))
    for _ in range(2):  # the refusal is remembered: the same error the second time
        with pytest.raises(ForeignSchema, match=r"^schema id 7 "):
            deserialize.decode(wire_payload(7))


def test_a_foreign_record_schema_is_refused_without_echoing_its_name() -> None:
    """Review (ingest) item 6: the name of a record schema the catalogue does not hold was
    echoed with ``repr``, which escapes whitespace (``1234\\t56\\t782``) before the dead
    letter's message is masked: a BSN in a schema name reached the error header."""
    name = "x 1234\t56\t782"
    schema = {"type": "record", "name": name.replace(" ", "_"), "fields": []}
    deserialize = RecordDeserializer(ForeignRegistry({7: schema}))
    with pytest.raises(ForeignSchema) as refused:
        deserialize.decode(wire_payload(7))
    assert "56" not in str(refused.value) and "catalogue does not hold" in str(refused.value)


_names = st.one_of(st.text(max_size=8), st.sampled_from(["x", "nl.schakel.X", "Melding"]))
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=10,
)
schema_like = st.recursive(
    st.sampled_from(["string", "int", "null", "record", "array", "map", "enum", "fixed", "x"])
    | _json,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.fixed_dictionaries(
            {"type": inner},
            optional={
                "name": _names | inner,
                "namespace": _names | inner,
                "fields": st.lists(
                    st.fixed_dictionaries({"name": _names, "type": inner}), max_size=3
                )
                | inner,
                "items": inner,
                "values": inner,
                "symbols": st.lists(_names, max_size=3) | inner,
                "size": st.integers(-1, 8) | inner,
            },
        )
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(schema_like, st.binary(max_size=16))
def test_whatever_a_schema_id_resolves_to_decoding_raises_a_serde_error(
    schema: Any, body: bytes
) -> None:
    """No schema a shared registry may hold under an id makes the deserializer raise anything
    but a :class:`SerdeError` (the worker dead-letters those; the batch path goes on)."""
    deserialize = RecordDeserializer(ForeignRegistry({7: schema}))
    with pytest.raises(SerdeError):
        deserialize.decode(wire_payload(7, body))
