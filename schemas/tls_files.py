"""The PEM files of a TLS connection — a CA bundle, a client certificate and its key —
checked before any connection (:func:`check_tls_files`), so a wrong file stops the process
at start with one line naming the setting, the path and why; before, a CA bundle that was
no PEM surfaced at the first connection, as ``SSLError`` or as each Kafka client's own error.

Contract, for the files of one connection (Kafka: ``SCHAKEL_KAFKA_*``; the schema registry:
``SCHAKEL_SCHEMA_REGISTRY_*``), each only when set:

- every file exists, is a regular file (a symbolic link to one is fine: Kubernetes mounts
  secrets so) and can be read;
- the CA bundle loads as PEM certificates, as every client loads it (Python's ``ssl`` for
  kafka-python, aiokafka and the registry client; OpenSSL in librdkafka);
- a key file needs a certificate file; a certificate file without a key file must hold its
  key itself (one PEM with both: Python's ``load_cert_chain`` takes the key from it, and
  :meth:`schemas.kafka_client.KafkaSecurity.librdkafka` gives librdkafka the same file as
  its key — which otherwise sends no certificate);
- the key is not encrypted: no setting holds a password for it (OpenSSL would ask for one
  on the terminal, or fail);
- the certificate and the key load together: the key belongs to the certificate;
- the client certificate (the first in its file) has not expired: every server that asks for
  it refuses it, and each client said so its own way — librdkafka at once, kafka-python after
  its bootstrap timeout, the registry client as a lost connection (an "outage"). One not yet
  valid passes (the clock of this host may be behind; the server decides), and so does an
  expired certificate in the CA bundle (system bundles hold some; others may verify).

A UTF-8 byte order mark before the first line (Windows editors) is fine, as it is for OpenSSL;
Windows line endings too. A DER file or a directory of hashed certificates is refused: every
client is given these files as one PEM file (Python's ``ssl`` of kafka-python, aiokafka and
Faust takes a CA *file*), so a directory would work for some clients and not for others.

Failing, :class:`~schemas.exceptions.SettingsError`; the message never quotes the files'
content (a key is a secret). Nothing is kept: the clients read the files themselves.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import re
import ssl
import stat
from pathlib import Path

from schemas.exceptions import SettingsError

_CERTIFICATE = re.compile(rb"^-----BEGIN (?:X509 |TRUSTED )?CERTIFICATE-----", re.MULTILINE)
_PRIVATE_KEY = re.compile(rb"^-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----", re.MULTILINE)
"""PKCS#8 (plain or ``ENCRYPTED``) and the traditional ``RSA``/``EC``/``DSA`` keys."""
_FIRST_CERTIFICATE = re.compile(
    rb"^-----BEGIN (?:X509 |TRUSTED )?CERTIFICATE-----\s*$(.*?)^-----END ",
    re.MULTILINE | re.DOTALL,
)
_BOM = b"\xef\xbb\xbf"
"""The UTF-8 byte order mark some editors write first; OpenSSL reads past it."""


class _Encrypted(Exception):
    """Raised by the password callback: the key asks for a password."""


def _no_password() -> str:
    raise _Encrypted


def _read(path: Path, setting: str) -> bytes:
    """The bytes of the regular file at ``path``; else :class:`SettingsError` naming
    ``setting`` and ``path``: missing, a directory or other non-file, unreadable."""
    try:
        mode = path.stat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        raise SettingsError(f"{setting}: no such file: {path}") from None
    except OSError as exc:
        raise SettingsError(f"{setting}: cannot read {path} ({exc.strerror})") from None
    if stat.S_ISDIR(mode):
        raise SettingsError(
            f"{setting}: {path} is a directory, not a file (give one PEM file; a directory of "
            "certificates as one: cat DIR/*.pem > bundle.pem)"
        )
    if not stat.S_ISREG(mode):
        raise SettingsError(f"{setting}: {path} is not a regular file")
    try:
        return path.read_bytes().removeprefix(_BOM)  # what the PEM checks read
    except OSError as exc:
        raise SettingsError(f"{setting}: cannot read {path} ({exc.strerror})") from None


def _der(content: bytes) -> str:
    """A hint for a file that is no PEM but may be DER (binary, starting as a SEQUENCE)."""
    return " (binary: DER? convert it to PEM with openssl)" if content[:1] == b"\x30" else ""


def _element(der: bytes, at: int) -> tuple[int, int, int]:
    """(tag, start, end of the content) of the DER element at offset ``at``."""
    tag, length, at = der[at], der[at + 1], at + 2
    if length & 0x80:
        count = length & 0x7F
        length, at = int.from_bytes(der[at : at + count], "big"), at + count
    if at + length > len(der):
        raise IndexError("truncated")
    return tag, at, at + length


def not_after(pem: bytes) -> datetime.datetime | None:
    """The end of the validity (UTC) of the first certificate in the PEM text ``pem``, or
    ``None`` if it holds none that can be read (RFC 5280: Certificate, TBSCertificate with
    an optional version, serialNumber, signature, issuer, then validity; a UTCTime's year
    ``YY`` is 19YY from 50, else 20YY; a GeneralizedTime ``YYYY``)."""
    found = _FIRST_CERTIFICATE.search(pem.removeprefix(_BOM))
    if found is None:
        return None
    try:
        der = base64.b64decode(found.group(1))  # line ends and spaces are left out
        _, at, _ = _element(der, 0)  # into Certificate
        _, at, _ = _element(der, at)  # into TBSCertificate
        tag, _, end = _element(der, at)
        if tag == 0xA0:  # [0] version: past it
            at = end
        for _field in ("serialNumber", "signature", "issuer"):
            at = _element(der, at)[2]
        _, at, _ = _element(der, at)  # into validity
        at = _element(der, at)[2]  # past notBefore
        tag, start, end = _element(der, at)  # notAfter
        text = der[start:end].decode("ascii")
        if tag == 0x17 and len(text) == 13:  # UTCTime YYMMDDHHMMSSZ
            text = ("19" if int(text[:2]) >= 50 else "20") + text
        elif tag != 0x18 or len(text) != 15:  # GeneralizedTime YYYYMMDDHHMMSSZ
            return None
        when = datetime.datetime.strptime(text, "%Y%m%d%H%M%SZ")
    except (IndexError, ValueError, binascii.Error, UnicodeDecodeError):
        return None
    return when.replace(tzinfo=datetime.UTC)


def _why(exc: ssl.SSLError) -> str:
    """OpenSSL's reason for ``exc`` (a code such as ``BAD_BASE64_DECODE``; never content)."""
    return str(exc.reason) if exc.reason else "a damaged PEM block"


def check_ca_file(path: Path, setting: str) -> None:
    """:class:`SettingsError` naming ``setting`` unless ``path`` is a readable PEM CA bundle
    with at least one certificate."""
    content = _read(path, setting)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    try:
        context.load_verify_locations(cafile=str(path))
    except ssl.SSLError as exc:
        if exc.reason != "NO_CERTIFICATE_OR_CRL_FOUND":
            raise SettingsError(
                f"{setting}: {path} does not load as PEM certificates ({_why(exc)})"
            ) from None
    except OSError as exc:  # gone or changed since it was read
        raise SettingsError(f"{setting}: cannot read {path} ({exc.strerror})") from None
    if not context.cert_store_stats()["x509"]:  # nothing, or revocation lists only
        raise SettingsError(f"{setting}: {path} holds no PEM certificate{_der(content)}")


def check_client_pair(
    cert: Path | None, key: Path | None, cert_setting: str, key_setting: str
) -> None:
    """:class:`SettingsError` naming the setting unless the client certificate ``cert`` and
    its key (``key``, or ``cert`` itself when ``key`` is ``None``) load together. Nothing to
    check when neither is set; a key without a certificate is refused."""
    if cert is None:
        if key is not None:
            raise SettingsError(f"{key_setting} needs {cert_setting}")
        return
    content = _read(cert, cert_setting)
    if _CERTIFICATE.search(content) is None:
        raise SettingsError(f"{cert_setting}: {cert} holds no PEM certificate{_der(content)}")
    if key is None:
        if _PRIVATE_KEY.search(content) is None:
            raise SettingsError(
                f"{cert_setting}: {cert} holds no private key: set {key_setting} to the key's "
                "file (or add the key to the certificate's file)"
            )
        key_setting = cert_setting
    else:
        key_content = _read(key, key_setting)
        if _PRIVATE_KEY.search(key_content) is None:
            raise SettingsError(f"{key_setting}: {key} holds no PEM private key{_der(key_content)}")
    key_path = key or cert
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    try:
        context.load_cert_chain(str(cert), str(key_path), password=_no_password)
    except _Encrypted:
        raise SettingsError(
            f"{key_setting}: the key in {key_path} is encrypted; no setting holds its password: "
            "give the key unencrypted (openssl pkey -in KEY -out KEY.plain), readable by this "
            "process only"
        ) from None
    except ssl.SSLError as exc:
        if exc.reason == "KEY_VALUES_MISMATCH":
            raise SettingsError(
                f"{key_setting}: the key in {key_path} does not belong to the certificate in "
                f"{cert} ({cert_setting})"
            ) from None
        raise SettingsError(
            f"{cert_setting} / {key_setting}: the certificate {cert} and key {key_path} do not "
            f"load ({_why(exc)})"
        ) from None
    except OSError as exc:  # gone or changed since it was read
        raise SettingsError(
            f"{cert_setting} / {key_setting}: cannot read {cert} or {key_path} ({exc.strerror})"
        ) from None
    expired = not_after(content)
    if expired is not None and expired < datetime.datetime.now(datetime.UTC):
        raise SettingsError(
            f"{cert_setting}: the certificate in {cert} expired on {expired:%Y-%m-%d %H:%M} "
            "UTC; renew it (a server that asks for it refuses it)"
        )


def check_tls_files(prefix: str, ca: Path | None, cert: Path | None, key: Path | None) -> None:
    """Check the files of one connection (module docstring): ``prefix`` names its settings,
    e.g. ``SCHAKEL_KAFKA_`` for ``SCHAKEL_KAFKA_CA_FILE``, ``_CERT_FILE`` and ``_KEY_FILE``."""
    check_client_pair(cert, key, f"{prefix}CERT_FILE", f"{prefix}KEY_FILE")
    if ca is not None:
        check_ca_file(ca, f"{prefix}CA_FILE")
