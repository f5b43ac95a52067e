"""``schakel demo --bootstrap``: the demo on a Kafka that is already running, in a namespace of
its own that is gone afterwards, while another namespace on the same broker keeps its data.

The shared broker here is an embedded one (``SCHAKEL_PROFILE=embedded`` set explicitly, as for
a ``schakel broker``); on Apache Kafka the same command runs with profile ``kafka``."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition

from schakel.broker import EmbeddedBroker, free_port
from schakel.topics import ensure_topics
from schemas.wire import Wire
from streams.offsets import true_end_offsets
from tests.cli import run_cli
from tests.integration.streams.helpers import publish, valid_scenario

OTHER = Wire("gemeente-b")


def ends(bootstrap: str, wire: Wire) -> dict[str, int]:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    try:
        tps = [
            TopicPartition(t, p)
            for t in sorted(wire.topics())
            for p in sorted(consumer.partitions_for_topic(t) or ())
        ]
        return {
            f"{tp.topic}:{tp.partition}": end for tp, end in true_end_offsets(consumer, tps).items()
        }
    finally:
        consumer.close()


def test_demo_in_a_fresh_namespace_of_a_running_broker(tmp_path: Path) -> None:
    with EmbeddedBroker() as broker:
        ensure_topics(broker.bootstrap, partitions=4, wire=OTHER)
        publish(broker.bootstrap, valid_scenario(), wire=OTHER)
        admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap)
        topics_before, other_before = sorted(admin.list_topics()), ends(broker.bootstrap, OTHER)
        env = {k: v for k, v in os.environ.items() if not k.startswith("SCHAKEL_")}
        env.update(
            {
                "SCHAKEL_DATA_DIR": str(tmp_path / "var"),
                "SCHAKEL_PROFILE": "embedded",  # the shared broker is an embedded one
                "PYTHONUNBUFFERED": "1",
            }
        )
        summary_file = tmp_path / "summary.json"
        result = run_cli(
            "demo",
            "--exit",
            "--bootstrap",
            broker.bootstrap,
            "--citizens",
            "300",
            "--no-postgres",
            "--summary-json",
            str(summary_file),
            "--port",
            str(free_port()),
            env=env,
            timeout=280,
        )
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        found = re.search(r"namespace (demo-[0-9a-f]{8}) ", result.stderr)
        assert found, result.stderr[-2000:]
        summary: dict[str, Any] = json.loads(summary_file.read_text(encoding="utf-8"))
        assert summary["score"]["precision"] == summary["score"]["recall"] == 1.0, summary["score"]
        assert "precision 1.000, recall 1.000" in result.stdout
        assert sorted(admin.list_topics()) == topics_before, "the demo's namespace is left behind"
        assert ends(broker.bootstrap, OTHER) == other_before
        admin.close()
