"""Issue 12 acceptance: ``schakel replay --from iwmo:DIR`` over the official iWmo 3.2 example
messages and over XSD-valid messages with StatusAanlevering 2 (a correction) and 3 (a
deletion) gives the signals the spec defines (events.md "Corrections and deletions",
rules.md R1), through the embedded broker and the stream worker."""

from __future__ import annotations

import json
import os
import shutil
from datetime import date
from pathlib import Path

from schemas.pseudonym import Pseudonymiser
from tests.cli import run_cli
from tests.unit.adapters.iwmo_support import build, start, stop, write

ROOT = Path(__file__).resolve().parents[3]
VOORBEELDEN = ROOT / "tests" / "fixtures" / "iwmo-3.2" / "voorbeelden"
KEY = "versions-key-0123456789abcdef012345"
R1 = "werkpotentieel-zonder-verwijzing"
JAN10 = date(2026, 1, 10)
DELETED, CORRECTED_LONGER, CORRECTED_SHORTER, PLAIN = (
    "999990019",
    "999990032",
    "999990056",
    "999990044",
)
OFFICIAL = "999900006"  # the client of the official examples


def inbox(directory: Path) -> None:
    """The official examples, plus one citizen per case; every message XSD-valid (build
    checks it). Each citizen has werkpotentieel from 2026-01-05 (the CSV below), so a
    voorziening that holds past 2026-03-07 (56 days after it began) raises R1."""
    for example in VOORBEELDEN.glob("*.xml"):
        shutil.copy(example, directory / f"0-{example.name}")
    messages = {
        # started, then the start withdrawn (StatusAanlevering 3): as if never sent, no R1
        "a1": build([start("101", JAN10)], ident="A-1", dagtekening=date(2026, 1, 12), bsn=DELETED),
        "a2": build(
            [start("101", JAN10, "3")], ident="A-2", dagtekening=date(2026, 1, 20), bsn=DELETED
        ),
        # stopped before the deadline, then the stop corrected (2) to after it: R1
        "b1": build(
            [start("201", JAN10)], ident="B-1", dagtekening=date(2026, 1, 12), bsn=CORRECTED_LONGER
        ),
        "b2": build(
            [stop("201", JAN10, date(2026, 1, 31))],
            ident="B-2",
            dagtekening=date(2026, 2, 2),
            bsn=CORRECTED_LONGER,
        ),
        "b3": build(
            [stop("201", JAN10, date(2026, 4, 30), "19", "2")],
            ident="B-3",
            dagtekening=date(2026, 5, 1),
            bsn=CORRECTED_LONGER,
        ),
        # stopped after the deadline, then the stop corrected (2) to before it: no R1
        "c1": build(
            [start("301", JAN10)], ident="C-1", dagtekening=date(2026, 1, 12), bsn=CORRECTED_SHORTER
        ),
        "c2": build(
            [stop("301", JAN10, date(2026, 4, 30))],
            ident="C-2",
            dagtekening=date(2026, 5, 1),
            bsn=CORRECTED_SHORTER,
        ),
        "c3": build(
            [stop("301", JAN10, date(2026, 1, 31), "19", "2")],
            ident="C-3",
            dagtekening=date(2026, 5, 4),
            bsn=CORRECTED_SHORTER,
        ),
        # no correction: R1
        "d1": build([start("401", JAN10)], ident="D-1", dagtekening=date(2026, 1, 12), bsn=PLAIN),
    }
    for name, data in messages.items():
        write(directory, f"{name}.xml", data)


def test_replay_of_official_examples_corrections_and_deletions_gives_the_spec_signals(
    tmp_path: Path,
) -> None:
    iwmo = tmp_path / "iwmo"
    iwmo.mkdir()
    inbox(iwmo)
    csv = tmp_path / "export.csv"
    header = "bsn;gebeurtenis;datum;regeling;reden;uitkomst;trede;van;traject_id;soort;"
    rows = [
        f"{bsn};arbeidsvermogen-vastgesteld;2026-01-05;;;gedeeltelijk;3;;;;;AV-{n}"
        for n, bsn in enumerate((DELETED, CORRECTED_LONGER, CORRECTED_SHORTER, PLAIN))
    ]
    csv.write_text("\n".join([header + "uren_per_week;registratie_id", *rows]) + "\n")
    env = {**os.environ, "SCHAKEL_PSEUDONYM_KEY": KEY, "SCHAKEL_LOG_FORMAT": "text"}
    result = run_cli(
        "replay",
        "--from",
        f"iwmo:{iwmo}",
        "--from",
        f"sociale-dienst:{csv}",
        "--until",
        "2026-06-30",
        "--json",
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    answer = json.loads(result.stdout)
    names = {
        Pseudonymiser(KEY)(bsn): bsn
        for bsn in (DELETED, CORRECTED_LONGER, CORRECTED_SHORTER, PLAIN, OFFICIAL)
    }
    held = {
        (names.get(s["subject"], s["subject"]), s["regel"], s["sinds"])
        for s in answer["signalen"]
        if s.get("status") != "ingetrokken"
    }
    assert held == {(CORRECTED_LONGER, R1, "2026-01-10"), (PLAIN, R1, "2026-01-10")}
    for bsn in names.values():
        assert bsn not in result.stdout + result.stderr
