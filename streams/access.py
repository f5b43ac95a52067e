"""Who may read what on the API: bearer tokens, compared in constant time, and the role
matrix (docs/operations.md "API roles").

=================  ===========  ===========  =========
endpoint           regisseur    beheerder    auditor
=================  ===========  ===========  =========
``signalen``       yes          —            —
``tijdlijn``       yes          —            —
``deadletters``    —            yes          —
``configuratie``   —            yes          —
``inzage``         —            —            yes
=================  ===========  ===========  =========

A ``regisseur`` reads citizens' data (signals, timelines); a ``beheerder`` reads operational
data, never a citizen's; an ``auditor`` reads the audit trail. Anything else is 403.
``/metrics``, ``/health``, ``/ready`` and the web page need no token (no citizen data).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping

from schemas.exceptions import PermanentError
from schemas.settings import ApiToken, Role
from streams.exceptions import StreamsError

ROLE_MATRIX: Mapping[str, frozenset[Role]] = {
    "signalen": frozenset({"regisseur"}),
    "tijdlijn": frozenset({"regisseur"}),
    "deadletters": frozenset({"beheerder"}),
    "configuratie": frozenset({"beheerder"}),
    "inzage": frozenset({"auditor"}),
}
"""Endpoint → the roles that may call it."""


class AccessDenied(StreamsError, PermanentError):
    """401 (no or unknown token) or 403 (role not allowed); the message names the header or
    the role and the endpoint, never the token. ``reason`` of a 401: ``ontbreekt`` (no bearer
    token) or ``onbekend`` (a token no client has), for the log line."""

    def __init__(self, status: int, message: str, reason: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).digest()


def find_token(tokens: Iterable[ApiToken], presented: str) -> ApiToken | None:
    """The configured client whose token is ``presented``, or None.

    Constant time in the token: every configured token is compared, with
    :func:`hmac.compare_digest` over SHA-256 digests (equal lengths), and there is no early
    exit, so neither the time nor the order of comparisons tells which token matched or how
    much of one did."""
    wanted = _digest(presented)
    found: ApiToken | None = None
    for client in tokens:
        if hmac.compare_digest(_digest(client.token), wanted):
            found = client
    return found


def authenticate(tokens: Iterable[ApiToken], authorization: str) -> ApiToken:
    """The client of an ``Authorization: Bearer <token>`` header; :class:`AccessDenied` 401
    if it is missing, not a bearer token or not configured."""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AccessDenied(401, "Authorization: Bearer <token> ontbreekt", "ontbreekt")
    client = find_token(tokens, token.strip())
    if client is None:
        raise AccessDenied(401, "Authorization: onbekend of ongeldig token", "onbekend")
    return client


def authorize(client: ApiToken, endpoint: str) -> None:
    """:class:`AccessDenied` 403 unless ``client``'s role may call ``endpoint``."""
    if client.role not in ROLE_MATRIX[endpoint]:
        raise AccessDenied(403, f"rol: {client.role} heeft geen toegang tot {endpoint}")
