"""The reproductions of issue 11 items 2 and 3 and of review C items 1 and 5, run as a user
runs them — the ``schakel`` CLI against the real (embedded) broker:

- ``schakel publish`` over a JSON-lines file whose last line is still being written, run
  once, the file completed, run again: every event reaches the topic once, none half, and the
  checkpoint counts the lines there are (before: event 6 never arrived, the checkpoint said
  line 11 of 10); a finished file without a final newline is published whole in one run
  (before: its last line was held back by every run); a missing path is exit 2;
- ``schakel adapter sociale-dienst --once`` over 200 rows, then the same export with 20 rows
  inserted after row 100: every row reaches the topic (before: ``read 22, published 22``,
  rows 102–121 never read, no log line)."""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path

from adapters.sociale_dienst import COLUMNS as SD_COLUMNS
from schemas.settings import Settings
from tests.cli import run_cli
from tests.integration.adapters.conftest import events_of
from tests.integration.adapters.test_crash import cli_env
from tests.unit.adapters.test_lines import event_line as lines_event_line

BSN = "999990111"
COLUMNS = ";".join(SD_COLUMNS)


def event_line(source: str, n: int) -> bytes:
    """Line ``n`` of the JSON-lines file these tests publish (id ``half-<n>``)."""
    return lines_event_line(n, source=source, prefix="half")


def test_publish_waits_for_the_newline_of_a_line_still_being_written(
    adapter_settings: Settings, tmp_path: Path
) -> None:
    """A writer still appending to the last line while ``publish`` runs — through its settle
    time — keeps that line back (exit 4, the file named on stderr), never read half; the next
    run, after the writer finished the line, reads it whole."""
    source = f"urn:nld:oin:{adapter_settings.oin}:systeem:wijkteam"
    head = b'{"specversion": "1.0", "id": "half-6", '  # line 6, as far as it is written
    tail = event_line(source, 6)[len(head) :]
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"".join(event_line(source, n) for n in range(1, 6)) + head)
    stop = threading.Event()

    def writer() -> None:  # JSON allows any whitespace between the members: line 6 grows
        while not stop.wait(0.05):
            with path.open("ab") as handle:
                handle.write(b" ")

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    env = cli_env(adapter_settings)
    try:
        first = run_cli("publish", str(path), env=env)
    finally:
        stop.set()
        thread.join(5)
    assert first.returncode == 4, first.stdout + first.stderr[-2000:]
    assert "read 5, published 5, rejected 0" in first.stdout
    assert (
        f"publish: {path}: its last line was not published: the file was still being written"
    ) in first.stderr
    with path.open("ab") as handle:  # the writer finishes line 6, and writes four more
        handle.write(tail + b"".join(event_line(source, n) for n in range(7, 11)))
    second = run_cli("publish", str(path), env=env)
    assert second.returncode == 0, second.stderr
    assert "read 5, published 5, rejected 0" in second.stdout
    assert "not published" not in second.stderr
    messages = events_of(adapter_settings.kafka_bootstrap or "", "schakel.wijkteam.events", source)
    assert sorted(m.record["id"] for m in messages) == sorted(f"half-{n}" for n in range(1, 11))
    checkpoint = json.loads(
        (adapter_settings.data_dir / "checkpoints" / "publish.json").read_text()
    )
    assert checkpoint["files"][str(path)]["line"] == 10


def test_publish_reads_the_last_line_of_a_finished_file_without_its_newline(
    adapter_settings: Settings, tmp_path: Path
) -> None:
    """Review C item 1: a file that does not change during the settle time is finished, and
    its last line is published in the same run (before, it was held back by every run for
    ever, with exit 0)."""
    source = f"urn:nld:oin:{adapter_settings.oin}:systeem:wijkteam"
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"".join(event_line(source, n) for n in range(1, 4)).removesuffix(b"\n"))
    env = cli_env(adapter_settings)
    result = run_cli("publish", str(path), env=env)
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]
    assert "read 3, published 3, rejected 0" in result.stdout
    assert "not published" not in result.stderr
    messages = events_of(adapter_settings.kafka_bootstrap or "", "schakel.wijkteam.events", source)
    assert sorted(m.record["id"] for m in messages) == ["half-1", "half-2", "half-3"]
    checkpoint = json.loads(
        (adapter_settings.data_dir / "checkpoints" / "publish.json").read_text()
    )
    assert checkpoint["files"][str(path)] == {
        "offset": path.stat().st_size,
        "line": 3,
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
    }
    again = run_cli("publish", str(path), env=env)
    assert again.returncode == 0 and "read 0, published 0" in again.stdout, again.stderr


def test_rows_inserted_in_a_re_export_are_all_read(
    adapter_settings: Settings, tmp_path: Path
) -> None:
    def row(n: int) -> str:
        return f"{BSN};uitkering-toegekend;2026-01-05;bijstand;;;;;;;;R-{n:04d}\n"

    path = tmp_path / "export.csv"
    path.write_text(COLUMNS + "\n" + "".join(row(n) for n in range(1, 201)))
    env = cli_env(adapter_settings)
    argv = ("adapter", "sociale-dienst", str(path), "--once")
    first = run_cli(*argv, env=env)
    assert first.returncode == 0, first.stderr
    assert "read 200, published 200" in first.stdout
    rows = [*range(1, 101), *range(1001, 1021), *range(101, 201)]
    path.write_text(COLUMNS + "\n" + "".join(row(n) for n in rows))
    second = run_cli(*argv, env=env)
    assert second.returncode == 0, second.stderr
    assert "read 220, published 220" in second.stdout  # read again from the start
    assert "adapter.file_reread" in second.stderr  # and said so
    source = f"urn:nld:oin:{adapter_settings.oin}:systeem:sociale-dienst"
    topic = "schakel.participatiewet.events"
    messages = events_of(adapter_settings.kafka_bootstrap or "", topic, source)
    assert len({m.record["id"] for m in messages}) == 220  # every row, the 200 known ones once
    assert len(messages) == 420  # 200 + 220 copies; the repeated 200 are duplicates downstream


def test_publish_refuses_a_missing_file_before_it_writes_anything(
    adapter_settings: Settings, tmp_path: Path
) -> None:
    """Review C item 5: a mistyped path was exit 3 with an ``unreadable`` quarantine entry and
    dead letter; it is bad arguments (exit 2, as ``replay``), and nothing is written."""
    good = tmp_path / "events.jsonl"
    good.write_text("")
    result = run_cli(
        "publish", str(good), str(tmp_path / "nope.jsonl"), env=cli_env(adapter_settings)
    )
    assert result.returncode == 2, result.stdout + result.stderr[-2000:]
    assert result.stderr.strip() == (
        f"schakel publish: FILE: {tmp_path / 'nope.jsonl'}: no such file or directory"
    )
    assert not (adapter_settings.data_dir / "quarantaine").exists()
    assert not (adapter_settings.data_dir / "checkpoints").exists()
