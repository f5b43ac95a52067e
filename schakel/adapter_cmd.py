"""``schakel adapter NAME SPEC`` and ``schakel publish``: run one adapter once or continuously."""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from prometheus_client import start_http_server

from adapters.checkpoint import FileCheckpoint
from adapters.quarantine import Quarantine
from adapters.registry import open_source
from adapters.runner import Runner, RunStats
from schakel import wiring
from schemas.settings import Settings


def build_runner(
    name: str,
    spec: str,
    settings: Settings,
    *,
    bootstrap: str,
    dedupe_in_run: bool = False,
    instance: str | None = None,
) -> Runner:
    """A runner for adapter ``name`` over ``spec`` with checkpoint and quarantine files under
    ``SCHAKEL_DATA_DIR`` (one checkpoint per adapter instance)."""
    source = open_source(name, spec, settings)
    publisher = wiring.publisher(settings, bootstrap, client_id=f"schakel-adapter-{name}")
    ident = instance or name
    return Runner(
        source,
        publisher=publisher,
        pseudonymiser=wiring.pseudonymiser(settings),
        checkpoint=FileCheckpoint(settings.data_dir / "checkpoints" / f"{ident}.json"),
        quarantine=Quarantine(
            name, settings.data_dir / "quarantaine" / f"{ident}.jsonl", publisher
        ),
        dedupe_in_run=dedupe_in_run,
    )


def print_stats(name: str, stats: RunStats) -> None:
    reasons = ", ".join(f"{k}: {v}" for k, v in sorted(stats.by_reason.items())) or "-"
    print(
        f"{name}: read {stats.read}, published {stats.published}, "
        f"rejected {stats.rejected} ({reasons}), duplicates {stats.duplicates}"
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    bootstrap = wiring.bootstrap(settings)
    if settings.metrics_port and not args.once:
        start_http_server(settings.metrics_port, addr=settings.web_host)
    runner = build_runner(
        args.name, args.spec, settings, bootstrap=bootstrap, instance=args.instance
    )
    try:
        if args.once:
            stats = runner.run_once()
        else:
            stop = threading.Event()
            signal.signal(signal.SIGTERM, lambda *_: stop.set())
            signal.signal(signal.SIGINT, lambda *_: stop.set())
            stats = runner.run_forever(args.interval or settings.poll_interval_s, stop)
    finally:
        runner.publisher.close()
        runner.close()
    print_stats(args.name, stats)
    return 0 if stats.rejected == 0 else 3


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", help="iwmo | sociale-dienst | wijkteam | vroegsignalering | outbox")
    parser.add_argument("spec", help="what to read: a directory, file(s) `a.csv,b.csv`, or a DSN")
    parser.add_argument("--once", action="store_true", help="read the backlog once and exit")
    parser.add_argument("--interval", type=float, help="poll interval (continuous mode)")
    parser.add_argument("--instance", help="checkpoint name (default: the adapter name)")


def main_publish(args: argparse.Namespace, settings: Settings) -> int:
    bootstrap = wiring.bootstrap(settings)
    runner = build_runner(
        "publish",
        ",".join(args.files),
        settings,
        bootstrap=bootstrap,
        dedupe_in_run=True,
        instance=args.instance,
    )
    try:
        stats = runner.run_once()
    finally:
        runner.publisher.close()
        runner.close()
    print_stats("publish", stats)
    if stats.rejected:
        print(
            f"publish: {stats.rejected} line(s) rejected; see {runner.quarantine.path}",
            file=sys.stderr,
        )
    return 0 if stats.rejected == 0 else 3
