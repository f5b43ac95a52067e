"""A Confluent-compatible schema registry, reached with confluent-kafka's
``SchemaRegistryClient`` (the reference client; it speaks to Confluent Schema Registry,
Karapace and Apicurio's ``/apis/ccompat/v7`` API alike).

What this module adds to the client, and what it promises:

- **Connection** (:class:`RegistryConnection`, from the ``SCHAKEL_SCHEMA_REGISTRY_*``
  settings): basic auth *or* a bearer token, a CA bundle, a client certificate and key, a
  retry budget. Credentials never appear in a message; the URL is shown without user info.
  Its files are checked when it is made (:mod:`schemas.tls_files`: missing, not PEM, a key
  that is encrypted or not the certificate's — a
  :class:`~schemas.exceptions.SettingsError` naming the variable and the path); the CLI
  does so at start for every process that talks to a configured registry.
- **Retries.** A request that fails before an answer (connection refused or reset, timeout,
  TLS) or is answered 408, 429 or 5xx is retried by the client with exponential backoff and
  full jitter (first wait up to ``retry_wait_ms``, doubling, at most ``retry_max_wait_ms``),
  ``retries`` times. After the budget: :class:`~schemas.exceptions.RegistryUnavailable`
  (transient). Any other answer is not retried: a
  :class:`~schemas.exceptions.RegistryRefused` subclass (permanent) for 401/403, 404, 409 and
  422, naming the subject (or schema id) and the HTTP status, never the schema text.
- **Fork.** A process forked from one that uses a :class:`ConfluentRegistry` (the batch
  path's worker processes, :mod:`streams.batch_jobs`) may use it: its first request there opens
  a client of its own; the inherited one, whose connections the parent still uses, is never
  used nor closed in the child.
- **No auto-registration.** :meth:`ConfluentRegistry.lookup` (what every writer calls) asks
  ``POST /subjects/{subject}``, which returns the id of an already registered schema and
  registers nothing. Only the deploy job registers (:meth:`ConfluentRegistry.register` and
  :meth:`ConfluentRegistry.set_compatibility`, used by ``schakel schemas register``).
"""

from __future__ import annotations

import json
import os
import re
import ssl
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.common._httpx_compat import httpx
from confluent_kafka.schema_registry.error import SchemaRegistryError

from schemas.exceptions import (
    RegistryError,
    RegistryIncompatible,
    RegistryInvalidSchema,
    RegistryNotFound,
    RegistryRefused,
    RegistryUnauthorized,
    RegistryUnavailable,
    SettingsError,
    UnknownSchemaId,
)
from schemas.registry import SchemaRegistry
from schemas.tls_files import check_tls_files

if TYPE_CHECKING:
    from schemas.settings import CommonSettings

_TRANSIENT_STATUS = frozenset({408, 429})
_REFUSALS: dict[int, type[RegistryRefused]] = {
    401: RegistryUnauthorized,
    403: RegistryUnauthorized,
    404: RegistryNotFound,
    409: RegistryIncompatible,
    422: RegistryInvalidSchema,
}
_HINTS = {  # Confluent error codes → what they mean for an operator
    40401: "subject not registered",
    40402: "version not registered",
    40403: "schema not registered under this subject",
    40408: "subject has no compatibility level of its own",
    42201: "invalid schema",
    42202: "invalid version",
    42203: "invalid compatibility level",
    42205: "operation not permitted in the registry's current mode (read-only?)",
}
_DEPLOY_HINT = "register the schemas with the deploy job `schakel schemas register`"


def canonical_text(schema: Mapping[str, Any]) -> str:
    """The schema text sent to the registry: compact JSON with sorted keys (the same text for
    registration and every lookup, so the registry matches them exactly)."""
    return json.dumps(schema, separators=(",", ":"), sort_keys=True)


@dataclass(frozen=True)
class RegistryConnection:
    """How to reach the registry. ``basic_auth`` is ``user:password``; set it or ``token``,
    not both. ``ca_file`` verifies the registry's certificate (default: the certifi bundle);
    ``cert_file`` and ``key_file`` are a client certificate for mutual TLS."""

    url: str
    basic_auth: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    retries: int = 3
    retry_wait_ms: int = 1000
    retry_max_wait_ms: int = 20000
    timeout_s: float = 10.0

    def __post_init__(self) -> None:
        if self.basic_auth is not None and self.token is not None:
            raise SettingsError(
                "SCHAKEL_SCHEMA_REGISTRY_AUTH and SCHAKEL_SCHEMA_REGISTRY_TOKEN: set one, not both"
            )
        if self.basic_auth is not None and ":" not in self.basic_auth:
            raise SettingsError("SCHAKEL_SCHEMA_REGISTRY_AUTH: expected user:password")
        check_tls_files("SCHAKEL_SCHEMA_REGISTRY_", self.ca_file, self.cert_file, self.key_file)

    @classmethod
    def from_settings(cls, settings: CommonSettings) -> RegistryConnection:
        """The connection the settings describe (``SCHAKEL_SCHEMA_REGISTRY_*``)."""
        if not settings.schema_registry_url:
            raise SettingsError("SCHAKEL_SCHEMA_REGISTRY_URL: not set")
        auth, token = settings.schema_registry_auth, settings.schema_registry_token
        return cls(
            url=settings.schema_registry_url,
            basic_auth=auth.get_secret_value() if auth is not None else None,
            token=token.get_secret_value() if token is not None else None,
            ca_file=settings.schema_registry_ca_file,
            cert_file=settings.schema_registry_cert_file,
            key_file=settings.schema_registry_key_file,
            retries=settings.schema_registry_retries,
        )

    @property
    def where(self) -> str:
        """The URL(s) without user info, path or query: safe to show."""
        parts = (urlsplit(u.strip()) for u in self.url.split(","))
        return ",".join(
            f"{p.scheme}://{_bracketed(p.hostname)}" + (f":{p.port}" if p.port else "")
            for p in parts
        )

    def client_config(self) -> dict[str, Any]:
        """Configuration of confluent-kafka's ``SchemaRegistryClient``."""
        config: dict[str, Any] = {
            "url": self.url,
            "max.retries": self.retries,
            "retries.wait.ms": self.retry_wait_ms,
            "retries.max.wait.ms": self.retry_max_wait_ms,
            "timeout": self.timeout_s,
        }
        if self.basic_auth is not None:
            config["basic.auth.user.info"] = self.basic_auth
        if self.token is not None:
            # A static bearer token. The client requires a logical cluster (Confluent Cloud's
            # ``target-sr-cluster``); other registries ignore the empty value.
            config["bearer.auth.credentials.source"] = "STATIC_TOKEN"
            config["bearer.auth.token"] = self.token
            config["bearer.auth.logical.cluster"] = ""
        if self.ca_file is not None:
            config["ssl.ca.location"] = str(self.ca_file)
        if self.cert_file is not None:
            config["ssl.certificate.location"] = str(self.cert_file)
        if self.key_file is not None:
            config["ssl.key.location"] = str(self.key_file)
        return config


def _bracketed(host: str | None) -> str:
    """``host`` as a URL writes it: an IPv6 address in brackets."""
    return f"[{host}]" if host is not None and ":" in host else str(host)


def _tls_error(exc: BaseException) -> ssl.SSLError | None:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def _incompatibility_detail(message: str) -> str:
    """From a registry's 409 message, only the error types and paths (Confluent's message also
    quotes whole schemas, which must not reach a log)."""
    kinds = re.findall(r"errorType:\s*'?([A-Z_]+)", message)
    paths = re.findall(r"at path '(/[^']*)'", message)
    detail = ", ".join(f"{k} at {p}" for k, p in zip(kinds, paths, strict=False)) or ", ".join(
        kinds
    )
    return f" ({detail})" if detail else ""


class ConfluentRegistry(SchemaRegistry):
    """A Confluent-compatible schema registry (see the module docstring for the contract)."""

    def __init__(self, connection: RegistryConnection) -> None:
        self.connection = connection
        self._client = self._connect()
        self._pid = os.getpid()
        self._inherited: list[SchemaRegistryClient] = []
        self._schemas: dict[int, Mapping[str, Any]] = {}
        self._lock = threading.Lock()

    def _connect(self) -> SchemaRegistryClient:
        try:
            return SchemaRegistryClient(self.connection.client_config())
        except (ValueError, TypeError, OSError) as exc:  # bad URL, unreadable certificate, …
            raise SettingsError(
                f"SCHAKEL_SCHEMA_REGISTRY_*: cannot configure the registry client "
                f"({type(exc).__name__})"
            ) from exc

    def _here(self) -> SchemaRegistryClient:
        """The HTTP client of this process. In a process forked from the one that made it
        (the batch path's worker processes), a new client: the inherited one shares its
        open connections with the parent, so it is kept (never closed, which would end the
        parent's TLS sessions) but not used."""
        if self._pid != os.getpid():
            self._inherited.append(self._client)
            self._client = self._connect()
            self._lock = threading.Lock()
            self._pid = os.getpid()
        return self._client

    def _error(self, exc: Exception, what: str, subject: str = "") -> RegistryError:
        where = self.connection.where
        attempts = self.connection.retries + 1
        if isinstance(exc, SchemaRegistryError):
            status, code = exc.http_status_code, exc.error_code
            if status in _TRANSIENT_STATUS or status >= 500:
                return RegistryUnavailable(
                    f"schema registry {where}: {what}: HTTP {status} after {attempts} "
                    "attempts (transient: retry later)"
                )
            hint = _HINTS.get(code, "refused")
            if status == 409:
                hint = "incompatible with an earlier version under the subject's compatibility "
                hint += "level" + _incompatibility_detail(str(exc.error_message or ""))
            elif status in (401, 403):
                hint = "credentials refused: check SCHAKEL_SCHEMA_REGISTRY_AUTH or _TOKEN"
            elif status == 404 and code in (40401, 40403) and what.endswith("lookup"):
                hint += f": {_DEPLOY_HINT}"
            cls = _REFUSALS.get(status, RegistryRefused)
            return cls(
                f"schema registry {where}: {what}: HTTP {status}, error code {code}: {hint}",
                status=status,
                error_code=code,
                subject=subject,
            )
        tls = _tls_error(exc)
        if tls is not None:
            return RegistryUnauthorized(
                f"schema registry {where}: {what}: TLS handshake failed ({tls.reason or 'TLS'}): "
                "check SCHAKEL_SCHEMA_REGISTRY_CA_FILE, _CERT_FILE and _KEY_FILE",
                status=0,
                error_code=-1,
                subject=subject,
            )
        return RegistryUnavailable(
            f"schema registry {where}: {what}: unreachable after {attempts} attempts "
            f"({type(exc).__name__}; transient: retry later)"
        )

    def lookup(self, subject: str, schema: Mapping[str, Any]) -> int:
        what = f"subject {subject!r} lookup"
        client = self._here()
        try:
            registered = client.lookup_schema(subject, Schema(canonical_text(schema), "AVRO"))
        except (SchemaRegistryError, httpx.TransportError) as exc:
            raise self._error(exc, what, subject) from exc
        if registered.schema_id is None:
            raise RegistryRefused(
                f"schema registry {self.connection.where}: {what}: answer without an id",
                status=200,
                error_code=-1,
                subject=subject,
            )
        return int(registered.schema_id)

    def schema(self, schema_id: int) -> Mapping[str, Any]:
        client = self._here()  # first: a lock inherited over a fork may be held
        with self._lock:
            cached = self._schemas.get(schema_id)
        if cached is not None:
            return cached
        try:
            found = client.get_schema(schema_id)
        except SchemaRegistryError as exc:
            if exc.http_status_code == 404:
                raise UnknownSchemaId(
                    f"schema registry {self.connection.where} has no schema with id {schema_id}"
                ) from exc
            raise self._error(exc, f"schema id {schema_id}") from exc
        except httpx.TransportError as exc:
            raise self._error(exc, f"schema id {schema_id}") from exc
        if (found.schema_type or "AVRO") != "AVRO" or found.schema_str is None:
            raise UnknownSchemaId(f"schema id {schema_id} is not an Avro schema")
        parsed: Mapping[str, Any] = json.loads(found.schema_str)
        with self._lock:
            self._schemas[schema_id] = parsed
        return parsed

    def register(self, subject: str, schema: Mapping[str, Any]) -> int:
        """Register ``schema`` under ``subject`` (idempotent: an identical schema keeps its id
        and version) and return its id. For the deploy job only."""
        try:
            return int(
                self._here().register_schema(subject, Schema(canonical_text(schema), "AVRO"))
            )
        except (SchemaRegistryError, httpx.TransportError) as exc:
            raise self._error(exc, f"subject {subject!r} registration", subject) from exc

    def set_compatibility(self, subject: str, level: str) -> None:
        """Set ``subject``'s compatibility level (e.g. ``BACKWARD_TRANSITIVE``)."""
        try:
            self._here().set_compatibility(subject_name=subject, level=level)
        except (SchemaRegistryError, httpx.TransportError) as exc:
            raise self._error(exc, f"subject {subject!r} compatibility", subject) from exc

    def compatibility(self, subject: str) -> str:
        """The compatibility level set on ``subject`` itself."""
        try:
            return str(self._here().get_compatibility(subject_name=subject))
        except (SchemaRegistryError, httpx.TransportError) as exc:
            raise self._error(exc, f"subject {subject!r} compatibility", subject) from exc

    def close(self) -> None:
        """Close the HTTP session."""
        self._client.close()
