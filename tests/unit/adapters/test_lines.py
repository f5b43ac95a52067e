"""Line completeness (issue 11 item 2): in continuous mode a line without its newline at the end
of a file may still be being written; no adapter consumes it until its newline arrives or the
file has settled (unchanged since the poll that held it back), and the checkpoint's line count
always equals the number of lines consumed. A one-shot run (``--once``) reads the files as
they are, the last line without its newline included. CSV and JSON lines share one line reader
(:mod:`adapters.lines`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from adapters import csvsource, jsonlines, lines
from adapters.base import Source
from adapters.exceptions import Rejection
from adapters.jsonlines import JsonLinesSource
from adapters.lines import read_lines
from adapters.sociale_dienst import COLUMNS, SocialeDienstSource
from adapters.wijkteam import WijkteamSource
from tests.unit.adapters.conftest import SOURCE, make_harness

BSN = "999990111"
WT = "urn:nld:oin:00000001234567890000:systeem:wijkteam"


def event_line(n: int, *, source: str = WT, prefix: str = "casus-open") -> bytes:
    """Line ``n`` of a JSON-lines file: a wijkteam case opened, id ``<prefix>-<n>``."""
    event = {
        "specversion": "1.0",
        "id": f"{prefix}-{n}",
        "source": source,
        "type": "nl.wijkteams.casussen.geopend",
        "data": {"bsn": BSN, "datum": "2026-01-05", "casus_id": f"C-{n}"},
    }
    return json.dumps(event).encode() + b"\n"


def csv_line(n: int) -> bytes:
    return f"{BSN};uitkering-toegekend;2026-01-05;bijstand;;;;;;;;R-{n}\n".encode()


CSV_HEADER = (";".join(COLUMNS) + "\n").encode()


def watching(source: Source) -> Source:
    """``source`` reading its files as in continuous mode (:attr:`Source.watching`)."""
    source.watching = True
    return source


@pytest.mark.parametrize("kind", ["publish", "wijkteam"])
def test_half_written_last_json_line_waits_for_its_newline(tmp_path: Path, kind: str) -> None:
    """The reproduction: 5 lines plus 60 bytes of line 6, run once; complete the file (10
    lines) and run again: all 10 events published once, checkpoint at line 10."""
    path = tmp_path / "events.jsonl"
    full = b"".join(event_line(n) for n in range(1, 11))
    five = b"".join(event_line(n) for n in range(1, 6))
    path.write_bytes(five + event_line(6)[:60])
    source: Source = JsonLinesSource([path]) if kind == "publish" else WijkteamSource([path])
    source.watching = True  # continuous mode
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
    hx = make_harness(watching(SocialeDienstSource([path], source=SOURCE)), tmp_path)

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
    hx = make_harness(watching(JsonLinesSource([path])), tmp_path)
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
    hx = make_harness(watching(JsonLinesSource([path])), tmp_path)
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


def test_a_one_shot_run_reads_the_last_row_without_its_newline(tmp_path: Path) -> None:
    """Review C: an export whose last row had no newline never had that row read — not with
    ``--once``, not when the next night's export (again without it) replaced the file. A
    one-shot run reads the file as it is; the next export is read on or again as before."""
    path = tmp_path / "export.csv"
    rows = [csv_line(n).replace(b"\n", b"\r\n") for n in (1, 2, 3)]
    path.write_bytes(CSV_HEADER + rows[0] + rows[1].rstrip(b"\r\n"))
    hx = make_harness(SocialeDienstSource([path], source=SOURCE), tmp_path)
    first = hx.runner.run_once()
    assert (first.read, first.published, first.rejected) == (2, 2, 0)
    stored = hx.runner.checkpoint.load()["files"][str(path)]
    assert (stored["offset"], stored["line"]) == (path.stat().st_size, 3)
    path.write_bytes(CSV_HEADER + rows[0] + rows[1] + rows[2].rstrip(b"\r\n"))  # next night
    second = hx.runner.run_once()
    assert (second.read, second.published, second.rejected) == (1, 1, 0)
    assert len({e.id for e in hx.publisher.acked}) == 3
    assert hx.runner.checkpoint.load()["files"][str(path)]["line"] == 4
    assert hx.quarantine_lines() == []
    gauge = {"adapter": "sociale-dienst"}
    assert hx.registry.get_sample_value("schakel_adapter_incomplete_lines", gauge) == 0.0


@pytest.mark.parametrize("kind", ["publish", "wijkteam"])
def test_a_one_shot_run_reads_the_last_json_line_without_its_newline(
    tmp_path: Path, kind: str
) -> None:
    path = tmp_path / "events.jsonl"
    path.write_bytes(event_line(1) + event_line(2).rstrip(b"\n"))
    source: Source = JsonLinesSource([path]) if kind == "publish" else WijkteamSource([path])
    hx = make_harness(source, tmp_path)
    assert hx.runner.run_once().published == 2
    with path.open("ab") as handle:  # the file goes on after all
        handle.write(b"\n" + event_line(3))
    stats = hx.runner.run_once()
    assert (stats.read, stats.published, stats.rejected) == (1, 1, 0)
    assert hx.runner.checkpoint.load()["files"][str(path)]["line"] == 3


def test_continuous_mode_reads_a_last_line_once_the_file_has_settled(tmp_path: Path) -> None:
    """In continuous mode the last line without its newline waits while the file changes,
    and is read at the first poll that finds the file as the poll before left it."""
    path = tmp_path / "export.csv"
    rows = [csv_line(n) for n in (1, 2, 3)]
    path.write_bytes(CSV_HEADER + rows[0] + rows[1][:10])
    hx = make_harness(watching(SocialeDienstSource([path], source=SOURCE)), tmp_path)
    assert hx.runner.run_once().read == 1  # held back
    path.write_bytes(CSV_HEADER + rows[0] + rows[1] + rows[2][:-1])  # still being written
    assert hx.runner.run_once().read == 1  # row 2; row 3 held back: the file changed
    gauge = {"adapter": "sociale-dienst"}
    assert hx.registry.get_sample_value("schakel_adapter_incomplete_lines", gauge) == 1.0
    stats = hx.runner.run_once()  # unchanged since: the writer finished without a newline
    assert (stats.read, stats.published, stats.rejected) == (1, 1, 0)
    assert hx.registry.get_sample_value("schakel_adapter_incomplete_lines", gauge) == 0.0
    assert len({e.id for e in hx.publisher.acked}) == 3


@pytest.mark.parametrize("kind", ["csv", "jsonl"])
def test_a_settled_poll_does_not_read_a_line_begun_after_it_judged_the_file(
    tmp_path: Path, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A review found a poll that judged the file complete reading on to the current end: a
    line the writer began meanwhile (during the poll, which reads from line 1) was read half
    and its rest quarantined. Only what the file held when it was judged is read."""
    path = tmp_path / f"x.{kind}"
    if kind == "csv":
        head, rows = CSV_HEADER, [csv_line(n) for n in (1, 2, 3)]
        source: Source = SocialeDienstSource([path], source=SOURCE)
    else:
        head, rows = b"", [event_line(n) for n in (1, 2, 3)]
        source = JsonLinesSource([path])
    path.write_bytes(head + rows[0] + rows[1][:-1])
    hx = make_harness(watching(source), tmp_path)
    assert hx.runner.run_once().read == 1  # row 2 held back
    judged = lines.Settle.final

    def writer_resumes(self: lines.Settle, *args: object) -> bool:
        final = judged(self, *args)  # type: ignore[arg-type]
        with path.open("ab") as handle:  # row 2's newline, then half of row 3
            handle.write(b"\n" + rows[2][:10])
        return final

    monkeypatch.setattr(lines.Settle, "final", writer_resumes)
    assert hx.runner.run_once().read == 1  # row 2 (settled); row 3 not: begun after
    monkeypatch.setattr(lines.Settle, "final", judged)
    with path.open("ab") as handle:
        handle.write(rows[2][10:])
    assert hx.runner.run_once().read == 1  # row 3, whole
    assert hx.rejected == []
    assert len({e.id for e in hx.publisher.acked}) == 3


@pytest.mark.parametrize("kind", ["csv", "jsonl"])
def test_a_line_that_grows_after_it_was_read_is_quarantined(tmp_path: Path, kind: str) -> None:
    """A writer that paused mid-line for longer than a poll interval: the part read is handled,
    the rest is quarantined (``malformed``, naming the line), never lost unseen — and a line
    whose newline alone arrived later is no new line."""
    path = tmp_path / f"x.{kind}"
    if kind == "csv":
        head, line, rest, more = CSV_HEADER + csv_line(1), csv_line(2)[:-5], b";R\n", csv_line(3)
        source: Source = SocialeDienstSource([path], source=SOURCE)
    else:
        head, line, rest, more = event_line(1), event_line(2)[:-1], b" \n", event_line(3)
        line, rest = line[:20], line[20:] + b"\n"
        source = JsonLinesSource([path])
    path.write_bytes(head + line)
    hx = make_harness(watching(source), tmp_path)
    hx.runner.run_once()
    hx.runner.run_once()  # settled: the part read
    with path.open("ab") as handle:
        handle.write(rest + more)
    stats = hx.runner.run_once()
    number = 3 if kind == "csv" else 2
    assert hx.rejected[-1][:2] == (f"{path}:{number}", "malformed")
    assert hx.rejected[-1][2].startswith(f"line {number} was read before without its newline")
    assert stats.published == 1  # the line after it
    assert hx.runner.checkpoint.load()["files"][str(path)]["line"] == number + 1


def test_a_csv_file_with_cr_only_line_ends_is_rejected_as_a_whole(tmp_path: Path) -> None:
    """Review C: with classic Mac OS line ends (CR alone) the whole export was one line still
    being written: nothing read, nothing quarantined. It is rejected once, saying why."""
    path = tmp_path / "export.csv"
    path.write_bytes((CSV_HEADER + csv_line(1) + csv_line(2)).replace(b"\n", b"\r"))
    for source in (
        SocialeDienstSource([path], source=SOURCE),
        watching(SocialeDienstSource([path], source=SOURCE)),
    ):
        hx = make_harness(source, tmp_path / str(source.watching))
        stats = hx.runner.run_once()
        assert (stats.read, stats.by_reason) == (1, {"delimiter": 1})
        assert hx.rejected == [
            (
                f"{path}:1",
                "delimiter",
                "the lines end with a carriage return only (classic Mac OS); export the file "
                "with LF or CRLF line endings",
            )
        ]
        assert hx.runner.run_once().read == 0  # once


def test_json_lines_ended_by_a_carriage_return_only_say_so(tmp_path: Path) -> None:
    """A review found them quarantined as one line with "Extra data" and nothing to say why
    (the CSV source rejects such a file with its reason)."""
    path = tmp_path / "mac.jsonl"
    path.write_bytes(b'{"a": 1}\r{"b": 2}\r')
    with pytest.raises(Rejection) as refused:
        jsonlines.json_object(path.read_bytes(), "line 1")
    assert "carriage return only" in str(refused.value)
    assert refused.value.reason == "malformed"
    with pytest.raises(Rejection) as other:  # extra data after a newline-free space
        jsonlines.json_object(b'{"a": 1} {"b": 2}', "line 1")
    assert "carriage return" not in str(other.value)
