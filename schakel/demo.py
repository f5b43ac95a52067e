"""``schakel demo`` (what ``make demo`` runs): a synthetic municipality end to end.

1. generate a municipality (:mod:`schakel.synth`) in every silo's native format, with planted
   gaps of every rule and a ground truth;
2. start the embedded broker — or, with ``--bootstrap``, take a fresh topic namespace on an
   existing Kafka (:mod:`schakel.sandbox`) — and a stream worker on the replay clock
   (deterministic result);
3. run the adapters over the native files — iWmo XML, the sociale dienst CSV exports, the
   wijkteam CloudEvents, the vroegsignalering exports, and the outbox rows through a throwaway
   PostgreSQL 15 (or, without PostgreSQL binaries, through the generic JSON-lines adapter);
4. wait until the worker has processed everything, move every clock to the manifest's
   ``until`` (the end-of-replay tick) and score the definitive signals against the ground
   truth: found / expected / precision / recall per rule; count what the worker
   dead-lettered in the run, as ``schakel replay`` does (stderr, one line per source topic,
   stage and reason: :func:`schakel.replay.deadletter_lines`) — a dead letter of an event no
   planted gap depends on changes no score, so the score alone does not show it;
5. print the API and web page URLs and a generated API token, and keep serving them on
   127.0.0.1 until Ctrl-C (``--exit``: stop after the summary).

Exit codes: 0 done; 1 (``--exit``) precision or recall below 1.0;
:data:`~schakel.replay.EXIT_DEADLETTERED` (5, over 1; with or without ``--exit``) the worker
dead-lettered records of the run, which the signals and the score leave out; 2 the demo could
not run; 75 (as every command) an outage that outlasted the retries — among them a
dead-letter topic that could not be read to its end (:class:`~schakel.dlq.DeadLetterReadError`).

A pseudonym key is generated for the run unless ``SCHAKEL_PSEUDONYM_KEY`` is set (the demo
says so); an API token with role ``regisseur`` is generated for every run, next to any
configured ``SCHAKEL_API_TOKENS``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from schakel import sandbox, wiring
from schakel.arguments import port_number, seconds
from schakel.dlq import DeadLetter, ends, read_committed, streams_dead_letters
from schakel.generate import add_municipality_arguments
from schakel.listening import Listening
from schakel.registry_server import embedded_registry
from schakel.replay import (
    EXIT_DEADLETTERED,
    ReplayError,
    add_target_arguments,
    broadcast_until,
    deadletter_lines,
    stop_process,
    target_problem,
    wait_drained,
)
from schakel.replay import start_worker as replay_worker
from schakel.synth import Score, SynthError, build_municipality, load_ground_truth, score
from schakel.synth.feed import outbox_input, run_adapter
from schakel.synth.output import write_municipality
from schakel.synth.postgres import TempPostgres
from schakel.synth.truth import format_score
from schemas import kafka_client
from schemas.exceptions import PermanentError, SettingsError
from schemas.pseudonym import mask_bsn
from schemas.serde import RecordDeserializer
from schemas.settings import MAX_INTERVAL_S, Settings
from schemas.wire import Wire

DEMO_DOEL = "demo: signalen beoordelen"
HOST = "127.0.0.1"
"""Where the demo's worker serves the API and the web page (``SCHAKEL_WEB_HOST`` is set to it
for the worker, whatever the configuration says)."""
PORT_REMEDY = "choose another with --port"


class DemoError(PermanentError, RuntimeError):
    """The demo could not run (port taken, worker died, …); the message says why."""


def say(text: str = "") -> None:
    """One line of demo output."""
    print(text, flush=True)


@dataclass
class Run:
    """What one demo run started (stopped by :meth:`close`, in reverse order)."""

    workdir: Path
    kafka: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)
    """The broker, or the namespace on an existing Kafka (:mod:`schakel.sandbox`)."""
    worker: subprocess.Popen[bytes] | None = None
    postgres: TempPostgres | None = None
    adapters: dict[str, dict[str, Any]] = field(default_factory=dict)
    outbox_via: str = ""
    registry_url: str | None = None
    """The read-only schema registry of embedded mode (None with a configured registry)."""
    since: dict[int, int] = field(default_factory=dict)
    """The end offsets of the streams dead-letter topic before the worker started: what the
    run dead-lettered is after them (:func:`schakel.dlq.ends`)."""

    def close(self) -> None:
        """Stop the worker and the PostgreSQL server, then the broker or remove the namespace
        (whichever were started)."""
        if self.worker is not None:
            stop_process(self.worker)
        if self.postgres is not None:
            self.postgres.stop()
        self.kafka.close()


def web_port(args: argparse.Namespace, settings: Settings) -> int:
    """The port of the API and the web page — ``--port``, else ``SCHAKEL_WEB_PORT`` — once it
    is found free as the worker's server will bind it (:meth:`Listening.check_free`:
    ``SO_REUSEADDR``, so the port of a demo just stopped, its last connections in
    ``TIME_WAIT``, is free); a :class:`DemoError` naming the option or setting it came from
    (:meth:`Listening.refused`'s wording) if not. Asked before the broker starts."""
    port: int = settings.web_port if args.port is None else args.port
    where = Listening(
        HOST,
        port,
        setting="SCHAKEL_WEB_PORT" if args.port is None else "--port",
        host_setting="the demo's address",
        remedy=PORT_REMEDY,
    )
    try:
        where.check_free()
    except SettingsError as exc:
        raise DemoError(str(exc)) from None
    return port


def start_worker(
    settings: Settings,
    bootstrap: str,
    run: Run,
    port: int,
    token: str,
) -> subprocess.Popen[bytes]:
    """``schakel worker --clock replay`` serving the API and web page on 127.0.0.1:``port``."""
    tokens = token
    if settings.api_tokens is not None:
        tokens += "," + settings.api_tokens.get_secret_value()
    return replay_worker(
        settings,
        bootstrap,
        run.workdir / "worker",
        run.workdir / "worker.log",
        web_port=port,
        extra_env={
            "SCHAKEL_WEB_HOST": HOST,
            "SCHAKEL_API_TOKENS": tokens,
        },
    )


def all_signals(settings: Settings, bootstrap: str) -> list[dict[str, Any]]:
    """Every signal of every citizen (open, opgelost and ingetrokken), folded from
    ``schakel.tijdlijnen``."""
    from streams.readmodel import ReadModel

    deserializer = RecordDeserializer(wiring.registry(settings))
    model = ReadModel(
        bootstrap, deserializer, settings.wire(), embedded=settings.profile == "embedded"
    )
    model.catch_up()
    return [s.to_json(subject) for subject, s in model.signals()]


def wait_ready(port: int, worker: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    """Until the worker answers ``/ready`` with 200 (its read model has caught up)."""
    from urllib.error import URLError
    from urllib.request import urlopen

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            raise DemoError(f"the worker exited with code {worker.returncode}")
        with (
            contextlib.suppress(URLError, OSError),
            urlopen(f"http://{HOST}:{port}/ready", timeout=2) as response,
        ):
            if response.status == 200:
                return
        time.sleep(0.3)
    raise DemoError(f"the worker's API on port {port} did not become ready in {timeout:.0f}s")


def demo_settings(settings: Settings, workdir: Path) -> tuple[Settings, str, bool]:
    """Settings for this run (its own data dir and a pseudonym key); (settings, key,
    generated)."""
    key, generated = settings.resolve_pseudonym_key(generate=True)
    updated = settings.model_copy(
        update={"pseudonym_key": SecretStr(key), "pseudonym_key_file": None, "data_dir": workdir}
    )
    return updated, key, generated


def prepare(
    args: argparse.Namespace, settings: Settings, key: str, run: Run
) -> tuple[Path, dict[str, Any], dict[str, Any]]:
    """Step 1: generate the municipality; (directory, manifest, ground truth)."""
    gemeente = Path(args.dir) if args.dir else run.workdir.parent / "gemeente"
    say(
        f"1/5 synthetische gemeente genereren ({args.citizens} burgers, seed {args.seed}) "
        f"→ {gemeente}"
    )
    municipality = build_municipality(args.citizens, args.seed)
    manifest = write_municipality(municipality, gemeente, oin=settings.oin, key=key)
    truth = load_ground_truth(gemeente)
    say(
        f"    {manifest['gebeurtenissen']} gebeurtenissen in vijf bronnen, "
        f"{len(truth['signalen'])} geplante signalen, {len(truth['bijna'])} bijna-missers"
    )
    return gemeente, manifest, truth


def start_pipeline(
    args: argparse.Namespace, settings: Settings, run: Run, port: int, token: str
) -> sandbox.Target:
    """Step 2: broker (or namespace) with every topic, and the worker; returns where the run
    writes, with the settings of the run."""
    say("2/5 broker en stream-worker starten (replay-klok)")
    kafka = run.kafka.enter_context(
        sandbox.target(
            settings,
            kind="demo",
            bootstrap=args.bootstrap,
            namespace=args.namespace,
            keep=args.keep_topics,
            workdir=run.workdir,
        )
    )
    registry = run.kafka.enter_context(embedded_registry(kafka.settings))
    if registry is not None:
        run.registry_url = registry.url
        say(f"    schema-registry (alleen lezen, Confluent-API): {registry.url}")
    token_spec = f"demo:regisseur:{token}"
    run.since = ends(kafka.bootstrap, kafka.wire.deadletter_streams)  # before anything is written
    run.worker = start_worker(kafka.settings, kafka.bootstrap, run, port, token_spec)
    return kafka


def feed(
    gemeente: Path,
    manifest: dict[str, Any],
    settings: Settings,
    bootstrap: str,
    run: Run,
    *,
    use_postgres: bool,
) -> None:
    """Step 3: every adapter over its native files, in the manifest's order."""
    say("3/5 adapters over de bronbestanden")
    for source in manifest["bronnen"]:
        name = source["adapter"]
        if name == "outbox":
            name, spec, run.postgres = outbox_input(
                gemeente / source["spec"], run.workdir, use_postgres=use_postgres, say=say
            )
            run.outbox_via = "postgresql" if run.postgres else "jsonlines"
            say(
                "  outbox via "
                + (
                    "PostgreSQL (tijdelijke server, tabel schakel_outbox)"
                    if run.postgres
                    else "JSON lines (geen PostgreSQL)"
                )
            )
        else:
            spec = ",".join(str(gemeente / part) for part in source["spec"].split(","))
        run.adapters[source["adapter"]] = run_adapter(
            name, spec, settings, bootstrap, workdir=run.workdir, expected=source, say=say
        )


def show_processing(
    bootstrap: str, wire: Wire, partitions: int, total: int, stop: threading.Event
) -> None:
    """On a terminal: how many published events the worker has committed, every second,
    until ``stop`` (display only; errors end the display, not the demo)."""
    from kafka import TopicPartition

    group = wire.group_id
    tps = [TopicPartition(t, p) for t in wire.event_topics for p in range(partitions)]
    try:
        with kafka_client.admin(bootstrap, "schakel-demo-progress") as admin:
            while not stop.wait(1.0):
                offsets = admin.list_group_offsets({group: tps}).get(group, {})
                done = min(total, sum(max(0, o.offset) for o in offsets.values()))
                sys.stdout.write(f"\r  verwerkt door de worker: {done:6d} van {total} …")
                sys.stdout.flush()
    except Exception:  # noqa: S110 - progress display only
        pass
    finally:
        sys.stdout.write("\r" + " " * 60 + "\r")
        sys.stdout.flush()


def settle(
    manifest: dict[str, Any], settings: Settings, bootstrap: str, run: Run, timeout: float
) -> list[dict[str, Any]]:
    """Step 4: wait for the worker, the end-of-replay tick, the definitive signals."""
    assert run.worker is not None
    wire, embedded = settings.wire(), settings.profile == "embedded"
    say("4/5 wachten tot de worker alles verwerkt heeft; klok naar " + manifest["until"])
    log = run.workdir / "worker.log"
    stop = threading.Event()
    if sys.stdout.isatty():
        total = sum(a["gepubliceerd"] for a in run.adapters.values())
        threading.Thread(
            target=show_processing,
            args=(bootstrap, wire, settings.partitions, total, stop),
            daemon=True,
        ).start()
    try:
        wait_drained(
            bootstrap,
            wire.event_topics,
            run.worker,
            log,
            timeout,
            group=wire.group_id,
            embedded=embedded,
        )
    finally:
        stop.set()
    broadcast_until(bootstrap, date.fromisoformat(manifest["until"]), settings.partitions, wire)
    wait_drained(
        bootstrap, [wire.klok], run.worker, log, timeout, group=wire.group_id, embedded=embedded
    )
    return all_signals(settings, bootstrap)


def dead_letters(settings: Settings, bootstrap: str, run: Run) -> list[DeadLetter]:
    """What the worker dead-lettered in the run (one per dead letter id), once it has
    committed everything (:func:`settle`): Faust flushes its producer before it commits, and
    under exactly-once the dead letters are in the committed transactions, read
    ``read_committed`` (:func:`schakel.dlq.read_committed`) — to the end or not at all."""
    return streams_dead_letters(
        bootstrap, settings.wire(), run.since, committed=read_committed(settings.profile)
    )


def tell_dead_letters(letters: list[DeadLetter]) -> None:
    """The count of ``letters`` on stderr as ``schakel replay`` gives it (nothing for none)."""
    for line in deadletter_lines(letters, "demo"):
        print(line, file=sys.stderr, flush=True)
    if letters:
        print(
            f"demo: the worker dead-lettered {len(letters)} record(s) of this run, which the "
            "signals and the score leave out (--bootstrap with --keep-topics keeps them for "
            "`schakel dlq list`)",
            file=sys.stderr,
            flush=True,
        )


def exit_code(result: Score, letters: list[DeadLetter], *, exit_now: bool) -> int:
    """The demo's exit code (module docstring): dead letters first, then (``--exit``) the
    score."""
    if letters:
        return EXIT_DEADLETTERED
    return 1 if exit_now and not result.perfect else 0


def report(result: Score, summary: dict[str, Any], token: str, truth: dict[str, Any]) -> None:
    """Step 5 on the terminal: the score per rule and where to look."""
    say("5/5 signalen tegen de grondwaarheid (ground-truth.json)")
    for line in format_score(result):
        say("    " + line)
    say(
        f"    bijna-missers met een signaal: {result.near_miss_hits} van {len(truth['bijna'])}; "
        f"onderweg ingetrokken: {summary['ingetrokken']} (signalen die vervielen toen feiten "
        "uit een latere bron binnenkwamen)"
    )
    say(
        f"\nklaar in {summary['duur_s']:.0f}s — precision {summary['score']['precision']:.3f}, "
        f"recall {summary['score']['recall']:.3f}"
    )
    say(f"  webpagina : {summary['web']}")
    say(f"  API       : {summary['api']}   (Authorization: Bearer <token>, X-Doel: <doel>)")
    say(f"  metrics   : {summary['metrics']}")
    if summary["schema_registry"]:
        say(f"  schema-registry: {summary['schema_registry']}   (alleen lezen)")
    say(f"  API-token : {token}   (rol regisseur; alleen voor deze demo)")
    say(
        f"  voorbeeld : curl -H 'Authorization: Bearer {token}' -H 'X-Doel: {DEMO_DOEL}' "
        f"'{summary['api']}?status=open'"
    )


def serve(run: Run) -> None:
    """Keep the worker (API, /metrics, web page) running until Ctrl-C or SIGTERM."""
    assert run.worker is not None
    say("\nDe API en de webpagina blijven beschikbaar; Ctrl-C stopt de demo.")
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    while not stop.wait(1.0):
        if run.worker.poll() is not None:
            raise DemoError(
                f"the worker stopped (exit code {run.worker.returncode}); "
                f"see {run.workdir / 'worker.log'}"
            )
    say("demo gestopt")


def execute(args: argparse.Namespace, settings: Settings, run: Run) -> int:
    """The demo itself (``run`` holds what must be stopped afterwards)."""
    started = time.monotonic()
    port = web_port(args, settings)
    settings, key, generated = demo_settings(settings, run.workdir)
    token = secrets.token_urlsafe(18)
    if generated:
        say(
            "schakel demo: geen SCHAKEL_PSEUDONYM_KEY ingesteld — voor deze run is een "
            "willekeurige pseudoniemsleutel gegenereerd (alleen voor de demo)"
        )
    gemeente, manifest, truth = prepare(args, settings, key, run)
    kafka = start_pipeline(args, settings, run, port, token)
    settings, bootstrap = kafka.settings, kafka.bootstrap
    feed(gemeente, manifest, settings, bootstrap, run, use_postgres=not args.no_postgres)
    signals = settle(manifest, settings, bootstrap, run, args.timeout)
    letters = dead_letters(settings, bootstrap, run)
    result = score(truth, signals)
    assert run.worker is not None
    wait_ready(port, run.worker)
    base = f"http://{HOST}:{port}"
    summary = {
        "burgers": manifest["burgers"],
        "seed": manifest["seed"],
        "gebeurtenissen": manifest["gebeurtenissen"],
        "until": manifest["until"],
        "duur_s": round(time.monotonic() - started, 1),
        "adapters": run.adapters,
        "outbox_via": run.outbox_via,
        "ingetrokken": sum(1 for s in signals if s["status"] == "ingetrokken"),
        "dead_letters": len(letters),
        "score": result.to_json(),
        "api": f"{base}/api/v1/signalen",
        "web": f"{base}/",
        "metrics": f"{base}/metrics",
        "schema_registry": run.registry_url,
        "gemeente": str(gemeente),
    }
    if args.summary_json:
        Path(args.summary_json).write_text(
            json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
    report(result, summary, token, truth)
    tell_dead_letters(letters)
    if args.exit:
        say("\n--exit: de demo stopt nu (zonder --exit blijven API en webpagina beschikbaar)")
        return exit_code(result, letters, exit_now=True)
    serve(run)
    return exit_code(result, letters, exit_now=False)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """The ``demo`` subcommand."""
    problem = target_problem(args)
    if problem:
        print(f"schakel demo: {problem}", file=sys.stderr)
        return 2
    if settings.log_level == "INFO":  # the demo reports itself; the worker logs to a file
        for name in ("", "schakel"):
            logging.getLogger(name).setLevel(logging.ERROR)
        for name in ("kafka", "aiokafka"):  # clients retrying while the demo shuts down
            logging.getLogger(name).setLevel(logging.CRITICAL)
    base = settings.data_dir / "demo"
    base.mkdir(parents=True, exist_ok=True)
    current = Run(Path(tempfile.mkdtemp(prefix="run-", dir=base)))
    try:
        return execute(args, settings, current)
    except (DemoError, SynthError, ReplayError, sandbox.SandboxError) as exc:
        print(f"schakel demo: {mask_bsn(str(exc))}", file=sys.stderr)
        return 2
    finally:
        current.close()
        if args.keep:
            say(f"werkbestanden bewaard in {current.workdir}")
        else:
            shutil.rmtree(current.workdir, ignore_errors=True)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``schakel demo``."""
    add_municipality_arguments(parser)
    parser.add_argument(
        "--dir",
        default=None,
        help="where to write the generated municipality (default: SCHAKEL_DATA_DIR/demo/gemeente)",
    )
    parser.add_argument(
        "--port",
        type=port_number(any_free=False),
        default=None,
        help="port of the API and web page (default: SCHAKEL_WEB_PORT, 6066)",
    )
    parser.add_argument(
        "--exit",
        action="store_true",
        help="stop after the summary; exit code 1 if precision or recall is below 1.0 "
        f"({EXIT_DEADLETTERED}, with or without --exit, if the worker dead-lettered records of "
        "the run: counted on stderr)",
    )
    parser.add_argument(
        "--summary-json",
        default=None,
        metavar="FILE",
        help="also write the summary (per rule: found, expected, precision, recall) as JSON",
    )
    parser.add_argument(
        "--no-postgres",
        action="store_true",
        help="publish the outbox rows "
        "through the JSON-lines adapter instead of a throwaway PostgreSQL",
    )
    parser.add_argument(
        "--timeout",
        type=seconds(above=0, most=MAX_INTERVAL_S),
        default=600.0,
        help="seconds to wait for the worker (default 600)",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the run's work files (logs, quarantine, checkpoints)",
    )
    add_target_arguments(parser, "demo")
