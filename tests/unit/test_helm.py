"""The Helm chart (deploy/helm/schakel) renders, is valid Kubernetes and keeps its promises.

Every rendered manifest is validated against the Kubernetes JSON schemas that the
kubernetes-validate package bundles, in strict mode (an unknown field fails), for the oldest
Kubernetes the chart supports (Chart.yaml ``kubeVersion``) and the newest schemas available. The
ServiceMonitor and the PrometheusRule, Prometheus Operator resources with no schema there, are
checked against the fields of their CRDs the chart uses. No cluster is needed; rendering:
tests/unit/helm_chart.py."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any, get_args

import kubernetes_validate
import pytest
import yaml
from pydantic import SecretStr

from adapters.registry import FACTORIES
from schakel import __version__
from schakel.cli import build_parser
from schakel.testpki import make_pki
from schemas.kafka_client import KafkaSecurity
from schemas.settings import CommonSettings, Settings
from tests.unit.helm_chart import (
    ALL_ADAPTERS,
    CHART,
    RELEASE,
    REQUIRED,
    ROOT,
    SECRET_PLACEHOLDERS,
    SECRET_VALUES,
    VALUE_SETS,
    argv,
    chart_meta,
    containers,
    find,
    helm,
    kube_versions,
    long_running,
    makefile_variable,
    merged,
    render_error,
    rendered,
    settings_of,
    template,
)
from tests.unit.test_alerts_promtool import ALERTS, promtool

SETTING_NAMES = {f"SCHAKEL_{name.upper()}" for name in Settings.model_fields}
REGISTRY_TLS_SETTINGS = {
    "SCHAKEL_SCHEMA_REGISTRY_CA_FILE",
    "SCHAKEL_SCHEMA_REGISTRY_CERT_FILE",
    "SCHAKEL_SCHEMA_REGISTRY_KEY_FILE",
}
KAFKA_TLS_SETTINGS = {"SCHAKEL_KAFKA_CA_FILE", "SCHAKEL_KAFKA_CERT_FILE", "SCHAKEL_KAFKA_KEY_FILE"}
KAFKA_SECURITY_SETTINGS = {
    "SCHAKEL_KAFKA_SECURITY_PROTOCOL",
    "SCHAKEL_KAFKA_SASL_MECHANISM",
    "SCHAKEL_KAFKA_SASL_USERNAME",
    *KAFKA_TLS_SETTINGS,
}
"""The settings of the connection to Kafka: every process that talks to Kafka gets them (the
password from its Secret), the Job's `schemas-register`, which talks only to the registry, none."""
KAFKA_PASSWORD_FILE = Path("/run/secrets/schakel-kafka-sasl/password")
"""Where the Kafka password's Secret is mounted (``SCHAKEL_KAFKA_SASL_PASSWORD_FILE``)."""
RESTRICTED_VOLUMES = {
    "configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim",
    "projected", "secret",
}  # fmt: skip


# === tests: Helm and the chart ================================================================


def test_helm_is_the_version_the_makefile_builds() -> None:
    result = helm("version", "--template", "{{.Version}}")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == makefile_variable("HELM_VERSION")


def test_chart_app_version_is_schakels_version() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    meta = chart_meta()
    assert meta["apiVersion"] == "v2" and meta["name"] == "schakel"
    assert meta["appVersion"] == project["version"] == __version__


@pytest.mark.parametrize("values", sorted(VALUE_SETS))
def test_helm_lint_passes_strictly(values: str) -> None:
    result = helm("lint", "--strict", str(CHART), values=VALUE_SETS[values])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 chart(s) failed" in result.stdout


@pytest.mark.parametrize("values", sorted(VALUE_SETS))
def test_every_manifest_is_valid_kubernetes(values: str) -> None:
    docs = rendered(values)
    checked = 0
    for doc in docs:
        if doc["kind"] in OPERATOR_CHECKS:
            OPERATOR_CHECKS[doc["kind"]](doc)
            continue
        for version in kube_versions():
            try:
                kubernetes_validate.validate(doc, version, strict=True)
            except kubernetes_validate.ValidationError as exc:
                where = ".".join(str(p) for p in exc.path)
                pytest.fail(f"{doc['kind']}/{doc['metadata']['name']} ({version}): {where}: {exc}")
            except kubernetes_validate.SchemaNotFoundError as exc:
                pytest.fail(exc.message)
            checked += 1
        assert doc["metadata"].get("namespace") is None, "the release's namespace applies"
        assert re.fullmatch(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", doc["metadata"]["name"])
    kinds = {d["kind"] for d in docs}
    assert kinds >= {"ConfigMap", "StatefulSet", "Service", "Job", "PodDisruptionBudget"}
    operator = [d for d in docs if d["kind"] in OPERATOR_CHECKS]
    assert checked == len(kube_versions()) * (len(docs) - len(operator))
    if values == "all-adapters":
        assert {"Deployment", "PersistentVolumeClaim", "Secret", *OPERATOR_CHECKS} <= kinds


_DURATION = re.compile(
    r"(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)"
)


def check_service_monitor(doc: dict[str, Any]) -> None:
    """The ServiceMonitor fields the chart uses, as the monitoring.coreos.com/v1 CRD declares
    them (no unknown field; endpoints name a port; durations in Prometheus' syntax)."""
    assert doc["apiVersion"] == "monitoring.coreos.com/v1"
    assert set(doc) == {"apiVersion", "kind", "metadata", "spec"}
    assert all(isinstance(v, str) for v in doc["metadata"]["labels"].values())
    spec = doc["spec"]
    assert set(spec) <= {"selector", "endpoints", "namespaceSelector", "jobLabel"}
    assert set(spec["selector"]) <= {"matchLabels", "matchExpressions"}
    assert all(isinstance(v, str) for v in spec["selector"]["matchLabels"].values())
    assert spec["endpoints"]
    for endpoint in spec["endpoints"]:
        assert set(endpoint) <= {"port", "path", "interval", "scrapeTimeout", "scheme"}
        assert isinstance(endpoint["port"], str) and endpoint["path"].startswith("/")
        for duration in ("interval", "scrapeTimeout"):
            assert _DURATION.fullmatch(endpoint[duration]), f"{duration}: not a duration"
    if "jobLabel" in spec:
        assert isinstance(spec["jobLabel"], str) and spec["jobLabel"]


def check_prometheus_rule(doc: dict[str, Any]) -> None:
    """The PrometheusRule fields the chart uses, as the monitoring.coreos.com/v1 CRD declares
    them (groups of rules; no unknown field; durations in Prometheus' syntax; string maps)."""
    assert doc["apiVersion"] == "monitoring.coreos.com/v1"
    assert set(doc) == {"apiVersion", "kind", "metadata", "spec"}
    assert all(isinstance(v, str) for v in doc["metadata"]["labels"].values())
    assert set(doc["spec"]) == {"groups"}
    for group in doc["spec"]["groups"]:
        assert set(group) <= {"name", "interval", "rules", "limit"} and group["name"]
        assert group["rules"]
        for rule in group["rules"]:
            assert set(rule) <= {"alert", "record", "expr", "for", "labels", "annotations"}
            assert isinstance(rule["expr"], str | int) and ("alert" in rule) != ("record" in rule)
            if "for" in rule:
                assert _DURATION.fullmatch(rule["for"]), f"{rule}: for: not a duration"
            for key in ("labels", "annotations"):
                assert all(isinstance(v, str) for v in rule.get(key, {}).values()), rule


OPERATOR_CHECKS = {"ServiceMonitor": check_service_monitor, "PrometheusRule": check_prometheus_rule}
"""The Prometheus Operator's kinds the chart renders, each checked against its CRD's fields."""


# === tests: settings ==========================================================================


@pytest.mark.parametrize("values", sorted(VALUE_SETS))
def test_every_schakel_variable_in_the_chart_exists_in_the_settings_model(values: str) -> None:
    sources = [CHART / "values.yaml", *sorted((CHART / "templates").iterdir())]
    named = {m for p in sources for m in re.findall(r"SCHAKEL_[A-Z][A-Z0-9_]*", p.read_text())}
    for container in containers(rendered(values)):
        named |= {k for k in container.env if k.startswith("SCHAKEL_")}
    assert {"SCHAKEL_WEB_URL", "SCHAKEL_STORE", "SCHAKEL_DATA_DIR"} <= named
    unknown = named - SETTING_NAMES
    assert not unknown, f"not fields of schemas.settings.Settings: {sorted(unknown)}"


def test_every_container_loads_valid_production_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    docs = rendered("all-adapters")
    config = find(docs, "ConfigMap", f"{RELEASE}-schakel")["data"]
    for container in containers(docs):
        settings = settings_of(container, monkeypatch)
        assert settings.profile == "production", container.name
        assert settings.oin == REQUIRED["config"]["oin"], container.name
        assert settings.partitions == 12, container.name
        assert settings.namespace == "gemeente-a", container.name
        mounts = {m["mountPath"] for m in container.spec["volumeMounts"]}
        tls_files = (
            settings.schema_registry_ca_file,
            settings.schema_registry_cert_file,
            settings.schema_registry_key_file,
        )
        kafka_files = (settings.kafka_ca_file, settings.kafka_cert_file, settings.kafka_key_file)
        if container.spec["name"] == "schemas-register":
            # `schakel schemas register` talks only to the registry: nothing of Kafka's security
            assert settings.kafka_security_protocol == "PLAINTEXT"
            assert settings.kafka_sasl_password_file is None and kafka_files == (None, None, None)
        else:
            # every other process talks to Kafka: SASL over mutual TLS
            assert settings.kafka_security_protocol == "SASL_SSL", container.name
            assert settings.kafka_sasl_mechanism == "SCRAM-SHA-256", container.name
            assert settings.kafka_sasl_username == "schakel", container.name
            assert settings.kafka_sasl_password is None, container.name  # a file, see below
            assert settings.kafka_sasl_password_file == KAFKA_PASSWORD_FILE, container.name
            for kafka_file in (*kafka_files, settings.kafka_sasl_password_file):
                assert kafka_file is not None and str(kafka_file.parent) in mounts, container.name
        if container.spec["name"] == "topics":
            # create_topics.py talks only to Kafka: nothing of the registry's but its URL
            assert settings.schema_registry_auth is None
            assert tls_files == (None, None, None)
            assert {
                k: container.env[k]
                for k in container.env
                if k != "SCHAKEL_KAFKA_SASL_PASSWORD_FILE"
            } == {k: v for k, v in config.items() if k not in REGISTRY_TLS_SETTINGS}
            continue
        assert settings.schema_registry_auth is not None, container.name
        for tls_file in tls_files:
            assert tls_file is not None and str(tls_file.parent) in mounts, container.name
        if container.kind == "Job":
            # the hook runs before the ConfigMap exists: the same settings, inline (but Kafka's
            # security, as above)
            shared = {k: v for k, v in config.items() if k not in KAFKA_SECURITY_SETTINGS}
            assert {k: container.env[k] for k in shared} == shared
            assert not set(container.env) & KAFKA_SECURITY_SETTINGS
        else:
            assert container.spec["envFrom"] == [{"configMapRef": {"name": f"{RELEASE}-schakel"}}]
        if container.component == "worker":
            assert settings.store == "rocksdb" and settings.tokens()
        if container.component in ("adapter", "webhook"):
            key_file = settings.pseudonym_key_file
            assert key_file == Path("/run/secrets/schakel/pseudonym_key"), container.name
            assert str(key_file.parent) in mounts, container.name
        if container.component == "webhook":
            assert settings.webhook_senders()
        if argv(container)[:2] == ["adapter", "outbox"]:
            assert settings.outbox_dsn is not None


# === tests: secrets ===========================================================================


def test_each_secret_reaches_only_the_pods_that_use_it() -> None:
    docs = rendered("all-adapters")
    pseudonym_key = "schakel-pseudoniem"
    # every process but the Job's `schemas-register` talks to Kafka, every process but its
    # `topics` step to the registry
    kafka = {"schakel-kafka-sasl", "schakel-kafka-tls"}
    registry = {"schakel-registry", "schakel-registry-tls"}
    expected = {
        "worker": {"schakel-api", *kafka, *registry},
        # the Job: create_topics.py talks only to Kafka, `schakel schemas register` to the registry
        "topics": kafka,
        "schemas-register": registry,
        "iwmo": {pseudonym_key, *kafka, *registry},
        "sociale-dienst": {pseudonym_key, *kafka, *registry},
        "vroegsignalering": {pseudonym_key, *kafka, *registry},
        "outbox": {pseudonym_key, "schakel-outbox", *kafka, *registry},
        "wijkteam": {pseudonym_key, f"{RELEASE}-schakel-webhook-tokens", *kafka, *registry},
    }
    seen = {}
    for container in containers(docs):
        args = argv(container)
        if container.kind == "Job":
            role = container.spec["name"]
        else:
            role = args[1] if args[:1] == ["adapter"] else container.component
        seen[role] = container.secrets
        assert container.secrets == expected[role], container.name
        assert "SCHAKEL_PSEUDONYM_KEY" not in container.env, "the key is a file, not a variable"
    assert set(seen) == set(expected)
    # the chart makes a Secret only from a value
    made = [d["metadata"]["name"] for d in docs if d["kind"] == "Secret"]
    assert made == [f"{RELEASE}-schakel-webhook-tokens"]
    # nothing secret in the ConfigMap every pod reads
    config = find(docs, "ConfigMap", f"{RELEASE}-schakel")["data"]
    assert not set(config) & {"SCHAKEL_PSEUDONYM_KEY", *SECRET_PLACEHOLDERS}


def test_the_topics_step_of_the_job_gets_nothing_of_the_registry_but_its_url(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for values in ("all-adapters", "secret-values"):
        (topics,) = [c for c in containers(rendered(values)) if c.spec["name"] == "topics"]
        assert topics.kind == "Job" and topics.init
        # only Kafka's: its password (the hook copy of a Secret made from a value) and TLS files
        password = {"all-adapters": "schakel-kafka-sasl"}.get(
            values, f"{RELEASE}-schakel-setup-kafka-sasl-password"
        )
        assert topics.secrets == {password, "schakel-kafka-tls"}, values
        registry = {k for k in topics.env if k.startswith("SCHAKEL_SCHEMA_REGISTRY_")}
        assert registry == {"SCHAKEL_SCHEMA_REGISTRY_URL"}, values
        mounts = {m["name"] for m in topics.spec["volumeMounts"]}
        assert mounts == {"data", "tmp", "kafka-sasl", "kafka-tls"}, values
        settings_of(topics, monkeypatch)  # what create_topics.py loads: CommonSettings


def test_the_schema_registration_of_the_job_gets_nothing_of_kafkas_security() -> None:
    for values in ("all-adapters", "secret-values"):
        (register,) = [
            c for c in containers(rendered(values)) if c.spec["name"] == "schemas-register"
        ]
        assert not {s for s in register.secrets if "kafka" in s}, values
        assert not set(register.env) & {
            "SCHAKEL_KAFKA_SASL_PASSWORD",
            "SCHAKEL_KAFKA_SASL_PASSWORD_FILE",
            *KAFKA_SECURITY_SETTINGS,
        }
        mounts = {m["name"] for m in register.spec["volumeMounts"]}
        assert mounts == {"data", "tmp", "registry-tls"}, values


@pytest.mark.parametrize("values", ["all-adapters", "secret-values"])
def test_the_kafka_password_reaches_every_container_that_talks_to_kafka_and_no_other(
    values: str,
) -> None:
    docs = rendered(values)
    made = {d["metadata"]["name"] for d in docs if d["kind"] == "Secret"}
    for container in containers(docs):
        # a file (its trailing line ending dropped: schemas/kafka_client.py), never the variable
        assert "SCHAKEL_KAFKA_SASL_PASSWORD" not in container.env, container.name
        mounts = [m for m in container.spec["volumeMounts"] if m["name"] == "kafka-sasl"]
        if container.spec["name"] == "schemas-register":
            assert mounts == [] and "SCHAKEL_KAFKA_SASL_PASSWORD_FILE" not in container.env
            assert not {s for s in container.secrets if "kafka-sasl" in s}, container.name
            continue
        assert container.env["SCHAKEL_KAFKA_SASL_PASSWORD_FILE"] == str(KAFKA_PASSWORD_FILE)
        assert mounts == [
            {"name": "kafka-sasl", "mountPath": str(KAFKA_PASSWORD_FILE.parent), "readOnly": True}
        ], container.name
        (volume,) = [v for v in container.pod["volumes"] if v["name"] == "kafka-sasl"]
        ref = volume["secret"]
        assert ref["items"] == [
            {"key": "SCHAKEL_KAFKA_SASL_PASSWORD", "path": KAFKA_PASSWORD_FILE.name}
        ], container.name
        if values == "all-adapters":
            assert ref["secretName"] == "schakel-kafka-sasl", container.name
        else:
            # the Job (a hook) reads the hook copy, the long-running pods the release's Secret
            setup = "-setup" if container.kind == "Job" else ""
            name = f"{RELEASE}-schakel{setup}-kafka-sasl-password"
            assert ref["secretName"] == name, container.name
            assert name in made
    if values == "secret-values":
        (secret,) = [
            d for d in docs if d["metadata"]["name"] == f"{RELEASE}-schakel-kafka-sasl-password"
        ]
        assert secret["stringData"] == {"SCHAKEL_KAFKA_SASL_PASSWORD": "kafka-geheim"}
    # never in the ConfigMap every pod reads
    config = find(docs, "ConfigMap", f"{RELEASE}-schakel")["data"]
    assert not {k for k in config if k.startswith("SCHAKEL_KAFKA_SASL_PASSWORD")}


@pytest.mark.parametrize(
    ("tls", "files"),
    [
        ({}, {"SCHAKEL_KAFKA_CA_FILE": "ca.crt"}),
        (
            {"caKey": "", "certKey": "tls.crt", "keyKey": "tls.key"},
            {"SCHAKEL_KAFKA_CERT_FILE": "tls.crt", "SCHAKEL_KAFKA_KEY_FILE": "tls.key"},
        ),
        (
            {"caKey": "ca.pem", "certKey": "client.pem"},
            {"SCHAKEL_KAFKA_CA_FILE": "ca.pem", "SCHAKEL_KAFKA_CERT_FILE": "client.pem"},
        ),
    ],
)
@pytest.mark.parametrize("protocol", ["SSL", "SASL_SSL"])
def test_kafkas_tls_files_are_mounted_where_the_settings_point(
    protocol: str,
    tls: dict[str, str],
    files: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    values = merged(
        REQUIRED,
        {
            "config": {"kafkaSecurityProtocol": protocol, "kafkaSaslUsername": "schakel"},
            "secrets": {"kafkaTls": {"existingSecret": "kafka-tls", **tls}},
        },
    )
    if protocol == "SASL_SSL":
        values = merged(values, {"secrets": {"kafkaSaslPassword": {"existingSecret": "k"}}})
    result = template(values)
    assert result.returncode == 0, result.stderr
    docs = tuple(d for d in yaml.safe_load_all(result.stdout) if d)
    config = find(docs, "ConfigMap", f"{RELEASE}-schakel")["data"]
    assert config["SCHAKEL_KAFKA_SECURITY_PROTOCOL"] == protocol
    assert {k: v for k, v in config.items() if k in KAFKA_TLS_SETTINGS} == {
        k: f"/run/secrets/schakel-kafka/{v}" for k, v in files.items()
    }
    # what the process checks at its start (schemas/kafka_client.py, schemas/tls_files.py),
    # with PEM files of the names the Secret's keys give (the mount is not here); without
    # keyKey the certificate's file holds the key too
    pki = make_pki(tmp_path)
    both = tmp_path / "client-and-key.pem"
    both.write_bytes(pki.client_cert.read_bytes() + pki.client_key.read_bytes())
    present = {
        "ca.crt": pki.ca,
        "ca.pem": pki.ca,
        "tls.crt": pki.client_cert,
        "tls.key": pki.client_key,
        "client.pem": both,
    }
    # the password's Secret as kubectl makes it --from-file of a file ending in a newline
    read_text = Path.read_text
    monkeypatch.setattr(
        Path,
        "read_text",
        lambda p, **kw: "kafka-geheim\n" if p == KAFKA_PASSWORD_FILE else read_text(p, **kw),
    )
    talking_to_kafka = [c for c in containers(docs) if c.spec["name"] != "schemas-register"]
    assert {c.spec["name"] for c in talking_to_kafka} == {"worker", "topics"}
    for container in talking_to_kafka:
        pod_volumes = {v["name"]: v for v in container.pod["volumes"]}
        (mount,) = [m for m in container.spec["volumeMounts"] if m["name"] == "kafka-tls"]
        assert mount == {
            "name": "kafka-tls", "mountPath": "/run/secrets/schakel-kafka", "readOnly": True
        }  # fmt: skip
        assert pod_volumes["kafka-tls"]["secret"]["secretName"] == "kafka-tls"
        settings = settings_of(container, monkeypatch)
        fields = ("kafka_ca_file", "kafka_cert_file", "kafka_key_file")
        mounted = {f: getattr(settings, f) for f in fields if getattr(settings, f) is not None}
        here = {f: present[path.name] for f, path in mounted.items()}
        security = KafkaSecurity.from_settings(settings.model_copy(update=here))
        assert security.protocol == protocol and security.tls, container.name
        assert security.sasl == (protocol == "SASL_SSL"), container.name
        if security.sasl:
            assert security.password is not None
            assert security.password.get_secret_value() == "kafka-geheim", container.name


def test_without_kafka_settings_every_process_connects_in_plaintext() -> None:
    docs = rendered("defaults")
    config = find(docs, "ConfigMap", f"{RELEASE}-schakel")["data"]
    kafka = {k: v for k, v in config.items() if k in KAFKA_SECURITY_SETTINGS}
    assert kafka == {"SCHAKEL_KAFKA_SECURITY_PROTOCOL": "PLAINTEXT"}
    for container in containers(docs):
        assert not {k for k in container.env if "SASL_PASSWORD" in k}, container.name
        assert not {"kafka-tls", "kafka-sasl"} & {m["name"] for m in container.spec["volumeMounts"]}


def secret_settings() -> set[str]:
    """The variable of every secret field (SecretStr) of every settings class of
    schemas/settings.py, of the file that may hold one (``<field>_file``), and of the registry
    client's and the Kafka clients' TLS files (the chart sets them from secrets.schemaRegistryTls
    and secrets.kafkaTls)."""
    classes, found = [CommonSettings], set()
    while classes:
        model = classes.pop()
        classes += model.__subclasses__()
        for name, info in model.model_fields.items():
            if SecretStr in (info.annotation, *get_args(info.annotation)):
                found.add(name)
                if f"{name}_file" in model.model_fields:
                    found.add(f"{name}_file")
    return (
        {f"SCHAKEL_{name.upper()}" for name in found} | REGISTRY_TLS_SETTINGS | KAFKA_TLS_SETTINGS
    )


def test_secret_settings_are_found_in_every_settings_class() -> None:
    assert secret_settings() >= {
        "SCHAKEL_PSEUDONYM_KEY",
        "SCHAKEL_PSEUDONYM_KEY_FILE",
        "SCHAKEL_API_TOKENS",
        "SCHAKEL_WEBHOOK_TOKENS",
        "SCHAKEL_OUTBOX_DSN",
        "SCHAKEL_SCHEMA_REGISTRY_AUTH",
        "SCHAKEL_SCHEMA_REGISTRY_TOKEN",
        "SCHAKEL_KAFKA_SASL_PASSWORD",
        "SCHAKEL_KAFKA_SASL_PASSWORD_FILE",
    }


@pytest.mark.parametrize("variable", sorted(secret_settings()))
def test_extra_env_refuses_every_secret_setting(variable: str) -> None:
    # config.extraEnv goes into the ConfigMap that every pod reads (and into the Job inline)
    values = merged(REQUIRED, {"config": {"extraEnv": {variable: "u:p"}}})
    assert f"config.extraEnv: {variable} belongs to a secret: set secrets." in render_error(values)


def hook_events(doc: dict[str, Any]) -> set[str]:
    annotations = doc["metadata"].get("annotations") or {}
    return set(filter(None, annotations.get("helm.sh/hook", "").split(",")))


@pytest.mark.parametrize(
    "registry", ["schemaRegistryAuth", "schemaRegistryToken", "kafkaSaslPassword"]
)
def test_the_secrets_the_setup_job_reads_exist_before_it_runs(registry: str) -> None:
    # the Job is a pre-install hook: Helm creates it before the release's own objects, so a
    # Secret it reads that the chart makes must be a hook too, created before it
    values = merged(SECRET_VALUES, {"secrets": {"schemaRegistryAuth": {"value": ""}}})
    # (basic auth is `user:password`: the chart refuses a value without the colon)
    value = "schakel:geheim" if registry == "schemaRegistryAuth" else "geheim"
    values = merged(values, {"secrets": {registry: {"value": value}}})
    result = template(values)
    assert result.returncode == 0, result.stderr
    docs = tuple(d for d in yaml.safe_load_all(result.stdout) if d)
    made = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Secret"}
    (job,) = [d for d in docs if d["kind"] == "Job"]
    job_events = hook_events(job)
    job_weight = int(job["metadata"]["annotations"]["helm.sh/hook-weight"])
    read_by_job = set().union(*(c.secrets for c in containers(docs) if c.kind == "Job"))
    assert read_by_job & set(made), "the Job reads a Secret the chart makes"
    for name in read_by_job & set(made):
        secret = made[name]
        assert hook_events(secret) >= job_events, f"{name}: created after the Job, not before"
        annotations = secret["metadata"]["annotations"]
        assert int(annotations["helm.sh/hook-weight"]) < job_weight, name
        policy = set(annotations["helm.sh/hook-delete-policy"].split(","))
        # a changed value replaces it; no copy of a credential outlives the hooks
        assert policy == {"before-hook-creation", "hook-succeeded"}, name
    # the long-running pods read the release's own Secrets (updated by `helm upgrade`, deleted
    # by `helm uninstall`), never a hook's copy, which is gone once the hooks succeeded
    for container in long_running(docs):
        for name in container.secrets & set(made):
            assert not hook_events(made[name]), f"{container.name} reads the hook Secret {name}"
    hooks = {n: d for n, d in made.items() if hook_events(d)}
    assert set(hooks) == read_by_job & set(made)
    releases = {n: d for n, d in made.items() if not hook_events(d)}
    for name, hook in hooks.items():
        # the same secret as the release's Secret for the workers and adapters
        (twin,) = [d for d in releases.values() if d["stringData"] == hook["stringData"]]
        assert name != twin["metadata"]["name"]


def test_a_pseudonym_key_made_by_the_chart_survives_uninstall() -> None:
    values = merged(
        ALL_ADAPTERS, {"secrets": {"pseudonymKey": {"existingSecret": "", "value": "k" * 32}}}
    )
    result = template(values)
    assert result.returncode == 0, result.stderr
    docs = tuple(d for d in yaml.safe_load_all(result.stdout) if d)
    secret = find(docs, "Secret", f"{RELEASE}-schakel-pseudonym-key")
    assert secret["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    assert secret["stringData"] == {"pseudonym_key": "k" * 32}


def test_a_pseudonym_key_too_short_is_refused_by_the_chart() -> None:
    """The adapters refuse a key of fewer than 32 characters (it can be guessed); the chart
    says so at install, not a crash loop of every adapter after it."""
    values = merged(
        ALL_ADAPTERS, {"secrets": {"pseudonymKey": {"existingSecret": "", "value": "k" * 31}}}
    )
    result = template(values)
    assert result.returncode != 0
    assert "pseudonymKey" in result.stderr and "k" * 31 not in result.stderr


# === tests: workloads =========================================================================


@pytest.mark.parametrize("values", sorted(VALUE_SETS))
def test_every_container_has_resources_and_runs_non_root_read_only(values: str) -> None:
    all_containers = list(containers(rendered(values)))
    assert len(all_containers) >= 3
    for container in all_containers:
        pod, spec = container.pod, container.spec
        assert pod["automountServiceAccountToken"] is False, container.name
        # no <SERVICE>_PORT variables: a Service named schakel-web would set SCHAKEL_WEB_PORT
        assert pod["enableServiceLinks"] is False, container.name
        assert pod["securityContext"]["runAsNonRoot"] is True, container.name
        assert pod["securityContext"]["runAsUser"] != 0, container.name
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        security = spec["securityContext"]
        assert security["runAsNonRoot"] is True, container.name
        assert security["allowPrivilegeEscalation"] is False, container.name
        assert security["readOnlyRootFilesystem"] is True, container.name
        assert security["capabilities"] == {"drop": ["ALL"]}, container.name
        assert security["seccompProfile"] == {"type": "RuntimeDefault"}, container.name
        assert "/tmp" in {m["mountPath"] for m in spec["volumeMounts"]}, container.name
        # the volume types the "restricted" Pod Security Standard allows
        for volume in pod.get("volumes", []):
            kinds = set(volume) - {"name"}
            assert kinds <= RESTRICTED_VOLUMES, f"{container.name}: {volume['name']}"
        for bound in ("requests", "limits"):
            assert set(spec["resources"][bound]) >= {"cpu", "memory"}, container.name


@pytest.mark.parametrize("values", sorted(VALUE_SETS))
def test_every_long_running_container_is_probed_on_health_and_ready(
    values: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    port_setting = {"worker": "web_port", "adapter": "metrics_port", "webhook": "webhook_port"}
    for container in long_running(rendered(values)):
        ports = {p["name"]: p["containerPort"] for p in container.spec["ports"]}
        serves = getattr(settings_of(container, monkeypatch), port_setting[container.component])
        for probe, path in (("livenessProbe", "/health"), ("readinessProbe", "/ready")):
            get = container.spec[probe]["httpGet"]
            assert get["path"] == path, f"{container.name}: {probe}"
            assert ports[get["port"]] == serves, f"{container.name}: {probe} port"


def test_workers_are_a_statefulset_with_rocksdb_volumes_and_a_stable_url_each(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    docs = rendered("all-adapters")
    workers = find(docs, "StatefulSet", f"{RELEASE}-schakel-worker")
    assert workers["spec"]["replicas"] == 3
    (worker,) = [c for c in containers(docs) if c.component == "worker"]
    settings = settings_of(worker, monkeypatch)
    assert argv(worker) == ["worker"]
    (claim,) = workers["spec"]["volumeClaimTemplates"]
    mounts = {m["name"]: m["mountPath"] for m in worker.spec["volumeMounts"]}
    assert mounts[claim["metadata"]["name"]] == str(settings.data_dir) == "/var/lib/schakel"
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]
    # each pod announces <pod>.<headless service>: a name that routes to exactly that pod
    headless = find(docs, "Service", workers["spec"]["serviceName"])
    assert headless["spec"]["clusterIP"] == "None"
    assert headless["spec"]["publishNotReadyAddresses"] is True
    assert settings.web_url == (
        f"http://<metadata.name>.{headless['metadata']['name']}.<metadata.namespace>"
        f".svc.cluster.local:{settings.web_port}"
    )
    assert settings.web_host == "0.0.0.0"
    labels = workers["spec"]["template"]["metadata"]["labels"]
    api = find(docs, "Service", f"{RELEASE}-schakel-api")
    for service in (headless, api):
        assert service["spec"]["selector"].items() <= labels.items()
        (port,) = service["spec"]["ports"]
        assert port["targetPort"] == "http"
    assert find(docs, "PodDisruptionBudget", f"{RELEASE}-schakel-worker")["spec"] == {
        "maxUnavailable": 1,
        "selector": workers["spec"]["selector"],
    }
    rules = find(docs, "ConfigMap", f"{RELEASE}-schakel-rules")
    assert settings.rules_dir is not None and mounts["rules"] == str(settings.rules_dir)
    assert yaml.safe_load(rules["data"]["r1.yaml"]) == {"id": "R1", "enabled": False}


@pytest.mark.parametrize(("replicas", "partitions"), [(13, 12), (5, 4), (2, 1)])
def test_rendering_fails_when_workers_exceed_the_partitions(replicas: int, partitions: int) -> None:
    values = merged(REQUIRED, {"workers": {"replicas": replicas}})
    values = merged(values, {"config": {"partitions": partitions}})
    error = render_error(values)
    assert f"workers.replicas ({replicas}) must not exceed config.partitions ({partitions})" in (
        error
    )
    equal = merged(values, {"workers": {"replicas": partitions}})
    assert template(equal).returncode == 0


def test_adapters_are_deployments_running_the_real_commands(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    docs = rendered("all-adapters")
    parser = build_parser()
    names = set()
    for container in long_running(docs):
        if container.component == "worker":
            continue
        deployment = find(docs, "Deployment", container.workload)
        assert deployment["spec"]["replicas"] == 1, container.name
        assert deployment["spec"]["strategy"] == {"type": "Recreate"}, container.name
        args = parser.parse_args(argv(container))
        assert args.command == "adapter" and args.name in FACTORIES, container.name
        names.add(args.name)
        mounts = {m["mountPath"]: m for m in container.spec["volumeMounts"]}
        settings = settings_of(container, monkeypatch)
        data = mounts[str(settings.data_dir)]
        claim = {v["name"]: v for v in container.pod["volumes"]}[data["name"]]
        assert claim["persistentVolumeClaim"]["claimName"] == f"{container.workload}-data"
        find(docs, "PersistentVolumeClaim", f"{container.workload}-data")
        if args.serve:
            assert args.name == "wijkteam"
        elif args.name != "outbox":
            files = args.spec.split(",")
            assert all(f.startswith("/srv/schakel/input") for f in files), container.name
            assert mounts["/srv/schakel/input"]["readOnly"] is True
    assert names == {"iwmo", "sociale-dienst", "vroegsignalering", "outbox", "wijkteam"}
    assert {c.spec["image"] for c in containers(docs)} == {"schakel:0.1.0"}
    assert not [d for d in rendered("defaults") if d["kind"] == "Deployment"]


def test_topics_and_schemas_are_a_job_that_runs_before_install_and_upgrade() -> None:
    docs = rendered("defaults")
    (job,) = [d for d in docs if d["kind"] == "Job"]
    annotations = job["metadata"]["annotations"]
    assert annotations["helm.sh/hook"] == "pre-install,pre-upgrade"
    assert "before-hook-creation" in annotations["helm.sh/hook-delete-policy"]
    pod = job["spec"]["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    (topics,) = pod["initContainers"]
    (register,) = pod["containers"]
    script = Path(topics["command"][-1])
    assert topics["command"][0] == "python" and (ROOT / "deploy" / script.name).is_file()
    assert f"deploy/{script.name} {script.parent}/" in (ROOT / "Dockerfile").read_text()
    args = build_parser().parse_args(register["args"])
    assert (args.command, register["args"]) == ("schemas", ["schemas", "register"])


def test_the_service_monitor_scrapes_every_long_running_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    docs = rendered("all-adapters")
    (monitor,) = [d for d in docs if d["kind"] == "ServiceMonitor"]
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    wanted = monitor["spec"]["selector"]["matchLabels"].items()
    ports = {e["port"] for e in monitor["spec"]["endpoints"]}
    assert {e["path"] for e in monitor["spec"]["endpoints"]} == {"/metrics"}
    services = [
        d for d in docs if d["kind"] == "Service" and wanted <= d["metadata"]["labels"].items()
    ]
    port_setting = {"worker": "web_port", "adapter": "metrics_port", "webhook": "webhook_port"}
    for container in long_running(docs):
        served = getattr(settings_of(container, monkeypatch), port_setting[container.component])
        named = {p["name"]: p["containerPort"] for p in container.spec["ports"]}
        scraped = [
            port
            for service in services
            if service["spec"]["selector"].items() <= container.labels.items()
            for port in service["spec"]["ports"]
            if port["name"] in ports and named[port["targetPort"]] == served
        ]
        assert len(scraped) == 1, f"{container.name}: scraped {len(scraped)} times"
    assert not [d for d in rendered("defaults") if d["kind"] == "ServiceMonitor"]


# === tests: alerts ============================================================================

COMPOSE_PROMETHEUS = ROOT / "deploy" / "prometheus" / "prometheus.yml"
JOB_OF_COMPONENT = {
    "worker": "schakel-worker",
    "adapter": "schakel-adapters",
    "webhook": "schakel-webhook",
}
"""The `job` of each component's targets: the scrape jobs of the Compose Prometheus."""


def alerts_file() -> dict[str, Any]:
    alerts: dict[str, Any] = yaml.safe_load(ALERTS.read_text(encoding="utf-8"))
    return alerts


def alert_jobs() -> set[str]:
    """Every job an alert's ``job="..."`` or ``job=~"a|b"`` matcher selects."""
    jobs: set[str] = set()
    for group in alerts_file()["groups"]:
        for rule in group["rules"]:
            for op, value in re.findall(r'\bjob\s*(=~|!=|!~|=)\s*"([^"]*)"', str(rule["expr"])):
                assert op in ("=", "=~"), f"{rule['alert']}: job{op} (only = and =~ are checked)"
                names = value.split("|") if op == "=~" else [value]
                assert all(re.fullmatch(r"[a-z][a-z-]*", n) for n in names), value
                jobs.update(names)
    return jobs


def prometheus_rule(values: str) -> dict[str, Any]:
    (rule,) = [d for d in rendered(values) if d["kind"] == "PrometheusRule"]
    return rule


def test_the_service_monitor_gives_each_target_the_job_the_alerts_select() -> None:
    """The ServiceMonitor's jobLabel names a label every scraped Service carries, whose value
    is the Compose scrape job of its component: every `job` an alert selects exists on
    Kubernetes as under Compose (without jobLabel the job would be the Service's name)."""
    docs = rendered("all-adapters")
    (monitor,) = [d for d in docs if d["kind"] == "ServiceMonitor"]
    job_label = monitor["spec"]["jobLabel"]
    wanted = monitor["spec"]["selector"]["matchLabels"].items()
    services = [
        d for d in docs if d["kind"] == "Service" and wanted <= d["metadata"]["labels"].items()
    ]
    assert {s["spec"]["selector"]["app.kubernetes.io/component"] for s in services} == set(
        JOB_OF_COMPONENT
    )
    provided: set[str] = set()
    for service in services:
        component = service["spec"]["selector"]["app.kubernetes.io/component"]
        job = service["metadata"]["labels"].get(job_label)
        assert job == JOB_OF_COMPONENT[component], f"{service['metadata']['name']}: job {job}"
        provided.add(job)
    compose_jobs = {
        j["job_name"] for j in yaml.safe_load(COMPOSE_PROMETHEUS.read_text())["scrape_configs"]
    }
    assert provided <= compose_jobs
    selected = alert_jobs()
    assert selected >= {"schakel-worker", "schakel-adapters"}
    assert selected - provided == set(), f"alerts select jobs no Service provides: {selected}"


def test_the_prometheus_rule_holds_exactly_the_alerts_file() -> None:
    rule = prometheus_rule("all-adapters")
    assert rule["spec"] == alerts_file()
    assert rule["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    assert rule["metadata"]["labels"]["app.kubernetes.io/instance"] == RELEASE
    assert not [d for d in rendered("defaults") if d["kind"] == "PrometheusRule"]


def test_the_prometheus_templates_in_the_annotations_survive_rendering() -> None:
    """Helm must not evaluate the annotations' {{ $labels.x }} and {{ $value }}: each rule's
    annotations render character for character, every Prometheus template in them."""
    text = ALERTS.read_text(encoding="utf-8")
    templates = re.findall(r"\{\{.*?\}\}", text, re.S)
    assert any("$labels." in t for t in templates) and any("$value" in t for t in templates)
    rendered_rules = {
        rule["alert"]: rule
        for group in prometheus_rule("all-adapters")["spec"]["groups"]
        for rule in group["rules"]
    }
    found = 0
    for group in alerts_file()["groups"]:
        for rule in group["rules"]:
            for key, annotation in rule["annotations"].items():
                assert rendered_rules[rule["alert"]]["annotations"][key] == annotation
                found += len(re.findall(r"\{\{.*?\}\}", annotation))
    assert found == len(templates)


def test_promtool_accepts_the_rendered_rules(tmp_path: Path) -> None:
    spec = prometheus_rule("all-adapters")["spec"]
    path = tmp_path / "prometheusrule.rules.yml"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    result = promtool("check", "rules", path)
    assert result.returncode == 0, result.stdout + result.stderr
    count = sum(len(group["rules"]) for group in alerts_file()["groups"])
    assert f"SUCCESS: {count} rules found" in result.stdout


# === tests: values ============================================================================


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"config": {"oin": ""}}, "config.oin is required"),
        ({"config": {"oin": "123"}}, "config.oin is required: the municipality's OIN, 20 digits"),
        ({"config": {"kafkaBootstrap": ""}}, "config.kafkaBootstrap is required"),
        ({"config": {"schemaRegistryUrl": ""}}, "config.schemaRegistryUrl is required"),
        ({"config": {"partitions": 0}}, "at '/config/partitions': minimum: got 0, want 1"),
        ({"workers": {"replicas": "2"}}, "at '/workers/replicas': got string, want integer"),
        ({"adapters": {"iwmo": {"enable": True}}}, "additional properties 'enable' not allowed"),
        ({"prometheusRule": {"enable": True}}, "additional properties 'enable' not allowed"),
        ({"prometheusRule": {"labels": {"release": 1}}}, "at '/prometheusRule/labels/release'"),
        ({"secrets": {"apiTokens": {"existingSecret": ""}}}, "secrets.apiTokens.existingSecret"),
        ({"adapters": {"iwmo": {"enabled": True}}}, "secrets.pseudonymKey.existingSecret"),
        (
            {
                "adapters": {"iwmo": {"enabled": True}},
                "secrets": {"pseudonymKey": {"value": "k" * 32}},
            },
            "adapters.iwmo.input is required",
        ),
        (
            {
                "adapters": {"outbox": {"enabled": True}},
                "secrets": {"pseudonymKey": {"value": "k" * 32}},
            },
            "secrets.outboxDsn.existingSecret (or secrets.outboxDsn.value) is required",
        ),
        (
            {
                "adapters": {"wijkteamWebhook": {"enabled": True}},
                "secrets": {"pseudonymKey": {"value": "k" * 32}},
            },
            "secrets.webhookTokens.existingSecret",
        ),
        (
            {
                "secrets": {
                    "schemaRegistryAuth": {"value": "a:b"},
                    "schemaRegistryToken": {"existingSecret": "t"},
                }
            },
            "set one of them, not both",
        ),
        (
            {"config": {"kafkaSecurityProtocol": "TLS"}},
            "at '/config/kafkaSecurityProtocol': value must be one of",
        ),
        (
            {"config": {"kafkaSecurityProtocol": "SASL_SSL", "kafkaSaslMechanism": "GSSAPI"}},
            "at '/config/kafkaSaslMechanism': value must be one of",
        ),
        (
            {
                "config": {"kafkaSecurityProtocol": "SASL_SSL"},
                "secrets": {"kafkaSaslPassword": {"existingSecret": "k"}},
            },
            "config.kafkaSaslUsername is required with config.kafkaSecurityProtocol SASL_SSL",
        ),
        (
            {"config": {"kafkaSecurityProtocol": "SASL_PLAINTEXT", "kafkaSaslUsername": "s"}},
            "secrets.kafkaSaslPassword.existingSecret (or secrets.kafkaSaslPassword.value) is "
            "required: the SASL password of config.kafkaSaslUsername",
        ),
        (
            {
                "config": {"kafkaSecurityProtocol": "SASL_SSL", "kafkaSaslUsername": "s"},
                "secrets": {"kafkaSaslPassword": {"existingSecret": "k", "key": ""}},
            },
            "secrets.kafkaSaslPassword.key is required",
        ),
        (
            {"secrets": {"kafkaSaslPassword": {"value": "p"}}},
            "secrets.kafkaSaslPassword is set but config.kafkaSecurityProtocol PLAINTEXT uses "
            "no SASL",
        ),
        (
            {
                "config": {"kafkaSecurityProtocol": "SASL_PLAINTEXT", "kafkaSaslUsername": "s"},
                "secrets": {
                    "kafkaSaslPassword": {"value": "p"},
                    "kafkaTls": {"existingSecret": "t"},
                },
            },
            "secrets.kafkaTls is set but config.kafkaSecurityProtocol SASL_PLAINTEXT uses no TLS",
        ),
        (
            {
                "config": {"kafkaSecurityProtocol": "SSL"},
                "secrets": {"kafkaTls": {"existingSecret": "t", "keyKey": "tls.key"}},
            },
            "secrets.kafkaTls.keyKey needs secrets.kafkaTls.certKey",
        ),
        (
            {"config": {"extraEnv": {"SCHAKEL_KAFKA_SASL_PASSWORD": "x"}}},
            "config.extraEnv: SCHAKEL_KAFKA_SASL_PASSWORD belongs to a secret: set "
            "secrets.kafkaSaslPassword,",
        ),
        (
            {"config": {"extraEnv": {"SCHAKEL_KAFKA_CA_FILE": "/x"}}},
            "config.extraEnv: SCHAKEL_KAFKA_CA_FILE belongs to a secret: set secrets.kafkaTls,",
        ),
        ({"config": {"extraEnv": {"LOG": "x"}}}, "config.extraEnv: LOG is not a Schakel setting"),
        (
            {"config": {"extraEnv": {"SCHAKEL_API_TOKENS": "x"}}},
            "config.extraEnv: SCHAKEL_API_TOKENS belongs to a secret: set secrets.apiTokens,",
        ),
    ],
)
def test_a_missing_or_wrong_value_stops_rendering_naming_it(
    change: dict[str, Any], message: str
) -> None:
    assert message in render_error(merged(REQUIRED, change))


def test_without_the_required_values_nothing_renders() -> None:
    assert "config.oin is required" in render_error({})


def test_adapters_can_stay_on_the_old_image_while_workers_upgrade() -> None:
    values = merged(ALL_ADAPTERS, {"image": {"repository": "registry.example/schakel"}})
    values = merged(values, {"image": {"tag": "0.2.0"}, "adapters": {"imageTag": "0.1.0"}})
    result = template(values)
    assert result.returncode == 0, result.stderr
    docs = tuple(d for d in yaml.safe_load_all(result.stdout) if d)
    images = {c.component: c.spec["image"] for c in containers(docs)}
    assert images == {
        "worker": "registry.example/schakel:0.2.0",
        "setup": "registry.example/schakel:0.2.0",
        "adapter": "registry.example/schakel:0.1.0",
        "webhook": "registry.example/schakel:0.1.0",
    }


@pytest.mark.parametrize("namespace", ["Utrecht", "utrecht.", "-utrecht", "a" * 41])
def test_a_namespace_the_processes_would_refuse_stops_rendering(namespace: str) -> None:
    """The chart's schema holds the processes' own pattern (schemas.wire.NAMESPACE_PATTERN):
    ``helm install`` refuses what the setup Job would only refuse at run time."""
    from schemas.wire import NAMESPACE_PATTERN

    schema = json.loads((CHART / "values.schema.json").read_text(encoding="utf-8"))
    declared = schema["properties"]["config"]["properties"]["namespace"]["pattern"]
    assert declared == NAMESPACE_PATTERN
    error = render_error(merged(REQUIRED, {"config": {"namespace": namespace}}))
    assert "/config/namespace" in error and "does not match pattern" in error
