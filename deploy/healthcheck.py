"""Container health check of the Schakel image: ``python /opt/schakel/healthcheck.py KIND``.

``KIND`` says which HTTP endpoint the process in this container serves:

- ``worker``: ``GET /health`` on ``SCHAKEL_WEB_PORT`` (the default of the image);
- ``adapter``: ``GET /metrics`` on ``SCHAKEL_METRICS_PORT`` (a polling adapter);
- ``webhook``: ``GET /health`` on ``SCHAKEL_WEBHOOK_PORT`` (the wijkteam webhook).

The image binds every process to all interfaces (``SCHAKEL_WEB_HOST=0.0.0.0``); the Compose
worker keeps that and only sets ``SCHAKEL_WEB_URL`` to its container's address, the URL it
announces to the other workers. 127.0.0.1 is tried first, then the container's own address,
for a process that an operator bound to that address alone (``SCHAKEL_WEB_HOST``). Exit 0 when
one answers 200, else 1. Standard library only: it runs every 30 s.
"""

from __future__ import annotations

import os
import socket
import sys
import urllib.request

KINDS: dict[str, tuple[str, int, str]] = {
    "worker": ("SCHAKEL_WEB_PORT", 6066, "/health"),
    "adapter": ("SCHAKEL_METRICS_PORT", 9464, "/metrics"),
    "webhook": ("SCHAKEL_WEBHOOK_PORT", 8088, "/health"),
}
"""Kind → (port variable, its default in ``schemas.settings``, path)."""

TIMEOUT_S = 3.0


def hosts() -> list[str]:
    """Loopback and the container's own address (when it resolves)."""
    found = ["127.0.0.1"]
    try:
        own = socket.gethostbyname(socket.gethostname())
    except OSError:
        return found
    if own not in found:
        found.append(own)
    return found


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as answer:  # noqa: S310 - http URL built here
            return bool(answer.status == 200)
    except (OSError, ValueError):
        return False


def main(argv: list[str]) -> int:
    kind = argv[1] if len(argv) > 1 else "worker"
    if kind not in KINDS:
        print(f"healthcheck: unknown kind {kind!r}; one of {', '.join(KINDS)}", file=sys.stderr)
        return 2
    variable, default, path = KINDS[kind]
    port = int(os.environ.get(variable) or default)
    for host in hosts():
        if healthy(f"http://{host}:{port}{path}"):
            return 0
    print(f"healthcheck: no answer on port {port}{path}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
