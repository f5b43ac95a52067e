"""The registry client (:mod:`schemas.registry_client`) and ``schakel schemas register``
against a schema registry Schakel did not write: Apicurio Registry 2.6 in memory, through its
Confluent-compatible API ``/apis/ccompat/v7`` (session fixture ``apicurio_registry``,
tests/apicurio.py). Each test works in subjects of its own (a fresh namespace or subject name).

Where Apicurio answers otherwise than Confluent Schema Registry, the test says so: its global
compatibility level is ``NONE`` (Confluent: ``BACKWARD``), so a subject without a level of its
own accepts any new version; ``GET /config/{subject}`` of such a subject answers the global
level (Confluent: 404, error code 40408); an unknown level is HTTP 400 with a plain-text body
(Confluent: 422, error code 42203); the 409 message names the differences as ``<what> at
<path>`` (Confluent: ``errorType:…, … at path '…'``)."""

from __future__ import annotations

import io
import os
import re
import secrets
from datetime import date

import fastavro
import pytest
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError

from schemas.catalogue import catalogue
from schemas.exceptions import (
    RegistryIncompatible,
    RegistryInvalidSchema,
    RegistryNotFound,
    RegistryRefused,
    UnknownSchemaId,
)
from schemas.registry import COMPATIBILITY, catalogue_subjects
from schemas.registry_client import canonical_text
from schemas.serde import RecordDeserializer, RecordSerializer
from schemas.wire import Wire
from tests.apicurio import ApicurioRegistry
from tests.cli import run_cli
from tests.integration.test_schema_registry import EVENT, V1, V2_INCOMPATIBLE, connect

pytestmark = pytest.mark.apicurio

TYPE = EVENT.type
PRINTED = re.compile(r"^(\S+) v(\d+) -> id (\d+)$")


def fresh(prefix: str = "s") -> str:
    return f"{prefix}-{secrets.token_hex(5)}"


def register_cli(url: str, namespace: str) -> tuple[int, str, str]:
    """``schakel schemas register`` in ``namespace`` against ``url``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCHAKEL_")}
    env.update({"SCHAKEL_SCHEMA_REGISTRY_URL": url, "SCHAKEL_NAMESPACE": namespace})
    result = run_cli("schemas", "register", env=env)
    return result.returncode, result.stdout, result.stderr


@pytest.fixture(scope="module")
def registered(apicurio_registry: ApicurioRegistry) -> tuple[Wire, str]:
    """The catalogue registered once in a fresh namespace: (its wire, the job's stdout)."""
    wire = Wire(fresh("test"))
    code, out, err = register_cli(apicurio_registry.url, wire.namespace)
    assert code == 0, err
    return wire, out


def test_schemas_register_sets_each_level_and_registers_every_version_oldest_first(
    apicurio_registry: ApicurioRegistry, registered: tuple[Wire, str]
) -> None:
    wire, out = registered
    subjects = catalogue_subjects(wire)
    printed = {(m[1], int(m[2])): int(m[3]) for m in map(PRINTED.match, out.splitlines()) if m}
    assert set(printed) == {(s, v.version) for s, vs in subjects.items() for v in vs}

    raw = SchemaRegistryClient({"url": apicurio_registry.url})
    client = connect(apicurio_registry.url)
    for subject, versions in subjects.items():
        assert client.compatibility(subject) == COMPATIBILITY
        # the registry numbered the versions in the order the job sent them: oldest first
        assert raw.get_versions(subject) == [v.version for v in versions]
        for version in versions:
            schema_id = printed[(subject, version.version)]
            assert raw.get_version(subject, version.version).schema_id == schema_id
            assert client.lookup(subject, version.raw) == schema_id
            assert client.schema(schema_id) == version.raw
    # an id names a schema text: the same text under two subjects has one id, two texts two
    verwijderd = {printed[(f"{t}-nl.schakel.bron.verwijderd", 1)] for t in wire.event_topics}
    assert len(verwijderd) == 1
    texts = {canonical_text(v.raw) for vs in subjects.values() for v in vs}
    assert len(set(printed.values())) == len(texts)

    code, again, err = register_cli(apicurio_registry.url, wire.namespace)
    assert code == 0, err
    assert again == out  # idempotent: the same ids, no new versions
    for subject, versions in subjects.items():
        assert raw.get_versions(subject) == [v.version for v in versions]


def test_records_are_encoded_and_decoded_through_the_registry(
    apicurio_registry: ApicurioRegistry, registered: tuple[Wire, str]
) -> None:
    wire, _ = registered
    topic = wire.topic_for(TYPE)
    subject = f"{topic}-{TYPE}"
    writer, reader = connect(apicurio_registry.url), connect(apicurio_registry.url)
    payload = RecordSerializer(writer)(EVENT, topic)
    latest = catalogue().latest(TYPE)
    assert payload[0] == 0
    assert int.from_bytes(payload[1:5], "big") == writer.lookup(subject, latest.raw)
    assert RecordDeserializer(reader)(payload) == EVENT

    # a record an older producer wrote with v1: its schema comes from the registry by id and
    # is resolved to the newest version
    v1 = catalogue().versions(TYPE)[0]
    assert v1.version < latest.version
    body = io.BytesIO()
    record = {
        "specversion": "1.0",
        "id": "2",
        "source": "urn:test",
        "type": TYPE,
        "subject": "b" * 32,
        "data": {"datum": date(2026, 2, 3)},
    }
    fastavro.schemaless_writer(body, fastavro.parse_schema(dict(v1.raw)), record)
    old_id = reader.lookup(subject, v1.raw)
    decoded = RecordDeserializer(reader)(b"\x00" + old_id.to_bytes(4, "big") + body.getvalue())
    assert (decoded.id, decoded.subject, decoded.data["datum"]) == ("2", "b" * 32, date(2026, 2, 3))


def test_writers_never_register(apicurio_registry: ApicurioRegistry) -> None:
    wire = Wire(fresh("test"))
    topic = wire.topic_for(TYPE)
    with pytest.raises(RegistryNotFound, match="schakel schemas register") as missing:
        RecordSerializer(connect(apicurio_registry.url))(EVENT, topic)
    assert (missing.value.status, missing.value.error_code) == (404, 40401)
    raw = SchemaRegistryClient({"url": apicurio_registry.url})
    assert f"{topic}-{TYPE}" not in raw.get_subjects()


def test_refusals_name_subject_and_status_never_the_schema(
    apicurio_registry: ApicurioRegistry,
) -> None:
    client = connect(apicurio_registry.url)
    subject = fresh()
    with pytest.raises(RegistryNotFound) as missing:
        client.lookup(subject, V1)
    message = str(missing.value)
    assert (missing.value.status, missing.value.error_code) == (404, 40401)
    assert f"'{subject}'" in message and "HTTP 404" in message
    assert "schakel schemas register" in message and "a-doc-text" not in message

    client.set_compatibility(subject, COMPATIBILITY)
    schema_id = client.register(subject, V1)
    assert client.register(subject, V1) == schema_id  # idempotent
    with pytest.raises(RegistryNotFound) as other:
        client.lookup(subject, {**V1, "doc": "another"})
    assert (other.value.status, other.value.error_code) == (404, 40403)

    with pytest.raises(RegistryIncompatible) as incompatible:
        client.register(subject, V2_INCOMPATIBLE)
    message = str(incompatible.value)
    assert (incompatible.value.status, incompatible.value.subject) == (409, subject)
    assert f"'{subject}'" in message and "HTTP 409" in message
    assert "a-doc-text" not in message and '"fields"' not in message
    assert "incompatible with an earlier version" in message

    invalid_subject = fresh()
    with pytest.raises(RegistryInvalidSchema) as invalid:
        client.register(invalid_subject, {"type": "record", "name": "X", "fields": [{"name": "a"}]})
    assert (invalid.value.status, invalid.value.error_code) == (422, 42201)
    assert f"'{invalid_subject}'" in str(invalid.value)
    with pytest.raises(UnknownSchemaId):
        client.schema(2**31 - 1)


def test_a_refused_registration_is_one_line_naming_the_subject(
    apicurio_registry: ApicurioRegistry,
) -> None:
    wire = Wire(fresh("test"))
    subject = f"{wire.topic_for(TYPE)}-{TYPE}"
    client = connect(apicurio_registry.url)
    client.set_compatibility(subject, COMPATIBILITY)
    client.register(subject, {"type": "record", "name": "Other", "fields": []})
    code, _, err = register_cli(apicurio_registry.url, wire.namespace)
    assert code == 2
    line = err.strip().splitlines()[-1]
    assert "Traceback" not in err and f"'{subject}'" in line and "HTTP 409" in line
    assert '"fields"' not in err


def test_where_apicurio_differs_from_confluent(apicurio_registry: ApicurioRegistry) -> None:
    """What the module docstring lists; Schakel depends on none of it (the deploy job sets a
    level on every subject before its first version)."""
    client = connect(apicurio_registry.url)
    raw = SchemaRegistryClient({"url": apicurio_registry.url})
    assert raw.get_compatibility() == "NONE"
    unset = fresh()
    client.register(unset, V1)
    assert client.compatibility(unset) == "NONE"  # the global level, not a 404 (40408)
    # a subject without a level of its own accepts an incompatible version
    assert client.register(unset, V2_INCOMPATIBLE) != client.lookup(unset, V1)

    with pytest.raises(RegistryRefused) as unknown_level:
        client.set_compatibility(unset, "SIDEWAYS")
    assert (unknown_level.value.status, unknown_level.value.error_code) == (400, -1)

    # the 409 names the difference in words of its own: Schakel's message keeps no detail
    checked = fresh()
    client.set_compatibility(checked, COMPATIBILITY)
    client.register(checked, V1)
    with pytest.raises(SchemaRegistryError) as answer:
        raw.register_schema(checked, Schema(canonical_text(V2_INCOMPATIBLE), "AVRO"))
    assert (answer.value.http_status_code, answer.value.error_code) == (409, 409)
    assert "b at /fields/1" in answer.value.error_message
    assert "errorType" not in answer.value.error_message
    with pytest.raises(RegistryIncompatible) as refused:
        client.register(checked, V2_INCOMPATIBLE)
    assert str(refused.value).endswith("under the subject's compatibility level")
