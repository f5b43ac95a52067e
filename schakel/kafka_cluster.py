"""Apache Kafka (KRaft) started by the project: for the test suite, failover tests and
``make kafka``. Not for production (docker-compose.yml runs the same version and settings).

Contract
--------
- The jars are the runtime classpath of ``org.apache.kafka:kafka_2.13`` resolved by
  ``deploy/kafka/pom.xml`` into ``deploy/kafka/target/libs`` (``make kafka-libs``; Maven caches
  them in ``~/.m2``). Nothing is downloaded here. Missing or stale jars (another version than the
  pom's) raise :class:`KafkaStartError` saying which command fetches them.
- :class:`KafkaCluster` ``(nodes=1)`` is one combined broker+controller; ``nodes=3`` is three of
  them forming a controller quorum of three. Every node listens on free 127.0.0.1 ports (a
  broker and a controller port each) and keeps them across restarts; data lives in ``workdir``
  (a fresh temporary folder unless given; removed by :meth:`KafkaCluster.stop` if temporary).
- :meth:`KafkaCluster.start` formats KRaft storage of every node (``kafka.tools.StorageTool``,
  one cluster id), writes each node's ``server.properties`` and log4j2 configuration, starts
  every node in its own process group, and returns once the cluster metadata lists every node
  as an unfenced broker. On failure nothing is left running and :class:`KafkaStartError` names
  the node and shows the end of its log.
- :meth:`KafkaCluster.stop` sends SIGTERM to every node's process group and SIGKILL to what is
  left after ``grace`` seconds; to a cluster in a temporary folder (removed right after) it
  sends SIGKILL at once. It also runs at interpreter exit for every cluster still up.
  A process killed with SIGKILL itself (pytest killed hard) cannot clean up: the nodes'
  process groups are then what remains; nothing else does.
- Failover: :meth:`KafkaCluster.stop_node` (SIGTERM, or SIGKILL with ``kill=True``) and
  :meth:`KafkaCluster.start_node` (same ports, same data, waits until it is an unfenced broker
  again); :meth:`KafkaCluster.leader` and :meth:`KafkaCluster.partition_leaders` read the
  partition leaders from the cluster metadata.
- ``secured=True``: every node also listens on two more 127.0.0.1 ports for clients, a
  ``SASL_SSL`` listener (mechanisms ``PLAIN`` and ``SCRAM-SHA-512``;
  :attr:`KafkaCluster.sasl_ssl_bootstrap`) and an ``SSL`` listener that requires a client
  certificate (mutual TLS; :attr:`KafkaCluster.mtls_bootstrap`). The PLAINTEXT listener, the
  controller listener and inter-broker traffic stay PLAINTEXT. :meth:`KafkaCluster.start`
  writes a fresh CA, a server certificate (127.0.0.1, localhost) and a client certificate into
  ``workdir/tls`` (:mod:`schakel.testpki`, needs ``cryptography``); :attr:`KafkaCluster.tls`
  (:class:`ClusterTls`) names the PEM files and the two users. The PLAIN user is in the
  listener's JAAS configuration; the SCRAM-SHA-512 user is written into the metadata log by
  the storage format (``--add-scram``), so it exists before any client connects. ``start``
  returns once the secured ports accept connections too.
- :func:`broker_settings` is the one statement of the broker settings the tests run with;
  ``docker-compose.yml`` sets those of one node (``tests/unit/test_deploy.py`` compares them).

Not guaranteed: durability past the operating system's page cache (Kafka does not fsync each
record; replication is what makes a write durable), or ports that stay free between two runs.
"""

from __future__ import annotations

import argparse
import atexit
import base64
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TypeVar

from defusedxml import ElementTree
from kafka import KafkaAdminClient
from kafka.errors import (
    KafkaConnectionError,
    KafkaError,
    NodeNotReadyError,
    UnknownTopicOrPartitionError,
)

from schakel.arguments import port_number
from schakel.broker import BrokerStartError, end_process, free_ports, signal_group
from schemas.settings import child_environment

ROOT = Path(__file__).resolve().parents[1]
POM = ROOT / "deploy" / "kafka" / "pom.xml"
LIBS = ROOT / "deploy" / "kafka" / "target" / "libs"
HOST = "127.0.0.1"
_T = TypeVar("_T")
FETCH_HINT = "make kafka-libs (mvn -q -f deploy/kafka/pom.xml dependency:copy-dependencies)"

# JVM: small heap, quick start (2 cores in CI). C1 only starts faster and is plenty for tests.
JVM_OPTIONS = (
    "-Xms128m",
    "-Xmx512m",
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1",
    "-XX:-UsePerfData",
    "-Djava.awt.headless=true",
)

LOG4J2 = """\
appender.out.type = Console
appender.out.name = OUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p [node {node_id}] %m (%c)%n
rootLogger.level = {level}
rootLogger.appenderRef.out.ref = OUT
logger.state.name = state.change.logger
logger.state.level = WARN
"""


class KafkaStartError(BrokerStartError):
    """Apache Kafka could not be started (no Java, no jars, a node that exits or stays
    fenced). Permanent for the run: the test suite fails on it, it never skips."""


def broker_settings(nodes: int) -> dict[str, str]:
    """The broker settings of a cluster of ``nodes`` (1 or 3), apart from each node's id,
    listeners, quorum and log directory. ``docker-compose.yml`` sets ``broker_settings(1)``."""
    if nodes not in (1, 3):
        raise ValueError("nodes: 1 or 3")
    replicas = str(nodes)
    min_isr = "1" if nodes == 1 else "2"
    return {
        # Topics are created explicitly with their declared partitions and cleanup policy.
        "auto.create.topics.enable": "false",
        # A consumer group starts at once instead of waiting for more members (default 3 s).
        "group.initial.rebalance.delay.ms": "0",
        "offsets.topic.replication.factor": replicas,
        "transaction.state.log.replication.factor": replicas,
        "transaction.state.log.min.isr": min_isr,
        "share.coordinator.state.topic.replication.factor": replicas,
        "share.coordinator.state.topic.min.isr": min_isr,
        "min.insync.replicas": min_isr,
        "default.replication.factor": replicas,
        # Retention of delete-policy topics: one year (compose: KAFKA_RETENTION_HOURS).
        "log.retention.hours": "8760",
    }


def pom_property(pom: Path, name: str, error: type[BrokerStartError] = KafkaStartError) -> str:
    """The ``<name>`` property of the Maven project ``pom``: the version a ``deploy/*/pom.xml``
    pins for a JVM program the tests start; ``error`` when the pom has none."""
    namespace = {"m": "http://maven.apache.org/POM/4.0.0"}
    found = ElementTree.parse(pom).getroot().findtext(f"m:properties/m:{name}", "", namespace)
    if not found:
        raise error(f"{pom}: no <{name}> property")
    return str(found)


def kafka_version(pom: Path = POM) -> str:
    """The Kafka version pinned in ``deploy/kafka/pom.xml``."""
    return pom_property(pom, "kafka.version")


def kafka_classpath(libs: Path = LIBS, version: str | None = None) -> str:
    """The classpath of the fetched jars; :class:`KafkaStartError` when they are missing or of
    another version than the pom's."""
    version = version or kafka_version()
    if not (libs / f"kafka_2.13-{version}.jar").is_file():
        raise KafkaStartError(f"Kafka {version} jars missing in {libs}: run {FETCH_HINT}")
    return str(libs / "*")


@dataclass(frozen=True)
class ClusterTls:
    """What a client needs for the secured listeners of a ``secured`` cluster: the CA that
    signed the brokers' certificate, a client certificate and its key (PEM, unencrypted) for
    the mutual-TLS listener, and the users of the SASL_SSL listener."""

    ca_file: Path
    client_cert_file: Path
    client_key_file: Path
    plain_user: str
    plain_password: str
    scram_user: str
    scram_password: str

    def user(self, mechanism: str) -> tuple[str, str]:
        """The user and password of the SASL ``mechanism``: ``PLAIN`` or ``SCRAM-SHA-512``."""
        if mechanism == "PLAIN":
            return self.plain_user, self.plain_password
        if mechanism == "SCRAM-SHA-512":
            return self.scram_user, self.scram_password
        raise ValueError(f"no user of the SASL mechanism {mechanism!r}")


@dataclass
class KafkaNode:
    """One combined broker+controller: its id, ports, folder and (while up) process."""

    node_id: int
    port: int
    controller_port: int
    directory: Path
    sasl_ssl_port: int = 0
    mtls_port: int = 0
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def bootstrap(self) -> str:
        return f"{HOST}:{self.port}"

    @property
    def client_ports(self) -> list[int]:
        """The ports clients connect to: PLAINTEXT, then the secured ones if any."""
        return [p for p in (self.port, self.sasl_ssl_port, self.mtls_port) if p]

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def log(self) -> Path:
        return self.directory / "server.log"

    def log_tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""


def _cluster_id() -> str:
    """A random Kafka Uuid (22 characters of URL-safe base64), not starting with '-' (that
    would read as an option of StorageTool)."""
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not text.startswith("-"):
            return text


def _listening(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=0.5):
            return True
    except OSError:
        return False


_LIVE: set[KafkaCluster] = set()
_LIVE_LOCK = threading.Lock()


@atexit.register
def _stop_all() -> None:
    with _LIVE_LOCK:
        clusters = list(_LIVE)
    for cluster in clusters:
        cluster.stop()


class KafkaCluster:
    """One node or a cluster of three on 127.0.0.1 (see the module docstring for the contract).

    ``port`` fixes the broker port of a single node (``make kafka``); ``settings`` are added
    to (or override) :func:`broker_settings`; ``log_level`` is Kafka's root log level;
    ``secured`` adds a SASL_SSL and a mutual-TLS listener to every node."""

    def __init__(
        self,
        nodes: int = 1,
        *,
        port: int | None = None,
        workdir: Path | None = None,
        settings: Mapping[str, str] | None = None,
        java: str | None = None,
        libs: Path = LIBS,
        log_level: str = "WARN",
        secured: bool = False,
    ) -> None:
        if port is not None and nodes != 1:
            raise ValueError("port: only for a single node")
        self.settings = {**broker_settings(nodes), **(settings or {})}
        self.version = kafka_version()
        self._classpath = kafka_classpath(libs, self.version)
        self._java = java or os.environ.get("JAVA", "java")
        self._log_level = log_level
        self._temporary = workdir is None
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix="schakel-kafka-"))
        self.secured = secured
        per_node = 4 if secured else 2
        ports = free_ports(per_node * nodes)
        if port is not None:
            ports[0] = port
        self.nodes: dict[int, KafkaNode] = {}
        for i in range(1, nodes + 1):
            mine = ports[per_node * (i - 1) : per_node * i]
            node = KafkaNode(i, mine[0], mine[1], self.workdir / f"node-{i}")
            if secured:
                node.sasl_ssl_port, node.mtls_port = mine[2], mine[3]
            self.nodes[i] = node
        self._tls: ClusterTls | None = None
        if secured:
            tls_dir = self.workdir / "tls"
            self._tls = ClusterTls(
                ca_file=tls_dir / "ca.pem",
                client_cert_file=tls_dir / "client.pem",
                client_key_file=tls_dir / "client.key",
                plain_user="schakel-plain",
                plain_password=secrets.token_hex(8),
                scram_user="schakel-scram",
                scram_password=secrets.token_hex(8),
            )

    # ------------------------------------------------------------------ addresses
    @property
    def bootstrap(self) -> str:
        """Every node's broker address, comma separated (what clients are given)."""
        return ",".join(node.bootstrap for node in self.nodes.values())

    def _secured_bootstrap(self, port: Callable[[KafkaNode], int]) -> str:
        if not self.secured:
            raise ValueError("not a secured cluster: KafkaCluster(..., secured=True)")
        running = [n for n in self.nodes.values() if n.running] or list(self.nodes.values())
        return ",".join(f"{HOST}:{port(n)}" for n in running)

    @property
    def sasl_ssl_bootstrap(self) -> str:
        """The SASL_SSL listener (PLAIN, SCRAM-SHA-512) of every running node, comma separated
        (of every node while none runs); ``ValueError`` unless ``secured``."""
        return self._secured_bootstrap(lambda node: node.sasl_ssl_port)

    @property
    def mtls_bootstrap(self) -> str:
        """The SSL listener that requires a client certificate, of every running node (of
        every node while none runs); ``ValueError`` unless ``secured``."""
        return self._secured_bootstrap(lambda node: node.mtls_port)

    @property
    def tls(self) -> ClusterTls:
        """CA, client certificate and users of the secured listeners (the files exist once
        :meth:`start` ran); ``ValueError`` unless ``secured``."""
        if self._tls is None:
            raise ValueError("not a secured cluster: KafkaCluster(..., secured=True)")
        return self._tls

    def admin(self, timeout_ms: int = 5000) -> KafkaAdminClient:
        """An admin client bootstrapped from the nodes that run now; the caller closes it."""
        running = [node.bootstrap for node in self.nodes.values() if node.running]
        return KafkaAdminClient(
            bootstrap_servers=",".join(running) or self.bootstrap,
            client_id="schakel-kafka-cluster",
            request_timeout_ms=timeout_ms,
        )

    # ------------------------------------------------------------------ lifecycle
    def start(self, timeout: float = 120.0) -> KafkaCluster:
        """Format, start every node, wait until all are unfenced brokers."""
        with _LIVE_LOCK:
            _LIVE.add(self)
        try:
            cluster_id = _cluster_id()
            scram: list[str] = []
            if self._tls is not None:
                from schakel.testpki import make_pki  # here: cryptography is a dev dependency

                pki = make_pki(self._tls.ca_file.parent)
                keystore = pki.server_key.read_bytes() + pki.server_cert.read_bytes()
                (pki.directory / "server-keystore.pem").write_bytes(keystore)
                user, password = self._tls.scram_user, self._tls.scram_password
                scram = ["--add-scram", f"SCRAM-SHA-512=[name={user},password={password}]"]
            formats = []
            for node in self.nodes.values():
                self._write_config(node)
                config = str(node.directory / "server.properties")
                formats.append(self._tool("format", "-t", cluster_id, "-c", config, *scram))
            for process in formats:  # in parallel: each is a JVM start
                self._finish_tool(process)
            for node in self.nodes.values():
                self._spawn(node)
            self.wait_ready(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self, grace: float = 30.0) -> None:
        """Stop every node (SIGTERM, SIGKILL after ``grace`` s); remove a temporary workdir.
        A temporary cluster is killed at once: its data is removed anyway, and three nodes
        stopping together wait out the whole grace (their controlled shutdowns need a
        controller quorum that is stopping too: 30 s per test run, measured)."""
        processes = [n.process for n in self.nodes.values() if n.process is not None]
        for process in processes:  # all at once: a quorum stops together
            signal_group(process, signal.SIGKILL if self._temporary else signal.SIGTERM)
        deadline = time.monotonic() + grace
        for process in processes:
            end_process(process, max(0.1, deadline - time.monotonic()))
        for node in self.nodes.values():
            node.process = None
        with _LIVE_LOCK:
            _LIVE.discard(self)
        if self._temporary:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def stop_node(self, node_id: int, *, kill: bool = False, grace: float = 30.0) -> None:
        """Take one node down: SIGTERM (controlled shutdown) or, with ``kill``, SIGKILL."""
        node = self.nodes[node_id]
        if node.process is None:
            return
        if kill:
            signal_group(node.process, signal.SIGKILL)
            node.process.wait(10)
        else:
            end_process(node.process, grace)
        node.process = None

    def start_node(self, node_id: int, timeout: float = 60.0) -> None:
        """Start a stopped node again (same ports and data); wait until it is an unfenced
        broker in the metadata."""
        node = self.nodes[node_id]
        if node.running:
            return
        self._spawn(node)
        self.wait_ready(timeout, [node_id])

    def wait_ready(self, timeout: float = 60.0, node_ids: Sequence[int] | None = None) -> None:
        """Block until the metadata lists ``node_ids`` (default: all) as unfenced brokers."""
        wanted = set(node_ids or self.nodes)
        deadline = time.monotonic() + timeout
        problem = "no answer yet"
        while time.monotonic() < deadline:
            for node_id in wanted:
                node = self.nodes[node_id]
                if node.process is None:
                    raise KafkaStartError(f"Kafka node {node_id} is not running (stopped)")
                if node.process.poll() is not None:
                    raise KafkaStartError(
                        f"Kafka node {node_id} exited with code {node.process.returncode}:\n"
                        f"{node.log_tail()}"
                    )
            if not all(_listening(p) for i in wanted for p in self.nodes[i].client_ports):
                problem = "ports not open yet"
                time.sleep(0.1)
                continue
            try:
                live = self.live_brokers()
            except (KafkaError, OSError) as exc:
                problem = f"{type(exc).__name__}: {exc}"
            else:
                if wanted <= live:
                    return
                problem = f"unfenced brokers {sorted(live)}, waiting for {sorted(wanted)}"
            time.sleep(0.25)
        tails = "\n".join(self.nodes[i].log_tail(1500) for i in sorted(wanted))
        raise KafkaStartError(f"Kafka not ready within {timeout:.0f}s ({problem}):\n{tails}")

    # ------------------------------------------------------------------ metadata
    def live_brokers(self) -> set[int]:
        """Ids of the unfenced brokers in the cluster metadata."""
        brokers = self.ask(lambda admin: admin.describe_cluster()["brokers"])
        return {int(b["broker_id"]) for b in brokers if not b.get("is_fenced", False)}

    def partition_leaders(self, topic: str) -> dict[int, int]:
        """Partition → id of its leader node (-1 while it has none); empty while the node asked
        does not know the topic yet (just created: each node learns it from the metadata log
        on its own, and a fresh admin client may ask one that has not)."""
        (described,) = self.ask(lambda admin: admin.describe_topics([topic]))
        code = described.get("error_code", 0)
        if code == UnknownTopicOrPartitionError.errno:
            return {}
        if code:
            raise KafkaError(f"describe {topic}: error code {code}")
        return {int(p["partition_index"]): int(p["leader_id"]) for p in described["partitions"]}

    def ask(self, question: Callable[[KafkaAdminClient], _T], timeout: float = 20.0) -> _T:
        """``question(admin)`` with a fresh admin client. Asked again on a connection error:
        until the controller fences a node that went down, the metadata still names it and
        the client may send the request there."""
        deadline = time.monotonic() + timeout
        while True:
            admin = self.admin()
            try:
                return question(admin)
            except (KafkaConnectionError, NodeNotReadyError):
                if time.monotonic() > deadline:
                    raise
            finally:
                admin.close()
            time.sleep(0.2)

    def leader(self, topic: str, partition: int) -> int:
        """Id of the node that leads ``topic``/``partition`` now (-1: none, or not known yet
        to the node asked)."""
        return self.partition_leaders(topic).get(partition, -1)

    # ------------------------------------------------------------------ internals
    def _tool(self, *args: str) -> subprocess.Popen[str]:
        if shutil.which(self._java) is None:
            raise KafkaStartError(f"no Java: {self._java!r} not found (Java 17+; set JAVA)")
        return subprocess.Popen(  # noqa: S603 - fixed program, our own arguments
            [self._java, "-cp", self._classpath, "kafka.tools.StorageTool", *args],
            env=child_environment(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    @staticmethod
    def _finish_tool(process: subprocess.Popen[str]) -> None:
        output, _ = process.communicate(timeout=120)
        if process.returncode != 0:
            raise KafkaStartError(f"kafka.tools.StorageTool failed: {output[-2000:]}")

    def _write_config(self, node: KafkaNode) -> None:
        node.directory.mkdir(parents=True, exist_ok=True)
        voters = ",".join(f"{n.node_id}@{HOST}:{n.controller_port}" for n in self.nodes.values())
        properties = {
            "process.roles": "broker,controller",
            "node.id": str(node.node_id),
            "controller.quorum.voters": voters,
            "listeners": f"PLAINTEXT://{HOST}:{node.port},CONTROLLER://{HOST}:{node.controller_port}",
            "advertised.listeners": f"PLAINTEXT://{HOST}:{node.port}",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "inter.broker.listener.name": "PLAINTEXT",
            "controller.listener.names": "CONTROLLER",
            "log.dirs": str(node.directory / "data"),
            **self._secured_properties(node),
            **self.settings,
        }
        text = "".join(f"{key}={value}\n" for key, value in properties.items())
        (node.directory / "server.properties").write_text(text)
        (node.directory / "log4j2.properties").write_text(
            LOG4J2.format(node_id=node.node_id, level=self._log_level)
        )

    def _secured_properties(self, node: KafkaNode) -> dict[str, str]:
        """The SASL_SSL and mutual-TLS listeners (nothing unless ``secured``): PEM files read
        by Kafka itself (ssl.keystore.type=PEM), the PLAIN user in the listener's JAAS config;
        the SCRAM user comes from the storage format (``--add-scram``)."""
        tls = self._tls
        if tls is None:
            return {}
        directory = tls.ca_file.parent
        plain = (
            "org.apache.kafka.common.security.plain.PlainLoginModule required "
            f'user_{tls.plain_user}="{tls.plain_password}";'
        )
        scram = "org.apache.kafka.common.security.scram.ScramLoginModule required;"
        ssl = {
            "ssl.keystore.type": "PEM",
            "ssl.keystore.location": str(directory / "server-keystore.pem"),
            "ssl.truststore.type": "PEM",
            "ssl.truststore.location": str(directory / "ca.pem"),
        }
        plaintext = f"PLAINTEXT://{HOST}:{node.port}"
        secured = f"SASL_SSL://{HOST}:{node.sasl_ssl_port},MTLS://{HOST}:{node.mtls_port}"
        return {
            "listeners": f"{plaintext},{secured},CONTROLLER://{HOST}:{node.controller_port}",
            "advertised.listeners": f"{plaintext},{secured}",
            "listener.security.protocol.map": (
                "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL,MTLS:SSL"
            ),
            "sasl.enabled.mechanisms": "PLAIN,SCRAM-SHA-512",
            "listener.name.sasl_ssl.sasl.enabled.mechanisms": "PLAIN,SCRAM-SHA-512",
            "listener.name.sasl_ssl.plain.sasl.jaas.config": plain,
            "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config": scram,
            **{f"listener.name.sasl_ssl.{key}": value for key, value in ssl.items()},
            **{f"listener.name.mtls.{key}": value for key, value in ssl.items()},
            "listener.name.mtls.ssl.client.auth": "required",
        }

    def _spawn(self, node: KafkaNode) -> None:
        command = [
            self._java,
            *JVM_OPTIONS,
            f"-Dlog4j2.configurationFile={node.directory / 'log4j2.properties'}",
            f"-Dkafka.logs.dir={node.directory}",
            "-cp",
            self._classpath,
            "kafka.Kafka",
            str(node.directory / "server.properties"),
        ]
        with node.log.open("ab") as output:
            node.process = subprocess.Popen(  # noqa: S603 - fixed program, our own arguments
                command,
                env=child_environment(),  # no SCHAKEL_* variable: Kafka reads none
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def __enter__(self) -> KafkaCluster:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def main(argv: Sequence[str] | None = None) -> int:
    """``make kafka``: one node in the foreground until Ctrl-C or SIGTERM."""
    parser = argparse.ArgumentParser(
        prog="python -m schakel.kafka_cluster", description=main.__doc__
    )
    port = port_number(any_free=False)
    parser.add_argument(
        "--port",
        type=port,
        default=None,
        help="the node's port on 127.0.0.1 (default: KAFKA_PORT, else 9092)",
    )
    parser.add_argument("--log-level", default="WARN", help="Kafka's root log level")
    args = parser.parse_args(argv)
    if args.port is None:  # checked as --port is, named as what it came from
        try:
            args.port = port(os.environ.get("KAFKA_PORT", "9092"))
        except argparse.ArgumentTypeError as exc:
            parser.error(f"KAFKA_PORT: {exc}")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        cluster = KafkaCluster(1, port=args.port, log_level=args.log_level).start()
    except BrokerStartError as exc:
        print(f"kafka: {exc}", file=sys.stderr)
        return 1
    node = cluster.nodes[1]
    print(f"kafka: Apache Kafka {cluster.version} (KRaft, one node) on {cluster.bootstrap}")
    print(f"kafka: log {node.log}; data is removed when it stops (Ctrl-C)")
    print(f"kafka: export SCHAKEL_KAFKA_BOOTSTRAP={cluster.bootstrap}", flush=True)
    try:
        while node.running:
            time.sleep(0.5)
        print(f"kafka: the node exited:\n{node.log_tail()}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        cluster.stop()


if __name__ == "__main__":
    sys.exit(main())
