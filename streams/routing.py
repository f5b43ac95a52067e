"""Forwarding a citizen's API request to the worker that owns the citizen's partition.

The table ``burgers`` is partitioned over the workers; a timeline request that arrives at
another worker is forwarded to the owner (:func:`owner_url`, :func:`forward`), which runs
every check itself — token, role, purpose — writes the only audit record of the read and
answers. Faust's own ``Router.route_req`` is not used: it rebuilds the owner's answer
without its headers (the audit record's id ``X-Inzage-Id``, ``Retry-After``) and answers
"no owner" with a body of its own.

Contract of :func:`forward`: the answer is the owner's — status, body, content type,
``X-Inzage-Id`` and ``Retry-After`` — or :class:`OwnerUnavailable` (the caller answers 503
with ``Retry-After``). It never returns a 2xx answer without the owner's ``X-Inzage-Id``:
an answer without an audit record is not passed on. The forwarding worker writes no audit
record of its own.

A forwarded request carries :data:`FORWARDED_HEADER`; a worker that receives one for a
citizen it does not own (ownership moved while the request was under way) refuses it with
503 rather than forward it again, so two workers with different views of the assignment
never pass a request back and forth.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import aiohttp
import faust
from aiohttp import web
from faust.exceptions import NotReady
from yarl import URL

from schemas.exceptions import TransientError
from schemas.log_limits import RefusalLog
from streams.audit import AUDIT_TIMEOUT_S
from streams.exceptions import StreamsError

log = logging.getLogger("schakel.api")

FORWARDED_HEADER = "X-Schakel-Doorgestuurd"
"""Set on a request one worker forwards to another (value ``1``)."""
ANSWER_HEADERS = ("X-Inzage-Id", "Retry-After")
"""Headers of the owner's answer passed on besides the content type."""
FORWARD_TIMEOUT_S = AUDIT_TIMEOUT_S + 5.0
"""Longest wait for the owner's answer: its audit record may take :data:`AUDIT_TIMEOUT_S`."""
_UNAVAILABLE = "tijdlijn: de worker van deze burger is nu niet bereikbaar"


class OwnerUnavailable(StreamsError, TransientError):
    """Transient: the citizen's partition has no owner now (partitions being rebalanced), or
    the owner did not answer, or answered without an audit record. Answered 503."""

    def __init__(self, message: str = _UNAVAILABLE) -> None:
        super().__init__(message)


def owner_unavailable_log() -> RefusalLog:
    """The line ``api.owner_unavailable`` (the owner, the error's class) of an owner that could
    not be reached or did not answer in time (:func:`forward`): every request for its
    citizens meets it for as long as that lasts, so the first at once, then at most a line a
    minute with ``weggelaten`` (:class:`~schemas.log_limits.RefusalLog`). One per API (each
    worker's :func:`streams.api.register_api`), for every owner."""
    return RefusalLog(log, "api.owner_unavailable")


def _ident(url: URL) -> tuple[str, int]:
    """(host, port) of a worker's URL, as Faust's router compares them."""
    return (url.host if url.scheme else url.path) or "", int(url.port or 80)


def owner_url(app: faust.App, table_name: str, key: str) -> URL | None:
    """The URL of the worker that owns ``key``'s partition of ``table_name``, or None if that
    is this worker (its ``canonical_url``). Raises :class:`OwnerUnavailable` if the partition
    is assigned to no worker now (a rebalance) or the assignment is not known yet."""
    try:
        dest: URL = app.router.key_store(table_name, key)
    except (KeyError, NotReady):
        raise OwnerUnavailable() from None
    here = URL(str(app.conf.canonical_url))
    return None if _ident(dest) == _ident(here) else dest


async def forward(
    session: aiohttp.ClientSession,
    owner: URL,
    request: web.Request,
    headers: Mapping[str, str],
    *,
    unavailable: RefusalLog,
    timeout_s: float = FORWARD_TIMEOUT_S,
) -> web.Response:
    """Send ``request`` (its method, path and query) with ``headers`` (and
    :data:`FORWARDED_HEADER`) to ``owner`` and return the owner's answer (see the module
    docstring). Raises :class:`OwnerUnavailable` if the owner cannot be reached or does not
    answer within ``timeout_s`` (told to ``unavailable``, :func:`owner_unavailable_log`), or
    answers 2xx without ``X-Inzage-Id``."""
    url = owner.join(request.rel_url)  # the owner's origin, the request's path and query
    try:
        async with session.request(
            request.method,
            url,
            headers={**headers, FORWARDED_HEADER: "1"},
            allow_redirects=False,
            timeout=aiohttp.ClientTimeout(total=timeout_s),
        ) as answer:
            body = await answer.read()
            status = answer.status
            passed = {
                "Content-Type": answer.headers.get("Content-Type", "application/json"),
                **{name: answer.headers[name] for name in ANSWER_HEADERS if name in answer.headers},
            }
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        unavailable(owner=str(owner), reason=type(exc).__name__)
        raise OwnerUnavailable() from None
    if 200 <= status < 300 and "X-Inzage-Id" not in passed:
        log.warning("api.owner_unaudited", extra={"owner": str(owner), "status": status})
        raise OwnerUnavailable()
    return web.Response(status=status, body=body, headers=passed)
