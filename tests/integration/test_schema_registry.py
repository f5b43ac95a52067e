"""The registry client (:mod:`schemas.registry_client`, confluent-kafka's
``SchemaRegistryClient`` underneath) and ``schakel schemas register`` against a registry that
speaks the Confluent REST API and checks credentials: Schakel's own registry server in
writable mode (:mod:`schakel.registry_server`), with basic auth, a bearer token and TLS with a
CA and client certificates generated here; the API subset the server implements is listed in
its module docstring. The same client and command against a registry written by others,
Apicurio Registry: tests/integration/test_registry_apicurio.py."""

from __future__ import annotations

import os
import ssl
from collections.abc import Iterator, Mapping
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from schakel.broker import free_port
from schakel.registry_server import RegistryAuth, RegistryServer
from schakel.registry_store import RegistryStore
from schakel.testpki import make_pki
from schemas.catalogue import catalogue
from schemas.envelope import Event
from schemas.exceptions import (
    RegistryIncompatible,
    RegistryInvalidSchema,
    RegistryNotFound,
    RegistryUnauthorized,
    RegistryUnavailable,
    SettingsError,
    UnknownSchemaId,
)
from schemas.registry import catalogue_subjects
from schemas.registry_client import ConfluentRegistry, RegistryConnection
from schemas.serde import RecordDeserializer, RecordSerializer
from schemas.settings import load_settings
from schemas.wire import DEFAULT_WIRE
from streams.batch_jobs import run_forked
from tests.cli import run_cli

USER, PASSWORD, TOKEN = "deploy", "s3cret-pw", "tok-4f1c9a"
V1 = {
    "type": "record",
    "name": "Probe",
    "namespace": "test",
    "doc": "a-doc-text-that-must-not-leak",
    "fields": [{"name": "a", "type": "string"}],
}
V2_INCOMPATIBLE = {**V1, "fields": [*V1["fields"], {"name": "b", "type": "int"}]}
EVENT = Event(
    id="1",
    source="urn:test",
    type="nl.wmo.meldingen.ontvangen",
    subject="a" * 32,
    data={"datum": date(2026, 1, 1)},
)


@pytest.fixture
def server() -> Iterator[RegistryServer]:
    """A writable registry that requires basic auth (USER/PASSWORD) or the bearer TOKEN."""
    auth = RegistryAuth(USER, PASSWORD, TOKEN)
    with RegistryServer(RegistryStore(), writable=True, auth=auth) as running:
        yield running


def connect(url: str, **options: object) -> ConfluentRegistry:
    """A client with short backoff (the production default waits up to 20 s)."""
    return ConfluentRegistry(
        RegistryConnection(url, retry_wait_ms=20, retry_max_wait_ms=100, **options)  # type: ignore[arg-type]
    )


def test_basic_auth_and_bearer_token_reach_the_registry(server: RegistryServer) -> None:
    with pytest.raises(RegistryUnauthorized) as refused:
        connect(server.url).lookup("s1", V1)
    assert refused.value.status == 401 and "'s1'" in str(refused.value)
    with pytest.raises(RegistryUnauthorized):
        connect(server.url, basic_auth=f"{USER}:wrong").lookup("s1", V1)
    with pytest.raises(RegistryUnauthorized) as bad_token:
        connect(server.url, token="not-the-token").lookup("s1", V1)
    assert "not-the-token" not in str(bad_token.value)

    schema_id = connect(server.url, basic_auth=f"{USER}:{PASSWORD}").register("s1", V1)
    assert connect(server.url, token=TOKEN).lookup("s1", V1) == schema_id
    assert connect(server.url, token=TOKEN).schema(schema_id) == V1
    assert server.store.subjects() == ["s1"]


def test_tls_with_a_ca_bundle_and_a_client_certificate(tmp_path: Path) -> None:
    make_pki(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(tmp_path / "ca.pem"))
    context.load_cert_chain(tmp_path / "server.pem", tmp_path / "server.key")
    context.verify_mode = ssl.CERT_REQUIRED  # mutual TLS: no client certificate, no request
    auth = RegistryAuth(USER, PASSWORD)
    with RegistryServer(RegistryStore(), writable=True, auth=auth, ssl_context=context) as server:
        assert server.url.startswith("https://127.0.0.1:")
        client = connect(
            server.url,
            basic_auth=f"{USER}:{PASSWORD}",
            ca_file=tmp_path / "ca.pem",
            cert_file=tmp_path / "client.pem",
            key_file=tmp_path / "client.key",
        )
        schema_id = client.register("s1", V1)
        assert client.lookup("s1", V1) == schema_id

        # the system / certifi bundle does not know the test CA: a permanent TLS error
        with pytest.raises(RegistryUnauthorized, match="CERTIFICATE_VERIFY_FAILED") as untrusted:
            connect(server.url, basic_auth=f"{USER}:{PASSWORD}", retries=0).lookup("s1", V1)
        assert "CA_FILE" in str(untrusted.value) and PASSWORD not in str(untrusted.value)
        # without a client certificate the server hangs up in the handshake; to the client
        # that looks like any dropped connection (transient), and no request is served
        served = len(server.seen)
        with pytest.raises(RegistryUnavailable):
            connect(
                server.url,
                basic_auth=f"{USER}:{PASSWORD}",
                ca_file=tmp_path / "ca.pem",
                retries=1,
            ).lookup("s1", V1)
        assert len(server.seen) == served


def fail_first(count: int) -> tuple[list[int], Middleware]:
    """A middleware answering 503 to the first ``count`` requests (all when negative)."""
    calls = [0]

    @web.middleware
    async def unavailable(request: web.Request, handler: Handler) -> web.StreamResponse:
        calls[0] += 1
        if count < 0 or calls[0] <= count:
            return web.json_response({"error_code": 50003, "message": "busy"}, status=503)
        return await handler(request)

    return calls, unavailable


def test_transient_failures_are_retried_then_reported_as_unavailable() -> None:
    store = RegistryStore()
    store.register("s1", '{"type":"string"}')
    calls, flaky = fail_first(2)
    with RegistryServer(store, middlewares=[flaky]) as server:
        assert connect(server.url, retries=3).lookup("s1", {"type": "string"}) == 1
    assert calls[0] == 3  # two 503s, then the answer

    calls, down = fail_first(-1)
    with (
        RegistryServer(store, middlewares=[down]) as server,
        pytest.raises(RegistryUnavailable, match="HTTP 503 after 3 attempts"),
    ):
        connect(server.url, retries=2).lookup("s1", {"type": "string"})
    assert calls[0] == 3  # the budget: one attempt and two retries

    closed = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(RegistryUnavailable, match="unreachable after 2 attempts") as refused:
        connect(closed, retries=1).schema(1)
    assert "ConnectError" in str(refused.value)


def test_refusals_name_subject_and_status_never_the_schema(server: RegistryServer) -> None:
    client = connect(server.url, basic_auth=f"{USER}:{PASSWORD}")
    with pytest.raises(RegistryNotFound) as missing:
        client.lookup("schakel.wmo.events-test.Probe", V1)
    message = str(missing.value)
    assert (missing.value.status, missing.value.error_code) == (404, 40401)
    assert "'schakel.wmo.events-test.Probe'" in message and "HTTP 404" in message
    assert "schakel schemas register" in message and "a-doc-text" not in message

    client.register("s1", V1)
    with pytest.raises(RegistryNotFound) as other_version:
        client.lookup("s1", {**V1, "doc": "another"})
    assert other_version.value.error_code == 40403

    client.set_compatibility("s1", "BACKWARD_TRANSITIVE")
    assert client.compatibility("s1") == "BACKWARD_TRANSITIVE"
    with pytest.raises(RegistryIncompatible) as incompatible:
        client.register("s1", V2_INCOMPATIBLE)
    message = str(incompatible.value)
    assert incompatible.value.status == 409 and incompatible.value.subject == "s1"
    assert "READER_FIELD_MISSING_DEFAULT_VALUE at /fields/1" in message
    assert "a-doc-text" not in message and '"fields"' not in message  # the server quoted it

    with pytest.raises(RegistryInvalidSchema) as invalid:
        client.register("s2", {"type": "record", "name": "X", "fields": [{"name": "a"}]})
    assert (invalid.value.status, invalid.value.error_code) == (422, 42201)
    assert "'s2'" in str(invalid.value) and "invalid schema" in str(invalid.value)
    with pytest.raises(RegistryInvalidSchema, match="invalid compatibility level"):
        client.set_compatibility("s1", "SIDEWAYS")
    with pytest.raises(UnknownSchemaId):
        client.schema(999)


def test_the_embedded_registry_refuses_writes() -> None:
    with RegistryServer(RegistryStore.embedded()) as server:
        subject = next(iter(catalogue_subjects()))
        with pytest.raises(RegistryInvalidSchema, match="read-only") as refused:
            connect(server.url).register(subject, V1)
        assert refused.value.error_code == 42205


def register_cli(server: RegistryServer) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCHAKEL_")}
    env.update(
        {
            "SCHAKEL_SCHEMA_REGISTRY_URL": server.url,
            "SCHAKEL_SCHEMA_REGISTRY_AUTH": f"{USER}:{PASSWORD}",
        }
    )
    result = run_cli("schemas", "register", env=env)
    return result.returncode, result.stdout, result.stderr


def test_writers_only_look_up_and_the_deploy_job_registers(server: RegistryServer) -> None:
    writer = connect(server.url, token=TOKEN)
    with pytest.raises(RegistryNotFound, match="schakel schemas register"):
        RecordSerializer(writer)(EVENT, "schakel.wmo.events")
    assert server.store.subjects() == []  # nothing was registered on the way

    code, out, err = register_cli(server)
    assert code == 0, err
    subjects = catalogue_subjects()
    assert server.store.subjects() == sorted(subjects)
    for subject, versions in subjects.items():
        assert server.store.versions(subject) == [v.version for v in versions]
        assert server.store.compatibility(subject, fallback=False) == "BACKWARD_TRANSITIVE"
    assert server.store.compatibility() == "BACKWARD"  # the global level is left alone
    assert "schakel.wmo.events-nl.wmo.meldingen.ontvangen v1 -> id" in out
    assert PASSWORD not in out + err

    ids = {s: server.store.version(s, "latest").schema_id for s in subjects}
    code, again, _ = register_cli(server)
    assert code == 0 and again == out  # idempotent: same ids, no new versions
    assert {s: server.store.version(s, "latest").schema_id for s in subjects} == ids

    server.seen.clear()
    payload = RecordSerializer(connect(server.url, token=TOKEN))(EVENT, "schakel.wmo.events")
    assert [method for method, _ in server.seen] == ["POST"]
    assert server.seen[0][1].startswith("/subjects/schakel.wmo.events-nl.wmo.meldingen.ontvangen?")
    assert (
        RecordDeserializer(connect(server.url, basic_auth=f"{USER}:{PASSWORD}"))(payload) == EVENT
    )


def test_a_refused_registration_is_one_line_naming_the_subject(server: RegistryServer) -> None:
    subject = "schakel.wmo.events-nl.wmo.meldingen.ontvangen"
    server.store.set_compatibility(subject, "BACKWARD_TRANSITIVE")
    server.store.register(subject, '{"type":"record","name":"Other","fields":[]}')
    code, _, err = register_cli(server)
    assert code == 2
    line = err.strip().splitlines()[-1]
    assert "Traceback" not in err and f"'{subject}'" in line and "HTTP 409" in line
    assert '"fields"' not in err


def test_connection_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    make_pki(tmp_path)  # its files are checked (tests/unit/schemas/test_tls_files.py)
    monkeypatch.setenv("SCHAKEL_SCHEMA_REGISTRY_URL", "https://user:pw@registry:8081")
    monkeypatch.setenv("SCHAKEL_SCHEMA_REGISTRY_TOKEN", TOKEN)
    monkeypatch.setenv("SCHAKEL_SCHEMA_REGISTRY_CA_FILE", str(tmp_path / "ca.pem"))
    monkeypatch.setenv("SCHAKEL_SCHEMA_REGISTRY_RETRIES", "5")
    connection = RegistryConnection.from_settings(load_settings())
    assert TOKEN not in repr(connection) and connection.where == "https://registry:8081"
    config = connection.client_config()
    assert config["bearer.auth.token"] == TOKEN and config["max.retries"] == 5
    assert config["ssl.ca.location"] == str(tmp_path / "ca.pem")

    monkeypatch.setenv("SCHAKEL_SCHEMA_REGISTRY_AUTH", "a:b")
    with pytest.raises(SettingsError, match="set one, not both"):
        RegistryConnection.from_settings(load_settings())
    monkeypatch.delenv("SCHAKEL_SCHEMA_REGISTRY_TOKEN")
    monkeypatch.setenv("SCHAKEL_SCHEMA_REGISTRY_KEY_FILE", str(tmp_path / "missing.key"))
    monkeypatch.setenv("SCHAKEL_SCHEMA_REGISTRY_CERT_FILE", str(tmp_path / "ca.pem"))
    with pytest.raises(SettingsError, match="SCHAKEL_SCHEMA_REGISTRY_KEY_FILE: no such file"):
        RegistryConnection.from_settings(load_settings())


def test_every_catalogue_schema_has_a_subject() -> None:
    subjects = catalogue_subjects()
    names = catalogue().names
    # one subject per schema and topic that carries it: nl.schakel.bron.verwijderd travels on
    # each of the four event topics (events.md, "Corrections and deletions")
    assert len(subjects) == len(names) - 1 + len(DEFAULT_WIRE.event_topics)
    for topic in DEFAULT_WIRE.event_topics:
        assert f"{topic}-nl.schakel.bron.verwijderd" in subjects
    assert "schakel.deadletter.adapters-nl.schakel.intern.quarantaine" in subjects
    assert "schakel.signalen-nl.schakel.signalen.gesignaleerd" in subjects


def test_a_forked_process_talks_to_the_registry_over_connections_of_its_own() -> None:
    """The batch path's worker processes are forked with the registry client of their parent
    (:mod:`streams.batch_jobs`): each child opens its own connection, the parent keeps using
    its own (an HTTP connection shared by two processes mixes their requests and answers)."""
    ports: list[tuple[str, int]] = []

    @web.middleware
    async def note_port(request: web.Request, handler: Handler) -> web.StreamResponse:
        assert request.transport is not None
        ports.append((request.path, request.transport.get_extra_info("peername")[1]))
        return await handler(request)

    with RegistryServer(RegistryStore(), writable=True, middlewares=[note_port]) as server:
        client = connect(server.url)
        schema_id = client.register("s1", V1)
        assert client.lookup("s1", V1) == schema_id  # a kept-alive connection of the parent
        parent = {port for _, port in ports}

        def child(share: int) -> tuple[int, Mapping[str, Any]]:
            return client.lookup("s1", V1), client.schema(schema_id)

        assert run_forked(child, [0, 1]) == [(schema_id, V1), (schema_id, V1)]
        children = {port for _, port in ports[2:]}
        client.set_compatibility("s1", "BACKWARD")  # not cached: a request
        assert len(ports) == 7
    assert len(parent) == 1 and ports[-1][1] in parent  # the parent's connection, still
    assert len(children) == 2 and not children & parent
