"""``GET /api/v1/deadletters`` on Apache Kafka, where the worker writes its dead letters inside
its transactions (exactly-once): the dead letter of an aborted transaction — a record the
worker processed again afterwards — is no dead letter and is not listed. Reproduction: the
page read uncommitted and listed all four dead letters of :data:`ABORTED_TWICE`, the two of
aborted transactions among them (``schakel dlq`` already read committed:
test_run_dead_letters.py). The views run on the test server of :mod:`.api_harness`, their
pages read from a namespace of the session's Kafka node."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from schakel.kafka_cluster import KafkaCluster
from tests.brokers import kafka_namespace
from tests.integration.streams.test_run_dead_letters import ABORTED_TWICE, in_transactions
from tests.unit.streams.api_harness import serve
from tests.unit.streams.test_api_deadletters import BEHEERDER, BSN


def _page(bootstrap: str, topic: str, profile: str) -> dict[str, Any]:
    async def run() -> dict[str, Any]:
        async with serve(bootstrap=bootstrap, deadletter_topic=topic, profile=profile) as api:
            response = await api.client.get("/api/v1/deadletters", headers=BEHEERDER)
            assert response.status == 200, await response.text()
            body: dict[str, Any] = await response.json()
            return body

    return asyncio.run(run())


@pytest.mark.kafka
def test_the_dead_letter_of_an_aborted_transaction_is_not_listed(
    kafka_cluster: KafkaCluster,
) -> None:
    with kafka_namespace(kafka_cluster) as broker:
        in_transactions(broker, ABORTED_TWICE)
        topic = broker.wire.deadletter_streams
        body = _page(broker.bootstrap, topic, broker.profile)
        assert broker.profile == "kafka"
        rows = body["deadletters"]
        assert [row["bron"]["offset"] for row in rows] == ["3", "1"]  # newest first
        assert [row["reden"] for row in rows] == ["ValueError", "ValueError"]
        assert BSN not in str(body)
        # `totaal` counts offsets: the aborted dead letters and the transactions' markers too
        assert body["totaal"] >= len(rows)
        # what the page read before (and still reads on the embedded broker: no usable
        # transactions, read uncommitted as the read model does)
        every = _page(broker.bootstrap, topic, "embedded")["deadletters"]
        assert [row["bron"]["offset"] for row in every] == ["4", "3", "2", "1"]
