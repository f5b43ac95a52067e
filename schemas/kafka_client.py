"""How every Schakel process connects to Kafka — plaintext, TLS (with or without a client
certificate), or SASL (``PLAIN``, ``SCRAM-SHA-256``, ``SCRAM-SHA-512``) over TLS — stated once
and handed to each client library in its own dialect.

Contract:

- :class:`KafkaSecurity` is read from the settings by :meth:`KafkaSecurity.from_settings`
  (``SCHAKEL_KAFKA_SECURITY_PROTOCOL``, ``_CA_FILE``, ``_CERT_FILE``, ``_KEY_FILE``,
  ``_SASL_MECHANISM``, ``_SASL_USERNAME``, ``_SASL_PASSWORD`` or ``_SASL_PASSWORD_FILE``),
  which checks it: a CA, certificate or key file that is missing or does not load
  (:mod:`schemas.tls_files`: not PEM, a key without a certificate, encrypted, not the
  certificate's), a SASL protocol without a user name or password, a password file that is
  empty — a :class:`~schemas.exceptions.SettingsError` naming the variable, before any
  connection. The CLI builds it right after loading the settings of every process that
  connects to the configured Kafka (``schakel.cli.uses_kafka``): such a process stops at
  start (exit 2).
- :func:`configure` installs it for the process: the CLI does so for those processes right
  after loading their settings. The embedded broker speaks plaintext only: a command that
  starts one installs (or keeps) :data:`PLAINTEXT` (and gives the worker it starts the same).
- Every Kafka client of the code base takes its options from :func:`current`: kafka-python
  (:meth:`KafkaSecurity.kafka_python`), confluent-kafka (:meth:`KafkaSecurity.librdkafka`),
  aiokafka (:meth:`KafkaSecurity.aiokafka`) and Faust (built from the latter in
  ``streams.app``). The TLS context verifies the broker's certificate and host name against
  the CA file (default: the system's CA store).
- The password is a :class:`~pydantic.SecretStr` until a client is built: never in a
  ``repr``, a log line or an error message.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import SecretStr

from schemas.exceptions import SettingsError
from schemas.tls_files import check_tls_files

if TYPE_CHECKING:
    from kafka import KafkaAdminClient

    from schemas.settings import CommonSettings

Protocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
Mechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]
PREFIX = "SCHAKEL_KAFKA_"


def _without_line_end(text: str) -> str:
    """A password file's content less one trailing line ending (``\\n`` or ``\\r\\n``), as
    ``echo``, editors and ``kubectl create secret --from-file`` of such a file leave it; any
    other whitespace is part of the password (SCRAM allows it, and stripping it would turn a
    right password into a refused one)."""
    return text.removesuffix("\n").removesuffix("\r")


@dataclass(frozen=True)
class KafkaSecurity:
    """The security of a process's Kafka connections (module docstring)."""

    protocol: Protocol = "PLAINTEXT"
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    mechanism: Mechanism = "SCRAM-SHA-512"
    username: str | None = None
    password: SecretStr | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.cert_file is not None and not self.tls:
            raise SettingsError(
                f"{PREFIX}CERT_FILE is a TLS client certificate: set "
                f"{PREFIX}SECURITY_PROTOCOL to SSL or SASL_SSL"
            )
        check_tls_files(PREFIX, self.ca_file, self.cert_file, self.key_file)
        if self.sasl and (not self.username or self.password is None):
            raise SettingsError(
                f"{PREFIX}SECURITY_PROTOCOL={self.protocol} needs {PREFIX}SASL_USERNAME and "
                f"{PREFIX}SASL_PASSWORD (or {PREFIX}SASL_PASSWORD_FILE)"
            )

    @property
    def tls(self) -> bool:
        return self.protocol in ("SSL", "SASL_SSL")

    @property
    def sasl(self) -> bool:
        return self.protocol in ("SASL_PLAINTEXT", "SASL_SSL")

    @classmethod
    def from_settings(cls, settings: CommonSettings) -> KafkaSecurity:
        """The security the settings state; :class:`SettingsError` naming the variable if
        it cannot work (module docstring)."""
        password = settings.kafka_sasl_password
        if password is None and settings.kafka_sasl_password_file is not None:
            path = settings.kafka_sasl_password_file
            try:
                text = _without_line_end(path.read_text(encoding="utf-8"))
            except OSError as exc:
                raise SettingsError(
                    f"{PREFIX}SASL_PASSWORD_FILE: cannot read {path} ({exc.strerror})"
                ) from exc
            if not text:
                raise SettingsError(f"{PREFIX}SASL_PASSWORD_FILE: {path} is empty")
            password = SecretStr(text)
        return cls(
            protocol=settings.kafka_security_protocol,
            ca_file=settings.kafka_ca_file,
            cert_file=settings.kafka_cert_file,
            key_file=settings.kafka_key_file,
            mechanism=settings.kafka_sasl_mechanism,
            username=settings.kafka_sasl_username,
            password=password,
        )

    def ssl_context(self) -> ssl.SSLContext | None:
        """A client TLS context (broker certificate and host name verified; the client
        certificate loaded if there is one), or ``None`` without TLS."""
        if not self.tls:
            return None
        context = ssl.create_default_context(
            cafile=str(self.ca_file) if self.ca_file is not None else None
        )
        if self.cert_file is not None:
            context.load_cert_chain(
                str(self.cert_file), str(self.key_file) if self.key_file is not None else None
            )
        return context

    def _secret(self) -> str | None:
        return self.password.get_secret_value() if self.password is not None else None

    def kafka_python(self) -> dict[str, Any]:
        """Options of kafka-python's ``KafkaProducer``, ``KafkaConsumer`` and
        ``KafkaAdminClient``."""
        options: dict[str, Any] = {"security_protocol": self.protocol}
        if self.tls:
            options["ssl_context"] = self.ssl_context()
        if self.sasl:
            options["sasl_mechanism"] = self.mechanism
            options["sasl_plain_username"] = self.username
            options["sasl_plain_password"] = self._secret()
        return options

    def aiokafka(self) -> dict[str, Any]:
        """Options of aiokafka's producer and consumer (the same names as kafka-python's)."""
        return self.kafka_python()

    def librdkafka(self) -> dict[str, Any]:
        """Options of confluent-kafka's ``Producer``, ``Consumer`` and ``AdminClient``."""
        options: dict[str, Any] = {"security.protocol": self.protocol.lower()}
        if self.tls:
            if self.ca_file is not None:
                options["ssl.ca.location"] = str(self.ca_file)
            if self.cert_file is not None:
                options["ssl.certificate.location"] = str(self.cert_file)
                # without a key file the key is in the certificate's file (schemas.tls_files):
                # Python's ssl finds it there, librdkafka only when told so
                options["ssl.key.location"] = str(self.key_file or self.cert_file)
        if self.sasl:
            options["sasl.mechanisms"] = self.mechanism
            options["sasl.username"] = self.username
            options["sasl.password"] = self._secret()
        return options


REFUSALS = {"_AUTHENTICATION", "_SSL"}
"""librdkafka's error codes of a broker that refuses this client's credentials or TLS."""


class KafkaRefused(SettingsError):
    """Kafka answered but refused this client: its password, certificate or CA (exit 2: fix
    the configuration; running again does not help)."""


def check_accepted(bootstrap: str, security: KafkaSecurity, timeout_s: float = 5.0) -> None:
    """Raise :class:`KafkaRefused` if Kafka at ``bootstrap`` refuses ``security`` (a wrong
    password, a certificate it does not take, a CA that does not verify its certificate),
    within ``timeout_s``; return when it answers a metadata request, or when it gives no
    answer either way (an outage is the caller's to wait out). Asked with confluent-kafka,
    whose error says why within a second: kafka-python, the other clients' library, reports
    any such refusal as a bootstrap timeout after 30 s, never as what it is. A message names
    the setting to look at, never the password."""
    import confluent_kafka
    from confluent_kafka.admin import AdminClient

    seen: list[Any] = []
    config: dict[str, Any] = {
        "bootstrap.servers": bootstrap,
        "error_cb": seen.append,  # served by poll()
        "log_level": 0,  # librdkafka's own log lines (not JSON) stay out of stderr
    }
    admin = AdminClient({**config, **security.librdkafka()})
    try:
        admin.list_topics(timeout=timeout_s)
    except confluent_kafka.KafkaException as exc:
        seen.append(exc.args[0] if exc.args else exc)
        admin.poll(0.5)
    for error in seen:
        name = error.name() if hasattr(error, "name") else ""
        text = error.str() if hasattr(error, "str") else str(error)
        certificate = "certificate" in text.lower() or "ssl" in text.lower()
        if name in REFUSALS or (name == "_TRANSPORT" and certificate and security.tls):
            hint = (
                f"{PREFIX}SASL_USERNAME / {PREFIX}SASL_PASSWORD(_FILE) / {PREFIX}SASL_MECHANISM"
                if name == "_AUTHENTICATION"
                else f"{PREFIX}CA_FILE / {PREFIX}CERT_FILE / {PREFIX}KEY_FILE"
            )
            raise KafkaRefused(
                f"Kafka at {bootstrap} refused the connection ({security.protocol}): "
                f"{text.strip()}; check {hint}"
            )


PLAINTEXT = KafkaSecurity()
"""No TLS, no authentication: the embedded broker, and Kafka when nothing is configured."""

_installed = [PLAINTEXT]
"""The process's security (one element; :func:`configure`)."""


def configure(security: KafkaSecurity) -> None:
    """Install ``security`` for every Kafka client this process builds from now on."""
    _installed[0] = security


def current() -> KafkaSecurity:
    """The security installed by :func:`configure` (:data:`PLAINTEXT` until then)."""
    return _installed[0]


@contextmanager
def admin(bootstrap: str, client_id: str) -> Iterator[KafkaAdminClient]:
    """A kafka-python admin client of ``bootstrap`` with the process's security
    (:func:`current`), closed on leaving (also when its construction fails, nothing is left
    open). The one place an admin client of Schakel's own commands is built."""
    from kafka import KafkaAdminClient

    client = KafkaAdminClient(
        bootstrap_servers=bootstrap, client_id=client_id, **current().kafka_python()
    )
    try:
        yield client
    finally:
        client.close()
