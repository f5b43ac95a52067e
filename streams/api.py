"""HTTP API of the stream workers (``api.md``), on the Faust web server.

Every ``/api/v1`` request needs ``Authorization: Bearer <token>`` (401) and a purpose
``X-Doel`` header or ``doel`` query parameter (400). Each answered request is audited as
``nl.schakel.inzage.geregistreerd`` on ``schakel.inzage``. Errors are JSON ``{"fout": …}``,
never a stack trace, never a BSN."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import faust
from faust.exceptions import SameNode
from faust.web import Request, Response, View
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from schemas.envelope import Event
from schemas.serde import RecordSerializer
from schemas.settings import ApiToken
from streams.codec import timeline_json
from streams.metrics import WorkerMetrics
from streams.readmodel import ReadModel
from streams.state import CitizenState
from streams.toestand import Period

log = logging.getLogger("schakel.api")

_PSEUDONYM = re.compile(r"[0-9a-f]{32}")
STATUSES = ("open", "opgelost", "ingetrokken")
MAX_PER_PAGE = 500


@dataclass
class ApiContext:
    """What the views need; built by :func:`streams.app.create_app`."""

    app: faust.App
    table: Any
    readmodel: ReadModel
    metrics: WorkerMetrics
    tokens: Mapping[str, ApiToken]
    serializer: RecordSerializer
    inzage_topic: Any
    source: str
    periods: Callable[[CitizenState], list[Period]]
    clock: Callable[[CitizenState], date | None]
    """The citizen's clock as the worker runs it (live: including today)."""
    is_ready: Callable[[], bool]


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _authorize(ctx: ApiContext, request: Request) -> tuple[ApiToken, str]:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "Authorization: Bearer <token> ontbreekt")
    client = ctx.tokens.get(token.strip())
    if client is None:
        raise ApiError(401, "onbekend of ongeldig token")
    doel = (request.headers.get("X-Doel") or request.query.get("doel") or "").strip()
    if not doel:
        raise ApiError(
            400,
            "doel ontbreekt: geef het doel van de inzage op in de header "
            "X-Doel of de parameter doel",
        )
    return client, doel[:200]


async def _audit(
    ctx: ApiContext, client: ApiToken, doel: str, wat: str, subject: str | None
) -> None:
    event = Event(
        id=uuid.uuid4().hex,
        source=ctx.source,
        type="nl.schakel.inzage.geregistreerd",
        subject=subject,
        time=datetime.now(UTC).isoformat(timespec="milliseconds"),
        data={
            "wie": client.name,
            "rol": client.role,
            "doel": doel,
            "wat": wat,
            "tijd": datetime.now(UTC).isoformat(timespec="milliseconds"),
        },
    )
    value = ctx.serializer(event, ctx.inzage_topic.get_topic_name())
    await ctx.inzage_topic.send(key=client.name.encode(), value=value)


def _page_args(request: Request) -> tuple[int, int]:
    try:
        page = int(request.query.get("pagina", request.query.get("page", "1")))
        per_page = int(request.query.get("per_pagina", request.query.get("per_page", "50")))
    except ValueError:
        raise ApiError(400, "pagina en per_pagina moeten gehele getallen zijn") from None
    if page < 1 or not 1 <= per_page <= MAX_PER_PAGE:
        raise ApiError(400, f"pagina ≥ 1 en 1 ≤ per_pagina ≤ {MAX_PER_PAGE}")
    return page, per_page


def signal_list(ctx: ApiContext, request: Request) -> dict[str, Any]:
    status = request.query.get("status")
    if status is not None and status not in STATUSES:
        raise ApiError(400, "status moet open, opgelost of ingetrokken zijn")
    wanted = {status} if status else {"open", "opgelost"}
    regel = request.query.get("regel")
    page, per_page = _page_args(request)
    rows = [
        (subject, s)
        for subject, s in ctx.readmodel.signals()
        if s.status in wanted and (regel is None or s.regel == regel)
    ]
    rows.sort(key=lambda r: (r[1].sinds, r[1].regel, r[0], r[1].sleutel), reverse=True)
    start = (page - 1) * per_page
    return {
        "signalen": [s.to_json(subject) for subject, s in rows[start : start + per_page]],
        "pagina": page,
        "per_pagina": per_page,
        "totaal": len(rows),
    }


def register_api(ctx: ApiContext) -> None:
    """Register the views on ``ctx.app``."""
    app = ctx.app

    def respond(view: View, endpoint: str, status: int, body: Any) -> Response:
        ctx.metrics.api_requests.labels(endpoint, str(status)).inc()
        return view.json(body, status=status)

    async def guarded(
        view: View,
        request: Request,
        endpoint: str,
        handler: Callable[[ApiToken, str], Awaitable[Response]],
    ) -> Response:
        try:
            client, doel = _authorize(ctx, request)
            return await handler(client, doel)
        except ApiError as exc:
            return respond(view, endpoint, exc.status, {"fout": str(exc)})
        except Exception:
            log.exception("api.internal_error", extra={"endpoint": endpoint})
            return respond(view, endpoint, 500, {"fout": "interne fout; zie de logs van de worker"})

    @app.page("/api/v1/signalen")
    class Signalen(View):
        async def get(self, request: Request) -> Response:
            async def handle(client: ApiToken, doel: str) -> Response:
                body = signal_list(ctx, request)
                await _audit(ctx, client, doel, "GET /api/v1/signalen", None)
                return respond(self, "signalen", 200, body)

            return await guarded(self, request, "signalen", handle)

    @app.page("/api/v1/burgers/{pseudonym}/tijdlijn")
    class Tijdlijn(View):
        async def get(self, request: Request, pseudonym: str) -> Response:
            async def handle(client: ApiToken, doel: str) -> Response:
                if not _PSEUDONYM.fullmatch(pseudonym):
                    raise ApiError(404, "onbekend pseudoniem")
                try:
                    return await app.router.route_req(ctx.table.name, pseudonym, self.web, request)
                except SameNode:
                    pass
                wat = f"GET /api/v1/burgers/{pseudonym}/tijdlijn"
                state = ctx.table.get(pseudonym)
                await _audit(ctx, client, doel, wat, pseudonym)
                if state is None:
                    raise ApiError(404, "onbekend pseudoniem")
                answer = timeline_json(state, ctx.clock(state), ctx.periods(state))
                return respond(self, "tijdlijn", 200, answer)

            return await guarded(self, request, "tijdlijn", handle)

    @app.page("/metrics")
    class Metrics(View):
        async def get(self, request: Request) -> Response:
            return self.bytes(
                generate_latest(ctx.metrics.registry),
                content_type=CONTENT_TYPE_LATEST.split(";")[0],
            )

    @app.page("/health")
    class Health(View):
        async def get(self, request: Request) -> Response:
            return self.json({"status": "ok"})

    @app.page("/ready")
    class Ready(View):
        async def get(self, request: Request) -> Response:
            ready = ctx.is_ready()
            return self.json({"ready": ready}, status=200 if ready else 503)
