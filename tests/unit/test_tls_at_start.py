"""Which processes check the TLS files of Kafka and of the schema registry at start
(schakel/cli.py :func:`~schakel.cli.uses_kafka`, :func:`~schakel.cli.uses_registry`), what
``schakel config`` does with them, and the one line a refusal is: a process that never
connects to the configured Kafka (``generate``, ``broker``, ``schemas``, ``demo`` and
``replay`` on their own embedded broker) is not stopped by Kafka's files; ``schakel config``
shows the settings and then names every file that cannot work (exit 2); the line names the
setting and the path, masked and on one line, from ``schakel`` and from
``deploy/create_topics.py`` alike. The checks themselves: tests/unit/schemas/test_tls_files.py."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

import pytest

from schakel import cli
from schakel.cli import build_parser, main, uses_kafka, uses_registry
from schakel.testpki import make_pki
from schemas import kafka_client
from schemas.settings import CommonSettings
from tests.unit.test_deploy import DEPLOY, load_module

BSN = "123456782"
"""A number that could be a BSN (elfproef holds), in a folder name."""


@pytest.fixture(autouse=True)
def no_schakel_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in [k for k in os.environ if k.startswith("SCHAKEL_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("SCHAKEL_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("SCHAKEL_KAFKA_BOOTSTRAP", "127.0.0.1:1")  # nobody answers there
    monkeypatch.setattr(kafka_client, "_installed", [kafka_client.PLAINTEXT])


@pytest.fixture
def not_pem(tmp_path: Path) -> Path:
    path = tmp_path / "passwd"
    path.write_text("root:x:0:0:root:/root:/bin/sh\n")
    return path


@pytest.fixture
def kafka_files_that_cannot_work(monkeypatch: pytest.MonkeyPatch, not_pem: Path) -> Path:
    monkeypatch.setenv("SCHAKEL_KAFKA_SECURITY_PROTOCOL", "SSL")
    monkeypatch.setenv("SCHAKEL_KAFKA_CA_FILE", str(not_pem))
    return not_pem


@pytest.mark.parametrize(
    ("argv", "kafka", "registry"),
    [
        (["worker"], True, True),
        (["adapter", "iwmo", "in"], True, True),
        (["adapter", "wijkteam", "--serve"], True, True),
        (["adapter", "outbox"], True, True),
        (["publish", "events.jsonl"], True, True),
        (["dlq", "list"], True, True),
        (["forget", "--bsn-file", "bsns.txt"], True, True),
        (["demo", "--bootstrap", "kafka:9092"], True, True),
        (["replay", "--bootstrap", "kafka:9092", "in.jsonl"], True, True),
        (["demo"], False, True),  # its own embedded broker, plaintext; the registry configured
        (["replay", "in.jsonl"], False, True),
        (["schemas", "register"], False, True),
        (["schemas", "check"], False, False),  # offline
        (["generate", "--out", "out"], False, False),
        (["broker"], False, False),  # embedded, plaintext; its registry only without one
        (["config"], False, False),  # shows, then checks: test_config_shows_the_settings_...
    ],
)
def test_only_a_process_that_connects_checks_the_files_of_that_connection(
    argv: list[str], kafka: bool, registry: bool
) -> None:
    args = build_parser().parse_args(argv)
    assert uses_kafka(args) is kafka
    configured = CommonSettings(schema_registry_url="https://registry.example:8081")
    assert uses_registry(args, configured) is registry
    without = CommonSettings(schema_registry_url=None)
    assert not uses_registry(args, without)  # no registry configured: its files are unused


@pytest.mark.parametrize(
    "argv",
    [["generate", "--out", "out"], ["schemas", "check"], ["demo"], ["replay", "in.jsonl"]],
)
def test_a_process_that_does_not_use_kafkas_files_is_not_stopped_by_them(
    kafka_files_that_cannot_work: Path,
    argv: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Before: exit 2, "SCHAKEL_KAFKA_CA_FILE: … holds no PEM certificate", from processes
    that never connect to that Kafka (the command itself is replaced here)."""
    ran: list[str] = []

    def command(args: argparse.Namespace, settings: Any) -> int:
        ran.append(args.command)
        return 0

    monkeypatch.setattr(cli, f"_cmd_{argv[0]}", command)
    assert main(argv) == 0, capsys.readouterr().err
    assert ran == [argv[0]]


def test_the_embedded_broker_is_set_up_over_plaintext_whatever_kafka_is_configured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``schakel broker`` with SCHAKEL_KAFKA_SECURITY_PROTOCOL=SSL in its environment (a
    shell set up for the real Kafka) installed SSL and created its topics over it, on the
    embedded broker that speaks plaintext: it hung, printing nothing."""
    pki = make_pki(tmp_path / "pki")
    monkeypatch.setenv("SCHAKEL_KAFKA_SECURITY_PROTOCOL", "SSL")
    monkeypatch.setenv("SCHAKEL_KAFKA_CA_FILE", str(pki.ca))
    seen: list[kafka_client.KafkaSecurity] = []

    def broker(args: argparse.Namespace, settings: Any) -> int:
        seen.append(kafka_client.current())
        return 0

    monkeypatch.setattr(cli, "_cmd_broker", broker)
    assert main(["broker"]) == 0
    assert seen == [kafka_client.PLAINTEXT]


def test_config_shows_the_settings_then_names_every_file_that_cannot_work(
    kafka_files_that_cannot_work: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Before: a Kafka file that cannot work stopped ``config`` before it showed anything,
    and a registry file was never looked at (exit 0)."""
    path = kafka_files_that_cannot_work
    monkeypatch.setenv("SCHAKEL_SCHEMA_REGISTRY_URL", "https://registry.example:8081")
    monkeypatch.setenv("SCHAKEL_SCHEMA_REGISTRY_CA_FILE", str(path))
    assert main(["config"]) == 2
    out, err = capsys.readouterr()
    assert f"SCHAKEL_KAFKA_CA_FILE={path}\n" in out
    assert f"SCHAKEL_SCHEMA_REGISTRY_CA_FILE={path}\n" in out
    assert err.splitlines() == [
        f"schakel: SCHAKEL_KAFKA_CA_FILE: {path} holds no PEM certificate",
        f"schakel: SCHAKEL_SCHEMA_REGISTRY_CA_FILE: {path} holds no PEM certificate",
    ]
    assert main(["config", "--markdown"]) == 0  # the README's table: no settings of this host
    assert not capsys.readouterr().err


def test_config_of_files_that_work_is_exit_0(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pki = make_pki(tmp_path / "pki")
    monkeypatch.setenv("SCHAKEL_KAFKA_SECURITY_PROTOCOL", "SSL")
    for prefix in ("SCHAKEL_KAFKA_", "SCHAKEL_SCHEMA_REGISTRY_"):
        monkeypatch.setenv(f"{prefix}CA_FILE", str(pki.ca))
        monkeypatch.setenv(f"{prefix}CERT_FILE", str(pki.client_cert))
        monkeypatch.setenv(f"{prefix}KEY_FILE", str(pki.client_key))
    monkeypatch.setenv("SCHAKEL_SCHEMA_REGISTRY_URL", "https://registry.example:8081")
    assert main(["config"]) == 0
    assert not capsys.readouterr().err


@pytest.fixture
def awkward_path(tmp_path: Path, not_pem: Path) -> Path:
    """A CA file that is no PEM, in a folder whose name holds a BSN and a line break."""
    folder = tmp_path / f"client_{BSN}\nb"
    folder.mkdir()
    path = folder / "ca.pem"
    path.write_bytes(not_pem.read_bytes())
    return path


def test_a_refusal_at_start_is_one_line_without_a_bsn(
    awkward_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SCHAKEL_KAFKA_SECURITY_PROTOCOL", "SSL")
    monkeypatch.setenv("SCHAKEL_KAFKA_CA_FILE", str(awkward_path))
    assert main(["dlq", "list"]) == 2
    err = capsys.readouterr().err
    assert BSN not in err
    (line,) = err.splitlines()
    assert line.startswith("schakel: SCHAKEL_KAFKA_CA_FILE: ") and "client_*********" in line


def test_create_topics_refusal_is_one_line_without_a_bsn(
    awkward_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """deploy/create_topics.py printed the exception as it was: the BSN, and two lines."""
    monkeypatch.setenv("SCHAKEL_KAFKA_SECURITY_PROTOCOL", "SSL")
    monkeypatch.setenv("SCHAKEL_KAFKA_CA_FILE", str(awkward_path))
    script = load_module(DEPLOY / "create_topics.py")
    assert script.main() == 2
    err = capsys.readouterr().err
    assert BSN not in err
    (line,) = err.splitlines()
    assert line.startswith("create_topics: SCHAKEL_KAFKA_CA_FILE: "), line


@pytest.mark.parametrize("protocol", ["PLAINTEXT", "SASL_PLAINTEXT"])
def test_create_topics_refuses_a_ca_file_without_tls(
    protocol: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """deploy/create_topics.py checked a CA file and then connected in plaintext (it builds
    its Kafka security itself); it refuses the combination as every schakel process does."""
    ca = tmp_path / "ca.pem"
    ca.write_text("not read: the combination is refused first\n")
    monkeypatch.setenv("SCHAKEL_KAFKA_BOOTSTRAP", "127.0.0.1:1")
    monkeypatch.setenv("SCHAKEL_KAFKA_SECURITY_PROTOCOL", protocol)
    monkeypatch.setenv("SCHAKEL_KAFKA_SASL_USERNAME", "schakel")
    monkeypatch.setenv("SCHAKEL_KAFKA_SASL_PASSWORD", "geheim-wachtwoord")
    monkeypatch.setenv("SCHAKEL_KAFKA_CA_FILE", str(ca))
    script = load_module(DEPLOY / "create_topics.py")
    assert script.main() == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("create_topics: SCHAKEL_KAFKA_CA_FILE is set"), line
    assert f"SCHAKEL_KAFKA_SECURITY_PROTOCOL={protocol} uses no TLS" in line
    assert "geheim" not in line and str(ca) not in line


def test_create_topics_refuses_a_misspelt_security_setting(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """deploy/create_topics.py (the Compose ``topics`` service, the Helm setup Job) did not
    look at unknown variables: ``SCHAKEL_KAFKA_SECURITY_PROTCOL=SSL`` was ignored and it
    connected in plaintext. It refuses it as every schakel process does, before connecting."""
    connected: list[str] = []

    def accepted(bootstrap: str) -> str:
        connected.append(bootstrap)
        raise AssertionError("connected to Kafka")

    monkeypatch.setenv("SCHAKEL_KAFKA_SECURITY_PROTCOL", "SSL")
    script = load_module(DEPLOY / "create_topics.py")
    monkeypatch.setattr(script.wiring, "accepted", accepted)
    assert script.main() == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("create_topics: SCHAKEL_KAFKA_SECURITY_PROTCOL: no Schakel setting")
    assert "rename the variable to SCHAKEL_KAFKA_SECURITY_PROTOCOL" in line
    assert connected == []
