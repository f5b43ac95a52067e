"""No answer without its audit record: a worker killed with SIGKILL right after answering
timeline reads has written the ``nl.schakel.inzage.geregistreerd`` record of every answered
read to ``schakel.inzage`` (acknowledged by the broker, acks=all, before the answer); a read
whose record cannot be written is answered 503, without the data — also by the API's own
:class:`~streams.audit.AuditTrail` whose broker went away after its producer had started and
learnt the topic (killed, or frozen with SIGSTOP): the case in which a trail that did not wait
for the acknowledgement would still return an id."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from schakel.broker import EmbeddedBroker
from schakel.topics import ensure_topics
from schemas.registry import LocalRegistry
from schemas.serde import RecordDeserializer, RecordSerializer
from streams.audit import AuditTrail, AuditUnavailable
from tests.integration.streams.helpers import (
    AUTH,
    WorkerProcess,
    consume,
    publish,
    valid_scenario,
)
from tests.integration.streams.test_replay import CITIZEN_A, CITIZEN_B
from tests.unit.streams.api_harness import REGISSEUR, TOKENS, serve

TRIALS = 5
READS = 20
"""Per trial: answered timeline reads, then ``kill -9`` right after the last answer."""
AUDIT_TIMEOUT_S = 3.0
"""The timeout of the audit trail whose broker goes away (the worker's: 5 s)."""


def _purposes_on_the_audit_topic(bootstrap: str) -> list[str]:
    deserialize = RecordDeserializer(LocalRegistry())
    return [deserialize(r.value).data["doel"] for r in consume(bootstrap, "schakel.inzage")]


def test_every_answered_read_survives_a_kill(tmp_path: Path) -> None:
    with EmbeddedBroker() as broker:
        ensure_topics(broker.bootstrap, partitions=4)
        publish(broker.bootstrap, valid_scenario())
        answered: list[str] = []
        for trial in range(TRIALS):
            worker = WorkerProcess(broker.bootstrap, tmp_path / "worker").start()
            try:
                worker.drain(["schakel.wmo.events", "schakel.wgs.events"])
                for read in range(READS):
                    doel = f"killproef {trial} lezing {read}"
                    citizen = (CITIZEN_A, CITIZEN_B)[read % 2]
                    status, _ = worker.get(
                        f"/api/v1/burgers/{citizen}/tijdlijn",
                        {"Authorization": "Bearer token-anna", "X-Doel": doel},
                    )
                    assert status == 200, (trial, read, status)
                    answered.append(doel)
            finally:
                worker.kill()
        recorded = set(_purposes_on_the_audit_topic(broker.bootstrap))
        lost = [doel for doel in answered if doel not in recorded]
        assert len(answered) == TRIALS * READS
        assert lost == [], f"{len(lost)} of {len(answered)} answered reads have no audit record"


def test_no_audit_record_no_answer(tmp_path: Path) -> None:
    broker = EmbeddedBroker().start()
    worker: WorkerProcess | None = None
    try:
        ensure_topics(broker.bootstrap, partitions=4)
        publish(broker.bootstrap, valid_scenario())
        worker = WorkerProcess(broker.bootstrap, tmp_path / "worker").start()
        worker.drain(["schakel.wmo.events", "schakel.wgs.events"])
        path = f"/api/v1/burgers/{CITIZEN_A}/tijdlijn"
        assert worker.get(path, AUTH)[0] == 200
        broker.stop()  # the audit topic is gone with its broker; the state is in memory
        request = urllib.request.Request(worker.url + path, headers=AUTH)
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=30)
        assert refused.value.code == 503
        assert refused.value.headers["Retry-After"] == "5"
        body = json.loads(refused.value.read())
        assert set(body) == {"fout"} and "inzage" in body["fout"]
        assert CITIZEN_A not in str(body)
    finally:
        if worker is not None and worker.process is not None:
            worker.kill()
        broker.stop()


@pytest.mark.parametrize("outage", ["killed", "frozen"])
def test_a_record_the_broker_does_not_acknowledge_is_no_answer(
    fresh_broker: EmbeddedBroker, outage: str
) -> None:
    """The API with the real :class:`AuditTrail` (its own aiokafka producer, acks=all) on a
    real broker. One read is answered and its record is on ``schakel.inzage`` under the
    answer's ``X-Inzage-Id``; so the producer runs and knows the topic's partition, and a
    record sent now only waits for the broker. Then the broker is killed (SIGKILL: connections
    refused) or frozen (SIGSTOP: connections open, nothing answered): :meth:`AuditTrail.record`
    raises :class:`AuditUnavailable` (its timeout) and never returns an id, and the API answers
    503 without data. A trail that returned before the acknowledgement (``producer.send``
    instead of ``send_and_wait``) returns an id here, and the read would be answered: this test
    fails then, the unit API tests (their ``MemoryAudit``) cannot. A frozen broker that
    continues takes the trail's next record again."""
    trail = AuditTrail(
        fresh_broker.bootstrap,
        "schakel.inzage",
        RecordSerializer(LocalRegistry()),
        "urn:schakel:test",
        timeout_s=AUDIT_TIMEOUT_S,
    )
    anna = TOKENS["token-anna"]
    deserialize = RecordDeserializer(LocalRegistry())

    def recorded() -> list[str]:
        return [deserialize(r.value).id for r in consume(fresh_broker.bootstrap, "schakel.inzage")]

    async def run() -> None:
        try:
            async with serve(trail=trail) as api:
                answered = await api.client.get("/api/v1/signalen", headers=REGISSEUR)
                assert answered.status == 200
                first = answered.headers["X-Inzage-Id"]
                assert await asyncio.to_thread(recorded) == [first]
                if outage == "killed":
                    fresh_broker.kill()
                else:
                    fresh_broker.pause()
                with pytest.raises(AuditUnavailable):
                    await trail.record(anna, "casusoverleg", "GET /api/v1/signalen", None)
                refused = await api.client.get("/api/v1/signalen", headers=REGISSEUR)
                assert refused.status == 503 and refused.headers["Retry-After"] == "5"
                assert "X-Inzage-Id" not in refused.headers
                assert await refused.json() == {
                    "fout": "inzage: het auditrecord kon niet worden vastgelegd"
                }
                if outage == "frozen":
                    fresh_broker.resume()
                    again = await trail.record(anna, "casusoverleg", "GET /api/v1/signalen", None)
                    assert again in await asyncio.to_thread(recorded)
        finally:
            fresh_broker.resume()
            await trail.stop()

    asyncio.run(run())
