"""``schakel worker``: run a stream worker against the configured Kafka."""

from __future__ import annotations

import argparse

from schakel import wiring
from schakel.topics import ensure_topics
from schemas.settings import WorkerSettings


def run(args: argparse.Namespace, settings: WorkerSettings) -> int:
    import faust

    from streams.app import create_app
    from streams.rules import load_rules

    bootstrap = wiring.bootstrap(settings)
    rules = load_rules(settings.rules_dir)
    ensure_topics(
        bootstrap,
        partitions=settings.partitions,
        replication_factor=settings.replication_factor,
        wire=settings.wire(),
    )
    worker = create_app(
        settings,
        bootstrap=bootstrap,
        registry=wiring.registry(settings),
        rules=rules,
        clock_mode=args.clock,
    )
    faust.Worker(
        worker.app,
        loglevel=settings.log_level if settings.log_level != "INFO" else "WARNING",
        quiet=True,
        redirect_stdouts=False,
    ).execute_from_commandline()
    return 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--clock",
        choices=["live", "replay"],
        default="live",
        help="live: today's date drives deadlines; replay: event dates only",
    )
