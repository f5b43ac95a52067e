"""``schakel replay``: run input through the real pipeline — adapters → Kafka → a stream
worker on the replay clock — and print the definitive signals. Kafka is a fresh embedded
broker, or with ``--bootstrap`` an existing Kafka in a fresh topic namespace
(:mod:`schakel.sandbox`).

The result depends only on the set of input events and ``--until``: each citizen's clock is
the latest ``datum`` of their events, moved to ``--until`` at the end if that is later."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any, NamedTuple

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import KafkaError

from adapters.base import Cursor, Location, Record, Source
from adapters.checkpoint import FileCheckpoint
from adapters.quarantine import Quarantine
from adapters.registry import open_source
from adapters.runner import Runner
from schakel import sandbox, wiring
from schakel.arguments import whole_number
from schakel.broker import free_port
from schakel.dlq import DeadLetter, ends, read_committed, streams_dead_letters
from schakel.registry_server import announce, embedded_registry
from schakel.replay_args import input_problem
from schemas import kafka_client
from schemas.binding import component_source, record_headers
from schemas.exceptions import PermanentError, SettingsError
from schemas.models import parse_date
from schemas.pseudonym import mask_bsn
from schemas.registry import LocalRegistry, SchemaRegistry
from schemas.serde import RecordDeserializer, RecordSerializer
from schemas.settings import (
    Settings,
    WorkerSettings,
    check_bootstrap,
    child_environment,
    local_url,
)
from schemas.wire import DEFAULT_WIRE, KLOK_SCHEMA, Wire
from streams.offsets import EndOffsetsUnconfirmed, committed_offsets, end_offsets

Input = tuple[str, str]
EXIT_REJECTED = 3
"""Exit code of a replay that rejected input lines (reported per line and counted on stderr),
as for ``schakel adapter --once`` and ``publish``; the signals of the accepted input are
printed all the same."""
EXIT_DEADLETTERED = 5
"""Exit code of a replay in which the stream side — the worker, or the batch path with
``--batch`` — dead-lettered records of the run: input the adapters had accepted, refused
further on (a history limit, an output too large, a clock tick whose schema id the worker's
registry does not hold, a defect). They are counted on stderr per source topic, stage and
reason (the dead-letter headers: the error's class and the refusal's code,
:func:`deadletter_lines`); the signals printed are those of the rest, so the run is not a good
one. Its own code, not :data:`EXIT_REJECTED`: 3 means input lines refused at the door, each
named with its location, to correct at the source, while a dead letter is input lost inside
the pipeline — not named by any line and not told by the signals (``--until`` lost to
dead-lettered ticks left every clock short, with exit 0) — which a script that accepts 3 as
"some bad lines" must not accept. Not 4 (``publish``: a file to read again once complete) nor
1 or 2. It takes precedence over 3 when both happen; stderr counts both. The dead letters are
read to the end or not at all: a dead-letter topic that cannot be read to its end
(:class:`~schakel.dlq.DeadLetterReadError`) fails the run with exit 75, never a count short.
``schakel demo`` uses the same code (:mod:`schakel.demo`)."""


class ReplayError(PermanentError, RuntimeError):
    """The replay pipeline failed (the worker died or did not finish in time)."""


class Outcome(NamedTuple):
    """What a replay gives (:func:`replay`)."""

    signals: list[dict[str, Any]]
    """The definitive signals, as JSON."""
    withdrawn: Counter[str]
    """Signals withdrawn, per rule."""
    rejected: int
    """Input records the adapters rejected."""
    deadlettered: list[DeadLetter]
    """Records of the run the stream side dead-lettered (one per dead letter id)."""


def deadletter_lines(letters: Sequence[DeadLetter], command: str = "replay") -> list[str]:
    """The stderr lines that count the stream side's dead letters ``letters`` of a run: one
    per source topic, stage and reason — the headers ``schakel.bron.topic``, ``schakel.fase``,
    ``schakel.fout.klasse`` and ``schakel.fout.reden`` (:mod:`schemas.wire`; the reason shown
    as :attr:`~schakel.dlq.DeadLetter.cause`: ``IngestError/wrong-type``, the class alone
    where it says all) — with how many, sorted; nothing of a record (no key, value,
    identifier or error message; a header's text folded to one line, a possible BSN masked).
    None for no dead letter. Each begins with ``command`` (``replay``, ``demo``)."""
    groups = Counter((_shown(d.topic), _shown(d.stage), _shown(d.cause)) for d in letters)
    return [
        f"{command}: dead letters of {topic} (stage {stage}, reason {reason}): {count}"
        for (topic, stage, reason), count in sorted(groups.items())
    ]


_MAX_SHOWN = 120


def _shown(text: str | None) -> str:
    """A header's text as :func:`deadletter_lines` shows it: whitespace folded, a possible
    BSN masked, at most :data:`_MAX_SHOWN` characters; ``?`` for none."""
    folded = mask_bsn(" ".join((text or "").split()))[:_MAX_SHOWN]
    return folded or "?"


class ChainSource(Source):
    """Several sources read one after the other, in the order given."""

    name = "replay"

    def __init__(self, sources: Sequence[Source]) -> None:
        self.sources = list(sources)

    def records(self, cursor: Cursor) -> Iterator[Record]:
        for index, source in enumerate(self.sources):
            for record in source.records({}):
                yield replace(record, cursor={"input": index})

    def close(self) -> None:
        for source in self.sources:
            source.close()


_VALUED_OPTIONS = ("--until", "--bootstrap", "--namespace", "--jobs")
"""Options of ``schakel replay`` (besides ``--from``) that take a value: not input files."""


def ordered_inputs(argv: Sequence[str]) -> list[Input]:
    """Inputs in the order given on the command line: plain files and ``--from A:SPEC``."""
    inputs: list[Input] = []
    tokens = list(argv)
    if "replay" in tokens:
        tokens = tokens[tokens.index("replay") + 1 :]
    skip_next = False
    for i, arg in enumerate(tokens):
        if skip_next:
            skip_next = False
            continue
        if arg == "--from":
            name, _, spec = tokens[i + 1].partition(":")
            inputs.append((name, spec))
            skip_next = True
        elif arg.startswith("--from="):
            name, _, spec = arg.removeprefix("--from=").partition(":")
            inputs.append((name, spec))
        elif arg in _VALUED_OPTIONS:
            skip_next = True
        elif not arg.startswith("--"):
            inputs.append(("publish", arg))
    return inputs


def _behind(
    bootstrap: str, group: str, topics: Sequence[str], *, embedded: bool
) -> dict[TopicPartition, tuple[int | None, int]]:
    """The partitions of ``topics`` on which ``group`` has not committed up to the end:
    ``{partition: (committed offset or None, end offset)}``; empty when drained."""
    with kafka_client.admin(bootstrap, "schakel-replay") as admin:
        consumer = KafkaConsumer(
            bootstrap_servers=bootstrap,
            group_id=None,
            enable_auto_commit=False,
            **kafka_client.current().kafka_python(),
        )
        try:
            tps = [
                TopicPartition(t, p) for t in topics for p in consumer.partitions_for_topic(t) or ()
            ]
            end = end_offsets(consumer, tps, embedded=embedded)
            committed = committed_offsets(admin, group, tps)
        finally:
            consumer.close()
    behind: dict[TopicPartition, tuple[int | None, int]] = {}
    for tp in tps:
        done = committed.get(tp)
        if end[tp] > 0 and (done is None or done < end[tp]):
            behind[tp] = (done, end[tp])
    return behind


def wait_drained(
    bootstrap: str,
    topics: Sequence[str],
    worker: subprocess.Popen[bytes],
    log: Path,
    timeout: float,
    *,
    group: str = DEFAULT_WIRE.group_id,
    embedded: bool = True,
) -> None:
    """Block until the worker group ``group`` has committed every record of ``topics``
    (``embedded``: the broker is the embedded one, whose reported end offsets must be
    corrected, :mod:`streams.offsets`). On timeout the error names the partitions still
    behind, with their committed and end offsets."""
    deadline = time.monotonic() + timeout
    behind: dict[TopicPartition, tuple[int | None, int]] = {}
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise ReplayError(f"the stream worker exited with code {worker.returncode}:\n{tail}")
        try:
            behind = _behind(bootstrap, group, topics, embedded=embedded)
            if not behind:
                return
        except KafkaError as exc:  # e.g. no group coordinator yet on a new cluster
            if not exc.retriable:
                raise
        except EndOffsetsUnconfirmed:  # the broker stalled while asked: not drained yet
            pass
        time.sleep(0.3)
    lagging = ", ".join(
        f"{tp.topic}[{tp.partition}] committed {done} of {end}"
        for tp, (done, end) in sorted(behind.items())
    )
    raise ReplayError(
        f"the stream worker did not finish within {timeout:.0f}s (behind: {lagging or 'unknown'})"
    )


def broadcast_until(
    bootstrap: str,
    until: date,
    partitions: int,
    wire: Wire,
    registry: SchemaRegistry | None = None,
) -> None:
    """End of replay: a clock tick to every partition of the clock topic of ``wire``, encoded
    with the schema id of ``registry`` — the run's (:func:`schakel.wiring.registry`), which
    its worker decodes with; ``None``: the local registry's derived id (no registry
    configured). A tick with an id the worker's registry does not hold is dead-lettered, and
    ``--until`` is lost."""
    serializer = RecordSerializer(registry or LocalRegistry())
    value = serializer.encode(
        wire.klok, KLOK_SCHEMA, {"subject": None, "tot": until, "modus": "replay"}
    )
    headers = record_headers(KLOK_SCHEMA, value, source=component_source("replay"))
    producer = KafkaProducer(
        bootstrap_servers=bootstrap, acks="all", **kafka_client.current().kafka_python()
    )
    for partition in range(partitions):
        producer.send(wire.klok, value=value, partition=partition, headers=headers)
    producer.flush()
    producer.close()


SECURITY_VARIABLES = tuple(
    f"SCHAKEL_{name.upper()}"
    for name in WorkerSettings.model_fields
    if name.startswith(("kafka_security", "kafka_ca", "kafka_cert", "kafka_key", "kafka_sasl"))
)
"""The variables of Kafka's security (:mod:`schemas.kafka_client`): a worker that runs against
plaintext Kafka (the embedded broker) gets none of them."""


def worker_env(
    settings: Settings,
    bootstrap: str,
    data_dir: Path,
    *,
    web_port: int | None = None,
    extra_env: dict[str, str] | None = None,
) -> dict[str, str]:
    """The environment of a ``schakel worker --clock replay`` started by replay or demo: this
    process's environment pointed at ``bootstrap`` in the namespace of ``settings`` (memory
    store, its own data directory), announcing the local URL of its own port
    (``SCHAKEL_WEB_URL``: the loopback address if it binds a wildcard such as the image's
    ``0.0.0.0``), plus ``extra_env`` — with no ``SCHAKEL_*`` variable a worker does not read
    (:func:`~schemas.settings.child_environment` of :class:`WorkerSettings`): no pseudonym
    key (a worker never sees a BSN), no webhook tokens, no outbox DSN."""
    env = dict(os.environ)
    port = web_port or free_port()
    host = (extra_env or {}).get("SCHAKEL_WEB_HOST", settings.web_host)
    env.update(
        {
            "SCHAKEL_KAFKA_BOOTSTRAP": bootstrap,
            "SCHAKEL_DATA_DIR": str(data_dir),
            "SCHAKEL_WEB_PORT": str(port),
            "SCHAKEL_WEB_URL": local_url(host, port),
            "SCHAKEL_PARTITIONS": str(settings.partitions),
            "SCHAKEL_NAMESPACE": settings.namespace,
            "SCHAKEL_PROFILE": settings.profile,
            "SCHAKEL_STORE": "memory",
            "PYTHONUNBUFFERED": "1",
            **(extra_env or {}),
        }
    )
    if settings.kafka_security_protocol == "PLAINTEXT":  # e.g. the embedded broker
        for name in SECURITY_VARIABLES:
            env.pop(name, None)
    return child_environment(WorkerSettings, env)


def start_worker(
    settings: Settings,
    bootstrap: str,
    data_dir: Path,
    log: Path,
    *,
    web_port: int | None = None,
    extra_env: dict[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """``schakel worker --clock replay`` with :func:`worker_env`, output appended to
    ``log``."""
    env = worker_env(settings, bootstrap, data_dir, web_port=web_port, extra_env=extra_env)
    with log.open("ab") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "schakel", "worker", "--clock", "replay"],
            stdout=output,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )


def stop_process(process: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def replay(
    settings: Settings,
    inputs: Sequence[Input],
    until: date | None,
    *,
    timeout: float = 600.0,
    batch: bool = False,
    jobs: int = 1,
    bootstrap: str | None = None,
    namespace: str | None = None,
    keep: bool = False,
) -> Outcome:
    """Run ``inputs`` through the pipeline; return the definitive signals, those withdrawn,
    the input records rejected and the records the stream side dead-lettered. ``batch``:
    evaluate with the batch path (:mod:`streams.batch`) instead of a Faust worker, its first
    round in ``jobs`` worker processes. ``bootstrap``: on that existing Kafka in
    a fresh namespace (``namespace``, else generated), deleted at the end unless ``keep``
    (:mod:`schakel.sandbox`); else on a fresh embedded broker.

    The dead letters counted are those on the streams dead-letter topic of the run's
    namespace written after the run's topics were made and before it ended (read from the
    offsets at its start, :func:`schakel.dlq.ends`, once the worker has stopped and its
    producer is flushed, or the batch path returned): the namespace is fresh in any case — a
    new embedded broker, or one the sandbox found unused — and a dead letter already there
    would not count either. The adapters' dead letters (quarantined input) are the rejected
    records, counted apart."""
    from streams.readmodel import ReadModel

    def report(location: Location, reason: str, message: str) -> None:
        # called once per rejected line, as its quarantine line is written (RejectHook); the
        # location's file name may hold a BSN (``burger-<bsn>.jsonl``)
        print(mask_bsn(f"{location}: {reason}: {message}"), file=sys.stderr)

    with (
        tempfile.TemporaryDirectory(prefix="schakel-replay-") as tmp,
        sandbox.target(
            settings,
            kind="replay",
            bootstrap=bootstrap,
            namespace=namespace,
            keep=keep,
            workdir=Path(tmp),
        ) as kafka,
        embedded_registry(kafka.settings) as registry,
    ):
        if registry is not None:
            print(f"replay: {announce(registry)}", file=sys.stderr, flush=True)
        workdir, run, wire = Path(tmp), kafka.settings, kafka.wire
        log = workdir / "worker.log"
        since = ends(kafka.bootstrap, wire.deadletter_streams)  # before anything is written
        worker = None if batch else start_worker(run, kafka.bootstrap, workdir / "worker", log)
        try:
            pseudonymiser = wiring.pseudonymiser(run, generate=True)
            source = ChainSource(
                [open_source(n, s, run, pseudonymiser=pseudonymiser) for n, s in inputs]
            )
            publisher = wiring.publisher(run, kafka.bootstrap, "schakel-replay")
            runner = Runner(
                source,
                publisher=publisher,
                pseudonymiser=pseudonymiser,
                checkpoint=FileCheckpoint(workdir / "checkpoint.json"),
                quarantine=Quarantine("replay", workdir / "quarantaine.jsonl", publisher),
                dedupe_in_run=True,
                on_reject=report,
                batch_size=5000,
            )
            stats = runner.run_once()
            publisher.close()
            runner.close()
            if worker is None:
                _run_batch(run, kafka.bootstrap, until, jobs)
            else:
                group, embedded = wire.group_id, kafka.embedded
                wait_drained(
                    kafka.bootstrap,
                    wire.event_topics,
                    worker,
                    log,
                    timeout,
                    group=group,
                    embedded=embedded,
                )
                if until is not None:
                    broadcast_until(
                        kafka.bootstrap, until, run.partitions, wire, wiring.registry(run)
                    )
                    wait_drained(
                        kafka.bootstrap,
                        [wire.klok],
                        worker,
                        log,
                        timeout,
                        group=group,
                        embedded=embedded,
                    )
            deserializer = RecordDeserializer(wiring.registry(run))
            model = ReadModel(kafka.bootstrap, deserializer, wire, embedded=kafka.embedded)
            model.catch_up()
            if worker is not None:  # stopped: whatever it dead-lettered is on the topic
                stop_process(worker)
            deadlettered = streams_dead_letters(
                kafka.bootstrap, wire, since, committed=read_committed(run.profile)
            )
        finally:
            if worker is not None:
                stop_process(worker)
    signals = sorted(
        ((subject, s) for subject, s in model.signals()),
        key=lambda r: (r[1].regel, r[0], r[1].sinds, r[1].sleutel),
    )
    definitive = [s.to_json(subject) for subject, s in signals if s.status != "ingetrokken"]
    withdrawn = Counter(s.regel for _, s in signals if s.status == "ingetrokken")
    return Outcome(definitive, withdrawn, stats.rejected, deadlettered)


def _run_batch(settings: Settings, bootstrap: str, until: date | None, jobs: int = 1) -> None:
    from streams.batch import BatchRebuild
    from streams.rules import load_rules

    registry = wiring.registry(settings)
    BatchRebuild(
        bootstrap,
        wire=settings.wire(),
        engine=load_rules(settings.rules_dir),
        serializer=RecordSerializer(registry),
        deserializer=RecordDeserializer(registry),
        partitions=settings.partitions,
        source=settings.source_urn("schakel"),
        history_limit=settings.history_limit,
        embedded=settings.profile == "embedded",
        jobs=jobs,
    ).run(until)


def run(args: argparse.Namespace, settings: Settings) -> int:
    inputs = ordered_inputs(args.argv)
    if not inputs:
        print(
            "schakel replay: give at least one FILE.jsonl or --from ADAPTER:PATH", file=sys.stderr
        )
        return 2
    problem = target_problem(args) or input_problem(inputs)
    if args.jobs != 1 and not args.batch:
        problem = problem or "--jobs needs --batch"
    if problem:
        print(f"schakel replay: {mask_bsn(problem)}", file=sys.stderr)  # a path may hold a BSN
        return 2
    from streams.rules import load_rules

    load_rules(settings.rules_dir)  # a bad rule file stops here, in one line (RuleConfigError)
    until = None
    if args.until:
        try:
            until = parse_date(args.until)
        except ValueError:
            print("schakel replay: --until must be a date YYYY-MM-DD", file=sys.stderr)
            return 2
    signals, withdrawn, rejected, deadlettered = replay(
        settings,
        inputs,
        until,
        batch=args.batch,
        jobs=args.jobs,
        bootstrap=args.bootstrap,
        namespace=args.namespace,
        keep=args.keep_topics,
    )
    if args.json:
        print(json.dumps({"signalen": signals}, ensure_ascii=False, indent=2))
    else:
        for s in signals:
            print(
                f"{s['regel']:34} {s['subject']} sinds {s['sinds']} {s['status']:9} {s['uitleg']}"
            )
    per_rule = Counter(s["regel"] for s in signals)
    summary = ", ".join(f"{k}: {v}" for k, v in sorted(per_rule.items())) or "geen"
    for line in deadletter_lines(deadlettered):
        print(line, file=sys.stderr)
    if deadlettered:
        print(
            "replay: the stream side dead-lettered input of this run, which the signals leave "
            "out (--bootstrap with --keep-topics keeps the dead letters for `schakel dlq list`)",
            file=sys.stderr,
        )
    print(
        f"replay: {len(signals)} signalen ({summary}); ingetrokken: "
        f"{sum(withdrawn.values())}; afgewezen invoerregels: {rejected}; "
        f"dead letters: {len(deadlettered)}",
        file=sys.stderr,
    )
    if deadlettered:
        return EXIT_DEADLETTERED
    return EXIT_REJECTED if rejected else 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = (
        "The signals of the accepted input are printed in any case. Exit codes: 0 done; "
        f"{EXIT_REJECTED} input lines were rejected (each named on stderr); "
        f"{EXIT_DEADLETTERED} the stream side (worker or batch path) dead-lettered records of "
        "the run, which the signals leave out: counted on stderr per topic, stage and reason "
        "(also when lines were rejected); 2 bad arguments or inputs, before anything starts."
    )
    parser.add_argument("files", nargs="*", help="CloudEvents JSON lines files")
    parser.add_argument(
        "--from",
        dest="sources",
        action="append",
        default=[],
        metavar="ADAPTER:PATH",
        help="feed native source files through an adapter",
    )
    parser.add_argument("--until", help="move every citizen's clock to this date at the end")
    parser.add_argument("--json", action="store_true", help='print {"signalen": [...]}')
    parser.add_argument(
        "--batch",
        action="store_true",
        help="evaluate with the batch path (bulk reads, one assessment per "
        "citizen) instead of a Faust worker; same result, much faster",
    )
    parser.add_argument(
        "--jobs",
        type=whole_number(1),
        default=1,
        metavar="N",
        help="with --batch: read and assess the partitions in N worker processes "
        "(default 1: in this process); same result",
    )
    add_target_arguments(parser, "replay")


def target_problem(args: argparse.Namespace) -> str | None:
    """What is wrong with the ``--bootstrap`` / ``--namespace`` / ``--keep-topics`` given
    (None: nothing)."""
    if args.bootstrap is None:
        if args.namespace is not None or args.keep_topics:
            return "--namespace and --keep-topics need --bootstrap"
        return None
    try:  # as SCHAKEL_KAFKA_BOOTSTRAP; the message without the value (it may hold a password)
        check_bootstrap(args.bootstrap)
    except ValueError as exc:
        return f"--bootstrap: {exc}"
    if args.namespace is not None:
        try:
            Wire(args.namespace)
        except SettingsError as exc:
            return str(exc)
        if not args.namespace:
            return "--namespace must not be empty (the empty namespace is a deployment's)"
    return None


def add_target_arguments(parser: argparse.ArgumentParser, kind: str) -> None:
    """``--bootstrap``, ``--namespace`` and ``--keep`` of ``replay`` and ``demo``
    (:mod:`schakel.sandbox`)."""
    parser.add_argument(
        "--bootstrap",
        metavar="HOST:PORT",
        default=None,
        help="run against this existing Kafka (profile `kafka`) in a fresh topic namespace "
        "instead of starting the embedded broker; touches nothing outside that namespace",
    )
    parser.add_argument(
        "--namespace",
        default=None,
        help=f"with --bootstrap: the namespace to use; it must be unused on the cluster "
        f"(default: a generated {kind}-XXXXXXXX, printed)",
    )
    parser.add_argument(
        "--keep-topics",
        dest="keep_topics",
        action="store_true",
        help="with --bootstrap: keep the namespace's topics and consumer group afterwards "
        "(default: deleted at the end)",
    )
