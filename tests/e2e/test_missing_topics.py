"""A command run in a namespace whose topics do not exist — a mistyped ``SCHAKEL_NAMESPACE``
— stops before it writes anything: one line naming the missing topics and the namespace, exit
2 (review C items 2 and 6). Before, ``schakel forget`` wrote its tombstones and erasure
records to topics the embedded broker then created (uncompacted, read by no worker) and said
the citizens were forgotten (exit 0); ``schakel dlq list`` / ``replay`` said ``0 dead
letter(s)`` (exit 0) and ``dlq show ID`` that no dead letter had that id."""

from __future__ import annotations

from pathlib import Path

import pytest
from kafka import KafkaAdminClient

from schakel.broker import EmbeddedBroker
from schemas.wire import Wire
from tests.cli import run_cli
from tests.e2e.test_dlq import cli_env
from tests.integration.streams.helpers import KEY

TYPO = "utrech"
"""The namespace given: the deployment's (the default namespace here) mistyped."""


def topics(bootstrap: str) -> set[str]:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        return set(admin.list_topics())
    finally:
        admin.close()


def env(tmp_path: Path, bootstrap: str, **extra: str) -> dict[str, str]:
    """The CLI's environment in the misspelt namespace, plus ``extra`` (the key for `forget`
    only: a process given a secret it does not use says so at start, a line of its own)."""
    return {**cli_env(tmp_path / "cli", bootstrap), "SCHAKEL_NAMESPACE": TYPO, **extra}


def test_forget_in_a_namespace_without_topics_writes_nothing_and_says_so(
    fresh_broker: EmbeddedBroker, tmp_path: Path
) -> None:
    bootstrap = fresh_broker.bootstrap
    before = topics(bootstrap)
    bsn_file = tmp_path / "vergeet.txt"
    bsn_file.write_text("999990019\n")
    variables = env(tmp_path, bootstrap, SCHAKEL_PSEUDONYM_KEY=KEY)
    forgotten = run_cli("forget", "--bsn-file", str(bsn_file), env=variables)
    assert forgotten.returncode == 2, forgotten.stdout + forgotten.stderr[-2000:]
    assert forgotten.stdout == ""
    (line,) = forgotten.stderr.strip().splitlines()
    wire = Wire(TYPO)
    assert line.startswith("schakel: MissingTopics: ")
    assert f"namespace '{TYPO}'" in line and "nothing was forgotten" in line
    for topic in (wire.klok, wire.tijdlijnen, wire.changelog):
        assert topic in line
    assert topics(bootstrap) == before  # nothing written, so nothing created


@pytest.mark.parametrize(
    "action", [["list"], ["show", "0" * 32], ["replay"]], ids=["list", "show", "replay"]
)
def test_dlq_in_a_namespace_without_topics_is_not_an_empty_one(
    fresh_broker: EmbeddedBroker, tmp_path: Path, action: list[str]
) -> None:
    bootstrap = fresh_broker.bootstrap
    before = topics(bootstrap)
    result = run_cli("dlq", *action, env=env(tmp_path, bootstrap))
    assert result.returncode == 2, result.stdout + result.stderr[-2000:]
    assert result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    wire = Wire(TYPO)
    assert line.startswith("schakel: MissingTopics: ") and f"namespace '{TYPO}'" in line
    assert wire.deadletter_streams in line and wire.deadletter_adapters in line
    assert topics(bootstrap) == before
