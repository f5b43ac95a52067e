"""Replacement detection that cannot be fooled (issue 11 item 3): the checkpoint of a line
source holds the SHA-256 of everything consumed, so a file changed anywhere in that part is
read again from the start — reported (log ``adapter.file_reread`` + metric) — and never read
on from a stale byte offset. Only a file that merely grew is read on."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from adapters.base import derive_id
from adapters.jsonlines import JsonLinesSource
from adapters.sociale_dienst import COLUMNS, SocialeDienstSource
from tests.unit.adapters.conftest import SOURCE, make_harness
from tests.unit.adapters.test_lines import event_line

HEADER = ";".join(COLUMNS) + "\n"


def row(n: int) -> str:
    return f"999990111;uitkering-toegekend;2026-01-05;bijstand;;;;;;;;R-{n:04d}\n"


def reread(registry: object, adapter: str, cause: str) -> float:
    value = registry.get_sample_value(  # type: ignore[attr-defined]  # CollectorRegistry
        "schakel_adapter_files_reread_total", {"adapter": adapter, "cause": cause}
    )
    return value or 0.0


def test_rows_inserted_in_the_middle_are_read_not_skipped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The reproduction: 200 rows, then the same file with 20 rows inserted after row 100.
    Before: `read 22, published 22`, rows 102–121 never read, nothing logged."""
    path = tmp_path / "export.csv"
    first = list(range(1, 201))
    path.write_text(HEADER + "".join(row(n) for n in first))
    hx = make_harness(SocialeDienstSource([path], source=SOURCE), tmp_path)
    assert hx.runner.run_once().published == 200

    inserted = [*range(1, 101), *range(1001, 1021), *range(101, 201)]
    path.write_text(HEADER + "".join(row(n) for n in inserted))
    with caplog.at_level(logging.WARNING, logger="schakel.adapters"):
        stats = hx.runner.run_once()
    # read again from the start: every row of the new export reaches the broker; the 200
    # known rows carry the ids they had, so downstream they are duplicates
    assert (stats.read, stats.published, stats.rejected) == (220, 220, 0)
    ids_second_run = [e.id for e in hx.publisher.acked[200:]]
    assert set(ids_second_run) >= {e.id for e in hx.publisher.acked[:200]}
    assert len(set(ids_second_run)) == 220
    assert reread(hx.registry, "sociale-dienst", "changed") == 1.0
    assert [r.getMessage() for r in caplog.records] == ["adapter.file_reread"]
    assert hx.runner.checkpoint.load()["files"][str(path)]["line"] == 221


def test_same_size_edit_beyond_the_first_kilobytes_is_noticed(tmp_path: Path) -> None:
    """A change after the first 4 KiB that keeps the size (the old head hash missed it)."""
    path = tmp_path / "export.csv"
    path.write_text(HEADER + "".join(row(n) for n in range(1, 151)))
    hx = make_harness(SocialeDienstSource([path], source=SOURCE), tmp_path)
    hx.runner.run_once()
    text = path.read_text().replace("R-0140", "R-9140")
    path.write_text(text + row(151))
    stats = hx.runner.run_once()
    assert stats.read == 151
    assert derive_id(SOURCE, "R-9140") in {e.id for e in hx.publisher.acked[150:]}
    assert reread(hx.registry, "sociale-dienst", "changed") == 1.0


def test_a_file_that_only_grew_is_read_on(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text(HEADER + "".join(row(n) for n in range(1, 101)))
    hx = make_harness(SocialeDienstSource([path], source=SOURCE), tmp_path)
    hx.runner.run_once()
    with path.open("a") as handle:
        handle.write(row(101) + row(102))
    stats = hx.runner.run_once()
    assert (stats.read, stats.published) == (2, 2)
    assert reread(hx.registry, "sociale-dienst", "changed") == 0.0


def test_a_truncated_file_is_read_from_the_start(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text(HEADER + "".join(row(n) for n in range(1, 11)))
    hx = make_harness(SocialeDienstSource([path], source=SOURCE), tmp_path)
    hx.runner.run_once()
    path.write_text(HEADER + "".join(row(n) for n in range(1, 4)))
    stats = hx.runner.run_once()
    assert stats.read == 3
    assert reread(hx.registry, "sociale-dienst", "shrunk") == 1.0


def test_a_checkpoint_without_digest_is_not_trusted(tmp_path: Path) -> None:
    """A checkpoint of the earlier format (first-4-KiB hash) cannot prove the consumed part
    unchanged: the file is read from the start once (duplicates carry the same ids)."""
    path = tmp_path / "export.csv"
    path.write_text(HEADER + "".join(row(n) for n in range(1, 6)))
    hx = make_harness(SocialeDienstSource([path], source=SOURCE), tmp_path)
    old = {"files": {str(path): {"offset": 200, "line": 3, "head": "x", "head_len": 10}}}
    hx.runner.checkpoint.save(old)
    assert hx.runner.run_once().read == 5
    assert reread(hx.registry, "sociale-dienst", "no-digest") == 1.0
    assert hx.runner.run_once().read == 0


def test_json_lines_file_rewritten_in_place_is_read_from_the_start(tmp_path: Path) -> None:
    """JSON lines had no replacement detection at all: a rewritten file was read on from
    the old offset, in the middle of a line."""
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"".join(event_line(n) for n in range(1, 51)))
    hx = make_harness(JsonLinesSource([path]), tmp_path)
    assert hx.runner.run_once().published == 50
    path.write_bytes(b"".join(event_line(n) for n in [*range(1, 26), 500, 501, *range(26, 51)]))
    stats = hx.runner.run_once()
    assert (stats.read, stats.published, stats.rejected) == (52, 52, 0)
    assert {"casus-open-500", "casus-open-501"} <= {e.id for e in hx.publisher.acked}
    assert reread(hx.registry, "publish", "changed") == 1.0
