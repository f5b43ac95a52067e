"""What a process says about its environment at start (schakel/cli.py ``started`` and
``tell_environment``; schemas/environment.py): a ``SCHAKEL_*`` variable no process reads is named
with the setting it resembles (a misspelt security setting refuses the start); a secret of
another process is named with the processes that use it; an empty path is refused; a TLS file
of a connection without TLS is refused. Never a value."""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any, get_args

import pytest

from schakel import cli
from schakel.cli import SETTINGS_OF, main
from schakel.testpki import Pki, make_pki
from schemas import kafka_client
from schemas.environment import (
    NOT_SETTINGS,
    foreign_secrets,
    registry_files_without_tls,
    secret_fields,
    unknown_variables,
)
from schemas.settings import (
    TLS_FILES,
    CommonSettings,
    Settings,
    WorkerSettings,
    load_process_settings,
)
from tests.unit.helm_chart import (
    REQUIRED,
    VALUE_SETS,
    argv,
    containers,
    merged,
    render_error,
    rendered,
    template,
)
from tests.unit.test_deploy import COMPOSE, DEV, ROOT, schakel_services

VALUE = "GEHEIM-waarde-0123456789abcdef"
"""The value of every variable these tests set: it must never be shown."""
KEY = "sleutel-voor-de-start-checks-0123456789"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in [k for k in os.environ if k.upper().startswith("SCHAKEL_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("SCHAKEL_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("SCHAKEL_KAFKA_BOOTSTRAP", "127.0.0.1:1")  # nobody answers there
    monkeypatch.setenv("SCHAKEL_LOG_FORMAT", "json")
    monkeypatch.setattr(kafka_client, "_installed", [kafka_client.PLAINTEXT])


def run(monkeypatch: pytest.MonkeyPatch, argv_: list[str]) -> tuple[int, list[str]]:
    """``schakel argv_`` with its command replaced: the exit code and what it ran."""
    ran: list[str] = []

    def command(args: argparse.Namespace, settings: Any) -> int:
        ran.append(args.command)
        return 0

    monkeypatch.setattr(cli, f"_cmd_{argv_[0]}", command)
    return main(argv_), ran


def logged(err: str, event: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    return [line for line in lines if line["event"] == event]


# --- 1. a variable no process reads ----------------------------------------------------------


@pytest.mark.parametrize(
    ("variable", "closest"),
    [
        ("SCHAKEL_KAFKA_BOOTSRAP", "SCHAKEL_KAFKA_BOOTSTRAP"),
        ("SCHAKEL_WEBHOOK_TOKEN", "SCHAKEL_WEBHOOK_TOKENS"),
        ("schakel_timezon", "SCHAKEL_TIMEZONE"),  # read regardless of case, so compared so
        ("SCHAKEL_GEEN_IDEE", None),
    ],
)
def test_a_variable_no_process_reads_is_named_with_the_closest_setting(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    variable: str,
    closest: str | None,
) -> None:
    """Before: ignored without a word (pydantic's ``extra="ignore"``): the process ran with the
    default, e.g. Kafka on localhost."""
    monkeypatch.setenv(variable, VALUE)
    assert run(monkeypatch, ["dlq", "list"]) == (0, ["dlq"])
    err = capsys.readouterr().err
    assert VALUE not in err
    (line,) = logged(err, "settings.unknown_variable")
    assert (line["level"], line["variable"], line["closest"]) == ("warning", variable, closest)


def test_config_lists_every_variable_no_process_reads(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SCHAKEL_KAFKA_BOOTSRAP", VALUE)
    monkeypatch.setenv("SCHAKEL_WEBHOOK_TOKEN", VALUE)
    assert main(["config"]) == 0  # warnings: the settings themselves can work
    out, err = capsys.readouterr()
    assert VALUE not in out + err
    assert "SCHAKEL_KAFKA_BOOTSRAP" not in out  # stdout: the settings only
    lines = err.splitlines()
    assert lines == [
        "schakel: warning: SCHAKEL_KAFKA_BOOTSRAP: no Schakel setting of this name, ignored "
        "(closest: SCHAKEL_KAFKA_BOOTSTRAP)",
        "schakel: warning: SCHAKEL_WEBHOOK_TOKEN: no Schakel setting of this name, ignored "
        "(closest: SCHAKEL_WEBHOOK_TOKENS)",
    ]


@pytest.mark.parametrize(
    ("variable", "closest"),
    [
        ("SCHAKEL_KAFKA_SECURITY_PROTCOL", "SCHAKEL_KAFKA_SECURITY_PROTOCOL"),
        ("SCHAKEL_KAFKA_CA_FIEL", "SCHAKEL_KAFKA_CA_FILE"),
        ("SCHAKEL_SCHEMA_REGISTRY_TOKN", "SCHAKEL_SCHEMA_REGISTRY_TOKEN"),
        ("SCHAKEL_KAFKA_SASL_USER", "SCHAKEL_KAFKA_SASL_USERNAME"),
        ("SCHAKEL_KAFKA_SASL_USER_NAME", "SCHAKEL_KAFKA_SASL_USERNAME"),  # no Docker link
        # the setting with words left out: a review found these warned only (ratio < 0.86)
        ("SCHAKEL_SECURITY_PROTOCOL", "SCHAKEL_KAFKA_SECURITY_PROTOCOL"),
        ("SCHAKEL_KAFKA_PROTOCOL", "SCHAKEL_KAFKA_SECURITY_PROTOCOL"),
        ("SCHAKEL_KAFKA_PASSWORD", "SCHAKEL_KAFKA_SASL_PASSWORD"),
        ("SCHAKEL_KAFKA_USERNAME", "SCHAKEL_KAFKA_SASL_USERNAME"),
        ("SCHAKEL_KAFKA_MECHANISM", "SCHAKEL_KAFKA_SASL_MECHANISM"),
        ("SCHAKEL_REGISTRY_TOKEN", "SCHAKEL_SCHEMA_REGISTRY_TOKEN"),
        ("SCHAKEL_KAFKA_CERT", "SCHAKEL_KAFKA_CERT_FILE"),
    ],
)
def test_a_misspelt_security_setting_stops_the_start(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    variable: str,
    closest: str,
) -> None:
    """The process would connect with the default of the setting meant: PLAINTEXT, the
    system's CA store, no registry credentials."""
    monkeypatch.setenv(variable, VALUE)
    assert run(monkeypatch, ["dlq", "list"]) == (2, [])
    err = capsys.readouterr().err
    (line,) = err.splitlines()
    assert line.startswith(f"schakel: {variable}: no Schakel setting of this name") and (
        f"{closest}, which it resembles, is unset" in line
    ), line
    assert VALUE not in err
    # config shows the settings, then the same refusal (exit 2)
    assert main(["config"]) == 2
    err = capsys.readouterr().err
    assert any(line.startswith(f"schakel: {variable}: ") for line in err.splitlines()), err


def test_a_misspelt_security_setting_beside_the_setting_meant_is_a_warning(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A leftover: the setting meant decides, as it says (in any case: it is read so)."""
    monkeypatch.setenv("SCHAKEL_KAFKA_SECURITY_PROTCOL", "SSL")
    monkeypatch.setenv("schakel_kafka_security_protocol", "PLAINTEXT")
    assert run(monkeypatch, ["dlq", "list"]) == (0, ["dlq"])
    (warned,) = logged(capsys.readouterr().err, "settings.unknown_variable")
    assert warned["variable"] == "SCHAKEL_KAFKA_SECURITY_PROTCOL"
    assert warned["closest"] == "SCHAKEL_KAFKA_SECURITY_PROTOCOL"


@pytest.mark.parametrize(
    ("variable", "closest"),
    [
        # names of other programs' settings, each closest (difflib's 0.6) to an unset security
        # setting but nothing like a misspelling of it (0.60-0.85)
        ("SCHAKEL_KAFKA_VERSION", "SCHAKEL_KAFKA_CERT_FILE"),
        ("SCHAKEL_KAFKA_IMAGE", "SCHAKEL_KAFKA_CA_FILE"),
        ("SCHAKEL_KAFKA_TIMEOUT", "SCHAKEL_KAFKA_CA_FILE"),
        ("SCHAKEL_KAFKA_LINGER_MS", "SCHAKEL_KAFKA_CERT_FILE"),
        ("SCHAKEL_KAFKA_CLIENT_ID", "SCHAKEL_KAFKA_CERT_FILE"),
        ("SCHAKEL_KAFKA_ACKS", "SCHAKEL_KAFKA_CA_FILE"),
        ("SCHAKEL_SCHEMA_REGISTRY_HOST", "SCHAKEL_SCHEMA_REGISTRY_AUTH"),  # 0.85 exactly
    ],
)
def test_a_name_merely_like_a_security_setting_is_a_warning(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    variable: str,
    closest: str,
) -> None:
    """Before: refused (exit 2, "rename the variable to …") whenever the closest setting at
    difflib's 0.6 was an unset security setting, so a process did not start beside
    ``SCHAKEL_KAFKA_VERSION``. Only a near-typo stops the start now."""
    monkeypatch.setenv(variable, VALUE)
    assert run(monkeypatch, ["dlq", "list"]) == (0, ["dlq"])
    (line,) = logged(capsys.readouterr().err, "settings.unknown_variable")
    assert (line["level"], line["variable"], line["closest"]) == ("warning", variable, closest)


@pytest.mark.parametrize(
    ("variable", "beside"),
    [
        ("SCHAKEL_KAFKA_SASL_PASWORD", "SCHAKEL_KAFKA_SASL_PASSWORD_FILE"),
        ("SCHAKEL_KAFKA_SASL_PASSWORD_FIEL", "SCHAKEL_KAFKA_SASL_PASSWORD"),
    ],
)
def test_a_misspelling_beside_the_other_form_of_the_setting_meant_is_a_warning(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, variable: str, beside: str
) -> None:
    """A leftover beside the password's other form: the password is set (the refusal said
    "would be made with the default (none)", untrue)."""
    password = tmp_path / "password"
    password.write_text(VALUE, encoding="utf-8")
    environ = {variable: VALUE, beside: str(password)}
    (unknown,) = unknown_variables(WorkerSettings, environ)
    assert (unknown.name, unknown.refused) == (variable, False)


def test_the_password_file_beside_a_misspelt_password_starts(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    password = tmp_path / "password"
    password.write_text(VALUE, encoding="utf-8")
    monkeypatch.setenv("SCHAKEL_KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT")
    monkeypatch.setenv("SCHAKEL_KAFKA_SASL_MECHANISM", "PLAIN")
    monkeypatch.setenv("SCHAKEL_KAFKA_SASL_USERNAME", "schakel")
    monkeypatch.setenv("SCHAKEL_KAFKA_SASL_PASSWORD_FILE", str(password))
    monkeypatch.setenv("SCHAKEL_KAFKA_SASL_PASWORD", VALUE)
    monkeypatch.setattr(
        kafka_client, "_installed", [kafka_client.PLAINTEXT, "SASL_PLAINTEXT", "SASL_SSL"]
    )
    assert run(monkeypatch, ["dlq", "list"]) == (0, ["dlq"])
    err = capsys.readouterr().err
    assert VALUE not in err
    (line,) = logged(err, "settings.unknown_variable")
    assert line["variable"] == "SCHAKEL_KAFKA_SASL_PASWORD"


@pytest.mark.parametrize(
    "variable",
    [
        # Kubernetes service links of a Service named schakel-kafka (enableServiceLinks)
        "SCHAKEL_KAFKA_PORT",
        "SCHAKEL_KAFKA_SERVICE_PORT",
        "SCHAKEL_KAFKA_SERVICE_HOST",
        "SCHAKEL_KAFKA_PORT_9092_TCP_ADDR",
    ],
)
def test_a_kubernetes_service_link_is_named_but_does_not_stop_the_start(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], variable: str
) -> None:
    monkeypatch.setenv(variable, "tcp://10.0.0.1:9092")
    assert run(monkeypatch, ["dlq", "list"]) == (0, ["dlq"])
    (line,) = logged(capsys.readouterr().err, "settings.unknown_variable")
    assert line["variable"] == variable and "enableServiceLinks" in line["hint"]


DOCKER_LINK = {
    "SCHAKEL_KAFKA_NAME": "/app/schakel_kafka",
    "SCHAKEL_KAFKA_PORT": "tcp://172.17.0.2:9092",
    "SCHAKEL_KAFKA_PORT_9092_TCP": "tcp://172.17.0.2:9092",
    "SCHAKEL_KAFKA_PORT_9092_TCP_ADDR": "172.17.0.2",
    "SCHAKEL_KAFKA_PORT_9092_TCP_PORT": "9092",
    "SCHAKEL_KAFKA_PORT_9092_TCP_PROTO": "tcp",
    "SCHAKEL_KAFKA_ENV_KAFKA_CFG_NODE_ID": "0",
    "SCHAKEL_KAFKA_ENV_KAFKA_CFG_SSL_CLIENT_AUTH": "none",
}
"""What Docker's legacy ``--link`` sets in a container for a container named (or linked as)
``schakel_kafka``."""


def test_a_docker_link_is_named_but_does_not_stop_the_start(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before: ``SCHAKEL_KAFKA_NAME`` was refused as a misspelling of SCHAKEL_KAFKA_CA_FILE
    (exit 2): Kubernetes' service links were exempt, Docker's links not."""
    for name, value in DOCKER_LINK.items():
        monkeypatch.setenv(name, value)
    assert run(monkeypatch, ["dlq", "list"]) == (0, ["dlq"])
    lines = logged(capsys.readouterr().err, "settings.unknown_variable")
    assert sorted(line["variable"] for line in lines) == sorted(DOCKER_LINK)
    assert all("--link" in line["hint"] for line in lines), lines


def test_the_variables_of_the_test_harness_are_no_unknown_variables(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in NOT_SETTINGS:
        monkeypatch.setenv(name, "1")
    assert run(monkeypatch, ["dlq", "list"]) == (0, ["dlq"])
    assert not logged(capsys.readouterr().err, "settings.unknown_variable")
    assert unknown_variables(Settings, dict.fromkeys(NOT_SETTINGS, "1")) == []


NOT_VARIABLES = {"SCHAKEL_PREFIX"}
"""Names in the repository that look like variables and are none (schemas.catalogue's
constant, the prefix of event types)."""


def test_every_schakel_variable_the_repository_sets_or_reads_is_known() -> None:
    """Every ``SCHAKEL_*`` name outside the unit tests (which set misspelt ones on purpose) and
    the docs: the Makefile, Dockerfile, Compose files, Helm chart, benchmarks, the other test
    tiers and the code, which may share an environment with a Schakel process (``make
    reliability`` sets the trials' sizes for the workers the trials start)."""
    files = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    names = {
        name
        for file in files
        # the unit tests and the docs set misspelt names on purpose, and so do the examples
        # in the docstrings of the checks themselves
        if not file.startswith(("tests/unit/", "docs/"))
        and file not in ("CHANGELOG.md", "schemas/settings.py", "schemas/environment.py")
        for name in re.findall(
            r"\bSCHAKEL_[A-Z0-9_]*[A-Z0-9]\b",
            (ROOT / file).read_text(encoding="utf-8", errors="replace"),
        )
    }
    assert "SCHAKEL_FAILOVER_TRIALS" in names and "SCHAKEL_KAFKA_BOOTSTRAP" in names
    unknown = {u.name for u in unknown_variables(Settings, dict.fromkeys(names, ""))}
    assert unknown <= NOT_VARIABLES, sorted(unknown - NOT_VARIABLES)
    assert names >= NOT_SETTINGS, sorted(NOT_SETTINGS - names)  # none left over


# --- 2. a secret of another process ----------------------------------------------------------


def test_a_secret_of_another_process_is_named_with_the_processes_that_use_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before: read by nobody and said by nobody — a secret that reached a process that does
    not use it (the worker never sees a BSN; the key, the webhook's tokens and the outbox's DSN
    are no business of it)."""
    for name in ("PSEUDONYM_KEY", "WEBHOOK_TOKENS", "OUTBOX_DSN"):
        monkeypatch.setenv(f"SCHAKEL_{name}", VALUE)
    monkeypatch.setenv("SCHAKEL_API_TOKENS", f"anna:regisseur:{VALUE}")  # the worker's own
    assert run(monkeypatch, ["worker"]) == (0, ["worker"])
    err = capsys.readouterr().err
    assert VALUE not in err
    (line,) = logged(err, "settings.secret_of_another_process")
    assert line["level"] == "warning" and line["command"] == "worker"
    assert line["variables"] == {
        "SCHAKEL_PSEUDONYM_KEY": "adapter, adapter outbox, adapter wijkteam --serve, "
        "publish, forget, generate",
        "SCHAKEL_WEBHOOK_TOKENS": "adapter wijkteam --serve",
        "SCHAKEL_OUTBOX_DSN": "adapter outbox",
    }


@pytest.mark.parametrize(
    ("argv_", "own"),
    [
        (["adapter", "iwmo", "in"], {"PSEUDONYM_KEY"}),
        (["adapter", "outbox"], {"PSEUDONYM_KEY", "OUTBOX_DSN"}),
        (["adapter", "wijkteam", "--serve"], {"PSEUDONYM_KEY", "WEBHOOK_TOKENS"}),
        (["dlq", "list"], set()),
        (["demo"], {"PSEUDONYM_KEY", "OUTBOX_DSN", "WEBHOOK_TOKENS", "API_TOKENS"}),
    ],
)
def test_each_process_is_told_of_the_secrets_it_does_not_use_only(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv_: list[str],
    own: set[str],
) -> None:
    every = {"PSEUDONYM_KEY", "OUTBOX_DSN", "WEBHOOK_TOKENS", "API_TOKENS"}
    monkeypatch.setenv("SCHAKEL_PSEUDONYM_KEY", KEY)
    monkeypatch.setenv("SCHAKEL_OUTBOX_DSN", VALUE)
    monkeypatch.setenv("SCHAKEL_WEBHOOK_TOKENS", f"urn:x={VALUE}")
    monkeypatch.setenv("SCHAKEL_API_TOKENS", f"anna:regisseur:{VALUE}")
    assert run(monkeypatch, argv_)[0] == 0
    err = capsys.readouterr().err
    assert VALUE not in err and KEY not in err
    told = logged(err, "settings.secret_of_another_process")
    named = set(told[0]["variables"]) if told else set()
    assert named == {f"SCHAKEL_{n}" for n in every - own}
    assert len(told) <= 1  # once


def test_the_secrets_are_the_secret_fields_and_their_files() -> None:
    assert secret_fields() == {
        "kafka_sasl_password",
        "kafka_sasl_password_file",
        "schema_registry_auth",
        "schema_registry_token",
        "api_tokens",
        "pseudonym_key",
        "pseudonym_key_file",
        "outbox_dsn",
        "webhook_tokens",
    }
    env = {"SCHAKEL_PSEUDONYM_KEY_FILE": "/run/secrets/k", "schakel_outbox_dsn": VALUE}
    assert foreign_secrets(WorkerSettings, env) == {
        "SCHAKEL_PSEUDONYM_KEY_FILE": "pseudonym_key_file",
        "schakel_outbox_dsn": "outbox_dsn",
    }
    assert foreign_secrets(Settings, env) == {}


def process_model(args: list[str]) -> type[CommonSettings]:
    return cli.settings_class(cli.build_parser().parse_args(args)) if args else CommonSettings


def test_compose_gives_each_process_its_own_secrets_and_known_variables_only() -> None:
    for service in schakel_services(COMPOSE, DEV).values():
        model = process_model(service.argv or [])
        assert foreign_secrets(model, service.env) == {}, service.name
        assert unknown_variables(model, service.env) == [], service.name


@pytest.mark.parametrize("values", sorted(VALUE_SETS))
def test_the_chart_gives_each_process_its_own_secrets_and_known_variables_only(
    values: str,
) -> None:
    seen = set()
    for container in containers(rendered(values)):
        args = argv(container) if container.kind != "Job" else []
        model = process_model(args)
        seen.add(model)
        assert foreign_secrets(model, container.env) == {}, container.name
        assert unknown_variables(model, container.env) == [], container.name
    assert WorkerSettings in seen


# --- 3. an empty path --------------------------------------------------------------------------


PATH_FIELDS = sorted(
    name
    for name, info in Settings.model_fields.items()
    if Path in (info.annotation, *get_args(info.annotation))
)


def test_every_path_setting_is_found() -> None:
    assert {"data_dir", "rules_dir", "pseudonym_key_file", "kafka_sasl_password_file"} | set(
        TLS_FILES
    ) <= set(PATH_FIELDS)


@pytest.mark.parametrize("field", PATH_FIELDS)
@pytest.mark.parametrize("empty", ["", "  "])
def test_an_empty_path_is_refused(monkeypatch: pytest.MonkeyPatch, field: str, empty: str) -> None:
    """``SCHAKEL_DATA_DIR=`` was the working directory, ``SCHAKEL_PSEUDONYM_KEY_FILE=`` the
    directory ``.`` ("cannot read the key file (Is a directory)")."""
    monkeypatch.setenv(f"SCHAKEL_{field.upper()}", empty)
    with pytest.raises(Exception) as refused:
        load_process_settings(Settings)
    assert f"SCHAKEL_{field.upper()}: empty: unset the variable" in str(refused.value)
    assert str(refused.value).count("SCHAKEL_") == 1  # one problem, said once


# --- 4. a TLS file of a connection without TLS -------------------------------------------------


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """Files that work: the checks of what they hold pass, only TLS is missing."""
    return make_pki(tmp_path_factory.mktemp("pki"))


def pki_files(pki: Pki) -> dict[str, Path]:
    return {"CA_FILE": pki.ca, "CERT_FILE": pki.client_cert, "KEY_FILE": pki.client_key}


@pytest.mark.parametrize("protocol", ["PLAINTEXT", "SASL_PLAINTEXT"])
@pytest.mark.parametrize("files", [["CA_FILE"], ["CERT_FILE", "KEY_FILE"], ["CA_FILE", "KEY_FILE"]])
def test_a_kafka_tls_file_without_tls_stops_the_start(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    pki: Pki,
    protocol: str,
    files: list[str],
) -> None:
    """Before (the CA file): checked as if it mattered, then the connection went out in
    plaintext (exit 0) — an operator who meant TLS and forgot the protocol sent pseudonymised
    citizen data in the clear. (A certificate was refused, and a key without it, each with a
    message of its own.)"""
    monkeypatch.setenv("SCHAKEL_KAFKA_SECURITY_PROTOCOL", protocol)
    monkeypatch.setenv("SCHAKEL_KAFKA_SASL_USERNAME", "schakel")
    monkeypatch.setenv("SCHAKEL_KAFKA_SASL_PASSWORD", VALUE)
    for file in files:
        monkeypatch.setenv(f"SCHAKEL_KAFKA_{file}", str(pki_files(pki)[file]))
    assert run(monkeypatch, ["dlq", "list"]) == (2, [])
    err = capsys.readouterr().err
    (line,) = err.splitlines()
    named = " and ".join(f"SCHAKEL_KAFKA_{file}" for file in files)
    assert line.startswith(f"schakel: {named} {'are' if len(files) > 1 else 'is'} set, but ")
    assert f"SCHAKEL_KAFKA_SECURITY_PROTOCOL={protocol} uses no TLS" in line
    want = "SASL_SSL" if protocol == "SASL_PLAINTEXT" else "SSL"
    assert f"set SCHAKEL_KAFKA_SECURITY_PROTOCOL to {want}" in line
    assert VALUE not in err and str(pki.ca.parent) not in err
    assert kafka_client.current() == kafka_client.PLAINTEXT  # nothing installed
    assert main(["config"]) == 2
    assert f"schakel: {named} " in capsys.readouterr().err
    # with TLS they are what they were meant for
    monkeypatch.setenv("SCHAKEL_KAFKA_SECURITY_PROTOCOL", want)
    monkeypatch.setenv("SCHAKEL_KAFKA_CERT_FILE", str(pki.client_cert))
    monkeypatch.setenv("SCHAKEL_KAFKA_KEY_FILE", str(pki.client_key))
    assert run(monkeypatch, ["dlq", "list"]) == (0, ["dlq"]), capsys.readouterr().err


def test_kafkas_files_do_not_stop_a_process_that_does_not_connect_to_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SCHAKEL_KAFKA_CA_FILE", str(tmp_path / "ca.pem"))
    assert run(monkeypatch, ["generate", "--out", str(tmp_path / "out")]) == (0, ["generate"])


@pytest.mark.parametrize(
    "url",
    [
        "http://schakel:GEHEIM-ww@registry.example:8081",
        "https://r1.example:8081, HTTP://r2.example:8081",
    ],
)
def test_a_registry_tls_file_with_an_http_registry_stops_the_start(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], pki: Pki, url: str
) -> None:
    """Before: the files were checked, then not used (exit 0)."""
    monkeypatch.setenv("SCHAKEL_SCHEMA_REGISTRY_URL", url)
    monkeypatch.setenv("SCHAKEL_SCHEMA_REGISTRY_CA_FILE", str(pki.ca))
    monkeypatch.setenv("SCHAKEL_SCHEMA_REGISTRY_CERT_FILE", str(pki.client_cert))
    monkeypatch.setenv("SCHAKEL_SCHEMA_REGISTRY_KEY_FILE", str(pki.client_key))
    assert run(monkeypatch, ["schemas", "register"]) == (2, [])
    err = capsys.readouterr().err
    (line,) = err.splitlines()
    assert line.startswith(
        "schakel: SCHAKEL_SCHEMA_REGISTRY_CA_FILE, SCHAKEL_SCHEMA_REGISTRY_CERT_FILE and "
        "SCHAKEL_SCHEMA_REGISTRY_KEY_FILE are set, but SCHAKEL_SCHEMA_REGISTRY_URL names an "
        "http:// registry"
    ), line
    assert "GEHEIM" not in err and "r2.example" not in err


def test_every_problem_at_start_is_a_line_of_its_own(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Before: only the first was said; the next start stopped at the second."""
    monkeypatch.setenv("SCHAKEL_KAFKA_SECURITY_PROTOCOL", "SSL")
    monkeypatch.setenv("SCHAKEL_KAFKA_CA_FILE", str(tmp_path / "ca.pem"))  # missing
    monkeypatch.setenv("SCHAKEL_SCHEMA_REGISTRY_URL", "https://registry:8081")
    monkeypatch.setenv("SCHAKEL_SCHEMA_REGISTRY_CA_FILE", str(tmp_path / "ca.pem"))
    monkeypatch.setenv("SCHAKEL_SCHEMA_REGISTRY_TOKN", VALUE)
    assert run(monkeypatch, ["worker"]) == (2, [])
    lines = capsys.readouterr().err.splitlines()
    assert [line.split(" ")[1] for line in lines] == [
        "SCHAKEL_SCHEMA_REGISTRY_TOKN:",
        "SCHAKEL_KAFKA_CA_FILE:",
        "SCHAKEL_SCHEMA_REGISTRY_CA_FILE:",
    ], lines
    # an invalid value: said with the misspelling (the connections wait for valid settings)
    monkeypatch.setenv("SCHAKEL_DATA_DIR", "")
    assert run(monkeypatch, ["worker"]) == (2, [])
    lines = capsys.readouterr().err.splitlines()
    assert [line.split(" ")[1:5] for line in lines] == [
        ["invalid", "configuration:", "SCHAKEL_DATA_DIR:", "empty:"],
        ["SCHAKEL_SCHEMA_REGISTRY_TOKN:", "no", "Schakel", "setting"],
    ], lines


def test_the_chart_refuses_the_registrys_tls_files_with_an_http_registry() -> None:
    values = merged(
        REQUIRED,
        {"secrets": {"schemaRegistryTls": {"existingSecret": "registry-tls"}}},
    )
    assert "http://" in values["config"]["schemaRegistryUrl"]
    error = render_error(values)
    assert (
        "secrets.schemaRegistryTls is set but config.schemaRegistryUrl names an http:// "
        "registry" in error
    ), error
    https = merged(values, {"config": {"schemaRegistryUrl": "https://registry:8081"}})
    assert template(https).returncode == 0


def test_the_settings_of_every_process_class_are_known() -> None:
    """The names the checks compare with: every class of SETTINGS_OF is part of Settings."""
    for model in set(SETTINGS_OF.values()):
        assert set(model.model_fields) <= set(Settings.model_fields)


@pytest.mark.parametrize(
    "url",
    [
        "http://schema-registry:8081",
        "HTTP://schema-registry:8081",
        " \thttp://schema-registry:8081",
        "https://a.example:8081, http://b.example:8081",
        "https://schema-registry:8081",
        "https://a.example:8081,HTTPS://b.example",
    ],
)
def test_the_chart_refuses_the_registrys_tls_files_where_the_processes_do(url: str) -> None:
    from tests.unit.test_helm_values import chart

    settings = CommonSettings(schema_registry_url=url, schema_registry_ca_file=Path("/ca.pem"))
    refused = registry_files_without_tls(settings) is not None
    ok, error = chart(
        {
            "config": {"schemaRegistryUrl": url},
            "secrets": {"schemaRegistryTls": {"existingSecret": "registry-tls"}},
        }
    )
    assert ok is not refused, error
    assert refused is ("http:" in url.lower())
