"""The exception tree of Schakel, rooted here because :mod:`schemas` is the package both
``adapters/`` and ``streams/`` import. Messages never contain a BSN.

Every Schakel error is a :class:`SchakelError` and, where the caller's reaction is known, also
either a :class:`TransientError` (an outage of the broker, the schema registry or a database:
the same call may succeed later — callers retry with backoff and never quarantine,
dead-letter or skip the record because of it) or a :class:`PermanentError` (bad data or
configuration: retrying will not help — the record is quarantined or dead-lettered, the
configuration problem reported in one line). The packages' own trees
(:mod:`adapters.exceptions`, :mod:`streams.exceptions`, :mod:`schakel.synth.exceptions`) hang
from this root.
"""

from __future__ import annotations


class SchakelError(Exception):
    """Root of every error Schakel raises on purpose."""


class TransientError(SchakelError):
    """An outage (broker, schema registry, database): retry the same call with backoff.

    Never a reason to quarantine, dead-letter or skip a record."""


class PermanentError(SchakelError):
    """Bad data or bad configuration: retrying the same call gives the same answer. A record
    is quarantined or dead-lettered with the reason; configuration is reported in one line."""


class SchakelContractError(SchakelError):
    """Base of every error raised by the contract package."""


class InvalidEvent(SchakelContractError, PermanentError):
    """An input event does not satisfy the catalogue.

    ``field`` is the dotted path of the offending field (``data.datum``) or ``""`` for the
    event as a whole; ``reason`` is a short stable code usable as a metric label.
    """

    def __init__(self, message: str, *, field: str = "", reason: str = "invalid") -> None:
        super().__init__(message)
        self.field = field
        self.reason = reason


class InvalidBsn(InvalidEvent):
    """A BSN is not 9 digits, is ``000000000`` or fails the elfproef."""

    def __init__(self, message: str, *, field: str = "data.bsn") -> None:
        super().__init__(message, field=field, reason="bsn")


class UnknownEventType(InvalidEvent):
    """The ``type`` is not in the catalogue."""

    def __init__(self, message: str) -> None:
        super().__init__(message, field="type", reason="unknown-type")


class SerdeError(SchakelContractError, PermanentError):
    """A payload could not be encoded or decoded."""


class Tombstone(SerdeError):
    """The record has no value (a Kafka tombstone, ``null``): nothing to decode. On an event
    topic or ``schakel.klok`` (neither is compacted) it is dead-lettered at stage ``decode``."""


class UnknownMagicByte(SerdeError):
    """The payload does not start with the Confluent magic byte 0."""


class UnknownSchemaId(SerdeError):
    """The schema id in the payload is not known to the registry."""


class UndecodablePayload(SerdeError):
    """The Avro body does not decode with the writer schema."""


class ForeignSchema(SerdeError):
    """The schema id in the payload resolves to a schema that is not a Schakel record schema:
    not a named Avro record (``"string"``, a union, an array, a map, …), one that does not
    parse, or a record the catalogue does not hold — another producer's schema in a shared
    registry. Permanent: the record is dead-lettered (stage ``decode``)."""


class RegistryError(SchakelContractError):
    """The schema registry refused or could not be reached. Messages name the subject (or
    schema id) and the HTTP status, never the schema text or credentials."""


class RegistryUnavailable(RegistryError, TransientError):
    """Transient: the registry could not be reached or answered 408, 429 or 5xx, and kept
    doing so through the retry budget. Retrying later may succeed."""


class RegistryRefused(RegistryError, PermanentError):
    """Permanent: the registry answered with an error that retrying will not change.

    ``status`` is the HTTP status, ``error_code`` the registry's own code (Confluent
    ``error_code``, ``-1`` if it gave none), ``subject`` the subject concerned (or ``""``)."""

    def __init__(self, message: str, *, status: int, error_code: int, subject: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.error_code = error_code
        self.subject = subject


class RegistryNotFound(RegistryRefused):
    """404: the subject, version or schema is not registered (for a writer: the deploy job
    ``schakel schemas register`` has not registered it)."""


class RegistryIncompatible(RegistryRefused):
    """409: the schema is not compatible with the subject's earlier versions under its
    compatibility level."""


class RegistryInvalidSchema(RegistryRefused):
    """422: the registry rejects the schema (or the compatibility level, or the operation in
    its current mode) as invalid."""


class RegistryUnauthorized(RegistryRefused):
    """401 / 403, or a TLS handshake the registry or this client refused: credentials or
    certificates are missing or wrong."""


class IncompatibleSchema(SchakelContractError, PermanentError):
    """A schema version is not BACKWARD compatible with an earlier committed version."""


class SettingsError(SchakelContractError, PermanentError):
    """A setting is missing or invalid: the message names the environment variable."""
