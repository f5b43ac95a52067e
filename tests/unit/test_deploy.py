"""The deployment files agree with the code and with each other.

No Docker engine is needed: the Dockerfile, the Compose files, the Prometheus configuration and
alerts and the Grafana provisioning are parsed (PyYAML / json / tomllib) and checked against the
settings model, the metric definitions, the command-line parser and the topic declarations."""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import shlex
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml
from prometheus_client import CollectorRegistry

from adapters.metrics import AdapterMetrics
from adapters.registry import FACTORIES
from schakel import __version__
from schakel.cli import build_parser, settings_class
from schakel.topics import new_topics
from schemas import kafka_client
from schemas.exceptions import SettingsError
from schemas.settings import (
    CommonSettings,
    ForgetSettings,
    KeyedSettings,
    OutboxSettings,
    Settings,
    WebhookSettings,
    WorkerSettings,
    load_process_settings,
)
from schemas.wire import CHANGELOG, TOPICS, Wire
from streams.metrics import WorkerMetrics

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
COMPOSE = ROOT / "docker-compose.yml"
DEV = DEPLOY / "compose.dev.yml"
DOCKERFILE = ROOT / "Dockerfile"
PROMETHEUS = DEPLOY / "prometheus" / "prometheus.yml"
ALERTS = DEPLOY / "helm" / "schakel" / "files" / "alerts.yml"
"""The alerts: the Helm chart's file (its PrometheusRule), which Compose mounts too."""
DASHBOARD = DEPLOY / "grafana" / "dashboards" / "schakel.json"
DATASOURCES = DEPLOY / "grafana" / "provisioning" / "datasources" / "prometheus.yml"
DASHBOARD_PROVIDERS = DEPLOY / "grafana" / "provisioning" / "dashboards" / "schakel.yml"
SECRETS = DEPLOY / "secrets"
OPERATOR_DOCS = (DEPLOY / "README.md", ROOT / "docs" / "operations.md")
"""The operator documentation of the deployment (commands in it must work as written)."""

# Values for the Compose variables without a default (`${OIN:?…}`).
COMPOSE_ENV = {"OIN": "00000001234567890000"}
SETTING_NAMES = {f"SCHAKEL_{name.upper()}" for name in Settings.model_fields}
PORT_SETTING = {"worker": "web_port", "adapter": "metrics_port", "webhook": "webhook_port"}
"""Process kind → the setting of the port its /metrics (and health check) is served on."""
SCRIPT_DIR = "/opt/schakel/"
"""Where the Dockerfile copies the deploy/*.py helpers."""


# --- loading ---------------------------------------------------------------------------------


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def load_module(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"deploy_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")


def interpolate(value: str, env: Mapping[str, str] = COMPOSE_ENV) -> str:
    """Compose's variable substitution: ``${V}``, ``${V:-default}``, ``${V:?message}``, ``$$``."""

    def substitute(match: re.Match[str]) -> str:
        name, op, arg = match.group(1), match.group(2), match.group(3)
        if name in env:
            return env[name]
        if op in (":-", "-"):
            return arg
        if op in (":?", "?"):
            pytest.fail(f"Compose variable {name} is required: {arg}")
        return ""

    parts = value.split("$$")
    return "$".join(_VAR.sub(substitute, part) for part in parts)


def environment(spec: Mapping[str, Any]) -> dict[str, str]:
    raw = spec.get("environment") or {}
    if isinstance(raw, list):
        raw = dict(item.split("=", 1) for item in raw)
    return {str(k): interpolate(str(v)) for k, v in raw.items()}


def merge_service(base: Mapping[str, Any], overlay: Mapping[str, Any]) -> dict[str, Any]:
    """Enough of Compose's merge for these checks: mappings of environment merged, the rest
    replaced by the overlay."""
    merged = {**base, **overlay}
    if "environment" in base and "environment" in overlay:
        merged["environment"] = {**environment(base), **environment(overlay)}
    return merged


def compose_services(*files: Path) -> dict[str, dict[str, Any]]:
    services: dict[str, dict[str, Any]] = {}
    for path in files:
        for name, spec in (load_yaml(path).get("services") or {}).items():
            services[name] = merge_service(services[name], spec) if name in services else spec
    return services


def env_file_values(path: Path) -> dict[str, str]:
    values = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def bind_mounts(spec: Mapping[str, Any]) -> dict[str, str]:
    """Host path → container path of a service's short-syntax bind mounts."""
    mounts = {}
    for volume in spec.get("volumes") or []:
        source, _, rest = interpolate(str(volume)).partition(":")
        if source.startswith((".", "/")) and rest:
            mounts[source] = rest.split(":")[0]
    return mounts


def example_of(env_file: str) -> Path:
    """A Compose ``env_file`` (a real secret, not in the repository) → its committed example."""
    return ROOT / f"{env_file}.example"


# --- the Dockerfile ----------------------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    out: list[tuple[str, str]] = []
    buffer = ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            buffer += line[:-1] + " "
            continue
        instruction, _, rest = (buffer + line).partition(" ")
        out.append((instruction.upper(), rest.strip()))
        buffer = ""
    assert not buffer, "Dockerfile ends in a continuation line"
    return out


def final_stage() -> list[tuple[str, str]]:
    instructions = dockerfile_instructions()
    last_from = max(i for i, (name, _) in enumerate(instructions) if name == "FROM")
    return instructions[last_from:]


def dockerfile_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for name, rest in final_stage():
        if name == "ENV":
            for item in shlex.split(rest):
                key, _, value = item.partition("=")
                env[key] = value
    return env


def dockerfile_json(instruction: str) -> list[str]:
    values = [rest for name, rest in final_stage() if name == instruction]
    assert len(values) == 1, f"expected one {instruction} in the final stage"
    parsed = json.loads(values[0])
    assert isinstance(parsed, list)
    return [str(p) for p in parsed]


# --- the Schakel services ------------------------------------------------------------------------


@dataclass
class SchakelService:
    """A Compose service that runs the Schakel image, as the container will run it."""

    name: str
    spec: dict[str, Any]
    argv: list[str] | None
    """``schakel`` arguments; None for a helper script run with ``python``."""
    script: str | None
    env: dict[str, str]

    @property
    def one_shot(self) -> bool:
        return self.spec.get("restart") == "no"

    @property
    def kind(self) -> str | None:
        """``worker``, ``adapter`` (polling), ``webhook`` or None (one-shot jobs)."""
        if not self.argv or self.one_shot:
            return None
        if self.argv[0] == "worker":
            return "worker"
        if self.argv[0] == "adapter":
            return "webhook" if "--serve" in self.argv else "adapter"
        return None

    def setting(self, field: str) -> Any:
        """The effective value of a setting (environment, else the model's default)."""
        value = self.env.get(f"SCHAKEL_{field.upper()}")
        return Settings.model_fields[field].default if value is None else value


def schakel_image(services: Mapping[str, Mapping[str, Any]]) -> str:
    images = {str(s["image"]) for s in services.values() if "build" in s}
    assert len(images) == 1, f"one image is built from this repository, found {images}"
    return images.pop()


def resolve_argv(name: str, spec: Mapping[str, Any]) -> tuple[list[str] | None, str | None]:
    entrypoint = spec.get("entrypoint")
    command = spec.get("command")
    if isinstance(command, str):
        command = shlex.split(command)
    if entrypoint is None:
        argv = list(command) if command is not None else dockerfile_json("CMD")
        return [str(a) for a in argv], None
    if isinstance(entrypoint, str):
        entrypoint = shlex.split(entrypoint)
    entrypoint = [str(e) for e in entrypoint]
    if entrypoint[:1] == ["python"]:
        assert len(entrypoint) == 2 and entrypoint[1].startswith(SCRIPT_DIR), (
            f"{name}: a helper script runs as `python {SCRIPT_DIR}<script>.py`"
        )
        assert command is None, f"{name}: a helper script takes no command"
        return None, entrypoint[1]
    assert entrypoint[:2] == ["sh", "-c"] and entrypoint[3:] == ["schakel"], (
        f"{name}: the entrypoint must be the image's `schakel` or a sh wrapper that execs it"
    )
    script = interpolate(entrypoint[2])
    assert script.rstrip().endswith('exec schakel "$@"'), f"{name}: wrapper must exec schakel"
    assert command is not None, f"{name}: a wrapped schakel needs a command"
    return [str(a) for a in command], None


WRAPPER_HOST = "172.18.0.5"
"""What a command substitution in a wrapper's variable prints at start (the container's
address, in the Compose worker's ``SCHAKEL_WEB_URL``)."""


def wrapper_exports(spec: Mapping[str, Any]) -> dict[str, str]:
    """The ``SCHAKEL_*`` variables a ``sh -c`` wrapper entrypoint assigns and exports before
    it execs schakel (``NAME="value" && export NAME``), a ``$(…)`` in a value standing for
    :data:`WRAPPER_HOST`."""
    entrypoint = spec.get("entrypoint")
    if not isinstance(entrypoint, list) or entrypoint[:2] != ["sh", "-c"]:
        return {}
    script = interpolate(str(entrypoint[2]))
    exported = set(re.findall(r"\bexport (SCHAKEL_\w+)", script))
    return {
        name: re.sub(r"\$\(.*\)", WRAPPER_HOST, value)
        for name, value in re.findall(r'\b(SCHAKEL_\w+)="([^"]*)"', script)
        if name in exported
    }


def schakel_services(*files: Path) -> dict[str, SchakelService]:
    services = compose_services(*files)
    image = schakel_image(compose_services(COMPOSE))
    base_env = {k: v for k, v in dockerfile_env().items() if k.startswith("SCHAKEL_")}
    out = {}
    for name, spec in services.items():
        if spec.get("image") != image:
            continue
        argv, script = resolve_argv(name, spec)
        env = dict(base_env)
        for env_file in spec.get("env_file") or []:
            path = env_file if isinstance(env_file, str) else env_file["path"]
            env.update(env_file_values(example_of(path)))
        env.update(environment(spec))
        env.update(wrapper_exports(spec))
        out[name] = SchakelService(name, dict(spec), argv, script, env)
    return out


def parse(service: SchakelService) -> argparse.Namespace:
    assert service.argv is not None
    try:
        return build_parser().parse_args(service.argv)
    except SystemExit:
        pytest.fail(f"{service.name}: `schakel {' '.join(service.argv)}` is not a valid command")


# --- metrics -------------------------------------------------------------------------------------


def known_metric_names() -> set[str]:
    """Every series name the worker and adapter metrics can expose."""
    worker = WorkerMetrics()
    worker.watch_open_signals(lambda: {"regel": 1})
    adapter_registry = CollectorRegistry()
    AdapterMetrics(adapter_registry)
    names = set()
    for registry in (worker.registry, adapter_registry):
        for family in registry.collect():
            if family.type == "counter":
                names.add(f"{family.name}_total")
            elif family.type == "histogram":
                names |= {f"{family.name}{suffix}" for suffix in ("_bucket", "_count", "_sum")}
            else:
                names.add(family.name)
    return names


def metric_tokens(expr: str) -> set[str]:
    return set(re.findall(r"\bschakel_[a-z0-9_]+\b", expr))


def dashboard_panels(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for panel in panels:
        yield panel
        yield from dashboard_panels(panel.get("panels") or [])


def dashboard_exprs() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return [
        str(target["expr"])
        for panel in dashboard_panels(dashboard["panels"])
        for target in panel.get("targets") or []
    ]


def alert_rules() -> list[dict[str, Any]]:
    return [rule for group in load_yaml(ALERTS)["groups"] for rule in group["rules"]]


def scrape_jobs() -> dict[str, dict[str, Any]]:
    return {job["job_name"]: job for job in load_yaml(PROMETHEUS)["scrape_configs"]}


def balanced(expr: str) -> bool:
    depth = 0
    for char in expr:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0


# --- .dockerignore -------------------------------------------------------------------------------


def _glob_regex(pattern: str) -> re.Pattern[str]:
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out + r"\Z")


def docker_ignored(path: str, patterns: list[str]) -> bool:
    """Docker's rule: the last pattern matching the path or one of its parents decides."""
    parts = path.split("/")
    ignored = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        regex = _glob_regex(pattern.removeprefix("!").strip("/"))
        if any(regex.match("/".join(parts[:n])) for n in range(1, len(parts) + 1)):
            ignored = not negate
    return ignored


def dockerignore_patterns() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


# === tests: settings ============================================================================


def test_every_schakel_variable_in_the_deployment_exists_in_the_settings_model() -> None:
    files = [
        COMPOSE,
        DEV,
        DOCKERFILE,
        DEPLOY / "README.md",
        SECRETS / "README.md",
        *SECRETS.glob("*.example"),
    ]
    unknown = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in files
        for name in re.findall(r"\bSCHAKEL_[A-Z0-9_]+\b", path.read_text(encoding="utf-8"))
        if name not in SETTING_NAMES
    }
    assert not unknown, f"not a field of schemas.settings.Settings: {sorted(unknown)}"


def test_compose_variables_have_a_default_or_a_message_and_are_documented() -> None:
    readme = (DEPLOY / "README.md").read_text(encoding="utf-8")
    for path in (COMPOSE, DEV):
        for name, op, _ in _VAR.findall(path.read_text(encoding="utf-8")):
            assert op, f"{path.name}: ${{{name}}} needs a default (:-) or a message (:?)"
            assert f"`{name}`" in readme, f"deploy/README.md does not document {name}"


def test_every_schakel_service_has_valid_production_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in [k for k in os.environ if k.startswith("SCHAKEL_")]:
        monkeypatch.delenv(name)
    compose = load_yaml(COMPOSE)
    services = schakel_services(COMPOSE, DEV)
    assert services
    partitions = set()
    for service in services.values():
        fields = {k.removeprefix("SCHAKEL_").lower(): v for k, v in service.env.items()}
        # each process loads only its own settings class (schakel/cli.py SETTINGS_OF; the
        # setup script create_topics.py the common ones): validated as that process will
        model = settings_class(parse(service)) if service.argv else CommonSettings
        try:
            settings = load_process_settings(model, **fields)
        except SettingsError as exc:
            pytest.fail(f"{service.name}: {exc}")
        assert settings.profile == "production", service.name
        # the pseudonym key only where BSNs are pseudonymised (issue 11 item 14)
        secrets = service.spec.get("secrets") or []
        if isinstance(settings, KeyedSettings):
            assert str(settings.pseudonym_key_file) == "/run/secrets/pseudonym_key", service.name
            assert "pseudonym_key" in secrets, service.name
        else:
            assert "SCHAKEL_PSEUDONYM_KEY_FILE" not in service.env, service.name
            assert "SCHAKEL_PSEUDONYM_KEY" not in service.env, service.name
            assert "pseudonym_key" not in secrets, service.name
        assert settings.kafka_bootstrap == "kafka:9092", service.name
        assert settings.schema_registry_url == "http://schema-registry:8081", service.name
        partitions.add(settings.partitions)
        if service.kind == "worker":
            assert isinstance(settings, WorkerSettings)
            assert settings.store == "rocksdb"
            # each replica announces its own address, set by the entrypoint at start
            assert settings.web_url == f"http://{WRAPPER_HOST}:6066"
            assert settings.tokens(), "the worker needs API tokens (worker.env)"
        if service.kind == "webhook":
            assert isinstance(settings, WebhookSettings)
            assert settings.webhook_senders(), "the webhook needs sender tokens (webhook.env)"
        if service.argv and service.argv[:2] == ["adapter", "outbox"]:
            assert isinstance(settings, OutboxSettings)
            assert settings.outbox_dsn is not None, "the outbox adapter needs SCHAKEL_OUTBOX_DSN"
    assert len(partitions) == 1, "every process must agree on SCHAKEL_PARTITIONS"
    assert {"kafka", "schema-registry"} <= set(compose["services"])
    assert compose["secrets"]["pseudonym_key"]["file"].startswith("./deploy/secrets/")


def test_secrets_stay_out_of_the_repository() -> None:
    lines = (SECRETS / ".gitignore").read_text(encoding="utf-8").splitlines()
    ignore = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    assert ignore[0] == "*" and all(p.startswith("!") for p in ignore[1:])
    allowed = [p.removeprefix("!") for p in ignore[1:]]
    compose = load_yaml(COMPOSE)
    referenced = [str(s["file"]) for s in compose["secrets"].values()]
    referenced += [
        str(f) for s in compose_services(COMPOSE, DEV).values() for f in s.get("env_file") or []
    ]
    for ref in referenced:
        path = (ROOT / ref).resolve()
        assert path.parent == SECRETS, f"{ref}: secrets live in deploy/secrets"
        assert not any(re.fullmatch(_glob_regex(p), path.name) for p in allowed), (
            f"{ref} would not be ignored by deploy/secrets/.gitignore"
        )
    for example in SECRETS.glob("*.env.example"):
        for key, value in env_file_values(example).items():
            for item in value.split(","):
                assert "VERVANG_MIJ" in item, f"{example.name}: {key} looks like a real secret"


# === tests: commands ============================================================================


def test_every_command_in_compose_is_a_real_schakel_subcommand() -> None:
    services = schakel_services(COMPOSE, DEV)
    for service in services.values():
        if service.script is not None:
            local = DEPLOY / Path(service.script).name
            assert local.is_file(), f"{service.name}: {service.script} has no deploy/ source"
            continue
        args = parse(service)
        if args.command == "adapter":
            assert args.name in FACTORIES, f"{service.name}: unknown adapter {args.name!r}"
            assert args.serve or args.spec or args.name == "outbox", f"{service.name}: no SPEC"
            assert not args.once or service.one_shot, f"{service.name}: --once must be one-shot"
    commands = {tuple(s.argv) for s in schakel_services(COMPOSE).values() if s.argv}
    assert ("worker",) in commands
    assert ("schemas", "register") in commands
    adapters = {argv[1] for argv in commands if argv[0] == "adapter"}
    assert adapters >= {"iwmo", "sociale-dienst", "vroegsignalering", "outbox", "wijkteam"}
    assert ("adapter", "wijkteam", "--serve") in commands


def test_topics_are_created_before_any_worker_or_adapter_starts() -> None:
    compose = compose_services(COMPOSE)
    broker = environment(compose["kafka"])
    assert broker["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    services = schakel_services(COMPOSE)
    topic_jobs = [s.name for s in services.values() if s.script == f"{SCRIPT_DIR}create_topics.py"]
    register_jobs = [s.name for s in services.values() if s.argv == ["schemas", "register"]]
    assert len(topic_jobs) == 1 and len(register_jobs) == 1
    for service in services.values():
        if service.kind is None:
            continue
        depends = service.spec.get("depends_on") or {}
        for job in (*topic_jobs, *register_jobs):
            assert depends.get(job, {}).get("condition") == "service_completed_successfully", (
                f"{service.name} must wait for {job}"
            )


_RUN_OPTIONS_WITH_VALUE = {"-v", "--volume", "-e", "--env", "-w", "--workdir", "-u", "--user"}


def documented_runs() -> list[tuple[str, str, list[str]]]:
    """Every ``docker compose run …`` in the operator docs: (the command as written, the
    service, the arguments after it; empty: the service's own command)."""
    runs = []
    for path in OPERATOR_DOCS:
        for match in re.finditer(r"docker compose run ([^`\n]*)", path.read_text("utf-8")):
            tokens = shlex.split(match.group(1).split("<")[0].split("|")[0])
            while tokens and tokens[0].startswith("-"):
                option = tokens.pop(0)
                if option in _RUN_OPTIONS_WITH_VALUE:
                    tokens.pop(0)
            assert tokens, f"{path.name}: {match.group(0)!r} names no service"
            runs.append((f"{path.name}: {match.group(0)}", tokens[0], tokens[1:]))
    return runs


def test_forget_runs_in_its_own_service_with_the_key_and_nothing_else() -> None:
    services = schakel_services(COMPOSE)
    forget_runs = []
    for command, name, args in documented_runs():
        assert name in services, f"{command}: no Schakel service {name}"
        service = services[name]
        argv = args or service.argv or []
        if argv[:1] != ["forget"]:
            continue
        forget_runs.append(command)
        # `schakel forget` refuses to start without the key (exit 2)
        assert "pseudonym_key" in (service.spec.get("secrets") or []), f"{command}: no key"
        fields = {k.removeprefix("SCHAKEL_").lower(): v for k, v in service.env.items()}
        try:
            load_process_settings(ForgetSettings, **fields)
        except SettingsError as exc:
            pytest.fail(f"{command}: {exc}")
    assert len(forget_runs) >= len(OPERATOR_DOCS), "each operator doc shows how to run forget"
    forget = services["forget"]
    assert forget.one_shot and forget.spec["healthcheck"] == {"disable": True}
    # run by hand only: not by `up`, nor with the adapters' profile
    assert forget.spec["profiles"] == ["forget"]
    parsed = parse(forget)
    assert parsed.command == "forget" and parsed.bsn_file == "/dev/stdin"
    # what `schakel forget` reads (ForgetSettings) and nothing else: no API or webhook tokens,
    # no outbox DSN, no other secret
    assert forget.spec["secrets"] == ["pseudonym_key"]
    assert "env_file" not in forget.spec
    read = {f"SCHAKEL_{name.upper()}" for name in ForgetSettings.model_fields}
    assert {k for k in forget.env if k.startswith("SCHAKEL_")} <= read
    assert forget.spec["depends_on"] == compose_services(COMPOSE)["worker"]["depends_on"]


def test_the_docs_name_the_kafka_release_compose_runs() -> None:
    image = str(compose_services(COMPOSE)["kafka"]["image"])
    version = image.removeprefix("apache/kafka:")
    named = [
        (path.name, found)
        for path in OPERATOR_DOCS
        for found in re.findall(r"Apache Kafka (\d+\.\d+(?:\.\d+)?)", path.read_text("utf-8"))
    ]
    assert ("README.md", version) in named, "deploy/README.md names the Kafka release"
    for where, found in named:
        assert f"{version}.".startswith(f"{found}."), f"{where}: Kafka {found}, runs {version}"
    open_dependencies = load_yaml(ROOT / "publiccode.yml")["dependsOn"]["open"]
    (dependency,) = [d for d in open_dependencies if d["name"] == "Apache Kafka"]
    assert f"{version}.".startswith(f"{dependency['version']}."), "publiccode.yml"


def test_worker_is_scalable() -> None:
    worker = compose_services(COMPOSE)["worker"]
    assert "container_name" not in worker
    assert "ports" not in worker, "a fixed host port stops `--scale worker=N`"
    assert int(worker["deploy"]["replicas"]) >= 2
    volumes = [str(v) for v in worker.get("volumes") or []]
    assert all(":" not in v for v in volumes), "RocksDB must not be shared between replicas"
    data_dir = schakel_services(COMPOSE)["worker"].setting("data_dir")
    assert volumes == [str(data_dir)]


def test_one_shots_do_not_restart_and_long_running_services_check_their_own_port() -> None:
    script = load_module(DEPLOY / "healthcheck.py")
    for kind, (variable, default, _path) in script.KINDS.items():
        field = PORT_SETTING[kind]
        assert variable == f"SCHAKEL_{field.upper()}"
        assert default == Settings.model_fields[field].default
    for service in schakel_services(COMPOSE, DEV).values():
        check = service.spec.get("healthcheck") or {}
        if service.one_shot:
            assert check.get("disable") is True, f"{service.name}: one-shot without health check"
            continue
        assert service.spec.get("restart") == "unless-stopped", service.name
        assert check.get("test") == ["CMD", "python", f"{SCRIPT_DIR}healthcheck.py", service.kind]


# === tests: Dockerfile ==========================================================================


def test_dockerfile_is_multi_stage_non_root_with_the_schakel_entrypoint() -> None:
    instructions = dockerfile_instructions()
    args = dict(rest.split("=", 1) for name, rest in instructions if name == "ARG" and "=" in rest)
    bases = [
        interpolate(rest.split()[0], args)
        for name, rest in instructions
        if name == "FROM" and not rest.startswith("build")
    ]
    assert len(bases) >= 2 and all(b.startswith("python:3.11-slim") for b in bases), bases
    assert any(name == "RUN" and "pip install ." in rest for name, rest in instructions)
    assert dockerfile_json("ENTRYPOINT") == ["schakel"]
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "schakel" in pyproject["project"]["scripts"]
    users = [rest for name, rest in final_stage() if name == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    healthchecks = [rest for name, rest in final_stage() if name == "HEALTHCHECK"]
    assert len(healthchecks) == 1
    check = json.loads(healthchecks[0].split(" CMD ", 1)[1])
    assert check == ["python", f"{SCRIPT_DIR}healthcheck.py", "worker"]
    assert load_module(DEPLOY / "healthcheck.py").KINDS["worker"][2] == "/health"


def test_dockerfile_copies_what_exists_and_dockerignore_lets_it_in() -> None:
    patterns = dockerignore_patterns()
    copied = []
    for name, rest in dockerfile_instructions():
        if name != "COPY" or rest.startswith("--from"):
            continue
        *sources, destination = shlex.split(rest)
        for source in sources:
            assert (ROOT / source).exists(), f"COPY {source}: no such file"
            assert not docker_ignored(source, patterns), f"COPY {source}: in .dockerignore"
            if destination == SCRIPT_DIR:
                copied.append(f"{SCRIPT_DIR}{Path(source).name}")
    for service in schakel_services(COMPOSE, DEV).values():
        if service.script is not None:
            assert service.script in copied, f"{service.script} is not copied into the image"
    for kept_out in (
        ".venv/bin/python",
        ".git/config",
        "var/checkpoints/iwmo.json",
        "deploy/secrets/pseudonym_key",
        "deploy/secrets/worker.env",
        "samples/iwmo/x.xml",
        "schakel/__pycache__/cli.cpython-311.pyc",
    ):
        assert docker_ignored(kept_out, patterns), f"{kept_out} would enter the build context"


# === tests: create_topics.py ====================================================================


def test_create_topics_checks_every_declared_topic_and_the_compacted_changelog() -> None:
    script = load_module(DEPLOY / "create_topics.py")
    topics = Wire("gemeente-a").topics()
    assert set(topics) == {f"gemeente-a.{t.name}" for t in TOPICS}
    changelog = topics["gemeente-a.schakel-worker-burgers-changelog"]
    assert changelog is CHANGELOG and changelog.cleanup_policy == "compact"
    assert changelog.co_partitioned
    described = [{"name": n, "partitions": [{}] * s.partitions(6)} for n, s in topics.items()]
    assert script.partition_problems(described, topics, 6) == []
    problems = script.partition_problems(described[1:], topics, 8)
    assert any("missing" in p for p in problems)
    assert any("expected 8" in p for p in problems)


def test_create_topics_uses_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """The settings reach ``ensure_topics``; no bootstrap, exit 2. ``ensure_topics`` and the
    admin are stand-ins (what they answer is the code's own declaration): the real run on a
    broker, topics as declared and a second run, is tests/integration/test_create_topics.py."""
    script = load_module(DEPLOY / "create_topics.py")
    calls: list[dict[str, Any]] = []

    def fake_ensure(bootstrap: str, **kwargs: Any) -> None:
        calls.append({"bootstrap": bootstrap, **kwargs})

    class FakeAdmin:
        def __init__(self, **_: Any) -> None:
            pass

        def wait_for_topics(self, names: list[str], timeout_ms: int) -> None:
            pass

        def describe_topics(self, names: list[str]) -> list[dict[str, Any]]:
            specs = calls[-1]["wire"].topics()
            return [{"name": n, "partitions": [{}] * specs[n].partitions(5)} for n in names]

        def close(self) -> None:
            pass

    monkeypatch.setattr(script, "ensure_topics", fake_ensure)
    monkeypatch.setattr("kafka.KafkaAdminClient", FakeAdmin)  # kafka_client.admin builds it
    monkeypatch.setenv("SCHAKEL_KAFKA_BOOTSTRAP", "kafka:9092")
    monkeypatch.setenv("SCHAKEL_PARTITIONS", "5")
    monkeypatch.setenv("SCHAKEL_REPLICATION_FACTOR", "3")  # not ensure_topics' default (1)
    assert script.main() == 0
    assert calls[0]["bootstrap"] == "kafka:9092"
    assert calls[0]["partitions"] == 5 and calls[0]["replication_factor"] == 3
    assert calls[0]["wire"] == Wire()
    monkeypatch.setenv("SCHAKEL_NAMESPACE", "gemeente-a")
    assert script.main() == 0
    assert calls[1]["wire"] == Wire("gemeente-a")
    monkeypatch.delenv("SCHAKEL_KAFKA_BOOTSTRAP")
    assert script.main() == 2
    assert len(calls) == 2


def test_create_topics_connects_to_kafka_as_the_settings_say(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The Helm Job's ``topics`` step against a secured Kafka: both admin clients get the
    security, and it is checked for a refusal first. The admin and the check are stand-ins;
    the real runs are tests/integration/test_create_topics.py (plaintext) and
    tests/integration/test_kafka_security.py (SASL_SSL, mutual TLS, refusals)."""
    script = load_module(DEPLOY / "create_topics.py")
    monkeypatch.setattr(kafka_client, "_installed", [kafka_client.PLAINTEXT])
    admins: list[dict[str, Any]] = []
    ensured: list[dict[str, Any]] = []
    checked: list[tuple[str, kafka_client.KafkaSecurity]] = []

    class FakeAdmin:
        def __init__(self, **kwargs: Any) -> None:
            admins.append(kwargs)

        def wait_for_topics(self, names: list[str], timeout_ms: int) -> None:
            pass

        def describe_topics(self, names: list[str]) -> list[dict[str, Any]]:
            specs = Wire().topics()
            return [{"name": n, "partitions": [{}] * specs[n].partitions(3)} for n in names]

        def close(self) -> None:
            pass

    def fake_ensure(bootstrap: str, **_: Any) -> None:
        ensured.append(kafka_client.current().kafka_python())

    monkeypatch.setattr(script, "ensure_topics", fake_ensure)
    monkeypatch.setattr("kafka.KafkaAdminClient", FakeAdmin)  # kafka_client.admin builds it
    monkeypatch.setattr(
        kafka_client,
        "check_accepted",
        lambda bootstrap, security, _: checked.append((bootstrap, security)),
    )
    for name in [k for k in os.environ if k.startswith("SCHAKEL_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("SCHAKEL_KAFKA_BOOTSTRAP", "kafka:9093")
    monkeypatch.setenv("SCHAKEL_PARTITIONS", "3")
    monkeypatch.setenv("SCHAKEL_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("SCHAKEL_KAFKA_SASL_MECHANISM", "SCRAM-SHA-256")
    monkeypatch.setenv("SCHAKEL_KAFKA_SASL_USERNAME", "schakel")
    monkeypatch.setenv("SCHAKEL_KAFKA_SASL_PASSWORD", "kafka-geheim")
    assert script.main() == 0, capsys.readouterr().err
    for options in (*ensured, *admins):
        assert options["security_protocol"] == "SASL_SSL"
        assert options["sasl_mechanism"] == "SCRAM-SHA-256"
        assert options["sasl_plain_username"] == "schakel"
        assert options["sasl_plain_password"] == "kafka-geheim"
        assert options["ssl_context"] is not None
    assert len(ensured) == len(admins) == 1
    assert checked == [("kafka:9093", kafka_client.current())]
    # a SASL protocol without its password: a configuration error naming the variable
    monkeypatch.delenv("SCHAKEL_KAFKA_SASL_PASSWORD")
    assert script.main() == 2
    err = capsys.readouterr().err
    assert "SCHAKEL_KAFKA_SASL_PASSWORD" in err and "kafka-geheim" not in err


def test_compose_creates_the_declared_topics_in_the_namespace_every_process_uses() -> None:
    services = schakel_services(COMPOSE, DEV)
    (job,) = [s for s in services.values() if s.script == f"{SCRIPT_DIR}create_topics.py"]
    assert {str(s.setting("namespace")) for s in services.values()} == {
        str(job.setting("namespace"))
    }, "every process must use the namespace whose topics the `topics` job creates"
    wire = Wire(str(job.setting("namespace")))
    partitions = int(job.setting("partitions"))
    replication = int(job.setting("replication_factor"))
    created = new_topics(wire, partitions=partitions, replication_factor=replication)
    assert set(created) == set(wire.topics()) and len(created) == len(TOPICS)
    for name, spec in wire.topics().items():
        topic = created[name]
        assert topic["num_partitions"] == (partitions if spec.co_partitioned else 1), name
        assert topic["replication_factor"] == replication, name
        assert topic["configs"]["cleanup.policy"] == spec.cleanup_policy, name
        assert 1 <= int(topic["configs"]["min.insync.replicas"]) <= replication, name
    brokers = [s for s in compose_services(COMPOSE).values() if "KAFKA_NODE_ID" in environment(s)]
    assert replication <= len(brokers), "more replicas than brokers in the Compose file"
    broker = environment(brokers[0])
    assert broker["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    if any(t.cleanup_policy == "delete" and t.retention_ms is None for t in TOPICS):
        # declared as "the broker's retention": the municipality's policy, set explicitly
        # (Kafka's own default of 7 days would silently drop the history a replay needs)
        assert {"KAFKA_LOG_RETENTION_HOURS", "KAFKA_LOG_RETENTION_MS"} & set(broker)


def test_every_schakel_service_resolves_the_shared_settings_when_they_are_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With NAMESPACE (and every other variable of x-schakel-env) set, every Schakel service
    of both Compose files gets the values of the shared settings: a service with an
    environment of its own (the dev overlay's demo-wijkteam) that left SCHAKEL_NAMESPACE out
    would publish to the default namespace's topics, which no worker reads."""
    base = load_yaml(COMPOSE)["x-schakel-env"]
    # every Compose variable the shared settings use, each set to a value of its own
    used = {m for v in base.values() for m in re.findall(r"\$\{(\w+)", str(v))}
    assert {"NAMESPACE", "LOG_LEVEL", "PARTITIONS", "REPLICATION_FACTOR"} <= used
    given = {"NAMESPACE": "utrecht", "LOG_LEVEL": "DEBUG", "PARTITIONS": "6"}
    given |= dict.fromkeys(used - set(given) - set(COMPOSE_ENV), "3")
    for name, value in given.items():
        monkeypatch.setitem(COMPOSE_ENV, name, value)
    shared = {str(k): interpolate(str(v)) for k, v in base.items()}
    assert shared["SCHAKEL_NAMESPACE"] == "utrecht"
    services = schakel_services(COMPOSE, DEV)
    assert "demo-wijkteam" in services
    wrong = [
        f"{service.name}: {variable}={service.env.get(variable)!r}, the stack's is {value!r}"
        for service in services.values()
        for variable, value in shared.items()
        if service.env.get(variable) != value
    ]
    assert not wrong, "\n".join(wrong)
    assert {str(s.setting("namespace")) for s in services.values()} == {"utrecht"}


# === tests: Prometheus and alerts ===============================================================


def test_prometheus_scrapes_every_long_running_schakel_process_on_its_port() -> None:
    services = schakel_services(COMPOSE)
    scraped: dict[str, int] = {}
    for job in scrape_jobs().values():
        for sd in job.get("dns_sd_configs") or []:
            assert sd["type"] == "A"
            for name in sd["names"]:
                assert name not in scraped, f"{name} is scraped twice"
                scraped[name] = int(sd["port"])
    expected = {s.name: int(s.setting(PORT_SETTING[s.kind])) for s in services.values() if s.kind}
    assert scraped == expected
    worker_job = scrape_jobs()["schakel-worker"]
    assert "static_configs" not in worker_job, "scaled workers are found through DNS"


def test_prometheus_loads_the_alerts_from_its_mounted_directory() -> None:
    """The config from deploy/prometheus, the alerts from the Helm chart's file (one copy for
    Compose and the chart's PrometheusRule), each through a bind mount of Compose."""
    prometheus = compose_services(COMPOSE)["prometheus"]
    mounts = bind_mounts(prometheus)
    assert mounts.get("./deploy/prometheus") == "/etc/prometheus"
    config_flags = [c for c in prometheus["command"] if c.startswith("--config.file=")]
    assert config_flags == ["--config.file=/etc/prometheus/prometheus.yml"]
    loaded = []
    for rule_file in load_yaml(PROMETHEUS)["rule_files"]:
        (host,) = [
            ROOT / source / Path(rule_file).relative_to(target)
            for source, target in mounts.items()
            if Path(rule_file).is_relative_to(target)
        ]
        assert host.is_file(), f"{rule_file}: nothing mounted there ({host})"
        loaded.append(host.resolve())
    assert loaded == [ALERTS]


def test_every_metric_in_the_alerts_exists() -> None:
    known = known_metric_names()
    jobs = set(scrape_jobs())
    names = [rule["alert"] for rule in alert_rules()]
    assert len(names) == len(set(names))
    for rule in alert_rules():
        expr = str(rule["expr"])
        unknown = metric_tokens(expr) - known
        assert not unknown, f"{rule['alert']}: unknown metrics {unknown}"
        assert balanced(expr), f"{rule['alert']}: unbalanced parentheses"
        for values in re.findall(r'\bjob=~?"([^"]+)"', expr):
            assert set(values.split("|")) <= jobs, f"{rule['alert']}: unknown job in {values}"
        assert rule["labels"]["severity"] in ("critical", "warning")
        assert rule["annotations"]["summary"]


def test_the_alerts_cover_the_failure_modes() -> None:
    exprs = {rule["alert"]: str(rule["expr"]) for rule in alert_rules()}

    def covered(needle: str) -> bool:
        return any(needle in expr for expr in exprs.values())

    assert covered("schakel_worker_deadlettered_total")
    assert covered("schakel_adapter_records_rejected_total")
    assert covered("schakel_adapter_last_success_timestamp_seconds")
    assert covered("schakel_worker_consumer_lag_records")
    assert covered("schakel_worker_broker_reachable")
    assert covered('up{job="schakel-worker"} == 0')


# === tests: Grafana =============================================================================


def test_every_metric_on_the_dashboard_exists_and_the_required_panels_are_there() -> None:
    known = known_metric_names()
    exprs = dashboard_exprs()
    used = set().union(*(metric_tokens(e) for e in exprs))
    assert not used - known, f"unknown metrics on the dashboard: {sorted(used - known)}"
    assert all(balanced(e) for e in exprs)
    required = {
        "schakel_worker_events_total",
        "schakel_worker_duplicates_total",
        "schakel_worker_deadlettered_total",
        "schakel_worker_signals_raised_total",
        "schakel_worker_signals_resolved_total",
        "schakel_worker_signals_withdrawn_total",
        "schakel_worker_signals_open",
        "schakel_worker_processing_seconds_bucket",
        "schakel_worker_consumer_lag_records",
        "schakel_adapter_records_read_total",
        "schakel_adapter_records_published_total",
        "schakel_adapter_records_rejected_total",
        "schakel_adapter_last_success_timestamp_seconds",
    }
    assert required <= used, f"missing on the dashboard: {sorted(required - used)}"
    assert any("histogram_quantile(0.95" in e for e in exprs)
    assert any("histogram_quantile(0.5" in e for e in exprs)
    jobs = set(scrape_jobs())
    for expr in exprs:
        for values in re.findall(r'\bjob=~?"([^"]+)"', expr):
            assert set(values.split("|")) <= jobs


_INCREASE = re.compile(r"\bincrease\((schakel_[a-z0-9_]+)\[([^\]]+)\]\)")
_WINDOW_SECONDS = {"$__rate_interval": "$__rate_interval_ms / 1000", "15m": "900", "30m": "1800"}
_WINDOW_SECONDS["24h"] = "86400"


def counts_first_occurrences(expr: str) -> list[str]:
    """The ``increase(M[W])`` of ``expr`` that do not stand in the form that counts a
    series' first increment without taking an old value for new::

        (M and on (job, instance) (time() - process_start_time_seconds < W in seconds))
        or ((M unless M offset W) and on (job, instance)
            (process_start_time_seconds offset W == process_start_time_seconds))
        or increase(M[W])

    A counter's series (a new stage and reason, a reason, a rule) appears at its first
    increment, already at 1, and increase() counts nothing before a series' first sample:
    alone it reads 0 for the first dead letter, rejection or signal of a kind. The reasons
    are no closed set (an error's class), so the series cannot all be made at 0 at start.
    ``M unless M offset W`` alone also took a series missing W ago for a failed scrape, a
    Prometheus restart or less history for new, its whole value counted (review finding):
    it counts only for the same process scraped W ago; a process younger than W counts
    whole."""
    flat = " ".join(expr.split())
    wrong = []
    for metric, window in _INCREASE.findall(flat):
        young = (
            f"({metric} and on (job, instance) (time() - process_start_time_seconds"
            f" < {_WINDOW_SECONDS[window]}))"
        )
        same = (
            f"(({metric} unless {metric} offset {window}) and on (job, instance)"
            f" (process_start_time_seconds offset {window} == process_start_time_seconds))"
        )
        if f"{young} or {same} or increase({metric}[{window}])" not in flat:
            wrong.append(f"increase({metric}[{window}])")
    return wrong


def test_counts_on_the_dashboard_and_in_the_alerts_include_a_new_series_first_increment() -> None:
    """The dashboard's "Dead letters (24 h)", "Dead letters by stage and reason", "Records
    rejected by reason" and the signals-per-rule panels used plain increase(): a new (stage,
    reason) read 0; then ``(M unless M offset W) or increase(M[W])``, which showed a
    counter's whole value after one failed scrape W ago (promtool cases: test_alerts_promtool,
    tests/unit/prometheus/alerts.test.yml)."""
    exprs = {f"dashboard: {expr}": expr for expr in dashboard_exprs()}
    exprs |= {f"alert {rule['alert']}": str(rule["expr"]) for rule in alert_rules()}
    assert any("increase(" in expr for expr in exprs.values())
    plain = {where: bad for where, expr in exprs.items() if (bad := counts_first_occurrences(expr))}
    assert not plain, plain


def test_every_process_that_exports_a_counter_exports_its_start_time() -> None:
    """The counting form above asks ``process_start_time_seconds`` of the same target: the
    worker's registry and the adapters' (the default registry, which the adapters' and the
    webhook's /metrics serve) have it."""
    from prometheus_client import REGISTRY, generate_latest

    from adapters.metrics import default_metrics
    from streams.metrics import WorkerMetrics

    default_metrics()
    for registry in (WorkerMetrics().registry, REGISTRY):
        exposed = generate_latest(registry).decode()
        assert re.search(r"^process_start_time_seconds \d", exposed, re.M), exposed[:200]


def test_dashboard_panels_use_the_provisioned_data_source() -> None:
    datasources = load_yaml(DATASOURCES)["datasources"]
    uids = {d["uid"] for d in datasources}
    assert len(datasources) == 1 and datasources[0]["url"] == "http://prometheus:9090"
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    ids = []
    for panel in dashboard_panels(dashboard["panels"]):
        ids.append(panel["id"])
        grid = panel["gridPos"]
        assert grid["x"] >= 0 and grid["x"] + grid["w"] <= 24, panel["title"]
        if panel["type"] == "row":
            continue
        assert panel["datasource"]["uid"] in uids, panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] in uids, panel["title"]
    assert len(ids) == len(set(ids)), "panel ids must be unique"


def test_grafana_provisions_the_dashboard_directory_that_compose_mounts() -> None:
    grafana = compose_services(COMPOSE)["grafana"]
    mounts = bind_mounts(grafana)
    assert mounts["./deploy/grafana/provisioning"] == "/etc/grafana/provisioning"
    (provider,) = load_yaml(DASHBOARD_PROVIDERS)["providers"]
    assert mounts["./deploy/grafana/dashboards"] == provider["options"]["path"]
    assert "grafana_admin_password" in grafana["secrets"]


# === tests: publiccode.yml ======================================================================


def test_publiccode_yml_follows_the_standard_and_the_project() -> None:
    code = load_yaml(ROOT / "publiccode.yml")
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert code["publiccodeYmlVersion"] == "0.4"
    for key in ("name", "url", "platforms", "categories", "developmentStatus", "softwareType"):
        assert code[key], key
    assert code["softwareVersion"] == __version__
    assert code["legal"]["license"] == pyproject["project"]["license"] == "EUPL-1.2"
    assert code["developmentStatus"] in ("concept", "development", "beta", "stable", "obsolete")
    assert code["intendedAudience"]["countries"] == ["nl"]
    assert "nl" in code["description"]
    for lang, text in code["description"].items():
        assert len(text["shortDescription"]) <= 150, lang
        assert 150 <= len(text["longDescription"]) <= 10000, lang
        assert text["features"], lang
    assert code["maintenance"]["type"] in ("internal", "contract", "community", "none")
    assert code["localisation"]["availableLanguages"]


def test_compose_runs_the_kafka_release_and_broker_settings_the_tests_run() -> None:
    from schakel.kafka_cluster import broker_settings, kafka_version

    kafka = compose_services(COMPOSE)["kafka"]
    assert kafka["image"] == f"apache/kafka:{kafka_version()}"
    env = environment(kafka)
    # the image reads KAFKA_<NAME> as the broker setting <name> with "_" for "."
    settings = {
        name.removeprefix("KAFKA_").lower().replace("_", "."): value
        for name, value in env.items()
        if name.startswith("KAFKA_")
    }
    node = {  # this node's identity and addresses: the launcher writes its own
        "node.id",
        "process.roles",
        "listeners",
        "advertised.listeners",
        "listener.security.protocol.map",
        "inter.broker.listener.name",
        "controller.listener.names",
        "controller.quorum.voters",
        "log.dirs",
    }
    assert node <= settings.keys()
    tested = broker_settings(1)
    assert {k: v for k, v in settings.items() if k not in node} == tested
