"""The worker that ``schakel replay`` and ``schakel demo`` start gets only the variables a
worker reads: no pseudonym key (it never sees a BSN), no webhook tokens, no outbox DSN — a
secret reaches only the processes that use it."""

from __future__ import annotations

from pathlib import Path

import pytest

from schakel.replay import worker_env
from schemas.settings import Settings, WorkerSettings, load_process_settings

WORKER_VARIABLES = {f"SCHAKEL_{name.upper()}" for name in WorkerSettings.model_fields}


def test_the_started_worker_gets_only_the_variables_of_a_worker(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    settings = Settings(namespace="ns", partitions=4)
    # every variable of another kind of process, derived from the settings classes
    others = [name for name in Settings.model_fields if name not in WorkerSettings.model_fields]
    assert {"pseudonym_key", "pseudonym_key_file", "webhook_tokens", "outbox_dsn"} <= set(others)
    for name in others:
        monkeypatch.setenv(f"SCHAKEL_{name.upper()}", f"secret-of-{name}")
    monkeypatch.setenv("SCHAKEL_PSEUDONYM_KEY_FILE", str(tmp_path / "key"))
    # pydantic-settings reads SCHAKEL_* whatever the case: so is it withheld
    monkeypatch.setenv("schakel_outbox_dsn", "postgresql://lezer:lower-case-secret@db/bron")
    monkeypatch.setenv("SCHAKEL_NOT_A_SETTING", "whatever")
    monkeypatch.setenv("SCHAKEL_API_TOKENS", "ana:regisseur:t0k3n")
    monkeypatch.setenv("SCHAKEL_SCHEMA_REGISTRY_AUTH", "user:registry-secret")
    monkeypatch.setenv("X_UNRELATED", "kept")
    env = worker_env(
        settings, "127.0.0.1:9092", tmp_path / "w", web_port=8123, extra_env={"X_EXTRA": "1"}
    )
    schakel = {name for name in env if name.upper().startswith("SCHAKEL_")}
    assert schakel <= WORKER_VARIABLES, sorted(schakel - WORKER_VARIABLES)
    assert not [v for v in env.values() if "secret-of-" in v or "lower-case-secret" in v]
    # what the worker does use
    assert env["SCHAKEL_API_TOKENS"] == "ana:regisseur:t0k3n"
    assert env["SCHAKEL_SCHEMA_REGISTRY_AUTH"] == "user:registry-secret"
    assert (env["SCHAKEL_KAFKA_BOOTSTRAP"], env["SCHAKEL_NAMESPACE"]) == ("127.0.0.1:9092", "ns")
    assert env["SCHAKEL_WEB_PORT"] == "8123" and env["SCHAKEL_PARTITIONS"] == "4"
    assert env["X_EXTRA"] == "1" and env["X_UNRELATED"] == "kept"


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("0.0.0.0", "http://127.0.0.1:8123"),
        ("::", "http://[::1]:8123"),
        ("10.1.2.3", "http://10.1.2.3:8123"),
    ],
)
def test_the_started_worker_announces_a_url_of_its_own(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, host: str, url: str
) -> None:
    # the image sets SCHAKEL_WEB_HOST=0.0.0.0: a worker started by replay inherits it, and a
    # worker on a wildcard address refuses to start without SCHAKEL_WEB_URL
    monkeypatch.setenv("SCHAKEL_WEB_HOST", host)
    monkeypatch.setenv("SCHAKEL_WEB_URL", "http://elsewhere:6066")
    env = worker_env(Settings(), "127.0.0.1:9092", tmp_path / "w", web_port=8123)
    assert env["SCHAKEL_WEB_URL"] == url
    for name, value in env.items():
        if name.startswith("SCHAKEL_"):
            monkeypatch.setenv(name, value)
    assert load_process_settings(WorkerSettings).api_url() == url
    # demo binds the loopback address
    env = worker_env(
        Settings(), "b:1", tmp_path, web_port=8123, extra_env={"SCHAKEL_WEB_HOST": "127.0.0.1"}
    )
    assert env["SCHAKEL_WEB_URL"] == "http://127.0.0.1:8123"


def test_a_worker_on_plaintext_kafka_gets_no_kafka_security(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The embedded broker speaks plaintext (schakel/sandbox.py gives the worker settings with
    ``PLAINTEXT``): the security variables of the environment, meant for a configured Kafka,
    are withheld from the worker it starts; against a secured Kafka they are passed on."""
    secured = {
        "SCHAKEL_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "SCHAKEL_KAFKA_SASL_USERNAME": "schakel",
        "SCHAKEL_KAFKA_SASL_PASSWORD": "kafka-secret",
        "SCHAKEL_KAFKA_CA_FILE": str(tmp_path / "ca.pem"),
    }
    for name, value in secured.items():
        monkeypatch.setenv(name, value)
    plain = Settings(kafka_security_protocol="PLAINTEXT")
    env = worker_env(plain, "127.0.0.1:9092", tmp_path / "w", web_port=8123)
    assert not set(secured) & set(env)
    env = worker_env(Settings(kafka_security_protocol="SASL_SSL"), "h:1", tmp_path / "w")
    assert {name: env[name] for name in secured} == secured
