"""schemas/kafka_client.py: the security of a process's Kafka connections, read from the
settings and checked before any connection, and handed to each client library in its own
dialect; the password never in a repr. Against a secured Apache Kafka:
tests/integration/test_kafka_security.py."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
from pydantic import SecretStr

from schakel.testpki import make_pki
from schemas import kafka_client
from schemas.exceptions import SettingsError
from schemas.kafka_client import PLAINTEXT, KafkaSecurity
from schemas.settings import CommonSettings

PASSWORD = "geheim-wachtwoord-123"


def settings(**values: object) -> CommonSettings:
    return CommonSettings.model_validate(values)


def test_plaintext_is_the_default_and_adds_nothing_but_the_protocol() -> None:
    security = KafkaSecurity.from_settings(settings())
    assert security == PLAINTEXT
    assert security.kafka_python() == {"security_protocol": "PLAINTEXT"}
    assert security.librdkafka() == {"security.protocol": "plaintext"}
    assert security.ssl_context() is None


def test_sasl_ssl_in_every_dialect(tmp_path: Path) -> None:
    secret = tmp_path / "password"
    secret.write_text(PASSWORD + "\n")
    security = KafkaSecurity.from_settings(
        settings(
            kafka_security_protocol="SASL_SSL",
            kafka_sasl_mechanism="PLAIN",
            kafka_sasl_username="schakel",
            kafka_sasl_password_file=secret,
        )
    )
    python = security.kafka_python()
    assert isinstance(python.pop("ssl_context"), ssl.SSLContext)
    assert python == {
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "PLAIN",
        "sasl_plain_username": "schakel",
        "sasl_plain_password": PASSWORD,
    }
    assert security.librdkafka() == {
        "security.protocol": "sasl_ssl",
        "sasl.mechanisms": "PLAIN",
        "sasl.username": "schakel",
        "sasl.password": PASSWORD,
    }
    assert PASSWORD not in repr(security) and PASSWORD not in str(security)


def test_mutual_tls_loads_the_client_certificate(tmp_path: Path) -> None:
    pki = make_pki(tmp_path)  # files that are no PEM: tests/unit/schemas/test_tls_files.py
    ca, cert, key = pki.ca, pki.client_cert, pki.client_key
    security = KafkaSecurity("SSL", ca_file=ca, cert_file=cert, key_file=key)
    assert security.librdkafka() == {
        "security.protocol": "ssl",
        "ssl.ca.location": str(ca),
        "ssl.certificate.location": str(cert),
        "ssl.key.location": str(key),
    }
    context = security.ssl_context()
    assert context is not None and context.cert_store_stats()["x509_ca"] == 1


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"kafka_security_protocol": "SASL_SSL"}, "SCHAKEL_KAFKA_SASL_USERNAME"),
        (
            {"kafka_security_protocol": "SASL_SSL", "kafka_sasl_username": "schakel"},
            "SCHAKEL_KAFKA_SASL_PASSWORD",
        ),
        ({"kafka_security_protocol": "SSL", "kafka_ca_file": "/nonexistent/ca.pem"}, "CA_FILE"),
        ({"kafka_security_protocol": "SSL", "kafka_key_file": __file__}, "KEY_FILE needs"),
        ({"kafka_cert_file": __file__}, "CERT_FILE is a TLS client certificate"),
        (
            {
                "kafka_security_protocol": "SASL_SSL",
                "kafka_sasl_username": "schakel",
                "kafka_sasl_password_file": "/nonexistent/password",
            },
            "SASL_PASSWORD_FILE: cannot read",
        ),
    ],
)
def test_a_setting_that_cannot_work_is_named_before_any_connection(
    values: dict[str, object], named: str
) -> None:
    with pytest.raises(SettingsError, match=named) as caught:
        KafkaSecurity.from_settings(settings(**values))
    assert PASSWORD not in str(caught.value)


def test_an_empty_password_file_is_refused(tmp_path: Path) -> None:
    empty = tmp_path / "password"
    empty.write_text("\n")
    values = {
        "kafka_security_protocol": "SASL_SSL",
        "kafka_sasl_username": "schakel",
        "kafka_sasl_password_file": empty,
    }
    with pytest.raises(SettingsError, match="is empty"):
        KafkaSecurity.from_settings(settings(**values))


@pytest.mark.parametrize(
    ("content", "password"),
    [
        ("geheim\n", "geheim"),  # echo, an editor, a Secret made --from-file of such a file
        ("geheim\r\n", "geheim"),  # written on Windows
        ("geheim", "geheim"),
        (" geheim \n", " geheim "),  # other whitespace is the password's own
        ("geheim\n\n", "geheim\n"),  # one line ending only
    ],
)
def test_a_password_file_loses_one_trailing_line_ending_and_nothing_else(
    tmp_path: Path, content: str, password: str
) -> None:
    path = tmp_path / "password"
    path.write_bytes(content.encode())
    values = {
        "kafka_security_protocol": "SASL_SSL",
        "kafka_sasl_username": "schakel",
        "kafka_sasl_password_file": path,
    }
    security = KafkaSecurity.from_settings(settings(**values))
    assert security.password is not None
    assert security.password.get_secret_value() == password


def test_configure_installs_the_security_of_the_process() -> None:
    security = KafkaSecurity("SASL_PLAINTEXT", username="u", password=SecretStr(PASSWORD))
    try:
        kafka_client.configure(security)
        assert kafka_client.current() is security
    finally:
        kafka_client.configure(PLAINTEXT)
    assert kafka_client.current() is PLAINTEXT
