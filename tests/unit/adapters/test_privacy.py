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
from adapters.sociale_dienst import SocialeDienstSource
from schakel.logs import JsonFormatter
from tests.unit.adapters.conftest import BAD, PSEUDONYMISER, SAMPLES, SOURCE, make_harness

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

    hx = make_harness(
        IwmoSource(directory, source=SOURCE, max_bytes=1 << 20, pseudonymiser=PSEUDONYMISER),
        tmp_path,
    )
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


@pytest.mark.parametrize(
    ("name", "printed"),
    [
        ("bijstand-9999.90.111-jansen.csv", "9999.90.111"),
        ("bijstand 9999 90 111.csv", "9999 90 111"),
        ("export client 123 456 782.csv", "123 456 782"),  # grouped spellings (review F2)
        ("export-123-456-782.csv", "123-456-782"),
        ("export.123.456.782.csv", "123.456.782"),
    ],
)
def test_a_printed_bsn_in_a_file_name_is_masked_everywhere(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, name: str, printed: str
) -> None:
    """The file name is the quarantine location: in the entry, the dead letter on
    schakel.deadletter.adapters and the log line the BSN's printed or grouped spelling is
    masked."""
    path = tmp_path / name
    path.write_bytes(b"bsn,gebeurtenis\n")  # wrong delimiter: the file is rejected
    hx = make_harness(SocialeDienstSource([path], source=SOURCE), tmp_path / "h")
    caplog.set_level(logging.DEBUG, logger="schakel")
    assert hx.runner.run_once().rejected == 1
    hx.runner.close()
    (entry,) = [json.loads(line) for line in hx.quarantine_lines()]
    assert entry["locatie"].endswith(name.replace(printed, "*********") + ":1")
    ((topic, _, value),) = hx.publisher.raw
    assert topic == hx.publisher.wire.deadletter_adapters
    logs = "\n".join(JsonFormatter().format(r) for r in caplog.records)
    assert "*********" in logs
    for text in (json.dumps(entry, ensure_ascii=False), value.decode("utf-8", "replace"), logs):
        assert printed not in text
        assert "".join(c for c in printed if c.isdigit()) not in text
