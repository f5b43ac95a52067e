"""``schakel forget``: a citizen's state, snapshot and signals disappear; tombstones are
written on every compacted topic; other citizens are untouched."""

from __future__ import annotations

import os
import time
from pathlib import Path

from schakel.broker import EmbeddedBroker
from schakel.topics import ensure_topics
from schemas.wire import DEFAULT_WIRE
from tests.cli import run_cli
from tests.integration.streams.helpers import (
    AUTH,
    KEY,
    SCENARIO,
    WorkerProcess,
    consume,
    publish,
    read_jsonl,
)
from tests.integration.streams.test_replay import CITIZEN_A, CITIZEN_B


def test_forget_a_citizen(tmp_path: Path) -> None:
    with EmbeddedBroker() as broker:
        ensure_topics(broker.bootstrap, partitions=4)
        worker = WorkerProcess(
            broker.bootstrap, tmp_path / "w", extra_env={"SCHAKEL_PSEUDONYM_KEY": KEY}
        ).start()
        try:
            publish(broker.bootstrap, [e for e in read_jsonl(SCENARIO) if e["id"] != "bad-1"])
            worker.drain(
                ["schakel.wmo.events", "schakel.wgs.events", "schakel.participatiewet.events"]
            )
            assert worker.get(f"/api/v1/burgers/{CITIZEN_A}/tijdlijn", AUTH)[0] == 200
            bsn_file = tmp_path / "vergeet.txt"
            bsn_file.write_text("# verzoek 2026-11\n111222333\n")
            env = {
                **os.environ,
                "SCHAKEL_KAFKA_BOOTSTRAP": broker.bootstrap,
                "SCHAKEL_PSEUDONYM_KEY": KEY,
            }
            result = run_cli("forget", "--bsn-file", str(bsn_file), env=env)
            assert result.returncode == 0, result.stderr
            assert "111222333" not in result.stdout + result.stderr
            worker.drain(["schakel.klok"])
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                _, body = worker.get("/api/v1/signalen", AUTH)
                if {s["subject"] for s in body["signalen"]} == {CITIZEN_B}:
                    break
                time.sleep(0.3)
            assert {s["subject"] for s in body["signalen"]} == {CITIZEN_B}
            assert worker.get(f"/api/v1/burgers/{CITIZEN_A}/tijdlijn", AUTH)[0] == 404
            assert worker.get(f"/api/v1/burgers/{CITIZEN_B}/tijdlijn", AUTH)[0] == 200
            for topic in (DEFAULT_WIRE.tijdlijnen, DEFAULT_WIRE.changelog):
                last = [r for r in consume(broker.bootstrap, topic) if r.key == CITIZEN_A.encode()][
                    -1
                ]
                assert last.value is None, topic
        finally:
            worker.stop()
