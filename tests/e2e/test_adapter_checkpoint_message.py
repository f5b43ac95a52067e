"""An adapter run that reads nothing because of its saved checkpoint says so (issue 13
item 5), on the embedded broker."""

from __future__ import annotations

import os
from pathlib import Path

from schakel.broker import EmbeddedBroker
from tests.cli import ROOT, run_cli

EVENTS = str(ROOT / "samples" / "wijkteam" / "events.jsonl")


def test_a_run_that_skips_everything_says_so(fresh_broker: EmbeddedBroker, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCHAKEL_")}
    env.update(
        {
            "SCHAKEL_DATA_DIR": str(tmp_path),
            "SCHAKEL_KAFKA_BOOTSTRAP": fresh_broker.bootstrap,
            "SCHAKEL_PSEUDONYM_KEY": "checkpoint-test-key-0123456789abcdef",
            "SCHAKEL_PROFILE": "embedded",
        }
    )
    instance = ["--instance", "wijkteam-999990019"]  # a BSN in the checkpoint's name: masked
    first = run_cli("adapter", "wijkteam", EVENTS, "--once", *instance, env=env)
    assert first.returncode == 0, first.stderr[-2000:]
    assert "nothing new since the saved checkpoint" not in first.stderr
    second = run_cli("adapter", "wijkteam", EVENTS, "--once", *instance, env=env)
    assert second.returncode == 0, second.stderr[-2000:]
    assert "wijkteam: nothing new since the saved checkpoint" in second.stderr
    assert "wijkteam-*********.json" in second.stderr and "999990019" not in second.stderr
    assert "read 0, published 0" in second.stdout
