"""The publishing path: checkpoint only after the ack, quarantine, continuous mode, submit."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from kafka.errors import KafkaConnectionError
from prometheus_client import CollectorRegistry

from adapters import publisher as publisher_module
from adapters import runner as runner_module
from adapters.base import Cursor, Location, Record, Source
from adapters.exceptions import AdapterError, PublishError, Rejection
from adapters.jsonlines import JsonLinesSource
from adapters.outbox import OutboxSource
from adapters.runner import RunStats, plain
from adapters.sociale_dienst import SocialeDienstSource
from schemas.exceptions import RegistryUnavailable
from schemas.pseudonym import Pseudonymiser
from tests.unit.adapters.conftest import (
    PSEUDONYMISER,
    SAMPLES,
    SOURCE,
    make_harness,
    make_kafka_harness,
)

EXPORT = SAMPLES / "sociale-dienst" / "export.csv"


def test_checkpoint_after_each_acknowledged_batch(tmp_path: Path) -> None:
    hx = make_harness(SocialeDienstSource([EXPORT], source=SOURCE), tmp_path, batch_size=4)
    saved: list[tuple[int, int]] = []
    original = hx.runner.checkpoint.save

    def save(cursor: Cursor) -> None:
        assert hx.publisher.queued == []  # everything before the cursor was acknowledged
        saved.append((len(hx.publisher.acked), cursor["files"][str(EXPORT)]["line"]))
        original(cursor)

    hx.runner.checkpoint.save = save  # type: ignore[method-assign]
    stats = hx.runner.run_once()
    assert (stats.read, stats.published, stats.rejected) == (11, 11, 0)
    assert saved == [(4, 5), (8, 9), (11, 12)]
    assert hx.runner.run_once().read == 0  # nothing new after the stored cursor


def test_failed_ack_stores_no_checkpoint(tmp_path: Path) -> None:
    hx = make_harness(SocialeDienstSource([EXPORT], source=SOURCE), tmp_path)
    hx.publisher.fail = True
    with pytest.raises(PublishError):
        hx.runner.run_once()
    assert hx.runner.checkpoint.load() == {}
    hx.publisher.fail = False
    assert hx.runner.run_once().published == 11


def test_a_failing_source_keeps_what_the_broker_acknowledged_before(tmp_path: Path) -> None:
    """Review F: a source failure (the second export not delivered) stopped the run without a
    checkpoint after the first file's events were sent, so every run sent them again and none
    ever stored progress. What was acknowledged is now checkpointed before the failure is
    raised; ``last_success`` is left alone (the run failed)."""
    absent = tmp_path / "absent.csv"
    hx = make_harness(SocialeDienstSource([EXPORT, absent], source=SOURCE), tmp_path)
    for _ in range(3):
        with pytest.raises(AdapterError, match=f"cannot open {absent}: .*other files were read"):
            hx.runner.run_once()
        assert len(hx.publisher.acked) == 11  # sent once, not once per run
        assert hx.publisher.queued == []
        assert hx.runner.checkpoint.load()["files"][str(EXPORT)]["line"] == 12
    last_success = ("schakel_adapter_last_success_timestamp_seconds", {"adapter": "sociale-dienst"})
    assert hx.registry.get_sample_value(*last_success) is None
    absent.write_text(EXPORT.read_text().splitlines()[0] + "\n")  # delivered: a night without rows
    assert hx.runner.run_once().read == 0
    assert (hx.registry.get_sample_value(*last_success) or 0) > 0


def test_an_outage_of_the_source_still_stores_no_checkpoint(tmp_path: Path) -> None:
    class _Outage(Source):
        name = "outage"

        def records(self, cursor: Cursor) -> Iterator[Record]:
            yield Record(Location("f"), {"n": 1}, rejection=Rejection("bad", reason="malformed"))
            raise RegistryUnavailable("registry down")

    hx = make_harness(_Outage(), tmp_path)
    with pytest.raises(RegistryUnavailable):
        hx.runner.run_once()
    assert hx.runner.checkpoint.load() == {}
    assert hx.quarantine_lines() == []


def test_rejections_are_quarantined_counted_and_never_hold_the_record(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text(
        EXPORT.read_text().splitlines()[0]
        + "\n999990112;uitkering-toegekend;2026-01-05;bijstand;;;;;;;;R-1\n"
    )
    hx = make_harness(SocialeDienstSource([path], source=SOURCE), tmp_path)
    stats = hx.runner.run_once()
    assert (stats.rejected, stats.by_reason) == (1, {"bsn": 1})
    (line,) = hx.quarantine_lines()
    entry = json.loads(line)
    assert entry["locatie"] == f"{path}:2"
    assert entry["reden"] == "bsn"
    assert entry["record_sha256"]
    assert "999990112" not in line
    # keyed, not a plain SHA-256 of the row: guessing the row (every BSN) cannot confirm it
    row = path.read_bytes().splitlines(keepends=True)[1]
    plain = hashlib.sha256(row).hexdigest()
    assert entry["record_sha256"] not in (plain, plain[:32])
    assert entry["record_sha256"] == PSEUDONYMISER.token("record", plain)
    assert Pseudonymiser("andere-sleutel").token("record", plain) != entry["record_sha256"]
    assert [t for t, _, _ in hx.publisher.raw] == ["schakel.deadletter.adapters"]
    assert (
        hx.registry.get_sample_value(
            "schakel_adapter_records_rejected_total", {"adapter": "sociale-dienst", "reason": "bsn"}
        )
        == 1
    )


class _Flaky(Source):
    name = "flaky"

    def __init__(self) -> None:
        self.calls = 0

    def records(self, cursor: Cursor) -> Iterator[Record]:
        self.calls += 1
        if self.calls == 1:
            raise AdapterError("source down")
        yield Record(
            Location("f"), {"n": self.calls}, rejection=Rejection("bad", reason="malformed")
        )


def test_continuous_mode_retries_after_a_failed_run(tmp_path: Path) -> None:
    source = _Flaky()
    hx = make_harness(source, tmp_path)
    stop = threading.Event()
    original = hx.runner.run_once

    def once():  # type: ignore[no-untyped-def]
        try:
            return original()
        finally:
            if source.calls >= 2:
                stop.set()

    hx.runner.run_once = once  # type: ignore[method-assign]
    total = hx.runner.run_forever(0.01, stop)
    assert source.calls == 2
    assert total.rejected == 1
    assert hx.runner.checkpoint.load() == {"n": 2}


def test_continuous_mode_reads_files_as_still_being_written(tmp_path: Path) -> None:
    """Review C: ``run_forever`` tells the source it is watching (a last line without its
    newline may still be being written); a one-shot run reads the files as they are."""
    seen: list[bool] = []

    class _Watched(Source):
        name = "watched"

        def records(self, cursor: Cursor) -> Iterator[Record]:
            seen.append(self.watching)
            if self.watching:
                stop.set()
            return iter(())

    source = _Watched()
    hx = make_harness(source, tmp_path)
    stop = threading.Event()
    hx.runner.run_once()
    hx.runner.run_forever(0.01, stop)
    assert seen == [False, True]
    assert source.watching is False


def test_plain_materialises_lazy_cursors() -> None:
    from adapters.iwmo import ProcessedFiles

    files = ProcessedFiles({"a.xml": "1:1:1"})
    files.add("b.xml", "2:2:2")
    before_b = files.view(without_last=True)
    with_b = files.view()
    files.add("c.xml", "3:3:3")
    files.add("b.xml", "4:4:4")  # changed and read again
    assert plain({"files": with_b}) == {"files": {"a.xml": "1:1:1", "b.xml": "2:2:2"}}
    assert plain({"files": files.view()}) == {
        "files": {"a.xml": "1:1:1", "b.xml": "4:4:4", "c.xml": "3:3:3"}
    }
    # an older snapshot read after a newer one is still right
    assert plain({"files": before_b}) == {"files": {"a.xml": "1:1:1"}}
    assert json.dumps(plain({"files": files.view()}))


def test_outbox_gaps_wait_until_settled_or_grace() -> None:
    now = [0.0]
    source = OutboxSource(
        "postgresql://unused", pseudonymiser=PSEUDONYMISER, gap_grace_s=10, clock=lambda: now[0]
    )
    assert source._gap_passable(4, 5, settled=0)  # contiguous
    assert not source._gap_passable(5, 7, settled=0)  # 6 may still commit
    assert source._gap_passable(5, 7, settled=7)  # no writer in flight: 6 is gone for good
    assert not source._gap_passable(5, 7, settled=0)
    now[0] = 10.0
    assert source._gap_passable(5, 7, settled=0)  # waited the grace period
    assert "unused" not in repr(source)


WT = "urn:nld:oin:00000001234567890000:systeem:wijkteam"


def wt_line(n: int, **over: Any) -> str:
    event: dict[str, Any] = {
        "specversion": "1.0",
        "id": f"wt-{n}",
        "source": WT,
        "type": "nl.wijkteams.casussen.geopend",
        "data": {"bsn": "999990111", "datum": "2026-01-10", "casus_id": f"W-{n}"},
    }
    event.update(over)
    return json.dumps(event)


def rejected_total(registry: CollectorRegistry, adapter: str, reason: str) -> float:
    value = registry.get_sample_value(
        "schakel_adapter_records_rejected_total", {"adapter": adapter, "reason": reason}
    )
    return value or 0.0


def test_an_oversized_event_is_quarantined_and_the_lines_after_it_are_published(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the review's case: a 600 KB id on a JSON-lines line (lines up to 1 MiB are read) was
    # refused by kafka-python for its size, taken for an outage and retried for ever
    path = tmp_path / "e.jsonl"
    path.write_text(wt_line(1, id="wt-" + "x" * 600_000) + "\n" + wt_line(2) + "\n")
    hx = make_kafka_harness(JsonLinesSource([path]), tmp_path, monkeypatch)
    stats = hx.runner.run_once()
    assert (stats.read, stats.published, stats.rejected) == (2, 1, 1)
    assert stats.by_reason == {"too-large": 1}
    (line,) = hx.quarantine_lines()
    entry = json.loads(line)
    assert (entry["locatie"], entry["reden"]) == (f"{path}:1", "too-large")
    assert "xxxx" not in line and len(line) < 1000  # never the content
    assert sorted(topic for topic, _, _ in hx.broker.acked) == [
        "schakel.deadletter.adapters",
        "schakel.wijkteam.events",
    ]
    assert hx.runner.checkpoint.load()
    assert hx.runner.run_once().read == 0


@pytest.mark.parametrize("refused_by", ["producer", "broker"])
def test_an_event_kafka_refuses_for_its_size_is_quarantined_and_the_source_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, refused_by: str
) -> None:
    # a valid event (every attribute within its bound) on a topic configured smaller
    big = wt_line(
        2, id="i" * 256, data={"bsn": "999990111", "datum": "2026-01-10", "casus_id": "c" * 256}
    )
    path = tmp_path / "e.jsonl"
    path.write_text("\n".join([wt_line(1), big, wt_line(3)]) + "\n")
    if refused_by == "producer":  # a smaller max_request_size
        monkeypatch.setattr(publisher_module, "MAX_REQUEST_BYTES", 800)
    hx = make_kafka_harness(JsonLinesSource([path]), tmp_path, monkeypatch, batch_size=2)
    if refused_by == "broker":
        hx.broker.limit = 400  # the topic's max.message.bytes
    stats = hx.runner.run_once()
    assert (stats.read, stats.published, stats.rejected) == (3, 2, 1)
    (entry,) = [json.loads(line) for line in hx.quarantine_lines()]
    assert (entry["locatie"], entry["reden"]) == (f"{path}:2", "too-large")
    published = [value for topic, _, value in hx.broker.acked if topic.endswith(".events")]
    assert len(published) == 2
    assert rejected_total(hx.registry, "publish", "too-large") == 1
    sample = {"adapter": "publish", "type": "nl.wijkteams.casussen.geopend"}
    assert hx.registry.get_sample_value("schakel_adapter_records_published_total", sample) == 2
    assert hx.runner.checkpoint.load()["files"][str(path)]["line"] == 3


@pytest.mark.parametrize("outage", ["unreachable", "flush-timeout"])
def test_a_broker_outage_is_waited_out_and_quarantines_nothing_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, outage: str
) -> None:
    path = tmp_path / "e.jsonl"
    path.write_text("\n".join([wt_line(1), '{"bad": 1}', wt_line(3)]) + "\n")
    hx = make_kafka_harness(JsonLinesSource([path]), tmp_path, monkeypatch)
    monkeypatch.setattr(runner_module, "OUTAGE_FIRST_WAIT_S", 0.001)
    monkeypatch.setattr(runner_module, "FLUSH_TIMEOUT_S", 0.05)
    if outage == "unreachable":
        hx.broker.outage = KafkaConnectionError("broker unreachable")
    else:
        hx.broker.flush_times_out = True
    runs = {"n": 0}
    stop = threading.Event()
    original = hx.runner.run_once

    def once() -> RunStats:
        runs["n"] += 1
        if runs["n"] == 3:  # the broker is back
            hx.broker.outage, hx.broker.flush_times_out = None, False
        try:
            return original()
        except PublishError:
            assert hx.runner.checkpoint.load() == {}
            assert hx.quarantine_lines() == []  # nothing held is written for a failed run
            raise
        finally:
            if runs["n"] >= 3:
                stop.set()

    hx.runner.run_once = once  # type: ignore[method-assign]
    total = hx.runner.run_forever(0.001, stop)
    assert runs["n"] == 3
    assert (total.read, total.published, total.rejected) == (3, 2, 1)
    assert len(hx.quarantine_lines()) == 1  # the bad line once, not once per attempt
    assert rejected_total(hx.registry, "publish", "missing-field") == 1
    assert hx.runner.checkpoint.load()


def test_a_broker_outage_after_a_rejection_writes_its_entry_once(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    path.write_text(wt_line(1) + "\n" + '{"bad": 1}\n')
    hx = make_harness(JsonLinesSource([path]), tmp_path)
    hx.publisher.fail = True
    with pytest.raises(PublishError):
        hx.runner.run_once()
    hx.publisher.fail = False
    stats = hx.runner.run_once()
    hx.runner.close()
    assert (stats.published, stats.rejected) == (1, 1)
    assert len(hx.quarantine_lines()) == 1
    assert rejected_total(hx.registry, "publish", "missing-field") == 1


def test_the_reject_hook_fires_once_per_record_when_an_outage_repeats_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # replay's report: it fired at every attempt, and for an attempt whose entry was dropped
    path = tmp_path / "e.jsonl"
    path.write_text(wt_line(1) + "\n" + '{"bad": 1}\n')
    hx = make_harness(JsonLinesSource([path]), tmp_path)
    monkeypatch.setattr(runner_module, "OUTAGE_FIRST_WAIT_S", 0.001)
    hx.publisher.fail = True
    stop = threading.Event()
    original = hx.runner.run_once
    runs = {"n": 0}

    def once() -> RunStats:
        runs["n"] += 1
        try:
            return original()
        except PublishError:
            assert hx.rejected == []  # nothing reported for a run whose entries were dropped
            hx.publisher.fail = runs["n"] < 2
            raise
        finally:
            if runs["n"] >= 3:
                stop.set()

    hx.runner.run_once = once  # type: ignore[method-assign]
    total = hx.runner.run_forever(0.001, stop)
    hx.runner.close()
    assert runs["n"] == 3 and total.rejected == 1
    assert len(hx.quarantine_lines()) == 1
    assert [(loc, reason) for loc, reason, _ in hx.rejected] == [(f"{path}:2", "missing-field")]


def test_a_registry_outage_quarantines_a_bad_line_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the review's case: while the registry was down, every outage retry wrote the line again
    path = tmp_path / "e.jsonl"
    path.write_text('{"bad": 1}\n')
    hx = make_harness(JsonLinesSource([path]), tmp_path)
    serializer = hx.publisher.serializer
    encode = serializer.encode
    down = {"calls": 3}

    def flaky(topic: str, name: str, record: Mapping[str, Any]) -> bytes:
        if down["calls"]:
            down["calls"] -= 1
            raise RegistryUnavailable("registry unreachable (test)")
        return encode(topic, name, record)

    monkeypatch.setattr(serializer, "encode", flaky)
    monkeypatch.setattr(runner_module, "OUTAGE_FIRST_WAIT_S", 0.001)
    stop = threading.Event()
    original = hx.runner.run_once

    def once() -> RunStats:
        stats = original()
        stop.set()
        return stats

    hx.runner.run_once = once  # type: ignore[method-assign]
    total = hx.runner.run_forever(0.001, stop)
    hx.runner.close()
    assert down["calls"] == 0 and total.rejected == 1
    assert len(hx.quarantine_lines()) == 1
    assert len(hx.publisher.raw) == 1
    assert rejected_total(hx.registry, "publish", "missing-field") == 1


def test_an_outage_log_line_says_what_was_away(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """``adapter.outage`` names the error and its message (which registry, which broker): the
    class name alone ("RegistryUnavailable") left the operator to guess where to look."""
    path = tmp_path / "e.jsonl"
    path.write_text(wt_line(1) + "\n")
    hx = make_harness(JsonLinesSource([path]), tmp_path)
    monkeypatch.setattr(runner_module, "OUTAGE_FIRST_WAIT_S", 0.001)
    stop = threading.Event()

    runs = []

    def once() -> RunStats:
        runs.append(1)
        if len(runs) > 1:
            stop.set()
            return RunStats()
        raise RegistryUnavailable("schema registry http://registry:8081: unreachable")

    hx.runner.run_once = once  # type: ignore[method-assign]
    with caplog.at_level("WARNING", logger="schakel.adapters"):
        hx.runner.run_forever(0.001, stop)
    hx.runner.close()
    (record,) = [r for r in caplog.records if r.getMessage() == "adapter.outage"]
    assert record.__dict__["error"] == "RegistryUnavailable"
    assert "http://registry:8081" in record.__dict__["detail"]


def test_a_stop_that_cuts_a_flush_short_is_no_outage(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Reproduction: SIGTERM while a flush waited for the broker was logged as
    ``adapter.outage`` (with a ``retry_in_s`` that never came): the operator who stopped the
    adapter read of an outage. It is ``adapter.stopped_unacknowledged`` (info) now, and the
    loop ends at once; the records are read again at the next start (no checkpoint)."""
    path = tmp_path / "e.jsonl"
    path.write_text(wt_line(1) + "\n")
    hx = make_harness(JsonLinesSource([path]), tmp_path)
    stop = threading.Event()

    def once() -> RunStats:
        stop.set()  # SIGTERM arrives while the flush waits
        raise PublishError("broker did not acknowledge: stopped before the broker acknowledged")

    hx.runner.run_once = once  # type: ignore[method-assign]
    with caplog.at_level("INFO", logger="schakel.adapters"):
        hx.runner.run_forever(3600.0, stop)  # returns at once: no wait after a stop
    hx.runner.close()
    told = [r.getMessage() for r in caplog.records]
    assert "adapter.outage" not in told
    assert "adapter.stopped_unacknowledged" in told
    assert hx.runner.checkpoint.load() == {}
