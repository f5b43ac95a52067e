"""schemas/tls_files.py: the CA bundle, client certificate and key of Kafka
(``SCHAKEL_KAFKA_*``) and of the schema registry (``SCHAKEL_SCHEMA_REGISTRY_*``) are checked
when the process starts — a file that is missing, no file, unreadable, no PEM, a key that is
encrypted or not the certificate's stops it with one line naming the setting and the path,
never the file's content. Before, ``SCHAKEL_SCHEMA_REGISTRY_CA_FILE=/etc/passwd`` surfaced
as ``(SSLError)`` without setting or file, and a Kafka CA bundle that was no PEM only when
connecting. Real certificates from :func:`schakel.testpki.make_pki`."""

from __future__ import annotations

import argparse
import datetime
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from schakel import cli
from schakel.cli import main
from schakel.testpki import Pki, make_pki
from schemas.exceptions import SettingsError
from schemas.kafka_client import KafkaSecurity
from schemas.registry_client import RegistryConnection
from schemas.settings import TLS_FILES, CommonSettings, load_process_settings
from schemas.tls_files import not_after

MARKER = "inhoud-die-nooit-in-een-melding-staat"
"""Text in a file that is no PEM: a message must not quote it."""
PREFIXES = {"kafka": "SCHAKEL_KAFKA_", "registry": "SCHAKEL_SCHEMA_REGISTRY_"}


@pytest.fixture(autouse=True)
def no_schakel_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [k for k in os.environ if k.startswith("SCHAKEL_")]:
        monkeypatch.delenv(name)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(params=sorted(PREFIXES))
def connection(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def check(
    connection: str, ca: Path | None, cert: Path | None, key: Path | None
) -> KafkaSecurity | RegistryConnection:
    """The connection made from settings that name these files (Kafka: over SSL; the
    registry: at an https URL), as every process makes it at start."""
    field = PREFIXES[connection].removeprefix("SCHAKEL_").lower()
    values: dict[str, object] = {
        f"{field}ca_file": ca,
        f"{field}cert_file": cert,
        f"{field}key_file": key,
    }
    if connection == "kafka":
        settings = CommonSettings.model_validate({**values, "kafka_security_protocol": "SSL"})
        return KafkaSecurity.from_settings(settings)
    values["schema_registry_url"] = "https://registry.example:8081"
    return RegistryConnection.from_settings(CommonSettings.model_validate(values))


def combined(pki: Pki, key_first: bool = False) -> Path:
    """One PEM holding the client certificate and its key."""
    parts = [pki.client_cert.read_bytes(), pki.client_key.read_bytes()]
    path = pki.directory / ("key-first.pem" if key_first else "combined.pem")
    path.write_bytes(b"".join(reversed(parts) if key_first else parts))
    return path


def test_a_ca_a_certificate_and_its_key_pass(pki: Pki, connection: str) -> None:
    made = check(connection, pki.ca, pki.client_cert, pki.client_key)
    assert (made.ca_file, made.cert_file, made.key_file) == (
        pki.ca,
        pki.client_cert,
        pki.client_key,
    )
    assert check(connection, pki.ca, None, None).ca_file == pki.ca  # a CA alone: server TLS


@pytest.mark.parametrize("key_first", [False, True])
@pytest.mark.parametrize("as_key_too", [False, True])
def test_one_pem_with_the_certificate_and_its_key_passes(
    pki: Pki, connection: str, key_first: bool, as_key_too: bool
) -> None:
    both = combined(pki, key_first)
    made = check(connection, pki.ca, both, both if as_key_too else None)
    assert (made.cert_file, made.key_file) == (both, both if as_key_too else None)


def test_librdkafka_is_given_the_key_of_a_combined_certificate(pki: Pki) -> None:
    """librdkafka reads no key from ssl.certificate.location: without ssl.key.location it
    sends no client certificate (a TLS server requiring one saw none), while kafka-python
    and aiokafka (Python's load_cert_chain) take the key from the same file."""
    both = combined(pki)
    security = KafkaSecurity("SSL", ca_file=pki.ca, cert_file=both)
    options = security.librdkafka()
    assert options["ssl.certificate.location"] == options["ssl.key.location"] == str(both)
    assert security.ssl_context() is not None  # the Python clients' context loads it
    separate = KafkaSecurity(
        "SSL", ca_file=pki.ca, cert_file=pki.client_cert, key_file=pki.client_key
    )
    assert separate.librdkafka()["ssl.key.location"] == str(pki.client_key)


def encrypted(pki: Pki, traditional: bool) -> Path:
    key = serialization.load_pem_private_key(pki.client_key.read_bytes(), None)
    path = pki.directory / ("encrypted-traditional.key" if traditional else "encrypted.key")
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL
            if traditional
            else serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"wachtwoord"),
        )
    )
    return path


def text_file(pki: Pki, name: str, content: str) -> Path:
    path = pki.directory / name
    path.write_text(content)
    return path


Files = tuple[Path | None, Path | None, Path | None]
CASES: dict[str, tuple[Callable[[Pki], Files], str, str]] = {
    # case: (ca, cert, key; the setting named; what the message says, {path} the file)
    "ca missing": (
        lambda p: (p.directory / "nope.pem", None, None),
        "CA_FILE",
        "no such file: {path}",
    ),
    "ca under a file": (
        lambda p: (p.ca / "ca.pem", None, None),
        "CA_FILE",
        "no such file: {path}",
    ),
    "ca a directory": (
        lambda p: (p.directory, None, None),
        "CA_FILE",
        "{path} is a directory, not a file (give one PEM file",
    ),
    "ca no file": (
        lambda p: (fifo(p.directory / "fifo"), None, None),
        "CA_FILE",
        "{path} is not a regular file",
    ),
    "ca no pem (/etc/passwd)": (
        lambda p: (text_file(p, "passwd", f"root:x:0:0:{MARKER}:/root:/bin/sh\n"), None, None),
        "CA_FILE",
        "{path} holds no PEM certificate",
    ),
    "ca a key": (lambda p: (p.client_key, None, None), "CA_FILE", "holds no PEM certificate"),
    "ca der": (
        lambda p: (der(p, p.ca), None, None),
        "CA_FILE",
        "{path} holds no PEM certificate (binary: DER? convert it to PEM with openssl)",
    ),
    "key der": (
        lambda p: (p.ca, p.client_cert, der(p, p.client_key)),
        "KEY_FILE",
        "{path} holds no PEM private key (binary: DER?",
    ),
    "ca damaged": (
        lambda p: (text_file(p, "damaged.pem", damaged(p.ca.read_text())), None, None),
        "CA_FILE",
        "{path} does not load as PEM certificates",
    ),
    "key without certificate": (
        lambda p: (p.ca, None, p.client_key),
        "KEY_FILE",
        "needs {prefix}CERT_FILE",
    ),
    "certificate without its key": (
        lambda p: (p.ca, p.client_cert, None),
        "CERT_FILE",
        "{path} holds no private key: set {prefix}KEY_FILE",
    ),
    "certificate no pem": (
        lambda p: (p.ca, text_file(p, "cert.txt", MARKER), p.client_key),
        "CERT_FILE",
        "{path} holds no PEM certificate",
    ),
    "certificate missing": (
        lambda p: (p.ca, p.directory / "nope.pem", p.client_key),
        "CERT_FILE",
        "no such file: {path}",
    ),
    "key no key": (
        lambda p: (p.ca, p.client_cert, p.ca),
        "KEY_FILE",
        "{path} holds no PEM private key",
    ),
    "key not the certificate's": (
        lambda p: (p.ca, p.client_cert, p.server_key),
        "KEY_FILE",
        "the key in {path} does not belong to the certificate",
    ),
    "key encrypted (PKCS#8)": (
        lambda p: (p.ca, p.client_cert, encrypted(p, traditional=False)),
        "KEY_FILE",
        "the key in {path} is encrypted",
    ),
    "key encrypted (traditional)": (
        lambda p: (p.ca, p.client_cert, encrypted(p, traditional=True)),
        "KEY_FILE",
        "the key in {path} is encrypted",
    ),
}


def der(pki: Pki, pem: Path) -> Path:
    """The DER form of the certificate or key in ``pem``."""
    path = pki.directory / f"{pem.stem}-{pem.suffix[1:]}.der"
    if pem.suffix == ".key":
        key = serialization.load_pem_private_key(pem.read_bytes(), None)
        path.write_bytes(
            key.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    else:
        made = x509.load_pem_x509_certificate(pem.read_bytes())
        path.write_bytes(made.public_bytes(serialization.Encoding.DER))
    return path


def fifo(path: Path) -> Path:
    if not path.exists():
        os.mkfifo(path)
    return path


def damaged(pem: str) -> str:
    """``pem`` with characters in its base64 that are none."""
    head, body = pem.split("\n", 1)
    return head + "\n" + body.replace("M", "!", 3)


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_file_that_cannot_work_is_named_with_its_path_and_why(
    pki: Pki, connection: str, case: str
) -> None:
    files, setting, why = CASES[case]
    ca, cert, key = files(pki)
    named = {"CA_FILE": ca, "CERT_FILE": cert, "KEY_FILE": key}[setting]
    prefix = PREFIXES[connection]
    with pytest.raises(SettingsError) as refused:
        check(connection, ca, cert, key)
    message = str(refused.value)
    assert message.startswith(f"{prefix}{setting}"), message
    assert why.format(path=named, prefix=prefix) in message, message
    key_body = pki.client_key.read_text().splitlines()[1]
    assert MARKER not in message and key_body not in message
    assert "\n" not in message


def test_an_unreadable_file_is_named(
    pki: Pki, connection: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """(Simulated: the tests may run as root, who reads any file.)"""
    real = Path.read_bytes

    def read_bytes(path: Path) -> bytes:
        if path == pki.ca:
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    with pytest.raises(SettingsError) as refused:
        check(connection, pki.ca, None, None)
    setting = f"{PREFIXES[connection]}CA_FILE"
    assert str(refused.value) == f"{setting}: cannot read {pki.ca} (Permission denied)"


@pytest.fixture
def registry_at_start(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """A configured registry whose CA file is no PEM, and a Kafka nobody answers at."""
    not_pem = tmp_path / "passwd"
    not_pem.write_text(f"root:x:0:0:{MARKER}:/root:/bin/sh\n")
    monkeypatch.setenv("SCHAKEL_SCHEMA_REGISTRY_URL", "https://registry.example:8081")
    monkeypatch.setenv("SCHAKEL_SCHEMA_REGISTRY_CA_FILE", str(not_pem))
    monkeypatch.setenv("SCHAKEL_KAFKA_BOOTSTRAP", "127.0.0.1:1")
    monkeypatch.setenv("SCHAKEL_DATA_DIR", str(tmp_path / "var"))
    yield not_pem


@pytest.mark.parametrize("files", ["registry", "kafka"])
def test_a_process_stops_at_start_with_one_line(
    registry_at_start: Path,
    files: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Exit 2 and one line, before Kafka is asked (it would be exit 75: nobody answers)."""
    if files == "kafka":
        monkeypatch.delenv("SCHAKEL_SCHEMA_REGISTRY_URL")
        monkeypatch.setenv("SCHAKEL_KAFKA_SECURITY_PROTOCOL", "SSL")
        monkeypatch.setenv("SCHAKEL_KAFKA_CA_FILE", str(registry_at_start))
    assert main(["dlq", "list"]) == 2
    out, err = capsys.readouterr()
    setting = "SCHAKEL_KAFKA_CA_FILE" if files == "kafka" else "SCHAKEL_SCHEMA_REGISTRY_CA_FILE"
    assert not out
    assert err == f"schakel: {setting}: {registry_at_start} holds no PEM certificate\n"


def test_a_process_that_does_not_talk_to_the_registry_runs(
    registry_at_start: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """(Which process checks which files, and ``schakel config``:
    tests/unit/test_tls_at_start.py.)"""
    ran: list[str] = []

    def schemas(args: argparse.Namespace, settings: CommonSettings) -> int:
        ran.append(args.action)
        return 0

    monkeypatch.setattr(cli, "_cmd_schemas", schemas)
    assert main(["schemas", "check"]) == 0
    assert ran == ["check"]


@pytest.mark.parametrize("field", TLS_FILES)
def test_an_empty_value_is_no_file(field: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """``SCHAKEL_KAFKA_CA_FILE=`` was read as ``.`` (the working directory)."""
    monkeypatch.setenv(f"SCHAKEL_{field.upper()}", "")
    with pytest.raises(SettingsError) as refused:
        load_process_settings(CommonSettings)
    assert f"SCHAKEL_{field.upper()}: empty: unset the variable" in str(refused.value)


# --- files as they come: a byte order mark, expiry -----------------------------------------


BOM = b"\xef\xbb\xbf"
"""What Windows editors (Notepad) put before UTF-8 text."""


@pytest.mark.parametrize("which", ["certificate", "key", "combined", "ca"])
def test_a_byte_order_mark_before_the_pem_is_no_reason_to_refuse(
    pki: Pki, connection: str, which: str
) -> None:
    """OpenSSL loads such files, in Python's ssl and in librdkafka (every client connected
    with each of them to the secured Kafka test cluster); the check said "holds no PEM
    certificate" / "no PEM private key" of the certificate and key."""
    cert, ca = pki.client_cert, pki.ca
    key: Path | None = pki.client_key
    if which == "combined":
        cert, key = combined(pki), None
    marked = {"certificate": cert, "key": key, "combined": cert, "ca": ca}[which]
    assert marked is not None
    copy = pki.directory / f"bom-{which}{marked.suffix}"
    copy.write_bytes(BOM + marked.read_bytes())
    files = {"certificate": (ca, copy, key), "key": (ca, cert, copy), "combined": (ca, copy, None)}
    made = check(connection, *files.get(which, (copy, cert, key)))
    assert copy in (made.ca_file, made.cert_file, made.key_file)


def signed_by_the_ca(
    pki: Pki, name: str, not_before: datetime.datetime, not_after: datetime.datetime
) -> tuple[Path, Path]:
    """A client certificate and its key (PEM) of ``pki``'s CA, valid as given."""
    ca_key = serialization.load_pem_private_key((pki.directory / "ca.key").read_bytes(), None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    ca = x509.load_pem_x509_certificate(pki.ca.read_bytes())
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    certificate = (
        x509.CertificateBuilder(subject_name=subject, issuer_name=ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .sign(ca_key, hashes.SHA256())
    )
    cert_path, key_path = pki.directory / f"{name}.pem", pki.directory / f"{name}.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


NOW = datetime.datetime.now(datetime.UTC)
DAY = datetime.timedelta(days=1)


def test_an_expired_client_certificate_is_refused_with_its_date(pki: Pki, connection: str) -> None:
    """Every server that asks for the certificate refuses it, each client saying so its own
    way: librdkafka "alert certificate unknown" (Kafka), kafka-python a bootstrap timeout
    after 30 s, the registry client "Server disconnected" — which Schakel reported as the
    registry unavailable (exit 75, "retry later"), measured against the secured test cluster
    and a registry that requires client certificates."""
    expired = NOW - 2 * DAY
    cert, key = signed_by_the_ca(pki, "expired", NOW - 10 * DAY, expired)
    prefix = PREFIXES[connection]
    with pytest.raises(SettingsError) as refused:
        check(connection, pki.ca, cert, key)
    assert str(refused.value) == (
        f"{prefix}CERT_FILE: the certificate in {cert} expired on "
        f"{expired:%Y-%m-%d %H:%M} UTC; renew it (a server that asks for it refuses it)"
    )
    both = pki.directory / "expired-and-key.pem"
    both.write_bytes(key.read_bytes() + cert.read_bytes())  # the key first: still its date
    with pytest.raises(SettingsError, match=f"^{prefix}CERT_FILE: .* expired on"):
        check(connection, pki.ca, both, None)


@pytest.mark.parametrize(
    ("name", "not_before", "not_after"),
    [
        ("not-yet-valid", NOW + DAY, NOW + 30 * DAY),  # a clock behind: the server decides
        ("valid-past-2050", NOW - DAY, datetime.datetime(2061, 1, 1, tzinfo=datetime.UTC)),
        ("valid-minutes-more", NOW - DAY, NOW + datetime.timedelta(minutes=5)),
    ],
)
def test_a_certificate_that_has_not_expired_passes(
    pki: Pki,
    connection: str,
    name: str,
    not_before: datetime.datetime,
    not_after: datetime.datetime,
) -> None:
    """notAfter after 2049 is a GeneralizedTime, before it a UTCTime (RFC 5280)."""
    cert, key = signed_by_the_ca(pki, name, not_before, not_after)
    assert check(connection, pki.ca, cert, key).cert_file == cert


def test_the_expiry_read_is_the_certificates(pki: Pki) -> None:
    """:func:`schemas.tls_files.not_after` reads what ``cryptography`` reads, and nothing
    from a file that is no certificate (which the check refuses on other grounds)."""
    dates = [NOW - 3 * DAY, datetime.datetime(2061, 1, 1, 12, 30, 5, tzinfo=datetime.UTC)]
    for i, date in enumerate(dates):
        cert, _ = signed_by_the_ca(pki, f"dated-{i}", NOW - 9 * DAY, date)
        assert not_after(cert.read_bytes()) == date.replace(microsecond=0)
    made = x509.load_pem_x509_certificate(pki.client_cert.read_bytes())
    assert not_after(pki.client_cert.read_bytes()) == made.not_valid_after_utc
    assert not_after(b"-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n") is None
    assert not_after(pki.client_key.read_bytes()) is None
