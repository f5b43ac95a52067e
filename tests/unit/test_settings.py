from __future__ import annotations

from pathlib import Path

import pytest

from schemas.exceptions import SettingsError
from schemas.registry_client import RegistryConnection
from schemas.settings import (
    AdapterSettings,
    CommonSettings,
    ForgetSettings,
    GenerateSettings,
    OutboxSettings,
    WebhookSettings,
    WorkerSettings,
    check_bootstrap,
    load_process_settings,
    load_settings,
)

LONG_KEY = "sleutel-voor-de-eenheidstests-0123456789"
"""A key long enough to be accepted (at least 32 characters)."""


def test_defaults_are_the_embedded_profile(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SCHAKEL_PSEUDONYM_KEY", raising=False)
    monkeypatch.delenv("SCHAKEL_PSEUDONYM_KEY_FILE", raising=False)
    settings = load_settings()
    assert settings.profile == "embedded"
    # no key is made up silently, not even in the embedded profile (issue 11 item 14)
    with pytest.raises(SettingsError, match="SCHAKEL_PSEUDONYM_KEY or SCHAKEL_PSEUDONYM_KEY_FILE"):
        settings.resolve_pseudonym_key()
    # only a self-contained run (demo, replay) asks for one
    key, generated = settings.resolve_pseudonym_key(generate=True)
    assert generated and len(key) == 64
    assert settings.resolve_pseudonym_key(generate=True)[0] != key  # fresh each time


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("SCHAKEL_PARTITIONS", "veel", "SCHAKEL_PARTITIONS"),
        ("SCHAKEL_PARTITIONS", "0", "SCHAKEL_PARTITIONS"),
        ("SCHAKEL_STORE", "redis", "SCHAKEL_STORE"),
        ("SCHAKEL_OIN", "123", "SCHAKEL_OIN"),
        # 20 Arabic-Indic digits: pydantic's \\d took any Unicode digit, into every source URN
        ("SCHAKEL_OIN", "\u0660" * 7 + "\u0661\u0662\u0663\u0664" + "\u0660" * 9, "SCHAKEL_OIN"),
        ("SCHAKEL_OIN", "\uff10" * 20, "SCHAKEL_OIN"),  # full-width zeros
        ("SCHAKEL_API_TOKENS", "anna:koning:x", "SCHAKEL_API_TOKENS"),
        ("SCHAKEL_API_TOKENS", "anna-zonder-rol", "SCHAKEL_API_TOKENS"),
        ("SCHAKEL_TIMEZONE", "Europe/Utrecht", "SCHAKEL_TIMEZONE"),
        ("SCHAKEL_TIMEZONE", "Europe", "SCHAKEL_TIMEZONE"),  # a folder of zones
        ("SCHAKEL_TIMEZONE", "", "SCHAKEL_TIMEZONE"),
        ("SCHAKEL_TIMEZONE", "../../etc/passwd", "SCHAKEL_TIMEZONE"),
    ],
)
def test_a_bad_value_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError, match=message):
        load_settings()


def test_production_has_no_silent_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SCHAKEL_PSEUDONYM_KEY", raising=False)
    monkeypatch.delenv("SCHAKEL_PSEUDONYM_KEY_FILE", raising=False)
    monkeypatch.setenv("SCHAKEL_PROFILE", "production")
    with pytest.raises(SettingsError) as info:
        load_settings()
    for name in ("SCHAKEL_KAFKA_BOOTSTRAP", "SCHAKEL_SCHEMA_REGISTRY_URL"):
        assert name in str(info.value)
    # The key is required where it is used, not by processes that never pseudonymise (the
    # workers, `schemas register`): a deployment mounts it only into the adapters.
    monkeypatch.setenv("SCHAKEL_KAFKA_BOOTSTRAP", "kafka:9092")
    monkeypatch.setenv("SCHAKEL_SCHEMA_REGISTRY_URL", "http://registry:8081")
    settings = load_settings()
    with pytest.raises(SettingsError, match="SCHAKEL_PSEUDONYM_KEY or SCHAKEL_PSEUDONYM_KEY_FILE"):
        settings.resolve_pseudonym_key()
    with pytest.raises(SettingsError, match="SCHAKEL_PSEUDONYM_KEY or SCHAKEL_PSEUDONYM_KEY_FILE"):
        settings.resolve_pseudonym_key(generate=True)  # not even for a demo


@pytest.mark.parametrize(
    ("tokens", "message"),
    [
        # one token for two clients: the last would win, with its role and its name in `wie`
        (
            "ops:beheerder:s3cret-ops,anna:regisseur:s3cret-ops",
            "clients 'ops' and 'anna' have the same token",
        ),
        ("anna:regisseur:s3cret-a, anna:auditor:s3cret-b", "client name 'anna' is given more"),
    ],
)
def test_a_token_or_client_name_given_twice_is_refused_at_start(
    monkeypatch: pytest.MonkeyPatch, tokens: str, message: str
) -> None:
    monkeypatch.setenv("SCHAKEL_API_TOKENS", tokens)
    with pytest.raises(SettingsError) as info:
        load_process_settings(WorkerSettings)
    assert str(info.value).startswith("invalid configuration: SCHAKEL_API_TOKENS: ")
    assert message in str(info.value)
    assert "s3cret" not in str(info.value)  # the token is a secret: never in the message


def test_secrets_are_masked_and_parsed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SCHAKEL_API_TOKENS", "anna:regisseur:geheim1, bert:beheerder:geheim2")
    monkeypatch.setenv("SCHAKEL_WEBHOOK_TOKENS", "urn:nld:oin:1:systeem:wijkteam=wt-token")
    key_file = tmp_path / "key"
    key_file.write_text(LONG_KEY + "\n")
    monkeypatch.setenv("SCHAKEL_PSEUDONYM_KEY_FILE", str(key_file))
    settings = load_settings()
    assert {t.name: t.role for t in settings.tokens().values()} == {
        "anna": "regisseur",
        "bert": "beheerder",
    }
    assert settings.webhook_senders() == {"wt-token": "urn:nld:oin:1:systeem:wijkteam"}
    assert settings.resolve_pseudonym_key() == (LONG_KEY, False)
    assert "geheim" not in repr(settings)
    assert "geheim" not in repr(list(settings.tokens().values()))


def test_a_missing_key_file_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SCHAKEL_PSEUDONYM_KEY_FILE", str(tmp_path / "nope"))
    with pytest.raises(SettingsError, match="SCHAKEL_PSEUDONYM_KEY_FILE"):
        load_settings().resolve_pseudonym_key()


def test_production_defaults_to_rocksdb(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCHAKEL_PROFILE", "production")
    monkeypatch.setenv("SCHAKEL_KAFKA_BOOTSTRAP", "kafka:9092")
    monkeypatch.setenv("SCHAKEL_SCHEMA_REGISTRY_URL", "http://registry:8081")
    monkeypatch.setenv("SCHAKEL_PSEUDONYM_KEY", "k")
    assert load_settings().store == "rocksdb"
    monkeypatch.setenv("SCHAKEL_STORE", "memory")
    assert load_settings().store == "memory"
    assert load_settings(profile="embedded").store == "memory"


SECRET_FIELDS = (
    "pseudonym_key",
    "pseudonym_key_file",
    "api_tokens",
    "webhook_tokens",
    "outbox_dsn",
)
SECRETS_OF = {
    "worker": {"api_tokens"},
    "adapter": {"pseudonym_key", "pseudonym_key_file"},
    "adapter outbox": {"pseudonym_key", "pseudonym_key_file", "outbox_dsn"},
    "adapter wijkteam --serve": {"pseudonym_key", "pseudonym_key_file", "webhook_tokens"},
    "publish": {"pseudonym_key", "pseudonym_key_file"},
    "forget": {"pseudonym_key", "pseudonym_key_file"},
    "generate": {"pseudonym_key", "pseudonym_key_file"},
    "dlq": set(),
    "schemas": set(),
    "broker": set(),
}
"""The secrets each process reads (issue 11 item 14): the key only where BSNs are
pseudonymised, the API tokens only in the worker, the webhook tokens only in the webhook, the
outbox DSN only in the outbox adapter."""


def test_each_process_reads_only_its_own_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    from schakel.cli import SETTINGS_OF

    assert set(SETTINGS_OF) == set(SECRETS_OF)
    for process, expected in SECRETS_OF.items():
        assert set(SECRET_FIELDS) & set(SETTINGS_OF[process].model_fields) == expected, process
    assert SETTINGS_OF["worker"] is WorkerSettings
    assert SETTINGS_OF["adapter"] is SETTINGS_OF["publish"] is AdapterSettings
    assert SETTINGS_OF["adapter outbox"] is OutboxSettings
    assert SETTINGS_OF["adapter wijkteam --serve"] is WebhookSettings
    assert SETTINGS_OF["forget"] is ForgetSettings
    assert SETTINGS_OF["generate"] is GenerateSettings
    assert SETTINGS_OF["dlq"] is SETTINGS_OF["schemas"] is SETTINGS_OF["broker"] is CommonSettings
    monkeypatch.setenv("SCHAKEL_PSEUDONYM_KEY", LONG_KEY)
    monkeypatch.setenv("SCHAKEL_API_TOKENS", "anna:regisseur:geheim")
    # a worker started with the key in its environment does not hold it
    worker = load_process_settings(WorkerSettings)
    assert LONG_KEY not in repr(worker.model_dump())
    assert not hasattr(worker, "pseudonym_key")
    assert [t.name for t in worker.tokens().values()] == ["anna"]
    adapter = load_process_settings(AdapterSettings)
    assert adapter.resolve_pseudonym_key() == (LONG_KEY, False)
    assert "geheim" not in repr(adapter.model_dump()) and not hasattr(adapter, "api_tokens")


COMMANDS = {
    "worker": ["worker"],
    "adapter": ["adapter", "iwmo", "berichten", "--once"],
    "adapter outbox": ["adapter", "outbox", "--once"],
    "adapter wijkteam --serve": ["adapter", "wijkteam", "--serve", "--port", "0"],
    "publish": ["publish", "events.jsonl"],
    "forget": ["forget", "--bsn-file", "bsns.txt"],
    "dlq": ["dlq", "list"],
    "schemas": ["schemas", "check"],
    "broker": ["broker"],
}
HANDLERS = {
    "worker": "_cmd_worker",
    "adapter": "_cmd_adapter",
    "publish": "_cmd_publish",
    "forget": "_cmd_forget",
    "dlq": "_cmd_dlq",
    "schemas": "_cmd_schemas",
    "broker": "_cmd_broker",
}


@pytest.mark.parametrize("process", sorted(COMMANDS))
def test_each_command_is_given_only_the_secrets_of_its_process(
    monkeypatch: pytest.MonkeyPatch, process: str
) -> None:
    """What `schakel COMMAND` hands its handler, with every secret in its environment: a
    secret the process does not use is not read (ignored, not refused)."""
    from schakel import cli

    argv = COMMANDS[process]
    monkeypatch.setenv("SCHAKEL_PSEUDONYM_KEY", "sleutel-geheim-0123456789abcdef0123")
    monkeypatch.setenv("SCHAKEL_API_TOKENS", "anna:regisseur:api-geheim")
    monkeypatch.setenv("SCHAKEL_WEBHOOK_TOKENS", "urn:nld:oin:1:systeem:wijkteam=webhook-geheim")
    monkeypatch.setenv("SCHAKEL_OUTBOX_DSN", "postgresql://lezer:dsn-geheim@db/bron")
    monkeypatch.delenv("SCHAKEL_PSEUDONYM_KEY_FILE", raising=False)
    given: list[CommonSettings] = []

    def handler(args: object, settings: CommonSettings) -> int:
        given.append(settings)
        return 0

    monkeypatch.setattr(cli, HANDLERS[argv[0]], handler)
    assert cli.main(argv) == 0
    (settings,) = given
    assert cli.settings_class(cli.build_parser().parse_args(argv)) is type(settings)
    held = {name for name in SECRET_FIELDS if getattr(settings, name, None) is not None}
    assert held == SECRETS_OF[process] - {"pseudonym_key_file"}


def test_the_readme_says_who_reads_each_secret() -> None:
    from schakel.config_doc import read_by

    assert read_by("outbox_dsn") == "`adapter outbox`"
    assert read_by("webhook_tokens") == "`adapter wijkteam --serve`"
    assert read_by("api_tokens") == "`worker`"
    assert read_by("pseudonym_key") == (
        "`adapter`, `adapter outbox`, `adapter wijkteam --serve`, `publish`, `forget`, `generate`"
    )
    assert read_by("namespace") == "every process"


def test_the_readme_names_only_the_processes_that_use_an_adapter_setting() -> None:
    """The webhook serves /metrics on WEBHOOK_PORT and never polls; `publish` runs once (no
    /metrics, no poll); only the iwmo adapter (`adapter`) reads XML. Their settings classes
    carry these fields all the same, so the column must not follow class membership alone."""
    from schakel.config_doc import read_by

    assert read_by("metrics_port") == "`adapter`, `adapter outbox`"
    assert read_by("poll_interval_s") == "`adapter`, `adapter outbox`"
    assert read_by("max_xml_bytes") == "`adapter`"


def test_every_not_used_by_entry_is_a_setting_its_process_carries() -> None:
    """An override for a field or process that does not carry it is stale: a typo, or the
    settings classes changed and the column should follow them again."""
    from schakel.cli import SETTINGS_OF
    from schakel.config_doc import NOT_USED_BY

    for name, processes in NOT_USED_BY.items():
        for process in processes:
            assert name in SETTINGS_OF[process].model_fields, (name, process)


def test_a_process_that_pseudonymises_needs_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SCHAKEL_PSEUDONYM_KEY", raising=False)
    monkeypatch.delenv("SCHAKEL_PSEUDONYM_KEY_FILE", raising=False)
    for model in (AdapterSettings, ForgetSettings):
        with pytest.raises(SettingsError) as info:
            load_process_settings(model)
        assert str(info.value) == (
            "invalid configuration: SCHAKEL_PSEUDONYM_KEY or SCHAKEL_PSEUDONYM_KEY_FILE is "
            "required: set the same key for every process that pseudonymises (only demo and "
            "replay generate one for their run)"
        )
    load_process_settings(WorkerSettings)  # the worker never needs it
    load_settings()  # nor demo and replay, which may generate one for their run


@pytest.mark.parametrize("host", ["0.0.0.0", "::"])
def test_a_worker_on_a_wildcard_address_needs_a_url_of_its_own(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], host: str
) -> None:
    """Every worker announces where it is reached (docs/operations.md, "HTTP API"): the
    default ``http://0.0.0.0:6066`` would be every worker's, and each would answer timeline
    requests for citizens of the others from its own table."""
    from schakel.cli import main

    monkeypatch.delenv("SCHAKEL_WEB_URL", raising=False)
    monkeypatch.setenv("SCHAKEL_WEB_HOST", host)
    with pytest.raises(SettingsError) as info:
        load_process_settings(WorkerSettings)
    assert "SCHAKEL_WEB_URL is required when SCHAKEL_WEB_HOST is a wildcard" in str(info.value)
    # `schakel worker`: one line, exit 2, before anything starts
    assert main(["worker"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("schakel: invalid configuration: SCHAKEL_WEB_URL is required")
    assert err.count("\n") == 1
    monkeypatch.setenv("SCHAKEL_WEB_URL", "http://worker-1.schakel:6066")
    assert load_process_settings(WorkerSettings).api_url() == "http://worker-1.schakel:6066"
    # demo and replay run no worker in their own process (the workers they start check it)
    monkeypatch.delenv("SCHAKEL_WEB_URL")
    load_settings()


@pytest.mark.parametrize(
    "url", ["http://0.0.0.0:6066", "http://[::]:6066", "worker-1:6066", "ftp://worker-1/"]
)
def test_a_web_url_must_be_a_reachable_http_url(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("SCHAKEL_WEB_URL", url)
    with pytest.raises(SettingsError, match="SCHAKEL_WEB_URL: must"):
        load_process_settings(WorkerSettings)


def test_the_default_url_is_the_bound_address(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SCHAKEL_WEB_URL", raising=False)
    assert WorkerSettings(web_host="10.1.2.3", web_port=7000).api_url() == "http://10.1.2.3:7000"
    assert WorkerSettings(web_host="::1", web_port=7000).api_url() == "http://[::1]:7000"


def test_a_webhook_token_given_to_two_sources_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """The last source would have won silently and the other's sender been turned away."""
    monkeypatch.setenv("SCHAKEL_PSEUDONYM_KEY", LONG_KEY)
    monkeypatch.setenv(
        "SCHAKEL_WEBHOOK_TOKENS",
        "urn:nld:oin:1:systeem:wijkteam-noord=gedeeld-geheim,"
        "urn:nld:oin:1:systeem:wijkteam-zuid=gedeeld-geheim",
    )
    settings = WebhookSettings()
    with pytest.raises(SettingsError, match=r"WEBHOOK_TOKENS: .*noord and .*zuid") as err:
        settings.webhook_senders()
    assert "gedeeld-geheim" not in str(err.value)
    monkeypatch.setenv(  # the same source twice with one token is harmless
        "SCHAKEL_WEBHOOK_TOKENS",
        "urn:nld:oin:1:systeem:wijkteam=een-geheim,urn:nld:oin:1:systeem:wijkteam=een-geheim",
    )
    assert WebhookSettings().webhook_senders() == {"een-geheim": "urn:nld:oin:1:systeem:wijkteam"}


def test_a_webhook_token_may_hold_equals_signs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Split at the first ``=``: a base64 token (padding, or ``=`` inside) stays whole; split
    at the last, part of it became the source, which errors and quarantine entries name."""
    monkeypatch.setenv("SCHAKEL_PSEUDONYM_KEY", LONG_KEY)
    monkeypatch.setenv(
        "SCHAKEL_WEBHOOK_TOKENS",
        "urn:nld:oin:1:systeem:wijkteam=ab=cd+ef/gh==,urn:nld:oin:1:systeem:schulden=xyz=",
    )
    assert WebhookSettings().webhook_senders() == {
        "ab=cd+ef/gh==": "urn:nld:oin:1:systeem:wijkteam",
        "xyz=": "urn:nld:oin:1:systeem:schulden",
    }


def test_config_shows_no_password_in_a_url(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``schakel config`` shows the settings with secrets masked: a schema registry URL with
    a user name and password in it too (review F5)."""
    from schakel.cli import main

    monkeypatch.setenv(
        "SCHAKEL_SCHEMA_REGISTRY_URL", "https://sr-user:sr-GEHEIM@registry.example:8081/x"
    )
    monkeypatch.setenv("SCHAKEL_API_TOKENS", "bert:beheerder:api-GEHEIM")
    assert main(["config"]) == 0
    out = capsys.readouterr().out
    assert "SCHAKEL_SCHEMA_REGISTRY_URL=https://***@registry.example:8081/x" in out
    assert "GEHEIM" not in out and "sr-user" not in out
    monkeypatch.setenv(  # several registries: each URL's user information
        "SCHAKEL_SCHEMA_REGISTRY_URL", "https://a:GEHEIM1@r1.example,https://b:GEHEIM2@r2.example"
    )
    assert main(["config"]) == 0
    out = capsys.readouterr().out
    assert "SCHAKEL_SCHEMA_REGISTRY_URL=https://***@r1.example,https://***@r2.example" in out
    assert "GEHEIM" not in out


def test_the_live_clock_is_dutch_unless_told_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SCHAKEL_TIMEZONE", raising=False)
    assert WorkerSettings().zone().key == "Europe/Amsterdam"
    monkeypatch.setenv("SCHAKEL_TIMEZONE", "UTC")
    assert WorkerSettings().zone().key == "UTC"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("SCHAKEL_WEB_PORT", "0"),  # Faust refused it with a traceback (exit 1)
        ("SCHAKEL_KAFKA_BOOTSTRAP", "kafka-1"),  # no port: the 5 s check skipped, 30 s, exit 75
        ("SCHAKEL_KAFKA_BOOTSTRAP", "kafka-1:99999"),  # exit 75 "did not answer"
        ("SCHAKEL_KAFKA_BOOTSTRAP", "kafka-1:9092,"),
        ("SCHAKEL_KAFKA_BOOTSTRAP", "PLAINTEXT://kafka-1:9092"),
        ("SCHAKEL_KAFKA_BOOTSTRAP", "gebruiker:GEHEIM@kafka-1:9092"),  # echoed on stderr
        ("SCHAKEL_SCHEMA_REGISTRY_URL", "registry:8081"),
        ("SCHAKEL_SCHEMA_REGISTRY_URL", "ftp://registry:8081"),
        ("SCHAKEL_SCHEMA_REGISTRY_URL", "http://registry:99999"),  # a traceback (exit 1)
        ("SCHAKEL_SCHEMA_REGISTRY_URL", "https://gebruiker:GEHEIM@registry:99999"),
        ("SCHAKEL_SCHEMA_REGISTRY_URL", "http://registry:8081,"),
        ("SCHAKEL_HEARTBEAT_MS", "6000"),  # not below the session timeout (6000)
        ("SCHAKEL_TIMER_INTERVAL_S", "inf"),  # the live clock would never tick
        ("SCHAKEL_POLL_INTERVAL_S", "inf"),
        # finite, but beyond what a thread can wait (threading.TIMEOUT_MAX, ~292 years): the
        # adapter published its backlog, then stopped with an OverflowError traceback
        ("SCHAKEL_POLL_INTERVAL_S", "1e10"),
        ("SCHAKEL_POLL_INTERVAL_S", "86401"),  # at most a day
        ("SCHAKEL_TIMER_INTERVAL_S", "1e10"),  # the live clock would as good as never tick
        ("SCHAKEL_TIMER_INTERVAL_S", "86401"),
    ],
)
def test_a_value_the_clients_cannot_use_is_refused_at_start(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    """A value the Kafka, registry or web clients would refuse later, or wait on for
    nothing, stops the process at start with one message naming the variable (exit 2), and
    never echoes the value: it may hold a password."""
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError, match=variable) as info:
        load_settings()
    assert "GEHEIM" not in str(info.value)


def test_usable_addresses_are_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCHAKEL_KAFKA_BOOTSTRAP", "kafka-1:9092, kafka_2.local:9093,[::1]:9094")
    monkeypatch.setenv(
        "SCHAKEL_SCHEMA_REGISTRY_URL", "http://registry:8081,https://u:p@r2.example/prefix"
    )
    monkeypatch.setenv("SCHAKEL_HEARTBEAT_MS", "3000")
    monkeypatch.setenv("SCHAKEL_SESSION_TIMEOUT_MS", "30000")
    monkeypatch.setenv("SCHAKEL_POLL_INTERVAL_S", "86400")
    monkeypatch.setenv("SCHAKEL_TIMER_INTERVAL_S", "86400")
    settings = load_settings()
    assert settings.kafka_bootstrap == "kafka-1:9092, kafka_2.local:9093,[::1]:9094"
    assert settings.poll_interval_s == settings.timer_interval_s == 86400


@pytest.mark.parametrize(
    ("argv", "variable", "value"),
    [
        (["worker"], "SCHAKEL_WEB_PORT", "0"),
        (["schemas", "register"], "SCHAKEL_SCHEMA_REGISTRY_URL", "http://registry:99999"),
    ],
)
def test_a_bad_address_is_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    variable: str,
    value: str,
) -> None:
    from schakel.cli import main

    monkeypatch.setenv(variable, value)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"schakel: invalid configuration: {variable}: "), err
    assert err.count("\n") == 1


@pytest.mark.parametrize("where", ["variable", "file"])
def test_a_pseudonym_key_too_short_to_keep_pseudonyms_secret_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, where: str
) -> None:
    """A key of a few characters can be guessed, and with it every pseudonym turned back into
    its BSN: one of fewer than 32 characters is refused, without echoing it."""
    short = "geheim-maar-kort-31-tekens-lang"
    assert len(short) == 31
    if where == "file":
        key_file = tmp_path / "key"
        key_file.write_text(short + "\n")
        monkeypatch.setenv("SCHAKEL_PSEUDONYM_KEY_FILE", str(key_file))
        name = "SCHAKEL_PSEUDONYM_KEY_FILE"
    else:
        monkeypatch.setenv("SCHAKEL_PSEUDONYM_KEY", short)
        name = "SCHAKEL_PSEUDONYM_KEY:"
    with pytest.raises(SettingsError) as info:
        load_settings().resolve_pseudonym_key()
    assert name in str(info.value) and "32" in str(info.value)
    assert short not in str(info.value)
    monkeypatch.setenv("SCHAKEL_PSEUDONYM_KEY", short + "x")
    monkeypatch.delenv("SCHAKEL_PSEUDONYM_KEY_FILE", raising=False)
    assert load_settings().resolve_pseudonym_key() == (short + "x", False)


@pytest.mark.parametrize("key", [" " + "k" * 32, "k" * 32 + "\n", "k" * 32 + " "])
def test_a_key_variable_with_surrounding_white_space_is_refused(
    monkeypatch: pytest.MonkeyPatch, key: str
) -> None:
    """A key file's surrounding white space is ignored; the same key in the variable with a
    trailing newline would give other pseudonyms, and ``forget`` would silently find no one:
    the variable is refused instead, naming it, not echoing the key."""
    monkeypatch.setenv("SCHAKEL_PSEUDONYM_KEY", key)
    with pytest.raises(SettingsError, match=r"SCHAKEL_PSEUDONYM_KEY: .*white space") as info:
        load_settings().resolve_pseudonym_key()
    assert "k" * 32 not in str(info.value)


@pytest.mark.parametrize(
    "value", ["SASL_SSL://kafka-1:9093", "kafka-1:9092,PLAINTEXT://kafka-2:9092"]
)
def test_a_listener_prefix_in_the_bootstrap_names_the_setting_for_it(value: str) -> None:
    """A Java client takes ``SASL_SSL://host:port`` (it drops the listener name); Schakel
    refuses it, and says where the protocol goes, so that dropping the prefix does not leave
    the connection plaintext."""
    with pytest.raises(ValueError, match="SCHAKEL_KAFKA_SECURITY_PROTOCOL"):
        check_bootstrap(value)


def test_an_ipv6_registry_is_shown_in_brackets() -> None:
    """The registry's address in messages and in ``adapter.outage``'s detail: an IPv6
    address without its brackets ran into the port (``http://::1:8081``)."""
    connection = RegistryConnection(url="http://[::1]:8081/prefix,https://u:p@[2001:db8::2]")
    assert connection.where == "http://[::1]:8081,https://[2001:db8::2]"
