"""Two workers share the partitions, on both brokers: a timeline request to either is
answered by, or routed to, the worker that owns the citizen; both list the signals of all
citizens; and when a second worker joins and later leaves while a backlog is being
processed, the partitions move to it and back without losing or doubling anything."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from tests.brokers import TestBroker
from tests.integration.streams.helpers import (
    AUTH,
    publish,
    valid_scenario,
    worker_on,
)
from tests.integration.streams.test_replay import CITIZEN_A, CITIZEN_B
from tests.integration.streams.test_restart import ALL_EVENTS, check, processed


def test_requests_are_routed_to_the_owner(kafka_broker: TestBroker, tmp_path: Path) -> None:
    broker = kafka_broker
    first = worker_on(broker, tmp_path / "a", clock="live").start()
    second = worker_on(broker, tmp_path / "b", clock="live").start()
    try:
        valid = valid_scenario()
        publish(broker.bootstrap, valid, wire=broker.wire)
        deadline = time.monotonic() + 60
        answers: dict[tuple[str, str], tuple[int, object]] = {}
        while time.monotonic() < deadline:
            answers = {
                (worker.url, citizen): worker.get(f"/api/v1/burgers/{citizen}/tijdlijn", AUTH)
                for worker in (first, second)
                for citizen in (CITIZEN_A, CITIZEN_B)
            }
            # both workers answer for each citizen, and the same: the owner's state, once it
            # has processed every event (a first 200 may come before the last event is in)
            if all(status == 200 for status, _ in answers.values()) and all(
                answers[(first.url, c)][1] == answers[(second.url, c)][1]
                for c in (CITIZEN_A, CITIZEN_B)
            ):
                break
            time.sleep(0.5)
        assert {k: v[0] for k, v in answers.items()} == dict.fromkeys(answers, 200)
        for citizen in (CITIZEN_A, CITIZEN_B):
            bodies = [answers[(w.url, citizen)][1] for w in (first, second)]
            assert bodies[0] == bodies[1]
        # every valid event of the scenario is on its citizen's timeline
        ids = {
            c: {e["id"] for e in answers[(first.url, c)][1]["tijdlijn"]}  # type: ignore[index]
            for c in (CITIZEN_A, CITIZEN_B)
        }
        assert sorted(ids[CITIZEN_A] | ids[CITIZEN_B]) == sorted(e["id"] for e in valid)
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


CHUNK = 25
PACE_S = 0.5
"""The backlog arrives in chunks of CHUNK events every PACE_S seconds (≈ 35 s in all), so a
worker can join and leave while events are still flowing."""


def test_partitions_rebalance_when_a_worker_joins_and_leaves(
    kafka_broker: TestBroker, tmp_path: Path
) -> None:
    broker, wire = kafka_broker, kafka_broker.wire
    first = worker_on(broker, tmp_path / "a").start()
    failures: list[BaseException] = []
    joined, left = threading.Event(), threading.Event()

    def feed() -> None:
        """Publish the backlog in paced chunks. The second half waits for the second worker
        to have joined, the last quarter for it to have left, so the join and the leave
        always happen while events still flow, however slow the machine is."""
        try:
            for start in range(0, len(ALL_EVENTS), CHUNK):
                for gate, share in ((joined, 2), (left, 4 / 3)):
                    if start >= len(ALL_EVENTS) / share and not gate.wait(180):
                        raise TimeoutError("the second worker did not join or leave in 180 s")
                publish(broker.bootstrap, ALL_EVENTS[start : start + CHUNK], wire=wire)
                time.sleep(PACE_S)
        except BaseException as exc:  # reported by the test thread
            failures.append(exc)

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    second = worker_on(broker, tmp_path / "b")
    try:
        second.start()  # joins the group while events flow: the partitions are shared
        deadline = time.monotonic() + 120
        while processed(second) == 0:
            assert time.monotonic() < deadline, "the joining worker got no partition"
            time.sleep(0.2)
        joined.set()
        first_before_leave = processed(first)
        assert first_before_leave > 0
        assert feeder.is_alive(), "the backlog ended before the second worker had left"
        second.stop()  # leaves while events flow: its partitions go back to the first
        assert feeder.is_alive(), "the backlog ended before the second worker had left"
        left.set()
        feeder.join(120)
        assert not failures, failures
        first.drain(wire.event_topics, timeout=120)  # every partition committed to its end
        assert processed(first) > first_before_leave
    finally:
        second.stop()
        first.stop()
    # exactly-once (Apache Kafka): each signal raised is committed once — a rebalance that
    # put states back one commit had the records since processed twice, both passes' signal
    # events committed (a signal raised on the first pass's order could then stand in no state)
    check(
        broker.bootstrap,
        strict_once=broker.profile != "embedded",
        wire=wire,
        arrival_order_varies=True,
    )
