"""Schakel against a secured Apache Kafka (docs/operations.md, "A secured Kafka"): a cluster of
its own (fixture ``secured_kafka``: :class:`~schakel.kafka_cluster.KafkaCluster` with
``secured=True``, a SASL_SSL listener with PLAIN and SCRAM-SHA-512, and a listener that requires
a client certificate), and only the secured addresses given to Schakel.

- ``demo --bootstrap`` over SASL_SSL with SCRAM: the adapters, the worker (Faust), its read
  model and API (audited reads), topic creation and clean-up, every plaintext-free;
- ``replay --batch`` (confluent-kafka) over mutual TLS gives the signals of the same replay on
  the embedded broker — which runs with the secured settings in its environment, and ignores
  them (the embedded broker speaks plaintext);
- ``dlq list`` over SASL_SSL with PLAIN, the password from a file ending in a newline (as the
  Helm chart mounts it); with a wrong password: one line, exit 2, the password
  in no output; settings that cannot work: one line naming the variable before any
  connection;
- ``deploy/create_topics.py``, run as the Helm chart's setup Job runs it
  (:func:`tests.integration.test_create_topics.run_job`), over SASL_SSL with SCRAM and over
  mutual TLS: every topic as :mod:`tests.integration.test_create_topics` expects it (seen over
  the plaintext listener); refused (wrong password, no client certificate, untrusted CA): one
  line naming what to check, exit 2, nothing created;
- client files as they come (one PEM with the key, a chain, Windows files, a Kubernetes
  Secret mount), passed by the TLS check: every client library connects with them."""

from __future__ import annotations

import asyncio
import datetime
import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from schakel.broker import free_port
from schakel.kafka_cluster import KafkaCluster
from schakel.testpki import make_pki
from schakel.topics import ensure_topics
from schemas.kafka_client import KafkaSecurity
from schemas.wire import Wire
from tests.brokers import TestBroker
from tests.cli import run_cli
from tests.integration.test_create_topics import PARTITIONS, created_as_declared, on_broker, run_job

pytestmark = pytest.mark.kafka

WIJKTEAM = "urn:nld:oin:00000001234567890000:systeem:wijkteam"
SCENARIO = Path(__file__).resolve().parents[2] / "examples" / "scenario.jsonl"


def env_for(tmp_path: Path, **security: str) -> dict[str, str]:
    """This environment without any ``SCHAKEL_*`` variable, plus ``security`` (as
    ``SCHAKEL_KAFKA_<NAME>``)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCHAKEL_")}
    env.update(
        {
            "SCHAKEL_DATA_DIR": str(tmp_path / "var"),
            # the same subjects in every run
            "SCHAKEL_PSEUDONYM_KEY": "test-pseudonym-key-0123456789abcdef",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update({f"SCHAKEL_KAFKA_{name.upper()}": value for name, value in security.items()})
    return env


def sasl(cluster: KafkaCluster, mechanism: str, password: str | None = None) -> dict[str, str]:
    tls = cluster.tls
    user, secret = tls.user(mechanism)
    return {
        "security_protocol": "SASL_SSL",
        "ca_file": str(tls.ca_file),
        "sasl_mechanism": mechanism,
        "sasl_username": user,
        "sasl_password": password or secret,
    }


def mtls(cluster: KafkaCluster) -> dict[str, str]:
    tls = cluster.tls
    return {
        "security_protocol": "SSL",
        "ca_file": str(tls.ca_file),
        "cert_file": str(tls.client_cert_file),
        "key_file": str(tls.client_key_file),
    }


REFUSALS = ("password", "no-client-certificate", "untrusted-ca")
WRONG_PASSWORD = "niet-het-wachtwoord-42"


def refused_access(
    cluster: KafkaCluster, refusal: str, tmp_path: Path
) -> tuple[str, dict[str, str], str]:
    """A client that ``cluster`` answers but refuses (one of :data:`REFUSALS`): the secured
    listener it connects to, its security (as :func:`env_for` takes it), and the variable a
    message about the refusal must name."""
    if refusal == "password":
        security = sasl(cluster, "SCRAM-SHA-512", password=WRONG_PASSWORD)
        return cluster.sasl_ssl_bootstrap, security, "SCHAKEL_KAFKA_SASL_PASSWORD"
    if refusal == "no-client-certificate":
        security = {"security_protocol": "SSL", "ca_file": str(cluster.tls.ca_file)}
        return cluster.mtls_bootstrap, security, "SCHAKEL_KAFKA_CERT_FILE"
    other = make_pki(tmp_path / "other-pki")  # a CA that did not sign the broker's certificate
    security = {**mtls(cluster), "ca_file": str(other.ca)}
    return cluster.mtls_bootstrap, security, "SCHAKEL_KAFKA_CA_FILE"


def test_the_demo_runs_over_sasl_ssl_with_scram(
    secured_kafka: KafkaCluster, tmp_path: Path
) -> None:
    summary_file = tmp_path / "summary.json"
    result = run_cli(
        "demo",
        "--exit",
        "--bootstrap",
        secured_kafka.sasl_ssl_bootstrap,
        "--citizens",
        "100",
        "--no-postgres",
        "--summary-json",
        str(summary_file),
        "--port",
        str(free_port()),
        env=env_for(tmp_path, **sasl(secured_kafka, "SCRAM-SHA-512")),
        timeout=280,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert secured_kafka.tls.scram_password not in output
    summary: dict[str, Any] = json.loads(summary_file.read_text(encoding="utf-8"))
    assert summary["score"]["precision"] == summary["score"]["recall"] == 1.0, summary["score"]


def signals(result: Any) -> list[Any]:
    """The signals of ``replay --json`` (exit 3: the scenario holds one bad line on purpose)."""
    assert result.returncode == 3, (result.stdout + result.stderr)[-4000:]
    found: list[Any] = json.loads(result.stdout)["signalen"]
    return sorted(found, key=json.dumps)


def test_the_batch_path_over_mutual_tls_gives_the_signals_of_the_embedded_broker(
    secured_kafka: KafkaCluster, tmp_path: Path
) -> None:
    args = ("replay", "--batch", "--json", "--until", "2026-06-01", str(SCENARIO))
    # the embedded broker with the secured settings in the environment: ignored there
    embedded = run_cli(*args, env=env_for(tmp_path / "a", **mtls(secured_kafka)), timeout=180)
    over_tls = run_cli(
        *args,
        "--bootstrap",
        secured_kafka.mtls_bootstrap,
        env=env_for(tmp_path / "b", **mtls(secured_kafka)),
        timeout=180,
    )
    expected = signals(embedded)
    assert expected, "the scenario opens signals"
    assert signals(over_tls) == expected


def test_dlq_lists_over_sasl_ssl_with_plain(secured_kafka: KafkaCluster, tmp_path: Path) -> None:
    env = env_for(tmp_path, **sasl(secured_kafka, "PLAIN"))
    # the password from a file ending in a newline, as the Helm chart mounts a Secret made
    # --from-file: PLAIN sends it as it is, so a newline left in it would be refused
    password_file = tmp_path / "password"
    password_file.write_text(env.pop("SCHAKEL_KAFKA_SASL_PASSWORD") + "\n", encoding="utf-8")
    env["SCHAKEL_KAFKA_SASL_PASSWORD_FILE"] = str(password_file)
    env["SCHAKEL_KAFKA_BOOTSTRAP"] = secured_kafka.sasl_ssl_bootstrap
    env["SCHAKEL_PROFILE"] = "kafka"
    # dlq reads an existing namespace only (a missing dead-letter topic is exit 2): created
    # over the plaintext listener, in a namespace of this test's own
    env["SCHAKEL_NAMESPACE"] = "dlqsasl"
    ensure_topics(secured_kafka.bootstrap, partitions=1, wire=Wire("dlqsasl"))
    result = run_cli("dlq", "list", env=env, timeout=120)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    assert "dlq: 0 dead letter(s)" in result.stderr


@pytest.mark.parametrize("refusal", REFUSALS)
def test_a_refused_connection_is_one_line_naming_what_to_check(
    secured_kafka: KafkaCluster, tmp_path: Path, refusal: str
) -> None:
    """Kafka answers but refuses the client: a one-shot command says so in one line within
    seconds (kafka-python alone timed out after 30 s with "Unable to bootstrap", exit 75, as
    if Kafka were down), names the settings to check, exit 2; the password in no output."""
    bootstrap, security, check = refused_access(secured_kafka, refusal, tmp_path)
    env = env_for(tmp_path, **security)
    env["SCHAKEL_KAFKA_BOOTSTRAP"] = bootstrap
    env["SCHAKEL_PROFILE"] = "kafka"
    # dlq does not use the key: given it, it says so at start, a line of its own
    del env["SCHAKEL_PSEUDONYM_KEY"]
    started = time.monotonic()
    result = run_cli("dlq", "list", env=env, timeout=120)
    took = time.monotonic() - started
    assert result.returncode == 2, (result.stdout + result.stderr)[-3000:]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("schakel: KafkaRefused: "), result.stderr
    assert check in lines[0], lines[0]
    assert WRONG_PASSWORD not in result.stdout + result.stderr
    assert took < 25, f"{took:.0f} s: as long as kafka-python's bootstrap timeout"


@pytest.mark.parametrize("mode", ["SCRAM-SHA-512", "mTLS"])
def test_the_topics_job_creates_the_declared_topics_over_a_secured_listener(
    secured_kafka: KafkaCluster, tmp_path: Path, mode: str
) -> None:
    """``deploy/create_topics.py`` given only a secured address and its ``SCHAKEL_KAFKA_*``
    settings, in a namespace without topics: every topic as on a plaintext broker (checked
    over the plaintext listener, apart from the code under test)."""
    namespace = f"topics-{mode.lower()}"
    if mode == "mTLS":
        bootstrap, security = secured_kafka.mtls_bootstrap, mtls(secured_kafka)
    else:
        bootstrap, security = secured_kafka.sasl_ssl_bootstrap, sasl(secured_kafka, mode)
    assert on_broker(secured_kafka.bootstrap, namespace) == {}
    job = TestBroker("kafka", bootstrap, namespace, secured_kafka)
    result = run_job(job, PARTITIONS, env_for(tmp_path, **security))
    created_as_declared(result, secured_kafka.bootstrap, namespace)
    assert secured_kafka.tls.scram_password not in result.stdout + result.stderr


@pytest.mark.parametrize("refusal", REFUSALS)
def test_the_topics_job_refused_is_one_line_and_creates_nothing(
    secured_kafka: KafkaCluster, tmp_path: Path, refusal: str
) -> None:
    """The setup Job against a Kafka that refuses it: a configuration error (exit 2) in one
    line that names what to check — not kafka-python's "Unable to bootstrap" after 30 s (exit
    1), which read as an outage — the password in no output, and no topic created."""
    namespace = f"refused-{refusal}"
    bootstrap, security, check = refused_access(secured_kafka, refusal, tmp_path)
    job = TestBroker("kafka", bootstrap, namespace, secured_kafka)
    result = run_job(job, PARTITIONS, env_for(tmp_path, **security))
    assert result.returncode == 2, result.stdout + result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"create_topics: Kafka at {bootstrap} refused the connection"), line
    assert check in line, line
    assert WRONG_PASSWORD not in result.stdout + result.stderr
    assert result.stdout == ""
    assert on_broker(secured_kafka.bootstrap, namespace) == {}


@pytest.mark.parametrize(
    ("security", "named"),
    [
        ({"security_protocol": "SASL_SSL"}, "SCHAKEL_KAFKA_SASL_USERNAME"),
        ({"security_protocol": "SSL", "ca_file": "/nonexistent/ca.pem"}, "CA_FILE"),
    ],
)
def test_settings_that_cannot_work_stop_before_any_connection(
    security: dict[str, str], named: str, tmp_path: Path
) -> None:
    env = env_for(tmp_path, **security)
    env["SCHAKEL_KAFKA_BOOTSTRAP"] = "127.0.0.1:1"
    result = run_cli("dlq", "list", env=env, timeout=60)
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert named in line and line.startswith("schakel: "), line


def test_a_process_that_runs_on_stops_for_a_refusal_not_for_an_outage(
    secured_kafka: KafkaCluster, tmp_path: Path
) -> None:
    """The webhook waits out a Kafka that does not answer, but a Kafka that refuses its
    password is no outage: one line, exit 2, before it serves (it served, and retried the
    refusal for ever, before)."""
    env = env_for(tmp_path, **sasl(secured_kafka, "PLAIN", password=WRONG_PASSWORD))
    env.update(
        {
            "SCHAKEL_KAFKA_BOOTSTRAP": secured_kafka.sasl_ssl_bootstrap,
            "SCHAKEL_PROFILE": "kafka",
            "SCHAKEL_WEBHOOK_TOKENS": f"{WIJKTEAM}=webhook-token-123",
        }
    )
    result = run_cli(
        "adapter", "wijkteam", "--serve", "--port", str(free_port()), env=env, timeout=60
    )
    assert result.returncode == 2, (result.stdout + result.stderr)[-3000:]
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("schakel: KafkaRefused: ") and "SASL_PASSWORD" in line, line
    assert "webhook on" not in result.stdout


# --- the client files as they come, through KafkaSecurity to each client library ---------


def client_files_as_they_come(cluster: KafkaCluster, directory: Path) -> dict[str, Files]:
    """(ca, cert, key) of the forms the TLS check passes (schemas/tls_files.py), each signed
    by the cluster's CA: one PEM with certificate and key (no key file; the key first), an
    RSA certificate with its intermediate CA and a traditional ("BEGIN RSA PRIVATE KEY") key,
    a traditional EC key after its "EC PARAMETERS", Windows line endings with a byte order
    mark, and the symbolic links of a Kubernetes Secret mount."""
    tls = cluster.tls
    ca_key = serialization.load_pem_private_key((tls.ca_file.parent / "ca.key").read_bytes(), None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    ca = x509.load_pem_x509_certificate(tls.ca_file.read_bytes())
    intermediate_key = ec.generate_private_key(ec.SECP256R1())
    intermediate = signed(ca_key, ca.subject, "intermediate", intermediate_key, is_ca=True)
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    leaf = signed(intermediate_key, intermediate.subject, "rsa-client", rsa_key, is_ca=False)
    directory.mkdir(parents=True, exist_ok=True)

    def write(name: str, *parts: bytes) -> Path:
        (directory / name).write_bytes(b"".join(parts))
        return directory / name

    cert, key = tls.client_cert_file.read_bytes(), tls.client_key_file.read_bytes()
    pem = serialization.Encoding.PEM
    traditional = rsa_key.private_bytes(
        pem, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )
    client_key = serialization.load_pem_private_key(key, None)
    assert isinstance(client_key, ec.EllipticCurvePrivateKey)
    ec_traditional = client_key.private_bytes(
        pem, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )
    bom = b"\xef\xbb\xbf"
    data = directory / "secret" / "..2026_12_03"
    data.mkdir(parents=True)
    for name, content in (("ca.crt", tls.ca_file), ("tls.crt", tls.client_cert_file)):
        (data / name).write_bytes(content.read_bytes())
    (data / "tls.key").write_bytes(key)
    (data.parent / "..data").symlink_to(data.name)
    for name in ("ca.crt", "tls.crt", "tls.key"):
        (data.parent / name).symlink_to(f"..data/{name}")
    mounted = data.parent
    return {
        "one pem, no key file": (tls.ca_file, write("both.pem", cert, key), None),
        "one pem, the key first": (tls.ca_file, write("key-first.pem", key, cert), None),
        "rsa chain, traditional key": (
            tls.ca_file,
            write("chain.pem", leaf.public_bytes(pem), intermediate.public_bytes(pem)),
            write("rsa.key", traditional),
        ),
        "ec parameters before the key": (
            tls.ca_file,
            tls.client_cert_file,
            write("ec-params.key", EC_PARAMETERS, ec_traditional),
        ),
        "windows files": (
            write("ca-crlf.pem", bom, windows(tls.ca_file.read_bytes())),
            write("cert-crlf.pem", bom, windows(cert)),
            write("key-crlf.pem", bom, windows(key)),
        ),
        "kubernetes mount": (mounted / "ca.crt", mounted / "tls.crt", mounted / "tls.key"),
    }


Files = tuple[Path, Path, Path | None]
EC_PARAMETERS = b"-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n"
"""What ``openssl ecparam -genkey -name prime256v1`` writes before the key."""


def windows(text: bytes) -> bytes:
    return text.replace(b"\n", b"\r\n")


def signed(
    issuer_key: ec.EllipticCurvePrivateKey,
    issuer: x509.Name,
    name: str,
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey,
    *,
    is_ca: bool,
) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder(
            subject_name=x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]),
            issuer_name=issuer,
        )
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
        .sign(issuer_key, hashes.SHA256())
    )


def confluent_kafka_answers(bootstrap: str, security: KafkaSecurity) -> None:
    from confluent_kafka.admin import AdminClient

    admin = AdminClient({"bootstrap.servers": bootstrap, "log_level": 0, **security.librdkafka()})
    assert admin.list_topics(timeout=10).brokers


def kafka_python_answers(bootstrap: str, security: KafkaSecurity) -> None:
    from kafka import KafkaAdminClient

    admin = KafkaAdminClient(
        bootstrap_servers=bootstrap, bootstrap_timeout_ms=5000, **security.kafka_python()
    )
    try:
        assert isinstance(admin.list_topics(), list)
    finally:
        admin.close()


def aiokafka_answers(bootstrap: str, security: KafkaSecurity) -> None:
    from aiokafka import AIOKafkaProducer

    async def run() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, **security.aiokafka())
        await producer.start()
        await producer.stop()

    asyncio.run(run())


def test_client_files_as_they_come_work_with_every_client(
    secured_kafka: KafkaCluster, tmp_path: Path
) -> None:
    """What the TLS check passes, each client library connects with, over the listener that
    requires a client certificate: librdkafka too with one PEM holding the key (given as its
    ssl.key.location), a chain, a byte order mark."""
    failed = []
    for form, (ca, cert, key) in client_files_as_they_come(secured_kafka, tmp_path).items():
        security = KafkaSecurity("SSL", ca_file=ca, cert_file=cert, key_file=key)  # checked
        for client, answers in (
            ("confluent-kafka", confluent_kafka_answers),
            ("kafka-python", kafka_python_answers),
            ("aiokafka", aiokafka_answers),
        ):
            try:
                answers(secured_kafka.mtls_bootstrap, security)
            except Exception as exc:  # every failure is listed: which form, which client
                failed.append(f"{form} / {client}: {type(exc).__name__}: {exc}")
    assert not failed, failed
