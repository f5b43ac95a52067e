"""Data minimisation: nothing of the personal data in the sample iWmo messages (BSN, name,
address, phone, e-mail, birth date, Commentaar) appears in a produced event (JSON or Avro
bytes), a quarantine entry, a dead letter or a log line."""

from __future__ import annotations

import json
import logging
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from adapters.iwmo import IwmoSource
from schakel.logs import JsonFormatter
from tests.unit.adapters.conftest import BAD, SAMPLES, SOURCE, make_harness

PERSONAL = {"Bsn", "Naam", "Geboortedatum", "Contactgegevens", "Commentaar", "Geslacht"}


def personal_values(path: Path) -> set[str]:
    """Every text below a personal element of a message, and the BSN."""
    values: set[str] = set()
    for element in ET.parse(path).iter():
        if element.tag.rsplit("}", 1)[-1] in PERSONAL:
            for inner in element.iter():
                text = (inner.text or "").strip()
                # single letters, codes such as "1" and short numbers (house number, country
                # code 0031) are not identifying, and turn up by chance in hex ids
                if len(text) > 2 and not (text.isdigit() and len(text) < 5):
                    values.add(text)
    return values


def test_no_personal_data_leaves_the_iwmo_adapter(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    directory = tmp_path / "in"
    shutil.copytree(SAMPLES / "iwmo", directory)
    for name in ("bad-bsn.xml", "missing-element.xml", "unknown-code.xml", "impossible-date.xml"):
        shutil.copy(BAD / "iwmo" / name, directory / name)
    secrets: set[str] = set()
    for path in directory.glob("*.xml"):
        secrets |= personal_values(path)
    assert {"Mulder", "Beukenlaan", "1991-02-23", "999990019"} <= secrets
    assert any("burn-out" in s for s in secrets)

    hx = make_harness(IwmoSource(directory, source=SOURCE, max_bytes=1 << 20), tmp_path)
    caplog.set_level(logging.DEBUG, logger="schakel")
    stats = hx.runner.run_once()
    hx.runner.close()
    assert stats.published == 10
    assert stats.rejected == 4

    formatter = JsonFormatter()
    produced = {
        "events": json.dumps([e.to_json() for e in hx.publisher.acked], ensure_ascii=False),
        "avro": b"".join(
            hx.publisher.serializer(e, "schakel.wmo.events") for e in hx.publisher.acked
        ).decode("latin-1"),
        "quarantine": "\n".join(hx.quarantine_lines()),
        "deadletters": b"".join(v for _, _, v in hx.publisher.raw).decode("latin-1"),
        "logs": "\n".join(formatter.format(r) for r in caplog.records),
        "messages": "\n".join(m for _, _, m in hx.rejected),
    }
    assert produced["logs"]  # logging happened
    for where, text in produced.items():
        leaked = sorted(s for s in secrets if s in text)
        assert leaked == [], f"{where} leaks {leaked}"
