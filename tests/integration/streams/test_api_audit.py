"""No answer without its audit record: a worker killed with SIGKILL right after answering
timeline reads has written the ``nl.schakel.inzage.geregistreerd`` record of every answered
read to ``schakel.inzage`` (acknowledged by the broker, acks=all, before the answer); a read
whose record cannot be written is answered 503, without the data."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from schakel.broker import EmbeddedBroker
from schakel.topics import ensure_topics
from schemas.registry import LocalRegistry
from schemas.serde import RecordDeserializer
from tests.integration.streams.helpers import (
    AUTH,
    WorkerProcess,
    consume,
    publish,
    valid_scenario,
)
from tests.integration.streams.test_replay import CITIZEN_A, CITIZEN_B

TRIALS = 5
READS = 20
"""Per trial: answered timeline reads, then ``kill -9`` right after the last answer."""


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
