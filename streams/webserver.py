"""The worker's HTTP server: Faust's aiohttp driver, narrowed to what Schakel promises to serve.

- **No Faust built-in views.** :class:`faust.web.base.Web` mounts blueprints of its own
  (``/router``, ``/table`` — which reads any table key without a token —, ``/graph``, the
  statistics at ``/`` and ``/assignment/``, ``/performance``, the production index at ``/``).
  :class:`GuardedWeb` empties those lists, so none of them is registered.
- **An allowlist of paths** (:func:`served`): the API under ``/api/v1/``, the web page ``/`` and
  its assets ``/web/…``, ``/metrics``, ``/health``, ``/ready``. Anything else is 404 before
  any view runs.
- **No answer may be kept or sniffed.** Every answer of the port — a citizen's timeline, the
  signal list and the audit trail are personal data — carries :data:`NOT_STORED`
  (``Cache-Control: no-store``, ``X-Content-Type-Options: nosniff``), refusals and forwarded
  answers included, unless a view set its own (the web page: :mod:`streams.webui`).
- **No versions.** aiohttp names Python's and its own version in ``Server``
  (``Python/3.11 aiohttp/3.x``) on every answer: here it is :data:`SERVER` (``schakel``, as on
  the webhook's port: :mod:`schemas.http_headers`), on answers of the app
  (:func:`_neutral_server`) and on aiohttp's own (:func:`error_response`).
- **A 401 says how to authenticate**: ``WWW-Authenticate`` :data:`WWW_AUTHENTICATE` (the
  scheme ``Bearer`` and the realm ``schakel``, as on the webhook's port:
  :mod:`schemas.http_headers`; RFC 6750 §3, no error description, which could echo the
  request), on every 401 of the port, a forwarded one too.
- **Errors are short JSON** ``{"fout": "<field or rule>"}``, at most :data:`MAX_ERROR_CHARS`
  characters of message, never a part of the request, never a traceback: routing errors (404,
  405) and HTTP errors raised by views (:func:`guard`), exceptions escaping a view (500), and
  the errors aiohttp answers itself before any view runs — request line, URL or header too
  long or malformed (:class:`_JsonErrorProtocol`). Such rejections are logged as
  ``http.request_rejected`` with the status and the exception class only: the rejected bytes
  (which may hold a token) reach neither the answer nor the log; anyone who reaches the port
  can cause them, so they are logged as a :class:`~schemas.log_limits.RefusalLog` (the first
  at once, then at most one line a minute with the number left out). An exception escaping a view
  is logged as ``http.internal_error`` (class and BSN-masked message, as the log formatter
  writes every exception).

Routing a citizen's request to the worker that owns it (``app.router.route_req``) does not
need the ``/router`` views: it forwards the request itself.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import faust
from aiohttp import http_exceptions, web
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest
from aiohttp.web_response import StreamResponse
from aiohttp.web_server import Server
from faust.web.drivers.aiohttp import Web as AiohttpWeb

from schemas.http_headers import SERVER, WWW_AUTHENTICATE
from schemas.log_limits import RefusalLog

log = logging.getLogger("schakel.http")

SERVED_PATHS = frozenset({"/", "/metrics", "/health", "/ready"})
"""Paths served exactly."""
SERVED_PREFIXES = ("/api/v1/", "/web/")
"""Path prefixes served (the views behind them answer 404 for what they do not know)."""
MAX_ERROR_CHARS = 200
"""Longest error message in an error body."""
NOT_STORED = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
"""Headers of every answer of the port: no browser, proxy or shared cache keeps it (a
timeline, the signal list and the audit trail are personal data), and a browser takes it for
the content type it names, never for one it guesses."""

_STATUS_MESSAGES = {
    400: "verzoek: ongeldig",
    401: "Authorization: ontbreekt of ongeldig",
    403: "rol: geen toegang",
    404: "pad: niet gevonden",
    405: "methode: niet toegestaan",
    408: "verzoek: te laat ontvangen",
    413: "verzoek: te groot",
    414: "URL: te lang",
    431: "headers: te groot",
    500: "interne fout; zie de logs van de worker",
    503: "dienst: tijdelijk niet beschikbaar",
    504: "verzoek: time-out",
}


def served(path: str) -> bool:
    """Whether ``path`` is one the worker serves (see the module docstring)."""
    return path in SERVED_PATHS or path.startswith(SERVED_PREFIXES)


def error_response(
    status: int, message: str | None = None, headers: dict[str, str] | None = None
) -> web.Response:
    """``{"fout": message}`` with ``status``, :data:`NOT_STORED` and ``Server``
    :data:`SERVER` (a 401 with :data:`WWW_AUTHENTICATE`); the message is capped at
    :data:`MAX_ERROR_CHARS`. Without a message: a fixed text for the status."""
    text = message or _STATUS_MESSAGES.get(status, "verzoek: mislukt")
    body = json.dumps({"fout": text[:MAX_ERROR_CHARS]}, ensure_ascii=False)
    challenge = {"WWW-Authenticate": WWW_AUTHENTICATE} if status == 401 else {}
    return web.Response(
        status=status,
        body=body.encode("utf-8"),
        content_type="application/json",
        charset="utf-8",
        headers={**NOT_STORED, **challenge, **(headers or {}), "Server": SERVER},
    )


_PROTOCOL_MESSAGES: tuple[tuple[type[Exception], str], ...] = (
    (http_exceptions.LineTooLong, "verzoekregel of header: te lang"),
    (http_exceptions.BadHttpMethod, "methode: ongeldig"),
    (http_exceptions.BadStatusLine, "verzoekregel: ongeldig"),
    (http_exceptions.InvalidURLError, "URL: ongeldig"),
    (http_exceptions.InvalidHeader, "header: ongeldig"),
    (http_exceptions.HttpProcessingError, "verzoek: ongeldig HTTP"),
)
"""The rule an unparsable request broke, by aiohttp's exception class (first match)."""


def _protocol_message(exc: BaseException | None) -> str | None:
    """The rule an unparsable request broke (never its text); None: the status's text."""
    return next((text for cls, text in _PROTOCOL_MESSAGES if isinstance(exc, cls)), None)


@web.middleware
async def guard(request: web.Request, handler: Any) -> StreamResponse:
    """404 for paths outside the allowlist; HTTP errors (routing, views) as short JSON; every
    answer with :data:`NOT_STORED` (a header a view set itself is kept), a 401 with
    :data:`WWW_AUTHENTICATE` (a forwarded one too)."""
    if not served(request.path):
        return error_response(404)
    try:
        response: StreamResponse = await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:  # redirects and the like pass unchanged
            raise
        allow = exc.headers.get("Allow")
        return error_response(exc.status, headers={"Allow": allow} if allow else None)
    for name, value in NOT_STORED.items():
        response.headers.setdefault(name, value)
    if response.status == 401:
        response.headers.setdefault("WWW-Authenticate", WWW_AUTHENTICATE)
    return response


async def _neutral_server(request: web.Request, response: StreamResponse) -> None:
    """``Server`` :data:`SERVER` on every answer of the app (``on_response_prepare``: after
    aiohttp set its own, before the headers are sent; redirects passed by :func:`guard`
    too)."""
    response.headers["Server"] = SERVER


class _JsonErrorProtocol(RequestHandler):
    """aiohttp's connection handler, answering its own errors (unparsable request, exception
    escaping the application) as :func:`error_response` without echoing the request;
    ``rejected``: its server's log of rejected requests (set by :class:`_Server`)."""

    rejected: RefusalLog

    def handle_error(
        self,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> StreamResponse:
        reason = type(exc).__name__ if exc else None
        if isinstance(exc, http_exceptions.HttpProcessingError) or exc is None:
            self.rejected(status=status, reason=reason)
        else:  # a view failed: the log formatter keeps the class and the BSN-masked message
            log.error("http.internal_error", extra={"status": status}, exc_info=exc)
        if request.writer.output_size > 0:  # part of an answer went out: nothing to add
            raise ConnectionError("response already started; connection closed")
        response = error_response(status, _protocol_message(exc))
        response.force_close()
        return response


class _Server(Server):
    """Creates :class:`_JsonErrorProtocol` connection handlers; ``rejected``: the log of the
    requests they reject (:class:`~schemas.log_limits.RefusalLog`, one for the server)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rejected = RefusalLog(log, "http.request_rejected")

    def __call__(self) -> RequestHandler:
        handler = _JsonErrorProtocol(self, loop=self._loop, **self._kwargs)
        handler.rejected = self.rejected
        return handler


class _Runner(web.AppRunner):
    """:class:`aiohttp.web.AppRunner` serving through :class:`_Server`."""

    async def _make_server(self) -> Server:
        server = await super()._make_server()
        return _Server(
            server.request_handler,
            request_factory=server.request_factory,
            handler_cancellation=server.handler_cancellation,
            loop=server._loop,
            **server._kwargs,
        )


class GuardedWeb(AiohttpWeb):  # type: ignore[misc]  # faust's driver is untyped here
    """Faust's aiohttp web driver without Faust's own views, with :func:`guard` and JSON
    server errors (see the module docstring)."""

    default_blueprints = ()
    production_blueprints = ()
    debug_blueprints = ()
    optional_blueprints = ()

    def __init__(self, app: Any, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self.web_app.middlewares.append(guard)
        self.web_app.on_response_prepare.append(_neutral_server)
        # the driver's runner (``_runner``) builds the server; ours differs only in the
        # connection handler class
        self._runner = _Runner(self.web_app, access_log=None)


class WorkerApp(faust.App):  # type: ignore[misc]  # faust.App is untyped here
    """``faust.App`` whose web server is :class:`GuardedWeb`."""

    def _new_web(self) -> GuardedWeb:
        return GuardedWeb(self)
