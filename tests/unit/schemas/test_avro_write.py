"""The generated Avro writers (:mod:`schemas.avro_write`) write exactly fastavro's bytes.

For every version of every catalogue schema: hypothesis builds data of the schema's shape
(strings of any script, the ends of every integer range, dates, empty and full arrays and
maps, both branches of every union) and the generated writer must accept it and write the
bytes of ``fastavro.schemaless_writer``. Data outside the plain shapes (a field missing, a
value of another type, fastavro's union notations) must make it refuse, so that
:class:`~schemas.serde.RecordSerializer` gives fastavro's own outcome: the same bytes, or a
:class:`~schemas.exceptions.SerdeError` where fastavro refuses.
"""

from __future__ import annotations

import io
from datetime import date, datetime
from typing import Any

import fastavro
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas.avro_codegen import Unfit
from schemas.avro_read import compile_reader
from schemas.avro_write import _small, compile_writer, varint
from schemas.catalogue import catalogue, to_avro
from schemas.exceptions import SerdeError
from schemas.registry import LocalRegistry
from schemas.serde import RecordSerializer
from tests.unit.schemas.avro_data import avro_data

VERSIONS = [v for name in catalogue().names for v in catalogue().versions(name)]
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _fastavro(parsed: Any, datum: Any) -> bytes:
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, parsed, datum)
    return buffer.getvalue()


@pytest.mark.parametrize("version", VERSIONS, ids=lambda v: f"{v.name}-v{v.version}")
def test_every_catalogue_schema_is_written_as_fastavro_writes_it(version: Any) -> None:
    parsed = fastavro.parse_schema(dict(version.raw))
    write = compile_writer(parsed)
    assert write is not None, f"{version.name} v{version.version} has no generated writer"

    @SETTINGS
    @given(avro_data(parsed))
    def check(datum: Any) -> None:
        out = bytearray()
        write(out, datum)
        assert bytes(out) == _fastavro(parsed, datum)

    check()


SIGNAL = "nl.schakel.signalen.gesignaleerd"
STATE = "nl.schakel.intern.toestand"


def _serializer_outcome(name: str, record: dict[str, Any]) -> bytes | str:
    try:
        return RecordSerializer(LocalRegistry()).encode("topic", name, record)
    except SerdeError:
        return "SerdeError"


def _fastavro_outcome(name: str, record: dict[str, Any]) -> bytes | str:
    """What :meth:`RecordSerializer.encode` gave before the generated writers: fastavro's."""
    version = catalogue().latest(name)
    header = RecordSerializer(LocalRegistry()).encode("topic", name, _valid(name))[:5]
    try:
        datum = to_avro(version, record)
        return header + _fastavro(fastavro.parse_schema(dict(version.raw)), datum)
    except (ValueError, TypeError, KeyError, AttributeError):
        return "SerdeError"


def _valid(name: str) -> dict[str, Any]:
    if name == STATE:
        return {
            "subject": "0" * 32,
            "klok": date(2026, 1, 1),
            "events": [b"\x00\x01"],
            "signalen": [],
            "revisies": {"r|s|gesignaleerd": 1},
            "uitvoer": [],
            "vergeten_tot": None,
        }
    return {
        "specversion": "1.0",
        "id": "i",
        "source": "urn:s",
        "type": SIGNAL,
        "subject": "0" * 32,
        "time": None,
        "datacontenttype": None,
        "dataschema": None,
        "bronsleutel": None,
        "sequence": None,
        "data": {
            "regel": "r",
            "sleutel": "s",
            "sinds": date(2026, 1, 1),
            "termijn": None,
            "bewijs": ["a"],
            "uitleg": "u",
        },
    }


ODD_VALUES = [
    1.5,
    True,
    b"x",
    "tekst",
    7,
    2**40,
    datetime(2026, 1, 1, 12, 0),
    ("string", "x"),
    {"-type": "string"},
    ["a", 1],
    None,
    "\ud800",
]


@SETTINGS
@given(
    name=st.sampled_from([SIGNAL, STATE]),
    path=st.integers(0, 20),
    odd=st.sampled_from(ODD_VALUES),
    drop=st.booleans(),
)
def test_unfit_records_get_fastavros_outcome(name: str, path: int, odd: Any, drop: bool) -> None:
    """A record with one value replaced by an odd one (or one field left out): the serializer
    gives what fastavro alone gives for it, bytes or a refusal."""
    record = _valid(name)
    holder = record if name == STATE or path % 2 else record["data"]
    key = sorted(holder)[path % len(holder)]
    if drop:
        del holder[key]
    else:
        holder[key] = odd
    assert _serializer_outcome(name, record) == _fastavro_outcome(name, record)


def test_an_unfit_value_is_refused_not_written() -> None:
    """A value fastavro would coerce (a bool for an int, a tuple naming a union branch) makes
    the generated writer refuse, so that fastavro decides."""
    parsed = fastavro.parse_schema(
        {
            "type": "record",
            "name": "t",
            "fields": [{"name": "n", "type": "int"}, {"name": "s", "type": ["null", "string"]}],
        }
    )
    write = compile_writer(parsed)
    assert write is not None
    for datum in ({"n": True, "s": None}, {"n": 1, "s": ("string", "x")}, {"n": 1}):
        with pytest.raises((Unfit, KeyError)):
            write(bytearray(), datum)
    out = bytearray()
    write(out, {"n": -1, "s": "é"})
    assert bytes(out) == _fastavro(parsed, {"n": -1, "s": "é"})


def test_a_schema_with_a_construct_it_does_not_generate_has_no_writer_nor_reader() -> None:
    for schema in (
        {"type": "record", "name": "u", "fields": [{"name": "x", "type": ["int", "string"]}]},
        {"type": "record", "name": "f", "fields": [{"name": "x", "type": "float"}]},
        {"type": "fixed", "name": "h", "size": 4},
        {"type": "long", "logicalType": "timestamp-millis"},
    ):
        parsed = fastavro.parse_schema(schema)
        assert compile_writer(parsed) is None
        assert compile_reader(parsed) is None


@given(st.integers(-(2**63), 2**63 - 1))
def test_varint_is_avros_long_encoding(n: int) -> None:
    assert varint(n) == _fastavro("long", n)


def test_the_small_table_is_varint() -> None:
    assert all(_small(n) == varint(n) for n in range(-(2**15), 2**15))
