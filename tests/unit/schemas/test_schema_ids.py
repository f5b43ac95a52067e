"""The embedded-mode schema id rule of docs/schemas.md, checked against implementations that are
not Schakel's: the CRC-64-AVRO algorithm as the Avro specification prints it, Apache Avro's
published fingerprints (share/test/data/schema-tests.txt) and the ``avro`` package's Parsing
Canonical Form."""

from __future__ import annotations

import json
import re

import avro.schema
import pytest
from fastavro.schema import to_parsing_canonical_form

from schemas.catalogue import catalogue
from schemas.registry import local_schema_id

# Apache Avro share/test/data/schema-tests.txt: schema → fingerprint (a Java long)
AVRO_VECTORS = (
    ('"null"', 7195948357588979594),
    ('"boolean"', -6970731678124411036),
    ('"int"', 8247732601305521295),
    ('{"name":"foo","type":"fixed","size":15}', 1756455273707447556),
    (
        '{"name":"foo","type":"record","fields":[{"name":"f1","type":"boolean"}]}',
        7843277075252814651,
    ),
)
EMPTY = 0xC15D213AA4D7A795


def spec_fingerprint(canonical: str) -> int:
    """CRC-64-AVRO as the Avro specification ("Schema Fingerprints") writes it."""
    table = []
    for i in range(256):
        fp = i
        for _ in range(8):
            fp = (fp >> 1) ^ (EMPTY & -(fp & 1))
        table.append(fp)
    fp = EMPTY
    for byte in canonical.encode("utf-8"):
        fp = (fp >> 8) ^ table[(fp ^ byte) & 0xFF]
    return fp


def documented_id(fingerprint: int) -> int:
    """docs/schemas.md: the fingerprint's 8 bytes little-endian; the first 4 read big-endian,
    shifted right by one; 0 becomes 1."""
    first4 = (fingerprint & 0xFFFFFFFFFFFFFFFF).to_bytes(8, "little")[:4]
    return (int.from_bytes(first4, "big") >> 1) or 1


@pytest.mark.parametrize(("schema", "java_long"), AVRO_VECTORS)
def test_the_rule_on_avros_published_fingerprints(schema: str, java_long: int) -> None:
    assert spec_fingerprint(schema) == java_long & 0xFFFFFFFFFFFFFFFF
    parsed = json.loads(schema)
    if isinstance(parsed, dict):  # Schakel's schemas are records
        assert local_schema_id(parsed) == documented_id(java_long)


def test_every_committed_schema_follows_the_rule() -> None:
    cat = catalogue()
    ids = set()
    for name in cat.names:
        for version in cat.versions(name):
            canonical = to_parsing_canonical_form(dict(version.raw))
            # the avro package writes a primitive with a logicalType as {"type":"int"}; the
            # specification (and Java) reduce it to "int" (rule [PRIMITIVES])
            other = avro.schema.parse(json.dumps(dict(version.raw))).canonical_form
            assert re.sub(r'\{"type":("[a-z]+")\}', r"\1", other) == canonical, version.path
            schema_id = local_schema_id(version.raw)
            assert schema_id == documented_id(spec_fingerprint(canonical)), version.path
            assert 1 <= schema_id < 2**31
            ids.add(schema_id)
    assert len(ids) == sum(len(cat.versions(n)) for n in cat.names)  # no two versions share one
