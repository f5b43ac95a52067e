"""Shared fixtures of the generator tests: small municipalities built once per session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from schakel.synth import Municipality, build_municipality, write_municipality

KEY = "synth-test-key-0123456789abcdef01234"
OIN = "00000001234567890000"


@pytest.fixture(scope="session")
def municipality() -> Municipality:
    """A municipality of 1,200 citizens (one copy of every planted scenario)."""
    return build_municipality(1200, 11)


@pytest.fixture(scope="session")
def written(
    tmp_path_factory: pytest.TempPathFactory,
    municipality: Municipality,
) -> Iterator[tuple[Path, dict[str, Any]]]:
    """That municipality written to a directory: (directory, manifest)."""
    directory = tmp_path_factory.mktemp("gemeente")
    manifest = write_municipality(municipality, directory, oin=OIN, key=KEY)
    yield directory, manifest
