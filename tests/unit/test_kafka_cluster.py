"""The launcher's checks that need no process: the pinned version and missing jars."""

from __future__ import annotations

from pathlib import Path

import pytest

from schakel.kafka_cluster import (
    FETCH_HINT,
    KafkaCluster,
    KafkaStartError,
    broker_settings,
    kafka_classpath,
    kafka_version,
)
from schakel.kafka_cluster import main as kafka_main


def test_the_pom_pins_one_kafka_4_release() -> None:
    major, minor, patch = (int(part) for part in kafka_version().split("."))
    assert major == 4
    assert minor >= 0 and patch >= 0


def test_missing_jars_say_how_to_fetch_them(tmp_path: Path) -> None:
    with pytest.raises(KafkaStartError, match="make kafka-libs") as caught:
        kafka_classpath(tmp_path, "4.4.0")
    assert FETCH_HINT in str(caught.value)
    with pytest.raises(KafkaStartError, match="jars missing"):
        KafkaCluster(1, libs=tmp_path)


def test_cluster_settings_replicate_every_internal_topic() -> None:
    one, three = broker_settings(1), broker_settings(3)
    assert one.keys() == three.keys()
    for name in (
        "offsets.topic.replication.factor",
        "transaction.state.log.replication.factor",
        "default.replication.factor",
    ):
        assert (one[name], three[name]) == ("1", "3")
    assert (one["min.insync.replicas"], three["min.insync.replicas"]) == ("1", "2")
    assert three["transaction.state.log.min.isr"] == "2"
    with pytest.raises(ValueError, match="1 or 3"):
        broker_settings(2)


@pytest.mark.parametrize(
    ("argv", "environment", "named"),
    [
        (["--port", "x999990019"], None, "--port"),
        (["--port", "70000"], None, "--port"),
        ([], "x999990019", "KAFKA_PORT"),
        ([], "0", "KAFKA_PORT"),
    ],
)
def test_make_kafka_checks_its_port_without_echoing_it(
    argv: list[str],
    environment: str | None,
    named: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``--port`` was ``type=int`` (argparse echoed what was typed: ``invalid int value:
    'x999990019'``) and ``KAFKA_PORT`` was read with ``int()`` (a ``ValueError`` traceback
    with the value); 70000 reached Kafka. Now one line naming where the port came from and the
    rule, exit 2, before anything starts."""
    if environment is None:
        monkeypatch.delenv("KAFKA_PORT", raising=False)
    else:
        monkeypatch.setenv("KAFKA_PORT", environment)
    monkeypatch.setattr(KafkaCluster, "start", lambda self: pytest.fail("started"))
    with pytest.raises(SystemExit) as stopped:
        kafka_main(argv)
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert f"{named}: must be a whole number from 1 to 65535" in err, err
    assert "999990019" not in err and "70000" not in err and "Traceback" not in err
