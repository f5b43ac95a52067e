"""The OpenAPI document (streams/openapi.py): the committed docs/openapi.json is its output,
it names every path streams/api.py registers, the worker serves it without a token, and
schemathesis finds no answer of a live worker that breaks it."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

from schakel.broker import EmbeddedBroker
from streams.openapi import DOC_FILE, OPENAPI_PATH, openapi_document, render
from tests.integration.streams.helpers import AUTH, WorkerProcess
from tests.integration.streams.test_replay import CITIZEN_A

ROOT = Path(__file__).resolve().parents[3]
CHECKS = (
    "not_a_server_error",
    "response_schema_conformance",
    "status_code_conformance",
    "content_type_conformance",
)


def test_committed_document_is_generated() -> None:
    assert DOC_FILE.read_text(encoding="utf-8") == render(), (
        "docs/openapi.json is stale: python -m streams.openapi --write"
    )
    assert json.loads(render())["openapi"].startswith("3.1")


def test_every_registered_route_is_described() -> None:
    source = (ROOT / "streams" / "api.py").read_text(encoding="utf-8")
    paths = set(re.findall(r'"(/api/v1/[^"]*|/metrics|/health|/ready)"', source))
    assert {"/api/v1/signalen", "/api/v1/burgers/{pseudonym}/tijdlijn", "/ready"} <= paths
    described = set(openapi_document()["paths"])
    assert paths | {OPENAPI_PATH} <= described
    assert described - paths == {OPENAPI_PATH}  # nothing described that is not served


def test_served_without_token(live: tuple[EmbeddedBroker, WorkerProcess]) -> None:
    _, worker = live
    status, body = worker.get(OPENAPI_PATH)
    assert status == 200
    assert body == openapi_document()


def test_van_tot_filter_sinds(live: tuple[EmbeddedBroker, WorkerProcess]) -> None:
    _, worker = live
    _, everything = worker.get("/api/v1/signalen", AUTH)
    dates = sorted(s["sinds"] for s in everything["signalen"])
    assert len(set(dates)) >= 2
    low, high = dates[0], dates[-1]
    _, body = worker.get(f"/api/v1/signalen?van={high}", AUTH)
    assert body["totaal"] == dates.count(high) < len(dates)
    _, body = worker.get(f"/api/v1/signalen?tot={low}", AUTH)
    assert {s["sinds"] for s in body["signalen"]} == {low}
    _, body = worker.get(f"/api/v1/signalen?van={low}&tot={high}", AUTH)
    assert body["totaal"] == len(dates)
    for query, field in (("van=2024-13-01", "van"), ("tot=gisteren", "tot")):
        status, body = worker.get(f"/api/v1/signalen?{query}", AUTH)
        assert status == 400 and body["fout"].startswith(field), body
    status, body = worker.get(f"/api/v1/signalen?van={high}&tot={low}", AUTH)
    assert (status, body["fout"].startswith("van en tot")) == (400, True)


def schemathesis(worker: WorkerProcess, cwd: Path, token: str, only: str, examples: int) -> int:
    """Run schemathesis over the operations whose path matches ``only`` with ``token`` and a
    valid purpose; assert it found nothing; return the number of test cases it ran."""
    (cwd / "schemathesis.toml").write_text(f'[parameters]\n"path.pseudonym" = "{CITIZEN_A}"\n')
    run = subprocess.run(
        [
            str(Path(sys.executable).with_name("schemathesis")),
            "run",
            worker.url + OPENAPI_PATH,
            "--url",
            worker.url,
            "--include-path-regex",
            only,
            "--checks",
            ",".join(CHECKS),
            "--header",
            f"Authorization: Bearer {token}",
            "--header",
            f"X-Doel: {AUTH['X-Doel']}",
            "--max-examples",
            str(examples),
            "--seed",
            "13",
            "--workers",
            "1",
            "--no-color",
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-6000:]
    summary = re.search(r"(\d+) generated, (\d+) passed", output)
    assert summary and summary.group(1) == summary.group(2), output[-3000:]
    print(output[output.rfind("Test cases:") :])
    return int(summary.group(1))


def test_schemathesis_finds_no_violation(
    live: tuple[EmbeddedBroker, WorkerProcess], tmp_path: Path
) -> None:
    """schemathesis (its CLI, as an integration team would run it) against the live worker,
    each endpoint with a token of its role and a valid purpose (the citizen's timeline for a
    known pseudonym): no 500, and every answer conforms to the document (status code,
    content type, JSON schema). Coverage and fuzzing phases, bounded examples (the time it
    took is printed, not asserted)."""
    _, worker = live
    started = time.monotonic()
    cases = schemathesis(worker, tmp_path, "token-anna", "^/api/v1/(signalen|burgers/)", 12)
    cases += schemathesis(worker, tmp_path, "token-bert", "^/api/v1/(deadletters|configuratie)", 4)
    cases += schemathesis(
        worker, tmp_path, "token-carla", "^/(api/v1/(inzage|openapi)|metrics|health|ready)", 4
    )
    elapsed = time.monotonic() - started
    print(f"schemathesis: {cases} test cases in {elapsed:.0f} s")
    assert cases >= 200
