"""The exception tree of :mod:`schemas`. Messages never contain a BSN."""

from __future__ import annotations


class SchakelContractError(Exception):
    """Base of every error raised by the contract package."""


class InvalidEvent(SchakelContractError):
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


class SerdeError(SchakelContractError):
    """A payload could not be encoded or decoded."""


class UnknownMagicByte(SerdeError):
    """The payload does not start with the Confluent magic byte 0."""


class UnknownSchemaId(SerdeError):
    """The schema id in the payload is not known to the registry."""


class UndecodablePayload(SerdeError):
    """The Avro body does not decode with the writer schema."""


class RegistryError(SchakelContractError):
    """The schema registry refused or could not be reached. Messages name the subject (or
    schema id) and the HTTP status, never the schema text or credentials."""


class RegistryUnavailable(RegistryError):
    """Transient: the registry could not be reached or answered 408, 429 or 5xx, and kept
    doing so through the retry budget. Retrying later may succeed."""


class RegistryRefused(RegistryError):
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


class IncompatibleSchema(SchakelContractError):
    """A schema version is not BACKWARD compatible with an earlier committed version."""


class SettingsError(SchakelContractError):
    """A setting is missing or invalid: the message names the environment variable."""
