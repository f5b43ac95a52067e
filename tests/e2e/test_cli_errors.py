"""The command line reports a permanent error (bad rules file, bad configuration) in one line
on stderr, naming the file and the problem, and exits 2 — never a traceback."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from schakel.broker import free_port
from tests.cli import ROOT, run_cli

SCENARIO = ROOT / "examples" / "scenario.jsonl"

BAD_RULES = {
    "kapot.yaml": ("id: x\nparameters: [1, 2\n", "kapot.yaml: not valid YAML (line"),
    "getal.yaml": (
        "id: werkpotentieel-zonder-verwijzing\nparameters:\n  termijn_dagen: veel\n",
        "getal.yaml (override of built-in 'werkpotentieel-zonder-verwijzing'): rule "
        "'werkpotentieel-zonder-verwijzing': field 'parameters.termijn_dagen'",
    ),
    "lijst.yaml": ("- id: x\n", "lijst.yaml: a rule file must be a YAML mapping"),
}


def _env(tmp_path: Path, name: str) -> dict[str, str]:
    rules = tmp_path / "regels"
    rules.mkdir()
    text, _ = BAD_RULES[name]
    (rules / name).write_text(text, encoding="utf-8")
    return {
        **os.environ,
        "SCHAKEL_RULES_DIR": str(rules),
        "SCHAKEL_DATA_DIR": str(tmp_path / "var"),
        # nothing listens here: the rules must be refused before any broker is contacted
        "SCHAKEL_KAFKA_BOOTSTRAP": f"127.0.0.1:{free_port()}",
        "SCHAKEL_WEB_PORT": str(free_port()),
    }


def _assert_one_line(result: subprocess.CompletedProcess[str], expected: str) -> None:
    stderr = result.stderr
    assert result.returncode == 2, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    assert lines[0].startswith("schakel: RuleFileError: "), lines[0]
    assert expected in lines[0], lines[0]


@pytest.mark.parametrize("name", sorted(BAD_RULES))
def test_worker_start_with_a_bad_rules_file_says_so_in_one_line(tmp_path: Path, name: str) -> None:
    result = run_cli("worker", env=_env(tmp_path, name), timeout=60)
    _assert_one_line(result, BAD_RULES[name][1])


@pytest.mark.parametrize("batch", [False, True], ids=["stream", "batch"])
def test_replay_with_a_bad_rules_file_says_so_in_one_line(tmp_path: Path, batch: bool) -> None:
    args = ["replay", str(SCENARIO), *(["--batch"] if batch else [])]
    result = run_cli(*args, env=_env(tmp_path, "kapot.yaml"), timeout=120)
    _assert_one_line(result, BAD_RULES["kapot.yaml"][1])
