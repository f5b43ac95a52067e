"""The settings of Schakel's processes: environment variables ``SCHAKEL_*``, one class per
kind of process so a secret reaches only the processes that use it (:class:`CommonSettings`,
:class:`WorkerSettings`, :class:`AdapterSettings`, :class:`OutboxSettings`,
:class:`WebhookSettings`, :class:`ForgetSettings`, :class:`GenerateSettings`;
:class:`Settings` holds them all, for ``demo`` and ``replay``). Which command loads which
class is said once, in ``schakel.cli.SETTINGS_OF``. A process ignores the ``SCHAKEL_*``
variables of other processes: it neither reads them nor refuses to start, but names a secret
among them at start (:func:`schemas.environment.foreign_secrets`), as it names a variable that
no process reads (:func:`schemas.environment.unknown_variables`; a misspelt security setting
stops it);
:func:`child_environment` keeps them from the processes it starts.

Each field's description is the documentation; ``schakel config --markdown`` renders the
README's configuration table from it (a test keeps the two equal). Invalid values stop the
program at start with a message naming the variable (:func:`load_settings`).
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, Self, TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BeforeValidator,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from schemas.exceptions import SettingsError
from schemas.wire import NAMESPACE_PATTERN, Wire

ENV_PREFIX = "SCHAKEL_"
Role = Literal["regisseur", "beheerder", "auditor"]
"""API roles (docs/operations.md, "API roles"): signals and timelines; operational endpoints;
the audit trail."""
ROLES: tuple[Role, ...] = ("regisseur", "beheerder", "auditor")
MISSING_KEY = (
    f"{ENV_PREFIX}PSEUDONYM_KEY or {ENV_PREFIX}PSEUDONYM_KEY_FILE is required: set the same "
    "key for every process that pseudonymises (only demo and replay generate one for their run)"
)

MAX_INTERVAL_S = 86_400.0
"""The longest poll or live-clock interval (a day). Beyond ``threading.TIMEOUT_MAX`` (about
292 years) a continuous adapter stopped with an ``OverflowError`` after its first run; long
before that the interval is a mistake (a clock that checks less than daily misses days)."""

MIN_KEY_LENGTH = 32
"""The shortest pseudonym key accepted (characters, after a key file's surrounding white space):
a key that can be guessed turns every pseudonym back into its BSN. ``openssl rand -hex 32``
gives 64."""

WILDCARD_HOSTS = frozenset({"0.0.0.0", "::", "[::]", ""})  # noqa: S104 - recognised, not bound
"""Bind addresses meaning "every interface": no address another worker can reach."""
MISSING_WEB_URL = (
    f"{ENV_PREFIX}WEB_URL is required when {ENV_PREFIX}WEB_HOST is a wildcard address "
    "(0.0.0.0, ::): set it to the address other workers reach this worker's API at, e.g. "
    "http://<this host or pod>:6066 — the default http://WEB_HOST:WEB_PORT would be the same "
    "for every worker, and each would answer timeline requests from its own table"
)


def http_url(host: str, port: int) -> str:
    """``http://host:port`` (an IPv6 address in brackets)."""
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"


def local_url(host: str, port: int) -> str:
    """The URL of a server bound to ``host``:``port`` as reached from the same machine: the
    loopback address for a wildcard bind (:data:`WILDCARD_HOSTS`)."""
    if host in WILDCARD_HOSTS:
        host = "::1" if ":" in host else "127.0.0.1"
    return http_url(host, port)


class ApiToken:
    """One API client: a name (recorded in the audit trail), a role and its secret token."""

    __slots__ = ("name", "role", "token")

    def __init__(self, name: str, role: Role, token: str) -> None:
        self.name, self.role, self.token = name, role, token

    def __repr__(self) -> str:
        return f"ApiToken(name={self.name!r}, role={self.role!r}, token=***)"


DEFAULT_TIMEZONE = "Europe/Amsterdam"
"""The live clock's time zone unless ``SCHAKEL_TIMEZONE`` says otherwise: a Dutch
municipality's day (``rules.md``: a citizen's live clock is max(today, latest ``datum``)).
With UTC a day would end at 01:00 or 02:00 Dutch time, and for that hour every night the
clock and the API's ``klok`` would still say yesterday."""


def _not_empty(value: object) -> object:
    """An empty value (or only white space) of a path setting is refused: pydantic read it as
    ``Path("")``, which is ``.``, the working directory — a data directory there, a key or
    TLS "file" that is a directory. The message names no path (there is none) and, through
    :func:`load_process_settings`, the variable."""
    if isinstance(value, str) and not value.strip():
        raise ValueError("empty: unset the variable, or give a path")
    return value


PathSetting = Annotated[Path, BeforeValidator(_not_empty)]
"""A path setting (SCHAKEL_DATA_DIR): never empty (:func:`_not_empty`)."""
OptionalPath = Annotated[Path | None, BeforeValidator(_not_empty)]
"""A path setting that may be unset (the TLS files, the key and password files, the rules
directory): unset, or a path, never empty (:func:`_not_empty`). Around the whole union, so an
empty value is one error, not one per member."""


TLS_FILES = (
    "kafka_ca_file",
    "kafka_cert_file",
    "kafka_key_file",
    "schema_registry_ca_file",
    "schema_registry_cert_file",
    "schema_registry_key_file",
)
"""The PEM files of the TLS connections. An empty value is refused here (:data:`OptionalPath`);
what a file holds is checked at start by the processes that use it (:mod:`schemas.tls_files`
via ``KafkaSecurity`` and ``RegistryConnection``), and a file of a connection without TLS is
refused there too (:func:`tls_without_tls`), not here: settings are also read where the files
are absent (the Helm chart's tests) or unused (no registry URL, an embedded broker)."""


_BOOTSTRAP_ITEM = re.compile(r"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):([0-9]{1,5})")
"""One address of SCHAKEL_KAFKA_BOOTSTRAP: ``host:port`` (an IPv6 address in brackets)."""


def check_bootstrap(value: str) -> str:
    """``value`` if it is a list of ``host:port`` separated by commas, each port 1–65535;
    else ``ValueError`` (without the value: it is no place for a password, but may hold one).
    Without a port the start's 5 s connection check found no address to ask and the Kafka
    client waited 30 s before it failed, as if the broker were down (exit 75)."""
    for item in value.split(","):
        match = _BOOTSTRAP_ITEM.fullmatch(item.strip())
        if match is None or not 1 <= int(match.group(1)) <= 65535:
            # a listener name (SASL_SSL://, as a Java client takes it) says how to connect:
            # dropped without a word, the connection would be plaintext
            scheme = (
                f" (how to connect, e.g. SASL_SSL, is {ENV_PREFIX}KAFKA_SECURITY_PROTOCOL)"
                if "://" in value
                else ""
            )
            raise ValueError(
                "expected HOST:PORT addresses separated by commas, e.g. "
                "kafka-1:9092,kafka-2:9092 (an IPv6 address in brackets, a port 1-65535; no "
                f"scheme, no user name or password){scheme}"
            )
    return value


def check_http_urls(value: str) -> str:
    """``value`` if it is a list of http(s) URLs with a host (and a valid port) separated by
    commas; else ``ValueError`` (without the value: a URL may carry a password)."""
    for item in value.split(","):
        parts = urlsplit(item.strip())
        try:
            port_ok = parts.port is None or parts.port > 0
        except ValueError:  # not a number, or above 65535
            port_ok = False
        if parts.scheme not in ("http", "https") or not parts.hostname or not port_ok:
            raise ValueError(
                "expected http(s) URLs separated by commas, e.g. https://registry.example:8081"
            )
    return value


def zone_named(name: str) -> ZoneInfo:
    """The time zone ``name`` (IANA, e.g. ``Europe/Amsterdam``; the ``tzdata`` package holds
    them when the system has none); ``ValueError`` for an unknown one."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:  # OSError: a folder (Europe)
        raise ValueError("not a known IANA time zone name, e.g. Europe/Amsterdam or UTC") from exc


class CommonSettings(BaseSettings):
    """What every Schakel process reads: Kafka, the schema registry, the topic namespace, the
    data directory, logging and the profile. No secret of one process's own is here; each
    process loads the subclass of its own (``schakel.cli.SETTINGS_OF``), so a worker never
    reads the pseudonym key and an adapter never reads the API tokens."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, frozen=True, extra="ignore")

    profile: Literal["embedded", "kafka", "production"] = Field(
        "embedded",
        description="`embedded`: local broker and registry; the embedded broker's workarounds "
        "are on. `kafka`: Apache Kafka at KAFKA_BOOTSTRAP (required), no workarounds, local "
        "registry still allowed (what `replay`/`demo --bootstrap` use). `production`: Apache "
        "Kafka; KAFKA_BOOTSTRAP and SCHEMA_REGISTRY_URL are required. In every profile the "
        "processes that pseudonymise need PSEUDONYM_KEY (or _FILE).",
    )
    kafka_bootstrap: str | None = Field(
        None,
        description="Kafka bootstrap servers `host:port[,host:port]`. Unset: `demo` and "
        "`replay` start an embedded broker of their own; every other command uses the one "
        "`schakel broker` runs with the same DATA_DIR, and without one exits 2.",
    )
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        "PLAINTEXT",
        description="How to connect to KAFKA_BOOTSTRAP: `PLAINTEXT`; `SSL` (TLS, with a client "
        "certificate if KAFKA_CERT_FILE is set: mutual TLS); `SASL_SSL` (TLS and a user name "
        "and password); `SASL_PLAINTEXT` (a password without TLS: a trusted network only). "
        "The embedded broker is always plaintext.",
    )
    kafka_ca_file: OptionalPath = Field(
        None,
        description="PEM CA bundle that verifies the brokers' TLS certificates (default: the "
        "system's CA store).",
    )
    kafka_cert_file: OptionalPath = Field(
        None, description="PEM client certificate for mutual TLS with Kafka."
    )
    kafka_key_file: OptionalPath = Field(
        None,
        description="PEM private key of KAFKA_CERT_FILE, unencrypted (unset: KAFKA_CERT_FILE "
        "holds the key too).",
    )
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = Field(
        "SCRAM-SHA-512", description="SASL mechanism (with a SASL_* protocol)."
    )
    kafka_sasl_username: str | None = Field(None, description="SASL user name.")
    kafka_sasl_password: SecretStr | None = Field(None, description="SASL password. Never logged.")
    kafka_sasl_password_file: OptionalPath = Field(
        None,
        description="File holding the SASL password (alternative to KAFKA_SASL_PASSWORD): "
        "its content, less one trailing line ending (LF or CRLF) as `echo` and editors write "
        "it; any other whitespace is part of the password.",
    )
    schema_registry_url: str | None = Field(
        None,
        description="URL of a Confluent-compatible schema registry. Unset: the local "
        "registry (schema ids derived from the committed `.avsc` files).",
    )
    schema_registry_auth: SecretStr | None = Field(
        None,
        description="Basic auth for the schema registry as `user:password` (e.g. an API key "
        "and secret). Never logged.",
    )
    schema_registry_token: SecretStr | None = Field(
        None,
        description="Bearer token for the schema registry (instead of SCHEMA_REGISTRY_AUTH). "
        "Never logged.",
    )
    schema_registry_ca_file: OptionalPath = Field(
        None,
        description="PEM CA bundle that verifies the registry's TLS certificate (default: the "
        "certifi bundle).",
    )
    schema_registry_cert_file: OptionalPath = Field(
        None, description="PEM client certificate for mutual TLS with the schema registry."
    )
    schema_registry_key_file: OptionalPath = Field(
        None,
        description="PEM private key of SCHEMA_REGISTRY_CERT_FILE, unencrypted (unset: "
        "SCHEMA_REGISTRY_CERT_FILE holds the key too).",
    )
    schema_registry_retries: int = Field(
        3,
        ge=0,
        le=20,
        description="Retries of a registry request that failed transiently (unreachable, "
        "timeout, HTTP 408/429/5xx), with exponential backoff and jitter (1 s doubling, at "
        "most 20 s); then the request fails as unavailable.",
    )
    data_dir: PathSetting = Field(
        Path("var"),
        description="Directory for checkpoints, quarantine files and worker state.",
    )
    oin: str = Field(
        "00000001234567890000",
        pattern=r"^[0-9]{20}$",  # ASCII digits: in pydantic, \d is any Unicode digit
        description="OIN of the municipality, used in adapter `source` URNs.",
    )
    namespace: str = Field(
        "",
        pattern=NAMESPACE_PATTERN,
        description="Topic namespace: when set, every topic, the table changelog and the "
        "worker's consumer group are named `NAMESPACE.<name>` (e.g. `utrecht.schakel.wmo.events`"
        "); empty: the names of events.md. Lowercase letters, digits, `-`; at most 40. Lets "
        "several municipalities, or a replay, share one cluster (docs/operations.md).",
    )
    partitions: int = Field(4, ge=1, le=256, description="Partitions per event topic.")
    replication_factor: int = Field(1, ge=1, le=9, description="Replication of created topics.")
    web_host: str = Field(
        "127.0.0.1",
        description="Address the process's HTTP endpoints bind to (the worker's API, an "
        "adapter's /metrics, the webhook). A worker on a wildcard address (`0.0.0.0`, `::`) "
        "needs WEB_URL.",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="Log level."
    )
    log_format: Literal["json", "text"] = Field(
        "json", description="Log format: structured JSON lines or text."
    )

    @field_validator("kafka_bootstrap")
    @classmethod
    def _check_bootstrap(cls, value: str | None) -> str | None:
        return value if value is None else check_bootstrap(value)

    @field_validator("schema_registry_url")
    @classmethod
    def _check_registry_url(cls, value: str | None) -> str | None:
        return value if value is None else check_http_urls(value)

    @model_validator(mode="after")
    def _production_needs(self) -> Self:
        """Production needs a real broker and registry (the key: :class:`KeyedSettings`)."""
        if self.profile == "production":
            missing = [
                f"{ENV_PREFIX}{name.upper()}"
                for name in ("kafka_bootstrap", "schema_registry_url")
                if getattr(self, name) is None
            ]
            if missing:
                raise ValueError("production profile requires " + ", ".join(missing))
        if self.profile == "kafka" and self.kafka_bootstrap is None:
            raise ValueError(f"kafka profile requires {ENV_PREFIX}KAFKA_BOOTSTRAP")
        return self

    def wire(self) -> Wire:
        """The topic names of this process's namespace."""
        return Wire(self.namespace)

    def source_urn(self, system: str) -> str:
        """CloudEvents ``source`` of an adapter: ``urn:nld:oin:<OIN>:systeem:<system>``."""
        return f"urn:nld:oin:{self.oin}:systeem:{system}"


class WorkerSettings(CommonSettings):
    """``schakel worker``: the common settings plus the API tokens, rules, table store, web
    server and clock. No pseudonym key: a worker never sees a BSN."""

    api_tokens: SecretStr | None = Field(
        None,
        description="API clients as `name:role:token` separated by commas; role is "
        "`regisseur` (signals, timelines), `beheerder` (dead letters, configuration) or "
        "`auditor` (audit trail).",
    )
    rules_dir: OptionalPath = Field(
        None,
        description="Directory of rule YAML files that override, disable or add to the "
        "built-in rules.",
    )
    store: Literal["memory", "rocksdb"] = Field(
        "memory",
        description="Worker table store: `memory` or `rocksdb` (rocksdict; the default in the "
        "production profile). On Apache Kafka (exactly-once) a `rocksdb` worker rebuilds its "
        "tables from the changelog at every start (docs/operations.md).",
    )
    history_limit: int = Field(
        2000,
        ge=10,
        description="Maximum accepted events per citizen timeline; a new event beyond it is "
        "refused (dead-lettered, reason `history-limit`), an accepted one is never dropped.",
    )
    timer_interval_s: float = Field(
        30.0,
        gt=0,
        le=MAX_INTERVAL_S,
        allow_inf_nan=False,
        description="Seconds between live-clock checks of due citizens (at most a day).",
    )
    timezone: str = Field(
        DEFAULT_TIMEZONE,
        description="Time zone (IANA name) of the live clock's today: a day, and a "
        "deadline, ends at midnight there, not at midnight UTC.",
    )
    web_port: int = Field(6066, ge=1, le=65535, description="Port of the worker's HTTP API.")
    web_url: str | None = Field(
        None,
        description="URL other workers use to reach this worker's API, for routing a "
        "citizen's request to its owner (default `http://WEB_HOST:WEB_PORT`): an http(s) URL "
        "of this worker's own address, different for every worker. Required when WEB_HOST is "
        "a wildcard (`0.0.0.0`, `::`): the worker refuses to start without it (exit 2).",
    )
    session_timeout_ms: int = Field(
        6000, ge=1000, description="Consumer-group session timeout (short for the embedded broker)."
    )
    heartbeat_ms: int = Field(
        1000,
        ge=100,
        description="Consumer-group heartbeat interval: below SESSION_TIMEOUT_MS (Kafka "
        "advises at most a third of it).",
    )

    url_required: ClassVar[bool] = True
    """Whether a wildcard WEB_HOST needs a WEB_URL; False only for :class:`Settings` (demo
    and replay run no worker in their own process: the workers they start check it)."""

    @field_validator("api_tokens")
    @classmethod
    def _check_tokens(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            _parse_tokens(value.get_secret_value())
        return value

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        zone_named(value)
        return value

    def zone(self) -> ZoneInfo:
        """The live clock's time zone (:attr:`timezone`)."""
        return zone_named(self.timezone)

    @field_validator("web_url")
    @classmethod
    def _check_web_url(cls, value: str | None) -> str | None:
        if value is not None:
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError("must be an http(s) URL with a host, e.g. http://worker-1:6066")
            if parts.hostname in WILDCARD_HOSTS:
                raise ValueError("must name this worker's own address, not a wildcard")
        return value

    @model_validator(mode="after")
    def _reachable(self) -> Self:
        """Every worker announces a URL of its own (docs/operations.md, "HTTP API"): with a
        wildcard WEB_HOST and no WEB_URL they would all announce ``http://0.0.0.0:PORT``, and
        Faust would take every citizen for one of its own."""
        if self.url_required and self.web_url is None and self.web_host in WILDCARD_HOSTS:
            raise ValueError(MISSING_WEB_URL)
        return self

    @model_validator(mode="after")
    def _heartbeat_within_session(self) -> Self:
        """A member that heartbeats less often than its session lasts is taken for dead
        between two heartbeats, again and again: the group never settles."""
        if self.heartbeat_ms >= self.session_timeout_ms:
            raise ValueError(
                f"{ENV_PREFIX}HEARTBEAT_MS must be below {ENV_PREFIX}SESSION_TIMEOUT_MS "
                "(Kafka's advice: at most a third of it)"
            )
        return self

    def api_url(self) -> str:
        """The URL other workers reach this worker's API at (Faust's ``canonical_url``):
        WEB_URL, else ``http://WEB_HOST:WEB_PORT``."""
        return self.web_url or http_url(self.web_host, self.web_port)

    @model_validator(mode="before")
    @classmethod
    def _production_store(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("profile") == "production":
            data.setdefault("store", "rocksdb")
        return data

    def tokens(self) -> dict[str, ApiToken]:
        """API tokens by secret."""
        if self.api_tokens is None:
            return {}
        return {t.token: t for t in _parse_tokens(self.api_tokens.get_secret_value())}


class KeyedSettings(CommonSettings):
    """A process that pseudonymises BSNs: the common settings plus the pseudonym key, which
    is required (validation fails naming SCHAKEL_PSEUDONYM_KEY / _FILE when neither is set),
    in every profile: processes that pseudonymise separately must share one key."""

    key_required: ClassVar[bool] = True
    """False only for :class:`Settings` (demo and replay may generate a key for their run)."""

    pseudonym_key: SecretStr | None = Field(
        None,
        description="Secret HMAC key for pseudonyms (never logged), at least 32 characters "
        "(`openssl rand -hex 32`), the same in every process that pseudonymises. Required, "
        "in every profile, by the adapters, `publish`, the webhook and `forget` (they refuse "
        "to start without it); only `demo` and `replay` generate one for their run and say "
        "so; `generate` uses it, when set, for the pseudonyms of its ground truth.",
    )
    pseudonym_key_file: OptionalPath = Field(
        None, description="File holding the pseudonym key (alternative to PSEUDONYM_KEY)."
    )

    @model_validator(mode="after")
    def _key_configured(self) -> Self:
        if self.key_required and self.pseudonym_key is None and self.pseudonym_key_file is None:
            raise ValueError(MISSING_KEY)
        return self

    def resolve_pseudonym_key(self, *, generate: bool = False) -> tuple[str, bool]:
        """(key, generated): the configured key (SCHAKEL_PSEUDONYM_KEY or _FILE).

        With no key configured, raise :class:`SettingsError` naming both variables, in every
        profile: processes that pseudonymise separately must share one key, or the same BSN
        gets a different pseudonym in each source and the sources no longer join. Only a
        self-contained run (``demo``, ``replay``) passes ``generate=True`` and, outside the
        production profile, gets a fresh random key (``generated`` True: the caller must say
        so to the user)."""
        if self.pseudonym_key is not None:
            key = self.pseudonym_key.get_secret_value()
            if key != key.strip():
                raise SettingsError(
                    f"{ENV_PREFIX}PSEUDONYM_KEY: the key begins or ends with white space; "
                    "remove it (a key file's surrounding white space is ignored, so the same key "
                    "would give other pseudonyms there)"
                )
            return _long_enough(key, f"{ENV_PREFIX}PSEUDONYM_KEY: the key"), False
        if self.pseudonym_key_file is not None:
            return read_key_file(self.pseudonym_key_file, f"{ENV_PREFIX}PSEUDONYM_KEY_FILE"), False
        if not generate or self.profile == "production":
            raise SettingsError(MISSING_KEY)
        return secrets.token_hex(32), True


def read_key_file(path: Path, what: str) -> str:
    """The pseudonym key in the file at ``path``, without its surrounding white space;
    :class:`SettingsError` naming ``what`` (the setting or option) if the file cannot be read,
    is empty or holds a key shorter than :data:`MIN_KEY_LENGTH` (never echoing the key)."""
    try:
        key = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise SettingsError(f"{what}: cannot read the key file ({exc.strerror})") from exc
    if not key:
        raise SettingsError(f"{what}: the key file is empty")
    return _long_enough(key, f"{what}: the key in the file")


def _long_enough(key: str, what: str) -> str:
    """``key`` if it has at least :data:`MIN_KEY_LENGTH` characters, else :class:`SettingsError`
    (``what`` names the setting; the key is never echoed)."""
    if len(key) < MIN_KEY_LENGTH:
        raise SettingsError(
            f"{what} is shorter than {MIN_KEY_LENGTH} characters: a short key can be guessed, "
            "and with it every pseudonym turned back into its BSN (make one with: "
            "openssl rand -hex 32)"
        )
    return key


class AdapterSettings(KeyedSettings):
    """``schakel adapter NAME`` and ``schakel publish``: the pseudonym key plus the adapters'
    limits and ports. The secrets of one adapter only are in its subclass:
    :class:`OutboxSettings`, :class:`WebhookSettings`."""

    metrics_port: int = Field(
        9464, ge=0, le=65535, description="Port of an adapter's /metrics endpoint (0: off)."
    )
    max_xml_bytes: int = Field(
        10_485_760, ge=1024, description="Largest accepted iWmo XML file (quarantined above)."
    )
    poll_interval_s: float = Field(
        5.0,
        gt=0,
        le=MAX_INTERVAL_S,
        allow_inf_nan=False,
        description="Seconds between polls of continuous adapters (at most a day).",
    )


class OutboxSettings(AdapterSettings):
    """``schakel adapter outbox``: the adapter settings plus the DSN of the outbox."""

    outbox_dsn: SecretStr | None = Field(
        None,
        description="PostgreSQL connection string of the source system's outbox (unless "
        "given as the argument of `adapter outbox`; a password goes here, or in `~/.pgpass`, "
        "never in the argument, which `ps` shows). Never logged; an error shows its host and "
        "user at most, never the password.",
    )


class WebhookSettings(AdapterSettings):
    """``schakel adapter wijkteam --serve``: the adapter settings plus the webhook's senders,
    port and request limit."""

    webhook_tokens: SecretStr | None = Field(
        None,
        description="Wijkteam webhook senders as `source=token` separated by commas "
        "(source is the CloudEvents `source` the token may send).",
    )
    webhook_port: int = Field(
        8088, ge=0, le=65535, description="Port of the wijkteam webhook adapter."
    )
    max_request_bytes: int = Field(
        1_048_576, ge=1024, description="Largest accepted webhook body (413 above)."
    )

    def webhook_senders(self) -> dict[str, str]:
        """Webhook token → the source it may send (each item ``source=token``, split at the
        first ``=``: a base64 token may hold ``=``, an URN source does not; split at the last,
        part of such a token was taken for the source, which errors and quarantine entries
        name). A token given to two sources is refused
        (the last would win silently and the other's sender be turned away); the message
        names the sources, never the token."""
        if self.webhook_tokens is None:
            return {}
        out: dict[str, str] = {}
        for item in filter(
            None, (p.strip() for p in self.webhook_tokens.get_secret_value().split(","))
        ):
            source, _, token = item.partition("=")  # a token may hold "=" (base64), a source not
            if not source or not token:
                raise SettingsError(f"{ENV_PREFIX}WEBHOOK_TOKENS: expected source=token items")
            if token in out and out[token] != source:
                raise SettingsError(
                    f"{ENV_PREFIX}WEBHOOK_TOKENS: {out[token]} and {source} have the same "
                    "token: give each source a token of its own"
                )
            out[token] = source
        return out


class ForgetSettings(KeyedSettings):
    """``schakel forget``: the common settings plus the pseudonym key (the pseudonyms to
    forget are those the adapters made)."""


class GenerateSettings(KeyedSettings):
    """``schakel generate``: the common settings plus the pseudonym key, optional here — with
    it the ground truth carries the pipeline's pseudonyms, without it only synthetic person
    ids (``schakel.generate``)."""

    key_required: ClassVar[bool] = False


class Settings(WebhookSettings, OutboxSettings, WorkerSettings):
    """Every variable: for the commands that run the whole pipeline in one run of their own
    (``demo``, ``replay``), ``schakel config``, and tests. The pseudonym key is optional here:
    only those runs may generate one (:meth:`resolve_pseudonym_key`)."""

    key_required: ClassVar[bool] = False
    url_required: ClassVar[bool] = False


def _parse_tokens(text: str) -> list[ApiToken]:
    """The API clients of ``SCHAKEL_API_TOKENS``. Each token and each name once: a token of
    two clients would be the last one's (the other's role with it), and the audit trail's
    ``wie`` must name one client. A message names clients, never a token (a secret)."""
    tokens: list[ApiToken] = []
    by_token: dict[str, str] = {}
    for item in filter(None, (p.strip() for p in text.split(","))):
        parts = item.split(":", 2)
        if len(parts) != 3 or not all(parts):
            raise ValueError("expected name:role:token items separated by commas")
        name, role, token = parts
        if role not in ROLES:
            raise ValueError(f"role of {name!r} must be regisseur, beheerder or auditor")
        if any(t.name == name for t in tokens):
            raise ValueError(
                f"client name {name!r} is given more than once: each client one name, as the "
                "audit trail names it"
            )
        if token in by_token:
            raise ValueError(
                f"clients {by_token[token]!r} and {name!r} have the same token: give each "
                "client a token of its own"
            )
        by_token[token] = name
        tokens.append(ApiToken(name, role, token))
    return tokens


def child_environment(
    reads: type[CommonSettings] | None = None, environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The environment for a process this one starts: ``environ`` (default: this process's)
    without any ``SCHAKEL_*`` variable except those ``reads`` reads (the settings class of the
    process started, e.g. :class:`WorkerSettings`; ``None`` for a program that is no Schakel
    process — the broker, PostgreSQL — which gets none). Names are compared regardless of
    case, as the settings read them; every other variable is kept."""
    keep = {f"{ENV_PREFIX}{name}".upper() for name in reads.model_fields} if reads else set()
    source = os.environ if environ is None else environ
    return {
        name: value
        for name, value in source.items()
        if not name.upper().startswith(ENV_PREFIX) or name.upper() in keep
    }


S = TypeVar("S", bound=CommonSettings)


def load_settings(**overrides: object) -> Settings:
    """Every variable (:class:`Settings`); raise :class:`SettingsError` naming the bad one."""
    return load_process_settings(Settings, **overrides)


def load_process_settings(model: type[S], **overrides: object) -> S:
    """Read the variables of one kind of process (``model``, e.g. :class:`WorkerSettings`)
    and only those; raise :class:`SettingsError` naming the bad or missing variable."""
    try:
        return model(**overrides)  # type: ignore[arg-type]  # field values, checked here
    except ValidationError as exc:
        problems = []
        for err in exc.errors(include_url=False, include_input=False):
            loc, message = err["loc"], err["msg"].removeprefix("Value error, ")
            problems.append(f"{ENV_PREFIX}{str(loc[0]).upper()}: {message}" if loc else message)
        raise SettingsError("invalid configuration: " + "; ".join(problems)) from None
