"""The log handler of every process (:mod:`schakel.logs`): a library's repeated message (a
Kafka client during a broker outage logs several per second per connection) is let through
once per window, with the count of those held back; Schakel's own events never are."""

from __future__ import annotations

import io
import json
import logging
import time
from pathlib import Path

import pytest

from schakel.logs import JsonFormatter, RepeatFilter, setup_logging


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def record(name: str, msg: str, *args: object, level: int = logging.ERROR) -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, msg, args, None)


def test_a_library_message_passes_once_per_window_with_the_count_held_back() -> None:
    clock = Clock()
    repeats = RepeatFilter(30.0, clock=clock)
    template = "Unable connect to node with id %s: %s"
    passed = []
    for second in range(95):  # one a second for 95 s, alternating the arguments
        clock.now = 1000.0 + second
        r = record("aiokafka.conn", template, second % 3, "ECONNREFUSED")
        if repeats.filter(r):
            passed.append((second, getattr(r, "repeated", 0)))
    assert passed == [(0, 0), (30, 29), (60, 29), (90, 29)]


def test_kinds_are_logger_level_and_template() -> None:
    repeats = RepeatFilter(30.0, clock=Clock())
    assert repeats.filter(record("aiokafka", "Fetch to node %s failed", 1))
    assert not repeats.filter(record("aiokafka", "Fetch to node %s failed", 2))
    assert repeats.filter(record("aiokafka", "Fetch to node %s failed", 1, level=logging.WARNING))
    assert repeats.filter(record("kafka.conn", "Fetch to node %s failed", 1))
    assert repeats.filter(record("aiokafka", "Metadata refresh failed"))


def test_schakels_own_events_are_never_held_back() -> None:
    repeats = RepeatFilter(30.0, clock=Clock())
    for _ in range(5):
        assert repeats.filter(record("schakel.streams", "worker.outage_retry"))
        assert repeats.filter(record("schakel", "adapter.quarantined"))
    assert repeats.filter(record("schakelaar", "x"))
    assert not repeats.filter(record("schakelaar", "x"))


def test_the_kinds_remembered_are_bounded() -> None:
    clock = Clock()
    repeats = RepeatFilter(30.0, kinds=3, clock=clock)
    for i in range(10):
        assert repeats.filter(record("kafka", f"message {i}"))
    assert len(repeats._seen) == 3
    assert not repeats.filter(record("kafka", "message 9"))  # remembered
    assert repeats.filter(record("kafka", "message 0"))  # forgotten: passes again


def test_the_process_handler_collapses_a_flood_into_json_lines(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stream = io.StringIO()
    monkeypatch.setattr("sys.stderr", stream)
    setup_logging("INFO", "json")
    for i in range(500):
        logging.getLogger("aiokafka.conn").error("Unable connect to node with id %s", i)
        logging.getLogger("httpx2").info("HTTP Request: POST %s", i)  # below WARNING: dropped
    logging.getLogger("schakel.streams").warning("worker.outage_retry", extra={"offset": 7})
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [(e["logger"], e["event"]) for e in lines] == [
        ("aiokafka.conn", "Unable connect to node with id 0"),
        ("schakel.streams", "worker.outage_retry"),
    ]
    assert lines[1]["offset"] == 7
    assert isinstance(logging.getLogger().handlers[0].formatter, JsonFormatter)


def test_what_a_flood_that_stopped_left_out_is_told_once_its_window_passed() -> None:
    clock = Clock()
    repeats = RepeatFilter(30.0, clock=clock)
    for second in range(10):  # ten in ten seconds, then nothing more of that kind
        clock.now = 1000.0 + second
        repeats.filter(record("aiokafka.conn", "Unable connect to node with id %s", second))
    repeats.filter(record("kafka.conn", "Broker down"))  # one of its own kind: nothing held
    clock.now = 1020.0
    assert repeats.held_back() == []  # within the window: the next of its kind may carry it
    clock.now = 1031.0
    template = "Unable connect to node with id %s"
    assert repeats.held_back() == [("aiokafka.conn", logging.ERROR, template, 9)]
    assert repeats.held_back() == []  # told once
    clock.now = 1032.0
    passed = record("aiokafka.conn", template, 1)
    assert repeats.filter(passed)  # window passed: through, the count already told
    assert not hasattr(passed, "repeated")


def test_at_exit_every_count_held_back_is_told() -> None:
    clock = Clock()
    repeats = RepeatFilter(30.0, clock=clock)
    for _ in range(4):
        repeats.filter(record("aiokafka", "Metadata refresh failed", level=logging.WARNING))
    assert repeats.held_back(all_kinds=True) == [
        ("aiokafka", logging.WARNING, "Metadata refresh failed", 3)
    ]


def test_the_process_handler_reports_held_back_lines_in_the_background(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stream = io.StringIO()
    monkeypatch.setattr("sys.stderr", stream)
    setup_logging("INFO", "json", window=0.2)
    for i in range(50):
        logging.getLogger("aiokafka.conn").error("Unable connect to node with id %s", i)
    deadline = time.monotonic() + 10
    reports: list[dict[str, object]] = []
    while not reports and time.monotonic() < deadline:
        time.sleep(0.05)
        lines = [json.loads(line) for line in stream.getvalue().splitlines()]
        reports = [e for e in lines if e["event"] == "log.repeated"]
    assert reports == [
        {
            "time": reports[0]["time"] if reports else None,
            "level": "error",
            "logger": "schakel.logs",
            "event": "log.repeated",
            "source_logger": "aiokafka.conn",
            "template": "Unable connect to node with id %s",
            "repeated": 49,
        }
    ]


def test_a_bsn_in_a_context_value_of_any_kind_is_masked() -> None:
    """Review F: the JSON lines masked string context values only; a number whose digits
    could be a BSN (an outbox row id, say), or one inside a list or dict, was written as is."""
    record = logging.LogRecord("schakel.test", logging.WARNING, __file__, 1, "iets", (), None)
    record.__dict__.update(
        rij=123456782,
        rijen=[1, 123456782, "nr 123456782"],
        per={"123456782": 123456782, "n": 7},
        waar=Path("/data/export 123456782.csv"),
        los=4.5,
        klaar=True,
        offset=42,
    )
    line = JsonFormatter().format(record)
    assert "123456782" not in line
    entry = json.loads(line)  # still JSON: a masked number becomes text
    assert entry["rij"] == "*********" and entry["rijen"][:2] == [1, "*********"]
    assert entry["per"] == {"*********": "*********", "n": 7}
    assert (entry["los"], entry["klaar"], entry["offset"]) == (4.5, True, 42)
