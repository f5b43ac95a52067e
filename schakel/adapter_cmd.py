"""``schakel adapter NAME SPEC`` and ``schakel publish``: run one adapter once or continuously;
``schakel adapter wijkteam --serve``: run the wijkteam webhook until SIGTERM/SIGINT."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time

from prometheus_client import start_http_server

from adapters.base import Source
from adapters.checkpoint import FileCheckpoint
from adapters.exceptions import AdapterError, PublishError, SourceUnavailable
from adapters.quarantine import Quarantine
from adapters.registry import FACTORIES, open_source
from adapters.runner import Runner, RunStats
from schakel import wiring
from schakel.arguments import port_number, seconds, whole_number
from schakel.cli import EXIT_TEMPFAIL, EXIT_UNFINISHED, one_line
from schakel.listening import Listening
from schakel.logs import tell_held_back
from schakel.replay_args import input_problem
from schemas.exceptions import RegistryUnavailable, TransientError
from schemas.pseudonym import Pseudonymiser, mask_bsn
from schemas.settings import MAX_INTERVAL_S, AdapterSettings, WebhookSettings

DEFAULT_BATCH = 1000
DEFAULT_SETTLE_S = 5.0
"""``schakel publish --settle``: how long a file whose last line was held back must stay
unchanged to count as finished (:func:`main_publish`): the continuous adapters' default poll
interval (``SCHAKEL_POLL_INTERVAL_S``), which is the same judgement there."""
ADAPTERS = tuple(sorted(name for name in FACTORIES if name != "publish"))
"""The adapters ``schakel adapter NAME`` names (``publish`` is ``schakel publish``)."""
METRICS_PORT_REMEDY = (
    "give each continuous adapter on this host its own SCHAKEL_METRICS_PORT, or 0 for no /metrics"
)
WEBHOOK_PORT_REMEDY = "give the webhook another port, or 0 for any free one (it is printed)"


def build_runner(
    name: str,
    spec: str,
    settings: AdapterSettings,
    *,
    bootstrap: str,
    dedupe_in_run: bool = False,
    instance: str | None = None,
    batch_size: int = DEFAULT_BATCH,
    source: Source | None = None,
    pseudonymiser: Pseudonymiser | None = None,
    wait: bool = False,
) -> Runner:
    """A runner for adapter ``name`` over ``spec`` (or over ``source``) with checkpoint and
    quarantine files under ``SCHAKEL_DATA_DIR`` (one checkpoint per adapter instance);
    ``pseudonymiser``: the configured key's, made here when not given. ``wait``: a process
    that runs on (continuous mode, the webhook) starts also while the broker is away — its
    publisher makes its producer once the broker answers (:class:`Publisher` ``wait``), the
    runner waits the outage out — where a one-shot run stops (exit 75: run again later).

    The commands make it first, before anything is connected to: a key that is too short or
    padded with white space is bad configuration (one line naming ``SCHAKEL_PSEUDONYM_KEY``,
    exit 2). Read after the broker was reached it was an outage (exit 75, "run again later":
    a scheduler retried a wrong key for ever) or, with no Kafka at all, hidden behind
    ``NoKafkaError``."""
    pseudonymiser = pseudonymiser or wiring.pseudonymiser(settings)
    source = source or open_source(name, spec, settings, pseudonymiser=pseudonymiser)
    publisher = wiring.publisher(settings, bootstrap, f"schakel-adapter-{name}", wait=wait)
    ident = instance or name
    return Runner(
        source,
        publisher=publisher,
        pseudonymiser=pseudonymiser,
        checkpoint=FileCheckpoint(settings.data_dir / "checkpoints" / f"{ident}.json"),
        quarantine=Quarantine(
            name, settings.data_dir / "quarantaine" / f"{ident}.jsonl", publisher
        ),
        dedupe_in_run=dedupe_in_run,
        batch_size=batch_size,
    )


def serve_metrics(settings: AdapterSettings) -> None:
    """Serve ``/metrics`` on ``SCHAKEL_METRICS_PORT`` (``SCHAKEL_WEB_HOST``; 0: not at all).
    A port that cannot be bound — typically a second adapter on the host with the default
    port — is a :class:`~schemas.exceptions.SettingsError` naming the setting and the port
    (:mod:`schakel.listening`)."""
    if not settings.metrics_port:
        return
    try:
        start_http_server(settings.metrics_port, addr=settings.web_host)
    except OSError as exc:
        raise Listening(
            settings.web_host,
            settings.metrics_port,
            setting="SCHAKEL_METRICS_PORT",
            host_setting="SCHAKEL_WEB_HOST",
            remedy=METRICS_PORT_REMEDY,
        ).refused(exc) from None


def print_stats(name: str, stats: RunStats) -> None:
    reasons = ", ".join(f"{k}: {v}" for k, v in sorted(stats.by_reason.items())) or "-"
    print(
        f"{name}: read {stats.read}, published {stats.published}, "
        f"rejected {stats.rejected} ({reasons}), duplicates {stats.duplicates}"
    )


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    return stop


def serve_webhook(args: argparse.Namespace, settings: WebhookSettings) -> int:
    """Run the wijkteam webhook (``/events`` and ``/metrics``) until SIGTERM/SIGINT."""
    from adapters.webhook import WebhookApp, WebhookInbox
    from adapters.webhook_server import WebhookServer

    senders = settings.webhook_senders()
    if not senders:
        print(
            "schakel: SCHAKEL_WEBHOOK_TOKENS is empty: no sender could authenticate",
            file=sys.stderr,
        )
        return 2
    pseudonymiser = wiring.pseudonymiser(settings)  # first: build_runner says why
    where = Listening(
        args.host or settings.web_host,
        settings.webhook_port if args.port is None else args.port,
        setting="SCHAKEL_WEBHOOK_PORT" if args.port is None else "--port",
        host_setting="SCHAKEL_WEB_HOST" if args.host is None else "--host",
        remedy=WEBHOOK_PORT_REMEDY,
    )
    where.check_free()  # before the broker is asked: a taken port is bad configuration
    stop = _stop_on_signals()  # before: a stop while the broker is away at the start ends it
    runner = build_runner(
        "wijkteam",
        "",
        settings,
        bootstrap=wiring.accepted(wiring.bootstrap(settings)),
        instance=args.instance or "wijkteam-webhook",
        source=WebhookInbox(),
        pseudonymiser=pseudonymiser,
        wait=True,  # the broker away: /ready 503 until the webhook's own check finds it
    )
    app = WebhookApp(runner, senders, max_bytes=settings.max_request_bytes)
    try:
        server = WebhookServer(app, where.host, where.port)
    except OSError as exc:  # taken since the check
        runner.publisher.close()
        runner.close()
        raise where.refused(exc) from None
    host, bound = server.address
    print(f"wijkteam: webhook on http://{host}:{bound}/events (metrics on /metrics)", flush=True)
    thread = threading.Thread(target=server.serve_forever, name="webhook", daemon=True)
    thread.start()
    try:
        stop.wait()
    finally:
        server.shutdown()
        thread.join(10)
        runner.publisher.close()
        runner.close()
    return 0


def run(args: argparse.Namespace, settings: AdapterSettings) -> int:
    problem = _argument_problem(args)
    if problem:
        print(mask_bsn(f"schakel adapter {args.name}: {problem}"), file=sys.stderr)
        return 2
    try:
        if args.serve:
            if not isinstance(settings, WebhookSettings):  # schakel.cli.SETTINGS_OF loads them
                raise TypeError("the wijkteam webhook needs WebhookSettings")
            return serve_webhook(args, settings)
        return _run(args, settings)
    except TransientError as exc:
        return _outage(exc, settings)
    except AdapterError as exc:
        print(f"schakel: {one_line(exc)}", file=sys.stderr)
        return 2


def _argument_problem(args: argparse.Namespace) -> str | None:
    """What is wrong with ``schakel adapter``'s NAME, SPEC and ``--serve`` (the caller masks
    it: a name may hold a BSN), or ``None``."""
    if args.name not in FACTORIES:
        return (
            f"unknown adapter (adapters: {', '.join(ADAPTERS)}; "
            "CloudEvents JSON lines: schakel publish)"
        )
    if args.serve:
        return None if args.name == "wijkteam" else "--serve is only for the wijkteam adapter"
    if not args.spec and args.name != "outbox":
        return "needs a SPEC (file(s) or directory)"
    return None


def _run(args: argparse.Namespace, settings: AdapterSettings) -> int:
    if args.once:  # a path that is not there is bad arguments (continuous: it may come)
        problem = input_problem([(args.name, args.spec or "")], label="SPEC")
        if problem:
            print(f"schakel adapter {args.name}: {mask_bsn(problem)}", file=sys.stderr)
            return 2
    pseudonymiser = wiring.pseudonymiser(settings)  # first: build_runner says why
    if not args.once:
        serve_metrics(settings)
    # continuous: before the broker is asked, so a stop while it is away ends the wait
    stop = threading.Event() if args.once else _stop_on_signals()
    bootstrap = wiring.bootstrap(settings)
    if args.once:  # continuous mode waits an outage out (Runner.run_forever)
        wiring.reachable(bootstrap)
    else:  # but not a refusal of its password or certificate
        wiring.accepted(bootstrap)
    runner = build_runner(
        args.name,
        args.spec or "",
        settings,
        bootstrap=bootstrap,
        instance=args.instance,
        batch_size=args.batch_size,
        pseudonymiser=pseudonymiser,
        wait=not args.once,  # a broker away at the start is waited out too
    )
    try:
        if args.once:
            resumed = bool(runner.checkpoint.load())
            stats = runner.run_once()
            if resumed and stats.read == 0:
                print(
                    mask_bsn(  # an --instance, so the checkpoint's name, may hold a BSN
                        f"{args.name}: nothing new since the saved checkpoint "
                        f"{runner.checkpoint.path}; every record was read before (a fresh "
                        "--instance reads everything again)"
                    ),
                    file=sys.stderr,
                )
        else:
            stats = runner.run_forever(args.interval or settings.poll_interval_s, stop)
    finally:
        runner.publisher.close()
        runner.close()
    print_stats(args.name, stats)
    return 0 if stats.rejected == 0 else 3


def _outage(exc: TransientError, settings: AdapterSettings) -> int:
    """``--once`` (and ``publish``) met an outage: one line, exit 75 (EX_TEMPFAIL)."""
    tell_held_back()
    print(
        f"schakel: {type(exc).__name__}: {one_line(exc)} — nothing after the last checkpoint "
        f"was lost; run again when {_unreachable(exc, settings)} reachable",
        file=sys.stderr,
    )
    return EXIT_TEMPFAIL


def _unreachable(exc: TransientError, settings: AdapterSettings) -> str:
    """What an outage ``exc`` says was away, for its message: only that (a broker that did
    not answer at the start is :class:`~schakel.wiring.BrokerUnreachable`, not a
    :class:`PublishError`); an outage of no known kind names the broker, and the schema
    registry only when one is configured."""
    if isinstance(exc, SourceUnavailable):
        return "the source (the outbox's database) is"
    if isinstance(exc, PublishError | wiring.BrokerUnreachable):
        return "the broker is"
    if isinstance(exc, RegistryUnavailable):
        return "the schema registry is"
    if settings.schema_registry_url:
        return "the broker and the schema registry are"
    return "the broker is"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", help="iwmo | sociale-dienst | wijkteam | vroegsignalering | outbox")
    parser.add_argument(
        "spec",
        nargs="?",
        default="",
        help="what to read: a directory, file(s) `a.csv,b.csv`, or a DSN "
        "(outbox: default SCHAKEL_OUTBOX_DSN; not used with --serve)",
    )
    parser.add_argument("--once", action="store_true", help="read the backlog once and exit")
    parser.add_argument(
        "--interval",
        type=seconds(above=0, most=MAX_INTERVAL_S),
        metavar="SECONDS",
        help="poll interval (continuous mode; default SCHAKEL_POLL_INTERVAL_S)",
    )
    parser.add_argument("--instance", help="checkpoint name (default: the adapter name)")
    parser.add_argument(
        "--batch-size",
        type=whole_number(1),
        default=DEFAULT_BATCH,
        help=f"records per broker flush + checkpoint (default {DEFAULT_BATCH})",
    )
    parser.add_argument(
        "--serve", action="store_true", help="wijkteam: run the webhook (SCHAKEL_WEBHOOK_PORT)"
    )
    parser.add_argument("--host", help="--serve: address to bind (default SCHAKEL_WEB_HOST)")
    parser.add_argument(
        "--port",
        type=port_number(any_free=True),
        help="--serve: port, 0 for any free one (default SCHAKEL_WEBHOOK_PORT)",
    )


def add_publish_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+")
    parser.add_argument("--instance", default=None, help="checkpoint name (default: publish)")
    parser.add_argument(
        "--settle",
        type=seconds(least=0, most=3600),
        default=DEFAULT_SETTLE_S,
        metavar="SECONDS",
        help="a file whose last line has no newline is read again after this long: unchanged, "
        "its last line is published (the writer finished without a newline); changed, it is "
        f"still being written and waits for the next run, exit {EXIT_UNFINISHED} "
        f"(default {DEFAULT_SETTLE_S:g})",
    )


def main_publish(args: argparse.Namespace, settings: AdapterSettings) -> int:
    """``schakel publish FILE…``. A path that does not exist or is a directory is bad
    arguments: one line (masked), exit 2, before anything is connected to or written — not a
    quarantined ``unreadable`` record (exit 3), which stays for a file that cannot be opened
    once the run has begun.

    The files may still be being written by another process (issue 11 item 2), so a last line
    without its newline is not read at once (:attr:`~adapters.base.Source.watching`). If a
    run held one back, publish waits ``--settle`` seconds and runs once more with the same
    source, whose :class:`~adapters.lines.Settle` remembers the file as it was: a file
    unchanged since (size and modification time) is finished, and its last line is published
    (the writer ended without a newline); a file that changed meanwhile is still being
    written: its line is not read (never half), the checkpoint stays before it, and each such
    file is named on stderr, exit :data:`~schakel.cli.EXIT_UNFINISHED` — also when lines
    were rejected (exit 3 otherwise), which stderr says too. A writer that pauses in the
    middle of a line for longer than ``--settle`` cannot be told from one that finished."""
    problem = input_problem([("publish", ",".join(args.files))])
    if problem:
        print(f"schakel publish: {mask_bsn(problem)}", file=sys.stderr)
        return 2
    try:
        pseudonymiser = wiring.pseudonymiser(settings)  # first: build_runner says why
        bootstrap = wiring.reachable(wiring.bootstrap(settings))
        runner = build_runner(
            "publish",
            ",".join(args.files),
            settings,
            bootstrap=bootstrap,
            dedupe_in_run=True,
            instance=args.instance,
            pseudonymiser=pseudonymiser,
        )
        runner.source.watching = True  # the files may still be being written (docstring)
        try:
            stats = runner.run_once()
            if runner.held_back:  # finished without a newline, or still being written?
                time.sleep(args.settle)
                stats.add(runner.run_once())
            held = runner.held_back
        finally:
            runner.publisher.close()
            runner.close()
    except TransientError as exc:
        return _outage(exc, settings)
    except AdapterError as exc:
        print(f"schakel: {one_line(exc)}", file=sys.stderr)
        return 2
    print_stats("publish", stats)
    if stats.rejected:
        print(
            mask_bsn(f"publish: {stats.rejected} line(s) rejected; see {runner.quarantine.path}"),
            file=sys.stderr,
        )
    for file in held:
        print(
            mask_bsn(
                f"publish: {file}: its last line was not published: the file was still being "
                f"written (it changed within {args.settle:g} s); run publish again once it is "
                "complete"
            ),
            file=sys.stderr,
        )
    if held:
        return EXIT_UNFINISHED
    return 0 if stats.rejected == 0 else 3
