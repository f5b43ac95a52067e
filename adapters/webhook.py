"""The wijkteam webhook: CloudEvents over HTTP (``schakel adapter wijkteam --serve``).

``POST /events`` (or ``/``) in either content mode of the CloudEvents HTTP binding:

- **binary**: ``ce-specversion``, ``ce-id``, ``ce-source``, ``ce-type`` (and optionally
  ``ce-time``, ``ce-subject``, ``ce-dataschema``) headers, percent-decoded; the body is
  ``data`` as JSON (``Content-Type: application/json``);
- **structured**: ``Content-Type: application/cloudevents+json``, the body is the event.

The NL GOV profile v1.1 extensions ``sequence`` and ``dataref`` (``ce-sequence``,
``ce-dataref`` in binary mode) are kept: they reach Kafka as ``ce_sequence`` / ``ce_dataref``
headers (:mod:`schemas.binding`). The record-version extensions ``bronsleutel`` and
``domein`` (docs/adapters.md, "Corrections and deletions") are read in both modes.

Answers, always with a JSON body that never echoes a submitted value or a BSN:

========  ==================================================================================
202       published and acknowledged by the broker (acks=all), or a retry of an event this
          process already published (same ``source`` + ``id``: not published again)
400       not a valid event: ``{"reason", "field", "message"}`` say what to fix
401       missing or unknown bearer token (``Authorization: Bearer …``)
403       the event's ``source`` is not the source the token may send
411/413   no ``Content-Length`` / body larger than ``SCHAKEL_MAX_REQUEST_BYTES``
415       another content type (batch mode, non-JSON data)
429       too many requests without a valid token from this client address
          (``Retry-After``; :mod:`adapters.throttle`)
502       the schema registry refuses the webhook (``misconfigured``: its credentials,
          certificates or a schema not registered): nothing was confirmed, retry once an
          operator has mended the configuration
503       an outage (broker or schema registry unreachable): nothing was confirmed, retry
          after ``Retry-After`` seconds; ``/ready`` answers 503 until the outage is over
========  ==================================================================================

Readiness: ``GET /ready`` answers 503 from an outage met by a request until a request gets
through or the webhook's own check (:meth:`WebhookApp.probe`, every
:data:`PROBE_INTERVAL_S` seconds while unavailable, off the threads that serve senders) finds
the broker and the schema registry answering again; it never waits for a sender, who gets
no request through to an unready pod in Kubernetes. An outage is logged twice: when it begins
(``adapter.webhook_unavailable``, ERROR) and when it ends (``adapter.webhook_available``,
INFO, ``by`` ``request`` or ``probe``).

Requests without a valid token (401/429) are only counted
(``schakel_adapter_webhook_unauthenticated_total``): their body is not read and nothing is
written, so a flood of bad tokens costs no disk or broker writes, nor a log line each. A 401
is not logged; the first 429 of a client's run of them is logged as
``adapter.webhook_rate_limited``, at most a line a minute however many addresses send them
(:class:`~schemas.log_limits.RefusalLog`, with ``weggelaten``: the runs begun meanwhile without
a line). A registry that refuses the webhook refuses every request until it is mended:
``adapter.webhook_registry_refused`` is limited the same way. Every other refusal except
503 comes from an authenticated sender and is quarantined (location ``webhook`` and the
sender's source, reason, SHA-256 of the body) and counted before it is answered; if that
meets an outage, the answer is 503 instead (the sender retries and gets the refusal once it
is quarantined). An event Kafka refuses for its size is a 400 ``too-large``.
``GET /metrics`` serves the Prometheus metrics, ``GET /health`` answers 200. Tokens come
from ``SCHAKEL_WEBHOOK_TOKENS`` (``source=token``) and are compared in constant time.

:class:`WebhookApp` decides every answer without an HTTP server (``method, path, headers,
read(n)`` in, :class:`Response` out); :mod:`adapters.webhook_server` serves it with aiohttp.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from adapters.base import Cursor, Location, Record, Source, digest
from adapters.exceptions import Rejection
from adapters.jsonlines import json_object
from adapters.quarantine import QUARANTAINE_SCHEMA
from adapters.runner import Runner
from adapters.throttle import ClientLimiter
from adapters.wijkteam import DOMAIN, PREFIX, type_problem
from schemas.catalogue import catalogue
from schemas.envelope import short_message
from schemas.exceptions import RegistryRefused, TransientError
from schemas.http_headers import WWW_AUTHENTICATE
from schemas.log_limits import RefusalLog
from schemas.wire import VERWIJDERD, Wire

log = logging.getLogger("schakel.adapters")

PATHS = ("/events", "/")
RETRY_AFTER_S = "5"
"""``Retry-After`` (seconds) of a 503 answer during an outage."""
PROBE_INTERVAL_S = 2.0
"""While the webhook is unavailable, the seconds between two of its own checks of the broker
and the schema registry (:meth:`WebhookApp.probe`)."""
STRUCTURED = "application/cloudevents+json"
BATCH = "application/cloudevents-batch+json"
_BASE_ATTRIBUTES = ("specversion", "id", "source", "type", "subject", "time", "dataschema")
# NL GOV profile v1.1 extensions, and the record-version extensions of events.md
_ATTRIBUTES = (*_BASE_ATTRIBUTES, "sequence", "dataref", "bronsleutel", "domein")
_JSON_TYPES = ("application/json", "text/json")


@dataclass(frozen=True)
class Response:
    """An HTTP answer: status, extra headers and a JSON body."""

    status: int
    body: Mapping[str, Any]
    headers: Mapping[str, str] = field(default_factory=dict)
    close: bool = False
    raw: bytes | None = None

    def payload(self) -> bytes:
        if self.raw is not None:
            return self.raw
        return json.dumps(self.body, ensure_ascii=False).encode("utf-8")


class WebhookInbox(Source):
    """The source of the webhook runner: events are pushed (:meth:`Runner.submit`), never
    pulled, so :meth:`records` yields nothing."""

    name = "wijkteam"

    def records(self, cursor: Cursor) -> Iterator[Record]:
        return iter(())


class _Refused(Exception):
    def __init__(self, status: int, reason: str, message: str, field: str = "") -> None:
        super().__init__(message)
        self.status, self.reason, self.message, self.field = status, reason, message, field


class RecentIds:
    """A bounded, thread-safe memory of the (source, id) pairs published lately."""

    def __init__(self, size: int = 100_000) -> None:
        self._size = size
        self._items: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._lock = threading.Lock()

    def __contains__(self, key: object) -> bool:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)  # type: ignore[arg-type]  # checked by `in`
                return True
            return False

    def add(self, key: tuple[str, str]) -> None:
        with self._lock:
            self._items[key] = None
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)


def written_schemas(wire: Wire) -> list[tuple[str, str]]:
    """(topic, schema name) of every record the webhook may encode: the ``nl.wijkteams.*``
    events on their topics, a withdrawal on the wijkteams topic and a quarantine entry on the
    adapters' dead-letter topic."""
    events = [(wire.topic_for(name), name) for name in catalogue().names if name.startswith(PREFIX)]
    return [
        *events,
        (wire.topic_for(VERWIJDERD, DOMAIN), VERWIJDERD),
        (wire.deadletter_adapters, QUARANTAINE_SCHEMA),
    ]


def _token_digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", errors="replace")).digest()


def _media_type(value: str | None) -> str:
    return (value or "").split(";", 1)[0].strip().lower()


def _json_object(body: bytes, what: str) -> dict[str, Any]:
    try:
        return json_object(body, what)
    except Rejection as exc:
        raise _Refused(400, exc.reason, str(exc)) from None


def received_now() -> datetime:
    """The moment a request is read (UTC): the default clock of :func:`parse_event`."""
    return datetime.now(UTC)


def parse_event(
    headers: Mapping[str, str], body: bytes, *, clock: Callable[[], datetime] = received_now
) -> dict[str, Any]:
    """The structured-mode CloudEvent (input form) of a request; ``headers`` lower-case.

    An event without ``time`` (no ``ce-time``, or none or ``null`` in the body) gets the moment
    the request is read, ``clock()`` as RFC 3339 (``events.md``: "an adapter that lacks it
    uses the moment it read the record"); a sender's ``time`` is kept as sent. The ``id`` is
    the sender's, so a retry keeps it (the first accepted copy counts downstream).

    Raises ``_Refused`` (400/415) for a request that is neither mode or not JSON."""
    event = _event_of(headers, body)
    if event.get("time") is None:
        event["time"] = clock().astimezone(UTC).isoformat(timespec="microseconds")
    return event


def _event_of(headers: Mapping[str, str], body: bytes) -> dict[str, Any]:
    """The CloudEvent of a request as the sender gave it (see :func:`parse_event`)."""
    content_type = _media_type(headers.get("content-type"))
    if content_type == BATCH:
        raise _Refused(
            415, "unsupported-media-type", "batch mode is not supported; send events one by one"
        )
    if content_type == STRUCTURED:
        structured = _json_object(body, "body")
        if "data_base64" in structured:
            raise _Refused(
                400, "malformed", "data_base64 is not supported; send data as JSON", "data_base64"
            )
        return structured
    if "ce-specversion" not in headers:
        raise _Refused(
            400,
            "malformed",
            "neither binary mode (ce-specversion header) nor structured mode "
            f"(Content-Type: {STRUCTURED})",
            "ce-specversion",
        )
    if content_type and content_type not in _JSON_TYPES and not content_type.endswith("+json"):
        raise _Refused(415, "unsupported-media-type", "binary mode data must be application/json")
    event: dict[str, Any] = {
        name: unquote(headers[f"ce-{name}"]) for name in _ATTRIBUTES if f"ce-{name}" in headers
    }
    event["data"] = _json_object(body, "data")
    if content_type:
        event["datacontenttype"] = content_type
    return event


class WebhookApp:
    """The request handling of the webhook, independent of the HTTP server (testable).

    Guarantees: 202 only after the broker acknowledged the event (or for a retry of an
    event acknowledged before); a refused request is quarantined and counted before it is
    answered; no answer, log line or quarantine entry holds a submitted value. Thread-safe."""

    def __init__(
        self,
        runner: Runner,
        senders: Mapping[str, str],
        *,
        max_bytes: int,
        registry: CollectorRegistry = REGISTRY,
        recent: RecentIds | None = None,
        limiter: ClientLimiter | None = None,
        clock: Callable[[], datetime] = received_now,
    ) -> None:
        """``clock``: the moment a request is read, the ``time`` of an event that has none
        (:func:`parse_event`)."""
        self.runner = runner
        self._senders = [(_token_digest(token), source) for token, source in senders.items()]
        self.max_bytes = max_bytes
        self.registry = registry
        self.recent = recent or RecentIds()
        self.limiter = limiter or ClientLimiter()
        self._clock = clock
        self._schemas = written_schemas(runner.publisher.wire)
        self._state = threading.Lock()
        self._down = False
        self._outages = 0
        """Outages met so far: a probe that began before the latest one does not end it."""
        self._rate_limited = RefusalLog(log, "adapter.webhook_rate_limited")
        """The line of a client's run of 429s: anyone can begin one, from many addresses."""
        self._registry_refusals = RefusalLog(
            log, "adapter.webhook_registry_refused", level=logging.ERROR
        )
        """The line of a request the registry's refusal stops: one a minute while it refuses."""
        if runner.publisher.unconnected is not None:  # the broker away at the start
            self._unavailable(runner.publisher.unconnected)

    @property
    def unavailable(self) -> bool:
        """True from an outage — or from the start, the broker away then (the publisher's
        ``unconnected``) — until an event gets through or :meth:`probe` finds the broker and
        the schema registry answering (``/ready`` answers 503 meanwhile)."""
        return self._down

    def probe(self) -> bool:
        """While :attr:`unavailable`, ask the broker and the schema registry whether they
        answer again, publishing nothing: the broker through
        :meth:`~adapters.publisher.Publisher.check` (a producer that met the outage is replaced,
        which asks for the cluster's metadata, at most 5 s), the registry by looking up the
        ids of the schemas the webhook writes (:func:`written_schemas`; ids already known are
        not asked again). If both answer — a refusal of the registry is an answer too: the
        next event gets 502, it is no outage — the outage ends (logged once) unless another
        was met meanwhile. Returns whether the webhook is available. Blocks up to the
        broker's and the registry's timeouts: never call it on a thread that serves senders."""
        with self._state:
            if not self._down:
                return True
            outages = self._outages
        try:
            self.runner.publisher.check()
            serializer = self.runner.publisher.serializer
            for topic, name in self._schemas:
                serializer.prepare(topic, name)
        except TransientError:
            return False
        except RegistryRefused:
            pass  # the registry answers (and refuses): a misconfiguration, not an outage
        return self._available("probe", outages)

    def _available(self, by: str, outages: int | None = None) -> bool:
        """End the outage (if one was on: log ``adapter.webhook_available``, once), unless
        ``outages`` is given and another outage was met since it was taken."""
        with self._state:
            if outages is not None and outages != self._outages:
                return False
            ended, self._down = self._down, False
        if ended:
            log.info(
                "adapter.webhook_available", extra={"adapter": self.runner.source.name, "by": by}
            )
        return True

    def _sender(self, authorization: str | None) -> str | None:
        """The source of the bearer token in ``authorization``, or ``None``.

        Constant time: the SHA-256 of the given token is compared with the SHA-256 of every
        configured token (equal lengths, no early exit), so neither the time nor the length
        of the comparison depends on how much of a token was guessed."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        given = _token_digest(token.strip())
        found = None
        for secret, source in self._senders:
            if hmac.compare_digest(given, secret):
                found = source
        return found

    def _unauthenticated(self, client: str) -> Response:
        """401, or 429 once ``client`` sent too many requests without a valid token. Counted,
        never quarantined or dead-lettered: a flood of bad tokens costs no disk or broker
        writes. The body is not read; the connection is closed."""
        wait, first = self.limiter.allow(client)
        adapter = self.runner.source.name
        if wait:
            self.runner.metrics.webhook_unauthenticated.labels(adapter, "rate-limited").inc()
            if first:  # a line for a run of them, and at most one a minute for all runs
                self._rate_limited(adapter=adapter)
            return Response(
                429,
                {
                    "error": "refused",
                    "reason": "rate-limited",
                    "field": "authorization",
                    "message": "too many requests without a valid bearer token from this "
                    "address; retry later",
                },
                {"retry-after": str(wait)},
                close=True,
            )
        self.runner.metrics.webhook_unauthenticated.labels(adapter, "refused").inc()
        return Response(
            401,
            {
                "error": "refused",
                "reason": "unauthorized",
                "field": "authorization",
                "message": "missing or unknown bearer token",
            },
            {"www-authenticate": WWW_AUTHENTICATE},
            close=True,
        )

    def handle(
        self,
        method: str,
        path: str,
        headers: Mapping[str, str],
        read: Callable[[int], bytes],
        *,
        client: str = "",
    ) -> Response:
        """Answer one request; ``headers`` with lower-case names; ``read(n)`` reads the body;
        ``client`` is the peer address (for the limit on unauthenticated requests)."""
        routed = self.route(method, path)
        if routed is not None:
            return routed
        sender = self._sender(headers.get("authorization"))
        if sender is None:
            return self._unauthenticated(client)
        body: bytes | None = None
        try:
            body = self._body(headers, read)
            return self._event(sender, headers, body)
        except _Refused as refused:
            return self._refuse(refused, sender, body)

    def route(self, method: str, path: str) -> Response | None:
        """The answer to anything but ``POST`` of an event (``None`` for that): ``/health``,
        ``/ready``, ``/metrics``, 404, 405. Decided at once, without reading the body or
        waiting for anyone, so the server answers these on its event loop: a probe is never
        held up by senders that occupy every worker (a broker that does not acknowledge)."""
        path = path.split("?", 1)[0]
        if method == "GET" and path == "/metrics":
            return Response(
                200, {}, {"content-type": CONTENT_TYPE_LATEST}, raw=generate_latest(self.registry)
            )
        if method == "GET" and path == "/ready" and self.unavailable:
            return Response(
                503,
                {"status": "unavailable", "message": "broker or schema registry unreachable"},
                {"retry-after": RETRY_AFTER_S},
            )
        if method == "GET" and path in ("/health", "/ready"):
            return Response(200, {"status": "ok"})
        if path not in PATHS:
            return Response(404, {"error": "not-found", "message": "POST events to /events"})
        if method != "POST":
            return Response(405, {"error": "method-not-allowed"}, {"allow": "POST"})
        return None

    def _body(self, headers: Mapping[str, str], read: Callable[[int], bytes]) -> bytes:
        if "transfer-encoding" in headers or "content-length" not in headers:
            raise _Refused(411, "malformed", "a Content-Length header is required")
        try:
            length = int(headers["content-length"])
        except ValueError:
            raise _Refused(400, "malformed", "Content-Length is not a number") from None
        if length < 0:
            raise _Refused(400, "malformed", "Content-Length is negative")
        if length > self.max_bytes:
            raise _Refused(
                413,
                "too-large",
                f"body larger than {self.max_bytes} bytes (SCHAKEL_MAX_REQUEST_BYTES)",
            )
        body = read(length)
        if len(body) != length:
            raise _Refused(400, "malformed", "the body is shorter than Content-Length")
        return body

    def _event(self, sender: str, headers: Mapping[str, str], body: bytes) -> Response:
        event = parse_event(headers, body, clock=self._clock)
        problem = type_problem(event)
        if problem is not None:
            raise _Refused(400, problem.reason, str(problem), "type")
        source = event.get("source")
        if isinstance(source, str) and source != sender:  # a missing source is a 400 below
            raise _Refused(
                403,
                "forbidden-source",
                "source: this token may not send events of this source",
                "source",
            )
        identity = (str(event.get("source")), str(event.get("id")))
        if identity in self.recent:
            self.runner.count_duplicate()
            return Response(202, {"status": "accepted", "duplicate": True})
        record = Record(Location("webhook", path=sender), {}, event=event, digest=digest(body))
        try:
            outcome = self.runner.submit(record)
        except TransientError as exc:  # an outage, not bad data: the sender retries
            return self._unavailable(exc)
        except RegistryRefused as exc:  # a misconfiguration: neither bad data nor an outage
            return self._registry_refused(exc)
        if self._down:
            self._available("request")
        if outcome.status == "rejected":
            return Response(
                400,
                {
                    "error": "invalid-event",
                    "reason": outcome.reason,
                    "field": outcome.field,
                    "message": outcome.message,
                },
            )
        self.recent.add(identity)
        return Response(202, {"status": "accepted", "duplicate": False})

    def _unavailable(self, exc: TransientError, *, close: bool = False) -> Response:
        """503 with ``Retry-After`` for an outage (broker or schema registry unreachable) met
        while publishing an event or quarantining a refusal: nothing was confirmed or
        quarantined, the sender retries; ``/ready`` answers 503 until the outage is over
        (:attr:`unavailable`). Logged once per outage, when it begins
        (``adapter.webhook_unavailable``, with the error and which broker or registry)."""
        with self._state:
            self._outages += 1
            began, self._down = not self._down, True
        if began:
            log.error(
                "adapter.webhook_unavailable",
                extra={
                    "adapter": self.runner.source.name,
                    "error": type(exc).__name__,
                    "detail": str(exc),  # which registry or broker (never a password)
                },
            )
        return Response(
            503,
            {"error": "unavailable", "message": "the event was not stored; retry later"},
            {"retry-after": RETRY_AFTER_S},
            close=close,
        )

    def _registry_refused(self, exc: RegistryRefused, *, close: bool = False) -> Response:
        """502 ``misconfigured`` when the schema registry refuses the webhook (its credentials
        or certificates, or a schema not registered) while publishing an event or quarantining
        a refusal: not the sender's fault and no outage, so no ``Retry-After``; nothing was
        confirmed or quarantined, the sender retries once an operator has mended it. Logged
        as ``adapter.webhook_registry_refused`` with the registry's message, at ERROR: the
        first at once, then at most a line a minute with ``weggelaten`` (every request meets
        the refusal until it is mended)."""
        self._registry_refusals(
            adapter=self.runner.source.name,
            error=type(exc).__name__,
            detail=str(exc),  # which registry, which setting (never a credential)
        )
        return Response(
            502,
            {
                "error": "misconfigured",
                "message": "the event was not stored: the schema registry refuses this "
                "webhook (its configuration); retry once that is mended",
            },
            close=close,
        )

    def _refuse(self, refused: _Refused, sender: str, body: bytes | None) -> Response:
        rejection = Rejection(refused.message, reason=refused.reason)
        record = Record(
            Location("webhook", path=sender),
            {},
            rejection=rejection,
            digest=digest(body) if body is not None else None,
        )
        try:
            self.runner.submit(record)
        except TransientError as exc:  # not quarantined: answered only once it is, on a retry
            return self._unavailable(exc, close=body is None)
        except RegistryRefused as exc:  # not quarantined either, for as long as it refuses
            return self._registry_refused(exc, close=body is None)
        if self._down:
            self._available("request")
        return Response(
            refused.status,
            {
                "error": "invalid-event" if refused.status == 400 else "refused",
                "reason": refused.reason,
                "field": refused.field,
                "message": short_message(refused.message),
            },
            close=body is None,
        )
