"""``make bench``: Schakel's stream paths against Faust and Quix Streams, in one run per broker.

    python -m benchmarks.streams [--events 100000] [--broker embedded|kafka|both]
                                 [--paths faust-noop,faust-table,quix,worker,batch,batch2,...]

Per broker (a fresh one each: the embedded Tansu, or a one-node Apache Kafka), the generated
events (10 per citizen by default, :mod:`benchmarks.workload`) are published once with the
adapters' publisher, then read from the same topics by, one after the other:

- ``faust-noop``: a plain Faust agent that only counts; ``faust-table``: one Table update per
  event (:mod:`benchmarks.faust_baseline`);
- ``quix``: a Quix Streams 3.28 no-op app (:mod:`benchmarks.quix_noop`, in ``.venv-bench``);
- ``worker``: ``schakel worker --clock replay``, timed from its first to its last event on its
  /metrics counters; its peak RSS (VmHWM) and the state bytes per citizen on its changelog;
- ``native`` / ``native-eos``: benchmark-only, not a Schakel runtime: Schakel's
  ``Processor`` in a plain confluent-kafka loop, at least once / one transaction per commit
  interval (Apache Kafka only) (:mod:`benchmarks.native_loop`), outputs in namespace
  ``bench-native`` / ``bench-native-eos``; with ``worker`` in the run its signal events are
  compared with the worker's (counts per type, ids);
- ``batch``: the batch path (``schakel replay --batch``) over a copy of the events in namespace
  ``bench-batch`` (it has a consumer group and changelog of its own), in its own process;
  ``batch2``: the same with its first round in 2 worker processes (``--batch --jobs 2``),
  over another copy in ``bench-batch2``;
- ``latency``: event→signal p50/p99 at a fixed offered load (a paced producer, live worker);
- ``history``: the worker's events/s at 10, 100 and 1,000 events per citizen, the same number
  of events each (namespaces ``bench-h<n>``);

and ``core``, the pure core without Kafka (per-event recompute), once per run. Every path is
timed from its first event; a path still running after ``--max-seconds`` is rated over what
it did (the JSON says how many events each rate covers). Prints a Markdown table per broker;
the LAST line of output is one JSON object with every figure (see :func:`report.summary`).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from benchmarks import contenders, measures, report
from benchmarks.brokers import KINDS, Broker, kafka_available, running
from benchmarks.workload import events, publish
from schakel.topics import ensure_topics
from schemas.wire import DEFAULT_WIRE, Wire

PATHS = (
    "faust-noop",
    "faust-table",
    "quix",
    "worker",
    "native",
    "native-eos",
    "batch",
    "batch2",
    "core",
    "latency",
    "history",
)
PARTITIONS = 4
BATCH_WIRE = Wire("bench-batch")
BATCH2_WIRE = Wire("bench-batch2")
BATCH2_JOBS = 2
NATIVE_WIRES = {"native": Wire("bench-native"), "native-eos": Wire("bench-native-eos")}
"""Where each benchmark-only native loop writes its outputs (its group and changelog too)."""


def _say(text: str) -> None:
    print(text, flush=True)


def _publish(broker: Broker, wire: Wire, total: int, per_citizen: int) -> tuple[int, float]:
    ensure_topics(broker.bootstrap, partitions=PARTITIONS, wire=wire)
    return publish(broker.bootstrap, wire, events(total, per_citizen))


def _natives(
    broker: Broker,
    paths: set[str],
    count: int,
    work: Path,
    *,
    rates: dict[str, contenders.Rate],
    extra: dict[str, Any],
) -> None:
    """The benchmark-only native loops of ``paths``; with the worker in the run, their signal
    events compared with the worker's (``extra["signals"]``)."""
    for name, wire in NATIVE_WIRES.items():
        if name not in paths:
            continue
        if name == "native-eos" and broker.kind == "embedded":
            _say(f"[{broker.kind}] {name}: not run (transactions: Apache Kafka only)")
            continue
        key = name.replace("-", "_")
        rates[key], figures = contenders.native(
            name, broker, count, work, inputs=DEFAULT_WIRE, outputs=wire
        )
        extra.setdefault("native", {})[key] = figures
        _say(f"[{broker.kind}] {name}: {figures}")
        if "worker" in paths:
            extra.setdefault("signals", {})[key] = measures.same_signals(
                measures.signals(broker, DEFAULT_WIRE), measures.signals(broker, wire)
            )
            _say(f"[{broker.kind}] {name} signals vs worker: {extra['signals'][key]}")


def run_broker(broker: Broker, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """Every selected path except ``core`` on ``broker``; the figures of :func:`report.run`."""
    paths = set(args.paths)
    rates: dict[str, contenders.Rate] = {}
    extra: dict[str, Any] = {}
    count = args.events
    if paths & {"faust-noop", "faust-table", "quix", "worker", *NATIVE_WIRES}:
        count, seconds = _publish(broker, DEFAULT_WIRE, args.events, args.per_citizen)
        rates["publish"] = contenders.Rate(count, seconds)
        _say(f"[{broker.kind}] published {count} events in {seconds:.1f} s")
    if "faust-noop" in paths:
        rates["faust_noop"] = contenders.faust("count", broker, count, work)
    if "faust-table" in paths:
        rates["faust_table"] = contenders.faust("table", broker, count, work)
    if "quix" in paths:
        rates["quix_noop"] = contenders.quix(broker, count, work)
    if "worker" in paths:
        rates["worker"] = contenders.worker(broker, DEFAULT_WIRE, count, work, args.max_seconds)
        extra["state"] = measures.state_size(broker, DEFAULT_WIRE, rates["worker"].events)
    _natives(broker, paths, count, work, rates=rates, extra=extra)
    if "batch" in paths:
        _publish(broker, BATCH_WIRE, args.events, args.per_citizen)
        rates["batch"] = contenders.batch(broker, BATCH_WIRE, count, work)
    if "batch2" in paths:
        _publish(broker, BATCH2_WIRE, args.events, args.per_citizen)
        rates["batch2"] = contenders.batch(broker, BATCH2_WIRE, count, work, jobs=BATCH2_JOBS)
    for name, rate in rates.items():
        _say(f"[{broker.kind}] {name}: {rate.events} events, {rate.per_second:,.0f}/s")
    if "latency" in paths:
        extra["latency"] = measures.latency(
            broker, Wire("bench-lat"), work, rate=args.latency_rate, seconds=args.latency_seconds
        )
        _say(f"[{broker.kind}] latency: {extra['latency']}")
    if "history" in paths:
        by_length: dict[int, contenders.Rate] = {}
        for length in args.history_lengths:
            wire = Wire(f"bench-h{length}")
            total, _ = _publish(broker, wire, args.history_events, length)
            by_length[length] = contenders.worker(
                broker, wire, total, work, args.history_max_seconds
            )
            _say(f"[{broker.kind}] {length} events/citizen: {by_length[length].per_second:,.0f}/s")
        extra["history"] = by_length
    return report.run(broker.kind, rates, extra)


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=100_000, help="events per path")
    parser.add_argument("--per-citizen", type=int, default=10, help="events per citizen")
    parser.add_argument(
        "--broker",
        choices=[*KINDS, "both", "auto"],
        default="auto",
        help="auto: both when the Apache Kafka jars are there (make kafka-libs), else embedded",
    )
    parser.add_argument(
        "--paths", default=",".join(PATHS), help=f"comma-separated subset of {','.join(PATHS)}"
    )
    parser.add_argument("--max-seconds", type=float, default=900.0, help="cap per path")
    parser.add_argument("--latency-rate", type=float, default=1000.0, help="offered events/s")
    parser.add_argument("--latency-seconds", type=float, default=20.0)
    parser.add_argument("--history-events", type=int, default=10_000, help="events per length")
    parser.add_argument("--history-lengths", default="10,100,1000")
    parser.add_argument("--history-max-seconds", type=float, default=120.0)
    args = parser.parse_args(argv)
    args.paths = [p for p in args.paths.split(",") if p]
    unknown = set(args.paths) - set(PATHS)
    if unknown:
        parser.error(f"--paths: unknown {', '.join(sorted(unknown))}; known: {', '.join(PATHS)}")
    args.history_lengths = [int(n) for n in args.history_lengths.split(",") if n]
    if args.broker == "auto":
        args.broker = "both" if kafka_available() else "embedded"
    args.brokers = list(KINDS) if args.broker == "both" else [args.broker]
    return args


def main(argv: list[str] | None = None) -> None:
    args = _arguments(argv)
    load_before = os.getloadavg()
    runs: dict[str, dict[str, Any]] = {}
    core = None
    if "core" in args.paths:
        core = contenders.core(events(args.events, args.per_citizen), args.max_seconds)
        _say(f"core: {core.events} events, {core.per_second:,.0f}/s")
    for kind in args.brokers:
        with tempfile.TemporaryDirectory() as tmp, running(kind) as broker:
            runs[kind] = run_broker(broker, args, Path(tmp))
        if core is not None:
            report.add_core(runs[kind], core)
        _say(report.markdown(runs[kind], args))
    summary = report.summary(args, runs, load_before, os.getloadavg())
    print(json.dumps(summary, sort_keys=True), flush=True)


if __name__ == "__main__":
    main()
