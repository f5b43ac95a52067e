"""The Helm chart (deploy/helm/schakel) renders, is valid Kubernetes and keeps its promises.

Helm itself renders the chart: ``make helm-tools`` builds it with the Go toolchain and
``make test`` passes its path in ``HELM`` (default: where the Makefile puts it). Every rendered
manifest is validated against the Kubernetes JSON schemas that the kubernetes-validate package
bundles, in strict mode (an unknown field fails), for the oldest Kubernetes the chart supports
(Chart.yaml ``kubeVersion``) and the newest schemas available. The ServiceMonitor, a Prometheus
Operator resource with no schema there, is checked against the fields of its CRD the chart uses.
No cluster is needed."""

from __future__ import annotations

import json
import os
import re
import subprocess
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from adapters.registry import FACTORIES
from schakel import __version__
from schakel.cli import build_parser
from schemas.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy" / "helm" / "schakel"
MAKEFILE = ROOT / "Makefile"
SETTING_NAMES = {f"SCHAKEL_{name.upper()}" for name in Settings.model_fields}
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
    "config": {**REQUIRED["config"], "extraEnv": {"SCHAKEL_HISTORY_LIMIT": 3000}},
    "secrets": {
        "apiTokens": {"existingSecret": "schakel-api"},
        "pseudonymKey": {"existingSecret": "schakel-pseudoniem"},
        "webhookTokens": {"value": "urn:nld:oin:00000001234567890000:systeem:wijkteam=t"},
        "outboxDsn": {"existingSecret": "schakel-outbox", "key": "dsn"},
    },
    "workers": {"replicas": 3, "rules": {"r1.yaml": "id: R1\nenabled: false\n"}},
    "adapters": {
        "iwmo": {"enabled": True, "input": {"persistentVolumeClaim": {"claimName": "iwmo-in"}}},
        "socialeDienst": {"enabled": True, "input": {"nfs": {"server": "nas", "path": "/sd"}}},
        "vroegsignalering": {
            "enabled": True,
            "input": {"persistentVolumeClaim": {"claimName": "v"}},
        },
        "outbox": {"enabled": True},
        "wijkteamWebhook": {"enabled": True},
    },
    "serviceMonitor": {"enabled": True, "labels": {"release": "kube-prometheus-stack"}},
}
"""Every adapter, the ServiceMonitor, a rule override and a secret the chart makes."""

VALUE_SETS = {"defaults": REQUIRED, "all-adapters": ALL_ADAPTERS}

SECRET_PLACEHOLDERS = {
    "SCHAKEL_API_TOKENS": "beheer:beheerder:geheim",
    "SCHAKEL_WEBHOOK_TOKENS": "urn:nld:oin:00000001234567890000:systeem:wijkteam=geheim",
    "SCHAKEL_OUTBOX_DSN": "postgresql://lezer@bron/db",
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
    return load_settings(**fields)


def argv(container: Container) -> list[str]:
    """The arguments of the image's entry point (``schakel``)."""
    assert "command" not in container.spec or container.init, container.name
    return list(container.spec.get("args", []))


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
        if doc["kind"] == "ServiceMonitor":
            check_service_monitor(doc)
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
    monitors = [d for d in docs if d["kind"] == "ServiceMonitor"]
    assert checked == len(kube_versions()) * (len(docs) - len(monitors))
    if values == "all-adapters":
        assert {"Deployment", "PersistentVolumeClaim", "Secret", "ServiceMonitor"} <= kinds


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
        if container.kind == "Job":
            # the hook runs before the ConfigMap exists: the same settings, inline
            assert {k: container.env[k] for k in config} == config
        else:
            assert container.spec["envFrom"] == [{"configMapRef": {"name": f"{RELEASE}-schakel"}}]
        if container.component == "worker":
            assert settings.store == "rocksdb" and settings.tokens()
        if container.component in ("adapter", "webhook"):
            key_file = settings.pseudonym_key_file
            assert key_file == Path("/run/secrets/schakel/pseudonym_key"), container.name
            mounts = {m["mountPath"] for m in container.spec["volumeMounts"]}
            assert str(key_file.parent) in mounts, container.name
        if container.component == "webhook":
            assert settings.webhook_senders()
        if argv(container)[:2] == ["adapter", "outbox"]:
            assert settings.outbox_dsn is not None


# === tests: secrets ===========================================================================


def test_each_secret_reaches_only_the_pods_that_use_it() -> None:
    docs = rendered("all-adapters")
    pseudonym_key = "schakel-pseudoniem"
    expected = {
        "worker": {"schakel-api"},
        "setup": set(),
        "iwmo": {pseudonym_key},
        "sociale-dienst": {pseudonym_key},
        "vroegsignalering": {pseudonym_key},
        "outbox": {pseudonym_key, "schakel-outbox"},
        "wijkteam": {pseudonym_key, f"{RELEASE}-schakel-webhook-tokens"},
    }
    seen = {}
    for container in containers(docs):
        args = argv(container)
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


def test_a_pseudonym_key_made_by_the_chart_survives_uninstall() -> None:
    values = merged(
        ALL_ADAPTERS, {"secrets": {"pseudonymKey": {"existingSecret": "", "value": "k"}}}
    )
    result = template(values)
    assert result.returncode == 0, result.stderr
    docs = tuple(d for d in yaml.safe_load_all(result.stdout) if d)
    secret = find(docs, "Secret", f"{RELEASE}-schakel-pseudonym-key")
    assert secret["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    assert secret["stringData"] == {"pseudonym_key": "k"}


# === tests: workloads =========================================================================


@pytest.mark.parametrize("values", sorted(VALUE_SETS))
def test_every_container_has_resources_and_runs_non_root_read_only(values: str) -> None:
    all_containers = list(containers(rendered(values)))
    assert len(all_containers) >= 3
    for container in all_containers:
        pod, spec = container.pod, container.spec
        assert pod["automountServiceAccountToken"] is False, container.name
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


# === tests: values ============================================================================


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"config": {"oin": ""}}, "config.oin is required"),
        ({"config": {"oin": "123"}}, "config.oin is required: the municipality's OIN, 20 digits"),
        ({"config": {"kafkaBootstrap": ""}}, "config.kafkaBootstrap is required"),
        ({"config": {"schemaRegistryUrl": ""}}, "config.schemaRegistryUrl is required"),
        ({"config": {"partitions": 0}}, "config.partitions must be between 1 and 256"),
        ({"secrets": {"apiTokens": {"existingSecret": ""}}}, "secrets.apiTokens.existingSecret"),
        ({"adapters": {"iwmo": {"enabled": True}}}, "secrets.pseudonymKey.existingSecret"),
        (
            {"adapters": {"iwmo": {"enabled": True}}, "secrets": {"pseudonymKey": {"value": "k"}}},
            "adapters.iwmo.input is required",
        ),
        (
            {
                "adapters": {"outbox": {"enabled": True}},
                "secrets": {"pseudonymKey": {"value": "k"}},
            },
            "secrets.outboxDsn.existingSecret (or secrets.outboxDsn.value) is required",
        ),
        (
            {
                "adapters": {"wijkteamWebhook": {"enabled": True}},
                "secrets": {"pseudonymKey": {"value": "k"}},
            },
            "secrets.webhookTokens.existingSecret",
        ),
        ({"config": {"extraEnv": {"LOG": "x"}}}, "config.extraEnv: LOG is not a Schakel setting"),
        (
            {"config": {"extraEnv": {"SCHAKEL_API_TOKENS": "x"}}},
            "config.extraEnv: SCHAKEL_API_TOKENS is a secret",
        ),
    ],
)
def test_a_missing_or_wrong_value_stops_rendering_naming_it(
    change: dict[str, Any], message: str
) -> None:
    assert message in render_error(merged(REQUIRED, change))


def test_without_the_required_values_nothing_renders() -> None:
    assert "config.oin is required" in render_error({})
