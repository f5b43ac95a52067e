"""The chart refuses at ``helm install`` what the processes would refuse at their start.

Each check of deploy/helm/schakel (values.schema.json, templates/_validate.tpl) is compared with
the process's own: the bounds and choices of values.schema.json with the fields of
schemas/settings.py, and each template check, on the same inputs, with the function the process
runs (the same outcome; where the chart only approximates the process, it never refuses what the
process accepts). Rendering: tests/unit/helm_chart.py."""

from __future__ import annotations

import codecs
import json
import re
from pathlib import Path
from typing import Any, get_args

import annotated_types
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.exceptions import SettingsError
from schemas.kafka_client import KafkaSecurity
from schemas.registry_client import RegistryConnection
from schemas.settings import (
    _BOOTSTRAP_ITEM,
    MAX_INTERVAL_S,
    MIN_KEY_LENGTH,
    ROLES,
    CommonSettings,
    Settings,
    WebhookSettings,
    WorkerSettings,
    load_process_settings,
    read_key_file,
)
from tests.unit.helm_chart import (
    ALL_ADAPTERS,
    CHART,
    REQUIRED,
    containers,
    helm,
    merged,
    rendered,
)
from tests.unit.helm_chart import template as render

VALIDATE = CHART / "templates" / "_validate.tpl"
PROPERTIES: dict[str, Any] = json.loads((CHART / "values.schema.json").read_text())["properties"]
PYTHON_WHITESPACE = "".join(c for c in map(chr, range(0x110000)) if c.isspace())
"""What Python's ``str.strip()`` removes."""


def chart(values: dict[str, Any]) -> tuple[bool, str]:
    """Whether the chart renders ``values`` (merged into the required ones), and its errors."""
    result = render(merged(REQUIRED, values))
    return result.returncode == 0, result.stderr


def process(load: Any) -> bool:
    """Whether the process's check ``load()`` accepts (no :class:`SettingsError`)."""
    try:
        load()
    except SettingsError:
        return False
    return True


def schema_at(path: str) -> dict[str, Any]:
    node: dict[str, Any] = {"properties": PROPERTIES}
    for key in path.split("."):
        node = node["properties"][key]
    return node


def template_block(name: str) -> str:
    """The text of ``define name`` in _validate.tpl (up to the next define)."""
    text = VALIDATE.read_text(encoding="utf-8")
    match = re.search(rf'{{{{- define "{name}" -}}}}\n(.*?)(?:{{{{- define |\Z)', text, re.S)
    assert match, f"_validate.tpl: no define {name}"
    return match.group(1)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"workers": {"heartbeatMs": 30000}}, "Fail: workers.heartbeatMs (30000) must be below"),
        ({"config": {"kafkaBootstrap": "SASL_SSL://k:9092"}}, "Fail: config.kafkaBootstrap: "),
        ({"config": {"schemaRegistryUrl": "registry:8081"}}, "Fail: config.schemaRegistryUrl: "),
        ({"secrets": {"pseudonymKey": {"value": " k" + " " * 40}}}, "Fail: secrets.pseudonymKey"),
    ],
)
def test_helm_lint_reports_what_the_processes_refuse(change: dict[str, Any], message: str) -> None:
    """`helm lint` runs the templates in its lint mode, where a `fail` is reported (an INFO
    line) and does not fail the lint: only values.schema.json does (next test)."""
    result = helm("lint", "--strict", str(CHART), values=merged(REQUIRED, change))
    assert message in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"secrets": {"pseudonymKey": {"value": "k" * (MIN_KEY_LENGTH - 1)}}},
            "at '/secrets/pseudonymKey/value'",
        ),
        (
            {"adapters": {"pollIntervalSeconds": MAX_INTERVAL_S + 1}},
            "at '/adapters/pollIntervalSeconds'",
        ),
        ({"clusterDomain": "cluster.local/"}, "at '/clusterDomain'"),
    ],
)
def test_helm_lint_fails_on_what_the_schema_refuses(change: dict[str, Any], message: str) -> None:
    result = helm("lint", "--strict", str(CHART), values=merged(REQUIRED, change))
    assert result.returncode != 0 and message in result.stdout + result.stderr


# === values.schema.json and the settings ======================================================

SCHEMA_FIELDS = {
    "config.partitions": "partitions",
    "config.replicationFactor": "replication_factor",
    "config.kafkaSecurityProtocol": "kafka_security_protocol",
    "config.kafkaSaslMechanism": "kafka_sasl_mechanism",
    "config.logLevel": "log_level",
    "config.namespace": "namespace",
    "workers.port": "web_port",
    "workers.sessionTimeoutMs": "session_timeout_ms",
    "workers.heartbeatMs": "heartbeat_ms",
    "adapters.metricsPort": "metrics_port",
    "adapters.pollIntervalSeconds": "poll_interval_s",
    "adapters.wijkteamWebhook.port": "webhook_port",
    "adapters.wijkteamWebhook.maxRequestBytes": "max_request_bytes",
}
"""Each value of the chart that becomes a setting, and its field in schemas/settings.py."""
STRICTER = {
    ("adapters.metricsPort", "minimum"): 1,
    ("adapters.wijkteamWebhook.port", "minimum"): 1,
}
"""Where the chart is stricter than the process, on purpose: port 0 turns an adapter's /metrics
(and so the probes on it) off, or binds the webhook to a random port; a container port is
1-65535."""


def field_bounds(field: str) -> dict[str, Any]:
    """The bounds and choices of a settings field, as values.schema.json words them."""
    info = Settings.model_fields[field]
    out: dict[str, Any] = {}
    names = {annotated_types.Ge: ("minimum", "ge"), annotated_types.Le: ("maximum", "le")}
    names[annotated_types.Gt] = ("exclusiveMinimum", "gt")
    for item in info.metadata:
        if type(item) in names:
            keyword, attribute = names[type(item)]
            out[keyword] = getattr(item, attribute)
        elif hasattr(item, "pattern") and item.pattern is not None:
            out["pattern"] = item.pattern
    if choices := get_args(info.annotation):
        out["enum"] = list(choices)
    return out


@pytest.mark.parametrize("path", sorted(SCHEMA_FIELDS))
def test_the_schema_bounds_each_value_as_the_settings_do(path: str) -> None:
    expected = field_bounds(SCHEMA_FIELDS[path])
    assert expected, f"{SCHEMA_FIELDS[path]} has no bound"
    expected.update({k: v for (p, k), v in STRICTER.items() if p == path})
    declared = schema_at(path)
    assert {k: declared.get(k) for k in expected} == expected, path


def test_an_inline_pseudonym_key_is_bounded_by_the_process_constant() -> None:
    # on the value as written (the templates check it without its surrounding white space)
    declared = schema_at("secrets.pseudonymKey.value")["anyOf"]
    assert declared == [{"maxLength": 0}, {"minLength": MIN_KEY_LENGTH}]


def test_the_poll_interval_is_bounded_by_the_process_constant() -> None:
    assert schema_at("adapters.pollIntervalSeconds")["maximum"] == MAX_INTERVAL_S
    assert chart({"adapters": {"pollIntervalSeconds": MAX_INTERVAL_S}})[0]
    ok, error = chart({"adapters": {"pollIntervalSeconds": MAX_INTERVAL_S + 1}})
    assert not ok and "at '/adapters/pollIntervalSeconds': maximum" in error


# === what the chart sets itself ===============================================================

CHECKED_OTHERWISE = {
    "config.kafkaBootstrap": "schakel.validateBootstrap",
    "config.schemaRegistryUrl": "schakel.validateRegistryUrl",
    "config.oin": "schakel.validate",
    "config.kafkaSaslUsername": "schakel.validateKafka",
    "workers.port and clusterDomain": "values.schema.json (workers.port, clusterDomain)",
}
"""The values that become a setting checked otherwise than by the bounds of one settings field:
by _validate.tpl (the define named), or (SCHAKEL_WEB_URL) by values.schema.json's patterns."""
NOT_CHECKED = {
    "workers.rules": "rule files: the workers check them at start (a municipality's YAML)",
}
"""The values that become a setting the chart cannot check, and why."""


def test_every_value_that_becomes_a_setting_is_checked() -> None:
    """Each value named in schakel.chartSettings is bounded by values.schema.json as its
    settings field is, checked by the templates, or said here to be unchecked."""
    block = template_block("schakel.chartSettings")
    named = set(re.findall(r"\bset ([a-zA-Z.]+(?: and [a-zA-Z.]+)?)\)?$", block, re.M))
    assert "config.partitions" in named
    assert named == set(SCHEMA_FIELDS) | set(CHECKED_OTHERWISE) | set(NOT_CHECKED)


def chart_settings() -> set[str]:
    block = template_block("schakel.chartSettings")
    return set(re.findall(r"^(SCHAKEL_[A-Z0-9_]+):", block, re.M))


def test_every_variable_the_chart_sets_is_listed_with_its_value() -> None:
    from tests.unit.test_helm import secret_settings

    extra = set(ALL_ADAPTERS["config"]["extraEnv"])
    named = set()
    for container in containers(rendered("all-adapters")):
        named |= {k for k in container.env if k.startswith("SCHAKEL_")}
    assert named - extra - secret_settings() == chart_settings()


@pytest.mark.parametrize("variable", sorted(chart_settings()))
def test_extra_env_refuses_a_variable_the_chart_sets(variable: str) -> None:
    # a second value in the ConfigMap (a duplicate key), or one the pod's env overrides
    ok, error = chart({"config": {"extraEnv": {variable: "1"}}})
    assert not ok and f"config.extraEnv: {variable} is set by the chart: " in error


# === heartbeat and session ====================================================================


@pytest.mark.parametrize(
    ("heartbeat", "session"), [(3000, 30000), (29999, 30000), (30000, 30000), (6000, 1000)]
)
def test_the_heartbeat_must_be_below_the_session_timeout(heartbeat: int, session: int) -> None:
    accepted = process(
        lambda: load_process_settings(
            WorkerSettings, heartbeat_ms=heartbeat, session_timeout_ms=session
        )
    )
    ok, error = chart({"workers": {"heartbeatMs": heartbeat, "sessionTimeoutMs": session}})
    assert ok == accepted, error
    if not ok:
        assert f"workers.heartbeatMs ({heartbeat}) must be below workers.sessionTimeoutMs " in (
            error
        )


# === Kafka's bootstrap and the registry's URL =================================================


def test_the_bootstrap_pattern_is_the_processes() -> None:
    assert f"`^{_BOOTSTRAP_ITEM.pattern}$`" in template_block("schakel.validateBootstrap")


def test_the_whitespace_the_checks_strip_is_pythons() -> None:
    (literal,) = re.findall(r'{{ "(.*)" }}', template_block("schakel.whitespace"))
    assert codecs.decode(literal, "unicode_escape") == PYTHON_WHITESPACE


REQUIRED_FIELDS = {
    "kafka_bootstrap": REQUIRED["config"]["kafkaBootstrap"],
    "schema_registry_url": REQUIRED["config"]["schemaRegistryUrl"],
}


def common(**fields: str) -> CommonSettings:
    """The settings every process loads, in the chart's profile, with ``fields``."""
    return load_process_settings(CommonSettings, profile="production", **REQUIRED_FIELDS | fields)


BROKER_HOSTS = [
    "kafka-0", "kafka-0.kafka.", "my_broker", "10.0.0.1", "[::1]", "[fe80::1]", "[k]", "::1", "",
    "k k", "Kafka.Example",
]  # fmt: skip
REGISTRY_HOSTS = [
    "registry", "registry.example.", "my_registry", "10.0.0.1", "", "a b", "[::1]",
    "[fe80::1%25eth0]", "[]", "[x]", "[v1.x]", "[::1", "a]", "r\tr",
]  # fmt: skip
_SPACE = st.sampled_from(["", " ", "\t", "\n", "\u00a0", "\u2003", "\x1c"])
_BROKER = st.tuples(
    _SPACE,
    st.sampled_from(["", "SASL_SSL://", "user:pw@"]),
    st.sampled_from(BROKER_HOSTS),
    st.sampled_from([":9092", ":1", ":65535", ":09092", ":0", ":65536", ":123456", ":", "", ":x"]),
    _SPACE,
).map("".join)


@settings(max_examples=60, derandomize=True)
@given(st.lists(_BROKER, min_size=1, max_size=3).map(",".join))
def test_the_bootstrap_is_refused_exactly_when_the_processes_refuse_it(value: str) -> None:
    accepted = process(lambda: common(kafka_bootstrap=value))
    ok, error = chart({"config": {"kafkaBootstrap": value}})
    assert ok == accepted, error
    if not ok and value.strip():
        assert "config.kafkaBootstrap: expected HOST:PORT addresses" in error
        assert ("is config.kafkaSecurityProtocol" in error) == ("://" in value)


@pytest.mark.parametrize(
    "value",
    [
        "kafka-0.kafka:9092,kafka-1.kafka:9092",
        " kafka-0:9092 , kafka-1:9092 ",
        "[::1]:9092,[2001:db8::7]:9093",
        "kafka.example.:9092",
        "kafka_0:9092",
        "10.0.0.1:65535",
    ],
)
def test_a_bootstrap_the_processes_accept_renders(value: str) -> None:
    assert process(lambda: common(kafka_bootstrap=value))
    ok, error = chart({"config": {"kafkaBootstrap": value}})
    assert ok, error


def test_a_refused_bootstrap_is_not_shown() -> None:
    value = "SASL_SSL://schakel:kafka-geheim@kafka:9092"
    ok, error = chart({"config": {"kafkaBootstrap": value}})
    assert not ok and "config.kafkaBootstrap" in error and "kafka-geheim" not in error


_URL = st.tuples(
    _SPACE,
    st.sampled_from(["http", "https", "HTTPS", "ftp", "", "http:"]),
    st.sampled_from(["://", ":/", "//", ":"]),
    st.sampled_from(["", "u:p@", "a@b@", "[v1.x]@"]),
    st.sampled_from(REGISTRY_HOSTS),
    st.sampled_from(["", ":", ":8081", ":00080", ":0", ":65535", ":65536", ":x", ":80:90"]),
    st.sampled_from(["", "/", "/apis/ccompat/v7", "?a=b", "#f", "/p?q#f"]),
    _SPACE,
).map("".join)


def brackets(value: str) -> bool:
    return "[" in value or "]" in value


@settings(max_examples=80, derandomize=True)
@given(st.lists(_URL, min_size=1, max_size=2).map(",".join))
def test_the_registry_url_is_never_refused_when_the_processes_accept_it(value: str) -> None:
    """The chart approximates urlsplit: it never refuses what the process accepts, and without
    a bracket in the value (an IPv6 address) it refuses exactly what the process refuses."""
    accepted = process(lambda: common(schema_registry_url=value))
    ok, error = chart({"config": {"schemaRegistryUrl": value}})
    if accepted or not brackets(value):
        assert ok == accepted, error
    if not ok and value.strip():
        assert "config.schemaRegistryUrl: expected http(s) URLs separated by commas" in error


@pytest.mark.parametrize(
    "value",
    [
        "http://schema-registry:8081",
        "HTTPS://Registry.Example/apis/ccompat/v7",
        "https://registry-a:8081, https://registry-b:8081",
        "http://[::1]:8081",
        "http://[fe80::1%25eth0]:8081/",
        "https://user:p%40ss@registry.example",
        "http://registry.example.:8081",
        "http://my_registry:8081",
        "http://registry:",
    ],
)
def test_a_registry_url_the_processes_accept_renders(value: str) -> None:
    assert process(lambda: common(schema_registry_url=value))
    ok, error = chart({"config": {"schemaRegistryUrl": value}})
    assert ok, error


@pytest.mark.parametrize(
    "value",
    [
        "schema-registry:8081",
        "registry.example",
        "tcp://registry:8081",
        "http:/registry",
        "http://",
        "http://:8081",
        "http://registry:0",
        "http://registry:65536",
        "http://registry:port",
        "http://[]:8081",
        "http://registry:8081,",
    ],
)
def test_the_usual_registry_url_mistakes_are_refused(value: str) -> None:
    assert not process(lambda: common(schema_registry_url=value))
    ok, error = chart({"config": {"schemaRegistryUrl": value}})
    assert not ok and "config.schemaRegistryUrl: expected http(s) URLs" in error


def test_a_refused_registry_url_is_not_shown() -> None:
    ok, error = chart({"config": {"schemaRegistryUrl": "http://schakel:geheim-ww@registry:0"}})
    assert not ok and "config.schemaRegistryUrl" in error and "geheim-ww" not in error


# === secrets from a value =====================================================================

ADAPTER = {"iwmo": {"enabled": True, "input": {"emptyDir": {}}}}


def key_value(inner: str, pad: str) -> dict[str, Any]:
    return {"adapters": ADAPTER, "secrets": {"pseudonymKey": {"value": pad + inner + pad}}}


@pytest.mark.parametrize(
    ("inner", "pad"),
    [
        ("k" * MIN_KEY_LENGTH, ""),
        ("k" * (MIN_KEY_LENGTH - 1), ""),
        ("k" * (MIN_KEY_LENGTH - 1), " "),
        ("k" * (MIN_KEY_LENGTH - 1), PYTHON_WHITESPACE),
        ("k" * MIN_KEY_LENGTH, PYTHON_WHITESPACE),
        ("k" * (MIN_KEY_LENGTH - 1) + "\n", ""),
        # not white space to Python (zero-width space, escape): part of the key
        ("\u200b" + "k" * (MIN_KEY_LENGTH - 2) + "\x1b", ""),
        ("sleutel met spaties" + " " * (MIN_KEY_LENGTH - 19) + "!", "\n"),
        ("é" * MIN_KEY_LENGTH, ""),  # characters, not bytes
        ("é" * (MIN_KEY_LENGTH - 1), ""),
    ],
)
def test_a_pseudonym_key_is_refused_as_the_adapters_refuse_its_file(
    inner: str, pad: str, tmp_path: Path
) -> None:
    # the adapters read it from a file (SCHAKEL_PSEUDONYM_KEY_FILE): its white space ignored
    path = tmp_path / "pseudonym_key"
    path.write_text(pad + inner + pad, encoding="utf-8")
    accepted = process(lambda: read_key_file(path, "SCHAKEL_PSEUDONYM_KEY_FILE"))
    ok, error = chart(key_value(inner, pad))
    assert ok == accepted, error
    if not ok:
        assert (
            f"secrets.pseudonymKey.value is shorter than {MIN_KEY_LENGTH} characters" in error
            or "at '/secrets/pseudonymKey/value': 'anyOf' failed" in error  # shorter as written
        )
        assert inner.strip() not in error


@pytest.mark.parametrize(
    "value",
    [
        ",".join(f"{role}-client:{role}:geheim-{role}" for role in ROLES),
        " a:regisseur:geheim-1 , ,b:auditor:geheim-2,",
        "a:regisseur:geheim:met:dubbelepunten",
        "a:regisseur",
        "a::geheim-1",
        ":regisseur:geheim-1",
        "a:baas:geheim-1",
        "a:regisseur:geheim-1,a:auditor:geheim-2",
        "a:regisseur:geheim-1,b:auditor:geheim-1",
        ",",
    ],
)
def test_api_tokens_are_refused_as_the_workers_refuse_them(value: str) -> None:
    accepted = process(lambda: load_process_settings(WorkerSettings, api_tokens=value))
    ok, error = chart({"secrets": {"apiTokens": {"existingSecret": "", "value": value}}})
    assert ok == accepted, error
    if not ok:
        assert "secrets.apiTokens.value: " in error and "geheim" not in error


def webhook_senders(value: str) -> None:
    loaded = load_process_settings(WebhookSettings, webhook_tokens=value, pseudonym_key="k" * 32)
    if not loaded.webhook_senders():  # serve_webhook: exit 2
        raise SettingsError("no sender")


@pytest.mark.parametrize(
    "value",
    [
        "urn:nld:oin:1:systeem:a=geheim-1, urn:nld:oin:1:systeem:b=geheim-2==",
        "a=geheim-1,a=geheim-1",
        "a=geheim-1,b=geheim-1",
        "=geheim-1",
        "a=",
        "a",
        " , ",
    ],
)
def test_webhook_tokens_are_refused_as_the_webhook_refuses_them(value: str) -> None:
    accepted = process(lambda: webhook_senders(value))
    ok, error = chart({"secrets": {"webhookTokens": {"value": value}}})
    assert ok == accepted, error
    if not ok:
        assert "secrets.webhookTokens.value" in error and "geheim" not in error


@pytest.mark.parametrize("value", ["schakel:geheim", "api-key:", "geheim-zonder-dubbelepunt"])
def test_registry_basic_auth_is_refused_as_the_registry_client_refuses_it(value: str) -> None:
    accepted = process(lambda: RegistryConnection(url="http://r:8081", basic_auth=value))
    ok, error = chart({"secrets": {"schemaRegistryAuth": {"value": value}}})
    assert ok == accepted, error
    if not ok:
        assert "secrets.schemaRegistryAuth.value: expected user:password" in error
        assert "geheim" not in error


@pytest.mark.parametrize("value", ["kafka-geheim\n", " ", "\n", "\r\n", "\n\n"])
def test_a_kafka_password_is_refused_as_the_kafka_clients_refuse_its_file(
    value: str, tmp_path: Path
) -> None:
    path = tmp_path / "password"
    path.write_text(value, encoding="utf-8", newline="")
    loaded = load_process_settings(
        CommonSettings,
        kafka_security_protocol="SASL_PLAINTEXT",
        kafka_sasl_username="schakel",
        kafka_sasl_password_file=path,
    )
    accepted = process(lambda: KafkaSecurity.from_settings(loaded))
    sasl = {"kafkaSecurityProtocol": "SASL_PLAINTEXT", "kafkaSaslUsername": "schakel"}
    ok, error = chart({"config": sasl, "secrets": {"kafkaSaslPassword": {"value": value}}})
    assert ok == accepted, error
    if not ok:
        assert "secrets.kafkaSaslPassword.value is empty but for a line ending" in error


def test_the_registrys_client_key_needs_its_certificate() -> None:
    tls = {"existingSecret": "registry-tls", "keyKey": "tls.key"}
    https = {"schemaRegistryUrl": "https://schema-registry:8081"}  # TLS files need TLS
    ok, error = chart({"config": https, "secrets": {"schemaRegistryTls": tls}})
    assert not ok
    assert "secrets.schemaRegistryTls.keyKey needs secrets.schemaRegistryTls.certKey" in error
    tls["certKey"] = "tls.crt"
    assert chart({"config": https, "secrets": {"schemaRegistryTls": tls}})[0]


@pytest.mark.parametrize("domain", ["cluster.local", "Cluster.Local.", "k8s-1.example"])
def test_the_cluster_domain_is_a_dns_name(domain: str) -> None:
    assert chart({"clusterDomain": domain})[0]
    for wrong in ("", "cluster.local/", "[cluster]", "cluster..local"):
        ok, error = chart({"clusterDomain": wrong})
        assert not ok and "at '/clusterDomain'" in error, wrong
