"""``schakel replay`` through the real pipeline (adapters, broker, Faust worker or batch path),
on its own embedded broker and with ``--bootstrap`` on Apache Kafka."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import random
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from schakel.replay import EXIT_DEADLETTERED
from tests.cli import run_cli
from tests.integration.streams.helpers import KEY, SCENARIO, read_jsonl

# pseudonyms computed independently: printf %s BSN | openssl dgst -sha256 -hmac KEY | cut -c1-32
CITIZEN_A = "ee654acd6fcec8a675516fb28d52b0a4"  # 111222333
CITIZEN_B = "1e4440bb7ae0834bc32ecf61601dda35"  # 123456782

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


def run_replay(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "SCHAKEL_PSEUDONYM_KEY": KEY, "SCHAKEL_LOG_FORMAT": "text", **(env or {})}
    return run_cli("replay", *args, env=full, timeout=300)


def _comparable(signals: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in s.items() if k != "uitleg"} for s in signals]


def test_replay_prints_the_hand_computed_signals(replay_args: list[str]) -> None:
    result = run_replay(str(SCENARIO), "--until", "2026-06-30", "--json", *replay_args)
    assert result.returncode == 3, result.stderr  # 3: the rejected bad line
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


def test_replay_does_not_depend_on_arrival_order(tmp_path: Path, replay_args: list[str]) -> None:
    lines = SCENARIO.read_text().splitlines()
    random.Random(7).shuffle(lines)
    half = len(lines) // 2
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    first.write_text("\n".join(lines[:half]) + "\n")
    # a duplicate of a line (same source + id) is accepted once
    second.write_text("\n".join([*lines[half:], lines[0]]) + "\n")
    result = run_replay(str(second), str(first), "--until", "2026-06-30", "--json", *replay_args)
    assert result.returncode == 3, result.stderr  # 3: the rejected bad line
    assert _comparable(json.loads(result.stdout)["signalen"]) == EXPECTED


def test_the_batch_path_gives_the_same_result(replay_args: list[str]) -> None:
    result = run_replay(str(SCENARIO), "--until", "2026-06-30", "--json", "--batch", *replay_args)
    assert result.returncode == 3, result.stderr  # 3: the rejected bad line
    assert _comparable(json.loads(result.stdout)["signalen"]) == EXPECTED
    # the first round in two worker processes (--jobs): the same signals
    result = run_replay(str(SCENARIO), "--json", "--batch", "--jobs", "2", *replay_args)
    assert result.returncode == 3, result.stderr
    assert _comparable(json.loads(result.stdout)["signalen"]) == EXPECTED


def test_without_until_the_clock_is_each_citizens_latest_date(replay_args: list[str]) -> None:
    # Citizen A's latest event is 2026-03-20: R1 (termijn 2026-03-07) and R3 are known;
    # citizen B's latest is 2026-04-15: R2 exists at once. Same result as above.
    result = run_replay(str(SCENARIO), "--json", *replay_args)
    assert result.returncode == 3, result.stderr  # 3: the rejected bad line
    assert _comparable(json.loads(result.stdout)["signalen"]) == EXPECTED


# --- issue 15: the minimal cases of each class, through both paths ---------------------------

_BSN_R6, _BSN_CASUS, _BSN_REGIE, _BSN_LIMIT = "100000022", "100000034", "100000046", "100000058"


def _pseudonym(bsn: str) -> str:
    """Computed here with the standard library (HMAC-SHA256, 32 hex characters)."""
    return hmac.new(KEY.encode(), bsn.encode(), hashlib.sha256).hexdigest()[:32]


def _event(
    bsn: str, event_id: str, kind: str, datum: str, time: str | None = None, **data: Any
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "specversion": "1.0",
        "id": event_id,
        "source": "urn:nld:oin:00000001234567890000:systeem:issue15",
        "type": f"nl.{kind}",
        "data": {"bsn": bsn, "datum": datum, **data},
    }
    if time is not None:
        event["time"] = time
    return event


_WEEKLY = ["01-20", "01-27", "02-03", "02-10", "02-17", "02-24", "03-03", "03-10", "03-17", "03-24"]
ISSUE15 = [
    # class 1 — R6: ended for work 04-16, re-granted 04-17, ended again: opgelost on 04-17
    _event(
        _BSN_R6, "a-1", "participatiewet.uitkeringen.toegekend", "2026-01-01", regeling="bijstand"
    ),
    _event(_BSN_R6, "a-2", "participatiewet.uitkeringen.beeindigd", "2026-01-31", reden="werk"),
    _event(
        _BSN_R6, "a-3", "participatiewet.uitkeringen.toegekend", "2026-02-10", regeling="bijstand"
    ),
    _event(_BSN_R6, "a-4", "participatiewet.uitkeringen.beeindigd", "2026-04-16", reden="werk"),
    _event(
        _BSN_R6, "a-5", "participatiewet.uitkeringen.toegekend", "2026-04-17", regeling="bijstand"
    ),
    _event(_BSN_R6, "a-6", "participatiewet.uitkeringen.beeindigd", "2026-04-20", reden="overig"),
    # class 2 — a casus opened (09:00) and closed (no time) on one day holds on that day only
    _event(
        _BSN_CASUS,
        "b-1",
        "wijkteams.casussen.geopend",
        "2026-01-10",
        "2026-01-10T09:00:00+01:00",
        casus_id="C1",
    ),
    _event(_BSN_CASUS, "b-2", "wijkteams.casussen.gesloten", "2026-01-10", casus_id="C1"),
    _event(_BSN_CASUS, "b-3", "wmo.aanvragen.afgewezen", "2026-02-01", reden="overig"),
    _event(_BSN_CASUS, "b-4", "participatiewet.aanvragen.afgewezen", "2026-02-15", reden="overig"),
    # class 3 — 3 domains from 01-15; regie assigned with no casus open holds: closures of a
    # casus that is not open (C9) or not the last open one (C1) do not end it: no R4
    _event(
        _BSN_REGIE,
        "c-1",
        "participatiewet.uitkeringen.toegekend",
        "2026-01-01",
        regeling="bijstand",
    ),
    _event(
        _BSN_REGIE,
        "c-2",
        "wmo.voorzieningen.toegewezen",
        "2026-01-10",
        toewijzing_nummer="T1",
        ingangsdatum="2026-01-10",
    ),
    _event(_BSN_REGIE, "c-3", "wgs.trajecten.gestart", "2026-01-15"),
    _event(_BSN_REGIE, "c-4", "wijkteams.regie.toegewezen", "2026-01-05", rol="casusregisseur"),
    _event(_BSN_REGIE, "c-5", "wijkteams.casussen.gesloten", "2026-01-20", casus_id="C9"),
    _event(_BSN_REGIE, "c-6", "wijkteams.casussen.geopend", "2026-01-25", casus_id="C1"),
    _event(_BSN_REGIE, "c-7", "wijkteams.casussen.geopend", "2026-01-26", casus_id="C2"),
    _event(_BSN_REGIE, "c-8", "wijkteams.casussen.gesloten", "2026-02-01", casus_id="C1"),
    # class 4 — with SCHAKEL_HISTORY_LIMIT=10, 12 events whose R1 episode starts in the first
    # two: the last two are refused (dead-lettered), R1 stays
    _event(
        _BSN_LIMIT,
        "d-1",
        "wmo.onderzoeken.afgerond",
        "2026-01-05",
        werkwens=True,
        arbeidspotentieel="gedeeltelijk",
    ),
    _event(
        _BSN_LIMIT,
        "d-2",
        "wmo.voorzieningen.toegewezen",
        "2026-01-10",
        toewijzing_nummer="T1",
        productcategorie="02",
        ingangsdatum="2026-01-10",
    ),
    *(
        _event(
            _BSN_LIMIT,
            f"d-{n + 3}",
            "wmo.voorzieningen.gestart",
            f"2026-{day}",
            toewijzing_nummer="T1",
            productcategorie="02",
        )
        for n, day in enumerate(_WEEKLY)
    ),
]

_ISSUE15_SIGNALS: list[dict[str, Any]] = [
    {  # R6 from 2026-02-10 (10 days after leaving for work), termijn 03-10; its own
        # uitkering ended 04-16, the re-grant of 04-17 does not continue it
        "regel": "terugval-zonder-nazorg",
        "subject": _pseudonym(_BSN_R6),
        "sleutel": "2026-02-10",
        "sinds": "2026-02-10",
        "status": "opgelost",
        "termijn": "2026-03-10",
        "bewijs": ["a-2", "a-3"],
        "opgelost_op": "2026-04-17",
    },
    {  # the casus held on 2026-01-10 only: no support on 02-15, 14 days after the Wmo
        # rejection
        "regel": "tussen-wal-en-schip",
        "subject": _pseudonym(_BSN_CASUS),
        "sleutel": "2026-02-15",
        "sinds": "2026-02-15",
        "status": "open",
        "termijn": None,
        "bewijs": ["b-3", "b-4"],
        "opgelost_op": None,
    },
    {  # voorziening from 01-10, werkwens from 01-05; 56 days → 2026-03-07
        "regel": "werkpotentieel-zonder-verwijzing",
        "subject": _pseudonym(_BSN_LIMIT),
        "sleutel": "2026-01-10",
        "sinds": "2026-01-10",
        "status": "open",
        "termijn": "2026-03-07",
        "bewijs": ["d-1", "d-2", "d-3"],
        "opgelost_op": None,
    },
]
EXPECTED_ISSUE15 = sorted(_ISSUE15_SIGNALS, key=lambda s: (s["regel"], s["subject"]))
"""In the order of the replay's output: by rule, then subject."""


def test_issue15_minimal_cases_agree_on_both_paths(tmp_path: Path) -> None:
    lines = [json.dumps(e) for e in ISSUE15]
    random.Random(15).shuffle(lines)  # arrival order is free
    feed = tmp_path / "issue15.jsonl"
    feed.write_text("\n".join(lines) + "\n")
    limit = {"SCHAKEL_HISTORY_LIMIT": "10"}
    for path in ([], ["--batch"]):
        result = run_replay(str(feed), "--until", "2026-06-30", "--json", *path, env=limit)
        # the two events beyond the limit were dead-lettered (counted: the tests below)
        assert result.returncode == EXIT_DEADLETTERED, result.stderr
        assert _comparable(json.loads(result.stdout)["signalen"]) == EXPECTED_ISSUE15, path


# --- what the stream side dead-lettered fails the run, counted without content ---------------

_LIMITED = [e for e in ISSUE15 if e["data"]["bsn"] == _BSN_LIMIT]
"""Twelve events of one citizen: with ``SCHAKEL_HISTORY_LIMIT=10`` the adapters accept all of
them and the stream side — worker or batch path — refuses the last two (stage ``accept``,
``HistoryLimitError``)."""
_BAD_LINE = next(e for e in read_jsonl(SCENARIO) if e["id"] == "bad-1")
"""A line the adapters reject (a BSN that fails the elfproef): exit 3 on its own."""


@pytest.mark.parametrize("path", [[], ["--batch"]], ids=["worker", "batch"])
def test_records_the_stream_side_dead_letters_fail_the_run_and_are_counted(
    tmp_path: Path, replay_args: list[str], path: list[str]
) -> None:
    """Before, a replay whose worker (or batch path) dead-lettered input printed the signals
    of the rest and exited 0 (or 3 for a rejected line), like a good run."""
    feed = tmp_path / "limit.jsonl"
    feed.write_text("".join(json.dumps(e) + "\n" for e in [*_LIMITED, _BAD_LINE]))
    limit = {"SCHAKEL_HISTORY_LIMIT": "10"}
    result = run_replay(
        str(feed), "--until", "2026-06-30", "--json", *path, *replay_args, env=limit
    )
    # 5 over 3: the rejected line is counted too
    assert result.returncode == EXIT_DEADLETTERED == 5, result.stderr
    # the signals of what was accepted, all the same
    expected = [s for s in EXPECTED_ISSUE15 if s["subject"] == _pseudonym(_BSN_LIMIT)]
    assert _comparable(json.loads(result.stdout)["signalen"]) == expected
    # counted per source topic, stage and reason — the error's class and the refusal's code
    # (with --bootstrap the topic has the run's namespace before it) — and in the summary line
    counted = [line for line in result.stderr.splitlines() if "dead letters of" in line]
    assert len(counted) == 1, result.stderr
    assert re.fullmatch(
        r"replay: dead letters of ([a-z0-9-]+\.)?schakel\.wmo\.events "
        r"\(stage accept, reason HistoryLimitError/history-limit\): 2",
        counted[0],
    ), counted
    assert "afgewezen invoerregels: 1; dead letters: 2" in result.stderr
    # nothing of a record: not the key (the pseudonym), an id, the source, a value or the
    # error's message
    for content in (
        _pseudonym(_BSN_LIMIT),
        _BSN_LIMIT,
        "urn:nld:oin:00000001234567890000:systeem:issue15",
        "d-11",
        "d-12",
        "2026-03-24",  # the datum of the last event
        "SCHAKEL_HISTORY_LIMIT",
    ):
        assert content not in result.stderr, content
