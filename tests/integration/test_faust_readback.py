"""Issue 2, end to end: catalogue events with BSNs → validation and pseudonymisation → the
idempotent kafka-python producer through the Avro serde → the embedded broker → read back by a
plain Faust agent, with pseudonyms in place of BSNs and no BSN anywhere in the records."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from adapters.checkpoint import FileCheckpoint
from adapters.jsonlines import JsonLinesSource
from adapters.publisher import Publisher
from adapters.quarantine import Quarantine
from adapters.runner import Runner
from schakel.broker import EmbeddedBroker
from schemas.pseudonym import Pseudonymiser
from schemas.registry import LocalRegistry
from schemas.serde import RecordSerializer
from schemas.wire import DEFAULT_WIRE
from tests.unit.schemas.samples import SAMPLES

BSNS = ["111222333", "123456782", "999999990"]
KEY = "readback-key-0123456789abcdef0123456"


def test_faust_agent_reads_pseudonymised_avro(fresh_broker: EmbeddedBroker, tmp_path: Path) -> None:
    lines = []
    input_types = [t for t in SAMPLES if not t.startswith("nl.schakel.")]
    for i, event_type in enumerate(input_types):
        lines.append(
            json.dumps(
                {
                    "specversion": "1.0",
                    "id": f"rb-{i}",
                    "source": "urn:nld:oin:1:systeem:test",
                    "type": event_type,
                    "subject": BSNS[i % 3],  # a careless source: BSN as subject
                    "data": {**SAMPLES[event_type], "bsn": BSNS[i % 3]},
                }
            )
        )
    source_file = tmp_path / "events.jsonl"
    source_file.write_text("\n".join(lines) + "\n")
    publisher = Publisher(
        fresh_broker.bootstrap,
        RecordSerializer(LocalRegistry()),
        client_id="readback",
        wire=DEFAULT_WIRE,
    )
    runner = Runner(
        JsonLinesSource([source_file]),
        publisher=publisher,
        pseudonymiser=Pseudonymiser(KEY),
        checkpoint=FileCheckpoint(tmp_path / "cp.json"),
        quarantine=Quarantine("publish", tmp_path / "q.jsonl", publisher),
    )
    stats = runner.run_once()
    publisher.close()
    assert (stats.published, stats.rejected) == (len(input_types), 0)

    out = tmp_path / "received.jsonl"
    env = {**os.environ, "READER_DATADIR": str(tmp_path / "faust"), "PYTHONUNBUFFERED": "1"}
    result = subprocess.run(
        [
            sys.executable,
            str(Path(__file__).parent / "faust_reader.py"),
            fresh_broker.bootstrap,
            str(out),
            str(len(input_types)),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(r["event"]["type"] for r in rows) == sorted(input_types)
    pseudonyms = {Pseudonymiser(KEY)(b) for b in BSNS}
    for row in rows:
        assert row["key"] == row["event"]["subject"]
        assert row["key"] in pseudonyms
        assert "bsn" not in row["event"]["data"]
        blob = json.dumps(row) + bytes.fromhex(row["value_hex"]).decode("latin-1")
        for bsn in BSNS:
            assert bsn not in blob
