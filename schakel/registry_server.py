"""A Confluent-compatible schema registry API over a :class:`~schakel.registry_store.RegistryStore`
(aiohttp, in a thread of its own, on 127.0.0.1 and a free port unless told otherwise).

**Read-only (embedded mode).** ``schakel broker``, ``demo`` and ``replay`` serve
:meth:`RegistryStore.embedded <schakel.registry_store.RegistryStore.embedded>` so that a
standard consumer (confluent-kafka's ``AvroDeserializer``, ``kcat -s avro -r URL``) resolves
the ids in Schakel's records without Schakel's ``.avsc`` files. Writes are refused as a
registry in ``READONLY`` mode refuses them (422, error code 42205).

**Writable** (``writable=True``): the same API also registers schemas and sets compatibility
levels; with ``auth`` it requires HTTP basic auth or a bearer token, with ``ssl_context`` TLS
(and client certificates, if the context demands them). The tests run the registry client
against it this way.

The API subset (paths and answers as Confluent Schema Registry's REST API v1; errors as
``{"error_code": …, "message": …}``):

| method | path | answer |
|---|---|---|
| GET | ``/subjects`` | subject names |
| GET | ``/subjects/{s}/versions`` | version numbers |
| GET | ``/subjects/{s}/versions/{v}`` (number, ``latest``, ``-1``) | subject, version, id, schema |
| GET | ``/subjects/{s}/versions/{v}/schema`` | the schema itself |
| POST | ``/subjects/{s}`` | lookup: subject, version, id, schema of an identical schema |
| POST | ``/subjects/{s}/versions`` | register (writable): ``{"id": …}`` |
| GET | ``/schemas/ids/{id}`` | ``{"schema": …}`` |
| GET | ``/schemas/ids/{id}/schema`` | the schema itself |
| GET | ``/schemas/ids/{id}/versions`` | ``[{"subject", "version"}]`` |
| GET | ``/schemas/ids/{id}/subjects`` | subject names |
| GET | ``/schemas/types`` | ``["AVRO"]`` |
| GET / PUT | ``/config``, ``/config/{s}`` | ``compatibilityLevel`` / set it (writable) |
| GET | ``/mode`` | ``READONLY`` or ``READWRITE`` |

Not implemented: deletes, contexts, schema references, modes per subject, other schema types.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import collections
import contextlib
import hmac
import json
import ssl
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from schakel.registry_store import Refusal, RegistryStore
from schemas.settings import CommonSettings
from schemas.wire import Wire

CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"


@dataclass(frozen=True)
class RegistryAuth:
    """Accepted credentials: HTTP basic ``user``/``password`` and/or a bearer ``token``."""

    user: str | None = None
    password: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)

    def allows(self, header: str | None) -> bool:
        """Whether an ``Authorization`` header carries accepted credentials."""
        if header is None:
            return False
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and self.token is not None:
            return hmac.compare_digest(value.strip().encode(), self.token.encode())
        if scheme.lower() == "basic" and self.user is not None and self.password is not None:
            try:
                user, _, password = base64.b64decode(value.strip()).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return False
            return hmac.compare_digest(user.encode(), self.user.encode()) and hmac.compare_digest(
                password.encode(), self.password.encode()
            )
        return False


def _answer(body: object, status: int = 200) -> web.Response:
    return web.Response(status=status, text=json.dumps(body), content_type=CONTENT_TYPE)


def _error(status: int, error_code: int, message: str) -> web.Response:
    return _answer({"error_code": error_code, "message": message}, status)


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.text())
    except ValueError:
        raise Refusal(400, 400, "Unexpected character: the body is not JSON") from None
    if not isinstance(body, dict):
        raise Refusal(422, 42201, "Invalid schema: the body is not an object")
    if body.get("schemaType", "AVRO") != "AVRO":
        raise Refusal(422, 42201, "Invalid schema: only AVRO schemas")
    if body.get("references"):
        raise Refusal(422, 42201, "Invalid schema: schema references are not supported")
    return body


def _schema_id(request: web.Request) -> int:
    raw = request.match_info["id"]
    if not (raw.isascii() and raw.isdigit()):
        raise Refusal(404, 40403, "Schema not found")
    return int(raw)


class RegistryApi:
    """The request handlers (one instance per served store)."""

    def __init__(self, store: RegistryStore, *, writable: bool) -> None:
        self.store = store
        self.writable = writable

    def _writes(self, subject: str | None) -> None:
        if not self.writable:
            where = f"Subject '{subject}'" if subject else "The registry"
            raise Refusal(422, 42205, f"{where} is in read-only mode")

    async def root(self, request: web.Request) -> web.Response:
        return _answer({})

    async def subjects(self, request: web.Request) -> web.Response:
        return _answer(self.store.subjects())

    async def versions(self, request: web.Request) -> web.Response:
        return _answer(self.store.versions(request.match_info["subject"]))

    async def version(self, request: web.Request) -> web.Response:
        found = self.store.version(request.match_info["subject"], request.match_info["version"])
        return _answer(found.to_json())

    async def version_schema(self, request: web.Request) -> web.Response:
        found = self.store.version(request.match_info["subject"], request.match_info["version"])
        return web.Response(text=found.text, content_type=CONTENT_TYPE)

    async def lookup(self, request: web.Request) -> web.Response:
        body = await _body(request)
        return _answer(
            self.store.lookup(request.match_info["subject"], body.get("schema")).to_json()
        )

    async def register(self, request: web.Request) -> web.Response:
        subject = request.match_info["subject"]
        self._writes(subject)
        body = await _body(request)
        return _answer({"id": self.store.register(subject, body.get("schema")).schema_id})

    async def schema(self, request: web.Request) -> web.Response:
        return _answer({"schema": self.store.schema(_schema_id(request))})

    async def schema_text(self, request: web.Request) -> web.Response:
        return web.Response(text=self.store.schema(_schema_id(request)), content_type=CONTENT_TYPE)

    async def schema_versions(self, request: web.Request) -> web.Response:
        usages = self.store.usages(_schema_id(request))
        return _answer([{"subject": r.subject, "version": r.version} for r in usages])

    async def schema_subjects(self, request: web.Request) -> web.Response:
        return _answer(sorted({r.subject for r in self.store.usages(_schema_id(request))}))

    async def types(self, request: web.Request) -> web.Response:
        return _answer(["AVRO"])

    async def config(self, request: web.Request) -> web.Response:
        subject = request.match_info.get("subject")
        fallback = subject is None or request.query.get("defaultToGlobal") == "true"
        return _answer({"compatibilityLevel": self.store.compatibility(subject, fallback=fallback)})

    async def set_config(self, request: web.Request) -> web.Response:
        subject = request.match_info.get("subject")
        self._writes(subject)
        try:
            body = json.loads(await request.text())
        except ValueError:
            raise Refusal(400, 400, "Unexpected character: the body is not JSON") from None
        level = body.get("compatibility") if isinstance(body, dict) else None
        return _answer({"compatibility": self.store.set_compatibility(subject, level)})

    async def mode(self, request: web.Request) -> web.Response:
        return _answer({"mode": "READWRITE" if self.writable else "READONLY"})

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/", self.root),
            web.get("/subjects", self.subjects),
            web.get("/subjects/{subject}/versions", self.versions),
            web.get("/subjects/{subject}/versions/{version}", self.version),
            web.get("/subjects/{subject}/versions/{version}/schema", self.version_schema),
            web.post("/subjects/{subject}", self.lookup),
            web.post("/subjects/{subject}/versions", self.register),
            web.get("/schemas/ids/{id}", self.schema),
            web.get("/schemas/ids/{id}/schema", self.schema_text),
            web.get("/schemas/ids/{id}/versions", self.schema_versions),
            web.get("/schemas/ids/{id}/subjects", self.schema_subjects),
            web.get("/schemas/types", self.types),
            web.get("/config", self.config),
            web.put("/config", self.set_config),
            web.get("/config/{subject}", self.config),
            web.put("/config/{subject}", self.set_config),
            web.get("/mode", self.mode),
        ]


def create_app(
    store: RegistryStore,
    *,
    writable: bool = False,
    auth: RegistryAuth | None = None,
    seen: collections.deque[tuple[str, str]] | None = None,
    middlewares: Iterable[Middleware] = (),
) -> web.Application:
    """The aiohttp application. ``seen`` receives (method, path with query) of every request,
    before authentication; ``middlewares`` run after authentication, before the handlers."""

    @web.middleware
    async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
        if seen is not None:
            seen.append((request.method, request.path_qs))
        try:
            return await handler(request)
        except Refusal as refusal:
            return _error(refusal.status, refusal.error_code, refusal.message)
        except web.HTTPException as exc:  # unknown path, method not allowed
            return _error(exc.status, exc.status, exc.reason)

    @web.middleware
    async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
        if auth is not None and not auth.allows(request.headers.get("Authorization")):
            response = _error(401, 401, "Unauthorized")
            response.headers["WWW-Authenticate"] = 'Basic realm="schema-registry"'
            return response
        return await handler(request)

    app = web.Application(middlewares=[errors, authenticate, *middlewares])
    app.add_routes(RegistryApi(store, writable=writable).routes())
    return app


class RegistryServer:
    """Serves :func:`create_app` from a background thread; :meth:`start` returns when it
    listens, :meth:`stop` (or leaving the ``with`` block) when it has closed."""

    def __init__(
        self,
        store: RegistryStore,
        *,
        writable: bool = False,
        auth: RegistryAuth | None = None,
        ssl_context: ssl.SSLContext | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        middlewares: Iterable[Middleware] = (),
    ) -> None:
        self.store = store
        self.host = host
        self.port = port
        self.seen: collections.deque[tuple[str, str]] = collections.deque(maxlen=10_000)
        """(method, path) of the latest requests, for diagnostics and tests."""
        self._app = create_app(
            store, writable=writable, auth=auth, seen=self.seen, middlewares=middlewares
        )
        self._ssl = ssl_context
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"{'https' if self._ssl else 'http'}://{self.host}:{self.port}"

    def start(self, timeout: float = 10.0) -> RegistryServer:
        ready = threading.Event()
        failure: list[OSError] = []

        def serve() -> None:
            loop = asyncio.new_event_loop()
            runner = web.AppRunner(self._app, access_log=None)
            try:
                loop.run_until_complete(runner.setup())
                site = web.TCPSite(runner, self.host, self.port, ssl_context=self._ssl)
                loop.run_until_complete(site.start())
            except OSError as exc:
                failure.append(exc)
                loop.run_until_complete(runner.cleanup())
                loop.close()
                ready.set()
                return
            self.port = int(runner.addresses[0][1])
            self._loop = loop
            ready.set()
            loop.run_forever()
            loop.run_until_complete(runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=serve, name="schakel-registry", daemon=True)
        self._thread.start()
        if not ready.wait(timeout):
            raise RuntimeError(f"the schema registry did not start within {timeout}s")
        if failure:
            raise OSError(
                f"the schema registry cannot listen on {self.host}:{self.port}: "
                f"{failure[0].strerror}"
            ) from failure[0]
        return self

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
        self._loop = None
        self._thread = None

    def __enter__(self) -> RegistryServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def start_embedded(settings: CommonSettings, wire: Wire | None = None) -> RegistryServer | None:
    """The read-only registry of embedded mode for ``wire`` (default: the settings'
    namespace), started on 127.0.0.1 and a free port; ``None`` when a real registry is
    configured (``SCHAKEL_SCHEMA_REGISTRY_URL``): then that one holds the schemas in use."""
    if settings.schema_registry_url:
        return None
    return RegistryServer(RegistryStore.embedded(wire or settings.wire())).start()


@contextlib.contextmanager
def embedded_registry(
    settings: CommonSettings, wire: Wire | None = None
) -> Iterator[RegistryServer | None]:
    """:func:`start_embedded` for the duration of a ``with`` block."""
    server = start_embedded(settings, wire)
    try:
        yield server
    finally:
        if server is not None:
            server.stop()


def announce(server: RegistryServer | None) -> str:
    """The line a command prints about the embedded registry (empty without one)."""
    if server is None:
        return ""
    return f"schema registry (read-only, Confluent API) on {server.url}"
