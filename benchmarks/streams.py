"""Throughput of the stream worker against plain Faust baselines, in one run, on one broker.

    python -m benchmarks.streams [--citizens 4000] [--events-per-citizen 10]

Publishes a synthetic backlog (valid catalogue events, realistic mix, BSNs pseudonymised) to
a fresh embedded broker, then reads the same backlog with, one after the other:

1. a plain Faust agent that only counts (the ceiling of a Faust agent here);
2. a plain Faust agent doing one Table update per event (memory store);
3. Schakel's worker on the replay clock: decode + validate + dedupe + timeline + six rules
   + signal diff + snapshot + state changelog per event;
4. Schakel's batch path (``schakel replay --batch``): bulk polls, the same pure functions,
   one assessment per citizen at the end, the same outputs (over a copy of the backlog in
   namespace ``bench-batch``, so it has a consumer group and changelog of its own).

and the pure core alone (no Kafka, no Faust) over the same events, to show where time goes.
Prints a table of events/s; numbers are reported in docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from adapters.publisher import Publisher
from schakel.broker import EmbeddedBroker, free_port
from schakel.synth.bsn import block as bsn_block
from schakel.topics import ensure_topics
from schemas.envelope import Event, validate_input
from schemas.pseudonym import Pseudonymiser
from schemas.registry import LocalRegistry
from schemas.serde import RecordDeserializer, RecordSerializer
from schemas.wire import DEFAULT_WIRE, Wire
from streams.ingest import to_timeline_event
from streams.rules import load_rules
from streams.state import CitizenState, StoredEvent, apply_event

ROOT = Path(__file__).resolve().parents[1]
SOURCE = "urn:nld:oin:00000001234567890000:systeem:bench"


BSNS = bsn_block()


def valid_bsn(n: int) -> str:
    """The n-th synthetic BSN (``schakel.synth.bsn``: valid, never a real person's)."""
    return BSNS[n % len(BSNS)]


def citizen(i: int, per_citizen: int) -> list[dict[str, Any]]:
    """A plausible mix across the four domains, ``per_citizen`` events."""
    bsn = valid_bsn(i)
    start = date(2024, 11, 1) + timedelta(days=(i * 7) % 400)
    kinds: list[tuple[str, dict[str, Any]]] = [
        ("nl.wmo.meldingen.ontvangen", {}),
        (
            "nl.wmo.onderzoeken.afgerond",
            {"werkwens": i % 2 == 0, "arbeidspotentieel": "gedeeltelijk"},
        ),
        (
            "nl.wmo.voorzieningen.toegewezen",
            {
                "toewijzing_nummer": f"T{i}",
                "productcategorie": "07" if i % 3 else "02",
                "ingangsdatum": None,
            },
        ),
        (
            "nl.wmo.voorzieningen.gestart",
            {"toewijzing_nummer": f"T{i}", "productcategorie": "07" if i % 3 else "02"},
        ),
        ("nl.participatiewet.uitkeringen.toegekend", {"regeling": "bijstand"}),
        ("nl.wijkteams.casussen.geopend", {"casus_id": f"C{i}"}),
        (
            "nl.wgs.vroegsignalen.ontvangen",
            {
                "signaal_id": f"S{i}",
                "partner": "energie",
                "bedrag_cent": 25000,
                "dagen_achterstand": 45,
                "dreiging": "geen",
            },
        ),
        ("nl.wijkteams.zrm.vastgesteld", {"scores": {"financien": 2, "werk-opleiding": 3}}),
        ("nl.wgs.vroegsignalen.opgevolgd", {"signaal_id": f"S{i}", "actie": "gesprek"}),
        ("nl.participatiewet.verwijzingen.ontvangen", {"van": "wmo"}),
        ("nl.wijkteams.regie.toegewezen", {"rol": "casusregisseur"}),
        ("nl.participatiewet.trajecten.gestart", {"traject_id": f"R{i}", "soort": "re-integratie"}),
    ]
    out = []
    for n in range(per_citizen):
        event_type, data = kinds[n % len(kinds)]
        datum = start + timedelta(days=9 * n)
        data = {k: (str(datum) if v is None else v) for k, v in data.items()}
        out.append(
            {
                "specversion": "1.0",
                "id": f"b{i}-{n}",
                "source": SOURCE,
                "type": event_type,
                "data": {"bsn": bsn, "datum": str(datum), **data},
            }
        )
    return out


def run_baseline(mode: str, bootstrap: str, count: int, work: Path) -> float:
    out = work / f"{mode}.json"
    subprocess.run(  # noqa: S603 - our own benchmark module
        [
            sys.executable,
            "-m",
            "benchmarks.faust_baseline",
            mode,
            bootstrap,
            str(count),
            str(out),
            str(work / f"faust-{mode}"),
        ],
        cwd=ROOT,
        check=True,
        timeout=900,
        capture_output=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    return float(json.loads(out.read_text())["seconds"])


def _processed(port: int) -> float:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
            text = r.read().decode()
    except OSError:
        return 0.0
    total = 0.0
    for line in text.splitlines():
        if line.startswith(("schakel_worker_events_total{", "schakel_worker_duplicates_total ")):
            total += float(line.rsplit(" ", 1)[1])
    return total


def run_worker(bootstrap: str, count: int, work: Path) -> float:
    port = free_port()
    env = {
        **os.environ,
        "SCHAKEL_KAFKA_BOOTSTRAP": bootstrap,
        "SCHAKEL_WEB_PORT": str(port),
        "SCHAKEL_DATA_DIR": str(work / "worker"),
        "PYTHONUNBUFFERED": "1",
    }
    log = (work / "worker.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "schakel", "worker", "--clock", "replay"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        first = None
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"worker died: {(work / 'worker.log').read_text()[-2000:]}")
            done = _processed(port)
            now = time.perf_counter()
            if first is None and done > 0:
                first = now - 0.05  # half the polling interval
            if first is not None and done >= count:
                return now - first
            time.sleep(0.1)
    finally:
        process.terminate()
        process.wait(30)


BATCH_WIRE = Wire("bench-batch")
"""The batch path's namespace: the backlog is published there too (not timed)."""


def run_batch(bootstrap: str) -> float:
    """The batch path over the backlog in :data:`BATCH_WIRE` (its own group and changelog)."""
    from streams.batch import BatchRebuild

    registry = LocalRegistry()
    started = time.perf_counter()
    BatchRebuild(
        bootstrap,
        wire=BATCH_WIRE,
        engine=load_rules(),
        serializer=RecordSerializer(registry),
        deserializer=RecordDeserializer(registry),
        partitions=4,
        source=SOURCE,
        history_limit=2000,
    ).run()
    return time.perf_counter() - started


def run_core(raw_events: list[dict[str, Any]]) -> float:
    """The pure core alone: validate + timeline + rules + diff, no Kafka, no Faust."""
    rules = load_rules()
    pseudonymise = Pseudonymiser("bench")
    serializer = RecordSerializer(LocalRegistry())
    events: list[tuple[Event, bytes]] = []
    for raw in raw_events:
        event = validate_input(raw, pseudonymise)
        events.append((event, serializer(event, DEFAULT_WIRE.topic_for(event.type))))
    states: dict[str, CitizenState] = defaultdict(lambda: CitizenState(subject=""))
    started = time.perf_counter()
    for event, payload in events:
        assert event.subject is not None
        state = states[event.subject]
        state.subject = event.subject
        apply_event(
            state,
            StoredEvent(to_timeline_event(event), payload),
            rules,
            today=None,
            history_limit=2000,
        )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--citizens", type=int, default=4000)
    parser.add_argument("--events-per-citizen", type=int, default=10)
    args = parser.parse_args()
    raw = [e for i in range(args.citizens) for e in citizen(i, args.events_per_citizen)]
    count = len(raw)
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp, EmbeddedBroker() as broker:
        work = Path(tmp)
        pseudonymise = Pseudonymiser("bench")
        for wire in (DEFAULT_WIRE, BATCH_WIRE):
            ensure_topics(broker.bootstrap, partitions=4, wire=wire)
            publisher = Publisher(
                broker.bootstrap, RecordSerializer(LocalRegistry()), client_id="bench", wire=wire
            )
            started = time.perf_counter()
            for event in raw:
                publisher.send(validate_input(event, pseudonymise))
            publisher.flush()
            publisher.close()
            if wire is DEFAULT_WIRE:
                results["publish (validate + Avro + kafka-python, acks=all)"] = (
                    time.perf_counter() - started
                )
        results["plain Faust agent, count only"] = run_baseline(
            "count", broker.bootstrap, count, work
        )
        results["plain Faust agent, one Table update per event"] = run_baseline(
            "table", broker.bootstrap, count, work
        )
        results["Schakel worker (full processing)"] = run_worker(broker.bootstrap, count, work)
        results["Schakel batch path (bulk poll, same pure functions)"] = run_batch(broker.bootstrap)
    results["Schakel pure core, no Kafka/Faust (rules + state)"] = run_core(raw)
    print(f"\n{count} events, {args.citizens} citizens, embedded broker, 4 partitions\n")
    print(f"| {'path':54} | {'seconds':>8} | {'events/s':>9} |")
    print(f"|{'-' * 56}|{'-' * 10}|{'-' * 11}|")
    for name, seconds in results.items():
        print(f"| {name:54} | {seconds:8.2f} | {count / seconds:9.0f} |")


if __name__ == "__main__":
    main()
