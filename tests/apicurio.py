"""Apicurio Registry for the tests: a Confluent-compatible schema registry that is not Schakel's
own (:mod:`schakel.registry_server`), to check the registry client and ``schakel schemas
register`` against a registry written by others.

Contract
--------
- The program is Apicurio Registry's own distribution,
  ``io.apicurio:apicurio-registry-app:<apicurio.version>:all:tar.gz`` from Maven Central, which
  ``deploy/registry/pom.xml`` unpacks into ``deploy/registry/target/apicurio`` (``make
  registry-libs``; Maven caches it in ``~/.m2``). Nothing is downloaded here; a missing or
  stale unpack (another version than the pom's) raises :class:`ApicurioStartError` naming the
  command that fetches it.
- :meth:`ApicurioRegistry.start` runs it (Quarkus, ``java -jar``; Java 17+ from ``JAVA`` or
  ``java``) on 127.0.0.1 and a free port, with the JVM options of the Kafka nodes
  (:data:`schakel.kafka_cluster.JVM_OPTIONS`) and its default storage, H2 in memory: every
  start is an empty registry, nothing is written to disk but the log (``workdir/registry.log``).
  The process is started and stopped by :mod:`tests.processes` (a session of its own). It
  returns once ``GET /apis/ccompat/v7/subjects`` answers 200; if the process exits first or
  no answer comes within ``timeout``, the process is stopped and :class:`ApicurioStartError`
  shows the end of its log.
- :attr:`ApicurioRegistry.url` is the base of its Confluent-compatible API
  (``…/apis/ccompat/v7``): what ``SCHAKEL_SCHEMA_REGISTRY_URL`` is set to.
- :meth:`ApicurioRegistry.stop`: SIGTERM to its process group, SIGKILL after ``grace``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from schakel.broker import BrokerStartError, free_port
from schakel.kafka_cluster import HOST, JVM_OPTIONS, pom_property
from schemas.settings import child_environment
from tests.processes import ROOT, start, stop

POM = ROOT / "deploy" / "registry" / "pom.xml"
APP = ROOT / "deploy" / "registry" / "target" / "apicurio"
FETCH_HINT = "make registry-libs (mvn -q -f deploy/registry/pom.xml dependency:unpack)"
CCOMPAT = "/apis/ccompat/v7"


class ApicurioStartError(BrokerStartError):
    """Apicurio Registry could not be started (no Java, no unpacked distribution, a process
    that exits or does not answer). The tests that need it fail on it; they never skip."""


def apicurio_version(pom: Path = POM) -> str:
    """The Apicurio Registry version pinned in ``deploy/registry/pom.xml``."""
    return pom_property(pom, "apicurio.version", ApicurioStartError)


def runner_jar(app: Path = APP, version: str | None = None) -> Path:
    """The distribution's runnable jar; :class:`ApicurioStartError` when it is missing or of
    another version than the pom's."""
    version = version or apicurio_version()
    jar = app / f"apicurio-registry-app-{version}-runner.jar"
    if not jar.is_file():
        raise ApicurioStartError(f"Apicurio Registry {version} missing in {app}: run {FETCH_HINT}")
    return jar


class ApicurioRegistry:
    """One Apicurio Registry in memory on 127.0.0.1 (see the module docstring)."""

    def __init__(self, workdir: Path, *, java: str | None = None, app: Path = APP) -> None:
        self.version = apicurio_version()
        self._jar = runner_jar(app, self.version)
        self._java = java or os.environ.get("JAVA", "java")
        self.workdir = workdir
        self.port = free_port(HOST)
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The base URL of the Confluent-compatible API."""
        return f"http://{HOST}:{self.port}{CCOMPAT}"

    @property
    def log(self) -> Path:
        return self.workdir / "registry.log"

    def log_tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""

    def start(self, timeout: float = 120.0) -> ApicurioRegistry:
        """Start the registry and wait until its Confluent-compatible API answers."""
        if shutil.which(self._java) is None:
            raise ApicurioStartError(f"no Java: {self._java!r} not found (Java 17+; set JAVA)")
        self.workdir.mkdir(parents=True, exist_ok=True)
        command = [
            self._java,
            *JVM_OPTIONS,
            f"-Dquarkus.http.host={HOST}",
            f"-Dquarkus.http.port={self.port}",
            "-jar",
            str(self._jar),
        ]
        # no SCHAKEL_* variable: the registry reads none
        self.process = start(command, self.log, env=child_environment(), cwd=self.workdir)
        try:
            self._wait_ready(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self, timeout: float) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        problem = "no answer yet"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ApicurioStartError(
                    f"Apicurio Registry exited with code {self.process.returncode}:\n"
                    f"{self.log_tail()}"
                )
            try:
                with urllib.request.urlopen(f"{self.url}/subjects", timeout=2) as answer:
                    if answer.status == 200:
                        return
                    problem = f"HTTP {answer.status}"
            except urllib.error.HTTPError as exc:
                problem = f"HTTP {exc.code}"
            except OSError as exc:
                problem = type(exc).__name__
            time.sleep(0.25)
        raise ApicurioStartError(
            f"Apicurio Registry not ready within {timeout:.0f}s ({problem}):\n{self.log_tail()}"
        )

    def stop(self, grace: float = 30.0) -> None:
        """Stop the registry (SIGTERM, SIGKILL after ``grace`` s)."""
        if self.process is not None:
            stop(self.process, grace=grace)
            self.process = None
