"""``schakel demo`` serves the read-only schema registry while it runs (issue 13 item 2), and
stops it with the demo."""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from schakel.broker import free_port
from schemas.registry import catalogue_subjects, local_schema_id
from tests.processes import start, stop


def get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def test_the_demo_serves_the_registry_until_it_stops(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCHAKEL_")}
    env.update({"SCHAKEL_DATA_DIR": str(tmp_path / "var"), "PYTHONUNBUFFERED": "1"})
    output = tmp_path / "demo.out"
    command = [sys.executable, "-m", "schakel", "demo", "--citizens", "100", "--no-postgres"]
    demo = start([*command, "--port", str(free_port())], output, env=env)
    try:
        deadline = time.monotonic() + 240
        while "Ctrl-C stopt de demo" not in output.read_text() and time.monotonic() < deadline:
            assert demo.poll() is None, output.read_text()[-3000:]
            time.sleep(0.5)
        lines = [line for line in output.read_text().splitlines() if "schema-registry:" in line]
        assert lines, output.read_text()[-3000:]
        url = lines[-1].split("schema-registry:")[1].split()[0]
        assert url.startswith("http://127.0.0.1:")

        subjects = catalogue_subjects()
        assert get(f"{url}/subjects") == sorted(subjects)
        newest = subjects["schakel.signalen-nl.schakel.signalen.gesignaleerd"][-1]
        answer = get(f"{url}/schemas/ids/{local_schema_id(newest.raw)}")
        assert json.loads(answer["schema"]) == newest.raw
    finally:
        assert stop(demo, grace=60) == 0, output.read_text()[-3000:]
    try:
        get(f"{url}/subjects")
        raise AssertionError("the registry still answers after the demo stopped")
    except urllib.error.URLError:
        pass
