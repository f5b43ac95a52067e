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
