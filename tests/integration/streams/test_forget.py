"""``schakel forget``: a citizen's state, snapshot and signals disappear; tombstones are
written on every compacted topic; other citizens are untouched. On both brokers."""

from __future__ import annotations

import time
from pathlib import Path

from tests.brokers import TestBroker
from tests.cli import run_cli
from tests.integration.streams.helpers import (
    AUTH,
    KEY,
    SCENARIO,
    consume,
    publish,
    read_jsonl,
    worker_on,
)
from tests.integration.streams.test_replay import CITIZEN_A, CITIZEN_B


def test_forget_a_citizen(kafka_broker: TestBroker, tmp_path: Path) -> None:
    broker, wire = kafka_broker, kafka_broker.wire
    worker = worker_on(broker, tmp_path / "w", extra_env={"SCHAKEL_PSEUDONYM_KEY": KEY}).start()
    try:
        publish(
            broker.bootstrap, [e for e in read_jsonl(SCENARIO) if e["id"] != "bad-1"], wire=wire
        )
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
        for topic in (wire.tijdlijnen, wire.changelog):
            last = [r for r in consume(broker.bootstrap, topic) if r.key == CITIZEN_A.encode()][-1]
            assert last.value is None, topic
    finally:
        worker.stop()
