"""`make bench` at a tiny size: the harness runs end to end on the embedded broker and its last
line is the summary JSON with positive figures. Speeds are not asserted (a shared machine is
noisy). The benchmark-only native loop runs too, and must write the worker's signal events.
Only the paths that need no extra virtual environment run here: the Quix Streams app
needs ``.venv-bench`` (``make bench`` makes it), the latency and history runs start more
workers than fit in a quick test; each of those is exercised by ``make bench`` itself."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PATHS = ("faust_noop", "worker", "native", "batch", "batch2", "core")


def test_bench_runs_and_ends_with_the_summary_json() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.streams",
            "--events",
            "500",
            "--broker",
            "embedded",
            "--paths",
            "faust-noop,worker,native,batch,batch2,core",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["events"] == 500
    assert summary["brokers"] == ["embedded"]
    assert len(summary["commit"]) == 40
    figures = summary["runs"]["embedded"]
    assert figures["broker"] == "embedded"
    for path in PATHS:
        assert figures["events_per_s"][path] > 0, path
        assert figures["events_measured"][path] == 500, path
        assert figures["ratio_to_faust_noop"][path] > 0, path
    assert figures["ratio_to_faust_noop"]["faust_noop"] == 1.0
    assert figures["ratio_to_quix"] is None  # Quix did not run
    assert figures["peak_rss_bytes"]["worker"] > 20 * 2**20
    assert figures["peak_rss_bytes"]["batch"] > 20 * 2**20
    assert figures["peak_rss_bytes"]["batch2"] > 20 * 2**20
    assert figures["worker_us_per_event"]["cpu"] > 0  # the worker's process, per event
    assert figures["worker_us_per_event"]["handle"] > 0
    assert figures["state_bytes_per_citizen"] > 0
    assert figures["state_citizens"] == 50
    assert figures["changelog_bytes_per_event"] > 0
    assert figures["latency"] is None
    # the benchmark-only native loop wrote the worker's signal events, no more, no fewer
    assert figures["signals_vs_worker"]["native"]["match"] is True
    assert figures["signals_vs_worker"]["native"]["records"]["other"] > 0
    assert figures["history"] is None
