"""Quarantine entries: a location that is always valid UTF-8, and a dead letter that cannot be
built for one entry does not stop the source."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import resource
import signal
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from adapters.base import Location, Source, printable
from adapters.exceptions import QuarantineError
from adapters.iwmo.source import IwmoSource
from adapters.jsonlines import JsonLinesSource
from adapters.quarantine import Quarantine
from adapters.sociale_dienst import SocialeDienstSource
from schemas.exceptions import RegistryNotFound, SerdeError
from tests.unit.adapters.conftest import PSEUDONYMISER, SAMPLES, SOURCE, make_harness

LATIN1_NAME = b"bericht_gemeente_\xe9"  # a Windows-1252 file name: not valid UTF-8
SHOWN = "bericht_gemeente_\\xe9"


def test_printable_shows_undecodable_bytes_and_keeps_valid_text() -> None:
    assert printable("Zoë/bericht.xml") == "Zoë/bericht.xml"
    assert printable(os.fsdecode(b"/in/" + LATIN1_NAME + b".xml")) == f"/in/{SHOWN}.xml"
    assert printable("a\ud800b") == "a\\ud800b"  # a lone surrogate from a JSON escape
    where = Location(os.fsdecode(b"/in/" + LATIN1_NAME + b".csv"), 3, "kolom bsn")
    assert str(where) == f"/in/{SHOWN}.csv:3 kolom bsn"
    str(where).encode("utf-8")


def _iwmo(tmp: Path) -> tuple[Source, Path]:
    inbox = tmp / "inbox"
    inbox.mkdir()
    bad = Path(os.fsdecode(os.fsencode(inbox) + b"/" + LATIN1_NAME + b".xml"))
    bad.write_bytes(b"<not-xml")
    (inbox / "z_later.xml").write_bytes(b"<also-bad")
    return IwmoSource(inbox, source=SOURCE, max_bytes=1 << 20, pseudonymiser=PSEUDONYMISER), bad


def _jsonlines(tmp: Path) -> tuple[Source, Path]:
    bad = Path(os.fsdecode(os.fsencode(tmp) + b"/" + LATIN1_NAME + b".jsonl"))
    bad.write_text('{"bad": 1}\n')
    later = tmp / "later.jsonl"
    later.write_text("{oops\n")
    return JsonLinesSource([bad, later]), bad


def _sociale_dienst(tmp: Path) -> tuple[Source, Path]:
    header = (SAMPLES / "sociale-dienst" / "export.csv").read_text().splitlines()[0]
    bad = Path(os.fsdecode(os.fsencode(tmp) + b"/" + LATIN1_NAME + b".csv"))
    bad.write_text(header + "\n999990112;uitkering-toegekend;2026-01-05;bijstand;;;;;;;;R-1\n")
    later = tmp / "later.csv"
    later.write_text(header + "\n999990112;uitkering-toegekend;2026-01-05;bijstand;;;;;;;;R-2\n")
    return SocialeDienstSource([bad, later], source=SOURCE), bad


@pytest.mark.parametrize("make", [_iwmo, _jsonlines, _sociale_dienst])
def test_a_file_name_that_is_not_utf8_is_quarantined_and_the_other_files_are_read(
    tmp_path: Path, make: Any
) -> None:
    # the review's case: a surrogate-escaped name raised UnicodeEncodeError from the
    # quarantine, every run, and the files after it were never read
    source, bad = make(tmp_path)
    hx = make_harness(source, tmp_path)
    stats = hx.runner.run_once()
    assert stats.rejected == 2
    first, second = (json.loads(line) for line in hx.quarantine_lines())
    assert SHOWN in first["locatie"]
    assert first["locatie"].startswith(str(tmp_path))
    assert "later" in second["locatie"]
    assert len(hx.publisher.raw) == 2  # both dead letters encoded
    assert hx.runner.checkpoint.load()
    assert hx.runner.run_once().read == 0  # checkpointed past both
    assert bad.exists()


@pytest.mark.parametrize(
    "error", [SerdeError("does not fit"), UnicodeEncodeError("utf-8", "", 0, 1, "x")]
)
def test_a_dead_letter_that_cannot_be_built_is_logged_and_its_entry_still_written(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    error: Exception,
) -> None:
    path = tmp_path / "e.jsonl"
    path.write_text('{"bad": 1}\n{"bad": 2}\n')
    hx = make_harness(JsonLinesSource([path]), tmp_path)

    def broken(topic: str, name: str, record: Mapping[str, Any]) -> bytes:
        raise error

    monkeypatch.setattr(hx.publisher.serializer, "encode", broken)
    with caplog.at_level(logging.ERROR, logger="schakel.adapters"):
        stats = hx.runner.run_once()
    assert stats.rejected == 2  # one entry's defect does not stop the source
    assert len(hx.quarantine_lines()) == 2
    assert hx.runner.checkpoint.load()
    defects = [r for r in caplog.records if r.getMessage() == "adapter.deadletter_defect"]
    assert len(defects) == 2


def test_a_registry_configuration_error_of_a_dead_letter_is_raised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "e.jsonl"
    path.write_text('{"bad": 1}\n')
    hx = make_harness(JsonLinesSource([path]), tmp_path)

    def unregistered(topic: str, name: str, record: Mapping[str, Any]) -> bytes:
        raise RegistryNotFound("subject not registered", status=404, error_code=40401)

    monkeypatch.setattr(hx.publisher.serializer, "encode", unregistered)
    with pytest.raises(RegistryNotFound):  # reported, not hidden per record
        hx.runner.run_once()
    hx.runner.close()
    assert hx.quarantine_lines() == []
    assert hx.runner.checkpoint.load() == {}


@contextlib.contextmanager
def file_size_limit(size: int) -> Iterator[None]:
    """Files of this process may not grow past ``size`` bytes meanwhile (``RLIMIT_FSIZE``): a
    write past it fails with ``EFBIG`` (``SIGXFSZ`` ignored), as a full disk fails with
    ``ENOSPC`` — a real failing write, after a partial one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)


def test_a_failed_quarantine_write_leaves_the_file_as_it_was_and_names_it(
    tmp_path: Path,
) -> None:
    """Review I, F2: a full disk left half a line, glued to the next run's first line, and the
    lines written before the failure were written again by that run."""
    path = tmp_path / "quarantaine" / "sociale-dienst-999990111.jsonl"  # an --instance
    quarantine = Quarantine("sociale-dienst", path, None)

    def put(first: int, n: int) -> None:
        for i in range(first, first + n):
            quarantine.put(Location("export.csv", i, "datum"), "bad-date", "m" * 60, None)

    put(1, 1)
    assert len(quarantine.flush()) == 1
    before = path.read_bytes()
    put(2, 50)  # about 10 kB: a part gets out before the write fails
    with file_size_limit(len(before) + 3000), pytest.raises(QuarantineError) as raised:
        quarantine.flush()
    assert path.read_bytes() == before
    message = str(raised.value)
    assert "cannot write the quarantine file" in message and "sociale-dienst-" in message
    assert "999990111" not in message

    put(2, 50)  # the runner reads the same records again once the disk is fixed
    assert len(quarantine.flush()) == 50
    quarantine.close()
    entries = [json.loads(line) for line in path.read_text().splitlines()]
    assert [e["locatie"] for e in entries] == [f"export.csv:{i} datum" for i in range(1, 52)]


def test_a_bsn_in_a_rejection_message_is_masked_in_the_file(tmp_path: Path) -> None:
    """A message may quote what it refuses (a source's own text, a file name): a BSN in it is
    masked like one in the location (review G, M1: no test message held one)."""
    path = tmp_path / "q.jsonl"
    quarantine = Quarantine("sociale-dienst", path, None)
    quarantine.put(Location("client_999990111.csv", 2, "bsn"), "bad", "not 999990111 ok", None)
    (written,) = quarantine.flush()
    quarantine.close()
    assert written.message == "not 999990111 ok"  # the hook's copy is the runner's own
    text = path.read_text()
    assert "999990111" not in text
    entry = json.loads(text)
    assert entry["locatie"] == "client_*********.csv:2 bsn"
    assert entry["melding"] == "not ********* ok"
