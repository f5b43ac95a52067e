"""A throwaway PostgreSQL server for the synthetic outbox: ``initdb`` + ``pg_ctl`` in a
temporary directory on a free port of 127.0.0.1, trust authentication, no durability
(``fsync=off``) — a stand-in for the case systems' own databases, for the demo and tests.
``initdb`` and ``pg_ctl`` (and so the server) get this process's environment without any
``SCHAKEL_*`` variable.

When run as root, the server runs as the ``postgres`` system user (PostgreSQL refuses to run
as root). :class:`~schakel.synth.exceptions.PostgresUnavailable` is raised when the binaries
are missing or the server does not start; the caller decides what to do instead.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Any

from schakel.broker import free_port
from schakel.synth.exceptions import PostgresUnavailable
from schemas.settings import child_environment

SEARCH = ("/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/17/bin")
TABLE_DDL = (
    "CREATE TABLE schakel_outbox ("
    "id bigserial PRIMARY KEY, created_at timestamptz NOT NULL DEFAULT now(), "
    "event jsonb NOT NULL)"
)


def find_bin_dir() -> Path | None:
    """The directory holding ``initdb`` and ``pg_ctl`` (PostgreSQL 15 preferred), if any."""
    for candidate in SEARCH:
        if (Path(candidate) / "initdb").is_file():
            return Path(candidate)
    found = shutil.which("initdb")
    return Path(found).parent if found else None


class TempPostgres:
    """A PostgreSQL server that lives as long as this object (context manager)."""

    def __init__(self, bin_dir: Path | None = None) -> None:
        found = bin_dir or find_bin_dir()
        if found is None:
            raise PostgresUnavailable(
                "PostgreSQL server binaries (initdb, pg_ctl) not found; install postgresql-15"
            )
        self.bin_dir = found
        self.port = free_port()
        self._tmp: Path | None = None
        self._user: dict[str, Any] = {}

    @property
    def dsn(self) -> str:
        """Connection string of the running server (database ``postgres``, user ``schakel``)."""
        return f"postgresql://schakel@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, timeout: float = 60.0) -> None:
        assert self._tmp is not None
        log = self._tmp / "setup.log"
        with log.open("ab") as out:
            result = subprocess.run(  # noqa: S603 - fixed binaries, fixed arguments
                [str(self.bin_dir / args[0]), *args[1:]],
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=timeout,
                check=False,
                env={**child_environment(), "LC_ALL": "C"},  # no SCHAKEL_* variable
                **self._user,
            )
        if result.returncode != 0:
            tail = log.read_text(errors="replace")[-800:]
            raise PostgresUnavailable(f"{args[0]} failed (exit {result.returncode}): {tail}")

    def start(self) -> TempPostgres:
        """initdb, start, wait until it accepts connections."""
        self._tmp = Path(tempfile.mkdtemp(prefix="schakel-pg-"))
        self._tmp.chmod(0o755)
        if os.geteuid() == 0:
            try:
                account = pwd.getpwnam("postgres")
            except KeyError:
                raise PostgresUnavailable(
                    "running as root and there is no 'postgres' user to run the server as"
                ) from None
            os.chown(self._tmp, account.pw_uid, account.pw_gid)
            self._user = {"user": account.pw_uid, "group": account.pw_gid}
        data = self._tmp / "data"
        try:
            self._run(
                "initdb",
                "-D",
                str(data),
                "-U",
                "schakel",
                "--auth=trust",
                "--encoding=UTF8",
                "--no-locale",
                "--no-sync",
            )
            options = (
                f"-p {self.port} -k {self._tmp} -c listen_addresses=127.0.0.1 "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            )
            self._run(
                "pg_ctl",
                "-D",
                str(data),
                "-l",
                str(self._tmp / "server.log"),
                "-w",
                "-t",
                "60",
                "-o",
                options,
                "start",
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            self.stop()
            raise PostgresUnavailable(f"PostgreSQL did not start: {exc}") from exc
        except PostgresUnavailable:
            self.stop()
            raise
        return self

    def load_outbox(self, rows: Iterable[dict[str, Any]]) -> int:
        """Create ``schakel_outbox`` and insert the rows (``created_at``, ``event``) in order,
        in one transaction; returns how many."""
        import psycopg

        count = 0
        with psycopg.connect(self.dsn) as conn:
            conn.execute(TABLE_DDL)
            with (
                conn.cursor() as cur,
                cur.copy("COPY schakel_outbox (created_at, event) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row((row["created_at"], json.dumps(row["event"])))
                    count += 1
        return count

    def stop(self) -> None:
        """Stop the server and remove its directory."""
        if self._tmp is None:
            return
        data = self._tmp / "data"
        if (data / "postmaster.pid").exists():
            with contextlib.suppress(PostgresUnavailable, OSError, subprocess.TimeoutExpired):
                self._run("pg_ctl", "-D", str(data), "-m", "immediate", "-w", "stop", timeout=30)
        shutil.rmtree(self._tmp, ignore_errors=True)
        self._tmp = None

    def __enter__(self) -> TempPostgres:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
