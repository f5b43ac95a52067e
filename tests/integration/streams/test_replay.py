"""``schakel replay`` through the real pipeline (embedded broker, adapters, Faust worker)."""

from __future__ import annotations

import json
import os
import random
import subprocess
from pathlib import Path
from typing import Any

from tests.cli import run_cli
from tests.integration.streams.helpers import KEY, SCENARIO

# pseudonyms computed independently: printf %s BSN | openssl dgst -sha256 -hmac KEY | cut -c1-32
CITIZEN_A = "7b4df9048a17602c5555f3ad0ec1d616"  # 111222333
CITIZEN_B = "da2a21aec38367d0295fca9a49d6b04d"  # 123456782

# Hand-computed from rules.md for examples/scenario.jsonl with --until 2026-06-30.
EXPECTED = [
    {  # Wmo rejection 2026-02-01 + PW rejection 2026-04-15 (73 days), no support: at once
        "regel": "tussen-wal-en-schip",
        "subject": CITIZEN_B,
        "sleutel": "2026-04-15",
        "sinds": "2026-04-15",
        "status": "open",
        "termijn": None,
        "bewijs": ["wmo-3", "pw-1"],
        "opgelost_op": None,
    },
    {  # signal on Friday 2026-03-06 with dreiging: 3 working days → Wednesday 2026-03-11;
        # followed up 2026-03-20 (after termijn) → opgelost on that day
        "regel": "vroegsignaal-zonder-opvolging",
        "subject": CITIZEN_A,
        "sleutel": "VS-9",
        "sinds": "2026-03-06",
        "status": "opgelost",
        "termijn": "2026-03-11",
        "bewijs": ["wgs-1"],
        "opgelost_op": "2026-03-20",
    },
    {  # voorziening from 2026-01-10 and werkwens since 2026-01-05; 56 days → 2026-03-07
        "regel": "werkpotentieel-zonder-verwijzing",
        "subject": CITIZEN_A,
        "sleutel": "2026-01-10",
        "sinds": "2026-01-10",
        "status": "open",
        "termijn": "2026-03-07",
        "bewijs": ["wmo-2", "wmo-1"],
        "opgelost_op": None,
    },
]


def run_replay(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SCHAKEL_PSEUDONYM_KEY": KEY, "SCHAKEL_LOG_FORMAT": "text"}
    return run_cli("replay", *args, env=env, timeout=300)


def _comparable(signals: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in s.items() if k != "uitleg"} for s in signals]


def test_replay_prints_the_hand_computed_signals() -> None:
    result = run_replay(str(SCENARIO), "--until", "2026-06-30", "--json")
    assert result.returncode == 0, result.stderr
    signals = json.loads(result.stdout)["signalen"]
    assert _comparable(signals) == EXPECTED
    r1 = signals[2]["uitleg"]
    assert r1 == (
        "Sinds 2026-01-10 een Wmo-voorziening (begeleiding) én werkpotentieel "
        "(vastgesteld 2026-01-05); geen verwijzing naar werk & inkomen uiterlijk "
        "2026-03-07."
    )
    # the bad line is reported with its location and reason, never with the BSN
    assert "scenario.jsonl:7: bsn:" in result.stderr
    assert "123456789" not in result.stderr + result.stdout
    assert "111222333" not in result.stderr + result.stdout


def test_replay_does_not_depend_on_arrival_order(tmp_path: Path) -> None:
    lines = SCENARIO.read_text().splitlines()
    random.Random(7).shuffle(lines)
    half = len(lines) // 2
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    first.write_text("\n".join(lines[:half]) + "\n")
    # a duplicate of a line (same source + id) is accepted once
    second.write_text("\n".join([*lines[half:], lines[0]]) + "\n")
    result = run_replay(str(second), str(first), "--until", "2026-06-30", "--json")
    assert result.returncode == 0, result.stderr
    assert _comparable(json.loads(result.stdout)["signalen"]) == EXPECTED


def test_the_batch_path_gives_the_same_result() -> None:
    result = run_replay(str(SCENARIO), "--until", "2026-06-30", "--json", "--batch")
    assert result.returncode == 0, result.stderr
    assert _comparable(json.loads(result.stdout)["signalen"]) == EXPECTED
    result = run_replay(str(SCENARIO), "--json", "--batch")
    assert _comparable(json.loads(result.stdout)["signalen"]) == EXPECTED


def test_without_until_the_clock_is_each_citizens_latest_date() -> None:
    # Citizen A's latest event is 2026-03-20: R1 (termijn 2026-03-07) and R3 are known;
    # citizen B's latest is 2026-04-15: R2 exists at once. Same result as above.
    result = run_replay(str(SCENARIO), "--json")
    assert result.returncode == 0, result.stderr
    assert _comparable(json.loads(result.stdout)["signalen"]) == EXPECTED
