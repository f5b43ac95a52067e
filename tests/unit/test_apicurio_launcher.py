"""The Apicurio Registry launcher's checks that need no JVM (tests/apicurio.py): the pinned
version, a missing distribution, no Java, a process that exits before it answers."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from schakel.kafka_cluster import POM, pom_property
from tests.apicurio import (
    FETCH_HINT,
    ApicurioRegistry,
    ApicurioStartError,
    apicurio_version,
    runner_jar,
)


def test_the_pom_pins_one_apicurio_2_release() -> None:
    major, minor, *_ = apicurio_version().split(".")
    assert (int(major), int(minor)) >= (2, 6) and int(major) == 2  # 3.x needs Java 21
    assert pom_property(POM, "kafka.version")
    with pytest.raises(ApicurioStartError, match=r"no <no\.such> property"):
        pom_property(POM, "no.such", ApicurioStartError)


def test_a_missing_distribution_says_how_to_fetch_it(tmp_path: Path) -> None:
    with pytest.raises(ApicurioStartError, match="make registry-libs") as caught:
        runner_jar(tmp_path, "2.6.13.Final")
    assert FETCH_HINT in str(caught.value)
    with pytest.raises(ApicurioStartError, match="missing"):
        ApicurioRegistry(tmp_path / "work", app=tmp_path)


def fake_app(tmp_path: Path) -> Path:
    (tmp_path / f"apicurio-registry-app-{apicurio_version()}-runner.jar").write_bytes(b"")
    return tmp_path


def test_no_java_fails_the_start(tmp_path: Path) -> None:
    registry = ApicurioRegistry(tmp_path / "work", java="no-such-java", app=fake_app(tmp_path))
    with pytest.raises(ApicurioStartError, match="no Java: 'no-such-java'"):
        registry.start()
    assert registry.process is None


def test_a_process_that_exits_fails_the_start_with_its_log(tmp_path: Path) -> None:
    java = tmp_path / "java"
    java.write_text("#!/bin/sh\necho 'no such class: a-log-line'\nexit 3\n")
    java.chmod(0o755)
    assert shutil.which(str(java))
    registry = ApicurioRegistry(tmp_path / "work", java=str(java), app=fake_app(tmp_path))
    with pytest.raises(ApicurioStartError, match="exited with code 3") as caught:
        registry.start(timeout=30)
    assert "a-log-line" in str(caught.value)
    assert registry.process is None
