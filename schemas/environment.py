"""What a process's environment says about its settings beyond their values, checked at start
(``schakel.cli.started``, ``deploy/create_topics.py``): ``SCHAKEL_*`` variables no process
reads (:func:`unknown_variables`: a warning, or a refusal for a misspelt security setting),
secrets of other processes (:func:`foreign_secrets`), and TLS files given to a connection
without TLS (:func:`kafka_files_without_tls`, :func:`registry_files_without_tls`). Messages
name variables and rules, never a value."""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import get_args
from urllib.parse import urlsplit

from pydantic import SecretStr

from schemas.exceptions import SettingsError
from schemas.settings import ENV_PREFIX, TLS_FILES, CommonSettings, Settings

SECURITY_SETTINGS = frozenset(
    {
        "kafka_security_protocol",
        "kafka_ca_file",
        "kafka_cert_file",
        "kafka_key_file",
        "kafka_sasl_mechanism",
        "kafka_sasl_username",
        "kafka_sasl_password",
        "kafka_sasl_password_file",
        "schema_registry_auth",
        "schema_registry_token",
        "schema_registry_ca_file",
        "schema_registry_cert_file",
        "schema_registry_key_file",
    }
)
"""How Kafka's and the registry's connections are secured: settings whose default is the
weaker choice — no TLS (``PLAINTEXT``), the system's CA store, no client certificate, no
credentials. A misspelling of one stops the start (:func:`unknown_variables`)."""

NOT_SETTINGS = frozenset(
    {
        # tests/integration/reliability/trials.py: the trials' sizes and seed (`make
        # reliability` sets them), in the environment of the workers the trials start
        "SCHAKEL_FAILOVER_TRIALS",
        "SCHAKEL_EOS_KILLS",
        "SCHAKEL_BACKLOG",
        "SCHAKEL_RELIABILITY_TIMEOUT",
        "SCHAKEL_TRIAL_SEED",
        # tests/integration/adapters/conftest.py: the user the test's PostgreSQL runs as
        "SCHAKEL_TEST_PG_USER",
    }
)
"""``SCHAKEL_*`` variables that are no setting and no mistake: the test suite's own, which
reach the processes the tests start. tests/unit/test_start_checks.py keeps the list equal to
what the repository sets or reads."""

_SERVICE_LINK = re.compile(
    r"_(?:SERVICE_HOST|SERVICE_PORT(?:_\w+)?|PORT(?:_\d+_(?:TCP|UDP|SCTP)(?:_(?:PROTO|PORT|ADDR))?)?)$"
)
"""The variables Kubernetes sets in a pod for each Service of its namespace (service links,
unless the pod spec says ``enableServiceLinks: false``, as the Helm chart's do): a Service
named ``schakel-kafka`` gives ``SCHAKEL_KAFKA_PORT``, ``SCHAKEL_KAFKA_SERVICE_HOST``, … Docker's
legacy ``--link`` sets the same ``<ALIAS>_PORT…`` names, and :data:`_DOCKER_LINK` its others."""

_DOCKER_LINK = re.compile(r"_ENV_\w+$")
"""``<ALIAS>_ENV_<VAR>``: a variable of a container linked with Docker's ``--link`` (a
container named ``schakel_kafka`` gives ``SCHAKEL_KAFKA_ENV_…``). Its ``<ALIAS>_NAME`` is one
by its value (:data:`_DOCKER_LINK_NAME`): a name ending in ``_NAME`` may be a misspelling of
``SCHAKEL_KAFKA_SASL_USERNAME``."""

_DOCKER_LINK_NAME = re.compile(r"/[\w.-]+/[\w.-]+")
"""The value Docker gives ``<ALIAS>_NAME``: ``/<container>/<alias>``."""

NEAR_TYPO = 0.86
"""How much a name must resemble an unset security setting for the start to stop
(:func:`unknown_variables`): difflib's ratio, on the names without ``SCHAKEL_``. A typing error
or two scores 0.88-0.98 (``KAFKA_SECURITY_PROTCOL``, ``KAFKA_CA_FIEL``, ``KAFKA_SASL_USER``);
another program's setting that merely shares ``KAFKA_`` scores 0.60-0.85
(``KAFKA_VERSION``, ``KAFKA_CLIENT_ID``, ``SCHEMA_REGISTRY_HOST`` at 0.85 exactly)."""


@dataclass(frozen=True)
class UnknownVariable:
    """A ``SCHAKEL_*`` variable of the environment that no process reads: its name as given
    (never its value), the variable of the setting it resembles most (``None``: none does),
    whether the platform set it (a Kubernetes service link or a Docker link), and whether it
    stops the start."""

    name: str
    closest: str | None
    service_link: bool = False
    refused: bool = False

    def hint(self) -> str:
        """What to do about it, for the log line."""
        if self.service_link:
            return (
                "a link to a Service or container named like it: set enableServiceLinks: false "
                "in the Kubernetes pod spec, or use a network instead of Docker's --link"
            )
        if self.closest is not None:
            return f"no process reads it: did you mean {self.closest}?"
        return "no process reads it: remove it"

    def warning(self) -> str:
        """One line for ``schakel config``."""
        closest = f" (closest: {self.closest})" if self.closest is not None else ""
        link = " (a Kubernetes service link or Docker link?)" if self.service_link else ""
        return f"{self.name}: no Schakel setting of this name, ignored{closest}{link}"

    def refusal(self) -> SettingsError:
        """Why the start stops (:attr:`refused`), naming both variables."""
        field = str(self.closest).removeprefix(ENV_PREFIX).lower()
        default = Settings.model_fields[field].default
        shown = f" ({default})" if default is not None else " (none)"
        return SettingsError(
            f"{self.name}: no Schakel setting of this name, and {self.closest}, which it "
            f"resembles, is unset: the connection would be made with the default{shown}, less "
            f"secure than meant; rename the variable to {self.closest}, or remove it"
        )


def _forms(field: str) -> set[str]:
    """``field`` and the other form of the same setting: ``<field>_file`` (the password in a
    file), or without ``_file``; those that are settings."""
    return {field, f"{field}_file", field.removesuffix("_file")} & set(Settings.model_fields)


def _platform_link(name: str, value: str) -> bool:
    """Whether ``name`` (in capitals) is a variable Kubernetes or Docker sets for a link."""
    if _SERVICE_LINK.search(name) or _DOCKER_LINK.search(name):
        return True
    return name.endswith("_NAME") and _DOCKER_LINK_NAME.fullmatch(value) is not None


_GENERIC_WORDS = frozenset({"kafka", "schema", "registry", "file"})


def _shortened(name: str, setting: str) -> bool:
    """``name`` is ``setting`` with words left out (``kafka_password`` of
    ``kafka_sasl_password``, ``security_protocol`` of ``kafka_security_protocol``,
    ``registry_token``): every word of it is one of the setting's, and one of them is not
    merely where the setting belongs (:data:`_GENERIC_WORDS`) — what an operator who
    remembered the setting half writes, whatever difflib's ratio."""
    words = set(name.split("_"))
    return words <= set(setting.split("_")) and bool(words - _GENERIC_WORDS)


def unknown_variables(
    model: type[CommonSettings], environ: Mapping[str, str] | None = None
) -> list[UnknownVariable]:
    """The ``SCHAKEL_*`` variables of ``environ`` (default: this process's) that no process
    reads — no field of :class:`Settings`, not one of :data:`NOT_SETTINGS` — by name, each with
    the setting it resembles most (:func:`difflib.get_close_matches`, its cutoff 0.6, on the
    names without ``SCHAKEL_``, as pydantic-settings reads them: regardless of case).

    A warning each, for the process that ``model`` is the settings of, but one stops the start
    (``refused``): a near-typo of a :data:`SECURITY_SETTINGS` setting that ``model`` reads and
    that is set in neither of its forms (``SCHAKEL_KAFKA_SASL_PASSWORD`` or ``…_FILE``,
    :func:`_forms`). The rule: the setting it resembles most is that one, and difflib's ratio
    of the two names without ``SCHAKEL_`` is at least :data:`NEAR_TYPO` (0.86), or the name is
    the setting's with words left out (:func:`_shortened`: ``SCHAKEL_KAFKA_PASSWORD``,
    ``SCHAKEL_SECURITY_PROTOCOL``, whose ratios are lower). That process
    would run with the weaker default without a word — e.g.
    ``SCHAKEL_KAFKA_SECURITY_PROTCOL=SSL`` leaves the protocol ``PLAINTEXT``, and pseudonymised
    citizen data crosses the network in the clear — which no log line makes good. Every other
    unknown name is a warning: a setting renamed in an upgrade keeps the process running (with
    the default, said at every start), and so do a leftover beside the setting meant and
    another program's variable merely like a setting (``SCHAKEL_KAFKA_VERSION``). A variable
    the platform sets for a link (:func:`_platform_link`: a Kubernetes service link, Docker's
    ``--link``) is never refused: the operator did not write it."""
    source = os.environ if environ is None else environ
    given = {name.upper().removeprefix(ENV_PREFIX).lower() for name in source}
    fields = list(Settings.model_fields)
    out = []
    for name in sorted(source):
        upper = name.upper()
        suffix = upper.removeprefix(ENV_PREFIX).lower()
        if not upper.startswith(ENV_PREFIX) or upper in NOT_SETTINGS or suffix in fields:
            continue
        match = difflib.get_close_matches(suffix, fields, n=1)
        closest = match[0] if match else None
        link = _platform_link(upper, source[name])
        refused = (
            closest in SECURITY_SETTINGS
            and closest in model.model_fields
            and (
                difflib.SequenceMatcher(None, suffix, closest).ratio() >= NEAR_TYPO
                or _shortened(suffix, closest)
            )
            and not _forms(closest) & given
            and not link
        )
        shown = f"{ENV_PREFIX}{closest.upper()}" if closest is not None else None
        out.append(UnknownVariable(name, shown, link, bool(refused)))
    return out


def secret_fields() -> frozenset[str]:
    """The settings that hold a secret: every ``SecretStr`` field of :class:`Settings`, and
    the file that may hold it instead (``<field>_file``: the key file is what reaches the
    process that can read it)."""
    found = set()
    for name, info in Settings.model_fields.items():
        if SecretStr in (info.annotation, *get_args(info.annotation)):
            found.add(name)
            if f"{name}_file" in Settings.model_fields:
                found.add(f"{name}_file")
    return frozenset(found)


def foreign_secrets(
    model: type[CommonSettings], environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The secrets (:func:`secret_fields`) in ``environ`` (default: this process's) that the
    process whose settings are ``model`` does not read: variable as given → field. Settings
    are per process so that a secret reaches only the processes that use it; one here reached
    another (a deployment's mistake: the process ignores it, but it is in its environment, for
    whatever can read that)."""
    source = os.environ if environ is None else environ
    theirs = secret_fields() - set(model.model_fields)
    return {
        name: field
        for name in sorted(source)
        if name.upper().startswith(ENV_PREFIX)
        and (field := name.upper().removeprefix(ENV_PREFIX).lower()) in theirs
    }


def _are_set(names: list[str]) -> str:
    """``A is set``, ``A and B are set``, ``A, B and C are set``."""
    if len(names) == 1:
        return f"{names[0]} is set"
    return f"{', '.join(names[:-1])} and {names[-1]} are set"


def _files_set(settings: CommonSettings, connection: str) -> list[str]:
    """The variables of the TLS files of ``connection`` (``kafka_``, ``schema_registry_``)
    that ``settings`` set."""
    return [
        f"{ENV_PREFIX}{name.upper()}"
        for name in TLS_FILES
        if name.startswith(connection) and getattr(settings, name) is not None
    ]


def kafka_files_without_tls(settings: CommonSettings) -> SettingsError | None:
    """Kafka's TLS files set while SCHAKEL_KAFKA_SECURITY_PROTOCOL uses no TLS (``PLAINTEXT``,
    ``SASL_PLAINTEXT``): the files were checked as if they mattered and the connections went
    out unencrypted — an operator who meant TLS and forgot the protocol sent pseudonymised
    citizen data in the clear. No deployment of this repository sets both (the Helm chart
    refuses ``secrets.kafkaTls`` without TLS as well), so this is a refusal, not a warning;
    ``None`` when they agree. The message names the settings and the protocol, no path."""
    files = _files_set(settings, "kafka_")
    protocol = settings.kafka_security_protocol
    if not files or protocol in ("SSL", "SASL_SSL"):
        return None
    tls = "SASL_SSL" if protocol == "SASL_PLAINTEXT" else "SSL (or SASL_SSL)"
    return SettingsError(
        f"{_are_set(files)}, but {ENV_PREFIX}KAFKA_SECURITY_PROTOCOL={protocol} uses no TLS: "
        f"Kafka's connections would go out unencrypted; set {ENV_PREFIX}KAFKA_SECURITY_PROTOCOL "
        f"to {tls} for TLS, or unset {', '.join(files)} for a plaintext connection"
    )


def registry_files_without_tls(settings: CommonSettings) -> SettingsError | None:
    """The registry's TLS files set while SCHAKEL_SCHEMA_REGISTRY_URL names an ``http://``
    registry (one of its URLs): that connection goes out unencrypted, its credentials with
    it, the files unused. A refusal as :func:`kafka_files_without_tls` (the Helm chart
    refuses the same); ``None`` when they agree or no registry is configured (the files are
    unused then, and nothing is sent). The message never shows the URL (it may hold a
    password)."""
    files = _files_set(settings, "schema_registry_")
    url = settings.schema_registry_url
    if not files or url is None:
        return None
    if not any(urlsplit(item.strip()).scheme.lower() == "http" for item in url.split(",")):
        return None
    return SettingsError(
        f"{_are_set(files)}, but {ENV_PREFIX}SCHEMA_REGISTRY_URL names an http:// registry: "
        "its connection would go out unencrypted, credentials and all; give every registry "
        f"URL as https://, or unset {', '.join(files)} for a plaintext registry"
    )
