"""Whether the broker answers at all, for the worker's ``/ready``.

During a broker outage the worker's Kafka clients reconnect by themselves and say so only in
their own log lines; an idle input looks the same from inside the worker. :class:`BrokerProbe`
opens a TCP connection to the bootstrap addresses every few seconds (any one answering is
enough: a cluster with one node down still serves) and calls the broker unreachable after
``failures`` checks in a row found none, reachable again at the first that finds one. It
reads nothing and sends nothing: it tells a broker that is gone (a stopped node, a network
cut) from one that is there, not whether Kafka is healthy.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable, Sequence
from typing import Any

log = logging.getLogger("schakel.streams")

PROBE_INTERVAL_S = 5.0
"""How often the worker checks (``streams.app``)."""


def addresses(bootstrap: str) -> list[tuple[str, int]]:
    """``host:port`` pairs of a bootstrap string (``a:9092,b:9092``, ``[::1]:9092``)."""
    out: list[tuple[str, int]] = []
    for item in bootstrap.split(","):
        host, _, port = item.strip().removeprefix("kafka://").rpartition(":")
        if host and port.isascii() and port.isdigit():
            out.append((host.strip("[]"), int(port)))
    return out


def answering(
    targets: Sequence[tuple[str, int]],
    timeout: float,
    connect: Callable[..., Any] = socket.create_connection,
) -> bool:
    """Whether any of ``targets`` accepts a TCP connection (tried in order, ``timeout`` each;
    the connection is closed at once)."""
    for address in targets:
        try:
            connect(address, timeout=timeout).close()
        except OSError:
            continue
        return True
    return False


def wait_answering(
    bootstrap: str,
    within: float,
    *,
    connect: Callable[..., Any] = socket.create_connection,
    every: float = 0.5,
) -> bool:
    """Whether any address of ``bootstrap`` accepts a TCP connection within ``within``
    seconds: asked every ``every`` seconds, each try bounded by the time left; True at the
    first answer, False once the time is up."""
    targets = addresses(bootstrap)
    deadline = time.monotonic() + within
    while True:
        left = deadline - time.monotonic()
        if answering(targets, max(0.1, min(2.0, left)), connect):
            return True
        if left <= every:
            return False
        time.sleep(every)


class BrokerProbe:
    """The broker's reachability, as the last checks found it (reachable until told not)."""

    def __init__(
        self,
        bootstrap: str,
        *,
        timeout: float = 2.0,
        failures: int = 2,
        connect: Callable[..., Any] = socket.create_connection,
    ) -> None:
        self.addresses = addresses(bootstrap)
        self.timeout = timeout
        self.failures = failures
        self.reachable = True
        self._connect = connect
        self._failed = 0

    def check(self) -> bool:
        """Try each address once (blocking, ``timeout`` each); returns :attr:`reachable`.
        Logs ``worker.broker_unreachable`` and ``worker.broker_reachable`` when it changes."""
        if answering(self.addresses, self.timeout, self._connect):
            if not self.reachable:
                log.info("worker.broker_reachable", extra={"after_checks": self._failed})
            self._failed = 0
            self.reachable = True
            return True
        self._failed += 1
        if self.reachable and self._failed >= self.failures:
            self.reachable = False
            log.warning(
                "worker.broker_unreachable",
                extra={"addresses": len(self.addresses), "checks": self._failed},
            )
        return self.reachable
