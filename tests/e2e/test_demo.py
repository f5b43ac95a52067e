"""``schakel demo --exit`` and ``schakel generate`` as a user runs them (subprocesses).

The demo generates the default municipality, runs every adapter (the outbox through a real,
throwaway PostgreSQL) into the embedded broker and a stream worker on the replay clock, and
must find exactly the planted gaps: precision = recall = 1.0 for every rule."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

from schakel.broker import free_port
from schakel.replay import EXIT_DEADLETTERED
from schakel.synth.model import RULES
from tests.cli import run_cli


def schakel(
    *args: str, data_dir: Path, timeout: float, extra: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``schakel *args`` with no ``SCHAKEL_*`` variable of this process, but ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCHAKEL_")}
    env.update({"SCHAKEL_DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1", **(extra or {})})
    return run_cli(*args, env=env, timeout=timeout)


def test_demo_finds_exactly_the_planted_gaps(tmp_path: Path) -> None:
    summary_file = tmp_path / "summary.json"
    result = schakel(
        "demo",
        "--exit",
        "--summary-json",
        str(summary_file),
        "--port",
        str(free_port()),
        data_dir=tmp_path / "var",
        timeout=280,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    summary: dict[str, Any] = json.loads(summary_file.read_text(encoding="utf-8"))
    rules = summary["score"]["regels"]
    assert set(rules) == set(RULES)
    for rule, counts in rules.items():
        assert counts["verwacht"] > 0, rule
        assert counts["precision"] == 1.0, (rule, summary["score"]["onverwacht"])
        assert counts["recall"] == 1.0, (rule, summary["score"]["gemist"])
    assert summary["score"]["bijna_met_signaal"] == 0
    assert summary["outbox_via"] == "postgresql"
    for name, stats in summary["adapters"].items():
        assert stats["gepubliceerd"] == stats["verwacht_gepubliceerd"], name
        assert stats["afgewezen"] == stats["verwacht_afgewezen"] >= 3, name
    assert "precision 1.000, recall 1.000" in result.stdout
    assert "API-token" in result.stdout and "/api/v1/signalen" in result.stdout
    assert summary["dead_letters"] == 0 and "dead letters of" not in result.stderr


def test_the_demo_counts_what_the_worker_dead_lettered(tmp_path: Path) -> None:
    """Before, the demo said nothing of the records the worker dead-lettered: with a history
    limit that refuses some events no planted gap depends on, the score stayed perfect and
    the demo exited 0. Now they are counted on stderr as ``replay`` counts them, with the
    refusal's code, and the exit code is 5."""
    summary_file = tmp_path / "summary.json"
    result = schakel(
        *("demo", "--exit", "--citizens", "100", "--no-postgres"),
        *("--summary-json", str(summary_file), "--port", str(free_port())),
        data_dir=tmp_path / "var",
        timeout=200,
        extra={"SCHAKEL_HISTORY_LIMIT": "10"},
    )
    assert result.returncode == EXIT_DEADLETTERED == 5, result.stdout[-2000:] + result.stderr
    summary: dict[str, Any] = json.loads(summary_file.read_text(encoding="utf-8"))
    counted = re.findall(
        r"^demo: dead letters of schakel\.[a-z]+\.events \(stage accept, "
        r"reason HistoryLimitError/history-limit\): (\d+)$",
        result.stderr,
        re.MULTILINE,
    )
    assert counted and sum(map(int, counted)) == summary["dead_letters"] > 0, result.stderr
    # the score does not show them: the events refused were none a planted gap depends on
    assert summary["score"]["precision"] == summary["score"]["recall"] == 1.0


def tree(directory: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(directory)): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


def test_generate_is_deterministic(tmp_path: Path) -> None:
    outputs = {}
    key_file = tmp_path / "sleutel"
    key_file.write_text("k" * 32 + "\n", encoding="utf-8")
    for name, seed in (("a", "41"), ("b", "41"), ("c", "42")):
        result = schakel(
            "generate",
            "--citizens",
            "400",
            "--seed",
            seed,
            "--out",
            str(tmp_path / name),
            "--pseudonym-key-file",
            str(key_file),
            data_dir=tmp_path,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        outputs[name] = tree(tmp_path / name)
    assert outputs["a"] == outputs["b"]
    assert outputs["a"] != outputs["c"]
    manifest = json.loads(outputs["a"]["manifest.json"])
    assert manifest["burgers"] == 400
    assert manifest["until"] == "2026-10-31"
    assert set(manifest["geplant"]) == set(RULES)
    truth = json.loads(outputs["a"]["ground-truth.json"])
    assert truth["pseudoniemen"], "the key of the file gives the ground truth its pseudonyms"


def test_generate_refuses_a_key_on_the_command_line(tmp_path: Path) -> None:
    """A command line is visible to every user (``ps``): the key goes in a file or the
    environment, and an attempt names those without echoing the key."""
    out = tmp_path / "out"
    result = schakel(
        "generate",
        "--citizens",
        "100",
        "--out",
        str(out),
        "--pseudonym-key",
        "geheim-1234",
        data_dir=tmp_path,
        timeout=60,
    )
    assert result.returncode == 2
    assert "--pseudonym-key-file" in result.stderr
    assert "SCHAKEL_PSEUDONYM_KEY" in result.stderr
    assert "geheim-1234" not in result.stderr + result.stdout
    assert not out.exists()
