"""Quarantine entries: a location that is always valid UTF-8, and a dead letter that cannot be
built for one entry does not stop the source."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from adapters.base import Location, Source, printable
from adapters.iwmo.source import IwmoSource
from adapters.jsonlines import JsonLinesSource
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
