"""One exception tree: every Schakel error hangs from :class:`SchakelError`, and the errors
whose reaction is known sit on the transient (retry) or the permanent (quarantine, dead-letter,
report) branch — never on both."""

from __future__ import annotations

import pytest

from adapters.exceptions import AdapterError, CheckpointError, PublishError, Rejection
from schakel.broker import BrokerStartError
from schakel.demo import DemoError
from schakel.dlq import DeadLetterReadError, DlqError
from schakel.forget import BsnFileError
from schakel.kafka_cluster import KafkaStartError
from schakel.replay import ReplayError
from schakel.sandbox import NamespaceInUse, SandboxError
from schakel.synth.exceptions import PostgresUnavailable, SynthError
from schakel.topics import MissingTopics
from schakel.wiring import NoKafkaError
from schemas import exceptions as contract
from schemas.exceptions import PermanentError, SchakelError, TransientError
from streams.access import AccessDenied
from streams.audit import AuditRefused, AuditUnavailable
from streams.exceptions import RuleConfigError, RuleFileError, StateDecodeError, StreamsError
from streams.ingest import IngestError
from streams.offsets import EndOffsetsUnconfirmed
from streams.purpose import InvalidPurpose
from streams.state import HistoryLimitError
from streams.topicpage import TopicUnavailable

TRANSIENT = [
    contract.RegistryUnavailable,
    PublishError,
    AuditUnavailable,
    TopicUnavailable,
    DeadLetterReadError,
    EndOffsetsUnconfirmed,
]
PERMANENT = [
    contract.InvalidEvent,
    contract.InvalidBsn,
    contract.UnknownEventType,
    contract.SerdeError,
    contract.UnknownSchemaId,
    contract.ForeignSchema,
    contract.RegistryRefused,
    AuditRefused,
    contract.RegistryNotFound,
    contract.IncompatibleSchema,
    contract.SettingsError,
    Rejection,
    CheckpointError,
    RuleConfigError,
    RuleFileError,
    IngestError,
    HistoryLimitError,
    AccessDenied,
    InvalidPurpose,
    NoKafkaError,
    BrokerStartError,
    KafkaStartError,
    SynthError,
    PostgresUnavailable,
    ReplayError,
    DemoError,
    SandboxError,
    NamespaceInUse,
    BsnFileError,
    StateDecodeError,
    DlqError,
    MissingTopics,
]
PACKAGE_ROOTS = [contract.SchakelContractError, AdapterError, StreamsError]


@pytest.mark.parametrize("cls", TRANSIENT, ids=lambda c: c.__name__)
def test_transient_errors_are_retried_not_quarantined(cls: type[Exception]) -> None:
    assert issubclass(cls, TransientError)
    assert issubclass(cls, SchakelError)
    assert not issubclass(cls, PermanentError)


@pytest.mark.parametrize("cls", PERMANENT, ids=lambda c: c.__name__)
def test_permanent_errors_are_reported_not_retried(cls: type[Exception]) -> None:
    assert issubclass(cls, PermanentError)
    assert issubclass(cls, SchakelError)
    assert not issubclass(cls, TransientError)


@pytest.mark.parametrize("cls", PACKAGE_ROOTS, ids=lambda c: c.__name__)
def test_every_package_tree_hangs_from_the_one_root(cls: type[Exception]) -> None:
    assert issubclass(cls, SchakelError)


def test_runtime_error_callers_still_catch_the_schakel_commands_errors() -> None:
    """Names and earlier bases are kept: code that caught RuntimeError still does."""
    for cls in (NoKafkaError, BrokerStartError, SynthError, ReplayError, DemoError, SandboxError):
        assert issubclass(cls, RuntimeError)
