"""``schakel worker``: run a stream worker against the configured Kafka."""

from __future__ import annotations

import argparse
import logging

from kafka.errors import KafkaError

from schakel import wiring
from schakel.listening import Listening
from schakel.topics import ensure_topics
from schakel.wiring import BrokerUnreachable
from schemas.settings import WorkerSettings

log = logging.getLogger("schakel.worker")

WEB_PORT_REMEDY = (
    "give each worker on this host its own SCHAKEL_WEB_PORT (and SCHAKEL_WEB_URL, if set, "
    "the same port)"
)


def run(args: argparse.Namespace, settings: WorkerSettings) -> int:
    from schakel.stop_deadline import StopDeadline, StoppingWorker
    from streams.app import create_app
    from streams.gc_tuning import for_a_worker
    from streams.reachability import addresses, answering
    from streams.rules import load_rules

    bootstrap = wiring.bootstrap(settings)
    rules = load_rules(settings.rules_dir)
    # Faust binds the API's port only once the worker runs, and a port in use ended it with
    # exit 1 and a log line naming no setting: ask first (a taken port is configuration)
    Listening(
        settings.web_host,
        settings.web_port,
        setting="SCHAKEL_WEB_PORT",
        host_setting="SCHAKEL_WEB_HOST",
        remedy=WEB_PORT_REMEDY,
    ).check_free()
    wiring.reachable(bootstrap)  # nothing listens there: one line and exit 75 within seconds
    try:
        ensure_topics(
            bootstrap,
            partitions=settings.partitions,
            replication_factor=settings.replication_factor,
            wire=settings.wire(),
        )
    except KafkaError as exc:
        raise BrokerUnreachable(
            f"Kafka at {bootstrap} did not answer ({type(exc).__name__}); is it running? "
            "(SCHAKEL_KAFKA_BOOTSTRAP)"
        ) from exc
    worker = create_app(
        settings,
        bootstrap=bootstrap,
        registry=wiring.registry(settings),
        rules=rules,
        clock_mode=args.clock,
    )
    url = settings.api_url()
    log.info(
        "worker.starting",
        extra={"api": url, "bootstrap": bootstrap, "group": settings.wire().group_id},
    )

    announced: list[bool] = []

    async def announce_ready() -> None:
        """Log ``worker.ready`` once the table is recovered (the worker processes records)."""
        recovery = worker.app.tables.recovery if worker.app.tables else None
        if not announced and recovery is not None and recovery.completed.is_set():
            announced.append(True)
            log.info("worker.ready", extra={"api": url, "ready": f"{url}/ready"})

    worker.app.timer(interval=1.0)(announce_ready)
    # a stop signal leaves the worker STOP_DEADLINE_S to stop, then it ends the process (exit
    # 75, worker.stop_timeout): Faust's stop hung for 60 s with the broker gone
    deadline = StopDeadline(reachable=lambda: answering(addresses(bootstrap), 1.0))
    runner = StoppingWorker(
        worker.app,
        deadline=deadline,
        loglevel=settings.log_level,
        quiet=True,
        redirect_stdouts=False,
        override_logging=False,  # keep the handler of schakel.logs: JSON lines, one format
    )
    runner.spinner = None  # a terminal spinner: cursor escapes in the log, nothing else
    for_a_worker()
    runner.execute_from_commandline()
    return 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--clock",
        choices=["live", "replay"],
        default="live",
        help="live: today's date drives deadlines; replay: event dates only",
    )
