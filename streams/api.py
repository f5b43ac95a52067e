"""HTTP API of the stream workers (``api.md``), on the Faust web server.

Endpoints (roles: :data:`streams.access.ROLE_MATRIX`): ``GET /api/v1/signalen`` and
``GET /api/v1/burgers/{pseudonym}/tijdlijn`` (regisseur), ``GET /api/v1/deadletters`` and
``GET /api/v1/configuratie`` (beheerder), ``GET /api/v1/inzage`` (auditor); lists take
``pagina`` and ``per_pagina`` (the auditor's page, its rows and their masking:
:mod:`streams.inzage_page`). Without a token: ``/metrics``, ``/health``, ``/ready`` and
the OpenAPI document ``/api/v1/openapi.json`` (:mod:`streams.openapi`).

Every ``/api/v1`` request passes, in order:

1. ``Authorization: Bearer <token>`` — 401 if missing or unknown (:mod:`streams.access`,
   constant-time comparison), logged as ``api.unauthenticated`` (endpoint and ``reden``,
   never the token or the path; at most a line a minute, with the number left out:
   :class:`schemas.log_limits.RefusalLog`), answered with ``WWW-Authenticate``;
2. the role matrix — 403 if the client's role may not call the endpoint
   (:data:`streams.access.ROLE_MATRIX`), logged as ``api.forbidden``;
3. the purpose, header ``X-Doel`` or query ``doel`` — 400 if missing or not real words
   (:mod:`streams.purpose`; masked before it is stored);
4. the endpoint's own checks (400 / 404), then the audit record
   ``nl.schakel.inzage.geregistreerd`` on ``schakel.inzage``, acknowledged by the broker
   (:mod:`streams.audit`), and only then the answer, with header ``X-Inzage-Id`` (the audit
   record's id). No audit record, no answer: 503 with ``Retry-After`` (logged by the trail as
   ``audit.unavailable``, at most a line a minute for as long as the outage lasts).

The schema registry refusing the worker (:class:`~schemas.exceptions.RegistryRefused`: its
credentials or certificates), met looking up the audit record's schema or decoding the audit
trail, is a misconfiguration, not an outage: 502 :data:`REGISTRY_REFUSED`, without
``Retry-After``, not audited, logged as ``api.registry_refused`` at most a line a minute
(:class:`~schemas.log_limits.RefusalLog`).

The audit record's ``wat`` is :func:`what`: the method, the endpoint's path and the request's
parameters as validated and normalised (:data:`Query`) — never the purpose (stored on its own,
masked, in ``doel``) and never a value as typed: a ``regel`` that is no rule id is recorded as
``[onbekend]``, a path segment that is no pseudonym as ``[ongeldig]`` (it may be a BSN). A 404
for a pseudonym — unknown, erased, or not a pseudonym at all — is audited too (subject: the
pseudonym, or none) and carries ``X-Inzage-Id``; a 400 is not (nothing was read). Every
answer is sent with ``Cache-Control: no-store`` (:data:`streams.webserver.NOT_STORED`).

A pseudonym the worker's table does not hold while the worker is not ready (``/ready`` 503:
its table being restored after a start or a rebalance, …) is not answered 404 — it may not be
restored yet — but 503 with ``Retry-After``; the signal list answers 503 until the read model
has caught up (before, it would be a part of the list). Nothing was read: not audited, like
every 503.

A citizen's timeline is read at the worker that owns the citizen's partition: asked at another
worker, the request is forwarded to the owner (:mod:`streams.routing`), which runs these steps
itself and writes the read's only audit record; the forwarding worker passes the owner's answer
on (status, body, ``X-Inzage-Id``, ``Retry-After``) and writes none. No owner now (partitions
being rebalanced) or an owner that does not answer: 503 with ``Retry-After``.

Errors are JSON ``{"fout": …}`` naming the field or rule, never the submitted value, never a
stack trace (server-level errors: :mod:`streams.webserver`).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import faust
from faust.web import Request, Response, View
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from schemas.binding import omitted_size
from schemas.exceptions import RegistryRefused
from schemas.log_limits import RefusalLog
from schemas.pseudonym import mask_bsn
from schemas.serde import RecordDeserializer
from schemas.settings import ApiToken, WorkerSettings
from schemas.wire import (
    HEADER_ERROR_CLASS,
    HEADER_ERROR_REASON,
    HEADER_SOURCE_OFFSET,
    HEADER_SOURCE_OMITTED_REST,
    HEADER_SOURCE_PARTITION,
    HEADER_SOURCE_TOPIC,
    HEADER_SOURCE_WITHHELD,
    HEADER_STAGE,
    WITHHELD,
    reason_code,
)
from streams.access import AccessDenied, authenticate, authorize
from streams.audit import AuditRefused, AuditTrail, AuditUnavailable
from streams.codec import timeline_json
from streams.inzage_page import (
    INVALID_PSEUDONYM,
    RecordsUnavailable,
    listing,
    record_time,
    registry_unavailable_log,
)
from streams.metrics import WorkerMetrics
from streams.openapi import MAX_PAGE, MAX_PER_PAGE, OPENAPI_PATH, openapi_document
from streams.purpose import InvalidPurpose, clean_purpose
from streams.readmodel import ReadModel
from streams.routing import (
    FORWARDED_HEADER,
    OwnerUnavailable,
    forward,
    owner_unavailable_log,
    owner_url,
)
from streams.rules import RuleSet
from streams.state import CitizenState
from streams.toestand import Period
from streams.topicpage import TopicUnavailable, read_committed, read_page
from streams.webserver import MAX_ERROR_CHARS

log = logging.getLogger("schakel.api")

_PSEUDONYM = re.compile(r"[0-9a-f]{32}")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_PAGE_NUMBER = re.compile(r"[0-9]{1,9}")
_WITHHELD_TEXT = frozenset(value.decode("ascii") for value in WITHHELD)
"""The values of a dead letter's ``schakel.bron.achtergehouden`` header, as the page reads
headers (text)."""
STATUSES = ("open", "opgelost", "ingetrokken")
RETRY_AFTER_S = 5
"""``Retry-After`` of a 503 (audit trail, topic or the citizen's worker unavailable)."""
REGISTRY_REFUSED = "schemaregister: weigert de worker (configuratie); zie de logs van de worker"
"""``fout`` of a 502: the schema registry refuses the worker (its credentials or certificates,
:class:`~schemas.exceptions.RegistryRefused`) — a misconfiguration that retrying does not
mend, so no ``Retry-After``; the registry's own answer is for the log, not the caller."""
TIJDLIJN = "/api/v1/burgers/{pseudonym}/tijdlijn"
UNKNOWN_RULE = "[onbekend]"
"""``wat``'s value of a ``regel`` parameter that is no rule id (it is not recorded as typed)."""

Query = tuple[tuple[str, str], ...]
"""A request's parameters as validated and normalised: (name, value) pairs in a fixed order;
a parameter not given is left out, except ``pagina`` and ``per_pagina``, always there with
their effective values. Values are dates ``YYYY-MM-DD``, numbers, enum values or rule ids:
nothing typed by the user unchecked."""


@dataclass
class ApiContext:
    """What the views need; built by :func:`streams.app.create_app`."""

    app: faust.App
    table: Any
    readmodel: ReadModel
    metrics: WorkerMetrics
    tokens: Mapping[str, ApiToken]
    audit: AuditTrail
    """Writes the audit records (acks=all) of answered requests."""
    deserializer: RecordDeserializer
    bootstrap: str
    deadletter_topic: str
    configuration: Mapping[str, Any]
    """What ``GET /api/v1/configuratie`` answers (:func:`worker_configuration`)."""
    periods: Callable[[CitizenState], list[Period]]
    clock: Callable[[CitizenState], date | None]
    """The citizen's clock as the worker runs it (live: including today)."""
    is_ready: Callable[[], bool]
    rule_ids: frozenset[str] = frozenset()
    """The rule ids of the worker's rule set (active and disabled): a ``regel`` parameter
    among them, or among the read model's signals, is recorded in ``wat`` as given."""
    owner_unavailable: RefusalLog = field(default_factory=owner_unavailable_log)
    """``api.owner_unavailable``, limited: every timeline request for the citizens of a worker
    that is gone meets it while that lasts (:func:`streams.routing.owner_unavailable_log`)."""
    registry_unavailable: RefusalLog = field(default_factory=registry_unavailable_log)
    """``api.registry_unavailable``, limited: every read of the audit trail meets a registry
    outage while it lasts (:func:`streams.inzage_page.registry_unavailable_log`)."""

    @property
    def profile(self) -> str:
        """The settings profile the worker runs (``profiel`` of :attr:`configuration`,
        :func:`worker_configuration`)."""
        return str(self.configuration["profiel"])


@dataclass(frozen=True)
class Read:
    """What a list or configuration endpoint answers (``body``) and the parameters it was
    computed from (``query``, recorded in the audit record's ``wat``)."""

    body: dict[str, Any]
    query: Query = ()


def what(request: Request, path: str, query: Query = ()) -> str:
    """The audit record's ``wat`` of ``request``: its method (``GET``, ``HEAD``), ``path`` —
    the endpoint's, with a validated pseudonym or :data:`INVALID_PSEUDONYM` — and ``query``
    (:data:`Query`), e.g. ``GET /api/v1/signalen?status=ingetrokken&pagina=2&per_pagina=50``.
    Never the purpose (``doel`` is stored on its own, masked) and never a value as typed."""
    params = "&".join(f"{name}={value}" for name, value in query)
    return f"{request.method} {path}" + (f"?{params}" if params else "")


class ApiError(Exception):
    """An answer other than 200 decided by an endpoint's own checks; ``audit_id``: the id of
    its audit record (an audited 404), answered in ``X-Inzage-Id`` as a 200's is."""

    def __init__(self, status: int, message: str, *, audit_id: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.audit_id = audit_id


class NotReady(Exception):
    """What was asked cannot be told yet: the worker's table is being restored (after a
    start, or a partition just assigned) or the read model has not caught up. 503 with
    ``Retry-After``, like ``/ready``; nothing was read, so no audit record (like the other
    503s)."""


def worker_configuration(
    settings: WorkerSettings, rules: RuleSet, clock_mode: str
) -> dict[str, Any]:
    """The worker's effective configuration without secrets (no key, no tokens, no DSN):
    what a ``beheerder`` reads at ``GET /api/v1/configuratie``."""
    return {
        "profiel": settings.profile,
        "klok": clock_mode,
        "partities": settings.partitions,
        "replicatie": settings.replication_factor,
        "opslag": settings.store,
        "historie_limiet": settings.history_limit,
        "timer_interval_s": settings.timer_interval_s,
        "tijdzone": settings.timezone,
        "schema_registry": "extern" if settings.schema_registry_url else "lokaal",
        "kafka_beveiliging": settings.kafka_security_protocol,
        "regels": {
            "actief": [rule.id for rule in rules.rules],
            "uitgeschakeld": list(rules.disabled),
        },
        "api_clients": [
            {"naam": client.name, "rol": client.role} for client in settings.tokens().values()
        ],
    }


def _header_text(value: str) -> str:
    """A header value as text. aiohttp decodes header bytes as UTF-8 (invalid bytes become
    surrogates); a browser sends Latin-1, so such a value is decoded again as Latin-1."""
    if any("\ud800" <= c <= "\udfff" for c in value):
        return value.encode("utf-8", "surrogateescape").decode("latin-1")
    return value


def _forwarded(request: Request) -> dict[str, str]:
    """The headers the owner's checks read: the token and the purpose header (as the text
    it was read as here, a browser's Latin-1 included; a query ``doel`` travels in the URL)."""
    headers = {"Authorization": request.headers.get("Authorization", "")}
    doel = request.headers.get("X-Doel")
    if doel is not None:
        headers["X-Doel"] = _header_text(doel)
    return headers


def _purpose(request: Request) -> str:
    header = request.headers.get("X-Doel")
    raw = _header_text(header) if header is not None else request.query.get("doel", "")
    return clean_purpose(raw)


def _paging(page: int, per_page: int) -> Query:
    return (("pagina", str(page)), ("per_pagina", str(per_page)))


def _page_args(request: Request) -> tuple[int, int]:
    """``pagina`` and ``per_pagina``: whole numbers in ASCII digits (``int()`` would also take
    ``٣``, ``1_0`` and `` 2 ``), ``pagina`` at most :data:`MAX_PAGE`."""
    raw = (
        request.query.get("pagina", request.query.get("page", "1")),
        request.query.get("per_pagina", request.query.get("per_page", "50")),
    )
    if not all(_PAGE_NUMBER.fullmatch(value) for value in raw):
        raise ApiError(400, "pagina en per_pagina: moeten gehele getallen zijn")
    page, per_page = int(raw[0]), int(raw[1])
    if not 1 <= page <= MAX_PAGE or not 1 <= per_page <= MAX_PER_PAGE:
        raise ApiError(
            400,
            f"pagina en per_pagina: 1 ≤ pagina ≤ {MAX_PAGE} en 1 ≤ per_pagina ≤ {MAX_PER_PAGE}",
        )
    return page, per_page


def _date_arg(request: Request, name: str) -> date | None:
    """Query parameter ``name`` as a date (``YYYY-MM-DD``), or None if absent."""
    raw = request.query.get(name)
    if raw is None:
        return None
    if not _ISO_DATE.fullmatch(raw):
        raise ApiError(400, f"{name}: moet een datum JJJJ-MM-DD zijn")
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ApiError(400, f"{name}: geen bestaande datum") from None


def signal_list(ctx: ApiContext, request: Request) -> Read:
    """``GET /api/v1/signalen``: ``status`` (default open and opgelost), ``regel``, ``van`` and
    ``tot`` (inclusive bounds on ``sinds``), newest ``sinds`` first, one page. The query: the
    parameters given, normalised (``regel`` only if it is a rule id of ``ctx.rule_ids`` or of
    a signal, else :data:`UNKNOWN_RULE`), then ``pagina`` and ``per_pagina``."""
    status = request.query.get("status")
    if status is not None and status not in STATUSES:
        raise ApiError(400, "status: moet open, opgelost of ingetrokken zijn")
    wanted = {status} if status else {"open", "opgelost"}
    regel = request.query.get("regel")
    van, tot = _date_arg(request, "van"), _date_arg(request, "tot")
    if van is not None and tot is not None and van > tot:
        raise ApiError(400, "van en tot: van mag niet na tot liggen")
    page, per_page = _page_args(request)
    every = list(ctx.readmodel.signals())
    if not ctx.readmodel.caught_up.is_set():  # a part of the list, as if it were all of it
        raise NotReady("signalen: het leesmodel is nog niet bijgewerkt")
    rows = [
        (subject, s)
        for subject, s in every
        if s.status in wanted
        and (regel is None or s.regel == regel)
        and (van is None or s.sinds >= van)
        and (tot is None or s.sinds <= tot)
    ]
    rows.sort(key=lambda r: (r[1].sinds, r[1].regel, r[0], r[1].sleutel), reverse=True)
    start = (page - 1) * per_page
    query: list[tuple[str, str]] = []
    if status is not None:
        query.append(("status", status))
    if regel is not None:
        known = regel in ctx.rule_ids or any(s.regel == regel for _, s in every)
        query.append(("regel", regel if known else UNKNOWN_RULE))
    query += [(name, d.isoformat()) for name, d in (("van", van), ("tot", tot)) if d is not None]
    body = {
        "signalen": [s.to_json(subject) for subject, s in rows[start : start + per_page]],
        "pagina": page,
        "per_pagina": per_page,
        "totaal": len(rows),
    }
    return Read(body, (*query, *_paging(page, per_page)))


async def audit_page(ctx: ApiContext, request: Request) -> Read:
    """A page of the audit trail, newest first (:mod:`streams.inzage_page`)."""
    page, per_page = _page_args(request)
    body = await listing(
        ctx.bootstrap,
        ctx.audit.topic,
        ctx.deserializer,
        page,
        per_page,
        unavailable=ctx.registry_unavailable,
    )
    return Read(body, _paging(page, per_page))


async def deadletter_page(ctx: ApiContext, request: Request) -> Read:
    """A page of the streams dead letters, newest first: where each record came from, the
    stage and the error class — not the record and not the error message (they may hold
    citizens' data; operators with topic access read them there). A dead letter written
    without the original's value (:func:`schemas.binding.deadletter_record`) says so with
    sizes only: ``weggelaten``, the value's bytes (header ``schakel.bron.weggelaten``), and
    ``weggelaten_overig``, the bytes of the key and headers left out too
    (``schakel.bron.weggelaten.overig``); ``null`` for what the dead letter has;
    ``achtergehouden``: true when nothing of the original was copied because it holds a
    possible BSN (``schakel.bron.achtergehouden``), not for its size. ``reden``: the
    refusal's code (header ``schakel.fout.reden``, the label of the worker's metric:
    ``wrong-type``, …, or the error class), ``null`` for a dead letter written before the
    header existed; a header that holds no code is ``?`` (:func:`_reason`). A header
    with a null value (Kafka allows one) is taken as absent: ``null`` in the row. Any producer
    may write to the topic: a possible BSN in a header shown is masked
    (:func:`schemas.pseudonym.mask_bsn`), as ``schakel dlq`` does."""
    page, per_page = _page_args(request)
    found = await asyncio.to_thread(
        read_page,
        ctx.bootstrap,
        ctx.deadletter_topic,
        page,
        per_page,
        committed=read_committed(ctx.profile),
    )
    rows = []
    for record in found.records:
        # a header may have a null value (Kafka allows it; a dead letter keeps the original's
        # headers as they were): such a header counts as absent
        headers = {
            k: mask_bsn(v.decode("utf-8", "replace"))
            for k, v in record.headers or ()
            if v is not None
        }
        rows.append(
            {
                "tijd": record_time(record),
                "offset": record.offset,
                "bron": {
                    "topic": headers.get(HEADER_SOURCE_TOPIC),
                    "partitie": headers.get(HEADER_SOURCE_PARTITION),
                    "offset": headers.get(HEADER_SOURCE_OFFSET),
                },
                "fase": headers.get(HEADER_STAGE),
                "klasse": headers.get(HEADER_ERROR_CLASS),
                "reden": _reason(record.headers or ()),
                "weggelaten": omitted_size(record.headers or ()),
                "weggelaten_overig": omitted_size(record.headers or (), HEADER_SOURCE_OMITTED_REST),
                "achtergehouden": headers.get(HEADER_SOURCE_WITHHELD) in _WITHHELD_TEXT,
            }
        )
    body = {"deadletters": rows, "pagina": page, "per_pagina": per_page, "totaal": found.total}
    return Read(body, _paging(page, per_page))


def _reason(headers: Iterable[tuple[str, bytes | None]]) -> str | None:
    """A dead letter's ``reden``: its header ``schakel.fout.reden`` as the code the worker
    writes there (:func:`schemas.wire.reason_code`) — any producer may write to the topic, so
    a value that is no such code (a possible BSN, free text, bytes that are no UTF-8) is
    :data:`~schemas.wire.UNKNOWN_REASON`, never the text as written; ``None`` without the
    header, or with a null value (as every header of the page)."""
    raw = dict(headers).get(HEADER_ERROR_REASON)
    return None if raw is None else reason_code(raw.decode("utf-8", "replace"))


_REFUSALS = (
    AccessDenied,
    ApiError,
    InvalidPurpose,
    RegistryRefused,
    AuditRefused,
    AuditUnavailable,
    TopicUnavailable,
    RecordsUnavailable,
    OwnerUnavailable,
    NotReady,
)
"""What a request is refused with, answered with :func:`refusal_status` (anything else a view
raises is a defect: 500, :mod:`streams.webserver`)."""


def registry_refusal(exc: BaseException) -> RegistryRefused | None:
    """The schema registry's refusal of the worker behind ``exc``: ``exc`` itself (met
    decoding the audit trail, :mod:`streams.inzage_page`) or the
    :attr:`~streams.audit.AuditRefused.refusal` of an :class:`~streams.audit.AuditRefused`
    (the audit record's schema lookup); None for anything else."""
    if isinstance(exc, RegistryRefused):
        return exc
    if isinstance(exc, AuditRefused):
        return exc.refusal
    return None


def refusal_status(exc: Exception) -> int:
    """The status of a request refused with ``exc`` (one of :data:`_REFUSALS`): its own
    (401, 403, 400, 404), 400 for a purpose, 502 for the registry refusing the worker
    (:func:`registry_refusal`), else 503 (an outage, or not ready: retry)."""
    if isinstance(exc, AccessDenied | ApiError):
        return exc.status
    if isinstance(exc, InvalidPurpose):
        return 400
    return 502 if registry_refusal(exc) is not None else 503


Handler = Callable[[ApiToken, str], Awaitable[Response]]
Body = Callable[[Request], Awaitable[Read]]
Audit = tuple[ApiToken, str, str, str | None]
"""Who, purpose, what, about whom: the arguments of :meth:`AuditTrail.record`."""


def register_api(ctx: ApiContext) -> None:
    """Register the views on ``ctx.app``."""
    app = ctx.app
    tokens = list(ctx.tokens.values())
    # anyone who reaches the port can be refused a token at the rate they send: not a line
    # each (every one is counted in schakel_api_requests_total)
    unauthenticated = RefusalLog(log, "api.unauthenticated")
    # a refusing registry refuses every request until an operator mends the configuration:
    # a line a minute says so, not one a request
    registry_refusals = RefusalLog(log, "api.registry_refused")

    def refuse(
        view: View, endpoint: str, status: int, message: str, audit_id: str | None = None
    ) -> Response:
        ctx.metrics.api_requests.labels(endpoint, str(status)).inc()
        headers = {"Retry-After": str(RETRY_AFTER_S)} if status == 503 else {}
        if audit_id is not None:
            headers["X-Inzage-Id"] = audit_id
        return view.json({"fout": message[:MAX_ERROR_CHARS]}, status=status, headers=headers)

    def refused(view: View, endpoint: str, exc: Exception) -> Response:
        """The answer to a request refused with ``exc`` (one of :data:`_REFUSALS`). The
        registry refusing the worker: 502 :data:`REGISTRY_REFUSED`, logged as
        ``api.registry_refused`` (its class, the registry's status and the message, which
        names the registry and the setting to check, never a credential or a schema)."""
        registry = registry_refusal(exc)
        if registry is not None:
            registry_refusals(
                endpoint=endpoint,
                reden=type(registry).__name__,
                status=registry.status,
                detail=str(registry),
            )
            return refuse(view, endpoint, refusal_status(exc), REGISTRY_REFUSED)
        audit_id = exc.audit_id if isinstance(exc, ApiError) else None
        return refuse(view, endpoint, refusal_status(exc), str(exc), audit_id)

    async def answer(view: View, endpoint: str, audit: Audit, body: Any) -> Response:
        """Write the audit record (acks=all), then answer 200 with its id."""
        audit_id = await ctx.audit.record(*audit)
        ctx.metrics.api_requests.labels(endpoint, "200").inc()
        return view.json(body, headers={"X-Inzage-Id": audit_id})

    async def guarded(view: View, request: Request, endpoint: str, handler: Handler) -> Response:
        try:
            try:
                client = authenticate(tokens, request.headers.get("Authorization", ""))
            except AccessDenied as exc:
                # never the token, nor the path (it may hold a BSN)
                unauthenticated(endpoint=endpoint, reden=exc.reason)
                raise
            try:
                authorize(client, endpoint)
            except AccessDenied:
                log.warning("api.forbidden", extra={"wie": client.name, "endpoint": endpoint})
                raise
            return await handler(client, _purpose(request))
        except _REFUSALS as exc:
            return refused(view, endpoint, exc)

    def json_endpoint(path: str, endpoint: str, body: Body) -> None:
        """``GET path``: the checks of :func:`guarded`, ``body(request)``, the audit record
        (no subject; ``wat`` names the read's parameters), then the answer."""

        @app.page(path, name=endpoint)
        class Endpoint(View):
            async def get(self, request: Request) -> Response:
                async def handle(client: ApiToken, doel: str) -> Response:
                    read = await body(request)
                    audit = (client, doel, what(request, path, read.query), None)
                    return await answer(self, endpoint, audit, read.body)

                return await guarded(self, request, endpoint, handle)

    async def signals(request: Request) -> Read:
        return signal_list(ctx, request)

    async def configuration(request: Request) -> Read:
        return Read(dict(ctx.configuration))

    json_endpoint("/api/v1/signalen", "signalen", signals)
    json_endpoint("/api/v1/inzage", "inzage", lambda request: audit_page(ctx, request))
    json_endpoint(
        "/api/v1/deadletters", "deadletters", lambda request: deadletter_page(ctx, request)
    )
    json_endpoint("/api/v1/configuratie", "configuratie", configuration)

    @app.page(TIJDLIJN)
    class Tijdlijn(View):
        async def get(self, request: Request, pseudonym: str) -> Response:
            async def handle(client: ApiToken, doel: str) -> Response:
                if not _PSEUDONYM.fullmatch(pseudonym):
                    # a BSN typed into the path, an upper-case pseudonym: no citizen to look
                    # up, but an answered request: audited without a subject and without
                    # the segment, then 404 like an unknown pseudonym
                    invalid = TIJDLIJN.format(pseudonym=INVALID_PSEUDONYM)
                    audit_id = await ctx.audit.record(client, doel, what(request, invalid), None)
                    raise ApiError(404, "pseudoniem: onbekend", audit_id=audit_id)
                owner = owner_url(app, ctx.table.name, pseudonym)
                if owner is not None:
                    if FORWARDED_HEADER in request.headers:  # forwarded once already
                        raise OwnerUnavailable()
                    # the owner checks, audits and answers; its answer is passed on (it
                    # counts the request in its metrics, this worker does not)
                    return await forward(
                        app.http_client,
                        owner,
                        request,
                        _forwarded(request),
                        unavailable=ctx.owner_unavailable,
                    )
                path = TIJDLIJN.format(pseudonym=pseudonym)
                audit = (client, doel, what(request, path), pseudonym)
                state = ctx.table.get(pseudonym)
                if state is None and not ctx.is_ready():
                    # the table may not have restored this citizen yet (a start, a partition
                    # just assigned): unknown cannot be told from not yet restored
                    raise NotReady("pseudoniem: de werker is nog niet gereed")
                if state is None or not state.events:  # unknown or erased: audited, then 404
                    audit_id = await ctx.audit.record(*audit)
                    raise ApiError(404, "pseudoniem: onbekend", audit_id=audit_id)
                body = timeline_json(state, ctx.clock(state), ctx.periods(state))
                return await answer(self, "tijdlijn", audit, body)

            return await guarded(self, request, "tijdlijn", handle)

    @app.on_before_shutdown.connect
    async def stop_audit(sender: Any, **kwargs: Any) -> None:
        await ctx.audit.stop()

    document = openapi_document()

    @app.page(OPENAPI_PATH)
    class OpenApi(View):
        """The OpenAPI document (:mod:`streams.openapi`): no token, no purpose, not audited —
        it describes no data."""

        async def get(self, request: Request) -> Response:
            return self.json(document)

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
