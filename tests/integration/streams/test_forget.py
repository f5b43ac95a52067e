"""``schakel forget``: a citizen's state, snapshot and signals disappear: a tombstone on the
timeline topic, an erasure marker without events in the table changelog; other citizens are
untouched. On both brokers."""

from __future__ import annotations

import time
from pathlib import Path

from schemas.registry import LocalRegistry
from schemas.serde import RecordDeserializer, RecordSerializer
from streams.codec import StateCodec
from tests.brokers import TestBroker
from tests.cli import run_cli
from tests.integration.streams.helpers import (
    AUTH,
    KEY,
    consume,
    publish,
    valid_scenario,
    worker_on,
)
from tests.integration.streams.test_replay import CITIZEN_A, CITIZEN_B


def test_forget_a_citizen(kafka_broker: TestBroker, tmp_path: Path) -> None:
    broker, wire = kafka_broker, kafka_broker.wire
    worker = worker_on(broker, tmp_path / "w", extra_env={"SCHAKEL_PSEUDONYM_KEY": KEY}).start()
    try:
        publish(broker.bootstrap, valid_scenario(), wire=wire)
        worker.drain(wire.event_topics)
        assert worker.get(f"/api/v1/burgers/{CITIZEN_A}/tijdlijn", AUTH)[0] == 200
        bsn_file = tmp_path / "vergeet.txt"
        bsn_file.write_text("# verzoek 2026-11\n111222333\n")
        env = broker.env({"SCHAKEL_PSEUDONYM_KEY": KEY})
        result = run_cli("forget", "--bsn-file", str(bsn_file), env=env)
        assert result.returncode == 0, result.stderr
        assert "111222333" not in result.stdout + result.stderr
        worker.drain([wire.klok])
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            _, body = worker.get("/api/v1/signalen", AUTH)
            if {s["subject"] for s in body["signalen"]} == {CITIZEN_B}:
                break
            time.sleep(0.3)
        assert {s["subject"] for s in body["signalen"]} == {CITIZEN_B}
        assert worker.get(f"/api/v1/burgers/{CITIZEN_A}/tijdlijn", AUTH)[0] == 404
        assert worker.get(f"/api/v1/burgers/{CITIZEN_B}/tijdlijn", AUTH)[0] == 200
        # the snapshot is tombstoned; the table keeps only an erasure marker (issue 11 item 1)
        last = [
            r for r in consume(broker.bootstrap, wire.tijdlijnen) if r.key == CITIZEN_A.encode()
        ]
        assert last[-1].value is None
        records = consume(broker.bootstrap, wire.changelog)
        state = [r.value for r in records if r.key == CITIZEN_A.encode()][-1]
        assert state is not None, "the erasure marker was overwritten by a tombstone"
        registry = LocalRegistry()
        codec = StateCodec(RecordSerializer(registry), RecordDeserializer(registry), wire.changelog)
        marker = codec.decode(state)
        assert marker.events == [] and marker.vergeten_tot is not None
    finally:
        worker.stop()
