"""The generated Avro readers (:mod:`schemas.avro_read`) read what fastavro reads.

For every version of every catalogue schema: data of the schema's shape, encoded by fastavro,
is read back exactly as ``fastavro.schemaless_reader`` reads it (and where fastavro refuses,
the generated reader refuses too). Encodings that are then cut short, overwritten or
extended are either refused or read as fastavro reads them: the generated reader never
returns something fastavro would not.
"""

from __future__ import annotations

import io
from typing import Any

import fastavro
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas.avro_codegen import Unfit
from schemas.avro_read import compile_reader
from schemas.catalogue import catalogue
from schemas.exceptions import UndecodablePayload
from schemas.registry import LocalRegistry
from schemas.serde import RecordDeserializer, RecordSerializer
from tests.unit.schemas.avro_data import avro_data

VERSIONS = [v for name in catalogue().names for v in catalogue().versions(name)]
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PREFIX = b"\x00\x00\x00\x00\x07"


def _encode(parsed: Any, datum: Any) -> bytes:
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, parsed, datum)
    return buffer.getvalue()


def _fastavro(parsed: Any, payload: bytes) -> tuple[bool, Any]:
    """(read, value) as fastavro reads ``payload`` after :data:`PREFIX`."""
    try:
        return True, fastavro.schemaless_reader(io.BytesIO(payload[len(PREFIX) :]), parsed, None)
    except Exception:  # corrupt input raises many types
        return False, None


def _generated(read: Any, payload: bytes) -> tuple[bool, Any]:
    try:
        return True, read(payload, len(PREFIX))
    except Exception:  # refused: the caller reads it with fastavro
        return False, None


def _parsed(version: Any) -> tuple[Any, Any]:
    parsed = fastavro.parse_schema(dict(version.raw))
    read = compile_reader(parsed)
    assert read is not None, f"{version.name} v{version.version} has no generated reader"
    return parsed, read


@pytest.mark.parametrize("version", VERSIONS, ids=lambda v: f"{v.name}-v{v.version}")
def test_every_catalogue_schema_is_read_as_fastavro_reads_it(version: Any) -> None:
    parsed, read = _parsed(version)

    @SETTINGS
    @given(avro_data(parsed))
    def check(datum: Any) -> None:
        payload = PREFIX + _encode(parsed, datum)
        assert _generated(read, payload) == _fastavro(parsed, payload)

    check()


MUTATED = [v for v in VERSIONS if v.name.startswith(("nl.wmo.", "nl.schakel.intern.t"))]


@pytest.mark.parametrize("version", MUTATED, ids=lambda v: f"{v.name}-v{v.version}")
def test_a_damaged_encoding_is_refused_or_read_as_fastavro_reads_it(version: Any) -> None:
    parsed, read = _parsed(version)

    @SETTINGS
    @given(avro_data(parsed), st.data())
    def check(datum: Any, data: st.DataObject) -> None:
        body = bytearray(_encode(parsed, datum))
        how = data.draw(st.sampled_from(["cut", "overwrite", "append", "insert"]))
        at = data.draw(st.integers(0, len(body)))
        if how == "cut":
            del body[at:]
        elif how == "overwrite" and at < len(body):
            body[at] = data.draw(st.integers(0, 255))
        elif how == "append":
            body += data.draw(st.binary(min_size=1, max_size=8))
        else:
            body[at:at] = data.draw(st.binary(min_size=1, max_size=3))
        payload = PREFIX + bytes(body)
        done, value = _generated(read, payload)
        if done:
            assert (done, value) == _fastavro(parsed, payload)

    check()


def test_what_it_refuses_the_deserializer_reads_with_fastavro() -> None:
    """A map written in Avro's sized blocks (a negative count, then the block's size: valid
    Avro that Schakel's writers never write) is refused by the generated reader and read by
    the deserializer through fastavro all the same."""
    registry = LocalRegistry()
    state: dict[str, Any] = {
        "subject": "0" * 32,
        "klok": None,
        "events": [],
        "signalen": [],
        "revisies": {"r": 2},
        "uitvoer": [],
        "vergeten_tot": None,
    }
    payload = RecordSerializer(registry).encode("t", "nl.schakel.intern.toestand", state)
    plain = b"\x02\x02r\x04\x00"  # one entry: "r" -> 2, then the end
    sized = b"\x01\x06\x02r\x04\x00"  # a count of -1, the block's 3 bytes, the entry, the end
    assert plain in payload
    payload = payload.replace(plain, sized)
    schema = fastavro.parse_schema(dict(catalogue().latest("nl.schakel.intern.toestand").raw))
    read = compile_reader(schema)
    assert read is not None
    with pytest.raises(Unfit):
        read(payload, 5)
    _name, record = RecordDeserializer(registry).decode(payload)
    assert record["revisies"] == {"r": 2}
    with pytest.raises(UndecodablePayload):
        RecordDeserializer(registry).decode(payload[:-3])
