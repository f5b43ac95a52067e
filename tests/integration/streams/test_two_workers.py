"""Two workers share the partitions; a timeline request to either is answered by, or routed
to, the worker that owns the citizen; both list the signals of all citizens."""

from __future__ import annotations

import time
from pathlib import Path

from schakel.broker import EmbeddedBroker
from schakel.topics import ensure_topics
from tests.integration.streams.helpers import AUTH, SCENARIO, WorkerProcess, publish, read_jsonl
from tests.integration.streams.test_replay import CITIZEN_A, CITIZEN_B


def test_requests_are_routed_to_the_owner(tmp_path: Path) -> None:
    with EmbeddedBroker() as broker:
        ensure_topics(broker.bootstrap, partitions=4)
        first = WorkerProcess(broker.bootstrap, tmp_path / "a", clock="live").start()
        second = WorkerProcess(broker.bootstrap, tmp_path / "b", clock="live").start()
        try:
            publish(broker.bootstrap, [e for e in read_jsonl(SCENARIO) if e["id"] != "bad-1"])
            deadline = time.monotonic() + 60
            answers: dict[tuple[str, str], tuple[int, object]] = {}
            while time.monotonic() < deadline:
                answers = {
                    (worker.url, citizen): worker.get(f"/api/v1/burgers/{citizen}/tijdlijn", AUTH)
                    for worker in (first, second)
                    for citizen in (CITIZEN_A, CITIZEN_B)
                }
                if all(status == 200 for status, _ in answers.values()):
                    break
                time.sleep(0.5)
            assert {k: v[0] for k, v in answers.items()} == dict.fromkeys(answers, 200)
            for citizen in (CITIZEN_A, CITIZEN_B):
                bodies = [answers[(w.url, citizen)][1] for w in (first, second)]
                assert bodies[0] == bodies[1]
            # each worker folds every citizen's snapshot into its read model (eventually)
            for worker in (first, second):
                deadline = time.monotonic() + 30
                body: dict[str, int] = {}
                while time.monotonic() < deadline:
                    _, body = worker.get("/api/v1/signalen", AUTH)
                    if body.get("totaal") == 3:
                        break
                    time.sleep(0.3)
                assert body.get("totaal") == 3
        finally:
            first.stop()
            second.stop()
