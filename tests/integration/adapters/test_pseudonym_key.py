"""Issue 11 item 14, run as the README's "Connecting real systems" runs it: one adapter process
per source against the real (embedded) broker.

Before: with no pseudonym key configured each process silently made a random key of its own,
so the same BSN got a different pseudonym in each source and the sources no longer joined.
Now every adapter process refuses to start without SCHAKEL_PSEUDONYM_KEY (or _FILE): a one-line
error, exit 2, nothing published. With one key set for both, the same BSN is the same subject."""

from __future__ import annotations

import json
from pathlib import Path

from adapters.sociale_dienst import COLUMNS as SD_COLUMNS
from schemas.settings import Settings
from tests.cli import run_cli
from tests.integration.adapters.conftest import KEY, events_of
from tests.integration.adapters.test_crash import cli_env

BSN = "999990111"


def _inputs(settings: Settings, tmp_path: Path) -> tuple[list[str], list[str]]:
    """Two sources of one citizen: a sociale-dienst export and wijkteam JSON lines."""
    csv = tmp_path / "export.csv"
    csv.write_text(
        ";".join(SD_COLUMNS) + "\n" + f"{BSN};uitkering-toegekend;2026-01-05;bijstand;;;;;;;;R-1\n"
    )
    event = {
        "specversion": "1.0",
        "id": "sleutel-1",
        "source": settings.source_urn("wijkteam"),
        "type": "nl.wijkteams.casussen.geopend",
        "data": {"bsn": BSN, "datum": "2026-01-06", "casus_id": "C-1"},
    }
    jsonl = tmp_path / "events.jsonl"
    jsonl.write_text(json.dumps(event) + "\n")
    return ["adapter", "sociale-dienst", str(csv), "--once"], ["publish", str(jsonl)]


def _subjects(settings: Settings) -> set[str]:
    bootstrap = settings.kafka_bootstrap or ""
    found = set()
    for topic, system in (
        ("schakel.participatiewet.events", "sociale-dienst"),
        ("schakel.wijkteam.events", "wijkteam"),
    ):
        found |= {
            str(m.record["subject"])
            for m in events_of(bootstrap, topic, settings.source_urn(system))
        }
    return found


def test_two_adapter_processes_without_a_key_refuse_to_start(
    adapter_settings: Settings, tmp_path: Path
) -> None:
    env = cli_env(adapter_settings)
    del env["SCHAKEL_PSEUDONYM_KEY"]
    for argv in _inputs(adapter_settings, tmp_path):
        result = run_cli(*argv, env=env)
        assert result.returncode == 2, (argv, result.stdout, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert "SCHAKEL_PSEUDONYM_KEY" in lines[0] and "SCHAKEL_PSEUDONYM_KEY_FILE" in lines[0]
        assert "published" not in result.stdout
    assert _subjects(adapter_settings) == set()  # nothing reached the topics


def test_two_adapter_processes_with_one_key_join(
    adapter_settings: Settings, tmp_path: Path
) -> None:
    env = cli_env(adapter_settings)
    assert env["SCHAKEL_PSEUDONYM_KEY"] == KEY
    for argv in _inputs(adapter_settings, tmp_path):
        result = run_cli(*argv, env=env)
        assert result.returncode == 0, (argv, result.stderr)
        assert "published 1" in result.stdout
    assert len(_subjects(adapter_settings)) == 1  # one citizen in both sources
