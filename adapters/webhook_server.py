"""The webhook's HTTP server: aiohttp around the framework-free :class:`WebhookApp`.

This module is a thin shell. Every decision about a request (routing, token, rate limit,
Content-Length, content mode, validation, publishing, the answer) is
:meth:`WebhookApp.handle`, a plain synchronous method tested without a server. The shell:

- runs aiohttp's low-level server (:class:`aiohttp.web.Server`) on its own event loop in the
  thread that calls :meth:`WebhookServer.serve_forever`; the socket is bound when the
  :class:`WebhookServer` is created, so :attr:`WebhookServer.address` is known at once (port 0
  picks a free port);
- calls :meth:`WebhookApp.handle` in a bounded pool of ``workers`` threads, because it blocks
  until the broker acknowledged the event (kafka-python): the event loop never waits for the
  broker, and at most ``workers`` requests are handled at a time (the others wait their turn,
  holding only their connection). What :meth:`WebhookApp.route` answers at once
  (``/health``, ``/ready``, ``/metrics``, 404, 405) is answered on the event loop, so the
  probes are answered also while every worker waits for the broker;
- reads the body only when :meth:`WebhookApp.handle` asks for it, i.e. after the token and the
  ``Content-Length`` (at most ``SCHAKEL_MAX_REQUEST_BYTES``) were checked; never more than
  ``Content-Length`` bytes, within ``body_timeout`` seconds (a body that does not arrive in time
  is short: 400). ``Expect: 100-continue`` is answered before the body is read. aiohttp's own
  ``client_max_size`` is not involved: the body is never read through ``request.read()``.
  Compressed bodies are not decompressed (``Content-Encoding`` is not interpreted). A body
  left unread (401, 413, …) is drained for at most :data:`LINGER` seconds after the answer,
  then the connection is closed;
- answers aiohttp's own refusals — a malformed request line or header, a request line over
  :data:`MAX_REQUEST_LINE` bytes (414), a header over :data:`MAX_HEADER_FIELD` bytes or more
  than :data:`MAX_HEADERS` headers (431) — as short JSON ``{"error", "message"}`` with no part
  of the request; aiohttp's default answer and log line quote the offending bytes, which may
  hold a token. Such refusals are logged at DEBUG as ``adapter.webhook_request_rejected`` with
  the status and the exception class only; anyone who reaches the port can cause them, so the
  first at once and then at most a line a minute with ``weggelaten``, the number left out
  (:class:`~schemas.log_limits.RefusalLog`, one for the server);
- answers 500 ``internal-error`` when :meth:`WebhookApp.handle` raises, or when its answer
  cannot be written (a defect; logged as ``adapter.webhook_defect`` with the exception
  class);
- while :attr:`WebhookApp.unavailable`, calls :meth:`WebhookApp.probe` every
  ``probe_interval`` seconds in a daemon thread of its own (neither the event loop, nor a
  worker of the pool, nor :meth:`WebhookServer.shutdown` waits for it: a probe asking an
  unresponsive registry blocks for the client's retry budget, longer than Kubernetes' grace),
  so ``/ready`` turns 200 once the broker and the schema registry answer, without a
  request: an unready pod gets none in Kubernetes (its Service leaves it out), and with one
  replica readiness that waited for a request never came back. A defect in a probe is
  logged once (``adapter.webhook_defect``, ``during`` ``probe``).

:meth:`WebhookServer.shutdown` stops accepting, lets requests in progress finish (at most
``shutdown_timeout`` seconds; an acknowledged event is answered 202) and releases the socket.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import logging
import socket
import threading
from functools import partial
from http import HTTPStatus
from typing import Any

from aiohttp import http_exceptions, web
from aiohttp.http import HttpVersion11
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest
from aiohttp.web_response import StreamResponse

from adapters.webhook import PROBE_INTERVAL_S, Response, WebhookApp
from schemas.http_headers import SERVER
from schemas.log_limits import RefusalLog

log = logging.getLogger("schakel.adapters")

MAX_REQUEST_LINE = 16_384
"""Longest URL (request target) accepted, in bytes; longer: 414."""
MAX_HEADER_FIELD = 8_190
"""Longest header (name and value), in bytes; longer: 431."""
MAX_HEADERS = 100
"""Most headers in a request; more: 431."""
DEFAULT_WORKERS = 8
DEFAULT_BODY_TIMEOUT = 30.0
KEEPALIVE_TIMEOUT = 75.0
LINGER = 1.0
"""Seconds a body that was not read (401, 413, …) is still drained after the answer before
the connection is closed (so the sender sees the answer rather than a reset)."""

_SERVER_ERRORS = {
    400: "bad-request",
    414: "uri-too-long",
    431: "headers-too-large",
}
"""The problem type of aiohttp's own refusals by status; another 4xx is ``bad-request``, a
5xx (an exception or a timeout escaping the handling: the server's failure, not the
request's) ``internal-error``."""


def _status_of(exc: BaseException | None, default: int) -> int:
    """The status of one of aiohttp's own refusals: 414/431 for the limits above."""
    if isinstance(exc, http_exceptions.LineTooLong):
        # the parser names the limit it hit; the request line has a limit of its own
        return 414 if str(MAX_REQUEST_LINE) == str(exc.args[1]) else 431
    if isinstance(exc, http_exceptions.BadHttpMessage) and exc.message.startswith("Too many"):
        return 431
    return default


def _server_error(status: int) -> web.Response:
    """Short JSON naming the rule broken; never a part of the request."""
    body = {
        "error": _SERVER_ERRORS.get(status, "bad-request" if status < 500 else "internal-error"),
        "message": HTTPStatus(status).phrase,
    }
    response = web.Response(
        status=status,
        body=json.dumps(body).encode(),
        content_type="application/json",
        headers={"server": SERVER},
    )
    response.force_close()
    return response


class _Protocol(RequestHandler):
    """aiohttp's connection handler, with :func:`_server_error` for aiohttp's own refusals
    (logged through ``rejected``, its server's ``adapter.webhook_request_rejected`` at DEBUG,
    set by :class:`_Server`) and for an exception escaping the request handling (a defect:
    logged as ``adapter.webhook_defect``, with its class)."""

    rejected: RefusalLog

    def handle_error(
        self,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> StreamResponse:
        status = _status_of(exc, status)
        extra = {"adapter": "wijkteam", "status": status, "error": type(exc).__name__}
        if exc is None or isinstance(exc, http_exceptions.HttpProcessingError):
            self.rejected(**extra)
        else:  # not the request's fault: the handling failed after WebhookApp.handle
            log.error("adapter.webhook_defect", extra=extra)
        if request.writer.output_size > 0:  # part of an answer went out: nothing to add
            raise ConnectionError("response already started; connection closed")
        return _server_error(status)


class _Server(web.Server):
    """:class:`aiohttp.web.Server` creating :class:`_Protocol` connection handlers;
    ``rejected``: the log of the requests they reject (one for the server)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rejected = RefusalLog(log, "adapter.webhook_request_rejected", level=logging.DEBUG)

    def __call__(self) -> RequestHandler:
        handler = _Protocol(self, loop=self._loop, **self._kwargs)
        handler.rejected = self.rejected
        return handler


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.create_server((host, port), family=family)
    sock.setblocking(False)
    return sock


def _to_aiohttp(response: Response) -> web.Response:
    answer = web.Response(status=response.status, body=response.payload())
    answer.headers["content-type"] = response.headers.get("content-type", "application/json")
    answer.headers["server"] = SERVER
    for name, value in response.headers.items():
        if name != "content-type":
            answer.headers[name] = value
    if response.close:
        answer.force_close()
    return answer


class WebhookServer:
    """An aiohttp server around a :class:`WebhookApp` (see the module docstring).

    :meth:`serve_forever` blocks (run it in a thread); :meth:`shutdown`, from another
    thread, stops it and returns when the socket is released."""

    def __init__(
        self,
        app: WebhookApp,
        host: str,
        port: int,
        *,
        workers: int = DEFAULT_WORKERS,
        body_timeout: float = DEFAULT_BODY_TIMEOUT,
        shutdown_timeout: float = 10.0,
        probe_interval: float = PROBE_INTERVAL_S,
    ) -> None:
        if workers < 1 or body_timeout <= 0 or probe_interval <= 0:
            raise ValueError("workers must be at least 1, body_timeout and probe_interval positive")
        self.app = app
        self.body_timeout = body_timeout
        self.probe_interval = probe_interval
        self.shutdown_timeout = shutdown_timeout
        self._sock = _bind(host, port)
        bound_host, bound_port = self._sock.getsockname()[:2]
        self._address = (str(bound_host), int(bound_port))
        self._workers = workers
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._stopped = threading.Event()
        self._closing = False
        self._lock = threading.Lock()

    @property
    def address(self) -> tuple[str, int]:
        return self._address

    def serve_forever(self) -> None:
        """Serve until :meth:`shutdown`; requests in progress are finished first."""
        log.info(
            "adapter.webhook_listening",
            extra={"adapter": "wijkteam", "host": self.address[0], "port": self.address[1]},
        )
        try:
            asyncio.run(self._serve())
        finally:
            self._stopped.set()

    def shutdown(self) -> None:
        """Stop serving (from another thread) and release the socket."""
        with self._lock:
            self._closing = True
            loop, stop = self._loop, self._stop
        if loop is not None and stop is not None:
            loop.call_soon_threadsafe(stop.set)
            self._stopped.wait()
        self._sock.close()

    async def _serve(self) -> None:
        with self._lock:
            if self._closing:
                return
            self._loop = asyncio.get_running_loop()
            self._stop = stop = asyncio.Event()
        executor = concurrent.futures.ThreadPoolExecutor(
            self._workers, thread_name_prefix="webhook"
        )
        server = _Server(
            partial(self._answer, executor),
            access_log=None,
            keepalive_timeout=KEEPALIVE_TIMEOUT,
            lingering_time=LINGER,
            max_line_size=MAX_REQUEST_LINE,
            max_field_size=MAX_HEADER_FIELD,
            max_headers=MAX_HEADERS,
            auto_decompress=False,
        )
        runner = web.ServerRunner(server, shutdown_timeout=self.shutdown_timeout)
        watching = asyncio.create_task(self._watch())
        await runner.setup()
        try:
            await web.SockSite(runner, self._sock).start()
            await stop.wait()
        finally:
            watching.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watching
            await runner.cleanup()
            # in another thread: a worker may still need the event loop to read a body
            await asyncio.to_thread(executor.shutdown, True)
            # a probe under way is not waited for: see _probe

    async def _watch(self) -> None:
        """While the app is unavailable, :meth:`WebhookApp.probe` every ``probe_interval``
        seconds (:meth:`_probe`, one at a time; see the module docstring); until
        cancelled."""
        told = False
        while True:
            await asyncio.sleep(self.probe_interval)
            if not self.app.unavailable:
                continue
            try:
                await self._probe()
            except Exception as exc:  # a defect: logged once, the probing goes on
                if not told:
                    told = True
                    log.error(
                        "adapter.webhook_defect",
                        extra={
                            "adapter": "wijkteam",
                            "error": type(exc).__name__,
                            "during": "probe",
                        },
                    )

    async def _probe(self) -> None:
        """:meth:`WebhookApp.probe` on a daemon thread of its own, awaited; raises what it
        raises. A probe asking an unresponsive registry blocks for the client's whole retry
        budget (about 47 s with the defaults: longer than Kubernetes' 30 s grace), so neither
        :meth:`shutdown` (which cancels this await) nor the interpreter at exit waits for it:
        a ``ThreadPoolExecutor``'s thread would be joined at exit even after
        ``shutdown(wait=False)``. Its outcome after the loop closed is dropped."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()

        def settle(error: BaseException | None) -> None:  # on the event loop
            if done.done():  # cancelled: shutdown
                return
            if error is None:
                done.set_result(None)
            else:
                done.set_exception(error)

        def run() -> None:
            error: BaseException | None = None
            try:
                self.app.probe()
            except Exception as exc:
                error = exc
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(settle, error)

        threading.Thread(target=run, name="webhook-probe", daemon=True).start()
        await done

    async def _answer(
        self, executor: concurrent.futures.Executor, request: BaseRequest
    ) -> StreamResponse:
        loop = asyncio.get_running_loop()
        # lower-case names; the first of repeated headers counts
        headers = {k.lower(): v for k, v in reversed(list(request.headers.items()))}

        def read(n: int) -> bytes:  # called in a worker thread; reads on the event loop
            future = asyncio.run_coroutine_threadsafe(self._read(request, n), loop)
            try:
                return future.result(self.body_timeout + 5)
            except (concurrent.futures.TimeoutError, concurrent.futures.CancelledError):
                future.cancel()
                return b""

        handle = partial(
            self.app.handle,
            request.method,
            request.raw_path,
            headers,
            read,
            client=request.remote or "",
        )
        try:
            response = self.app.route(request.method, request.raw_path)  # no waiting: here
            if response is None:
                response = await loop.run_in_executor(executor, handle)
        except Exception as exc:  # the sender gets an answer; the defect is logged, not hidden
            log.error(
                "adapter.webhook_defect",
                extra={"adapter": "wijkteam", "error": type(exc).__name__},
            )
            response = Response(
                500,
                {"error": "internal-error", "message": "the event was not stored; retry later"},
                close=True,
            )
        return _to_aiohttp(response)

    async def _read(self, request: BaseRequest, n: int) -> bytes:
        """At most ``n`` bytes of the body: fewer when the client stops sending, closes the
        connection (before the ``100 Continue`` it asked for, too) or takes longer than
        ``body_timeout``."""
        body = bytearray()
        try:
            if request.version >= HttpVersion11 and (
                request.headers.get("expect", "").lower() == "100-continue"
            ):
                await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            async with asyncio.timeout(self.body_timeout):
                while len(body) < n:
                    chunk = await request.content.read(n - len(body))
                    if not chunk:
                        break
                    body += chunk
        except (TimeoutError, ConnectionError, http_exceptions.HttpProcessingError):
            pass  # a short body: WebhookApp answers 400
        return bytes(body)
