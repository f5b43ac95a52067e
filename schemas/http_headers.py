"""Header values both of Schakel's HTTP servers answer with — the worker's
(:mod:`streams.webserver`) and the webhook's (:mod:`adapters.webhook_server`) — kept here, in
the package both may import, so the two cannot drift apart. Fixed texts: nothing of a request,
no software name, no version."""

from __future__ import annotations

WWW_AUTHENTICATE = 'Bearer realm="schakel"'
"""The challenge of every 401 (RFC 6750 §3): the scheme and the realm, no error description
(which could echo the request)."""
SERVER = "schakel"
"""The ``Server`` header of every answer: no software, no version (aiohttp names both)."""
