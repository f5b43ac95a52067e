"""Where the worker and the batch path spend their time: py-spy over both, on one embedded
broker, and the top functions of each.

    .venv/bin/python -m benchmarks.profile [--events 20000] [--out var/profile]
                                           [--broker embedded|kafka] [--paths worker,batch]

Needs ``py-spy`` (``make bench`` installs it in ``.venv-bench``; it is a binary, so any
environment works). The worker (``schakel worker --clock replay``) is sampled from its first to
its last event (py-spy attaches to the running process); the batch path
(:mod:`benchmarks.batch_run`) from start to end. Writes py-spy's raw collapsed stacks
(``worker.txt``, ``batch.txt``: input for flamegraph tools) and prints, per process, the
functions with the most samples on top of the stack (self) and anywhere in it (total), in % of
the process's samples.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from benchmarks.brokers import running
from benchmarks.contenders import ROOT, WorkerRun
from benchmarks.native_loop import FIRST_EVENT
from benchmarks.streams import BATCH_WIRE, PARTITIONS
from benchmarks.workload import events, publish
from schakel.topics import ensure_topics
from schemas.wire import DEFAULT_WIRE

PY_SPY = ROOT / ".venv-bench" / "bin" / "py-spy"
RATE = "200"  # samples per second
_LINE = re.compile(r":\d+\)$")
IDLE = re.compile(
    r"^(\w+\.)?(select|poll|wait|sleep|_wait_for_tstate_lock) \("
    r"|^_worker \(concurrent/futures/thread\.py"
)
"""A leaf frame that waits (a thread blocked in the selector or a lock, an idle thread of a
pool blocked in its queue's C ``get``): not work."""
OURS = re.compile(r"\((streams|schemas|adapters|schakel)/")


def _py_spy() -> str:
    found = str(PY_SPY) if PY_SPY.exists() else shutil.which("py-spy")
    if found is None:
        raise SystemExit("py-spy not found: make bench installs it in .venv-bench")
    return found


def top(raw: Path, count: int = 15) -> list[str]:
    """From a py-spy raw file: the ``count`` functions with the most samples on top of the
    stack (self), then the project's functions (``streams/``, ``schemas/``, ``adapters/``,
    ``schakel/``) with the most samples anywhere in the stack (total); both in % of the busy
    samples (every thread's samples except those waiting: :data:`IDLE`)."""
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    busy = idle = 0
    for line in raw.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if not stack:
            continue
        frames = [_LINE.sub(")", f) for f in stack.split(";")]
        weight = int(n)
        if IDLE.match(frames[-1]):
            idle += weight
            continue
        busy += weight
        own[frames[-1]] += weight
        for frame in set(frames):
            if OURS.search(frame):
                total[frame] += weight
    out = [f"{busy} busy samples ({idle} waiting, left out)", "self %  function"]
    out += [f"{100 * n / busy:5.1f}  {f}" for f, n in own.most_common(count)]
    out += ["total %  project function"]
    out += [f"{100 * n / busy:5.1f}  {f}" for f, n in total.most_common(count * 2)]
    return out


def profile_worker(bootstrap_kind: str, count: int, out: Path, work: Path) -> Path:
    raw = out / "worker.txt"
    with running(bootstrap_kind) as broker:
        ensure_topics(broker.bootstrap, partitions=PARTITIONS, wire=DEFAULT_WIRE)
        publish(broker.bootstrap, DEFAULT_WIRE, events(count, 10))
        run = WorkerRun(broker, DEFAULT_WIRE, work)
        spy: subprocess.Popen[bytes] | None = None
        try:
            while run.processed() < 1:
                time.sleep(0.05)
            command = [_py_spy(), "record", "-r", RATE, "-f", "raw", "-o", str(raw)]
            spy = subprocess.Popen(  # noqa: S603 - py-spy on our own worker
                [*command, "--pid", str(run.process.pid)],
                stdout=subprocess.DEVNULL,
            )
            started = time.perf_counter()
            while run.processed() < count:
                time.sleep(0.2)
            print(f"worker: {count} events in {time.perf_counter() - started:.1f} s (sampled)")
        finally:
            if spy is not None:
                spy.send_signal(signal.SIGINT)
                spy.wait(60)
            run.stop()
    return raw


def profile_batch(bootstrap_kind: str, count: int, out: Path, work: Path) -> Path:
    raw = out / "batch.txt"
    with running(bootstrap_kind) as broker:
        ensure_topics(broker.bootstrap, partitions=PARTITIONS, wire=BATCH_WIRE)
        publish(broker.bootstrap, BATCH_WIRE, events(count, 10))
        started = time.perf_counter()
        spy = [_py_spy(), "record", "-r", RATE, "-f", "raw", "-o", str(raw), "--"]
        batch = [sys.executable, "-m", "benchmarks.batch_run", broker.bootstrap]
        subprocess.run(  # noqa: S603 - py-spy on our own batch run
            [*spy, *batch, BATCH_WIRE.namespace, str(work / "batch.json")],
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
            env={**os.environ, "SCHAKEL_PROFILE": broker.profile},
        )
        print(f"batch: {count} events in {time.perf_counter() - started:.1f} s (sampled)")
    return raw


def profile_native(bootstrap_kind: str, count: int, out: Path, work: Path) -> Path:
    """The benchmark-only native loop (:mod:`benchmarks.native_loop`, at least once on the
    embedded broker, ``eos`` on Apache Kafka), sampled from its first to its last event."""
    raw = out / "native.txt"
    mode = "alo" if bootstrap_kind == "embedded" else "eos"
    with running(bootstrap_kind) as broker:
        ensure_topics(broker.bootstrap, partitions=PARTITIONS, wire=DEFAULT_WIRE)
        publish(broker.bootstrap, DEFAULT_WIRE, events(count, 10))
        command = [sys.executable, "-m", "benchmarks.native_loop", mode, broker.bootstrap]
        command += [str(count), str(work / "native.json"), "", "bench-native"]
        env = {
            **os.environ,
            "SCHAKEL_PROFILE": broker.profile,
            "SCHAKEL_KAFKA_BOOTSTRAP": broker.bootstrap,
            "PYTHONUNBUFFERED": "1",
        }
        loop = subprocess.Popen(  # noqa: S603 - our own benchmark module
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE
        )
        assert loop.stdout is not None
        for line in loop.stdout:
            if line.decode().strip() == FIRST_EVENT:
                break
        spy = [_py_spy(), "record", "-r", RATE, "-f", "raw", "-o", str(raw)]
        subprocess.run(  # noqa: S603 - py-spy on our own benchmark loop
            [*spy, "--pid", str(loop.pid)], check=True, stdout=subprocess.DEVNULL
        )
        if loop.wait(60) != 0:
            raise RuntimeError(f"the native loop failed (exit {loop.returncode})")
        figures = (work / "native.json").read_text()
        print(f"native ({mode}): {figures}")
    return raw


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--broker", choices=["embedded", "kafka"], default="embedded")
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "profile")
    parser.add_argument(
        "--paths",
        default="worker,batch",
        help="comma-separated subset of worker,batch,native (native: benchmark only)",
    )
    args = parser.parse_args()
    chosen = [p for p in args.paths.split(",") if p]
    if not set(chosen) <= {"worker", "batch", "native"}:
        parser.error("--paths: a subset of worker,batch,native")
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name, profile in (
            ("worker", profile_worker),
            ("batch", profile_batch),
            ("native", profile_native),
        ):
            if name not in chosen:
                continue
            raw = profile(args.broker, args.events, args.out, Path(tmp))
            print(f"\n## {name} ({raw})\n" + "\n".join(top(raw)), flush=True)


if __name__ == "__main__":
    main()
