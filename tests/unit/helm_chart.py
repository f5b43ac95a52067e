"""Rendering the Helm chart (deploy/helm/schakel) for its tests, and reading what it renders.

Helm itself renders the chart: ``make helm-tools`` builds it with the Go toolchain and
``make test`` passes its path in ``HELM`` (default: where the Makefile puts it). Three value
sets are rendered once per test run: the required values only (``defaults``), every adapter, the
ServiceMonitor, the PrometheusRule and a rule override (``all-adapters``), and the same with the
secrets from values (``secret-values``). :func:`containers` gives every container with the
environment the kubelet would build for it."""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from schakel.cli import build_parser, settings_class
from schemas.settings import CommonSettings, Settings, load_process_settings, load_settings

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy" / "helm" / "schakel"
MAKEFILE = ROOT / "Makefile"
RELEASE = "gemeente"
NAMESPACE = "sociaal-domein"

REQUIRED: dict[str, Any] = {
    "config": {
        "oin": "00000001234567890000",
        "kafkaBootstrap": "kafka-0.kafka:9092,kafka-1.kafka:9092",
        "schemaRegistryUrl": "http://schema-registry:8081",
    },
    "secrets": {"apiTokens": {"existingSecret": "schakel-api"}},
}
"""The values without a default: the minimum an operator sets."""

ALL_ADAPTERS: dict[str, Any] = {
    "config": {
        **REQUIRED["config"],
        # the registry's TLS files (secrets.schemaRegistryTls) need an https:// registry: with an
        # http:// one the chart and every process refuse them (the connection would be plaintext)
        "schemaRegistryUrl": "https://schema-registry:8081",
        "namespace": "gemeente-a",
        "kafkaSecurityProtocol": "SASL_SSL",
        "kafkaSaslMechanism": "SCRAM-SHA-256",
        "kafkaSaslUsername": "schakel",
        "extraEnv": {"SCHAKEL_HISTORY_LIMIT": 3000},
    },
    "secrets": {
        "kafkaSaslPassword": {"existingSecret": "schakel-kafka-sasl"},
        "kafkaTls": {
            "existingSecret": "schakel-kafka-tls",
            "certKey": "tls.crt",
            "keyKey": "tls.key",
        },
        "schemaRegistryAuth": {"existingSecret": "schakel-registry"},
        "schemaRegistryTls": {
            "existingSecret": "schakel-registry-tls",
            "certKey": "tls.crt",
            "keyKey": "tls.key",
        },
        "apiTokens": {"existingSecret": "schakel-api"},
        "pseudonymKey": {"existingSecret": "schakel-pseudoniem"},
        "webhookTokens": {"value": "urn:nld:oin:00000001234567890000:systeem:wijkteam=t"},
        "outboxDsn": {"existingSecret": "schakel-outbox", "key": "dsn"},
    },
    "workers": {"replicas": 3, "rules": {"r1.yaml": "id: R1\nenabled: false\n"}},
    "adapters": {
        "iwmo": {"enabled": True, "input": {"persistentVolumeClaim": {"claimName": "iwmo-in"}}},
        "socialeDienst": {
            "enabled": True,
            "input": {"csi": {"driver": "smb.csi.k8s.io", "readOnly": True}},
        },
        "vroegsignalering": {
            "enabled": True,
            "input": {"persistentVolumeClaim": {"claimName": "v"}},
        },
        "outbox": {"enabled": True},
        "wijkteamWebhook": {"enabled": True},
    },
    "serviceMonitor": {"enabled": True, "labels": {"release": "kube-prometheus-stack"}},
    "prometheusRule": {"enabled": True, "labels": {"release": "kube-prometheus-stack"}},
}
"""Every adapter, the ServiceMonitor and the PrometheusRule, a rule override, a topic namespace,
Kafka with SASL (SCRAM) over mutual TLS, a registry with basic auth and mutual TLS, and a secret
the chart makes."""

SECRET_VALUES: dict[str, Any] = {
    **ALL_ADAPTERS,
    "secrets": {
        **ALL_ADAPTERS["secrets"],
        "kafkaSaslPassword": {"value": "kafka-geheim"},
        "schemaRegistryAuth": {"value": "schakel:geheim"},
        "apiTokens": {"value": "beheer:beheerder:geheim"},
        "pseudonymKey": {"value": "sleutel-" * 4},
        "outboxDsn": {"value": "postgresql://lezer@bron/db", "key": "dsn"},
    },
}
"""Every adapter, each secret (but the TLS files of Kafka and the registry, which take no
value) from a `value`: the chart makes every Secret, the registration Job's as hooks too."""

VALUE_SETS = {"defaults": REQUIRED, "all-adapters": ALL_ADAPTERS, "secret-values": SECRET_VALUES}

SECRET_PLACEHOLDERS = {
    "SCHAKEL_API_TOKENS": "beheer:beheerder:geheim",
    "SCHAKEL_WEBHOOK_TOKENS": "urn:nld:oin:00000001234567890000:systeem:wijkteam=geheim",
    "SCHAKEL_OUTBOX_DSN": "postgresql://lezer@bron/db",
    "SCHAKEL_SCHEMA_REGISTRY_AUTH": "schakel:geheim",
    "SCHAKEL_SCHEMA_REGISTRY_TOKEN": "geheim",
    "SCHAKEL_KAFKA_SASL_PASSWORD": "kafka-geheim",
}
"""Stand-ins for the values of the Secrets a container reads, to load its settings."""


# --- Helm ----------------------------------------------------------------------------------


def makefile_variable(name: str) -> str:
    match = re.search(rf"^{name} \??:?= *(\S+)$", MAKEFILE.read_text(encoding="utf-8"), re.M)
    assert match, f"Makefile: {name} not found"
    return match.group(1)


def helm_binary() -> Path:
    """$HELM, else where ``make helm-tools`` installs it."""
    default = Path.home() / ".cache/schakel/tools" / f"helm-{makefile_variable('HELM_VERSION')}"
    path = Path(os.environ.get("HELM") or default / "helm")
    if not path.is_file():
        pytest.fail(f"Helm is not built at {path}: run `make helm-tools` (make test does)")
    return path


def chart_meta() -> dict[str, Any]:
    meta: dict[str, Any] = yaml.safe_load((CHART / "Chart.yaml").read_text(encoding="utf-8"))
    return meta


def kube_versions() -> tuple[str, str]:
    """The oldest Kubernetes the chart supports and the newest bundled schemas."""
    match = re.fullmatch(r">=(\d+\.\d+)\.0-0", chart_meta()["kubeVersion"])
    assert match, "Chart.yaml: kubeVersion must be '>=1.N.0-0'"
    return match.group(1), kubernetes_validate.utils.latest_version()


def helm(*args: str, values: Mapping[str, Any] | None = None) -> subprocess.CompletedProcess[str]:
    command = [str(helm_binary()), *args]
    if values is None:
        return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    # JSON (a subset of YAML) quotes every string, as an operator must quote the OIN: Helm
    # reads a bare 00000001234567890000 as a number
    text = json.dumps(values)
    path = Path(os.environ.get("TMPDIR", "/tmp")) / f"schakel-helm-values-{os.getpid()}.json"
    path.write_text(text, encoding="utf-8")
    try:
        command += ["-f", str(path)]
        return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    finally:
        path.unlink()


def template(values: Mapping[str, Any]) -> subprocess.CompletedProcess[str]:
    oldest = kube_versions()[0]
    return helm(
        "template", RELEASE, str(CHART), "--namespace", NAMESPACE,
        "--kube-version", f"{oldest}.0", values=values,
    )  # fmt: skip


class _StrictLoader(yaml.SafeLoader):
    """A SafeLoader that refuses a key twice in one mapping (a template mistake that YAML
    would otherwise resolve silently to the last value)."""


def _unique_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _unique_mapping)


@cache
def rendered(name: str) -> tuple[dict[str, Any], ...]:
    """The manifests of value set ``name`` (rendered once per test run)."""
    result = template(VALUE_SETS[name])
    assert result.returncode == 0, result.stderr
    docs = [d for d in yaml.load_all(result.stdout, Loader=_StrictLoader) if d]
    assert docs, "the chart rendered nothing"
    return tuple(docs)


def render_error(values: Mapping[str, Any]) -> str:
    result = template(values)
    assert result.returncode != 0, "rendering should have failed"
    return result.stderr


def merged(base: Mapping[str, Any], change: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in change.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merged(out[key], value)
        else:
            out[key] = value
    return out


# --- the rendered objects ------------------------------------------------------------------


@dataclass
class Container:
    workload: str
    kind: str
    component: str
    spec: dict[str, Any]
    pod: dict[str, Any]
    labels: dict[str, str]
    init: bool
    env: dict[str, str] = field(default_factory=dict)
    secrets: set[str] = field(default_factory=set)
    """Names of the Secrets this container reads (env or mounted volume)."""

    @property
    def name(self) -> str:
        return f"{self.kind}/{self.workload}/{self.spec['name']}"


def find(docs: tuple[dict[str, Any], ...], kind: str, name: str) -> dict[str, Any]:
    (doc,) = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    return doc


def containers(docs: tuple[dict[str, Any], ...]) -> Iterator[Container]:
    """Every container of every workload, with its environment as the kubelet builds it
    (ConfigMap, then env with $(VAR) expanded; Secret values replaced by stand-ins)."""
    for doc in docs:
        if doc["kind"] not in ("StatefulSet", "Deployment", "Job"):
            continue
        template_ = doc["spec"]["template"]
        pod = template_["spec"]
        volumes = {v["name"]: v for v in pod.get("volumes", [])}
        component = template_["metadata"]["labels"]["app.kubernetes.io/component"]
        for init, key in ((True, "initContainers"), (False, "containers")):
            for spec in pod.get(key, []):
                item = Container(
                    doc["metadata"]["name"], doc["kind"], component, spec, pod,
                    template_["metadata"]["labels"], init,
                )  # fmt: skip
                for source in spec.get("envFrom", []):
                    config = find(docs, "ConfigMap", source["configMapRef"]["name"])
                    item.env.update(config["data"])
                for var in spec.get("env", []):
                    ref = var.get("valueFrom", {})
                    if "secretKeyRef" in ref:
                        item.secrets.add(ref["secretKeyRef"]["name"])
                        item.env[var["name"]] = SECRET_PLACEHOLDERS[var["name"]]
                    elif "fieldRef" in ref:
                        item.env[var["name"]] = f"<{ref['fieldRef']['fieldPath']}>"
                    else:
                        item.env[var["name"]] = expand(var["value"], item.env)
                for mount in spec.get("volumeMounts", []):
                    # (a StatefulSet's claim templates are no pod volumes)
                    secret = volumes.get(mount["name"], {}).get("secret")
                    if secret is not None:
                        item.secrets.add(secret["secretName"])
                yield item


def expand(value: str, env: Mapping[str, str]) -> str:
    """Kubernetes' ``$(VAR)`` in an env value: a variable defined before it."""
    return re.sub(r"\$\((\w+)\)", lambda m: env[m.group(1)], value)


def long_running(docs: tuple[dict[str, Any], ...]) -> list[Container]:
    return [c for c in containers(docs) if c.kind != "Job"]


def settings_of(container: Container, monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name in [k for k in os.environ if k.startswith("SCHAKEL_")]:
        monkeypatch.delenv(name)
    fields = {
        k.removeprefix("SCHAKEL_").lower(): v
        for k, v in container.env.items()
        if k.startswith("SCHAKEL_")
    }
    # the container's process loads only its own class (schakel/cli.py SETTINGS_OF; the
    # topics Job the common one): its env must be valid for that class, e.g. an adapter
    # without the pseudonym key would refuse to start
    args = argv(container) if container.kind != "Job" else []
    model = settings_class(build_parser().parse_args(args)) if args else CommonSettings
    load_process_settings(model, **fields)
    return load_settings(**fields)


def argv(container: Container) -> list[str]:
    """The arguments of the image's entry point (``schakel``)."""
    assert "command" not in container.spec or container.init, container.name
    return list(container.spec.get("args", []))
