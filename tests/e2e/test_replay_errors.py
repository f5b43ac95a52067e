"""``schakel replay`` fails well (issue 13 item 5): a wrong input is one line on stderr and
exit 2 before anything starts; rejected input lines give exit 3 (as
``adapter --once``) and a summary."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.cli import ROOT, run_cli

SAMPLES = ROOT / "samples"


def env(tmp_path: Path) -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if not k.startswith("SCHAKEL_")}
    out["SCHAKEL_DATA_DIR"] = str(tmp_path / "var")
    return out


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["MISSING.jsonl"], "MISSING.jsonl: no such file or directory"),
        (["burger-999990019.jsonl"], "burger-*********.jsonl: no such file or directory"),
        (["samples"], "samples: is a directory; a file is expected"),
        (["--from", "iwmo:/nonexistent-dir"], "/nonexistent-dir: no such file or directory"),
        (["--from", "sociale-dienst:samples"], "is a directory; a file is expected"),
        (["--from", "nope:samples/wijkteam/events.jsonl"], "unknown adapter"),
        (["--from", "samples/wijkteam/events.jsonl"], "unknown adapter"),
        (["--from", "wijkteam:"], "give a path, as ADAPTER:PATH"),
        (["--from", "wijkteam"], "give a path, as ADAPTER:PATH"),
        (["samples/wijkteam/events.jsonl", "--until", "30-06-2026"], "--until must be a date"),
    ],
)
def test_a_wrong_input_is_one_line_and_exit_2(
    args: list[str], expected: str, tmp_path: Path
) -> None:
    result = run_cli("replay", *args, env=env(tmp_path), timeout=30)
    assert result.returncode == 2, result.stderr[-2000:]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], result.stderr[-2000:]
    assert "999990019" not in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert not (tmp_path / "var").exists() or not any((tmp_path / "var").rglob("*.log"))


def test_rejected_lines_give_exit_3_and_a_summary(tmp_path: Path) -> None:
    good = json.loads((SAMPLES / "wijkteam" / "events.jsonl").read_text().splitlines()[0])
    bad = dict(good, id="bad-1", data=dict(good["data"], bsn="123456789"))  # fails the elfproef
    path = tmp_path / "burger-999990019.jsonl"  # named after the citizen: masked (review C)
    path.write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n", encoding="utf-8")
    result = run_cli("replay", str(path), "--json", env=env(tmp_path), timeout=200)
    assert result.returncode == 3, result.stderr[-3000:]
    assert "afgewezen invoerregels: 1" in result.stderr
    assert f"{tmp_path}/burger-*********.jsonl:2: bsn: " in result.stderr
    for bsn in ("123456789", "999990019"):
        assert bsn not in result.stderr + result.stdout
    assert json.loads(result.stdout)["signalen"] == []
