"""The publishing path: checkpoint only after the ack, quarantine, continuous mode, submit."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.base import Cursor, Location, Record, Source
from adapters.exceptions import AdapterError, PublishError, Rejection
from adapters.outbox import OutboxSource
from adapters.runner import plain
from adapters.sociale_dienst import SocialeDienstSource
from tests.unit.adapters.conftest import SAMPLES, SOURCE, make_harness

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
    source = OutboxSource("postgresql://unused", gap_grace_s=10, clock=lambda: now[0])
    assert source._gap_passable(4, 5, settled=0)  # contiguous
    assert not source._gap_passable(5, 7, settled=0)  # 6 may still commit
    assert source._gap_passable(5, 7, settled=7)  # no writer in flight: 6 is gone for good
    assert not source._gap_passable(5, 7, settled=0)
    now[0] = 10.0
    assert source._gap_passable(5, 7, settled=0)  # waited the grace period
    assert "unused" not in repr(source)
