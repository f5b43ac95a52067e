"""Ports a long-running process listens on, named by the setting they come from.

A port that another process holds used to end a process with ``schakel: OSError: [Errno 98]
Address already in use`` (exit 2), naming neither the setting nor the port: two continuous
adapters on one host both take ``SCHAKEL_METRICS_PORT``'s default 9464, and the second one
died that way. A process that listens on a port from a setting turns the refusal into a
:class:`~schemas.exceptions.SettingsError` (:meth:`Listening.refused`): one line naming the
setting, the address and what to do, exit 2, as for every invalid setting.

Who binds what: a continuous adapter ``SCHAKEL_METRICS_PORT`` (0: no ``/metrics``), the
webhook ``SCHAKEL_WEBHOOK_PORT`` or ``--port`` (0: any free one), the worker
``SCHAKEL_WEB_PORT`` (inside Faust's web driver, so :meth:`Listening.check_free` asks
first).
"""

from __future__ import annotations

import errno
import socket
from dataclasses import dataclass

from schemas.exceptions import SettingsError


@dataclass(frozen=True)
class Listening:
    """Where a process listens: ``host``:``port``, the settings (or options) they come from
    (``setting`` the port's, ``host_setting`` the address's), and the ``remedy`` for a port
    in use."""

    host: str
    port: int
    setting: str
    host_setting: str
    remedy: str

    def refused(self, exc: OSError) -> SettingsError:
        """The :class:`SettingsError` for ``exc``, the refusal to listen here: a port in use
        names the setting and the port and says :attr:`remedy`; any other refusal (an
        address not on this host, a port below 1024 without the right) names both settings,
        the address and the system's reason."""
        if exc.errno == errno.EADDRINUSE:
            return SettingsError(
                f"{self.setting}: port {self.port} on {self.host} is already in use by another "
                f"process: {self.remedy}"
            )
        host = f"[{self.host}]" if ":" in self.host else self.host
        reason = exc.strerror or type(exc).__name__
        return SettingsError(
            f"{self.host_setting}, {self.setting}: cannot listen on {host}:{self.port} ({reason})"
        )

    def check_free(self) -> None:
        """Raise :meth:`refused` if the port cannot be bound now, bound as asyncio's servers
        bind (``SO_REUSEADDR``, so a port whose last connections are in ``TIME_WAIT`` is
        free; IPv6 sockets v6-only), on every address :attr:`host` resolves to. For a server
        that binds out of reach (the worker's, in Faust): a probe, so a process that takes
        the port between this check and the server's own bind still meets the server's
        error. A host that does not resolve is left to the server."""
        try:
            found = socket.getaddrinfo(
                self.host or None, self.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
            )
        except socket.gaierror:
            return
        for family, kind, proto, _, address in found:
            with socket.socket(family, kind, proto) as sock:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                if family == socket.AF_INET6:
                    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                try:
                    sock.bind(address)
                except OSError as exc:
                    raise self.refused(exc) from None
