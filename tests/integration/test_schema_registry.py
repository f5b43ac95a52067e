"""The HTTP schema registry client and ``schakel schemas register`` against a registry that
speaks the Confluent REST API subset Schakel uses (a Confluent registry needs a JVM
distribution that cannot be installed here, so a small faithful stand-in runs in-process)."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from schemas.envelope import Event
from schemas.exceptions import RegistryError, UnknownSchemaId
from schemas.registry import HttpRegistry
from schemas.serde import RecordDeserializer, RecordSerializer
from tests.cli import run_cli


class FakeRegistry(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.schemas: dict[str, int] = {}
        self.subjects: dict[str, list[int]] = {}
        self.requests: list[tuple[str, str, str]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(BaseHTTPRequestHandler):
    server: FakeRegistry

    def log_message(self, *args: Any) -> None:
        pass

    def _answer(self, status: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/vnd.schemaregistry.v1+json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        body = json.loads(self.rfile.read(length))
        self.server.requests.append(("POST", self.path, self.headers["Content-Type"]))
        subject = self.path.removeprefix("/subjects/").removesuffix("/versions")
        text = body["schema"]
        json.loads(text)  # a registry rejects what is not JSON
        schema_id = self.server.schemas.setdefault(text, len(self.server.schemas) + 1)
        self.server.subjects.setdefault(subject, []).append(schema_id)
        self._answer(200, {"id": schema_id})

    def do_GET(self) -> None:
        self.server.requests.append(("GET", self.path, ""))
        wanted = int(self.path.rsplit("/", 1)[1])
        for text, schema_id in self.server.schemas.items():
            if schema_id == wanted:
                self._answer(200, {"schema": text})
                return
        self._answer(404, {"error_code": 40403, "message": "Schema not found"})


@pytest.fixture
def registry_server() -> Iterator[FakeRegistry]:
    server = FakeRegistry()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()


def test_serde_through_the_http_registry(registry_server: FakeRegistry) -> None:
    client = HttpRegistry(registry_server.url)
    event = Event(
        id="1",
        source="s",
        type="nl.wmo.meldingen.ontvangen",
        subject="a" * 32,
        data={"datum": date(2026, 1, 1)},
    )
    payload = RecordSerializer(client)(event, "schakel.wmo.events")
    RecordSerializer(client)(event, "schakel.wmo.events")
    assert list(registry_server.subjects) == [
        "schakel.wmo.events-nl.wmo.meldingen.ontvangen"
    ]  # TopicRecordNameStrategy
    # a fresh client (another process) resolves the id over HTTP
    assert RecordDeserializer(HttpRegistry(registry_server.url))(payload) == event
    assert registry_server.requests[0][2] == "application/vnd.schemaregistry.v1+json"
    with pytest.raises(UnknownSchemaId):
        HttpRegistry(registry_server.url).schema(999)


def test_unreachable_registry_is_a_clear_error() -> None:
    with pytest.raises(RegistryError, match="unreachable"):
        HttpRegistry("http://127.0.0.1:9", timeout=1).schema(1)


def test_schemas_register_cli(registry_server: FakeRegistry) -> None:
    env = {**os.environ, "SCHAKEL_SCHEMA_REGISTRY_URL": registry_server.url}
    result = run_cli("schemas", "register", env=env)
    assert result.returncode == 0, result.stderr
    assert "schakel.signalen-nl.schakel.signalen.gesignaleerd" in registry_server.subjects
    assert "schakel.wgs.events-nl.wgs.vroegsignalen.ontvangen" in registry_server.subjects
    assert "schakel.deadletter.adapters-nl.schakel.intern.quarantaine" in registry_server.subjects
    # every schema of the catalogue, each under the topic it travels on
    from schemas.catalogue import catalogue

    assert len(registry_server.subjects) == len(catalogue().names)
