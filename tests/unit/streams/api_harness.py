"""The worker's API views (:mod:`streams.api`) on an aiohttp test server, without a broker:
an in-memory audit trail, a read model of given signals and a table of given states. Who owns
a citizen is set per test (:attr:`Api.owner`), so two such apps can forward to each other.
Served as the worker serves them: through :class:`streams.webserver.GuardedWeb`'s runner (its
connection handler answers what aiohttp refuses before a view runs), with the web page when
asked (``ui``)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, cast

from aiohttp.test_utils import TestClient, TestServer
from aiohttp.web_runner import BaseRunner
from yarl import URL

from schemas.serde import RecordDeserializer
from schemas.settings import ApiToken
from streams.api import ApiContext, register_api
from streams.audit import AuditTrail, AuditUnavailable
from streams.metrics import WorkerMetrics
from streams.readmodel import ReadModel
from streams.signals import EmittedSignal
from streams.webserver import WorkerApp, _Runner
from streams.webui import register_ui

TOKENS = {
    "token-anna": ApiToken("anna", "regisseur", "token-anna"),
    "token-bert": ApiToken("bert", "beheerder", "token-bert"),
    "token-carla": ApiToken("carla", "auditor", "token-carla"),
}
REGISSEUR = {"Authorization": "Bearer token-anna", "X-Doel": "casusoverleg"}


class MemoryAudit:
    """Stands in for :class:`streams.audit.AuditTrail`: keeps the records; ``fail`` makes
    :meth:`record` raise :class:`AuditUnavailable` as the real one does on a timeout.

    It cannot tell whether the real trail waits for the broker's acknowledgement before the
    answer: tests/integration/streams/test_api_audit.py
    (``test_a_record_the_broker_does_not_acknowledge_is_no_answer``) does, with the real trail
    on a broker killed or frozen after its producer started."""

    topic = "schakel.inzage"

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []
        self.fail = False

    async def record(self, client: ApiToken, doel: str, wat: str, subject: str | None) -> str:
        if self.fail:
            raise AuditUnavailable("inzage: het auditrecord kon niet worden vastgelegd")
        self.records.append(
            {"wie": client.name, "rol": client.role, "doel": doel, "wat": wat, "subject": subject}
        )
        return f"audit-{len(self.records)}"

    async def stop(self) -> None:
        pass


class _Signals:
    def __init__(self, signals: Iterable[tuple[str, EmittedSignal]], caught_up: bool) -> None:
        self.rows = list(signals)
        self.caught_up = threading.Event()
        if caught_up:
            self.caught_up.set()

    def signals(self) -> list[tuple[str, EmittedSignal]]:
        return self.rows

    def open_per_rule(self) -> dict[str, int]:
        return {}


class WorkerTestServer(TestServer):
    """An aiohttp test server with the worker's runner (:class:`streams.webserver._Runner`)."""

    async def _make_runner(self, **kwargs: Any) -> BaseRunner:
        return _Runner(self.app, **kwargs)


@dataclass
class Api:
    """One app's API on a test server."""

    app: Any
    audit: MemoryAudit
    client: TestClient[Any, Any]
    owner: Callable[[str], URL] = field(init=False)
    """Who owns a citizen (the router's ``key_store``); default: this app."""

    @property
    def url(self) -> URL:
        """Where the test server listens (the app's announced URL)."""
        return URL(str(self.client.make_url("/")))

    @property
    def canonical(self) -> URL:
        return URL(str(self.app.conf.canonical_url))


@contextlib.asynccontextmanager
async def serve(
    *,
    states: dict[str, Any] | None = None,
    signals: Iterable[tuple[str, EmittedSignal]] = (),
    rule_ids: frozenset[str] = frozenset(),
    trail: AuditTrail | None = None,
    ready: Callable[[], bool] = lambda: True,
    caught_up: bool = True,
    deserializer: RecordDeserializer | None = None,
    ui: bool = False,
    bootstrap: str = "localhost:1",
    deadletter_topic: str = "schakel.deadletter.streams",
    profile: str = "embedded",
) -> AsyncIterator[Api]:
    """The API of an app holding ``states`` (pseudonym → an object with ``events``) and
    ``signals``, served until the block ends. ``trail``: an audit trail to write with instead
    of :class:`MemoryAudit` (:attr:`Api.audit` then stays empty); ``ready``: whether the
    worker is ready (``/ready``); ``caught_up``: whether the read model has caught up;
    ``deserializer``: what the audit trail's records are decoded with (none: not read);
    ``ui``: the web page and its assets too (:mod:`streams.webui`); ``bootstrap``,
    ``deadletter_topic`` and ``profile``: the broker, dead-letter topic and settings profile
    the topic pages read (a real broker's: tests/integration)."""
    app = WorkerApp(
        "api-harness", broker="kafka://localhost:1", web_enabled=True, autodiscover=False
    )
    audit = MemoryAudit()
    table = SimpleNamespace(name="burgers", get=(states or {}).get)
    register_api(
        ApiContext(
            app=app,
            table=table,
            readmodel=cast(ReadModel, _Signals(signals, caught_up)),
            metrics=WorkerMetrics(),
            tokens=TOKENS,
            audit=trail or cast(AuditTrail, audit),
            deserializer=cast(RecordDeserializer, deserializer),
            bootstrap=bootstrap,
            deadletter_topic=deadletter_topic,
            configuration={"profiel": profile},
            periods=lambda state: [],
            clock=lambda state: None,
            is_ready=ready,
            rule_ids=rule_ids,
        )
    )
    if ui:
        register_ui(app)
    client: TestClient[Any, Any] = TestClient(WorkerTestServer(app.web.web_app))
    await client.start_server()
    api = Api(app, audit, client)
    api.owner = lambda key: api.canonical
    app.router.key_store = lambda table_name, key: api.owner(key)
    try:
        yield api
    finally:
        await client.close()
        await app.http_client.close()
