"""The contenders of ``benchmarks/streams.py``, each run over topics already published.

Every function returns a :class:`Rate`: the events it processed and the seconds it took,
measured from its first event (so process start and group joins are not counted), plus the
peak resident memory where the path is a Schakel process of its own. Each contender that reads
Kafka runs as a subprocess: a Faust app (:mod:`benchmarks.faust_baseline`), the Quix Streams
app (:mod:`benchmarks.quix_noop`, in ``.venv-bench``), ``schakel worker`` and the batch path
(:mod:`benchmarks.batch_run`, in one process or with worker processes). The pure core runs in
this process, without Kafka.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from benchmarks.brokers import Broker
from schakel.broker import free_port
from schemas.envelope import Event
from schemas.registry import LocalRegistry
from schemas.serde import RecordSerializer
from schemas.wire import DEFAULT_WIRE, Wire
from streams.ingest import to_timeline_event
from streams.rules import load_rules
from streams.state import CitizenState, StoredEvent, apply_event

ROOT = Path(__file__).resolve().parents[1]
QUIX_PYTHON = ROOT / ".venv-bench" / "bin" / "python"
SUBPROCESS_TIMEOUT = 3600.0
STARTUP_TIMEOUT = 300.0
"""Seconds a worker may take to process its first event (start, group join, recovery)."""
WORKER_COUNTERS = (
    "schakel_worker_events_total{",
    "schakel_worker_duplicates_total ",
    "schakel_worker_deadlettered_total",
)
HANDLE_SECONDS = "schakel_worker_processing_seconds_sum "


@dataclass(frozen=True)
class Rate:
    """``events`` processed in ``seconds``; ``max_rss_bytes`` when measured."""

    events: int
    seconds: float
    max_rss_bytes: int | None = None
    cpu_us_per_event: float | None = None
    """For the worker, the native loops and the batch path: CPU time of the process (all
    threads, user + system; the batch path's worker processes included) per event."""
    handle_us_per_event: float | None = None
    """For the worker: mean wall time of ``Processor.handle`` per record (its
    ``schakel_worker_processing_seconds`` histogram), sends awaited included."""

    @property
    def per_second(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0


def _run_json(command: list[str], out: Path, env: dict[str, str] | None = None) -> dict[str, float]:
    """Run a contender subprocess that writes its result to ``out``; its output is kept in
    ``out`` + ``.log`` and shown when it fails."""
    log = out.with_suffix(".log")
    with log.open("wb") as handle:
        result = subprocess.run(  # noqa: S603 - our own benchmark modules
            command,
            cwd=ROOT,
            check=False,
            timeout=SUBPROCESS_TIMEOUT,
            stdout=handle,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
        )
    if result.returncode != 0 or not out.exists():
        tail = log.read_text(errors="replace")[-3000:]
        raise RuntimeError(f"{command[1:3]} failed (exit {result.returncode}):\n{tail}")
    data: dict[str, float] = json.loads(out.read_text())
    return data


def faust(mode: str, broker: Broker, count: int, work: Path, wire: Wire = DEFAULT_WIRE) -> Rate:
    """A plain Faust agent: ``count`` (no-op, counts only) or ``table`` (one Table update per
    event, memory store)."""
    out = work / f"faust-{mode}.json"
    command = [sys.executable, "-m", "benchmarks.faust_baseline", mode, broker.bootstrap]
    command += [str(count), str(out), str(work / f"faust-{mode}"), wire.namespace]
    return Rate(count, _run_json(command, out)["seconds"])


def quix(broker: Broker, count: int, work: Path, wire: Wire = DEFAULT_WIRE) -> Rate:
    """The Quix Streams no-op app (needs ``.venv-bench``, made by ``make bench``)."""
    if not QUIX_PYTHON.exists():
        raise RuntimeError(f"{QUIX_PYTHON} missing: `make bench` creates it (quixstreams 3.28)")
    out = work / "quix.json"
    command = [str(QUIX_PYTHON), str(ROOT / "benchmarks" / "quix_noop.py"), broker.bootstrap]
    command += [str(count), str(out), ",".join(wire.event_topics)]
    return Rate(count, _run_json(command, out)["seconds"])


def batch(broker: Broker, wire: Wire, count: int, work: Path, jobs: int = 1) -> Rate:
    """The batch path over the topics of ``wire`` (its own group and changelog); ``jobs``: its
    first round in that many worker processes (peak RSS: the largest process)."""
    out = work / f"batch-{wire.namespace}.json"
    command = [sys.executable, "-m", "benchmarks.batch_run", broker.bootstrap, wire.namespace]
    command += [str(out), str(jobs)]
    result = _run_json(command, out, {"SCHAKEL_PROFILE": broker.profile})
    cpu = 1e6 * result["cpu_seconds"] / count if count else None
    return Rate(count, result["seconds"], int(result["max_rss_bytes"]), cpu_us_per_event=cpu)


NATIVE_MODES = {"native": "alo", "native-eos": "eos"}
"""Contender name → mode of :mod:`benchmarks.native_loop`."""


def native(
    name: str, broker: Broker, count: int, work: Path, *, inputs: Wire, outputs: Wire
) -> tuple[Rate, dict[str, float]]:
    """The Processor in a plain confluent-kafka loop (:mod:`benchmarks.native_loop`; a
    benchmark-only contender): the events of ``inputs``, its outputs, group and changelog in
    ``outputs``. Timed from its first to its ``count``-th handled record, as the worker;
    also returns what the loop wrote (``seconds_committed``: until its last commit returned,
    ``commits``, ``cpu_seconds``, ...)."""
    out = work / f"{name}.json"
    command = [sys.executable, "-m", "benchmarks.native_loop", NATIVE_MODES[name]]
    command += [broker.bootstrap, str(count), str(out), inputs.namespace, outputs.namespace]
    env = {"SCHAKEL_PROFILE": broker.profile, "SCHAKEL_KAFKA_BOOTSTRAP": broker.bootstrap}
    result = _run_json(command, out, env)
    events = int(result["events"])
    rate = Rate(
        events,
        result["seconds"],
        int(result["max_rss_bytes"]),
        cpu_us_per_event=1e6 * result["cpu_seconds"] / events if events else None,
    )
    return rate, result


def _metrics(port: int) -> str:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
            return str(r.read().decode())
    except OSError:
        return ""


def _processed(metrics: str) -> float:
    """The worker's events so far (processed, duplicate or dead-lettered), from its /metrics
    text."""
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith(WORKER_COUNTERS)
    )


def _handle_seconds(metrics: str) -> float:
    """Seconds the worker spent in ``Processor.handle`` so far (its histogram's sum), from its
    /metrics text."""
    for line in metrics.splitlines():
        if line.startswith(HANDLE_SECONDS):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a running process (all its threads), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss(pid: int) -> int:
    """``VmHWM`` (peak resident set) of a running process, in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"/proc/{pid}/status has no VmHWM")


@dataclass
class WorkerRun:
    """A running ``schakel worker`` on the topics of ``wire``; ``stop()`` ends it."""

    broker: Broker
    wire: Wire
    work: Path
    clock: str = "replay"

    def __post_init__(self) -> None:
        self.port = free_port()
        env = {
            **os.environ,
            "SCHAKEL_KAFKA_BOOTSTRAP": self.broker.bootstrap,
            "SCHAKEL_PROFILE": self.broker.profile,
            "SCHAKEL_NAMESPACE": self.wire.namespace,
            "SCHAKEL_WEB_PORT": str(self.port),
            "SCHAKEL_DATA_DIR": str(self.work / f"worker-{self.wire.namespace or 'default'}"),
            "SCHAKEL_TIMER_INTERVAL_S": "1",
            "PYTHONUNBUFFERED": "1",
        }
        self.log = self.work / f"worker-{self.wire.namespace or 'default'}.log"
        with self.log.open("wb") as handle:
            self.process = subprocess.Popen(  # noqa: S603 - our own CLI
                [sys.executable, "-m", "schakel", "worker", "--clock", self.clock],
                cwd=ROOT,
                env=env,
                stdout=handle,
                stderr=subprocess.STDOUT,
            )

    def _metrics(self) -> str:
        """The worker's /metrics text; raises if the worker died."""
        if self.process.poll() is not None:
            tail = self.log.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"worker died (exit {self.process.returncode}):\n{tail}")
        return _metrics(self.port)

    def processed(self) -> float:
        return _processed(self._metrics())

    def peak_rss(self) -> int:
        return peak_rss(self.process.pid)

    def costs(self) -> tuple[float, float, float]:
        """(events processed, CPU seconds of the process, seconds in ``Processor.handle``)
        so far: two readings give the cost per event between them."""
        metrics = self._metrics()  # one reading for both counters
        return _processed(metrics), cpu_seconds(self.process.pid), _handle_seconds(metrics)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


def worker(broker: Broker, wire: Wire, count: int, work: Path, max_seconds: float) -> Rate:
    """``schakel worker --clock replay`` over the ``count`` events on the topics of ``wire``:
    seconds from its first to its ``count``-th event, or the events done after
    ``max_seconds`` (then the rate is over what it did). Raises when it dies or processes
    nothing within :data:`STARTUP_TIMEOUT`."""
    run = WorkerRun(broker, wire, work)
    launched = time.perf_counter()
    try:
        first: float | None = None
        start = (0.0, 0.0, 0.0)
        done = 0.0
        while True:
            done = run.processed()
            now = time.perf_counter()
            if first is None and done > 0:
                first = now - 0.05  # half the polling interval
                start = run.costs()
            if first is None and now - launched > STARTUP_TIMEOUT:
                raise RuntimeError(f"the worker processed nothing in {STARTUP_TIMEOUT:.0f} s")
            if first is not None and (done >= count or now - first > max_seconds):
                end = run.costs()
                events = end[0] - start[0]
                return Rate(
                    int(done),
                    now - first,
                    run.peak_rss(),
                    cpu_us_per_event=1e6 * (end[1] - start[1]) / events if events else None,
                    handle_us_per_event=1e6 * (end[2] - start[2]) / events if events else None,
                )
            time.sleep(0.1)
    finally:
        run.stop()


def core(stream: Iterator[Event], max_seconds: float, chunk: int = 10_000) -> Rate:
    """The pure core alone (timeline + rules + signal diff after every event, no Kafka): the
    events are validated and Avro-encoded in chunks outside the timed part; stops after the
    chunk that passes ``max_seconds``."""
    rules = load_rules()
    serializer = RecordSerializer(LocalRegistry())
    states: dict[str, CitizenState] = defaultdict(lambda: CitizenState(subject=""))
    elapsed = 0.0
    done = 0
    while elapsed < max_seconds:
        events = [
            (event, serializer(event, DEFAULT_WIRE.topic_for(event.type)))
            for event in islice(stream, chunk)
        ]
        if not events:
            break
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
        elapsed += time.perf_counter() - started
        done += len(events)
    return Rate(done, elapsed)
