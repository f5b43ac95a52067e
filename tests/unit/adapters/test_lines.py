"""Line completeness (issue 11 item 2): a line without its newline at the end of a file is still
being written; no adapter consumes it until its newline arrives, and the checkpoint's line
count always equals the number of complete lines consumed. CSV and JSON lines share one line
reader (:mod:`adapters.lines`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from adapters import csvsource, jsonlines
from adapters.base import Source
from adapters.jsonlines import JsonLinesSource
from adapters.lines import read_lines
from adapters.sociale_dienst import COLUMNS, SocialeDienstSource
from adapters.wijkteam import WijkteamSource
from tests.unit.adapters.conftest import SOURCE, make_harness

BSN = "999990111"
WT = "urn:nld:oin:00000001234567890000:systeem:wijkteam"


def event_line(n: int) -> bytes:
    event = {
        "specversion": "1.0",
        "id": f"casus-open-{n}",
        "source": WT,
        "type": "nl.wijkteams.casussen.geopend",
        "data": {"bsn": BSN, "datum": "2026-01-05", "casus_id": f"C-{n}"},
    }
    return json.dumps(event).encode() + b"\n"


def csv_line(n: int) -> bytes:
    return f"{BSN};uitkering-toegekend;2026-01-05;bijstand;;;;;;;;R-{n}\n".encode()


CSV_HEADER = (";".join(COLUMNS) + "\n").encode()


@pytest.mark.parametrize("kind", ["publish", "wijkteam"])
def test_half_written_last_json_line_waits_for_its_newline(tmp_path: Path, kind: str) -> None:
    """The reproduction: 5 lines plus 60 bytes of line 6, run once; complete the file (10
    lines) and run again: all 10 events published once, checkpoint at line 10."""
    path = tmp_path / "events.jsonl"
    full = b"".join(event_line(n) for n in range(1, 11))
    five = b"".join(event_line(n) for n in range(1, 6))
    path.write_bytes(five + event_line(6)[:60])
    source: Source = JsonLinesSource([path]) if kind == "publish" else WijkteamSource([path])
    hx = make_harness(source, tmp_path)

    first = hx.runner.run_once()
    assert (first.read, first.published, first.rejected) == (5, 5, 0)
    stored = hx.runner.checkpoint.load()["files"][str(path)]
    assert (stored["offset"], stored["line"]) == (len(five), 5)

    path.write_bytes(full)
    second = hx.runner.run_once()
    assert (second.read, second.published, second.rejected) == (5, 5, 0)
    assert [e.id for e in hx.publisher.acked] == [f"casus-open-{n}" for n in range(1, 11)]
    stored = hx.runner.checkpoint.load()["files"][str(path)]
    assert (stored["offset"], stored["line"]) == (len(full), 10)
    assert hx.quarantine_lines() == []


def test_half_written_last_csv_row_waits_for_its_newline(tmp_path: Path) -> None:
    """The same class of defect in the CSV reader: a truncated last row was published with a
    truncated ``registratie_id`` (another event id) and its rest then read as a bad row."""
    path = tmp_path / "export.csv"
    rows = [csv_line(n) for n in range(10, 20)]
    path.write_bytes(CSV_HEADER + b"".join(rows[:5]) + rows[5][:-4])
    hx = make_harness(SocialeDienstSource([path], source=SOURCE), tmp_path)

    first = hx.runner.run_once()
    assert (first.read, first.published, first.rejected) == (5, 5, 0)
    path.write_bytes(CSV_HEADER + b"".join(rows))
    second = hx.runner.run_once()
    assert (second.read, second.published, second.rejected) == (5, 5, 0)
    assert len({e.id for e in hx.publisher.acked}) == 10
    stored = hx.runner.checkpoint.load()["files"][str(path)]
    assert stored["line"] == 11  # header + 10 rows
    assert hx.quarantine_lines() == []


def test_incomplete_last_line_is_reported_not_silent(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_bytes(event_line(1) + event_line(2)[:30])
    hx = make_harness(JsonLinesSource([path]), tmp_path)
    hx.runner.run_once()
    assert (
        hx.registry.get_sample_value("schakel_adapter_incomplete_lines", {"adapter": "publish"})
        == 1.0
    )
    path.write_bytes(event_line(1) + event_line(2))
    hx.runner.run_once()
    assert (
        hx.registry.get_sample_value("schakel_adapter_incomplete_lines", {"adapter": "publish"})
        == 0.0
    )


def test_an_over_long_unterminated_last_line_is_not_consumed_either(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_bytes(event_line(1) + b"x" * (jsonlines.MAX_LINE_BYTES + 10))
    hx = make_harness(JsonLinesSource([path]), tmp_path)
    stats = hx.runner.run_once()
    assert (stats.read, stats.rejected) == (1, 0)
    with path.open("ab") as handle:
        handle.write(b"\n" + event_line(3))
    stats = hx.runner.run_once()
    assert (stats.read, stats.published, stats.rejected) == (2, 1, 1)
    assert hx.rejected[0][1] == "too-large"
    assert hx.runner.checkpoint.load()["files"][str(path)]["line"] == 3


def test_one_line_reader_for_csv_and_json_lines() -> None:
    """The conventions ask for one line reader: both sources read through adapters.lines."""
    assert vars(csvsource)["read_lines"] is read_lines
    assert vars(jsonlines)["read_lines"] is read_lines
