"""Issue 4, end to end: the sample files of every adapter (the outbox through a real
PostgreSQL) → the broker (the embedded one, and Apache Kafka through ``replay --bootstrap``)
→ the stream worker → the signals the samples were written to raise (samples/README.md)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from schemas.pseudonym import Pseudonymiser
from tests.cli import run_cli
from tests.integration.adapters.conftest import insert_rows

ROOT = Path(__file__).resolve().parents[3]
SAMPLES = ROOT / "samples"
KEY = "samples-key-0123456789abcdef0123456"

# samples/README.md: which synthetic citizen should raise which rule
EXPECTED = {
    ("999990019", "werkpotentieel-zonder-verwijzing"),
    ("999990020", "tussen-wal-en-schip"),
    ("999990032", "vroegsignaal-zonder-opvolging"),
    ("999990056", "meervoudig-zonder-regie"),
    ("999990068", "dagbesteding-zonder-werkstap"),
    ("999990068", "werkpotentieel-zonder-verwijzing"),
    ("999990081", "terugval-zonder-nazorg"),
}
WELL_SERVED = ("999990044", "999990093")


def test_samples_of_every_adapter_raise_the_planted_signals(
    outbox_db: str, replay_args: list[str]
) -> None:
    rows = [
        json.loads(line)
        for line in (SAMPLES / "outbox" / "rows.jsonl").read_text().splitlines()
        if line.strip()
    ]
    insert_rows(outbox_db, [row["event"] for row in rows])
    vroeg = SAMPLES / "vroegsignalering"
    env = {**os.environ, "SCHAKEL_PSEUDONYM_KEY": KEY, "SCHAKEL_LOG_FORMAT": "text"}
    result = run_cli(
        "replay",
        "--from",
        f"iwmo:{SAMPLES / 'iwmo'}",
        "--from",
        f"sociale-dienst:{SAMPLES / 'sociale-dienst' / 'export.csv'}",
        "--from",
        f"vroegsignalering:{vroeg / 'signalen.csv'},{vroeg / 'acties.csv'}",
        "--from",
        f"wijkteam:{SAMPLES / 'wijkteam' / 'events.jsonl'}",
        "--from",
        f"outbox:{outbox_db}",
        "--until",
        "2026-06-30",
        "--json",
        *replay_args,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    signals = json.loads(result.stdout)["signalen"]
    by_subject = {Pseudonymiser(KEY)(bsn): bsn for bsn, _ in EXPECTED}
    by_subject |= {Pseudonymiser(KEY)(bsn): bsn for bsn in WELL_SERVED}
    got = {(by_subject.get(s["subject"], s["subject"]), s["regel"]) for s in signals}
    assert got == EXPECTED
    for bsn in (b for b, _ in EXPECTED):
        assert bsn not in result.stdout + result.stderr
